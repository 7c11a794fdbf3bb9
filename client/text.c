/*
 * text.c: the renderer for people: a session's servers, connections
 * (with packets on request) and transactions as aligned tables, plus
 * the sessions list and capture status. Runs in htracrctl with the
 * invoking user's privileges. Every string from the wire goes through
 * esc_buf before it reaches the terminal; colour is only used when the
 * caller says so (a terminal, NO_COLOR unset). Sessions can hold tens
 * of thousands of transactions, so rows are printed as the items
 * stream in, with no look ahead and nothing kept but server names, and
 * are laid out by hand into one output buffer rather than by printf.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "dnsline.h"
#include "doc.h"
#include "esc.h"
#include "fmt.h"
#include "log.h"
#include "pick.h"
#include "proto.h"
#include "text.h"
#include "text_int.h"
#include "tlsline.h"
#include "xmalloc.h"

/*
 * Column widths that need no look ahead: ids sized from the session's
 * counts, endpoints and methods padded to their usual longest (longer
 * ones push the rest of their row, and URLs come last).
 */
#define TEXT_WENDPOINT	21	/* 255.255.255.255:65535 */
#define TEXT_WMETHOD	7	/* OPTIONS */
#define TEXT_WPROTO	6	/* h2/NNN */
#define TEXT_MAX_SERVER	(1024 * 1024)	/* ids beyond are not remembered */

/* The items' types in the order they stream, each a section. */
enum text_section {
	TEXT_SESSION,
	TEXT_SERVERS,
	TEXT_CONNECTIONS,
	TEXT_TRANSACTIONS,
	TEXT_DNS,
	TEXT_NSECTIONS
};

struct text_stream {
	FILE		*fp;
	struct fmt_out	*out;		/* every line goes through here */
	int		 color;
	int		 packets;
	uint64_t	 base_us;	/* offsets are from here */
	int		 wid, wconn;
	int		 section;	/* heading printed last */
	char		**hosts;	/* escaped, by server id */
	size_t		 nhosts;
	uint64_t	 ntxn;
};

static const struct pick_key	text_types[TEXT_NSECTIONS] = {
	[TEXT_SESSION] = PICK_KEY("session"),
	[TEXT_SERVERS] = PICK_KEY("server"),
	[TEXT_CONNECTIONS] = PICK_KEY("connection"),
	[TEXT_TRANSACTIONS] = PICK_KEY("transaction"),
	[TEXT_DNS] = PICK_KEY("dns"),
};

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

/* A duration value, or "-" when nil. */
static const char *
text_dur_val(const msgpack_object *o, char *buf, size_t size)
{
	int64_t	 v;

	if (pick_val_i64(o, &v) == -1)
		return ("-");
	return (fmt_duration(buf, size, v));
}

/*
 * Seconds since the start of the capture, for timeline columns, or "-"
 * when nil.
 */
static const char *
text_offset(const struct text_stream *t, const msgpack_object *o,
    char *buf, size_t size)
{
	char		 tmp[FMT_NUMLEN], *p = tmp;
	uint64_t	 us;

	if (pick_val_u64(o, &us) == -1)
		return ("-");
	us -= t->base_us;
	if ((int64_t)us < 0) {
		*p++ = '-';
		us = -us;
	}
	p = fmt_uint(p, us / 1000000, 0);
	*p++ = '.';
	p = fmt_uint(p, us % 1000000, 6);
	return (fmt_copy(buf, size, tmp, p));
}

static void
text_heading(const struct text_stream *t, const char *title)
{
	fmt_printf(t->out, "\n%s%s%s\n", text_color(t, TEXT_BOLD), title,
	    text_reset(t));
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
		fmt_printf(t->out, "%s %s%s %llu", any ? "," : "  attention:",
		    text_color(t, TEXT_YELLOW), key,
		    (unsigned long long)kv->val.via.u64);
		fmt_puts(t->out, text_reset(t));
		any = 1;
	}
	if (any)
		fmt_putc(t->out, '\n');
}

/* Column widths and the time origin come from the session item. */
static void
text_setup(struct text_stream *t, const msgpack_object *s)
{
	uint64_t	 n = pick_u64(s, "transactions");

	if (proto_get_u64(s, "first_frame_us", &t->base_us) == -1)
		t->base_us = pick_u64(s, "start_us");
	if (pick_u64(s, "connections") > n)
		n = pick_u64(s, "connections");
	if (pick_u64(s, "servers") > n)
		n = pick_u64(s, "servers");
	if ((int)fmt_digits(n) > t->wid)
		t->wid = (int)fmt_digits(n);
	if ((int)fmt_digits(pick_u64(s, "connections")) > t->wconn)
		t->wconn = (int)fmt_digits(pick_u64(s, "connections"));
}

static void
text_session(struct text_stream *t, const msgpack_object *s)
{
	const msgpack_object	*c = proto_get(s, "counters");
	char			 src[256], b1[64], b2[64], b3[64], user[64];
	char			 ports[512];
	uint64_t		 first, last;

	text_setup(t, s);

	fmt_printf(t->out, "%ssession %llu%s: %s %s (%s), started by %s\n",
	    text_color(t, TEXT_BOLD), (unsigned long long)pick_u64(s, "id"),
	    text_reset(t), pick_str(s, "origin", b1, sizeof(b1)),
	    pick_str(s, "source", src, sizeof(src)),
	    pick_str(s, "state", b2, sizeof(b2)),
	    cmd_user_name(pick_u64(s, "uid"), user, sizeof(user)));
	fmt_printf(t->out, "  link %s, ports %s, started %s\n",
	    pick_str(s, "linktype", b1, sizeof(b1)),
	    text_ports(s, ports, sizeof(ports)),
	    fmt_clock(b2, sizeof(b2), pick_u64(s, "start_us")));
	if (proto_get_u64(s, "first_frame_us", &first) == 0 &&
	    proto_get_u64(s, "last_frame_us", &last) == 0)
		fmt_printf(t->out, "  frames from %s, spanning %s\n",
		    fmt_clock(b1, sizeof(b1), first),
		    fmt_duration(b2, sizeof(b2), (int64_t)(last - first)));
	fmt_printf(t->out, "  %llu frames (%s bytes), %llu servers, %llu "
	    "connections, %llu transactions, memory %s of %s\n",
	    (unsigned long long)pick_u64(c, "frames"),
	    fmt_bytes(b1, sizeof(b1), pick_u64(c, "bytes")),
	    (unsigned long long)pick_u64(s, "servers"),
	    (unsigned long long)pick_u64(s, "connections"),
	    (unsigned long long)pick_u64(s, "transactions"),
	    fmt_bytes(b2, sizeof(b2), pick_u64(c, "memory_used")),
	    fmt_bytes(b3, sizeof(b3), pick_u64(c, "memory_budget")));
	text_counters(t, c);
}

/*
 * The keys of each kind of row, in the order the daemon packs them
 * (any order works). Enum and table go together.
 */
enum { CONN_ID, CONN_CADDR, CONN_CPORT, CONN_SADDR, CONN_SPORT, CONN_STATE,
	CONN_FIRST, CONN_LAST, CONN_RTT, CONN_UP, CONN_DOWN, CONN_TXNS,
	CONN_FLAGS, CONN_PACKETS, CONN_TLS, CONN_NKEYS };
static const struct pick_key	text_conn_names[CONN_NKEYS] = {
	[CONN_ID] = PICK_KEY("id"),
	[CONN_CADDR] = PICK_KEY("client_addr"),
	[CONN_CPORT] = PICK_KEY("client_port"),
	[CONN_SADDR] = PICK_KEY("server_addr"),
	[CONN_SPORT] = PICK_KEY("server_port"),
	[CONN_STATE] = PICK_KEY("state"),
	[CONN_FIRST] = PICK_KEY("first_us"),
	[CONN_LAST] = PICK_KEY("last_us"),
	[CONN_RTT] = PICK_KEY("rtt_us"),
	[CONN_UP] = PICK_KEY("c2s"),
	[CONN_DOWN] = PICK_KEY("s2c"),
	[CONN_TXNS] = PICK_KEY("transactions"),
	[CONN_FLAGS] = PICK_KEY("flags"),
	[CONN_PACKETS] = PICK_KEY("packets"),
	[CONN_TLS] = PICK_KEY("tls"),
};
static struct pick_keys	text_conn_keys = PICK_KEYS(text_conn_names);

/* One direction of a connection (PROTOCOL.md DIR). */
enum { DIR_PACKETS, DIR_BYTES, DIR_RETX, DIR_OOO, DIR_DUP, DIR_ZW,
	DIR_NKEYS };
static const struct pick_key	text_dir_names[DIR_NKEYS] = {
	[DIR_PACKETS] = PICK_KEY("packets"),
	[DIR_BYTES] = PICK_KEY("payload_bytes"),
	[DIR_RETX] = PICK_KEY("retransmits"),
	[DIR_OOO] = PICK_KEY("out_of_order"),
	[DIR_DUP] = PICK_KEY("dup_acks"),
	[DIR_ZW] = PICK_KEY("zero_windows"),
};
static struct pick_keys	text_dir_keys = PICK_KEYS(text_dir_names);

enum { PKT_N, PKT_US, PKT_DIR, PKT_FLAGS, PKT_SEQ, PKT_ACK, PKT_WIN,
	PKT_LEN, PKT_CLASS, PKT_NKEYS };
static const struct pick_key	text_pkt_names[PKT_NKEYS] = {
	[PKT_N] = PICK_KEY("n"),
	[PKT_US] = PICK_KEY("us"),
	[PKT_DIR] = PICK_KEY("dir"),
	[PKT_FLAGS] = PICK_KEY("flags"),
	[PKT_SEQ] = PICK_KEY("seq"),
	[PKT_ACK] = PICK_KEY("ack"),
	[PKT_WIN] = PICK_KEY("win"),
	[PKT_LEN] = PICK_KEY("len"),
	[PKT_CLASS] = PICK_KEY("class"),
};
static struct pick_keys	text_pkt_keys = PICK_KEYS(text_pkt_names);

enum { TXN_ID, TXN_CONN, TXN_SERVER, TXN_REQ, TXN_RESP, TXN_TIMINGS,
	TXN_PIPELINED, TXN_CONDITIONAL, TXN_CLOSE, TXN_UPGRADE, TXN_REQ_LOST,
	TXN_RESP_LOST, TXN_PROTOCOL, TXN_STREAM, TXN_RESET, TXN_PUSHED,
	TXN_NKEYS };
static const struct pick_key	text_txn_names[TXN_NKEYS] = {
	[TXN_ID] = PICK_KEY("id"),
	[TXN_CONN] = PICK_KEY("connection"),
	[TXN_SERVER] = PICK_KEY("server"),
	[TXN_REQ] = PICK_KEY("request"),
	[TXN_RESP] = PICK_KEY("response"),
	[TXN_TIMINGS] = PICK_KEY("timings"),
	[TXN_PIPELINED] = PICK_KEY("pipelined"),
	[TXN_CONDITIONAL] = PICK_KEY("conditional"),
	[TXN_CLOSE] = PICK_KEY("connection_close"),
	[TXN_UPGRADE] = PICK_KEY("upgrade"),
	[TXN_REQ_LOST] = PICK_KEY("request_lost"),
	[TXN_RESP_LOST] = PICK_KEY("response_lost"),
	[TXN_PROTOCOL] = PICK_KEY("protocol"),
	[TXN_STREAM] = PICK_KEY("stream_id"),
	[TXN_RESET] = PICK_KEY("reset"),
	[TXN_PUSHED] = PICK_KEY("pushed"),
};
static struct pick_keys	text_txn_keys = PICK_KEYS(text_txn_names);

/* The fields of a request and of a response, in one table. */
enum { MSG_START, MSG_METHOD, MSG_TARGET, MSG_BODY, MSG_SPLIT,
	MSG_COMPLETE, MSG_ERROR, MSG_INTERIM, MSG_STATUS, MSG_DECODED,
	MSG_CTYPE, MSG_NKEYS };
static const struct pick_key	text_msg_names[MSG_NKEYS] = {
	[MSG_START] = PICK_KEY("start_us"),
	[MSG_METHOD] = PICK_KEY("method"),
	[MSG_TARGET] = PICK_KEY("target"),
	[MSG_BODY] = PICK_KEY("body_bytes"),
	[MSG_SPLIT] = PICK_KEY("headers_split"),
	[MSG_COMPLETE] = PICK_KEY("complete"),
	[MSG_ERROR] = PICK_KEY("error"),
	[MSG_INTERIM] = PICK_KEY("interim"),
	[MSG_STATUS] = PICK_KEY("status"),
	[MSG_DECODED] = PICK_KEY("decoded_bytes"),
	[MSG_CTYPE] = PICK_KEY("content_type"),
};
static struct pick_keys	text_msg_keys = PICK_KEYS(text_msg_names);

enum { TM_SEND, TM_WAIT, TM_RECEIVE, TM_NKEYS };
static const struct pick_key	text_tm_names[TM_NKEYS] = {
	[TM_SEND] = PICK_KEY("send_us"),
	[TM_WAIT] = PICK_KEY("wait_us"),
	[TM_RECEIVE] = PICK_KEY("receive_us"),
};
static struct pick_keys	text_tm_keys = PICK_KEYS(text_tm_names);

/* "addr:port" (IPv6 in brackets), escaped; buf holds 160 bytes. */
static const char *
text_endpoint(const msgpack_object *addr, const msgpack_object *port,
    char *buf)
{
	char		 ab[128];
	const char	*a = pick_val_str(addr, ab, sizeof(ab));
	size_t		 len = strlen(a);
	int		 v6 = memchr(a, ':', len) != NULL;
	char		*p = buf;

	if (v6)
		*p++ = '[';
	memcpy(p, a, len);
	p += len;
	if (v6)
		*p++ = ']';
	*p++ = ':';
	*fmt_uint(p, pick_val_u(port), 0) = '\0';
	return (buf);
}

/* The flags array of a connection as "midstream,gap". */
static const char *
text_flags(const msgpack_object *a, char *buf, size_t size)
{
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

/* "dir" is "c2s" (an arrow to the server) or "s2c". */
static const char *
text_arrow(const msgpack_object *dir)
{
	if (pick_val_isstr(dir) && dir->via.str.size == 3 &&
	    memcmp(dir->via.str.ptr, "c2s", 3) == 0)
		return ("->");
	return ("<-");
}

static void
text_packet(const struct text_stream *t, const msgpack_object *p)
{
	const msgpack_object	*f[PKT_NKEYS];
	struct fmt_out		*o = t->out;
	char			 off[32], fl[16], cls[32];

	pick_fields(p, &text_pkt_keys, f);
	fmt_right(o, t->wid + 4, "#");
	fmt_putc(o, ' ');
	fmt_uright(o, 8, pick_val_u(f[PKT_N]));
	fmt_putc(o, ' ');
	fmt_right(o, 11, text_offset(t, f[PKT_US], off, sizeof(off)));
	fmt_putc(o, ' ');
	fmt_puts(o, text_arrow(f[PKT_DIR]));
	fmt_putc(o, ' ');
	fmt_left(o, 6, pick_val_str(f[PKT_FLAGS], fl, sizeof(fl)));
	fmt_puts(o, " seq ");
	fmt_uleft(o, 10, pick_val_u(f[PKT_SEQ]));
	fmt_puts(o, " ack ");
	fmt_uleft(o, 10, pick_val_u(f[PKT_ACK]));
	fmt_puts(o, " win ");
	fmt_uleft(o, 6, pick_val_u(f[PKT_WIN]));
	fmt_puts(o, " len ");
	fmt_uleft(o, 6, pick_val_u(f[PKT_LEN]));
	fmt_putc(o, ' ');
	fmt_puts(o, pick_val_str(f[PKT_CLASS], cls, sizeof(cls)));
	fmt_putc(o, '\n');
}

static void
text_packets(const struct text_stream *t, const msgpack_object *a)
{
	uint32_t	 i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < a->via.array.size; i++)
		text_packet(t, &a->via.array.ptr[i]);
}

/* "up/down": the first right-aligned, the second left. */
static void
text_pair(struct fmt_out *o, const char *up, const char *down)
{
	fmt_right(o, 6, up);
	fmt_putc(o, '/');
	fmt_left(o, 6, down);
}

/* The per-direction columns: packets, data, then summed counters. */
static void
text_dirs(struct fmt_out *o, const msgpack_object *up, const msgpack_object *down)
{
	static const int	 sums[] = { DIR_RETX, DIR_OOO, DIR_DUP, DIR_ZW };
	static const int	 widths[] = { 5, 5, 4, 3 };
	const msgpack_object	*u[DIR_NKEYS], *d[DIR_NKEYS];
	char			 b1[24], b2[24];
	size_t			 i;

	pick_fields(up, &text_dir_keys, u);
	pick_fields(down, &text_dir_keys, d);
	*fmt_uint(b1, pick_val_u(u[DIR_PACKETS]), 0) = '\0';
	*fmt_uint(b2, pick_val_u(d[DIR_PACKETS]), 0) = '\0';
	text_pair(o, b1, b2);
	fmt_putc(o, ' ');
	text_pair(o, fmt_bytes(b1, 16, pick_val_u(u[DIR_BYTES])),
	    fmt_bytes(b2, 16, pick_val_u(d[DIR_BYTES])));
	for (i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
		fmt_putc(o, ' ');
		fmt_uright(o, widths[i], pick_val_u(u[sums[i]]) +
		    pick_val_u(d[sums[i]]));
	}
}

static void
text_connection(const struct text_stream *t, const msgpack_object *c)
{
	const msgpack_object	*f[CONN_NKEYS];
	struct fmt_out		*o = t->out;
	char			 cl[160], sv[160], st[32], off[32], dur[32];
	char			 rtt[32], fl[256], tls[TLSLINE_LEN];

	pick_fields(c, &text_conn_keys, f);
	fmt_puts(o, "  ");
	fmt_uright(o, t->wid, pick_val_u(f[CONN_ID]));
	fmt_puts(o, "  ");
	fmt_left(o, TEXT_WENDPOINT, text_endpoint(f[CONN_CADDR],
	    f[CONN_CPORT], cl));
	fmt_putc(o, ' ');
	fmt_left(o, TEXT_WENDPOINT, text_endpoint(f[CONN_SADDR],
	    f[CONN_SPORT], sv));
	fmt_putc(o, ' ');
	fmt_left(o, 11, pick_val_str(f[CONN_STATE], st, sizeof(st)));
	fmt_putc(o, ' ');
	fmt_right(o, 11, text_offset(t, f[CONN_FIRST], off, sizeof(off)));
	fmt_putc(o, ' ');
	fmt_right(o, 9, fmt_duration(dur, sizeof(dur),
	    (int64_t)(pick_val_u(f[CONN_LAST]) - pick_val_u(f[CONN_FIRST]))));
	fmt_putc(o, ' ');
	fmt_right(o, 8, text_dur_val(f[CONN_RTT], rtt, sizeof(rtt)));
	fmt_putc(o, ' ');
	text_dirs(o, f[CONN_UP], f[CONN_DOWN]);
	fmt_putc(o, ' ');
	fmt_uright(o, 5, f[CONN_TXNS] != NULL &&
	    f[CONN_TXNS]->type == MSGPACK_OBJECT_ARRAY ?
	    f[CONN_TXNS]->via.array.size : 0);
	fmt_puts(o, "  ");
	fmt_puts(o, text_flags(f[CONN_FLAGS], fl, sizeof(fl)));
	fmt_putc(o, '\n');
	if (tlsline_fmt(tls, sizeof(tls), f[CONN_TLS]) != NULL)
		fmt_printf(o, "  %*s  %s\n", t->wid, "", tls);
	if (t->packets)
		text_packets(t, f[CONN_PACKETS]);
}

/* Colours of the status classes, from 2xx up. */
static const char	*text_status_colors[] = {
	TEXT_GREEN, TEXT_CYAN, TEXT_YELLOW, TEXT_RED
};

/*
 * Status column: final status, "1xx" for interim only, "-" for none;
 * an interim response shows before the final one: "100>200". buf
 * holds 48 bytes.
 */
static const char *
text_status_code(const struct text_stream *t, const msgpack_object *resp,
    const msgpack_object **m, char *buf, const char **color)
{
	const msgpack_object	*im = m[MSG_INTERIM];
	uint64_t		 st;
	char			*p = buf;

	*color = "";
	if (resp == NULL || resp->type != MSGPACK_OBJECT_MAP)
		return ("-");
	if (im != NULL && im->type == MSGPACK_OBJECT_ARRAY &&
	    im->via.array.size > 0 &&
	    im->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		p = fmt_uint(p, im->via.array.ptr[0].via.u64 % 1000, 0);
		*p++ = '>';
	}
	if (pick_val_u64(m[MSG_STATUS], &st) == -1) {
		if (p == buf)
			return ("?");
		p[-1] = '\0';
		return (buf);
	}
	if (st >= 200)
		*color = text_color(t, text_status_colors[st >= 500 ? 3 :
		    st / 100 - 2]);
	*fmt_uint(p, st % 1000, 0) = '\0';
	return (buf);
}

/*
 * One letter per noteworthy property; the legend follows the table.
 * Order: Pipelined, Conditional, close (X), Upgrade, Split headers,
 * Lost start, Incomplete, Error, Reset stream, pusHed.
 */
static const char *
text_txn_flags(const msgpack_object **x, const msgpack_object **req,
    const msgpack_object *resp, const msgpack_object **rs, char *buf)
{
	int	 i = 0, done;

	if (pick_val_true(x[TXN_PIPELINED]))
		buf[i++] = 'P';
	if (pick_val_true(x[TXN_CONDITIONAL]))
		buf[i++] = 'C';
	if (pick_val_true(x[TXN_CLOSE]))
		buf[i++] = 'X';
	if (pick_val_true(x[TXN_UPGRADE]))
		buf[i++] = 'U';
	if (pick_val_true(req[MSG_SPLIT]))
		buf[i++] = 'S';
	if (pick_val_true(x[TXN_REQ_LOST]) || pick_val_true(x[TXN_RESP_LOST]))
		buf[i++] = 'L';
	done = pick_val_true(req[MSG_COMPLETE]) && resp != NULL &&
	    resp->type == MSGPACK_OBJECT_MAP && pick_val_true(rs[MSG_COMPLETE]);
	if (!done)
		buf[i++] = 'I';
	if (pick_val_isstr(req[MSG_ERROR]) || pick_val_isstr(rs[MSG_ERROR]))
		buf[i++] = 'E';
	if (x[TXN_RESET] != NULL && x[TXN_RESET]->type == MSGPACK_OBJECT_MAP)
		buf[i++] = 'R';
	if (pick_val_true(x[TXN_PUSHED]))
		buf[i++] = 'H';
	if (i == 0)
		buf[i++] = '-';
	buf[i] = '\0';
	return (buf);
}

/* Response body size: wire bytes, and decoded bytes when encoded. */
static const char *
text_body(const msgpack_object *resp, const msgpack_object **m, char *buf)
{
	uint64_t	 dec;
	size_t		 len;

	if (resp == NULL || resp->type != MSGPACK_OBJECT_MAP)
		return ("-");
	fmt_bytes(buf, 16, pick_val_u(m[MSG_BODY]));
	if (pick_val_u64(m[MSG_DECODED], &dec) == 0) {
		len = strlen(buf);
		buf[len] = '>';
		fmt_bytes(buf + len + 1, 16, dec);
	}
	return (buf);
}

/* The server's Host name, else its address; "" if unknown. */
static const char *
text_host(const msgpack_object *srv, char *buf, size_t size)
{
	char		 ab[128];
	const char	*addr;
	uint64_t	 port;

	buf[0] = '\0';
	if (srv == NULL)
		return (buf);
	if (proto_get(srv, "name") != NULL &&
	    proto_get(srv, "name")->type == MSGPACK_OBJECT_STR)
		return (pick_str(srv, "name", buf, size));
	addr = pick_str(srv, "addr", ab, sizeof(ab));
	port = pick_u64(srv, "port");
	if (strchr(addr, ':') != NULL)
		snprintf(buf, size, "[%s]", addr);
	else
		snprintf(buf, size, "%s", addr);
	if (port != 80)
		snprintf(buf + strlen(buf), size - strlen(buf), ":%llu",
		    (unsigned long long)port);
	return (buf);
}

/* The columns from START to TYPE, all from the request and response. */
static void
text_messages(const struct text_stream *t, const msgpack_object *resp,
    const msgpack_object **rq, const msgpack_object **rs)
{
	struct fmt_out	*o = t->out;
	const char	*st, *stc;
	char		 off[32], meth[64], code[48], rb[16], sb[40], ct[64];

	fmt_right(o, 11, text_offset(t, rq[MSG_START], off, sizeof(off)));
	fmt_putc(o, ' ');
	fmt_left(o, TEXT_WMETHOD, pick_val_str(rq[MSG_METHOD], meth,
	    sizeof(meth)));
	fmt_putc(o, ' ');
	st = text_status_code(t, resp, rs, code, &stc);
	fmt_puts(o, stc);
	fmt_right(o, 7, st);
	fmt_puts(o, text_reset(t));
	fmt_putc(o, ' ');
	fmt_right(o, 7, fmt_bytes(rb, sizeof(rb), pick_val_u(rq[MSG_BODY])));
	fmt_putc(o, ' ');
	fmt_right(o, 13, text_body(resp, rs, sb));
	fmt_putc(o, ' ');
	fmt_cut(o, 20, pick_val_str(rs[MSG_CTYPE], ct, sizeof(ct)));
}

/* "1.1", "1.0", or "h2/N" with the stream; "-" when unknown. */
static const char *
text_proto(const msgpack_object **f, char *buf, size_t size)
{
	char	 p[16];

	pick_val_str(f[TXN_PROTOCOL], p, sizeof(p));
	if (strcmp(p, "h2") == 0)
		snprintf(buf, size, "h2/%llu",
		    (unsigned long long)pick_val_u(f[TXN_STREAM]));
	else if (strncmp(p, "http/", 5) == 0)
		snprintf(buf, size, "%s", p + 5);
	else
		snprintf(buf, size, "-");
	return (buf);
}

static void
text_transaction(const struct text_stream *t, const msgpack_object *x)
{
	const msgpack_object	*f[TXN_NKEYS], *rq[MSG_NKEYS], *rs[MSG_NKEYS];
	const msgpack_object	*tm[TM_NKEYS];
	struct fmt_out		*o = t->out;
	uint64_t		 srv;
	const char		*tg;
	char			 d[16], fl[16], pr[32], target[2048];
	int			 i;

	pick_fields(x, &text_txn_keys, f);
	pick_fields(f[TXN_REQ], &text_msg_keys, rq);
	pick_fields(f[TXN_RESP], &text_msg_keys, rs);
	pick_fields(f[TXN_TIMINGS], &text_tm_keys, tm);
	fmt_puts(o, "  ");
	fmt_uright(o, t->wid, pick_val_u(f[TXN_ID]));
	fmt_putc(o, ' ');
	fmt_uright(o, t->wconn, pick_val_u(f[TXN_CONN]));
	fmt_putc(o, ' ');
	fmt_left(o, TEXT_WPROTO, text_proto(f, pr, sizeof(pr)));
	fmt_putc(o, ' ');
	text_messages(t, f[TXN_RESP], rq, rs);
	for (i = 0; i < TM_NKEYS; i++) {
		fmt_putc(o, ' ');
		fmt_right(o, 8, text_dur_val(tm[i], d, sizeof(d)));
	}
	fmt_putc(o, ' ');
	fmt_left(o, 5, text_txn_flags(f, rq, f[TXN_RESP], rs, fl));
	fmt_putc(o, ' ');
	/* Origin-form targets get their host; others are whole URLs. */
	tg = pick_val_str(rq[MSG_TARGET], target, sizeof(target));
	srv = pick_val_u(f[TXN_SERVER]);
	if (tg[0] == '/' && srv < t->nhosts && t->hosts[srv] != NULL)
		fmt_puts(o, t->hosts[srv]);
	fmt_puts(o, tg);
	fmt_putc(o, '\n');
}

/* One DNS lookup: when, how long, the outcome, what it asked and got. */
static void
text_dns(const struct text_stream *t, const msgpack_object *l)
{
	char	 off[32], d[16], rc[32], q[DNSLINE_LEN], a[DNSLINE_LEN];

	fmt_printf(t->out, "  %*llu %11s %8s %-9s %5llu  %s -> %s\n", t->wid,
	    (unsigned long long)pick_u64(l, "id"),
	    text_offset(t, proto_get(l, "query_us"), off, sizeof(off)),
	    text_dur_val(proto_get(l, "time_us"), d, sizeof(d)),
	    dnsline_rcode(rc, sizeof(rc), l),
	    (unsigned long long)pick_u64(l, "connections"),
	    dnsline_query(q, sizeof(q), l), dnsline_answers(a, sizeof(a), l));
}

/*
 * One server row; its host is remembered for the URL column of the
 * transactions that follow.
 */
static void
text_server(struct text_stream *t, const msgpack_object *s)
{
	char		 addr[128], name[512], host[512];
	uint64_t	 id = pick_u64(s, "id");

	fmt_printf(t->out, "  %*llu  %-39s %5llu %6llu %6llu  %s\n", t->wid,
	    (unsigned long long)id, pick_str(s, "addr", addr, sizeof(addr)),
	    (unsigned long long)pick_u64(s, "port"),
	    (unsigned long long)pick_u64(s, "connections"),
	    (unsigned long long)pick_u64(s, "transactions"),
	    pick_str(s, "name", name, sizeof(name)));
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
		fmt_printf(t->out, "  %*s  %-39s %5s %6s %6s  %s\n", t->wid, "ID",
		    "ADDRESS", "PORT", "CONNS", "TXNS", "NAME");
		break;
	case TEXT_CONNECTIONS:
		text_heading(t, "CONNECTIONS");
		fmt_printf(t->out, "  %*s  %-*s %-*s %-11s %11s %9s %8s %13s %13s "
		    "%5s %5s %4s %3s %5s  %s\n", t->wid, "ID", TEXT_WENDPOINT,
		    "CLIENT", TEXT_WENDPOINT, "SERVER", "STATE", "START",
		    "DURATION", "RTT", "PKTS UP/DOWN", "DATA UP/DOWN", "RETX",
		    "OOO", "DUP", "ZW", "TXNS", "FLAGS");
		break;
	case TEXT_TRANSACTIONS:
		text_heading(t, "TRANSACTIONS");
		fmt_printf(t->out, "  %*s %*s %-*s %11s %-*s %7s %7s %13s %-20s "
		    "%8s %8s %8s %-5s %s\n", t->wid, "ID", t->wconn, "CONN",
		    TEXT_WPROTO, "PROTO", "START", TEXT_WMETHOD, "METHOD", "STATUS", "REQ", "RESP", "TYPE",
		    "SEND", "WAIT", "RECEIVE", "FLAGS", "URL");
		break;
	case TEXT_DNS:
		text_heading(t, "DNS LOOKUPS");
		fmt_printf(t->out, "  %*s %11s %8s %-9s %5s  %s\n", t->wid,
		    "ID", "START", "TIME", "RCODE", "CONNS", "QUERY -> ANSWERS");
		break;
	}
}

struct text_stream *
text_stream_new(FILE *fp, const struct render_opts *ro)
{
	struct text_stream	*t;

	t = xcalloc(1, sizeof(*t));
	t->fp = fp;
	t->out = fmt_out_new(fp);
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
	static struct pick_keys	 types = PICK_KEYS(text_types);
	struct text_stream	*t = arg;
	const msgpack_object	*type = proto_get(item, "type");
	int			 k;

	if (!pick_val_isstr(type))
		return (0);
	k = pick_find(&types, type->via.str.ptr, type->via.str.size);
	switch (k) {
	case TEXT_SESSION:
		text_session(t, item);
		break;
	case TEXT_SERVERS:
		text_section(t, k);
		text_server(t, item);
		break;
	case TEXT_CONNECTIONS:
		text_section(t, k);
		text_connection(t, item);
		break;
	case TEXT_TRANSACTIONS:
		text_section(t, k);
		text_transaction(t, item);
		t->ntxn++;
		break;
	case TEXT_DNS:
		text_section(t, k);
		text_dns(t, item);
		break;
	}
	return (ferror(t->fp) ? -1 : 0);
}

int
text_stream_free(struct text_stream *t)
{
	size_t	 i;
	int	 rc;

	if (t->ntxn > 0)
		fmt_printf(t->out, "  %sflags: P pipelined, C conditional, X "
		    "connection close, U upgrade, S request headers split, "
		    "L start not captured, I incomplete, E parse error, "
		    "R stream reset, H server push; PROTO HTTP version, "
		    "h2/stream; RESP wire>decoded%s\n",
		    text_color(t, TEXT_DIM), text_reset(t));
	rc = fmt_out_free(t->out);
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
	const msgpack_object	*a[4];
	uint32_t		 i, k;

	a[0] = d->servers;
	a[1] = d->connections;
	a[2] = d->transactions;
	a[3] = d->lookups;
	(void)text_stream_item(t, d->session);
	for (k = 0; k < 4; k++)
		for (i = 0; i < a[k]->via.array.size; i++)
			(void)text_stream_item(t, &a[k]->via.array.ptr[i]);
	return (text_stream_free(t));
}
