/*
 * live.c: the analyzer's side of live capture: the start, stop, ports
 * and watch requests become fixed-form commands to the capture process
 * (ipc.h), answered when it replies; frames of the running capture feed
 * one session, whose completed transactions go to watchers. Runs in the
 * analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "analyzer.h"
#include "live.h"
#include "log.h"

/* Only one capture command may wait for the capture process. */
static int
live_idle(struct client *c, uint64_t id)
{
	if (analyzer.waiting_op == 0)
		return (1);
	analyzer_error(c, id, PROTO_ERR_BUSY,
	    "another capture command is in progress; try again");
	return (0);
}

static void
live_wait(struct client *c, uint64_t id, int op)
{
	analyzer.waiting = c;
	analyzer.waiting_id = id;
	analyzer.waiting_op = op;
}

void
live_start(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ipc_start	 st;
	const msgpack_object	*o;
	const char		*ifname = "any";
	size_t			 iflen = 3;

	if (!live_idle(c, id))
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
	st.dns = 1;
	if ((o = proto_get(req, "dns")) != NULL &&
	    o->type == MSGPACK_OBJECT_BOOLEAN)
		st.dns = o->via.boolean;
	if (analyzer_capture_cmd(IPC_CMD_START, &st, sizeof(st)) == -1) {
		analyzer_error(c, id, PROTO_ERR_INTERNAL, "cannot reach the "
		    "capture process");
		return;
	}
	analyzer.cstart = st;
	analyzer.cuid = c->uid;
	analyzer.cstate = CAPTURE_STARTING;
	live_wait(c, id, PROTO_OP_START);
	log_info("client uid %lu pid %ld starts a capture on %s",
	    (unsigned long)c->uid, (long)c->pid, st.ifname);
}

void
live_stop(struct client *c, uint64_t id, const msgpack_object *req)
{
	if (!live_idle(c, id))
		return;
	if (analyzer.cstate != CAPTURE_RUNNING) {
		analyzer_error(c, id, PROTO_ERR_STATE, "no capture is running");
		return;
	}
	analyzer_capture_cmd(IPC_CMD_STOP, NULL, 0);
	analyzer.cstate = CAPTURE_STOPPING;
	live_wait(c, id, PROTO_OP_STOP);
	log_info("client uid %lu pid %ld stops the capture",
	    (unsigned long)c->uid, (long)c->pid);
}

void
live_ports(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ipc_ports	 p;

	if (!live_idle(c, id))
		return;
	if (analyzer.cstate != CAPTURE_RUNNING) {
		analyzer_error(c, id, PROTO_ERR_STATE, "no capture is running");
		return;
	}
	if (control_parse_ports(c, id, proto_get(req, "ports"), &p) == -1)
		return;
	analyzer_capture_cmd(IPC_CMD_PORTS, &p, sizeof(p));
	analyzer.cpending = p;
	live_wait(c, id, PROTO_OP_PORTS);
}

void
live_watch(struct client *c, uint64_t id, const msgpack_object *req)
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

/*
 * Sends each watcher one chunk holding the transaction just completed,
 * after its connection's item, which names the client.
 */
static void
live_txn_cb(struct session *s, uint32_t txn, void *arg)
{
	msgpack_sbuffer	 item, sb;
	msgpack_packer	 ipk, pk;
	struct client	*c;

	TAILQ_FOREACH(c, &analyzer.clients, entry)
		if (c->watching && !c->closing)
			break;
	if (c == NULL)
		return;		/* nobody watches: nothing to pack */
	msgpack_sbuffer_init(&item);
	msgpack_packer_init(&ipk, &item, msgpack_sbuffer_write);
	if (session_pack_txn_conn(s, txn, &ipk) == -1 ||
	    session_pack_txn(s, txn, &ipk) == -1) {
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
		msgpack_pack_array(&pk, 2);
		msgpack_sbuffer_write(&sb, item.data, item.size);
		c->watch_count += 2;
		analyzer_send(c, &sb);
	}
	msgpack_sbuffer_destroy(&item);
}

/* The capture ended: every watcher gets its end message. */
static void
live_watch_end(void)
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
live_waiter(uint64_t *id)
{
	struct client	*c = analyzer.waiting;

	*id = analyzer.waiting_id;
	analyzer.waiting = NULL;
	analyzer.waiting_op = 0;
	return (c);
}

static void
live_started(const struct ipc_started *st)
{
	struct engine_config	 ec;
	struct client		*c;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	uint64_t		 id;

	c = live_waiter(&id);
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
	session_set_txn_cb(analyzer.live->s, live_txn_cb, NULL);
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
live_drops(const struct ipc_stats *st)
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
live_stopped(const struct ipc_stats *st)
{
	struct client	*c;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	c = live_waiter(&id);
	analyzer.cstate = CAPTURE_IDLE;
	if (analyzer.live == NULL) {
		live_watch_end();
		return;
	}
	live_drops(st);
	/* Finishing reports transactions left unanswered: watchers first. */
	session_finish(analyzer.live->s, analyzer_now_us());
	live_watch_end();
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
live_failed(const struct ipc_failed *f)
{
	struct client	*c;
	uint64_t	 id;
	int		 op = analyzer.waiting_op;
	char		 msg[sizeof(f->msg)];

	memcpy(msg, f->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	c = live_waiter(&id);
	if (op == PROTO_OP_START)
		analyzer.cstate = CAPTURE_IDLE;
	log_warnx("capture refused %s: %s", proto_op_name(op), msg);
	if (c != NULL)
		analyzer_error(c, id, f->code == PROTO_ERR_BAD_ARG ?
		    PROTO_ERR_BAD_ARG : PROTO_ERR_CAPTURE, "%s", msg);
}

static void
live_ports_set(void)
{
	struct client	*c;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	c = live_waiter(&id);
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
live_reply(uint32_t type, const u_char *p, size_t len)
{
	union {
		struct ipc_started	 started;
		struct ipc_failed	 failed;
		struct ipc_stats	 stats;
	} u;

	if (type == IPC_QUIT || ipc_reply_size(type) != (ssize_t)len)
		fatalx("capture sent message type %u of %zu bytes", type, len);
	memcpy(&u, p, len);
	switch (type) {
	case IPC_STARTED:
		live_started(&u.started);
		break;
	case IPC_FAILED:
		live_failed(&u.failed);
		break;
	case IPC_PORTS_SET:
		live_ports_set();
		break;
	case IPC_STOPPED:
		live_stopped(&u.stats);
		break;
	case IPC_STATS:
		live_drops(&u.stats);
		break;
	}
}

/* A client left: it no longer waits for the capture process. */
void
live_client_gone(struct client *c)
{
	if (analyzer.waiting == c)
		analyzer.waiting = NULL;
}
