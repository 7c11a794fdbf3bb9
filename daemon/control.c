/*
 * control.c: the analyzer's request table. Every client request is
 * checked at the door (hello first, known op, typed fields) before its
 * handler runs; capture requests become fixed-form commands to the
 * capture process and are answered when it replies. Runs in the
 * analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "analyzer.h"
#include "esc.h"
#include "log.h"
#include "xmalloc.h"

enum control_type {
	CF_UINT,
	CF_INT,
	CF_BOOL,
	CF_STR,
	CF_BIN,
	CF_ARRAY,
};

struct control_field {
	const char		*key;
	enum control_type	 type;
	int			 required;
};

#define CTL_CAPTURE	0x1	/* needs the capture process */
#define CTL_STREAM	0x2	/* answers with a stream: one per client */

struct control_entry {
	int				 op;
	int				 flags;
	const struct control_field	*fields;
	void				(*exec)(struct client *, uint64_t,
					    const msgpack_object *);
};

static const struct control_field control_f_hello[] = {
	{ "version", CF_UINT, 1 }, { "client", CF_STR, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_none[] = { { NULL, 0, 0 } };
static const struct control_field control_f_detail[] = {
	{ "session", CF_UINT, 0 }, { "packets", CF_BOOL, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_session[] = {
	{ "session", CF_UINT, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_body[] = {
	{ "session", CF_UINT, 0 }, { "txn", CF_UINT, 1 },
	{ "which", CF_STR, 1 }, { NULL, 0, 0 } };
static const struct control_field control_f_load_begin[] = {
	{ "linktype", CF_INT, 1 }, { "snaplen", CF_UINT, 1 },
	{ "source", CF_STR, 0 }, { "ports", CF_ARRAY, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_load_frames[] = {
	{ "frames", CF_BIN, 1 }, { NULL, 0, 0 } };
static const struct control_field control_f_start[] = {
	{ "interface", CF_STR, 0 }, { "ports", CF_ARRAY, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_ports[] = {
	{ "ports", CF_ARRAY, 1 }, { NULL, 0, 0 } };

static void	control_hello(struct client *, uint64_t, const msgpack_object *);
static void	control_sessions(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_detail(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_frames(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_body(struct client *, uint64_t, const msgpack_object *);
static void	control_load_begin(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_load_frames(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_load_end(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_start(struct client *, uint64_t, const msgpack_object *);
static void	control_stop(struct client *, uint64_t, const msgpack_object *);
static void	control_ports(struct client *, uint64_t, const msgpack_object *);
static void	control_status(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_watch(struct client *, uint64_t, const msgpack_object *);

static const struct control_entry control_table[] = {
	{ PROTO_OP_HELLO, 0, control_f_hello, control_hello },
	{ PROTO_OP_SESSIONS, 0, control_f_none, control_sessions },
	{ PROTO_OP_DETAIL, CTL_STREAM, control_f_detail, control_detail },
	{ PROTO_OP_FRAMES, CTL_STREAM, control_f_session, control_frames },
	{ PROTO_OP_BODY, 0, control_f_body, control_body },
	{ PROTO_OP_LOAD_BEGIN, 0, control_f_load_begin, control_load_begin },
	{ PROTO_OP_LOAD_FRAMES, 0, control_f_load_frames,
	    control_load_frames },
	{ PROTO_OP_LOAD_END, 0, control_f_none, control_load_end },
	{ PROTO_OP_START, CTL_CAPTURE, control_f_start, control_start },
	{ PROTO_OP_STOP, CTL_CAPTURE, control_f_none, control_stop },
	{ PROTO_OP_PORTS, CTL_CAPTURE, control_f_ports, control_ports },
	{ PROTO_OP_STATUS, 0, control_f_none, control_status },
	{ PROTO_OP_WATCH, CTL_CAPTURE | CTL_STREAM, control_f_none,
	    control_watch },
};

static const char *const control_type_names[] = {
	"an unsigned integer", "an integer", "a boolean", "a string",
	"binary", "an array",
};

static int
control_typed(const msgpack_object *o, enum control_type t)
{
	switch (t) {
	case CF_UINT:
		return (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
	case CF_INT:
		return (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER);
	case CF_BOOL:
		return (o->type == MSGPACK_OBJECT_BOOLEAN);
	case CF_STR:
		return (o->type == MSGPACK_OBJECT_STR);
	case CF_BIN:
		return (o->type == MSGPACK_OBJECT_BIN);
	case CF_ARRAY:
		return (o->type == MSGPACK_OBJECT_ARRAY);
	}
	return (0);
}

/* Every field present has its type; every required one is present. */
static int
control_fields(struct client *c, uint64_t id, const msgpack_object *req,
    const struct control_field *f)
{
	const msgpack_object	*o;

	for (; f->key != NULL; f++) {
		o = proto_get(req, f->key);
		if (o == NULL || o->type == MSGPACK_OBJECT_NIL) {
			if (!f->required)
				continue;
			analyzer_error(c, id, PROTO_ERR_BAD_ARG,
			    "field \"%s\" is missing", f->key);
			return (-1);
		}
		if (!control_typed(o, f->type)) {
			analyzer_error(c, id, PROTO_ERR_BAD_ARG,
			    "field \"%s\" must be %s", f->key,
			    control_type_names[f->type]);
			return (-1);
		}
	}
	return (0);
}

static const struct control_entry *
control_lookup(int64_t op)
{
	size_t	 i;

	for (i = 0; i < sizeof(control_table) / sizeof(control_table[0]); i++)
		if (control_table[i].op == op)
			return (&control_table[i]);
	return (NULL);
}

void
control_dispatch(struct client *c, const msgpack_object *req)
{
	const struct control_entry	*ce;
	uint64_t			 id;
	int64_t				 op;

	if (proto_get_u64(req, "id", &id) == -1 ||
	    proto_get_i64(req, "op", &op) == -1) {
		analyzer_error(c, 0, PROTO_ERR_MALFORMED,
		    "a request needs integer \"op\" and \"id\"");
		analyzer_close(c);
		return;
	}
	if (!c->hello && op != PROTO_OP_HELLO) {
		analyzer_error(c, id, PROTO_ERR_MALFORMED,
		    "the first request must be hello");
		analyzer_close(c);
		return;
	}
	if ((ce = control_lookup(op)) == NULL) {
		analyzer_error(c, id, PROTO_ERR_UNKNOWN_OP,
		    "unknown operation %lld", (long long)op);
		return;
	}
	log_debug("client uid %lu pid %ld: %s", (unsigned long)c->uid,
	    (long)c->pid, proto_op_name(ce->op));
	if ((ce->flags & CTL_CAPTURE) && analyzer.conf->no_capture) {
		analyzer_error(c, id, PROTO_ERR_UNAVAILABLE,
		    "this daemon runs without capture (--no-capture)");
		return;
	}
	if (control_fields(c, id, req, ce->fields) == -1)
		return;
	if ((ce->flags & CTL_STREAM) &&
	    (c->stream.kind != STREAM_NONE || c->watching)) {
		analyzer_error(c, id, PROTO_ERR_STATE,
		    "a stream is already running on this connection");
		return;
	}
	ce->exec(c, id, req);
}

/* Starts {"id": id, "ok": {n keys...}}; caller packs the keys. */
static void
control_ok(msgpack_sbuffer *sb, msgpack_packer *pk, uint64_t id, size_t n)
{
	proto_begin(sb, pk);
	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "id");
	msgpack_pack_uint64(pk, id);
	proto_pack_key(pk, "ok");
	msgpack_pack_map(pk, n);
}

static void
control_hello(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 version;
	const char	*name;
	size_t		 len;
	char		 esc[128];

	proto_get_u64(req, "version", &version);
	if (version != PROTO_VERSION) {
		log_warnx("client uid %lu pid %ld speaks protocol version "
		    "%llu, not %d", (unsigned long)c->uid, (long)c->pid,
		    (unsigned long long)version, PROTO_VERSION);
		analyzer_error(c, id, PROTO_ERR_VERSION, "client protocol "
		    "version %llu, daemon protocol version %d",
		    (unsigned long long)version, PROTO_VERSION);
		analyzer_close(c);
		return;
	}
	if (proto_get_str(req, "client", &name, &len) == 0)
		log_debug("client uid %lu pid %ld is %s", (unsigned long)c->uid,
		    (long)c->pid, esc_buf(esc, sizeof(esc), name, len));
	c->hello = 1;
	control_ok(&sb, &pk, id, 3);
	proto_pack_key(&pk, "version");
	msgpack_pack_int(&pk, PROTO_VERSION);
	proto_pack_key(&pk, "daemon");
	proto_pack_str(&pk, HTRACRD_VERSION);
	proto_pack_key(&pk, "capture");
	if (analyzer.conf->no_capture)
		msgpack_pack_false(&pk);
	else
		msgpack_pack_true(&pk);
	analyzer_send(c, &sb);
}

static void
control_sessions(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ksession	*ks;

	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "sessions");
	msgpack_pack_array(&pk, analyzer.nsessions);
	TAILQ_FOREACH(ks, &analyzer.sessions, entry)
		session_pack_summary(ks->s, &pk);
	analyzer_send(c, &sb);
}

/* The session a request names (absent or 0: the newest), or error 5. */
static struct ksession *
control_session(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ksession	*ks;
	uint64_t	 sid = 0;

	proto_get_u64(req, "session", &sid);
	if ((ks = analyzer_session_find(sid)) == NULL) {
		if (sid == 0)
			analyzer_error(c, id, PROTO_ERR_NOT_FOUND,
			    "no sessions kept");
		else
			analyzer_error(c, id, PROTO_ERR_NOT_FOUND,
			    "no session %llu", (unsigned long long)sid);
	}
	return (ks);
}

static void
control_stream(struct client *c, uint64_t id, struct ksession *ks,
    enum stream_kind kind, int flags)
{
	memset(&c->stream, 0, sizeof(c->stream));
	c->stream.kind = kind;
	c->stream.id = id;
	c->stream.ks = ks;
	c->stream.cursor.flags = flags;
	ks->refs++;
	analyzer_stream_start(c);
}

static void
control_detail(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ksession	*ks;
	int		 packets = 0;

	if ((ks = control_session(c, id, req)) == NULL)
		return;
	proto_get_bool(req, "packets", &packets);
	control_stream(c, id, ks, STREAM_DETAIL,
	    packets ? SESSION_DETAIL_PACKETS : 0);
}

static void
control_frames(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ksession	*ks;

	if ((ks = control_session(c, id, req)) != NULL)
		control_stream(c, id, ks, STREAM_FRAMES, 0);
}

static void
control_body(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ksession	*ks;
	const char	*which;
	const u_char	*data;
	size_t		 wlen, len;
	uint64_t	 txn;
	int		 w, truncated;

	proto_get_u64(req, "txn", &txn);
	proto_get_str(req, "which", &which, &wlen);
	if (wlen == 7 && memcmp(which, "request", 7) == 0)
		w = 0;
	else if (wlen == 8 && memcmp(which, "response", 8) == 0)
		w = 1;
	else {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG,
		    "\"which\" must be \"request\" or \"response\"");
		return;
	}
	if ((ks = control_session(c, id, req)) == NULL)
		return;
	if (txn > UINT32_MAX || session_body(ks->s, (uint32_t)txn, w, &data,
	    &len, &truncated) == -1) {
		analyzer_error(c, id, PROTO_ERR_NOT_FOUND, "no %s body kept "
		    "for transaction %llu", w ? "response" : "request",
		    (unsigned long long)txn);
		return;
	}
	control_ok(&sb, &pk, id, 2);
	proto_pack_key(&pk, "body");
	msgpack_pack_bin_with_body(&pk, data, len);
	proto_pack_key(&pk, "truncated");
	if (truncated)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	analyzer_send(c, &sb);
}

/* A ports array: 1..PROTO_MAX_PORTS integers, each 1..65535. */
static int
control_parse_ports(struct client *c, uint64_t id, const msgpack_object *o,
    struct ipc_ports *p)
{
	uint32_t	 i;

	memset(p, 0, sizeof(*p));
	if (o->via.array.size == 0 || o->via.array.size > PROTO_MAX_PORTS) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "give 1 to %d ports, "
		    "not %u", PROTO_MAX_PORTS, o->via.array.size);
		return (-1);
	}
	for (i = 0; i < o->via.array.size; i++) {
		const msgpack_object	*e = &o->via.array.ptr[i];

		if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    e->via.u64 == 0 || e->via.u64 > 65535) {
			analyzer_error(c, id, PROTO_ERR_BAD_ARG, "port %u of "
			    "the list is not a port number (1-65535)", i + 1);
			return (-1);
		}
		p->ports[i] = (uint16_t)e->via.u64;
	}
	p->nports = o->via.array.size;
	return (0);
}

static void
control_pack_ports(msgpack_packer *pk, const struct ipc_ports *p)
{
	uint32_t	 i;

	msgpack_pack_array(pk, p->nports);
	for (i = 0; i < p->nports; i++)
		msgpack_pack_uint16(pk, p->ports[i]);
}

static void
control_load_begin(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct engine_config	 ec;
	struct ipc_ports	 ports;
	const msgpack_object	*o;
	const char		*src = "client";
	size_t			 srclen = 6;
	int64_t			 linktype;
	uint64_t		 snaplen;
	char			*source;

	if (c->load != NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE,
		    "a load is already running on this connection");
		return;
	}
	proto_get_i64(req, "linktype", &linktype);
	proto_get_u64(req, "snaplen", &snaplen);
	if (linktype < 0 || linktype > 65535 || snaplen > INT32_MAX) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG,
		    "bad linktype or snaplen");
		return;
	}
	analyzer_engine_config(&ec);
	if ((o = proto_get(req, "ports")) != NULL &&
	    o->type == MSGPACK_OBJECT_ARRAY) {
		if (control_parse_ports(c, id, o, &ports) == -1)
			return;
		memcpy(ec.ports, ports.ports, sizeof(ec.ports));
		ec.nports = ports.nports;
	}
	proto_get_str(req, "source", &src, &srclen);
	source = xstrndup(src, srclen);
	c->load = analyzer_session_new(SESSION_LOADED, (int)linktype, &ec,
	    c->uid, source);
	free(source);
	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "%zu sessions kept and "
		    "all in use", analyzer.conf->max_sessions);
		return;
	}
	c->load->refs++;
	log_info("client uid %lu pid %ld loads session %u",
	    (unsigned long)c->uid, (long)c->pid, session_id(c->load->s));
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint32(&pk, session_id(c->load->s));
	analyzer_send(c, &sb);
}

/* Every record fits, is within the snap length and caplen <= len. */
static int
control_blob_valid(const u_char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 off = 0;

	while (off < len) {
		if (len - off < sizeof(f))
			return (0);
		memcpy(&f, p + off, sizeof(f));
		off += sizeof(f);
		if (f.caplen > PROTO_MAX_SNAPLEN || f.caplen > f.len ||
		    f.caplen > len - off)
			return (0);
		off += f.caplen;
	}
	return (1);
}

static void
control_load_frames(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct proto_frame	 f;
	const char		*blob;
	const u_char		*p;
	size_t			 len, off;

	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE, "load_frames without "
		    "load_begin");
		return;
	}
	proto_get_bin(req, "frames", &blob, &len);
	p = (const u_char *)blob;
	if (len > PROTO_FRAMES_BATCH) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "frames blob of %zu "
		    "bytes over the limit of %d", len, PROTO_FRAMES_BATCH);
		return;
	}
	if (!control_blob_valid(p, len)) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "frames blob has a "
		    "bad record; none of it was taken");
		return;
	}
	for (off = 0; off < len; off += sizeof(f) + f.caplen) {
		memcpy(&f, p + off, sizeof(f));
		session_frame(c->load->s, f.ts_us, p + off + sizeof(f),
		    f.caplen, f.len);
	}
}

static void
control_load_end(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE, "load_end without "
		    "load_begin");
		return;
	}
	session_finish(c->load->s, analyzer_now_us());
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "session");
	session_pack_summary(c->load->s, &pk);
	analyzer_send(c, &sb);
	analyzer_session_unref(c->load);
	c->load = NULL;
}

/* Only one capture command may wait for the capture process. */
static int
control_capture_idle(struct client *c, uint64_t id)
{
	if (analyzer.waiting_op == 0)
		return (1);
	analyzer_error(c, id, PROTO_ERR_BUSY,
	    "another capture command is in progress; try again");
	return (0);
}

static void
control_wait(struct client *c, uint64_t id, int op)
{
	analyzer.waiting = c;
	analyzer.waiting_id = id;
	analyzer.waiting_op = op;
}

static void
control_start(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ipc_start	 st;
	const msgpack_object	*o;
	const char		*ifname = "any";
	size_t			 iflen = 3;

	if (!control_capture_idle(c, id))
		return;
	if (analyzer.cstate != CAPTURE_IDLE) {
		analyzer_error(c, id, PROTO_ERR_BUSY, "a capture is already "
		    "running, started by uid %lu",
		    (unsigned long)analyzer.cuid);
		return;
	}
	memset(&st, 0, sizeof(st));
	proto_get_str(req, "interface", &ifname, &iflen);
	if (!ipc_ifname_valid(ifname, iflen)) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "bad interface name "
		    "(1 to %d letters, digits or .-_:)", PROTO_MAX_IFNAME);
		return;
	}
	memcpy(st.ifname, ifname, iflen);
	if ((o = proto_get(req, "ports")) != NULL &&
	    o->type == MSGPACK_OBJECT_ARRAY) {
		if (control_parse_ports(c, id, o, &st.ports) == -1)
			return;
	} else {
		st.ports.nports = 1;
		st.ports.ports[0] = 80;
	}
	if (analyzer_capture_cmd(IPC_CMD_START, &st, sizeof(st)) == -1) {
		analyzer_error(c, id, PROTO_ERR_INTERNAL, "cannot reach the "
		    "capture process");
		return;
	}
	analyzer.cstart = st;
	analyzer.cuid = c->uid;
	analyzer.cstate = CAPTURE_STARTING;
	control_wait(c, id, PROTO_OP_START);
	log_info("client uid %lu pid %ld starts a capture on %s",
	    (unsigned long)c->uid, (long)c->pid, st.ifname);
}

static void
control_stop(struct client *c, uint64_t id, const msgpack_object *req)
{
	if (!control_capture_idle(c, id))
		return;
	if (analyzer.cstate != CAPTURE_RUNNING) {
		analyzer_error(c, id, PROTO_ERR_STATE, "no capture is running");
		return;
	}
	analyzer_capture_cmd(IPC_CMD_STOP, NULL, 0);
	analyzer.cstate = CAPTURE_STOPPING;
	control_wait(c, id, PROTO_OP_STOP);
	log_info("client uid %lu pid %ld stops the capture",
	    (unsigned long)c->uid, (long)c->pid);
}

static void
control_ports(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ipc_ports	 p;

	if (!control_capture_idle(c, id))
		return;
	if (analyzer.cstate != CAPTURE_RUNNING) {
		analyzer_error(c, id, PROTO_ERR_STATE, "no capture is running");
		return;
	}
	if (control_parse_ports(c, id, proto_get(req, "ports"), &p) == -1)
		return;
	analyzer_capture_cmd(IPC_CMD_PORTS, &p, sizeof(p));
	analyzer.cpending = p;
	control_wait(c, id, PROTO_OP_PORTS);
}

/* PROTOCOL.md knows two states; a command in flight counts as before. */
static const char *
control_state_name(void)
{
	switch (analyzer.cstate) {
	case CAPTURE_RUNNING:
	case CAPTURE_STOPPING:
		return ("running");
	case CAPTURE_IDLE:
	case CAPTURE_STARTING:
		break;
	}
	return ("idle");
}

static void
control_pack_clients(msgpack_packer *pk)
{
	struct client	*c;

	msgpack_pack_array(pk, analyzer.nclients);
	TAILQ_FOREACH(c, &analyzer.clients, entry) {
		msgpack_pack_map(pk, 3);
		proto_pack_key(pk, "uid");
		msgpack_pack_uint32(pk, c->uid);
		proto_pack_key(pk, "pid");
		msgpack_pack_int32(pk, c->pid);
		proto_pack_key(pk, "since_us");
		msgpack_pack_uint64(pk, c->since_us);
	}
}

static void
control_status(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ksession	*ks;
	size_t		 mem = 0;
	int		 idle = analyzer.cstate == CAPTURE_IDLE ||
			    analyzer.cstate == CAPTURE_STARTING;

	TAILQ_FOREACH(ks, &analyzer.sessions, entry)
		mem += session_memory(ks->s);
	control_ok(&sb, &pk, id, 8);
	proto_pack_key(&pk, "capture");
	if (analyzer.conf->no_capture)
		msgpack_pack_false(&pk);
	else
		msgpack_pack_true(&pk);
	proto_pack_key(&pk, "state");
	proto_pack_str(&pk, control_state_name());
	proto_pack_key(&pk, "interface");
	if (idle)
		msgpack_pack_nil(&pk);
	else
		proto_pack_str(&pk, analyzer.cstart.ifname);
	proto_pack_key(&pk, "ports");
	if (idle)
		msgpack_pack_nil(&pk);
	else
		control_pack_ports(&pk, &analyzer.cstart.ports);
	proto_pack_key(&pk, "started_by");
	if (idle)
		msgpack_pack_nil(&pk);
	else
		msgpack_pack_uint32(&pk, analyzer.cuid);
	proto_pack_key(&pk, "session");
	if (analyzer.live != NULL)
		session_pack_summary(analyzer.live->s, &pk);
	else
		msgpack_pack_nil(&pk);
	proto_pack_key(&pk, "clients");
	control_pack_clients(&pk);
	proto_pack_key(&pk, "memory");
	msgpack_pack_uint64(&pk, mem);
	analyzer_send(c, &sb);
}

static void
control_watch(struct client *c, uint64_t id, const msgpack_object *req)
{
	if (analyzer.cstate != CAPTURE_RUNNING) {
		analyzer_error(c, id, PROTO_ERR_STATE, "no capture is running");
		return;
	}
	c->watching = 1;
	c->watch_id = id;
	c->watch_count = 0;
	c->watch_dropped = 0;
}

/* Sends each watcher one chunk holding the transaction just completed. */
static void
control_txn_cb(struct session *s, uint32_t txn, void *arg)
{
	msgpack_sbuffer	 item, sb;
	msgpack_packer	 ipk, pk;
	struct client	*c;

	msgpack_sbuffer_init(&item);
	msgpack_packer_init(&ipk, &item, msgpack_sbuffer_write);
	if (session_pack_txn(s, txn, &ipk) == -1) {
		msgpack_sbuffer_destroy(&item);
		return;
	}
	TAILQ_FOREACH(c, &analyzer.clients, entry) {
		if (!c->watching || c->closing)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    PROTO_MAX_QUEUED) {
			c->watch_dropped++;	/* it does not read */
			continue;
		}
		proto_begin(&sb, &pk);
		msgpack_pack_map(&pk, 2);
		proto_pack_key(&pk, "id");
		msgpack_pack_uint64(&pk, c->watch_id);
		proto_pack_key(&pk, "chunk");
		msgpack_pack_array(&pk, 1);
		msgpack_sbuffer_write(&sb, item.data, item.size);
		c->watch_count++;
		analyzer_send(c, &sb);
	}
	msgpack_sbuffer_destroy(&item);
}

/* The capture ended: every watcher gets its end message. */
static void
control_watch_end(void)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct client	*c;

	TAILQ_FOREACH(c, &analyzer.clients, entry) {
		if (!c->watching)
			continue;
		if (c->watch_dropped > 0)
			log_info("client uid %lu pid %ld missed %llu events "
			    "by not reading", (unsigned long)c->uid,
			    (long)c->pid,
			    (unsigned long long)c->watch_dropped);
		proto_begin(&sb, &pk);
		msgpack_pack_map(&pk, 2);
		proto_pack_key(&pk, "id");
		msgpack_pack_uint64(&pk, c->watch_id);
		proto_pack_key(&pk, "end");
		msgpack_pack_uint64(&pk, c->watch_count);
		analyzer_send(c, &sb);
		c->watching = 0;
	}
}

/* The waiting client, if it is still there; clears the wait. */
static struct client *
control_waiter(uint64_t *id)
{
	struct client	*c = analyzer.waiting;

	*id = analyzer.waiting_id;
	analyzer.waiting = NULL;
	analyzer.waiting_op = 0;
	return (c);
}

static void
control_started(const struct ipc_started *st)
{
	struct engine_config	 ec;
	struct client		*c;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	uint64_t		 id;

	c = control_waiter(&id);
	analyzer_engine_config(&ec);
	memcpy(ec.ports, analyzer.cstart.ports.ports, sizeof(ec.ports));
	ec.nports = analyzer.cstart.ports.nports;
	analyzer.live = analyzer_session_new(SESSION_CAPTURED, st->linktype,
	    &ec, analyzer.cuid, analyzer.cstart.ifname);
	if (analyzer.live == NULL) {
		analyzer_capture_cmd(IPC_CMD_STOP, NULL, 0);
		analyzer.cstate = CAPTURE_STOPPING;
		if (c != NULL)
			analyzer_error(c, id, PROTO_ERR_LIMIT, "%zu sessions "
			    "kept and all in use", analyzer.conf->max_sessions);
		return;
	}
	analyzer.live->refs++;
	session_set_txn_cb(analyzer.live->s, control_txn_cb, NULL);
	analyzer.cstate = CAPTURE_RUNNING;
	log_info("capture running on %s, session %u", analyzer.cstart.ifname,
	    session_id(analyzer.live->s));
	if (c == NULL)
		return;
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint32(&pk, session_id(analyzer.live->s));
	analyzer_send(c, &sb);
}

static void
control_drops(const struct ipc_stats *st)
{
	struct session_drops	 d;

	if (analyzer.live == NULL)
		return;
	d.kernel = st->kernel;
	d.ifdrop = st->ifdrop;
	d.forward = st->forward;
	session_set_drops(analyzer.live->s, &d);
}

static void
control_stopped(const struct ipc_stats *st)
{
	struct client	*c;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	c = control_waiter(&id);
	analyzer.cstate = CAPTURE_IDLE;
	control_watch_end();
	if (analyzer.live == NULL)
		return;
	control_drops(st);
	session_finish(analyzer.live->s, analyzer_now_us());
	log_info("capture stopped: session %u, %llu frames, %llu kernel "
	    "drops, %llu forward drops", session_id(analyzer.live->s),
	    (unsigned long long)st->frames, (unsigned long long)st->kernel,
	    (unsigned long long)st->forward);
	if (c != NULL) {
		control_ok(&sb, &pk, id, 1);
		proto_pack_key(&pk, "session");
		session_pack_summary(analyzer.live->s, &pk);
		analyzer_send(c, &sb);
	}
	analyzer_session_unref(analyzer.live);
	analyzer.live = NULL;
}

static void
control_failed(const struct ipc_failed *f)
{
	struct client	*c;
	uint64_t	 id;
	int		 op = analyzer.waiting_op;
	char		 msg[sizeof(f->msg)];

	memcpy(msg, f->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	c = control_waiter(&id);
	if (op == PROTO_OP_START)
		analyzer.cstate = CAPTURE_IDLE;
	log_warnx("capture refused %s: %s", proto_op_name(op), msg);
	if (c != NULL)
		analyzer_error(c, id, f->code == PROTO_ERR_BAD_ARG ?
		    PROTO_ERR_BAD_ARG : PROTO_ERR_CAPTURE, "%s", msg);
}

static void
control_ports_set(void)
{
	struct client	*c;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	c = control_waiter(&id);
	analyzer.cstart.ports = analyzer.cpending;
	if (analyzer.live != NULL)
		session_set_ports(analyzer.live->s, analyzer.cpending.ports,
		    analyzer.cpending.nports);
	if (c == NULL)
		return;
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "ports");
	control_pack_ports(&pk, &analyzer.cstart.ports);
	analyzer_send(c, &sb);
}

/* A reply from the capture process; its size is checked first. */
void
control_capture_reply(uint32_t type, const u_char *p, size_t len)
{
	static const struct {
		uint32_t	 type;
		size_t		 len;
	} sizes[] = {
		{ IPC_STARTED, sizeof(struct ipc_started) },
		{ IPC_FAILED, sizeof(struct ipc_failed) },
		{ IPC_PORTS_SET, 0 },
		{ IPC_STOPPED, sizeof(struct ipc_stats) },
		{ IPC_STATS, sizeof(struct ipc_stats) },
	};
	union {
		struct ipc_started	 started;
		struct ipc_failed	 failed;
		struct ipc_stats	 stats;
	} u;
	size_t	 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i].type == type)
			break;
	if (i == sizeof(sizes) / sizeof(sizes[0]) || sizes[i].len != len)
		fatalx("capture sent message type %u of %zu bytes", type, len);
	memcpy(&u, p, len);
	switch (type) {
	case IPC_STARTED:
		control_started(&u.started);
		break;
	case IPC_FAILED:
		control_failed(&u.failed);
		break;
	case IPC_PORTS_SET:
		control_ports_set();
		break;
	case IPC_STOPPED:
		control_stopped(&u.stats);
		break;
	case IPC_STATS:
		control_drops(&u.stats);
		break;
	}
}

/* A client left: forget it as a waiter; a load it ran is kept. */
void
control_client_gone(struct client *c)
{
	if (analyzer.waiting == c)
		analyzer.waiting = NULL;
	if (c->load != NULL) {
		log_info("client uid %lu pid %ld left mid-load: session %u "
		    "kept as aborted", (unsigned long)c->uid, (long)c->pid,
		    session_id(c->load->s));
		session_abort(c->load->s, analyzer_now_us());
		analyzer_session_unref(c->load);
		c->load = NULL;
	}
	c->watching = 0;
}
