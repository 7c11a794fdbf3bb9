/*
 * session.c: one capture run as the engine sees it: frames come in
 * (copied into the ring, decoded, handed to tcp.c), the model records
 * (servers, connections, transactions) are kept in arrays that only
 * grow, transactions and their messages in an arena of large chunks
 * freed with the session, and every byte they take is counted against
 * the budget, as the allocator holds it. When the budget is reached
 * the oldest raw frames go first, then connections whose handshake
 * never completed, then kept bodies, then packet records of the
 * oldest connections; after that new connections and transactions are
 * counted but not stored. What eviction frees is handed back to the
 * kernel, so that the process's memory follows the count.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "decode.h"
#include "dns.h"
#include "engine.h"
#include "http.h"
#include "log.h"
#include "pack.h"
#include "tcp.h"
#include "leb128.h"
#include "xmalloc.h"

/*
 * A session runs at its budget: every new block of frames or body has an
 * old one evicted to make room. Left to its defaults the allocator hands
 * freed memory back to the kernel and takes it again a moment later,
 * a page fault per page each time (a third of the time spent on a large
 * capture). Keep freed memory in the process instead; what the process
 * holds is still bounded by the budgets (and handed back in steps,
 * below). Arena chunks smaller than a huge page stay in the heap;
 * frame blocks (ring.c) and chunks of a huge page (below) are mapped
 * on their own, and so is an array past 8 MiB (a long connection's
 * packet records, the transaction list), so that growing
 * it moves no bytes and never holds the old copy and the new one at
 * once (a 3 GiB response went 22 MiB over a 64 MiB budget so), and its
 * new room takes memory only as it fills.
 */
static void
session_malloc_policy(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
}

/*
 * Bytes freed by any session since the heap was last trimmed: what the
 * process may hold beyond the counts. The allocator is one for the
 * whole process, and so is this figure.
 */
static size_t	 session_unreturned;

static void
session_return(void)
{
	malloc_trim(0);
	session_unreturned = 0;
}

/*
 * Freed memory stays in the process (above), but not all of it can be
 * taken again: a large array that doubles leaves its old copy behind
 * as a hole the next, larger copy does not fit in, and a connection's
 * evicted packet records leave one as large. Those holes are handed
 * back to the kernel when they are made, so that what the process
 * holds stays close to what the budget counts (a million pipelined
 * requests on four connections left a third of the budget again in
 * such holes). Arrays double, so this happens a few times per array.
 */
#define SESSION_TRIM_AT		(1024 * 1024)

/*
 * Everything else freed is handed back the same way once it adds up to
 * a sixteenth of the budget, at most 8 MiB (what the process may hold
 * beyond the count): what eviction frees (kept bodies and packet
 * records), and as much what connections that end free (their live
 * state, reassembly queues, parsers, inflate state) and arrays that
 * moved. These are many small blocks, and the room they leave is
 * mostly not what the session asks for next, so the process would hold
 * it beside the budget (a million pipelined requests held two thirds
 * of their budget again so). Counting only eviction's frees was not
 * enough: a session at its budget that evicts only frame blocks (which
 * are unmapped, not freed) or refuses new connections evicts nothing
 * else for minutes, and what connections freed meanwhile stayed (12 MiB
 * of heap resident beyond what malloc had in use, at a 256 MiB budget,
 * in a live capture; 8 MiB more than the count in test_engine's
 * budget_returned). Trimming also hands back what the analyzer freed
 * outside the sessions (replies sent to clients).
 */
#define SESSION_TRIM_MAX	(8 * 1024 * 1024)
#define SESSION_TRIM_STEP(b)	((b) / 16 > SESSION_TRIM_MAX ? \
				    SESSION_TRIM_MAX : (b) / 16 > \
				    SESSION_TRIM_AT ? (b) / 16 : SESSION_TRIM_AT)

/*
 * A connection whose handshake has not completed this long after its
 * last packet may be evicted when the budget is full.
 */
#define SESSION_HALF_OPEN_US	1000000

/*
 * The arena: chunks of a sixty-fourth of the budget, so a small budget
 * is not taken by one chunk, up to a huge page, which is asked for
 * so that a large capture does not fault its records in 4 KiB at a time.
 * A chunk of a huge page is mapped on its own, aligned to it, and
 * unmapped whole: taken from the heap, its alignment left a hole of
 * almost its size before each one, for small records only (at a 256
 * MiB budget, malloc held 335 MiB free beside 438 MiB in use, and the
 * heap's range asked the kernel for huge pages throughout).
 */
#define SESSION_CHUNK_MAX	(2 * 1024 * 1024)
#define SESSION_CHUNK_MIN	(16 * 1024)
/*
 * Records in the arena hold pointers and 64-bit counters at most: eight
 * bytes apart is aligned enough, and a 120-byte message takes 120.
 */
#define SESSION_ALIGN		8
/* Detail items: session, servers, connections, transactions, lookups. */
#define SESSION_PHASES		5

static size_t
session_chunksize(size_t budget)
{
	size_t	 n = budget / 64;

	if (n > SESSION_CHUNK_MAX)
		n = SESSION_CHUNK_MAX;
	if (n < SESSION_CHUNK_MIN)
		n = SESSION_CHUNK_MIN;
	return (n);
}

/* A huge page's room, aligned to it: twice that mapped, the rest cut. */
static struct session_chunk *
session_chunk_map(void)
{
	size_t		 len = 2 * SESSION_CHUNK_MAX, head;
	u_char		*p, *a;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of an arena chunk");
	a = (u_char *)(((uintptr_t)p + SESSION_CHUNK_MAX - 1) &
	    ~(uintptr_t)(SESSION_CHUNK_MAX - 1));
	head = (size_t)(a - p);
	if (head > 0 && munmap(p, head) == -1)
		fatal("munmap before an arena chunk");
	if (munmap(a + SESSION_CHUNK_MAX, len - head - SESSION_CHUNK_MAX) == -1)
		fatal("munmap after an arena chunk");
	(void)madvise(a, SESSION_CHUNK_MAX, MADV_HUGEPAGE);
	return ((struct session_chunk *)a);
}

static struct session_chunk *
session_chunk_new(struct session *s, size_t need)
{
	struct session_chunk	*k;
	size_t			 size = s->chunksize;

	if (need > size - sizeof(*k))
		size = need + sizeof(*k);
	if (size == SESSION_CHUNK_MAX)
		k = session_chunk_map();
	else
		k = xmalloc(size);
	session_charge(s, size);
	k->mapped = size == SESSION_CHUNK_MAX;
	k->size = size - sizeof(*k);
	k->used = 0;
	k->next = s->chunks;
	s->chunks = k;
	return (k);
}

static size_t
session_align(size_t n)
{
	return ((n + SESSION_ALIGN - 1) & ~(size_t)(SESSION_ALIGN - 1));
}

void *
session_alloc(struct session *s, size_t n)
{
	struct session_chunk	*k = s->chunks;
	void			*p;

	n = session_align(n > 0 ? n : 1);
	if (k == NULL || k->size - k->used < n)
		k = session_chunk_new(s, n);
	p = k->data + k->used;
	k->used += n;
	memset(p, 0, n);
	s->last = p;
	return (p);
}

void *
session_extend(struct session *s, void *p, size_t old, size_t n)
{
	struct session_chunk	*k = s->chunks;
	void			*q;
	size_t			 grow;

	if (p == NULL)
		return (session_alloc(s, n));
	if (n <= old)
		return (p);
	old = session_align(old);
	grow = session_align(n) - old;
	if (p == s->last && k != NULL && k->size - k->used >= grow) {
		k->used += grow;
		return (p);
	}
	q = session_alloc(s, n);
	memcpy(q, p, old);
	return (q);
}

/*
 * Shrinks p, the newest allocation (old bytes), to n bytes and settles
 * it: it no longer grows in place (session_extend), since what it holds
 * may be shared from now on. Returns 0, with nothing changed, when p is
 * not the newest.
 */
int
session_shrink(struct session *s, void *p, size_t old, size_t n)
{
	struct session_chunk	*k = s->chunks;
	u_char			*q = p;

	if (k == NULL || q == NULL || s->last != p ||
	    q + session_align(old > 0 ? old : 1) != k->data + k->used)
		return (0);
	k->used = (size_t)(q - k->data) + session_align(n > 0 ? n : 1);
	s->last = NULL;
	return (1);
}

/*
 * p must lie in the newest chunk: what a message had just allocated,
 * given back when it found the same kept already.
 */
void
session_unalloc(struct session *s, void *p)
{
	struct session_chunk	*k = s->chunks;
	u_char			*q = p;

	if (k == NULL || q < k->data || q > k->data + k->used)
		return;
	k->used = (size_t)(q - k->data);
	s->last = NULL;
}

static void
session_chunks_free(struct session *s)
{
	struct session_chunk	*k, *next;

	for (k = s->chunks; k != NULL; k = next) {
		next = k->next;
		if (!k->mapped)
			free(k);
		else if (munmap(k, SESSION_CHUNK_MAX) == -1)
			fatal("munmap of an arena chunk");
	}
	s->chunks = NULL;
	s->last = NULL;
}

struct session *
session_new(uint32_t id, enum session_origin origin, int linktype,
    const struct engine_config *cfg, uid_t uid, const char *source,
    uint64_t start_us)
{
	struct session	*s;

	session_malloc_policy();
	s = xcalloc(1, sizeof(*s));
	s->chunksize = session_chunksize(cfg->budget ? cfg->budget :
	    SESSION_DEFAULT_BUDGET);
	s->id = id;
	s->origin = origin;
	s->state = SESSION_RUNNING;
	s->linktype = linktype;
	s->snaplen = PROTO_MAX_SNAPLEN;
	s->uid = uid;
	s->source = xstrdup(source != NULL ? source : "");
	s->cfg = *cfg;
	if (s->cfg.budget == 0)
		s->cfg.budget = SESSION_DEFAULT_BUDGET;
	if (s->cfg.nports > PROTO_MAX_PORTS)
		s->cfg.nports = PROTO_MAX_PORTS;
	s->start_us = start_us;
	s->stop_us = ENGINE_NOTIME;
	s->first_frame_us = ENGINE_NOTIME;
	s->last_frame_us = ENGINE_NOTIME;
	s->mem = sizeof(*s);
	ring_init(&s->ring, s->cfg.budget);
	tcp_init(s);
	return (s);
}

static void
session_conn_free(struct conn *c)
{
	if (c->h2 != NULL)
		free(c->h2->txns);
	free(c->states);
	free(c->txns);
	free(c->pkts);
	free(c);
}

void
session_free(struct session *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	tcp_free(s);
	dns_free(s);
	session_keys_free(s);
	for (i = 0; i < s->nconns; i++)
		session_conn_free(s->conns[i]);
	for (i = 0; i < s->ntxns; i++) {
		http_msg_free(s, s->txns[i]->req);
		http_msg_free(s, s->txns[i]->resp);
	}
	session_chunks_free(s);
	for (i = 0; i < s->nservers; i++) {
		free(s->servers[i]->name);
		free(s->servers[i]);
	}
	free(s->conns);
	free(s->txns);
	free(s->servers);
	free(s->srvhash);
	ring_free(&s->ring);
	free(s->bodybuf);
	free(s->bodyraw);
	free(s->shared);
	free(s->source);
	free(s);
	/* Another session may be running: its count is what it uses. */
	session_return();
}

uint32_t
session_id(const struct session *s)
{
	return (s->id);
}

int
session_running(const struct session *s)
{
	return (s->state == SESSION_RUNNING);
}

uid_t
session_uid(const struct session *s)
{
	return (s->uid);
}

size_t
session_memory(const struct session *s)
{
	return (s->mem);
}

int
session_linktype(const struct session *s)
{
	return (s->linktype);
}

uint32_t
session_snaplen(const struct session *s)
{
	return (s->snaplen);
}

/* What a loaded file said; a dump of its frames says it again. */
void
session_set_snaplen(struct session *s, uint32_t snaplen)
{
	if (snaplen > 0 && snaplen <= PROTO_MAX_SNAPLEN)
		s->snaplen = snaplen;
}

/*
 * What the allocator holds for p: its usable size and the chunk header
 * glibc keeps before it. Charged for each record allocated on its own,
 * so that the count is what the process really spends (a small record
 * costs up to a sixth more than its size).
 */
size_t
session_size(const void *p)
{
	if (p == NULL)
		return (0);
	return (malloc_usable_size((void *)(uintptr_t)p) + SESSION_CHUNK_HDR);
}

void
session_charge(struct session *s, size_t n)
{
	s->mem += n;
}

/* The count goes down by n, with nothing handed to the allocator. */
static void
session_discount(struct session *s, size_t n)
{
	s->mem = n > s->mem ? 0 : s->mem - n;
}

/* n bytes were freed: they go back to the kernel in steps (above). */
void
session_uncharge(struct session *s, size_t n)
{
	session_discount(s, n);
	session_unreturned += n;
}

static void
session_give_back(struct session *s)
{
	if (session_unreturned >= SESSION_TRIM_STEP(s->cfg.budget))
		session_return();
}

/*
 * Grows an array of size-byte elements to hold at least need, first
 * room for first of them, charging what the allocator gave more.
 * Returns the (moved) array; *cap is updated.
 */
void *
session_grow_from(struct session *s, void *p, size_t *cap, size_t need,
    size_t size, size_t first)
{
	size_t	 ncap, old = session_size(p);
	void	*q;

	if (need <= *cap)
		return (p);
	ncap = *cap ? *cap * 2 : first;
	if (ncap < need)
		ncap = need;
	q = xreallocarray(p, ncap, size);
	if (q != p)
		session_uncharge(s, old);
	else
		session_discount(s, old);
	session_charge(s, session_size(q));
	if (*cap * size >= SESSION_TRIM_AT)
		session_return();
	*cap = ncap;
	return (q);
}

void *
session_grow(struct session *s, void *p, size_t *cap, size_t need,
    size_t size)
{
	return (session_grow_from(s, p, cap, need, size, 8));
}

/*
 * An array grown by doubling that will not (or rarely) grow again gives
 * back its spare room: it is made n elements long. Returns the array.
 */
void *
session_fit(struct session *s, void *p, size_t *cap, size_t n, size_t size)
{
	if (*cap == n)
		return (p);
	session_uncharge(s, session_size(p));
	if (n == 0) {
		free(p);
		p = NULL;
	} else
		p = xreallocarray(p, n, size);
	session_charge(s, session_size(p));
	*cap = n;
	return (p);
}

static void
session_evict_frames(struct session *s)
{
	size_t	 freed;

	/*
	 * A frame block freed is taken again as it is by the next one:
	 * not a hole to hand back (a session whose frames all go would
	 * hand one back at every frame).
	 */
	while (s->mem > s->cfg.budget &&
	    (s->ring.nblocks > 0 || s->ring.spare != NULL)) {
		s->c.evicted_frames += ring_evict(&s->ring, &freed);
		session_discount(s, freed);
	}
}

/*
 * Whether a frame can be kept: not when the ring holds no block, not
 * even a spare, and a new one would not fit in the budget, the rest of
 * the session holding it all (a SYN flood's half-open connections).
 * The block would be mapped, faulted in whole (ring.c) and evicted at
 * once, for every frame of the flood.
 */
static int
session_frame_room(const struct session *s)
{
	return (s->ring.nblocks > 0 || s->ring.spare != NULL ||
	    s->mem + ring_block_cost(&s->ring) <= s->cfg.budget);
}

/*
 * At the budget, a frame that needs a new block takes the oldest one's
 * place: that block is evicted now, as it would be a moment later, and
 * kept as the ring's spare for the new frame. Its memory is reused as
 * it is, not unmapped while a new block is mapped and zeroed: a live
 * capture running at its budget did that for every other block, a
 * quarter of the analyzer's time.
 */
static void
session_frame_recycle(struct session *s, uint32_t caplen)
{
	size_t	 freed;

	if (s->ring.spare != NULL || s->ring.nblocks == 0 ||
	    s->mem + ring_block_cost(&s->ring) <= s->cfg.budget ||
	    !ring_needs_block(&s->ring, caplen))
		return;
	s->c.evicted_frames += ring_evict(&s->ring, &freed);
	session_discount(s, freed);
}

static void
session_evict_body(struct session *s, struct msg *m)
{
	if (m == NULL || m->body_evicted)
		return;
	m->body_evicted = 1;
	if (m->kept != NULL &&
	    (m->kept->nrefs > 0 || m->kept->u.body != NULL)) {
		session_uncharge(s, body_free(m));
		m->kept->len = 0;
		s->c.evicted_bodies++;
	}
}

static void
session_evict_bodies(struct session *s)
{
	struct txn	*t;

	while (s->mem > s->cfg.budget && s->body_evict < s->ntxns) {
		t = s->txns[s->body_evict++];
		session_evict_body(s, t->req);
		session_evict_body(s, t->resp);
	}
}

static void
session_evict_packets(struct session *s)
{
	struct conn	*c;

	while (s->mem > s->cfg.budget && s->pkt_evict < s->nconns) {
		c = s->conns[s->pkt_evict++];
		c->pkts_evicted = 1;
		s->c.evicted_packets += c->npkts;
		session_uncharge(s, session_size(c->pkts));
		free(c->pkts);
		c->pkts = NULL;
		c->npkts = c->pktlen = c->pktcap = 0;
	}
}

/*
 * Half-open: the handshake has not completed, nothing was sent on it,
 * and nothing came for a while. A SYN flood leaves only those; real
 * connections are never among them.
 */
static int
session_half_open(const struct conn *c, uint64_t now)
{
	return (c->state == CONN_HANDSHAKING && c->ntxns == 0 &&
	    c->d[0].payload == 0 && c->d[1].payload == 0 &&
	    c->last_us != ENGINE_NOTIME && now != ENGINE_NOTIME &&
	    now >= c->last_us + SESSION_HALF_OPEN_US);
}

/* Whether a connection may ever become half-open again: no. */
static int
session_settled(const struct conn *c)
{
	return (c->state != CONN_HANDSHAKING || c->ntxns > 0 ||
	    c->d[0].payload > 0 || c->d[1].payload > 0);
}

/* The whole record goes: live state, arrays, its place in the list. */
static void
session_conn_evict(struct session *s, struct conn *c)
{
	tcp_forget(s, c);
	if (c->server != NULL && c->server->nconns > 0)
		c->server->nconns--;
	if (c->dns != 0 && c->dns <= s->ndns)
		s->dns[c->dns - 1]->conns--;
	session_uncharge(s, session_size(c) + session_size(c->states) +
	    session_size(c->txns) + session_size(c->pkts));
	s->c.evicted_half_open++;
	session_conn_free(c);
}

/*
 * Evicts half-open connections, oldest first, down to a sixty-fourth
 * under the budget so that a flood does not make a pass per SYN. The
 * list is compacted in the same walk; ids keep their gaps.
 */
static void
session_evict_half_open(struct session *s)
{
	struct conn	*c;
	size_t		 i, j, goal = s->cfg.budget - s->cfg.budget / 64;
	size_t		 gone_before_pkt = 0;
	int		 settled = 1;

	if (s->mem <= s->cfg.budget)
		return;
	for (i = j = s->open_evict; i < s->nconns; i++) {
		c = s->conns[i];
		if (s->mem > goal && session_half_open(c, s->last_frame_us)) {
			if (i < s->pkt_evict)
				gone_before_pkt++;
			session_conn_evict(s, c);
			continue;
		}
		if (settled && session_settled(c))
			s->open_evict = j + 1;
		else
			settled = 0;
		s->conns[j++] = c;
	}
	s->nconns = j;
	s->pkt_evict -= gone_before_pkt;
}

/* Brings memory back under the budget, in the documented order. */
static void
session_enforce(struct session *s)
{
	session_evict_frames(s);
	session_evict_half_open(s);
	session_evict_bodies(s);
	session_evict_packets(s);
	session_give_back(s);
	s->full = s->mem > s->cfg.budget;
}

/* 1 if a new record may be stored. */
int
session_room(struct session *s)
{
	if (s->mem > s->cfg.budget)
		session_enforce(s);
	else
		s->full = 0;
	return (!s->full);
}

static uint32_t
session_server_hash(uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t	 h = 2166136261u;
	size_t		 i, n = family == 4 ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return ((h ^ port) * 16777619u);
}

static void
session_server_rehash(struct session *s)
{
	struct server	*v;
	size_t		 i, n = s->srvhashsize ? s->srvhashsize * 2 : 64;

	session_uncharge(s, session_size(s->srvhash));
	free(s->srvhash);
	s->srvhash = xcalloc(n, sizeof(*s->srvhash));
	s->srvhashsize = n;
	session_charge(s, session_size(s->srvhash));
	for (i = 0; i < s->nservers; i++) {
		v = s->servers[i];
		v->hnext = s->srvhash[session_server_hash(v->family, v->addr,
		    v->port) & (n - 1)];
		s->srvhash[session_server_hash(v->family, v->addr, v->port) &
		    (n - 1)] = v;
	}
}

/* The server at addr:port, created on first sight; NULL when full. */
struct server *
session_server(struct session *s, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	struct server	*v;
	uint32_t	 h = session_server_hash(family, addr, port);

	if (s->srvhashsize > 0) {
		for (v = s->srvhash[h & (s->srvhashsize - 1)]; v != NULL;
		    v = v->hnext)
			if (v->family == family && v->port == port &&
			    memcmp(v->addr, addr, 16) == 0)
				return (v);
	}
	if (!session_room(s))
		return (NULL);
	if (s->nservers >= s->srvhashsize)
		session_server_rehash(s);
	v = xcalloc(1, sizeof(*v));
	session_charge(s, session_size(v));
	v->id = (uint32_t)s->nservers + 1;
	v->family = family;
	memcpy(v->addr, addr, 16);
	v->port = port;
	s->servers = session_grow(s, s->servers, &s->servercap,
	    s->nservers + 1, sizeof(*s->servers));
	s->servers[s->nservers++] = v;
	v->hnext = s->srvhash[h & (s->srvhashsize - 1)];
	s->srvhash[h & (s->srvhashsize - 1)] = v;
	return (v);
}

/* NULL when full: the caller counts the connection dropped, once. */
struct conn *
session_conn_new(struct session *s)
{
	struct conn	*c;

	if (!session_room(s))
		return (NULL);
	c = xcalloc(1, sizeof(*c));
	session_charge(s, session_size(c));
	c->id = ++s->conn_id;
	c->first_us = c->last_us = ENGINE_NOTIME;
	c->syn_us = c->synack_us = c->est_us = ENGINE_NOTIME;
	c->d[0].wscale = c->d[1].wscale = -1;
	c->d[0].mss = c->d[1].mss = -1;
	s->conns = session_grow(s, s->conns, &s->conncap, s->nconns + 1,
	    sizeof(*s->conns));
	s->conns[s->nconns++] = c;
	return (c);
}

/*
 * A connection's state changes are packed: the state in a byte, then
 * its time after the connection's first packet as a zigzag LEB128
 * number (an idle state is dated back, and a clock may step back):
 * three or four bytes each instead of sixteen.
 */
void
session_conn_state(struct session *s, struct conn *c, int state,
    uint64_t us)
{
	u_char	*p;

	if (c->nstates > 0 && c->state == state)
		return;
	/* Room for one first: a half-open connection has no other. */
	c->states = session_grow_from(s, c->states, &c->statecap,
	    c->statelen + 1 + LEB_MAX, 1, 1 + LEB_MAX);
	p = c->states + c->statelen;
	*p++ = (u_char)state;
	p += leb_put(p, leb_zz((int64_t)(us - c->first_us)));
	c->statelen = (size_t)(p - c->states);
	c->nstates++;
	c->state = (uint8_t)state;
}

int
session_conn_state_get(const struct conn *c, size_t *off,
    struct state_change *sc)
{
	uint64_t	 v;
	size_t		 got;

	if (*off >= c->statelen || (got = leb_get(c->states + *off + 1,
	    c->statelen - *off - 1, &v)) == 0)
		return (0);
	sc->state = c->states[*off];
	sc->us = c->first_us + (uint64_t)leb_unzz(v);
	*off += 1 + got;
	return (1);
}

struct txn *
session_txn_new(struct session *s, struct conn *c)
{
	struct txn	*t;

	if (!session_room(s)) {
		s->c.dropped_transactions++;
		return (NULL);
	}
	t = session_alloc(s, sizeof(*t));
	t->id = (uint32_t)s->ntxns + 1;
	t->index = (uint32_t)c->ntxns;
	t->conn = c;
	s->txns = session_grow(s, s->txns, &s->txncap, s->ntxns + 1,
	    sizeof(*s->txns));
	s->txns[s->ntxns++] = t;
	c->txns = session_grow(s, c->txns, &c->txncap, c->ntxns + 1,
	    sizeof(*c->txns));
	c->txns[c->ntxns++] = t->id;
	if (c->server != NULL)
		c->server->ntxns++;
	return (t);
}

void
session_txn_done(struct session *s, struct txn *t)
{
	if (t->reported)
		return;
	t->reported = 1;
	if (s->txn_cb != NULL)
		s->txn_cb(s, t->id, s->txn_arg);
}

void
session_set_txn_cb(struct session *s, session_txn_cb cb, void *arg)
{
	s->txn_cb = cb;
	s->txn_arg = arg;
}

void
session_set_ports(struct session *s, const uint16_t *ports, size_t n)
{
	if (n > PROTO_MAX_PORTS)
		n = PROTO_MAX_PORTS;
	if (n > 0)
		memcpy(s->cfg.ports, ports, n * sizeof(*ports));
	s->cfg.nports = n;
	tcp_set_ports(s);
}

void
session_set_drops(struct session *s, const struct session_drops *d)
{
	s->drops = *d;
}

static void
session_count(struct session *s, enum decode_result r)
{
	switch (r) {
	case DECODE_TCP:
	case DECODE_UDP:
		break;
	case DECODE_NOT_IP:
	case DECODE_LINK:
		s->c.not_ip++;
		break;
	case DECODE_NOT_TCP:
		s->c.not_tcp++;
		break;
	case DECODE_FRAGMENT:
		s->c.ip_fragments++;
		break;
	case DECODE_TRUNCATED:
		s->c.truncated++;
		break;
	case DECODE_BAD:
		s->c.bad_header++;
		break;
	}
}

/*
 * Port 53 carries DNS, unless it is one of the chosen TCP ports: then
 * its connections are analyzed as the others are.
 */
static int
session_is_dns(const struct session *s, const struct decode_pkt *pk, int tcp)
{
	size_t	 i;

	if (pk->sport != DNS_PORT && pk->dport != DNS_PORT)
		return (0);
	if (!tcp)
		return (1);
	for (i = 0; i < s->cfg.nports; i++)
		if (s->cfg.ports[i] == DNS_PORT)
			return (0);
	return (1);
}

void
session_frame(struct session *s, uint64_t ts_us, const u_char *data,
    uint32_t caplen, uint32_t len)
{
	struct decode_pkt	 pk;
	enum decode_result	 r;

	if (s->state != SESSION_RUNNING)
		return;
	if (caplen > PROTO_MAX_SNAPLEN)
		caplen = PROTO_MAX_SNAPLEN;
	if (len < caplen)
		len = caplen;
	s->frameno++;
	s->c.frames++;
	s->c.bytes += len;
	if (s->first_frame_us == ENGINE_NOTIME)
		s->first_frame_us = ts_us;
	s->last_frame_us = ts_us;
	if (s->cfg.keep_frames) {
		session_frame_recycle(s, caplen);
		if (session_frame_room(s))
			session_charge(s, ring_add(&s->ring, s->frameno,
			    ts_us, data, caplen, len));
		else
			s->c.evicted_frames++;
	}
	s->fdata = data;
	s->fcaplen = caplen;
	r = decode_frame(s->linktype, data, caplen, &pk);
	session_count(s, r);
	pk.framelen = len;
	if (r == DECODE_UDP && session_is_dns(s, &pk, 0))
		dns_packet(s, &pk, 0, ts_us);
	else if (r == DECODE_UDP)
		s->c.not_tcp++;
	else if (r == DECODE_TCP && session_is_dns(s, &pk, 1))
		dns_packet(s, &pk, 1, ts_us);
	else if (r == DECODE_TCP)
		tcp_packet(s, &pk, ts_us, s->frameno);
	s->fdata = NULL;
	if (s->mem > s->cfg.budget)
		session_enforce(s);
	else
		session_give_back(s);
}

void
session_finish(struct session *s, uint64_t stop_us)
{
	size_t	 i;

	if (s->state != SESSION_RUNNING)
		return;
	tcp_finish(s, s->last_frame_us != ENGINE_NOTIME ?
	    s->last_frame_us : stop_us);
	s->state = SESSION_FINISHED;
	s->stop_us = stop_us;
	for (i = 0; i < s->ntxns; i++)
		session_txn_done(s, s->txns[i]);
	/* Every connection's live state went, at once. */
	session_return();
}

void
session_abort(struct session *s, uint64_t stop_us)
{
	if (s->state != SESSION_RUNNING)
		return;
	session_finish(s, stop_us);
	s->state = SESSION_ABORTED;
}

static struct txn *
session_txn(struct session *s, uint32_t id)
{
	if (id == 0 || id > s->ntxns)
		return (NULL);
	return (s->txns[id - 1]);
}

/* One of the session's two buffers for bodies, body_keep bytes. */
static u_char *
session_bodybuf(struct session *s, u_char **buf)
{
	if (*buf == NULL) {
		*buf = xmalloc(s->cfg.body_keep);
		session_charge(s, s->cfg.body_keep);
	}
	return (*buf);
}

int
session_body(struct session *s, uint32_t txn_id, int which,
    const u_char **data, size_t *len, int *truncated)
{
	struct txn	*t;
	struct msg	*m;
	struct msg_body	*k;

	if ((t = session_txn(s, txn_id)) == NULL)
		return (-1);
	m = which ? t->resp : t->req;
	if (m == NULL || (k = m->kept) == NULL || k->len == 0 ||
	    (k->nrefs == 0 && k->u.body == NULL))
		return (-1);
	*data = k->u.body;
	*len = k->len;
	if (k->nrefs > 0) {
		*data = session_bodybuf(s, m->lazy ? &s->bodyraw : &s->bodybuf);
		if (body_gather(s, m, (u_char *)(uintptr_t)*data) == -1)
			return (-2);
	}
	if (m->lazy) {
		*len = body_decode(*data, k->len, session_bodybuf(s,
		    &s->bodybuf), s->cfg.body_keep);
		*data = s->bodybuf;
		*truncated = m->decoded_bytes > *len;
		return (0);
	}
	*truncated = m->body_truncated ||
	    (m->encoded ? m->decoded_bytes : m->body_bytes) > k->len;
	return (0);
}

size_t
session_frames_next(struct session *s, uint64_t *pos, uint64_t last,
    u_char *buf, size_t maxbytes)
{
	return (ring_next(&s->ring, pos, last, buf, maxbytes));
}

uint64_t
session_frames_last(const struct session *s)
{
	return (s->ring.last);
}

void
session_pack_summary(const struct session *s, msgpack_packer *pk)
{
	pack_session(s, pk);
}

/*
 * Items left in each phase (session, servers, connections, txns, DNS)
 * of what the session held when the stream began.
 */
static size_t
session_left(const struct session_cursor *cur, int phase, size_t index)
{
	size_t	 end;

	switch (phase) {
	case 0:
		return (index == 0 ? 1 : 0);
	case 1:
		end = cur->end_servers;
		break;
	case 2:
		end = cur->end_conns;
		break;
	case 3:
		end = cur->end_txns;
		break;
	case 4:
		end = cur->end_dns;
		break;
	default:
		return (0);
	}
	return (end > index ? end - index : 0);
}

static int
session_pack_flags(int flags)
{
	int	 pf = 0;

	if (flags & SESSION_DETAIL_PACKETS)
		pf |= PACK_PACKETS;
	if (!(flags & SESSION_DETAIL_BRIEF)) {
		pf |= PACK_FULL;
		if (flags & SESSION_DETAIL_LEAN)
			pf |= PACK_LEAN;
		else if (!(flags & SESSION_DETAIL_NO_HEADERS))
			pf |= PACK_HEADERS;
	}
	return (pf);
}

static void
session_pack_item(struct session *s, int phase, size_t index, int flags,
    msgpack_packer *pk)
{
	switch (phase) {
	case 0:
		pack_session(s, pk);
		break;
	case 1:
		pack_server(s->servers[index], pk);
		break;
	case 2:
		pack_conn(s->conns[index], session_pack_flags(flags),
		    s->last_frame_us, pk);
		break;
	case 3:
		pack_txn(s->txns[index], session_pack_flags(flags), pk);
		break;
	case 4:
		dns_pack(s->dns[index], pk);
		break;
	}
}

/* Where the first connection with an id above id is in the list. */
static size_t
session_conns_after(const struct session *s, uint32_t id)
{
	size_t	 lo = 0, hi = s->nconns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->conns[mid]->id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * The first chunk takes what the session holds. Evicting half-open
 * connections moves the later ones down the list: a cursor among the
 * connections goes on after the id it packed last, up to the last id
 * the session held then. Servers, transactions and lookups are only
 * ever added.
 */
static void
session_cursor_bounds(const struct session *s, struct session_cursor *cur)
{
	if (!cur->taken) {
		cur->taken = 1;
		cur->end_servers = s->nservers;
		cur->end_txns = s->ntxns;
		cur->end_dns = s->ndns;
		cur->end_conn = s->nconns > 0 ? s->conns[s->nconns - 1]->id : 0;
	}
	cur->end_conns = session_conns_after(s, cur->end_conn);
	if (cur->phase == 2 && cur->last_conn != 0)
		cur->index = session_conns_after(s, cur->last_conn);
}

size_t
session_pack_next(struct session *s, struct session_cursor *cur,
    msgpack_packer *pk, size_t max)
{
	size_t	 n = 0, left, take, i;
	int	 phase;
	size_t	 index;

	if (cur->npick > 0)
		return (session_closeup_next(s, cur, pk,
		    session_pack_flags(cur->flags)));
	session_cursor_bounds(s, cur);
	phase = cur->phase;
	index = cur->index;

	/* Count first: the array header comes before its items. */
	while (phase < SESSION_PHASES && n < max) {
		left = session_left(cur, phase, index);
		take = left < max - n ? left : max - n;
		n += take;
		if (take < left)
			break;
		phase++;
		index = 0;
	}
	if (n == 0) {
		cur->phase = SESSION_PHASES;
		return (0);
	}
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		while (session_left(cur, cur->phase, cur->index) == 0) {
			cur->phase++;
			cur->index = 0;
		}
		session_pack_item(s, cur->phase, cur->index, cur->flags, pk);
		if (cur->phase == 2)
			cur->last_conn = s->conns[cur->index]->id;
		cur->index++;
	}
	cur->count += n;
	return (n);
}

int
session_pack_txn(struct session *s, uint32_t txn_id, msgpack_packer *pk)
{
	struct txn	*t;

	if ((t = session_txn(s, txn_id)) == NULL)
		return (-1);
	pack_txn(t, PACK_FULL | PACK_HEADERS, pk);
	return (0);
}

int
session_pack_txn_conn(struct session *s, uint32_t txn_id,
    msgpack_packer *pk)
{
	struct txn	*t;

	if ((t = session_txn(s, txn_id)) == NULL)
		return (-1);
	pack_conn(t->conn, PACK_FULL | PACK_NO_TXNS, s->last_frame_us, pk);
	return (0);
}
