/*
 * render.c: helpers shared by htracrctl's renderers: reading fields of
 * session detail items and writing JSON that is safe to embed in HTML.
 * Runs in htracrctl with the invoking user's privileges; the strings it
 * writes came from the wire and may hold any byte.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <msgpack.h>

#include "log.h"
#include "proto.h"
#include "render.h"
#include "render_int.h"
#include "xmalloc.h"

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one: overlong forms, surrogates and code points
 * above U+10FFFF are refused, as a browser's decoder would.
 */
static size_t
render_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		 len, i;
	uint32_t	 c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (len);
}

/*
 * Bytes that stand for themselves in the output: printable ASCII but
 * for the quote, the backslash and what HTML reads as markup.
 */
static int
render_json_plain(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
	    c != '<' && c != '>' && c != '&');
}

/*
 * Eight bytes tested at once for one that is not plain, with the "has
 * a zero byte" trick, which is exact about whether any byte matches:
 * a run of plain bytes, most of any string, is found a word at a time.
 */
#define RENDER_ONES	0x0101010101010101ULL
#define RENDER_HIGHS	0x8080808080808080ULL

static inline uint64_t
render_has(uint64_t w, unsigned char c)
{
	uint64_t	 x = w ^ (RENDER_ONES * c);

	return ((x - RENDER_ONES) & ~x);
}

static inline int
render_plain8(uint64_t w)
{
	uint64_t	 bad;

	bad = ((w - RENDER_ONES * 0x20) & ~w) | w | render_has(w, '"') |
	    render_has(w, '\\') | render_has(w, 0x7f) | render_has(w, '<') |
	    render_has(w, '>') | render_has(w, '&');
	return ((bad & RENDER_HIGHS) == 0);
}

/* How many bytes from s on are plain. */
static size_t
render_plain_run(const unsigned char *s, size_t len)
{
	uint64_t	 w;
	size_t		 n = 0;

	while (len - n >= 8) {
		memcpy(&w, s + n, 8);
		if (!render_plain8(w))
			break;
		n += 8;
	}
	while (n < len && render_json_plain(s[n]))
		n++;
	return (n);
}

/* \u and four hex digits. */
static void
render_json_u(struct render_buf *r, uint32_t cp)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 e[6] = { '\\', 'u' };

	e[2] = hex[(cp >> 12) & 0xf];
	e[3] = hex[(cp >> 8) & 0xf];
	e[4] = hex[(cp >> 4) & 0xf];
	e[5] = hex[cp & 0xf];
	render_put(r, e, sizeof(e));
}

void
render_str_buf(struct render_buf *r, const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n;
	uint32_t		 cp;

	render_putc(r, '"');
	while (i < len) {
		/* Runs of plain bytes, most of any string, in one copy. */
		if ((n = render_plain_run(s + i, len - i)) > 0) {
			render_put(r, s + i, n);
			i += n;
			continue;
		}
		n = render_utf8_len(s + i, len - i, &cp);
		if (n == 0) {
			/* Not UTF-8: JSON cannot carry the byte itself. */
			render_put(r, "\\ufffd", 6);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			render_putc(r, '\\');
			render_putc(r, (char)cp);
		} else if (cp < 0x20 || cp == 0x7f || cp == '<' || cp == '>' ||
		    cp == '&' || cp == 0x2028 || cp == 0x2029)
			render_json_u(r, cp);
		else
			render_put(r, s + i, n);
		i += n;
	}
	render_putc(r, '"');
}

void
render_json_str(FILE *f, const char *str, size_t len)
{
	struct render_buf	 r;
	char			 b[RENDER_STRBUF];

	render_buf_init(&r, f, b, sizeof(b));
	render_str_buf(&r, str, len);
	render_flush(&r);
}

void
render_json_cstr(FILE *f, const char *s)
{
	render_json_str(f, s, strlen(s));
}

/* Most values of a session are integers: no printf for each. */
void
render_json_u64(struct render_buf *r, uint64_t v)
{
	char	 buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	render_put(r, p, buf + sizeof(buf) - p);
}

static void
render_json_f64(struct render_buf *r, double v)
{
	char	 buf[32];
	int	 n;

	if (!isfinite(v)) {
		render_put(r, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.17g", v);
	if (n > 0 && (size_t)n < sizeof(buf))
		render_put(r, buf, (size_t)n);
	else
		render_put(r, "null", 4);
}

int
render_json_depth(struct render_buf *r, const msgpack_object *o, int depth)
{
	uint32_t	 i;

	if (depth > RENDER_JSON_DEPTH)
		return (-1);
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean)
			render_put(r, "true", 4);
		else
			render_put(r, "false", 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		render_json_u64(r, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		render_putc(r, '-');
		render_json_u64(r, 0ULL - (uint64_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		render_json_f64(r, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		render_str_buf(r, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		render_putc(r, '[');
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				render_putc(r, ',');
			if (render_json_depth(r, &o->via.array.ptr[i],
			    depth + 1) == -1)
				return (-1);
		}
		render_putc(r, ']');
		break;
	case MSGPACK_OBJECT_MAP:
		render_putc(r, '{');
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv	*kv = &o->via.map.ptr[i];

			if (i > 0)
				render_putc(r, ',');
			if (kv->key.type == MSGPACK_OBJECT_STR)
				render_str_buf(r, kv->key.via.str.ptr,
				    kv->key.via.str.size);
			else
				render_put(r, "\"?\"", 3);
			render_putc(r, ':');
			if (render_json_depth(r, &kv->val, depth + 1) == -1)
				return (-1);
		}
		render_putc(r, '}');
		break;
	default:
		/* nil, and bin/ext which the document never needs as JSON. */
		render_put(r, "null", 4);
		break;
	}
	return (0);
}

int
render_json_value(FILE *f, const msgpack_object *o)
{
	struct render_buf	 r;
	char			*b = xmalloc(RENDER_BUFSIZE);
	int			 rc;

	render_buf_init(&r, f, b, RENDER_BUFSIZE);
	rc = render_json_depth(&r, o, 0);
	render_flush(&r);
	free(b);
	return (rc);
}

int
render_header_at(const msgpack_object *hs, uint32_t i,
    struct render_header *h)
{
	const msgpack_object	*p;

	if (i >= render_count(hs))
		return (-1);
	p = &hs->via.array.ptr[i];
	if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2 ||
	    p->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
	    p->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
		return (-1);
	h->name = p->via.array.ptr[0].via.str.ptr;
	h->nlen = p->via.array.ptr[0].via.str.size;
	h->value = p->via.array.ptr[1].via.str.ptr;
	h->vlen = p->via.array.ptr[1].via.str.size;
	return (0);
}

const char *
render_header(const msgpack_object *msg, const char *name, size_t *len)
{
	const msgpack_object	*hs = render_array(msg, "headers");
	struct render_header	 h;
	size_t			 n = strlen(name);
	uint32_t		 i;

	for (i = 0; i < render_count(hs); i++) {
		if (render_header_at(hs, i, &h) == 0 && h.nlen == n &&
		    strncasecmp(h.name, name, n) == 0) {
			*len = h.vlen;
			return (h.value);
		}
	}
	*len = 0;
	return (NULL);
}
