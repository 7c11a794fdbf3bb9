/*
 * pktlog.c: packed packet records (see pktlog.h). A record is two bytes
 * (the TCP flags; the direction, the class and which of sequence number,
 * acknowledgment and window changed), then LEB128 numbers: the time and
 * frame number after the record before (zigzag, so a capture whose
 * clock steps back still fits), the sequence number's distance from
 * where the direction's last segment ended, the acknowledgment's and
 * window's change, each only if there is one, and the payload length.
 * On the bench capture a record takes about 8 bytes instead of 32.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <string.h>

#include "leb128.h"
#include "pktlog.h"

#define PKTLOG_DIR	0x01
#define PKTLOG_SEQ	0x20
#define PKTLOG_ACK	0x40
#define PKTLOG_WIN	0x80
#define PKTLOG_CLASS(b)	(((b) >> 1) & 0x0f)

size_t
pktlog_put(u_char *out, struct pktlog_state *st, const struct pkt *p)
{
	int	 d = p->dir & 1;
	size_t	 n = 2;

	out[0] = p->flags;
	out[1] = (u_char)(d | (p->class & 0x0f) << 1);
	n += leb_put(out + n, leb_zz((int64_t)(p->us - st->us)));
	n += leb_put(out + n, leb_zz((int64_t)p->frame -
	    (int64_t)st->frame));
	if (p->seq != st->seq[d]) {
		out[1] |= PKTLOG_SEQ;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->seq - st->seq[d])));
	}
	if (p->ack != st->ack[d]) {
		out[1] |= PKTLOG_ACK;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->ack - st->ack[d])));
	}
	if (p->win != st->win[d]) {
		out[1] |= PKTLOG_WIN;
		n += leb_put(out + n,
		    leb_zz((int32_t)(p->win - st->win[d])));
	}
	n += leb_put(out + n, p->len);
	st->us = p->us;
	st->frame = p->frame;
	st->seq[d] = p->seq + p->len;
	st->ack[d] = p->ack;
	st->win[d] = p->win;
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

size_t
pktlog_get(const u_char *in, size_t avail, struct pktlog_state *st,
    struct pkt *p)
{
	uint64_t	 v;
	size_t		 n = 2;
	int		 d;

	if (avail < 2)
		return (0);
	memset(p, 0, sizeof(*p));
	p->flags = in[0];
	p->dir = d = in[1] & PKTLOG_DIR;
	p->class = PKTLOG_CLASS(in[1]);
	if (pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	p->us = st->us + (uint64_t)leb_unzz(v);
	if (pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	p->frame = (uint32_t)((int64_t)st->frame + leb_unzz(v));
	p->seq = st->seq[d];
	if ((in[1] & PKTLOG_SEQ) && pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	if (in[1] & PKTLOG_SEQ)
		p->seq += (uint32_t)leb_unzz(v);
	p->ack = st->ack[d];
	if ((in[1] & PKTLOG_ACK) && pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	if (in[1] & PKTLOG_ACK)
		p->ack += (uint32_t)leb_unzz(v);
	p->win = st->win[d];
	if ((in[1] & PKTLOG_WIN) && pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	if (in[1] & PKTLOG_WIN)
		p->win += (uint32_t)leb_unzz(v);
	if (pktlog_field(in, avail, &n, &v) == 0)
		return (0);
	p->len = (uint32_t)v;
	st->us = p->us;
	st->frame = p->frame;
	st->seq[d] = p->seq + p->len;
	st->ack[d] = p->ack;
	st->win[d] = p->win;
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
		log[off + 1] ^= PKTLOG_DIR;
		off += got;
	}
	pktlog_swap(st->seq);
	pktlog_swap(st->ack);
	pktlog_swap(st->win);
}
