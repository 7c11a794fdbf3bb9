/*
 * waterfall.c: the terminal views "htracrctl show" prints from a
 * session's detail: a waterfall of servers, connections and transactions
 * on a time axis that fits the terminal (zoomed with --scale and
 * --from/--to like the original slider), a transaction in full, and a
 * connection's packet list. Runs in htracrctl with the invoking user's
 * privileges. Every string from the wire goes through esc_buf first;
 * colour only on a terminal and never with NO_COLOR set.
 */
#include <sys/ioctl.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "dnsline.h"
#include "doc.h"
#include "esc.h"
#include "fmt.h"
#include "proto.h"
#include "render.h"
#include "waterfall.h"
#include "waterfall_int.h"
#include "xmalloc.h"

#define WF_DEFAULT_WIDTH	100
#define WF_MIN_WIDTH		60
#define WF_MAX_WIDTH		1000

/* Packet classes: the mark drawn and how much it matters in one column. */
static const struct {
	const char	*name;
	char		 mark;
	int		 prio;
	const char	*color;
} wf_classes[] = {
	{ "rst",		'R', 11, C_RED },
	{ "retransmit",		'!', 10, C_RED },
	{ "out-of-order",	'o', 9, C_MAGENTA },
	{ "zero-window",	'Z', 8, C_MAGENTA },
	{ "dup-ack",		'D', 7, C_YELLOW },
	{ "syn",		'S', 6, C_GREEN },
	{ "syn-ack",		's', 5, C_GREEN },
	{ "fin",		'F', 4, C_CYAN },
	{ "push",		'p', 3, C_BLUE },
	{ "data",		'd', 2, C_BLUE },
	{ "ack",		'.', 1, C_DIM },
};

/* Connection states as drawn on the connection's bar. */
static const struct {
	const char	*name;
	char		 mark;
	const char	*color;
} wf_states[] = {
	{ "handshaking",	'h', C_YELLOW },
	{ "connected",		'=', C_BLUE },
	{ "half-closed",	'~', C_MAGENTA },
	{ "idle",		'.', C_DIM },
	{ "closing",		'x', C_RED },
	{ "closed",		' ', "" },
	{ "reset",		'R', C_RED },
};

const char *
wf_c(const struct wf *w, const char *code)
{
	return (w->color ? code : "");
}

/* Escapes a wire string for the terminal into buf. */
static const char *
wf_esc(char *buf, size_t size, const char *s, size_t len)
{
	if (s == NULL)
		return ("-");
	return (esc_buf(buf, size, s, len));
}

const char *
wf_field(char *buf, size_t size, const msgpack_object *o, const char *key)
{
	const char	*s;
	size_t		 len;

	s = render_str(o, key, &len);
	return (wf_esc(buf, size, s, len));
}

/*
 * Durations and sizes read as in every other view (fmt.c); "-" where
 * the value is not known (negative).
 */
const char *
wf_dur(char *buf, size_t size, int64_t us)
{
	if (us < 0) {
		snprintf(buf, size, "-");
		return (buf);
	}
	return (fmt_duration(buf, size, us));
}

const char *
wf_bytes(char *buf, size_t size, int64_t n)
{
	if (n < 0) {
		snprintf(buf, size, "-");
		return (buf);
	}
	return (fmt_bytes(buf, size, (uint64_t)n));
}

void
waterfall_opts_init(struct waterfall_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->color = -1;
	o->from_us = -1;
	o->to_us = -1;
	o->min_wait_us = -1;
	o->layers = WATERFALL_L_ALL;
}

static int
wf_width(FILE *f, const struct waterfall_opts *o)
{
	struct winsize	 ws;
	const char	*cols;
	long		 n;
	char		*end;

	n = o->width;
	if (n <= 0 && (cols = getenv("COLUMNS")) != NULL) {
		n = strtol(cols, &end, 10);
		if (*end != '\0')
			n = 0;
	}
	if (n <= 0 && isatty(fileno(f)) &&
	    ioctl(fileno(f), TIOCGWINSZ, &ws) == 0)
		n = ws.ws_col;
	if (n <= 0)
		n = WF_DEFAULT_WIDTH;
	if (n < WF_MIN_WIDTH)
		n = WF_MIN_WIDTH;
	return (n > WF_MAX_WIDTH ? WF_MAX_WIDTH : (int)n);
}

static int
wf_color(FILE *f, const struct waterfall_opts *o)
{
	const char	*nc = getenv("NO_COLOR");

	if (o->color >= 0)
		return (o->color);
	return (isatty(fileno(f)) && (nc == NULL || *nc == '\0'));
}

/* Column of an absolute time, or -1 left of the window, cols right. */
static int
wf_col(const struct wf *w, int64_t us)
{
	if (us < w->from)
		return (-1);
	if (us >= w->to)
		return (w->cols);
	return ((int)((us - w->from) / w->scale));
}

/* Start and end of the session's activity. */
static void
wf_span(const struct doc *d, int64_t *t0, int64_t *t1)
{
	const msgpack_object	*cs = d->connections;
	uint32_t		 i;
	int64_t			 a, b, q;

	*t0 = INT64_MAX;
	*t1 = INT64_MIN;
	for (i = 0; i < render_count(cs); i++) {
		a = render_int(&cs->via.array.ptr[i], "first_us", -1);
		b = render_int(&cs->via.array.ptr[i], "last_us", -1);
		q = render_int(doc_conn_dns(d, &cs->via.array.ptr[i]),
		    "query_us", -1);
		if (q >= 0 && (a < 0 || q < a))
			a = q;
		if (a >= 0 && a < *t0)
			*t0 = a;
		if (b > *t1)
			*t1 = b;
	}
	if (*t0 == INT64_MAX) {
		*t0 = render_int(d->session, "first_frame_us", 0);
		*t1 = render_int(d->session, "last_frame_us", *t0);
	}
	if (*t1 <= *t0)
		*t1 = *t0 + 1000;
}

void
wf_setup(struct wf *w, FILE *f, const struct doc *d,
    const struct waterfall_opts *o)
{
	int64_t	 t1;

	memset(w, 0, sizeof(*w));
	w->f = f;
	w->d = d;
	w->o = o;
	w->color = wf_color(f, o);
	w->width = wf_width(f, o);
	w->label = w->width * 2 / 5;
	if (w->label > 48)
		w->label = 48;
	w->cols = w->width - w->label - 1;
	wf_span(d, &w->t0, &t1);
	w->from = w->t0 + (o->from_us > 0 ? o->from_us : 0);
	w->to = o->to_us > 0 ? w->t0 + o->to_us : t1 + 1;
	if (w->to <= w->from)
		w->to = w->from + 1000;
	w->scale = o->scale_us > 0 ? o->scale_us :
	    (w->to - w->from + w->cols - 1) / w->cols;
	if (w->scale < 1)
		w->scale = 1;
	/* A given scale decides where the window ends. */
	if (o->scale_us > 0)
		w->to = w->from + w->scale * w->cols;
}

/*
 * n spaces. The views print a few lines for each of a session's
 * transactions: stdio's plain calls, not a printf format each time.
 */
static void
wf_spaces(const struct wf *w, int n)
{
	static const char	 sp[] = "                                ";
	int			 k;

	for (; n > 0; n -= k) {
		k = n < (int)sizeof(sp) - 1 ? n : (int)sizeof(sp) - 1;
		fwrite(sp, 1, (size_t)k, w->f);
	}
}

/* Prints s padded or cut to n columns (s is already escaped). */
static void
wf_pad(const struct wf *w, const char *s, int n)
{
	int	 len = (int)strlen(s);

	if (len > n) {
		/* As "%.*s~": a precision below zero prints all of s. */
		fwrite(s, 1, n - 1 < 0 ? (size_t)len : (size_t)(n - 1), w->f);
		fputc('~', w->f);
		return;
	}
	fwrite(s, 1, (size_t)len, w->f);
	wf_spaces(w, n - len);
}

/* Draws a chart row held in marks[] with per-column colours. */
static void
wf_chart(const struct wf *w, const char *marks, const char **colors)
{
	const char	*cur = "";
	int		 i;

	fputc(' ', w->f);
	if (!w->color) {
		/* Without colours the row is its marks as they are. */
		fwrite(marks, 1, (size_t)w->cols, w->f);
		fputc('\n', w->f);
		return;
	}
	for (i = 0; i < w->cols; i++) {
		if (colors[i] != cur) {
			fputs(C_RESET, w->f);
			fputs(colors[i], w->f);
			cur = colors[i];
		}
		fputc(marks[i], w->f);
	}
	fputs(C_RESET, w->f);
	fputc('\n', w->f);
}

static void
wf_clear(const struct wf *w, char *marks, const char **colors)
{
	int	 i;

	for (i = 0; i < w->cols; i++) {
		marks[i] = ' ';
		colors[i] = "";
	}
}

void
wf_fill(const struct wf *w, char *marks, const char **colors, int64_t a,
    int64_t b, char mark, const char *color)
{
	int	 ca = wf_col(w, a), cb = wf_col(w, b), i;

	if (b < w->from || a >= w->to)
		return;
	if (ca < 0)
		ca = 0;
	if (cb <= ca)
		cb = ca + 1;
	for (i = ca; i < cb && i < w->cols; i++) {
		marks[i] = mark;
		colors[i] = color;
	}
}

static void
wf_axis(const struct wf *w)
{
	char	*line, dur[32], tick[40];
	int	 i, len, step = 14;

	line = xmalloc(w->cols + 1);
	memset(line, ' ', w->cols);
	line[w->cols] = '\0';
	for (i = 0; i + 2 < w->cols; i += step) {
		len = snprintf(tick, sizeof(tick), "|+%s", wf_dur(dur,
		    sizeof(dur), w->from - w->t0 + w->scale * i));
		if (i + len > w->cols)
			break;
		memcpy(line + i, tick, len);
	}
	fprintf(w->f, "%s%*s %s%s\n", wf_c(w, C_DIM), w->label, "", line,
	    wf_c(w, C_RESET));
	free(line);
}

static void
wf_header(const struct wf *w)
{
	const msgpack_object	*s = w->d->session;
	char			 src[128], a[32], b[32], c[32], when[32];
	time_t			 t = (time_t)(w->t0 / 1000000);
	struct tm		 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	fprintf(w->f, "%ssession %lld%s  %s  %s UTC  %lld servers, %lld "
	    "connections, %lld transactions\n", wf_c(w, C_BOLD),
	    (long long)render_int(s, "id", 0), wf_c(w, C_RESET),
	    wf_field(src, sizeof(src), s, "source"), when,
	    (long long)render_count(w->d->servers),
	    (long long)render_count(w->d->connections),
	    (long long)render_count(w->d->transactions));
	fprintf(w->f, "window +%s .. +%s, %s per column\n",
	    wf_dur(a, sizeof(a), w->from - w->t0),
	    wf_dur(b, sizeof(b), w->to - w->t0),
	    wf_dur(c, sizeof(c), w->scale));
}

static void
wf_legend(const struct wf *w)
{
	size_t	 i;

	fputs("packets:", w->f);
	for (i = 0; i < sizeof(wf_classes) / sizeof(wf_classes[0]); i++)
		fprintf(w->f, " %s%c%s %s", wf_c(w, wf_classes[i].color),
		    wf_classes[i].mark, wf_c(w, C_RESET), wf_classes[i].name);
	fputs("\nstates: ", w->f);
	for (i = 0; i < sizeof(wf_states) / sizeof(wf_states[0]); i++)
		if (wf_states[i].mark != ' ')
			fprintf(w->f, " %s%c%s %s", wf_c(w, wf_states[i].color),
			    wf_states[i].mark, wf_c(w, C_RESET),
			    wf_states[i].name);
	fprintf(w->f, " %st%s tls handshake", wf_c(w, C_GREEN), wf_c(w, C_RESET));
	fprintf(w->f, " %sn%s dns lookup", wf_c(w, C_MAGENTA), wf_c(w, C_RESET));
	fprintf(w->f, "\ntransactions: %sc%s connect %s>%s send %s-%s wait "
	    "%s#%s receive\n\n", wf_c(w, C_GREEN), wf_c(w, C_RESET),
	    wf_c(w, C_DIM), wf_c(w, C_RESET), wf_c(w, C_YELLOW),
	    wf_c(w, C_RESET), wf_c(w, C_CYAN), wf_c(w, C_RESET));
}

const char *
wf_class_color(int k)
{
	if (k < 0 || (size_t)k >= sizeof(wf_classes) / sizeof(wf_classes[0]))
		return ("");
	return (wf_classes[k].color);
}

/* The most telling class of the packets that share a column wins. */
int
wf_class(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(wf_classes) / sizeof(wf_classes[0]); i++)
		if (strlen(wf_classes[i].name) == len &&
		    memcmp(wf_classes[i].name, s, len) == 0)
			return ((int)i);
	return (-1);
}

static void
wf_state_bar(const struct wf *w, const msgpack_object *c, char *marks,
    const char **colors)
{
	const msgpack_object	*st = render_array(c, "states");
	const char		*name;
	size_t			 len, k;
	uint32_t		 i, n = render_count(st);
	int64_t			 a, b;

	for (i = 0; i < n; i++) {
		name = render_str(&st->via.array.ptr[i], "state", &len);
		a = render_int(&st->via.array.ptr[i], "us", -1);
		if (i + 1 < n)
			b = render_int(&st->via.array.ptr[i + 1], "us", -1);
		else
			b = render_int(c, "last_us", a);
		if (name == NULL || a < 0 || b < a)
			continue;
		for (k = 0; k < sizeof(wf_states) / sizeof(wf_states[0]); k++)
			if (strlen(wf_states[k].name) == len &&
			    memcmp(wf_states[k].name, name, len) == 0)
				wf_fill(w, marks, colors, a, b,
				    wf_states[k].mark, wf_states[k].color);
	}
}

/* Returns the number of packets drawn. */
static uint32_t
wf_packet_marks(const struct wf *w, const msgpack_object *c, char *marks,
    const char **colors, int *prio)
{
	const msgpack_object	*pk = render_array(c, "packets");
	const char		*cls;
	size_t			 len;
	uint32_t		 i;
	int			 col, k;

	for (i = 0; i < render_count(pk); i++) {
		col = wf_col(w, render_int(&pk->via.array.ptr[i], "us", -1));
		cls = render_str(&pk->via.array.ptr[i], "class", &len);
		if (col < 0 || col >= w->cols || cls == NULL ||
		    (k = wf_class(cls, len)) == -1 ||
		    wf_classes[k].prio <= prio[col])
			continue;
		prio[col] = wf_classes[k].prio;
		marks[col] = wf_classes[k].mark;
		colors[col] = wf_classes[k].color;
	}
	return (render_count(pk));
}

static const char *
wf_type_color(const msgpack_object *resp)
{
	const char	*ct;
	size_t		 len;

	if ((ct = render_str(resp, "content_type", &len)) == NULL)
		return (C_BLUE);
	if (wf_contains(ct, len, "html") || wf_contains(ct, len, "text"))
		return (C_CYAN);
	if (wf_contains(ct, len, "image") || wf_contains(ct, len, "video"))
		return (C_GREEN);
	if (wf_contains(ct, len, "script") || wf_contains(ct, len, "css") ||
	    wf_contains(ct, len, "json"))
		return (C_MAGENTA);
	return (C_BLUE);
}

static void
wf_txn_bar(const struct wf *w, const msgpack_object *t, char *marks,
    const char **colors)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	const msgpack_object	*tm = proto_get(t, "timings");
	int64_t			 rs, re, ps, pe, connect;

	rs = render_int(req, "start_us", -1);
	re = render_int(req, "end_us", rs);
	connect = render_int(tm, "connect_us", -1);
	if (rs < 0)
		return;
	if (connect > 0)
		wf_fill(w, marks, colors, rs - connect, rs, 'c', C_GREEN);
	ps = render_int(resp, "start_us", -1);
	pe = render_int(resp, "end_us", ps);
	if (ps >= 0 && ps > re)
		wf_fill(w, marks, colors, re, ps, '-', C_YELLOW);
	wf_fill(w, marks, colors, rs, re, '>', C_DIM);
	if (ps >= 0)
		wf_fill(w, marks, colors, ps, pe, '#', wf_type_color(resp));
}

static const char *
wf_status_color(int64_t status)
{
	if (status >= 500)
		return (C_RED);
	if (status >= 400)
		return (C_YELLOW);
	if (status >= 300)
		return (C_CYAN);
	if (status >= 200)
		return (C_GREEN);
	return (C_DIM);
}

/*
 * "    ID[ h2/N] METHOD TARGET " into lab, cut at its size as snprintf
 * would cut it.
 */
static void
wf_label(char *lab, size_t size, int64_t id, const char *sid,
    const char *m, const char *tg)
{
	char	 tmp[512], *p = tmp;
	size_t	 n;

	memcpy(p, "    ", 4);
	p += 4;
	if (id < 0) {
		*p++ = '-';
		p = fmt_uint(p, 0ULL - (uint64_t)id, 0);
	} else
		p = fmt_uint(p, (uint64_t)id, 0);
	n = strlen(sid);
	memcpy(p, sid, n);
	p += n;
	*p++ = ' ';
	n = strlen(m);
	memcpy(p, m, n);
	p += n;
	*p++ = ' ';
	n = strlen(tg);
	memcpy(p, tg, n);
	p += n;
	*p++ = ' ';
	fmt_copy(lab, size, tmp, p);
}

static void
wf_txn_line(const struct wf *w, const msgpack_object *t, char *marks,
    const char **colors)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	char			 m[32], tg[256], lab[320], st[24], sid[24];
	int64_t			 status = render_int(resp, "status", -1);
	int64_t			 stream = render_int(t, "stream_id", -1);

	if (status >= 0)
		*fmt_uint(st, (uint64_t)status, 0) = '\0';
	else
		memcpy(st, resp != NULL && resp->type == MSGPACK_OBJECT_MAP ?
		    "1xx" : "---", 4);
	wf_field(m, sizeof(m), req, "method");
	wf_field(tg, sizeof(tg), req, "target");
	sid[0] = '\0';
	if (stream >= 0)
		snprintf(sid, sizeof(sid), " h2/%lld", (long long)stream);
	/* Status first so a long target cannot push it out of sight. */
	wf_label(lab, sizeof(lab), render_int(t, "id", 0), sid, m, tg);
	fputs(wf_c(w, wf_status_color(status)), w->f);
	fputs(st, w->f);
	fputs(wf_c(w, C_RESET), w->f);
	fputc(' ', w->f);
	wf_pad(w, lab + 4, w->label - 4);
	wf_clear(w, marks, colors);
	wf_txn_bar(w, t, marks, colors);
	wf_chart(w, marks, colors);
}

/* Sizes and timings of one transaction, under its bar. */
void
wf_txn_detail(const struct wf *w, const msgpack_object *t)
{
	const msgpack_object	*resp = proto_get(t, "response");
	const msgpack_object	*tm = proto_get(t, "timings");
	char			 reason[64], ct[96], enc[32], a[32], b[32];
	char			 c1[32], c2[32], c3[32], c4[32], c5[32];
	int64_t			 wire, dec;

	wf_spaces(w, 8);
	if (resp != NULL && resp->type == MSGPACK_OBJECT_MAP) {
		wire = render_int(resp, "body_bytes", -1);
		dec = render_int(resp, "decoded_bytes", -1);
		fputs(wf_field(reason, sizeof(reason), resp, "reason"), w->f);
		fputc(' ', w->f);
		fputs(wf_field(ct, sizeof(ct), resp, "content_type"), w->f);
		fputs("  ", w->f);
		fputs(wf_bytes(a, sizeof(a), wire), w->f);
		if (dec >= 0)
			fprintf(w->f, " -> %s %s x%.1f", wf_bytes(b, sizeof(b),
			    dec), wf_field(enc, sizeof(enc), resp,
			    "content_encoding"), wire > 0 ? (double)dec / wire :
			    0.0);
		if (render_bool(resp, "chunked"))
			fputs(" chunked", w->f);
	} else
		fputs("no response", w->f);
	fputs("  ", w->f);
	fputs(wf_c(w, C_DIM), w->f);
	fputs("conn ", w->f);
	fputs(wf_dur(c1, sizeof(c1), render_int(tm, "connect_us", -1)), w->f);
	fputs(" send ", w->f);
	fputs(wf_dur(c2, sizeof(c2), render_int(tm, "send_us", -1)), w->f);
	fputs(" wait ", w->f);
	fputs(wf_dur(c3, sizeof(c3), render_int(tm, "wait_us", -1)), w->f);
	fputs(" recv ", w->f);
	fputs(wf_dur(c4, sizeof(c4), render_int(tm, "receive_us", -1)), w->f);
	fputs(" stall ", w->f);
	fputs(wf_dur(c5, sizeof(c5), render_int(tm, "server_stall_us", -1)),
	    w->f);
	fputs(wf_c(w, C_RESET), w->f);
	fputc('\n', w->f);
}

void
wf_note(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (*off >= size - 1)
		return;
	if (*off > 0) {
		n = snprintf(buf + *off, size - *off, "; ");
		*off += (size_t)n < size - *off ? (size_t)n : size - *off - 1;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < size - *off ? (size_t)n : size - *off - 1;
}

/* Calls out what is worth a second look, on one line if any. */
void
wf_txn_notes(const struct wf *w, const msgpack_object *t)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	const msgpack_object	*it;
	char			 buf[512], err[96];
	size_t			 off = 0, len;

	if (render_bool(req, "headers_split"))
		wf_note(buf, sizeof(buf), &off,
		    "request headers split across %lld packets",
		    (long long)render_int(req, "packets", 2));
	if (render_bool(t, "request_lost"))
		wf_note(buf, sizeof(buf), &off, "request lost: its start was "
		    "not captured");
	if (render_bool(t, "response_lost"))
		wf_note(buf, sizeof(buf), &off, "response lost: its start was "
		    "not captured (%lld bytes missing)",
		    (long long)render_int(resp, "lost_bytes", 0));
	if (render_bool(t, "pipelined"))
		wf_note(buf, sizeof(buf), &off, "pipelined");
	if (render_bool(t, "conditional"))
		wf_note(buf, sizeof(buf), &off, "conditional%s",
		    render_bool(t, "not_modified") ? ", answered 304" : "");
	if (render_bool(t, "connection_close"))
		wf_note(buf, sizeof(buf), &off, "Connection: close");
	if (render_bool(t, "upgrade"))
		wf_note(buf, sizeof(buf), &off, "upgrade: tunnel from here on");
	if ((it = render_array(resp, "interim")) != NULL && it->via.array.size)
		wf_note(buf, sizeof(buf), &off, "%u interim 1xx",
		    (unsigned)it->via.array.size);
	if (resp != NULL && resp->type == MSGPACK_OBJECT_MAP &&
	    !render_bool(resp, "complete") &&
	    !render_bool(t, "response_lost"))
		wf_note(buf, sizeof(buf), &off, "response incomplete");
	if (render_str(resp, "error", &len) != NULL)
		wf_note(buf, sizeof(buf), &off, "parse error: %s",
		    wf_field(err, sizeof(err), resp, "error"));
	wf_h2_notes(t, buf, sizeof(buf), &off);
	if (off > 0)
		fprintf(w->f, "%*s%s! %s%s\n", 8, "", wf_c(w, C_YELLOW), buf,
		    wf_c(w, C_RESET));
}

/* Connection-level things the bars cannot show by themselves. */
void
wf_conn_notes(const struct wf *w, const msgpack_object *c)
{
	const msgpack_object	*fl = render_array(c, "flags");
	const msgpack_object	*c2s = proto_get(c, "c2s");
	const msgpack_object	*s2c = proto_get(c, "s2c");
	char			 buf[512], f[64];
	size_t			 off = 0;
	uint32_t		 i;
	int64_t			 r1, r2;

	for (i = 0; i < render_count(fl); i++) {
		if (fl->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			continue;
		esc_buf(f, sizeof(f), fl->via.array.ptr[i].via.str.ptr,
		    fl->via.array.ptr[i].via.str.size);
		if (strcmp(f, "midstream") == 0)
			wf_note(buf, sizeof(buf), &off,
			    "picked up mid-stream (no handshake seen)");
		else if (strcmp(f, "gap") == 0)
			wf_note(buf, sizeof(buf), &off, "gap in stream: "
			    "%lld + %lld bytes missing",
			    (long long)render_int(c2s, "gap_bytes", 0),
			    (long long)render_int(s2c, "gap_bytes", 0));
		else
			wf_note(buf, sizeof(buf), &off, "%s", f);
	}
	r1 = render_int(c2s, "retransmits", 0);
	r2 = render_int(s2c, "retransmits", 0);
	if (r1 > 0 || r2 > 0)
		wf_note(buf, sizeof(buf), &off, "retransmissions: %lld from "
		    "client, %lld from server", (long long)r1, (long long)r2);
	if (render_int(c2s, "zero_windows", 0) +
	    render_int(s2c, "zero_windows", 0) > 0)
		wf_note(buf, sizeof(buf), &off, "zero windows");
	if (off > 0)
		fprintf(w->f, "%*s%s! %s%s\n", 4, "", wf_c(w, C_YELLOW), buf,
		    wf_c(w, C_RESET));
}

static void
wf_conn_head(const struct wf *w, const msgpack_object *c, char *marks,
    const char **colors)
{
	char	 addr[80], lab[160], rtt[32], st[24];

	wf_field(addr, sizeof(addr), c, "client_addr");
	snprintf(lab, sizeof(lab), "  #%lld %s%s%s:%lld rtt %s %s",
	    (long long)render_int(c, "id", 0),
	    render_int(c, "ip_version", 4) == 6 ? "[" : "", addr,
	    render_int(c, "ip_version", 4) == 6 ? "]" : "",
	    (long long)render_int(c, "client_port", 0),
	    wf_dur(rtt, sizeof(rtt), render_int(c, "rtt_us", -1)),
	    wf_field(st, sizeof(st), c, "state"));
	wf_pad(w, lab, w->label);
	wf_clear(w, marks, colors);
	if (w->o->layers & WATERFALL_L_STATES)
		wf_state_bar(w, c, marks, colors);
	if (w->o->layers & WATERFALL_L_TLS)
		wf_tls_bar(w, c, marks, colors);
	wf_chart(w, marks, colors);
}

/* The lookup a connection waited for: its name, type, time and bar. */
static void
wf_dns_line(const struct wf *w, const msgpack_object *c, char *marks,
    const char **colors)
{
	const msgpack_object	*l = doc_conn_dns(w->d, c);
	char			 q[DNSLINE_LEN], lab[160], d[32];
	int64_t			 a, b;

	if (l == NULL || !(w->o->layers & WATERFALL_L_DNS))
		return;
	a = render_int(l, "query_us", -1);
	b = render_int(l, "response_us", -1);
	snprintf(lab, sizeof(lab), "    dns %s %s", dnsline_query(q, sizeof(q),
	    l), a >= 0 && b >= a ? wf_dur(d, sizeof(d), b - a) : "unanswered");
	wf_pad(w, lab, w->label);
	wf_clear(w, marks, colors);
	if (a >= 0 && b >= a)
		wf_fill(w, marks, colors, a, b + 1, 'n', wf_c(w, C_MAGENTA));
	wf_chart(w, marks, colors);
}

static void
wf_conn_block(const struct wf *w, const msgpack_object *c,
    struct wf_sum *srv, struct wf_sum *all)
{
	const msgpack_object	*ids = render_array(c, "transactions");
	const msgpack_object	*t;
	const char		**colors;
	char			*marks, lab[48];
	int			*prio;
	uint32_t		 i, n;

	marks = xmalloc(w->cols + 1);
	colors = xcalloc(w->cols, sizeof(*colors));
	prio = xcalloc(w->cols, sizeof(*prio));
	wf_conn_head(w, c, marks, colors);
	wf_dns_line(w, c, marks, colors);
	if (w->o->layers & WATERFALL_L_TLS)
		wf_tls_lines(w, c, 0);
	wf_h2_lines(w, c);
	wf_clear(w, marks, colors);
	if ((w->o->layers & WATERFALL_L_PACKETS) &&
	    (n = wf_packet_marks(w, c, marks, colors, prio)) > 0) {
		snprintf(lab, sizeof(lab), "    %u packets", n);
		wf_pad(w, lab, w->label);
		wf_chart(w, marks, colors);
	}
	wf_conn_notes(w, c);
	wf_sum_conn(srv, c);
	wf_sum_conn(all, c);
	for (i = 0; i < render_count(ids); i++) {
		const msgpack_object	*id = &ids->via.array.ptr[i];

		if (id->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    (t = doc_txn(w->d, id->via.u64)) == NULL ||
		    !wf_txn_ok(w, t))
			continue;
		if (w->o->layers & WATERFALL_L_TXN) {
			wf_txn_line(w, t, marks, colors);
			wf_txn_detail(w, t);
			wf_txn_notes(w, t);
		}
		wf_sum_txn(srv, t);
		wf_sum_txn(all, t);
	}
	free(prio);
	free(colors);
	free(marks);
}

static void
wf_server_head(const struct wf *w, const msgpack_object *s)
{
	char	 name[128], addr[80];
	size_t	 len;
	int	 v6;

	wf_field(addr, sizeof(addr), s, "addr");
	v6 = strchr(addr, ':') != NULL;
	if (render_str(s, "name", &len) == NULL)
		snprintf(name, sizeof(name), "%s", addr);
	else
		wf_field(name, sizeof(name), s, "name");
	fprintf(w->f, "%s%s%s (%s%s%s:%lld)\n", wf_c(w, C_BOLD), name,
	    wf_c(w, C_RESET), v6 ? "[" : "", addr, v6 ? "]" : "",
	    (long long)render_int(s, "port", 0));
}

/* One server: its connections in the order the session saw them. */
static void
wf_server(const struct wf *w, const msgpack_object *s, struct wf_sum *all)
{
	const msgpack_object	*cs = w->d->connections;
	struct wf_sum		 sum;
	uint64_t		 sid = (uint64_t)render_int(s, "id", 0);
	uint32_t		 i;
	int			 shown = 0;
	char			 what[160];

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < render_count(cs); i++) {
		const msgpack_object	*c = &cs->via.array.ptr[i];

		if ((uint64_t)render_int(c, "server", 0) != sid ||
		    !wf_conn_ok(w, c))
			continue;
		if (shown++ == 0)
			wf_server_head(w, s);
		wf_conn_block(w, c, &sum, all);
	}
	if (shown > 0) {
		snprintf(what, sizeof(what), "  server %lld",
		    (long long)sid);
		wf_sum_print(w, &sum, what);
		fputc('\n', w->f);
	}
	free(sum.waits);
}

int
waterfall_render(FILE *f, const struct doc *d,
    const struct waterfall_opts *o)
{
	struct wf	 w;
	struct wf_sum	 all;
	uint32_t	 i;

	wf_setup(&w, f, d, o);
	memset(&all, 0, sizeof(all));
	wf_header(&w);
	wf_legend(&w);
	wf_axis(&w);
	for (i = 0; i < render_count(d->servers); i++)
		wf_server(&w, &d->servers->via.array.ptr[i], &all);
	wf_sum_print(&w, &all, wf_filtered(o) ? "session (filtered)" :
	    "session");
	fflush(f);
	return (ferror(f) ? -1 : 0);
}
