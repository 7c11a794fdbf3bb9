/*
 * cmd_load.c: "htracrctl load FILE": reads a pcap or pcapng file
 * (pcapfile.c) and streams its frames to the daemon as a new session. Runs
 * in htracrctl with the invoking user's privileges: the file is opened
 * here, as the user, never by the daemon.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "esc.h"
#include "json.h"
#include "keyfile.h"
#include "log.h"
#include "pcapfile.h"
#include "proto.h"
#include "text.h"
#include "xmalloc.h"

static int	 cmd_load_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_load_entry = {
	"load", "FILE [--ports 80,8080] [--keylog KEYS] [--json]", CMD_JSON,
	cmd_load_exec
};

/* Whether the file itself goes to the daemon, which reads it. */
static int
cmd_load_handed(const struct pcapfile *pf, int keep)
{
	return ((keep & CMD_LOAD_HANDED) && pf->split);
}

static uint64_t
cmd_load_begin(struct client *c, struct pcapfile *pf, const char *source,
    const uint16_t *ports, size_t nports, int keep)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	uint64_t	 id, session;
	int		 hand = cmd_load_handed(pf, keep);

	id = client_begin(c, &sb, &pk, PROTO_OP_LOAD_BEGIN,
	    8 + (nports > 0) + (pf->split != 0) + 3 * hand);
	proto_pack_key(&pk, "linktype");
	msgpack_pack_int(&pk, pf->linktype);
	proto_pack_key(&pk, "snaplen");
	msgpack_pack_uint32(&pk, pf->snaplen);
	proto_pack_key(&pk, "source");
	proto_pack_strn(&pk, source, strnlen(source, PROTO_MAX_STRING));
	proto_pack_key(&pk, "format");
	proto_pack_str(&pk, proto_format_name(pf->format));
	/* What only a later dump or show --txn reads back. */
	proto_pack_key(&pk, "frames");
	proto_pack_bool(&pk, keep & CMD_KEEP_FRAMES);
	proto_pack_key(&pk, "bodies");
	proto_pack_bool(&pk, keep & CMD_KEEP_FRAMES);
	proto_pack_key(&pk, "packets");
	proto_pack_bool(&pk, keep & CMD_KEEP_PACKETS);
	proto_pack_key(&pk, "headers");
	proto_pack_bool(&pk, keep & CMD_KEEP_HEADERS);
	if (nports > 0)
		cmd_pack_ports(&pk, ports, nports);
	if (pf->split) {
		proto_pack_key(&pk, "split");
		proto_pack_bool(&pk, 1);
	}
	if (hand) {
		/* The daemon reads the records where they lie. */
		proto_pack_key(&pk, "file");
		proto_pack_bool(&pk, 1);
		proto_pack_key(&pk, "offset");
		msgpack_pack_uint64(&pk, (uint64_t)pf->off);
		proto_pack_key(&pk, "length");
		msgpack_pack_uint64(&pk, (uint64_t)(pf->size - pf->off));
	}
	if ((hand ? client_send_fd(c, &sb, pcapfile_fd(pf)) :
	    client_send(c, &sb, NULL, 0)) == -1 ||
	    client_read(c, id, NULL, &res) != CLIENT_RESULT)
		return (0);
	if (proto_get_u64(&res, "session", &session) == -1 || session == 0) {
		log_warnx("htracrd did not name the new session");
		return (0);
	}
	return (session);
}

/*
 * One load_frames message per batch: the bin header is packed, the
 * blob itself goes out with writev, or from the file with sendfile,
 * never copied again.
 */
static int
cmd_load_frames(struct client *c, struct pcapfile *pf,
    const struct pcapfile_blob *b)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	int		 rc;

	(void)client_begin(c, &sb, &pk, PROTO_OP_LOAD_FRAMES, 1);
	proto_pack_key(&pk, "frames");
	msgpack_pack_bin(&pk, b->len);
	if (b->data != NULL)
		rc = client_send(c, &sb, b->data, b->len);
	else
		rc = client_send_file(c, &sb, pcapfile_fd(pf), b->off, b->len);
	if (rc == -1)
		return (-1);
	/* No reply unless it failed: look without waiting. */
	return (client_poll_error(c));
}

/*
 * Split blobs: the daemon found where the file was damaged and took
 * the frames before it, as the client's own reading would have.
 */
static void
cmd_load_cut(const struct pcapfile *pf, const msgpack_object *res)
{
	const char	*why;
	char		 text[256];
	size_t		 len;
	uint64_t	 frames = 0;

	if (proto_get_str(res, "cut", &why, &len) == -1)
		return;
	(void)proto_get_u64(res, "cut_frames", &frames);
	esc_buf(text, sizeof(text), why, len);
	log_warnx("%s: unreadable after frame %llu (%s); using the frames "
	    "before it", pf->path, (unsigned long long)frames, text);
}

int
cmd_load_stream(struct client *c, struct pcapfile *pf, const char *source,
    const uint16_t *ports, size_t nports, int keep, struct keyfile *kf,
    msgpack_object *summary)
{
	msgpack_object		 res;
	const msgpack_object	*s;
	struct pcapfile_blob	 b;
	uint64_t		 session;
	int			 hand = cmd_load_handed(pf, keep);
	int			 rc, timeout = c->timeout_ms;

	if ((session = cmd_load_begin(c, pf, source, ports, nports,
	    keep)) == 0)
		return (-1);
	/* Keys first: each TLS connection is decrypted as it goes by. */
	if (kf != NULL) {
		if (keyfile_send(c, kf, session, 1, &res) == -1)
			return (-1);
		keyfile_report(kf, &res);
	}
	while (!hand && pcapfile_next(pf, &b))
		if (cmd_load_frames(c, pf, &b) == -1)
			return (-1);
	if (pf->clipped > 0)
		log_warnx("%llu frames longer than %zu bytes were cut",
		    (unsigned long long)pf->clipped,
		    (size_t)(PROTO_FRAMES_BATCH - sizeof(struct proto_frame)));
	/*
	 * A daemon reading the file answers once it is read, however long
	 * that takes: its own (the one handed files) dies with us.
	 */
	if (hand)
		c->timeout_ms = -1;
	rc = client_call(c, PROTO_OP_LOAD_END, &res);
	c->timeout_ms = timeout;
	if (rc != CLIENT_RESULT)
		return (-1);
	cmd_load_cut(pf, &res);
	if ((s = proto_get(&res, "session")) == NULL ||
	    s->type != MSGPACK_OBJECT_MAP) {
		log_warnx("htracrd sent no session summary after the load");
		return (-1);
	}
	*summary = *s;
	return (0);
}

static int
cmd_load_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	struct pcapfile	 pf;
	struct keyfile	 kf;
	const char	*keylog = NULL;
	msgpack_object	 summary;
	uint16_t	 ports[PROTO_MAX_PORTS];
	size_t		 nports = 0;
	char		*path, *copy;
	int		 ch, rc = CMD_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (cmd_parse_ports(optarg, ports, &nports) == -1)
				return (CMD_USAGE);
			break;
		case 'k':
			keylog = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (argc - optind != 1)
		return (cmd_usage(ctx->entry));
	path = argv[optind];
	kf.fd = -1;
	if (keylog != NULL && keyfile_open(&kf, keylog) == -1)
		return (CMD_ERROR);
	if (pcapfile_open(&pf, path) == -1) {
		keyfile_close(&kf);
		return (CMD_ERROR);
	}
	if (cmd_connect(ctx, &c) == -1) {
		pcapfile_close(&pf);
		keyfile_close(&kf);
		return (CMD_ERROR);
	}
	copy = xstrdup(path);
	if (cmd_load_stream(&c, &pf, basename(copy), ports,
	    nports, CMD_KEEP_FRAMES | CMD_KEEP_PACKETS | CMD_KEEP_HEADERS,
	    keylog != NULL ? &kf : NULL, &summary) == 0) {
		if (ctx->json) {
			json_write(stdout, &summary);
			putchar('\n');
		} else
			text_session_line(stdout, &summary);
		rc = CMD_OK;
	}
	free(copy);
	pcapfile_close(&pf);
	keyfile_close(&kf);
	client_close(&c);
	return (rc);
}
