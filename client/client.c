/*
 * client.c: the connection from htracrctl to htracrd's Unix socket:
 * hello, requests, replies and streams (proto/PROTOCOL.md). Runs in
 * htracrctl with the invoking user's privileges. Replies come from the
 * daemon but carry wire bytes, so every daemon message is escaped
 * before it is printed.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "esc.h"
#include "log.h"
#include "proto.h"

/*
 * Clearing a zone keeps only its first chunk: make that one large
 * enough for a whole streamed reply, so a stream of them reuses the
 * same memory instead of faulting in fresh pages for every message.
 */
#define CLIENT_ZONE_CHUNK	(8 * 1024 * 1024)
#define CLIENT_SNDBUF		(4 * 1024 * 1024)
#define CLIENT_TIMEOUT_MS	60000	/* silence before giving up */

volatile sig_atomic_t	client_interrupted;

static const char	*client_errs[] = {
	NULL, "malformed", "version", "unknown_op", "bad_arg", "not_found",
	"busy", "limit", "state", "capture", "unavailable", "internal",
};

const char *
client_err_name(int64_t code)
{
	if (code < 1 || code >= (int64_t)(sizeof(client_errs) /
	    sizeof(client_errs[0])))
		return ("unknown error");
	return (client_errs[code]);
}

/* What to do about a socket we cannot reach, not just errno. */
static void
client_connect_error(const char *path, int err)
{
	struct passwd	*pw;

	switch (err) {
	case EACCES:
	case EPERM:
		pw = getpwuid(getuid());
		log_warnx("cannot connect to %s: %s; only root and members of "
		    "group htracr may use htracrd (ask an administrator to run "
		    "'usermod -aG htracr %s', then log in again)", path,
		    strerror(err), pw != NULL ? pw->pw_name : "USER");
		break;
	case ENOENT:
	case ECONNREFUSED:
		log_warnx("cannot connect to %s: %s; is htracrd running? "
		    "(systemctl start htracrd, or set HTRACR_SOCKET)", path,
		    strerror(err));
		break;
	default:
		log_warnx("cannot connect to %s: %s", path, strerror(err));
		break;
	}
}

/* Returns a connected socket or -1 with errno set. */
static int
client_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, size = CLIENT_SNDBUF, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	/* Loads stream hundreds of megabytes: fewer, larger writes. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
client_probe(const char *path)
{
	int	 fd;

	if ((fd = client_connect(path)) == -1)
		return (-1);
	close(fd);
	return (0);
}

static int
client_hello(struct client *c)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	msgpack_object	 res;
	uint64_t	 id;
	int		 capture = 0;

	id = client_begin(c, &sb, &pk, PROTO_OP_HELLO, 2);
	proto_pack_key(&pk, "version");
	msgpack_pack_uint32(&pk, PROTO_VERSION);
	proto_pack_key(&pk, "client");
	proto_pack_str(&pk, "htracrctl 0.1");
	if (client_send(c, &sb, NULL, 0) == -1)
		return (-1);
	if (client_read(c, id, NULL, &res) != CLIENT_RESULT)
		return (-1);
	(void)proto_get_bool(&res, "capture", &capture);
	c->capture = capture;
	return (0);
}

int
client_open(struct client *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->next_id = 1;
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	if ((c->fd = client_connect(path)) == -1) {
		client_connect_error(path, errno);
		return (-1);
	}
	if ((c->zone = msgpack_zone_new(CLIENT_ZONE_CHUNK)) == NULL)
		fatalx("out of memory");
	if (client_hello(c) == -1) {
		client_close(c);
		return (-1);
	}
	return (0);
}

void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->zone != NULL)
		msgpack_zone_free(c->zone);
	c->zone = NULL;
}

uint64_t
client_begin(struct client *c, msgpack_sbuffer *sb, msgpack_packer *pk,
    int op, size_t nfields)
{
	uint64_t	 id = c->next_id++;

	/* A watch stream is silent for as long as nothing happens. */
	if (op == PROTO_OP_WATCH)
		c->timeout_ms = -1;
	proto_begin(sb, pk);
	msgpack_pack_map(pk, 2 + nfields);
	proto_pack_key(pk, "op");
	msgpack_pack_int(pk, op);
	proto_pack_key(pk, "id");
	msgpack_pack_uint64(pk, id);
	return (id);
}

/*
 * Writes every byte of iov, however the kernel splits it; pass, if not
 * -1, goes with the first byte (SCM_RIGHTS).
 */
static int
client_writev(int fd, struct iovec *iov, int iovcnt, int pass)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cmsg;
	struct cmsghdr	*cm;
	struct msghdr	 mh;
	ssize_t		 n;

	while (iovcnt > 0) {
		if (client_interrupted) {
			errno = EINTR;
			return (-1);
		}
		/* EPIPE, not SIGPIPE: say the daemon hung up, and why. */
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = iovcnt;
		if (pass != -1) {
			memset(&cmsg, 0, sizeof(cmsg));
			mh.msg_control = cmsg.buf;
			mh.msg_controllen = sizeof(cmsg.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(pass));
			memcpy(CMSG_DATA(cm), &pass, sizeof(pass));
		}
		if ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		pass = -1;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return (0);
}

/* Sends len bytes of fd from off; -1 with errno, ENODATA if fd ends early. */
static int
client_sendfile(struct client *c, int fd, off_t off, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if (client_interrupted) {
			errno = EINTR;
			return (-1);
		}
		if ((n = sendfile(c->fd, fd, &off, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = ENODATA;
			return (-1);
		}
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Sends the message in sb with len more bytes as the tail of its last
 * field: from memory at data, or when data is NULL, from fd at off
 * without passing through this process. pass, if not -1, is a
 * descriptor handed over with the message.
 */
static int
client_send_tail(struct client *c, msgpack_sbuffer *sb, const void *data,
    int fd, off_t off, size_t len, int pass)
{
	struct iovec	 iov[2];
	uint32_t	 n;
	int		 rc, saved;

	if (sb->size - 4 + len > PROTO_MAX_REQUEST) {
		msgpack_sbuffer_destroy(sb);
		log_warnx("request too large for the protocol");
		return (-1);
	}
	n = htonl((uint32_t)(sb->size - 4 + len));
	memcpy(sb->data, &n, sizeof(n));
	iov[0].iov_base = sb->data;
	iov[0].iov_len = sb->size;
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	rc = client_writev(c->fd, iov, data != NULL && len > 0 ? 2 : 1,
	    pass);
	if (rc == 0 && data == NULL && len > 0)
		rc = client_sendfile(c, fd, off, len);
	saved = errno;
	msgpack_sbuffer_destroy(sb);
	if (rc == -1 && saved == ENODATA)
		log_warnx("the capture file became shorter while it was read");
	else if (rc == -1) {
		/* The daemon's own error reply, if it sent one, says more. */
		if (saved != EINTR && client_poll_error(c) == 0)
			log_warnx("cannot send to htracrd at %s: %s", c->path,
			    strerror(saved));
	}
	return (rc);
}

int
client_send(struct client *c, msgpack_sbuffer *sb, const void *tail,
    size_t taillen)
{
	return (client_send_tail(c, sb, tail, -1, 0, tail != NULL ? taillen :
	    0, -1));
}

int
client_send_file(struct client *c, msgpack_sbuffer *sb, int fd, off_t off,
    size_t len)
{
	return (client_send_tail(c, sb, NULL, fd, off, len, -1));
}

int
client_send_fd(struct client *c, msgpack_sbuffer *sb, int fd)
{
	return (client_send_tail(c, sb, NULL, -1, 0, 0, fd));
}

/*
 * A daemon that stops answering must not hang a script for ever. The
 * user's Ctrl-C (client_interrupted) ends the wait without a message:
 * they know why.
 */
static int
client_wait(struct client *c)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	for (;;) {
		if (client_interrupted)
			return (-1);
		if ((n = poll(&pfd, 1, c->timeout_ms)) > 0)
			return (0);
		if (n == 0) {
			log_warnx("htracrd at %s sent nothing for %d s; "
			    "giving up", c->path, c->timeout_ms / 1000);
			return (-1);
		}
		if (errno != EINTR) {
			log_warn("poll");
			return (-1);
		}
	}
}

/* Reads exactly len bytes; 0 on success, -1 reported. */
static int
client_read_full(struct client *c, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if (client_wait(c) == -1)
			return (-1);
		if ((n = read(c->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("cannot read from htracrd at %s", c->path);
			return (-1);
		}
		if (n == 0) {
			log_warnx("htracrd at %s closed the connection; its log "
			    "may say why", c->path);
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* The next message's bytes, in zone. */
static int
client_recv_bytes(struct client *c, msgpack_zone *zone, char **buf,
    uint32_t *len)
{
	uint32_t	 n;

	if (client_read_full(c, &n, sizeof(n)) == -1)
		return (-1);
	n = ntohl(n);
	if (n == 0 || n > PROTO_MAX_REPLY) {
		log_warnx("htracrd sent a message of %u bytes; giving up", n);
		return (-1);
	}
	if ((*buf = msgpack_zone_malloc(zone, n)) == NULL)
		fatalx("out of memory");
	*len = n;
	return (client_read_full(c, *buf, n));
}

static int
client_decode(const char *buf, uint32_t n, msgpack_zone *zone,
    msgpack_object *msg)
{
	const char	*why;

	if (proto_decode(buf, n, zone, msg, 0, &why) == -1) {
		log_warnx("htracrd sent a bad message: %s", why);
		return (-1);
	}
	return (0);
}

/* Reads one message into zone; its strings point into zone too. */
static int
client_recv(struct client *c, msgpack_zone *zone, msgpack_object *msg)
{
	char		*buf;
	uint32_t	 n;

	if (client_recv_bytes(c, zone, &buf, &n) == -1)
		return (-1);
	return (client_decode(buf, n, zone, msg));
}

/* Prints an error reply; the message is the daemon's, quoting wire bytes. */
static void
client_report(struct client *c, const msgpack_object *err)
{
	const char	*msg = "";
	size_t		 len = 0;
	int64_t		 code = 0;
	char		 text[1024];

	(void)proto_get_i64(err, "code", &code);
	(void)proto_get_str(err, "message", &msg, &len);
	c->last_error = code;
	if (code != 0 && code == c->quiet_error)
		return;
	esc_buf(text, sizeof(text), msg, len);
	if (code == PROTO_ERR_VERSION)
		log_warnx("htracrd at %s speaks another protocol version: %s; "
		    "this htracrctl speaks version %d: install matching htracrd "
		    "and htracrctl", c->path, text, PROTO_VERSION);
	else
		log_warnx("htracrd: %s: %s", client_err_name(code), text);
}

/* What a decoded reply to id is, as client_read returns it. */
static int
client_reply(struct client *c, uint64_t id, const msgpack_object *msg,
    msgpack_object *val)
{
	const msgpack_object	*v;
	uint64_t		 rid = 0;

	if ((v = proto_get(msg, "error")) != NULL) {
		client_report(c, v);
		return (CLIENT_FAIL);
	}
	if (proto_get_u64(msg, "id", &rid) == -1 || rid != id) {
		log_warnx("htracrd answered request %llu, not %llu",
		    (unsigned long long)rid, (unsigned long long)id);
		return (CLIENT_FAIL);
	}
	if ((v = proto_get(msg, "ok")) != NULL && v->type ==
	    MSGPACK_OBJECT_MAP) {
		*val = *v;
		return (CLIENT_RESULT);
	}
	if ((v = proto_get(msg, "chunk")) != NULL && v->type ==
	    MSGPACK_OBJECT_ARRAY) {
		*val = *v;
		return (CLIENT_CHUNK);
	}
	if ((v = proto_get(msg, "end")) != NULL && v->type ==
	    MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*val = *v;
		return (CLIENT_END);
	}
	log_warnx("htracrd sent a reply of unknown shape");
	return (CLIENT_FAIL);
}

int
client_read(struct client *c, uint64_t id, msgpack_zone *zone,
    msgpack_object *val)
{
	msgpack_object		 msg;

	if (zone == NULL) {
		msgpack_zone_clear(c->zone);
		zone = c->zone;
	}
	if (client_recv(c, zone, &msg) == -1)
		return (CLIENT_FAIL);
	return (client_reply(c, id, &msg, val));
}

/*
 * A chunk as the daemon writes one: {"id": id, "chunk": [...]}, in
 * that order; *items is where its items begin. 0 if buf is not one.
 */
static int
client_chunk_at(const char *buf, uint32_t len, uint64_t id,
    const char **items, uint32_t *n)
{
	const unsigned char	*p = (const unsigned char *)buf;
	const unsigned char	*end = p + len;
	uint64_t		 v;
	size_t			 w;

	if (len < 12 || memcmp(p, "\x82\xa2id", 4) != 0)
		return (0);
	p += 4;
	if (*p <= 0x7f)
		v = *p++;
	else if (*p >= 0xcc && *p <= 0xcf) {
		w = (size_t)1 << (*p++ - 0xcc);
		if ((size_t)(end - p) < w)
			return (0);
		v = proto_be(p, w);
		p += w;
	} else
		return (0);
	if (v != id || (size_t)(end - p) < 7 || memcmp(p, "\xa5" "chunk", 6))
		return (0);
	p += 6;
	if (*p >= 0x90 && *p <= 0x9f)
		*n = *p++ & 0x0f;
	else if (*p == 0xdc || *p == 0xdd) {
		w = *p++ == 0xdc ? 2 : 4;
		if ((size_t)(end - p) < w)
			return (0);
		*n = (uint32_t)proto_be(p, w);
		p += w;
	} else
		return (0);
	*items = (const char *)p;
	return (1);
}

int
client_read_raw(struct client *c, uint64_t id, const char **items,
    const char **end, uint32_t *n, msgpack_object *val)
{
	msgpack_object	 msg;
	char		*buf;
	uint32_t	 len;
	int		 rc;

	msgpack_zone_clear(c->zone);
	if (client_recv_bytes(c, c->zone, &buf, &len) == -1)
		return (CLIENT_FAIL);
	if (client_chunk_at(buf, len, id, items, n)) {
		*end = buf + len;
		return (CLIENT_CHUNK);
	}
	if (client_decode(buf, len, c->zone, &msg) == -1)
		return (CLIENT_FAIL);
	if ((rc = client_reply(c, id, &msg, val)) == CLIENT_CHUNK) {
		log_warnx("htracrd sent a chunk laid out unlike its own");
		return (CLIENT_FAIL);
	}
	return (rc);
}

int
client_call(struct client *c, int op, msgpack_object *val)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, op, 0);
	if (client_send(c, &sb, NULL, 0) == -1)
		return (CLIENT_FAIL);
	if (client_read(c, id, NULL, val) != CLIENT_RESULT)
		return (CLIENT_FAIL);
	return (CLIENT_RESULT);
}

/*
 * Requests such as load_frames get no reply unless they fail, so a
 * sender looks here now and then. Returns -1 (reported) if the daemon
 * sent an error or hung up.
 */
int
client_poll_error(struct client *c)
{
	struct pollfd	 pfd;
	msgpack_object	 msg;

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) <= 0 || (pfd.revents & (POLLIN | POLLHUP)) == 0)
		return (0);
	msgpack_zone_clear(c->zone);
	if (client_recv(c, c->zone, &msg) == -1)
		return (-1);
	if (proto_get(&msg, "error") != NULL)
		client_report(c, proto_get(&msg, "error"));
	else
		log_warnx("htracrd sent an unexpected reply");
	return (-1);
}
