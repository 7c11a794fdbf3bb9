/*
 * pktlog.c: packed packet records (see pktlog.h). A record starts with
 * one byte: the direction, which of sequence number, acknowledgment,
 * window and payload length changed, and which of the seven commonest
 * pairs of TCP flags and class it has (kind 0: neither; the flags and
 * the class follow in a byte each). Then LEB128 numbers: the time and
 * frame number after the record before (zigzag, so a capture whose
 * clock steps back still fits), the sequence number's distance from
 * where the direction's last segment ended, the acknowledgment's and
 * window's change, each only if there is one, and the payload length
 * when it is not the direction's last one. On the bench capture a
 * record takes about 5 bytes instead of 32.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <string.h>

#include "leb128.h"
#include "pktlog.h"

#define PKTLOG_DIR	0x01
#define PKTLOG_SEQ	0x02
#define PKTLOG_ACK	0x04
#define PKTLOG_WIN	0x08
#define PKTLOG_LEN	0x10
#define PKTLOG_KIND(b)	((b) >> 5)

/*
 * TCP flags and class of kinds 1 to 7, by how often the bench capture
 * has them: an ACK alone, data, pushed data, a FIN (with data or
 * without), a SYN and a SYN-ACK.
 */
static const struct {
	uint8_t	 flags;
	uint8_t	 class;
} pktlog_kinds[8] = {
	{ 0, 0 },
	{ 0x10, PKT_ACK },
	{ 0x10, PKT_DATA },
	{ 0x18, PKT_PUSH },
	{ 0x11, PKT_FIN },
	{ 0x19, PKT_FIN },
	{ 0x02, PKT_SYN },
	{ 0x12, PKT_SYNACK },
};

static int
pktlog_kind(const struct pkt *p)
{
	int	 k;

	for (k = 1; k < 8; k++)
		if (pktlog_kinds[k].flags == p->flags &&
		    pktlog_kinds[k].class == p->class)
			return (k);
	return (0);
}

size_t
pktlog_put(u_char *out, struct pktlog_state *st, const struct pkt *p)
{
	int	 d = p->dir & 1, k = pktlog_kind(p);
	size_t	 n = 1;

	out[0] = (u_char)(d | k << 5);
	if (k == 0) {
		out[n++] = p->flags;
		out[n++] = p->class;
	}
	n += leb_put(out + n, leb_zz((int64_t)(p->us - st->us)));
	n += leb_put(out + n, leb_zz((int64_t)p->frame -
	    (int64_t)st->frame));
	if (p->seq != st->seq[d]) {
		out[0] |= PKTLOG_SEQ;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->seq - st->seq[d])));
	}
	if (p->ack != st->ack[d]) {
		out[0] |= PKTLOG_ACK;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->ack - st->ack[d])));
	}
	if (p->win != st->win[d]) {
		out[0] |= PKTLOG_WIN;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->win - st->win[d])));
	}
	if (p->len != st->len[d]) {
		out[0] |= PKTLOG_LEN;
		n += leb_put(out + n, p->len);
	}
	st->us = p->us;
	st->frame = p->frame;
	st->seq[d] = p->seq + p->len;
	st->ack[d] = p->ack;
	st->win[d] = p->win;
	st->len[d] = p->len;
	return (n);
}

/* One number of a record; 0 when the log ends inside it. */
static size_t
pktlog_field(const u_char *in, size_t avail, size_t *n, uint64_t *v)
{
	size_t	 got;

	got = leb_get(in + *n, avail - *n, v);
	*n += got;
	return (got);
}

/* One of a record's optional numbers, a change to *to; 0: log damaged. */
static int
pktlog_change(const u_char *in, size_t avail, size_t *n, int has,
    uint32_t *to)
{
	uint64_t	 v;

	if (!has)
		return (1);
	if (pktlog_field(in, avail, n, &v) == 0)
		return (0);
	*to += (uint32_t)leb_unzz(v);
	return (1);
}

size_t
pktlog_get(const u_char *in, size_t avail, struct pktlog_state *st,
    struct pkt *p)
{
	uint64_t	 v;
	size_t		 n = 1;
	int		 d, k;

	if (avail < 1)
		return (0);
	memset(p, 0, sizeof(*p));
	p->dir = d = in[0] & PKTLOG_DIR;
	if ((k = PKTLOG_KIND(in[0])) == 0) {
		if (avail < 3)
			return (0);
		p->flags = in[n++];
		p->class = in[n++];
	} else {
		p->flags = pktlog_kinds[k].flags;
		p->class = pktlog_kinds[k].class;
	}
	if (pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	p->us = st->us + (uint64_t)leb_unzz(v);
	if (pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	p->frame = (uint32_t)((int64_t)st->frame + leb_unzz(v));
	p->seq = st->seq[d];
	p->ack = st->ack[d];
	p->win = st->win[d];
	if (!pktlog_change(in, avail, &n, in[0] & PKTLOG_SEQ, &p->seq) ||
	    !pktlog_change(in, avail, &n, in[0] & PKTLOG_ACK, &p->ack) ||
	    !pktlog_change(in, avail, &n, in[0] & PKTLOG_WIN, &p->win))
		return (0);
	p->len = st->len[d];
	if (in[0] & PKTLOG_LEN) {
		if (pktlog_field(in, avail, &n, &v) == 0)
			return (0);
		p->len = (uint32_t)v;
	}
	st->us = p->us;
	st->frame = p->frame;
	st->seq[d] = p->seq + p->len;
	st->ack[d] = p->ack;
	st->win[d] = p->win;
	st->len[d] = p->len;
	return (n);
}

static void
pktlog_swap(uint32_t v[2])
{
	uint32_t	 t = v[0];

	v[0] = v[1];
	v[1] = t;
}

/*
 * Each record's direction bit turns; what a record is told apart from
 * turns with it, so the state for appending swaps its two sides.
 */
void
pktlog_flip(u_char *log, size_t len, size_t n, struct pktlog_state *st)
{
	struct pktlog_state	 rd;
	struct pkt		 p;
	size_t			 i, off = 0, got;

	memset(&rd, 0, sizeof(rd));
	for (i = 0; i < n && off < len; i++) {
		if ((got = pktlog_get(log + off, len - off, &rd, &p)) == 0)
			break;
		log[off] ^= PKTLOG_DIR;
		off += got;
	}
	pktlog_swap(st->seq);
	pktlog_swap(st->ack);
	pktlog_swap(st->win);
	pktlog_swap(st->len);
}
