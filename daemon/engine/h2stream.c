/*
 * h2stream.c: the streams of an HTTP/2 connection (see h2.h). Header
 * blocks are inflated by libnghttp2's HPACK decoder, one per direction
 * whose dynamic table lives as long as the connection; each decoded
 * block is gathered (bounded by MSG_MAX_TEXT and MSG_MAX_HEADERS, the
 * rest counted) and becomes a message of the stream's transaction:
 * the request from the client's HEADERS (or the server's PUSH_PROMISE),
 * the response from the server's, trailers appended. DATA content goes
 * through body.c as HTTP/1.x bodies do. Send windows are followed per
 * connection and per stream to see a sender blocked on a spent window.
 *
 * Runs in the analyzer (unprivileged, sandboxed). At most
 * H2_MAX_STREAMS streams are open at once per connection; more are
 * counted and not followed.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#include "h2.h"
#include "h2_int.h"
#include "http.h"
#include "msg.h"
#include "xmalloc.h"

#define H2_HPACK_MEM		1024	/* an inflater, beside its table */

void
h2stream_hpack_init(struct h2_conn *hc, struct h2_dir *d)
{
	d->table_max = 4096;
	if (nghttp2_hd_inflate_new(&d->inf) != 0) {
		d->inf = NULL;
		d->hpack_broken = 1;
		return;
	}
	session_charge(hc->s, H2_HPACK_MEM + d->table_max);
}

void
h2stream_hpack_free(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_block	*b = &d->blk;

	if (d->inf != NULL) {
		nghttp2_hd_inflate_del(d->inf);
		session_uncharge(hc->s, H2_HPACK_MEM + d->table_max);
		d->inf = NULL;
	}
	session_uncharge(hc->s, b->textcap + b->hdrcap * sizeof(*b->hdrs));
	free(b->text);
	free(b->hdrs);
	b->text = NULL;
	b->hdrs = NULL;
	b->textcap = b->hdrcap = 0;
}

/*
 * The table only grows here: a smaller size takes effect when the
 * encoder says so in a block, and the receiver's SETTINGS may reach the
 * capture after blocks the sender encoded before it had seen them.
 */
void
h2stream_hpack_size(struct h2_conn *hc, struct h2_dir *d, uint32_t v)
{
	if (v > H2_MAX_TABLE)
		v = H2_MAX_TABLE;
	if (d->inf == NULL || d->block_open || v <= d->table_max)
		return;
	if (nghttp2_hd_inflate_change_table_size(d->inf, v) != 0)
		return;
	session_charge(hc->s, v - d->table_max);
	d->table_max = v;
}

static struct h2_stream *
h2stream_find(struct h2_conn *hc, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < hc->nst; i++)
		if (hc->st[i]->id == id)
			return (hc->st[i]);
	return (NULL);
}

/*
 * Streams open in order of their ids, each side its own: a stream not
 * open whose id is below the side's highest was open once and is over,
 * and a frame that comes late for it (after RST_STREAM) is no new stream.
 */
static int
h2stream_closed(const struct h2_conn *hc, uint32_t id)
{
	return (id <= hc->last_sid[(id & 1) ? 0 : 1]);
}

/* The stream is over: its transaction is reported, its state freed. */
static void
h2stream_close(struct h2_conn *hc, struct h2_stream *st)
{
	size_t	 i;

	body_stop(hc->s, &st->body[0]);
	body_stop(hc->s, &st->body[1]);
	session_txn_done(hc->s, st->txn);
	for (i = 0; i < hc->nst; i++)
		if (hc->st[i] == st) {
			hc->st[i] = hc->st[--hc->nst];
			break;
		}
	session_uncharge(hc->s, session_size(st));
	free(st);
}

/* Room for a stream: those the client reset wait no longer. */
static void
h2stream_room(struct h2_conn *hc)
{
	size_t	 i = 0;

	while (i < hc->nst)
		if (hc->st[i]->cancelled)
			h2stream_close(hc, hc->st[i]);
		else
			i++;
}

/* A stream with a new transaction; NULL when over the bounds. */
static struct h2_stream *
h2stream_new(struct h2_conn *hc, uint32_t id, struct txn *t)
{
	struct h2_stream	*st;

	if (hc->nst >= H2_MAX_STREAMS)
		h2stream_room(hc);
	if (hc->nst >= H2_MAX_STREAMS) {
		hc->info->streams_dropped++;
		return (NULL);
	}
	if (t == NULL && (t = session_txn_new(hc->s, hc->c)) == NULL)
		return (NULL);
	t->proto = TXN_PROTO_H2;
	h2_txn(hc->s, t)->stream_id = id;
	if (id > hc->last_sid[(id & 1) ? 0 : 1])
		hc->last_sid[(id & 1) ? 0 : 1] = id;
	st = xcalloc(1, sizeof(*st));
	st->id = id;
	st->txn = t;
	st->win[DIR_C2S] = hc->d[DIR_C2S].init_win;
	st->win[DIR_S2C] = hc->d[DIR_S2C].init_win;
	st->stall_since[0] = st->stall_since[1] = ENGINE_NOTIME;
	hc->st = session_grow(hc->s, hc->st, &hc->stcap, hc->nst + 1,
	    sizeof(*hc->st));
	hc->st[hc->nst++] = st;
	session_charge(hc->s, session_size(st));
	hc->info->streams++;
	return (st);
}

void
h2stream_free_all(struct h2_conn *hc)
{
	while (hc->nst > 0)
		h2stream_close(hc, hc->st[hc->nst - 1]);
	session_uncharge(hc->s, session_size(hc->st));
	free(hc->st);
	hc->st = NULL;
	hc->stcap = 0;
}

static struct msg *
h2stream_msg(const struct h2_stream *st, int dir)
{
	return (dir == DIR_C2S ? st->txn->req : st->txn->resp);
}

static void
h2stream_touch(struct h2_dir *d, struct msg *m)
{
	if (m->last_frame != d->frame) {
		m->last_frame = d->frame;
		m->packets++;
	}
}

void
h2stream_block_begin(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_block	*b = &d->blk;

	b->type = d->type;
	b->sid = d->sid;
	b->promised = 0;
	if (d->type == H2_PUSH_PROMISE)
		b->promised = ((uint32_t)d->fixed[0] << 24 |
		    (uint32_t)d->fixed[1] << 16 | (uint32_t)d->fixed[2] << 8 |
		    d->fixed[3]) & 0x7fffffff;
	b->end_stream = d->type == H2_HEADERS &&
	    (d->flags & H2_F_END_STREAM) != 0;
	b->broken = d->hpack_broken;
	b->us = d->frame_us;
	b->frame = d->frame_frame;
	b->seen_frame = d->frame_frame;
	b->packets = 1;
	b->wire = 9 + (uint64_t)d->len;
	b->textlen = 0;
	b->nhdrs = 0;
	d->block_open = 1;
}

/* Appends a decoded field to the block, or counts it as dropped. */
static void
h2stream_block_add(struct h2_conn *hc, struct h2_block *b,
    const nghttp2_nv *nv)
{
	size_t	 n = nv->namelen + nv->valuelen, ncap;

	/* A field name is a token, never empty (RFC 9110 5.1). */
	if (nv->namelen == 0) {
		hc->info->malformed++;
		hc->info->header_bytes_dropped += n;
		return;
	}
	if (b->nhdrs >= MSG_MAX_HEADERS || n > MSG_MAX_TEXT ||
	    b->textlen + n > MSG_MAX_TEXT) {
		hc->info->header_bytes_dropped += n;
		return;
	}
	if (b->textlen + n > b->textcap) {
		ncap = b->textcap ? b->textcap : 512;
		while (ncap < b->textlen + n)
			ncap *= 2;
		b->text = xreallocarray(b->text, 1, ncap);
		session_charge(hc->s, ncap - b->textcap);
		b->textcap = (uint32_t)ncap;
	}
	if (b->nhdrs == b->hdrcap) {
		ncap = b->hdrcap ? b->hdrcap * 2 : 16;
		b->hdrs = xreallocarray(b->hdrs, ncap, sizeof(*b->hdrs));
		session_charge(hc->s, (ncap - b->hdrcap) * sizeof(*b->hdrs));
		b->hdrcap = (uint32_t)ncap;
	}
	b->hdrs[b->nhdrs].name_off = (uint16_t)b->textlen;
	b->hdrs[b->nhdrs].name_len = (uint16_t)nv->namelen;
	memcpy(b->text + b->textlen, nv->name, nv->namelen);
	b->textlen += (uint32_t)nv->namelen;
	b->hdrs[b->nhdrs].val_off = (uint16_t)b->textlen;
	b->hdrs[b->nhdrs].val_len = (uint16_t)nv->valuelen;
	memcpy(b->text + b->textlen, nv->value, nv->valuelen);
	b->textlen += (uint32_t)nv->valuelen;
	b->nhdrs++;
}

/* The index of the block's field called name, or -1. */
static int
h2stream_field(const struct h2_block *b, const char *name)
{
	uint32_t	 i;
	size_t		 n = strlen(name);

	for (i = 0; i < b->nhdrs; i++)
		if (b->hdrs[i].name_len == n &&
		    memcmp(b->text + b->hdrs[i].name_off, name, n) == 0)
			return ((int)i);
	return (-1);
}

/*
 * The methods llhttp knows, from its own list: llhttp_method_name
 * aborts on a number the list skips, so it is never asked to guess.
 */
static const struct {
	int		 num;
	const char	*name;
} h2stream_methods[] = {
#define H2STREAM_METHOD(num, name, string) { num, #string },
	HTTP_ALL_METHOD_MAP(H2STREAM_METHOD)
#undef H2STREAM_METHOD
};

static int
h2stream_method(const char *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(h2stream_methods) /
	    sizeof(h2stream_methods[0]); i++)
		if (strlen(h2stream_methods[i].name) == n &&
		    memcmp(h2stream_methods[i].name, v, n) == 0)
			return (h2stream_methods[i].num);
	return (-1);
}

static uint16_t
h2stream_status(const char *v, size_t n)
{
	if (n != 3 || v[0] < '1' || v[0] > '9' || v[1] < '0' || v[1] > '9' ||
	    v[2] < '0' || v[2] > '9')
		return (0);
	return ((uint16_t)((v[0] - '0') * 100 + (v[1] - '0') * 10 +
	    (v[2] - '0')));
}

/* Appends field i of the block to m's headers: its index there, or -1. */
static int
h2stream_copy_field(struct h2_conn *hc, const struct h2_block *b, uint32_t i,
    struct msg *m)
{
	const struct hdr	*f = &b->hdrs[i];
	struct hdr		*h;
	int			 at;

	if (msg_hdr_new(hc->s, m) == NULL)
		return (-1);
	at = (int)m->nhdrs - 1;
	if (!msg_text(hc->s, m, b->text + f->name_off, f->name_len)) {
		m->nhdrs--;
		return (-1);
	}
	/* found again after each append: the text's growth moves them */
	h = &msg_hdrs(m)[at];
	h->name_len = f->name_len;
	h->val_off = (uint16_t)m->textlen;
	if (msg_text(hc->s, m, b->text + f->val_off, f->val_len))
		msg_hdrs(m)[at].val_len = f->val_len;
	return (at);
}

/* Copies the block's fields into m's headers, in order, names as sent. */
static void
h2stream_copy(struct h2_conn *hc, const struct h2_block *b, struct msg *m)
{
	uint32_t	 i;

	for (i = 0; i < b->nhdrs; i++)
		if (h2stream_copy_field(hc, b, i, m) == -1)
			return;
}

/* The fields the engine reads, as http.c does for HTTP/1.x. */
enum h2stream_what {
	H2F_TYPE,		/* Content-Type */
	H2F_ENCODING,		/* Content-Encoding */
	H2F_CONDITIONAL,	/* a request's validator */
	H2F_SERVER,		/* a request's server name */
};

static const struct {
	const char	*name;
	size_t		 len;
	int		 what;
} h2stream_fields[] = {
	{ "content-type", 12, H2F_TYPE },
	{ "content-encoding", 16, H2F_ENCODING },
	{ "if-none-match", 13, H2F_CONDITIONAL },
	{ "if-modified-since", 17, H2F_CONDITIONAL },
	{ ":authority", 10, H2F_SERVER },
	{ "host", 4, H2F_SERVER },
};

/* What field i of the block is to the engine, or -1. */
static int
h2stream_what(const struct h2_block *b, uint32_t i)
{
	const struct hdr	*f = &b->hdrs[i];
	size_t			 k;

	for (k = 0; k < sizeof(h2stream_fields) / sizeof(h2stream_fields[0]);
	    k++)
		if (f->name_len == h2stream_fields[k].len &&
		    strncasecmp(b->text + f->name_off, h2stream_fields[k].name,
		    f->name_len) == 0)
			return (h2stream_fields[k].what);
	return (-1);
}

static int
h2stream_val_is(const struct h2_block *b, uint32_t i, const char *v)
{
	return (b->hdrs[i].val_len == strlen(v) &&
	    strncasecmp(b->text + b->hdrs[i].val_off, v, b->hdrs[i].val_len) ==
	    0);
}

/*
 * Reads the block's fields for the engine, before any is copied: the
 * indices of the first Content-Type and Content-Encoding go to ct and
 * ce (-1 if there is none).
 */
static void
h2stream_scan(struct h2_conn *hc, const struct h2_block *b, struct msg *m,
    struct txn *t, int dir, int *ct, int *ce)
{
	uint32_t	 i;

	*ct = *ce = -1;
	for (i = 0; i < b->nhdrs; i++) {
		switch (h2stream_what(b, i)) {
		case H2F_TYPE:
			if (*ct < 0)
				*ct = (int)i;
			break;
		case H2F_ENCODING:
			if (*ce >= 0)
				break;
			*ce = (int)i;
			if (h2stream_val_is(b, i, "gzip") ||
			    h2stream_val_is(b, i, "x-gzip") ||
			    h2stream_val_is(b, i, "deflate"))
				m->encoded = 1;
			break;
		case H2F_CONDITIONAL:
			if (dir == DIR_C2S)
				t->conditional = 1;
			break;
		case H2F_SERVER:
			if (dir == DIR_C2S)
				http_server_name(hc->s, hc->c->server,
				    b->text + b->hdrs[i].val_off,
				    b->hdrs[i].val_len);
			break;
		}
	}
}

/*
 * The block's fields into m: all of them, or for a session that keeps
 * no header lists, only the two a summary shows (as msg_lean leaves an
 * HTTP/1.x message), so that the rest is never copied.
 */
static void
h2stream_fields_copy(struct h2_conn *hc, const struct h2_block *b,
    struct msg *m, int ct, int ce)
{
	uint32_t	 i;

	if (!hc->s->cfg.no_headers) {
		h2stream_copy(hc, b, m);
		m->ct = ct < (int)m->nhdrs ? ct : -1;
		m->ce = ce < (int)m->nhdrs ? ce : -1;
		return;
	}
	for (i = 0; i < b->nhdrs; i++) {
		if ((int)i == ct)
			m->ct = h2stream_copy_field(hc, b, i, m);
		else if ((int)i == ce)
			m->ce = h2stream_copy_field(hc, b, i, m);
	}
}

/*
 * The start line's parts: the target first in the text, as http.c has
 * it. HTTP/1 has no method llhttp does not know (it refuses the
 * message); HTTP/2 may, and its text goes after the target, where a
 * request has no reason phrase.
 */
static void
h2stream_start_line(struct h2_conn *hc, const struct h2_block *b,
    struct msg *m, struct txn *t)
{
	int	 i, meth = -1, mi;

	if ((mi = h2stream_field(b, ":method")) >= 0 &&
	    (meth = h2stream_method(b->text + b->hdrs[mi].val_off,
	    b->hdrs[mi].val_len)) >= 0) {
		m->method = (uint8_t)meth;
		m->has_method = 1;
		t->head = meth == HTTP_HEAD;
		t->connect = meth == HTTP_CONNECT;
	}
	if ((i = h2stream_field(b, ":path")) < 0 && t->connect)
		i = h2stream_field(b, ":authority");
	if (i >= 0) {
		m->target_off = m->textlen;
		if (msg_text(hc->s, m, b->text + b->hdrs[i].val_off,
		    b->hdrs[i].val_len))
			m->target_len = b->hdrs[i].val_len;
	}
	if (mi >= 0 && meth < 0) {
		m->reason_off = m->textlen;
		if (msg_text(hc->s, m, b->text + b->hdrs[mi].val_off,
		    b->hdrs[mi].val_len))
			m->reason_len = b->hdrs[mi].val_len;
	}
	if ((i = h2stream_field(b, ":status")) >= 0)
		m->status = h2stream_status(b->text + b->hdrs[i].val_off,
		    b->hdrs[i].val_len);
}

static void
h2stream_interim(struct session *s, struct msg *m, uint16_t status)
{
	struct msg_rare	*r = msg_rare(s, m);

	if (r->ninterim < MSG_MAX_INTERIM)
		r->interim[r->ninterim++] = status;
}

/* Fills m, new or cleared, from a header block that starts a message. */
static void
h2stream_fill(struct h2_conn *hc, struct h2_dir *d, struct h2_stream *st,
    struct msg *m)
{
	const struct h2_block	*b = &d->blk;
	int			 ct, ce;

	m->start_us = b->us;
	m->first_frame = b->frame;
	m->last_frame = d->frame;
	m->packets = b->packets;
	m->header_bytes = msg_u32(b->wire);
	m->headers_split = b->frame != d->frame;
	m->vmajor = 2;
	m->vminor = 0;
	m->has_version = 1;
	msg_restart(m);
	m->target_len = m->reason_len = 0;
	m->ct = m->ce = -1;
	m->end_us = ENGINE_NOTIME;
	if (b->broken)
		msg_rare(hc->s, m)->error = "header block not decoded (HPACK)";
	h2stream_start_line(hc, b, m, st->txn);
	h2stream_scan(hc, b, m, st->txn, d->dir, &ct, &ce);
	h2stream_fields_copy(hc, b, m, ct, ce);
	msg_trim(hc->s, m);
	body_start(&st->body[d->dir], m);
}

static struct msg *
h2stream_msg_new(struct h2_conn *hc)
{
	struct msg	*m;

	m = session_alloc(hc->s, sizeof(*m));
	m->end_us = ENGINE_NOTIME;
	m->ct = m->ce = -1;
	return (m);
}

/* Trailers: the block's fields after the message's own. */
static void
h2stream_trailers(struct h2_conn *hc, struct h2_dir *d, struct msg *m)
{
	h2stream_touch(d, m);
	m->header_bytes = msg_u32((uint64_t)m->header_bytes + d->blk.wire);
	if (!hc->s->cfg.no_headers)
		h2stream_copy(hc, &d->blk, m);
}

/* A message's last byte came (END_STREAM), or the stream ended. */
static void
h2stream_msg_end(struct h2_conn *hc, struct h2_dir *d, struct h2_stream *st)
{
	struct msg	*m = h2stream_msg(st, d->dir);

	st->ended[d->dir] = 1;
	if (m == NULL)
		return;
	h2stream_touch(d, m);
	m->end_us = d->us;
	m->last_frame = d->frame;
	m->complete = !m->gapped && msg_rare_of(m)->error == NULL;
	body_end(hc->s, &st->body[d->dir], m);
	if (d->dir == DIR_S2C) {
		st->txn->not_modified = m->status == 304;
		session_txn_done(hc->s, st->txn);
	}
}

static void
h2stream_request(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_stream	*st = h2stream_find(hc, d->blk.sid);

	if (st == NULL && (h2stream_closed(hc, d->blk.sid) ||
	    (st = h2stream_new(hc, d->blk.sid, NULL)) == NULL))
		return;
	if (st->txn->req != NULL) {
		h2stream_trailers(hc, d, st->txn->req);
		return;
	}
	st->txn->req = h2stream_msg_new(hc);
	h2stream_fill(hc, d, st, st->txn->req);
}

static void
h2stream_response(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_stream	*st = h2stream_find(hc, d->blk.sid);
	struct msg		*m;

	if (st == NULL && (h2stream_closed(hc, d->blk.sid) ||
	    (st = h2stream_new(hc, d->blk.sid, NULL)) == NULL))
		return;
	if ((m = st->txn->resp) != NULL && m->status >= 200) {
		h2stream_trailers(hc, d, m);
		return;
	}
	if (m == NULL)
		m = st->txn->resp = h2stream_msg_new(hc);
	h2stream_fill(hc, d, st, m);
	if (m->status >= 100 && m->status < 200) {
		h2stream_interim(hc->s, m, m->status);
		m->status = 0;
	}
}

/* PUSH_PROMISE: the server's request on the client's behalf. */
static void
h2stream_promise(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_stream	*st;
	struct msg		*m;

	if (d->blk.promised == 0 || h2stream_find(hc, d->blk.promised) != NULL ||
	    h2stream_closed(hc, d->blk.promised))
		return;
	if ((st = h2stream_new(hc, d->blk.promised, NULL)) == NULL)
		return;
	hc->info->pushed++;
	st->txn->pushed = 1;
	m = st->txn->req = h2stream_msg_new(hc);
	h2stream_fill(hc, d, st, m);
	m->end_us = d->us;
	m->last_frame = d->frame;
	m->complete = msg_rare_of(m)->error == NULL;
	st->ended[DIR_C2S] = 1;
}

static void
h2stream_block_end(struct h2_conn *hc, struct h2_dir *d)
{
	d->block_open = 0;
	if (d->blk.type == H2_PUSH_PROMISE) {
		h2stream_promise(hc, d);
		return;
	}
	if (d->dir == DIR_C2S)
		h2stream_request(hc, d);
	else
		h2stream_response(hc, d);
	if (d->blk.end_stream)
		h2stream_end(hc, d, d->blk.sid);
}

static void
h2stream_inflate(struct h2_conn *hc, struct h2_dir *d, const u_char *p,
    size_t n, int final)
{
	nghttp2_nv	 nv;
	ssize_t		 r;
	int		 flags;

	for (;;) {
		flags = 0;
		r = nghttp2_hd_inflate_hd2(d->inf, &nv, &flags, p, n, final);
		if (r < 0) {
			hc->info->hpack_errors++;
			hc->s->c.parse_errors++;
			d->hpack_broken = 1;
			d->blk.broken = 1;
			return;
		}
		p += r;
		n -= (size_t)r;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			h2stream_block_add(hc, &d->blk, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inf);
			return;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
			return;
	}
}

void
h2stream_block_bytes(struct h2_conn *hc, struct h2_dir *d, const u_char *p,
    size_t n, int final)
{
	struct h2_block	*b = &d->blk;

	if (b->seen_frame != d->frame) {
		b->seen_frame = d->frame;
		b->packets++;
	}
	if (!b->broken)
		h2stream_inflate(hc, d, p, n, final);
	if (final)
		h2stream_block_end(hc, d);
}

/*
 * A block left unfinished: the inflater stopped in its middle, so its
 * table is not known any more and no later block of d is decoded.
 */
void
h2stream_block_abandon(struct h2_conn *hc, struct h2_dir *d)
{
	if (!d->block_open)
		return;
	d->block_open = 0;
	d->hpack_broken = 1;
}

/* Flow control: a DATA frame spends both its sender's windows. */
void
h2stream_data_begin(struct h2_conn *hc, struct h2_dir *d)
{
	struct h2_stream	*st = h2stream_find(hc, d->sid);
	int			 more = !(d->flags & H2_F_END_STREAM);

	hc->info->d[d->dir].data_bytes += d->len;
	d->win -= d->len;
	if (more && d->win <= 0 && d->stall_since == ENGINE_NOTIME) {
		d->stall_since = d->frame_us;
		hc->info->d[d->dir].stalls++;
	}
	if (st == NULL)
		return;
	st->win[d->dir] -= d->len;
	if (more && st->win[d->dir] <= 0 &&
	    st->stall_since[d->dir] == ENGINE_NOTIME) {
		st->stall_since[d->dir] = d->frame_us;
		h2_txn(hc->s, st->txn)->stalls++;
	}
}

void
h2stream_data(struct h2_conn *hc, struct h2_dir *d, const u_char *p,
    size_t n)
{
	struct h2_stream	*st = h2stream_find(hc, d->sid);
	struct msg		*m;

	if (st == NULL || (m = h2stream_msg(st, d->dir)) == NULL)
		return;
	h2stream_touch(d, m);
	body_data(hc->s, &st->body[d->dir], m, p, n, BODY_HINT_NONE);
}

void
h2stream_data_gap(struct h2_conn *hc, struct h2_dir *d, uint64_t bytes)
{
	struct h2_stream	*st = h2stream_find(hc, d->sid);
	struct msg		*m;

	if (st == NULL || (m = h2stream_msg(st, d->dir)) == NULL)
		return;
	body_stop(hc->s, &st->body[d->dir]);
	m->gapped = 1;
	m->body_bytes += bytes;
}

void
h2stream_end(struct h2_conn *hc, struct h2_dir *d, uint32_t sid)
{
	struct h2_stream	*st = h2stream_find(hc, sid);

	if (st == NULL)
		return;
	h2stream_msg_end(hc, d, st);
	if (st->ended[0] && st->ended[1])
		h2stream_close(hc, st);
}

void
h2stream_reset(struct h2_conn *hc, struct h2_dir *d, uint32_t sid,
    uint32_t code)
{
	struct h2_stream	*st = h2stream_find(hc, sid);

	if (st == NULL)
		return;
	if (st->txn->reset_by == 0) {
		st->txn->reset_by = d->dir == DIR_C2S ? 1 : 2;
		h2_txn(hc->s, st->txn)->reset_code = code;
	}
	/*
	 * The server may have answered before the client's RST_STREAM
	 * reached it (a browser cancels its favicon so): what it sent is
	 * read into the stream until it ends it. Nothing more comes from
	 * the client.
	 */
	if (d->dir == DIR_C2S && !st->ended[DIR_S2C]) {
		if (!st->ended[DIR_C2S])
			body_stop(hc->s, &st->body[DIR_C2S]);
		st->ended[DIR_C2S] = 1;
		st->cancelled = 1;
		return;
	}
	h2stream_close(hc, st);
}

/* Credit returned to a sender: a stall on it ends when it is positive. */
static void
h2stream_credit(int64_t *win, uint64_t *since, uint64_t *total,
    int64_t inc, uint64_t us)
{
	*win += inc;
	if (*win > 0 && *since != ENGINE_NOTIME) {
		*total += us > *since ? us - *since : 0;
		*since = ENGINE_NOTIME;
	}
}

void
h2stream_window(struct h2_conn *hc, struct h2_dir *d, uint32_t sid,
    uint32_t inc)
{
	struct h2_dir		*o = &hc->d[d->dir ^ 1];
	struct h2_stream	*st;

	if (sid == 0) {
		h2stream_credit(&o->win, &o->stall_since,
		    &hc->info->d[o->dir].stall_us, inc, d->frame_us);
		return;
	}
	if ((st = h2stream_find(hc, sid)) != NULL)
		h2stream_credit(&st->win[o->dir], &st->stall_since[o->dir],
		    &h2_txn(hc->s, st->txn)->stall_us, inc, d->frame_us);
}

/* SETTINGS_INITIAL_WINDOW_SIZE changed every open stream's window. */
void
h2stream_initial_window(struct h2_conn *hc, int dir, int64_t delta)
{
	size_t	 i;

	for (i = 0; i < hc->nst; i++)
		h2stream_credit(&hc->st[i]->win[dir],
		    &hc->st[i]->stall_since[dir],
		    &h2_txn(hc->s, hc->st[i]->txn)->stall_us,
		    delta, hc->d[dir ^ 1].frame_us);
}

/*
 * A direction ended: what it was sending is cut short. When the
 * server's ends, every stream is over.
 */
void
h2stream_eof(struct h2_conn *hc, int dir)
{
	struct h2_stream	*st;
	size_t			 i;

	for (i = 0; i < hc->nst; i++) {
		st = hc->st[i];
		if (!st->ended[dir])
			body_stop(hc->s, &st->body[dir]);
		st->ended[dir] = 1;
	}
	if (dir == DIR_S2C)
		while (hc->nst > 0)
			h2stream_close(hc, hc->st[hc->nst - 1]);
}

/*
 * Upgrade: h2c. The HTTP/1.1 request is stream 1's; its 101 becomes an
 * interim response and the HTTP/2 response on stream 1 the final one.
 */
void
h2stream_upgraded(struct h2_conn *hc, struct txn *t)
{
	struct h2_stream	*st;
	struct msg		*m = t->resp;

	if ((st = h2stream_new(hc, 1, t)) == NULL)
		return;
	st->ended[DIR_C2S] = 1;
	if (m != NULL && m->status == 101) {
		h2stream_interim(hc->s, m, 101);
		m->status = 0;
		m->complete = 0;
	}
}
