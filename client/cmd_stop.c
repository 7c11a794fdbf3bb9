/*
 * cmd_stop.c: "htracrctl stop [--dump FILE]": ends the running capture
 * and can write its kept frames to a pcap file. Runs in htracrctl with
 * the invoking user's privileges; the file is created before the
 * capture is stopped, so a refused file name loses nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "outfile.h"
#include "proto.h"
#include "text.h"

static int	 cmd_stop_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_stop_entry = {
	"stop", "[--dump FILE] [--force] [--json]", CMD_JSON, cmd_stop_exec
};

/* Stops, prints the summary; the stopped session's id, 0 on failure. */
static uint64_t
cmd_stop_send(struct cmd_ctx *ctx, struct client *c, FILE *fp)
{
	msgpack_object		 res;
	const msgpack_object	*s;
	uint64_t		 session = 0;

	if (client_call(c, PROTO_OP_STOP, &res) != CLIENT_RESULT)
		return (0);
	s = proto_get(&res, "session");
	if (s == NULL || proto_get_u64(s, "id", &session) == -1) {
		log_warnx("htracrd stopped but sent no session summary");
		return (0);
	}
	if (ctx->json) {
		json_write(fp, &res);
		fputc('\n', fp);
	} else {
		fprintf(fp, "stopped: ");
		text_session_line(fp, s);
	}
	fflush(fp);
	return (session);
}

static int
cmd_stop_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "dump", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_format	*pcap = cmd_dump_find("pcap");
	struct render_opts	 ro;
	struct outfile		 of;
	struct client		 c;
	const char		*path = NULL;
	uint64_t		 session;
	int			 ch, force = 0, ok;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			path = optarg;
			break;
		case 'F':
			force = 1;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (optind != argc)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (path != NULL && outfile_open(&of, path, force, 1) == -1) {
		client_close(&c);
		return (CMD_ERROR);
	}
	/* With the dump on stdout, the summary goes to stderr. */
	session = cmd_stop_send(ctx, &c, path != NULL && strcmp(path, "-") ==
	    0 ? stderr : stdout);
	ok = session != 0;
	if (path != NULL) {
		memset(&ro, 0, sizeof(ro));
		if (ok)
			ok = cmd_dump_write(&c, pcap, session, of.fp, &ro) == 0;
		if (outfile_close(&of, ok) == -1)
			ok = 0;
		if (ok && strcmp(path, "-") != 0 && !ctx->json)
			printf("frames written to %s\n", path);
	}
	client_close(&c);
	return (ok ? CMD_OK : CMD_ERROR);
}
