/*
 * pack.c: the engine's model as msgpack items (proto/PROTOCOL.md,
 * "Session detail items"). Strings from the wire go out as received;
 * whoever prints them escapes them. Unknown values are nil, never 0.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <llhttp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "h2.h"
#include "h2pack.h"
#include "msg.h"
#include "pack.h"
#include "pktlog.h"
#include "tlspack.h"

static const char *pack_states[] = {
	"handshaking", "connected", "half-closed", "idle", "closing",
	"closed", "reset",
};

static const char *pack_flags[] = {
	"midstream", "gap", "tunnel", "not_http", "reordered_handshake",
};

static const char *pack_classes[] = {
	"syn", "syn-ack", "ack", "data", "push", "fin", "rst", "retransmit",
	"out-of-order", "dup-ack", "zero-window",
};

/*
 * Items are encoded into a buffer on the stack and handed to the
 * caller's packer in large pieces: a detail of hundreds of thousands of
 * items would otherwise cost a call into the packer per key and value.
 */
struct pbuf {
	msgpack_packer	*out;
	size_t		 n;
	u_char		 b[8192];
};

/* For the few helpers every item goes through (see pack_key). */
#define PACK_INLINE	static inline __attribute__((always_inline))

static void __attribute__((noinline))
pb_flush(struct pbuf *pb)
{
	if (pb->n > 0)
		pb->out->callback(pb->out->data, (const char *)pb->b, pb->n);
	pb->n = 0;
}

/* Room for need bytes; NULL when need exceeds the whole buffer. */
PACK_INLINE u_char *
pb_room(struct pbuf *pb, size_t need)
{
	if (pb->n + need > sizeof(pb->b))
		pb_flush(pb);
	if (need > sizeof(pb->b))
		return (NULL);
	return (pb->b + pb->n);
}

static inline void
pb_raw(struct pbuf *pb, const void *p, size_t n)
{
	u_char	*d;

	if ((d = pb_room(pb, n)) == NULL) {
		pb->out->callback(pb->out->data, p, n);
		return;
	}
	memcpy(d, p, n);
	pb->n += n;
}

static inline void
pb_byte(struct pbuf *pb, u_char c)
{
	if (pb->n == sizeof(pb->b))
		pb_flush(pb);
	pb->b[pb->n++] = c;
}

/* A type byte then n big-endian bytes of v. */
static void
pb_be(struct pbuf *pb, u_char type, uint64_t v, int n)
{
	u_char	*d = pb_room(pb, (size_t)n + 1);
	int	 i;

	d[0] = type;
	for (i = 0; i < n; i++)
		d[1 + i] = (u_char)(v >> (8 * (n - 1 - i)));
	pb->n += (size_t)n + 1;
}

static inline void
pb_uint(struct pbuf *pb, uint64_t v)
{
	if (v < 128)
		pb_byte(pb, (u_char)v);
	else if (v <= UINT8_MAX)
		pb_be(pb, 0xcc, v, 1);
	else if (v <= UINT16_MAX)
		pb_be(pb, 0xcd, v, 2);
	else if (v <= UINT32_MAX)
		pb_be(pb, 0xce, v, 4);
	else
		pb_be(pb, 0xcf, v, 8);
}

static void
pb_int(struct pbuf *pb, int64_t v)
{
	if (v >= 0)
		pb_uint(pb, (uint64_t)v);
	else if (v >= -32)
		pb_byte(pb, (u_char)(int8_t)v);
	else
		pb_be(pb, 0xd3, (uint64_t)v, 8);
}

static void
pb_nil(struct pbuf *pb)
{
	pb_byte(pb, 0xc0);
}

static void
pb_bool(struct pbuf *pb, int v)
{
	pb_byte(pb, v ? 0xc3 : 0xc2);
}

/* The header of a map (0x80, 0xde) or an array (0x90, 0xdc) of n. */
static void
pb_container(struct pbuf *pb, u_char fix, u_char big, size_t n)
{
	if (n < 16)
		pb_byte(pb, fix | (u_char)n);
	else if (n <= UINT16_MAX)
		pb_be(pb, big, n, 2);
	else
		pb_be(pb, big + 1, n, 4);
}

static void
pb_map(struct pbuf *pb, size_t n)
{
	pb_container(pb, 0x80, 0xde, n);
}

static void
pb_array(struct pbuf *pb, size_t n)
{
	pb_container(pb, 0x90, 0xdc, n);
}

static inline void
pb_str(struct pbuf *pb, const void *p, size_t n)
{
	if (n < 32)
		pb_byte(pb, 0xa0 | (u_char)n);
	else if (n <= UINT8_MAX)
		pb_be(pb, 0xd9, n, 1);
	else if (n <= UINT16_MAX)
		pb_be(pb, 0xda, n, 2);
	else
		pb_be(pb, 0xdb, n, 4);
	pb_raw(pb, p, n);
}

/*
 * Keys are string literals: inlined, strlen is a constant and the key
 * and its type byte are one fixed-size copy. As calls, strlen and the
 * copy of a few bytes were a third of packing a detail.
 */
PACK_INLINE void
pack_key(struct pbuf *pk, const char *key)
{
	size_t	 n = strlen(key);
	u_char	*d;

	if (n < 32 && (d = pb_room(pk, n + 1)) != NULL) {
		d[0] = 0xa0 | (u_char)n;
		memcpy(d + 1, key, n);
		pk->n += n + 1;
		return;
	}
	pb_str(pk, key, n);
}

PACK_INLINE void
pack_u64(struct pbuf *pk, const char *key, uint64_t v)
{
	pack_key(pk, key);
	pb_uint(pk, v);
}

/* A time or a duration that may be unknown. */
PACK_INLINE void
pack_time(struct pbuf *pk, const char *key, uint64_t us)
{
	if (us != ENGINE_NOTIME) {
		pack_u64(pk, key, us);
		return;
	}
	pack_key(pk, key);
	pb_nil(pk);
}

PACK_INLINE void
pack_bool(struct pbuf *pk, const char *key, int v)
{
	pack_key(pk, key);
	if (v)
		pb_bool(pk, 1);
	else
		pb_bool(pk, 0);
}

PACK_INLINE void
pack_strkey(struct pbuf *pk, const char *key, const char *v)
{
	pack_key(pk, key);
	if (v == NULL)
		pb_nil(pk);
	else
		pb_str(pk, v, strlen(v));
}

/* Decimal digits of v (below 1000) at p; returns how many. */
static size_t
pack_dec(char *p, unsigned int v)
{
	size_t	 n = 0;

	if (v >= 100)
		p[n++] = (char)('0' + v / 100);
	if (v >= 10)
		p[n++] = (char)('0' + v / 10 % 10);
	p[n++] = (char)('0' + v % 10);
	return (n);
}

/*
 * IPv4 addresses are written by hand: inet_ntop formats them with
 * sprintf, two calls per connection item.
 */
static void
pack_addr(struct pbuf *pk, const char *key, uint8_t family,
    const uint8_t *a)
{
	char	 buf[INET6_ADDRSTRLEN];
	size_t	 i, n = 0;

	if (family == 4) {
		for (i = 0; i < 4; i++) {
			if (i > 0)
				buf[n++] = '.';
			n += pack_dec(buf + n, a[i]);
		}
		pack_key(pk, key);
		pb_str(pk, buf, n);
		return;
	}
	if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	pack_strkey(pk, key, buf);
}

static void
pack_counters(const struct session *s, struct pbuf *pk)
{
	const struct counters	*c = &s->c;

	pb_map(pk, 23);
	pack_u64(pk, "frames", c->frames);
	pack_u64(pk, "bytes", c->bytes);
	pack_u64(pk, "kernel_drops", s->drops.kernel);
	pack_u64(pk, "ifdrops", s->drops.ifdrop);
	pack_u64(pk, "forward_drops", s->drops.forward);
	pack_u64(pk, "evicted_frames", c->evicted_frames);
	pack_u64(pk, "evicted_bodies", c->evicted_bodies);
	pack_u64(pk, "evicted_packets", c->evicted_packets);
	pack_u64(pk, "evicted_half_open", c->evicted_half_open);
	pack_u64(pk, "dropped_connections", c->dropped_connections);
	pack_u64(pk, "dropped_transactions", c->dropped_transactions);
	pack_u64(pk, "not_ip", c->not_ip);
	pack_u64(pk, "not_tcp", c->not_tcp);
	pack_u64(pk, "ip_fragments", c->ip_fragments);
	pack_u64(pk, "truncated", c->truncated);
	pack_u64(pk, "bad_checksum_or_header", c->bad_header);
	pack_u64(pk, "parse_errors", c->parse_errors);
	pack_u64(pk, "gaps", c->gaps);
	pack_u64(pk, "dns_dropped", c->dns_dropped);
	pack_u64(pk, "dns_malformed", c->dns_malformed);
	pack_u64(pk, "dns_unmatched", c->dns_unmatched);
	pack_u64(pk, "memory_used", s->mem);
	pack_u64(pk, "memory_budget", s->cfg.budget);
}

static void
pack_linktype(const struct session *s, struct pbuf *pk)
{
	const char	*name;
	char		 buf[32];

	pack_key(pk, "linktype");
	if ((name = pcap_datalink_val_to_name(s->linktype)) == NULL) {
		snprintf(buf, sizeof(buf), "DLT_%d", s->linktype);
		name = buf;
	}
	pb_str(pk, name, strlen(name));
}

static void
pack_session_items(const struct session *s, struct pbuf *pk)
{
	static const char	*states[] = { "running", "finished", "aborted" };
	size_t			 i;

	pb_map(pk, 20);
	pack_strkey(pk, "type", "session");
	pack_u64(pk, "id", s->id);
	pack_strkey(pk, "origin", s->origin == SESSION_CAPTURED ?
	    "captured" : "loaded");
	pack_strkey(pk, "source", s->source);
	pack_u64(pk, "uid", s->uid);
	pack_strkey(pk, "state", states[s->state]);
	pack_linktype(s, pk);
	pack_key(pk, "ports");
	pb_array(pk, s->cfg.nports);
	for (i = 0; i < s->cfg.nports; i++)
		pb_uint(pk, s->cfg.ports[i]);
	pack_u64(pk, "start_us", s->start_us);
	pack_time(pk, "stop_us", s->stop_us);
	pack_time(pk, "first_frame_us", s->first_frame_us);
	pack_time(pk, "last_frame_us", s->last_frame_us);
	pack_u64(pk, "servers", s->nservers);
	pack_u64(pk, "connections", s->nconns);
	pack_u64(pk, "transactions", s->ntxns);
	pack_u64(pk, "dns_lookups", s->ndns);
	pack_bool(pk, "frames_kept", s->cfg.keep_frames);
	pack_bool(pk, "packets_kept", !s->cfg.no_packets);
	pack_bool(pk, "headers_kept", !s->cfg.no_headers);
	pack_key(pk, "counters");
	pack_counters(s, pk);
}

static void
pack_server_items(const struct server *v, struct pbuf *pk)
{
	pb_map(pk, 7);
	pack_strkey(pk, "type", "server");
	pack_u64(pk, "id", v->id);
	pack_addr(pk, "addr", v->family, v->addr);
	pack_u64(pk, "port", v->port);
	pack_key(pk, "name");
	if (v->name == NULL)
		pb_nil(pk);
	else
		pb_str(pk, v->name, v->namelen);
	pack_u64(pk, "connections", v->nconns);
	pack_u64(pk, "transactions", v->ntxns);
}

static void
pack_int_or_nil(struct pbuf *pk, const char *key, int v)
{
	pack_key(pk, key);
	if (v < 0)
		pb_nil(pk);
	else
		pb_int(pk, v);
}

/* PROTOCOL.md DIR; brief: the six counters a summary prints. */
static void
pack_dir(const struct dirstats *d, int full, struct pbuf *pk)
{
	pb_map(pk, full ? 11 : 6);
	pack_u64(pk, "packets", d->packets);
	if (full)
		pack_u64(pk, "bytes", d->bytes);
	pack_u64(pk, "payload_bytes", d->payload);
	pack_u64(pk, "retransmits", d->retransmits);
	pack_u64(pk, "out_of_order", d->out_of_order);
	pack_u64(pk, "dup_acks", d->dup_acks);
	pack_u64(pk, "zero_windows", d->zero_windows);
	if (!full)
		return;
	pack_int_or_nil(pk, "window_scale", d->wscale);
	pack_int_or_nil(pk, "mss", d->mss);
	pack_u64(pk, "gaps", d->gaps);
	pack_u64(pk, "gap_bytes", d->gap_bytes);
}

static void
pack_pkt(const struct pkt *p, struct pbuf *pk)
{
	static const struct {
		uint8_t	 bit;
		char	 letter;
	} letters[] = {
		{ 0x02, 'S' }, { 0x10, 'A' }, { 0x01, 'F' }, { 0x04, 'R' },
		{ 0x08, 'P' }, { 0x20, 'U' },
	};
	char	 flags[8];
	size_t	 i, n = 0;

	for (i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (p->flags & letters[i].bit)
			flags[n++] = letters[i].letter;
	pb_map(pk, 9);
	pack_u64(pk, "n", p->frame);
	pack_u64(pk, "us", p->us);
	pack_strkey(pk, "dir", p->dir == DIR_C2S ? "c2s" : "s2c");
	pack_key(pk, "flags");
	pb_str(pk, flags, n);
	pack_u64(pk, "seq", p->seq);
	pack_u64(pk, "ack", p->ack);
	pack_u64(pk, "win", p->win);
	pack_u64(pk, "len", p->len);
	pack_strkey(pk, "class", pack_classes[p->class]);
}

/* The packed records, read from the start; a damaged tail is left out. */
static void
pack_pkts(const struct conn *c, struct pbuf *pk)
{
	struct pktlog_state	 st;
	struct pkt		 p;
	size_t			 i, n = c->npkts, off = 0, got;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < c->npkts; i++) {
		if ((got = pktlog_get(c->pkts + off, c->pktlen - off, &st,
		    &p)) == 0) {
			n = i;
			break;
		}
		off += got;
	}
	pack_key(pk, "packets");
	pb_array(pk, n);
	memset(&st, 0, sizeof(st));
	for (i = 0, off = 0; i < n; i++) {
		off += pktlog_get(c->pkts + off, c->pktlen - off, &st, &p);
		pack_pkt(&p, pk);
	}
}

/* SYN -> SYN-ACK plus SYN-ACK -> ACK, as seen from the capture point. */
static uint64_t
pack_rtt(const struct conn *c)
{
	uint64_t	 a, b;

	if (c->syn_us == ENGINE_NOTIME || c->synack_us == ENGINE_NOTIME ||
	    c->est_us == ENGINE_NOTIME)
		return (ENGINE_NOTIME);
	a = c->synack_us > c->syn_us ? c->synack_us - c->syn_us :
	    c->syn_us - c->synack_us;
	b = c->est_us > c->synack_us ? c->est_us - c->synack_us : 0;
	return (a + b);
}

static void
pack_conn_states(const struct conn *c, struct pbuf *pk)
{
	struct state_change	 sc;
	size_t			 i, off = 0;

	pack_key(pk, "states");
	pb_array(pk, c->nstates);
	for (i = 0; i < c->nstates; i++) {
		/* made here alone, the list holds nstates of them */
		if (!session_conn_state_get(c, &off, &sc)) {
			sc.state = c->state;
			sc.us = c->last_us;
		}
		pb_map(pk, 2);
		pack_strkey(pk, "state", pack_states[sc.state]);
		pack_u64(pk, "us", sc.us);
	}
}

static void
pack_conn_flags(const struct conn *c, struct pbuf *pk)
{
	size_t	 i, n = 0;

	for (i = 0; i < sizeof(pack_flags) / sizeof(pack_flags[0]); i++)
		if (c->flags & (1 << i))
			n++;
	pack_key(pk, "flags");
	pb_array(pk, n);
	for (i = 0; i < sizeof(pack_flags) / sizeof(pack_flags[0]); i++)
		if (c->flags & (1 << i))
			pb_str(pk, pack_flags[i], strlen(pack_flags[i]));
}

/*
 * A running capture has not seen the next packet yet: a connection
 * quiet for a second by the newest frame is idle already.
 */
static int
pack_conn_state(const struct conn *c, uint64_t now)
{
	if (c->state == CONN_CONNECTED && now != ENGINE_NOTIME &&
	    c->last_us != ENGINE_NOTIME && now >= c->last_us + ENGINE_IDLE_US)
		return (CONN_IDLE);
	return (c->state);
}

/* The connection's "tls" object, nil for a connection without TLS. */
static void
pack_conn_tls(const struct conn *c, struct pbuf *pk)
{
	pack_key(pk, "tls");
	if (c->tls == NULL) {
		pb_nil(pk);
		return;
	}
	pb_flush(pk);
	tlspack_info(c->tls, pk->out);
}

/* The connection's "h2" object, nil for a connection without HTTP/2. */
static void
pack_conn_h2(const struct conn *c, struct pbuf *pk)
{
	pack_key(pk, "h2");
	if (c->h2 == NULL) {
		pb_nil(pk);
		return;
	}
	pb_flush(pk);
	h2pack_info(c->h2, pk->out);
}

/*
 * Brief (without PACK_FULL): what a summary row shows, 17 fields; full:
 * 23. Both add "packets" when asked, and leave out "transactions" with
 * PACK_NO_TXNS.
 */
static void
pack_conn_items(const struct conn *c, int flags, uint64_t now,
    struct pbuf *pk)
{
	int	 full = flags & PACK_FULL, packets = flags & PACK_PACKETS;
	int	 txns = !(flags & PACK_NO_TXNS);
	size_t	 i;

	pb_map(pk, (full ? 22 : 16) + txns + (packets ? 1 : 0));
	pack_strkey(pk, "type", "connection");
	pack_u64(pk, "id", c->id);
	if (full) {
		pack_key(pk, "server");
		if (c->server == NULL)
			pb_nil(pk);
		else
			pb_uint(pk, c->server->id);
	}
	pack_addr(pk, "client_addr", c->family, c->caddr);
	pack_u64(pk, "client_port", c->cport);
	pack_addr(pk, "server_addr", c->family, c->saddr);
	pack_u64(pk, "server_port", c->sport);
	if (full)
		pack_u64(pk, "ip_version", c->family);
	pack_time(pk, "first_us", c->first_us);
	pack_time(pk, "last_us", c->last_us);
	if (full) {
		pack_time(pk, "syn_us", c->syn_us);
		pack_time(pk, "synack_us", c->synack_us);
		pack_time(pk, "established_us", c->est_us);
	}
	pack_time(pk, "rtt_us", pack_rtt(c));
	pack_strkey(pk, "state", pack_states[pack_conn_state(c, now)]);
	if (full)
		pack_conn_states(c, pk);
	pack_conn_flags(c, pk);
	pack_key(pk, "c2s");
	pack_dir(&c->d[DIR_C2S], full, pk);
	pack_key(pk, "s2c");
	pack_dir(&c->d[DIR_S2C], full, pk);
	if (txns) {
		pack_key(pk, "transactions");
		pb_array(pk, c->ntxns);
		for (i = 0; i < c->ntxns; i++)
			pb_uint(pk, c->txns[i]);
	}
	pack_key(pk, "dns");
	if (c->dns == 0)
		pb_nil(pk);
	else
		pb_uint(pk, c->dns);
	pack_conn_tls(c, pk);
	pack_conn_h2(c, pk);
	if (packets)
		pack_pkts(c, pk);
}

/*
 * A span of m's text. A message whose every part was empty (llhttp
 * hands over an empty header name before it refuses the line) has no
 * text at all.
 */
static void
pack_msgtext(struct pbuf *pk, const struct msg *m, uint32_t off, uint32_t len)
{
	if (m->text == NULL)
		pb_str(pk, "", 0);
	else
		pb_str(pk, m->text + off, len);
}

static void
pack_text(struct pbuf *pk, const char *key, const struct msg *m,
    uint32_t off, uint32_t len)
{
	pack_key(pk, key);
	pack_msgtext(pk, m, off, len);
}

static void
pack_hdr_value(struct pbuf *pk, const char *key, const struct msg *m,
    int i)
{
	if (i < 0) {
		pack_strkey(pk, key, NULL);
		return;
	}
	pack_text(pk, key, m, msg_hdrs(m)[i].val_off, msg_hdrs(m)[i].val_len);
}

static void
pack_headers(const struct msg *m, struct pbuf *pk)
{
	uint32_t	 i;

	pack_key(pk, "headers");
	pb_array(pk, m->nhdrs);
	for (i = 0; i < m->nhdrs; i++) {
		pb_array(pk, 2);
		pack_msgtext(pk, m, msg_hdrs(m)[i].name_off, msg_hdrs(m)[i].name_len);
		pack_msgtext(pk, m, msg_hdrs(m)[i].val_off, msg_hdrs(m)[i].val_len);
	}
}

static void
pack_version(const struct msg *m, struct pbuf *pk)
{
	char	 v[8];
	size_t	 n;

	if (!m->has_version) {
		pack_strkey(pk, "version", NULL);
		return;
	}
	n = pack_dec(v, m->vmajor);
	v[n++] = '.';
	n += pack_dec(v + n, m->vminor);
	pack_key(pk, "version");
	pb_str(pk, v, n);
}

/* Known once a lazily inflated body is whole. */
static void
pack_decoded(const struct msg *m, struct pbuf *pk)
{
	pack_time(pk, "decoded_bytes", m->encoded && (!m->lazy ||
	    m->complete) ? m->decoded_bytes : ENGINE_NOTIME);
}

/* The brief fields requests and responses share (5). */
static void
pack_msg_brief(const struct msg *m, struct pbuf *pk)
{
	pack_u64(pk, "start_us", m->start_us);
	pack_u64(pk, "body_bytes", m->body_bytes);
	pack_bool(pk, "headers_split", m->headers_split);
	pack_bool(pk, "complete", m->complete);
	pack_strkey(pk, "error", msg_rare_of(m)->error);
}

/* The fields requests and responses share (17 or 18 with headers). */
static void
pack_msg_common(const struct msg *m, int headers, struct pbuf *pk)
{
	pack_version(m, pk);
	if (headers)
		pack_headers(m, pk);
	pack_u64(pk, "header_bytes", m->header_bytes);
	pack_u64(pk, "body_bytes", m->body_bytes);
	pack_u64(pk, "lost_bytes", msg_rare_of(m)->lost_bytes);
	pack_decoded(m, pk);
	pack_bool(pk, "chunked", m->chunked);
	pack_hdr_value(pk, "content_type", m, m->ct);
	pack_hdr_value(pk, "content_encoding", m, m->ce);
	pack_u64(pk, "start_us", m->start_us);
	pack_time(pk, "end_us", m->end_us);
	pack_u64(pk, "first_frame", m->first_frame);
	pack_key(pk, "last_frame");
	if (m->end_us != ENGINE_NOTIME)
		pb_uint(pk, m->last_frame);
	else
		pb_nil(pk);
	pack_u64(pk, "packets", m->packets);
	pack_bool(pk, "headers_split", m->headers_split);
	pack_u64(pk, "body_kept", m->kept != NULL ? m->kept->len : 0);
	pack_bool(pk, "complete", m->complete);
	pack_strkey(pk, "error", msg_rare_of(m)->error);
}

/*
 * Lean (PACK_LEAN): of the fields requests and responses share, the
 * 7 the waterfall reads; a large session's messages come a third
 * smaller.
 */
static void
pack_msg_lean(const struct msg *m, struct pbuf *pk)
{
	pack_u64(pk, "body_bytes", m->body_bytes);
	pack_u64(pk, "start_us", m->start_us);
	pack_time(pk, "end_us", m->end_us);
	pack_u64(pk, "packets", m->packets);
	pack_bool(pk, "headers_split", m->headers_split);
	pack_bool(pk, "complete", m->complete);
	pack_strkey(pk, "error", msg_rare_of(m)->error);
}

/* Brief: 7 fields; lean: 9; full: 19, or 20 with headers. */
static void
pack_request(const struct msg *m, int flags, struct pbuf *pk)
{
	int	 headers = (flags & PACK_HEADERS) != 0;
	int	 lean = (flags & (PACK_FULL | PACK_LEAN)) ==
		    (PACK_FULL | PACK_LEAN);

	if (lean)
		pb_map(pk, 9);
	else if (flags & PACK_FULL)
		pb_map(pk, headers ? 20 : 19);
	else
		pb_map(pk, 7);
	if (m->has_method || m->reason_len == 0)
		pack_strkey(pk, "method", m->has_method ?
		    llhttp_method_name((llhttp_method_t)m->method) : NULL);
	else
		pack_text(pk, "method", m, m->reason_off, m->reason_len);
	pack_text(pk, "target", m, m->target_off, m->target_len);
	if (lean)
		pack_msg_lean(m, pk);
	else if (flags & PACK_FULL)
		pack_msg_common(m, headers, pk);
	else
		pack_msg_brief(m, pk);
}

/* A lean response's 5 fields beside pack_msg_lean's. */
static void
pack_response_lean(const struct msg *m, struct pbuf *pk)
{
	pack_u64(pk, "lost_bytes", msg_rare_of(m)->lost_bytes);
	pack_decoded(m, pk);
	pack_bool(pk, "chunked", m->chunked);
	pack_hdr_value(pk, "content_type", m, m->ct);
	pack_hdr_value(pk, "content_encoding", m, m->ce);
	pack_msg_lean(m, pk);
}

/* Brief: 9 fields; lean: 15; full: 20, or 21 with headers. */
static void
pack_response(const struct msg *m, int flags, struct pbuf *pk)
{
	const struct msg_rare	*r = msg_rare_of(m);
	int			 headers = (flags & PACK_HEADERS) != 0;
	int			 lean = (flags & (PACK_FULL | PACK_LEAN)) ==
				    (PACK_FULL | PACK_LEAN);
	uint8_t			 i;

	if (lean)
		pb_map(pk, 15);
	else if (flags & PACK_FULL)
		pb_map(pk, headers ? 21 : 20);
	else
		pb_map(pk, 9);
	pack_key(pk, "status");
	if (m->status == 0)
		pb_nil(pk);
	else
		pb_uint(pk, m->status);
	if (flags & PACK_FULL)
		pack_text(pk, "reason", m, m->reason_off, m->reason_len);
	pack_key(pk, "interim");
	pb_array(pk, r->ninterim);
	for (i = 0; i < r->ninterim; i++)
		pb_uint(pk, r->interim[i]);
	if (lean) {
		pack_response_lean(m, pk);
		return;
	}
	if (flags & PACK_FULL) {
		pack_msg_common(m, headers, pk);
		return;
	}
	pack_decoded(m, pk);
	pack_hdr_value(pk, "content_type", m, m->ct);
	pack_msg_brief(m, pk);
}

static void
pack_span(struct pbuf *pk, const char *key, uint64_t from, uint64_t to)
{
	pack_key(pk, key);
	if (from == ENGINE_NOTIME || to == ENGINE_NOTIME)
		pb_nil(pk);
	else
		pb_int(pk, (int64_t)(to - from));
}

/* Brief: send, wait and receive; full: 6 fields. */
static void
pack_timings(const struct txn *t, int full, struct pbuf *pk)
{
	const struct conn	*c = t->conn;
	uint64_t		 rtt = pack_rtt(c), reqend = ENGINE_NOTIME;
	uint64_t		 rstart = ENGINE_NOTIME, rend = ENGINE_NOTIME;
	int64_t			 wait;

	if (t->req != NULL)
		reqend = t->req->end_us;
	if (t->resp != NULL && t->resp->status != 0) {
		rstart = t->resp->start_us;
		rend = t->resp->end_us;
	}
	pb_map(pk, full ? 6 : 3);
	if (full && t->index == 0)
		pack_span(pk, "connect_us", c->syn_us, c->est_us);
	else if (full)
		pack_span(pk, "connect_us", 0, ENGINE_NOTIME);
	pack_span(pk, "send_us", t->req ? t->req->start_us : ENGINE_NOTIME,
	    reqend);
	pack_span(pk, "wait_us", reqend, rstart);
	pack_span(pk, "receive_us", rstart, rend);
	if (!full)
		return;
	wait = (int64_t)(rstart - reqend);
	pack_key(pk, "server_stall_us");
	if (rtt == ENGINE_NOTIME || reqend == ENGINE_NOTIME ||
	    rstart == ENGINE_NOTIME)
		pb_nil(pk);
	else if (wait < (int64_t)rtt)
		pb_int(pk, 0);		/* the path got faster than at SYN */
	else
		pb_int(pk, wait - (int64_t)rtt);
	pack_key(pk, "round_trips");
	if (rtt == ENGINE_NOTIME || rtt == 0 || reqend == ENGINE_NOTIME ||
	    rend == ENGINE_NOTIME || wait < 0)
		pb_nil(pk);
	else
		pb_uint(pk, ((uint64_t)wait + (rend - rstart) +
		    rtt - 1) / rtt);
}

/* "h2", "http/1.1", "http/1.0" or nil, by the messages' versions. */
static const char *
pack_protocol(const struct txn *t)
{
	const struct msg	*m = t->req;

	if (t->proto == TXN_PROTO_H2)
		return ("h2");
	if (m == NULL || !m->has_version)
		m = t->resp;
	if (m == NULL || !m->has_version || m->vmajor != 1)
		return (NULL);
	return (m->vminor == 0 ? "http/1.0" : "http/1.1");
}

/* RST_STREAM: who reset the stream and why; nil when nobody did. */
static void
pack_reset(const struct txn *t, const struct txn_h2 *x, struct pbuf *pk)
{
	pack_key(pk, "reset");
	if (t->reset_by == 0 || x == NULL) {
		pb_nil(pk);
		return;
	}
	pb_map(pk, 3);
	pack_strkey(pk, "by", t->reset_by == 1 ? "client" : "server");
	pack_u64(pk, "error_code", x->reset_code);
	pack_strkey(pk, "error", h2pack_error(x->reset_code));
}

/* HTTP/2 facts of a full transaction (4 fields). */
static void
pack_txn_h2(const struct txn *t, struct pbuf *pk)
{
	const struct txn_h2	*x = h2_txn_get(t);

	pack_bool(pk, "pushed", t->pushed);
	pack_reset(t, x, pk);
	pack_u64(pk, "stalls", x != NULL ? x->stalls : 0);
	pack_u64(pk, "stall_us", x != NULL ? x->stall_us : 0);
}

/* Brief: 15 fields; full: 21. */
static void
pack_txn_items(const struct txn *t, int flags, struct pbuf *pk)
{
	const struct txn_h2	*x;
	int			 full = flags & PACK_FULL;

	pb_map(pk, full ? 21 : 15);
	pack_strkey(pk, "type", "transaction");
	pack_u64(pk, "id", t->id);
	pack_u64(pk, "connection", t->conn->id);
	pack_key(pk, "server");
	if (t->conn->server == NULL)
		pb_nil(pk);
	else
		pb_uint(pk, t->conn->server->id);
	if (full)
		pack_u64(pk, "index", t->index);
	pack_strkey(pk, "protocol", pack_protocol(t));
	pack_key(pk, "stream_id");
	if ((x = h2_txn_get(t)) != NULL)
		pb_uint(pk, x->stream_id);
	else
		pb_nil(pk);
	pack_key(pk, "request");
	if (t->req == NULL)
		pb_nil(pk);
	else
		pack_request(t->req, flags, pk);
	pack_key(pk, "response");
	if (t->resp == NULL)
		pb_nil(pk);
	else
		pack_response(t->resp, flags, pk);
	pack_bool(pk, "pipelined", t->pipelined);
	pack_bool(pk, "request_lost", t->req_lost);
	pack_bool(pk, "response_lost", t->resp_lost);
	pack_bool(pk, "conditional", t->conditional);
	if (full)
		pack_bool(pk, "not_modified", t->not_modified);
	pack_bool(pk, "connection_close", t->conn_close);
	pack_bool(pk, "upgrade", t->upgrade);
	if (full)
		pack_txn_h2(t, pk);
	pack_key(pk, "timings");
	pack_timings(t, full, pk);
}

void
pack_session(const struct session *s, msgpack_packer *pk)
{
	struct pbuf	 pb;

	pb.out = pk;
	pb.n = 0;
	pack_session_items(s, &pb);
	pb_flush(&pb);
}

void
pack_server(const struct server *v, msgpack_packer *pk)
{
	struct pbuf	 pb;

	pb.out = pk;
	pb.n = 0;
	pack_server_items(v, &pb);
	pb_flush(&pb);
}

void
pack_txn(const struct txn *t, int flags, msgpack_packer *pk)
{
	struct pbuf	 pb;

	pb.out = pk;
	pb.n = 0;
	pack_txn_items(t, flags, &pb);
	pb_flush(&pb);
}

void
pack_conn(const struct conn *c, int flags, uint64_t now,
    msgpack_packer *pk)
{
	struct pbuf	 pb;

	pb.out = pk;
	pb.n = 0;
	pack_conn_items(c, flags, now, &pb);
	pb_flush(&pb);
}
