/*
 * session_closeup.c: the detail of one transaction or one connection
 * (htracrctl show --txn, --conn) without the rest of the session. A
 * close-up of a session of a hundred thousand transactions used to
 * take the whole detail with every packet, tens of megabytes for a
 * page of text; it takes a handful of items now, picked so that the
 * client's views read the same numbers from them as from the whole:
 * times count from where the session's time axis starts, a lookup is
 * the wait of the first connection tied to it, a request queued behind
 * the response before it on its connection.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "engine.h"
#include "log.h"
#include "pack.h"
#include "xmalloc.h"

enum {
	CLOSEUP_SERVER = 1,	/* the phases of session_pack_next */
	CLOSEUP_CONN,
	CLOSEUP_TXN,
	CLOSEUP_DNS,
};

/* Connections are kept in id order, with gaps once some are evicted. */
static struct conn *
closeup_conn(const struct session *s, uint32_t id)
{
	size_t	 lo = 0, hi = s->nconns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->conns[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nconns && s->conns[lo]->id == id)
		return (s->conns[lo]);
	return (NULL);
}

static struct txn *
closeup_txn(const struct session *s, uint32_t id)
{
	if (id == 0 || id > s->ntxns)
		return (NULL);
	return (s->txns[id - 1]);
}

static struct dns_lookup *
closeup_dns(const struct session *s, uint32_t id)
{
	if (id == 0 || id > s->ndns)
		return (NULL);
	return (s->dns[id - 1]);
}

/* Adds an item once; the list is sized for the most a close-up takes. */
static void
closeup_add(struct session_cursor *cur, int phase, uint32_t id, int focus)
{
	size_t	 i;

	if (id == 0)
		return;
	for (i = 0; i < cur->npick; i++)
		if (cur->pick[i].phase == phase && cur->pick[i].id == id) {
			cur->pick[i].focus |= focus;
			return;
		}
	if (cur->npick == SESSION_PICKS_MAX)
		fatalx("a close-up of more than %d items", SESSION_PICKS_MAX);
	cur->pick[cur->npick].phase = phase;
	cur->pick[cur->npick].id = id;
	cur->pick[cur->npick].focus = focus;
	cur->npick++;
}

/* The first connection, in id order, tied to lookup id. */
static uint32_t
closeup_dns_first(const struct session *s, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < s->nconns; i++)
		if (s->conns[i]->dns == id)
			return (s->conns[i]->id);
	return (0);
}

/*
 * The connection the session's time axis starts at, as the client's
 * waterfall finds it: the earliest first packet, or the query of a
 * lookup by the first connection tied to it. *lookup: that lookup
 * when its query is the start, else 0.
 */
static uint32_t
closeup_origin(const struct session *s, uint32_t *lookup)
{
	const struct conn		*c;
	const struct dns_lookup		*l;
	u_char				*tied;
	uint64_t			 best = ENGINE_NOTIME, a;
	uint32_t			 id = 0;
	size_t				 i;

	*lookup = 0;
	tied = xcalloc(s->ndns + 1, 1);
	for (i = 0; i < s->nconns; i++) {
		c = s->conns[i];
		a = c->first_us;
		l = closeup_dns(s, c->dns);
		if (l != NULL && !tied[c->dns]) {
			tied[c->dns] = 1;
			if (l->query_us != ENGINE_NOTIME && (a == ENGINE_NOTIME ||
			    l->query_us < a) && l->query_us < best) {
				best = l->query_us;
				id = c->id;
				*lookup = l->id;
				continue;
			}
		}
		if (a != ENGINE_NOTIME && a < best) {
			best = a;
			id = c->id;
			*lookup = 0;
		}
	}
	free(tied);
	return (id);
}

/* Items by phase, then id: the order of the whole detail. */
static int
closeup_cmp(const void *a, const void *b)
{
	const struct session_pick	*x = a, *y = b;

	if (x->phase != y->phase)
		return (x->phase < y->phase ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

int
session_closeup(struct session *s, struct session_cursor *cur,
    uint32_t txn_id, uint32_t conn_id)
{
	const struct txn	*t = NULL;
	const struct conn	*c;
	uint32_t		 origin, lookup;

	cur->npick = 0;
	if (txn_id != 0) {
		if ((t = closeup_txn(s, txn_id)) == NULL)
			return (-1);
		conn_id = t->conn->id;
	}
	if ((c = closeup_conn(s, conn_id)) == NULL)
		return (-1);
	closeup_add(cur, CLOSEUP_CONN, c->id, 1);
	if (c->server != NULL)
		closeup_add(cur, CLOSEUP_SERVER, c->server->id, 0);
	if (closeup_dns(s, c->dns) != NULL) {
		closeup_add(cur, CLOSEUP_DNS, c->dns, 0);
		closeup_add(cur, CLOSEUP_CONN, closeup_dns_first(s, c->dns), 0);
	}
	origin = closeup_origin(s, &lookup);
	closeup_add(cur, CLOSEUP_CONN, origin, 0);
	closeup_add(cur, CLOSEUP_DNS, lookup, 0);
	if (t != NULL) {
		closeup_add(cur, CLOSEUP_TXN, t->id, 1);
		if (t->index > 0 && t->index < c->ntxns &&
		    c->txns[t->index] == t->id)
			closeup_add(cur, CLOSEUP_TXN, c->txns[t->index - 1], 0);
	}
	qsort(cur->pick, cur->npick, sizeof(cur->pick[0]), closeup_cmp);
	return (0);
}

/* NULL for an item gone since it was picked (evicted, if half-open). */
static const void *
closeup_item(const struct session *s, const struct session_pick *p)
{
	switch (p->phase) {
	case CLOSEUP_SERVER:
		return (p->id <= s->nservers ? s->servers[p->id - 1] : NULL);
	case CLOSEUP_CONN:
		return (closeup_conn(s, p->id));
	case CLOSEUP_TXN:
		return (closeup_txn(s, p->id));
	case CLOSEUP_DNS:
		return (closeup_dns(s, p->id));
	}
	return (NULL);
}

/*
 * The focus goes with the flags' packets and header lists; the others
 * carry what the views read of them.
 */
static void
closeup_pack_item(struct session *s, const struct session_pick *p,
    const void *item, int pf, msgpack_packer *pk)
{
	switch (p->phase) {
	case CLOSEUP_SERVER:
		pack_server(item, pk);
		break;
	case CLOSEUP_CONN:
		pack_conn(item, p->focus ? pf : (pf & ~PACK_PACKETS) |
		    PACK_NO_TXNS, s->last_frame_us, pk);
		break;
	case CLOSEUP_TXN:
		pack_txn(item, p->focus ? pf : pf & ~PACK_HEADERS, pk);
		break;
	case CLOSEUP_DNS:
		dns_pack(item, pk);
		break;
	}
}

/*
 * session_pack_next for a close-up: the session item, then the picks
 * still there. pf: the pack flags of the cursor's flags.
 */
size_t
session_closeup_next(struct session *s, struct session_cursor *cur,
    msgpack_packer *pk, int pf)
{
	size_t	 i, n;

	if (cur->phase > 0)
		return (0);
	for (i = 0, n = 1; i < cur->npick; i++)
		if (closeup_item(s, &cur->pick[i]) != NULL)
			n++;
	msgpack_pack_array(pk, n);
	pack_session(s, pk);
	for (i = 0; i < cur->npick; i++)
		if (closeup_item(s, &cur->pick[i]) != NULL)
			closeup_pack_item(s, &cur->pick[i],
			    closeup_item(s, &cur->pick[i]), pf, pk);
	cur->phase = 1;
	cur->count += n;
	return (n);
}
