/*
 * ring.c: the raw-frame ring (see ring.h). Each frame costs one memcpy;
 * a new block is allocated only every block-size bytes, and the block
 * evicted last is kept to be reused so a session running at its budget
 * does not churn the allocator. Blocks are mapped on their own, not
 * taken from the heap: a block freed goes back to the kernel whole, and
 * the room it leaves is never cut up by small records (a session whose
 * every frame is evicted, its budget held by bodies, would otherwise
 * fragment the heap a block at every frame).
 *
 * A frame's header in a block is LEB128 numbers, not a proto_frame's 16
 * bytes: its captured length, shifted left one with the low bit set
 * when the length on the wire differs (that length follows then), and
 * its time after the frame before it in the block (zigzag, so a clock
 * that steps back still fits). On the bench capture a header takes
 * about 4 bytes. The header goes back to a proto_frame's as the frame
 * is handed out.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leb128.h"
#include "log.h"
#include "proto.h"
#include "ring.h"
#include "xmalloc.h"

#define RING_HDR_MAX	20	/* bytes a frame's header takes at most */

static size_t
ring_put_hdr(u_char *out, uint64_t prev_us, const struct proto_frame *h)
{
	int64_t	 d = (int64_t)(h->ts_us - prev_us);
	size_t	 n;

	n = leb_put(out, (uint64_t)h->caplen << 1 | (h->len != h->caplen));
	if (h->len != h->caplen)
		n += leb_put(out + n, h->len);
	n += leb_put(out + n, leb_zz(d));
	return (n);
}

/*
 * Reads the header at in, of a frame after one at time prev_us; it was
 * written by ring_put_hdr, so it ends within the block.
 */
static size_t
ring_get_hdr(const u_char *in, uint64_t prev_us, struct proto_frame *h)
{
	uint64_t	 v;
	size_t		 n;

	n = leb_get(in, LEB_MAX, &v);
	h->caplen = h->len = (uint32_t)(v >> 1);
	if (v & 1) {
		n += leb_get(in + n, LEB_MAX, &v);
		h->len = (uint32_t)v;
	}
	n += leb_get(in + n, LEB_MAX, &v);
	h->ts_us = prev_us + (uint64_t)leb_unzz(v);
	return (n);
}

/* The bytes mapped for a block holding size bytes of frames. */
static size_t
ring_map_size(size_t size)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);

	return ((sizeof(struct ring_block) + size + page - 1) & ~(page - 1));
}

/*
 * A block is filled to its end, so its pages are all faulted in as it
 * is mapped (MAP_POPULATE): one call instead of a fault every 4 KiB.
 * Reading the bench capture with its frames kept: 6,706 page faults
 * instead of 320,842, a quarter less CPU time.
 */
static struct ring_block *
ring_map(size_t size)
{
	struct ring_block	*b;

	b = mmap(NULL, ring_map_size(size), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b == MAP_FAILED)
		fatal("mmap of a frame block");
	b->size = size;
	return (b);
}

/* Returns the bytes handed back. */
static size_t
ring_unmap(struct ring_block *b)
{
	size_t	 n;

	if (b == NULL)
		return (0);
	n = ring_map_size(b->size);
	if (munmap(b, n) == -1)
		fatal("munmap of a frame block");
	return (n);
}

/*
 * Blocks are a sixteenth of the budget (within bounds), so eviction
 * under a small budget drops a small part of the ring, not all of it.
 */
void
ring_init(struct ring *r, size_t budget)
{
	size_t	 map = budget / 16, page = (size_t)sysconf(_SC_PAGESIZE);

	memset(r, 0, sizeof(*r));
	if (map > RING_MAP)
		map = RING_MAP;
	if (map < RING_MAP_MIN)
		map = RING_MAP_MIN;
	/* whole pages, the header in the first: none is left untouched */
	r->block = (map & ~(page - 1)) - sizeof(struct ring_block);
	/* asked before every frame at the budget: sysconf once, here */
	r->cost = ring_map_size(r->block);
}

void
ring_free(struct ring *r)
{
	size_t	 i;

	for (i = 0; i < r->nblocks; i++)
		ring_unmap(r->blocks[i]);
	free(r->blocks);
	ring_unmap(r->spare);
	r->blocks = NULL;
	r->spare = NULL;
	r->nblocks = r->cap = r->mem = 0;
	r->nframes = 0;
}

size_t
ring_block_cost(const struct ring *r)
{
	return (r->cost);
}

int
ring_needs_block(const struct ring *r, uint32_t caplen)
{
	const struct ring_block	*b;

	if (r->nblocks == 0)
		return (1);
	b = r->blocks[r->nblocks - 1];
	return (b->size - b->used < RING_HDR_MAX + (size_t)caplen);
}

/* A block able to hold need bytes, from the spare when it is big enough. */
static struct ring_block *
ring_block_get(struct ring *r, size_t need, size_t *taken)
{
	struct ring_block	*b;
	size_t			 size;

	*taken = 0;
	if (r->spare != NULL && r->spare->size >= need) {
		b = r->spare;
		r->spare = NULL;
	} else {
		size = need > r->block ? need : r->block;
		b = ring_map(size);
		r->maps++;
		*taken = ring_map_size(size);
		r->mem += *taken;
	}
	b->first = 0;
	b->nframes = 0;
	b->used = 0;
	return (b);
}

static size_t
ring_push(struct ring *r, struct ring_block *b)
{
	size_t	 grown = 0;

	if (r->nblocks == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->blocks = xreallocarray(r->blocks, r->cap,
		    sizeof(*r->blocks));
		grown = r->cap / 2 * sizeof(*r->blocks);
		r->mem += grown;
	}
	r->blocks[r->nblocks++] = b;
	return (grown);
}

size_t
ring_add(struct ring *r, uint64_t n, uint64_t ts_us, const u_char *data,
    uint32_t caplen, uint32_t len)
{
	struct proto_frame	 h;
	struct ring_block	*b = NULL;
	u_char			 hdr[RING_HDR_MAX];
	size_t			 hlen, need, taken = 0;

	h.ts_us = ts_us;
	h.caplen = caplen;
	h.len = len;
	if (r->nblocks > 0)
		b = r->blocks[r->nblocks - 1];
	hlen = ring_put_hdr(hdr, b != NULL ? b->last_us : ts_us, &h);
	need = hlen + caplen;
	if (b == NULL || b->size - b->used < need) {
		hlen = ring_put_hdr(hdr, ts_us, &h);
		need = hlen + caplen;
		b = ring_block_get(r, need, &taken);
		taken += ring_push(r, b);
	}
	if (b->nframes == 0) {
		b->first = n;
		b->first_us = ts_us;
	}
	b->last_us = ts_us;
	memcpy(b->data + b->used, hdr, hlen);
	memcpy(b->data + b->used + hlen, data, caplen);
	b->used += need;
	b->nframes++;
	r->nframes++;
	r->last = n;
	return (taken);
}

/*
 * The evicted block becomes the spare (or replaces a smaller one); only
 * the memory actually released is reported, so the caller's count stays
 * exact.
 */
uint64_t
ring_evict(struct ring *r, size_t *freed)
{
	struct ring_block	*b;
	uint64_t		 n;

	*freed = 0;
	if (r->nblocks == 0) {
		if (r->spare != NULL) {
			*freed = ring_unmap(r->spare);
			r->mem -= *freed;
			r->spare = NULL;
		}
		return (0);
	}
	b = r->blocks[0];
	memmove(r->blocks, r->blocks + 1, (r->nblocks - 1) * sizeof(*r->blocks));
	r->nblocks--;
	n = b->nframes;
	r->nframes -= n;
	if (r->spare == NULL && b->size == r->block)
		r->spare = b;
	else {
		*freed = ring_unmap(b);
		r->mem -= *freed;
	}
	return (n);
}

/* The block holding frame number n, or the first later one. */
static size_t
ring_find(const struct ring *r, uint64_t n)
{
	size_t	 lo = 0, hi = r->nblocks, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->blocks[mid]->first + r->blocks[mid]->nframes <= n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

int
ring_holds(const struct ring *r, uint64_t n)
{
	const struct ring_block	*last;

	if (r->nblocks == 0 || n < r->blocks[0]->first)
		return (0);
	last = r->blocks[r->nblocks - 1];
	return (n < last->first + last->nframes);
}

/*
 * Frames are looked up in order of their numbers when a body is put
 * together, mostly in one block: the walk goes on from where the last
 * one stopped.
 */
const u_char *
ring_frame(const struct ring *r, uint64_t n, struct ring_pos *pos,
    struct proto_frame *h)
{
	const struct ring_block	*b;
	size_t			 i, hlen;

	if (!ring_holds(r, n))
		return (NULL);
	b = pos->b;
	if (b == NULL || n < pos->n || n >= b->first + b->nframes) {
		i = ring_find(r, n);
		if (i >= r->nblocks || n < r->blocks[i]->first)
			return (NULL);
		b = pos->b = r->blocks[i];
		pos->n = b->first;
		pos->off = 0;
		pos->us = b->first_us;
	}
	for (;;) {
		hlen = ring_get_hdr(b->data + pos->off, pos->us, h);
		if (pos->n == n)
			break;
		pos->off += hlen + h->caplen;
		pos->us = h->ts_us;
		pos->n++;
	}
	return (b->data + pos->off + hlen);
}

/*
 * A record larger than the whole buffer goes out cut to fit, as a
 * shorter capture of the same frame, rather than stopping the dump.
 */
static size_t
ring_cut(u_char *buf, size_t max, struct proto_frame *h, const u_char *data,
    uint64_t *pos, uint64_t n)
{
	if (max <= sizeof(*h))
		return (0);
	h->caplen = (uint32_t)(max - sizeof(*h));
	memcpy(buf, h, sizeof(*h));
	memcpy(buf + sizeof(*h), data, h->caplen);
	*pos = n;
	return (max);
}

/*
 * *pos is the number of the last frame handed out (0 at the start);
 * none after frame number last goes out. Copies whole records; only
 * one larger than max on its own is cut.
 */
size_t
ring_next(struct ring *r, uint64_t *pos, uint64_t last, u_char *buf,
    size_t max)
{
	struct ring_block	*b;
	struct proto_frame	 h;
	size_t			 i, off, out = 0, rec, hlen;
	uint64_t		 n, us;

	for (i = ring_find(r, *pos + 1); i < r->nblocks; i++) {
		b = r->blocks[i];
		off = 0;
		us = b->first_us;
		for (n = b->first; n < b->first + b->nframes; n++) {
			hlen = ring_get_hdr(b->data + off, us, &h);
			us = h.ts_us;
			rec = sizeof(h) + h.caplen;
			if (n > last)
				return (out);
			if (n > *pos) {
				if (max - out < rec && out > 0)
					return (out);
				if (max - out < rec)
					return (ring_cut(buf, max, &h,
					    b->data + off + hlen, pos, n));
				memcpy(buf + out, &h, sizeof(h));
				memcpy(buf + out + sizeof(h), b->data + off +
				    hlen, h.caplen);
				out += rec;
				*pos = n;
			}
			off += hlen + h.caplen;
		}
	}
	return (out);
}
