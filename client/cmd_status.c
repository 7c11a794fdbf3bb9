/*
 * cmd_status.c: "htracrctl status": capture state, interface, ports,
 * who started it, counters and connected clients. Runs in htracrctl
 * with the invoking user's privileges.
 */
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "proto.h"
#include "text.h"

static int	 cmd_status_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_status_entry = {
	"status", "[--json]", CMD_JSON, cmd_status_exec
};

static int
cmd_status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client	 c;
	msgpack_object	 res;
	int		 rc = CMD_ERROR;

	if (cmd_json_only(ctx, argc, argv) == -1)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (client_call(&c, PROTO_OP_STATUS, &res) == CLIENT_RESULT) {
		if (ctx->json) {
			json_write(stdout, &res);
			putchar('\n');
		} else
			text_status(stdout, &res, ctx->color);
		rc = CMD_OK;
	}
	client_close(&c);
	return (rc);
}
