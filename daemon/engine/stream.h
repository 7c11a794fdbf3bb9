/*
 * stream.h: one direction of a TCP connection as a byte stream:
 * sequence bookkeeping and reassembly (first copy wins, a bounded queue
 * of early segments, holes marked and skipped). In-order bytes go to
 * http.c in place, without a copy.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_STREAM_H
#define HTRACR_STREAM_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "engine.h"

#define STREAM_OOO_BYTES	(256 * 1024)	/* early bytes per direction */
#define STREAM_OOO_SEGS		64		/* early segments per direction */

#define SEQ_LT(a, b)		((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b)		((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)		((int32_t)((a) - (b)) > 0)

struct stream_seg;

/* Sequence state and early segments of one direction. */
struct stream {
	uint32_t	 base;		/* ISN, or first seq seen */
	uint32_t	 next;		/* next in-order seq */
	uint32_t	 maxend;	/* highest seq + len seen */
	uint32_t	 fin_seq;
	uint32_t	 last_ack;
	uint32_t	 last_win;
	uint8_t		 have_base;
	uint8_t		 have_next;
	uint8_t		 have_fin;
	uint8_t		 eof;		/* stream ended for the parser */
	uint8_t		 have_ack;
	uint8_t		 fin_seen;
	uint8_t		 syn_seen;
	struct stream_seg *ooo;		/* sorted by seq */
	size_t		 ooo_bytes;
	unsigned int	 ooo_n;
};

struct tcp_live;

void	 stream_clear(struct session *, struct stream *);
/* Returns the class the segment earns by its sequence number, or -1. */
int	 stream_segment(struct session *, struct tcp_live *, int,
	    const struct decode_pkt *, uint64_t, uint32_t);
void	 stream_acked(struct session *, struct tcp_live *, int,
	    const struct decode_pkt *, uint64_t, uint32_t);
/* The stream ends: closed by FIN/RST (1) or with the capture (0). */
void	 stream_end(struct session *, struct tcp_live *, int, uint64_t,
	    uint32_t, int);

#endif
