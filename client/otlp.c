/*
 * otlp.c: the OTLP/JSON writer. Keeps what the session, server and
 * connection items say that the spans of later items need, writes the
 * request's envelope (resource and scope) around the spans, and cuts
 * the spans into bounded batches for export. The spans themselves are
 * in otlp_span.c. Runs in htracrctl with the invoking user's
 * privileges; strings from the wire go through json.c, which always
 * writes valid UTF-8 JSON.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "json.h"
#include "log.h"
#include "otlp.h"
#include "otlp_int.h"
#include "proto.h"
#include "xmalloc.h"

/* Connection and server ids run 1..N; past this they share slots. */
#define OTLP_MAX_SLOTS	(4 * 1024 * 1024)

static struct otlp *
otlp_alloc(void)
{
	struct otlp	*o;

	o = xcalloc(1, sizeof(*o));
	o->nconns = 1;
	o->conns = xcalloc(o->nconns, sizeof(*o->conns));
	o->nservers = 1;
	o->servers = xcalloc(o->nservers, sizeof(*o->servers));
	return (o);
}

struct otlp *
otlp_new(FILE *fp)
{
	struct otlp	*o = otlp_alloc();

	o->fp = fp;
	o->out = json_out_new(fp);
	return (o);
}

/* A fresh in-memory body for the next batch. */
static void
otlp_batch_open(struct otlp *o)
{
	o->buf = NULL;
	o->buflen = 0;
	if ((o->fp = open_memstream(&o->buf, &o->buflen)) == NULL)
		fatal("open_memstream");
	o->out = json_out_new(o->fp);
}

struct otlp *
otlp_new_batched(size_t maxspans, size_t maxbytes, otlp_emit_fn emit,
    void *arg)
{
	struct otlp	*o = otlp_alloc();

	o->maxspans = maxspans > 0 ? maxspans : 1;
	o->maxbytes = maxbytes;
	o->emit = emit;
	o->emit_arg = arg;
	otlp_batch_open(o);
	return (o);
}

uint64_t
otlp_spans(const struct otlp *o)
{
	return (o->spans);
}

/*
 * Ids. A trace id is the connection's identity within its session,
 * and the session's is its id, start time and source: exporting the
 * same session again gives the same ids, and a collector that has the
 * spans already replaces rather than duplicates them. The mixing is
 * splitmix64's finaliser: not secret, only well spread.
 */
static uint64_t
otlp_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (h);
}

static uint64_t
otlp_mix_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = otlp_mix(h, s[i]);
	return (otlp_mix(h, len));
}

void
otlp_trace_id(const struct otlp *o, uint64_t conn, uint64_t id[2])
{
	id[0] = otlp_mix(otlp_mix(o->skey, 0x7472616365ULL), conn);
	id[1] = otlp_mix(otlp_mix(o->skey, 0x74726163652dULL), conn);
	if (id[0] == 0 && id[1] == 0)
		id[1] = 1;
}

uint64_t
otlp_span_id(const uint64_t trace[2], enum otlp_role role, uint64_t txn)
{
	uint64_t	 h;

	h = otlp_mix(otlp_mix(otlp_mix(trace[0], trace[1]), role), txn);
	return (h != 0 ? h : 1);
}

/* A string field of item o copied into buf; "" when absent. */
static void
otlp_copy(const msgpack_object *o, const char *key, char *buf, size_t size)
{
	const char	*s;
	size_t		 len;

	buf[0] = '\0';
	if (proto_get_str(o, key, &s, &len) == -1)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

static void
otlp_on_session(struct otlp *o, const msgpack_object *s)
{
	const char	*src;
	size_t		 len;

	o->sid = 0;
	o->sstart = 0;
	(void)proto_get_u64(s, "id", &o->sid);
	(void)proto_get_u64(s, "start_us", &o->sstart);
	free(o->source);
	o->source = NULL;
	o->sourcelen = 0;
	if (proto_get_str(s, "source", &src, &len) == 0 && len < 4096) {
		o->source = xmalloc(len + 1);
		memcpy(o->source, src, len);
		o->source[len] = '\0';
		o->sourcelen = len;
	}
	otlp_copy(s, "origin", o->origin, sizeof(o->origin));
	o->skey = otlp_mix(otlp_mix(0x6874726163ULL, o->sid), o->sstart);
	o->skey = otlp_mix_bytes(o->skey, o->source, o->sourcelen);
	o->have_session = 1;
}

/*
 * The slot of an id in a table that grows to hold each id at its own
 * place, up to a bound of ours (the ids come from another process).
 */
static void *
otlp_slot(void **tab, size_t *n, size_t size, uint64_t id)
{
	size_t	 want;

	if (id >= *n && id < OTLP_MAX_SLOTS) {
		want = *n * 2 > id ? *n * 2 : id + 1;
		*tab = xreallocarray(*tab, want, size);
		memset((char *)*tab + *n * size, 0, (want - *n) * size);
		*n = want;
	}
	return ((char *)*tab + (id % *n) * size);
}

static void
otlp_on_server(struct otlp *o, const msgpack_object *s)
{
	struct otlp_server	*sv;
	uint64_t		 id;

	if (proto_get_u64(s, "id", &id) == -1)
		return;
	sv = otlp_slot((void **)&o->servers, &o->nservers,
	    sizeof(*o->servers), id);
	sv->id = id;
	otlp_copy(s, "name", sv->name, sizeof(sv->name));
}

const struct otlp_server *
otlp_server(const struct otlp *o, uint64_t id)
{
	const struct otlp_server	*sv = &o->servers[id % o->nservers];

	return (id != 0 && sv->id == id ? sv : NULL);
}

const struct otlp_conn *
otlp_conn(const struct otlp *o, uint64_t id)
{
	const struct otlp_conn	*c = &o->conns[id % o->nconns];

	return (id != 0 && c->id == id ? c : NULL);
}

/* Keeps what the transactions on connection item c will need. */
static struct otlp_conn *
otlp_on_conn(struct otlp *o, const msgpack_object *c)
{
	struct otlp_conn	*oc;
	const msgpack_object	*tls;
	uint64_t		 id, v = 0;

	if (proto_get_u64(c, "id", &id) == -1)
		return (NULL);
	oc = otlp_slot((void **)&o->conns, &o->nconns, sizeof(*o->conns), id);
	memset(oc, 0, sizeof(*oc));
	oc->id = id;
	(void)proto_get_u64(c, "server", &oc->server);
	otlp_copy(c, "client_addr", oc->caddr, sizeof(oc->caddr));
	otlp_copy(c, "server_addr", oc->saddr, sizeof(oc->saddr));
	if (proto_get_u64(c, "client_port", &v) == 0)
		oc->cport = v;
	if (proto_get_u64(c, "server_port", &v) == 0)
		oc->sport = v;
	oc->ipv6 = proto_get_u64(c, "ip_version", &v) == 0 && v == 6;
	tls = proto_get(c, "tls");
	oc->tls = tls != NULL && tls->type == MSGPACK_OBJECT_MAP;
	otlp_trace_id(o, id, oc->trace);
	return (oc);
}

/*
 * The envelope around a batch's spans: the resource is the session
 * (the host that captured it and the session's identity), the scope
 * htracr.
 */
static void
otlp_envelope_open(struct otlp *o)
{
	char	 host[HOST_NAME_MAX + 1];

	OTLP_RAW(o, "{\"resourceSpans\":[{\"resource\":"
	    "{\"attributes\":[");
	o->nattr = 0;
	otlp_attr_strz(o, "service.name", "htracr");
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		otlp_attr_strz(o, "host.name", host);
	}
	if (o->have_session) {
		otlp_attr_int(o, "htracr.session.id", (int64_t)o->sid);
		otlp_attr_str(o, "htracr.session.source", o->source,
		    o->sourcelen);
		otlp_attr_strz(o, "htracr.session.origin", o->origin);
	}
	OTLP_RAW(o, "]},\"scopeSpans\":[{\"scope\":"
	    "{\"name\":\"htracr\"},\"spans\":[");
	o->inbatch = 1;
	o->nbatch = 0;
}

static void
otlp_envelope_close(struct otlp *o)
{
	OTLP_RAW(o, "]}]}]}\n");
	o->inbatch = 0;
}

/* Hands a finished batch to emit and opens the next; -1 if it failed. */
static int
otlp_batch_send(struct otlp *o)
{
	size_t	 n = o->nbatch;
	int	 rc;

	otlp_envelope_close(o);
	json_out_free(o->out);
	if (ferror(o->fp) || fclose(o->fp) == EOF)
		fatalx("cannot keep a batch of spans in memory");
	rc = o->emit(o->emit_arg, o->buf, o->buflen, n);
	free(o->buf);
	otlp_batch_open(o);
	return (rc);
}

void
otlp_span_begin(struct otlp *o)
{
	if (!o->inbatch)
		otlp_envelope_open(o);
	else if (o->nbatch > 0)
		OTLP_RAW(o, ",");
}

int
otlp_span_done(struct otlp *o)
{
	o->nbatch++;
	o->spans++;
	if (o->emit == NULL)
		return (0);
	if (o->nbatch < o->maxspans) {
		if (o->maxbytes == 0)
			return (0);
		json_out_flush(o->out);
		if (ftello(o->fp) < (off_t)o->maxbytes)
			return (0);
	}
	return (otlp_batch_send(o));
}

int
otlp_item(void *arg, const msgpack_object *item)
{
	struct otlp		*o = arg;
	struct otlp_conn	*c;
	const char		*type;
	size_t			 len;

	if (o->failed)
		return (-1);
	if (proto_get_str(item, "type", &type, &len) == -1)
		return (0);
	if (len == 7 && memcmp(type, "session", 7) == 0)
		otlp_on_session(o, item);
	else if (len == 6 && memcmp(type, "server", 6) == 0)
		otlp_on_server(o, item);
	else if (len == 10 && memcmp(type, "connection", 10) == 0) {
		if ((c = otlp_on_conn(o, item)) != NULL &&
		    otlp_conn_spans(o, c, item) == -1)
			o->failed = 1;
	} else if (len == 11 && memcmp(type, "transaction", 11) == 0) {
		if (otlp_txn_spans(o, item) == -1)
			o->failed = 1;
	}
	if (o->emit == NULL && ferror(o->fp))
		o->failed = 1;
	return (o->failed ? -1 : 0);
}

int
otlp_free(struct otlp *o)
{
	int	 rc = o->failed ? -1 : 0;

	if (o->emit != NULL) {
		if (rc == 0 && o->inbatch && otlp_batch_send(o) == -1)
			rc = -1;
		json_out_free(o->out);
		(void)fclose(o->fp);
		free(o->buf);
	} else {
		/* An empty session is still one well-formed request. */
		if (!o->inbatch)
			otlp_envelope_open(o);
		otlp_envelope_close(o);
		json_out_free(o->out);
		if (fflush(o->fp) == EOF || ferror(o->fp))
			rc = -1;
	}
	free(o->source);
	free(o->conns);
	free(o->servers);
	free(o);
	return (rc);
}

int
otlp_render(FILE *fp, const struct doc *d)
{
	struct otlp	*o = otlp_new(fp);
	uint32_t	 i;

	otlp_item(o, d->session);
	for (i = 0; i < d->servers->via.array.size; i++)
		otlp_item(o, &d->servers->via.array.ptr[i]);
	for (i = 0; i < d->connections->via.array.size; i++)
		otlp_item(o, &d->connections->via.array.ptr[i]);
	for (i = 0; i < d->transactions->via.array.size; i++)
		otlp_item(o, &d->transactions->via.array.ptr[i]);
	return (otlp_free(o));
}
