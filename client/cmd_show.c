/*
 * cmd_show.c: "htracrctl show [SESSION]": a session for people, as a
 * waterfall on a time axis (the default, with its zoom and filters), as
 * aligned tables (--table, --packets), one transaction in full with its
 * kept bodies (--txn) or one connection's packets (--conn); or one JSON
 * document with --json, or any text format of dump with --format.
 * Runs in htracrctl with the invoking user's privileges.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "doc.h"
#include "explain.h"
#include "log.h"
#include "proto.h"
#include "render.h"
#include "waterfall.h"

#define SHOW_ZONE_CHUNK	(64 * 1024)

static int	 cmd_show_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_show_entry = {
	"show", "[SESSION] [--waterfall | --table] [--packets] [--json] [--scale MS] "
	"[--from MS] [--to MS] [--width N] [--host NAME] [--status 5xx,404] "
	"[--method M] [--min-wait MS] [--hide-server LIST] [--hide-conn LIST] "
	"[--layers LIST] "
	"[--txn ID | --conn ID] [--format FORMAT]", CMD_JSON,
	cmd_show_exec
};

struct show {
	struct render_opts	 ro;
	struct waterfall_opts	 wf;
	int			 waterfall;
	int			 table;	/* --table, --packets */
	uint64_t		 txn;	/* --txn: this transaction in full */
	uint64_t		 conn;	/* --conn: this connection's packets */
	const struct cmd_format	*format;	/* --format */
};

/* Milliseconds as typed ("12", "0.5") into microseconds. */
static int
cmd_show_ms(const char *arg, const char *what, int64_t *us)
{
	char	*end;
	double	 ms;

	errno = 0;
	ms = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(ms) ||
	    ms < 0 || ms > 1e12) {
		log_warnx("bad %s '%s': milliseconds, such as 20 or 0.5", what,
		    arg);
		return (-1);
	}
	*us = (int64_t)(ms * 1000);
	return (0);
}

static int
cmd_show_id(const char *arg, const char *what, uint64_t *id)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v == 0 ||
	    v > UINT32_MAX || *arg == '-') {
		log_warnx("bad %s '%s': a number from 'htracrctl show'", what,
		    arg);
		return (-1);
	}
	*id = v;
	return (0);
}

/* The waterfall's options; anything else is a usage error. */
static int
cmd_show_wf_option(struct show *s, int ch, const char *arg)
{
	int64_t	 us;

	s->waterfall = 1;
	switch (ch) {
	case 'S':
		if (cmd_show_ms(arg, "scale", &us) == -1 || us == 0)
			return (-1);
		s->wf.scale_us = us;
		return (0);
	case 'f':
		return (cmd_show_ms(arg, "start", &s->wf.from_us));
	case 't':
		return (cmd_show_ms(arg, "end", &s->wf.to_us));
	case 'm':
		return (cmd_show_ms(arg, "wait", &s->wf.min_wait_us));
	case 'W':
		s->wf.width = atoi(arg);
		if (s->wf.width < 40 || s->wf.width > 1000) {
			log_warnx("bad width '%s': 40 to 1000 columns", arg);
			return (-1);
		}
		return (0);
	case 'H':
		s->wf.host = arg;
		return (0);
	case 'M':
		s->wf.method = arg;
		return (0);
	case 'X':
		if (waterfall_hide_ok(arg, 1) == -1) {
			log_warnx("bad server list '%s': ids, names or "
			    "addresses, such as 2,example.com", arg);
			return (-1);
		}
		s->wf.hide_servers = arg;
		return (0);
	case 'Y':
		if (waterfall_hide_ok(arg, 0) == -1) {
			log_warnx("bad connection list '%s': ids such as 3,7",
			    arg);
			return (-1);
		}
		s->wf.hide_conns = arg;
		return (0);
	case 'L':
		if (waterfall_layers(arg, &s->wf.layers) == -1) {
			log_warnx("bad layers '%s': a list of packets, states, "
			    "txn, tls and dns", arg);
			return (-1);
		}
		return (0);
	case 's':
		if (waterfall_status_ok(arg) == -1) {
			log_warnx("bad status '%s': such as 404, 5xx or 4xx,5xx",
			    arg);
			return (-1);
		}
		s->wf.status = arg;
		return (0);
	}
	return (-1);
}

static int
cmd_show_options(struct cmd_ctx *ctx, struct show *s, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "packets", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "waterfall", no_argument, NULL, 'w' },
		{ "table", no_argument, NULL, 'b' },
		{ "scale", required_argument, NULL, 'S' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "width", required_argument, NULL, 'W' },
		{ "host", required_argument, NULL, 'H' },
		{ "status", required_argument, NULL, 's' },
		{ "method", required_argument, NULL, 'M' },
		{ "min-wait", required_argument, NULL, 'm' },
		{ "hide-server", required_argument, NULL, 'X' },
		{ "hide-conn", required_argument, NULL, 'Y' },
		{ "layers", required_argument, NULL, 'L' },
		{ "txn", required_argument, NULL, 'T' },
		{ "conn", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "w", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			s->ro.packets = 1;
			s->table = 1;
			break;
		case 'b':
			s->table = 1;
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'w':
			s->waterfall = 1;
			break;
		case 'T':
			if (cmd_show_id(optarg, "transaction", &s->txn) == -1)
				return (-1);
			break;
		case 'C':
			if (cmd_show_id(optarg, "connection", &s->conn) == -1)
				return (-1);
			break;
		case 'F':
			if ((s->format = cmd_dump_find(optarg)) == NULL)
				return (-1);
			if (s->format->binary) {
				log_warnx("show prints text; write %s with "
				    "'htracrctl dump --format %s -o FILE'",
				    optarg, optarg);
				return (-1);
			}
			break;
		case '?':
			return (-1);
		default:
			if (cmd_show_wf_option(s, ch, optarg) == -1)
				return (-1);
			break;
		}
	}
	return (0);
}

/*
 * A kept body of the transaction t (body op). None kept is no error:
 * the view says so. One the detail says was kept but the daemon no
 * longer has was evicted with the raw frames it lay in: the daemon's
 * error is printed and the view says so too. The bytes live in zone.
 */
static void
cmd_show_body(struct client *c, msgpack_zone *zone, uint64_t session,
    const msgpack_object *t, const char *which, struct waterfall_body *b)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	uint64_t	 id, txn;
	int64_t		 kept;
	int		 rc;

	memset(b, 0, sizeof(*b));
	txn = (uint64_t)render_int(t, "id", 0);
	kept = render_int(proto_get(t, which), "body_kept", 0);
	id = client_begin(c, &sb, &pk, PROTO_OP_BODY, 3);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	proto_pack_key(&pk, "txn");
	msgpack_pack_uint64(&pk, txn);
	proto_pack_key(&pk, "which");
	proto_pack_str(&pk, which);
	if (client_send(c, &sb, NULL, 0) == -1)
		return;
	if (kept <= 0)
		c->quiet_error = PROTO_ERR_NOT_FOUND;
	c->last_error = 0;
	rc = client_read(c, id, zone, &res);
	c->quiet_error = 0;
	if (rc == CLIENT_RESULT &&
	    proto_get_bin(&res, "body", &b->buf, &b->len) == 0)
		(void)proto_get_bool(&res, "truncated", &b->truncated);
	else if (rc == CLIENT_FAIL && c->last_error == PROTO_ERR_NOT_FOUND &&
	    kept > 0)
		b->evicted = 1;
}

static int
cmd_show_txn(struct show *s, struct client *c, const struct doc *d)
{
	struct waterfall_body	 req, resp;
	const msgpack_object	*t;
	msgpack_zone		*zone;
	uint64_t		 session = 0;
	int			 rc;

	if ((t = doc_txn(d, s->txn)) == NULL) {
		log_warnx("no transaction %llu in this session",
		    (unsigned long long)s->txn);
		return (-1);
	}
	(void)proto_get_u64(d->session, "id", &session);
	if ((zone = msgpack_zone_new(SHOW_ZONE_CHUNK)) == NULL)
		fatalx("out of memory");
	cmd_show_body(c, zone, session, t, "request", &req);
	cmd_show_body(c, zone, session, t, "response", &resp);
	rc = waterfall_txn(stdout, d, s->txn, &req, &resp, &s->wf);
	if (rc == 0) {
		fputc('\n', stdout);
		explain_print_txn(stdout, d, s->txn, s->wf.color > 0);
	}
	msgpack_zone_free(zone);
	return (rc == 0 ? 0 : -1);
}

/* The view the options asked for, of a fetched document. */
static int
cmd_show_render(struct show *s, struct client *c, const struct doc *d)
{
	if (s->txn != 0)
		return (cmd_show_txn(s, c, d));
	if (s->conn != 0) {
		if (doc_conn(d, s->conn) == NULL) {
			log_warnx("no connection %llu in this session",
			    (unsigned long long)s->conn);
			return (-1);
		}
		return (waterfall_conn(stdout, d, s->conn, &s->wf) == 0 ? 0 :
		    -1);
	}
	return (waterfall_render(stdout, d, &s->wf) == 0 ? 0 : -1);
}

/*
 * What the view needs fetched. Only --txn prints header lists; leaving
 * them out elsewhere keeps a large session's document a third as big.
 */
static int
cmd_show_flags(const struct show *s)
{
	int	 flags = 0;

	if (s->ro.packets || s->conn != 0 || s->txn != 0)
		flags |= DOC_PACKETS;
	if (s->txn == 0)
		flags |= DOC_NO_HEADERS;
	if (s->txn == 0 && s->conn == 0)
		flags |= DOC_LEAN;
	return (flags);
}

static int
cmd_show_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct show	 s;
	struct client	 c;
	struct doc	 d;
	uint64_t	 session = 0;
	int		 rc;

	memset(&s, 0, sizeof(s));
	waterfall_opts_init(&s.wf);
	if (cmd_show_options(ctx, &s, argc, argv) == -1)
		return (cmd_usage(ctx->entry));
	if (argc - optind > 1 || (argc - optind == 1 &&
	    cmd_parse_session(argv[optind], &session) == -1))
		return (cmd_usage(ctx->entry));
	if ((s.txn != 0) + (s.conn != 0) + (ctx->json != 0) +
	    (s.waterfall != 0) + (s.table != 0) + (s.format != NULL) > 1) {
		log_warnx("--txn, --conn, --json, --format, --table and the "
		    "waterfall each ask for another view");
		return (cmd_usage(ctx->entry));
	}
	s.ro.color = s.wf.color = ctx->color;
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (s.format != NULL)
		rc = cmd_dump_write(&c, s.format, session, stdout, &s.ro);
	else if (s.txn == 0 && s.conn == 0 && (s.table || ctx->json))
		rc = cmd_dump_write(&c, cmd_dump_find(ctx->json ? "json" :
		    "text"), session, stdout, &s.ro);
	else if ((rc = doc_fetch_closeup(&d, &c, session, cmd_show_flags(&s),
	    s.txn, s.conn)) == 0) {
		rc = cmd_show_render(&s, &c, &d);
		doc_free(&d);
	}
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
