/*
 * pick.c: fields out of the msgpack maps of a session's detail (see
 * pick.h). Runs in htracrctl.
 */
#include <stdint.h>
#include <string.h>

#include "esc.h"
#include "pick.h"
#include "proto.h"

/*
 * The rows of a large session run to tens of thousands, each reading a
 * few dozen fields: a row's fields are picked out of its map in one
 * walk, into an array indexed like the row's table of keys. Each map
 * key is found in the table through a small open-addressed hash of its
 * length and end bytes, so that the many keys a row does not show cost
 * one probe. As with proto_get, the first of two equal keys wins.
 */
static size_t
pick_hash(const char *s, size_t len)
{
	return ((len * 7 + (unsigned char)s[0] * 3 +
	    (unsigned char)s[len - 1]) % PICK_SLOTS);
}

static void
pick_build(struct pick_keys *t)
{
	size_t	 k, h;

	for (k = 0; k < t->n; k++) {
		h = pick_hash(t->key[k].name, t->key[k].len);
		while (t->slot[h] != 0)
			h = (h + 1) % PICK_SLOTS;
		t->slot[h] = (uint8_t)(k + 1);
	}
	t->built = 1;
}

/* The index of key s in t, or -1. Inline: it runs for every map key. */
static inline int
pick_slot(const struct pick_keys *t, const char *s, size_t len)
{
	const struct pick_key	*key;
	size_t			 h;

	if (len == 0)
		return (-1);
	for (h = pick_hash(s, len); t->slot[h] != 0; h = (h + 1) % PICK_SLOTS) {
		key = &t->key[t->slot[h] - 1];
		if (key->len == len && memcmp(key->name, s, len) == 0)
			return (t->slot[h] - 1);
	}
	return (-1);
}

int
pick_find(struct pick_keys *t, const char *s, size_t len)
{
	if (!t->built)
		pick_build(t);
	return (pick_slot(t, s, len));
}

void
pick_fields(const msgpack_object *m, struct pick_keys *t,
    const msgpack_object **out)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int			 k;

	if (!t->built)
		pick_build(t);
	memset(out, 0, t->n * sizeof(*out));
	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return;
	for (i = 0; i < m->via.map.size; i++) {
		kv = &m->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    (k = pick_slot(t, kv->key.via.str.ptr,
		    kv->key.via.str.size)) != -1 && out[k] == NULL)
			out[k] = &kv->val;
	}
}

/* What a value already picked says, by its type. */
int
pick_val_u64(const msgpack_object *o, uint64_t *v)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (-1);
	*v = o->via.u64;
	return (0);
}

uint64_t
pick_val_u(const msgpack_object *o)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    o->via.u64 : 0);
}

int
pick_val_i64(const msgpack_object *o, int64_t *v)
{
	if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else
		return (-1);
	return (0);
}

/* True only for a boolean true. */
int
pick_val_true(const msgpack_object *o)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN &&
	    o->via.boolean);
}

int
pick_val_isstr(const msgpack_object *o)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_STR);
}

/* The escaped string, or "-" when absent or not a string. */
const char *
pick_val_str(const msgpack_object *o, char *buf, size_t size)
{
	if (!pick_val_isstr(o))
		return ("-");
	return (esc_buf(buf, size, o->via.str.ptr, o->via.str.size));
}

uint64_t
pick_u64(const msgpack_object *m, const char *key)
{
	return (pick_val_u(proto_get(m, key)));
}

/* The escaped string at key, or "-" when absent or nil. */
const char *
pick_str(const msgpack_object *m, const char *key, char *buf, size_t size)
{
	return (pick_val_str(proto_get(m, key), buf, size));
}
