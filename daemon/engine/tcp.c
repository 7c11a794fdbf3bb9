/*
 * tcp.c: TCP connections of a session. A hash table keyed by the
 * 4-tuple (both directions hash alike) finds the live state of a
 * connection in O(1); each direction reassembles its byte stream
 * (overlaps settled as tshark does, a bounded out-of-order queue, gaps
 * marked and skipped: stream.c) and hands in-order bytes to http.c
 * without copying them.
 * The connection model (states, counters, packet records) lives in
 * struct conn and outlives the live state, which is released some time
 * after the connection closes so the table stays bounded.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Sequence numbers are
 * compared modulo 2^32 throughout.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "h2.h"
#include "http.h"
#include "pktlog.h"
#include "stream.h"
#include "tcp.h"
#include "tls.h"
#include "tlsdec.h"
#include "xmalloc.h"

#define TCP_SCAN_PACKETS	16	/* mid-stream: packets searched for HTTP */

/*
 * The table starts small and doubles as connections come: a session of
 * a few connections (a loaded capture, a short live one) neither zeroes
 * nor walks at its end buckets it never used.
 */
#define TCP_TABLE_MIN		16

struct tcp_table {
	struct tcp_live	**b;
	size_t		  size;		/* power of two */
	size_t		  n;
	struct tcp_live	 *closed_head;
	struct tcp_live	 *closed_tail;
	struct tcp_live	 *last;		/* found last; NULL when released */
	uint8_t		  ports[65536 / 8];
};

static uint32_t
tcp_fold(const uint8_t *a, uint8_t family)
{
	uint32_t	 w[4];

	memcpy(w, a, 16);
	if (family == 4)
		return (w[0]);
	return (w[0] ^ w[1] * 31 ^ w[2] * 131 ^ w[3] * 1031);
}

static uint32_t
tcp_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return (x);
}

/* Symmetric: both directions of a connection get the same hash. */
static uint32_t
tcp_hash(const struct decode_pkt *pk)
{
	uint32_t	 a, b;

	a = tcp_mix(tcp_fold(pk->src, pk->family) + pk->sport);
	b = tcp_mix(tcp_fold(pk->dst, pk->family) + pk->dport);
	return (tcp_mix(a ^ b));
}

void
tcp_init(struct session *s)
{
	struct tcp_table	*t;

	t = xcalloc(1, sizeof(*t));
	t->size = TCP_TABLE_MIN;
	t->b = xcalloc(t->size, sizeof(*t->b));
	s->tcp = t;
	session_charge(s, session_size(t) + session_size(t->b));
	tcp_set_ports(s);
}

void
tcp_set_ports(struct session *s)
{
	size_t	 i;

	memset(s->tcp->ports, 0, sizeof(s->tcp->ports));
	for (i = 0; i < s->cfg.nports; i++)
		s->tcp->ports[s->cfg.ports[i] / 8] |=
		    1 << (s->cfg.ports[i] % 8);
}

static int
tcp_port_listed(struct session *s, uint16_t port)
{
	return (s->tcp->ports[port / 8] & (1 << (port % 8)));
}

static void
tcp_unlink_closed(struct tcp_table *t, struct tcp_live *l)
{
	if (l->cprev != NULL)
		l->cprev->cnext = l->cnext;
	else
		t->closed_head = l->cnext;
	if (l->cnext != NULL)
		l->cnext->cprev = l->cprev;
	else
		t->closed_tail = l->cprev;
	l->cnext = l->cprev = NULL;
	l->on_closed = 0;
}

/*
 * A connection whose live state goes records no more packets: its
 * array, grown by doubling, gives back the room it will not use (on
 * the bench capture, a third of what packet records took).
 */
static void
tcp_fit_packets(struct session *s, struct conn *c)
{
	c->pkts = session_fit(s, c->pkts, &c->pktcap, c->pktlen, 1);
}

/*
 * A closed connection whose streams have both ended needs no parser:
 * what may still come (late retransmissions, a last ACK) is told apart
 * by sequence numbers alone. The parser goes now rather than with the
 * live state, which lingers TCP_LINGER_US, and the connection's arrays
 * give back their spare room (on the bench capture about half of the
 * connections sat closed at the end, each with its parser).
 */
static void
tcp_shed(struct session *s, struct tcp_live *l)
{
	struct conn	*c = l->conn;

	l->shed = 1;
	if (l->http != NULL) {
		http_conn_free(s, l->http);
		l->http = NULL;
	}
	if (l->h2 != NULL) {
		h2_conn_free(s, l->h2);
		l->h2 = NULL;
	}
	tcp_fit_packets(s, c);
	c->states = session_fit(s, c->states, &c->statecap, c->statelen, 1);
	c->txns = session_fit(s, c->txns, &c->txncap, c->ntxns,
	    sizeof(*c->txns));
}

/* Frees the live state; the conn keeps its model record. */
static void
tcp_release(struct session *s, struct tcp_live *l)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		**pp;

	for (pp = &t->b[l->hash & (t->size - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	}
	t->n--;
	if (t->last == l)
		t->last = NULL;
	if (l->on_closed)
		tcp_unlink_closed(t, l);
	stream_clear(s, &l->h[0]);
	stream_clear(s, &l->h[1]);
	if (l->http != NULL)
		http_conn_free(s, l->http);
	if (l->dec != NULL)
		tlsdec_free(s, l->dec);
	if (l->tls != NULL)
		tls_conn_free(s, l->tls);
	if (l->h2 != NULL)
		h2_conn_free(s, l->h2);
	l->conn->live = NULL;
	tcp_fit_packets(s, l->conn);
	session_uncharge(s, session_size(l));
	free(l);
}

/* The connection is evicted: its live state goes first. */
void
tcp_forget(struct session *s, struct conn *c)
{
	if (c->live != NULL)
		tcp_release(s, c->live);
}

void
tcp_free(struct session *s)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		*l;
	size_t			 i;

	if (t == NULL)
		return;
	while ((l = t->closed_head) != NULL) {
		t->closed_head = l->cnext;
		l->on_closed = 0;
	}
	t->closed_tail = NULL;
	for (i = 0; i < t->size; i++) {
		while ((l = t->b[i]) != NULL)
			tcp_release(s, l);
	}
	session_uncharge(s, session_size(t) + session_size(t->b));
	free(t->b);
	free(t);
	s->tcp = NULL;
}

static void
tcp_rehash(struct session *s)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		**nb, *l, *next;
	size_t			 i, nsize = t->size * 2;

	session_uncharge(s, session_size(t->b));
	nb = xcalloc(nsize, sizeof(*nb));
	for (i = 0; i < t->size; i++) {
		for (l = t->b[i]; l != NULL; l = next) {
			next = l->hnext;
			l->hnext = nb[l->hash & (nsize - 1)];
			nb[l->hash & (nsize - 1)] = l;
		}
	}
	free(t->b);
	session_charge(s, session_size(nb));
	t->b = nb;
	t->size = nsize;
}

/* Whether l is pk's connection, and in which direction pk goes. */
static int
tcp_match(const struct tcp_live *l, const struct decode_pkt *pk,
    uint32_t hash, int *dir)
{
	const struct conn	*c = l->conn;
	size_t			 alen = pk->family == 4 ? 4 : 16;

	if (l->hash != hash || c->family != pk->family)
		return (0);
	if (c->cport == pk->sport && c->sport == pk->dport &&
	    memcmp(c->caddr, pk->src, alen) == 0 &&
	    memcmp(c->saddr, pk->dst, alen) == 0) {
		*dir = DIR_C2S;
		return (1);
	}
	if (c->cport == pk->dport && c->sport == pk->sport &&
	    memcmp(c->caddr, pk->dst, alen) == 0 &&
	    memcmp(c->saddr, pk->src, alen) == 0) {
		*dir = DIR_S2C;
		return (1);
	}
	return (0);
}

/*
 * Finds the live connection; *dir says which way pk goes. The one
 * found last is tried first: segments of one response tend to come
 * back to back, and it spares a walk of cold memory.
 */
static struct tcp_live *
tcp_lookup(struct session *s, const struct decode_pkt *pk, uint32_t hash,
    int *dir)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		*l;

	if (t->last != NULL && tcp_match(t->last, pk, hash, dir))
		return (t->last);
	for (l = t->b[hash & (t->size - 1)]; l != NULL; l = l->hnext)
		if (tcp_match(l, pk, hash, dir))
			return (t->last = l);
	return (NULL);
}

/*
 * Who is the client of a new connection: the SYN sender, the peer of a
 * SYN-ACK sender, the side not on a configured port, or (tentatively,
 * until its first payload says otherwise) the side with the higher port.
 * Returns 1 if the source of pk is the client, 0 if not, -1 to ignore.
 */
static int
tcp_roles(struct session *s, const struct decode_pkt *pk, int *sure)
{
	int	 syn = pk->flags & TH_SYN, ack = pk->flags & TH_ACK;

	*sure = 1;
	if (s->cfg.nports > 0) {
		if (syn && !ack)
			return (tcp_port_listed(s, pk->dport) ? 1 : -1);
		if (syn && ack)
			return (tcp_port_listed(s, pk->sport) ? 0 : -1);
		if (tcp_port_listed(s, pk->dport))
			return (1);
		if (tcp_port_listed(s, pk->sport))
			return (0);
		return (-1);
	}
	if (syn)
		return (ack ? 0 : 1);
	*sure = 0;
	return (pk->sport >= pk->dport);
}

static void
tcp_set_server(struct session *s, struct conn *c)
{
	if (c->server != NULL)
		return;
	c->server = session_server(s, c->family, c->saddr, c->sport);
	if (c->server != NULL)
		c->server->nconns++;
}

static struct tcp_live *
tcp_create(struct session *s, const struct decode_pkt *pk, uint32_t hash,
    uint64_t us, int *dir)
{
	struct tcp_live	*l;
	struct conn	*c;
	int		 client, sure;

	if ((client = tcp_roles(s, pk, &sure)) == -1)
		return (NULL);
	/*
	 * A connection not stored is looked for again at each of its
	 * packets: it is counted at its SYN, not at every packet (a
	 * keep-alive client made a million and a half of 200 dropped).
	 */
	if ((c = session_conn_new(s)) == NULL) {
		if ((pk->flags & (TH_SYN | TH_ACK)) == TH_SYN)
			s->c.dropped_connections++;
		return (NULL);
	}
	l = xcalloc(1, sizeof(*l));
	session_charge(s, session_size(l));
	l->conn = c;
	l->hash = hash;
	l->sure = sure;
	c->live = l;
	c->family = pk->family;
	memcpy(client ? c->caddr : c->saddr, pk->src, 16);
	memcpy(client ? c->saddr : c->caddr, pk->dst, 16);
	c->cport = client ? pk->sport : pk->dport;
	c->sport = client ? pk->dport : pk->sport;
	c->first_us = us;
	if (!(pk->flags & TH_SYN))
		c->flags |= CONN_F_MIDSTREAM;
	if (sure && (s->cfg.nports > 0 || (pk->flags & TH_SYN)))
		tcp_set_server(s, c);
	session_conn_state(s, c, (pk->flags & TH_SYN) ? CONN_HANDSHAKING :
	    CONN_CONNECTED, us);
	l->hnext = s->tcp->b[hash & (s->tcp->size - 1)];
	s->tcp->b[hash & (s->tcp->size - 1)] = l;
	if (++s->tcp->n > s->tcp->size)
		tcp_rehash(s);
	*dir = client ? DIR_C2S : DIR_S2C;
	dns_tie(s, c);
	return (l);
}

/* Client and server were guessed the wrong way round: swap them. */
static void
tcp_swap(struct tcp_live *l)
{
	struct conn	*c = l->conn;
	struct stream	 h;
	struct dirstats	 d;
	uint8_t		 a[16];
	uint16_t	 p;

	memcpy(a, c->caddr, 16);
	memcpy(c->caddr, c->saddr, 16);
	memcpy(c->saddr, a, 16);
	p = c->cport;
	c->cport = c->sport;
	c->sport = p;
	h = l->h[0];
	l->h[0] = l->h[1];
	l->h[1] = h;
	d = c->d[0];
	c->d[0] = c->d[1];
	c->d[1] = d;
	pktlog_flip(c->pkts, c->pktlen, c->npkts, &c->pktlast);
}

/*
 * Decides from the first payload whether the connection carries HTTP
 * (only asked when no ports are configured, or to orient a connection
 * picked up mid-stream) and who the client is. Returns the direction of
 * this payload after any swap.
 */
static int
tcp_decide(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk)
{
	struct conn	*c = l->conn;
	int		 sdir;
	long		 off;

	if (l->sure && (s->cfg.nports > 0 || !(c->flags & CONN_F_MIDSTREAM))) {
		l->decided = 1;		/* http.c probes the first bytes */
		return (dir);
	}
	off = http_find_start(pk->payload, pk->paylen,
	    (c->flags & CONN_F_MIDSTREAM) != 0, &sdir);
	if (off < 0) {
		if (++l->scans >= TCP_SCAN_PACKETS ||
		    !(c->flags & CONN_F_MIDSTREAM)) {
			c->flags |= CONN_F_NOT_HTTP;
			l->decided = 1;
		}
		return (dir);
	}
	if (sdir != dir && !l->sure) {
		tcp_swap(l);
		dns_tie(s, c);
		dir ^= 1;
	}
	l->sure = 1;
	l->decided = 1;
	return (dir);
}

static void
tcp_start_http(struct session *s, struct tcp_live *l)
{
	struct conn	*c = l->conn;

	int		 start = HTTP_PARSE;

	if (c->flags & CONN_F_NOT_HTTP)
		return;
	if (c->flags & CONN_F_MIDSTREAM)
		start = HTTP_RESYNC;
	else if (s->cfg.nports == 0)
		start = HTTP_PROBE;
	tcp_set_server(s, c);
	if (l->http == NULL)
		l->http = http_conn_new(s, c, start);
}

/* Handshake bookkeeping: ISNs, options, times. */
static void
tcp_handshake(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk, uint64_t us)
{
	struct conn	*c = l->conn;
	struct stream	*h = &l->h[dir], *o = &l->h[dir ^ 1];

	if (pk->flags & TH_SYN) {
		if (h->syn_seen && h->base == pk->seq)
			c->d[dir].retransmits++;
		h->syn_seen = 1;
		if (!h->have_base || !h->have_next) {
			h->base = pk->seq;
			h->have_base = 1;
		}
		if (pk->mss >= 0)
			c->d[dir].mss = pk->mss;
		if (pk->wscale >= 0)
			c->d[dir].wscale = pk->wscale;
		if (!(pk->flags & TH_ACK) && c->syn_us == ENGINE_NOTIME) {
			c->syn_us = us;
			if (c->synack_us != ENGINE_NOTIME)
				c->flags |= CONN_F_REORDERED_HS;
		}
		if ((pk->flags & TH_ACK) && c->synack_us == ENGINE_NOTIME) {
			c->synack_us = us;
			if (!o->have_base) {
				o->base = pk->ack - 1;
				o->have_base = 1;
			}
		}
		return;
	}
	if (c->state == CONN_HANDSHAKING && dir == DIR_C2S &&
	    (pk->flags & TH_ACK) && c->synack_us != ENGINE_NOTIME &&
	    o->have_base && pk->ack == o->base + 1) {
		c->est_us = us;
		session_conn_state(s, c, CONN_CONNECTED, us);
	}
}

static void
tcp_closed(struct session *s, struct tcp_live *l, uint64_t us)
{
	struct tcp_table	*t = s->tcp;

	if (l->on_closed)
		return;
	l->on_closed = 1;
	l->closed_us = us;
	l->cnext = NULL;
	l->cprev = t->closed_tail;
	if (t->closed_tail != NULL)
		t->closed_tail->cnext = l;
	else
		t->closed_head = l;
	t->closed_tail = l;
}

/* State changes driven by FIN, RST and the ACK of the last FIN. */
static void
tcp_state(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk, uint64_t us)
{
	struct conn	*c = l->conn;
	int		 st = c->state;

	if (st == CONN_IDLE)
		st = CONN_CONNECTED;
	if (pk->flags & TH_RST) {
		if (st != CONN_RESET) {
			session_conn_state(s, c, CONN_RESET, us);
			tcp_closed(s, l, us);
		}
		return;
	}
	if (pk->flags & TH_FIN) {
		l->h[dir].fin_seen = 1;
		if (l->h[dir ^ 1].fin_seen && st != CONN_CLOSED)
			st = CONN_CLOSING;
		else if (st == CONN_CONNECTED || st == CONN_HANDSHAKING)
			st = CONN_HALF_CLOSED;
	} else if (st == CONN_CLOSING && (pk->flags & TH_ACK) &&
	    l->h[dir ^ 1].have_fin &&
	    pk->ack == l->h[dir ^ 1].fin_seq + 1) {
		st = CONN_CLOSED;
		tcp_closed(s, l, us);
	}
	if (st != c->state)
		session_conn_state(s, c, st, us);
}

static void
tcp_idle(struct session *s, struct conn *c, uint64_t us)
{
	if (c->state == CONN_CONNECTED && c->last_us != ENGINE_NOTIME &&
	    us >= c->last_us + ENGINE_IDLE_US) {
		session_conn_state(s, c, CONN_IDLE, c->last_us +
		    ENGINE_IDLE_US);
		session_conn_state(s, c, CONN_CONNECTED, us);
	}
}

static int
tcp_class(const struct decode_pkt *pk, int seqclass, int zero, int dup)
{
	uint8_t	 f = pk->flags;

	if ((f & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		return (PKT_SYNACK);
	if (f & TH_SYN)
		return (PKT_SYN);
	if (f & TH_RST)
		return (PKT_RST);
	if (seqclass >= 0)
		return (seqclass);
	if (f & TH_FIN)
		return (PKT_FIN);
	if (zero)
		return (PKT_ZERO_WINDOW);
	if (dup)
		return (PKT_DUP_ACK);
	if (pk->wirelen > 0)
		return ((f & TH_PUSH) ? PKT_PUSH : PKT_DATA);
	return (PKT_ACK);
}

static void
tcp_record(struct session *s, struct tcp_live *l, int dir,
    const struct decode_pkt *pk, uint64_t us, uint32_t frame, int class,
    uint32_t win)
{
	struct conn	*c = l->conn;
	struct pkt	 p;

	if (s->cfg.no_packets)
		return;
	if (c->pkts_evicted || s->full) {
		s->c.evicted_packets++;
		return;
	}
	if (c->pktcap - c->pktlen < PKTLOG_MAX)
		c->pkts = session_grow(s, c->pkts, &c->pktcap,
		    c->pktlen + PKTLOG_MAX, 1);
	p.us = us;
	p.frame = frame;
	p.seq = pk->seq - l->h[dir].base;
	p.ack = (pk->flags & TH_ACK) ? pk->ack - l->h[dir ^ 1].base : 0;
	p.win = win;
	p.len = pk->wirelen;
	p.flags = pk->flags;
	p.dir = dir;
	p.class = class;
	p.pad = 0;
	c->pktlen += pktlog_put(c->pkts + c->pktlen, &c->pktlast, &p);
	c->npkts++;
}

/* Window, zero-window and duplicate-ACK bookkeeping; returns the window. */
static uint32_t
tcp_window(struct tcp_live *l, int dir, const struct decode_pkt *pk,
    int *zero, int *dup)
{
	struct conn	*c = l->conn;
	struct stream	*h = &l->h[dir];
	uint32_t	 win = pk->win;

	*zero = *dup = 0;
	if (!(pk->flags & TH_SYN) && c->d[0].wscale >= 0 &&
	    c->d[1].wscale >= 0)
		win <<= c->d[dir].wscale;
	if (pk->flags & (TH_SYN | TH_FIN | TH_RST))
		return (win);
	if (win == 0) {
		*zero = 1;
		c->d[dir].zero_windows++;
	} else if (pk->wirelen == 0 && h->have_ack &&
	    pk->ack == h->last_ack && win == h->last_win &&
	    l->h[dir ^ 1].have_next && pk->ack != l->h[dir ^ 1].maxend) {
		*dup = 1;
		c->d[dir].dup_acks++;
	}
	if (pk->flags & TH_ACK) {
		h->last_ack = pk->ack;
		h->last_win = win;
		h->have_ack = 1;
	}
	return (win);
}

/* A new SYN on a finished connection's tuple starts a new connection. */
static int
tcp_reused(const struct tcp_live *l, const struct decode_pkt *pk)
{
	if ((pk->flags & (TH_SYN | TH_ACK)) != TH_SYN)
		return (0);
	if (l->h[0].have_base && l->h[0].base == pk->seq)
		return (0);
	return (l->h[0].fin_seen || l->h[1].fin_seen ||
	    l->conn->state == CONN_RESET);
}

static void
tcp_expire(struct session *s, uint64_t us)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		*l;

	while ((l = t->closed_head) != NULL &&
	    l->closed_us + TCP_LINGER_US <= us) {
		tcp_unlink_closed(t, l);
		tcp_release(s, l);
	}
}

/* The live connection for pk, created if need be; NULL to ignore it. */
static struct tcp_live *
tcp_find(struct session *s, const struct decode_pkt *pk, uint64_t us,
    int *dir)
{
	struct tcp_live	*l;
	uint32_t	 hash = tcp_hash(pk);

	l = tcp_lookup(s, pk, hash, dir);
	if (l != NULL && tcp_reused(l, pk)) {
		tcp_release(s, l);
		l = NULL;
	}
	if (l == NULL)
		l = tcp_create(s, pk, hash, us, dir);
	return (l);
}

void
tcp_packet(struct session *s, const struct decode_pkt *pk, uint64_t us,
    uint32_t frame)
{
	struct tcp_live	*l;
	struct conn	*c;
	int		 dir, class, zero, dup;
	uint32_t	 win;

	if ((l = tcp_find(s, pk, us, &dir)) == NULL)
		return;
	c = l->conn;
	if (!l->decided && pk->paylen > 0) {
		dir = tcp_decide(s, l, dir, pk);
		if (l->decided)
			tcp_start_http(s, l);
	}
	tcp_idle(s, c, us);
	c->last_us = us;
	c->d[dir].packets++;
	c->d[dir].bytes += pk->framelen;
	c->d[dir].payload += pk->wirelen;
	if (!l->h[dir].have_base) {
		l->h[dir].base = pk->seq;
		l->h[dir].have_base = 1;
	}
	if ((pk->flags & TH_ACK) && !l->h[dir ^ 1].have_base) {
		l->h[dir ^ 1].base = pk->ack;
		l->h[dir ^ 1].have_base = 1;
	}
	tcp_handshake(s, l, dir, pk, us);
	stream_acked(s, l, dir, pk, us, frame);
	win = tcp_window(l, dir, pk, &zero, &dup);
	class = -1;
	if (!(pk->flags & TH_RST))
		class = stream_segment(s, l, dir, pk, us, frame);
	class = tcp_class(pk, class, zero, dup);
	tcp_record(s, l, dir, pk, us, frame, class, win);
	tcp_state(s, l, dir, pk, us);
	if (pk->flags & TH_RST) {
		stream_end(s, l, DIR_C2S, us, frame, 1);
		stream_end(s, l, DIR_S2C, us, frame, 1);
	}
	if (l->on_closed && !l->shed && l->h[0].eof && l->h[1].eof)
		tcp_shed(s, l);
	tcp_expire(s, us);
}

/* End of capture: flush every queue, end every stream. */
void
tcp_finish(struct session *s, uint64_t us)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		*l, *next;
	struct conn		*c;
	size_t			 i;

	for (i = 0; i < t->size; i++) {
		for (l = t->b[i]; l != NULL; l = l->hnext) {
			c = l->conn;
			stream_end(s, l, DIR_C2S, us, s->frameno, 0);
			stream_end(s, l, DIR_S2C, us, s->frameno, 0);
			if (c->state == CONN_CONNECTED &&
			    us >= c->last_us + ENGINE_IDLE_US)
				session_conn_state(s, c, CONN_IDLE,
				    c->last_us + ENGINE_IDLE_US);
		}
	}
	/*
	 * No frame comes after the end: only a decrypting connection has
	 * a use for its live state (keys given later, tcp_keys_added).
	 */
	for (i = 0; i < t->size; i++) {
		for (l = t->b[i]; l != NULL; l = next) {
			next = l->hnext;
			if (l->dec == NULL)
				tcp_release(s, l);
		}
	}
}

void
tcp_keys_added(struct session *s)
{
	struct tcp_table	*t = s->tcp;
	struct tcp_live		*l;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->size; i++)
		for (l = t->b[i]; l != NULL; l = l->hnext)
			if (l->dec != NULL)
				tlsdec_retry(s, l->dec);
}
