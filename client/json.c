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
#include "proto.h"
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

/* How many decimal digits v has. */
static inline size_t
json_digits(unsigned long long v)
{
	static const unsigned long long	 pow10[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
		1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
		10000000000ULL, 100000000000ULL, 1000000000000ULL,
		10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
		10000000000000000ULL, 100000000000000000ULL,
		1000000000000000000ULL, 10000000000000000000ULL
	};
	size_t				 t;

	if (v < 10)
		return (1);
	/* log10(2) is about 1233 / 4096: t is the digits less one or two. */
	t = ((size_t)(64 - __builtin_clzll(v)) * 1233) >> 12;
	return (t + (v >= pow10[t]));
}

/*
 * Written in place, from the last digit back, two digits a step: the
 * microsecond times every item holds have sixteen. Above eight digits
 * the number is cut in eights, each written in 32-bit arithmetic.
 */
static void
json_u64(struct json_out *o, unsigned long long v)
{
	static const char	 pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	char			*p;
	uint32_t		 x;
	int			 i;

	if (JSON_BUFSIZE - o->len < 20)
		json_flush(o);
	o->len += json_digits(v);
	p = o->buf + o->len;
	while (v >= 100000000) {
		x = (uint32_t)(v % 100000000);
		v /= 100000000;
		for (i = 0; i < 4; i++) {
			p -= 2;
			memcpy(p, pairs + 2 * (x % 100), 2);
			x /= 100;
		}
	}
	x = (uint32_t)v;
	while (x >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (x % 100), 2);
		x /= 100;
	}
	if (x >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * x, 2);
	} else
		*--p = (char)('0' + x);
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
 * below 0x20, none equal to '"' or '\\', none at DEL or above. The
 * first three tests are the classic "has a zero byte" trick, exact
 * about whether any byte matches; in the last, a byte at 0x7f or above
 * has its high bit set in w or in w plus one (a carry out of a byte
 * comes only from 0xff, itself caught).
 */
#define JSON_ONES	0x0101010101010101ULL
#define JSON_HIGHS	0x8080808080808080ULL

static inline int
json_plain8(uint64_t w)
{
	uint64_t	 q = w ^ (JSON_ONES * '"');
	uint64_t	 b = w ^ (JSON_ONES * '\\');
	uint64_t	 bad;

	bad = ((w - JSON_ONES * 0x20) & ~w) |
	    ((q - JSON_ONES) & ~q) | ((b - JSON_ONES) & ~b) |
	    (w + JSON_ONES) | w;
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

/*
 * The same writer reading msgpack bytes where they lie, for the detail
 * of a session, which otherwise cost as much to decode into objects as
 * to write: for every value it writes what json_value writes for the
 * value decoded (proto_decode). Each function returns where the value
 * ended, or NULL if the bytes are not one whole value before end or
 * nest deeper than a reply may (PROTO_MAX_REPLY_DEPTH, counted as the
 * decoder counts it from the message).
 */
static const unsigned char *json_raw(struct json_out *,
		    const unsigned char *, const unsigned char *, int);

/*
 * A string of a raw message: most are short plain ASCII (keys, times,
 * names), tested eight bytes a word, the last word read whole where
 * the message goes on past the string and its bytes beyond the string
 * taken as plain. Anything else goes the long way, json_str.
 */
static inline __attribute__((always_inline)) void
json_raw_str(struct json_out *o, const unsigned char *s, size_t n,
    const unsigned char *end)
{
	uint64_t	 w, mask;
	char		*d;
	size_t		 i;

	if (n > 64 || (size_t)(end - s) < ((n + 7) & ~(size_t)7) ||
	    JSON_BUFSIZE - o->len < n + 2 + 8) {
		json_str(o, s, n);
		return;
	}
	d = o->buf + o->len + 1;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (!json_plain8(w))
			goto slow;
		memcpy(d + i, &w, 8);
	}
	if (i < n) {
		memcpy(&w, s + i, 8);
		mask = ~0ULL >> (8 * (8 - (n - i)));
		w = (w & mask) | ((JSON_ONES * 'a') & ~mask);
		if (!json_plain8(w))
			goto slow;
		memcpy(d + i, &w, 8);
	}
	d[-1] = '"';
	d[n] = '"';
	o->len += n + 2;
	return;
slow:
	json_str(o, s, n);
}

/*
 * The head of a msgpack value: its kind, and its number (the integer,
 * sign-extended, or the float's bits), the length of its body (a str,
 * bin or ext, the ext's type byte counted) or its count of items.
 */
enum json_kind {
	JSON_UINT, JSON_INT, JSON_FLOAT32, JSON_FLOAT64, JSON_NIL,
	JSON_FALSE, JSON_TRUE, JSON_STR, JSON_BIN, JSON_EXT, JSON_ARRAY,
	JSON_MAP
};

struct json_head {
	enum json_kind	 kind;
	uint64_t	 v;
};

/*
 * Reads the head of the value at p; returns where its body (or next
 * value) begins, NULL if the head does not fit before end or is the
 * unused type byte. Bodies and counts are not checked against end.
 */
static inline __attribute__((always_inline)) const unsigned char *
json_raw_head(const unsigned char *p, const unsigned char *end,
    struct json_head *h)
{
	unsigned char	 b;
	size_t		 n;

	if (p >= end)
		return (NULL);
	b = *p++;
	if (b <= 0x7f || b >= 0xe0) {
		h->kind = b <= 0x7f ? JSON_UINT : JSON_INT;
		h->v = b <= 0x7f ? b : (uint64_t)(int64_t)(int8_t)b;
		return (p);
	}
	if (b <= 0x9f) {
		h->kind = b <= 0x8f ? JSON_MAP : JSON_ARRAY;
		h->v = b & 0x0f;
		return (p);
	}
	if (b <= 0xbf) {
		h->kind = JSON_STR;
		h->v = b & 0x1f;
		return (p);
	}
	switch (b) {
	case 0xc0:
		h->kind = JSON_NIL;
		return (p);
	case 0xc2:
	case 0xc3:
		h->kind = b == 0xc3 ? JSON_TRUE : JSON_FALSE;
		return (p);
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		h->kind = JSON_EXT;
		h->v = ((uint64_t)1 << (b - 0xd4)) + 1;
		return (p);
	}
	/* The rest have a number of 1 to 8 bytes next. */
	if (b >= 0xc4 && b <= 0xc6) {
		h->kind = JSON_BIN;
		n = (size_t)1 << (b - 0xc4);
	} else if (b >= 0xc7 && b <= 0xc9) {
		h->kind = JSON_EXT;
		n = (size_t)1 << (b - 0xc7);
	} else if (b == 0xca || b == 0xcb) {
		h->kind = b == 0xca ? JSON_FLOAT32 : JSON_FLOAT64;
		n = b == 0xca ? 4 : 8;
	} else if (b >= 0xcc && b <= 0xcf) {
		h->kind = JSON_UINT;
		n = (size_t)1 << (b - 0xcc);
	} else if (b >= 0xd0 && b <= 0xd3) {
		h->kind = JSON_INT;
		n = (size_t)1 << (b - 0xd0);
	} else if (b >= 0xd9 && b <= 0xdb) {
		h->kind = JSON_STR;
		n = (size_t)1 << (b - 0xd9);
	} else if (b >= 0xdc) {
		h->kind = b >= 0xde ? JSON_MAP : JSON_ARRAY;
		n = (b & 1) ? 4 : 2;
	} else
		return (NULL);		/* 0xc1, never used */
	if ((size_t)(end - p) < n)
		return (NULL);
	h->v = proto_be(p, n);
	if (h->kind == JSON_EXT)
		h->v++;			/* the type byte */
	else if (h->kind == JSON_INT && n < 8 && (h->v >> (8 * n - 1)))
		h->v |= ~0ULL << (8 * n);
	return (p + n);
}

/* Where the value at p ends, as json_raw finds it; NULL if none does. */
static const unsigned char *
json_raw_skip(const unsigned char *p, const unsigned char *end, int depth)
{
	struct json_head	 h;
	uint64_t		 i, n;

	if (depth > PROTO_MAX_REPLY_DEPTH ||
	    (p = json_raw_head(p, end, &h)) == NULL)
		return (NULL);
	if (h.kind < JSON_STR)
		return (p);
	if (h.v > (uint64_t)(end - p))
		return (NULL);
	if (h.kind < JSON_ARRAY)
		return (p + h.v);
	n = h.kind == JSON_MAP ? 2 * h.v : h.v;
	for (i = 0; i < n && p != NULL; i++)
		p = json_raw_skip(p, end, depth + 1);
	return (p);
}

/* The bytes of a value as a map key: json_key's rules. */
static const unsigned char *
json_raw_key(struct json_out *o, const unsigned char *p,
    const unsigned char *end, int depth)
{
	struct json_head	 h;
	const unsigned char	*q;
	unsigned char		 b;
	size_t			 n;

	if (depth > PROTO_MAX_REPLY_DEPTH)
		return (NULL);
	if (p < end && (b = *p) >= 0xa0 && b <= 0xbf) {
		n = b & 0x1f;
		if ((size_t)(end - p - 1) < n)
			return (NULL);
		json_raw_str(o, p + 1, n, end);
		return (p + 1 + n);
	}
	if ((q = json_raw_head(p, end, &h)) == NULL)
		return (NULL);
	if (h.kind == JSON_STR)
		return (json_raw(o, p, end, depth));
	/* Numbers quoted; any other key an empty string, skipped. */
	if (h.kind == JSON_UINT || h.kind == JSON_INT) {
		json_putc(o, '"');
		if (h.kind == JSON_UINT)
			json_u64(o, h.v);
		else
			json_i64(o, (int64_t)h.v);
		json_putc(o, '"');
		return (q);
	}
	json_puts(o, "\"\"", 2);
	return (json_raw_skip(p, end, depth));
}

/*
 * A value inside a container: the common leaves (short strings, small
 * numbers, nil and booleans) here, without a call; the rest by json_raw.
 */
static inline __attribute__((always_inline)) const unsigned char *
json_raw_elem(struct json_out *o, const unsigned char *p,
    const unsigned char *end, int depth)
{
	unsigned char	 b;
	size_t		 n;

	if (p >= end || depth > PROTO_MAX_REPLY_DEPTH)
		return (NULL);
	b = *p;
	if (b >= 0xa0 && b <= 0xbf) {
		n = b & 0x1f;
		if ((size_t)(end - p - 1) < n)
			return (NULL);
		json_raw_str(o, p + 1, n, end);
		return (p + 1 + n);
	}
	if (b <= 0x7f)
		json_u64(o, b);
	else if (b == 0xc0)
		json_puts(o, "null", 4);
	else if (b == 0xc2)
		json_puts(o, "false", 5);
	else if (b == 0xc3)
		json_puts(o, "true", 4);
	else
		return (json_raw(o, p, end, depth));
	return (p + 1);
}

static const unsigned char *
json_raw_container(struct json_out *o, const unsigned char *p,
    const unsigned char *end, uint64_t n, int map, int depth)
{
	uint64_t	 i;

	if (n > (uint64_t)(end - p))
		return (NULL);
	json_putc(o, map ? '{' : '[');
	for (i = 0; i < n && p != NULL; i++) {
		if (i > 0)
			json_putc(o, ',');
		if (map) {
			if ((p = json_raw_key(o, p, end, depth + 1)) == NULL)
				break;
			json_putc(o, ':');
		}
		p = json_raw_elem(o, p, end, depth + 1);
	}
	json_putc(o, map ? '}' : ']');
	return (p);
}

static const unsigned char *
json_raw(struct json_out *o, const unsigned char *p, const unsigned char *end,
    int depth)
{
	struct json_head	 h;
	uint32_t		 w;
	float			 f;
	double			 d;

	if (depth > PROTO_MAX_REPLY_DEPTH ||
	    (p = json_raw_head(p, end, &h)) == NULL)
		return (NULL);
	switch (h.kind) {
	case JSON_UINT:
		json_u64(o, h.v);
		return (p);
	case JSON_INT:
		json_i64(o, (int64_t)h.v);
		return (p);
	case JSON_FLOAT32:
		w = (uint32_t)h.v;
		memcpy(&f, &w, sizeof(f));
		json_double(o, f);
		return (p);
	case JSON_FLOAT64:
		memcpy(&d, &h.v, sizeof(d));
		json_double(o, d);
		return (p);
	case JSON_NIL:
		json_puts(o, "null", 4);
		return (p);
	case JSON_FALSE:
		json_puts(o, "false", 5);
		return (p);
	case JSON_TRUE:
		json_puts(o, "true", 4);
		return (p);
	case JSON_ARRAY:
	case JSON_MAP:
		return (json_raw_container(o, p, end, h.v,
		    h.kind == JSON_MAP, depth));
	default:
		break;
	}
	if (h.v > (uint64_t)(end - p))
		return (NULL);
	if (h.kind == JSON_STR)
		json_raw_str(o, p, (size_t)h.v, end);
	else if (h.kind == JSON_BIN)
		json_base64(o, p, (size_t)h.v);
	else
		json_puts(o, "null", 4);	/* an ext: JSON cannot say it */
	return (p + h.v);
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

const char *
json_write_raw(FILE *fp, const char *p, const char *end, int depth)
{
	struct json_out		*o = json_out_new(fp);
	const unsigned char	*q;

	q = json_raw(o, (const unsigned char *)p, (const unsigned char *)end,
	    depth);
	json_out_free(o);
	return ((const char *)q);
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


/* The string at p (any str form): its bytes and where it ends, or NULL. */
static const unsigned char *
json_raw_strat(const unsigned char *p, const unsigned char *end,
    const unsigned char **s, uint64_t *len)
{
	struct json_head	 h;

	if ((p = json_raw_head(p, end, &h)) == NULL || h.kind != JSON_STR ||
	    h.v > (uint64_t)(end - p))
		return (NULL);
	*s = p;
	*len = h.v;
	return (p + h.v);
}

/*
 * The section of a raw item: the first of its "type" keys whose value
 * names one, found at once where the daemon puts it (the first key),
 * else by walking the keys.
 */
static int
json_raw_section(const unsigned char *p, const unsigned char *end)
{
	struct json_head	 h;
	const unsigned char	*s, *q;
	uint64_t		 i, len, vlen;
	int			 k;

	if ((p = json_raw_head(p, end, &h)) == NULL || h.kind != JSON_MAP)
		return (-1);
	for (i = 0; i < h.v; i++) {
		if ((q = json_raw_strat(p, end, &s, &len)) != NULL &&
		    len == 4 && memcmp(s, "type", 4) == 0 &&
		    json_raw_strat(q, end, &s, &vlen) != NULL) {
			for (k = JSON_SESSION; k < JSON_NSECTIONS; k++)
				if (vlen == strlen(json_types[k]) &&
				    memcmp(s, json_types[k], vlen) == 0)
					return (k);
		}
		if ((p = json_raw_skip(p, end, 3)) == NULL ||
		    (p = json_raw_skip(p, end, 3)) == NULL)
			return (-1);
	}
	return (-1);
}

int
json_stream_raw(void *arg, const char **pp, const char *end)
{
	struct json_stream	*j = arg;
	const unsigned char	*p = (const unsigned char *)*pp;
	const unsigned char	*e = (const unsigned char *)end;
	int			 k = json_raw_section(p, e);

	/* Items are at depth 2 of their message: its map, the chunk. */
	if (k == -1 || k < j->section ||
	    (k == JSON_SESSION && j->section == JSON_SESSION)) {
		j->skipped++;
		p = json_raw_skip(p, e, 2);
	} else {
		json_stream_advance(j, k);
		if (j->count++ > 0)
			json_putc(j->out, ',');
		p = json_raw(j->out, p, e, 2);
	}
	if (p == NULL) {
		log_warnx("htracrd sent a detail item that is not msgpack, or "
		    "nests too deeply");
		return (-1);
	}
	*pp = (const char *)p;
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
