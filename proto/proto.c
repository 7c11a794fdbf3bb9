/*
 * proto.c: framing, limit checks and field access for the client
 * protocol. Linked into htracrctl and the analyzer; no privilege.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static const struct {
	int		 op;
	const char	*name;
} proto_ops[] = {
	{ PROTO_OP_HELLO, "hello" },
	{ PROTO_OP_SESSIONS, "sessions" },
	{ PROTO_OP_DETAIL, "detail" },
	{ PROTO_OP_FRAMES, "frames" },
	{ PROTO_OP_BODY, "body" },
	{ PROTO_OP_LOAD_BEGIN, "load_begin" },
	{ PROTO_OP_LOAD_FRAMES, "load_frames" },
	{ PROTO_OP_LOAD_END, "load_end" },
	{ PROTO_OP_KEYS, "keys" },
	{ PROTO_OP_KEYLOG, "keylog" },
	{ PROTO_OP_START, "start" },
	{ PROTO_OP_STOP, "stop" },
	{ PROTO_OP_PORTS, "ports" },
	{ PROTO_OP_STATUS, "status" },
	{ PROTO_OP_WATCH, "watch" },
};

const char *
proto_op_name(int op)
{
	size_t	 i;

	for (i = 0; i < sizeof(proto_ops) / sizeof(proto_ops[0]); i++)
		if (proto_ops[i].op == op)
			return (proto_ops[i].name);
	return ("unknown");
}

static const char *proto_formats[] = {
	[PROTO_FORMAT_FRAMES] = "frames",
	[PROTO_FORMAT_PCAP] = "pcap",
	[PROTO_FORMAT_PCAP_NS] = "pcap-ns",
};

const char *
proto_format_name(int format)
{
	if (format < 0 || (size_t)format >=
	    sizeof(proto_formats) / sizeof(proto_formats[0]))
		return ("unknown");
	return (proto_formats[format]);
}

/* The format named by the first len bytes of s; -1 if none is. */
int
proto_format_find(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(proto_formats) / sizeof(proto_formats[0]); i++)
		if (strlen(proto_formats[i]) == len &&
		    memcmp(proto_formats[i], s, len) == 0)
			return ((int)i);
	return (-1);
}

/* Leaves room for the length, filled in by proto_end. */
void
proto_begin(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	static const char	 zero[4];

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_sbuffer_write(sb, zero, sizeof(zero));
}

int
proto_end(msgpack_sbuffer *sb)
{
	uint32_t	 n;

	if (sb->size - 4 > PROTO_MAX_REPLY)
		return (-1);
	n = htonl((uint32_t)(sb->size - 4));
	memcpy(sb->data, &n, sizeof(n));
	return (0);
}

void
proto_pack_strn(msgpack_packer *pk, const void *s, size_t len)
{
	msgpack_pack_str_with_body(pk, s, len);
}

void
proto_pack_str(msgpack_packer *pk, const char *s)
{
	proto_pack_strn(pk, s, strlen(s));
}

void
proto_pack_key(msgpack_packer *pk, const char *key)
{
	proto_pack_strn(pk, key, strlen(key));
}

void
proto_pack_bool(msgpack_packer *pk, int v)
{
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* Packs a whole {"id": id, "error": {"code", "message"}} map. */
void
proto_pack_error(msgpack_packer *pk, uint64_t id, int code,
    const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "id");
	msgpack_pack_uint64(pk, id);
	proto_pack_key(pk, "error");
	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "code");
	msgpack_pack_int(pk, code);
	proto_pack_key(pk, "message");
	proto_pack_str(pk, msg);
}

/*
 * Messages are decoded here rather than by msgpack_unpack, in one pass
 * that checks as it goes: msgpack_unpack allocates for the element
 * count a header declares (a 5-byte map32 header could ask for
 * gigabytes), so every count must fit in the bytes that remain, and all
 * counts together in the message: each element takes a byte at least,
 * so nothing is allocated for more objects than the message has bytes.
 * Requests must also keep the limits of proto.h and use string keys
 * and no ext types. Objects are msgpack_objects in the caller's zone;
 * strings and bins point into the message.
 */
struct proto_dec {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	size_t			 elems;		/* left to claim: len at first */
	msgpack_zone		*zone;
	int			 request;
	const char		*why;
};

static int
proto_dec_fail(struct proto_dec *d, const char *why)
{
	d->why = why;
	return (-1);
}

/* The n-byte big-endian number at the current offset (n <= 8). */
static int
proto_dec_be(struct proto_dec *d, size_t n, uint64_t *v)
{
	if (d->len - d->off < n)
		return (proto_dec_fail(d, "message truncated"));
	*v = proto_be(d->p + d->off, n);
	d->off += n;
	return (0);
}

/* n bytes from the current offset, for a str, bin or ext body. */
static int
proto_dec_bytes(struct proto_dec *d, uint64_t n, const char **ptr)
{
	if (d->len - d->off < n)
		return (proto_dec_fail(d, "message truncated"));
	*ptr = (const char *)d->p + d->off;
	d->off += (size_t)n;
	return (0);
}

static int	proto_dec_obj(struct proto_dec *, msgpack_object *, int, int);

/*
 * Short strings, one-byte scalars and unsigned integers (the times),
 * most of a detail chunk, decoded in place; 0 leaves the object (and
 * any error) to proto_dec_obj.
 * Where only a string may stand (a request's map key) nothing else is
 * taken here.
 */
static inline int
proto_dec_leaf(struct proto_dec *d, msgpack_object *o, int strings_only)
{
	unsigned char	 b;
	size_t		 n;

	if (d->off >= d->len)
		return (0);
	b = d->p[d->off];
	if (b >= 0xa0 && b <= 0xbf) {
		n = b & 0x1f;
		if (d->len - d->off - 1 < n)
			return (0);
		o->type = MSGPACK_OBJECT_STR;
		o->via.str.size = (uint32_t)n;
		o->via.str.ptr = (const char *)d->p + d->off + 1;
		d->off += 1 + n;
		return (1);
	}
	if (strings_only)
		return (0);
	if (b <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = b;
	} else if (b >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)b;
	} else if (b == 0xc0)
		o->type = MSGPACK_OBJECT_NIL;
	else if (b == 0xc2 || b == 0xc3) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
	} else if (b >= 0xcc && b <= 0xcf) {
		n = (size_t)1 << (b - 0xcc);
		if (d->len - d->off - 1 < n)
			return (0);
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = proto_be(d->p + d->off + 1, n);
		d->off += 1 + n;
		return (1);
	} else
		return (0);
	d->off++;
	return (1);
}

static int
proto_dec_container(struct proto_dec *d, msgpack_object *o, uint64_t n,
    int map, int depth)
{
	msgpack_object_kv	*kv = NULL;
	msgpack_object		*a = NULL, *v;
	uint64_t		 i, need = map ? 2 * n : n;
	int			 leaf;

	if (need > d->len - d->off || need > d->elems)
		return (proto_dec_fail(d, "count larger than the message"));
	d->elems -= (size_t)need;
	if (d->request && n > PROTO_MAX_ITEMS)
		return (proto_dec_fail(d, "map or array too large"));
	if (n > 0 && (map ? (void *)(kv = msgpack_zone_malloc(d->zone,
	    n * sizeof(*kv))) : (void *)(a = msgpack_zone_malloc(d->zone,
	    n * sizeof(*a)))) == NULL)
		return (proto_dec_fail(d, "out of memory"));
	/* Below the depth limit, leaves may take the short way. */
	leaf = depth + 1 <= (d->request ? PROTO_MAX_DEPTH :
	    PROTO_MAX_REPLY_DEPTH);
	for (i = 0; i < n; i++) {
		if (map && !(leaf && proto_dec_leaf(d, &kv[i].key,
		    d->request)) && proto_dec_obj(d, &kv[i].key, depth + 1,
		    1) == -1)
			return (-1);
		v = map ? &kv[i].val : &a[i];
		if (!(leaf && proto_dec_leaf(d, v, 0)) &&
		    proto_dec_obj(d, v, depth + 1, 0) == -1)
			return (-1);
	}
	if (map) {
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.size = (uint32_t)n;
		o->via.map.ptr = kv;
	} else {
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = (uint32_t)n;
		o->via.array.ptr = a;
	}
	return (0);
}

static int
proto_dec_str(struct proto_dec *d, msgpack_object *o, uint64_t n)
{
	if (d->request && n > PROTO_MAX_STRING)
		return (proto_dec_fail(d, "string too long"));
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.size = (uint32_t)n;
	return (proto_dec_bytes(d, n, &o->via.str.ptr));
}

static int
proto_dec_ext(struct proto_dec *d, msgpack_object *o, uint64_t n)
{
	const char	*t;

	if (d->request)
		return (proto_dec_fail(d, "ext types are not used"));
	if (proto_dec_bytes(d, 1, &t) == -1)
		return (-1);
	o->type = MSGPACK_OBJECT_EXT;
	o->via.ext.type = (int8_t)*t;
	o->via.ext.size = (uint32_t)n;
	return (proto_dec_bytes(d, n, &o->via.ext.ptr));
}

/* An integer of n bytes; signed ones below zero are negative. */
static int
proto_dec_int(struct proto_dec *d, msgpack_object *o, size_t n, int sign)
{
	uint64_t	 v;
	int64_t		 i;

	if (proto_dec_be(d, n, &v) == -1)
		return (-1);
	if (sign && n < 8 && (v >> (8 * n - 1)) != 0)
		i = (int64_t)(v - ((uint64_t)1 << (8 * n)));
	else
		i = (int64_t)v;
	if (sign && i < 0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = i;
	} else {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = v;
	}
	return (0);
}

static int
proto_dec_float(struct proto_dec *d, msgpack_object *o, size_t n)
{
	uint64_t	 v;
	uint32_t	 w;
	float		 f;

	if (proto_dec_be(d, n, &v) == -1)
		return (-1);
	if (n == 4) {
		w = (uint32_t)v;
		memcpy(&f, &w, sizeof(f));
		o->type = MSGPACK_OBJECT_FLOAT32;
		o->via.f64 = f;
	} else {
		o->type = MSGPACK_OBJECT_FLOAT64;
		memcpy(&o->via.f64, &v, sizeof(v));
	}
	return (0);
}

static int
proto_dec_obj(struct proto_dec *d, msgpack_object *o, int depth, int key)
{
	unsigned char	 b;
	uint64_t	 n;

	if (depth > (d->request ? PROTO_MAX_DEPTH : PROTO_MAX_REPLY_DEPTH))
		return (proto_dec_fail(d, "nested too deeply"));
	if (d->off >= d->len)
		return (proto_dec_fail(d, "message truncated"));
	b = d->p[d->off++];
	if (key && d->request && (b < 0xa0 || b > 0xbf) && (b < 0xd9 ||
	    b > 0xdb))
		return (proto_dec_fail(d, "map key is not a string"));
	if (b <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = b;
		return (0);
	}
	if (b >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)b;
		return (0);
	}
	if (b <= 0x8f)
		return (proto_dec_container(d, o, b & 0x0f, 1, depth));
	if (b <= 0x9f)
		return (proto_dec_container(d, o, b & 0x0f, 0, depth));
	if (b <= 0xbf)
		return (proto_dec_str(d, o, b & 0x1f));
	switch (b) {
	case 0xc0:
		o->type = MSGPACK_OBJECT_NIL;
		return (0);
	case 0xc2:
	case 0xc3:
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
		return (0);
	case 0xc4:
	case 0xc5:
	case 0xc6:
		if (proto_dec_be(d, (size_t)1 << (b - 0xc4), &n) == -1)
			return (-1);
		o->type = MSGPACK_OBJECT_BIN;
		o->via.bin.size = (uint32_t)n;
		return (proto_dec_bytes(d, n, &o->via.bin.ptr));
	case 0xc7:
	case 0xc8:
	case 0xc9:
		if (proto_dec_be(d, (size_t)1 << (b - 0xc7), &n) == -1)
			return (-1);
		return (proto_dec_ext(d, o, n));
	case 0xca:
	case 0xcb:
		return (proto_dec_float(d, o, b == 0xca ? 4 : 8));
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		return (proto_dec_int(d, o, (size_t)1 << (b - 0xcc), 0));
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
		return (proto_dec_int(d, o, (size_t)1 << (b - 0xd0), 1));
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		return (proto_dec_ext(d, o, (uint64_t)1 << (b - 0xd4)));
	case 0xd9:
	case 0xda:
	case 0xdb:
		if (proto_dec_be(d, (size_t)1 << (b - 0xd9), &n) == -1)
			return (-1);
		return (proto_dec_str(d, o, n));
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		if (proto_dec_be(d, (b & 1) ? 4 : 2, &n) == -1)
			return (-1);
		return (proto_dec_container(d, o, n, b >= 0xde, depth));
	}
	return (proto_dec_fail(d, "invalid type byte 0xc1"));
}

int
proto_decode(const char *buf, size_t len, msgpack_zone *zone,
    msgpack_object *obj, int request, const char **why)
{
	struct proto_dec	 d = { (const unsigned char *)buf, len, 0, len,
				    zone, request, NULL };

	if (len == 0 || (((unsigned char)buf[0] & 0xf0) != 0x80 &&
	    (unsigned char)buf[0] != 0xde && (unsigned char)buf[0] != 0xdf)) {
		*why = "message is not a map";
		return (-1);
	}
	if (proto_dec_obj(&d, obj, 0, 0) == -1) {
		*why = d.why;
		return (-1);
	}
	if (d.off != len) {
		*why = "trailing bytes after the message";
		return (-1);
	}
	return (0);
}

/*
 * Where each key was found last, by the address of the key string and
 * the size of the map (a request and a response share key names but
 * not places): the daemon writes every item of a kind with its keys in
 * one order,
 * so a renderer reading field after field of item after item finds
 * most keys at once there (6 million look-ups for "show" of the bench
 * session). A wrong guess only costs the scan it would have done.
 */
#define PROTO_GET_HINTS	4096
static uint32_t	 proto_get_hint[PROTO_GET_HINTS];

static int
proto_get_is(const msgpack_object *k, const char *key, size_t klen)
{
	return (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
	    (klen == 0 || k->via.str.ptr[0] == key[0]) &&
	    memcmp(k->via.str.ptr, key, klen) == 0);
}

const msgpack_object *
proto_get_n(const msgpack_object *map, const char *key, size_t klen)
{
	uint32_t	 i, *hint;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	hint = &proto_get_hint[((((uint64_t)(uintptr_t)key ^
	    ((uint64_t)map->via.map.size << 32)) * 0x9e3779b97f4a7c15ULL) >>
	    52) % PROTO_GET_HINTS];
	if (*hint < map->via.map.size &&
	    proto_get_is(&map->via.map.ptr[*hint].key, key, klen))
		return (&map->via.map.ptr[*hint].val);
	for (i = 0; i < map->via.map.size; i++) {
		if (proto_get_is(&map->via.map.ptr[i].key, key, klen)) {
			*hint = i;
			return (&map->via.map.ptr[i].val);
		}
	}
	return (NULL);
}

int
proto_get_u64(const msgpack_object *map, const char *key, uint64_t *v)
{
	const msgpack_object	*o = proto_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (-1);
	*v = o->via.u64;
	return (0);
}

int
proto_get_i64(const msgpack_object *map, const char *key, int64_t *v)
{
	const msgpack_object	*o = proto_get(map, key);

	if (o == NULL)
		return (-1);
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else
		return (-1);
	return (0);
}

int
proto_get_bool(const msgpack_object *map, const char *key, int *v)
{
	const msgpack_object	*o = proto_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return (-1);
	*v = o->via.boolean;
	return (0);
}

int
proto_get_str(const msgpack_object *map, const char *key, const char **s,
    size_t *len)
{
	const msgpack_object	*o = proto_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return (-1);
	*s = o->via.str.ptr;
	*len = o->via.str.size;
	return (0);
}

int
proto_get_bin(const msgpack_object *map, const char *key, const char **s,
    size_t *len)
{
	const msgpack_object	*o = proto_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BIN)
		return (-1);
	*s = o->via.bin.ptr;
	*len = o->via.bin.size;
	return (0);
}
