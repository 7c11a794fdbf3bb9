/*
 * shring.c: the frames' ring between htracrd's two processes (see
 * shring.h). Made by htracrd before the split (MAP_SHARED), then used
 * by both: the capture process (CAP_NET_RAW only) writes frames, the
 * sandboxed analyzer reads them.
 *
 * Over the socketpair every byte of a frame was copied four times and
 * woke the kernel's socket code twice, a quarter of htracrd's CPU time
 * in a live loopback run. Here the capture process copies a frame once,
 * from pcap's ring into this one, and the analyzer reads it in place.
 *
 * Trust. The analyzer parses hostile bytes, so what it can write must
 * not be able to steer the capture process. The capture process reads
 * one word of this memory, the analyzer's head, and takes it only when
 * it lies between the head taken last and the end of what was
 * announced: a wrong one can make the ring look fuller, never let a
 * write go outside it, since every write position comes from the
 * capture process's own tail. It never reads the frames' bytes back.
 * Each process maps what it only reads read-only (shring_init's
 * callers: the capture process the head's page, the analyzer the
 * frames), so the head's page is the one shared page the analyzer can
 * write. The analyzer trusts the capture process as it trusted the
 * socketpair, and checks each span as it checked each message: within
 * the ring, where the last one ended (or at the ring's start, when the
 * capture process left the ring's last bytes unused rather than split
 * a frame), and the frames in it are walked by ipc_frames_next.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include "log.h"
#include "shring.h"

/* The head is read with a plain load: its page is read-only there. */
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
    "a 64-bit head is read and written whole");

static size_t
shring_page(void)
{
	return ((size_t)sysconf(_SC_PAGESIZE));
}

/* Maps a ring of size bytes (a power of two), its head in a page ahead. */
void
shring_init(struct shring *r, size_t size)
{
	u_char	*p;

	if (size == 0 || (size & (size - 1)) != 0)
		fatalx("shared ring size %zu is not a power of two", size);
	p = mmap(NULL, shring_page() + size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of the shared ring");
	memset(r, 0, sizeof(*r));
	r->ctl = (struct shring_ctl *)(void *)p;
	r->data = p + shring_page();
	r->size = size;
}

void
shring_free(struct shring *r)
{
	if (r->ctl != NULL && munmap(r->ctl, shring_page() + r->size) == -1)
		fatal("munmap of the shared ring");
	memset(r, 0, sizeof(*r));
}

/* What the process that writes frames only reads: the head's page. */
void
shring_writer(struct shring *r)
{
	if (mprotect(r->ctl, shring_page(), PROT_READ) == -1)
		fatal("mprotect of the shared ring's head");
}

/* What the process that reads frames only reads: the frames. */
void
shring_reader(struct shring *r)
{
	if (mprotect(r->data, r->size, PROT_READ) == -1)
		fatal("mprotect of the shared ring");
}

/*
 * Bytes free for frames. The analyzer's head is taken only if it moved
 * forward and not past what was announced; otherwise the last one
 * stands and the refusal is counted.
 */
size_t
shring_room(struct shring *r)
{
	uint64_t	 h = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);

	if (h >= r->head && h <= r->sent)
		r->head = h;
	else
		r->bogus++;
	return (r->size - (size_t)(r->tail - r->head));
}

/*
 * Room for a frame of need bytes (at most half the ring), whole and in
 * one piece: NULL if the ring is too full, or if the frame would start
 * the ring over while bytes written are unannounced, since a batch lies
 * in one piece too (announce them with shring_span, then ask again).
 * The bytes go in with shring_commit.
 */
u_char *
shring_reserve(struct shring *r, size_t need)
{
	size_t	 pos = (size_t)(r->tail & (r->size - 1)), skip = 0;

	if (need > r->size / 2)
		return (NULL);
	if (pos + need > r->size)
		skip = r->size - pos;
	if ((skip > 0 || pos == 0) && r->tail != r->sent)
		return (NULL);
	if (shring_room(r) < skip + need)
		return (NULL);
	if (skip > 0) {
		r->tail += skip;
		r->sent = r->tail;
	}
	return (r->data + (r->tail & (r->size - 1)));
}

void
shring_commit(struct shring *r, size_t n)
{
	r->tail += n;
}

/* Bytes written and not yet announced. */
size_t
shring_open(const struct shring *r)
{
	return ((size_t)(r->tail - r->sent));
}

/* The span to announce, if any bytes wait: 1 and sp filled, else 0. */
int
shring_span(struct shring *r, struct ipc_span *sp)
{
	if (r->tail == r->sent)
		return (0);
	sp->start = r->sent;
	sp->end = r->tail;
	r->sent = r->tail;
	return (1);
}

/*
 * The bytes of span sp and their length in *len, or NULL if the span
 * is not the next one or leaves the ring.
 */
const u_char *
shring_take(const struct shring *r, const struct ipc_span *sp, size_t *len)
{
	uint64_t	 mask = r->size - 1;

	if (sp->start != r->done &&
	    ((r->done & mask) == 0 || sp->start != ((r->done + mask) & ~mask)))
		return (NULL);
	if (sp->end <= sp->start ||
	    sp->end - sp->start > r->size - (sp->start & mask))
		return (NULL);
	*len = (size_t)(sp->end - sp->start);
	return (r->data + (sp->start & mask));
}

/* Span sp, taken, is read: its bytes may be written again. */
void
shring_release(struct shring *r, const struct ipc_span *sp)
{
	r->done = sp->end;
	__atomic_store_n(&r->ctl->head, r->done, __ATOMIC_RELEASE);
}
