/*
 * doc.c: assembles the streamed detail of a session into one struct doc
 * (client/doc.h) that every renderer reads. Runs in htracrctl with the
 * invoking user's privileges. Items are kept exactly as the daemon sent
 * them, in one msgpack zone: the reply buffers themselves live there,
 * so strings are never copied.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "doc.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define DOC_ZONE_CHUNK	(1024 * 1024)
/* Items looked through one by one for an id beyond the by-id table. */
#define DOC_SCAN_MAX	64

enum doc_kind {
	DOC_SESSION,
	DOC_SERVER,
	DOC_CONNECTION,
	DOC_TRANSACTION,
	DOC_DNS,
	DOC_NKINDS
};

/* The "type" of each kind, and its key in the root map. */
static const struct {
	const char	*type;
	const char	*key;
} doc_kinds[DOC_NKINDS] = {
	{ "session", "session" },
	{ "server", "servers" },
	{ "connection", "connections" },
	{ "transaction", "transactions" },
	{ "dns", "dns" },
};

static int
doc_kind(const msgpack_object *item)
{
	const char	*s;
	size_t		 len;
	int		 k;

	if (proto_get_str(item, "type", &s, &len) == -1)
		return (-1);
	for (k = 0; k < DOC_NKINDS; k++)
		if (strlen(doc_kinds[k].type) == len &&
		    memcmp(doc_kinds[k].type, s, len) == 0)
			return (k);
	return (-1);
}

static msgpack_object
doc_str(const char *s)
{
	msgpack_object	 o;

	memset(&o, 0, sizeof(o));
	o.type = MSGPACK_OBJECT_STR;
	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)strlen(s);
	return (o);
}

/*
 * By-id table of an array of items. Ids are expected to run 1..n; the
 * table is bounded so that a stray huge id cannot make it huge, and
 * such an item is simply not found by id.
 */
static const msgpack_object **
doc_index(const msgpack_object *arr, size_t *size)
{
	const msgpack_object	**t;
	uint64_t		  id, max = 0, limit;
	uint32_t		  i;

	limit = (uint64_t)arr->via.array.size * 2 + 1024;
	for (i = 0; i < arr->via.array.size; i++)
		if (proto_get_u64(&arr->via.array.ptr[i], "id", &id) == 0 &&
		    id > max && id <= limit)
			max = id;
	*size = max + 1;
	t = xcalloc(*size, sizeof(*t));
	for (i = 0; i < arr->via.array.size; i++)
		if (proto_get_u64(&arr->via.array.ptr[i], "id", &id) == 0 &&
		    id <= max && t[id] == NULL)
			t[id] = &arr->via.array.ptr[i];
	return (t);
}

/* The root map {"htracr": 1, "session", "servers", ...} in zone. */
static void
doc_root(struct doc *d, const msgpack_object *session,
    msgpack_object arrays[DOC_NKINDS])
{
	msgpack_object_kv	*kv;
	int			 k;

	kv = msgpack_zone_malloc(d->zone, sizeof(*kv) * (1 + DOC_NKINDS));
	if (kv == NULL)
		fatalx("out of memory");
	kv[0].key = doc_str("htracr");
	memset(&kv[0].val, 0, sizeof(kv[0].val));
	kv[0].val.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	kv[0].val.via.u64 = 1;
	kv[1].key = doc_str(doc_kinds[DOC_SESSION].key);
	kv[1].val = *session;
	for (k = DOC_SERVER; k < DOC_NKINDS; k++) {
		kv[1 + k].key = doc_str(doc_kinds[k].key);
		kv[1 + k].val = arrays[k];
	}
	memset(&d->root, 0, sizeof(d->root));
	d->root.type = MSGPACK_OBJECT_MAP;
	d->root.via.map.size = 1 + DOC_NKINDS;
	d->root.via.map.ptr = kv;
	d->session = &kv[1].val;
	d->servers = &kv[1 + DOC_SERVER].val;
	d->connections = &kv[1 + DOC_CONNECTION].val;
	d->transactions = &kv[1 + DOC_TRANSACTION].val;
	d->lookups = &kv[1 + DOC_DNS].val;
}

/* For each lookup, the first connection (in id order) tied to it. */
static void
doc_dns_first(struct doc *d)
{
	const msgpack_object	*c;
	uint64_t		 id, l;
	uint32_t		 i;

	d->dns_first = xcalloc(d->ndns_by_id, sizeof(*d->dns_first));
	for (i = 0; i < d->connections->via.array.size; i++) {
		c = &d->connections->via.array.ptr[i];
		if (proto_get_u64(c, "dns", &l) == -1 ||
		    proto_get_u64(c, "id", &id) == -1 || l >= d->ndns_by_id)
			continue;
		if (d->dns_first[l] == 0 || id < d->dns_first[l])
			d->dns_first[l] = id;
	}
}

int
doc_build(struct doc *d, msgpack_zone *zone, const msgpack_object **items,
    size_t n)
{
	msgpack_object		 arrays[DOC_NKINDS];
	const msgpack_object	*session = NULL;
	size_t			 i, count[DOC_NKINDS] = { 0 };
	int			 k;

	memset(d, 0, sizeof(*d));
	d->zone = zone;
	for (i = 0; i < n; i++)
		if ((k = doc_kind(items[i])) != -1)
			count[k]++;
	for (i = 0; i < n && session == NULL; i++)
		if (doc_kind(items[i]) == DOC_SESSION)
			session = items[i];
	if (session == NULL) {
		log_warnx("htracrd sent no session item in the detail");
		return (-1);
	}
	memset(arrays, 0, sizeof(arrays));
	for (k = DOC_SERVER; k < DOC_NKINDS; k++) {
		arrays[k].type = MSGPACK_OBJECT_ARRAY;
		arrays[k].via.array.ptr = msgpack_zone_malloc(zone,
		    sizeof(msgpack_object) * (count[k] + 1));
		if (arrays[k].via.array.ptr == NULL)
			fatalx("out of memory");
	}
	for (i = 0; i < n; i++) {
		if ((k = doc_kind(items[i])) == -1 || k == DOC_SESSION)
			continue;
		arrays[k].via.array.ptr[arrays[k].via.array.size++] = *items[i];
	}
	doc_root(d, session, arrays);
	d->server_by_id = doc_index(d->servers, &d->nserver_by_id);
	d->conn_by_id = doc_index(d->connections, &d->nconn_by_id);
	d->txn_by_id = doc_index(d->transactions, &d->ntxn_by_id);
	d->dns_by_id = doc_index(d->lookups, &d->ndns_by_id);
	doc_dns_first(d);
	return (0);
}

/* Appends the items of one chunk; the pointers stay valid in zone. */
static void
doc_collect(const msgpack_object *chunk, const msgpack_object ***items,
    size_t *n, size_t *cap)
{
	uint32_t	 i;

	for (i = 0; i < chunk->via.array.size; i++) {
		if (*n == *cap) {
			*cap = *cap == 0 ? 1024 : *cap * 2;
			*items = xreallocarray(*items, *cap, sizeof(**items));
		}
		(*items)[(*n)++] = &chunk->via.array.ptr[i];
	}
}

/* txn, conn: a close-up of one of them; 0 and 0: the whole session. */
static uint64_t
doc_request(struct client *c, uint64_t session, int flags, uint64_t txn,
    uint64_t conn)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_DETAIL, 4 + (txn != 0) +
	    (conn != 0) + ((flags & DOC_LEAN) != 0));
	if (flags & DOC_LEAN) {
		proto_pack_key(&pk, "lean");
		proto_pack_bool(&pk, 1);
	}
	if (txn != 0) {
		proto_pack_key(&pk, "txn");
		msgpack_pack_uint64(&pk, txn);
	}
	if (conn != 0) {
		proto_pack_key(&pk, "conn");
		msgpack_pack_uint64(&pk, conn);
	}
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	proto_pack_key(&pk, "packets");
	proto_pack_bool(&pk, flags & DOC_PACKETS);
	proto_pack_key(&pk, "headers");
	proto_pack_bool(&pk, !(flags & DOC_NO_HEADERS));
	proto_pack_key(&pk, "brief");
	proto_pack_bool(&pk, flags & DOC_BRIEF);
	if (client_send(c, &sb, NULL, 0) == -1)
		return (0);
	return (id);
}

int
doc_fetch(struct doc *d, struct client *c, uint64_t session, int flags)
{
	return (doc_fetch_closeup(d, c, session, flags, 0, 0));
}

int
doc_fetch_closeup(struct doc *d, struct client *c, uint64_t session,
    int flags, uint64_t txn, uint64_t conn)
{
	msgpack_zone		 *zone;
	msgpack_object		  val;
	const msgpack_object	**items = NULL;
	size_t			  n = 0, cap = 0;
	uint64_t		  id;
	int			  rc;

	memset(d, 0, sizeof(*d));
	if ((id = doc_request(c, session, flags, txn, conn)) == 0)
		return (-1);
	if ((zone = msgpack_zone_new(DOC_ZONE_CHUNK)) == NULL)
		fatalx("out of memory");
	while ((rc = client_read(c, id, zone, &val)) == CLIENT_CHUNK)
		doc_collect(&val, &items, &n, &cap);
	if (rc == CLIENT_END && val.via.u64 != n) {
		log_warnx("htracrd announced %llu detail items but sent %zu",
		    (unsigned long long)val.via.u64, n);
		rc = CLIENT_FAIL;
	} else if (rc == CLIENT_RESULT) {
		log_warnx("htracrd answered the detail stream with a result");
		rc = CLIENT_FAIL;
	}
	if (rc != CLIENT_END) {
		free(items);
		msgpack_zone_free(zone);
		return (-1);
	}
	rc = doc_build(d, zone, items, n);
	free(items);
	return (rc);
}

/* How a detail stream of n items ended: 0 if as it should. */
static int
doc_stream_end(int rc, const msgpack_object *val, uint64_t n)
{
	if (rc == CLIENT_END && val->via.u64 != n) {
		log_warnx("htracrd announced %llu detail items but sent %llu",
		    (unsigned long long)val->via.u64, (unsigned long long)n);
		return (-1);
	}
	if (rc == CLIENT_RESULT)
		log_warnx("htracrd answered the detail stream with a result");
	return (rc == CLIENT_END ? 0 : -1);
}

int
doc_stream(struct client *c, uint64_t session, int flags,
    int (*fn)(void *, const msgpack_object *), void *arg)
{
	msgpack_object	 val;
	uint64_t	 id, n = 0;
	uint32_t	 i;
	int		 rc;

	if ((id = doc_request(c, session, flags, 0, 0)) == 0)
		return (-1);
	/* The client's zone is cleared for each message: memory stays flat. */
	while ((rc = client_read(c, id, NULL, &val)) == CLIENT_CHUNK) {
		for (i = 0; i < val.via.array.size; i++)
			if (fn(arg, &val.via.array.ptr[i]) == -1)
				return (-1);
		n += val.via.array.size;
	}
	return (doc_stream_end(rc, &val, n));
}

int
doc_stream_raw(struct client *c, uint64_t session, int flags,
    int (*fn)(void *, const char **, const char *), void *arg)
{
	msgpack_object	 val;
	const char	*p, *end;
	uint64_t	 id, n = 0;
	uint32_t	 i, nitems;
	int		 rc;

	if ((id = doc_request(c, session, flags, 0, 0)) == 0)
		return (-1);
	while ((rc = client_read_raw(c, id, &p, &end, &nitems, &val)) ==
	    CLIENT_CHUNK) {
		for (i = 0; i < nitems; i++)
			if (fn(arg, &p, end) == -1)
				return (-1);
		if (p != end) {
			log_warnx("htracrd sent a detail chunk with bytes "
			    "after its items");
			return (-1);
		}
		n += nitems;
	}
	return (doc_stream_end(rc, &val, n));
}

/* A copy of n bytes in zone. */
static const char *
doc_copy_bytes(msgpack_zone *zone, const char *p, size_t n)
{
	char	*d;

	if (n == 0)
		return (p);
	if ((d = msgpack_zone_malloc(zone, n)) == NULL)
		fatalx("out of memory");
	memcpy(d, p, n);
	return (d);
}

void
doc_copy(msgpack_zone *zone, msgpack_object *dst, const msgpack_object *src)
{
	msgpack_object_kv	*kv;
	msgpack_object		*a;
	uint32_t		 i, n;

	*dst = *src;
	switch (src->type) {
	case MSGPACK_OBJECT_STR:
		dst->via.str.ptr = doc_copy_bytes(zone, src->via.str.ptr,
		    src->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		dst->via.bin.ptr = doc_copy_bytes(zone, src->via.bin.ptr,
		    src->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		dst->via.ext.ptr = doc_copy_bytes(zone, src->via.ext.ptr,
		    src->via.ext.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		if ((n = src->via.array.size) == 0)
			break;
		if ((a = msgpack_zone_malloc(zone, n * sizeof(*a))) == NULL)
			fatalx("out of memory");
		for (i = 0; i < n; i++)
			doc_copy(zone, &a[i], &src->via.array.ptr[i]);
		dst->via.array.ptr = a;
		break;
	case MSGPACK_OBJECT_MAP:
		if ((n = src->via.map.size) == 0)
			break;
		if ((kv = msgpack_zone_malloc(zone, n * sizeof(*kv))) == NULL)
			fatalx("out of memory");
		for (i = 0; i < n; i++) {
			doc_copy(zone, &kv[i].key, &src->via.map.ptr[i].key);
			doc_copy(zone, &kv[i].val, &src->via.map.ptr[i].val);
		}
		dst->via.map.ptr = kv;
		break;
	default:
		break;
	}
}

/*
 * By the table; an id beyond it is looked for in a few items, such as
 * a close-up's, whose ids are too far apart for a table.
 */
static const msgpack_object *
doc_lookup(const msgpack_object **t, size_t n, const msgpack_object *arr,
    uint64_t id)
{
	uint64_t	 v;
	uint32_t	 i;

	if (t == NULL)
		return (NULL);
	if (id < n)
		return (t[id]);
	if (arr->via.array.size > DOC_SCAN_MAX)
		return (NULL);
	for (i = 0; i < arr->via.array.size; i++)
		if (proto_get_u64(&arr->via.array.ptr[i], "id", &v) == 0 &&
		    v == id)
			return (&arr->via.array.ptr[i]);
	return (NULL);
}

const msgpack_object *
doc_server(const struct doc *d, uint64_t id)
{
	return (doc_lookup(d->server_by_id, d->nserver_by_id, d->servers, id));
}

const msgpack_object *
doc_conn(const struct doc *d, uint64_t id)
{
	return (doc_lookup(d->conn_by_id, d->nconn_by_id, d->connections, id));
}

const msgpack_object *
doc_txn(const struct doc *d, uint64_t id)
{
	return (doc_lookup(d->txn_by_id, d->ntxn_by_id, d->transactions, id));
}

const msgpack_object *
doc_dns(const struct doc *d, uint64_t id)
{
	return (doc_lookup(d->dns_by_id, d->ndns_by_id, d->lookups, id));
}

/* The first connection tied to lookup l, for an l beyond the table. */
static uint64_t
doc_dns_scan(const struct doc *d, uint64_t l)
{
	const msgpack_object	*cs = d->connections;
	uint64_t		 v, id, first = 0;
	uint32_t		 i;

	if (cs->via.array.size > DOC_SCAN_MAX)
		return (0);
	for (i = 0; i < cs->via.array.size; i++)
		if (proto_get_u64(&cs->via.array.ptr[i], "dns", &v) == 0 &&
		    v == l && proto_get_u64(&cs->via.array.ptr[i], "id",
		    &id) == 0 && (first == 0 || id < first))
			first = id;
	return (first);
}

const msgpack_object *
doc_conn_dns(const struct doc *d, const msgpack_object *c)
{
	uint64_t	 id, l, first;

	if (c == NULL || proto_get_u64(c, "dns", &l) == -1 ||
	    proto_get_u64(c, "id", &id) == -1)
		return (NULL);
	first = l < d->ndns_by_id ? d->dns_first[l] : doc_dns_scan(d, l);
	if (first != id)
		return (NULL);
	return (doc_dns(d, l));
}

void
doc_free(struct doc *d)
{
	free(d->dns_first);
	free(d->dns_by_id);
	free(d->server_by_id);
	free(d->conn_by_id);
	free(d->txn_by_id);
	if (d->zone != NULL)
		msgpack_zone_free(d->zone);
	memset(d, 0, sizeof(*d));
}
