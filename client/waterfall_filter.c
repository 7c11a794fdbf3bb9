/*
 * waterfall_filter.c: which transactions and connections the waterfall
 * shows under --host, --status, --method and --min-wait, and which
 * servers and connections --hide-server and --hide-conn leave out.
 * Runs in htracrctl; it only reads the document.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto.h"
#include "render.h"
#include "waterfall_int.h"

/* One status pattern: "404", "4xx". */
static int
wf_status_one(const char *p, size_t len, int64_t status)
{
	char	 digits[4];
	size_t	 i;

	if (len != 3)
		return (-1);
	for (i = 0; i < 3; i++) {
		if (isdigit((unsigned char)p[i]))
			continue;
		if (i == 0 || (p[i] != 'x' && p[i] != 'X'))
			return (-1);
	}
	if (status < 100 || status > 999)
		return (0);
	snprintf(digits, sizeof(digits), "%03d", (int)status);
	for (i = 0; i < 3; i++)
		if (isdigit((unsigned char)p[i]) && p[i] != digits[i])
			return (0);
	return (1);
}

/* 1 if status matches the comma-separated list, 0 if not, -1 if bad. */
int
wf_status_match(const char *list, int64_t status)
{
	const char	*p = list, *comma;
	int		 m, any = 0;

	for (;;) {
		comma = strchr(p, ',');
		m = wf_status_one(p, comma ? (size_t)(comma - p) : strlen(p),
		    status);
		if (m == -1)
			return (-1);
		any |= m;
		if (comma == NULL)
			return (any);
		p = comma + 1;
	}
}

int
waterfall_status_ok(const char *list)
{
	return (wf_status_match(list, 200) == -1 ? -1 : 0);
}

/* Case-insensitive substring of a wire string. */
int
wf_contains(const char *s, size_t len, const char *needle)
{
	size_t	 n = strlen(needle), i;

	for (i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return (1);
	return (0);
}

/* The server's name for filters and labels: Host name, else address. */
static int
wf_host_match(const msgpack_object *srv, const char *host)
{
	const char	*s;
	size_t		 len;

	if ((s = render_str(srv, "name", &len)) != NULL &&
	    wf_contains(s, len, host))
		return (1);
	return ((s = render_str(srv, "addr", &len)) != NULL &&
	    wf_contains(s, len, host));
}

/* A decimal id, as typed in a --hide list; 0 if it is not one. */
static uint64_t
wf_hide_id(const char *p, size_t len)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (len == 0 || len > 9)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return (0);
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return (v);
}

/*
 * Whether a --hide list names the item: by its id, or (servers) by its
 * name or address, whole and in any case.
 */
static int
wf_hide_match(const char *list, const msgpack_object *item, int names)
{
	const char	*p = list, *comma, *s;
	size_t		 len, slen;
	uint64_t	 id = (uint64_t)render_int(item, "id", 0);

	for (;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (wf_hide_id(p, len) == id && id != 0)
			return (1);
		if (names && (((s = render_str(item, "name", &slen)) != NULL &&
		    slen == len && strncasecmp(s, p, len) == 0) ||
		    ((s = render_str(item, "addr", &slen)) != NULL &&
		    slen == len && strncasecmp(s, p, len) == 0)))
			return (1);
		if (comma == NULL)
			return (0);
	}
}

int
waterfall_layers(const char *arg, int *layers)
{
	static const struct {
		const char	*name;
		int		 bit;
	} names[] = {
		{ "packets", WATERFALL_L_PACKETS }, { "states", WATERFALL_L_STATES },
		{ "txn", WATERFALL_L_TXN }, { "transactions", WATERFALL_L_TXN },
		{ "tls", WATERFALL_L_TLS }, { "dns", WATERFALL_L_DNS },
	};
	const char	*p = arg, *end;
	size_t		 i, len;

	*layers = 0;
	do {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(names[i].name, p, len) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return (-1);
		*layers |= names[i].bit;
		p = end + 1;
	} while (end != NULL);
	return (0);
}

int
waterfall_hide_ok(const char *list, int names)
{
	const char	*p = list, *comma;
	size_t		 len;

	for (;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || (!names && wf_hide_id(p, len) == 0))
			return (-1);
		if (comma == NULL)
			return (0);
	}
}

/* Whether --hide-server or --hide-conn leaves out connection c. */
static int
wf_conn_hidden(const struct wf *w, const msgpack_object *c)
{
	const struct waterfall_opts	*o = w->o;
	const msgpack_object		*srv;

	if (o->hide_conns != NULL && wf_hide_match(o->hide_conns, c, 0))
		return (1);
	if (o->hide_servers == NULL)
		return (0);
	srv = doc_server(w->d, (uint64_t)render_int(c, "server", 0));
	return (srv != NULL && wf_hide_match(o->hide_servers, srv, 1));
}

int
wf_filtered(const struct waterfall_opts *o)
{
	return (o->host != NULL || o->status != NULL || o->method != NULL ||
	    o->min_wait_us >= 0 || o->hide_servers != NULL ||
	    o->hide_conns != NULL);
}

/* Whether a transaction passes the filters. */
int
wf_txn_ok(const struct wf *w, const msgpack_object *t)
{
	const struct waterfall_opts	*o = w->o;
	const msgpack_object		*req, *resp, *c;
	const char			*m;
	size_t				 len;

	req = proto_get(t, "request");
	resp = proto_get(t, "response");
	if ((o->hide_servers != NULL || o->hide_conns != NULL) &&
	    (c = doc_conn(w->d, (uint64_t)render_int(t, "connection", 0))) !=
	    NULL && wf_conn_hidden(w, c))
		return (0);
	if (o->host != NULL && !wf_host_match(doc_server(w->d,
	    (uint64_t)render_int(t, "server", 0)), o->host))
		return (0);
	if (o->method != NULL && ((m = render_str(req, "method", &len)) ==
	    NULL || len != strlen(o->method) ||
	    strncasecmp(m, o->method, len) != 0))
		return (0);
	if (o->status != NULL &&
	    wf_status_match(o->status, render_int(resp, "status", -1)) != 1)
		return (0);
	if (o->min_wait_us >= 0 && render_int(proto_get(t, "timings"),
	    "wait_us", -1) < o->min_wait_us)
		return (0);
	return (1);
}

int
wf_conn_ok(const struct wf *w, const msgpack_object *c)
{
	const struct waterfall_opts	*o = w->o;
	const msgpack_object		*ids = render_array(c, "transactions");
	const msgpack_object		*t;
	uint32_t			 i;

	if (wf_conn_hidden(w, c))
		return (0);
	/* Without a filter on transactions, one with none is shown too. */
	if (o->host == NULL && o->status == NULL && o->method == NULL &&
	    o->min_wait_us < 0)
		return (1);
	for (i = 0; i < render_count(ids); i++) {
		const msgpack_object	*id = &ids->via.array.ptr[i];

		if (id->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			continue;
		t = doc_txn(w->d, id->via.u64);
		if (t != NULL && wf_txn_ok(w, t))
			return (1);
	}
	return (0);
}
