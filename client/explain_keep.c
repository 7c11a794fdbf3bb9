/*
 * explain_keep.c: what the explanations (explain.c) read of each kind
 * of detail item, copied out of a streamed item so that a page written
 * as the detail streams in keeps a tenth of each transaction for them
 * rather than the whole. Runs in htracrctl with the invoking user's
 * privileges. Kept apart from explain.c, which only reads a document.
 */
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "doc.h"
#include "explain.h"
#include "log.h"
#include "render.h"

/* The fields explain_txn and explain_json_all read, by kind of item. */
struct ex_key {
	const char	*name;
	size_t		 len;
	int		 msg;	/* a message: only ex_keep_msg's of it */
};
#define EX_KEY(s)	{ s, sizeof(s) - 1, 0 }
#define EX_MSG(s)	{ s, sizeof(s) - 1, 1 }

static const struct ex_key ex_keep_txn[] = {
	EX_KEY("type"), EX_KEY("id"), EX_KEY("connection"), EX_KEY("index"),
	EX_KEY("stream_id"), EX_KEY("stall_us"), EX_MSG("request"),
	EX_MSG("response"), { NULL, 0, 0 }
};
static const struct ex_key ex_keep_msg[] = {
	EX_KEY("start_us"), EX_KEY("end_us"), EX_KEY("body_bytes"),
	EX_KEY("first_frame"), EX_KEY("last_frame"), { NULL, 0, 0 }
};
static const struct ex_key ex_keep_conn[] = {
	EX_KEY("type"), EX_KEY("id"), EX_KEY("syn_us"), EX_KEY("synack_us"),
	EX_KEY("established_us"), EX_KEY("rtt_us"), EX_KEY("tls"),
	EX_KEY("transactions"), EX_KEY("packets"), EX_KEY("dns"), { NULL, 0, 0 }
};

/* The entry of keys that k names, or NULL. */
static const struct ex_key *
ex_keep_name(const struct ex_key *keys, const msgpack_object *k)
{
	if (k->type != MSGPACK_OBJECT_STR)
		return (NULL);
	for (; keys->name != NULL; keys++)
		if (keys->len == k->via.str.size &&
		    memcmp(keys->name, k->via.str.ptr, keys->len) == 0)
			return (keys);
	return (NULL);
}

/*
 * The fields of map src that keys names, in src's order; a
 * transaction's messages keep only ex_keep_msg's. Keys point at the
 * names above, which outlive the copy. Each field's name is looked up
 * once: where it was found is noted for the copy, in the first
 * EX_KEEP_NOTED fields (every item the daemon sends has fewer).
 */
#define EX_KEEP_NOTED	64
static void
ex_keep_map(msgpack_zone *zone, msgpack_object *dst,
    const msgpack_object *src, const struct ex_key *keys)
{
	const msgpack_object_kv	*s;
	msgpack_object_kv	*kv;
	const struct ex_key	*name, *names[EX_KEEP_NOTED];
	uint32_t		 i, n = 0;

	if (src->type != MSGPACK_OBJECT_MAP) {
		doc_copy(zone, dst, src);
		return;
	}
	for (i = 0; i < src->via.map.size; i++) {
		name = ex_keep_name(keys, &src->via.map.ptr[i].key);
		if (i < EX_KEEP_NOTED)
			names[i] = name;
		if (name != NULL)
			n++;
	}
	*dst = *src;
	dst->via.map.size = n;
	if (n == 0)
		return;
	kv = msgpack_zone_malloc(zone, n * sizeof(*kv));
	if (kv == NULL)
		fatalx("out of memory");
	n = 0;
	for (i = 0; i < src->via.map.size; i++) {
		s = &src->via.map.ptr[i];
		name = i < EX_KEEP_NOTED ? names[i] : ex_keep_name(keys,
		    &s->key);
		if (name == NULL)
			continue;
		kv[n].key = s->key;
		kv[n].key.via.str.ptr = name->name;
		if (name->msg)
			ex_keep_map(zone, &kv[n].val, &s->val, ex_keep_msg);
		else
			doc_copy(zone, &kv[n].val, &s->val);
		n++;
	}
	dst->via.map.ptr = kv;
}

const msgpack_object *
explain_keep(msgpack_zone *zone, const msgpack_object *item)
{
	msgpack_object	*o;
	const char	*type;
	size_t		 len;

	if ((o = msgpack_zone_malloc(zone, sizeof(*o))) == NULL)
		fatalx("out of memory");
	type = render_str(item, "type", &len);
	if (type != NULL && len == 11 && memcmp(type, "transaction", 11) == 0)
		ex_keep_map(zone, o, item, ex_keep_txn);
	else if (type != NULL && len == 10 &&
	    memcmp(type, "connection", 10) == 0)
		ex_keep_map(zone, o, item, ex_keep_conn);
	else
		doc_copy(zone, o, item);
	return (o);
}
