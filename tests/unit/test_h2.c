/*
 * test_h2.c: unit tests of the HTTP/2 engine (daemon/engine/h2.c, h2stream.c)
 * over h2c connections with prior knowledge. Header blocks come from
 * libnghttp2's own HPACK encoder, one per direction as a real peer
 * keeps it, so the decoder's table is exercised across streams; frames
 * are built by hand and sent as TCP segments cut in chosen places. One
 * line per case, as test_engine.c.
 */
#include <llhttp.h>
#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include "harness.h"
#include "h2.h"
#include "msg.h"
#include "pack.h"
#include "proto.h"
#include "tcp.h"

/* One peer's bytes as they are built, and its HPACK encoder. */
struct peer {
	u_char			 b[256 * 1024];
	size_t			 n;
	nghttp2_hd_deflater	*enc;
};

/* The conversation so far: who sent what, in order. */
struct talk {
	struct peer	 p[2];		/* DIR_C2S, DIR_S2C */
	struct {
		int	 dir;
		size_t	 off;
		size_t	 len;
	}		 turn[256];
	int		 nturn;
	size_t		 mark[2];	/* bytes already in a turn */
};

static void
k_init(struct talk *k)
{
	memset(k, 0, sizeof(*k));
	if (nghttp2_hd_deflate_new(&k->p[0].enc, 4096) != 0 ||
	    nghttp2_hd_deflate_new(&k->p[1].enc, 4096) != 0) {
		fprintf(stderr, "nghttp2_hd_deflate_new failed\n");
		exit(1);
	}
}

static void
k_free(struct talk *k)
{
	nghttp2_hd_deflate_del(k->p[0].enc);
	nghttp2_hd_deflate_del(k->p[1].enc);
}

static void
k_put(struct talk *k, int dir, const void *p, size_t n)
{
	memcpy(k->p[dir].b + k->p[dir].n, p, n);
	k->p[dir].n += n;
}

/* What dir added since its last turn becomes one turn. */
static void
k_turn(struct talk *k, int dir)
{
	k->turn[k->nturn].dir = dir;
	k->turn[k->nturn].off = k->mark[dir];
	k->turn[k->nturn].len = k->p[dir].n - k->mark[dir];
	k->nturn++;
	k->mark[dir] = k->p[dir].n;
}

static void
k_frame(struct talk *k, int dir, uint8_t type, uint8_t flags, uint32_t sid,
    const void *p, size_t n)
{
	u_char	 h[9];

	h[0] = (u_char)(n >> 16);
	h[1] = (u_char)(n >> 8);
	h[2] = (u_char)n;
	h[3] = type;
	h[4] = flags;
	h[5] = (u_char)(sid >> 24);
	h[6] = (u_char)(sid >> 16);
	h[7] = (u_char)(sid >> 8);
	h[8] = (u_char)sid;
	k_put(k, dir, h, 9);
	if (n > 0)
		k_put(k, dir, p, n);
}

/* A header block from dir's encoder; pairs are name, value, ..., NULL. */
static size_t
k_block(struct talk *k, int dir, u_char *out, size_t cap, const char **kv)
{
	nghttp2_nv	 nv[32];
	size_t		 n = 0;
	ssize_t		 r;

	for (; kv[0] != NULL; kv += 2, n++) {
		nv[n].name = (uint8_t *)(uintptr_t)kv[0];
		nv[n].namelen = strlen(kv[0]);
		nv[n].value = (uint8_t *)(uintptr_t)kv[1];
		nv[n].valuelen = strlen(kv[1]);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
	}
	r = nghttp2_hd_deflate_hd(k->p[dir].enc, out, cap, nv, n);
	if (r < 0) {
		fprintf(stderr, "nghttp2_hd_deflate_hd failed\n");
		exit(1);
	}
	return ((size_t)r);
}

static void
k_headers(struct talk *k, int dir, uint32_t sid, int end, const char **kv)
{
	u_char	 blk[4096];
	size_t	 n = k_block(k, dir, blk, sizeof(blk), kv);

	k_frame(k, dir, 0x1, 0x4 | (end ? 0x1 : 0), sid, blk, n);
}

static void
k_data(struct talk *k, int dir, uint32_t sid, int end, const void *p,
    size_t n)
{
	k_frame(k, dir, 0x0, end ? 0x1 : 0, sid, p, n);
}

static void
k_settings(struct talk *k, int dir, const uint16_t *ids, const uint32_t *v,
    size_t n)
{
	u_char	 b[60];
	size_t	 i;

	for (i = 0; i < n; i++) {
		b[i * 6] = (u_char)(ids[i] >> 8);
		b[i * 6 + 1] = (u_char)ids[i];
		b[i * 6 + 2] = (u_char)(v[i] >> 24);
		b[i * 6 + 3] = (u_char)(v[i] >> 16);
		b[i * 6 + 4] = (u_char)(v[i] >> 8);
		b[i * 6 + 5] = (u_char)v[i];
	}
	k_frame(k, dir, 0x4, 0, 0, b, n * 6);
}

static void
k_u32(u_char *p, uint32_t v)
{
	p[0] = (u_char)(v >> 24);
	p[1] = (u_char)(v >> 16);
	p[2] = (u_char)(v >> 8);
	p[3] = (u_char)v;
}

/* The preface and both sides' first SETTINGS, acknowledged. */
static void
k_open(struct talk *k)
{
	k_put(k, DIR_C2S, H2_PREFACE, H2_PREFACE_LEN);
	k_settings(k, DIR_C2S, NULL, NULL, 0);
	k_turn(k, DIR_C2S);
	k_settings(k, DIR_S2C, (uint16_t[]){ 3 }, (uint32_t[]){ 100 }, 1);
	k_frame(k, DIR_S2C, 0x4, 0x1, 0, NULL, 0);
	k_turn(k, DIR_S2C);
	k_frame(k, DIR_C2S, 0x4, 0x1, 0, NULL, 0);
}

/*
 * Plays the conversation as segments of at most step bytes; the
 * preface, which decides that the connection is HTTP/2, comes whole.
 */
static struct session *
k_play(struct talk *k, size_t step)
{
	struct session	*s;
	struct flow	 f;
	const u_char	*p;
	size_t		 left, n;
	int		 i;

	s = t_session(DLT_EN10MB, 0, NULL, 0);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < k->nturn; i++) {
		p = k->p[k->turn[i].dir].b + k->turn[i].off;
		for (left = k->turn[i].len; left > 0; left -= n, p += n) {
			n = left < step ? left : step;
			if (i == 0 && p == k->p[DIR_C2S].b)
				n = H2_PREFACE_LEN;	/* one segment, as sent */
			t_send(&f, k->turn[i].dir == DIR_C2S, (const char *)p,
			    n);
		}
	}
	t_close(&f);
	session_finish(s, f.us);
	return (s);
}

static size_t
t_gzip(const char *in, u_char *out, size_t cap)
{
	z_stream	 z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		exit(1);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return (cap - z.avail_out);
}

static const char *hdr_get[] = {
	":method", "GET", ":scheme", "http", ":authority", "h2.example",
	":path", "/index.html", "user-agent", "unit/1.0",
	"x-trace", "same-value-on-every-stream", NULL
};
static const char *hdr_post[] = {
	":method", "POST", ":scheme", "http", ":authority", "h2.example",
	":path", "/form", "user-agent", "unit/1.0",
	"x-trace", "same-value-on-every-stream",
	"content-type", "application/x-www-form-urlencoded", NULL
};
static const char *hdr_ok_gzip[] = {
	":status", "200", "content-type", "text/html",
	"content-encoding", "gzip", NULL
};
static const char *hdr_odd[] = {
	":method", "BREW", ":path", "/pot", ":status", "2x0", NULL
};
static const char *hdr_created[] = {
	":status", "201", "content-type", "text/plain", NULL
};

/*
 * A GET and a POST on one connection, their responses interleaved; the
 * GET's body is gzip. Both requests carry the same x-trace value, which
 * the encoder sends the second time as an index into its table.
 */
static void
k_two(struct talk *k)
{
	u_char	 gz[512];
	size_t	 gzn;

	gzn = t_gzip("<html>hello, hello, hello, hello, hello</html>", gz,
	    sizeof(gz));
	k_init(k);
	k_open(k);
	k_headers(k, DIR_C2S, 1, 1, hdr_get);
	k_headers(k, DIR_C2S, 3, 0, hdr_post);
	k_data(k, DIR_C2S, 3, 0, "a=1&", 4);
	k_data(k, DIR_C2S, 3, 1, "b=22", 4);
	k_turn(k, DIR_C2S);
	k_headers(k, DIR_S2C, 3, 0, hdr_created);
	k_headers(k, DIR_S2C, 1, 0, hdr_ok_gzip);
	k_data(k, DIR_S2C, 1, 0, gz, 10);
	k_data(k, DIR_S2C, 3, 1, "created", 7);
	k_data(k, DIR_S2C, 1, 1, gz + 10, gzn - 10);
	k_turn(k, DIR_S2C);
}

static struct txn *
t_stream(struct session *s, uint32_t id)
{
	const struct txn_h2	*x;
	size_t			 i;

	for (i = 0; i < s->ntxns; i++)
		if ((x = h2_txn_get(s->txns[i])) != NULL &&
		    x->stream_id == id)
			return (s->txns[i]);
	return (NULL);
}

/* The value of field name in m, or "" . */
static const char *
t_field(const struct msg *m, const char *name)
{
	static char	 v[256];
	uint32_t	 i;

	for (i = 0; i < m->nhdrs; i++)
		if (msg_hdrs(m)[i].name_len == strlen(name) &&
		    memcmp(m->text + msg_hdrs(m)[i].name_off, name,
		    msg_hdrs(m)[i].name_len) == 0) {
			snprintf(v, sizeof(v), "%.*s", msg_hdrs(m)[i].val_len,
			    m->text + msg_hdrs(m)[i].val_off);
			return (v);
		}
	return ("");
}

static int
t_path(const struct msg *m, const char *want)
{
	return (m != NULL && m->target_len == strlen(want) &&
	    memcmp(m->text + m->target_off, want, m->target_len) == 0);
}

static void
t_check_two(struct session *s)
{
	struct txn	*a = t_stream(s, 1), *b = t_stream(s, 3);
	struct conn	*c = s->nconns ? s->conns[0] : NULL;

	check(s->ntxns == 2 && a != NULL && b != NULL, "two streams, got %zu",
	    s->ntxns);
	if (failed)
		return;
	check(c->h2 != NULL && c->h2->streams == 2, "h2 connection");
	check(a->proto == TXN_PROTO_H2 && a->req != NULL &&
	    a->resp != NULL && a->req->vmajor == 2, "stream 1 is h2");
	if (failed)
		return;
	check(t_path(a->req, "/index.html"), "stream 1 path");
	check(strcmp(llhttp_method_name(a->req->method), "GET") == 0,
	    "stream 1 GET");
	check(a->resp->status == 200 && a->resp->complete, "stream 1 200");
	check(a->resp->encoded && a->resp->decoded_bytes == 46, "gzip measured: %llu",
	    (unsigned long long)a->resp->decoded_bytes);
	check(b->req != NULL && b->resp != NULL, "stream 3 pair");
	if (failed)
		return;
	check(t_path(b->req, "/form") &&
	    strcmp(llhttp_method_name(b->req->method), "POST") == 0,
	    "stream 3 POST /form");
	check(b->req->body_bytes == 8 && b->req->complete, "POST body 8: %llu",
	    (unsigned long long)b->req->body_bytes);
	check(b->resp->status == 201 && b->resp->body_bytes == 7,
	    "stream 3 201 with 7 bytes");
	check(strcmp(t_field(b->req, "x-trace"),
	    "same-value-on-every-stream") == 0, "indexed field decoded");
	check(strcmp(t_field(b->req, ":authority"), "h2.example") == 0,
	    "authority kept");
	check(s->servers[0]->name != NULL &&
	    strcmp(s->servers[0]->name, "h2.example") == 0,
	    "server named by :authority");
	check(c->h2->d[DIR_S2C].settings.max_concurrent_streams == 100,
	    "server SETTINGS read");
	check(c->h2->malformed == 0 && c->h2->hpack_errors == 0,
	    "nothing malformed");
	check(a->req->start_us < a->resp->start_us &&
	    a->resp->start_us <= a->resp->end_us, "stream 1 times");
}

static void
test_streams(void)
{
	struct talk	 k;
	struct session	*s;
	size_t		 steps[] = { 100000, 1, 2, 7, 100 }, i;
	char		 name[32];

	k_two(&k);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		s = k_play(&k, steps[i]);
		t_check_two(s);
		session_free(s);
		snprintf(name, sizeof(name), "h2_streams_split_%zu", steps[i]);
		report(name);
	}
	k_free(&k);
}

/* The same header block in HEADERS (padded, with priority) and CONTINUATIONs. */
static void
test_continuation(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 blk[4096], f[4200];
	size_t		 n, cut1, cut2;
	struct txn	*t;

	k_init(&k);
	k_open(&k);
	n = k_block(&k, DIR_C2S, blk, sizeof(blk), hdr_get);
	cut1 = 5;
	cut2 = n - 3;
	f[0] = 4;				/* pad length */
	k_u32(f + 1, 0x80000000);		/* exclusive, on stream 0 */
	f[5] = 15;				/* weight */
	memcpy(f + 6, blk, cut1);
	memset(f + 6 + cut1, 0, 4);
	k_frame(&k, DIR_C2S, 0x1, 0x1 | 0x8 | 0x20, 1, f, 6 + cut1 + 4);
	k_frame(&k, DIR_C2S, 0x9, 0, 1, blk + cut1, cut2 - cut1);
	k_frame(&k, DIR_C2S, 0x9, 0x4, 1, blk + cut2, n - cut2);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 3);
	t = t_stream(s, 1);
	check(t != NULL && t->req != NULL && t->resp != NULL, "stream 1");
	if (!failed) {
		check(t_path(t->req, "/index.html"), "path across frames");
		check(strcmp(t_field(t->req, "x-trace"),
		    "same-value-on-every-stream") == 0, "last field");
		check(t->req->header_bytes == 3 * 9 + 6 + cut1 + 4 + (n - cut1),
		    "header bytes %llu",
		    (unsigned long long)t->req->header_bytes);
		check(t->req->complete && t->resp->status == 201 &&
		    t->resp->complete, "both complete");
	}
	check(s->conns[0]->h2->malformed == 0, "nothing malformed");
	session_free(s);
	k_free(&k);
	report("h2_continuation_padding_priority");
}

/* The server resets a stream; the other one goes on. */
static void
test_rst(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 code[4];
	struct txn	*a, *b;

	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_headers(&k, DIR_C2S, 3, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 0, hdr_created);
	k_u32(code, 8);				/* CANCEL */
	k_frame(&k, DIR_S2C, 0x3, 0, 1, code, 4);
	k_headers(&k, DIR_S2C, 3, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	a = t_stream(s, 1);
	b = t_stream(s, 3);
	check(a != NULL && b != NULL, "two streams");
	if (!failed) {
		check(a->reset_by == 2 && h2_txn_get(a)->reset_code == 8,
		    "stream 1 reset by the server, CANCEL");
		check(a->resp != NULL && !a->resp->complete,
		    "reset response incomplete");
		check(b->reset_by == 0 && b->resp != NULL &&
		    b->resp->complete && b->resp->status == 201,
		    "stream 3 unaffected");
		check(s->conns[0]->h2->resets == 1, "reset counted");
	}
	session_free(s);
	k_free(&k);
	report("h2_rst_stream");
}

/*
 * The client cancels a stream (as a browser its favicon) while the
 * server answers: the answer on its way is the stream's response, as
 * tshark shows it; a frame after the server ended it is no new stream.
 */
static void
test_late_frames(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 code[4];
	struct txn	*t;

	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_u32(code, 8);
	k_frame(&k, DIR_C2S, 0x3, 0, 1, code, 4);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 0, hdr_created);
	k_data(&k, DIR_S2C, 1, 1, "late", 4);
	k_data(&k, DIR_S2C, 1, 1, "later", 5);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	t = t_stream(s, 1);
	check(s->ntxns == 1 && t != NULL && t->reset_by == 1 &&
	    h2_txn_get(t)->reset_code == 8, "one transaction, reset by the client, "
	    "got %zu", s->ntxns);
	check(t != NULL && t->resp != NULL && t->resp->status == 201 &&
	    t->resp->complete && t->resp->body_bytes == 4,
	    "the response the server had sent");
	check(s->conns[0]->h2->resets == 1, "one reset counted");
	session_free(s);
	k_free(&k);
	report("h2_late_frames_after_reset");
}

/* Streams the client reset make room for new ones when at the bound. */
static void
test_reset_room(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 code[4];
	uint32_t	 id;

	k_init(&k);
	k_open(&k);
	k_u32(code, 8);
	for (id = 1; id < 2 * H2_MAX_STREAMS; id += 2) {
		k_headers(&k, DIR_C2S, id, 1, hdr_get);
		k_frame(&k, DIR_C2S, 0x3, 0, id, code, 4);
	}
	k_headers(&k, DIR_C2S, id, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, id, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	check(s->conns[0]->h2->streams_dropped == 0 &&
	    s->ntxns == H2_MAX_STREAMS + 1, "%llu dropped, %zu transactions",
	    (unsigned long long)s->conns[0]->h2->streams_dropped, s->ntxns);
	check(t_stream(s, id) != NULL && t_stream(s, id)->resp != NULL &&
	    t_stream(s, id)->resp->status == 201, "the last stream answered");
	session_free(s);
	k_free(&k);
	report("h2_reset_streams_make_room");
}

/* Every transaction packs, headers included (the sanitizers watch). */
static void
t_pack_ok(struct session *s)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	size_t		 i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < s->ntxns; i++)
		pack_txn(s->txns[i], PACK_FULL | PACK_HEADERS, &pk);
	check(sb.size > 0, "nothing packed");
	msgpack_sbuffer_destroy(&sb);
}

/*
 * Frames that break rules but keep their length (a PING of 7 bytes, a
 * WINDOW_UPDATE of 3, padding longer than its frame) are counted and
 * skipped; the streams after them parse, one of them with a method and
 * a status nobody knows.
 */
static void
test_malformed(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 junk[16];
	struct txn	*t;

	memset(junk, 0x41, sizeof(junk));
	k_init(&k);
	k_open(&k);
	k_frame(&k, DIR_C2S, 0x6, 0, 0, junk, 7);
	k_frame(&k, DIR_C2S, 0x8, 0, 0, junk, 3);
	junk[0] = 200;				/* pad length past the end */
	k_frame(&k, DIR_C2S, 0x0, 0x8, 1, junk, 10);
	k_headers(&k, DIR_C2S, 5, 1, hdr_get);
	k_headers(&k, DIR_C2S, 7, 1, hdr_odd);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 5, 1, hdr_created);
	k_headers(&k, DIR_S2C, 7, 1, hdr_odd);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 5);
	t = t_stream(s, 5);
	check(s->conns[0]->h2->malformed == 3, "three malformed, got %u",
	    s->conns[0]->h2->malformed);
	check(s->ntxns == 2 && t != NULL && t->req != NULL &&
	    t->resp != NULL && t->resp->status == 201 &&
	    t_path(t->req, "/index.html"), "stream 5 after them");
	t = t_stream(s, 7);
	check(t != NULL && t->req != NULL && !t->req->has_method &&
	    strcmp(t_field(t->req, ":method"), "BREW") == 0 &&
	    t->resp != NULL && t->resp->status == 0,
	    "a method llhttp does not know, a status that is no number");
	t_pack_ok(s);
	session_free(s);
	k_free(&k);
	report("h2_malformed_skipped");
}

/*
 * Fields no HTTP/1.x parser would let through: a method llhttp does not
 * know (its name table has holes that abort when asked about) and a
 * field with an empty name. Both found by fuzz_h2; the stream after
 * them is read as usual.
 */
static void
test_hostile_fields(void)
{
	static const char odd_method[] = "NOT-A-METHOD";
	static const char *odd[] = {
		":method", odd_method, ":scheme", "http",
		":path", "/odd", "", "empty name", NULL
	};
	struct talk	 k;
	struct session	*s;
	struct txn	*t;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, odd);
	k_headers(&k, DIR_C2S, 3, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 1, hdr_created);
	k_headers(&k, DIR_S2C, 3, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 7);
	t = t_stream(s, 1);
	check(t != NULL && t->req != NULL && !t->req->has_method &&
	    t_path(t->req, "/odd"), "stream 1 kept, its method unknown");
	check(t != NULL && t->req != NULL && t->req->reason_len > 0 &&
	    t->req->text != NULL && memcmp(t->req->text + t->req->reason_off,
	    odd_method, t->req->reason_len) == 0 &&
	    t->req->reason_len == strlen(odd_method),
	    "stream 1's method kept as its text");
	if (t != NULL) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		pack_txn(t, PACK_FULL, &pk);
		check(memmem(sb.data, sb.size, "\xa6" "method" "\xac"
		    "NOT-A-METHOD", 20) != NULL, "stream 1 packed with its method");
		msgpack_sbuffer_destroy(&sb);
	}
	check(s->conns[0]->h2->malformed == 1, "the empty name counted, "
	    "got %u", s->conns[0]->h2->malformed);
	t = t_stream(s, 3);
	check(t != NULL && t->req != NULL && t->req->has_method &&
	    t->req->method == HTTP_GET && t->resp != NULL &&
	    t->resp->status == 201, "stream 3 as usual");
	session_free(s);
	k_free(&k);
	report("h2_hostile_fields");
}

/*
 * A frame header longer than the receiver allows: the framing of that
 * direction is lost, and nothing after it is taken for frames.
 */
static void
test_lost_framing(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 big[9] = { 0x01, 0x00, 0x00, 0x1, 0x4, 0, 0, 0, 1 };

	k_init(&k);
	k_open(&k);
	k_put(&k, DIR_C2S, big, sizeof(big));	/* 65536 > 16384 */
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	s = k_play(&k, 1000);
	check(s->ntxns == 0, "no stream from what follows, got %zu",
	    s->ntxns);
	check(s->conns[0]->h2->malformed == 1 &&
	    s->conns[0]->h2->d[DIR_C2S].lost_bytes > 0, "counted as lost");
	session_free(s);
	k_free(&k);
	report("h2_oversized_frame");
}

/*
 * Flow control: the server allows 10 bytes per stream; the client's
 * POST spends them and waits for a WINDOW_UPDATE. PING is answered.
 */
static void
test_flow(void)
{
	struct talk	 k;
	struct session	*s;
	u_char		 inc[4], ping[8] = "pingpong";
	struct txn	*t;
	struct h2_info	*hi;

	k_init(&k);
	k_put(&k, DIR_C2S, H2_PREFACE, H2_PREFACE_LEN);
	k_settings(&k, DIR_C2S, NULL, NULL, 0);
	k_turn(&k, DIR_C2S);
	k_settings(&k, DIR_S2C, (uint16_t[]){ 4 }, (uint32_t[]){ 10 }, 1);
	k_frame(&k, DIR_S2C, 0x6, 0, 0, ping, 8);
	k_turn(&k, DIR_S2C);
	k_frame(&k, DIR_C2S, 0x6, 0x1, 0, ping, 8);
	k_headers(&k, DIR_C2S, 1, 0, hdr_post);
	k_data(&k, DIR_C2S, 1, 0, "0123456789", 10);
	k_turn(&k, DIR_C2S);
	k_u32(inc, 100);
	k_frame(&k, DIR_S2C, 0x8, 0, 1, inc, 4);
	k_turn(&k, DIR_S2C);
	k_data(&k, DIR_C2S, 1, 1, "abc", 3);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	t = t_stream(s, 1);
	hi = s->conns[0]->h2;
	check(t != NULL && h2_txn_get(t)->stalls == 1 &&
	    h2_txn_get(t)->stall_us > 0,
	    "one stall on stream 1");
	check(t != NULL && t->req != NULL && t->req->body_bytes == 13,
	    "13 body bytes");
	check(hi->npings == 1 && hi->rtt_us[0] > 0, "PING round trip");
	check(hi->d[DIR_S2C].window_updates == 1 &&
	    hi->d[DIR_S2C].window_bytes == 100, "WINDOW_UPDATE counted");
	check(hi->d[DIR_S2C].settings.initial_window_size == 10,
	    "initial window read");
	session_free(s);
	k_free(&k);
	report("h2_flow_control_ping");
}

/* GOAWAY and a pushed stream. */
static void
test_push_goaway(void)
{
	static const char *promise[] = {
		":method", "GET", ":scheme", "http", ":authority",
		"h2.example", ":path", "/style.css", NULL
	};
	struct talk	 k;
	struct session	*s;
	u_char		 blk[1024], f[1100], ga[8];
	size_t		 n;
	struct txn	*t;
	struct h2_info	*hi;

	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	n = k_block(&k, DIR_S2C, blk, sizeof(blk), promise);
	k_u32(f, 2);
	memcpy(f + 4, blk, n);
	k_frame(&k, DIR_S2C, 0x5, 0x4, 1, f, n + 4);
	k_headers(&k, DIR_S2C, 1, 1, hdr_created);
	k_headers(&k, DIR_S2C, 2, 0, hdr_created);
	k_data(&k, DIR_S2C, 2, 1, "body{}", 6);
	k_u32(ga, 2);
	k_u32(ga + 4, 0);
	k_frame(&k, DIR_S2C, 0x7, 0, 0, ga, 8);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	t = t_stream(s, 2);
	hi = s->conns[0]->h2;
	check(s->ntxns == 2 && t != NULL && t->pushed && t->req != NULL &&
	    t_path(t->req, "/style.css"), "pushed stream 2");
	check(t != NULL && t->resp != NULL && t->resp->body_bytes == 6 &&
	    t->resp->complete, "pushed response");
	check(hi->pushed == 1 && hi->has_goaway && hi->goaway_dir == DIR_S2C &&
	    hi->goaway_last_stream == 2, "GOAWAY read");
	session_free(s);
	k_free(&k);
	report("h2_push_goaway");
}

/* A hole inside a DATA payload is stepped over. */
static void
test_gap(void)
{
	struct session	*s;
	struct flow	 f;
	struct talk	 k;
	u_char		 body[300];
	struct txn	*t;
	size_t		 n;

	memset(body, 'x', sizeof(body));
	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 1, 0, hdr_created);
	k_data(&k, DIR_S2C, 1, 1, body, sizeof(body));
	k_turn(&k, DIR_S2C);
	s = t_session(DLT_EN10MB, 0, NULL, 0);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_send(&f, 1, (const char *)k.p[0].b, k.p[0].n);
	t_send(&f, 0, (const char *)k.p[1].b, k.mark[1] - sizeof(body) + 50);
	n = k.mark[1] - sizeof(body) + 50;
	f.sseq += 100;				/* 100 bytes never seen */
	t_send(&f, 0, (const char *)k.p[1].b + n + 100, k.p[1].n - n - 100);
	t_close(&f);
	session_finish(s, f.us);
	t = t_stream(s, 1);
	check(t != NULL && t->resp != NULL && t->resp->body_bytes == 300 &&
	    t->resp->gapped && !t->resp->complete && t->resp->end_us !=
	    ENGINE_NOTIME, "gap stepped over in DATA");
	session_free(s);
	k_free(&k);
	report("h2_gap_in_data");
}

/*
 * Upgrade: h2c. The HTTP/1.1 request, then a 101 whose segment carries
 * the server's first frames; stream 1 is that request's response.
 */
static void
test_upgrade(void)
{
	static const char	 req[] = "GET /up HTTP/1.1\r\nHost: h2.example"
	    "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
	    "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
	static const char	 sw[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n";
	struct talk		 k;
	struct session		*s;
	struct txn		*t;

	k_init(&k);
	k_put(&k, DIR_C2S, req, strlen(req));
	k_turn(&k, DIR_C2S);
	k_put(&k, DIR_S2C, sw, strlen(sw));
	k_settings(&k, DIR_S2C, NULL, NULL, 0);
	k_headers(&k, DIR_S2C, 1, 0, hdr_created);
	k_data(&k, DIR_S2C, 1, 1, "up!", 3);
	k_turn(&k, DIR_S2C);
	k_put(&k, DIR_C2S, H2_PREFACE, H2_PREFACE_LEN);
	k_settings(&k, DIR_C2S, NULL, NULL, 0);
	k_frame(&k, DIR_C2S, 0x4, 0x1, 0, NULL, 0);
	k_headers(&k, DIR_C2S, 3, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_headers(&k, DIR_S2C, 3, 1, hdr_created);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	t = t_stream(s, 1);
	check(s->ntxns == 2 && t != NULL && t->id == 1 && t->req != NULL &&
	    t->req->vmajor == 1 && t_path(t->req, "/up"),
	    "stream 1 is the HTTP/1.1 request");
	check(t != NULL && t->resp != NULL && t->resp->status == 201 &&
	    msg_rare_of(t->resp)->ninterim == 1 &&
	    msg_rare_of(t->resp)->interim[0] == 101 &&
	    t->resp->body_bytes == 3 && t->resp->complete && t->upgrade,
	    "its response: 101, then 201 on stream 1");
	check(s->conns[0]->h2 != NULL && s->conns[0]->h2->upgraded &&
	    !(s->conns[0]->flags & CONN_F_TUNNEL), "h2 by upgrade");
	t = t_stream(s, 3);
	check(t != NULL && t->resp != NULL && t->resp->status == 201,
	    "stream 3 after the preface");
	session_free(s);
	k_free(&k);
	report("h2c_upgrade");
}

/* A packed string field is want (NULL: nil). */
static int
t_str_is(const msgpack_object *o, const char *key, const char *want)
{
	const msgpack_object	*v = proto_get(o, key);

	if (v == NULL)
		return (0);
	if (want == NULL)
		return (v->type == MSGPACK_OBJECT_NIL);
	return (v->type == MSGPACK_OBJECT_STR &&
	    v->via.str.size == strlen(want) &&
	    memcmp(v->via.str.ptr, want, v->via.str.size) == 0);
}

/* What a client gets: protocol, stream_id, reset, and the h2 object. */
static void
test_pack(void)
{
	struct talk		 k;
	struct session		*s;
	u_char			 code[4];
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	const msgpack_object	*o;
	uint64_t		 v = 0;
	size_t			 off = 0;

	k_init(&k);
	k_open(&k);
	k_headers(&k, DIR_C2S, 1, 1, hdr_get);
	k_turn(&k, DIR_C2S);
	k_u32(code, 2);
	k_frame(&k, DIR_S2C, 0x3, 0, 1, code, 4);
	k_turn(&k, DIR_S2C);
	s = k_play(&k, 1000);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_txn(s->txns[0], PACK_FULL, &pk);
	pack_conn(s->conns[0], PACK_FULL, ENGINE_NOTIME, &pk);
	msgpack_unpacked_init(&u);
	check(msgpack_unpack_next(&u, sb.data, sb.size, &off) > 0,
	    "transaction unpacks");
	o = &u.data;
	check(t_str_is(o, "protocol", "h2"), "protocol h2");
	check(proto_get_u64(o, "stream_id", &v) == 0 && v == 1, "stream_id 1");
	check(t_str_is(proto_get(o, "reset"), "by", "server") &&
	    t_str_is(proto_get(o, "reset"), "error", "INTERNAL_ERROR"),
	    "reset by the server, INTERNAL_ERROR");
	check(msgpack_unpack_next(&u, sb.data, sb.size, &off) > 0,
	    "connection unpacks");
	o = proto_get(&u.data, "h2");
	check(o != NULL && o->type == MSGPACK_OBJECT_MAP &&
	    proto_get_u64(o, "streams", &v) == 0 && v == 1, "h2 object");
	check(o != NULL && proto_get_u64(proto_get(proto_get(o, "s2c"),
	    "frames"), "RST_STREAM", &v) == 0 && v == 1, "frames by type");
	check(o != NULL && t_str_is(proto_get(proto_get(o, "c2s"),
	    "settings"), "max_frame_size", NULL), "unsent setting nil");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	session_free(s);
	k_free(&k);
	report("h2_pack");
}

/* An HTTP/1.1 connection stays one: no h2 object, version 1.1. */
static void
test_http1(void)
{
	struct session	*s;
	struct flow	 f;

	s = t_session(DLT_EN10MB, 0, NULL, 0);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 204 No Content\r\n\r\n");
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 1 && s->conns[0]->h2 == NULL &&
	    s->txns[0]->proto == TXN_PROTO_HTTP1 &&
	    h2_txn_get(s->txns[0]) == NULL && s->txns[0]->resp != NULL &&
	    s->txns[0]->resp->status == 204, "HTTP/1.1 as before");
	session_free(s);
	report("h2_http1_unchanged");
}

int
main(void)
{
	test_http1();
	test_streams();
	test_continuation();
	test_rst();
	test_late_frames();
	test_reset_room();
	test_malformed();
	test_hostile_fields();
	test_lost_framing();
	test_flow();
	test_push_goaway();
	test_gap();
	test_pack();
	test_upgrade();
	return (nfail ? 1 : 0);
}
