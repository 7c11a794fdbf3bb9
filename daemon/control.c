/*
 * control.c: the analyzer's request table. Every client request is
 * checked at the door (hello first, known op, typed fields) before its
 * handler runs; the handlers for kept sessions are here, loads in
 * control_load.c, keys in control_keys.c, the live capture ones in
 * live.c. Runs in the analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>

#include <malloc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "live.h"
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
	{ "session", CF_UINT, 0 }, { "packets", CF_BOOL, 0 },
	{ "headers", CF_BOOL, 0 }, { "brief", CF_BOOL, 0 },
	{ "txn", CF_UINT, 0 }, { "conn", CF_UINT, 0 }, { "lean", CF_BOOL, 0 },
	{ NULL, 0, 0 } };
static const struct control_field control_f_session[] = {
	{ "session", CF_UINT, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_delete[] = {
	{ "session", CF_UINT, 1 }, { NULL, 0, 0 } };
static const struct control_field control_f_body[] = {
	{ "session", CF_UINT, 0 }, { "txn", CF_UINT, 1 },
	{ "which", CF_STR, 1 }, { NULL, 0, 0 } };
static const struct control_field control_f_load_begin[] = {
	{ "linktype", CF_INT, 1 }, { "snaplen", CF_UINT, 1 },
	{ "source", CF_STR, 0 }, { "ports", CF_ARRAY, 0 },
	{ "frames", CF_BOOL, 0 }, { "bodies", CF_BOOL, 0 },
	{ "packets", CF_BOOL, 0 }, { "headers", CF_BOOL, 0 },
	{ "format", CF_STR, 0 }, { "split", CF_BOOL, 0 },
	{ "file", CF_BOOL, 0 }, { "offset", CF_UINT, 0 },
	{ "length", CF_UINT, 0 }, { NULL, 0, 0 } };
static const struct control_field control_f_load_frames[] = {
	{ "frames", CF_BIN, 1 }, { NULL, 0, 0 } };
static const struct control_field control_f_keys[] = {
	{ "session", CF_UINT, 0 }, { "keys", CF_BIN, 1 }, { "end", CF_BOOL, 0 },
	{ NULL, 0, 0 } };
static const struct control_field control_f_start[] = {
	{ "interface", CF_STR, 0 }, { "ports", CF_ARRAY, 0 },
	{ "dns", CF_BOOL, 0 }, { NULL, 0, 0 } };
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
static void	control_delete(struct client *, uint64_t,
		    const msgpack_object *);
static void	control_status(struct client *, uint64_t,
		    const msgpack_object *);

static const struct control_entry control_table[] = {
	{ PROTO_OP_HELLO, 0, control_f_hello, control_hello },
	{ PROTO_OP_SESSIONS, 0, control_f_none, control_sessions },
	{ PROTO_OP_DETAIL, CTL_STREAM, control_f_detail, control_detail },
	{ PROTO_OP_FRAMES, CTL_STREAM, control_f_session, control_frames },
	{ PROTO_OP_BODY, 0, control_f_body, control_body },
	{ PROTO_OP_DELETE, 0, control_f_delete, control_delete },
	{ PROTO_OP_LOAD_BEGIN, 0, control_f_load_begin, control_load_begin },
	{ PROTO_OP_LOAD_FRAMES, 0, control_f_load_frames,
	    control_load_frames },
	{ PROTO_OP_LOAD_END, 0, control_f_none, control_load_end },
	{ PROTO_OP_KEYS, 0, control_f_keys, control_keys },
	{ PROTO_OP_KEYLOG, 0, control_f_session, control_keylog },
	{ PROTO_OP_START, CTL_CAPTURE, control_f_start, live_start },
	{ PROTO_OP_STOP, CTL_CAPTURE, control_f_none, live_stop },
	{ PROTO_OP_PORTS, CTL_CAPTURE, control_f_ports, live_ports },
	{ PROTO_OP_STATUS, 0, control_f_none, control_status },
	{ PROTO_OP_WATCH, CTL_CAPTURE | CTL_STREAM, control_f_none,
	    live_watch },
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
void
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

/* cur: where a detail starts; NULL for frames. */
static void
control_stream(struct client *c, uint64_t id, struct ksession *ks,
    enum stream_kind kind, const struct session_cursor *cur)
{
	memset(&c->stream, 0, sizeof(c->stream));
	c->stream.kind = kind;
	c->stream.id = id;
	c->stream.ks = ks;
	if (cur != NULL)
		c->stream.cursor = *cur;
	c->stream.last = session_frames_last(ks->s);
	ks->refs++;
	analyzer_stream_start(c);
}

/*
 * Forgets a session: only its maker or root may, and not while it runs
 * or a stream or load holds it (those keep pointers into it).
 */
static void
control_delete(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ksession	*ks;
	uint64_t	 sid = 0;

	proto_get_u64(req, "session", &sid);
	if (sid == 0) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG,
		    "delete names its session: 0 is not one");
		return;
	}
	if ((ks = control_session(c, id, req)) == NULL)
		return;
	if (c->uid != 0 && c->uid != session_uid(ks->s)) {
		analyzer_error(c, id, PROTO_ERR_DENIED, "session %llu was made "
		    "by uid %lu; only that user or root may delete it",
		    (unsigned long long)sid, (unsigned long)session_uid(ks->s));
		return;
	}
	if (session_running(ks->s)) {
		analyzer_error(c, id, PROTO_ERR_STATE, "session %llu is "
		    "capturing; stop it first", (unsigned long long)sid);
		return;
	}
	if (ks->refs > 0) {
		analyzer_error(c, id, PROTO_ERR_BUSY, "session %llu is being "
		    "read or loaded; try again", (unsigned long long)sid);
		return;
	}
	log_info("session %llu deleted by uid %lu pid %ld",
	    (unsigned long long)sid, (unsigned long)c->uid, (long)c->pid);
	analyzer_session_delete(ks);
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "deleted");
	msgpack_pack_uint64(&pk, sid);
	analyzer_send(c, &sb);
}

/*
 * A close-up of one transaction or connection, if the request names
 * one; -1 after the error reply if there is no such one.
 */
static int
control_closeup(struct client *c, uint64_t id, const msgpack_object *req,
    struct ksession *ks, struct session_cursor *cur)
{
	uint64_t	 txn = 0, conn = 0;

	proto_get_u64(req, "txn", &txn);
	proto_get_u64(req, "conn", &conn);
	if (txn == 0 && conn == 0)
		return (0);
	if (txn <= UINT32_MAX && conn <= UINT32_MAX &&
	    session_closeup(ks->s, cur, (uint32_t)txn, (uint32_t)conn) == 0)
		return (0);
	analyzer_error(c, id, PROTO_ERR_NOT_FOUND, "no %s %llu in session %u",
	    txn != 0 ? "transaction" : "connection",
	    (unsigned long long)(txn != 0 ? txn : conn), session_id(ks->s));
	return (-1);
}

static void
control_detail(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct session_cursor	 cur;
	struct ksession		*ks;
	int			 packets = 0, headers = 1, brief = 0, lean = 0;

	if ((ks = control_session(c, id, req)) == NULL)
		return;
	memset(&cur, 0, sizeof(cur));
	proto_get_bool(req, "packets", &packets);
	proto_get_bool(req, "headers", &headers);
	proto_get_bool(req, "brief", &brief);
	proto_get_bool(req, "lean", &lean);
	if (packets)
		cur.flags |= SESSION_DETAIL_PACKETS;
	if (!headers)
		cur.flags |= SESSION_DETAIL_NO_HEADERS;
	if (brief)
		cur.flags |= SESSION_DETAIL_BRIEF;
	if (lean)
		cur.flags |= SESSION_DETAIL_LEAN;
	if (control_closeup(c, id, req, ks, &cur) == -1)
		return;
	control_stream(c, id, ks, STREAM_DETAIL, &cur);
}

static void
control_frames(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ksession	*ks;

	if ((ks = control_session(c, id, req)) != NULL)
		control_stream(c, id, ks, STREAM_FRAMES, NULL);
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
	int		 w, r, truncated;

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
	r = txn > UINT32_MAX ? -1 : session_body(ks->s, (uint32_t)txn, w,
	    &data, &len, &truncated);
	if (r == -2) {
		analyzer_error(c, id, PROTO_ERR_NOT_FOUND, "the %s body of "
		    "transaction %llu is gone: it was kept in raw frames the "
		    "memory budget has evicted since", w ? "response" :
		    "request", (unsigned long long)txn);
		return;
	}
	if (r == -1) {
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
int
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

void
control_pack_ports(msgpack_packer *pk, const struct ipc_ports *p)
{
	uint32_t	 i;

	msgpack_pack_array(pk, p->nports);
	for (i = 0; i < p->nports; i++)
		msgpack_pack_uint16(pk, p->ports[i]);
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

/*
 * What the allocator holds against what the sessions count: in use
 * (sessions, clients' buffers, the analyzer's own) and freed but kept.
 */
static void
control_pack_heap(msgpack_packer *pk)
{
	struct mallinfo2	 mi = mallinfo2();

	proto_pack_key(pk, "heap");
	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "in_use");
	msgpack_pack_uint64(pk, mi.uordblks + mi.hblkhd);
	proto_pack_key(pk, "free");
	msgpack_pack_uint64(pk, mi.fordblks);
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

#ifdef HTRACR_TEST_HOOKS
	/*
	 * Test builds only (make build/htracrd-testhooks): the sandbox
	 * still holds once sessions were decrypted (tests/regress/100).
	 */
	analyzer_test_syscall(getenv("HTRACR_TEST_SYSCALL_ON_STATUS"));
#endif
	TAILQ_FOREACH(ks, &analyzer.sessions, entry)
		mem += session_memory(ks->s);
	control_ok(&sb, &pk, id, 10);
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
	proto_pack_key(&pk, "dns");
	if (idle)
		msgpack_pack_nil(&pk);
	else if (analyzer.cstart.dns)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
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
	control_pack_heap(&pk);
	analyzer_send(c, &sb);
}

/* A client left: forget it as a waiter; a load it ran is kept. */
void
control_client_gone(struct client *c)
{
	live_client_gone(c);
	control_load_gone(c);
	c->watching = 0;
}
