/*
 * json.c: the JSON writer behind every --json and --format json. Runs
 * in htracrctl with the invoking user's privileges. Wire bytes reach
 * scripts through it, so it never emits invalid JSON whatever they
 * hold; it writes through a buffer of its own because a session can
 * hold tens of thousands of transactions.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Output goes through one buffer of our own and leaves in large
 * fwrites: a session's JSON is tens of megabytes made of short pieces,
 * and a stdio call per piece cost more than building the pieces.
 */
#define JSON_BUFSIZE	(64 * 1024)

struct json_out {
	FILE	*fp;
	size_t	 len;
	char	 buf[JSON_BUFSIZE];
};

struct json_out *
json_out_new(FILE *fp)
{
	struct json_out	*o;

	o = xmalloc(sizeof(*o));
	o->fp = fp;
	o->len = 0;
	return (o);
}

static void
json_flush(struct json_out *o)
{
	if (o->len > 0)
		fwrite_unlocked(o->buf, 1, o->len, o->fp);
	o->len = 0;
}

void
json_out_free(struct json_out *o)
{
	json_flush(o);
	free(o);
}

static void
json_puts(struct json_out *o, const void *s, size_t len)
{
	if (len > JSON_BUFSIZE - o->len) {
		json_flush(o);
		if (len >= JSON_BUFSIZE) {
			fwrite_unlocked(s, 1, len, o->fp);
			return;
		}
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}

static void
json_putc(struct json_out *o, char c)
{
	if (o->len == JSON_BUFSIZE)
		json_flush(o);
	o->buf[o->len++] = c;
}

/*
 * Two digits a step: the microsecond times every item holds have
 * sixteen.
 */
static void
json_u64(struct json_out *o, unsigned long long v)
{
	static const char	 pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	char			 buf[24], *p = buf + sizeof(buf);

	while (v >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else
		*--p = (char)('0' + v);
	json_puts(o, p, buf + sizeof(buf) - p);
}

static void
json_i64(struct json_out *o, long long v)
{
	if (v < 0) {
		json_putc(o, '-');
		json_u64(o, 0ULL - (unsigned long long)v);
	} else
		json_u64(o, (unsigned long long)v);
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if none.
 */
static size_t
json_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n <= need || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (need + 1);
}

/* The escaped form of c at d, at most 6 bytes; returns the end. */
static char *
json_escape_byte(char *d, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";

	*d++ = '\\';
	switch (c) {
	case '"':
	case '\\':
		*d++ = (char)c;
		return (d);
	case '\n':
		*d++ = 'n';
		return (d);
	case '\r':
		*d++ = 'r';
		return (d);
	case '\t':
		*d++ = 't';
		return (d);
	}
	memcpy(d, "u00", 3);
	d[3] = hex[c >> 4];
	d[4] = hex[c & 0xf];
	return (d + 5);
}

/* Printable ASCII but the quote (0x22) and backslash (0x5c). */
static const unsigned char	 json_plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1
};

/*
 * Whether all eight bytes of w are plain, tested at once: no byte
 * below 0x20, none equal to '"', '\\' or DEL, no high bit. Each test is
 * the classic "has a zero byte" trick, exact about whether any byte
 * matches.
 */
#define JSON_ONES	0x0101010101010101ULL
#define JSON_HIGHS	0x8080808080808080ULL

static int
json_plain8(uint64_t w)
{
	uint64_t	 q = w ^ (JSON_ONES * '"');
	uint64_t	 b = w ^ (JSON_ONES * '\\');
	uint64_t	 del = w ^ (JSON_ONES * 0x7f);
	uint64_t	 bad;

	bad = ((w - JSON_ONES * 0x20) & ~w) |
	    ((q - JSON_ONES) & ~q) | ((b - JSON_ONES) & ~b) |
	    ((del - JSON_ONES) & ~del) | w;
	return ((bad & JSON_HIGHS) == 0);
}

/*
 * Escapes s[i..len) straight into the buffer while it has room for the
 * longest step (seven plain bytes and a six-byte escape); returns where
 * it stopped.
 */
#define JSON_STEP	16

static size_t
json_str_some(struct json_out *o, const unsigned char *s, size_t i,
    size_t len)
{
	char		*d = o->buf + o->len;
	const char	*end = o->buf + JSON_BUFSIZE - JSON_STEP;
	uint64_t	 w;
	size_t		 n;

	while (i < len && d <= end) {
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (json_plain8(w)) {
				memcpy(d, &w, 8);
				d += 8;
				i += 8;
				continue;
			}
		}
		/* Fewer than eight plain bytes, up to the next other one. */
		while (i < len && json_plain[s[i]])
			*d++ = (char)s[i++];
		if (i == len)
			break;
		if (s[i] >= 0x80 && (n = json_utf8_len(s + i, len - i)) > 0) {
			memcpy(d, s + i, n);
			d += n;
			i += n;
		} else {
			/* Controls, DEL, quotes and each byte of bad UTF-8. */
			d = json_escape_byte(d, s[i++]);
		}
	}
	o->len = d - o->buf;
	return (i);
}

static void
json_str(struct json_out *o, const void *src, size_t len)
{
	size_t	 i = 0;

	json_putc(o, '"');
	while ((i = json_str_some(o, src, i, len)) < len)
		json_flush(o);
	json_putc(o, '"');
}

static void
json_base64(struct json_out *o, const unsigned char *p, size_t len)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char			 out[4];
	size_t			 i;
	unsigned int		 v;

	json_putc(o, '"');
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8 |
		    p[i + 2];
		out[0] = b64[v >> 18];
		out[1] = b64[(v >> 12) & 63];
		out[2] = b64[(v >> 6) & 63];
		out[3] = b64[v & 63];
		json_puts(o, out, 4);
	}
	if (i < len) {
		v = (unsigned int)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned int)p[i + 1] << 8;
		out[0] = b64[v >> 18];
		out[1] = b64[(v >> 12) & 63];
		out[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[3] = '=';
		json_puts(o, out, 4);
	}
	json_putc(o, '"');
}

static void
json_double(struct json_out *o, double d)
{
	char	 buf[32];
	int	 n;

	if (!isfinite(d)) {
		json_puts(o, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.17g", d);
	if (n > 0 && (size_t)n < sizeof(buf))
		json_puts(o, buf, (size_t)n);
	else
		json_puts(o, "null", 4);
}

/* JSON keys are strings; an integer key becomes its decimal text. */
static void
json_key(struct json_out *o, const msgpack_object *k)
{
	switch (k->type) {
	case MSGPACK_OBJECT_STR:
		json_str(o, k->via.str.ptr, k->via.str.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		json_putc(o, '"');
		json_u64(o, (unsigned long long)k->via.u64);
		json_putc(o, '"');
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		json_putc(o, '"');
		json_i64(o, (long long)k->via.i64);
		json_putc(o, '"');
		break;
	default:
		json_puts(o, "\"\"", 2);
		break;
	}
}

static void	 json_value(struct json_out *, const msgpack_object *);

static void
json_container(struct json_out *o, const msgpack_object *v)
{
	uint32_t	 i;

	if (v->type == MSGPACK_OBJECT_ARRAY) {
		json_putc(o, '[');
		for (i = 0; i < v->via.array.size; i++) {
			if (i > 0)
				json_putc(o, ',');
			json_value(o, &v->via.array.ptr[i]);
		}
		json_putc(o, ']');
		return;
	}
	json_putc(o, '{');
	for (i = 0; i < v->via.map.size; i++) {
		if (i > 0)
			json_putc(o, ',');
		json_key(o, &v->via.map.ptr[i].key);
		json_putc(o, ':');
		json_value(o, &v->via.map.ptr[i].val);
	}
	json_putc(o, '}');
}

static void
json_value(struct json_out *o, const msgpack_object *v)
{
	switch (v->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		if (v->via.boolean)
			json_puts(o, "true", 4);
		else
			json_puts(o, "false", 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		json_u64(o, (unsigned long long)v->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		json_i64(o, (long long)v->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		json_double(o, v->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_str(o, v->via.str.ptr, v->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		json_base64(o, (const unsigned char *)v->via.bin.ptr,
		    v->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
	case MSGPACK_OBJECT_MAP:
		json_container(o, v);
		break;
	default:
		/* nil, and ext which JSON cannot say. */
		json_puts(o, "null", 4);
		break;
	}
}

/* The buffered writer, for renderers that build their own shapes. */
void
json_out_flush(struct json_out *o)
{
	json_flush(o);
}

void
json_out_raw(struct json_out *o, const void *s, size_t len)
{
	json_puts(o, s, len);
}

void
json_out_str(struct json_out *o, const void *s, size_t len)
{
	json_str(o, s, len);
}

void
json_out_value(struct json_out *o, const msgpack_object *v)
{
	json_value(o, v);
}

void
json_out_u64(struct json_out *o, uint64_t v)
{
	json_u64(o, (unsigned long long)v);
}

void
json_out_i64(struct json_out *o, int64_t v)
{
	json_i64(o, (long long)v);
}

/* The public writers, each through a buffer of its own. */
void
json_write(FILE *fp, const msgpack_object *v)
{
	struct json_out	*o = json_out_new(fp);

	json_value(o, v);
	json_out_free(o);
}

void
json_write_str(FILE *fp, const void *s, size_t len)
{
	struct json_out	*o = json_out_new(fp);

	json_str(o, s, len);
	json_out_free(o);
}

/*
 * Streaming the document: the daemon sends the session, then every
 * server, connection, transaction and DNS lookup, in that order
 * (session.h), so
 * the one JSON object can be written as the items arrive.
 */
enum json_section {
	JSON_START,
	JSON_SESSION,
	JSON_SERVERS,
	JSON_CONNECTIONS,
	JSON_TRANSACTIONS,
	JSON_DNS,
	JSON_NSECTIONS
};

static const char	*json_types[JSON_NSECTIONS] = {
	NULL, "session", "server", "connection", "transaction", "dns"
};
static const char	*json_keys[JSON_NSECTIONS] = {
	NULL, "session", "servers", "connections", "transactions", "dns"
};

struct json_stream {
	struct json_out	*out;
	int		 section;	/* the one being written */
	uint64_t	 count;		/* items in it so far */
	uint64_t	 skipped;	/* out of order or unknown */
};

struct json_stream *
json_stream_new(FILE *fp)
{
	struct json_stream	*j;

	j = xcalloc(1, sizeof(*j));
	j->out = json_out_new(fp);
	json_puts(j->out, "{\"htracr\":1", 11);
	j->section = JSON_START;
	return (j);
}

/* Closes the current section and opens the next, up to section. */
static void
json_stream_advance(struct json_stream *j, int section)
{
	while (j->section < section) {
		if (j->section > JSON_SESSION)
			json_putc(j->out, ']');
		else if (j->section == JSON_SESSION && j->count == 0)
			json_puts(j->out, "null", 4);
		j->section++;
		j->count = 0;
		json_putc(j->out, ',');
		json_str(j->out, json_keys[j->section],
		    strlen(json_keys[j->section]));
		json_putc(j->out, ':');
		if (j->section > JSON_SESSION)
			json_putc(j->out, '[');
	}
}

static int
json_section_of(const msgpack_object *item)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int			 k;

	if (item->type != MSGPACK_OBJECT_MAP)
		return (-1);
	for (i = 0; i < item->via.map.size; i++) {
		kv = &item->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->key.via.str.size != 4 ||
		    memcmp(kv->key.via.str.ptr, "type", 4) != 0 ||
		    kv->val.type != MSGPACK_OBJECT_STR)
			continue;
		for (k = JSON_SESSION; k < JSON_NSECTIONS; k++)
			if (kv->val.via.str.size == strlen(json_types[k]) &&
			    memcmp(kv->val.via.str.ptr, json_types[k],
			    kv->val.via.str.size) == 0)
				return (k);
	}
	return (-1);
}

int
json_stream_item(void *arg, const msgpack_object *item)
{
	struct json_stream	*j = arg;
	int			 k = json_section_of(item);

	/* A second session, or an item behind its section: not ours. */
	if (k == -1 || k < j->section ||
	    (k == JSON_SESSION && j->section == JSON_SESSION)) {
		j->skipped++;
		return (0);
	}
	json_stream_advance(j, k);
	if (j->count++ > 0)
		json_putc(j->out, ',');
	json_value(j->out, item);
	return (ferror(j->out->fp) ? -1 : 0);
}

int
json_stream_free(struct json_stream *j)
{
	int	 rc;

	json_stream_advance(j, JSON_DNS);
	json_puts(j->out, "]}\n", 3);
	if (j->skipped > 0)
		log_warnx("left out %llu detail items that came out of order",
		    (unsigned long long)j->skipped);
	json_flush(j->out);
	rc = ferror(j->out->fp) ? -1 : 0;
	json_out_free(j->out);
	free(j);
	return (rc);
}

int
json_render(FILE *fp, const struct doc *d)
{
	struct json_out	*o = json_out_new(fp);

	json_value(o, &d->root);
	json_putc(o, '\n');
	json_out_free(o);
	return (ferror(fp) ? -1 : 0);
}
