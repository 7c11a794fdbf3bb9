/*
 * pktlog.h: a connection's packet records, packed. Each record is told
 * apart from the one before it on the connection (times and frame
 * numbers) and from the last one in its direction (sequence number,
 * acknowledgment, window), in a few bytes; the log is read from its
 * start.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_PKTLOG_H
#define HTRACR_PKTLOG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define PKTLOG_MAX	40	/* bytes one record takes at most */

/* Appends p at out (PKTLOG_MAX bytes of room); returns the bytes used. */
size_t	 pktlog_put(u_char *out, struct pktlog_state *, const struct pkt *);
/*
 * Reads the record at in (avail bytes left) into p; st starts zeroed at
 * the log's start. Returns the bytes read, 0 if the log is damaged.
 */
size_t	 pktlog_get(const u_char *in, size_t avail, struct pktlog_state *,
	    struct pkt *);
/* Client and server change places: every record's direction turns. */
void	 pktlog_flip(u_char *, size_t len, size_t n, struct pktlog_state *);

#endif
