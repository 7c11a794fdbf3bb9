/*
 * cmd_diff.c: "htracrctl diff SESSION_A SESSION_B": what changed from
 * one session to the other, per host and per URL (diff.h). Runs in
 * htracrctl with the invoking user's privileges.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "diff.h"
#include "doc.h"
#include "log.h"

static int	 cmd_diff_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_diff_entry = {
	"diff", "SESSION_A SESSION_B [--query keep|sort|drop] [--json]",
	CMD_JSON, cmd_diff_exec
};

static int
cmd_diff_query(const char *arg, enum diff_query *q)
{
	if (strcmp(arg, "keep") == 0)
		*q = DIFF_QUERY_KEEP;
	else if (strcmp(arg, "sort") == 0)
		*q = DIFF_QUERY_SORT;
	else if (strcmp(arg, "drop") == 0)
		*q = DIFF_QUERY_DROP;
	else {
		log_warnx("bad query '%s': keep, sort or drop", arg);
		return (-1);
	}
	return (0);
}

static int
cmd_diff_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "query", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	enum diff_query	 q = DIFF_QUERY_KEEP;
	struct client	 c;
	struct doc	 a, b;
	uint64_t	 sa, sb;
	int		 ch, rc = -1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (cmd_diff_query(optarg, &q) == -1)
				return (CMD_USAGE);
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (argc - optind != 2 ||
	    cmd_parse_session(argv[optind], &sa) == -1 ||
	    cmd_parse_session(argv[optind + 1], &sb) == -1)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (doc_fetch(&a, &c, sa, 0) == 0) {
		if (doc_fetch(&b, &c, sb, 0) == 0) {
			rc = ctx->json ? diff_json(stdout, &a, &b, q) :
			    diff_print(stdout, &a, &b, q, ctx->color);
			doc_free(&b);
		}
		doc_free(&a);
	}
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
