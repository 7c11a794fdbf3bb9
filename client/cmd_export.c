/*
 * cmd_export.c: "htracrctl export --otlp URL [SESSION]": sends a kept
 * session's traces (otlp.h) to an OpenTelemetry collector's OTLP/HTTP
 * receiver, in batches of bounded size, each one POST of OTLP/JSON.
 * The client sends them, never the daemon: the daemon opens no
 * sockets. Runs in htracrctl with the invoking user's privileges; the
 * collector's replies are escaped before they are printed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "doc.h"
#include "esc.h"
#include "httppost.h"
#include "log.h"
#include "otlp.h"

static int	 cmd_export_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_export_entry = {
	"export", "--otlp URL [--batch SPANS] [SESSION]", 0, cmd_export_exec
};

/* A batch closes at this many spans (--batch) or this many bytes. */
#define EXPORT_BATCH_SPANS	512
#define EXPORT_BATCH_MAX	100000
#define EXPORT_BATCH_BYTES	(1024 * 1024)

struct cmd_export {
	struct httppost_url	 url;
	const char		*text;		/* the URL as given */
	uint64_t		 requests;
	uint64_t		 sent;		/* spans accepted */
	uint64_t		 rejected;	/* spans refused in a 2xx */
};

/*
 * A 2xx reply may still refuse some spans: OTLP's partialSuccess with
 * a rejectedSpans count. That count, or 0.
 */
static unsigned long long
cmd_export_rejected(const struct httppost_reply *r)
{
	const char		*p, *end = r->body + r->bodylen;
	unsigned long long	 n = 0;

	p = memmem(r->body, r->bodylen, "\"rejectedSpans\"", 15);
	if (p == NULL)
		return (0);
	for (p += 15; p < end && strchr(" \t\r\n:\"", *p) != NULL; p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && n < UINT32_MAX; p++)
		n = n * 10 + (unsigned long long)(*p - '0');
	return (n);
}

/* One batch: otlp's emit callback. */
static int
cmd_export_post(void *arg, const char *body, size_t len, size_t nspans)
{
	struct cmd_export	*e = arg;
	struct httppost_reply	 r;
	unsigned long long	 rej;
	char			 reason[128], text[512];

	if (httppost_send(&e->url, "application/json", body, len, &r) == -1)
		return (-1);
	esc_buf(reason, sizeof(reason), r.reason, strlen(r.reason));
	esc_buf(text, sizeof(text), r.body, r.bodylen);
	if (r.status < 200 || r.status > 299) {
		log_warnx("the collector at %s answered %d %s: %s",
		    e->url.authority, r.status, reason, text);
		return (-1);
	}
	e->requests++;
	if ((rej = cmd_export_rejected(&r)) > 0) {
		log_warnx("the collector at %s rejected %llu of %zu spans: %s",
		    e->url.authority, rej, nspans, text);
		e->rejected += rej < nspans ? rej : nspans;
	}
	e->sent += nspans - (rej < nspans ? rej : nspans);
	return (0);
}

static int
cmd_export_batch(const char *arg, size_t *n)
{
	char		*end;
	unsigned long	 v;

	v = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 1 || v > EXPORT_BATCH_MAX) {
		log_warnx("bad batch '%s': 1 to %d spans", arg,
		    EXPORT_BATCH_MAX);
		return (-1);
	}
	*n = v;
	return (0);
}

/* Streams the session through the OTLP writer, a POST per batch. */
static int
cmd_export_run(struct client *c, uint64_t session, size_t batch,
    struct cmd_export *e)
{
	struct otlp	*o;
	int		 rc;

	o = otlp_new_batched(batch, EXPORT_BATCH_BYTES, cmd_export_post, e);
	rc = doc_stream(c, session, 0, otlp_item, o);
	if (otlp_free(o) == -1)
		rc = -1;
	if (rc == -1 && e->requests > 0)
		log_warnx("%" PRIu64 " spans had been sent in %" PRIu64
		    " requests before that", e->sent, e->requests);
	else if (rc == 0)
		printf("sent %" PRIu64 " spans in %" PRIu64 " requests to %s\n",
		    e->sent, e->requests, e->text);
	return (rc == 0 && e->rejected == 0 ? 0 : -1);
}

static int
cmd_export_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "otlp", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_export	 e;
	struct client		 c;
	const char		*url = NULL;
	uint64_t		 session = 0;
	size_t			 batch = EXPORT_BATCH_SPANS;
	int			 ch, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			url = optarg;
			break;
		case 'b':
			if (cmd_export_batch(optarg, &batch) == -1)
				return (CMD_USAGE);
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (url == NULL || argc - optind > 1 || (argc - optind == 1 &&
	    cmd_parse_session(argv[optind], &session) == -1))
		return (cmd_usage(ctx->entry));
	memset(&e, 0, sizeof(e));
	e.text = url;
	if (httppost_parse(&e.url, url, "/v1/traces") == -1)
		return (CMD_USAGE);
	if (cmd_connect(ctx, &c) == -1) {
		httppost_url_free(&e.url);
		return (CMD_ERROR);
	}
	rc = cmd_export_run(&c, session, batch, &e);
	client_close(&c);
	httppost_url_free(&e.url);
	return (rc == 0 ? CMD_OK : CMD_ERROR);
}
