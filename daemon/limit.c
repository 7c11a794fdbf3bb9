/*
 * limit.c: who may hold a connection to the analyzer, and for how
 * long. Each uid (from SO_PEERCRED) may hold --max-per-uid connections
 * and the daemon --max-clients in all, so that one user's runaway
 * script cannot lock the others out; a connection that neither sends
 * nor reads anything for --idle-timeout seconds is closed, unless it
 * is watching or taking a stream. Every refusal is answered with an
 * error naming the limit; a uid reaching its cap is logged once, not
 * once per refused connection. Runs in the analyzer: unprivileged,
 * chrooted, seccomp.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "analyzer.h"
#include "log.h"
#include "xmalloc.h"

/*
 * The connections of one uid. There is one only while the uid holds a
 * connection, so there are never more than --max-clients of them.
 */
struct limit_user {
	TAILQ_ENTRY(limit_user)	 entry;
	uid_t			 uid;
	size_t			 n;		/* connections held */
	int			 capped;	/* at its cap, logged once */
	uint64_t		 refused;	/* since it reached its cap */
};
TAILQ_HEAD(limit_users, limit_user);

static struct limit_users	 limit_users =
				    TAILQ_HEAD_INITIALIZER(limit_users);
static int			 limit_full;	/* at --max-clients, logged */
static uint64_t			 limit_full_refused;

static struct limit_user *
limit_user_find(uid_t uid)
{
	struct limit_user	*lu;

	TAILQ_FOREACH(lu, &limit_users, entry)
		if (lu->uid == uid)
			return (lu);
	return (NULL);
}

/*
 * The error goes out before the close, on a new socket whose buffer is
 * empty: one short write that cannot block.
 */
static void
limit_refuse(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
limit_refuse(int fd, const char *fmt, ...)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 msg[256];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proto_begin(&sb, &pk);
	proto_pack_error(&pk, 0, PROTO_ERR_LIMIT, "%s", msg);
	proto_end(&sb);
	if (write(fd, sb.data, sb.size) == -1)
		log_debug("refused client: %s", strerror(errno));
	msgpack_sbuffer_destroy(&sb);
	close(fd);
}

/* At its cap: the first refusal is logged, the rest only counted. */
static void
limit_refuse_user(int fd, struct limit_user *lu, pid_t pid)
{
	size_t	 cap = analyzer.conf->max_per_uid;

	if (!lu->capped)
		log_warnx("uid %lu holds %zu connections, its limit "
		    "(--max-per-uid): refusing its new ones until it closes "
		    "some", (unsigned long)lu->uid, cap);
	lu->capped = 1;
	lu->refused++;
	log_debug("client uid %lu pid %ld refused: uid at its limit",
	    (unsigned long)lu->uid, (long)pid);
	limit_refuse(fd, "too many connections from uid %lu: at most %zu "
	    "per user (--max-per-uid); close some and try again",
	    (unsigned long)lu->uid, cap);
}

static void
limit_refuse_all(int fd, uid_t uid, pid_t pid)
{
	size_t	 cap = analyzer.conf->max_clients;

	if (!limit_full)
		log_warnx("%zu connections open, the limit (--max-clients): "
		    "refusing new ones until some close", cap);
	limit_full = 1;
	limit_full_refused++;
	log_debug("client uid %lu pid %ld refused: daemon at its limit",
	    (unsigned long)uid, (long)pid);
	limit_refuse(fd, "too many clients: the daemon serves at most %zu "
	    "connections (--max-clients); try again later", cap);
}

/*
 * Counts a new connection of uid against its limits: 0 if it may stay,
 * -1 if it was refused (told why and closed). The uid's own cap is
 * checked first: that is the one its owner can do something about. At
 * a cap, connections whose peer has gone, their end of file not read
 * yet, are let go first (analyzer_reap): a client that closes and
 * connects again at once is not refused for its own last connection.
 */
int
limit_admit(int fd, uid_t uid, pid_t pid)
{
	struct limit_user	*lu = limit_user_find(uid);

	if (lu != NULL && lu->n >= analyzer.conf->max_per_uid) {
		analyzer_reap(uid, 0);
		lu = limit_user_find(uid);
	}
	if (lu != NULL && lu->n >= analyzer.conf->max_per_uid) {
		limit_refuse_user(fd, lu, pid);
		return (-1);
	}
	if (analyzer.nclients >= analyzer.conf->max_clients)
		analyzer_reap(0, 1);
	if (analyzer.nclients >= analyzer.conf->max_clients) {
		limit_refuse_all(fd, uid, pid);
		return (-1);
	}
	if (lu == NULL) {
		lu = xcalloc(1, sizeof(*lu));
		lu->uid = uid;
		TAILQ_INSERT_TAIL(&limit_users, lu, entry);
	}
	lu->n++;
	return (0);
}

/*
 * A connection of uid is gone (analyzer.nclients already counts it
 * out). Below a cap again, that cap may be logged anew.
 */
void
limit_release(uid_t uid)
{
	struct limit_user	*lu;

	if ((lu = limit_user_find(uid)) == NULL || lu->n == 0)
		fatalx("uid %lu released a connection it did not hold",
		    (unsigned long)uid);
	if (--lu->n < analyzer.conf->max_per_uid && lu->capped) {
		log_info("uid %lu below its limit again, after refusing %llu "
		    "of its connections", (unsigned long)uid,
		    (unsigned long long)lu->refused);
		lu->capped = 0;
		lu->refused = 0;
	}
	if (lu->n == 0) {
		TAILQ_REMOVE(&limit_users, lu, entry);
		free(lu);
	}
	if (limit_full && analyzer.nclients < analyzer.conf->max_clients) {
		log_info("below --max-clients again, after refusing %llu "
		    "connections", (unsigned long long)limit_full_refused);
		limit_full = 0;
		limit_full_refused = 0;
	}
}

/*
 * Quiet but not idle: a watch waits for transactions, a stream for
 * the client to read, a start or stop for the capture process.
 */
static int
limit_waiting(const struct client *c)
{
	return (c->watching || c->stream.kind != STREAM_NONE ||
	    analyzer.waiting == c);
}

/*
 * Runs every second. A client was heard from when it sent anything
 * since the last sweep or its queued replies moved (it reads them);
 * one not heard from for --idle-timeout seconds gets an error naming
 * the limit and is closed. The flag and the queue length keep the
 * per-read cost at one store.
 */
void
limit_sweep(void)
{
	struct client	*c, *next;
	unsigned int	 idle = analyzer.conf->idle_secs;
	uint64_t	 now = analyzer_mono_us() / 1000000;
	size_t		 out;

	for (c = TAILQ_FIRST(&analyzer.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->closing)
			continue;
		out = evbuffer_get_length(bufferevent_get_output(c->bev));
		if (c->heard || out != c->out_seen || limit_waiting(c)) {
			c->heard = 0;
			c->out_seen = out;
			c->quiet_since = now;
			continue;
		}
		if (idle == 0 || now - c->quiet_since < idle)
			continue;
		log_info("client uid %lu pid %ld idle for %u s; closed",
		    (unsigned long)c->uid, (long)c->pid, idle);
		analyzer_error(c, 0, PROTO_ERR_LIMIT, "idle for %u s: closed "
		    "(--idle-timeout)", idle);
		analyzer_close(c);
	}
}
