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

static int
proto_check(const msgpack_object *o, int depth, const char **why)
{
	uint32_t	 i;

	if (depth > PROTO_MAX_DEPTH) {
		*why = "nested too deeply";
		return (-1);
	}
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		if (o->via.str.size > PROTO_MAX_STRING) {
			*why = "string too long";
			return (-1);
		}
		break;
	case MSGPACK_OBJECT_ARRAY:
		if (o->via.array.size > PROTO_MAX_ITEMS) {
			*why = "array too long";
			return (-1);
		}
		for (i = 0; i < o->via.array.size; i++)
			if (proto_check(&o->via.array.ptr[i], depth + 1,
			    why) == -1)
				return (-1);
		break;
	case MSGPACK_OBJECT_MAP:
		if (o->via.map.size > PROTO_MAX_ITEMS) {
			*why = "map too large";
			return (-1);
		}
		for (i = 0; i < o->via.map.size; i++) {
			if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) {
				*why = "map key is not a string";
				return (-1);
			}
			if (proto_check(&o->via.map.ptr[i].key, depth + 1,
			    why) == -1 ||
			    proto_check(&o->via.map.ptr[i].val, depth + 1,
			    why) == -1)
				return (-1);
		}
		break;
	default:
		break;
	}
	return (0);
}

int
proto_decode(const char *buf, size_t len, msgpack_zone *zone,
    msgpack_object *obj, int request, const char **why)
{
	size_t	 off = 0;

	if (msgpack_unpack(buf, len, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS) {
		*why = "not a msgpack message";
		return (-1);
	}
	if (off != len) {
		*why = "trailing bytes after the message";
		return (-1);
	}
	if (obj->type != MSGPACK_OBJECT_MAP) {
		*why = "message is not a map";
		return (-1);
	}
	/* Replies come from the daemon we trust; requests do not. */
	if (!request)
		return (0);
	return (proto_check(obj, 0, why));
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
