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
 * Walks the raw msgpack bytes before anything is unpacked, because
 * msgpack_unpack allocates for the element count a header declares: a
 * 5-byte map32 header could otherwise ask for gigabytes. Every count must
 * fit in the bytes that remain; requests must also keep the limits of
 * proto.h and use string keys and no ext types.
 */
struct proto_scan {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	int			 request;
	const char		*why;
};

static int
proto_scan_fail(struct proto_scan *sc, const char *why)
{
	sc->why = why;
	return (-1);
}

/* Reads an n-byte big-endian length at the current offset. */
static int
proto_scan_len(struct proto_scan *sc, size_t n, uint32_t *v)
{
	size_t	 i;

	if (sc->len - sc->off < n)
		return (proto_scan_fail(sc, "message truncated"));
	*v = 0;
	for (i = 0; i < n; i++)
		*v = (*v << 8) | sc->p[sc->off++];
	return (0);
}

static int
proto_scan_skip(struct proto_scan *sc, size_t n)
{
	if (sc->len - sc->off < n)
		return (proto_scan_fail(sc, "message truncated"));
	sc->off += n;
	return (0);
}

static int	proto_scan_obj(struct proto_scan *, int, int);

/*
 * Steps over a reply's one-byte scalars and short strings in place: they
 * are most of a detail chunk, and a call each made the scan cost as much
 * as unpacking. Requests take the full path, which checks keys.
 */
static int
proto_scan_leaf(struct proto_scan *sc)
{
	unsigned char	 b;
	size_t		 n;

	if (sc->request || sc->off >= sc->len)
		return (0);
	b = sc->p[sc->off];
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		n = 1;
	else if (b >= 0xa0 && b <= 0xbf)
		n = 1 + (b & 0x1f);
	else
		return (0);
	if (sc->len - sc->off < n)
		return (0);	/* the full path says why */
	sc->off += n;
	return (1);
}

static int
proto_scan_container(struct proto_scan *sc, uint32_t n, int map, int depth)
{
	size_t		 i;
	size_t		 need = map ? 2 * (size_t)n : n;

	if (need > sc->len - sc->off)
		return (proto_scan_fail(sc, "count larger than the message"));
	if (sc->request && n > PROTO_MAX_ITEMS)
		return (proto_scan_fail(sc, "map or array too large"));
	for (i = 0; i < need; i++) {
		if (proto_scan_leaf(sc))
			continue;
		if (proto_scan_obj(sc, depth + 1, map && i % 2 == 0) == -1)
			return (-1);
	}
	return (0);
}

static int
proto_scan_str(struct proto_scan *sc, uint32_t n)
{
	if (sc->request && n > PROTO_MAX_STRING)
		return (proto_scan_fail(sc, "string too long"));
	return (proto_scan_skip(sc, n));
}

/*
 * The types 0xc0-0xdf by kind and size: 'f' a fixed n bytes follow, 's'
 * str and 'b' bin with an n-byte length, 'e' ext with an n-byte length,
 * 'x' fixext of n bytes, 'a' array and 'm' map with an n-byte count.
 */
static const struct {
	char		 kind;
	unsigned char	 n;
} proto_types[32] = {
	{ 'f', 0 }, { '!', 0 }, { 'f', 0 }, { 'f', 0 },		/* c0 */
	{ 'b', 1 }, { 'b', 2 }, { 'b', 4 }, { 'e', 1 },		/* c4 */
	{ 'e', 2 }, { 'e', 4 }, { 'f', 4 }, { 'f', 8 },		/* c8 */
	{ 'f', 1 }, { 'f', 2 }, { 'f', 4 }, { 'f', 8 },		/* cc */
	{ 'f', 1 }, { 'f', 2 }, { 'f', 4 }, { 'f', 8 },		/* d0 */
	{ 'x', 1 }, { 'x', 2 }, { 'x', 4 }, { 'x', 8 },		/* d4 */
	{ 'x', 16 }, { 's', 1 }, { 's', 2 }, { 's', 4 },	/* d8 */
	{ 'a', 2 }, { 'a', 4 }, { 'm', 2 }, { 'm', 4 },		/* dc */
};

static int
proto_scan_obj(struct proto_scan *sc, int depth, int key)
{
	unsigned char	 b;
	uint32_t	 n;
	char		 kind;

	if (depth > (sc->request ? PROTO_MAX_DEPTH : 32))
		return (proto_scan_fail(sc, "nested too deeply"));
	if (sc->off >= sc->len)
		return (proto_scan_fail(sc, "message truncated"));
	b = sc->p[sc->off++];
	if (b <= 0x7f || b >= 0xe0)
		kind = 'f', n = 0;	/* fixints */
	else if (b <= 0x8f)
		kind = 'M', n = b & 0x0f;
	else if (b <= 0x9f)
		kind = 'A', n = b & 0x0f;
	else if (b <= 0xbf)
		kind = 'S', n = b & 0x1f;
	else {
		kind = proto_types[b - 0xc0].kind;
		n = proto_types[b - 0xc0].n;
	}
	if (key && sc->request && kind != 's' && kind != 'S')
		return (proto_scan_fail(sc, "map key is not a string"));
	if (sc->request && (kind == 'e' || kind == 'x'))
		return (proto_scan_fail(sc, "ext types are not used"));

	switch (kind) {
	case '!':
		return (proto_scan_fail(sc, "invalid type byte 0xc1"));
	case 'f':
		return (proto_scan_skip(sc, n));
	case 'x':
		return (proto_scan_skip(sc, 1 + (size_t)n));
	case 'S':
		return (proto_scan_str(sc, n));
	case 'M':
	case 'A':
		return (proto_scan_container(sc, n, kind == 'M', depth));
	}
	/* The rest carry their length or count in the next n bytes. */
	if (proto_scan_len(sc, n, &n) == -1)
		return (-1);
	switch (kind) {
	case 's':
		return (proto_scan_str(sc, n));
	case 'b':
		return (proto_scan_skip(sc, n));
	case 'e':
		return (proto_scan_skip(sc, 1 + (size_t)n));
	default:
		return (proto_scan_container(sc, n, kind == 'm', depth));
	}
}

int
proto_decode(const char *buf, size_t len, msgpack_zone *zone,
    msgpack_object *obj, int request, const char **why)
{
	struct proto_scan	 sc = { (const unsigned char *)buf, len, 0,
				    request, NULL };
	size_t			 off = 0;

	if (len == 0 || (((unsigned char)buf[0] & 0xf0) != 0x80 &&
	    (unsigned char)buf[0] != 0xde && (unsigned char)buf[0] != 0xdf)) {
		*why = "message is not a map";
		return (-1);
	}
	if (proto_scan_obj(&sc, 0, 0) == -1) {
		*why = sc.why;
		return (-1);
	}
	if (msgpack_unpack(buf, len, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS ||
	    obj->type != MSGPACK_OBJECT_MAP) {
		*why = "not a msgpack message";
		return (-1);
	}
	if (off != len) {
		*why = "trailing bytes after the message";
		return (-1);
	}
	return (0);
}

const msgpack_object *
proto_get(const msgpack_object *map, const char *key)
{
	size_t		 klen = strlen(key);
	uint32_t	 i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object	*k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return (&map->via.map.ptr[i].val);
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
