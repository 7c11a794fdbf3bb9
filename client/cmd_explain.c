/*
 * cmd_explain.c: "htracrctl explain [TXN | --slowest N | --all]
 * [SESSION]": why each transaction took as long as it did, its time cut
 * into named causes that add up to it (explain.h), a verdict per
 * transaction and one for the session. Runs in htracrctl with the
 * invoking user's privileges.
 */
#include <errno.h>
#include <getopt.h>
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
#include "xmalloc.h"

static int	 cmd_explain_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_explain_entry = {
	"explain", "[TXN | --slowest N | --all] [SESSION] [--json]", CMD_JSON,
	cmd_explain_exec
};

struct ex_rank {
	uint64_t	 id;
	int64_t		 total;
};

static int
ex_rank_cmp(const void *a, const void *b)
{
	const struct ex_rank	*x = a, *y = b;

	if (x->total != y->total)
		return (x->total > y->total ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* Every transaction in id order, or the slowest n (n 0: all). Caller frees. */
static uint64_t *
ex_pick(const struct doc *d, size_t slowest, size_t *n)
{
	struct ex_rank		*r;
	struct explain		 e;
	const msgpack_object	*t;
	uint64_t		*ids;
	uint32_t		 i, m = render_count(d->transactions);

	r = xreallocarray(NULL, m + 1, sizeof(*r));
	for (i = 0; i < m; i++) {
		t = &d->transactions->via.array.ptr[i];
		r[i].id = (uint64_t)render_int(t, "id", 0);
		r[i].total = -1;
		if (slowest > 0) {
			explain_txn(d, t, &e);
			r[i].total = e.ok ? e.total_us : -1;
		}
	}
	if (slowest > 0)
		qsort(r, m, sizeof(*r), ex_rank_cmp);
	*n = slowest > 0 && slowest < m ? slowest : m;
	ids = xreallocarray(NULL, *n + 1, sizeof(*ids));
	for (i = 0; i < *n; i++)
		ids[i] = r[i].id;
	free(r);
	return (ids);
}

static int
ex_number(const char *arg, const char *what, uint64_t *v)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *arg == '-' ||
	    n == 0 || n > UINT32_MAX) {
		log_warnx("bad %s '%s': a number from 1", what, arg);
		return (-1);
	}
	*v = n;
	return (0);
}

struct ex_args {
	uint64_t	 txn;
	uint64_t	 session;
	uint64_t	 slowest;
	int		 all;
};

static int
ex_options(struct cmd_ctx *ctx, struct ex_args *a, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "slowest", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, npos;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (ex_number(optarg, "count", &a->slowest) == -1)
				return (-1);
			break;
		case 'a':
			a->all = 1;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return (-1);
		}
	}
	npos = argc - optind;
	if (a->slowest > 0 || a->all) {
		if (npos > 1 || (a->slowest > 0 && a->all))
			return (-1);
		return (npos == 1 ? cmd_parse_session(argv[optind],
		    &a->session) : 0);
	}
	if (npos > 2)
		return (-1);
	if (npos >= 1 && ex_number(argv[optind], "transaction", &a->txn) == -1)
		return (-1);
	if (npos == 2 && cmd_parse_session(argv[optind + 1], &a->session) == -1)
		return (-1);
	return (0);
}

static int
ex_run(struct cmd_ctx *ctx, const struct ex_args *a, const struct doc *d)
{
	uint64_t	*ids;
	size_t		 n;
	int		 rc;

	if (a->txn != 0) {
		if (doc_txn(d, a->txn) == NULL) {
			log_warnx("no transaction %llu in this session",
			    (unsigned long long)a->txn);
			return (-1);
		}
		ids = xreallocarray(NULL, 1, sizeof(*ids));
		ids[0] = a->txn;
		n = 1;
	} else
		ids = ex_pick(d, (size_t)a->slowest, &n);
	if (ctx->json)
		rc = explain_json(stdout, d, ids, n);
	else
		rc = explain_print(stdout, d, ids, n, ctx->color);
	free(ids);
	return (rc);
}

static int
cmd_explain_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct ex_args	 a;
	struct client	 c;
	struct doc	 d;
	int		 rc;

	memset(&a, 0, sizeof(a));
	if (ex_options(ctx, &a, argc, argv) == -1)
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	/*
	 * The data and ACK pattern is in the packet records. One
	 * transaction needs only its close-up.
	 */
	if ((rc = doc_fetch_closeup(&d, &c, a.session, DOC_PACKETS, a.txn,
	    0)) == 0) {
		if (!render_bool(d.session, "packets_kept"))
			log_warnx("this session kept no packet records: "
			    "responses are not broken down");
		rc = ex_run(ctx, &a, &d);
		doc_free(&d);
	}
	client_close(&c);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
