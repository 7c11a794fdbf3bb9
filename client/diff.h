/*
 * diff.h: what changed between two sessions, per host and per URL:
 * counts, statuses, wait and total time, bytes, compression, and per
 * host connections and retransmissions; new and vanished ones, sorted by
 * how much total time changed. Runs in htracrctl; it only reads the two
 * documents. The JSON shape is "diff" in proto/PROTOCOL.md.
 */
#ifndef HTRACR_DIFF_H
#define HTRACR_DIFF_H

#include <stdio.h>

struct doc;

/* How a URL's query string counts in its key. */
enum diff_query {
	DIFF_QUERY_KEEP,	/* as sent */
	DIFF_QUERY_SORT,	/* parameters in order: a=1&b=2 == b=2&a=1 */
	DIFF_QUERY_DROP,	/* without it */
};

/* Each returns 0, or -1 if writing failed. */
int	 diff_print(FILE *, const struct doc *, const struct doc *,
	    enum diff_query, int);
int	 diff_json(FILE *, const struct doc *, const struct doc *,
	    enum diff_query);

#endif
