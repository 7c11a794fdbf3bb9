/*
 * pair.h: which response answers which request on one connection
 * (pair.c). Requests wait in a FIFO, each with how much of the server's
 * stream its client had acknowledged when it was sent. When a hole in
 * the capture hides where a message starts, that record and the offset
 * where the next response starts say which requests lost their response,
 * so every later response still pairs with its own request.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_PAIR_H
#define HTRACR_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct pair_ent;

struct pair {
	struct pair_ent	*q;		/* requests awaiting responses */
	size_t		 head;
	size_t		 len;
	size_t		 cap;
	struct txn	*orphan;	/* answered, no request seen since */
	uint64_t	 dropped;	/* requests not stored (budget) whose
					   responses have not begun */
	uint64_t	 ack;		/* client's ack, as a response offset */
	uint8_t		 has_ack;
	uint8_t		 lost;		/* a response start fell in a hole */
	uint64_t	 lost_bytes;	/* the hole's bytes */
	uint64_t	 lost_us;	/* when the hole was stepped over */
	uint32_t	 lost_frame;
};

void		 pair_free(struct session *, struct pair *);
/* A request begins: it waits, with the client's ack at this time. */
void		 pair_push(struct session *, struct pair *, struct txn *);
struct txn	*pair_front(const struct pair *);
void		 pair_pop(struct pair *);
/* The client acknowledged the server's stream up to offset off. */
void		 pair_acked(struct pair *, uint64_t);
/* Whether a request sent now, after prev, went before prev's response. */
int		 pair_pipelined(const struct pair *, const struct txn *, int,
		    uint64_t);
/* A request began that the budget left unstored. */
void		 pair_dropped(struct pair *);
/* The transaction a response beginning now belongs to; NULL: budget. */
struct txn	*pair_response(struct session *, struct pair *, struct conn *);
/* A hole where a request would start (the client's stream at a boundary). */
void		 pair_request_hole(struct session *, struct pair *,
		    struct conn *);
/* A hole where a response would start. */
void		 pair_response_hole(struct pair *, uint64_t, uint64_t,
		    uint32_t);
/*
 * The server's stream found the next response start at offset off after
 * a hole or an error (found 0: the stream ended first). Marks the
 * responses that were lost and takes their requests off the queue.
 */
void		 pair_resync(struct session *, struct pair *, int, uint64_t,
		    uint64_t, uint32_t);

#endif
