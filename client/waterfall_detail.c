/*
 * waterfall_detail.c: the two close-up views of "htracrctl show": one
 * transaction in full (headers as sent, the kept body decoded, text
 * escaped and binary as a hex preview) and one connection with its
 * packets. Runs in htracrctl with the invoking user's privileges; every
 * wire byte is escaped before it reaches the terminal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zlib.h>

#include "doc.h"
#include "esc.h"
#include "proto.h"
#include "render.h"
#include "tlsline.h"
#include "waterfall.h"
#include "waterfall_int.h"
#include "xmalloc.h"

/* At most this much of a body is decoded and shown. */
#define WF_BODY_MAX		(1024 * 1024)
#define WF_BODY_LINES		200
#define WF_HEX_PREVIEW		256

static void
wf_headers(FILE *f, const msgpack_object *msg)
{
	const msgpack_object	*hs = render_array(msg, "headers");
	struct render_header	 h;
	char			 k[256], v[4096];
	uint32_t		 i;

	for (i = 0; i < render_count(hs); i++) {
		if (render_header_at(hs, i, &h) == -1)
			continue;
		fprintf(f, "    %s: %s\n", esc_buf(k, sizeof(k), h.name, h.nlen),
		    esc_buf(v, sizeof(v), h.value, h.vlen));
	}
}

/*
 * Inflates a gzip or deflate body into a fresh buffer of at most
 * WF_BODY_MAX bytes. Returns NULL if it does not inflate. Caller frees.
 */
static char *
wf_inflate(const char *in, size_t inlen, size_t *outlen)
{
	z_stream	 z;
	char		*out;
	int		 rc;

	memset(&z, 0, sizeof(z));
	/* 32 + 15: accept a gzip or zlib header; raw deflate is retried. */
	if (inflateInit2(&z, 32 + 15) != Z_OK)
		return (NULL);
	out = xmalloc(WF_BODY_MAX);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
	z.next_out = (Bytef *)out;
	z.avail_out = WF_BODY_MAX;
	rc = inflate(&z, Z_FINISH);
	if (rc == Z_DATA_ERROR && inflateReset2(&z, -15) == Z_OK) {
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)(inlen > UINT32_MAX ? UINT32_MAX : inlen);
		z.next_out = (Bytef *)out;
		z.avail_out = WF_BODY_MAX;
		rc = inflate(&z, Z_FINISH);
	}
	*outlen = z.total_out;
	/*
	 * Anything can start a raw deflate stream: only a stream that ends
	 * where the body ends counts, or one cut short by the capture (all
	 * input used, output still wanted), or one longer than we show.
	 */
	if (!((rc == Z_STREAM_END && z.avail_in == 0) ||
	    (rc == Z_BUF_ERROR && (z.avail_in == 0 || z.avail_out == 0)))) {
		inflateEnd(&z);
		free(out);
		return (NULL);
	}
	inflateEnd(&z);
	return (out);
}

/* Text if nearly every byte is printable ASCII, whitespace or UTF-8. */
static int
wf_is_text(const char *s, size_t len)
{
	size_t	 i, bad = 0, n = len > 4096 ? 4096 : len;

	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
			bad++;
	}
	return (bad * 100 <= n);
}

static void
wf_hex(FILE *f, const char *s, size_t len)
{
	size_t	 i, j, n = len > WF_HEX_PREVIEW ? WF_HEX_PREVIEW : len;

	for (i = 0; i < n; i += 16) {
		fprintf(f, "    %08zx ", i);
		for (j = i; j < i + 16; j++)
			if (j < n)
				fprintf(f, " %02x", (unsigned char)s[j]);
			else
				fputs("   ", f);
		fputs("  |", f);
		for (j = i; j < i + 16 && j < n; j++)
			fputc(s[j] >= 0x20 && s[j] < 0x7f ? s[j] : '.', f);
		fputs("|\n", f);
	}
	if (len > n)
		fprintf(f, "    ... %zu more bytes\n", len - n);
}

static void
wf_text(FILE *f, const char *s, size_t len)
{
	const char	*nl, *end = s + len;
	char		 line[1024];
	size_t		 n;
	int		 lines = 0;

	while (s < end && lines++ < WF_BODY_LINES) {
		nl = memchr(s, '\n', end - s);
		n = (nl ? nl : end) - s;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		fprintf(f, "    %s\n", esc_buf(line, sizeof(line), s, n));
		s = nl ? nl + 1 : end;
	}
	if (s < end)
		fprintf(f, "    ... %zu more bytes\n", (size_t)(end - s));
}

static void
wf_body(FILE *f, const msgpack_object *msg, const struct waterfall_body *b)
{
	const char	*enc, *data;
	char		*dec = NULL;
	size_t		 elen, len;

	if (b != NULL && b->evicted) {
		fputs("    (body evicted: it lay in raw frames that htracrd's "
		    "memory budget has dropped since)\n", f);
		return;
	}
	if (b == NULL || b->buf == NULL) {
		if (render_int(msg, "body_bytes", 0) > 0)
			fputs("    (body not fetched or not kept)\n", f);
		return;
	}
	data = b->buf;
	len = b->len;
	if ((enc = render_str(msg, "content_encoding", &elen)) != NULL &&
	    (wf_contains(enc, elen, "gzip") ||
	    wf_contains(enc, elen, "deflate")) &&
	    (dec = wf_inflate(b->buf, b->len, &len)) != NULL)
		data = dec;
	else
		len = b->len;
	fprintf(f, "  body: %zu bytes%s%s\n", len, dec ? " decoded" : "",
	    b->truncated ? ", truncated by the daemon's budget" : "");
	if (wf_is_text(data, len))
		wf_text(f, data, len);
	else
		wf_hex(f, data, len);
	free(dec);
}

int
waterfall_txn(FILE *f, const struct doc *d, uint64_t id,
    const struct waterfall_body *reqb, const struct waterfall_body *respb,
    const struct waterfall_opts *o)
{
	const msgpack_object	*t = doc_txn(d, id), *req, *resp;
	struct wf		 w;
	char			 a[32], b[256], c[32], r[128];

	if (t == NULL)
		return (1);
	wf_setup(&w, f, d, o);
	req = proto_get(t, "request");
	resp = proto_get(t, "response");
	fprintf(f, "%stransaction %llu%s on connection %lld, index %lld\n",
	    wf_c(&w, C_BOLD), (unsigned long long)id, wf_c(&w, C_RESET),
	    (long long)render_int(t, "connection", 0),
	    (long long)render_int(t, "index", 0));
	fprintf(f, "request  +%s: %s %s HTTP/%s\n",
	    wf_dur(c, sizeof(c), render_int(req, "start_us", 0) - w.t0),
	    wf_field(a, sizeof(a), req, "method"),
	    wf_field(b, sizeof(b), req, "target"),
	    wf_field(r, sizeof(r), req, "version"));
	wf_headers(f, req);
	wf_body(f, req, reqb);
	if (resp != NULL && resp->type == MSGPACK_OBJECT_MAP) {
		fprintf(f, "response +%s: HTTP/%s %lld %s\n",
		    wf_dur(c, sizeof(c), render_int(resp, "start_us", 0) -
		    w.t0), wf_field(a, sizeof(a), resp, "version"),
		    (long long)render_int(resp, "status", 0),
		    wf_field(r, sizeof(r), resp, "reason"));
		wf_headers(f, resp);
		wf_body(f, resp, respb);
	} else
		fputs("response: none seen\n", f);
	wf_txn_detail(&w, t);
	wf_txn_notes(&w, t);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

static void
wf_dir_line(const struct wf *w, const char *name, const msgpack_object *d)
{
	char	 b[32];

	fprintf(w->f, "  %s: %lld packets, %s, %lld payload bytes, "
	    "retransmits %lld, out of order %lld, dup acks %lld, zero windows "
	    "%lld, mss %lld, window scale %lld, gaps %lld (%lld bytes)\n", name,
	    (long long)render_int(d, "packets", 0),
	    wf_bytes(b, sizeof(b), render_int(d, "bytes", 0)),
	    (long long)render_int(d, "payload_bytes", 0),
	    (long long)render_int(d, "retransmits", 0),
	    (long long)render_int(d, "out_of_order", 0),
	    (long long)render_int(d, "dup_acks", 0),
	    (long long)render_int(d, "zero_windows", 0),
	    (long long)render_int(d, "mss", -1),
	    (long long)render_int(d, "window_scale", -1),
	    (long long)render_int(d, "gaps", 0),
	    (long long)render_int(d, "gap_bytes", 0));
}

static void
wf_packet_row(const struct wf *w, const msgpack_object *p)
{
	char	 t[32], fl[16], cls[24];
	size_t	 len;
	int	 k;

	wf_field(cls, sizeof(cls), p, "class");
	k = wf_class(cls, strlen(cls));
	render_str(p, "dir", &len);
	fprintf(w->f, "  %6lld %12s %s %-6s %10lld %10lld %6lld %6lld %s%s%s\n",
	    (long long)render_int(p, "n", 0),
	    wf_dur(t, sizeof(t), render_int(p, "us", w->t0) - w->t0),
	    len == 3 && memcmp(render_str(p, "dir", &len), "c2s", 3) == 0 ?
	    "->" : "<-", wf_field(fl, sizeof(fl), p, "flags"),
	    (long long)render_int(p, "seq", 0),
	    (long long)render_int(p, "ack", 0),
	    (long long)render_int(p, "win", 0),
	    (long long)render_int(p, "len", 0),
	    wf_c(w, wf_class_color(k)), cls, wf_c(w, C_RESET));
}

/*
 * A TLS connection's handshake on its bar: 't' from the ClientHello to
 * the server's Finished, or to the connection's end if it never came.
 */
void
wf_tls_bar(const struct wf *w, const msgpack_object *c, char *marks,
    const char **colors)
{
	const msgpack_object	*tls = proto_get(c, "tls");
	int64_t			 a, b;

	if (tls == NULL || tls->type != MSGPACK_OBJECT_MAP ||
	    (a = render_int(tls, "client_hello_us", -1)) < 0)
		return;
	if ((b = render_int(tls, "handshake_done_us", -1)) < a)
		b = render_int(c, "last_us", a);
	wf_fill(w, marks, colors, a, b, 't', C_GREEN);
}

/* The TLS line under a connection; all: the certificate and sizes too. */
void
wf_tls_lines(const struct wf *w, const msgpack_object *c, int all)
{
	const msgpack_object	*tls = proto_get(c, "tls");
	char			 buf[TLSLINE_LEN], a[32], b[32];
	int			 i;

	if (tlsline_fmt(buf, sizeof(buf), tls) == NULL)
		return;
	fprintf(w->f, "%*s%s%s%s\n", 8, "", wf_c(w, C_GREEN), buf,
	    wf_c(w, C_RESET));
	if (!all)
		return;
	if (tlsline_cert(buf, sizeof(buf), tls) != NULL)
		fprintf(w->f, "%*s%s\n", 8, "", buf);
	for (i = 0; i < 2; i++) {
		const msgpack_object	*d = proto_get(tls, i ? "s2c" : "c2s");

		fprintf(w->f, "        TLS %s: handshake %lld (%s), application "
		    "%lld (%s), alert %lld, ccs %lld records\n",
		    i ? "server -> client" : "client -> server",
		    (long long)render_int(d, "handshake_records", 0),
		    wf_bytes(a, sizeof(a), render_int(d, "handshake_bytes", 0)),
		    (long long)render_int(d, "application_records", 0),
		    wf_bytes(b, sizeof(b), render_int(d, "application_bytes",
		    0)), (long long)render_int(d, "alert_records", 0),
		    (long long)render_int(d, "ccs_records", 0));
	}
}

int
waterfall_conn(FILE *f, const struct doc *d, uint64_t id,
    const struct waterfall_opts *o)
{
	const msgpack_object	*c = doc_conn(d, id), *pk, *st;
	struct wf		 w;
	char			 a[80], b[80], s[32];
	uint32_t		 i;

	if (c == NULL)
		return (1);
	wf_setup(&w, f, d, o);
	fprintf(f, "%sconnection %llu%s  %s:%lld -> %s:%lld  IPv%lld  rtt %s\n",
	    wf_c(&w, C_BOLD), (unsigned long long)id, wf_c(&w, C_RESET),
	    wf_field(a, sizeof(a), c, "client_addr"),
	    (long long)render_int(c, "client_port", 0),
	    wf_field(b, sizeof(b), c, "server_addr"),
	    (long long)render_int(c, "server_port", 0),
	    (long long)render_int(c, "ip_version", 4),
	    wf_dur(s, sizeof(s), render_int(c, "rtt_us", -1)));
	wf_dir_line(&w, "client -> server", proto_get(c, "c2s"));
	wf_dir_line(&w, "server -> client", proto_get(c, "s2c"));
	wf_tls_lines(&w, c, 1);
	wf_conn_notes(&w, c);
	st = render_array(c, "states");
	fputs("  states:", f);
	for (i = 0; i < render_count(st); i++)
		fprintf(f, " +%s %s", wf_dur(a, sizeof(a),
		    render_int(&st->via.array.ptr[i], "us", w.t0) - w.t0),
		    wf_field(b, sizeof(b), &st->via.array.ptr[i], "state"));
	fputc('\n', f);
	if ((pk = render_array(c, "packets")) == NULL)
		fputs("  (no packets in this document: fetch the detail with "
		    "packets)\n", f);
	else
		fprintf(f, "  %6s %12s %s %-6s %10s %10s %6s %6s %s\n", "frame",
		    "time", "  ", "flags", "seq", "ack", "win", "len", "class");
	for (i = 0; i < render_count(pk); i++)
		wf_packet_row(&w, &pk->via.array.ptr[i]);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}
