/*
 * otlp_span.c: the spans of one connection and of one transaction in
 * OTLP/JSON, attributes named by OpenTelemetry's semantic conventions
 * for HTTP clients where one fits and htracr.* where none does. A
 * connection is the root span of its trace, its TCP and TLS handshakes
 * child spans and its state changes events; a transaction is a CLIENT
 * span under it, its send, wait and receive phases child spans. Runs
 * in htracrctl with the invoking user's privileges; every string from
 * the wire is written by json.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "otlp_int.h"
#include "proto.h"
#include "xmalloc.h"

struct otlp_span {
	const uint64_t	*trace;
	uint64_t	 id;
	uint64_t	 parent;	/* 0: the root of its trace */
	const char	*name;
	size_t		 namelen;
	int		 kind;
	uint64_t	 start_us;
	uint64_t	 end_us;
};

/* The string of a field, NULL if it is not one. */
static const char *
otlp_str(const msgpack_object *o, const char *key, size_t *len)
{
	const char	*s;

	if (proto_get_str(o, key, &s, len) == -1)
		return (NULL);
	return (s);
}

static const msgpack_object *
otlp_map(const msgpack_object *o, const char *key)
{
	const msgpack_object	*v = proto_get(o, key);

	return (v != NULL && v->type == MSGPACK_OBJECT_MAP ? v : NULL);
}

static uint64_t
otlp_u64(const msgpack_object *o, const char *key)
{
	uint64_t	 v = 0;

	(void)proto_get_u64(o, key, &v);
	return (v);
}

static void
otlp_hex(struct otlp *o, uint64_t v)
{
	static const char	 digits[] = "0123456789abcdef";
	char			 b[16];
	int			 i;

	for (i = 15; i >= 0; i--) {
		b[i] = digits[v & 0xf];
		v >>= 4;
	}
	json_out_raw(o->out, b, sizeof(b));
}

/* Nanoseconds as the decimal string OTLP/JSON wants for a fixed64. */
static void
otlp_nanos(struct otlp *o, uint64_t us)
{
	OTLP_RAW(o, "\"");
	json_out_u64(o->out, us);
	if (us != 0)
		OTLP_RAW(o, "000");
	OTLP_RAW(o, "\"");
}

static void
otlp_attr_key(struct otlp *o, const char *key)
{
	if (o->nattr++ > 0)
		OTLP_RAW(o, ",");
	OTLP_RAW(o, "{\"key\":");
	json_out_str(o->out, key, strlen(key));
	OTLP_RAW(o, ",\"value\":{");
}

void
otlp_attr_str(struct otlp *o, const char *key, const void *s, size_t len)
{
	otlp_attr_key(o, key);
	OTLP_RAW(o, "\"stringValue\":");
	json_out_str(o->out, s, len);
	OTLP_RAW(o, "}}");
}

void
otlp_attr_strz(struct otlp *o, const char *key, const char *s)
{
	otlp_attr_str(o, key, s, strlen(s));
}

/* An int64 is a decimal string in protobuf's JSON. */
void
otlp_attr_int(struct otlp *o, const char *key, int64_t v)
{
	otlp_attr_key(o, key);
	OTLP_RAW(o, "\"intValue\":\"");
	if (v < 0) {
		OTLP_RAW(o, "-");
		json_out_u64(o->out, 0 - (uint64_t)v);
	} else
		json_out_u64(o->out, (uint64_t)v);
	OTLP_RAW(o, "\"}}");
}

void
otlp_attr_bool(struct otlp *o, const char *key, int v)
{
	otlp_attr_key(o, key);
	if (v)
		OTLP_RAW(o, "\"boolValue\":true}}");
	else
		OTLP_RAW(o, "\"boolValue\":false}}");
}

/* Field key of map m as an attribute, when m has it as a string. */
static void
otlp_attr_field(struct otlp *o, const char *attr, const msgpack_object *m,
    const char *key)
{
	const char	*s;
	size_t		 len;

	if ((s = otlp_str(m, key, &len)) != NULL)
		otlp_attr_str(o, attr, s, len);
}

static void
otlp_attr_field_int(struct otlp *o, const char *attr,
    const msgpack_object *m, const char *key)
{
	uint64_t	 v;

	if (proto_get_u64(m, key, &v) == 0 && v <= INT64_MAX)
		otlp_attr_int(o, attr, (int64_t)v);
}

/* A list of strings (a connection's flags) as an arrayValue. */
static void
otlp_attr_list(struct otlp *o, const char *attr, const msgpack_object *a)
{
	uint32_t	 i, n = 0;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	otlp_attr_key(o, attr);
	OTLP_RAW(o, "\"arrayValue\":{\"values\":[");
	for (i = 0; i < a->via.array.size; i++) {
		if (a->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			continue;
		if (n++ > 0)
			OTLP_RAW(o, ",");
		OTLP_RAW(o, "{\"stringValue\":");
		json_out_str(o->out, a->via.array.ptr[i].via.str.ptr,
		    a->via.array.ptr[i].via.str.size);
		OTLP_RAW(o, "}");
	}
	OTLP_RAW(o, "]}}}");
}

/* A span up to its attribute list, which is left open. */
static void
otlp_span_open(struct otlp *o, const struct otlp_span *s)
{
	otlp_span_begin(o);
	OTLP_RAW(o, "{\"traceId\":\"");
	otlp_hex(o, s->trace[0]);
	otlp_hex(o, s->trace[1]);
	OTLP_RAW(o, "\",\"spanId\":\"");
	otlp_hex(o, s->id);
	if (s->parent != 0) {
		OTLP_RAW(o, "\",\"parentSpanId\":\"");
		otlp_hex(o, s->parent);
	}
	OTLP_RAW(o, "\",\"name\":");
	json_out_str(o->out, s->name, s->namelen);
	OTLP_RAW(o, ",\"kind\":");
	json_out_u64(o->out, (uint64_t)s->kind);
	OTLP_RAW(o, ",\"startTimeUnixNano\":");
	otlp_nanos(o, s->start_us);
	OTLP_RAW(o, ",\"endTimeUnixNano\":");
	otlp_nanos(o, s->end_us > s->start_us ? s->end_us : s->start_us);
	OTLP_RAW(o, ",\"attributes\":[");
	o->nattr = 0;
}

/* After the attribute list (and any events): the status, the end. */
static int
otlp_span_close(struct otlp *o, int code)
{
	if (code == OTLP_STATUS_ERROR)
		OTLP_RAW(o, ",\"status\":{\"code\":2}}");
	else
		OTLP_RAW(o, ",\"status\":{}}");
	return (otlp_span_done(o));
}

/* A phase: an INTERNAL child span of parent, none if a time is unknown. */
static int
otlp_phase(struct otlp *o, const uint64_t trace[2], uint64_t parent,
    enum otlp_role role, uint64_t txn, const char *name, uint64_t start,
    uint64_t end)
{
	struct otlp_span	 s;

	if (start == 0 || end < start)
		return (0);
	s.trace = trace;
	s.id = otlp_span_id(trace, role, txn);
	s.parent = parent;
	s.name = name;
	s.namelen = strlen(name);
	s.kind = OTLP_KIND_INTERNAL;
	s.start_us = start;
	s.end_us = end;
	otlp_span_open(o, &s);
	OTLP_RAW(o, "]");
	return (otlp_span_close(o, OTLP_STATUS_UNSET));
}

/* server.address: the name the client used (Host, SNI), else the IP. */
static void
otlp_server_address(const struct otlp *o, const struct otlp_conn *c,
    const char **s, size_t *len)
{
	const struct otlp_server	*sv = otlp_server(o, c->server);

	if (sv != NULL && sv->name[0] != '\0')
		*s = sv->name;
	else
		*s = c->saddr;
	*len = strlen(*s);
	/* An IPv6 address from a Host header comes in brackets. */
	if (*len > 2 && (*s)[0] == '[' && (*s)[*len - 1] == ']') {
		(*s)++;
		*len -= 2;
	}
}

/*
 * Both ends of the connection, as a transaction's span has them too;
 * host is the server's name as the request gave it, NULL for the
 * connection's.
 */
static void
otlp_attr_peers(struct otlp *o, const struct otlp_conn *c, const char *host,
    size_t len)
{
	if (host == NULL)
		otlp_server_address(o, c, &host, &len);
	otlp_attr_str(o, "server.address", host, len);
	otlp_attr_int(o, "server.port", (int64_t)c->sport);
	otlp_attr_strz(o, "client.address", c->caddr);
	otlp_attr_int(o, "client.port", (int64_t)c->cport);
	otlp_attr_strz(o, "network.peer.address", c->saddr);
	otlp_attr_int(o, "network.peer.port", (int64_t)c->sport);
	otlp_attr_strz(o, "network.transport", "tcp");
	otlp_attr_strz(o, "network.type", c->ipv6 ? "ipv6" : "ipv4");
}

static void
otlp_attr_dir(struct otlp *o, const msgpack_object *item, const char *dir)
{
	const msgpack_object	*d = otlp_map(item, dir);
	char			 key[64];

	if (d == NULL)
		return;
	snprintf(key, sizeof(key), "htracr.%s.payload_bytes", dir);
	otlp_attr_field_int(o, key, d, "payload_bytes");
	snprintf(key, sizeof(key), "htracr.%s.retransmits", dir);
	otlp_attr_field_int(o, key, d, "retransmits");
}

/* "TLS 1.3" is tls.protocol.name "tls" and version "1.3". */
static void
otlp_attr_tls(struct otlp *o, const msgpack_object *tls)
{
	const char	*v;
	size_t		 len;
	int		 b;

	otlp_attr_strz(o, "tls.protocol.name", "tls");
	if ((v = otlp_str(tls, "version", &len)) != NULL && len > 4 &&
	    memcmp(v, "TLS ", 4) == 0)
		otlp_attr_str(o, "tls.protocol.version", v + 4, len - 4);
	otlp_attr_field(o, "tls.cipher", tls, "cipher");
	otlp_attr_field(o, "tls.client.server_name", tls, "sni");
	otlp_attr_field(o, "tls.next_protocol", tls, "alpn");
	if (proto_get_bool(tls, "resumed", &b) == 0)
		otlp_attr_bool(o, "tls.resumed", b);
	if (proto_get_bool(tls, "decrypted", &b) == 0)
		otlp_attr_bool(o, "htracr.tls.decrypted", b);
}

/* Each change of the connection's state, an event at its time. */
static void
otlp_conn_events(struct otlp *o, const msgpack_object *item)
{
	const msgpack_object	*a = proto_get(item, "states"), *st;
	const char		*name;
	size_t			 len;
	uint32_t		 i, n = 0;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < a->via.array.size; i++) {
		st = &a->via.array.ptr[i];
		if ((name = otlp_str(st, "state", &len)) == NULL)
			continue;
		if (n++ == 0)
			OTLP_RAW(o, ",\"events\":[");
		else
			OTLP_RAW(o, ",");
		OTLP_RAW(o, "{\"timeUnixNano\":");
		otlp_nanos(o, otlp_u64(st, "us"));
		OTLP_RAW(o, ",\"name\":");
		json_out_str(o->out, name, len);
		OTLP_RAW(o, "}");
	}
	if (n > 0)
		OTLP_RAW(o, "]");
}

int
otlp_conn_spans(struct otlp *o, const struct otlp_conn *c,
    const msgpack_object *item)
{
	const msgpack_object	*tls = otlp_map(item, "tls");
	struct otlp_span	 s;
	uint64_t		 syn;

	memset(&s, 0, sizeof(s));
	s.trace = c->trace;
	s.id = otlp_span_id(c->trace, OTLP_CONNECTION, 0);
	s.name = "connection";
	s.namelen = strlen(s.name);
	s.kind = OTLP_KIND_INTERNAL;
	s.start_us = otlp_u64(item, "first_us");
	s.end_us = otlp_u64(item, "last_us");
	if ((syn = otlp_u64(item, "syn_us")) != 0 && syn < s.start_us)
		s.start_us = syn;
	otlp_span_open(o, &s);
	otlp_attr_peers(o, c, NULL, 0);
	otlp_attr_int(o, "htracr.connection.id", (int64_t)c->id);
	otlp_attr_field(o, "htracr.connection.state", item, "state");
	otlp_attr_list(o, "htracr.connection.flags", proto_get(item, "flags"));
	otlp_attr_field_int(o, "htracr.rtt_us", item, "rtt_us");
	otlp_attr_dir(o, item, "c2s");
	otlp_attr_dir(o, item, "s2c");
	if (tls != NULL)
		otlp_attr_tls(o, tls);
	OTLP_RAW(o, "]");
	otlp_conn_events(o, item);
	if (otlp_span_close(o, OTLP_STATUS_UNSET) == -1)
		return (-1);
	if (otlp_phase(o, c->trace, s.id, OTLP_TCP_HANDSHAKE, 0,
	    "tcp handshake", syn, otlp_u64(item, "established_us")) == -1)
		return (-1);
	if (tls != NULL && otlp_phase(o, c->trace, s.id, OTLP_TLS_HANDSHAKE,
	    0, "tls handshake", otlp_u64(tls, "client_hello_us"),
	    otlp_u64(tls, "handshake_done_us")) == -1)
		return (-1);
	return (0);
}

/*
 * A request target's path and query: origin-form as it is,
 * absolute-form past its scheme and authority. -1 for the others
 * (CONNECT's authority, OPTIONS' "*").
 */
static int
otlp_target_parts(const char *t, size_t len, const char **path,
    size_t *plen, const char **query, size_t *qlen)
{
	const char	*p, *q, *end = t + len;

	if (len > 0 && t[0] == '/')
		p = t;
	else if ((p = memmem(t, len, "://", 3)) != NULL) {
		p += 3;
		while (p < end && *p != '/' && *p != '?')
			p++;
	} else
		return (-1);
	q = memchr(p, '?', (size_t)(end - p));
	*path = p;
	*plen = (size_t)((q != NULL ? q : end) - p);
	*query = q != NULL ? q + 1 : NULL;
	*qlen = q != NULL ? (size_t)(end - q - 1) : 0;
	return (0);
}

/*
 * url.full: an absolute-form target as sent; otherwise the scheme, the
 * host the client named (brackets around an IPv6 address), the port
 * unless it is the scheme's own, and the target.
 */
static void
otlp_attr_url(struct otlp *o, const struct otlp_conn *c, const char *host,
    size_t hlen, const char *t, size_t len)
{
	const char	*scheme = c->tls ? "https" : "http";
	char		*url, port[16] = "";
	size_t		 size, n;
	int		 v6;

	otlp_attr_strz(o, "url.scheme", scheme);
	if (memmem(t, len, "://", 3) != NULL && (len == 0 || t[0] != '/')) {
		otlp_attr_str(o, "url.full", t, len);
		return;
	}
	v6 = memchr(host, ':', hlen) != NULL;
	if (c->sport != (c->tls ? 443 : 80))
		snprintf(port, sizeof(port), ":%llu",
		    (unsigned long long)c->sport);
	size = strlen(scheme) + 3 + hlen + 2 + strlen(port) + len + 1;
	url = xmalloc(size);
	n = (size_t)snprintf(url, size, "%s://%s", scheme, v6 ? "[" : "");
	memcpy(url + n, host, hlen);
	n += hlen;
	n += (size_t)snprintf(url + n, size - n, "%s%s", v6 ? "]" : "", port);
	memcpy(url + n, t, len);
	otlp_attr_str(o, "url.full", url, n + len);
	free(url);
}

/* The value of the first header called name (any case), NULL if none. */
static const char *
otlp_header(const msgpack_object *msg, const char *name, size_t *len)
{
	const msgpack_object	*a = proto_get(msg, "headers"), *h;
	size_t			 nlen = strlen(name);
	uint32_t		 i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return (NULL);
	for (i = 0; i < a->via.array.size; i++) {
		h = &a->via.array.ptr[i];
		if (h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size != 2 ||
		    h->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    h->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
			continue;
		if (h->via.array.ptr[0].via.str.size == nlen &&
		    strncasecmp(h->via.array.ptr[0].via.str.ptr, name,
		    nlen) == 0) {
			*len = h->via.array.ptr[1].via.str.size;
			return (h->via.array.ptr[1].via.str.ptr);
		}
	}
	return (NULL);
}

/*
 * The server's name as this request gives it (Host, or :authority on
 * HTTP/2) without its port or brackets, else the connection's.
 */
static const char *
otlp_txn_host(const struct otlp *o, const struct otlp_conn *c,
    const msgpack_object *req, size_t *len)
{
	const char	*h, *end;

	if ((h = otlp_header(req, "Host", len)) == NULL)
		h = otlp_header(req, ":authority", len);
	if (h == NULL || *len == 0) {
		otlp_server_address(o, c, &h, len);
		return (h);
	}
	if (h[0] == '[' && (end = memchr(h, ']', *len)) != NULL) {
		*len = (size_t)(end - h - 1);
		return (h + 1);
	}
	if ((end = memchr(h, ':', *len)) != NULL)
		*len = (size_t)(end - h);
	return (h);
}

static void
otlp_attr_request(struct otlp *o, const struct otlp_conn *c,
    const msgpack_object *req, const char *host, size_t hlen)
{
	const char	*s, *path, *query;
	size_t		 len, plen, qlen;

	otlp_attr_field(o, "http.request.method", req, "method");
	if ((s = otlp_str(req, "target", &len)) != NULL) {
		if (c != NULL)
			otlp_attr_url(o, c, host, hlen, s, len);
		if (otlp_target_parts(s, len, &path, &plen, &query,
		    &qlen) == 0) {
			otlp_attr_str(o, "url.path", path, plen);
			if (query != NULL)
				otlp_attr_str(o, "url.query", query, qlen);
		}
	}
	otlp_attr_field_int(o, "http.request.body.size", req, "body_bytes");
	otlp_attr_int(o, "http.request.size", (int64_t)(otlp_u64(req,
	    "header_bytes") + otlp_u64(req, "body_bytes")));
	if ((s = otlp_header(req, "User-Agent", &len)) != NULL)
		otlp_attr_str(o, "user_agent.original", s, len);
}

static void
otlp_attr_response(struct otlp *o, const msgpack_object *resp)
{
	otlp_attr_field_int(o, "http.response.status_code", resp, "status");
	otlp_attr_field_int(o, "http.response.body.size", resp, "body_bytes");
	otlp_attr_int(o, "http.response.size", (int64_t)(otlp_u64(resp,
	    "header_bytes") + otlp_u64(resp, "body_bytes")));
	otlp_attr_field_int(o, "htracr.response.decoded_bytes", resp,
	    "decoded_bytes");
}

/* "1.1" from "http/1.1", "2" from "h2"; else the request's version. */
static void
otlp_attr_version(struct otlp *o, const msgpack_object *t,
    const msgpack_object *req)
{
	const char	*p;
	size_t		 len;

	otlp_attr_strz(o, "network.protocol.name", "http");
	if ((p = otlp_str(t, "protocol", &len)) != NULL) {
		if (len == 2 && memcmp(p, "h2", 2) == 0)
			otlp_attr_strz(o, "network.protocol.version", "2");
		else if (len > 5 && memcmp(p, "http/", 5) == 0)
			otlp_attr_str(o, "network.protocol.version", p + 5,
			    len - 5);
	} else if (req != NULL)
		otlp_attr_field(o, "network.protocol.version", req, "version");
}

/*
 * An error, as the conventions have it for a client: no response, or
 * a status of 400 and up (error.type is then the status).
 */
static int
otlp_txn_status(struct otlp *o, const msgpack_object *t,
    const msgpack_object *resp)
{
	uint64_t	 status;
	char		 buf[24];
	int		 lost = 0;

	if (resp == NULL) {
		otlp_attr_strz(o, "error.type", "no_response");
		return (OTLP_STATUS_ERROR);
	}
	if (proto_get_u64(resp, "status", &status) == -1) {
		(void)proto_get_bool(t, "response_lost", &lost);
		otlp_attr_strz(o, "error.type", lost ? "response_lost" :
		    "no_status");
		return (OTLP_STATUS_ERROR);
	}
	if (status < 400)
		return (OTLP_STATUS_UNSET);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)status);
	otlp_attr_strz(o, "error.type", buf);
	return (OTLP_STATUS_ERROR);
}

/* First byte to last: of the request, else of the response. */
static void
otlp_txn_bounds(const msgpack_object *req, const msgpack_object *resp,
    uint64_t *start, uint64_t *end)
{
	const char	*keys[] = { "start_us", "end_us" };
	const msgpack_object	*msgs[] = { req, resp };
	uint64_t	 v;
	size_t		 i, k;

	*start = *end = 0;
	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++) {
			if ((v = otlp_u64(msgs[i], keys[k])) == 0)
				continue;
			if (*start == 0 || v < *start)
				*start = v;
			if (v > *end)
				*end = v;
		}
}

/* The transaction's phases from its timings, each where it began. */
static int
otlp_txn_phases(struct otlp *o, const struct otlp_span *s,
    const msgpack_object *t, const msgpack_object *req,
    const msgpack_object *resp, uint64_t tid)
{
	const msgpack_object	*tm = otlp_map(t, "timings");
	uint64_t		 at, d;

	if (tm == NULL)
		return (0);
	if (proto_get_u64(tm, "send_us", &d) == 0 &&
	    (at = otlp_u64(req, "start_us")) != 0 &&
	    otlp_phase(o, s->trace, s->id, OTLP_SEND, tid, "send", at,
	    at + d) == -1)
		return (-1);
	if (proto_get_u64(tm, "wait_us", &d) == 0 &&
	    (at = otlp_u64(req, "end_us")) != 0 &&
	    otlp_phase(o, s->trace, s->id, OTLP_WAIT, tid, "wait", at,
	    at + d) == -1)
		return (-1);
	if (proto_get_u64(tm, "receive_us", &d) == 0 &&
	    (at = otlp_u64(resp, "start_us")) != 0 &&
	    otlp_phase(o, s->trace, s->id, OTLP_RECEIVE, tid, "receive", at,
	    at + d) == -1)
		return (-1);
	return (0);
}

int
otlp_txn_spans(struct otlp *o, const msgpack_object *t)
{
	const msgpack_object	*req = otlp_map(t, "request");
	const msgpack_object	*resp = otlp_map(t, "response");
	const struct otlp_conn	*c;
	struct otlp_span	 s;
	const char		*host = NULL;
	uint64_t		 trace[2], tid, conn = 0;
	size_t			 hlen = 0;
	int			 code;

	if (proto_get_u64(t, "id", &tid) == -1)
		return (0);
	memset(&s, 0, sizeof(s));
	(void)proto_get_u64(t, "connection", &conn);
	if ((c = otlp_conn(o, conn)) != NULL) {
		s.trace = c->trace;
		s.parent = otlp_span_id(c->trace, OTLP_CONNECTION, 0);
	} else {
		otlp_trace_id(o, conn, trace);
		s.trace = trace;
	}
	s.id = otlp_span_id(s.trace, OTLP_TRANSACTION, tid);
	/* The conventions name a client span by its method alone. */
	if (req == NULL || (s.name = otlp_str(req, "method",
	    &s.namelen)) == NULL) {
		s.name = "HTTP";
		s.namelen = 4;
	}
	s.kind = OTLP_KIND_CLIENT;
	otlp_txn_bounds(req, resp, &s.start_us, &s.end_us);
	otlp_span_open(o, &s);
	if (c != NULL)
		host = otlp_txn_host(o, c, req, &hlen);
	if (req != NULL)
		otlp_attr_request(o, c, req, host, hlen);
	if (resp != NULL)
		otlp_attr_response(o, resp);
	if (c != NULL)
		otlp_attr_peers(o, c, host, hlen);
	otlp_attr_version(o, t, req);
	otlp_attr_int(o, "htracr.transaction.id", (int64_t)tid);
	otlp_attr_int(o, "htracr.connection.id", (int64_t)conn);
	otlp_attr_field_int(o, "htracr.transaction.index", t, "index");
	otlp_attr_field_int(o, "htracr.http2.stream_id", t, "stream_id");
	code = otlp_txn_status(o, t, resp);
	OTLP_RAW(o, "]");
	if (otlp_span_close(o, code) == -1)
		return (-1);
	return (otlp_txn_phases(o, &s, t, req, resp, tid));
}
