/*
 * explain.c: cuts a transaction's total time into named causes that add
 * up to it. The phases before the response come from the connection's
 * and the messages' times; the response, when the connection's packet
 * records were kept, from its data and ACK pattern: each gap between
 * two data segments is the time to put the second on the wire at the
 * path's rate, then idle time that a zero window, a hole being
 * recovered, a server stall, or else the sender holding back for ACKs
 * while its window grows (slow start) explains.
 * Runs in htracrctl with the invoking user's privileges; it only reads
 * the document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "explain.h"
#include "fmt.h"
#include "proto.h"
#include "render.h"
#include "xmalloc.h"

static const struct {
	const char	*key;
	const char	*name;
} explain_causes[EXPLAIN_NCAUSES] = {
	{ "dns", "DNS lookup" },
	{ "tcp_handshake", "TCP handshake" },
	{ "tls_handshake", "TLS handshake" },
	{ "client_delay", "client delay" },
	{ "queued", "waiting behind an earlier request" },
	{ "request_upload", "request upload" },
	{ "network", "request round trip" },
	{ "server_think", "server think time" },
	{ "slow_start", "slow start" },
	{ "loss_recovery", "loss recovery" },
	{ "zero_window", "client's window full" },
	{ "transfer", "transfer" },
};

/* Holes a response may have open at once; more are not told apart. */
#define EXPLAIN_HOLES	64
/* The shortest pause taken for a server stall rather than jitter. */
#define EXPLAIN_MIN_PAUSE_US	1000
/* The shortest window the path's rate is measured over. */
#define EXPLAIN_MIN_WINDOW_US	10000

const char *
explain_key(int k)
{
	return (explain_causes[k].key);
}

const char *
explain_name(int k)
{
	return (explain_causes[k].name);
}

/* One data segment of the response, as the gap walk needs it. */
struct ex_seg {
	int64_t		 us;
	uint32_t	 seq;
	uint32_t	 len;
	int		 retransmit;	/* the daemon saw these bytes before */
};

/* A span of the client's receive window at zero. */
struct ex_span {
	int64_t		 from;
	int64_t		 to;
};

/* What the client acknowledged and offered, packet by packet. */
struct ex_ack {
	int64_t		 us;
	uint32_t	 ack;
	uint32_t	 win;
};

/* Out-of-order data held until the hole before it is filled. */
struct ex_reasm {
	uint32_t	 next;		/* first byte not yet in order */
	struct {
		uint32_t lo, hi;
	}		 held[EXPLAIN_HOLES];
	int		 nheld;
	int		 started;
};

struct ex_walk {
	struct explain	*e;
	int64_t		 cur;
	int64_t		 rtt;		/* for telling round trips */
	double		 per_byte;	/* microseconds, 0: not known */
	struct ex_span	*zw;
	size_t		 nzw;
	struct ex_ack	*acks;		/* the client's, in time order */
	size_t		 nacks;
	size_t		 ack;		/* the last one before the cursor */
	uint32_t	 sent;		/* end of the data sent so far */
	uint32_t	 mss;		/* the largest segment seen */
};

static int
ex_before(uint32_t a, uint32_t b)
{
	return ((int32_t)(a - b) < 0);
}

/*
 * Moves the cursor to at (never back, never past the end), giving the
 * time between to cause k: walking every phase this way makes the
 * causes add up to the total whatever the times say.
 */
static void
ex_step(struct explain *e, int k, int64_t *cur, int64_t at)
{
	if (at > e->end_us)
		at = e->end_us;
	if (at <= *cur)
		return;
	e->us[k] += at - *cur;
	*cur = at;
}

/*
 * The path's round trip from the capture point: SYN to SYN-ACK is the
 * far side's share (all of it when capturing at the client, none at the
 * server), and that share is in every wait the capture measures.
 */
static void
ex_rtts(const msgpack_object *c, struct explain *e)
{
	int64_t	 syn = render_int(c, "syn_us", -1);
	int64_t	 synack = render_int(c, "synack_us", -1);

	e->rtt_us = render_int(c, "rtt_us", -1);
	if (syn >= 0 && synack >= syn)
		e->path_rtt_us = synack - syn;
	else
		e->path_rtt_us = e->rtt_us;
}

static int
ex_is_id(const msgpack_object *o, uint64_t id)
{
	return (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == id);
}

/* The end of the response before t's on its connection, or -1. */
static int64_t
ex_prev_end(const struct doc *d, const msgpack_object *c,
    const msgpack_object *t)
{
	const msgpack_object	*ids = render_array(c, "transactions");
	const msgpack_object	*prev;
	uint64_t		 id = (uint64_t)render_int(t, "id", 0);
	int64_t			 index = render_int(t, "index", -1);
	uint32_t		 i, n = render_count(ids);

	/* Where its index on the connection says, else by looking. */
	if (index > 0 && index < n && ex_is_id(&ids->via.array.ptr[index], id))
		i = (uint32_t)index;
	else
		for (i = 1; i < n && !ex_is_id(&ids->via.array.ptr[i], id); i++)
			;
	if (i < n) {
		prev = doc_txn(d, ids->via.array.ptr[i - 1].via.u64);
		return (render_int(proto_get(prev, "response"), "end_us", -1));
	}
	return (-1);
}

/*
 * The TLS handshake: its round trips at the path's RTT; what it took
 * beyond them was spent computing between messages, mostly by the
 * client, and is the client's delay.
 */
static void
ex_tls(struct explain *e, int64_t *cur, int64_t hello, int64_t done,
    int64_t trips)
{
	int64_t	 rt;

	ex_step(e, EXPLAIN_CLIENT, cur, hello);
	rt = done - *cur;
	if (trips > 0 && e->path_rtt_us > 0 && trips * e->path_rtt_us < rt)
		rt = trips * e->path_rtt_us;
	ex_step(e, EXPLAIN_TLS, cur, *cur + rt);
	ex_step(e, EXPLAIN_CLIENT, cur, done);
}

/* Connection set-up, then the client until its request is sent. */
static void
ex_setup(const msgpack_object *c, struct explain *e, int64_t *cur,
    int64_t req_start)
{
	const msgpack_object	*tls = proto_get(c, "tls");
	int64_t			 syn, ready, hello, done;

	if (e->opened) {
		syn = render_int(c, "syn_us", -1);
		ready = render_int(c, "established_us",
		    render_int(c, "synack_us", syn));
		ex_step(e, EXPLAIN_CONNECT, cur, ready < req_start ? ready :
		    req_start);
		hello = render_int(tls, "client_hello_us", -1);
		done = render_int(tls, "handshake_done_us", -1);
		if (hello >= 0 && done >= hello)
			ex_tls(e, cur, hello, done < req_start ? done :
			    req_start, render_int(tls, "round_trips", -1));
	}
	ex_step(e, EXPLAIN_CLIENT, cur, req_start);
}

static int
ex_rate_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/*
 * Microseconds per byte between consecutive segments, the median: a
 * sender that sends whole flights at once (the window, not the path,
 * holds it back) has most gaps inside a flight.
 */
static double
ex_per_byte_gaps(const struct ex_seg *s, size_t n)
{
	double	*r, v = 0;
	size_t	 i, m = 0;

	r = xreallocarray(NULL, n + 1, sizeof(*r));
	for (i = 1; i < n; i++)
		if (s[i].us > s[i - 1].us && s[i].len > 0)
			r[m++] = (double)(s[i].us - s[i - 1].us) / s[i].len;
	if (m >= 4) {
		qsort(r, m, sizeof(*r), ex_rate_cmp);
		v = r[m / 2];
	}
	free(r);
	return (v);
}

/*
 * Microseconds per byte over the busiest window of w: a sender that
 * paces its packets ramps its rate up round by round, and its fastest
 * stretch is what the path carries.
 */
static double
ex_per_byte_window(const struct ex_seg *s, size_t n, int64_t w)
{
	uint64_t	 bytes = 0, best = 0;
	size_t		 i, j = 0;

	for (i = 0; i < n; i++) {
		while (j < n && s[j].us - s[i].us <= w)
			bytes += s[j++].len;
		if (j == n && i > 0)
			break;	/* a window cut short by the end is no measure */
		if (bytes > best)
			best = bytes;
		bytes -= s[i].len;
	}
	return (best > 0 && j < n ? (double)w / best : 0);
}

/* The path's rate: the faster of the two measures, 0 if unknown. */
static double
ex_per_byte(const struct ex_seg *s, size_t n, int64_t rtt)
{
	double	 g, w;

	if (n < 5)
		return (0);
	g = ex_per_byte_gaps(s, n);
	w = ex_per_byte_window(s, n, 2 * rtt > EXPLAIN_MIN_WINDOW_US ?
	    2 * rtt : EXPLAIN_MIN_WINDOW_US);
	if (g == 0 || (w > 0 && w < g))
		return (w);
	return (g);
}

/* Adds segment lo..hi to the held ones, kept in order and merged. */
static void
ex_hold(struct ex_reasm *r, uint32_t lo, uint32_t hi)
{
	int	 i, j;

	for (i = 0; i < r->nheld && ex_before(r->held[i].lo, lo); i++)
		;
	if (r->nheld == EXPLAIN_HOLES)
		r->nheld--;	/* forget the furthest: an estimate */
	if (i > r->nheld)
		i = r->nheld;
	memmove(&r->held[i + 1], &r->held[i],
	    (size_t)(r->nheld - i) * sizeof(r->held[0]));
	r->held[i].lo = lo;
	r->held[i].hi = hi;
	r->nheld++;
	/* Merge neighbours that touch. */
	for (i = 0, j = 1; j < r->nheld; j++) {
		if (!ex_before(r->held[i].hi, r->held[j].lo)) {
			if (ex_before(r->held[i].hi, r->held[j].hi))
				r->held[i].hi = r->held[j].hi;
		} else
			r->held[++i] = r->held[j];
	}
	r->nheld = i + 1;
}

/*
 * Feeds one segment; returns 1 when it belongs to loss recovery: it
 * fills a hole, or repeats bytes already delivered. *hole says whether
 * a hole is open after it; *opened whether this segment opened one.
 */
static int
ex_reassemble(struct ex_reasm *r, const struct ex_seg *s, int *hole,
    int *opened)
{
	uint32_t	 end = s->seq + s->len;
	int		 filled = 0;

	*opened = 0;
	if (!r->started) {
		r->started = 1;
		r->next = end;
	} else if (ex_before(r->next, s->seq)) {
		*opened = r->nheld == 0;
		ex_hold(r, s->seq, end);
	} else if (ex_before(r->next, end)) {
		filled = r->nheld > 0;
		r->next = end;
		while (r->nheld > 0 && !ex_before(r->next, r->held[0].lo)) {
			if (ex_before(r->next, r->held[0].hi))
				r->next = r->held[0].hi;
			r->nheld--;
			memmove(&r->held[0], &r->held[1],
			    (size_t)r->nheld * sizeof(r->held[0]));
		}
	} else
		filled = 1;	/* a repeat: the first copy was lost later */
	*hole = r->nheld > 0;
	return (filled || s->retransmit);
}

/* Time of [a, b) the client's window was at zero. */
static int64_t
ex_zero_overlap(const struct ex_walk *w, int64_t a, int64_t b)
{
	int64_t	 sum = 0, lo, hi;
	size_t	 i;

	for (i = 0; i < w->nzw; i++) {
		lo = w->zw[i].from > a ? w->zw[i].from : a;
		hi = w->zw[i].to < b ? w->zw[i].to : b;
		if (hi > lo)
			sum += hi - lo;
	}
	return (sum);
}

/*
 * Whether the sender had filled the window the client offered at time
 * a: it could send nothing more until the client read (flow control).
 */
static int
ex_window_full(struct ex_walk *w, int64_t a)
{
	const struct ex_ack	*k;

	while (w->ack + 1 < w->nacks && w->acks[w->ack + 1].us <= a)
		w->ack++;
	if (w->nacks == 0 || w->acks[w->ack].us > a)
		return (0);
	k = &w->acks[w->ack];
	return (!ex_before(w->sent + w->mss, k->ack + k->win));
}

/* The idle part of one gap, to the cause that explains it. */
static void
ex_idle(struct ex_walk *w, int64_t a, int64_t idle, int loss)
{
	struct explain	*e = w->e;
	int64_t		 zw;

	zw = ex_zero_overlap(w, a, a + idle);
	if (zw > idle || (zw < idle && ex_window_full(w, a)))
		zw = idle;
	e->us[EXPLAIN_ZERO_WINDOW] += zw;
	idle -= zw;
	if (loss)
		e->us[EXPLAIN_LOSS] += idle;
	else if (w->rtt > 0 && idle > 2 * w->rtt &&
	    idle >= EXPLAIN_MIN_PAUSE_US)
		e->us[EXPLAIN_SERVER] += idle;	/* the body came late */
	else if (w->rtt > 0)
		/* Slower than the path: the sender's window still growing. */
		e->us[EXPLAIN_SLOW_START] += idle;
	else
		e->us[EXPLAIN_TRANSFER] += idle;
}

/* Walks the gaps between the response's data segments. */
static void
ex_gaps(struct ex_walk *w, const struct ex_seg *s, size_t n)
{
	struct explain	*e = w->e;
	struct ex_reasm	 r;
	int64_t		 gap, ser;
	size_t		 i;
	int		 hole = 0, was_hole, loss, opened;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		if (i > 0 && ex_before(w->sent, s[i - 1].seq + s[i - 1].len))
			w->sent = s[i - 1].seq + s[i - 1].len;
		else if (i == 0)
			w->sent = s[0].seq + s[0].len;
		if (s[i].len > w->mss)
			w->mss = s[i].len;
		was_hole = hole;
		loss = ex_reassemble(&r, &s[i], &hole, &opened);
		e->loss_episodes += opened;
		if (i == 0 || s[i].us <= w->cur)
			continue;
		gap = s[i].us > e->end_us ? e->end_us - w->cur :
		    s[i].us - w->cur;
		if (gap <= 0)
			continue;
		ser = (int64_t)(w->per_byte * s[i].len);
		if (ser > gap)
			ser = gap;
		e->us[EXPLAIN_TRANSFER] += ser;
		if (!was_hole && loss && s[i].retransmit)
			e->loss_episodes++;
		ex_idle(w, w->cur, gap - ser, was_hole || loss);
		w->cur += gap;
	}
}

/*
 * Spans of the client's advertised window at zero, and every window it
 * offered, from its packets.
 */
static struct ex_span *
ex_zero_spans(const msgpack_object *pk, struct ex_walk *w, size_t *n)
{
	struct explain		*e = w->e;
	struct ex_span		*z = NULL;
	const msgpack_object	*p;
	const char		*dir, *fl;
	size_t			 len, flen, cap = 0;
	uint32_t		 i;
	int64_t			 win, us, open = -1;

	*n = 0;
	w->acks = xreallocarray(NULL, render_count(pk) + 1, sizeof(*w->acks));
	w->nacks = 0;
	for (i = 0; i < render_count(pk); i++) {
		p = &pk->via.array.ptr[i];
		if ((dir = render_str(p, "dir", &len)) == NULL || len != 3 ||
		    memcmp(dir, "c2s", 3) != 0)
			continue;
		fl = render_str(p, "flags", &flen);
		if (fl == NULL || memchr(fl, 'S', flen) != NULL ||
		    memchr(fl, 'A', flen) == NULL)
			continue;
		win = render_int(p, "win", -1);
		us = render_int(p, "us", -1);
		w->acks[w->nacks].us = us;
		w->acks[w->nacks].ack = (uint32_t)render_int(p, "ack", 0);
		w->acks[w->nacks++].win = (uint32_t)(win > 0 ? win : 0);
		if (win == 0 && open < 0) {
			open = us;
			e->zero_windows++;
		} else if (win > 0 && open >= 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				z = xreallocarray(z, cap, sizeof(*z));
			}
			z[*n].from = open;
			z[(*n)++].to = us;
			open = -1;
		}
	}
	return (z);
}

/* The response's data segments, by frame range, in capture order. */
static struct ex_seg *
ex_segments(const msgpack_object *pk, const msgpack_object *resp,
    size_t *n)
{
	struct ex_seg		*s;
	const msgpack_object	*p;
	const char		*dir, *cls;
	size_t			 len, clen;
	int64_t			 first, last, frame;
	uint32_t		 i;

	first = render_int(resp, "first_frame", -1);
	last = render_int(resp, "last_frame", -1);
	if (last < first)
		last = INT64_MAX;
	s = xreallocarray(NULL, render_count(pk) + 1, sizeof(*s));
	*n = 0;
	for (i = 0; i < render_count(pk); i++) {
		p = &pk->via.array.ptr[i];
		frame = render_int(p, "n", -1);
		if (frame < first || frame > last ||
		    render_int(p, "len", 0) <= 0 ||
		    (dir = render_str(p, "dir", &len)) == NULL || len != 3 ||
		    memcmp(dir, "s2c", 3) != 0)
			continue;
		s[*n].us = render_int(p, "us", 0);
		s[*n].seq = (uint32_t)render_int(p, "seq", 0);
		s[*n].len = (uint32_t)render_int(p, "len", 0);
		cls = render_str(p, "class", &clen);
		s[*n].retransmit = cls != NULL && clen == 10 &&
		    memcmp(cls, "retransmit", 10) == 0;
		(*n)++;
	}
	return (s);
}

/* First to last response byte, from the packets when they were kept. */
static void
ex_receive(const msgpack_object *c, const msgpack_object *resp,
    struct explain *e, int64_t *cur)
{
	const msgpack_object	*pk = render_array(c, "packets");
	struct ex_walk		 w;
	struct ex_seg		*s;
	size_t			 n;

	if (pk == NULL || render_count(pk) == 0)
		return;
	e->packets = 1;
	memset(&w, 0, sizeof(w));
	w.e = e;
	w.cur = *cur;
	w.rtt = e->rtt_us > 0 ? e->rtt_us : e->path_rtt_us;
	s = ex_segments(pk, resp, &n);
	w.per_byte = ex_per_byte(s, n, w.rtt);
	w.zw = ex_zero_spans(pk, &w, &w.nzw);
	ex_gaps(&w, s, n);
	/* Round trips of slow start: the time it cost, in RTTs. */
	if (w.rtt > 0)
		e->slow_start_rtts = (int)((e->us[EXPLAIN_SLOW_START] +
		    w.rtt / 2) / w.rtt);
	*cur = w.cur;
	free(w.acks);
	free(w.zw);
	free(s);
}

/*
 * A connection opened for the transaction after a lookup of its
 * server's address: the total starts at the query; the lookup is DNS,
 * its answer to the SYN the client's delay.
 */
static void
ex_dns(const struct doc *d, const msgpack_object *c, struct explain *e,
    int64_t *cur, int64_t syn)
{
	const msgpack_object	*l = doc_conn_dns(d, c);
	int64_t			 q, r;

	q = render_int(l, "query_us", -1);
	r = render_int(l, "response_us", -1);
	if (l == NULL || q < 0 || r < q || r > syn)
		return;
	e->dns = 1;
	e->start_us = *cur = q;
	ex_step(e, EXPLAIN_DNS, cur, r);
	ex_step(e, EXPLAIN_CLIENT, cur, syn);
}

void
explain_txn(const struct doc *d, const msgpack_object *t, struct explain *e)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	const msgpack_object	*c;
	int64_t			 rs, re, ps, pe, prev, cur, syn, net;
	int			 h2;

	memset(e, 0, sizeof(*e));
	e->rtt_us = e->path_rtt_us = -1;
	rs = render_int(req, "start_us", -1);
	re = render_int(req, "end_us", rs);
	ps = render_int(resp, "start_us", -1);
	pe = render_int(resp, "end_us", -1);
	c = doc_conn(d, (uint64_t)render_int(t, "connection", 0));
	if (rs < 0 || ps < 0 || pe < rs || c == NULL)
		return;
	ex_rtts(c, e);
	syn = render_int(c, "syn_us", -1);
	e->opened = render_int(t, "index", -1) == 0 && syn >= 0 && syn <= rs;
	e->start_us = cur = e->opened ? syn : rs;
	e->end_us = pe;
	if (e->opened)
		ex_dns(d, c, e, &cur, syn);
	e->total_us = pe - e->start_us;
	e->body_bytes = render_int(resp, "body_bytes", 0);
	e->ok = 1;
	ex_setup(c, e, &cur, rs);
	ex_step(e, EXPLAIN_UPLOAD, &cur, re);
	/* HTTP/2 streams run side by side: none waits for another's end. */
	h2 = render_int(t, "stream_id", -1) >= 0;
	prev = h2 ? -1 : ex_prev_end(d, c, t);
	ex_step(e, EXPLAIN_QUEUED, &cur, prev < ps ? prev : ps);
	net = ps - cur;
	if (e->path_rtt_us >= 0 && e->path_rtt_us < net)
		net = e->path_rtt_us;
	ex_step(e, EXPLAIN_NETWORK, &cur, cur + (net > 0 ? net : 0));
	ex_step(e, EXPLAIN_SERVER, &cur, ps);
	if (h2)
		/* Other streams share the segments; the stream's own stalls. */
		ex_step(e, EXPLAIN_ZERO_WINDOW, &cur, cur +
		    render_int(t, "stall_us", 0));
	else
		ex_receive(c, resp, e, &cur);
	ex_step(e, EXPLAIN_TRANSFER, &cur, pe);
	if (pe > ps)
		e->rate = (double)e->body_bytes * 1e6 / (double)(pe - ps);
}

const char *
explain_verdict(const struct explain *e, char *buf, size_t size)
{
	char	 d[FMT_NUMLEN], r[FMT_NUMLEN], b[FMT_NUMLEN];
	int	 k, top = 0, pct;

	if (!e->ok) {
		snprintf(buf, size, "no complete response to explain");
		return (buf);
	}
	for (k = 1; k < EXPLAIN_NCAUSES; k++)
		if (e->us[k] > e->us[top])
			top = k;
	pct = e->total_us > 0 ? (int)(100 * e->us[top] / e->total_us) : 0;
	fmt_duration(d, sizeof(d), e->us[top]);
	fmt_duration(r, sizeof(r), e->rtt_us > 0 ? e->rtt_us : 0);
	fmt_bytes(b, sizeof(b), (uint64_t)e->body_bytes);
	if (e->total_us == 0)
		snprintf(buf, size, "no time at all");
	else if (top == EXPLAIN_SLOW_START)
		snprintf(buf, size, "%d %% slow start: %d RTTs for %s at %s RTT",
		    pct, e->slow_start_rtts, b, r);
	else if (top == EXPLAIN_LOSS)
		snprintf(buf, size, "%d %% loss recovery: %d loss%s cost %s",
		    pct, e->loss_episodes, e->loss_episodes == 1 ? "" : "es", d);
	else
		snprintf(buf, size, "%d %% %s (%s)", pct, explain_name(top), d);
	return (buf);
}
