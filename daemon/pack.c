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

#include "pack.h"
#include "proto.h"

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
 * Keys are short literals: header and bytes go out in one write, and
 * with an unsigned value after them, so a detail of hundreds of
 * thousands of items costs few calls into the buffer.
 */
static size_t
pack_key_buf(u_char *buf, const char *key)
{
	size_t	 n = strlen(key);

	buf[0] = 0xa0 | (u_char)n;
	memcpy(buf + 1, key, n);
	return (n + 1);
}

static void
pack_key(msgpack_packer *pk, const char *key)
{
	u_char	 buf[40];

	pk->callback(pk->data, (const char *)buf, pack_key_buf(buf, key));
}

static size_t
pack_uint_buf(u_char *p, uint64_t v)
{
	int	 i, n;

	if (v < 128) {
		p[0] = (u_char)v;
		return (1);
	}
	if (v <= UINT8_MAX) {
		p[0] = 0xcc;
		n = 1;
	} else if (v <= UINT16_MAX) {
		p[0] = 0xcd;
		n = 2;
	} else if (v <= UINT32_MAX) {
		p[0] = 0xce;
		n = 4;
	} else {
		p[0] = 0xcf;
		n = 8;
	}
	for (i = 0; i < n; i++)
		p[1 + i] = (u_char)(v >> (8 * (n - 1 - i)));
	return ((size_t)n + 1);
}

/* A string in one write when it is short, as most from the wire are. */
static void
pack_strn(msgpack_packer *pk, const void *p, size_t n)
{
	u_char	 buf[256];
	size_t	 h;

	if (n > sizeof(buf) - 2) {
		proto_pack_strn(pk, p, n);
		return;
	}
	if (n < 32) {
		buf[0] = 0xa0 | (u_char)n;
		h = 1;
	} else {
		buf[0] = 0xd9;
		buf[1] = (u_char)n;
		h = 2;
	}
	memcpy(buf + h, p, n);
	pk->callback(pk->data, (const char *)buf, h + n);
}

static void
pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
	u_char	 buf[48];
	size_t	 n;

	n = pack_key_buf(buf, key);
	n += pack_uint_buf(buf + n, v);
	pk->callback(pk->data, (const char *)buf, n);
}

/* A time or a duration that may be unknown. */
static void
pack_time(msgpack_packer *pk, const char *key, uint64_t us)
{
	if (us != ENGINE_NOTIME) {
		pack_u64(pk, key, us);
		return;
	}
	pack_key(pk, key);
	msgpack_pack_nil(pk);
}

static void
pack_bool(msgpack_packer *pk, const char *key, int v)
{
	pack_key(pk, key);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
pack_strkey(msgpack_packer *pk, const char *key, const char *v)
{
	pack_key(pk, key);
	if (v == NULL)
		msgpack_pack_nil(pk);
	else
		pack_strn(pk, v, strlen(v));
}

static void
pack_addr(msgpack_packer *pk, const char *key, uint8_t family,
    const uint8_t *a)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf,
	    sizeof(buf)) == NULL)
		buf[0] = '\0';
	pack_strkey(pk, key, buf);
}

static void
pack_counters(const struct session *s, msgpack_packer *pk)
{
	const struct counters	*c = &s->c;

	msgpack_pack_map(pk, 19);
	pack_u64(pk, "frames", c->frames);
	pack_u64(pk, "bytes", c->bytes);
	pack_u64(pk, "kernel_drops", s->drops.kernel);
	pack_u64(pk, "ifdrops", s->drops.ifdrop);
	pack_u64(pk, "forward_drops", s->drops.forward);
	pack_u64(pk, "evicted_frames", c->evicted_frames);
	pack_u64(pk, "evicted_bodies", c->evicted_bodies);
	pack_u64(pk, "evicted_packets", c->evicted_packets);
	pack_u64(pk, "dropped_connections", c->dropped_connections);
	pack_u64(pk, "dropped_transactions", c->dropped_transactions);
	pack_u64(pk, "not_ip", c->not_ip);
	pack_u64(pk, "not_tcp", c->not_tcp);
	pack_u64(pk, "ip_fragments", c->ip_fragments);
	pack_u64(pk, "truncated", c->truncated);
	pack_u64(pk, "bad_checksum_or_header", c->bad_header);
	pack_u64(pk, "parse_errors", c->parse_errors);
	pack_u64(pk, "gaps", c->gaps);
	pack_u64(pk, "memory_used", s->mem);
	pack_u64(pk, "memory_budget", s->cfg.budget);
}

static void
pack_linktype(const struct session *s, msgpack_packer *pk)
{
	const char	*name;
	char		 buf[32];

	pack_key(pk, "linktype");
	if ((name = pcap_datalink_val_to_name(s->linktype)) == NULL) {
		snprintf(buf, sizeof(buf), "DLT_%d", s->linktype);
		name = buf;
	}
	proto_pack_str(pk, name);
}

void
pack_session(const struct session *s, msgpack_packer *pk)
{
	static const char	*states[] = { "running", "finished", "aborted" };
	size_t			 i;

	msgpack_pack_map(pk, 16);
	pack_strkey(pk, "type", "session");
	pack_u64(pk, "id", s->id);
	pack_strkey(pk, "origin", s->origin == SESSION_CAPTURED ?
	    "captured" : "loaded");
	pack_strkey(pk, "source", s->source);
	pack_u64(pk, "uid", s->uid);
	pack_strkey(pk, "state", states[s->state]);
	pack_linktype(s, pk);
	pack_key(pk, "ports");
	msgpack_pack_array(pk, s->cfg.nports);
	for (i = 0; i < s->cfg.nports; i++)
		msgpack_pack_uint16(pk, s->cfg.ports[i]);
	pack_u64(pk, "start_us", s->start_us);
	pack_time(pk, "stop_us", s->stop_us);
	pack_time(pk, "first_frame_us", s->first_frame_us);
	pack_time(pk, "last_frame_us", s->last_frame_us);
	pack_u64(pk, "servers", s->nservers);
	pack_u64(pk, "connections", s->nconns);
	pack_u64(pk, "transactions", s->ntxns);
	pack_key(pk, "counters");
	pack_counters(s, pk);
}

void
pack_server(const struct server *v, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 7);
	pack_strkey(pk, "type", "server");
	pack_u64(pk, "id", v->id);
	pack_addr(pk, "addr", v->family, v->addr);
	pack_u64(pk, "port", v->port);
	pack_key(pk, "name");
	if (v->name == NULL)
		msgpack_pack_nil(pk);
	else
		proto_pack_strn(pk, v->name, v->namelen);
	pack_u64(pk, "connections", v->nconns);
	pack_u64(pk, "transactions", v->ntxns);
}

static void
pack_int_or_nil(msgpack_packer *pk, const char *key, int v)
{
	pack_key(pk, key);
	if (v < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int(pk, v);
}

static void
pack_dir(const struct dirstats *d, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 11);
	pack_u64(pk, "packets", d->packets);
	pack_u64(pk, "bytes", d->bytes);
	pack_u64(pk, "payload_bytes", d->payload);
	pack_u64(pk, "retransmits", d->retransmits);
	pack_u64(pk, "out_of_order", d->out_of_order);
	pack_u64(pk, "dup_acks", d->dup_acks);
	pack_u64(pk, "zero_windows", d->zero_windows);
	pack_int_or_nil(pk, "window_scale", d->wscale);
	pack_int_or_nil(pk, "mss", d->mss);
	pack_u64(pk, "gaps", d->gaps);
	pack_u64(pk, "gap_bytes", d->gap_bytes);
}

static void
pack_pkt(const struct pkt *p, msgpack_packer *pk)
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
	msgpack_pack_map(pk, 9);
	pack_u64(pk, "n", p->frame);
	pack_u64(pk, "us", p->us);
	pack_strkey(pk, "dir", p->dir == DIR_C2S ? "c2s" : "s2c");
	pack_key(pk, "flags");
	proto_pack_strn(pk, flags, n);
	pack_u64(pk, "seq", p->seq);
	pack_u64(pk, "ack", p->ack);
	pack_u64(pk, "win", p->win);
	pack_u64(pk, "len", p->len);
	pack_strkey(pk, "class", pack_classes[p->class]);
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
pack_conn_lists(const struct conn *c, msgpack_packer *pk)
{
	size_t	 i, n = 0;

	pack_key(pk, "states");
	msgpack_pack_array(pk, c->nstates);
	for (i = 0; i < c->nstates; i++) {
		msgpack_pack_map(pk, 2);
		pack_strkey(pk, "state", pack_states[c->states[i].state]);
		pack_u64(pk, "us", c->states[i].us);
	}
	for (i = 0; i < sizeof(pack_flags) / sizeof(pack_flags[0]); i++)
		if (c->flags & (1 << i))
			n++;
	pack_key(pk, "flags");
	msgpack_pack_array(pk, n);
	for (i = 0; i < sizeof(pack_flags) / sizeof(pack_flags[0]); i++)
		if (c->flags & (1 << i))
			proto_pack_str(pk, pack_flags[i]);
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

void
pack_conn(const struct conn *c, int packets, uint64_t now,
    msgpack_packer *pk)
{
	size_t	 i;

	msgpack_pack_map(pk, packets ? 21 : 20);
	pack_strkey(pk, "type", "connection");
	pack_u64(pk, "id", c->id);
	pack_key(pk, "server");
	if (c->server == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_uint32(pk, c->server->id);
	pack_addr(pk, "client_addr", c->family, c->caddr);
	pack_u64(pk, "client_port", c->cport);
	pack_addr(pk, "server_addr", c->family, c->saddr);
	pack_u64(pk, "server_port", c->sport);
	pack_u64(pk, "ip_version", c->family);
	pack_time(pk, "first_us", c->first_us);
	pack_time(pk, "last_us", c->last_us);
	pack_time(pk, "syn_us", c->syn_us);
	pack_time(pk, "synack_us", c->synack_us);
	pack_time(pk, "established_us", c->est_us);
	pack_time(pk, "rtt_us", pack_rtt(c));
	pack_strkey(pk, "state", pack_states[pack_conn_state(c, now)]);
	pack_conn_lists(c, pk);
	pack_key(pk, "c2s");
	pack_dir(&c->d[DIR_C2S], pk);
	pack_key(pk, "s2c");
	pack_dir(&c->d[DIR_S2C], pk);
	pack_key(pk, "transactions");
	msgpack_pack_array(pk, c->ntxns);
	for (i = 0; i < c->ntxns; i++)
		msgpack_pack_uint32(pk, c->txns[i]);
	if (packets) {
		pack_key(pk, "packets");
		msgpack_pack_array(pk, c->npkts);
		for (i = 0; i < c->npkts; i++)
			pack_pkt(&c->pkts[i], pk);
	}
}

static void
pack_text(msgpack_packer *pk, const char *key, const struct msg *m,
    uint32_t off, uint32_t len)
{
	pack_key(pk, key);
	if (m->text == NULL)
		pack_strn(pk, "", 0);
	else
		pack_strn(pk, m->text + off, len);
}

static void
pack_hdr_value(msgpack_packer *pk, const char *key, const struct msg *m,
    int i)
{
	if (i < 0) {
		pack_strkey(pk, key, NULL);
		return;
	}
	pack_text(pk, key, m, m->hdrs[i].val_off, m->hdrs[i].val_len);
}

static void
pack_headers(const struct msg *m, msgpack_packer *pk)
{
	uint32_t	 i;

	pack_key(pk, "headers");
	msgpack_pack_array(pk, m->nhdrs);
	for (i = 0; i < m->nhdrs; i++) {
		msgpack_pack_array(pk, 2);
		pack_strn(pk, m->text + m->hdrs[i].name_off,
		    m->hdrs[i].name_len);
		pack_strn(pk, m->text + m->hdrs[i].val_off,
		    m->hdrs[i].val_len);
	}
}

static void
pack_version(const struct msg *m, msgpack_packer *pk)
{
	char	 v[8];

	if (!m->has_version) {
		pack_strkey(pk, "version", NULL);
		return;
	}
	snprintf(v, sizeof(v), "%u.%u", m->vmajor, m->vminor);
	pack_strkey(pk, "version", v);
}

/* The fields requests and responses share. */
static void
pack_msg_common(const struct msg *m, msgpack_packer *pk)
{
	pack_version(m, pk);
	pack_headers(m, pk);
	pack_u64(pk, "header_bytes", m->header_bytes);
	pack_u64(pk, "body_bytes", m->body_bytes);
	pack_time(pk, "decoded_bytes", m->encoded && (!m->lazy ||
	    m->complete) ? m->decoded_bytes : ENGINE_NOTIME);
	pack_bool(pk, "chunked", m->chunked);
	pack_hdr_value(pk, "content_type", m, m->ct);
	pack_hdr_value(pk, "content_encoding", m, m->ce);
	pack_u64(pk, "start_us", m->start_us);
	pack_time(pk, "end_us", m->end_us);
	pack_u64(pk, "first_frame", m->first_frame);
	pack_key(pk, "last_frame");
	if (m->complete)
		msgpack_pack_uint32(pk, m->last_frame);
	else
		msgpack_pack_nil(pk);
	pack_u64(pk, "packets", m->packets);
	pack_bool(pk, "headers_split", m->headers_split);
	pack_u64(pk, "body_kept", m->bodylen);
	pack_bool(pk, "complete", m->complete);
	pack_strkey(pk, "error", m->error);
}

static void
pack_request(const struct msg *m, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 19);
	pack_strkey(pk, "method", m->has_method ?
	    llhttp_method_name((llhttp_method_t)m->method) : NULL);
	pack_text(pk, "target", m, m->target_off, m->target_len);
	pack_msg_common(m, pk);
}

static void
pack_response(const struct msg *m, msgpack_packer *pk)
{
	uint8_t	 i;

	msgpack_pack_map(pk, 20);
	pack_key(pk, "status");
	if (m->status == 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_uint16(pk, m->status);
	pack_text(pk, "reason", m, m->reason_off, m->reason_len);
	pack_key(pk, "interim");
	msgpack_pack_array(pk, m->ninterim);
	for (i = 0; i < m->ninterim; i++)
		msgpack_pack_uint16(pk, m->interim[i]);
	pack_msg_common(m, pk);
}

static void
pack_span(msgpack_packer *pk, const char *key, uint64_t from, uint64_t to)
{
	pack_key(pk, key);
	if (from == ENGINE_NOTIME || to == ENGINE_NOTIME)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int64(pk, (int64_t)(to - from));
}

static void
pack_timings(const struct txn *t, msgpack_packer *pk)
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
	msgpack_pack_map(pk, 6);
	if (t->index == 0)
		pack_span(pk, "connect_us", c->syn_us, c->est_us);
	else
		pack_span(pk, "connect_us", 0, ENGINE_NOTIME);
	pack_span(pk, "send_us", t->req ? t->req->start_us : ENGINE_NOTIME,
	    reqend);
	pack_span(pk, "wait_us", reqend, rstart);
	pack_span(pk, "receive_us", rstart, rend);
	wait = (int64_t)(rstart - reqend);
	pack_key(pk, "server_stall_us");
	if (rtt == ENGINE_NOTIME || reqend == ENGINE_NOTIME ||
	    rstart == ENGINE_NOTIME)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int64(pk, wait - (int64_t)rtt);
	pack_key(pk, "round_trips");
	if (rtt == ENGINE_NOTIME || rtt == 0 || reqend == ENGINE_NOTIME ||
	    rend == ENGINE_NOTIME || wait < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_uint64(pk, ((uint64_t)wait + (rend - rstart) +
		    rtt - 1) / rtt);
}

void
pack_txn(const struct txn *t, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 13);
	pack_strkey(pk, "type", "transaction");
	pack_u64(pk, "id", t->id);
	pack_u64(pk, "connection", t->conn->id);
	pack_key(pk, "server");
	if (t->conn->server == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_uint32(pk, t->conn->server->id);
	pack_u64(pk, "index", t->index);
	pack_key(pk, "request");
	if (t->req == NULL)
		msgpack_pack_nil(pk);
	else
		pack_request(t->req, pk);
	pack_key(pk, "response");
	if (t->resp == NULL)
		msgpack_pack_nil(pk);
	else
		pack_response(t->resp, pk);
	pack_bool(pk, "pipelined", t->pipelined);
	pack_bool(pk, "conditional", t->conditional);
	pack_bool(pk, "not_modified", t->not_modified);
	pack_bool(pk, "connection_close", t->conn_close);
	pack_bool(pk, "upgrade", t->upgrade);
	pack_key(pk, "timings");
	pack_timings(t, pk);
}
