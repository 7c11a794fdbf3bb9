/*
 * dns.c: DNS lookups seen on port 53. Each query opens a lookup; the
 * response with the same id, addresses, ports, name and type closes
 * it with its rcode and answers (addresses, CNAMEs, TTLs). Lookups
 * live in the session's arena, at most DNS_MAX_LOOKUPS of them; more
 * are counted as dropped. Over TCP only a message whole in one segment
 * is read: DNS over TCP is rare next to UDP and its messages small.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Every message is
 * hostile: each offset is checked against its length before a byte is
 * read, compression pointers may only point backwards, and names are
 * escaped into a bounded presentation form before they are stored.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "xmalloc.h"

#define DNS_HDR			12
#define DNS_MAX_HOPS		64	/* compression pointers per name */
#define DNS_MAX_WIRE_NAME	255

struct dns_msg {
	uint16_t	 txid;
	uint8_t		 response;
	uint8_t		 truncated;
	uint8_t		 rcode;
	uint16_t	 ancount;
	uint16_t	 qtype;
	uint16_t	 qclass;
	char		 name[DNS_NAME_MAX];
	int		 namelen;
	size_t		 off;		/* first byte after the question */
};

static uint16_t
dns_be16(const u_char *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
dns_be32(const u_char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static int
dns_plain(u_char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*');
}

/* Appends one label to out at *n, escaped; -1 if it would not fit. */
static int
dns_label(const u_char *p, size_t len, char *out, size_t *n)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (*n + 5 > DNS_NAME_MAX)
			return (-1);
		if (dns_plain(p[i]))
			out[(*n)++] = (char)p[i];
		else
			*n += (size_t)snprintf(out + *n, 5, "\\%03u", p[i]);
	}
	return (0);
}

int
dns_name(const u_char *msg, size_t len, size_t off, char *out, size_t *next)
{
	size_t	 n = 0, wire = 1, l;
	int	 hops = 0, jumped = 0;

	for (;;) {
		if (off >= len)
			return (-1);
		l = msg[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > DNS_MAX_HOPS)
				return (-1);
			if (!jumped)
				*next = off + 2;
			jumped = 1;
			l = (size_t)(dns_be16(msg + off) & 0x3fff);
			if (l >= off)
				return (-1);	/* forwards or onto itself */
			off = l;
			continue;
		}
		if (l & 0xc0)
			return (-1);		/* extended label types */
		if (l == 0)
			break;
		wire += l + 1;
		if (wire > DNS_MAX_WIRE_NAME || off + 1 + l > len)
			return (-1);
		if (n > 0) {
			if (n + 2 > DNS_NAME_MAX)
				return (-1);
			out[n++] = '.';
		}
		if (dns_label(msg + off + 1, l, out, &n) == -1)
			return (-1);
		off += 1 + l;
	}
	if (!jumped)
		*next = off + 1;
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return ((int)n);
}

/* The header and the one question; -1 if it is not a plain query. */
static int
dns_parse(const u_char *p, size_t len, struct dns_msg *m)
{
	uint16_t	 flags;

	if (len < DNS_HDR)
		return (-1);
	m->txid = dns_be16(p);
	flags = dns_be16(p + 2);
	m->response = flags >> 15;
	m->truncated = (flags >> 9) & 1;
	m->rcode = flags & 0x0f;
	m->ancount = dns_be16(p + 6);
	if (((flags >> 11) & 0x0f) != 0 || dns_be16(p + 4) != 1)
		return (-1);		/* not a QUERY with one question */
	if ((m->namelen = dns_name(p, len, DNS_HDR, m->name, &m->off)) == -1)
		return (-1);
	if (m->off + 4 > len)
		return (-1);
	m->qtype = dns_be16(p + m->off);
	m->qclass = dns_be16(p + m->off + 2);
	m->off += 4;
	return (0);
}

static char *
dns_strdup(struct session *s, const char *p, size_t n)
{
	char	*d;

	d = session_alloc(s, n + 1);
	memcpy(d, p, n);
	return (d);
}

/* One answer record at *off; -1 if malformed. */
static int
dns_answer(struct session *s, const u_char *p, size_t len, size_t *off,
    struct dns_answer *a)
{
	char	 name[DNS_NAME_MAX];
	size_t	 next, rdlen, end;
	int	 n;

	if (dns_name(p, len, *off, name, &next) == -1 || next + 10 > len)
		return (-1);
	memset(a, 0, sizeof(*a));
	a->type = dns_be16(p + next);
	a->ttl = dns_be32(p + next + 4);
	rdlen = dns_be16(p + next + 8);
	next += 10;
	if (next + rdlen > len)
		return (-1);
	if ((a->type == 1 && rdlen == 4) || (a->type == 28 && rdlen == 16)) {
		a->addrlen = (uint8_t)rdlen;
		memcpy(a->addr, p + next, rdlen);
	} else if (a->type == 5) {
		if ((n = dns_name(p, next + rdlen, next, name, &end)) == -1)
			return (-1);
		a->name = dns_strdup(s, name, (size_t)n);
		a->namelen = (uint16_t)n;
	}
	*off = next + rdlen;
	return (0);
}

static void
dns_answers(struct session *s, struct dns_lookup *l, const u_char *p,
    size_t len, const struct dns_msg *m)
{
	struct dns_answer	 a[DNS_MAX_ANSWERS];
	size_t			 off = m->off;
	uint16_t		 i;

	l->nanswers = m->ancount;
	for (i = 0; i < m->ancount && i < DNS_MAX_ANSWERS; i++) {
		if (dns_answer(s, p, len, &off, &a[i]) == -1) {
			s->c.dns_malformed++;
			break;
		}
	}
	if (i == 0)
		return;
	l->ans = session_alloc(s, i * sizeof(*l->ans));
	memcpy(l->ans, a, i * sizeof(*l->ans));
	l->nkept = (uint8_t)i;
}

static struct dns_lookup *
dns_new(struct session *s, const struct decode_pkt *pk, int tcp,
    const struct dns_msg *m, int client)
{
	struct dns_lookup	*l;

	if (s->ndns >= DNS_MAX_LOOKUPS || !session_room(s)) {
		s->c.dns_dropped++;
		return (NULL);
	}
	l = session_alloc(s, sizeof(*l));
	l->id = (uint32_t)s->ndns + 1;
	l->query_us = l->response_us = ENGINE_NOTIME;
	l->family = pk->family;
	memcpy(l->caddr, client ? pk->src : pk->dst, 16);
	memcpy(l->saddr, client ? pk->dst : pk->src, 16);
	l->cport = client ? pk->sport : pk->dport;
	l->sport = client ? pk->dport : pk->sport;
	l->txid = m->txid;
	l->qtype = m->qtype;
	l->qclass = m->qclass;
	l->tcp = (uint8_t)tcp;
	l->name = dns_strdup(s, m->name, (size_t)m->namelen);
	l->namelen = (uint16_t)m->namelen;
	s->dns = session_grow(s, s->dns, &s->dnscap, s->ndns + 1,
	    sizeof(*s->dns));
	s->dns[s->ndns++] = l;
	return (l);
}

/* The open lookup this message belongs to, among the recent ones. */
static struct dns_lookup *
dns_find(struct session *s, const struct decode_pkt *pk, int tcp,
    const struct dns_msg *m, int client)
{
	struct dns_lookup	*l;
	size_t			 i, n = 0;

	for (i = s->ndns; i > 0 && n < DNS_MATCH_WINDOW; i--, n++) {
		l = s->dns[i - 1];
		if (l->response_us != ENGINE_NOTIME || l->txid != m->txid ||
		    l->tcp != tcp || l->family != pk->family ||
		    l->qtype != m->qtype || l->qclass != m->qclass)
			continue;
		if (memcmp(l->caddr, client ? pk->src : pk->dst, 16) != 0 ||
		    memcmp(l->saddr, client ? pk->dst : pk->src, 16) != 0 ||
		    l->cport != (client ? pk->sport : pk->dport) ||
		    l->sport != (client ? pk->dport : pk->sport))
			continue;
		if (l->namelen == m->namelen &&
		    strncasecmp(l->name, m->name, l->namelen) == 0)
			return (l);
	}
	return (NULL);
}

static void
dns_message(struct session *s, const struct decode_pkt *pk, int tcp,
    const u_char *p, size_t len, uint64_t us)
{
	struct dns_msg		 m;
	struct dns_lookup	*l;

	if (dns_parse(p, len, &m) == -1) {
		s->c.dns_malformed++;
		return;
	}
	l = dns_find(s, pk, tcp, &m, !m.response);
	if (!m.response) {
		if (l != NULL) {
			l->retries++;
			return;
		}
		if ((l = dns_new(s, pk, tcp, &m, 1)) == NULL)
			return;
		l->query_us = us;
		l->query_frame = s->frameno;
		return;
	}
	if (l == NULL) {
		s->c.dns_unmatched++;
		if ((l = dns_new(s, pk, tcp, &m, 0)) == NULL)
			return;
	}
	l->response_us = us;
	l->response_frame = s->frameno;
	l->rcode = m.rcode;
	l->truncated = m.truncated;
	dns_answers(s, l, p, len, &m);
}

void
dns_packet(struct session *s, const struct decode_pkt *pk, int tcp,
    uint64_t us)
{
	const u_char	*p = pk->payload;
	size_t		 len = pk->paylen, mlen;

	if (pk->sport != DNS_PORT && pk->dport != DNS_PORT)
		return;
	if (!tcp) {
		dns_message(s, pk, 0, p, len, us);
		return;
	}
	if (len == 0)
		return;			/* handshake, acks, FIN */
	if (len < 2 || (mlen = dns_be16(p)) + 2 > len) {
		s->c.dns_malformed++;	/* split over segments: not read */
		return;
	}
	dns_message(s, pk, 1, p + 2, mlen, us);
}

static int
dns_has_addr(const struct dns_lookup *l, const struct conn *c)
{
	size_t	 i, alen = c->family == 4 ? 4 : 16;

	for (i = 0; i < l->nkept; i++)
		if (l->ans[i].addrlen == alen &&
		    memcmp(l->ans[i].addr, c->saddr, alen) == 0)
			return (1);
	return (0);
}

void
dns_tie(struct session *s, struct conn *c)
{
	struct dns_lookup	*l, *best = NULL;
	uint64_t		 t;
	size_t			 i, n = 0;

	t = c->syn_us != ENGINE_NOTIME ? c->syn_us : c->first_us;
	for (i = s->ndns; i > 0 && n < DNS_TIE_WINDOW; i--, n++) {
		l = s->dns[i - 1];
		if (l->response_us == ENGINE_NOTIME || l->response_us > t ||
		    !dns_has_addr(l, c))
			continue;
		if (best == NULL || l->response_us > best->response_us)
			best = l;
	}
	if (c->dns != 0 && c->dns <= s->ndns)
		s->dns[c->dns - 1]->conns--;
	c->dns = 0;
	if (best == NULL)
		return;
	c->dns = best->id;
	best->conns++;
}

void
dns_free(struct session *s)
{
	free(s->dns);
	s->dns = NULL;
	s->ndns = s->dnscap = 0;
}

const char *
dns_type_name(uint16_t type, char *buf, size_t len)
{
	static const struct {
		uint16_t	 type;
		const char	*name;
	} names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return (names[i].name);
	snprintf(buf, len, "TYPE%u", type);
	return (buf);
}

const char *
dns_rcode_name(uint8_t rcode, char *buf, size_t len)
{
	static const char	*names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED" };

	if (rcode < sizeof(names) / sizeof(names[0]))
		return (names[rcode]);
	snprintf(buf, len, "RCODE%u", rcode);
	return (buf);
}

static void
dns_pack_str(msgpack_packer *pk, const char *key, const char *v, size_t n)
{
	msgpack_pack_str(pk, strlen(key));
	msgpack_pack_str_body(pk, key, strlen(key));
	if (v == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, v, n);
}

static void
dns_pack_u64(msgpack_packer *pk, const char *key, uint64_t v, int known)
{
	msgpack_pack_str(pk, strlen(key));
	msgpack_pack_str_body(pk, key, strlen(key));
	if (known)
		msgpack_pack_uint64(pk, v);
	else
		msgpack_pack_nil(pk);
}

static void
dns_pack_addr(msgpack_packer *pk, const char *key, int family,
    const uint8_t *a)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf,
	    sizeof(buf)) == NULL)
		buf[0] = '\0';
	dns_pack_str(pk, key, buf, strlen(buf));
}

static void
dns_pack_answer(const struct dns_answer *a, msgpack_packer *pk)
{
	char		 tbuf[16];
	const char	*t;

	t = dns_type_name(a->type, tbuf, sizeof(tbuf));
	msgpack_pack_map(pk, 3);
	dns_pack_str(pk, "type", t, strlen(t));
	dns_pack_u64(pk, "ttl", a->ttl, 1);
	if (a->addrlen != 0)
		dns_pack_addr(pk, "data", a->addrlen == 4 ? 4 : 6, a->addr);
	else
		dns_pack_str(pk, "data", a->name, a->namelen);
}

void
dns_pack(const struct dns_lookup *l, msgpack_packer *pk)
{
	char		 tbuf[16], rbuf[16];
	const char	*t, *r = NULL;
	int		 q = l->query_us != ENGINE_NOTIME;
	int		 a = l->response_us != ENGINE_NOTIME;
	size_t		 i;

	t = dns_type_name(l->qtype, tbuf, sizeof(tbuf));
	if (a)
		r = dns_rcode_name(l->rcode, rbuf, sizeof(rbuf));
	msgpack_pack_map(pk, 21);
	dns_pack_str(pk, "type", "dns", 3);
	dns_pack_u64(pk, "id", l->id, 1);
	dns_pack_str(pk, "name", l->name, l->namelen);
	dns_pack_str(pk, "qtype", t, strlen(t));
	dns_pack_str(pk, "transport", l->tcp ? "tcp" : "udp", 3);
	dns_pack_addr(pk, "client_addr", l->family, l->caddr);
	dns_pack_u64(pk, "client_port", l->cport, 1);
	dns_pack_addr(pk, "server_addr", l->family, l->saddr);
	dns_pack_u64(pk, "server_port", l->sport, 1);
	dns_pack_u64(pk, "txid", l->txid, 1);
	dns_pack_u64(pk, "query_us", l->query_us, q);
	dns_pack_u64(pk, "response_us", l->response_us, a);
	dns_pack_u64(pk, "time_us", l->response_us - l->query_us,
	    q && a && l->response_us >= l->query_us);
	dns_pack_u64(pk, "query_frame", l->query_frame, q);
	dns_pack_u64(pk, "response_frame", l->response_frame, a);
	dns_pack_str(pk, "rcode", r, r == NULL ? 0 : strlen(r));
	msgpack_pack_str(pk, 9);
	msgpack_pack_str_body(pk, "truncated", 9);
	if (l->truncated)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	dns_pack_u64(pk, "retries", l->retries, 1);
	dns_pack_u64(pk, "answers_total", l->nanswers, a);
	msgpack_pack_str(pk, 7);
	msgpack_pack_str_body(pk, "answers", 7);
	msgpack_pack_array(pk, l->nkept);
	for (i = 0; i < l->nkept; i++)
		dns_pack_answer(&l->ans[i], pk);
	dns_pack_u64(pk, "connections", l->conns, 1);
}
