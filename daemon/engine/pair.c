/*
 * pair.c: pairing responses with requests on one connection. Responses
 * come in the order of their requests, so a FIFO pairs them as long as
 * every message start is seen. A hole in the capture can hide one:
 *
 * - A response start: the server's stream was between messages when
 *   the hole came, so the hole holds the start of the oldest awaited
 *   response. It is marked lost when the stream finds the next message
 *   start, and that start goes to the next request; unless the acks say
 *   otherwise: a client that waits for each response sends its next
 *   request having acknowledged exactly the bytes before that request's
 *   response, so a request whose ack equals the new start's offset is
 *   the one answered there (the ones before it all lost theirs), and a
 *   request whose ack lies beyond it was sent after that start and
 *   cannot be answered by it.
 * - A request start: the client's stream was between messages. If a
 *   response came with no request awaiting it since, that was the lost
 *   request's answer; else a transaction without a request takes the
 *   lost one's place in the queue.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <stdlib.h>

#include "msg.h"
#include "pair.h"
#include "xmalloc.h"

#define PAIR_LOOK	64	/* queued requests the acks are checked for */

struct pair_ent {
	struct txn	*t;
	uint64_t	 ack;		/* response offset acked when sent */
	uint8_t		 has_ack;
};

void
pair_free(struct session *s, struct pair *p)
{
	session_uncharge(s, session_size(p->q));
	free(p->q);
	p->q = NULL;
	p->cap = p->len = p->head = 0;
}

static struct pair_ent *
pair_at(const struct pair *p, size_t i)
{
	return (&p->q[(p->head + i) % p->cap]);
}

static void
pair_grow(struct session *s, struct pair *p)
{
	struct pair_ent	*nq;
	size_t		 i, ncap;

	ncap = p->cap ? p->cap * 2 : 4;
	nq = xreallocarray(NULL, ncap, sizeof(*nq));
	for (i = 0; i < p->len; i++)
		nq[i] = *pair_at(p, i);
	session_uncharge(s, session_size(p->q));
	free(p->q);
	session_charge(s, session_size(nq));
	p->q = nq;
	p->cap = ncap;
	p->head = 0;
}

static void
pair_add(struct session *s, struct pair *p, struct txn *t, int has_ack)
{
	struct pair_ent	*e;

	if (p->len == p->cap)
		pair_grow(s, p);
	e = &p->q[(p->head + p->len) % p->cap];
	e->t = t;
	e->ack = p->ack;
	e->has_ack = has_ack && p->has_ack;
	p->len++;
}

void
pair_push(struct session *s, struct pair *p, struct txn *t)
{
	p->orphan = NULL;
	pair_add(s, p, t, 1);
}

struct txn *
pair_front(const struct pair *p)
{
	return (p->len ? pair_at(p, 0)->t : NULL);
}

void
pair_pop(struct pair *p)
{
	if (p->len == 0)
		return;
	p->head = (p->head + 1) % p->cap;
	p->len--;
}

void
pair_acked(struct pair *p, uint64_t off)
{
	p->ack = off;
	p->has_ack = 1;
}

/*
 * prev is the connection's last transaction; boundary says the server's
 * stream is between messages at offset off. A client that acknowledged
 * more than that had seen the start of prev's response, which the
 * capture missed or holds back.
 */
int
pair_pipelined(const struct pair *p, const struct txn *prev, int boundary,
    uint64_t off)
{
	if (prev == NULL || prev->req == NULL || prev->resp != NULL)
		return (0);
	if (prev != pair_front(p))
		return (1);
	if (p->lost)
		return (0);
	return (!(boundary && p->has_ack && p->ack > off));
}

void
pair_dropped(struct pair *p)
{
	p->orphan = NULL;
	p->dropped++;
}

/*
 * A response with no stored request waiting answers one the budget
 * left out, if any: that transaction is counted once, not again here.
 */
struct txn *
pair_response(struct session *s, struct pair *p, struct conn *c)
{
	struct txn	*t;

	if ((t = pair_front(p)) != NULL)
		return (t);
	if (p->dropped > 0) {
		p->dropped--;
		return (NULL);
	}
	if ((t = session_txn_new(s, c)) == NULL)
		return (NULL);
	pair_add(s, p, t, 0);
	p->orphan = t;
	return (t);
}

void
pair_request_hole(struct session *s, struct pair *p, struct conn *c)
{
	struct txn	*t;

	if (p->orphan != NULL) {
		p->orphan->req_lost = 1;
		p->orphan = NULL;
		return;
	}
	if ((t = session_txn_new(s, c)) == NULL)
		return;
	t->req_lost = 1;
	pair_add(s, p, t, 0);
}

void
pair_response_hole(struct pair *p, uint64_t bytes, uint64_t us,
    uint32_t frame)
{
	if (!p->lost) {
		p->lost = 1;
		p->lost_bytes = 0;
		p->lost_us = us;
		p->lost_frame = frame;
	}
	p->lost_bytes += bytes;
}

/* How many queued requests lost their response before offset off. */
static size_t
pair_count_lost(const struct pair *p, uint64_t off)
{
	const struct pair_ent	*e;
	size_t			 j, n = p->lost;

	for (j = 0; j < p->len && j < PAIR_LOOK; j++) {
		e = pair_at(p, j);
		if (!e->has_ack)
			continue;
		if (e->ack == off)
			return (j);
		if (e->ack > off)
			return (n < j ? n : j);
	}
	return (n);
}

/*
 * A request sent after its predecessor's response began is not
 * pipelined, though it looked so while the hole hid that start: the
 * first n queued lost theirs before off, the next one's starts at off.
 */
static void
pair_unpipeline(struct pair *p, size_t n, uint64_t off)
{
	struct pair_ent	*e;
	size_t		 j;

	for (j = 0; j + 1 < p->len && j <= n && j < PAIR_LOOK; j++) {
		e = pair_at(p, j + 1);
		if (e->has_ack && (e->ack > off || (j < n && e->ack == off)))
			e->t->pipelined = 0;
	}
}

/* t's response was in the hole: status unknown, the hole's bytes its. */
static void
pair_mark_lost(struct session *s, struct pair *p, struct txn *t, int first,
    uint64_t us, uint32_t frame)
{
	struct msg	*m = t->resp;

	if (m == NULL) {
		m = session_alloc(s, sizeof(*m));
		m->ct = m->ce = -1;
		m->start_us = p->lost ? p->lost_us : us;
		m->first_frame = p->lost ? p->lost_frame : frame;
		t->resp = m;
	}
	m->status = 0;
	m->complete = 0;
	m->end_us = ENGINE_NOTIME;
	if (first && p->lost && p->lost_bytes > 0)
		msg_rare(s, m)->lost_bytes += p->lost_bytes;
	t->resp_lost = 1;
	session_txn_done(s, t);
}

void
pair_resync(struct session *s, struct pair *p, int found, uint64_t off,
    uint64_t us, uint32_t frame)
{
	size_t	 n = p->lost, j;

	if (found) {
		n = pair_count_lost(p, off);
		pair_unpipeline(p, n, off);
	}
	for (j = 0; j < n && pair_front(p) != NULL; j++) {
		pair_mark_lost(s, p, pair_front(p), j == 0, us, frame);
		pair_pop(p);
	}
	p->lost = 0;
	p->lost_bytes = 0;
}
