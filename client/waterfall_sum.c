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
	if (wait < 0)
		return;
	if (s->nwaits == s->capwaits) {
		s->capwaits = s->capwaits == 0 ? 256 : s->capwaits * 2;
		s->waits = xreallocarray(s->waits, s->capwaits,
		    sizeof(*s->waits));
	}
	s->waits[s->nwaits++] = wait;
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

static void
wf_swap64(int64_t *a, int64_t *b)
{
	int64_t	 t = *a;

	*a = *b;
	*b = t;
}

/*
 * Puts the k-th smallest of v[0..n) at v[k], the smaller before it and
 * the larger after (Hoare's selection, the middle of three as pivot):
 * a quantile without sorting a session's hundred thousand waits.
 */
static void
wf_select(int64_t *v, size_t n, size_t k)
{
	size_t	 lo = 0, hi = n - 1, i, j, mid;
	int64_t	 p;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			wf_swap64(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			wf_swap64(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			wf_swap64(&v[hi], &v[mid]);
		p = v[mid];
		i = lo;
		j = hi;
		while (i <= j) {
			while (v[i] < p)
				i++;
			while (p < v[j])
				j--;
			if (i <= j) {
				wf_swap64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Nearest-rank quantile, the same the HTML summary uses. */
static int64_t
wf_quantile(struct wf_sum *s, double q)
{
	size_t	 k;

	if (s->nwaits == 0)
		return (-1);
	k = (size_t)(q * s->nwaits + 0.999999);
	k = k > 0 ? k - 1 : 0;
	wf_select(s->waits, s->nwaits, k);
	return (s->waits[k]);
}

void
wf_sum_print(const struct wf *w, struct wf_sum *s, const char *what)
{
	const char	*names[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx",
			    "other" };
	const char	*sep;
	char		 b[32], m[32], p[32];
	size_t		 i;

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
