/*
 * h2.c: HTTP/2 framing on one connection (see h2.h). Each direction is
 * a small state machine over its bytes in order: the client's preface,
 * then frames, each a 9-byte header and a payload walked in parts (pad
 * length, fixed fields, content, padding), so that nothing but fixed
 * fields is copied: DATA content goes to the stream's body decoder and
 * header block fragments to the direction's HPACK inflater as they
 * pass. Streams, their transactions and flow control are in
 * h2stream.c.
 *
 * A frame that breaks a rule the framing does not depend on (a bad
 * length for its type, padding longer than the frame) is counted and
 * skipped by its length. A frame longer than the receiver allows, or
 * a hole that is not inside a DATA payload, leaves the direction's
 * framing unknown: it is not parsed further, and its bytes are counted.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "h2.h"
#include "h2_int.h"
#include "xmalloc.h"

/* What the part of the payload being read is. */
enum h2_part {
	H2_P_PADLEN,
	H2_P_FIXED,
	H2_P_CONTENT,
	H2_P_REST,		/* padding, or what is not looked at */
};

/* Fixed fields before the content, by frame type (padding apart). */
static size_t
h2_fixed_len(const struct h2_dir *d)
{
	switch (d->type) {
	case H2_DATA:
	case H2_CONTINUATION:
		return (0);
	case H2_HEADERS:
		return ((d->flags & H2_F_PRIORITY) ? 5 : 0);
	case H2_PUSH_PROMISE:
		return (4);
	}
	return (d->len < H2_FIXED_MAX ? d->len : H2_FIXED_MAX);
}

static int
h2_has_content(const struct h2_dir *d)
{
	return (d->type == H2_DATA || d->type == H2_HEADERS ||
	    d->type == H2_PUSH_PROMISE || d->type == H2_CONTINUATION);
}

static int
h2_padded(const struct h2_dir *d)
{
	return ((d->type == H2_DATA || d->type == H2_HEADERS ||
	    d->type == H2_PUSH_PROMISE) && (d->flags & H2_F_PADDED));
}

static void	h2_frame_begin(struct h2_conn *, struct h2_dir *);
static void	h2_frame_fixed(struct h2_conn *, struct h2_dir *);
static void	h2_content(struct h2_conn *, struct h2_dir *, const u_char *,
		    size_t, int);
static void	h2_frame_end(struct h2_conn *, struct h2_dir *);

static uint32_t
h2_u32(const u_char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
h2_settings_clear(struct h2_settings *st)
{
	st->header_table_size = -1;
	st->enable_push = -1;
	st->max_concurrent_streams = -1;
	st->initial_window_size = -1;
	st->max_frame_size = -1;
	st->max_header_list_size = -1;
	st->count = 0;
}

struct txn_h2 *
h2_txn(struct session *s, const struct txn *t)
{
	struct h2_info	*hi = t->conn->h2;

	if (t->index >= hi->ntxns) {
		hi->txns = session_grow(s, hi->txns, &hi->txncap,
		    (size_t)t->index + 1, sizeof(*hi->txns));
		memset(hi->txns + hi->ntxns, 0, ((size_t)t->index + 1 -
		    hi->ntxns) * sizeof(*hi->txns));
		hi->ntxns = (size_t)t->index + 1;
	}
	return (&hi->txns[t->index]);
}

const struct txn_h2 *
h2_txn_get(const struct txn *t)
{
	const struct h2_info	*hi = t->conn->h2;

	if (t->proto != TXN_PROTO_H2 || hi == NULL || t->index >= hi->ntxns)
		return (NULL);
	return (&hi->txns[t->index]);
}

struct h2_conn *
h2_conn_new(struct session *s, struct conn *c)
{
	struct h2_conn	*hc;
	int		 i;

	hc = xcalloc(1, sizeof(*hc));
	session_charge(s, session_size(hc));
	hc->s = s;
	hc->c = c;
	if (c->h2 == NULL) {
		c->h2 = session_alloc(s, sizeof(*c->h2));
		c->h2->preface_us = ENGINE_NOTIME;
		c->h2->goaway_us = ENGINE_NOTIME;
		for (i = 0; i < 2; i++)
			h2_settings_clear(&c->h2->d[i].settings);
	}
	hc->info = c->h2;
	for (i = 0; i < 2; i++) {
		hc->d[i].dir = i;
		hc->d[i].mode = i == DIR_C2S ? H2_M_PREFACE : H2_M_FRAMES;
		hc->d[i].max_frame = H2_DEFAULT_FRAME;
		hc->d[i].win = H2_DEFAULT_WINDOW;
		hc->d[i].init_win = H2_DEFAULT_WINDOW;
		hc->d[i].stall_since = ENGINE_NOTIME;
		h2stream_hpack_init(hc, &hc->d[i]);
	}
	return (hc);
}

void
h2_conn_free(struct session *s, struct h2_conn *hc)
{
	int	 i;

	if (hc == NULL)
		return;
	h2stream_free_all(hc);
	for (i = 0; i < 2; i++)
		h2stream_hpack_free(hc, &hc->d[i]);
	/* no stream starts now: the facts' array gives back its room */
	hc->info->txns = session_fit(s, hc->info->txns, &hc->info->txncap,
	    hc->info->ntxns, sizeof(*hc->info->txns));
	session_uncharge(s, session_size(hc));
	free(hc);
}

int
h2_looks(const u_char *p, size_t len)
{
	if (len > H2_PREFACE_LEN)
		len = H2_PREFACE_LEN;
	return (len > 0 && memcmp(p, H2_PREFACE, len) == 0);
}

/* Framing is lost for the direction: nothing more of it is parsed. */
void
h2_lose(struct h2_conn *hc, struct h2_dir *d, const char *why)
{
	if (hc->info->error == NULL)
		hc->info->error = why;
	d->mode = H2_M_OFF;
	h2stream_block_abandon(hc, d);
}

void
h2_malformed(struct h2_conn *hc, const char *why)
{
	hc->info->malformed++;
	hc->s->c.parse_errors++;
	if (hc->info->error == NULL)
		hc->info->error = why;
}

static size_t
h2_preface(struct h2_conn *hc, struct h2_dir *d, const u_char *p, size_t len)
{
	size_t	 n = H2_PREFACE_LEN - d->got;

	if (n > len)
		n = len;
	if (memcmp(p, &H2_PREFACE[d->got], n) != 0) {
		h2_malformed(hc, "no connection preface");
		h2_lose(hc, d, "no connection preface");
		return (len);
	}
	if (d->got == 0 && hc->info->preface_us == ENGINE_NOTIME)
		hc->info->preface_us = d->us;
	d->got += n;
	if (d->got == H2_PREFACE_LEN) {
		d->got = 0;
		d->mode = H2_M_FRAMES;
	}
	return (n);
}

/*
 * The frame header is whole: check what the framing depends on and
 * lay out the payload's parts.
 */
static void
h2_frame_start(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_dirstats	*ds = &hc->info->d[d->dir];

	d->len = (uint32_t)d->hdr[0] << 16 | (uint32_t)d->hdr[1] << 8 |
	    d->hdr[2];
	d->type = d->hdr[3];
	d->flags = d->hdr[4];
	d->sid = ((uint32_t)d->hdr[5] << 24 | (uint32_t)d->hdr[6] << 16 |
	    (uint32_t)d->hdr[7] << 8 | d->hdr[8]) & 0x7fffffff;
	d->left = d->len;
	d->fixedlen = 0;
	d->padlen = 0;
	d->bad = 0;
	d->frame_us = d->us;
	d->frame_frame = d->frame;
	ds->frames[d->type < H2_NTYPES ? d->type : H2_NTYPES]++;
	ds->frame_bytes += 9 + d->len;
	if (d->len > d->max_frame) {
		h2_malformed(hc, "frame longer than allowed");
		h2_lose(hc, d, "frame longer than allowed");
		return;
	}
	if (d->block_open && d->type != H2_CONTINUATION) {
		h2_malformed(hc, "header block not continued");
		h2stream_block_abandon(hc, d);
	}
	d->part = h2_padded(d) ? H2_P_PADLEN : H2_P_FIXED;
	d->fixedneed = h2_fixed_len(d);
	if (d->fixedneed + (h2_padded(d) ? 1 : 0) > d->len) {
		h2_malformed(hc, "frame too short for its type");
		d->bad = 1;
		d->part = H2_P_REST;
	}
	h2_frame_begin(hc, d);
}

/* The parts after the fixed fields, once the pad length is known. */
static void
h2_layout(struct h2_conn *hc, struct h2_dir *d)
{
	uint32_t	 used = (h2_padded(d) ? 1 : 0) + (uint32_t)d->fixedneed;

	if (!h2_has_content(d)) {
		d->content = 0;
		return;
	}
	if ((uint32_t)d->padlen + used > d->len) {
		h2_malformed(hc, "padding longer than the frame");
		d->bad = 1;
		d->content = 0;
		d->padlen = 0;
		return;
	}
	d->content = d->len - used - d->padlen;
	h2_frame_fixed(hc, d);
}

static void
h2_frame_done(struct h2_conn *hc, struct h2_dir *d)
{
	if (!d->bad)
		h2_frame_end(hc, d);
	d->hdrlen = 0;
}

/* Reads the parts of a payload; returns the bytes of p used. */
static size_t
h2_payload(struct h2_conn *hc, struct h2_dir *d, const u_char *p, size_t len)
{
	size_t	 n;

	if (len > d->left)
		len = d->left;
	switch (d->part) {
	case H2_P_PADLEN:
		d->padlen = p[0];
		d->part = H2_P_FIXED;
		n = 1;
		break;
	case H2_P_FIXED:
		n = d->fixedneed - d->fixedlen;
		if (n > len)
			n = len;
		memcpy(d->fixed + d->fixedlen, p, n);
		d->fixedlen += n;
		break;
	case H2_P_CONTENT:
		n = d->content < len ? d->content : len;
		d->content -= (uint32_t)n;
		h2_content(hc, d, p, n, d->content == 0);
		break;
	default:
		n = len;
		break;
	}
	d->left -= (uint32_t)n;
	if (d->part == H2_P_FIXED && d->fixedlen == d->fixedneed) {
		h2_layout(hc, d);
		d->part = d->bad || !h2_has_content(d) ? H2_P_REST :
		    H2_P_CONTENT;
		if (d->part == H2_P_CONTENT && d->content == 0) {
			h2_content(hc, d, p, 0, 1);
			d->part = H2_P_REST;
		}
	} else if (d->part == H2_P_CONTENT && d->content == 0)
		d->part = H2_P_REST;
	return (n);
}

static size_t
h2_frames(struct h2_conn *hc, struct h2_dir *d, const u_char *p, size_t len)
{
	size_t	 n;

	if (d->hdrlen < 9) {
		n = 9 - d->hdrlen;
		if (n > len)
			n = len;
		memcpy(d->hdr + d->hdrlen, p, n);
		d->hdrlen += n;
		if (d->hdrlen == 9)
			h2_frame_start(hc, d);
		if (d->hdrlen == 9 && d->mode == H2_M_FRAMES && d->left == 0)
			h2_payload(hc, d, p + n, 0);
	} else
		n = h2_payload(hc, d, p, len);
	if (d->mode == H2_M_FRAMES && d->hdrlen == 9 && d->left == 0)
		h2_frame_done(hc, d);
	return (n);
}

void
h2_data(struct session *s, struct h2_conn *hc, int dir, const u_char *p,
    size_t len, uint64_t us, uint32_t frame)
{
	struct h2_dir	*d = &hc->d[dir];
	size_t		 n;

	d->us = us;
	d->frame = frame;
	while (len > 0) {
		if (d->mode == H2_M_PREFACE)
			n = h2_preface(hc, d, p, len);
		else if (d->mode == H2_M_FRAMES)
			n = h2_frames(hc, d, p, len);
		else {
			hc->info->d[dir].lost_bytes += len;
			return;
		}
		p += n;
		len -= n;
	}
}

/*
 * A hole inside a DATA frame's content or padding is stepped over: the
 * framing stays right. Anywhere else the direction stops.
 */
void
h2_gap(struct session *s, struct h2_conn *hc, int dir, uint64_t bytes,
    uint64_t us, uint32_t frame)
{
	struct h2_dir	*d = &hc->d[dir];

	d->us = us;
	d->frame = frame;
	if (d->mode == H2_M_FRAMES && d->hdrlen == 9 && d->type == H2_DATA &&
	    !d->bad && d->part >= H2_P_CONTENT && bytes <= d->left &&
	    (d->part == H2_P_REST || bytes <= d->content)) {
		if (d->part == H2_P_CONTENT) {
			h2stream_data_gap(hc, d, bytes);
			d->content -= (uint32_t)bytes;
			if (d->content == 0)
				d->part = H2_P_REST;
		}
		d->left -= (uint32_t)bytes;
		if (d->left == 0)
			h2_frame_done(hc, d);
		return;
	}
	if (d->mode != H2_M_OFF)
		h2_lose(hc, d, "bytes lost in the capture");
	hc->info->d[dir].lost_bytes += bytes;
}

void
h2_eof(struct session *s, struct h2_conn *hc, int dir, uint64_t us,
    uint32_t frame, int closed)
{
	struct h2_dir	*d = &hc->d[dir];

	d->us = us;
	d->frame = frame;
	h2stream_block_abandon(hc, d);
	d->mode = H2_M_OFF;
	h2stream_eof(hc, dir);
	/* Off for good: its inflater and block buffers go now. */
	h2stream_hpack_free(hc, d);
}

void
h2_upgraded(struct session *s, struct h2_conn *hc, struct txn *t)
{
	hc->info->upgraded = 1;
	h2stream_upgraded(hc, t);
}

/* Checks the header of a frame that opens or continues a header block. */
static void
h2_frame_begin(struct h2_conn *hc, struct h2_dir *d)
{
	const char	*why = NULL;

	switch (d->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_RST_STREAM:
		if (d->sid == 0)
			why = "stream frame on stream 0";
		break;
	case H2_CONTINUATION:
		if (!d->block_open || d->sid != d->blk.sid)
			why = "CONTINUATION without a header block";
		else
			d->blk.wire += 9 + (uint64_t)d->len;
		break;
	case H2_SETTINGS:
	case H2_PING:
	case H2_GOAWAY:
		if (d->sid != 0)
			why = "connection frame on a stream";
		break;
	}
	if (why == NULL || d->bad)
		return;
	h2_malformed(hc, why);
	d->bad = 1;
	d->part = H2_P_REST;
}

/* The fixed fields are in: what the content is for is known. */
static void
h2_frame_fixed(struct h2_conn *hc, struct h2_dir *d)
{
	if (d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE)
		h2stream_block_begin(hc, d);
	else if (d->type == H2_DATA)
		h2stream_data_begin(hc, d);
}

static void
h2_content(struct h2_conn *hc, struct h2_dir *d, const u_char *p, size_t n,
    int last)
{
	if (d->type == H2_DATA)
		h2stream_data(hc, d, p, n);
	else if (d->block_open)
		h2stream_block_bytes(hc, d, p, n,
		    last && (d->flags & H2_F_END_HEADERS));
}

static void
h2_setting(struct h2_conn *hc, struct h2_dir *d, uint16_t id, uint32_t v)
{
	struct h2_settings	*st = &hc->info->d[d->dir].settings;
	struct h2_dir		*o = &hc->d[d->dir ^ 1];

	switch (id) {
	case 1:
		st->header_table_size = v;
		h2stream_hpack_size(hc, o, v);
		break;
	case 2:
		st->enable_push = v;
		break;
	case 3:
		st->max_concurrent_streams = v;
		break;
	case 4:
		st->initial_window_size = v;
		h2stream_initial_window(hc, o->dir, (int64_t)v - o->init_win);
		o->init_win = v;
		break;
	case 5:
		st->max_frame_size = v;
		if (v >= H2_DEFAULT_FRAME && v <= H2_MAX_FRAME)
			o->max_frame = v;
		break;
	case 6:
		st->max_header_list_size = v;
		break;
	}
}

static void
h2_settings(struct h2_conn *hc, struct h2_dir *d)
{
	size_t	 i;

	if (d->flags & H2_F_ACK) {
		if (d->len != 0)
			h2_malformed(hc, "SETTINGS ack with a payload");
		return;
	}
	if (d->len % 6 != 0) {
		h2_malformed(hc, "SETTINGS length not a multiple of 6");
		return;
	}
	hc->info->d[d->dir].settings.count++;
	for (i = 0; i + 6 <= d->fixedlen; i += 6)
		h2_setting(hc, d, (uint16_t)(d->fixed[i] << 8 | d->fixed[i + 1]),
		    h2_u32(d->fixed + i + 2));
}

/* A PING's round trip: from the sender's PING to the peer's ack. */
static void
h2_ping(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_dir	*o = &hc->d[d->dir ^ 1];
	struct h2_info	*hi = hc->info;
	int		 i;

	if (d->len != 8) {
		h2_malformed(hc, "PING length not 8");
		return;
	}
	if (!(d->flags & H2_F_ACK)) {
		if (d->nping == H2_MAX_PINGS)
			return;
		memcpy(d->ping[d->nping], d->fixed, 8);
		d->ping_us[d->nping++] = d->frame_us;
		return;
	}
	for (i = 0; i < o->nping; i++)
		if (memcmp(o->ping[i], d->fixed, 8) == 0)
			break;
	if (i == o->nping)
		return;
	if (hi->npings < H2_MAX_RTTS)
		hi->rtt_us[hi->npings] = d->frame_us - o->ping_us[i];
	hi->npings++;
	o->nping--;
	memmove(o->ping[i], o->ping[i + 1], (size_t)(o->nping - i) * 8);
	memmove(&o->ping_us[i], &o->ping_us[i + 1],
	    (size_t)(o->nping - i) * sizeof(o->ping_us[0]));
}

static void
h2_goaway(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_info	*hi = hc->info;

	if (d->len < 8) {
		h2_malformed(hc, "GOAWAY shorter than 8");
		return;
	}
	if (hi->has_goaway)
		return;		/* the first one says the most */
	hi->has_goaway = 1;
	hi->goaway_dir = (uint8_t)d->dir;
	hi->goaway_last_stream = h2_u32(d->fixed) & 0x7fffffff;
	hi->goaway_error = h2_u32(d->fixed + 4);
	hi->goaway_us = d->frame_us;
}

static void
h2_window_update(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_dirstats	*ds = &hc->info->d[d->dir];
	uint32_t		 inc;

	if (d->len != 4) {
		h2_malformed(hc, "WINDOW_UPDATE length not 4");
		return;
	}
	inc = h2_u32(d->fixed) & 0x7fffffff;
	ds->window_updates++;
	ds->window_bytes += inc;
	h2stream_window(hc, d, d->sid, inc);
}

static void
h2_frame_end(struct h2_conn *hc, struct h2_dir *d)
{
	switch (d->type) {
	case H2_DATA:
		if (d->flags & H2_F_END_STREAM)
			h2stream_end(hc, d, d->sid);
		break;
	case H2_PRIORITY:
		if (d->len != 5)
			h2_malformed(hc, "PRIORITY length not 5");
		break;
	case H2_RST_STREAM:
		if (d->len != 4) {
			h2_malformed(hc, "RST_STREAM length not 4");
			break;
		}
		hc->info->resets++;
		h2stream_reset(hc, d, d->sid, h2_u32(d->fixed));
		break;
	case H2_SETTINGS:
		h2_settings(hc, d);
		break;
	case H2_PING:
		h2_ping(hc, d);
		break;
	case H2_GOAWAY:
		h2_goaway(hc, d);
		break;
	case H2_WINDOW_UPDATE:
		h2_window_update(hc, d);
		break;
	}
}
