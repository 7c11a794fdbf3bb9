/*
 * cmd_show.c: "htracrctl show [SESSION]": a session's servers,
 * connections and transactions for people, or one JSON document with
 * --json. Runs in htracrctl with the invoking user's privileges.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cmd.h"

static int	 cmd_show_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_show_entry = {
	"show", "[SESSION] [--packets] [--json]", CMD_JSON, cmd_show_exec
};

static int
cmd_show_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "packets", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_format	*fmt;
	struct render_opts	 ro;
	struct client		 c;
	uint64_t		 session = 0;
	int			 ch, rc;

	memset(&ro, 0, sizeof(ro));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			ro.packets = 1;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (argc - optind > 1 || (argc - optind == 1 &&
	    cmd_parse_session(argv[optind], &session) == -1))
		return (cmd_usage(ctx->entry));
	fmt = cmd_dump_find(ctx->json ? "json" : "text");
	ro.color = ctx->color;
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	rc = cmd_dump_write(&c, fmt, session, stdout, &ro);
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
