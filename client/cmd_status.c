/*
 * cmd_status.c: "htracrctl status": capture state, interface, ports,
 * who started it, counters and connected clients. Runs in htracrctl
 * with the invoking user's privileges.
 */
#include <getopt.h>
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
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	msgpack_object	 res;
	int		 ch, rc = CMD_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (cmd_usage(ctx->entry));
		ctx->json = 1;
	}
	if (optind != argc)
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
