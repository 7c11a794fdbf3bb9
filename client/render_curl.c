/*
 * render_curl.c: writes a captured request as a curl command line that
 * makes it again (htracrctl replay). Runs in htracrctl with the invoking
 * user's privileges. Wire bytes can hold anything, so every word is
 * quoted for a POSIX shell: printable ASCII inside single quotes, and a
 * word holding any other byte is rebuilt at run time by printf from
 * octal escapes, so no control byte ever reaches the terminal raw.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include <msgpack.h>

#include "doc.h"
#include "proto.h"
#include "render.h"
#include "xmalloc.h"

/* Headers that describe one hop, not the request: curl makes its own. */
static const char *render_curl_hop[] = {
	"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
	"proxy-authorization", "te", "trailer", "transfer-encoding",
	"upgrade", "host", "content-length", "expect",
};

static int
render_curl_plain(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (0);
	return (1);
}

/* One shell word holding exactly the bytes s[0..len). */
/*
 * The inside of a single-quoted printf %b argument: printable bytes as
 * they are, a quote closed and reopened, everything else as \0NNN. With
 * wrap, a line break every 64 bytes keeps long bodies readable.
 */
static void
render_curl_octal(FILE *f, const char *s, size_t len, int wrap)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c == '\'')
			fputs("'\\''", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c <= 0x7e)
			fputc(c, f);
		else
			fprintf(f, "\\0%03o", c);
		if (wrap && i % 64 == 63 && i + 1 < len)
			fputs("'\\\n'", f);
	}
}

static void
render_curl_word(FILE *f, const char *s, size_t len)
{
	size_t	 i;

	if (render_curl_plain(s, len)) {
		fputc('\'', f);
		for (i = 0; i < len; i++)
			if (s[i] == '\'')
				fputs("'\\''", f);
			else
				fputc(s[i], f);
		fputc('\'', f);
		return;
	}
	/* $() drops trailing newlines: neither a header nor a target has one. */
	fputs("\"$(printf '%b' '", f);
	render_curl_octal(f, s, len, 0);
	fputs("')\"", f);
}

static int
render_curl_is_hop(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(render_curl_hop) / sizeof(render_curl_hop[0]);
	    i++)
		if (strlen(render_curl_hop[i]) == len &&
		    strncasecmp(render_curl_hop[i], name, len) == 0)
			return (1);
	return (0);
}

/* The URL: http://Host + target, or the server address without Host. */
static void
render_curl_url(FILE *f, const msgpack_object *req, const msgpack_object *c)
{
	const char	*host, *t, *a;
	char		*url, pre[96];
	size_t		 hlen, tlen, alen, plen;

	if ((t = render_str(req, "target", &tlen)) == NULL) {
		t = "/";
		tlen = 1;
	}
	if (tlen > 7 && strncasecmp(t, "http://", 7) == 0) {
		render_curl_word(f, t, tlen);
		return;
	}
	if ((host = render_header(req, "host", &hlen)) == NULL) {
		/* No Host: the address the request went to, as a host. */
		if ((a = render_str(c, "server_addr", &alen)) == NULL ||
		    alen > 64)
			a = "localhost", alen = 9;
		snprintf(pre, sizeof(pre), memchr(a, ':', alen) ?
		    "[%.*s]:%lld" : "%.*s:%lld", (int)alen, a,
		    (long long)render_int(c, "server_port", 80));
		host = pre;
		hlen = strlen(pre);
	}
	plen = 7 + hlen + tlen;
	url = xmalloc(plen);
	memcpy(url, "http://", 7);
	memcpy(url + 7, host, hlen);
	memcpy(url + 7 + hlen, t, tlen);
	render_curl_word(f, url, plen);
	free(url);
}

static void
render_curl_headers(FILE *f, const msgpack_object *req)
{
	const msgpack_object	*hs = render_array(req, "headers");
	struct render_header	 h;
	char			*line;
	uint32_t		 i;

	for (i = 0; i < render_count(hs); i++) {
		if (render_header_at(hs, i, &h) == -1 ||
		    render_curl_is_hop(h.name, h.nlen))
			continue;
		/* "Name;" is how curl sends a header with an empty value. */
		line = xmalloc(h.nlen + h.vlen + 2);
		memcpy(line, h.name, h.nlen);
		if (h.vlen == 0)
			line[h.nlen] = ';';
		else {
			memcpy(line + h.nlen, ": ", 2);
			memcpy(line + h.nlen + 2, h.value, h.vlen);
		}
		fputs(" \\\n  -H ", f);
		render_curl_word(f, line, h.vlen == 0 ? h.nlen + 1 :
		    h.nlen + 2 + h.vlen);
		free(line);
	}
}

/* The body goes through printf into curl's stdin: any byte survives. */
static void
render_curl_body(FILE *f, const char *body, size_t len)
{
	fputs("printf '%b' '", f);
	render_curl_octal(f, body, len, 1);
	fputs("' |\n", f);
}

int
render_curl(FILE *f, const struct doc *d, uint64_t id, const char *body,
    size_t len)
{
	const msgpack_object	*t = doc_txn(d, id), *req, *conn;
	const char		*m;
	size_t			 mlen;

	if (t == NULL)
		return (1);
	req = proto_get(t, "request");
	conn = doc_conn(d, (uint64_t)render_int(t, "connection", 0));
	if ((m = render_str(req, "method", &mlen)) == NULL)
		m = "GET", mlen = 3;
	if (body != NULL)
		render_curl_body(f, body, len);
	/* -g: brackets in a URL are literal, not curl globs. */
	fputs("curl -sS -g --http1.1", f);
	if (mlen == 4 && memcmp(m, "HEAD", 4) == 0)
		fputs(" --head", f);
	else if (!(mlen == 3 && memcmp(m, "GET", 3) == 0 && body == NULL) &&
	    !(mlen == 4 && memcmp(m, "POST", 4) == 0 && body != NULL)) {
		/* curl's own choice (GET, or POST with data) needs no -X. */
		fputs(" -X ", f);
		render_curl_word(f, m, mlen);
	}
	if (body != NULL)
		fputs(" --data-binary @-", f);
	render_curl_headers(f, req);
	fputs(" \\\n  ", f);
	render_curl_url(f, req, conn);
	fputc('\n', f);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}
