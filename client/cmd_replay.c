/*
 * cmd_replay.c: "htracrctl replay TXN [SESSION]": prints a curl command
 * that makes a captured request again (method, URL, end-to-end headers,
 * and the body when the daemon kept it). Runs in htracrctl with the
 * invoking user's privileges; it prints the command, it never runs it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "doc.h"
#include "log.h"
#include "proto.h"
#include "render.h"

static int	 cmd_replay_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_replay_entry = {
	"replay", "TXN [SESSION]", 0, cmd_replay_exec
};

/*
 * Fetches the request body of txn; *body NULL when there is none to
 * send. Points into the client's zone until its next read.
 */
static int
cmd_replay_body(struct client *c, uint64_t session, uint64_t txn,
    const char **body, size_t *len)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	uint64_t	 id;
	int		 truncated = 0;

	id = client_begin(c, &sb, &pk, PROTO_OP_BODY, 3);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	proto_pack_key(&pk, "txn");
	msgpack_pack_uint64(&pk, txn);
	proto_pack_key(&pk, "which");
	proto_pack_str(&pk, "request");
	if (client_send(c, &sb, NULL, 0) == -1 ||
	    client_read(c, id, NULL, &res) != CLIENT_RESULT)
		return (-1);
	if (proto_get_bin(&res, "body", body, len) == -1) {
		log_warnx("htracrd sent a body reply without a body");
		return (-1);
	}
	(void)proto_get_bool(&res, "truncated", &truncated);
	if (truncated)
		log_warnx("the kept request body is truncated: the replay "
		    "sends only its first %zu bytes", *len);
	return (0);
}

static int
cmd_replay_run(struct client *c, uint64_t session, uint64_t txn)
{
	struct doc		 d;
	const msgpack_object	*t, *req;
	const char		*body = NULL;
	size_t			 len = 0;
	int64_t			 wire, kept;
	int			 rc;

	if (doc_fetch(&d, c, session, 0) == -1)
		return (-1);
	if ((t = doc_txn(&d, txn)) == NULL) {
		log_warnx("session %lld has no transaction %llu",
		    (long long)render_int(d.session, "id", 0),
		    (unsigned long long)txn);
		doc_free(&d);
		return (-1);
	}
	req = proto_get(t, "request");
	wire = render_int(req, "body_bytes", 0);
	kept = render_int(req, "body_kept", 0);
	if (kept > 0 && cmd_replay_body(c, (uint64_t)render_int(d.session,
	    "id", 0), txn, &body, &len) == -1) {
		doc_free(&d);
		return (-1);
	}
	if (wire > 0 && kept <= 0)
		log_warnx("the request had a %lld-byte body that was not "
		    "kept: the command sends none", (long long)wire);
	rc = render_curl(stdout, &d, txn, body, len);
	doc_free(&d);
	return (rc == 0 ? 0 : -1);
}

static int
cmd_replay_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	uint64_t	 txn, session = 0;
	char		*end;
	int		 rc;

	optind = 0;
	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return (cmd_usage(ctx->entry));
	if (argc - optind < 1 || argc - optind > 2)
		return (cmd_usage(ctx->entry));
	txn = strtoull(argv[optind], &end, 10);
	if (*argv[optind] == '\0' || *end != '\0' || txn == 0) {
		log_warnx("'%s' is not a transaction id (see htracrctl show)",
		    argv[optind]);
		return (CMD_USAGE);
	}
	if (argc - optind == 2 &&
	    cmd_parse_session(argv[optind + 1], &session) == -1)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	rc = cmd_replay_run(&c, session, txn);
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
