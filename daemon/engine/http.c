/*
 * http.c: HTTP/1.x on one connection. Each direction has its own llhttp
 * parser (requests client->server, responses server->client) fed the
 * reassembled bytes in place; callbacks build the messages, pair.c
 * pairs each response with the oldest unanswered request (interim 1xx
 * responses do not advance it), and compressed bodies are inflated only
 * to measure them and keep their first bytes (body.c). After a gap or a parse
 * error a direction skips to the next line that starts a message; a gap
 * between messages tells pair.c that a message start was lost.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Every stored string
 * and header is bounded (MSG_MAX_TEXT, MSG_MAX_HEADERS) and counted.
 */
#include <sys/types.h>

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "http.h"
#include "msg.h"
#include "pair.h"
#include "xmalloc.h"


#define HTTP_PROBE_BYTES	16	/* more than the longest method + SP */


struct http_conn;

struct http_dir {
	llhttp_t		 p;
	struct http_conn	*hc;
	int			 dir;
	int			 mode;
	int			 at_line;	/* last byte seen was '\n' */
	int			 hdr_skip;	/* this header is past the bound */
	struct msg		*msg;		/* message being parsed */
	struct txn		*txn;		/* its transaction */
	uint64_t		 off;		/* stream offset of buf */
	uint64_t		 msg_off;	/* of the message's first byte */
	const char		*buf;
	uint64_t		 us;
	uint32_t		 frame;
	struct body_dec		 body;
	u_char			 probe[HTTP_PROBE_BYTES];
	size_t			 probelen;
	uint64_t		 probe_us;	/* when the first byte came */
	uint32_t		 probe_frame;
};

struct http_conn {
	struct session		*s;
	struct conn		*c;
	struct http_dir		 d[2];
	struct pair		 pair;
	struct txn		*h2c;		/* switched to HTTP/2 after it */
};

static const char *http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",
	"LOCK", "UNLOCK", "REPORT", "SEARCH", "PURGE", "MKCALENDAR",
};

static llhttp_settings_t	 http_settings;
static int			 http_settings_ready;

static void	http_settings_init(void);

/* A method token and a space at p, from the list above. */
static int
http_is_request(const u_char *p, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		n = strlen(http_methods[i]);
		if (len > n && p[n] == ' ' && memcmp(p, http_methods[i], n) == 0)
			return (1);
	}
	return (0);
}

static int
http_is_response(const u_char *p, size_t len)
{
	return (len >= 7 && memcmp(p, "HTTP/1.", 7) == 0);
}

/*
 * Whether the first bytes of a stream can start a message of this side:
 * 1 yes, 0 no, -1 too few bytes to tell yet.
 */
static int
http_prefix(const u_char *p, size_t len, int dir)
{
	size_t	 i, n;

	if (http_looks(p, len, dir))
		return (1);
	if (dir == DIR_S2C)
		return (len < 7 && memcmp(p, "HTTP/1.", len) == 0 ? -1 : 0);
	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		n = strlen(http_methods[i]);
		if (len <= n && memcmp(p, http_methods[i], len) == 0)
			return (-1);
	}
	return (0);
}

int
http_looks(const u_char *p, size_t len, int dir)
{
	if (dir == DIR_C2S)
		return (http_is_request(p, len));
	return (http_is_response(p, len));
}

/*
 * A message starts at offset 0 (when at_start) or right after a '\n'.
 * Returns its offset and sets *dir to who sends it, or -1.
 */
long
http_find_start(const u_char *p, size_t len, int at_start, int *dir)
{
	const u_char	*q = p, *end = p + len;

	if (!at_start) {
		if ((q = memchr(p, '\n', len)) == NULL)
			return (-1);
		q++;
	}
	while (q < end) {
		if (http_is_request(q, (size_t)(end - q))) {
			*dir = DIR_C2S;
			return (q - p);
		}
		if (http_is_response(q, (size_t)(end - q))) {
			*dir = DIR_S2C;
			return (q - p);
		}
		if ((q = memchr(q, '\n', (size_t)(end - q))) == NULL)
			break;
		q++;
	}
	return (-1);
}

/*
 * An observer must take what the peers accepted: bare LF line ends and
 * data after "Connection: close" are parsed, not rejected.
 */
static void
http_lenient(llhttp_t *p)
{
	llhttp_set_lenient_headers(p, 1);
	llhttp_set_lenient_keep_alive(p, 1);
}

/*
 * start: HTTP_PARSE, HTTP_RESYNC (picked up mid-stream) or HTTP_PROBE
 * (no ports configured: the first bytes decide).
 */
struct http_conn *
http_conn_new(struct session *s, struct conn *c, int start)
{
	struct http_conn	*hc;
	int			 i;

	http_settings_init();
	hc = xcalloc(1, sizeof(*hc));
	session_charge(s, session_size(hc));
	hc->s = s;
	hc->c = c;
	for (i = 0; i < 2; i++) {
		hc->d[i].hc = hc;
		hc->d[i].dir = i;
		hc->d[i].mode = start;
		hc->d[i].at_line = 0;
		llhttp_init(&hc->d[i].p, i == DIR_C2S ? HTTP_REQUEST :
		    HTTP_RESPONSE, &http_settings);
		http_lenient(&hc->d[i].p);
		hc->d[i].p.data = &hc->d[i];
	}
	return (hc);
}

void
http_conn_free(struct session *s, struct http_conn *hc)
{
	body_stop(s, &hc->d[0].body);
	body_stop(s, &hc->d[1].body);
	pair_free(s, &hc->pair);
	session_uncharge(s, session_size(hc));
	free(hc);
}

void
http_msg_free(struct session *s, struct msg *m)
{
	if (m == NULL)
		return;
	session_uncharge(s, body_free(m));
}

static struct msg *
http_msg_new(struct http_dir *hd)
{
	struct msg	*m;

	m = session_alloc(hd->hc->s, sizeof(*m));
	m->end_us = ENGINE_NOTIME;
	m->ct = m->ce = -1;
	return (m);
}

/* (Re)starts m at the current packet; interim parts are forgotten. */
static void
http_msg_start(struct http_dir *hd, struct msg *m)
{
	m->start_us = hd->us;
	m->first_frame = hd->frame;
	m->last_frame = hd->frame;
	m->packets = 1;
	msg_restart(m);
	m->target_len = m->reason_len = 0;
	m->ct = m->ce = -1;
	m->in_headers = 1;
	m->in_value = 0;
}

static void
http_touch(struct http_dir *hd, struct msg *m)
{
	if (m->last_frame != hd->frame) {
		m->last_frame = hd->frame;
		m->packets++;
	}
}

static int
http_on_begin(llhttp_t *p)
{
	struct http_dir		*hd = p->data;
	struct http_conn	*hc = hd->hc;
	struct http_dir		*sd = &hc->d[DIR_S2C];
	struct txn		*t, *prev = NULL;

	hd->msg = NULL;
	hd->txn = NULL;
	if (hd->dir == DIR_C2S) {
		if (hc->c->ntxns > 0)
			prev = hc->s->txns[hc->c->txns[hc->c->ntxns - 1] - 1];
		if ((t = session_txn_new(hc->s, hc->c)) == NULL) {
			pair_dropped(&hc->pair);
			return (HPE_PAUSED);
		}
		t->req = http_msg_new(hd);
		t->pipelined = pair_pipelined(&hc->pair, prev,
		    sd->mode == HTTP_PARSE && sd->msg == NULL, sd->off);
		pair_push(hc->s, &hc->pair, t);
	} else {
		if ((t = pair_response(hc->s, &hc->pair, hc->c)) == NULL)
			return (HPE_PAUSED);
		if (t->resp == NULL)
			t->resp = http_msg_new(hd);
	}
	hd->txn = t;
	hd->msg = hd->dir == DIR_C2S ? t->req : t->resp;
	http_msg_start(hd, hd->msg);
	return (HPE_PAUSED);	/* so the loop learns where it starts */
}

static int
http_on_url(llhttp_t *p, const char *at, size_t n)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;

	if (m == NULL)
		return (0);
	m->method = p->method;
	m->has_method = 1;
	if (m->target_len == 0)
		m->target_off = m->textlen;
	if (m->target_off + m->target_len == m->textlen &&
	    msg_text(hd->hc->s, m, at, n))
		m->target_len += (uint32_t)n;
	return (0);
}

static int
http_on_status(llhttp_t *p, const char *at, size_t n)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;

	if (m == NULL)
		return (0);
	if (m->reason_len == 0)
		m->reason_off = m->textlen;
	if (m->reason_off + m->reason_len == m->textlen &&
	    msg_text(hd->hc->s, m, at, n))
		m->reason_len += (uint32_t)n;
	return (0);
}

/* Names and values may arrive in pieces; each piece is appended. */
static int
http_on_field(llhttp_t *p, const char *at, size_t n)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;
	struct hdr	*h;

	if (m == NULL)
		return (0);
	if (m->in_value || m->nhdrs == 0) {
		m->in_value = 0;
		hd->hdr_skip = msg_hdr_new(hd->hc->s, m) == NULL;
	}
	if (hd->hdr_skip)
		return (0);
	h = &msg_hdrs(m)[m->nhdrs - 1];
	if (h->name_off + h->name_len == m->textlen && h->val_len == 0 &&
	    msg_text(hd->hc->s, m, at, n)) {
		h = &msg_hdrs(m)[m->nhdrs - 1];	/* msg_text may move them */
		h->name_len += (uint16_t)n;
		h->val_off = (uint16_t)m->textlen;
	}
	return (0);
}

static int
http_on_value(llhttp_t *p, const char *at, size_t n)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;
	struct hdr	*h;

	if (m == NULL || m->nhdrs == 0)
		return (0);
	if (hd->hdr_skip) {
		/* a header past the bound: its value goes with it */
		m->in_value = 1;
		return (0);
	}
	h = &msg_hdrs(m)[m->nhdrs - 1];
	if (!m->in_value) {
		m->in_value = 1;
		h->val_off = (uint16_t)m->textlen;
	}
	if (h->val_off + h->val_len == m->textlen &&
	    msg_text(hd->hc->s, m, at, n))
		msg_hdrs(m)[m->nhdrs - 1].val_len += (uint16_t)n;
	return (0);
}

/* Server name from the first Host header: the port is stripped. */
void
http_server_name(struct session *s, struct server *srv, const char *v,
    size_t n)
{
	size_t	 i;

	if (srv == NULL || srv->name != NULL || n == 0)
		return;
	for (i = n; i > 0 && v[i - 1] >= '0' && v[i - 1] <= '9'; i--)
		;
	if (i > 1 && i < n && v[i - 1] == ':' &&
	    (memchr(v, ':', i - 1) == NULL || v[i - 2] == ']'))
		n = i - 1;
	if (n > 255)
		n = 255;
	srv->name = xmalloc(n + 1);
	memcpy(srv->name, v, n);
	srv->name[n] = '\0';
	srv->namelen = n;
	session_charge(s, session_size(srv->name));
}

static void
http_headers_scan(struct http_dir *hd, struct msg *m, struct txn *t)
{
	struct conn	*c = hd->hc->c;
	struct hdr	*h;
	uint32_t	 i;

	for (i = 0; i < m->nhdrs; i++) {
		h = &msg_hdrs(m)[i];
		if (m->ct < 0 && msg_hdr_is(m, h, "content-type"))
			m->ct = (int)i;
		else if (m->ce < 0 && msg_hdr_is(m, h, "content-encoding")) {
			m->ce = (int)i;
			if (msg_val_is(m, h, "gzip") ||
			    msg_val_is(m, h, "x-gzip") ||
			    msg_val_is(m, h, "deflate"))
				m->encoded = 1;
		} else if (hd->dir == DIR_C2S && (msg_hdr_is(m, h,
		    "if-none-match") || msg_hdr_is(m, h, "if-modified-since")))
			t->conditional = 1;
		else if (hd->dir == DIR_C2S && msg_hdr_is(m, h, "host"))
			http_server_name(hd->hc->s, c->server,
			    m->text + h->val_off, h->val_len);
		else if (hd->dir == DIR_C2S && msg_hdr_is(m, h, "upgrade") &&
		    msg_val_is(m, h, "h2c"))
			t->h2c = 1;
	}
}

/*
 * Pauses (so the loop learns where the header block ends) after telling
 * llhttp what it cannot know itself: a response to HEAD has no body, a
 * 2xx to CONNECT starts a tunnel.
 */
static int
http_on_headers(llhttp_t *p)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;
	struct txn	*t = hd->txn;

	if (m == NULL)
		return (HPE_PAUSED);
	m->in_headers = 0;
	m->vmajor = p->http_major;
	m->vminor = p->http_minor;
	m->has_version = 1;
	m->headers_split = m->first_frame != hd->frame;
	if (p->flags & F_CONNECTION_CLOSE)
		t->conn_close = 1;
	if (p->flags & F_CHUNKED)
		m->chunked = 1;
	if (hd->dir == DIR_C2S) {
		m->method = p->method;
		m->has_method = 1;
		t->head = p->method == HTTP_HEAD;
		t->connect = p->method == HTTP_CONNECT;
	} else {
		m->status = p->status_code;
		if (t->head)
			p->flags |= F_SKIPBODY;
		if (t->connect && m->status >= 200 && m->status < 300) {
			p->upgrade = 1;
			p->flags |= F_SKIPBODY;
		}
	}
	http_headers_scan(hd, m, t);
	if (hd->hc->s->cfg.no_headers)
		msg_lean(m);
	msg_trim(hd->hc->s, m);
	body_start(&hd->body, m);
	return (HPE_PAUSED);
}

static int
http_on_body(llhttp_t *p, const char *at, size_t n)
{
	struct http_dir	*hd = p->data;

	if (hd->msg != NULL)
		body_data(hd->hc->s, &hd->body, hd->msg, (const u_char *)at, n,
		    (p->flags & F_CONTENT_LENGTH) ? p->content_length :
		    BODY_HINT_NONE);
	return (0);
}

/* A response ends its transaction unless it was an interim 1xx. */
static void
http_response_done(struct http_dir *hd, struct msg *m, struct txn *t)
{
	struct http_conn	*hc = hd->hc;
	struct msg_rare		*r;

	if (m->status >= 100 && m->status < 200 && m->status != 101) {
		r = msg_rare(hc->s, m);
		if (r->ninterim < MSG_MAX_INTERIM)
			r->interim[r->ninterim++] = m->status;
		m->status = 0;
		m->complete = 0;
		m->end_us = ENGINE_NOTIME;
		return;
	}
	t->not_modified = m->status == 304;
	if (m->status == 101 && t->h2c) {
		/* HTTP/2 from the next byte; stream 1 answers t (h2.c). */
		t->upgrade = 1;
		hc->h2c = t;
		hc->d[0].mode = hc->d[1].mode = HTTP_OFF;
		if (pair_front(&hc->pair) == t)
			pair_pop(&hc->pair);
		return;
	}
	if (m->status == 101 || (t->connect && m->status >= 200 &&
	    m->status < 300)) {
		t->upgrade = 1;
		hc->c->flags |= CONN_F_TUNNEL;
		hc->d[0].mode = hc->d[1].mode = HTTP_TUNNEL;
	}
	if (pair_front(&hc->pair) == t)
		pair_pop(&hc->pair);
	session_txn_done(hc->s, t);
}

static int
http_on_complete(llhttp_t *p)
{
	struct http_dir	*hd = p->data;
	struct msg	*m = hd->msg;
	struct txn	*t = hd->txn;

	if (m == NULL)
		return (0);
	http_touch(hd, m);
	m->end_us = hd->us;
	m->last_frame = hd->frame;
	m->complete = !m->gapped;	/* its end, but not all its bytes */
	body_end(hd->hc->s, &hd->body, m);
	if (hd->dir == DIR_S2C)
		http_response_done(hd, m, t);
	hd->msg = NULL;
	hd->txn = NULL;
	return (0);
}

static void
http_settings_init(void)
{
	if (http_settings_ready)
		return;
	llhttp_settings_init(&http_settings);
	http_settings.on_message_begin = http_on_begin;
	http_settings.on_url = http_on_url;
	http_settings.on_status = http_on_status;
	http_settings.on_header_field = http_on_field;
	http_settings.on_header_value = http_on_value;
	http_settings.on_headers_complete = http_on_headers;
	http_settings.on_body = http_on_body;
	http_settings.on_message_complete = http_on_complete;
	http_settings_ready = 1;
}

/* The message in progress will not be finished (gap, error, end). */
static void
http_abandon(struct http_dir *hd)
{
	struct msg	*m = hd->msg;
	struct txn	*t = hd->txn;

	body_stop(hd->hc->s, &hd->body);
	hd->msg = NULL;
	hd->txn = NULL;
	if (m == NULL)
		return;
	m->complete = 0;
	if (hd->dir == DIR_S2C && t != NULL) {
		if (pair_front(&hd->hc->pair) == t)
			pair_pop(&hd->hc->pair);
		session_txn_done(hd->hc->s, t);
	}
}

static void
http_restart(struct http_dir *hd)
{
	llhttp_init(&hd->p, hd->dir == DIR_C2S ? HTTP_REQUEST : HTTP_RESPONSE,
	    &http_settings);
	http_lenient(&hd->p);
	hd->p.data = hd;
}

/*
 * A parse error: keep the message with its reason and resync after the
 * byte that failed. Returns the bytes of buf consumed.
 */
static size_t
http_error(struct http_dir *hd, const char *buf, const char *pos)
{
	struct session	*s = hd->hc->s;

	s->c.parse_errors++;
	if (hd->msg != NULL)
		msg_rare(s, hd->msg)->error = llhttp_get_error_reason(&hd->p);
	http_abandon(hd);
	http_restart(hd);
	hd->mode = HTTP_RESYNC;
	hd->at_line = *pos == '\n';
	return ((size_t)(pos - buf) + 1);
}

/*
 * Runs llhttp over buf, handling the pauses the callbacks ask for.
 * Returns the bytes consumed: all of them unless an error or an upgrade
 * changed the mode.
 */
static size_t
http_exec(struct http_dir *hd, const char *buf, size_t len)
{
	const char	*cur = buf, *end = buf + len, *pos;
	llhttp_errno_t	 err;

	/*
	 * After a pause llhttp runs again even with nothing left: what
	 * follows the header block (a message without body completing) must
	 * not wait for the next packet.
	 */
	while (hd->mode == HTTP_PARSE) {
		err = llhttp_execute(&hd->p, cur, (size_t)(end - cur));
		if (err == HPE_OK) {
			cur = end;
			break;
		}
		pos = llhttp_get_error_pos(&hd->p);
		if (pos == NULL || pos < cur || pos > end)
			pos = end;
		if (err == HPE_PAUSED) {
			if (hd->msg != NULL && hd->msg->in_headers)
				hd->msg_off = hd->off + (uint64_t)(pos - buf);
			else if (hd->msg != NULL)
				hd->msg->header_bytes = msg_u32(hd->off +
				    (uint64_t)(pos - buf) - hd->msg_off);
			llhttp_resume(&hd->p);
		} else if (err == HPE_PAUSED_UPGRADE) {
			if (hd->mode == HTTP_PARSE)
				llhttp_resume_after_upgrade(&hd->p);
		} else {
			if (pos == end)
				pos = end - 1;
			return (http_error(hd, buf, pos));
		}
		cur = pos;
	}
	if (hd->msg != NULL)
		http_touch(hd, hd->msg);
	return ((size_t)(cur - buf));
}

/*
 * Resync: skips to the next line that starts a message of this side
 * and switches back to parsing there. Returns the bytes skipped.
 */
static size_t
http_scan(struct http_dir *hd, const u_char *p, size_t len)
{
	const u_char	*q = p, *end = p + len, *nl;

	while (q < end) {
		if (hd->at_line && http_looks(q, (size_t)(end - q), hd->dir)) {
			hd->mode = HTTP_PARSE;
			if (hd->dir == DIR_S2C)
				pair_resync(hd->hc->s, &hd->hc->pair, 1,
				    hd->off + (uint64_t)(q - p), hd->us,
				    hd->frame);
			return ((size_t)(q - p));
		}
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL) {
			hd->at_line = 0;
			return (len);
		}
		q = nl + 1;
		hd->at_line = 1;
	}
	return (len);
}

static size_t	http_feed(struct http_conn *, int, const u_char *, size_t,
		    uint64_t, uint32_t);

/*
 * Keeps a stream's first bytes until they say whether it is HTTP. On
 * yes, both directions replay what they kept; on no, the connection is
 * marked not_http and nothing more is parsed. Returns the bytes of p
 * that were kept (and so already handled).
 */
static size_t
http_probe(struct http_conn *hc, int dir, const u_char *p, size_t len,
    uint64_t us, uint32_t frame)
{
	struct http_dir	*hd = &hc->d[dir];
	size_t		 n, i;
	int		 r;

	n = HTTP_PROBE_BYTES - hd->probelen;
	if (n > len)
		n = len;
	if (hd->probelen == 0) {
		hd->probe_us = us;
		hd->probe_frame = frame;
	}
	memcpy(hd->probe + hd->probelen, p, n);
	hd->probelen += n;
	if ((r = http_prefix(hd->probe, hd->probelen, dir)) == -1)
		return (n);
	for (i = 0; i < 2; i++)
		hc->d[i].mode = r ? HTTP_PARSE : HTTP_OFF;
	if (!r) {
		hc->c->flags |= CONN_F_NOT_HTTP;
		return (n);
	}
	for (i = 0; i < 2; i++) {
		if (hc->d[i].probelen > 0)
			http_feed(hc, (int)i, hc->d[i].probe,
			    hc->d[i].probelen, hc->d[i].probe_us,
			    hc->d[i].probe_frame);
		hc->d[i].probelen = 0;
	}
	return (n);
}

size_t
http_data(struct session *s, struct http_conn *hc, int dir, const u_char *p,
    size_t len, uint64_t us, uint32_t frame)
{
	size_t	 n = 0;

	if (hc->h2c != NULL)
		return (0);
	if (hc->d[dir].mode == HTTP_PROBE)
		n = http_probe(hc, dir, p, len, us, frame);
	if (n < len)
		n += http_feed(hc, dir, p + n, len - n, us, frame);
	return (hc->h2c != NULL ? n : len);
}

struct txn *
http_h2c(const struct http_conn *hc)
{
	return (hc->h2c);
}

/* Returns the bytes parsed or skipped, up to a switch to HTTP/2. */
static size_t
http_feed(struct http_conn *hc, int dir, const u_char *p, size_t len,
    uint64_t us, uint32_t frame)
{
	struct http_dir	*hd = &hc->d[dir];
	size_t		 done = 0, n;
	int		 mode;

	hd->us = us;
	hd->frame = frame;
	/*
	 * Senders start a message in a new segment more often than not:
	 * while resyncing, a segment's first byte is a candidate start as
	 * much as a line's (a body need not end in a newline).
	 */
	if (hd->mode == HTTP_RESYNC)
		hd->at_line = 1;
	while (done < len && ((mode = hd->mode) == HTTP_PARSE ||
	    mode == HTTP_RESYNC)) {
		if (mode == HTTP_PARSE)
			n = http_exec(hd, (const char *)p + done, len - done);
		else
			n = http_scan(hd, p + done, len - done);
		hd->off += n;
		done += n;
		if (n == 0 && hd->mode == mode)
			break;
	}
	if (hc->h2c != NULL)
		return (done);
	hd->off += len - done;
	return (len);
}

/*
 * Inside a body whose length llhttp tracks (Content-Length, or until
 * close) a hole can be stepped over by feeding as many zero bytes: the
 * framing stays right and the next message parses. The body's content
 * is then unknown, so decoding it stops. A body that runs until close
 * takes all that comes and llhttp walks it byte by byte: one buffer of
 * zeros is fed and the rest only counted, as feeding it would change
 * nothing else. Returns the bytes of the hole stepped over; any beyond
 * the body's end lie between messages.
 */
static uint64_t
http_skip(struct http_dir *hd, uint64_t bytes)
{
	static const char	 zero[4096];
	struct msg		*m = hd->msg;
	uint64_t		 left;
	size_t			 n;

	if (m == NULL || m->in_headers || m->chunked)
		return (0);
	if (llhttp_message_needs_eof(&hd->p))
		left = bytes;
	else if (hd->p.flags & F_CONTENT_LENGTH)
		left = hd->p.content_length < bytes ? hd->p.content_length :
		    bytes;
	else
		return (0);
	body_stop(hd->hc->s, &hd->body);
	m->gapped = 1;
	if (left > 0)
		msg_rare(hd->hc->s, m)->lost_bytes += left;
	bytes = left;
	while (left > 0) {
		n = left < sizeof(zero) ? (size_t)left : sizeof(zero);
		if (hd->mode == HTTP_PARSE)
			http_exec(hd, zero, n);
		hd->off += n;
		left -= n;
		if (left > 0 && hd->mode == HTTP_PARSE && hd->msg == m &&
		    llhttp_message_needs_eof(&hd->p)) {
			m->body_bytes += left;
			hd->off += left;
			left = 0;
		}
	}
	return (bytes);
}

/*
 * A hole of bytes in the stream of dir. Inside a body it is stepped
 * over; otherwise the direction resyncs at the next message start, and
 * a hole between messages held the start of one: pair.c learns which.
 */
void
http_gap(struct session *s, struct http_conn *hc, int dir, uint64_t bytes,
    uint64_t us, uint32_t frame)
{
	struct http_dir	*hd = &hc->d[dir];
	int		 between;

	if (hd->mode != HTTP_PARSE && hd->mode != HTTP_RESYNC)
		return;
	hd->us = us;
	hd->frame = frame;
	if (hd->mode == HTTP_PARSE && (bytes -= http_skip(hd, bytes)) == 0)
		return;
	between = hd->mode == HTTP_PARSE && hd->msg == NULL;
	http_abandon(hd);
	http_restart(hd);
	hd->mode = HTTP_RESYNC;
	hd->at_line = 1;	/* a segment after a hole often starts one */
	if (between && dir == DIR_C2S)
		pair_request_hole(s, &hc->pair, hc->c);
	else if (dir == DIR_S2C && (between || hc->pair.lost))
		pair_response_hole(&hc->pair, bytes, us, frame);
	hd->off += bytes;
}

/*
 * The client acknowledged the server's stream up to ahead bytes past
 * what was handed on (negative: short of it).
 */
void
http_acked(struct http_conn *hc, int32_t ahead)
{
	uint64_t	 off = hc->d[DIR_S2C].off;

	if (ahead < 0 && (uint64_t)-(int64_t)ahead > off)
		return;
	pair_acked(&hc->pair, off + (uint64_t)(int64_t)ahead);
}

/*
 * The direction's stream ended. On a real close llhttp may finish a
 * body delimited by it; at the end of the capture nothing is assumed.
 */
void
http_eof(struct session *s, struct http_conn *hc, int dir, uint64_t us,
    uint32_t frame, int closed)
{
	struct http_dir	*hd = &hc->d[dir];

	if (dir == DIR_S2C && hc->pair.lost)
		pair_resync(s, &hc->pair, 0, 0, us, frame);
	if (hd->mode != HTTP_PARSE)
		return;
	hd->us = us;
	hd->frame = frame;
	if (closed && hd->msg != NULL && llhttp_finish(&hd->p) != HPE_OK &&
	    hd->msg != NULL)
		msg_rare(s, hd->msg)->error = llhttp_get_error_reason(&hd->p);
	http_abandon(hd);
}

