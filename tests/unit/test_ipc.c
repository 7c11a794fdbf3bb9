/*
 * test_ipc.c: unit tests of the capture process's outgoing queue
 * (daemon/ipc.c, struct ipc_buf) against a peer that reads slowly, as an
 * analyzer busy with its clients does: every message arrives whole and
 * in order, the queue never passes its size, and the unsent bytes it
 * moves to the front add up to no more than the bytes it sent.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

#include "check.h"

#define QSIZE		(64 * 1024)
#define READ_ROOM	(QSIZE / 4)	/* as CAPTURE_READ_ROOM to its queue */
#define MSG		1000		/* payload bytes per message */
#define STEP		1024		/* what the peer reads at a time */
#define TOTAL		(8 * 1024 * 1024)

/* The room the queue reports; adds to *moved what compacting moved. */
static size_t
t_room(struct ipc_buf *b, size_t *moved)
{
	size_t	 off = b->off, unsent = b->used - b->off, room;

	room = ipc_buf_room(b);
	if (off != 0 && b->off == 0 && unsent > 0)
		*moved += unsent;
	return (room);
}

/* Message n's payload: its number, then bytes that depend on it. */
static void
t_payload(u_char *p, uint32_t n)
{
	size_t	 i;

	memcpy(p, &n, sizeof(n));
	for (i = sizeof(n); i < MSG; i++)
		p[i] = (u_char)(n * 31 + i);
}

/*
 * The peer's side: takes what it read into its own buffer and checks
 * each whole message there. Returns -1 at the first wrong one.
 */
struct peer {
	u_char		 buf[2 * (sizeof(struct ipc_hdr) + MSG)];
	size_t		 len;
	uint32_t	 next;
	size_t		 bytes;
};

static int
t_take(struct peer *pr, const u_char *p, size_t n)
{
	struct ipc_hdr	 h;
	u_char		 want[MSG];
	size_t		 whole = sizeof(h) + MSG;

	memcpy(pr->buf + pr->len, p, n);
	pr->len += n;
	pr->bytes += n;
	while (pr->len >= whole) {
		memcpy(&h, pr->buf, sizeof(h));
		t_payload(want, pr->next);
		if (h.type != IPC_FRAMES || h.len != MSG ||
		    memcmp(pr->buf + sizeof(h), want, MSG) != 0)
			return (-1);
		pr->next++;
		memmove(pr->buf, pr->buf + whole, pr->len - whole);
		pr->len -= whole;
	}
	return (0);
}

static void
test_slow_peer(void)
{
	struct ipc_buf	 b;
	struct peer	 pr;
	u_char		 p[MSG], in[STEP];
	size_t		 moved = 0, most = 0;
	uint32_t	 sent = 0;
	ssize_t		 n;
	int		 fds[2], bad = 0;

	memset(&pr, 0, sizeof(pr));
	check(pipe(fds) == 0, "pipe: %s", strerror(errno));
	/* a pipe of one page: the peer's kernel buffer stays small */
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	ipc_buf_init(&b, QSIZE);
	while (pr.bytes < TOTAL && !bad) {
		/* the producer queues while the room lasts, then flushes */
		while (t_room(&b, &moved) >= READ_ROOM) {
			t_payload(p, sent);
			if (ipc_buf_put(&b, IPC_FRAMES, p, MSG) == -1)
				break;
			sent++;
		}
		if (b.used > most)
			most = b.used;
		if (ipc_buf_flush(&b, fds[1]) == -1)
			bad = 1;
		/* the peer reads a little at a time */
		if ((n = read(fds[0], in, sizeof(in))) > 0 &&
		    t_take(&pr, in, (size_t)n) == -1)
			bad = 2;
	}
	check(bad == 0, "%s", bad == 1 ? "flush failed" :
	    "a message arrived changed or out of order");
	check(pr.next > 0 && pr.next <= sent, "%u messages checked of %u "
	    "sent", pr.next, sent);
	check(most <= QSIZE, "queue held %zu bytes in %d", most, QSIZE);
	check(moved <= pr.bytes, "compacting moved %zu bytes to send %zu",
	    moved, pr.bytes);
	printf("# ipc_slow_peer: %zu bytes sent in %u messages, %zu moved "
	    "to the front\n", pr.bytes, pr.next, moved);
	ipc_buf_free(&b);
	close(fds[0]);
	close(fds[1]);
	report("ipc_slow_peer");
}

int
main(void)
{
	test_slow_peer();
	return (nfail > 0);
}
