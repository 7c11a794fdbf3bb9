/*
 * ring.h: the raw-frame ring of a session. Frames are copied in capture
 * order into large blocks, each behind a header of a few bytes (ring.c),
 * and handed out again as proto_frame records; the memory budget evicts
 * the oldest block first.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_RING_H
#define HTRACR_RING_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A block's mapping, header included, at most and at least. */
#define RING_MAP	(1024 * 1024)
#define RING_MAP_MIN	(64 * 1024)

struct ring_block {
	uint64_t	 first;		/* number of its first frame, from 1 */
	uint64_t	 first_us;	/* its first frame's time */
	uint64_t	 last_us;	/* its newest frame's */
	uint32_t	 nframes;
	size_t		 used;
	size_t		 size;
	u_char		 data[];
};

struct ring {
	struct ring_block	**blocks;	/* oldest first */
	size_t			  nblocks;
	size_t			  cap;
	struct ring_block	 *spare;	/* last evicted block, reused */
	size_t			  mem;		/* bytes held, spare included */
	uint64_t		  nframes;	/* frames held */
	uint64_t		  last;		/* number of the last added */
	size_t			  block;	/* size of a new block */
	size_t			  cost;		/* bytes it maps */
	uint64_t		  maps;		/* blocks ever mapped */
};

void	 ring_init(struct ring *, size_t);
void	 ring_free(struct ring *);
/* The bytes a new block takes. */
size_t	 ring_block_cost(const struct ring *);
/* Whether a frame of caplen bytes may need a new block. */
int	 ring_needs_block(const struct ring *, uint32_t caplen);
/* Appends frame number n; returns the bytes of memory newly taken. */
size_t	 ring_add(struct ring *, uint64_t n, uint64_t ts_us,
	    const u_char *, uint32_t caplen, uint32_t len);
/* Drops the oldest block; returns its frame count and *freed bytes. */
uint64_t ring_evict(struct ring *, size_t *freed);
/* The frames after *pos up to frame number last, as ring.c says. */
size_t	 ring_next(struct ring *, uint64_t *pos, uint64_t last, u_char *,
	    size_t);

/* Where a look-up by frame number left off, so the next one walks less. */
struct ring_pos {
	const struct ring_block	*b;
	uint64_t		 n;	/* number of the frame at off */
	size_t			 off;
	uint64_t		 us;	/* time of the frame before it */
};

/* Whether frame number n is still held. */
int	 ring_holds(const struct ring *, uint64_t n);
/*
 * The captured bytes of frame number n, and its header in *h; NULL when
 * it is no longer held. pos starts zeroed; the ring must not change
 * between look-ups that share it.
 */
const u_char *ring_frame(const struct ring *, uint64_t n, struct ring_pos *,
	    struct proto_frame *h);

#endif
