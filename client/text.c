/*
 * text.c: the renderer for people: a session's servers, connections
 * (with packets on request) and transactions as aligned tables, plus
 * the sessions list and capture status. Runs in htracrctl with the
 * invoking user's privileges. Every string from the wire goes through
 * esc_buf before it reaches the terminal; colour is only used when the
 * caller says so (a terminal, NO_COLOR unset). Sessions can hold tens
 * of thousands of transactions, so rows are printed as the items
 * stream in, with no look ahead and nothing kept but server names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "doc.h"
#include "esc.h"
#include "proto.h"
#include "text.h"
#include "xmalloc.h"

#define TEXT_BOLD	"\033[1m"
#define TEXT_DIM	"\033[2m"
#define TEXT_RED	"\033[31m"
#define TEXT_GREEN	"\033[32m"
#define TEXT_YELLOW	"\033[33m"
#define TEXT_CYAN	"\033[36m"
#define TEXT_RESET	"\033[0m"

/* What a table row needs to know beyond its item. */
/*
 * Column widths that need no look ahead: ids sized from the session's
 * counts, endpoints and methods padded to their usual longest (longer
 * ones push the rest of their row, and URLs come last).
 */
#define TEXT_WENDPOINT	21	/* 255.255.255.255:65535 */
#define TEXT_WMETHOD	7	/* OPTIONS */
#define TEXT_MAX_SERVER	(1024 * 1024)	/* ids beyond are not remembered */
#define TEXT_HINT_BITS	8		/* remembered key places */
#define TEXT_HINTS	(1 << TEXT_HINT_BITS)

enum text_section {
	TEXT_NONE,
	TEXT_SERVERS,
	TEXT_CONNECTIONS,
	TEXT_TRANSACTIONS,
};

struct text_stream {
	FILE		*fp;
	int		 color;
	int		 packets;
	uint64_t	 base_us;	/* offsets are from here */
	int		 wid, wconn;
	int		 section;	/* heading printed last */
	char		**hosts;	/* escaped, by server id */
	size_t		 nhosts;
	uint64_t	 ntxn;
};

/*
 * Field lookup. Items of one type carry their keys in the same order,
 * so remembering where each key sat in a map of that size makes nearly
 * every lookup a single comparison instead of a scan: this runs a few
 * dozen times for each of tens of thousands of rows.
 */
static const msgpack_object *
text_get(const msgpack_object *m, const char *key)
{
	static struct {
		const char	*key;
		uint32_t	 size;
		uint32_t	 idx;
	}			 hint[TEXT_HINTS];
	const msgpack_object_kv	*kv;
	size_t			 h, len;
	uint32_t		 i, j, n;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	n = m->via.map.size;
	h = (((uintptr_t)key ^ n) * 0x9e3779b97f4a7c15ULL) >>
	    (64 - TEXT_HINT_BITS);
	len = strlen(key);
	for (i = 0; i < n; i++) {
		/* The remembered place first, then all the others. */
		j = i;
		if (hint[h].key == key && hint[h].size == n)
			j = i == 0 ? hint[h].idx : i - (i <= hint[h].idx);
		kv = &m->via.map.ptr[j];
		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == len &&
		    memcmp(kv->key.via.str.ptr, key, len) == 0) {
			hint[h].key = key;
			hint[h].size = n;
			hint[h].idx = j;
			return (&kv->val);
		}
	}
	return (NULL);
}

static int
text_get_u64(const msgpack_object *m, const char *key, uint64_t *v)
{
	const msgpack_object	*o = text_get(m, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (-1);
	*v = o->via.u64;
	return (0);
}

static int
text_get_i64(const msgpack_object *m, const char *key, int64_t *v)
{
	const msgpack_object	*o = text_get(m, key);

	if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else
		return (-1);
	return (0);
}

static int
text_get_bool(const msgpack_object *m, const char *key, int *v)
{
	const msgpack_object	*o = text_get(m, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return (-1);
	*v = o->via.boolean;
	return (0);
}

static int
text_get_str(const msgpack_object *m, const char *key, const char **s,
    size_t *len)
{
	const msgpack_object	*o = text_get(m, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return (-1);
	*s = o->via.str.ptr;
	*len = o->via.str.size;
	return (0);
}

static uint64_t
text_u64(const msgpack_object *m, const char *key)
{
	uint64_t	 v = 0;

	(void)text_get_u64(m, key, &v);
	return (v);
}

/* The escaped string at key, or "-" when absent or nil. */
static const char *
text_str(const msgpack_object *m, const char *key, char *buf, size_t size)
{
	const char	*s;
	size_t		 len;

	if (text_get_str(m, key, &s, &len) == -1)
		return ("-");
	return (esc_buf(buf, size, s, len));
}

static const char *
text_color(const struct text_stream *t, const char *code)
{
	return (t->color ? code : "");
}

static const char *
text_reset(const struct text_stream *t)
{
	return (t->color ? TEXT_RESET : "");
}

char *
text_bytes(char *buf, size_t size, uint64_t v)
{
	static const char	 units[] = "KMGT";
	unsigned long long	 scale = 1024, t;
	int			 u = 0;

	if (v < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)v);
		return (buf);
	}
	/* Integer tenths, rounded: this runs for every row. */
	while (v / scale >= 1024 && u < 3) {
		scale *= 1024;
		u++;
	}
	t = (v / scale) * 10 + ((v % scale) * 10 + scale / 2) / scale;
	if (t < 100)
		snprintf(buf, size, "%llu.%llu%c", t / 10, t % 10, units[u]);
	else
		snprintf(buf, size, "%llu%c", (t + 5) / 10, units[u]);
	return (buf);
}

char *
text_duration(char *buf, size_t size, int64_t us)
{
	const char		*sign = us < 0 ? "-" : "";
	unsigned long long	 u, t;

	u = us < 0 ? 0ULL - (unsigned long long)us : (unsigned long long)us;
	/* Integer arithmetic, rounded to the digits shown. */
	if (u < 1000)
		snprintf(buf, size, "%s%lluus", sign, u);
	else if ((t = (u + 50) / 100) < 10000)
		snprintf(buf, size, "%s%llu.%llums", sign, t / 10, t % 10);
	else if ((t = (u + 5000) / 10000) < 6000)
		snprintf(buf, size, "%s%llu.%02llus", sign, t / 100, t % 100);
	else
		snprintf(buf, size, "%s%llum%02llus", sign, u / 60000000,
		    u / 1000000 % 60);
	return (buf);
}

char *
text_clock(char *buf, size_t size, uint64_t us)
{
	time_t		 t = (time_t)(us / 1000000);
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%llu", (unsigned long long)us);
	return (buf);
}

/* A duration field of m, or "-" when nil. */
static const char *
text_dur_field(const msgpack_object *m, const char *key, char *buf,
    size_t size)
{
	int64_t	 v;

	if (text_get_i64(m, key, &v) == -1)
		return ("-");
	return (text_duration(buf, size, v));
}

/* Seconds since the start of the capture, for timeline columns. */
static const char *
text_offset(const struct text_stream *t, const msgpack_object *m,
    const char *key, char *buf, size_t size)
{
	uint64_t	 us;

	if (text_get_u64(m, key, &us) == -1)
		return ("-");
	/* Integer arithmetic: this runs for every row. */
	us -= t->base_us;
	if ((int64_t)us < 0)
		snprintf(buf, size, "-%llu.%06llu",
		    (unsigned long long)(-us / 1000000),
		    (unsigned long long)(-us % 1000000));
	else
		snprintf(buf, size, "%llu.%06llu",
		    (unsigned long long)(us / 1000000),
		    (unsigned long long)(us % 1000000));
	return (buf);
}

static size_t
text_digits(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return (n);
}

static void
text_heading(const struct text_stream *t, const char *title)
{
	fprintf(t->fp, "\n%s%s%s\n", text_color(t, TEXT_BOLD), title,
	    text_reset(t));
}

/* The port list of a session or status as "80,8080". */
static char *
text_ports(const msgpack_object *m, char *buf, size_t size)
{
	const msgpack_object	*a = text_get(m, "ports");
	size_t			 off = 0;
	uint32_t		 i;

	buf[0] = '\0';
	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.size == 0) {
		snprintf(buf, size, "any");
		return (buf);
	}
	for (i = 0; i < a->via.array.size && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%llu", i ? "," : "",
		    (unsigned long long)a->via.array.ptr[i].via.u64);
	return (buf);
}

/* Non-zero counters beyond the ones the header already shows. */
static void
text_counters(const struct text_stream *t, const msgpack_object *c)
{
	static const char	*shown[] = { "frames", "bytes", "memory_used",
				    "memory_budget" };
	uint32_t		 i, j;
	int			 any = 0;
	char			 key[64];

	if (c == NULL || c->type != MSGPACK_OBJECT_MAP)
		return;
	for (i = 0; i < c->via.map.size; i++) {
		const msgpack_object_kv	*kv = &c->via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    kv->val.via.u64 == 0)
			continue;
		esc_buf(key, sizeof(key), kv->key.via.str.ptr,
		    kv->key.via.str.size);
		for (j = 0; j < sizeof(shown) / sizeof(shown[0]); j++)
			if (strcmp(key, shown[j]) == 0)
				break;
		if (j < sizeof(shown) / sizeof(shown[0]))
			continue;
		fprintf(t->fp, "%s %s%s %llu", any ? "," : "  attention:",
		    text_color(t, TEXT_YELLOW), key,
		    (unsigned long long)kv->val.via.u64);
		fputs(text_reset(t), t->fp);
		any = 1;
	}
	if (any)
		fputc('\n', t->fp);
}

/* Column widths and the time origin come from the session item. */
static void
text_setup(struct text_stream *t, const msgpack_object *s)
{
	uint64_t	 n = text_u64(s, "transactions");

	if (text_get_u64(s, "first_frame_us", &t->base_us) == -1)
		t->base_us = text_u64(s, "start_us");
	if (text_u64(s, "connections") > n)
		n = text_u64(s, "connections");
	if (text_u64(s, "servers") > n)
		n = text_u64(s, "servers");
	if ((int)text_digits(n) > t->wid)
		t->wid = (int)text_digits(n);
	if ((int)text_digits(text_u64(s, "connections")) > t->wconn)
		t->wconn = (int)text_digits(text_u64(s, "connections"));
}

static void
text_session(struct text_stream *t, const msgpack_object *s)
{
	const msgpack_object	*c = text_get(s, "counters");
	char			 src[256], b1[64], b2[64], b3[64], user[64];
	char			 ports[512];
	uint64_t		 first, last;

	text_setup(t, s);

	fprintf(t->fp, "%ssession %llu%s: %s %s (%s), started by %s\n",
	    text_color(t, TEXT_BOLD), (unsigned long long)text_u64(s, "id"),
	    text_reset(t), text_str(s, "origin", b1, sizeof(b1)),
	    text_str(s, "source", src, sizeof(src)),
	    text_str(s, "state", b2, sizeof(b2)),
	    cmd_user_name(text_u64(s, "uid"), user, sizeof(user)));
	fprintf(t->fp, "  link %s, ports %s, started %s\n",
	    text_str(s, "linktype", b1, sizeof(b1)),
	    text_ports(s, ports, sizeof(ports)),
	    text_clock(b2, sizeof(b2), text_u64(s, "start_us")));
	if (text_get_u64(s, "first_frame_us", &first) == 0 &&
	    text_get_u64(s, "last_frame_us", &last) == 0)
		fprintf(t->fp, "  frames from %s, spanning %s\n",
		    text_clock(b1, sizeof(b1), first),
		    text_duration(b2, sizeof(b2), (int64_t)(last - first)));
	fprintf(t->fp, "  %llu frames (%s bytes), %llu servers, %llu "
	    "connections, %llu transactions, memory %s of %s\n",
	    (unsigned long long)text_u64(c, "frames"),
	    text_bytes(b1, sizeof(b1), text_u64(c, "bytes")),
	    (unsigned long long)text_u64(s, "servers"),
	    (unsigned long long)text_u64(s, "connections"),
	    (unsigned long long)text_u64(s, "transactions"),
	    text_bytes(b2, sizeof(b2), text_u64(c, "memory_used")),
	    text_bytes(b3, sizeof(b3), text_u64(c, "memory_budget")));
	text_counters(t, c);
}

/* "addr:port" (IPv6 in brackets), escaped. */
static const char *
text_endpoint(const msgpack_object *c, const char *akey, const char *pkey,
    char *buf, size_t size)
{
	char	 addr[128];

	text_str(c, akey, addr, sizeof(addr));
	if (strchr(addr, ':') != NULL)
		snprintf(buf, size, "[%s]:%llu", addr,
		    (unsigned long long)text_u64(c, pkey));
	else
		snprintf(buf, size, "%s:%llu", addr,
		    (unsigned long long)text_u64(c, pkey));
	return (buf);
}

/* The flags array of a connection as "midstream,gap". */
static const char *
text_flags(const msgpack_object *c, char *buf, size_t size)
{
	const msgpack_object	*a = text_get(c, "flags");
	char			 one[64];
	size_t			 off = 0;
	uint32_t		 i;

	snprintf(buf, size, "-");
	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return (buf);
	for (i = 0; i < a->via.array.size && off < size; i++) {
		if (a->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			continue;
		esc_buf(one, sizeof(one), a->via.array.ptr[i].via.str.ptr,
		    a->via.array.ptr[i].via.str.size);
		off += snprintf(buf + off, size - off, "%s%s", off ? "," : "",
		    one);
	}
	return (buf);
}

static void
text_packets(const struct text_stream *t, const msgpack_object *c)
{
	const msgpack_object	*a = text_get(c, "packets"), *p;
	char			 off[32], dir[8], fl[16], cls[32];
	uint32_t		 i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < a->via.array.size; i++) {
		p = &a->via.array.ptr[i];
		fprintf(t->fp, "%*s %8llu %11s %s %-6s seq %-10llu ack %-10llu "
		    "win %-6llu len %-6llu %s\n", t->wid + 4, "#",
		    (unsigned long long)text_u64(p, "n"),
		    text_offset(t, p, "us", off, sizeof(off)),
		    strcmp(text_str(p, "dir", dir, sizeof(dir)), "c2s") == 0 ?
		    "->" : "<-", text_str(p, "flags", fl, sizeof(fl)),
		    (unsigned long long)text_u64(p, "seq"),
		    (unsigned long long)text_u64(p, "ack"),
		    (unsigned long long)text_u64(p, "win"),
		    (unsigned long long)text_u64(p, "len"),
		    text_str(p, "class", cls, sizeof(cls)));
	}
}

/* Sum of one DIR counter over both directions. */
static uint64_t
text_both(const msgpack_object *c, const char *key)
{
	return (text_u64(text_get(c, "c2s"), key) +
	    text_u64(text_get(c, "s2c"), key));
}

static void
text_connection(const struct text_stream *t, const msgpack_object *c)
{
	const msgpack_object	*up = text_get(c, "c2s");
	const msgpack_object	*down = text_get(c, "s2c");
	const msgpack_object	*txns = text_get(c, "transactions");
	char			 cl[200], sv[200], st[32], off[32], dur[32];
	char			 rtt[32], b1[16], b2[16], fl[256];

	fprintf(t->fp, "  %*llu  %-*s %-*s %-11s %11s %9s %8s %6llu/%-6llu "
	    "%6s/%-6s %5llu %5llu %4llu %3llu %5u  %s\n", t->wid,
	    (unsigned long long)text_u64(c, "id"), TEXT_WENDPOINT,
	    text_endpoint(c, "client_addr", "client_port", cl, sizeof(cl)),
	    TEXT_WENDPOINT,
	    text_endpoint(c, "server_addr", "server_port", sv, sizeof(sv)),
	    text_str(c, "state", st, sizeof(st)),
	    text_offset(t, c, "first_us", off, sizeof(off)),
	    text_duration(dur, sizeof(dur), (int64_t)(text_u64(c, "last_us") -
	    text_u64(c, "first_us"))),
	    text_dur_field(c, "rtt_us", rtt, sizeof(rtt)),
	    (unsigned long long)text_u64(up, "packets"),
	    (unsigned long long)text_u64(down, "packets"),
	    text_bytes(b1, sizeof(b1), text_u64(up, "payload_bytes")),
	    text_bytes(b2, sizeof(b2), text_u64(down, "payload_bytes")),
	    (unsigned long long)text_both(c, "retransmits"),
	    (unsigned long long)text_both(c, "out_of_order"),
	    (unsigned long long)text_both(c, "dup_acks"),
	    (unsigned long long)text_both(c, "zero_windows"),
	    txns != NULL && txns->type == MSGPACK_OBJECT_ARRAY ?
	    txns->via.array.size : 0, text_flags(c, fl, sizeof(fl)));
	if (t->packets)
		text_packets(t, c);
}

/* Status column: final status, "1xx" for interim only, "-" for none. */
static const char *
text_status_code(const struct text_stream *t, const msgpack_object *resp,
    const char **color)
{
	const msgpack_object	*im;
	uint64_t		 st;
	static char		 buf[32];
	size_t			 off = 0;

	*color = "";
	if (resp == NULL || resp->type != MSGPACK_OBJECT_MAP)
		return ("-");
	/* An interim response shows before the final one: "100>200". */
	im = text_get(resp, "interim");
	if (im != NULL && im->type == MSGPACK_OBJECT_ARRAY &&
	    im->via.array.size > 0 &&
	    im->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		off = snprintf(buf, sizeof(buf), "%llu>",
		    (unsigned long long)im->via.array.ptr[0].via.u64 % 1000);
	if (text_get_u64(resp, "status", &st) == -1) {
		if (off == 0)
			return ("?");
		buf[off - 1] = '\0';
		return (buf);
	}
	if (st >= 500)
		*color = text_color(t, TEXT_RED);
	else if (st >= 400)
		*color = text_color(t, TEXT_YELLOW);
	else if (st >= 300)
		*color = text_color(t, TEXT_CYAN);
	else if (st >= 200)
		*color = text_color(t, TEXT_GREEN);
	snprintf(buf + off, sizeof(buf) - off, "%llu",
	    (unsigned long long)st % 1000);
	return (buf);
}

/*
 * One letter per noteworthy property; the legend follows the table.
 * Order: Pipelined, Conditional, close (X), Upgrade, Split headers,
 * Incomplete, Error.
 */
static const char *
text_txn_flags(const msgpack_object *x, const msgpack_object *req,
    const msgpack_object *resp, char *buf)
{
	int	 v, i = 0, done;

	if (text_get_bool(x, "pipelined", &v) == 0 && v)
		buf[i++] = 'P';
	if (text_get_bool(x, "conditional", &v) == 0 && v)
		buf[i++] = 'C';
	if (text_get_bool(x, "connection_close", &v) == 0 && v)
		buf[i++] = 'X';
	if (text_get_bool(x, "upgrade", &v) == 0 && v)
		buf[i++] = 'U';
	if (text_get_bool(req, "headers_split", &v) == 0 && v)
		buf[i++] = 'S';
	done = text_get_bool(req, "complete", &v) == 0 && v;
	if (resp != NULL && resp->type == MSGPACK_OBJECT_MAP)
		done = done && text_get_bool(resp, "complete", &v) == 0 && v;
	else
		done = 0;
	if (!done)
		buf[i++] = 'I';
	if ((text_get(req, "error") != NULL &&
	    text_get(req, "error")->type == MSGPACK_OBJECT_STR) ||
	    (text_get(resp, "error") != NULL &&
	    text_get(resp, "error")->type == MSGPACK_OBJECT_STR))
		buf[i++] = 'E';
	if (i == 0)
		buf[i++] = '-';
	buf[i] = '\0';
	return (buf);
}

/* Response body size: wire bytes, and decoded bytes when encoded. */
static const char *
text_body(const msgpack_object *m, char *buf, size_t size)
{
	char		 w[16], d[16];
	uint64_t	 dec;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return ("-");
	text_bytes(w, sizeof(w), text_u64(m, "body_bytes"));
	if (text_get_u64(m, "decoded_bytes", &dec) == 0)
		snprintf(buf, size, "%s>%s", w, text_bytes(d, sizeof(d), dec));
	else
		snprintf(buf, size, "%s", w);
	return (buf);
}

/* The server's Host name, else its address; "" if unknown. */
static const char *
text_host(const msgpack_object *srv, char *buf, size_t size)
{
	char		 addr[128];
	uint64_t	 port;

	buf[0] = '\0';
	if (srv == NULL)
		return (buf);
	if (text_get(srv, "name") != NULL &&
	    text_get(srv, "name")->type == MSGPACK_OBJECT_STR)
		return (text_str(srv, "name", buf, size));
	text_str(srv, "addr", addr, sizeof(addr));
	port = text_u64(srv, "port");
	if (strchr(addr, ':') != NULL)
		snprintf(buf, size, "[%s]", addr);
	else
		snprintf(buf, size, "%s", addr);
	if (port != 80)
		snprintf(buf + strlen(buf), size - strlen(buf), ":%llu",
		    (unsigned long long)port);
	return (buf);
}

static void
text_transaction(const struct text_stream *t, const msgpack_object *x)
{
	const msgpack_object	*req = text_get(x, "request");
	const msgpack_object	*resp = text_get(x, "response");
	const msgpack_object	*tm = text_get(x, "timings");
	uint64_t		 srv = text_u64(x, "server");
	const char		*st, *stc, *tg;
	char			 off[32], meth[64], rb[16], sb[40], ct[64];
	char			 d1[16], d2[16], d3[16], fl[16];
	char			 target[2048];

	st = text_status_code(t, resp, &stc);
	/* Origin-form targets get their host; others are whole URLs. */
	tg = text_str(req, "target", target, sizeof(target));
	fprintf(t->fp, "  %*llu %*llu %11s %-*s %s%7s%s %7s %13s %-20.20s "
	    "%8s %8s %8s %-5s %s%s\n", t->wid,
	    (unsigned long long)text_u64(x, "id"), t->wconn,
	    (unsigned long long)text_u64(x, "connection"),
	    text_offset(t, req, "start_us", off, sizeof(off)), TEXT_WMETHOD,
	    text_str(req, "method", meth, sizeof(meth)), stc, st,
	    text_reset(t),
	    text_bytes(rb, sizeof(rb), text_u64(req, "body_bytes")),
	    text_body(resp, sb, sizeof(sb)),
	    resp != NULL ? text_str(resp, "content_type", ct, sizeof(ct)) :
	    "-",
	    text_dur_field(tm, "send_us", d1, sizeof(d1)),
	    text_dur_field(tm, "wait_us", d2, sizeof(d2)),
	    text_dur_field(tm, "receive_us", d3, sizeof(d3)),
	    text_txn_flags(x, req, resp, fl),
	    tg[0] == '/' && srv < t->nhosts && t->hosts[srv] != NULL ?
	    t->hosts[srv] : "", tg);
}

/*
 * One server row; its host is remembered for the URL column of the
 * transactions that follow.
 */
static void
text_server(struct text_stream *t, const msgpack_object *s)
{
	char		 addr[128], name[512], host[512];
	uint64_t	 id = text_u64(s, "id");

	fprintf(t->fp, "  %*llu  %-39s %5llu %6llu %6llu  %s\n", t->wid,
	    (unsigned long long)id, text_str(s, "addr", addr, sizeof(addr)),
	    (unsigned long long)text_u64(s, "port"),
	    (unsigned long long)text_u64(s, "connections"),
	    (unsigned long long)text_u64(s, "transactions"),
	    text_str(s, "name", name, sizeof(name)));
	if (id == 0 || id > TEXT_MAX_SERVER)
		return;
	if (id >= t->nhosts) {
		t->hosts = xreallocarray(t->hosts, id + 1, sizeof(*t->hosts));
		memset(t->hosts + t->nhosts, 0,
		    (id + 1 - t->nhosts) * sizeof(*t->hosts));
		t->nhosts = id + 1;
	}
	if (t->hosts[id] == NULL)
		t->hosts[id] = xstrdup(text_host(s, host, sizeof(host)));
}

/* A section's heading and column titles, once, when it begins. */
static void
text_section(struct text_stream *t, int section)
{
	if (t->section == section)
		return;
	t->section = section;
	switch (section) {
	case TEXT_SERVERS:
		text_heading(t, "SERVERS");
		fprintf(t->fp, "  %*s  %-39s %5s %6s %6s  %s\n", t->wid, "ID",
		    "ADDRESS", "PORT", "CONNS", "TXNS", "NAME");
		break;
	case TEXT_CONNECTIONS:
		text_heading(t, "CONNECTIONS");
		fprintf(t->fp, "  %*s  %-*s %-*s %-11s %11s %9s %8s %13s %13s "
		    "%5s %5s %4s %3s %5s  %s\n", t->wid, "ID", TEXT_WENDPOINT,
		    "CLIENT", TEXT_WENDPOINT, "SERVER", "STATE", "START",
		    "DURATION", "RTT", "PKTS UP/DOWN", "DATA UP/DOWN", "RETX",
		    "OOO", "DUP", "ZW", "TXNS", "FLAGS");
		break;
	case TEXT_TRANSACTIONS:
		text_heading(t, "TRANSACTIONS");
		fprintf(t->fp, "  %*s %*s %11s %-*s %7s %7s %13s %-20s %8s %8s "
		    "%8s %-5s %s\n", t->wid, "ID", t->wconn, "CONN", "START",
		    TEXT_WMETHOD, "METHOD", "STATUS", "REQ", "RESP", "TYPE",
		    "SEND", "WAIT", "RECEIVE", "FLAGS", "URL");
		break;
	}
}

struct text_stream *
text_stream_new(FILE *fp, const struct render_opts *ro)
{
	struct text_stream	*t;

	t = xcalloc(1, sizeof(*t));
	t->fp = fp;
	t->color = ro->color;
	t->packets = ro->packets;
	t->wid = 2;
	t->wconn = 4;
	return (t);
}

/*
 * One detail item, in the order the daemon streams them: the session
 * first (its counts size the id columns), then servers, connections
 * and transactions. Nothing of the item is kept but a server's host.
 */
int
text_stream_item(void *arg, const msgpack_object *item)
{
	struct text_stream	*t = arg;
	const char		*type;
	size_t			 len;

	if (text_get_str(item, "type", &type, &len) == -1)
		return (0);
	if (len == 7 && memcmp(type, "session", len) == 0)
		text_session(t, item);
	else if (len == 6 && memcmp(type, "server", len) == 0) {
		text_section(t, TEXT_SERVERS);
		text_server(t, item);
	} else if (len == 10 && memcmp(type, "connection", len) == 0) {
		text_section(t, TEXT_CONNECTIONS);
		text_connection(t, item);
	} else if (len == 11 && memcmp(type, "transaction", len) == 0) {
		text_section(t, TEXT_TRANSACTIONS);
		text_transaction(t, item);
		t->ntxn++;
	}
	return (ferror(t->fp) ? -1 : 0);
}

int
text_stream_free(struct text_stream *t)
{
	size_t	 i;
	int	 rc;

	if (t->ntxn > 0)
		fprintf(t->fp, "  %sflags: P pipelined, C conditional, X "
		    "connection close, U upgrade, S request headers split, "
		    "I incomplete, E parse error; RESP wire>decoded%s\n",
		    text_color(t, TEXT_DIM), text_reset(t));
	rc = ferror(t->fp) ? -1 : 0;
	for (i = 0; i < t->nhosts; i++)
		free(t->hosts[i]);
	free(t->hosts);
	free(t);
	return (rc);
}

int
text_render(FILE *fp, const struct doc *d, const struct render_opts *ro)
{
	struct text_stream	*t = text_stream_new(fp, ro);
	const msgpack_object	*a[3];
	uint32_t		 i, k;

	a[0] = d->servers;
	a[1] = d->connections;
	a[2] = d->transactions;
	(void)text_stream_item(t, d->session);
	for (k = 0; k < 3; k++)
		for (i = 0; i < a[k]->via.array.size; i++)
			(void)text_stream_item(t, &a[k]->via.array.ptr[i]);
	return (text_stream_free(t));
}

void
text_session_line(FILE *fp, const msgpack_object *s)
{
	char	 src[256], state[32];

	fprintf(fp, "session %llu: %s (%s): %llu frames, %llu servers, %llu "
	    "connections, %llu transactions\n",
	    (unsigned long long)text_u64(s, "id"),
	    text_str(s, "source", src, sizeof(src)),
	    text_str(s, "state", state, sizeof(state)),
	    (unsigned long long)text_u64(text_get(s, "counters"), "frames"),
	    (unsigned long long)text_u64(s, "servers"),
	    (unsigned long long)text_u64(s, "connections"),
	    (unsigned long long)text_u64(s, "transactions"));
}

void
text_sessions(FILE *fp, const msgpack_object *a, int color)
{
	const msgpack_object	*s, *c;
	char			 o[32], src[64], who[64], st[32], start[32];
	char			 mem[16];
	uint32_t		 i;

	fprintf(fp, "%s%5s  %-8s %-24s %-10s %-9s %-19s %9s %6s %7s %7s%s\n",
	    color ? TEXT_BOLD : "", "ID", "ORIGIN", "SOURCE", "WHO", "STATE",
	    "START", "FRAMES", "CONNS", "TXNS", "MEMORY", color ? TEXT_RESET :
	    "");
	for (i = 0; a != NULL && i < a->via.array.size; i++) {
		s = &a->via.array.ptr[i];
		c = text_get(s, "counters");
		fprintf(fp, "%5llu  %-8s %-24.24s %-10s %-9s %-19s %9llu %6llu "
		    "%7llu %7s\n", (unsigned long long)text_u64(s, "id"),
		    text_str(s, "origin", o, sizeof(o)),
		    text_str(s, "source", src, sizeof(src)),
		    cmd_user_name(text_u64(s, "uid"), who, sizeof(who)),
		    text_str(s, "state", st, sizeof(st)),
		    text_clock(start, sizeof(start), text_u64(s, "start_us")),
		    (unsigned long long)text_u64(c, "frames"),
		    (unsigned long long)text_u64(s, "connections"),
		    (unsigned long long)text_u64(s, "transactions"),
		    text_bytes(mem, sizeof(mem), text_u64(c, "memory_used")));
	}
	if (a == NULL || a->via.array.size == 0)
		fprintf(fp, "(no sessions kept; 'htracrctl start' captures, "
		    "'htracrctl load FILE' loads one)\n");
}

static void
text_clients(FILE *fp, const msgpack_object *a)
{
	const msgpack_object	*c;
	char			 who[64], since[32];
	uint32_t		 i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	fprintf(fp, "clients:    %u\n", a->via.array.size);
	for (i = 0; i < a->via.array.size; i++) {
		c = &a->via.array.ptr[i];
		fprintf(fp, "  %-10s pid %-8llu since %s\n",
		    cmd_user_name(text_u64(c, "uid"), who, sizeof(who)),
		    (unsigned long long)text_u64(c, "pid"),
		    text_clock(since, sizeof(since), text_u64(c, "since_us")));
	}
}

void
text_status(FILE *fp, const msgpack_object *r, int color)
{
	const msgpack_object	*s = text_get(r, "session");
	char			 st[32], ifn[64], ports[512], who[64], m[16];
	int			 capture = 0;

	(void)text_get_bool(r, "capture", &capture);
	fprintf(fp, "capture:    %s\n", capture ? "available" :
	    "unavailable (htracrd runs with --no-capture)");
	fprintf(fp, "state:      %s%s%s\n", color ? TEXT_BOLD : "",
	    text_str(r, "state", st, sizeof(st)), color ? TEXT_RESET : "");
	if (strcmp(st, "running") == 0) {
		fprintf(fp, "interface:  %s\n", text_str(r, "interface", ifn,
		    sizeof(ifn)));
		fprintf(fp, "ports:      %s\n", text_ports(r, ports,
		    sizeof(ports)));
		fprintf(fp, "started by: %s\n", cmd_user_name(text_u64(r,
		    "started_by"), who, sizeof(who)));
	}
	if (s != NULL && s->type == MSGPACK_OBJECT_MAP) {
		fprintf(fp, "session:    ");
		text_session_line(fp, s);
		s = text_get(s, "counters");
		fprintf(fp, "drops:      kernel %llu, interface %llu, "
		    "forwarding %llu, evicted frames %llu\n",
		    (unsigned long long)text_u64(s, "kernel_drops"),
		    (unsigned long long)text_u64(s, "ifdrops"),
		    (unsigned long long)text_u64(s, "forward_drops"),
		    (unsigned long long)text_u64(s, "evicted_frames"));
	}
	fprintf(fp, "memory:     %s\n", text_bytes(m, sizeof(m),
	    text_u64(r, "memory")));
	text_clients(fp, text_get(r, "clients"));
}
