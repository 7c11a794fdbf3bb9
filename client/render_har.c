/*
 * render_har.c: writes a session as an HTTP Archive (HAR 1.2) so browser
 * tools and HAR viewers can open what htracr captured. Runs in htracrctl
 * with the invoking user's privileges. One page stands for the session;
 * every transaction becomes an entry. Times are milliseconds with
 * fractions, -1 where the capture does not know them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "doc.h"
#include "proto.h"
#include "render.h"

/* A key and an integer: printf for each of a million costs. */
static void
render_har_int(FILE *f, const char *key, long long v)
{
	char			 buf[24], *p = buf + sizeof(buf);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	fputs(key, f);
	fwrite(p, 1, buf + sizeof(buf) - p, f);
}

/*
 * Writes an ISO 8601 time with milliseconds and a UTC offset, quoted.
 * Entries one after the other mostly share their second: the last one
 * formatted is kept.
 */
static void
render_har_time(FILE *f, int64_t us)
{
	static time_t	 last = -1;
	static char	 buf[32];
	time_t		 t;
	struct tm	 tm;
	char		 ms[4];
	int		 v;

	if (us < 0)
		us = 0;
	t = (time_t)(us / 1000000);
	if (t != last) {
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(buf, sizeof(buf), "1970-01-01T00:00:00");
		last = t;
	}
	v = (int)((us % 1000000) / 1000);
	ms[0] = '.';
	ms[1] = (char)('0' + v / 100);
	ms[2] = (char)('0' + v / 10 % 10);
	ms[3] = (char)('0' + v % 10);
	fputc('"', f);
	fputs(buf, f);
	fwrite(ms, 1, sizeof(ms), f);
	fputs("+00:00\"", f);
}

/*
 * Below this many microseconds "%.3f" of us / 1000.0 is exactly the
 * integer's digits with a point three from the end: the quotient is
 * within half a unit in the last place, far below 0.0005, of the
 * three-decimal number it stands for.
 */
#define RENDER_HAR_EXACT_US	1000000000000000LL

/* A duration in microseconds as HAR milliseconds; -1 when unknown. */
static void
render_har_ms(FILE *f, int64_t us)
{
	char	 frac[4];

	if (us < 0)
		fputs("-1", f);
	else if (us >= RENDER_HAR_EXACT_US)
		fprintf(f, "%.3f", (double)us / 1000.0);
	else {
		render_har_int(f, "", (long long)(us / 1000));
		frac[0] = '.';
		frac[1] = (char)('0' + us % 1000 / 100);
		frac[2] = (char)('0' + us % 100 / 10);
		frac[3] = (char)('0' + us % 10);
		fwrite(frac, 1, sizeof(frac), f);
	}
}

/*
 * Bytes that may stand in a URI as they are (RFC 3986 unreserved,
 * sub-delims, ':', '@', '/', '?', '%'); everything else, including any
 * byte >= 0x80 from the wire, is percent-encoded.
 */
static int
render_har_uri_ok(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (c != 0 && strchr("-._~!$&'()*+,;=:@/?%[]", c) != NULL);
}

static void
render_har_uri_part(FILE *f, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (render_har_uri_ok(c) && (c != '%' || (i + 2 < len &&
		    strchr("0123456789abcdefABCDEF", s[i + 1]) != NULL &&
		    strchr("0123456789abcdefABCDEF", s[i + 2]) != NULL)))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

/*
 * The request URL: the target as sent when it is already absolute,
 * otherwise http:// (https:// on a TLS connection) + Host (or the
 * server address) + target.
 */
static void
render_har_url(FILE *f, const msgpack_object *req, const msgpack_object *conn)
{
	const msgpack_object	*tls = proto_get(conn, "tls");
	const char	*target, *host, *addr;
	size_t		 tlen, hlen, alen;
	int64_t		 port, dflt = 80;

	target = render_str(req, "target", &tlen);
	fputc('"', f);
	if (target != NULL && tlen > 7 && strncasecmp(target, "http://", 7) == 0) {
		render_har_uri_part(f, target, tlen);
		fputc('"', f);
		return;
	}
	if (tls != NULL && tls->type == MSGPACK_OBJECT_MAP) {
		fputs("https://", f);
		dflt = 443;
	} else
		fputs("http://", f);
	if (((host = render_header(req, "Host", &hlen)) != NULL ||
	    (host = render_header(req, ":authority", &hlen)) != NULL) &&
	    hlen > 0)
		render_har_uri_part(f, host, hlen);
	else if ((addr = render_str(conn, "server_addr", &alen)) != NULL) {
		port = render_int(conn, "server_port", dflt);
		if (memchr(addr, ':', alen) != NULL)
			fputc('[', f);
		render_har_uri_part(f, addr, alen);
		if (memchr(addr, ':', alen) != NULL)
			fputc(']', f);
		if (port != dflt)
			fprintf(f, ":%lld", (long long)port);
	} else
		fputs("unknown", f);
	if (target == NULL || tlen == 0 || target[0] != '/')
		fputc('/', f);
	if (target != NULL && !(tlen == 1 && target[0] == '*'))
		render_har_uri_part(f, target, tlen);
	fputc('"', f);
}

static void
render_har_headers(FILE *f, const msgpack_object *msg)
{
	const msgpack_object	*hs = render_array(msg, "headers");
	struct render_header	 h;
	uint32_t		 i, n = 0;

	fputs("\"headers\":[", f);
	for (i = 0; i < render_count(hs); i++) {
		if (render_header_at(hs, i, &h) == -1)
			continue;
		fputs(n++ > 0 ? ",{\"name\":" : "{\"name\":", f);
		render_json_str(f, h.name, h.nlen);
		fputs(",\"value\":", f);
		render_json_str(f, h.value, h.vlen);
		fputc('}', f);
	}
	fputc(']', f);
}

/* name=value pairs after '?', as they were sent (not percent-decoded). */
static void
render_har_query(FILE *f, const msgpack_object *req)
{
	const char	*t, *q, *end, *amp, *eq;
	size_t		 len;
	int		 n = 0;

	fputs("\"queryString\":[", f);
	t = render_str(req, "target", &len);
	if (t != NULL && (q = memchr(t, '?', len)) != NULL) {
		end = t + len;
		for (q++; q < end; q = amp + 1) {
			if ((amp = memchr(q, '&', end - q)) == NULL)
				amp = end;
			if (amp == q)
				continue;
			if ((eq = memchr(q, '=', amp - q)) == NULL)
				eq = amp;
			fputs(n++ > 0 ? ",{\"name\":" : "{\"name\":", f);
			render_json_str(f, q, eq - q);
			fputs(",\"value\":", f);
			render_json_str(f, eq < amp ? eq + 1 : amp,
			    eq < amp ? (size_t)(amp - eq - 1) : 0);
			fputc('}', f);
		}
	}
	fputc(']', f);
}

/* "HTTP/1.1" and "HTTP/1.0"; HTTP/2 is "h2", as browsers write it. */
static void
render_har_version(FILE *f, const msgpack_object *msg)
{
	const char	*v;
	size_t		 len;

	v = render_str(msg, "version", &len);
	if (v != NULL && len == 3 && memcmp(v, "2.0", 3) == 0) {
		fputs("\"httpVersion\":\"h2\"", f);
		return;
	}
	fputs("\"httpVersion\":\"HTTP/", f);
	if (v != NULL &&
	    len <= 3 && strspn(v, "0123456789.") >= len)
		fwrite(v, 1, len, f);
	else
		fputs("1.1", f);
	fputc('"', f);
}

static void
render_har_request(FILE *f, const msgpack_object *req,
    const msgpack_object *conn, int lost)
{
	const char	*m;
	size_t		 len;

	fputs("\"request\":{\"method\":", f);
	if ((m = render_str(req, "method", &len)) != NULL)
		render_json_str(f, m, len);
	else
		fputs("\"\"", f);
	fputs(",\"url\":", f);
	render_har_url(f, req, conn);
	fputc(',', f);
	render_har_version(f, req);
	fputs(",\"cookies\":[],", f);
	render_har_headers(f, req);
	fputc(',', f);
	render_har_query(f, req);
	render_har_int(f, ",\"headersSize\":",
	    (long long)render_int(req, "header_bytes", -1));
	render_har_int(f, ",\"bodySize\":",
	    (long long)render_int(req, "body_bytes", -1));
	if (lost)
		fputs(",\"comment\":\"request start not captured\"", f);
	fputc('}', f);
}

static void
render_har_content(FILE *f, const msgpack_object *resp)
{
	const char	*ct;
	size_t		 len;
	int64_t		 wire, decoded;

	wire = render_int(resp, "body_bytes", 0);
	decoded = render_int(resp, "decoded_bytes", -1);
	render_har_int(f, "\"content\":{\"size\":",
	    (long long)(decoded >= 0 ? decoded : wire));
	if (decoded >= 0)
		render_har_int(f, ",\"compression\":",
		    (long long)(decoded - wire));
	fputs(",\"mimeType\":", f);
	if ((ct = render_str(resp, "content_type", &len)) != NULL)
		render_json_str(f, ct, len);
	else
		fputs("\"\"", f);
	fputc('}', f);
}

static void
render_har_response(FILE *f, const msgpack_object *resp, int lost)
{
	const char	*s;
	size_t		 len;

	if (resp == NULL || resp->type != MSGPACK_OBJECT_MAP) {
		/* HAR has no way to say "none": an empty response, status 0. */
		fputs("\"response\":{\"status\":0,\"statusText\":\"\","
		    "\"httpVersion\":\"\",\"cookies\":[],\"headers\":[],"
		    "\"content\":{\"size\":0,\"mimeType\":\"\"},"
		    "\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":-1,"
		    "\"comment\":\"no response seen\"}", f);
		return;
	}
	render_har_int(f, "\"response\":{\"status\":",
	    (long long)render_int(resp, "status", 0));
	fputs(",\"statusText\":", f);
	s = render_str(resp, "reason", &len);
	render_json_str(f, s != NULL ? s : "", len);
	fputc(',', f);
	render_har_version(f, resp);
	fputs(",\"cookies\":[],", f);
	render_har_headers(f, resp);
	fputc(',', f);
	render_har_content(f, resp);
	fputs(",\"redirectURL\":", f);
	s = render_header(resp, "Location", &len);
	render_json_str(f, s != NULL ? s : "", s != NULL ? len : 0);
	render_har_int(f, ",\"headersSize\":",
	    (long long)render_int(resp, "header_bytes", -1));
	render_har_int(f, ",\"bodySize\":",
	    (long long)render_int(resp, "body_bytes", -1));
	if (lost)
		fprintf(f, ",\"comment\":\"response start not captured, "
		    "%lld bytes lost\"",
		    (long long)render_int(resp, "lost_bytes", 0));
	fputc('}', f);
}

static const char *render_har_tkeys[] = {
	"connect_us", "send_us", "wait_us", "receive_us"
};

/*
 * The TLS handshake of the connection, for its first transaction only;
 * -1 where it does not apply (HAR 1.2: timings.ssl).
 */
static int64_t
render_har_ssl(const msgpack_object *txn, const msgpack_object *conn)
{
	const msgpack_object	*tls = proto_get(conn, "tls");

	if (tls == NULL || tls->type != MSGPACK_OBJECT_MAP ||
	    render_int(txn, "index", -1) != 0)
		return (-1);
	return (render_int(tls, "handshake_us", -1));
}

/*
 * HAR's entry time is the sum of the timings that apply; ssl is part of
 * connect (HAR 1.2, for HTTP/1.1 compatibility), counted once.
 */
static int64_t
render_har_total(const msgpack_object *tm, int64_t ssl)
{
	int64_t	 v, total = ssl > 0 ? ssl : 0;
	size_t	 i;

	for (i = 0; i < 4; i++)
		if ((v = render_int(tm, render_har_tkeys[i], -1)) > 0)
			total += v;
	return (total);
}

/*
 * The lookup a connection opened for txn waited for: its time, and the
 * time from its answer to the SYN as blocked; both -1 without one.
 */
static void
render_har_dns(const struct doc *d, const msgpack_object *txn,
    const msgpack_object *conn, int64_t *dns, int64_t *blocked)
{
	const msgpack_object	*l = doc_conn_dns(d, conn);
	int64_t			 q, r, syn;

	*dns = *blocked = -1;
	q = render_int(l, "query_us", -1);
	r = render_int(l, "response_us", -1);
	syn = render_int(conn, "syn_us", -1);
	if (l == NULL || render_int(txn, "index", -1) != 0 || q < 0 ||
	    r < q || syn < r)
		return;
	*dns = r - q;
	*blocked = syn - r;
}

static void
render_har_timings(FILE *f, const msgpack_object *tm, int64_t ssl,
    int64_t dns, int64_t blocked)
{
	const char	*names[] = { ",\"connect\":", ",\"send\":",
			    ",\"wait\":", ",\"receive\":" };
	int64_t		 v;
	size_t		 i;

	fputs("\"timings\":{\"blocked\":", f);
	render_har_ms(f, blocked);
	fputs(",\"dns\":", f);
	render_har_ms(f, dns);
	fputs(",\"ssl\":", f);
	render_har_ms(f, ssl);
	for (i = 0; i < 4; i++) {
		v = render_int(tm, render_har_tkeys[i], -1);
		if (i == 0 && ssl > 0)
			v = v > 0 ? v + ssl : ssl;
		fputs(names[i], f);
		render_har_ms(f, v);
	}
	fputc('}', f);
}

void
render_har_entry(FILE *f, const struct doc *d, const msgpack_object *txn,
    uint64_t session)
{
	const msgpack_object	*req, *resp, *conn, *tm;
	const char		*addr;
	size_t			 alen;
	int64_t			 start, connect, total, ssl, dns, blocked;

	req = proto_get(txn, "request");
	resp = proto_get(txn, "response");
	tm = proto_get(txn, "timings");
	conn = doc_conn(d, (uint64_t)render_int(txn, "connection", 0));
	ssl = render_har_ssl(txn, conn);
	render_har_dns(d, txn, conn, &dns, &blocked);

	start = render_int(req, "start_us", render_int(resp, "start_us", 0));
	if ((connect = render_int(tm, "connect_us", -1)) > 0)
		start -= connect;
	if (ssl > 0)
		start -= ssl;
	if (dns >= 0)
		start -= dns + blocked;
	render_har_int(f, "{\"pageref\":\"session_", (long long)session);
	fputs("\",\"startedDateTime\":", f);
	render_har_time(f, start);
	total = render_har_total(tm, ssl);
	if (dns >= 0)
		total += dns + blocked;
	fputs(",\"time\":", f);
	render_har_ms(f, total);
	fputc(',', f);
	render_har_request(f, req, conn, render_bool(txn, "request_lost"));
	fputc(',', f);
	render_har_response(f, resp, render_bool(txn, "response_lost"));
	fputs(",\"cache\":{},", f);
	render_har_timings(f, tm, ssl, dns, blocked);
	if ((addr = render_str(conn, "server_addr", &alen)) != NULL) {
		fputs(",\"serverIPAddress\":", f);
		render_json_str(f, addr, alen);
	}
	render_har_int(f, ",\"connection\":\"",
	    (long long)render_int(txn, "connection", 0));
	fputs("\"}", f);
}

static void
render_har_page(FILE *f, const msgpack_object *s, uint64_t id)
{
	const char	*src;
	size_t		 len;
	int64_t		 start;

	start = render_int(s, "first_frame_us", -1);
	if (start < 0)
		start = render_int(s, "start_us", 0);
	fprintf(f, "\"pages\":[{\"id\":\"session_%llu\",\"startedDateTime\":",
	    (unsigned long long)id);
	render_har_time(f, start);
	fputs(",\"title\":", f);
	if ((src = render_str(s, "source", &len)) != NULL)
		render_json_str(f, src, len);
	else
		fprintf(f, "\"session %llu\"", (unsigned long long)id);
	fputs(",\"pageTimings\":{\"onContentLoad\":-1,\"onLoad\":-1}}]", f);
}

void
render_har_head(FILE *f, const msgpack_object *session, uint64_t id)
{
	fputs("{\"log\":{\"version\":\"1.2\",\"creator\":"
	    "{\"name\":\"htracr\",\"version\":\"0.1\"},", f);
	render_har_page(f, session, id);
	fputs(",\"entries\":[", f);
}

int
render_har_tail(FILE *f)
{
	fputs("\n]}}\n", f);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

int
render_har(FILE *f, const struct doc *d)
{
	const msgpack_object	*txns = d->transactions;
	uint64_t		 id;
	uint32_t		 i;

	id = (uint64_t)render_int(d->session, "id", 0);
	render_har_head(f, d->session, id);
	for (i = 0; i < render_count(txns); i++) {
		if (i > 0)
			fputc(',', f);
		fputc('\n', f);
		render_har_entry(f, d, &txns->via.array.ptr[i], id);
	}
	return (render_har_tail(f));
}
