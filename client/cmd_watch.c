/*
 * cmd_watch.c: "htracrctl watch": follows the running capture and
 * prints one line per completed transaction, like an access log, from
 * the watch stream (PROTOCOL.md op 400). Ends at Ctrl-C or when the
 * capture stops. Runs in htracrctl with the invoking user's privileges;
 * every wire string is escaped before it reaches the terminal. With
 * --json each transaction is one ndjson line (ndjson.h), as dump
 * --format ndjson writes them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "cmd.h"
#include "esc.h"
#include "log.h"
#include "ndjson.h"
#include "proto.h"
#include "render.h"

/*
 * Client endpoints of the connections seen in the stream, so a line can
 * name the client when the daemon sends connection items; a fixed table
 * indexed by id, so the memory stays bounded however long the watch.
 */
#define WATCH_CONNS	1024

struct watch_conn {
	uint64_t	 id;
	char		 client[64];
};

struct watch {
	int			 json;
	struct ndjson		*nd;		/* --json */
	int			 color;
	uint64_t		 lines;
	int			 failed;	/* writing stdout failed */
	struct watch_conn	 conns[WATCH_CONNS];
};

static int	 cmd_watch_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_watch_entry = {
	"watch", "[--json]", CMD_JSON, cmd_watch_exec
};

/* addr:port of an item's client_addr/client_port, escaped; -1 if none. */
static int
watch_endpoint(const msgpack_object *o, char *buf, size_t size)
{
	const char	*a;
	size_t		 len;
	char		 addr[48];

	if ((a = render_str(o, "client_addr", &len)) == NULL)
		return (-1);
	esc_buf(addr, sizeof(addr), a, len);
	snprintf(buf, size, memchr(a, ':', len) ? "[%s]:%lld" : "%s:%lld",
	    addr, (long long)render_int(o, "client_port", 0));
	return (0);
}

static void
watch_remember(struct watch *w, const msgpack_object *c)
{
	struct watch_conn	*slot;
	int64_t			 id = render_int(c, "id", -1);

	if (id <= 0)
		return;
	slot = &w->conns[id % WATCH_CONNS];
	if (watch_endpoint(c, slot->client, sizeof(slot->client)) == 0)
		slot->id = (uint64_t)id;
}

/* The client as addr:port when known, else the connection id. */
static const char *
watch_client(struct watch *w, const msgpack_object *t, char *buf,
    size_t size)
{
	struct watch_conn	*slot;
	int64_t			 conn = render_int(t, "connection", -1);

	if (watch_endpoint(t, buf, size) == 0)
		return (buf);
	if (conn > 0) {
		slot = &w->conns[conn % WATCH_CONNS];
		if (slot->id == (uint64_t)conn)
			return (slot->client);
	}
	snprintf(buf, size, "conn#%lld", (long long)conn);
	return (buf);
}

/* The Host header of a request, escaped; "-" if there is none. */
static const char *
watch_host(const msgpack_object *req, char *buf, size_t size)
{
	const char	*host;
	size_t		 len;

	if ((host = render_header(req, "host", &len)) == NULL)
		return ("-");
	return (esc_buf(buf, size, host, len));
}

static const char *
watch_status_color(const struct watch *w, int64_t status)
{
	if (!w->color)
		return ("");
	if (status >= 500)
		return ("\033[31m");
	if (status >= 400)
		return ("\033[33m");
	if (status >= 300)
		return ("\033[36m");
	return (status >= 200 ? "\033[32m" : "\033[2m");
}

static void
watch_line(struct watch *w, const msgpack_object *t)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	char			 when[32], cl[64], m[32], host[256], tg[1024];
	const char		*s;
	size_t			 len;
	int64_t			 us, status, wait, size;
	time_t			 sec;
	struct tm		 tm;

	us = render_int(resp, "end_us", render_int(req, "start_us", 0));
	sec = (time_t)(us / 1000000);
	if (localtime_r(&sec, &tm) == NULL ||
	    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	status = render_int(resp, "status", -1);
	size = render_int(resp, "body_bytes", -1);
	wait = render_int(proto_get(t, "timings"), "wait_us", -1);
	s = render_str(req, "method", &len);
	esc_buf(m, sizeof(m), s ? s : "-", s ? len : 1);
	s = render_str(req, "target", &len);
	esc_buf(tg, sizeof(tg), s ? s : "", s ? len : 0);
	printf("%s.%03d %-22s %-7s %s%s %s%3lld%s %8lld %8.1fms\n", when,
	    (int)(us % 1000000 / 1000), watch_client(w, t, cl, sizeof(cl)), m,
	    watch_host(req, host, sizeof(host)), tg,
	    watch_status_color(w, status), (long long)status,
	    w->color ? "\033[0m" : "", (long long)size,
	    wait < 0 ? -1.0 : wait / 1000.0);
}

static void
watch_item(struct watch *w, const msgpack_object *o)
{
	const char	*type;
	size_t		 len;
	int		 txn;

	if ((type = render_str(o, "type", &len)) == NULL)
		return;
	txn = len == 11 && memcmp(type, "transaction", 11) == 0;
	if (w->json) {
		/* Each line as it happens, even into a pipe. */
		if (ndjson_item(w->nd, o) == -1 || ndjson_flush(w->nd) == -1)
			w->failed = 1;
		w->lines += txn;
		return;
	}
	if (len == 10 && memcmp(type, "connection", 10) == 0)
		watch_remember(w, o);
	if (!txn)
		return;
	watch_line(w, o);
	w->lines++;
	fflush(stdout);
}

/*
 * The running session's id, for the ndjson lines: the watch stream
 * does not repeat it. 0 (written as null) when status does not say.
 */
static uint64_t
watch_session(struct client *c)
{
	msgpack_object	 res;
	uint64_t	 id = 0;

	if (client_call(c, PROTO_OP_STATUS, &res) == CLIENT_RESULT)
		(void)proto_get_u64(proto_get(&res, "session"), "id", &id);
	return (id);
}

static int
watch_run(struct client *c, struct watch *w)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 val;
	uint64_t	 id;
	uint32_t	 i;
	int		 rc;

	id = client_begin(c, &sb, &pk, PROTO_OP_WATCH, 0);
	if (client_send(c, &sb, NULL, 0) == -1)
		return (client_interrupted ? 0 : -1);
	while ((rc = client_read(c, id, NULL, &val)) == CLIENT_CHUNK) {
		for (i = 0; i < val.via.array.size; i++)
			watch_item(w, &val.via.array.ptr[i]);
		if (w->failed) {
			log_warnx("cannot write to standard output");
			return (-1);
		}
	}
	if (rc == CLIENT_END) {
		log_info("capture stopped; %llu transactions watched",
		    (unsigned long long)w->lines);
		return (0);
	}
	/* Ctrl-C is how a watch normally ends. */
	return (client_interrupted ? 0 : -1);
}

static int
cmd_watch_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static struct watch	 w;
	struct client		 c;
	int			 ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (cmd_usage(ctx->entry));
		ctx->json = 1;
	}
	if (optind != argc)
		return (cmd_usage(ctx->entry));
	memset(&w, 0, sizeof(w));
	w.json = ctx->json;
	w.color = ctx->color;
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (w.json) {
		w.nd = ndjson_new(stdout, 1);
		ndjson_session(w.nd, watch_session(&c));
	}
	rc = watch_run(&c, &w);
	if (w.nd != NULL && ndjson_free(w.nd) == -1)
		rc = -1;
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
