/*
 * cmd_delete.c: "htracrctl delete SESSION...": tells the daemon to
 * forget sessions, freeing their memory. The daemon lets only the user
 * who made a session (or root) delete it, and not while it captures or
 * is being read. Runs in htracrctl with the invoking user's privileges.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "proto.h"

static int	 cmd_delete_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_delete_entry = {
	"delete", "SESSION... [--json]", CMD_JSON, cmd_delete_exec
};

/* 0 once the daemon said it is gone; the client reported any error. */
static int
cmd_delete_one(struct cmd_ctx *ctx, struct client *c, uint64_t session)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_DELETE, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	if (client_send(c, &sb, NULL, 0) == -1 ||
	    client_read(c, id, NULL, &res) != CLIENT_RESULT)
		return (-1);
	if (ctx->json) {
		json_write(stdout, &res);
		putchar('\n');
	} else
		printf("session %llu deleted\n", (unsigned long long)session);
	return (0);
}

static int
cmd_delete_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	uint64_t	 session;
	int		 ch, i, rc = CMD_OK;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (cmd_usage(ctx->entry));
		ctx->json = 1;
	}
	if (optind == argc)
		return (cmd_usage(ctx->entry));
	/* Every argument is checked before anything is deleted. */
	for (i = optind; i < argc; i++)
		if (cmd_parse_session(argv[i], &session) == -1)
			return (CMD_USAGE);
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	for (i = optind; i < argc; i++) {
		(void)cmd_parse_session(argv[i], &session);
		if (cmd_delete_one(ctx, &c, session) == -1)
			rc = CMD_ERROR;
	}
	client_close(&c);
	return (rc);
}
