/*
 * analyzer.c: the analyzer process, htracrd's child. It owns the
 * client socket (created by the parent before the split), keeps the
 * sessions, feeds frames from the capture process or from loading
 * clients to the engine (session.h) and streams results back with
 * bounded output per client. Unprivileged: no capabilities, its own
 * uid, chrooted to an empty directory when started as root, seccomp.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "analyzer.h"
#include "esc.h"
#include "live.h"
#include "log.h"
#include "sandbox.h"
#include "shring.h"
#include "tlscrypt.h"
#include "xmalloc.h"

/*
 * A stream produces its next chunk only while less than this is queued
 * for the client; the write callback fires again at the low mark. This
 * keeps every client well under PROTO_MAX_QUEUED.
 */
#define ANALYZER_STREAM_HIGH	(1024 * 1024)
#define ANALYZER_STREAM_LOW	(256 * 1024)
/*
 * Requests are read into a flat buffer per client and decoded where
 * they lie. It starts small and grows (doubling) while a message does
 * not fit, up to room for two of the largest requests; it shrinks back
 * once the load ends. That bounds input memory at ANALYZER_IN_MAX per
 * client.
 */
#define ANALYZER_IN_MIN		(64 * 1024)
#define ANALYZER_IN_MAX		(2 * (4 + PROTO_MAX_REQUEST))
/*
 * But one read takes at most this much: frames are parsed while the
 * kernel's copy of them is still in the cache (on the bench capture,
 * 2 MiB reads made the whole analyze 8% slower than 128 KiB ones).
 */
#define ANALYZER_READ_MAX	(128 * 1024)
/* Items per detail chunk with packets: each connection may hold many. */
#define ANALYZER_PACKET_ITEMS	16
/*
 * What one read of the link takes: spans of up to 256 KiB of frames
 * each, so a read brings a few MiB of frames at most, as the link's
 * turn expects (analyzer_link_turn); and the longest reply whole. A
 * message that cannot fit is the capture process's fault, fatal.
 */
#define ANALYZER_LINK_BUF	512

_Static_assert(ANALYZER_LINK_BUF >= sizeof(struct ipc_hdr) +
    sizeof(struct ipc_failed), "a reply fits in the link's buffer");
/* A closed client that does not take its last replies goes anyway. */
#define ANALYZER_CLOSE_GRACE	5	/* seconds */
/*
 * Frames come first (analyzer_main), but not for ever: after reading
 * them for the longer of TURN_MIN_US and TURN_SHARE times the clients'
 * last turn, the link steps aside while clients are busy, for at most
 * a TURN_SHARE-th of the time it had and never more than TURN_MAX_US
 * at a time (analyzer_link_turn).
 */
#define ANALYZER_TURN_MIN_US	20000
#define ANALYZER_TURN_MAX_US	50000
#define ANALYZER_TURN_SHARE	4

struct analyzer		 analyzer;

/*
 * A client and its read side, which libevent does not see: the
 * bufferevent only writes. Every struct client is the first member of
 * one of these (analyzer_accept), so the one converts to the other.
 */
struct analyzer_conn {
	struct client	 c;		/* first: see analyzer_conn() */
	struct event	*rev;
	struct event	*closer;	/* ANALYZER_CLOSE_GRACE after close */
	u_char		*in;		/* unparsed requests from 0 to inlen */
	size_t		 inlen;
	size_t		 insize;
};

static u_char		*analyzer_frames_buf;	/* one frames chunk */
static u_char		 analyzer_link_buf[ANALYZER_LINK_BUF];
static struct shring	*analyzer_ring;		/* frames from capture */
static size_t		 analyzer_link_len;
static struct event	*analyzer_link_ev;	/* priority 0 */
static struct event	*analyzer_link_back;	/* priority 1: the turn */
static uint64_t		 analyzer_link_since;	/* monotonic us */
static uint64_t		 analyzer_turn_began;	/* the clients' */
static uint64_t		 analyzer_turn_room;	/* what they may take */
static uint64_t		 analyzer_turn_last;	/* what they took last */
static unsigned int	 analyzer_calls;	/* client callbacks run */
static unsigned int	 analyzer_calls_seen;

static void	analyzer_client_free(struct client *);
static void	analyzer_stream_pump(struct client *);

static struct analyzer_conn *
analyzer_conn(struct client *c)
{
	return ((struct analyzer_conn *)c);
}

uint64_t
analyzer_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* For durations: never jumps with the wall clock. */
uint64_t
analyzer_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

static void
analyzer_send_done(const void *data, size_t len, void *arg)
{
	free((void *)(uintptr_t)data);
}

/*
 * Frames the message in sb and queues it. Consumes sb: its buffer is
 * handed to the output queue as it is, not copied, since detail
 * streams run to tens of megabytes.
 */
void
analyzer_send(struct client *c, msgpack_sbuffer *sb)
{
	size_t	 len;
	char	*data;

	if (proto_end(sb) == -1) {
		log_warnx("reply of %zu bytes over the limit, not sent",
		    sb->size);
		msgpack_sbuffer_destroy(sb);
		analyzer_error(c, 0, PROTO_ERR_INTERNAL,
		    "reply too large to send");
		return;
	}
	len = sb->size;
	data = msgpack_sbuffer_release(sb);
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), data, len,
	    analyzer_send_done, NULL) == -1)
		fatalx("cannot queue a reply");
}

void
analyzer_error(struct client *c, uint64_t id, int code, const char *fmt, ...)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 msg[400];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("client uid %lu pid %ld: error %d: %s",
	    (unsigned long)c->uid, (long)c->pid, code, msg);
	proto_begin(&sb, &pk);
	proto_pack_error(&pk, id, code, "%s", msg);
	proto_end(&sb);
	bufferevent_write(c->bev, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void
analyzer_close_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct client	*c = arg;

	log_info("client uid %lu pid %ld did not read its last replies "
	    "within %d s; dropped", (unsigned long)c->uid, (long)c->pid,
	    ANALYZER_CLOSE_GRACE);
	analyzer_client_free(c);
}

/*
 * Stop reading; the client goes once its last reply is written, or
 * after ANALYZER_CLOSE_GRACE if it never reads them, so that a stuck
 * peer cannot keep its slot and its sessions forever.
 */
void
analyzer_close(struct client *c)
{
	struct analyzer_conn	*ac = analyzer_conn(c);
	struct timeval		 grace = { ANALYZER_CLOSE_GRACE, 0 };

	if (c->closing)
		return;
	c->closing = 1;
	event_del(ac->rev);
	if ((ac->closer = evtimer_new(analyzer.base, analyzer_close_timeout,
	    c)) == NULL || evtimer_add(ac->closer, &grace) == -1)
		fatalx("cannot arm a client's close timer");
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_trigger(c->bev, EV_WRITE,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void
analyzer_engine_config(struct engine_config *ec)
{
	memset(ec, 0, sizeof(*ec));
	ec->budget = analyzer.conf->budget;
	ec->body_keep = analyzer.conf->body_keep;
	ec->keep_frames = 1;
}

/* Session id 0 means the newest. */
struct ksession *
analyzer_session_find(uint64_t id)
{
	struct ksession	*ks;

	if (id == 0)
		return (TAILQ_LAST(&analyzer.sessions, ksessions));
	TAILQ_FOREACH(ks, &analyzer.sessions, entry)
		if (session_id(ks->s) == id)
			return (ks);
	return (NULL);
}

void
analyzer_session_delete(struct ksession *ks)
{
	if (ks->refs > 0 || session_running(ks->s))
		fatalx("session %u deleted while in use", session_id(ks->s));
	TAILQ_REMOVE(&analyzer.sessions, ks, entry);
	analyzer.nsessions--;
	session_free(ks->s);
	free(ks);
}

/* The oldest finished session nobody is reading, to make room. */
static int
analyzer_session_evict(void)
{
	struct ksession	*ks;

	TAILQ_FOREACH(ks, &analyzer.sessions, entry) {
		if (ks->refs > 0 || session_running(ks->s))
			continue;
		log_info("session %u evicted to keep at most %zu",
		    session_id(ks->s), analyzer.conf->max_sessions);
		analyzer_session_delete(ks);
		return (0);
	}
	return (-1);
}

/* NULL when every kept session is busy and no more may be kept. */
struct ksession *
analyzer_session_new(enum session_origin origin, int linktype,
    const struct engine_config *ec, uid_t uid, const char *source)
{
	struct ksession	*ks;

	while (analyzer.nsessions >= analyzer.conf->max_sessions)
		if (analyzer_session_evict() == -1)
			return (NULL);
	ks = xcalloc(1, sizeof(*ks));
	ks->s = session_new(analyzer.next_id++, origin, linktype, ec, uid,
	    source, analyzer_now_us());
	TAILQ_INSERT_TAIL(&analyzer.sessions, ks, entry);
	analyzer.nsessions++;
	return (ks);
}

void
analyzer_session_unref(struct ksession *ks)
{
	if (ks != NULL && ks->refs > 0)
		ks->refs--;
}

/* Sends {"id", "end": count} and frees the stream's hold. */
static void
analyzer_stream_end(struct client *c)
{
	struct stream	*st = &c->stream;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	proto_begin(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	proto_pack_key(&pk, "id");
	msgpack_pack_uint64(&pk, st->id);
	proto_pack_key(&pk, "end");
	msgpack_pack_uint64(&pk, st->count);
	analyzer_send(c, &sb);
	analyzer_session_unref(st->ks);
	memset(st, 0, sizeof(*st));
}

static void
analyzer_chunk_begin(msgpack_sbuffer *sb, msgpack_packer *pk, uint64_t id)
{
	proto_begin(sb, pk);
	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "id");
	msgpack_pack_uint64(pk, id);
	proto_pack_key(pk, "chunk");
}

/* One detail chunk; 0 when the session had nothing more. */
static int
analyzer_detail_next(struct client *c)
{
	struct stream	*st = &c->stream;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	size_t		 n;

	analyzer_chunk_begin(&sb, &pk, st->id);
	n = session_pack_next(st->ks->s, &st->cursor, &pk,
	    (st->cursor.flags & SESSION_DETAIL_PACKETS) ?
	    ANALYZER_PACKET_ITEMS : PROTO_CHUNK_ITEMS);
	if (n == 0) {
		msgpack_sbuffer_destroy(&sb);
		return (0);
	}
	if (proto_end(&sb) == -1) {
		/* An error ends a stream as well as its end message does. */
		msgpack_sbuffer_destroy(&sb);
		analyzer_error(c, st->id, PROTO_ERR_LIMIT, "detail chunk over "
		    "%d bytes; ask without packets", PROTO_MAX_REPLY);
		analyzer_session_unref(st->ks);
		memset(st, 0, sizeof(*st));
		return (1);
	}
	st->count += n;
	analyzer_send(c, &sb);
	return (1);
}

static uint64_t
analyzer_blob_count(const u_char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 off = 0;
	uint64_t		 n = 0;

	while (len - off >= sizeof(f)) {
		memcpy(&f, p + off, sizeof(f));
		if (f.caplen > len - off - sizeof(f))
			break;
		off += sizeof(f) + f.caplen;
		n++;
	}
	return (n);
}

/* The pcap header item first, then blobs of kept frames. */
static int
analyzer_frames_next(struct client *c)
{
	struct stream	*st = &c->stream;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	size_t		 n;

	if (analyzer_frames_buf == NULL)
		analyzer_frames_buf = xmalloc(PROTO_FRAMES_BATCH);
	analyzer_chunk_begin(&sb, &pk, st->id);
	msgpack_pack_array(&pk, 1);
	if (!st->header_sent) {
		msgpack_pack_map(&pk, 3);
		proto_pack_key(&pk, "type");
		proto_pack_str(&pk, "pcap");
		proto_pack_key(&pk, "linktype");
		msgpack_pack_int(&pk, session_linktype(st->ks->s));
		proto_pack_key(&pk, "snaplen");
		msgpack_pack_uint32(&pk, session_snaplen(st->ks->s));
		st->header_sent = 1;
		analyzer_send(c, &sb);
		return (1);
	}
	n = session_frames_next(st->ks->s, &st->pos, st->last,
	    analyzer_frames_buf, PROTO_FRAMES_BATCH);
	if (n == 0) {
		msgpack_sbuffer_destroy(&sb);
		return (0);
	}
	st->count += analyzer_blob_count(analyzer_frames_buf, n);
	msgpack_pack_bin_with_body(&pk, analyzer_frames_buf, n);
	analyzer_send(c, &sb);
	return (1);
}

static void
analyzer_stream_pump(struct client *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	int		 more;

	while (c->stream.kind != STREAM_NONE && !c->closing &&
	    evbuffer_get_length(out) < ANALYZER_STREAM_HIGH) {
		if (c->stream.kind == STREAM_DETAIL)
			more = analyzer_detail_next(c);
		else
			more = analyzer_frames_next(c);
		if (!more && c->stream.kind != STREAM_NONE)
			analyzer_stream_end(c);
	}
}

void
analyzer_stream_start(struct client *c)
{
	analyzer_stream_pump(c);
}

/* Decodes one request body and hands it to the request table. */
static void
analyzer_request(struct client *c, const char *body, size_t len)
{
	msgpack_zone	 zone;
	msgpack_object	 obj;
	const char	*why;

	msgpack_zone_init(&zone, 4096);
	if (proto_decode(body, len, &zone, &obj, 1, &why) == -1) {
		log_warnx("client uid %lu pid %ld: malformed request: %s",
		    (unsigned long)c->uid, (long)c->pid, why);
		analyzer_error(c, 0, PROTO_ERR_MALFORMED, "malformed request: "
		    "%s", why);
		analyzer_close(c);
	} else
		control_dispatch(c, &obj);
	msgpack_zone_destroy(&zone);
}

/* Refuses a request whose length is over the limit; 0 if it is fine. */
static int
analyzer_request_size(struct client *c, uint32_t n)
{
	if (n <= PROTO_MAX_REQUEST)
		return (0);
	log_warnx("client uid %lu pid %ld: request of %u bytes over the "
	    "limit", (unsigned long)c->uid, (long)c->pid, n);
	analyzer_error(c, 0, PROTO_ERR_LIMIT, "request of %u bytes is over "
	    "the limit of %d", n, PROTO_MAX_REQUEST);
	analyzer_close(c);
	return (-1);
}

/*
 * Handles every whole request in the buffer and moves the partial
 * one, if any, to its start. The client may be gone afterwards.
 */
static void
analyzer_client_parse(struct analyzer_conn *ac)
{
	struct client	*c = &ac->c;
	size_t		 off = 0;
	uint32_t	 n;

	while (!c->closing && c->load_ev == NULL &&
	    ac->inlen - off >= sizeof(n)) {
		memcpy(&n, ac->in + off, sizeof(n));
		n = ntohl(n);
		if (analyzer_request_size(c, n) == -1)
			break;
		if (ac->inlen - off - sizeof(n) < n)
			break;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    PROTO_MAX_QUEUED) {
			log_warnx("client uid %lu pid %ld: sends requests but "
			    "does not read replies, disconnected",
			    (unsigned long)c->uid, (long)c->pid);
			analyzer_client_free(c);
			return;
		}
		analyzer_request(c, (const char *)ac->in + off + sizeof(n), n);
		off += sizeof(n) + n;
	}
	if (off == 0)
		return;
	memmove(ac->in, ac->in + off, ac->inlen - off);
	ac->inlen -= off;
}

/*
 * Room for the next read: a buffer full of a message not yet whole
 * doubles, and an idle client outside a load gives a large one back.
 */
static void
analyzer_client_room(struct analyzer_conn *ac)
{
	size_t	 size = ac->insize;

	if (ac->inlen == ac->insize && size < ANALYZER_IN_MAX)
		size = size * 2 > ANALYZER_IN_MAX ? ANALYZER_IN_MAX : size * 2;
	else if (ac->inlen == 0 && ac->c.load == NULL)
		size = ANALYZER_IN_MIN;
	if (size != ac->insize) {
		ac->in = xreallocarray(ac->in, size, 1);
		ac->insize = size;
	}
}

/*
 * Whether c's peer has gone, its end of file maybe not yet read. A
 * peer that shut down only its writing half, to wait for a reply, has
 * not gone (no POLLHUP).
 */
static int
analyzer_peer_gone(struct client *c)
{
	struct pollfd	 p;

	p.fd = bufferevent_getfd(c->bev);
	p.events = 0;
	p.revents = 0;
	return (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)));
}

/*
 * While a load reads its file the client is not heard: its next
 * requests wait in the socket, in order.
 */
void
analyzer_client_hold(struct client *c)
{
	if (event_del(analyzer_conn(c)->rev) == -1)
		fatalx("cannot stop watching a client");
}

/*
 * A turn of work a held client does without its socket (a file it
 * handed over, read): it counts as a client's callback for the
 * clients' turn, and a client whose peer has gone is freed (-1).
 */
int
analyzer_client_turn(struct client *c)
{
	analyzer_calls++;
	if (analyzer_peer_gone(c)) {
		log_info("client uid %lu pid %ld left while its file was "
		    "read", (unsigned long)c->uid, (long)c->pid);
		analyzer_client_free(c);
		return (-1);
	}
	return (0);
}

/* The file is read: the requests that came meanwhile are handled. */
void
analyzer_client_resume(struct client *c)
{
	struct analyzer_conn	*ac = analyzer_conn(c);

	if (event_add(ac->rev, NULL) == -1)
		fatalx("cannot watch a client socket");
	analyzer_client_parse(ac);
}

/*
 * A descriptor that came with the bytes is kept as the client's file
 * when the daemon takes files and the client has none, neither waiting
 * nor loading; any other is closed at once, so that a client holds two
 * descriptors at most (its socket and one file) and none can fill the
 * analyzer's table.
 */
static void
analyzer_client_fds(struct client *c, struct msghdr *mh)
{
	struct cmsghdr	*cm;
	size_t		 i, n;
	int		 fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(fd);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(fd),
			    sizeof(fd));
			if (analyzer.conf->take_files && c->file_fd == -1 &&
			    c->load == NULL) {
				c->file_fd = fd;
				continue;
			}
			log_debug("client uid %lu pid %ld: a descriptor it "
			    "handed over was closed", (unsigned long)c->uid,
			    (long)c->pid);
			close(fd);
		}
	}
}

/*
 * Reads straight into the client's own buffer: one read per wakeup,
 * no FIONREAD, and requests are decoded where they landed. recvmsg, as
 * a client may hand over a file with a load_begin.
 */
static void
analyzer_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct analyzer_conn	*ac = arg;
	struct client		*c = &ac->c;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}			 cmsg;
	struct msghdr		 mh;
	struct iovec		 iov;
	size_t			 want, left;
	ssize_t			 n;
	uint32_t		 len;

	analyzer_calls++;
	analyzer_client_room(ac);
	want = ac->insize - ac->inlen;
	if (want > ANALYZER_READ_MAX)
		want = ANALYZER_READ_MAX;
	/*
	 * No further than the end of the request begun: a read that took
	 * the start of the next one too left that part to be moved to the
	 * buffer's start, on a load half of every batch of frames.
	 */
	if (ac->inlen >= sizeof(len)) {
		memcpy(&len, ac->in, sizeof(len));
		left = sizeof(len) + (size_t)ntohl(len) - ac->inlen;
		if (left > 0 && left < want)
			want = left;
	}
	iov.iov_base = ac->in + ac->inlen;
	iov.iov_len = want;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	/* A failed recvmsg leaves msg_controllen as it was given. */
	if (n > 0 && mh.msg_controllen > 0)
		analyzer_client_fds(c, &mh);
	if (n <= 0) {
		log_debug("client uid %lu pid %ld: %s", (unsigned long)c->uid,
		    (long)c->pid, n == 0 ? "disconnected" : "lost");
		analyzer_client_free(c);
		return;
	}
	c->heard = 1;
	ac->inlen += (size_t)n;
	analyzer_client_parse(ac);
}

static void
analyzer_client_write(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	analyzer_calls++;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			analyzer_client_free(c);
		return;
	}
	analyzer_stream_pump(c);
}

static void
analyzer_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;

	analyzer_calls++;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		log_debug("client uid %lu pid %ld: %s",
		    (unsigned long)c->uid, (long)c->pid,
		    (what & BEV_EVENT_EOF) ? "disconnected" : "lost");
		analyzer_client_free(c);
	}
}

static void
analyzer_client_free(struct client *c)
{
	struct analyzer_conn	*ac = analyzer_conn(c);

	control_client_gone(c);
	if (c->stream.kind != STREAM_NONE)
		analyzer_session_unref(c->stream.ks);
	TAILQ_REMOVE(&analyzer.clients, c, entry);
	analyzer.nclients--;
	limit_release(c->uid);
	if (c->file_fd != -1)
		close(c->file_fd);
	event_free(ac->rev);
	if (ac->closer != NULL)
		event_free(ac->closer);
	bufferevent_free(c->bev);
	free(ac->in);
	free(ac);
}

/*
 * Frees the clients of uid (of every uid when all is set) whose peer has
 * gone while its end of file still waits in the event loop: a client
 * that connects again at once is not to find its last connection still
 * counted against its limits.
 */
void
analyzer_reap(uid_t uid, int all)
{
	struct client	*c, *next;

	for (c = TAILQ_FIRST(&analyzer.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!all && c->uid != uid)
			continue;
		if (analyzer_peer_gone(c)) {
			log_debug("client uid %lu pid %ld: gone before its "
			    "end of file was read", (unsigned long)c->uid,
			    (long)c->pid);
			analyzer_client_free(c);
		}
	}
}

static void
analyzer_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct analyzer_conn	*ac;
	struct client		*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	int			 sndbuf = ANALYZER_STREAM_HIGH;

	analyzer_calls++;
	memset(&cred, 0, sizeof(cred));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	if (limit_admit(fd, cred.uid, cred.pid) == -1)
		return;
	/* Room for a whole stream high mark: fewer wake-ups both sides. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_debug("SO_SNDBUF: %s", strerror(errno));
	ac = xcalloc(1, sizeof(*ac));
	c = &ac->c;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->since_us = analyzer_now_us();
	c->heard = 1;		/* idle from the next sweep on */
	c->file_fd = -1;
	c->load_fd = -1;
	c->bev = bufferevent_socket_new(analyzer.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(c->bev, NULL, analyzer_client_write,
	    analyzer_client_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, ANALYZER_STREAM_LOW, 0);
	bufferevent_enable(c->bev, EV_WRITE);
	ac->rev = event_new(analyzer.base, fd, EV_READ | EV_PERSIST,
	    analyzer_client_read, ac);
	if (ac->rev == NULL || event_add(ac->rev, NULL) == -1)
		fatalx("cannot watch a client socket");
	ac->insize = ANALYZER_IN_MIN;
	ac->in = xmalloc(ac->insize);
	TAILQ_INSERT_TAIL(&analyzer.clients, c, entry);
	analyzer.nclients++;
	log_info("client connected: uid %lu pid %ld", (unsigned long)c->uid,
	    (long)c->pid);
}

#ifdef HTRACR_TEST_HOOKS
/*
 * Test builds only: HTRACR_TEST_BAD_HEAD=1 makes every other batch end
 * with the ring's head overwritten by one the capture process must not
 * take (far ahead, back at the start, one ring ahead), as a subverted
 * analyzer could write it (tests/regress/116).
 */
static void
analyzer_test_bad_head(void)
{
	static int	 on = -1;
	static uint64_t	 n;
	uint64_t	 v;

	if (on == -1)
		on = getenv("HTRACR_TEST_BAD_HEAD") != NULL;
	if (!on || n++ % 2 == 0)
		return;
	switch (n / 2 % 3) {
	case 0:
		v = UINT64_MAX;
		break;
	case 1:
		v = 0;
		break;
	default:
		v = analyzer_ring->done + analyzer_ring->size;
		break;
	}
	__atomic_store_n(&analyzer_ring->ctl->head, v, __ATOMIC_RELEASE);
}
#endif

/*
 * Feeds a frames batch to the live session where it lies in the shared
 * ring, then gives its room back to the capture process.
 */
static void
analyzer_link_frames(const u_char *msg)
{
	struct ipc_span		 sp;
	struct proto_frame	 f;
	const u_char		*p, *data;
	size_t			 len, off = 0;
	int			 rc;

	memcpy(&sp, msg, sizeof(sp));
	if ((p = shring_take(analyzer_ring, &sp, &len)) == NULL)
		fatalx("capture sent span %llu-%llu, not the next in the ring",
		    (unsigned long long)sp.start, (unsigned long long)sp.end);
	while ((rc = ipc_frames_next(p, len, &off, &f, &data)) == 1)
		if (analyzer.live != NULL)
			session_frame(analyzer.live->s, f.ts_us, data,
			    f.caplen, f.len);
	if (rc == -1)
		fatalx("capture sent a cut frame or one overrunning its batch");
	shring_release(analyzer_ring, &sp);
#ifdef HTRACR_TEST_HOOKS
	analyzer_test_bad_head();
#endif
}

static void
analyzer_link_message(const struct ipc_hdr *h, const u_char *p)
{
	if (ipc_reply_size(h->type) != (ssize_t)h->len)
		fatalx("capture sent message type %u of %u bytes", h->type,
		    h->len);
	if (h->type == IPC_SPAN) {
		analyzer_link_frames(p);
		return;
	}
	if (h->type == IPC_QUIT) {
		log_debug("capture process asked to quit");
		exit(0);
	}
	live_reply(h->type, p, h->len);
}

#ifdef HTRACR_TEST_HOOKS
/*
 * Test builds only (make build/htracrd-testhooks): HTRACR_TEST_SLOW_LINK
 * =US makes every read of the link cost US more microseconds of CPU, an
 * analyzer that cannot keep up with the capture (tests/regress/115).
 */
static void
analyzer_test_slow(void)
{
	static long	 us = -1;
	const char	*v;
	uint64_t	 until;

	if (us == -1)
		us = (v = getenv("HTRACR_TEST_SLOW_LINK")) != NULL ?
		    strtol(v, NULL, 10) : 0;
	if (us <= 0)
		return;
	until = analyzer_mono_us() + (uint64_t)us;
	while (analyzer_mono_us() < until)
		continue;
}
#endif

static void
analyzer_link_later(void)
{
	struct timeval	 now = { 0, 0 };

	analyzer_calls_seen = analyzer_calls;
	if (evtimer_add(analyzer_link_back, &now) == -1)
		fatalx("cannot time the clients' turn");
}

/*
 * While the link always has frames, priority 0 alone would run and no
 * client would be served, not even "stop". When the link's turn is
 * over it is unwatched, and analyzer_link_back, a timer due at once,
 * runs after each poll behind the clients' callbacks: the clients'
 * turn goes on while they had any and their time lasts. The longer
 * their turn, the longer the link's next one: a busy analyzer gives
 * clients at most a fifth of its time, and never nothing.
 */
static void
analyzer_link_back_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	 now = analyzer_mono_us();

	if (analyzer_calls != analyzer_calls_seen &&
	    now - analyzer_turn_began < analyzer_turn_room) {
		analyzer_link_later();
		return;
	}
	analyzer_turn_last = now - analyzer_turn_began;
	analyzer_link_since = now;
	if (event_add(analyzer_link_ev, NULL) == -1)
		fatalx("cannot watch the capture link again");
}

static void
analyzer_link_turn(void)
{
	uint64_t	 now = analyzer_mono_us(), mine;

	mine = analyzer_turn_last * ANALYZER_TURN_SHARE;
	if (mine < ANALYZER_TURN_MIN_US)
		mine = ANALYZER_TURN_MIN_US;
	if (analyzer_link_since == 0)
		analyzer_link_since = now;
	if (now - analyzer_link_since < mine)
		return;
	if (event_del(analyzer_link_ev) == -1)
		fatalx("cannot step the capture link aside");
	analyzer_turn_began = now;
	analyzer_turn_room = (now - analyzer_link_since) / ANALYZER_TURN_SHARE;
	/* after a quiet while, not a quarter of all of it at once */
	if (analyzer_turn_room > ANALYZER_TURN_MAX_US)
		analyzer_turn_room = ANALYZER_TURN_MAX_US;
	analyzer_link_later();
}

/*
 * The link brings replies and the spans of frame batches; the frames
 * themselves are read where the capture process put them.
 */
static void
analyzer_link_read(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_hdr	 h;
	size_t		 off = 0;
	ssize_t		 n;
	int		 rc;

	analyzer_link_turn();
	n = read(fd, analyzer_link_buf + analyzer_link_len,
	    ANALYZER_LINK_BUF - analyzer_link_len);
	if (n == 0)
		fatalx("the capture process went away; exiting");
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		fatal("reading from the capture process");
	}
	analyzer_link_len += (size_t)n;
	while ((rc = ipc_msg_next(analyzer_link_buf + off,
	    analyzer_link_len - off, &h)) == 1) {
		analyzer_link_message(&h, analyzer_link_buf + off + sizeof(h));
		off += sizeof(h) + h.len;
	}
	if (rc == -1 || (rc == 0 && analyzer_link_len - off >= sizeof(h) &&
	    sizeof(h) + h.len > ANALYZER_LINK_BUF))
		fatalx("capture sent a message of %u bytes", h.len);
	memmove(analyzer_link_buf, analyzer_link_buf + off,
	    analyzer_link_len - off);
	analyzer_link_len -= off;
#ifdef HTRACR_TEST_HOOKS
	analyzer_test_slow();
#endif
}

/*
 * Commands are a few hundred bytes, one waiting at a time, and the
 * capture process always reads: a link that cannot take one is broken.
 */
int
analyzer_capture_cmd(uint32_t type, const void *p, size_t len)
{
	struct ipc_hdr	 h = { type, (uint32_t)len };
	u_char		 msg[sizeof(h) + sizeof(struct ipc_start)];
	ssize_t		 n;

	if (len > sizeof(msg) - sizeof(h))
		fatalx("command %u too large", type);
	memcpy(msg, &h, sizeof(h));
	if (len > 0)
		memcpy(msg + sizeof(h), p, len);
	do
		n = write(analyzer.linkfd, msg, sizeof(h) + len);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)(sizeof(h) + len))
		fatalx("cannot send a command to the capture process");
	return (0);
}

/*
 * Every second: idle clients go; while capturing, ask for kernel and
 * forward drop counters.
 */
static void
analyzer_tick(evutil_socket_t fd, short what, void *arg)
{
	limit_sweep();
	if (analyzer.cstate == CAPTURE_RUNNING && analyzer.waiting_op == 0)
		analyzer_capture_cmd(IPC_CMD_STATS, NULL, 0);
}

#ifdef HTRACR_SANITIZE
/*
 * Test only, in the sanitizer build: a read past the end of a heap
 * block (the name is longer than the block), for a test to see the
 * report come out whole from inside the sandbox.
 */
static void
analyzer_test_overflow(const char *name)
{
	char	*p;

	p = xcalloc(1, 8);
	log_info("test: read %d past the end", p[strlen(name)]);
	free(p);
}
#endif

/*
 * Test only (tests/regress): HTRACR_TEST_SYSCALL=openat|socket|execve|
 * tgkill|fcntl makes the analyzer attempt that call once sandboxed, so a test can
 * see seccomp kill it with SIGSYS; =heap-overflow, in the sanitizer
 * build, makes it read past the end of a heap block.
 */
void
analyzer_test_syscall(const char *name)
{
	char *const	 argv[] = { NULL };

	if (name == NULL)
		return;
	log_info("test: attempting %s inside the sandbox", name);
	if (strcmp(name, "openat") == 0)
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
	else if (strcmp(name, "socket") == 0)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (strcmp(name, "execve") == 0)
		syscall(SYS_execve, "/bin/true", argv, argv);
	else if (strcmp(name, "tgkill") == 0)
		syscall(SYS_tgkill, getppid(), getppid(), 0);
	else if (strcmp(name, "fcntl") == 0)
		syscall(SYS_fcntl, STDIN_FILENO, F_SETOWN, getppid());
#ifdef HTRACR_SANITIZE
	else if (strcmp(name, "heap-overflow") == 0)
		analyzer_test_overflow(name);
#endif
	log_info("test: %s returned: %s", name, strerror(errno));
}

static void
analyzer_signals(void)
{
	struct sigaction	 sa;

	/* The parent leads shutdown; it closes the link when done. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
}

/* Runs the analyzer; never returns. */
void
analyzer_main(struct htracrd_conf *conf, int listen_fd, int link_fd,
    struct shring *ring)
{
	struct evconnlistener	*l;
	struct event		*tick;
	struct timeval		 sec = { 1, 0 };
	const char		*test = getenv("HTRACR_TEST_SYSCALL");

	log_procname("analyzer");
	analyzer_signals();
	analyzer.conf = conf;
	analyzer.next_id = 1;
	TAILQ_INIT(&analyzer.clients);
	TAILQ_INIT(&analyzer.sessions);
	/*
	 * Two priorities: frames from the capture process first, then
	 * everything else (clients, the tick). A frame that waits can be
	 * lost once the rings are full; a client that waits only waits.
	 * Without them fifty clients asking for the live session made
	 * the kernel drop a tenth of the frames. A link never empty would
	 * shut the clients out: analyzer_link_turn gives them their turn.
	 */
	if ((analyzer.base = event_base_new()) == NULL ||
	    event_base_priority_init(analyzer.base, 2) == -1)
		fatalx("event_base_new failed");
	/* libevent accepts until EAGAIN: a blocking socket would hang. */
	evutil_make_socket_nonblocking(listen_fd);
	l = evconnlistener_new(analyzer.base, analyzer_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, listen_fd);
	if (l == NULL)
		fatalx("evconnlistener_new failed");
	evutil_make_socket_nonblocking(link_fd);
	analyzer.linkfd = link_fd;
	analyzer_ring = ring;
	shring_reader(ring);
	analyzer_link_ev = event_new(analyzer.base, link_fd,
	    EV_READ | EV_PERSIST, analyzer_link_read, NULL);
	analyzer_link_back = evtimer_new(analyzer.base, analyzer_link_back_cb,
	    NULL);
	if (analyzer_link_ev == NULL || analyzer_link_back == NULL ||
	    event_priority_set(analyzer_link_ev, 0) == -1 ||
	    event_priority_set(analyzer_link_back, 1) == -1 ||
	    event_add(analyzer_link_ev, NULL) == -1)
		fatalx("cannot watch the capture link");
	tick = event_new(analyzer.base, -1, EV_PERSIST, analyzer_tick, NULL);
	evtimer_add(tick, &sec);

	/* libcrypto finds its algorithms now: the sandbox lets it open nothing. */
	tlscrypt_init();
	sandbox_analyzer(conf, HTRACRD_NOFILE(conf));
	analyzer_test_syscall(test);
	log_debug("serving clients");
	event_base_dispatch(analyzer.base);
	fatalx("event loop ended");
}
