/*
 * docrender.c: test driver for htracrctl's renderers. Reads a session
 * detail document (the msgpack root described in client/doc.h, written
 * by mkdoc.py or any other producer) and runs one renderer over it, so
 * the HAR, HTML and waterfall output can be checked without a daemon.
 *
 *   docrender [options] har|html|json|waterfall FILE
 *   docrender [options] txn|conn FILE ID
 *   docrender curl FILE ID [BODYFILE]
 *
 * The options are the waterfall's (-w width, -s scale, -f/-t window,
 * -H/-S/-M/-W filters, -c colour); see docrender_usage.
 *
 * Runs as the invoking user; it is a test tool, never installed.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "doc.h"
#include "proto.h"
#include "render.h"
#include "waterfall.h"

/* The client's doc.c is not linked: these stand in for its lookups. */
const msgpack_object *
doc_server(const struct doc *d, uint64_t id)
{
	return (id < d->nserver_by_id ? d->server_by_id[id] : NULL);
}

const msgpack_object *
doc_conn(const struct doc *d, uint64_t id)
{
	return (id < d->nconn_by_id ? d->conn_by_id[id] : NULL);
}

const msgpack_object *
doc_txn(const struct doc *d, uint64_t id)
{
	return (id < d->ntxn_by_id ? d->txn_by_id[id] : NULL);
}

const msgpack_object *
doc_dns(const struct doc *d, uint64_t id)
{
	return (id < d->ndns_by_id ? d->dns_by_id[id] : NULL);
}

/* As doc.c's, by a walk of the connections instead of a table. */
const msgpack_object *
doc_conn_dns(const struct doc *d, const msgpack_object *c)
{
	const msgpack_object	*o;
	uint64_t		 id, l, oid, ol;
	uint32_t		 i;

	if (c == NULL || proto_get_u64(c, "dns", &l) == -1 ||
	    proto_get_u64(c, "id", &id) == -1)
		return (NULL);
	for (i = 0; d->connections != NULL &&
	    i < d->connections->via.array.size; i++) {
		o = &d->connections->via.array.ptr[i];
		if (proto_get_u64(o, "dns", &ol) == 0 && ol == l &&
		    proto_get_u64(o, "id", &oid) == 0 && oid < id)
			return (NULL);
	}
	return (doc_dns(d, l));
}

void
doc_free(struct doc *d)
{
	free(d->dns_by_id);
	free(d->server_by_id);
	free(d->conn_by_id);
	free(d->txn_by_id);
	msgpack_zone_free(d->zone);
}

static const msgpack_object **
docrender_index(const msgpack_object *arr, size_t *n)
{
	const msgpack_object	**tab;
	uint64_t		  id, max = 0;
	uint32_t		  i;

	for (i = 0; arr != NULL && i < arr->via.array.size; i++)
		if (proto_get_u64(&arr->via.array.ptr[i], "id", &id) == 0 &&
		    id > max && id < 10000000)
			max = id;
	if ((tab = calloc(max + 1, sizeof(*tab))) == NULL)
		err(1, "calloc");
	for (i = 0; arr != NULL && i < arr->via.array.size; i++)
		if (proto_get_u64(&arr->via.array.ptr[i], "id", &id) == 0 &&
		    id <= max)
			tab[id] = &arr->via.array.ptr[i];
	*n = max + 1;
	return (tab);
}

static const msgpack_object *
docrender_array(const msgpack_object *root, const char *key)
{
	const msgpack_object	*o = proto_get(root, key);

	return (o != NULL && o->type == MSGPACK_OBJECT_ARRAY ? o : NULL);
}

/* Returns the file's bytes, which d's strings point into: caller frees. */
static char *
docrender_load(struct doc *d, const char *path)
{
	FILE	*f;
	char	*buf;
	long	 len;
	size_t	 off = 0;

	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	if (fseek(f, 0, SEEK_END) == -1 || (len = ftell(f)) < 0)
		err(1, "%s", path);
	rewind(f);
	if ((buf = malloc(len + 1)) == NULL)
		err(1, "malloc");
	if (fread(buf, 1, len, f) != (size_t)len)
		errx(1, "%s: short read", path);
	fclose(f);
	memset(d, 0, sizeof(*d));
	if ((d->zone = msgpack_zone_new(65536)) == NULL)
		errx(1, "msgpack_zone_new");
	if (msgpack_unpack(buf, len, &off, d->zone, &d->root) !=
	    MSGPACK_UNPACK_SUCCESS || d->root.type != MSGPACK_OBJECT_MAP)
		errx(1, "%s: not a msgpack map", path);
	d->session = proto_get(&d->root, "session");
	d->servers = docrender_array(&d->root, "servers");
	d->connections = docrender_array(&d->root, "connections");
	d->transactions = docrender_array(&d->root, "transactions");
	d->server_by_id = docrender_index(d->servers, &d->nserver_by_id);
	d->conn_by_id = docrender_index(d->connections, &d->nconn_by_id);
	d->txn_by_id = docrender_index(d->transactions, &d->ntxn_by_id);
	d->lookups = docrender_array(&d->root, "dns");
	d->dns_by_id = docrender_index(d->lookups, &d->ndns_by_id);
	return (buf);
}

/* A request body for the curl renderer, read whole from a file. */
static int
docrender_curl(const struct doc *d, uint64_t id, const char *path)
{
	FILE	*f;
	char	 buf[65536];
	size_t	 len = 0;

	if (path == NULL)
		return (render_curl(stdout, d, id, NULL, 0));
	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return (render_curl(stdout, d, id, buf, len));
}

static void
docrender_usage(void)
{
	fprintf(stderr, "usage: docrender [-c 0|1] [-w width] [-s scale_ms] "
	    "[-f from_ms] [-t to_ms]\n\t[-H host] [-S status] [-M method] "
	    "[-W min_wait_ms] har|html|json|waterfall|txn|conn|curl FILE [ID "
	    "[BODYFILE]]\n");
	exit(2);
}

static void
docrender_opts(int argc, char **argv, struct waterfall_opts *o)
{
	int	 ch;

	waterfall_opts_init(o);
	while ((ch = getopt(argc, argv, "c:f:H:M:s:S:t:w:W:")) != -1) {
		switch (ch) {
		case 'c':
			o->color = atoi(optarg);
			break;
		case 'f':
			o->from_us = atoll(optarg) * 1000;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'M':
			o->method = optarg;
			break;
		case 's':
			o->scale_us = atoll(optarg) * 1000;
			break;
		case 'S':
			if (waterfall_status_ok(optarg) == -1)
				errx(2, "bad status filter %s", optarg);
			o->status = optarg;
			break;
		case 't':
			o->to_us = atoll(optarg) * 1000;
			break;
		case 'w':
			o->width = atoi(optarg);
			break;
		case 'W':
			o->min_wait_us = atoll(optarg) * 1000;
			break;
		default:
			docrender_usage();
		}
	}
}

int
main(int argc, char **argv)
{
	struct doc		 d;
	struct waterfall_opts	 o;
	const char		*mode;
	char			*buf;
	uint64_t		 id = 0;
	int			 rc;

	docrender_opts(argc, argv, &o);
	argc -= optind;
	argv += optind;
	if (argc < 2)
		docrender_usage();
	mode = argv[0];
	buf = docrender_load(&d, argv[1]);
	if (argc > 2)
		id = strtoull(argv[2], NULL, 10);
	if (strcmp(mode, "har") == 0)
		rc = render_har(stdout, &d);
	else if (strcmp(mode, "html") == 0)
		rc = render_html(stdout, &d);
	else if (strcmp(mode, "json") == 0)
		rc = render_json_value(stdout, &d.root);
	else if (strcmp(mode, "waterfall") == 0)
		rc = waterfall_render(stdout, &d, &o);
	else if (strcmp(mode, "txn") == 0)
		rc = waterfall_txn(stdout, &d, id, NULL, NULL, &o);
	else if (strcmp(mode, "conn") == 0)
		rc = waterfall_conn(stdout, &d, id, &o);
	else if (strcmp(mode, "curl") == 0)
		rc = docrender_curl(&d, id, argc > 3 ? argv[3] : NULL);
	else
		docrender_usage();
	doc_free(&d);
	free(buf);
	return (rc == 0 ? 0 : 1);
}
