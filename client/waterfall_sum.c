/*
 * waterfall_sum.c: the summary lines under each server and the session
 * in the waterfall: transactions by status class, bytes on the wire,
 * wait median and p95, retransmissions, connections opened and reused.
 * Runs in htracrctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "render.h"
#include "waterfall_int.h"
#include "xmalloc.h"

void
wf_sum_txn(struct wf_sum *s, const msgpack_object *t)
{
	int64_t	 st = render_int(proto_get(t, "response"), "status", -1);
	int64_t	 wait = render_int(proto_get(t, "timings"), "wait_us", -1);

	s->txns++;
	if (st < 0)
		s->classes[0]++;
	else
		s->classes[st >= 100 && st < 600 ? st / 100 : 6]++;
	if (wait >= 0) {
		s->waits = xreallocarray(s->waits, s->nwaits + 1,
		    sizeof(*s->waits));
		s->waits[s->nwaits++] = wait;
	}
}

void
wf_sum_conn(struct wf_sum *s, const msgpack_object *c)
{
	const char	*dirs[] = { "c2s", "s2c" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		const msgpack_object	*d = proto_get(c, dirs[i]);

		s->bytes += (uint64_t)render_int(d, "bytes", 0);
		s->packets += (uint64_t)render_int(d, "packets", 0);
		s->retrans += (uint64_t)render_int(d, "retransmits", 0);
	}
	if (render_int(c, "syn_us", -1) >= 0)
		s->opened++;
	if (render_count(render_array(c, "transactions")) > 1)
		s->reused++;
}

static int
wf_cmp64(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank quantile, the same the HTML summary uses. */
static int64_t
wf_quantile(const struct wf_sum *s, double q)
{
	size_t	 k;

	if (s->nwaits == 0)
		return (-1);
	k = (size_t)(q * s->nwaits + 0.999999);
	return (s->waits[k > 0 ? k - 1 : 0]);
}

void
wf_sum_print(const struct wf *w, struct wf_sum *s, const char *what)
{
	const char	*names[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx",
			    "other" };
	const char	*sep;
	char		 b[32], m[32], p[32];
	size_t		 i;

	/* No waits (no response seen): waits is NULL, which qsort may not get. */
	if (s->nwaits > 1)
		qsort(s->waits, s->nwaits, sizeof(*s->waits), wf_cmp64);
	fprintf(w->f, "%s%s:%s %llu transactions, %s on the wire",
	    wf_c(w, C_BOLD), what, wf_c(w, C_RESET),
	    (unsigned long long)s->txns, wf_bytes(b, sizeof(b),
	    (int64_t)s->bytes));
	sep = ",";
	for (i = 0; i < 7; i++) {
		if (s->classes[i] == 0)
			continue;
		fprintf(w->f, "%s %s %llu", sep, names[i],
		    (unsigned long long)s->classes[i]);
		sep = "";
	}
	fprintf(w->f, "; wait median %s p95 %s; retransmissions %.2f%% "
	    "(%llu of %llu packets); connections %llu opened, %llu reused\n",
	    wf_dur(m, sizeof(m), wf_quantile(s, 0.5)),
	    wf_dur(p, sizeof(p), wf_quantile(s, 0.95)),
	    s->packets ? 100.0 * s->retrans / s->packets : 0.0,
	    (unsigned long long)s->retrans, (unsigned long long)s->packets,
	    (unsigned long long)s->opened, (unsigned long long)s->reused);
	free(s->waits);
	memset(s, 0, sizeof(*s));
}
