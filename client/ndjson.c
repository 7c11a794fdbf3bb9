/*
 * ndjson.c: transactions as newline-delimited JSON, one object per
 * line with the session id and the connection's fields flattened in,
 * so that a log pipeline (jq, Vector, Loki) needs no join. dump,
 * analyze and show write it from the detail stream; watch --json
 * writes the same lines from the watch stream. Runs in htracrctl with
 * the invoking user's privileges; wire strings go through json.c,
 * which always writes valid JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "proto.h"
#include "xmalloc.h"

/*
 * How each connection field reaches a line. Fields not listed keep
 * their names; as NULL leaves a field out: the transaction says its
 * type, id and server itself, and the lists grow with the connection,
 * not with one transaction. The renamed ones would read as the
 * transaction's own.
 */
static const struct {
	const char	*name;
	const char	*as;
} ndjson_renames[] = {
	{ "type", NULL },
	{ "id", NULL },
	{ "server", NULL },
	{ "transactions", NULL },
	{ "states", NULL },
	{ "packets", NULL },
	{ "first_us", "connection_first_us" },
	{ "last_us", "connection_last_us" },
	{ "state", "connection_state" },
	{ "flags", "connection_flags" },
};
#define NDJSON_NRENAMES	(sizeof(ndjson_renames) / sizeof(ndjson_renames[0]))

/* A connection's fields as JSON text: ',"key":value' repeated. */
struct ndjson_conn {
	uint64_t	 id;
	char		*json;
	size_t		 len;
};

struct ndjson {
	struct json_out		*out;
	FILE			*fp;
	int			 fixed;		/* slots given: never resized */
	struct ndjson_conn	*conns;		/* slot: id % nconns */
	size_t			 nconns;
	uint64_t		 session;	/* 0: not known */
	uint64_t		 skipped;
};

struct ndjson *
ndjson_new(FILE *fp, size_t slots)
{
	struct ndjson	*n;

	n = xcalloc(1, sizeof(*n));
	n->fp = fp;
	n->out = json_out_new(fp);
	n->fixed = slots > 0;
	n->nconns = slots > 0 ? slots : 1;
	n->conns = xcalloc(n->nconns, sizeof(*n->conns));
	return (n);
}

void
ndjson_session(struct ndjson *n, uint64_t id)
{
	n->session = id;
}

static void
ndjson_conns_clear(struct ndjson *n)
{
	size_t	 i;

	for (i = 0; i < n->nconns; i++)
		free(n->conns[i].json);
	memset(n->conns, 0, n->nconns * sizeof(*n->conns));
}

/* A session item: its id; connections kept so far were another's. */
static void
ndjson_on_session(struct ndjson *n, const msgpack_object *o)
{
	uint64_t	 id;

	if (proto_get_u64(o, "id", &id) == 0)
		n->session = id;
	ndjson_conns_clear(n);
}

/*
 * The slot of connection id. Ids run 1..N in a session: unless the
 * slots were fixed, the table grows to hold each at its own place, up
 * to a bound of ours (the ids come from another process); past it, and
 * with fixed slots, a newer connection takes an older one's slot.
 */
#define NDJSON_MAX_SLOTS	(4 * 1024 * 1024)

static struct ndjson_conn *
ndjson_slot(struct ndjson *n, uint64_t id)
{
	size_t	 size;

	if (!n->fixed && id >= n->nconns && id < NDJSON_MAX_SLOTS) {
		size = n->nconns * 2 > id ? n->nconns * 2 : id + 1;
		n->conns = xreallocarray(n->conns, size, sizeof(*n->conns));
		memset(n->conns + n->nconns, 0,
		    (size - n->nconns) * sizeof(*n->conns));
		n->nconns = size;
	}
	return (&n->conns[id % n->nconns]);
}

/* Where connection field key goes on a line; NULL: left out. */
static const char *
ndjson_name(const msgpack_object *key, char *buf, size_t size)
{
	size_t	 i, len;

	if (key->type != MSGPACK_OBJECT_STR)
		return (NULL);
	len = key->via.str.size;
	for (i = 0; i < NDJSON_NRENAMES; i++)
		if (strlen(ndjson_renames[i].name) == len &&
		    memcmp(ndjson_renames[i].name, key->via.str.ptr, len) == 0)
			return (ndjson_renames[i].as);
	if (len >= size)
		return (NULL);
	memcpy(buf, key->via.str.ptr, len);
	buf[len] = '\0';
	return (buf);
}

/* The flattened fields of connection o, written into a string of its own. */
static void
ndjson_on_conn(struct ndjson *n, const msgpack_object *o)
{
	struct ndjson_conn	*slot;
	struct json_out		*out;
	FILE			*fp;
	const char		*name;
	char			 buf[64];
	uint64_t		 id;
	uint32_t		 i;

	if (o->type != MSGPACK_OBJECT_MAP || proto_get_u64(o, "id", &id) == -1) {
		n->skipped++;
		return;
	}
	slot = ndjson_slot(n, id);
	free(slot->json);
	memset(slot, 0, sizeof(*slot));
	if ((fp = open_memstream(&slot->json, &slot->len)) == NULL)
		fatal("open_memstream");
	out = json_out_new(fp);
	for (i = 0; i < o->via.map.size; i++) {
		name = ndjson_name(&o->via.map.ptr[i].key, buf, sizeof(buf));
		if (name == NULL)
			continue;
		json_out_raw(out, ",", 1);
		json_out_str(out, name, strlen(name));
		json_out_raw(out, ":", 1);
		json_out_value(out, &o->via.map.ptr[i].val);
	}
	json_out_free(out);
	if (ferror(fp) || fclose(fp) == EOF)
		fatalx("cannot keep a connection's fields in memory");
	slot->id = id;
}

/* The transaction's own fields, the session, the connection's. */
static void
ndjson_on_txn(struct ndjson *n, const msgpack_object *o)
{
	const struct ndjson_conn	*slot;
	const msgpack_object		*key;
	uint64_t			 conn;
	uint32_t			 i;

	if (o->type != MSGPACK_OBJECT_MAP) {
		n->skipped++;
		return;
	}
	json_out_raw(n->out, "{", 1);
	for (i = 0; i < o->via.map.size; i++) {
		key = &o->via.map.ptr[i].key;
		if (key->type != MSGPACK_OBJECT_STR)
			continue;
		json_out_str(n->out, key->via.str.ptr, key->via.str.size);
		json_out_raw(n->out, ":", 1);
		json_out_value(n->out, &o->via.map.ptr[i].val);
		json_out_raw(n->out, ",", 1);
	}
	json_out_raw(n->out, "\"session\":", 10);
	if (n->session != 0)
		json_out_u64(n->out, n->session);
	else
		json_out_raw(n->out, "null", 4);
	if (proto_get_u64(o, "connection", &conn) == 0) {
		slot = &n->conns[conn % n->nconns];
		if (conn != 0 && slot->id == conn && slot->json != NULL)
			json_out_raw(n->out, slot->json, slot->len);
	}
	json_out_raw(n->out, "}\n", 2);
}

int
ndjson_item(void *arg, const msgpack_object *o)
{
	struct ndjson	*n = arg;
	const char	*type;
	size_t		 len;

	if (proto_get_str(o, "type", &type, &len) == -1) {
		n->skipped++;
		return (0);
	}
	if (len == 7 && memcmp(type, "session", 7) == 0)
		ndjson_on_session(n, o);
	else if (len == 10 && memcmp(type, "connection", 10) == 0)
		ndjson_on_conn(n, o);
	else if (len == 11 && memcmp(type, "transaction", 11) == 0)
		ndjson_on_txn(n, o);
	return (ferror(n->fp) ? -1 : 0);
}

int
ndjson_flush(struct ndjson *n)
{
	json_out_flush(n->out);
	if (fflush(n->fp) == EOF)
		return (-1);
	return (ferror(n->fp) ? -1 : 0);
}

int
ndjson_free(struct ndjson *n)
{
	int	 rc;

	rc = ndjson_flush(n);
	if (n->skipped > 0)
		log_warnx("left out %llu detail items that were not maps "
		    "with a type", (unsigned long long)n->skipped);
	json_out_free(n->out);
	ndjson_conns_clear(n);
	free(n->conns);
	free(n);
	return (rc);
}

int
ndjson_render(FILE *fp, const struct doc *d)
{
	struct ndjson	*n = ndjson_new(fp, 0);
	uint32_t	 i;

	ndjson_item(n, d->session);
	for (i = 0; i < d->connections->via.array.size; i++)
		ndjson_item(n, &d->connections->via.array.ptr[i]);
	for (i = 0; i < d->transactions->via.array.size; i++)
		ndjson_item(n, &d->transactions->via.array.ptr[i]);
	return (ndjson_free(n));
}
