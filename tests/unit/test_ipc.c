/*
 * test_ipc.c: unit tests of the link between htracrd's two processes.
 * The capture process's outgoing queue (daemon/ipc.c, struct ipc_buf)
 * against a peer that reads slowly, as an analyzer busy with its
 * clients does: every message arrives whole and in order, the queue
 * never passes its size, and the unsent bytes it moves to the front add
 * up to no more than the bytes it sent. The shared frames ring
 * (daemon/shring.c) driven as the capture process and the analyzer
 * drive it: every frame comes out whole and in order across the ring's
 * wraps, a head the analyzer should not have written changes nothing
 * but the room, and a span that is not the next is refused.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "shring.h"

#include "check.h"

#define QSIZE		(64 * 1024)
#define READ_ROOM	(QSIZE / 4)	/* as CAPTURE_READ_ROOM to its queue */
#define MSG		1000		/* payload bytes per message */
#define STEP		1024		/* what the peer reads at a time */
#define TOTAL		(8 * 1024 * 1024)
#define TYPE		IPC_STATS	/* any: the queue does not look */

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
		if (h.type != TYPE || h.len != MSG ||
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
			if (ipc_buf_put(&b, TYPE, p, MSG) == -1)
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

#define RSIZE		(64 * 1024)	/* ring: many wraps */
#define RBATCH		(8 * 1024)	/* as PROTO_FRAMES_BATCH to its ring */
#define RSPANS		4096

/* Frame n's bytes: depend on n and their place. */
static u_char
t_byte(uint32_t n, size_t i)
{
	return ((u_char)(n * 7 + i * 13));
}

/* The frames the analyzer has checked, and the first wrong one. */
struct reader {
	struct shring	 r;
	uint32_t	 next;	/* the frame expected */
	uint64_t	 frames;
	const char	*bad;
};

/* Takes span sp as analyzer_link_frames does, checking each frame. */
static void
t_read(struct reader *rd, const struct ipc_span *sp)
{
	struct proto_frame	 f;
	const u_char		*p, *data;
	size_t			 len, off = 0, i;
	int			 rc;

	if ((p = shring_take(&rd->r, sp, &len)) == NULL) {
		rd->bad = "a span was refused";
		return;
	}
	while ((rc = ipc_frames_next(p, len, &off, &f, &data)) == 1) {
		if (f.ts_us != rd->next) {
			rd->bad = "a frame out of order";
			return;
		}
		for (i = 0; i < f.caplen; i++)
			if (data[i] != t_byte(rd->next, i)) {
				rd->bad = "a frame changed";
				return;
			}
		rd->next++;
		rd->frames++;
	}
	if (rc == -1)
		rd->bad = "a frame cut";
	shring_release(&rd->r, sp);
}

/* The capture process's side: announces what waits, as capture.c. */
static void
t_announce(struct shring *w, struct ipc_span *q, size_t *nq)
{
	if (*nq < RSPANS && shring_span(w, &q[*nq]))
		(*nq)++;
}

/*
 * Frames of 0 to 12 KiB, now and then one of half the ring, written as
 * capture_frame writes them, read back in random turns.
 */
static void
test_ring_stream(void)
{
	static struct ipc_span	 q[RSPANS];
	struct shring		 w;
	struct reader		 rd;
	struct proto_frame	 f;
	u_char			*p;
	size_t			 nq = 0, head = 0, need, left, i;
	uint64_t		 wraps = 0, drops = 0, made = 0;
	uint32_t		 n = 0, seed = 1;

	shring_init(&w, RSIZE);
	memset(&rd, 0, sizeof(rd));
	rd.r = w;		/* as after fork: the mapping is shared */
	while (n < 200000 && rd.bad == NULL) {
		seed = seed * 1103515245 + 12345;
		if ((seed >> 16) % 4 == 0) {
			/* the analyzer takes what was announced */
			for (; head < nq && rd.bad == NULL; head++)
				t_read(&rd, &q[head]);
			nq = head = 0;
			continue;
		}
		if ((seed >> 16) % 7 == 0)
			t_announce(&w, q, &nq);	/* a dispatch ended */
		f.caplen = (seed >> 8) % 97 == 0 ? RSIZE / 2 - sizeof(f) :
		    (seed >> 4) % (12 * 1024);
		/* now and then one that ends where the ring does */
		left = RSIZE - (size_t)(w.tail & (RSIZE - 1));
		if ((seed >> 8) % 5 == 0 && left > sizeof(f) &&
		    left - sizeof(f) < 12 * 1024)
			f.caplen = (uint32_t)(left - sizeof(f));
		f.len = f.caplen;
		f.ts_us = n;
		need = sizeof(f) + f.caplen;
		if (shring_open(&w) + need > RBATCH)
			t_announce(&w, q, &nq);
		if ((p = shring_reserve(&w, need)) == NULL) {
			t_announce(&w, q, &nq);
			if ((p = shring_reserve(&w, need)) == NULL) {
				drops++;
				continue;
			}
		}
		if ((w.tail & (RSIZE - 1)) == 0 && w.tail > 0)
			wraps++;
		memcpy(p, &f, sizeof(f));
		for (i = 0; i < f.caplen; i++)
			p[sizeof(f) + i] = t_byte(n, i);
		shring_commit(&w, need);
		n++;
		made++;
	}
	t_announce(&w, q, &nq);
	for (; head < nq && rd.bad == NULL; head++)
		t_read(&rd, &q[head]);
	check(rd.bad == NULL, "%s after %llu frames", rd.bad,
	    (unsigned long long)rd.frames);
	check(rd.frames == made && made > 0, "%llu frames read of %llu "
	    "written", (unsigned long long)rd.frames,
	    (unsigned long long)made);
	check(wraps > 100, "only %llu frames began the ring again",
	    (unsigned long long)wraps);
	check(drops > 0, "the ring was never full");
	check(w.bogus == 0, "%llu heads refused", (unsigned long long)w.bogus);
	printf("# ring_stream: %llu frames, %llu at the ring's start, %llu "
	    "refused while full\n", (unsigned long long)made,
	    (unsigned long long)wraps, (unsigned long long)drops);
	shring_free(&w);
	report("ring_stream");
}

/*
 * A head moved back, or past what was announced, is not taken: the
 * room stays what the last good head left, the writes stay in the
 * ring, and each refusal is counted.
 */
static void
test_ring_bogus_head(void)
{
	struct shring	 w;
	struct ipc_span	 sp;
	u_char		*p;
	size_t		 room;

	shring_init(&w, RSIZE);
	p = shring_reserve(&w, 1000);
	check(p == w.data, "first frame not at the ring's start");
	shring_commit(&w, 1000);
	check(shring_span(&w, &sp) && sp.start == 0 && sp.end == 1000,
	    "span of the first frame");
	w.ctl->head = 600;
	room = shring_room(&w);
	check(room == RSIZE - 400 && w.bogus == 0, "room %zu after a head "
	    "of 600", room);
	w.ctl->head = 5000;		/* past what was announced */
	check(shring_room(&w) == room && w.bogus == 1, "a head past the "
	    "announced bytes was taken");
	w.ctl->head = 100;		/* back */
	check(shring_room(&w) == room && w.bogus == 2, "a head moved back "
	    "was taken");
	w.ctl->head = UINT64_MAX;
	p = shring_reserve(&w, RSIZE / 2);
	check(p != NULL && p >= w.data && p + RSIZE / 2 <= w.data + RSIZE,
	    "a write outside the ring");
	check(w.bogus == 3, "%llu refusals", (unsigned long long)w.bogus);
	shring_free(&w);
	report("ring_bogus_head");
}

/* The analyzer takes only the next span, within the ring. */
static void
test_ring_take(void)
{
	struct shring	 r;
	struct ipc_span	 sp;
	size_t		 len;

	shring_init(&r, RSIZE);
	r.done = RSIZE - 100;
	sp.start = RSIZE - 100;
	sp.end = RSIZE + 100;
	check(shring_take(&r, &sp, &len) == NULL, "a span across the end");
	sp.end = RSIZE - 100;
	check(shring_take(&r, &sp, &len) == NULL, "an empty span");
	sp.start = RSIZE - 200;
	sp.end = RSIZE - 150;
	check(shring_take(&r, &sp, &len) == NULL, "a span behind");
	sp.start = RSIZE - 50;
	sp.end = RSIZE;
	check(shring_take(&r, &sp, &len) == NULL, "a span with a gap");
	sp.start = 2 * RSIZE;
	sp.end = 2 * RSIZE + 10;
	check(shring_take(&r, &sp, &len) == NULL, "a span a ring ahead");
	sp.start = RSIZE;
	sp.end = RSIZE + 10;
	check(shring_take(&r, &sp, &len) == r.data && len == 10,
	    "the span at the ring's start after a skip");
	sp.start = RSIZE - 100;
	sp.end = RSIZE;
	check(shring_take(&r, &sp, &len) == r.data + RSIZE - 100 &&
	    len == 100, "the next span");
	shring_release(&r, &sp);
	check(r.ctl->head == RSIZE, "head %llu after the release",
	    (unsigned long long)r.ctl->head);
	shring_free(&r);
	report("ring_take");
}

int
main(void)
{
	test_slow_peer();
	test_ring_stream();
	test_ring_bogus_head();
	test_ring_take();
	return (nfail > 0);
}
