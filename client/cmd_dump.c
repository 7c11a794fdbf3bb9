/*
 * cmd_dump.c: "htracrctl dump": writes a kept session as a pcap or
 * pcapng file (its raw frames; a pcapng file may carry the session's
 * TLS keys) or through a renderer of the session document (json, text,
 * and whatever the format table below lists). Runs in htracrctl with
 * the invoking user's privileges: it opens the output file itself, as
 * the user.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "doc.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "otlp.h"
#include "outfile.h"
#include "pcapfile.h"
#include "proto.h"
#include "render.h"
#include "text.h"

static int	 cmd_dump_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_dump_entry = {
	"dump", "[--format FORMAT] [-o FILE] [--force] [--packets] "
	"[--with-keys] [SESSION]", 0, cmd_dump_exec
};

static int	 cmd_dump_json(FILE *, struct client *, uint64_t,
		    const struct render_opts *);
static int	 cmd_dump_text(FILE *, struct client *, uint64_t,
		    const struct render_opts *);
static int	 cmd_dump_ndjson(FILE *, struct client *, uint64_t,
		    const struct render_opts *);
static int	 cmd_dump_otlp(FILE *, struct client *, uint64_t,
		    const struct render_opts *);
static int	 cmd_dump_html(FILE *, struct client *, uint64_t,
		    const struct render_opts *);
static int	 cmd_dump_har(FILE *, struct client *, uint64_t,
		    const struct render_opts *);

/* Every output format; a renderer is one line here. */
static const struct cmd_format	cmd_dump_formats[] = {
	{ "pcap", 1, 0, NULL, NULL, NULL },
	{ "pcapng", 1, 0, NULL, NULL, NULL },
	{ "json", 0, 1, json_render, NULL, cmd_dump_json },
	{ "ndjson", 0, 1, ndjson_render, NULL, cmd_dump_ndjson },
	{ "otlp", 0, 1, otlp_render, NULL, cmd_dump_otlp },
	{ "text", 0, 0, NULL, text_render, cmd_dump_text },
	{ "har", 0, 1, NULL, NULL, cmd_dump_har },
	{ "html", 0, 1, NULL, NULL, cmd_dump_html },
};
#define CMD_DUMP_NFORMATS \
	(sizeof(cmd_dump_formats) / sizeof(cmd_dump_formats[0]))

const struct cmd_format *
cmd_dump_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < CMD_DUMP_NFORMATS; i++)
		if (strcmp(cmd_dump_formats[i].name, name) == 0)
			return (&cmd_dump_formats[i]);
	log_warnx("unknown format '%s'; formats: %s", name, cmd_dump_names());
	return (NULL);
}

const char *
cmd_dump_names(void)
{
	static char	 buf[256];
	size_t		 i, off = 0;

	for (i = 0; i < CMD_DUMP_NFORMATS && off < sizeof(buf); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i ? ", " : "", cmd_dump_formats[i].name);
	return (buf);
}

/* The frames op wants an id: 0 becomes the newest kept session. */
static int
cmd_dump_newest(struct client *c, uint64_t *session)
{
	msgpack_object		 res;
	const msgpack_object	*a;

	if (client_call(c, PROTO_OP_SESSIONS, &res) != CLIENT_RESULT)
		return (-1);
	a = proto_get(&res, "sessions");
	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.size == 0) {
		log_warnx("htracrd keeps no sessions");
		return (-1);
	}
	if (proto_get_u64(&a->via.array.ptr[a->via.array.size - 1], "id",
	    session) == -1) {
		log_warnx("htracrd sent a session without an id");
		return (-1);
	}
	return (0);
}

/* What a frames dump writes: pcap, or pcapng with the keys (if any). */
struct cmd_dump_out {
	struct pcapfile_out	 po;
	int			 ng;
	u_char			*keys;
	size_t			 keylen;
};

/* One streamed item: the pcap header item or a frames blob. */
static int
cmd_dump_item(struct cmd_dump_out *out, FILE *fp, const msgpack_object *o)
{
	struct pcapfile_out	*po = &out->po;
	uint64_t		 linktype = 0, snaplen = 0;
	uint32_t		 snap;

	if (o->type == MSGPACK_OBJECT_MAP && !po->open) {
		if (proto_get_u64(o, "linktype", &linktype) == -1 ||
		    linktype > INT32_MAX) {
			log_warnx("htracrd sent no link type for the frames");
			return (-1);
		}
		(void)proto_get_u64(o, "snaplen", &snaplen);
		snap = (uint32_t)(snaplen > UINT32_MAX ? 0 : snaplen);
		if (out->ng)
			return (pcapfile_out_open_ng(po, fp, (int)linktype,
			    snap, out->keys, out->keylen));
		return (pcapfile_out_open(po, fp, (int)linktype, snap));
	}
	if (o->type != MSGPACK_OBJECT_BIN || !po->open ||
	    pcapfile_out_blob(po, o->via.bin.ptr, o->via.bin.size) == -1) {
		log_warnx("htracrd sent a malformed frames stream");
		return (-1);
	}
	return (0);
}

/*
 * The session's TLS key log (keylog, op 105), copied out of the reply;
 * the daemon gives it to the session's owner and root only.
 */
static int
cmd_dump_keys(struct client *c, uint64_t session, struct cmd_dump_out *out)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	const char	*keys;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_KEYLOG, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	if (client_send(c, &sb, NULL, 0) == -1 ||
	    client_read(c, id, NULL, &res) != CLIENT_RESULT)
		return (-1);
	if (proto_get_bin(&res, "keylog", &keys, &out->keylen) == -1) {
		log_warnx("htracrd sent no key log");
		return (-1);
	}
	if (out->keylen == 0)
		log_warnx("session %llu has no TLS keys: the file carries "
		    "none", (unsigned long long)session);
	out->keys = malloc(out->keylen + 1);
	if (out->keys == NULL) {
		log_warn("key log of %zu bytes", out->keylen);
		return (-1);
	}
	memcpy(out->keys, keys, out->keylen);
	return (0);
}

static int
cmd_dump_frames(struct client *c, uint64_t session, FILE *fp, int ng,
    int with_keys)
{
	struct cmd_dump_out	 out;
	struct pcapfile_out	*po = &out.po;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_object		 val;
	uint64_t		 id;
	uint32_t		 i;
	int			 rc;

	if (session == 0 && cmd_dump_newest(c, &session) == -1)
		return (-1);
	memset(&out, 0, sizeof(out));
	out.ng = ng;
	if (with_keys && cmd_dump_keys(c, session, &out) == -1)
		return (-1);
	id = client_begin(c, &sb, &pk, PROTO_OP_FRAMES, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	if (client_send(c, &sb, NULL, 0) == -1)
		rc = CLIENT_FAIL;
	else {
		while ((rc = client_read(c, id, NULL, &val)) == CLIENT_CHUNK)
			for (i = 0; i < val.via.array.size; i++)
				if (cmd_dump_item(&out, fp,
				    &val.via.array.ptr[i]) == -1)
					rc = CLIENT_FAIL;
	}
	if (out.keys != NULL) {
		explicit_bzero(out.keys, out.keylen);
		free(out.keys);
	}
	if (rc == CLIENT_END && !po->open) {
		log_warnx("htracrd ended the frames stream without a header");
		rc = CLIENT_FAIL;
	} else if (rc == CLIENT_END && val.via.u64 != po->frames) {
		log_warnx("htracrd announced %llu frames but sent %llu",
		    (unsigned long long)val.via.u64,
		    (unsigned long long)po->frames);
		rc = CLIENT_FAIL;
	}
	if (pcapfile_out_close(po) == -1 && rc == CLIENT_END)
		rc = CLIENT_FAIL;
	return (rc == CLIENT_END ? 0 : -1);
}

/*
 * JSON and text for people are written as the detail streams in: a
 * session of tens of thousands of transactions is never held at once.
 */
static int
cmd_dump_json(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct json_stream	*j = json_stream_new(fp);
	int			 rc;

	rc = doc_stream_raw(c, session, ro->packets ? DOC_PACKETS : 0,
	    json_stream_raw, j);
	if (json_stream_free(j) == -1)
		rc = -1;
	return (rc);
}

static int
cmd_dump_text(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct text_stream	*t = text_stream_new(fp, ro);
	int			 rc;

	/* Only the fields the summary prints need travel. */
	rc = doc_stream(c, session, (ro->packets ? DOC_PACKETS : 0) |
	    DOC_NO_HEADERS | DOC_BRIEF, text_stream_item, t);
	if (text_stream_free(t) == -1)
		rc = -1;
	return (rc);
}

/* Lines are written as the transactions arrive; connections are kept. */
static int
cmd_dump_ndjson(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct ndjson	*n = ndjson_new(fp, 0);
	int		 rc;

	rc = doc_stream(c, session, ro->packets ? DOC_PACKETS : 0,
	    ndjson_item, n);
	if (ndjson_free(n) == -1)
		rc = -1;
	return (rc);
}

/* One OTLP request body; only the connections' ids are kept. */
static int
cmd_dump_otlp(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct otlp	*o = otlp_new(fp);
	int		 rc;

	rc = doc_stream(c, session, 0, otlp_item, o);
	if (otlp_free(o) == -1)
		rc = -1;
	return (rc);
}

/*
 * The page as the detail streams in: the document is written item by
 * item and only what its explanations read is kept for them.
 */
static int
cmd_dump_html(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct render_html	*h = render_html_new(fp);
	int			 rc;

	rc = doc_stream(c, session, ro->packets ? DOC_PACKETS : 0,
	    render_html_item, h);
	return (render_html_end(h, rc == 0));
}

/* Entries are written as their transactions arrive (render_har.c). */
static int
cmd_dump_har(FILE *fp, struct client *c, uint64_t session,
    const struct render_opts *ro)
{
	struct render_har	*h = render_har_new(fp);
	int			 rc;

	rc = doc_stream(c, session, ro->packets ? DOC_PACKETS : 0,
	    render_har_item, h);
	return (render_har_end(h, rc == 0));
}

int
cmd_dump_write(struct client *c, const struct cmd_format *fmt,
    uint64_t session, FILE *fp, const struct render_opts *ro)
{
	struct doc	 d;
	int		 rc;

	if (fmt->stream != NULL)
		return (fmt->stream(fp, c, session, ro));
	if (fmt->doc == NULL && fmt->doc_opts == NULL)
		return (cmd_dump_frames(c, session, fp,
		    strcmp(fmt->name, "pcapng") == 0, ro->with_keys));
	if (doc_fetch(&d, c, session, ro->packets ? DOC_PACKETS : 0) == -1)
		return (-1);
	if (fmt->doc != NULL)
		rc = fmt->doc(fp, &d);
	else
		rc = fmt->doc_opts(fp, &d, ro);
	doc_free(&d);
	return (rc);
}

static int
cmd_dump_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "packets", no_argument, NULL, 'p' },
		{ "with-keys", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_format	*fmt = &cmd_dump_formats[0];
	struct render_opts	 ro;
	struct outfile		 of;
	struct client		 c;
	const char		*path = NULL;
	uint64_t		 session = 0;
	int			 ch, force = 0, ok;

	memset(&ro, 0, sizeof(ro));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if ((fmt = cmd_dump_find(optarg)) == NULL)
				return (CMD_USAGE);
			break;
		case 'o':
			path = optarg;
			break;
		case 'F':
			force = 1;
			break;
		case 'p':
			ro.packets = 1;
			break;
		case 'k':
			ro.with_keys = 1;
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (ro.with_keys && strcmp(fmt->name, "pcapng") != 0) {
		log_warnx("--with-keys writes the keys into a pcapng file: "
		    "add --format pcapng");
		return (CMD_USAGE);
	}
	if (argc - optind > 1 || (argc - optind == 1 &&
	    cmd_parse_session(argv[optind], &session) == -1))
		return (cmd_usage(ctx->entry));
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (outfile_open(&of, path, force, fmt->binary) == -1) {
		client_close(&c);
		return (CMD_ERROR);
	}
	ro.color = ctx->color && (path == NULL || strcmp(path, "-") == 0);
	ok = cmd_dump_write(&c, fmt, session, of.fp, &ro) == 0;
	if (outfile_close(&of, ok) == -1)
		ok = 0;
	client_close(&c);
	return (ok ? CMD_OK : CMD_ERROR);
}
