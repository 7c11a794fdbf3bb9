/*
 * cmd_sessions.c: "htracrctl sessions": the sessions the daemon keeps,
 * oldest first. Runs in htracrctl with the invoking user's privileges.
 */
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "proto.h"
#include "text.h"

static int	 cmd_sessions_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_sessions_entry = {
	"sessions", "[--json]", CMD_JSON, cmd_sessions_exec
};

static int
cmd_sessions_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client		 c;
	msgpack_object		 res;
	const msgpack_object	*a;
	int			 rc = CMD_ERROR;

	if (cmd_json_only(ctx, argc, argv) == -1)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (client_call(&c, PROTO_OP_SESSIONS, &res) == CLIENT_RESULT) {
		a = proto_get(&res, "sessions");
		if (a != NULL && a->type != MSGPACK_OBJECT_ARRAY)
			a = NULL;
		if (ctx->json) {
			json_write(stdout, &res);
			putchar('\n');
		} else
			text_sessions(stdout, a, ctx->color);
		rc = CMD_OK;
	}
	client_close(&c);
	return (rc);
}
