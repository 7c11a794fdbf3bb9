/*
 * render.c: helpers shared by htracrctl's renderers: reading fields of
 * session detail items and writing JSON that is safe to embed in HTML.
 * Runs in htracrctl with the invoking user's privileges; the strings it
 * writes came from the wire and may hold any byte.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <msgpack.h>

#include "proto.h"
#include "render.h"

/* Deeper than anything the daemon sends (PROTO_MAX_DEPTH) plus the root. */
#define RENDER_JSON_DEPTH	32

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

void
render_json_str(FILE *f, const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n;
	uint32_t		 cp;

	fputc('"', f);
	while (i < len) {
		/* Runs of plain bytes, most of any string, in one write. */
		for (n = 0; i + n < len && render_json_plain(s[i + n]); n++)
			;
		if (n > 0) {
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		n = render_utf8_len(s + i, len - i, &cp);
		if (n == 0) {
			/* Not UTF-8: JSON cannot carry the byte itself. */
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp < 0x20 || cp == 0x7f || cp == '<' || cp == '>' ||
		    cp == '&' || cp == 0x2028 || cp == 0x2029)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(s + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

void
render_json_cstr(FILE *f, const char *s)
{
	render_json_str(f, s, strlen(s));
}

/* Most values of a session are integers: no printf for each. */
static void
render_json_u64(FILE *f, uint64_t v)
{
	char	 buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	fwrite(p, 1, buf + sizeof(buf) - p, f);
}

static int
render_json_depth(FILE *f, const msgpack_object *o, int depth)
{
	uint32_t	 i;

	if (depth > RENDER_JSON_DEPTH)
		return (-1);
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		render_json_u64(f, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fputc('-', f);
		render_json_u64(f, 0ULL - (uint64_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isfinite(o->via.f64))
			fprintf(f, "%.17g", o->via.f64);
		else
			fputs("null", f);
		break;
	case MSGPACK_OBJECT_STR:
		render_json_str(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				fputc(',', f);
			if (render_json_depth(f, &o->via.array.ptr[i],
			    depth + 1) == -1)
				return (-1);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv	*kv = &o->via.map.ptr[i];

			if (i > 0)
				fputc(',', f);
			if (kv->key.type == MSGPACK_OBJECT_STR)
				render_json_str(f, kv->key.via.str.ptr,
				    kv->key.via.str.size);
			else
				fputs("\"?\"", f);
			fputc(':', f);
			if (render_json_depth(f, &kv->val, depth + 1) == -1)
				return (-1);
		}
		fputc('}', f);
		break;
	default:
		/* nil, and bin/ext which the document never needs as JSON. */
		fputs("null", f);
		break;
	}
	return (0);
}

int
render_json_value(FILE *f, const msgpack_object *o)
{
	return (render_json_depth(f, o, 0));
}

int64_t
render_int(const msgpack_object *item, const char *key, int64_t fallback)
{
	int64_t	 v;

	if (proto_get_i64(item, key, &v) == -1)
		return (fallback);
	return (v);
}

int
render_bool(const msgpack_object *item, const char *key)
{
	int	 v;

	if (proto_get_bool(item, key, &v) == -1)
		return (0);
	return (v);
}

const char *
render_str(const msgpack_object *item, const char *key, size_t *len)
{
	const char	*s;

	if (proto_get_str(item, key, &s, len) == -1) {
		*len = 0;
		return (NULL);
	}
	return (s);
}

const msgpack_object *
render_array(const msgpack_object *item, const char *key)
{
	const msgpack_object	*o = proto_get(item, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY)
		return (NULL);
	return (o);
}

uint32_t
render_count(const msgpack_object *arr)
{
	if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY)
		return (0);
	return (arr->via.array.size);
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
