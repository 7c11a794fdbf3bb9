/*
 * stream.c: reassembly of one direction of a TCP connection. In-order
 * segments are handed to http.c where they lie, in the captured frame;
 * only early segments are copied, into a queue bounded per direction
 * (STREAM_OOO_BYTES, STREAM_OOO_SEGS) and counted in the budget. A hole
 * is skipped when the queue is full, when the peer acknowledges past it
 * (the capture lost it, the network did not) or when the stream ends.
 * Copies that overlap with different bytes are settled as tshark does
 * (with tcp.reassemble_out_of_order): bytes already handed on stay, an
 * in-order segment wins over early ones it overlaps, and among early
 * ones the lowest sequence number, then the first to come, wins.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Sequence numbers are
 * compared modulo 2^32 throughout.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "h2.h"
#include "http.h"
#include "stream.h"
#include "tcp.h"
#include "tls.h"
#include "tlsdec.h"
#include "xmalloc.h"

/* An early segment, copied: the frame it came in may be evicted. */
struct stream_seg {
	struct stream_seg	*next;
	uint64_t		 us;		/* when it was captured */
	uint32_t		 frame;
	uint32_t		 off;		/* in its frame; see stream_off */
	uint32_t		 seq;
	uint32_t		 len;
	u_char			 data[];
};

static void	stream_skip_hole(struct session *, struct tcp_live *, int,
		    uint64_t, uint32_t);

void
stream_clear(struct session *s, struct stream *h)
{
	struct stream_seg	*g, *next;

	for (g = h->ooo; g != NULL; g = next) {
		next = g->next;
		session_uncharge(s, session_size(g));
		free(g);
	}
	h->ooo = NULL;
	h->ooo_bytes = 0;
	h->ooo_n = 0;
}

/*
 * The first bytes handed on decide between HTTP/1.x, HTTP/2 and TLS:
 * the HTTP/2 connection preface from the client makes it h2c (prior
 * knowledge); a ClientHello from the client, or (picked up mid-stream)
 * a record header from either side, makes it TLS. Either way http.c
 * never sees it.
 */
static void
stream_probe(struct session *s, struct tcp_live *l, int dir, const u_char *p,
    size_t len)
{
	int	 mid = (l->conn->flags & CONN_F_MIDSTREAM) != 0;

	l->fed = 1;
	if (l->http == NULL)
		return;
	if (dir == DIR_C2S && !mid && len >= 4 && h2_looks(p, len)) {
		http_conn_free(s, l->http);
		l->http = NULL;
		l->h2 = h2_conn_new(s, l->conn);
		return;
	}
	if (!tls_looks(p, len, dir, mid))
		return;
	http_conn_free(s, l->http);
	l->http = NULL;
	l->tls = tls_conn_new(s, l->conn, mid ? dir : -1);
	if (s->keys != NULL)
		l->dec = tlsdec_new(s, l->conn, l->tls);
}

/*
 * A 101 to "Upgrade: h2c" ends HTTP/1.1 on the connection: what follows
 * it, in this segment and after, is HTTP/2, stream 1 answering t.
 */
static void
stream_h2c(struct session *s, struct tcp_live *l, struct txn *t, int dir,
    const u_char *p, size_t len, uint64_t us, uint32_t frame)
{
	http_conn_free(s, l->http);
	l->http = NULL;
	l->h2 = h2_conn_new(s, l->conn);
	h2_upgraded(s, l->h2, t);
	if (len > 0)
		h2_data(s, l->h2, dir, p, len, us, frame);
}

/*
 * Where a segment's payload lies in the frame being analyzed, for
 * bodies kept by reference to the frames; STREAM_NO_OFF when it lies
 * elsewhere.
 */
#define STREAM_NO_OFF	UINT32_MAX

static uint32_t
stream_off(const struct session *s, const u_char *p, size_t len)
{
	uintptr_t	 a = (uintptr_t)s->fdata, b = (uintptr_t)p;

	if (s->fdata == NULL || b < a || b - a > s->fcaplen ||
	    len > s->fcaplen - (b - a))
		return (STREAM_NO_OFF);
	return ((uint32_t)(b - a));
}

/*
 * In-order bytes of dir go to the protocol found on the connection.
 * HTTP/1.x gets with them where they lie in the raw frames (srcframe,
 * srcoff), so a body can be kept as a reference to them.
 */
static void
stream_deliver(struct session *s, struct tcp_live *l, int dir,
    const u_char *p, size_t len, uint64_t us, uint32_t frame,
    uint32_t srcframe, uint32_t srcoff)
{
	struct txn	*t;
	size_t		 n;

	if (len == 0)
		return;
	if (!l->fed)
		stream_probe(s, l, dir, p, len);
	if (l->tls != NULL)
		tls_data(s, l->tls, dir, p, len, us, frame);
	else if (l->h2 != NULL)
		h2_data(s, l->h2, dir, p, len, us, frame);
	else if (l->http != NULL) {
		if (srcoff != STREAM_NO_OFF) {
			s->src_p = p;
			s->src_len = len;
			s->src_frame = srcframe;
			s->src_off = srcoff;
		}
		n = http_data(s, l->http, dir, p, len, us, frame);
		s->src_frame = 0;
		if ((t = http_h2c(l->http)) != NULL)
			stream_h2c(s, l, t, dir, p + n, len - n, us, frame);
	}
}

static void
stream_gap(struct session *s, struct tcp_live *l, int dir, uint32_t bytes,
    uint64_t us, uint32_t frame)
{
	struct conn	*c = l->conn;

	c->flags |= CONN_F_GAP;
	c->d[dir].gaps++;
	c->d[dir].gap_bytes += bytes;
	s->c.gaps++;
	if (l->tls != NULL)
		tls_gap(s, l->tls, dir, bytes, us, frame);
	else if (l->h2 != NULL)
		h2_gap(s, l->h2, dir, bytes, us, frame);
	else if (l->http != NULL)
		http_gap(s, l->http, dir, bytes, us, frame);
}

static void
stream_check_eof(struct session *s, struct tcp_live *l, int dir, uint64_t us,
    uint32_t frame)
{
	struct stream	*h = &l->h[dir];

	if (h->have_fin && !h->eof && SEQ_LEQ(h->fin_seq, h->next)) {
		h->eof = 1;
		if (l->tls != NULL)
			tls_eof(s, l->tls, dir, us, frame);
		else if (l->h2 != NULL)
			h2_eof(s, l->h2, dir, us, frame, 1);
		else if (l->http != NULL)
			http_eof(s, l->http, dir, us, frame, 1);
		if (l->dec != NULL)
			tlsdec_eof(s, l->dec, dir, us, frame, 1);
	}
}

/* The stream of dir ends: by FIN/RST (closed), or with the capture. */
void
stream_end(struct session *s, struct tcp_live *l, int dir, uint64_t us,
    uint32_t frame, int closed)
{
	struct stream	*h = &l->h[dir];

	while (h->ooo != NULL)
		stream_skip_hole(s, l, dir, us, frame);
	if (!h->eof) {
		h->eof = 1;
		if (l->tls != NULL)
			tls_eof(s, l->tls, dir, us, frame);
		else if (l->h2 != NULL)
			h2_eof(s, l->h2, dir, us, frame, closed);
		else if (l->http != NULL)
			http_eof(s, l->http, dir, us, frame, closed);
		if (l->dec != NULL)
			tlsdec_eof(s, l->dec, dir, us, frame, closed);
	}
}

/*
 * Hands over queued segments that are now in order: as of now when a
 * late segment filled the hole before them, as of their own capture
 * when the hole was skipped (own), since nothing waited for it then.
 */
static void
stream_drain(struct session *s, struct tcp_live *l, int dir, uint64_t us,
    uint32_t frame, int own)
{
	struct stream	*h = &l->h[dir];
	struct stream_seg	*g;
	uint32_t	 skip;

	while ((g = h->ooo) != NULL && SEQ_LEQ(g->seq, h->next)) {
		h->ooo = g->next;
		h->ooo_n--;
		h->ooo_bytes -= g->len;
		skip = h->next - g->seq;
		if (own) {
			us = g->us;
			frame = g->frame;
		}
		if (skip < g->len) {
			stream_deliver(s, l, dir, g->data + skip, g->len - skip,
			    us, frame, g->frame, g->off == STREAM_NO_OFF ?
			    STREAM_NO_OFF : g->off + skip);
			h->next = g->seq + g->len;
		}
		session_uncharge(s, session_size(g));
		free(g);
	}
}

/*
 * Skips the hole before the first queued segment, as of when that
 * segment came: the first sign of the hole.
 */
static void
stream_skip_hole(struct session *s, struct tcp_live *l, int dir, uint64_t us,
    uint32_t frame)
{
	struct stream	*h = &l->h[dir];

	if (h->ooo == NULL)
		return;
	stream_gap(s, l, dir, h->ooo->seq - h->next, h->ooo->us,
	    h->ooo->frame);
	h->next = h->ooo->seq;
	stream_drain(s, l, dir, us, frame, 1);
}

/*
 * Copies an early segment into the queue, sorted by sequence number
 * and, at the same number, by arrival: draining hands on each byte from
 * the first segment holding it in that order, so where copies overlap
 * with different bytes the one starting first wins, and of two starting
 * at the same place the one that came first (as tshark with
 * tcp.reassemble_out_of_order). Returns 0 if a segment that came before
 * at the same place already holds all of it.
 */
static int
stream_queue(struct session *s, struct stream *h, uint32_t seq,
    const u_char *p, uint32_t len, uint64_t us, uint32_t frame)
{
	struct stream_seg	**pp, *g;

	for (pp = &h->ooo; *pp != NULL && SEQ_LEQ((*pp)->seq, seq);
	    pp = &(*pp)->next)
		if ((*pp)->seq == seq && (*pp)->len >= len)
			return (0);
	g = xmalloc(sizeof(*g) + len);
	g->us = us;
	g->frame = frame;
	g->off = frame == s->frameno ? stream_off(s, p, len) : STREAM_NO_OFF;
	g->seq = seq;
	g->len = len;
	memcpy(g->data, p, len);
	g->next = *pp;
	*pp = g;
	h->ooo_n++;
	h->ooo_bytes += len;
	session_charge(s, session_size(g));
	return (1);
}

/*
 * Reassembles one segment of direction dir. Returns the class it earns
 * from its sequence number (retransmit, out-of-order) or -1.
 */
int
stream_segment(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk, uint64_t us, uint32_t frame)
{
	struct stream	*h = &l->h[dir];
	struct dirstats	*d = &l->conn->d[dir];
	uint32_t	 seq = pk->seq, skip, end;
	int		 class = -1, fin = (pk->flags & TH_FIN) != 0;

	if (pk->flags & TH_SYN)
		seq++;
	end = seq + pk->wirelen;
	if (!h->have_next) {
		h->next = seq;
		h->maxend = seq;
		h->have_next = 1;
	}
	if (fin && h->have_fin && pk->wirelen == 0 && seq == h->fin_seq) {
		d->retransmits++;
		return (PKT_RETRANSMIT);
	}
	if (fin && !h->have_fin) {
		h->have_fin = 1;
		h->fin_seq = end;
	}
	if (pk->wirelen == 0)
		goto out;
	if (SEQ_LEQ(end, h->next)) {
		d->retransmits++;
		return (PKT_RETRANSMIT);
	}
	if (SEQ_GT(seq, h->next)) {
		if (!stream_queue(s, h, seq, pk->payload, pk->paylen, us,
		    frame))
			d->retransmits++;
		while (h->ooo_n > STREAM_OOO_SEGS || h->ooo_bytes > STREAM_OOO_BYTES)
			stream_skip_hole(s, l, dir, us, frame);
		goto out;
	}
	if (SEQ_LT(seq, h->maxend) && SEQ_LT(seq, h->next) == 0 &&
	    h->ooo != NULL) {
		d->out_of_order++;
		class = PKT_OUT_OF_ORDER;
	}
	skip = h->next - seq;
	if (skip < pk->paylen)
		stream_deliver(s, l, dir, pk->payload + skip, pk->paylen - skip,
		    us, frame, s->frameno, stream_off(s, pk->payload + skip,
		    pk->paylen - skip));
	h->next = seq + (pk->paylen > skip ? pk->paylen : skip);
	if (pk->wirelen > pk->paylen && SEQ_LT(h->next, end)) {
		stream_gap(s, l, dir, end - h->next, us, frame); /* snaplen */
		h->next = end;
	}
	stream_drain(s, l, dir, us, frame, 0);
out:
	if (SEQ_GT(end, h->maxend))
		h->maxend = end;
	stream_check_eof(s, l, dir, us, frame);
	return (class);
}

/*
 * The peer acknowledges a FIN whose sequence number lies beyond the
 * bytes handed on, with nothing queued: the bytes before it were sent
 * and received but the capture never had them (IP fragments, a full
 * ring). They are a gap, and the stream ends at the FIN.
 */
static void
stream_skip_to_fin(struct session *s, struct tcp_live *l, int dir,
    uint64_t us, uint32_t frame)
{
	struct stream	*h = &l->h[dir];

	stream_gap(s, l, dir, h->fin_seq - h->next, us, frame);
	h->next = h->fin_seq;
	stream_check_eof(s, l, dir, us, frame);
}

/*
 * The peer acknowledges bytes we never saw while later ones wait in the
 * queue: they were lost by the capture, not the network, and will not
 * come again. Skip the hole now rather than when the queue is full.
 * What the client acknowledged, relative to what was handed on, goes
 * to http.c: it tells which responses a request was sent after.
 */
void
stream_acked(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk, uint64_t us, uint32_t frame)
{
	struct stream	*o = &l->h[dir ^ 1];

	if (!(pk->flags & TH_ACK))
		return;
	if (o->ooo != NULL && SEQ_GT(pk->ack, o->next) &&
	    SEQ_LEQ(o->ooo->seq, pk->ack))
		stream_skip_hole(s, l, dir ^ 1, us, frame);
	if (o->ooo == NULL && o->have_fin && !o->eof &&
	    SEQ_GT(o->fin_seq, o->next) && SEQ_GT(pk->ack, o->fin_seq))
		stream_skip_to_fin(s, l, dir ^ 1, us, frame);
	if (dir == DIR_C2S && o->have_next && l->http != NULL)
		http_acked(l->http, (int32_t)(pk->ack - o->next));
}
