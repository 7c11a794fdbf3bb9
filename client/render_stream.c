/*
 * render_stream.c: the HTML page and the HAR file written as a
 * session's detail streams in (doc_stream), so that htracrctl never
 * holds the whole session decoded: of each item only what is still to
 * be read later is copied out and kept. Runs in htracrctl with the
 * invoking user's privileges.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "doc.h"
#include "explain.h"
#include "log.h"
#include "proto.h"
#include "render.h"
#include "xmalloc.h"

#define RENDER_STREAM_ZONE	(1024 * 1024)

/*
 * The page: the document goes out item by item, and of each item only
 * what the explanations read (explain_keep) is kept for them, since
 * they follow the document.
 */
struct render_html {
	FILE			 *f;
	struct render_pack	 *doc;	/* NULL until the first item */
	msgpack_zone		 *zone;	/* the kept copies */
	const msgpack_object	**kept;
	size_t			  nkept;
	size_t			  cap;
};

struct render_html *
render_html_new(FILE *f)
{
	struct render_html	*h;

	h = xcalloc(1, sizeof(*h));
	h->f = f;
	if ((h->zone = msgpack_zone_new(RENDER_STREAM_ZONE)) == NULL)
		fatalx("out of memory");
	return (h);
}

/* The template up to the document goes out with the first item. */
int
render_html_item(void *arg, const msgpack_object *item)
{
	struct render_html	*h = arg;

	if (h->doc == NULL) {
		if (render_html_head(h->f) == -1)
			return (-1);
		h->doc = render_pack_new(h->f);
	}
	if (h->nkept == h->cap) {
		h->cap = h->cap == 0 ? 1024 : h->cap * 2;
		h->kept = xreallocarray(h->kept, h->cap, sizeof(*h->kept));
	}
	h->kept[h->nkept++] = explain_keep(h->zone, item);
	return (render_pack_item(h->doc, item));
}

int
render_html_end(struct render_html *h, int ok)
{
	struct doc	 d;
	int		 rc = -1;

	if (ok && h->doc == NULL)
		log_warnx("htracrd sent no session item in the detail");
	if (h->doc == NULL || render_pack_close(h->doc) == -1)
		ok = 0;
	if (ok) {
		/* doc_build takes the zone over, whatever it returns. */
		if (doc_build(&d, h->zone, h->kept, h->nkept) == 0)
			rc = render_html_rest(h->f, &d, h->doc);
		h->zone = NULL;
		doc_free(&d);
	}
	if (h->doc != NULL)
		render_pack_free(h->doc);
	if (h->zone != NULL)
		msgpack_zone_free(h->zone);
	free(h->kept);
	free(h);
	return (rc);
}

/*
 * The archive written as the detail streams in. The daemon sends the
 * session, servers and connections before the transactions (session.h):
 * those are kept (of a connection, what an entry reads of it) and each
 * entry is written as its transaction comes. DNS lookups come last, so
 * a session that has any keeps its transactions too and is written
 * whole at the end, as render_har writes an assembled document.
 */
struct render_har {
	FILE			 *f;
	msgpack_zone		 *zone;		/* the kept copies */
	const msgpack_object	**kept;
	size_t			  nkept;
	size_t			  cap;
	int			  keep_all;	/* the session has lookups */
	int			  started;	/* d built, entries going out */
	struct doc		  d;
	uint64_t		  id;
	uint64_t		  entries;
};

struct render_har_key {
	const char	*name;
	size_t		 len;
};
#define RENDER_HAR_KEY(s)	{ s, sizeof(s) - 1 }

/* What render_har_entry reads of a connection. */
static const struct render_har_key render_har_conn_keys[] = {
	RENDER_HAR_KEY("type"), RENDER_HAR_KEY("id"), RENDER_HAR_KEY("tls"),
	RENDER_HAR_KEY("server_addr"), RENDER_HAR_KEY("server_port"),
	RENDER_HAR_KEY("syn_us"), RENDER_HAR_KEY("dns"), { NULL, 0 }
};

static int
render_har_is(const msgpack_object *o, const char *s, size_t len)
{
	return (o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == len && memcmp(o->via.str.ptr, s, len) == 0);
}

/* A copy of connection c in zone with only render_har_conn_keys. */
static const msgpack_object *
render_har_keep_conn(msgpack_zone *zone, const msgpack_object *c)
{
	const struct render_har_key	*k;
	msgpack_object			*o;
	msgpack_object_kv		*kv;
	uint32_t			 i, n = 0;

	if ((o = msgpack_zone_malloc(zone, sizeof(*o))) == NULL ||
	    (kv = msgpack_zone_malloc(zone, c->via.map.size *
	    sizeof(*kv) + 1)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < c->via.map.size; i++)
		for (k = render_har_conn_keys; k->name != NULL; k++)
			if (render_har_is(&c->via.map.ptr[i].key, k->name,
			    k->len)) {
				doc_copy(zone, &kv[n].key,
				    &c->via.map.ptr[i].key);
				doc_copy(zone, &kv[n++].val,
				    &c->via.map.ptr[i].val);
				break;
			}
	*o = *c;
	o->via.map.size = n;
	o->via.map.ptr = kv;
	return (o);
}

struct render_har *
render_har_new(FILE *f)
{
	struct render_har	*h;

	h = xcalloc(1, sizeof(*h));
	h->f = f;
	if ((h->zone = msgpack_zone_new(RENDER_STREAM_ZONE)) == NULL)
		fatalx("out of memory");
	return (h);
}

static void
render_har_keep(struct render_har *h, const msgpack_object *item,
    const msgpack_object *type)
{
	msgpack_object	*o;

	if (h->nkept == h->cap) {
		h->cap = h->cap == 0 ? 1024 : h->cap * 2;
		h->kept = xreallocarray(h->kept, h->cap, sizeof(*h->kept));
	}
	if (item->type == MSGPACK_OBJECT_MAP &&
	    render_har_is(type, "connection", 10)) {
		h->kept[h->nkept++] = render_har_keep_conn(h->zone, item);
		return;
	}
	if ((o = msgpack_zone_malloc(h->zone, sizeof(*o))) == NULL)
		fatalx("out of memory");
	doc_copy(h->zone, o, item);
	h->kept[h->nkept++] = o;
}

/* The first transaction: what came before is the document to read. */
static int
render_har_start(struct render_har *h)
{
	int	 rc;

	/* doc_build takes the zone over, whatever it returns. */
	rc = doc_build(&h->d, h->zone, h->kept, h->nkept);
	h->zone = NULL;
	h->started = 1;
	if (rc == -1)
		return (-1);
	h->id = (uint64_t)render_int(h->d.session, "id", 0);
	render_har_head(h->f, h->d.session, h->id);
	return (0);
}

int
render_har_item(void *arg, const msgpack_object *item)
{
	struct render_har	*h = arg;
	const msgpack_object	*type = proto_get(item, "type");

	if (!h->started && !h->keep_all &&
	    render_har_is(type, "transaction", 11) &&
	    render_har_start(h) == -1)
		return (-1);
	if (h->started) {
		/* Lookups the session did not count at first are late. */
		if (!render_har_is(type, "transaction", 11))
			return (0);
		if (h->entries++ > 0)
			fputc(',', h->f);
		fputc('\n', h->f);
		render_har_entry(h->f, &h->d, item, h->id);
		return (ferror(h->f) ? -1 : 0);
	}
	if (render_har_is(type, "session", 7) &&
	    render_int(item, "dns_lookups", 0) > 0)
		h->keep_all = 1;
	render_har_keep(h, item, type);
	return (0);
}

int
render_har_end(struct render_har *h, int ok)
{
	int	 rc = -1;

	if (ok && h->started && h->d.session != NULL)
		rc = render_har_tail(h->f);
	else if (ok && !h->started) {
		if (doc_build(&h->d, h->zone, h->kept, h->nkept) == 0)
			rc = render_har(h->f, &h->d);
		h->zone = NULL;
	}
	doc_free(&h->d);
	if (h->zone != NULL)
		msgpack_zone_free(h->zone);
	free(h->kept);
	free(h);
	return (rc);
}
