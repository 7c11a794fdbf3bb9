/*
 * test_engine.c: unit tests of the analysis engine. Each case builds
 * frames by hand (link, IP and TCP headers around chosen payloads),
 * feeds them to a session and checks the model the engine built. One
 * line per case: PASS, or FAIL with the first check that failed.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "msg.h"
#include "pktlog.h"
#include "session.h"
#include "tcp.h"

#include "harness.h"

static const char *resp_ok =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* What m keeps of its body; all zero when nothing. */
static const struct msg_body *
t_kept(const struct msg *m)
{
	static const struct msg_body	 none;

	return (m->kept != NULL ? m->kept : &none);
}

static void
test_basic(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct txn	*t;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /a HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
	t_str(&f, 0, resp_ok);
	t_close(&f);
	session_finish(s, f.us);
	t = t_txn(s, 0);
	check(s->nconns == 1, "connections %zu", s->nconns);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(t_target(t, "/a"), "target");
	check(t_status(t) == 200, "status %d", t_status(t));
	check(t && t->resp->complete && t->req->complete, "complete");
	check(t && t->resp->body_bytes == 5, "body_bytes");
	check(t && t->req->header_bytes == 43, "request header_bytes %llu",
	    t ? (unsigned long long)t->req->header_bytes : 0);
	check(s->conns[0]->state == CONN_CLOSED, "state %d",
	    s->conns[0]->state);
	check(s->conns[0]->est_us != ENGINE_NOTIME, "established");
	check(s->nservers == 1 && s->servers[0]->name != NULL &&
	    strcmp(s->servers[0]->name, "example.com") == 0, "server name");
	session_free(s);
	report("basic_get");
}

/* Packet record i of c, read out of its packed log; NULL past the end. */
static const struct pkt *
t_pkt(const struct conn *c, size_t i)
{
	static struct pkt	 p;
	struct pktlog_state	 st;
	size_t			 j, off = 0, got;

	memset(&st, 0, sizeof(st));
	for (j = 0; j <= i && j < c->npkts; j++) {
		if ((got = pktlog_get(c->pkts + off, c->pktlen - off, &st,
		    &p)) == 0)
			return (NULL);
		off += got;
	}
	return (j == i + 1 ? &p : NULL);
}

/*
 * Packed records read back as they were put, through a clock that
 * steps back, sequence numbers that wrap, windows that shrink, and a
 * change of sides; a segment like the one before it takes three bytes;
 * a log cut short reads as damaged.
 */
static void
test_pktlog(void)
{
	static const struct pkt	 in[] = {
		{ 1796608463979953ULL, 1, 0, 0, 65535, 0, 0x02, 0, PKT_SYN, 0 },
		{ 1796608463980053ULL, 2, 0, 1, 65160, 0, 0x12, 1,
		    PKT_SYNACK, 0 },
		{ 1796608463970000ULL, 7, 1, 1, 502, 1448, 0x18, 0,
		    PKT_PUSH, 0 },
		{ 1796608463970050ULL, 8, 1449, 1, 502, 1448, 0x10, 0,
		    PKT_DATA, 0 },
		{ 1796608463990000ULL, 4000000000U, 0xfffffff0U, 1449, 3,
		    70000, 0x10, 1, PKT_OUT_OF_ORDER, 0 },
		{ 1796608463990001ULL, 4000000001U, 0x10, 0xffffff00U,
		    1U << 30, 0, 0x11, 1, PKT_FIN, 0 },
	};
	u_char			 log[sizeof(in) / sizeof(in[0]) * PKTLOG_MAX];
	struct pktlog_state	 put, get;
	struct pkt		 out;
	size_t			 i, n = sizeof(in) / sizeof(in[0]), len = 0, off;
	size_t			 last = 0;
	int			 same = 1;

	memset(&put, 0, sizeof(put));
	for (i = 0; i < n; i++) {
		last = pktlog_put(log + len, &put, &in[i]);
		/* a segment like the one before: kind, time, frame */
		if (i == 3)
			check(last == 3, "a like segment took %zu bytes", last);
		len += last;
	}
	check(len < n * 16, "packed into %zu bytes", len);
	pktlog_flip(log, len, n, &put);
	memset(&get, 0, sizeof(get));
	for (i = 0, off = 0; i < n; i++) {
		last = off;
		off += pktlog_get(log + off, len - off, &get, &out);
		same &= out.us == in[i].us && out.frame == in[i].frame &&
		    out.seq == in[i].seq && out.ack == in[i].ack &&
		    out.win == in[i].win && out.len == in[i].len &&
		    out.flags == in[i].flags && out.dir == (in[i].dir ^ 1) &&
		    out.class == in[i].class;
	}
	check(same && off == len, "read back");
	check(memcmp(&get, &put, sizeof(get)) == 0, "appending goes on");
	check(pktlog_get(log + last, len - last - 1, &get, &out) == 0,
	    "cut short");
	report("pktlog");
}

static void
test_retransmit(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /r HTTP/1.1\r\nHost: h\r\n\r\n";

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK | T_PSH, req, strlen(req));
	t_str(&f, 1, req);	/* the same bytes again */
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(s->conns[0]->d[DIR_C2S].retransmits == 1, "retransmits %llu",
	    (unsigned long long)s->conns[0]->d[DIR_C2S].retransmits);
	check(t_status(t_txn(s, 0)) == 200, "status");
	check(t_pkt(s->conns[0], 4) != NULL &&
	    t_pkt(s->conns[0], 4)->class == PKT_RETRANSMIT, "class");
	session_free(s);
	report("retransmit");
}

/*
 * Once both sides' FINs are acknowledged, a connection's parser goes
 * and its arrays fit what they hold, while its sequence numbers stay
 * for a while: a late copy of the response is still a retransmission,
 * not a new message.
 */
static void
test_closed_shed(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
	struct conn	*c;
	uint32_t	 rseq;
	size_t		 npkts;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, req);
	rseq = f.sseq;
	t_str(&f, 0, resp_ok);
	t_close(&f);
	c = s->nconns == 1 ? s->conns[0] : NULL;
	check(c != NULL && c->state == CONN_CLOSED, "closed");
	check(c->live != NULL && c->live->http == NULL, "parser gone");
	check(c->pktcap == c->pktlen && c->statecap == c->statelen &&
	    c->txncap == c->ntxns, "arrays fitted");
	npkts = c->npkts;
	t_seg(&f, 0, rseq, f.cseq, T_ACK | T_PSH, resp_ok, strlen(resp_ok));
	check(c->npkts == npkts + 1 && t_pkt(c, npkts) != NULL &&
	    t_pkt(c, npkts)->class == PKT_RETRANSMIT, "late copy's class");
	check(c->d[DIR_S2C].retransmits == 1, "retransmits %llu",
	    (unsigned long long)c->d[DIR_S2C].retransmits);
	session_finish(s, f.us);
	check(s->ntxns == 1 && t_status(t_txn(s, 0)) == 200 &&
	    t_txn(s, 0)->resp->complete, "one transaction");
	session_free(s);
	report("closed_shed");
}

static void
test_overlap(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /overlap HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t		 len = strlen(req);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, req, 10);
	/* overlaps the first by 4 bytes, different content: first wins */
	t_seg(&f, 1, f.cseq + 6, f.sseq, T_ACK, "XXXX", 4);
	t_seg(&f, 1, f.cseq + 6, f.sseq, T_ACK | T_PSH, req + 6, len - 6);
	f.cseq += (uint32_t)len;
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(t_target(t_txn(s, 0), "/overlap"), "target");
	check(s->c.parse_errors == 0, "parse errors");
	session_free(s);
	report("overlap");
}

/*
 * Early copies of the same range with different bytes: the first to
 * come wins, a longer later one adds only what lies beyond it, and one
 * starting lower wins over what it covers (as tshark).
 */
static void
test_overlap_early(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /first HTTP/1.1\r\nHost: h\r\n\r\n";
	const char	*other = "GET /other HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t		 len = strlen(req);
	uint32_t	 base;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	base = f.cseq;
	t_seg(&f, 1, base + 7, f.sseq, T_ACK, req + 7, 2);
	t_seg(&f, 1, base + 7, f.sseq, T_ACK, other + 7, len - 7);
	t_seg(&f, 1, base + 5, f.sseq, T_ACK, other + 5, 2);
	t_seg(&f, 1, base, f.sseq, T_ACK | T_PSH, req, 5);
	f.cseq += (uint32_t)len;
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(t_target(t_txn(s, 0), "/otrsr"), "target");
	check(s->c.parse_errors == 0, "parse errors");
	session_free(s);
	report("overlap_early");
}

/*
 * A request the capture never had (its IP fragments, say): the server
 * answers it and acknowledges the client's FIN beyond it. The missing
 * bytes are a gap of their length, counted before the capture ends.
 */
static void
test_fin_gap(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /unseen HTTP/1.1\r\nHost: h\r\n\r\n";
	struct conn	*c;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	f.cseq += (uint32_t)strlen(req);
	t_str(&f, 0, resp_ok);
	t_close(&f);
	c = s->nconns == 1 ? s->conns[0] : NULL;
	check(c != NULL && c->d[DIR_C2S].gaps == 1, "gaps");
	check(c != NULL && c->d[DIR_C2S].gap_bytes == strlen(req),
	    "gap_bytes %llu", c ? (unsigned long long)c->d[DIR_C2S].gap_bytes :
	    0);
	check(c != NULL && (c->flags & CONN_F_GAP), "gap flag");
	check(s->c.gaps == 1, "session gaps %llu",
	    (unsigned long long)s->c.gaps);
	session_finish(s, f.us);
	check(s->ntxns == 1 && t_status(t_txn(s, 0)) == 200, "response");
	check(s->c.gaps == 1, "gaps after finish %llu",
	    (unsigned long long)s->c.gaps);
	session_free(s);
	report("fin_gap");
}

/*
 * A chunked body is kept as where its pieces lie in the raw frames,
 * put together (without the chunk framing) when asked for, and gone
 * once those frames are.
 */
static void
test_body_by_reference(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\n7\r\n, world\r\n";
	const u_char	*body;
	size_t		 len, freed;
	int		 trunc;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\n\r\n");
	t_str(&f, 0, r);
	t_str(&f, 0, "1\r\n!\r\n0\r\n\r\n");
	session_finish(s, f.us);
	check(session_body(s, 1, 1, &body, &len, &trunc) == 0 && len == 13 &&
	    memcmp(body, "hello, world!", 13) == 0 && !trunc,
	    "body put together: %zu", len);
	check(t_kept(t_txn(s, 0)->resp)->nrefs == 3, "pieces: %u",
	    t_kept(t_txn(s, 0)->resp)->nrefs);
	/* the two before the newest packed: frame, offset, length */
	check(t_kept(t_txn(s, 0)->resp)->reflen == 2 * 3,
	    "packed references: %u bytes", t_kept(t_txn(s, 0)->resp)->reflen);
	while (s->ring.nblocks > 0)
		(void)ring_evict(&s->ring, &freed);
	check(session_body(s, 1, 1, &body, &len, &trunc) == -2,
	    "body with its frames gone");
	check(t_kept(t_txn(s, 0)->resp)->len == 13,
	    "kept bytes still counted");
	session_free(s);
	report("body_by_reference");
}

/*
 * A body in many pieces packs more references than a record holds: they
 * move out to the heap, counted, and still put the body together, in
 * order, across frames; eviction gives back what they took.
 */
static void
test_body_refs_spill(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 chunk[64];
	const u_char	*body;
	size_t		 len, i;
	int		 trunc;
	struct msg	*m;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 6; i++) {
		(void)snprintf(chunk, sizeof(chunk), "3\r\n<%zu>\r\n", i);
		t_str(&f, 0, chunk);
	}
	t_str(&f, 0, "0\r\n\r\n");
	m = t_txn(s, 0)->resp;
	check(m->complete && t_kept(m)->nrefs == 6 &&
	    t_kept(m)->reflen > BODY_REFS_INLINE, "pieces %u, packed %u",
	    t_kept(m)->nrefs, t_kept(m)->reflen);
	check(session_body(s, 1, 1, &body, &len, &trunc) == 0 && len == 18 &&
	    memcmp(body, "<0><1><2><3><4><5>", 18) == 0 && !trunc,
	    "body put together: %zu", len);
	s->cfg.budget = 1;
	t_str(&f, 1, "GET /2 HTTP/1.1\r\n\r\n");
	check(m->body_evicted && t_kept(m)->nrefs == 0 &&
	    t_kept(m)->u.refs == NULL, "references freed: %u",
	    t_kept(m)->nrefs);
	session_free(s);
	report("body_refs_spill");
}

/*
 * When the budget is spent, a body kept by reference is evicted like a
 * copied one: its references freed and counted in evicted_bodies.
 */
static void
test_body_ref_evicted(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct msg	*m;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	m = t_txn(s, 0)->resp;
	check(t_kept(m)->nrefs == 1,
	    "kept by reference: %u", t_kept(m)->nrefs);
	s->cfg.budget = 1;		/* everything that can go, goes */
	t_str(&f, 1, "GET /2 HTTP/1.1\r\n\r\n");
	check(t_kept(m)->u.body == NULL && t_kept(m)->nrefs == 0 &&
	    t_kept(m)->len == 0 && m->body_evicted, "references freed: %u",
	    t_kept(m)->nrefs);
	check(s->c.evicted_bodies >= 1, "evicted_bodies %llu",
	    (unsigned long long)s->c.evicted_bodies);
	session_free(s);
	report("body_ref_evicted");
}

/*
 * A message that repeats a recent one shares its text and headers; one
 * that grows after that (trailers) grows into a copy of its own, and
 * the one it shared with stays as it was.
 */
static void
test_shared_text(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /same HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n";
	const char	*resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n0\r\n";
	struct msg	*a, *b;
	int		 i;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 2; i++) {
		t_str(&f, 1, req);
		t_str(&f, 0, resp);
		t_str(&f, 0, i == 0 ? "T: one\r\n\r\n" : "T: two\r\n\r\n");
	}
	session_finish(s, f.us);
	check(s->ntxns == 2 && t_txn(s, 1)->resp != NULL &&
	    t_txn(s, 1)->resp->complete, "transactions");
	a = t_txn(s, 0)->req;
	b = t_txn(s, 1)->req;
	check(a->text == b->text && b->nhdrs == 2 &&
	    msg_val_is(b, &msg_hdrs(b)[1], "1"), "request shared");
	a = t_txn(s, 0)->resp;
	b = t_txn(s, 1)->resp;
	check(a->nhdrs == 2 && b->nhdrs == 2 && a->text != b->text &&
	    msg_hdr_is(a, &msg_hdrs(a)[0], "transfer-encoding") &&
	    msg_hdr_is(b, &msg_hdrs(b)[0], "transfer-encoding") &&
	    msg_val_is(a, &msg_hdrs(a)[1], "one") &&
	    msg_val_is(b, &msg_hdrs(b)[1], "two"), "trailers kept apart");
	session_free(s);
	report("shared_text");
}

static void
test_reorder(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*r = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n"
	    "0123456789abcdefghijABCDEFGHIJ";
	const u_char	*body;
	uint32_t	 base;
	size_t		 hl = strlen(r) - 30, len;
	int		 trunc;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\n\r\n");
	base = f.sseq;
	t_seg(&f, 0, base, f.cseq, T_ACK, r, hl);
	t_seg(&f, 0, base + (uint32_t)hl + 10, f.cseq, T_ACK, r + hl + 10, 10);
	t_seg(&f, 0, base + (uint32_t)hl + 20, f.cseq, T_ACK, r + hl + 20, 10);
	check(t_txn(s, 0)->resp->complete == 0, "complete too early");
	t_seg(&f, 0, base + (uint32_t)hl, f.cseq, T_ACK, r + hl, 10);
	f.sseq += (uint32_t)strlen(r);
	session_finish(s, f.us);
	check(t_status(t_txn(s, 0)) == 200, "status");
	check(t_txn(s, 0)->resp->complete, "complete");
	check(session_body(s, 1, 1, &body, &len, &trunc) == 0 && len == 30 &&
	    memcmp(body, r + hl, 30) == 0, "body order");
	/* kept in the frames it came in, early ones included */
	check(t_kept(t_txn(s, 0)->resp)->nrefs == 3,
	    "body kept by reference: %u", t_kept(t_txn(s, 0)->resp)->nrefs);
	check(s->conns[0]->d[DIR_S2C].out_of_order == 1, "out_of_order %llu",
	    (unsigned long long)s->conns[0]->d[DIR_S2C].out_of_order);
	session_free(s);
	report("reorder");
}

static void
test_gap_resync(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*r1 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /1 HTTP/1.1\r\n\r\n");
	t_send(&f, 0, r1, 50);
	f.sseq += (uint32_t)strlen(r1) - 50;	/* the rest never seen */
	t_str(&f, 1, "GET /2 HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);	/* acks the hole */
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(t_txn(s, 0) && !t_txn(s, 0)->resp->complete, "first complete");
	check(t_status(t_txn(s, 1)) == 200, "second status %d",
	    t_status(t_txn(s, 1)));
	check(s->c.gaps == 1, "gaps %llu", (unsigned long long)s->c.gaps);
	check(s->conns[0]->flags & CONN_F_GAP, "gap flag");
	check(s->conns[0]->d[DIR_S2C].gap_bytes == strlen(r1) - 50,
	    "gap_bytes");
	session_free(s);
	report("gap_resync");
}

static void
test_midstream(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_str(&f, 0, "tail of an earlier body\r\n");
	t_str(&f, 1, "GET /mid HTTP/1.1\r\nHost: m\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->nconns == 1, "connections %zu", s->nconns);
	check(s->conns[0]->flags & CONN_F_MIDSTREAM, "midstream flag");
	check(s->conns[0]->cport == 40000, "client side");
	check(s->ntxns == 1 && t_target(t_txn(s, 0), "/mid"), "target");
	check(t_status(t_txn(s, 0)) == 200, "status");
	session_free(s);
	report("midstream");
}

static void
test_pipelined(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 req[2048], resp[2048];
	size_t		 i, n = 0, m = 0;
	int		 ok = 1;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 10; i++) {
		n += (size_t)snprintf(req + n, sizeof(req) - n,
		    "GET /p%zu HTTP/1.1\r\nHost: h\r\n\r\n", i);
		m += (size_t)snprintf(resp + m, sizeof(resp) - m,
		    "HTTP/1.1 %zu OK\r\nContent-Length: 2\r\n\r\nok", 200 + i);
	}
	t_send(&f, 1, req, n);
	t_send(&f, 0, resp, m);
	session_finish(s, f.us);
	check(s->ntxns == 10, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns && i < 10; i++) {
		snprintf(req, sizeof(req), "/p%zu", i);
		ok &= t_target(t_txn(s, i), req) &&
		    t_status(t_txn(s, i)) == (int)(200 + i) &&
		    t_txn(s, i)->pipelined == (i > 0);
	}
	check(ok, "pairing or pipelined flags");
	session_free(s);
	report("pipelined_burst");
}

/*
 * A header block of more text and more headers than a message's first
 * room holds, in pieces that split names and values: every header is
 * kept whole, and the text grows in place, leaving no old room behind
 * in the arena (only the message, its text and its header index).
 */
static void
test_text_grows(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct msg	*m;
	char		 req[4096], name[32], val[96];
	size_t		 i, len, used, grew, want;
	int		 n;

	len = (size_t)snprintf(req, sizeof(req), "GET /long HTTP/1.1\r\n");
	for (i = 0; i < 24; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "X-Header-%zu: value %zu %.*s\r\n", i, i, (int)(i * 3),
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		    "abcdefghijklmnopqrstuvwxyz");
	len += (size_t)snprintf(req + len, sizeof(req) - len, "\r\n");
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	used = s->chunks != NULL ? s->chunks->used : 0;
	for (i = 0; i < len; i += 7)
		t_send(&f, 1, req + i, len - i < 7 ? len - i : 7);
	check(s->ntxns == 1 && t_target(t_txn(s, 0), "/long"), "target");
	m = t_txn(s, 0)->req;
	check(m->nhdrs == 24, "headers %u", m->nhdrs);
	for (i = 0; i < m->nhdrs; i++) {
		snprintf(name, sizeof(name), "x-header-%zu", i);
		n = snprintf(val, sizeof(val), "value %zu %.*s", i, (int)(i * 3),
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		    "abcdefghijklmnopqrstuvwxyz");
		check(n > 0 && msg_hdr_is(m, &msg_hdrs(m)[i], name) &&
		    msg_val_is(m, &msg_hdrs(m)[i], val), "header %zu", i);
	}
	grew = s->chunks->used - used;
	want = sizeof(struct txn) + sizeof(struct msg) +
	    ((m->textlen + 7) & ~(size_t)7) + m->nhdrs * sizeof(struct hdr);
	check(grew == want, "arena grew %zu bytes, records %zu", grew, want);
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(t_status(t_txn(s, 0)) == 200, "status");
	session_free(s);
	report("text_grows");
}

static void
test_bytewise(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*req = "GET /slow HTTP/1.1\r\nHost: b\r\nX-A: 1\r\n\r\n";
	size_t		 i;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < strlen(req); i++)
		t_send(&f, 1, req + i, 1);
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 1 && t_target(t_txn(s, 0), "/slow"), "target");
	check(t_txn(s, 0)->req->nhdrs == 2, "headers %u",
	    t_txn(s, 0)->req->nhdrs);
	check(t_txn(s, 0)->req->headers_split, "headers_split");
	/* the first bytes are judged together ("GET " says HTTP) */
	check(t_txn(s, 0)->req->packets == strlen(req) - 3, "packets %u",
	    t_txn(s, 0)->req->packets);
	check(t_txn(s, 0)->req->start_us == 1000000 + 4000, "start_us %llu",
	    (unsigned long long)t_txn(s, 0)->req->start_us);
	check(t_status(t_txn(s, 0)) == 200, "status");
	session_free(s);
	report("request_bytewise");
}

static void
test_continue(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct txn	*t;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "POST /up HTTP/1.1\r\nContent-Length: 4\r\n"
	    "Expect: 100-continue\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 100 Continue\r\n\r\n");
	t_str(&f, 1, "data");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	t = t_txn(s, 0);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(t && msg_rare_of(t->resp)->ninterim == 1 &&
	    msg_rare_of(t->resp)->interim[0] == 100,
	    "interim");
	check(t_status(t) == 200, "status %d", t_status(t));
	check(t && t->req->body_bytes == 4, "request body");
	session_free(s);
	report("continue_100");
}

static void
test_head(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(t_txn(s, 0)->resp->complete &&
	    t_txn(s, 0)->resp->body_bytes == 0, "HEAD response body");
	check(t_status(t_txn(s, 1)) == 200 &&
	    t_txn(s, 1)->resp->body_bytes == 5, "next response");
	check(s->c.parse_errors == 0, "parse errors");
	session_free(s);
	report("head_content_length");
}

static void
test_304(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /c HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
	t_str(&f, 1, "GET /d HTTP/1.1\r\nConnection: close\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(t_txn(s, 0)->conditional && t_txn(s, 0)->not_modified,
	    "conditional/not_modified");
	check(!t_txn(s, 1)->conditional && t_txn(s, 1)->conn_close,
	    "second: connection_close");
	check(t_status(t_txn(s, 1)) == 200, "second status");
	session_free(s);
	report("not_modified_304");
}


/*
 * in compressed as zlib's windowBits say: 15 + 16 gzip, 15 zlib-wrapped
 * deflate, -15 raw deflate ("deflate" is sent both ways).
 */
static size_t
t_compress(const char *in, size_t len, u_char *out, size_t outlen, int wbits)
{
	z_stream	 z;
	size_t		 n;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)outlen;
	deflate(&z, Z_FINISH);
	n = outlen - z.avail_out;
	deflateEnd(&z);
	return (n);
}

static void
test_chunked_gzip(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 plain[3000], resp[4096];
	u_char		 gz[4096];
	const u_char	*body;
	size_t		 i, gzlen, n, half, blen;
	int		 trunc;
	struct msg	*m;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = "abcdefgh\n"[i % 9];
	gzlen = t_compress(plain, sizeof(plain), gz, sizeof(gz), 15 + 16);
	half = gzlen / 2;
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
	    "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "%zx\r\n", half);
	memcpy(resp + n, gz, half);
	n += half;
	n += (size_t)snprintf(resp + n, sizeof(resp) - n, "\r\n%zx\r\n",
	    gzlen - half);
	memcpy(resp + n, gz + half, gzlen - half);
	n += gzlen - half;
	n += (size_t)snprintf(resp + n, sizeof(resp) - n, "\r\n0\r\n\r\n");
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /z HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
	t_send(&f, 0, resp, n);
	session_finish(s, f.us);
	m = s->ntxns ? t_txn(s, 0)->resp : NULL;
	check(m != NULL && m->complete && m->chunked, "chunked complete");
	check(m && m->body_bytes == gzlen, "body_bytes %llu want %zu",
	    m ? (unsigned long long)m->body_bytes : 0, gzlen);
	check(m && m->encoded && m->decoded_bytes == sizeof(plain),
	    "decoded_bytes %llu", m ? (unsigned long long)m->decoded_bytes : 0);
	check(session_body(s, 1, 1, &body, &blen, &trunc) == 0 &&
	    blen == sizeof(plain) && memcmp(body, plain, blen) == 0 && !trunc,
	    "decoded body");
	check(session_body(s, 1, 0, &body, &blen, &trunc) == -1,
	    "request body should be absent");
	session_free(s);
	report("chunked_gzip");
}


static void
test_deflate(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 plain[5000], resp[6000];
	u_char		 z[5000];
	size_t		 i, n, zl;
	int		 raw, ok = 1;
	struct msg	*m;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = "0123456789 deflate\n"[i % 19];
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (raw = 0; raw < 2; raw++) {
		zl = t_compress(plain, sizeof(plain), z, sizeof(z),
		    raw ? -15 : 15);
		n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
		    "Content-Encoding: deflate\r\nContent-Length: %zu\r\n"
		    "\r\n", zl);
		memcpy(resp + n, z, zl);
		t_str(&f, 1, "GET /d HTTP/1.1\r\n\r\n");
		t_send(&f, 0, resp, n + zl);
	}
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns && i < 2; i++) {
		m = t_txn(s, i)->resp;
		ok &= m->complete && m->encoded &&
		    m->decoded_bytes == sizeof(plain) &&
		    t_kept(m)->len == 4096 &&
		    t_kept(m)->nrefs == 0 &&
		    memcmp(t_kept(m)->u.body, plain, 4096) == 0 &&
		    m->body_truncated;
	}
	check(ok, "decoded size or kept bytes");
	session_free(s);
	report("deflate_zlib_and_raw");
}

static void
test_close_delimited(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /old HTTP/1.0\r\n\r\n");
	t_str(&f, 0, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
	check(!t_txn(s, 0)->resp->complete, "complete before FIN");
	t_seg(&f, 0, f.sseq, f.cseq, T_ACK | T_FIN, NULL, 0);
	f.sseq++;
	check(t_txn(s, 0)->resp->complete, "not complete at FIN");
	check(t_txn(s, 0)->resp->body_bytes == 13, "body_bytes");
	check(s->conns[0]->state == CONN_HALF_CLOSED, "half-closed");
	session_finish(s, f.us);
	session_free(s);
	report("close_delimited_body");
}

static void
test_upgrade(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi");
	t_str(&f, 1, "\x81\x82zzzzGET / HTTP/1.1\r\n\r\n");
	t_str(&f, 0, "not http at all\r\n");
	session_finish(s, f.us);
	check(s->ntxns == 1, "transactions %zu", s->ntxns);
	check(t_txn(s, 0)->upgrade, "upgrade");
	check(s->conns[0]->flags & CONN_F_TUNNEL, "tunnel flag");
	check(s->c.parse_errors == 0, "parse errors %llu",
	    (unsigned long long)s->c.parse_errors);
	check(s->conns[0]->d[DIR_C2S].payload > 60, "tunnel bytes counted");
	session_free(s);
	report("upgrade_tunnel");
}

static void
test_malformed(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /bad HTTP/1.1\r\nContent-Length: zz\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	t_str(&f, 1, "GET /good HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(s->c.parse_errors == 1, "parse_errors %llu",
	    (unsigned long long)s->c.parse_errors);
	check(t_txn(s, 0) && msg_rare_of(t_txn(s, 0)->req)->error != NULL, "error kept");
	check(t_status(t_txn(s, 0)) == 400, "400 paired");
	check(t_target(t_txn(s, 1), "/good") && t_status(t_txn(s, 1)) == 200,
	    "later request");
	session_free(s);
	report("malformed_request");
}

static void
test_budget(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 3 * 1024 * 1024, NULL, 0);
	static char	 big[1400];
	u_char		*buf;
	uint64_t	 pos = 0, first, maps;
	size_t		 i, n;

	memset(big, 'x', sizeof(big));
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "POST /big HTTP/1.1\r\nContent-Length: 8400000\r\n\r\n");
	for (i = 0; i < 3000; i++)
		t_send(&f, 1, big, sizeof(big));
	/* at the budget: blocks are reused, none mapped any more */
	maps = s->ring.maps;
	check(s->c.evicted_frames > 0, "no frames evicted");
	for (i = 0; i < 3000; i++)
		t_send(&f, 1, big, sizeof(big));
	check(s->ring.maps == maps, "blocks mapped at the budget: %llu",
	    (unsigned long long)(s->ring.maps - maps));
	session_finish(s, f.us);
	check(s->c.evicted_bodies == 0, "bodies evicted before frames");
	check(s->mem <= s->cfg.budget, "memory %zu over the budget", s->mem);
	buf = malloc(1 << 20);
	n = session_frames_next(s, &pos, UINT64_MAX, buf, 1 << 20);
	memcpy(&first, buf, 8);
	check(n > 0 && pos > 1, "frames_next: first %llu",
	    (unsigned long long)pos);
	check(s->ring.nframes + s->c.evicted_frames == s->c.frames,
	    "frames kept + evicted != frames");
	free(buf);
	session_free(s);
	report("budget_eviction");
}

/* SYNs from n clients (one port each), none answered: half-open. */
static void
t_syns(struct session *s, struct flow *f, uint32_t first, uint32_t n)
{
	uint32_t	 i;

	for (i = first; i < first + n; i++) {
		f->caddr[2] = (uint8_t)(i >> 16);
		f->caddr[3] = (uint8_t)(i >> 8);
		f->cport = (uint16_t)(1024 + (i & 0xff));
		t_seg(f, 1, f->cseq, 0, T_SYN, NULL, 0);
	}
}

/* Connections packed by detail chunks of 64, checked in id order. */
static size_t
t_pack_conns(struct session *s, struct session_cursor *cur, uint32_t *last,
    int once)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	size_t		 n, total = 0, i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while ((n = session_pack_next(s, cur, &pk, 64)) > 0) {
		msgpack_sbuffer_clear(&sb);
		total += n;
		if (cur->phase == 2 && cur->last_conn <= *last)
			total = SIZE_MAX / 2;	/* went back: a repeat */
		if (cur->phase == 2)
			*last = cur->last_conn;
		if (once)
			break;
	}
	for (i = 1; i < s->nconns; i++)
		if (s->conns[i - 1]->id >= s->conns[i]->id)
			total = SIZE_MAX / 2;
	msgpack_sbuffer_destroy(&sb);
	return (total);
}

/*
 * A SYN flood over a small budget: half-open connections are evicted
 * (counted), not the real connection after them, and a detail stream
 * running across the eviction repeats nothing.
 */
static void
test_half_open(void)
{
	uint16_t		 port = 80;
	struct session		*s = t_session(DLT_EN10MB, 2 * 1024 * 1024,
				    &port, 1);
	struct session_cursor	 cur;
	struct flow		 f, g;
	const struct txn	*t;
	uint32_t		 last = 0;
	size_t			 items;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_syns(s, &f, 0, 3000);
	memset(&cur, 0, sizeof(cur));
	items = t_pack_conns(s, &cur, &last, 1);
	t_syns(s, &f, 3000, 17000);
	items += t_pack_conns(s, &cur, &last, 0);
	check(items < SIZE_MAX / 4, "a connection packed twice or out of order");
	check(s->c.evicted_half_open > 0, "no half-open connection evicted");
	check(s->nconns + s->c.evicted_half_open == 20000,
	    "%zu kept + %llu evicted != 20000", s->nconns,
	    (unsigned long long)s->c.evicted_half_open);
	check(s->mem <= s->cfg.budget, "memory %zu over the budget", s->mem);
	t_flow(&g, s, DLT_EN10MB, 0);
	g.us = f.us;
	t_handshake(&g);
	t_str(&g, 1, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
	t_str(&g, 0, resp_ok);
	t_close(&g);
	session_finish(s, g.us);
	check(s->c.dropped_connections == 0, "%llu connections dropped",
	    (unsigned long long)s->c.dropped_connections);
	check(s->ntxns == 1 && (t = s->txns[0])->resp != NULL &&
	    t->resp->status == 200 && t->conn->state != CONN_HANDSHAKING,
	    "the real connection after the flood was not kept");
	session_free(s);
	report("budget_half_open");
}

/*
 * What the session counts is what the allocator holds for it, within
 * a hundredth (the allocator's own figures; none under ASan), beside
 * the frame blocks, which are mapped on their own.
 */
static void
test_counted_real(void)
{
	uint16_t		 port = 80;
	struct mallinfo2	 before, after;
	struct session		*s;
	struct flow		 f;
	size_t			 held;

	before = mallinfo2();
	s = t_session(DLT_EN10MB, 64 * 1024 * 1024, &port, 1);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_syns(s, &f, 0, 20000);
	after = mallinfo2();
	held = (after.uordblks + after.hblkhd) - (before.uordblks +
	    before.hblkhd) + s->ring.mem;
	if (before.uordblks != 0)
		check(held <= s->mem + s->mem / 100 &&
		    s->mem <= held + held / 100,
		    "counted %zu, the allocator holds %zu", s->mem, held);
	session_free(s);
	report("budget_counted_real");
}

/* The process's resident bytes, as the kernel counts them. */
static size_t
t_rss(void)
{
	FILE		*f;
	unsigned long	 size, res = 0;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (0);
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (res * (size_t)sysconf(_SC_PAGESIZE));
}

/*
 * A session at its budget, frames evicted for frames: 100 connections
 * each hold 60 early segments (a hole before them), then are reset,
 * so that what was queued is freed, and more frames follow. What the
 * connections freed goes back to the kernel in steps of 1 MiB (a
 * sixteenth of this budget): the process grows by no more than the
 * count and a step beside it, and a little for the allocator's partly
 * used pages (none checked under ASan, which has its own allocator).
 * Only eviction's frees were handed back before: 8 MiB more stayed.
 */
static void
test_returned(void)
{
	uint16_t		 port = 80;
	struct session		*s;
	struct flow		 f[100], big;
	static char		 seg[1400];
	size_t			 before, after, i, j;

	memset(seg, 'r', sizeof(seg));
	malloc_trim(0);
	before = t_rss();
	s = t_session(DLT_EN10MB, 16 * 1024 * 1024, &port, 1);
	t_flow(&big, s, DLT_EN10MB, 0);
	big.cport = 1000;
	t_handshake(&big);
	t_str(&big, 1, "POST /fill HTTP/1.1\r\nContent-Length: 99000000\r\n"
	    "\r\n");
	for (i = 0; i < 15000; i++)
		t_send(&big, 1, seg, sizeof(seg));
	for (i = 0; i < 100; i++) {
		t_flow(&f[i], s, DLT_EN10MB, 0);
		f[i].us = big.us;
		f[i].cport = (uint16_t)(2000 + i);
		t_handshake(&f[i]);
		t_str(&f[i], 1, "GET /q HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f[i], 0, "HTTP/1.1 200 OK\r\nContent-Length: 90000"
		    "\r\n\r\n");
		for (j = 1; j <= 60; j++)
			t_seg(&f[i], 0, f[i].sseq + (uint32_t)(j * sizeof(seg)),
			    f[i].cseq, T_ACK, seg, sizeof(seg));
		big.us = f[i].us;
	}
	for (i = 0; i < 100; i++) {
		f[i].us = big.us;
		t_seg(&f[i], 1, f[i].cseq, f[i].sseq, T_RST, NULL, 0);
		big.us = f[i].us;
	}
	for (i = 0; i < 15000; i++)
		t_send(&big, 1, seg, sizeof(seg));
	after = t_rss();
	check(s->c.evicted_frames > 0 && s->c.evicted_bodies == 0 &&
	    s->c.evicted_packets == 0, "%llu frames, %llu bodies, %llu "
	    "packets evicted: not at the budget by frames alone",
	    (unsigned long long)s->c.evicted_frames,
	    (unsigned long long)s->c.evicted_bodies,
	    (unsigned long long)s->c.evicted_packets);
	check(s->nconns == 101, "%zu connections", s->nconns);
	if (mallinfo2().uordblks != 0 && before != 0)
		check(after <= before + s->mem + 2 * 1024 * 1024,
		    "the process grew by %zu KiB, the session counts %zu KiB",
		    (after - before) / 1024, s->mem / 1024);
	session_free(s);
	report("budget_returned");
}

static void
test_linktype(int link, int v6, int vlan, const char *name)
{
	struct flow	 f;
	struct session	*s = t_session(link, 0, NULL, 0);

	t_flow(&f, s, link, v6);
	f.vlan = vlan;
	t_handshake(&f);
	t_str(&f, 1, "GET /l HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->c.not_ip == 0 && s->c.truncated == 0, "undecoded frames");
	check(s->nconns == 1 && s->conns[0]->family == (v6 ? 6 : 4),
	    "connection");
	check(t_status(t_txn(s, 0)) == 200, "status");
	session_free(s);
	report(name);
}

static void
test_wrap(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	f.cseq = 0xfffffff0u;
	f.sseq = 0xfffffffau;
	t_handshake(&f);
	t_str(&f, 1, "GET /wrap HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	t_str(&f, 1, "GET /wrap2 HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->ntxns == 2 && t_target(t_txn(s, 1), "/wrap2"), "targets");
	check(t_status(t_txn(s, 1)) == 200, "status");
	check(s->conns[0]->d[0].retransmits == 0 &&
	    s->conns[0]->d[1].out_of_order == 0, "misclassified");
	session_free(s);
	report("seq_wraparound");
}

static void
test_not_http(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	f.sport = 22;
	t_handshake(&f);
	t_str(&f, 0, "SSH-2.0-OpenSSH_9.2\r\n");
	t_str(&f, 1, "SSH-2.0-client\r\n");
	session_finish(s, f.us);
	check(s->nconns == 1, "connections");
	check(s->conns[0]->flags & CONN_F_NOT_HTTP, "not_http flag");
	check(s->ntxns == 0, "transactions %zu", s->ntxns);
	check(s->conns[0]->d[0].payload == 16, "still counted");
	session_free(s);
	report("not_http");
}

static void
test_ports(void)
{
	struct flow	 f;
	uint16_t	 ports[] = { 8080 };
	struct session	*s = t_session(DLT_EN10MB, 0, ports, 1);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /ignored HTTP/1.1\r\n\r\n");
	check(s->nconns == 0, "port 80 analyzed with ports 8080");
	session_set_ports(s, (uint16_t[]){ 80 }, 1);
	f.cport++;
	t_handshake(&f);
	t_str(&f, 1, "GET /seen HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->nconns == 1, "connections %zu", s->nconns);
	check(t_target(t_txn(s, 0), "/seen"), "target");
	session_free(s);
	report("ports_filter");
}

static void
test_reordered_handshake(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_seg(&f, 0, f.sseq, f.cseq + 1, T_SYN | T_ACK, NULL, 0);
	t_seg(&f, 1, f.cseq, 0, T_SYN, NULL, 0);
	f.cseq++;
	f.sseq++;
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);
	t_str(&f, 1, "GET /hs HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->nconns == 1, "connections %zu", s->nconns);
	check(s->conns[0]->flags & CONN_F_REORDERED_HS, "flag");
	check(s->conns[0]->cport == 40000, "client side");
	check(t_status(t_txn(s, 0)) == 200, "status");
	session_free(s);
	report("reordered_handshake");
}

static void
test_bad_frames(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	u_char		 fr[64];

	memset(fr, 0, sizeof(fr));
	fr[12] = 0x08;			/* IPv4 */
	fr[14] = 0x45;
	fr[16] = 0; fr[17] = 40;
	fr[20] = 0x20;			/* more fragments */
	fr[23] = 6;
	session_frame(s, 1, fr, 54, 54);
	session_frame(s, 2, fr, 20, 20);	/* truncated IP header */
	fr[12] = 0x08; fr[13] = 0x06;	/* ARP */
	session_frame(s, 3, fr, 60, 60);
	session_frame(s, 4, fr, 5, 5);
	check(s->c.ip_fragments == 1, "fragments %llu",
	    (unsigned long long)s->c.ip_fragments);
	check(s->c.truncated == 2, "truncated %llu",
	    (unsigned long long)s->c.truncated);
	check(s->c.not_ip == 1, "not_ip");
	check(s->c.frames == 4 && s->nconns == 0, "frames/conns");
	session_finish(s, 5);
	session_free(s);
	report("bad_frames_counted");
}

/*
 * The ring's short headers: a clock that steps back, a frame cut short
 * of its length on the wire, an empty one and one of the largest, across
 * blocks, come back as the proto_frame records they went in as.
 */
static void
test_ring(void)
{
	static const struct proto_frame	 in[] = {
		{ 1796608463979953ULL, 60, 60 },
		{ 1796608463979900ULL, 1514, 9000 },
		{ 0, 0, 0 },
		{ UINT64_MAX, 70000, 70000 },
		{ 1796608463990000ULL, 100, UINT32_MAX },
		{ 1796608463990000ULL, 65535, 65535 },
	};
	static u_char		 data[70000 + 8], buf[1 << 18];
	struct ring		 r;
	struct ring_pos		 pos;
	struct proto_frame	 h;
	const u_char		*p;
	size_t			 i, n = sizeof(in) / sizeof(in[0]), got, off;
	uint64_t		 at = 0;
	int			 same = 1;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (u_char)(i * 7);
	ring_init(&r, 0);
	for (i = 0; i < n; i++)
		ring_add(&r, i + 1, in[i].ts_us, data + i, in[i].caplen,
		    in[i].len);
	check(r.nblocks > 1 && r.nframes == n, "%zu blocks", r.nblocks);
	memset(&pos, 0, sizeof(pos));
	for (i = 0; i < n; i++) {
		p = ring_frame(&r, i + 1, &pos, &h);
		same &= p != NULL && memcmp(&h, &in[i], sizeof(h)) == 0 &&
		    memcmp(p, data + i, h.caplen) == 0;
	}
	check(same, "looked up");
	check(ring_frame(&r, n + 1, &pos, &h) == NULL, "past the end");
	got = ring_next(&r, &at, UINT64_MAX, buf, sizeof(buf));
	for (i = 0, off = 0; i < n && off < got; i++) {
		memcpy(&h, buf + off, sizeof(h));
		same &= memcmp(&h, &in[i], sizeof(h)) == 0 &&
		    memcmp(buf + off + sizeof(h), data + i, h.caplen) == 0;
		off += sizeof(h) + h.caplen;
	}
	check(same && i == n && off == got && at == n, "handed out");
	ring_free(&r);
	report("ring");
}

static void
test_frames_dump(void)
{
	struct flow		 f;
	struct session		*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct proto_frame	 h;
	static u_char		 buf[1 << 16];
	uint64_t		 pos = 0, last = 0, n = 0;
	size_t			 got, off;
	int			 ordered = 1;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /f HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	while ((got = session_frames_next(s, &pos, UINT64_MAX, buf,
	    200)) > 0) {
		for (off = 0; off < got; off += sizeof(h) + h.caplen) {
			memcpy(&h, buf + off, sizeof(h));
			ordered &= h.ts_us > last;
			last = h.ts_us;
			n++;
		}
	}
	check(n == s->c.frames && n == 5, "frames dumped %llu",
	    (unsigned long long)n);
	check(ordered, "capture order");
	pos = 0;
	got = session_frames_next(s, &pos, UINT64_MAX, buf, 40);
	memcpy(&h, buf, sizeof(h));
	check(got == 40 && h.caplen == 24 && h.len > 24 && pos == 1,
	    "oversized frame not cut to fit");
	session_abort(s, f.us);
	check(s->state == SESSION_ABORTED && !session_running(s),
	    "aborted state");
	session_free(s);
	report("frames_dump");
}

static void
test_connect(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	f.sport = 3128;
	t_handshake(&f);
	t_str(&f, 1, "CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 Connection established\r\n\r\n");
	t_str(&f, 1, "\x16\x03\x01\x02\x00 tls hello");
	t_str(&f, 0, "\x16\x03\x03\x00\x40 tls reply");
	session_finish(s, f.us);
	check(s->ntxns == 1 && t_txn(s, 0)->upgrade, "upgrade");
	check(s->conns[0]->flags & CONN_F_TUNNEL, "tunnel flag");
	check(s->c.parse_errors == 0, "parse errors");
	check(t_status(t_txn(s, 0)) == 200 && t_txn(s, 0)->resp->complete,
	    "status");
	session_free(s);
	report("connect_tunnel");
}

static void
test_rst_reuse(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /1 HTTP/1.1\r\n\r\n");
	t_seg(&f, 0, f.sseq, f.cseq, T_RST | T_ACK, NULL, 0);
	check(s->conns[0]->state == CONN_RESET, "state %d",
	    s->conns[0]->state);
	f.cseq += 100000;
	f.sseq += 300000;
	t_handshake(&f);
	t_str(&f, 1, "GET /2 HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->nconns == 2, "connections %zu", s->nconns);
	check(s->ntxns == 2 && t_txn(s, 1)->conn->id == 2 &&
	    t_status(t_txn(s, 1)) == 200, "second connection's transaction");
	check(t_txn(s, 0)->resp == NULL, "reset request answered");
	session_free(s);
	report("rst_then_port_reuse");
}

static void
test_idle(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct conn	*c;
	struct state_change sc;
	size_t		 off = 0;
	int		 idle = 0;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /1 HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	f.us += 5000000;
	t_str(&f, 1, "GET /2 HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	c = s->conns[0];
	while (session_conn_state_get(c, &off, &sc))
		if (sc.state == CONN_IDLE)
			idle++;
	check(idle == 1, "idle entered %d times", idle);
	check(c->state == CONN_CONNECTED, "state %d", c->state);
	check(t_txn(s, 1)->index == 1 && t_txn(s, 1)->pipelined == 0,
	    "second transaction");
	session_free(s);
	report("idle_state");
}

static void
test_acks(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct conn	*c;
	const char	*r = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
	    "01234567890123456789";
	uint32_t	 base;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\n\r\n");
	base = f.sseq;
	t_seg(&f, 0, base, f.cseq, T_ACK, r, 10);
	t_seg(&f, 0, base + 20, f.cseq, T_ACK, r + 20, strlen(r) - 20);
	/* the client acks the first part three times: two duplicates */
	t_seg(&f, 1, f.cseq, base + 10, T_ACK, NULL, 0);
	t_seg(&f, 1, f.cseq, base + 10, T_ACK, NULL, 0);
	t_seg(&f, 1, f.cseq, base + 10, T_ACK, NULL, 0);
	t_seg(&f, 0, base + 10, f.cseq, T_ACK, r + 10, 10);
	f.sseq += (uint32_t)strlen(r);
	session_finish(s, f.us);
	c = s->conns[0];
	check(c->d[DIR_C2S].dup_acks == 2, "dup_acks %llu",
	    (unsigned long long)c->d[DIR_C2S].dup_acks);
	check(c->d[DIR_S2C].out_of_order == 1, "out_of_order");
	check(t_status(t_txn(s, 0)) == 200 && t_txn(s, 0)->resp->complete,
	    "response");
	check(c->npkts >= 9 && t_pkt(c, c->npkts - 3)->class == PKT_DUP_ACK,
	    "class");
	session_free(s);
	report("dup_acks");
}

static void
test_midstream_swap(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(&f, s, DLT_EN10MB, 0);
	f.cport = 1025;		/* lower than the server's: a wrong guess */
	f.sport = 8080;
	t_str(&f, 1, "GET /swap HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	check(s->nconns == 1 && s->conns[0]->cport == 1025 &&
	    s->conns[0]->sport == 8080, "roles");
	check(s->conns[0]->d[DIR_C2S].packets == 1 &&
	    t_pkt(s->conns[0], 0)->dir == DIR_C2S &&
	    t_pkt(s->conns[0], 1)->dir == DIR_S2C, "directions");
	check(s->ntxns == 1 && t_target(t_txn(s, 0), "/swap") &&
	    t_status(t_txn(s, 0)) == 200, "transaction");
	check(s->nservers == 1 && s->servers[0]->port == 8080, "server");
	session_free(s);
	report("midstream_roles_swapped");
}

static void
test_header_bounds(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	static char	 req[120000];
	size_t		 n, i;
	struct msg	*m;

	n = (size_t)snprintf(req, sizeof(req), "GET /many HTTP/1.1\r\n");
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n,
		    "X-H%zu: %zu\r\n", i, i);
	n += (size_t)snprintf(req + n, sizeof(req) - n, "X-Big: ");
	memset(req + n, 'v', 70000);
	n += 70000;
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n\r\n");
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < n; i += 1400)
		t_send(&f, 1, req + i, n - i < 1400 ? n - i : 1400);
	t_str(&f, 0, resp_ok);
	t_str(&f, 1, "GET /after HTTP/1.1\r\n\r\n");
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	m = s->ntxns ? t_txn(s, 0)->req : NULL;
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(m && m->nhdrs == MSG_MAX_HEADERS, "headers kept %u",
	    m ? m->nhdrs : 0);
	check(m && m->complete &&
	    msg_hdr_is(m, &msg_hdrs(m)[MSG_MAX_HEADERS - 1], "x-h255") &&
	    msg_val_is(m, &msg_hdrs(m)[MSG_MAX_HEADERS - 1], "255"),
	    "the last header kept whole");
	check(m && m->header_bytes == n, "header_bytes %llu want %zu",
	    m ? (unsigned long long)m->header_bytes : 0, n);
	check(t_target(t_txn(s, 1), "/after") && t_status(t_txn(s, 1)) == 200,
	    "next request");
	session_free(s);
	report("header_bounds");
}

static void
test_gap_in_body(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	static char	 r[4000];
	size_t		 n;
	struct msg	*m;

	n = (size_t)snprintf(r, sizeof(r), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 3000\r\n\r\n");
	memset(r + n, 'b', 3000);
	n += 3000;
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	t_send(&f, 0, r, 1000);
	f.sseq += 1000;			/* lost by the capture */
	t_send(&f, 0, r + 2000, n - 2000);
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);	/* acks the hole */
	t_str(&f, 0, resp_ok);
	session_finish(s, f.us);
	m = s->ntxns ? t_txn(s, 0)->resp : NULL;
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	check(m && !m->complete && m->end_us != ENGINE_NOTIME,
	    "first response: ended but not complete");
	check(m && m->body_bytes == 3000 && t_kept(m)->len < 1000 &&
	    m->body_truncated, "body counted, zeros not kept");
	check(t_status(t_txn(s, 1)) == 200 && t_txn(s, 1)->resp->complete,
	    "second response after the hole");
	check(s->conns[0]->d[DIR_S2C].gap_bytes == 1000, "gap_bytes");
	session_free(s);
	report("gap_inside_body");
}

/*
 * A hole of 100 MB in a body that runs until close: stepped over
 * whole, counted as body and as lost, and the body still ends at FIN
 * (not complete, as bytes of it were not seen).
 */
static void
test_gap_in_close_body(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct msg	*m;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /old HTTP/1.0\r\n\r\n");
	t_str(&f, 0, "HTTP/1.0 200 OK\r\n\r\nfirst part");
	f.sseq += 100000000;		/* lost by the capture */
	t_str(&f, 0, "tail");
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);	/* acks the hole */
	t_seg(&f, 0, f.sseq, f.cseq, T_ACK | T_FIN, NULL, 0);
	f.sseq++;
	m = s->ntxns ? t_txn(s, 0)->resp : NULL;
	check(m && m->gapped && msg_rare_of(m)->lost_bytes == 100000000,
	    "hole stepped over, lost %llu",
	    m ? (unsigned long long)msg_rare_of(m)->lost_bytes : 0);
	check(m && m->body_bytes == 10 + 100000000 + 4, "body_bytes %llu",
	    m ? (unsigned long long)m->body_bytes : 0);
	check(m && !m->complete && m->end_us != ENGINE_NOTIME,
	    "ends at FIN, not complete");
	check(s->conns[0]->d[DIR_S2C].gap_bytes == 100000000, "gap_bytes");
	session_finish(s, f.us);
	session_free(s);
	report("gap_in_close_body");
}

/* Packs the whole detail and reads it back. */
static void
test_pack(void)
{
	struct flow		 f;
	struct session		*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct session_cursor	 cur;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	size_t			 off = 0, items = 0, types[4] = { 0 };
	const msgpack_object	*o;
	const char		*str;
	size_t			 len;
	uint32_t		 i;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 5; i++) {
		t_str(&f, 1, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f, 0, resp_ok);
	}
	t_close(&f);
	session_finish(s, f.us);
	memset(&cur, 0, sizeof(cur));
	cur.flags = SESSION_DETAIL_PACKETS;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while (session_pack_next(s, &cur, &pk, 3) > 0)
		;
	msgpack_unpacked_init(&u);
	while (off < sb.size && msgpack_unpack_next(&u, sb.data, sb.size,
	    &off) > 0) {
		for (i = 0; i < u.data.via.array.size; i++) {
			o = &u.data.via.array.ptr[i];
			items++;
			if (proto_get_str(o, "type", &str, &len) != 0)
				continue;
			if (len == 7 && memcmp(str, "session", 7) == 0)
				types[0]++;
			else if (len == 6 && memcmp(str, "server", 6) == 0)
				types[1]++;
			else if (len == 10 && memcmp(str, "connection", 10) == 0)
				types[2]++;
			else if (len == 11 && memcmp(str, "transaction", 11) == 0)
				types[3]++;
			if (len == 10 && (o = proto_get(o, "packets")) != NULL)
				check(o->type == MSGPACK_OBJECT_ARRAY &&
				    o->via.array.size == s->conns[0]->npkts,
				    "packets array");
		}
	}
	check(items == cur.count && items == 8, "items %zu count %llu", items,
	    (unsigned long long)cur.count);
	check(types[0] == 1 && types[1] == 1 && types[2] == 1 &&
	    types[3] == 5, "item types");
	msgpack_sbuffer_clear(&sb);
	check(session_pack_txn(s, 5, &pk) == 0 &&
	    session_pack_txn(s, 6, &pk) == -1, "pack_txn");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	session_free(s);
	report("pack_detail");
}

/*
 * A header line of only a colon: llhttp hands over the empty name
 * before it refuses the line, so the request holds one header and no
 * text at all. It packs as a header with an empty name and value.
 */
static void
test_pack_empty_field(void)
{
	struct flow		 f;
	struct session		*s = t_session(DLT_EN10MB, 0, NULL, 0);
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	const msgpack_object	*o = NULL;
	const struct msg	*m;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "CONNECT \n:");
	session_finish(s, f.us);
	m = t_txn(s, 0) ? t_txn(s, 0)->req : NULL;
	check(m != NULL && m->nhdrs == 1 && msg_hdrs(m)[0].name_len == 0 &&
	    m->textlen == 0, "one empty header, no text");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	check(session_pack_txn(s, 1, &pk) == 0, "pack_txn");
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, sb.data, sb.size, NULL) > 0 &&
	    (o = proto_get(&u.data, "request")) != NULL)
		o = proto_get(o, "headers");
	check(o != NULL && o->type == MSGPACK_OBJECT_ARRAY &&
	    o->via.array.size == 1 &&
	    o->via.array.ptr[0].via.array.ptr[0].via.str.size == 0 &&
	    o->via.array.ptr[0].via.array.ptr[1].via.str.size == 0,
	    "headers [[\"\", \"\"]]");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	session_free(s);
	report("pack_empty_field");
}

/* Header i of m is name: value. */
static int
t_header(const struct msg *m, uint32_t i, const char *name,
    const char *value)
{
	return (m != NULL && i < m->nhdrs &&
	    msg_hdrs(m)[i].name_len == strlen(name) &&
	    msg_hdrs(m)[i].val_len == strlen(value) &&
	    memcmp(m->text + msg_hdrs(m)[i].name_off, name, strlen(name)) == 0 &&
	    memcmp(m->text + msg_hdrs(m)[i].val_off, value, strlen(value)) == 0);
}

/*
 * Text and headers are shrunk when the header block ends; trailers and
 * the messages that follow must still land where they belong, whether
 * the block came in one packet or byte by byte.
 */
static void
test_trim(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
	    "\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n";
	const struct msg *m;
	size_t		 i, j;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 2; i++) {
		t_str(&f, 1, "GET /t HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n");
		if (i == 0)
			t_str(&f, 0, resp);
		else
			for (j = 0; resp[j] != '\0'; j++)
				t_send(&f, 0, resp + j, 1);
	}
	session_finish(s, f.us);
	check(s->ntxns == 2, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns && !failed; i++) {
		m = t_txn(s, i)->resp;
		check(t_target(t_txn(s, i), "/t") &&
		    t_header(t_txn(s, i)->req, 0, "Host", "h") &&
		    t_header(t_txn(s, i)->req, 1, "A", "b"),
		    "request %zu headers", i);
		check(m != NULL && m->complete && m->nhdrs == 3 &&
		    t_header(m, 0, "Transfer-Encoding", "chunked") &&
		    t_header(m, 1, "Trailer", "X-Sum") &&
		    t_header(m, 2, "X-Sum", "42") &&
		    m->reason_len == 2 &&
		    memcmp(m->text + m->reason_off, "OK", 2) == 0,
		    "response %zu headers and trailer", i);
	}
	session_free(s);
	report("trim_headers");
}

/* Whether a packed message map has a "headers" key. */
static int
t_has_headers(const msgpack_object *txn, const char *which)
{
	const msgpack_object	*m;

	if ((m = proto_get(txn, which)) == NULL ||
	    m->type != MSGPACK_OBJECT_MAP)
		return (-1);
	return (proto_get(m, "headers") != NULL);
}

/*
 * The lean session analyze asks for: no raw frames, no bodies, and a
 * detail without header lists; what is still reported stays the same.
 */
/*
 * A live session grows while a client reads its detail: the stream
 * holds what the session held at its first chunk and then ends, though
 * a transaction and a connection come with every chunk after it (a
 * capture faster than one client is served). It followed the session
 * before, and never ended while the session grew faster.
 */
static void
test_detail_snapshot(void)
{
	struct session		*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct session_cursor	 cur;
	struct flow		 f, g;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	size_t			 n, items, chunks = 0, i;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 3; i++) {
		t_str(&f, 1, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f, 0, resp_ok);
	}
	memset(&cur, 0, sizeof(cur));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* the session and its server; one connection and 3 txns to come */
	items = session_pack_next(s, &cur, &pk, 2);
	while ((n = session_pack_next(s, &cur, &pk, 1)) > 0 &&
	    chunks < 100) {
		items += n;
		chunks++;
		t_flow(&g, s, DLT_EN10MB, 0);
		g.cport = (uint16_t)(41000 + chunks);
		t_handshake(&g);
		t_str(&g, 1, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&g, 0, resp_ok);
		t_str(&f, 1, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f, 0, resp_ok);
	}
	check(n == 0, "the stream had not ended after %zu chunks", chunks);
	check(items == 6 && chunks == 4, "%zu items in %zu chunks, want 6 "
	    "in 4", items, chunks);
	check(s->ntxns == 3 + 2 * chunks && s->nconns == 1 + chunks,
	    "the session holds %zu txns, %zu connections", s->ntxns,
	    s->nconns);
	msgpack_sbuffer_destroy(&sb);
	session_free(s);
	report("detail_snapshot");
}

/*
 * The same for a stream of frames: it ends at the newest frame kept
 * when it began, though frames come with every chunk after it.
 */
static void
test_frames_snapshot(void)
{
	struct session		*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct proto_frame	 h;
	struct flow		 f;
	u_char			 buf[4096];
	uint64_t		 pos = 0, last;
	size_t			 got, off, frames = 0, chunks = 0, held;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
	t_str(&f, 0, resp_ok);
	held = s->ring.nframes;
	last = session_frames_last(s);
	while ((got = session_frames_next(s, &pos, last, buf, 200)) > 0 &&
	    chunks < 100) {
		for (off = 0; off < got; off += sizeof(h) + h.caplen) {
			memcpy(&h, buf + off, sizeof(h));
			frames++;
		}
		chunks++;
		t_str(&f, 1, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f, 0, resp_ok);
	}
	check(got == 0, "the stream had not ended after %zu chunks", chunks);
	check(held > 0 && frames == held && pos == last, "%zu frames out of "
	    "%zu held when asked (pos %llu, last %llu)", frames, held,
	    (unsigned long long)pos, (unsigned long long)last);
	check(s->ring.nframes > held, "no frames came after");
	session_free(s);
	report("frames_snapshot");
}

static void
test_lean(void)
{
	struct engine_config	 cfg;
	struct flow		 f;
	struct session		*s;
	struct session_cursor	 cur;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	const msgpack_object	*o, *kept;
	static u_char		 buf[1 << 16];
	const u_char		*body;
	size_t			 off = 0, len, txns = 0;
	uint64_t		 pos = 0;
	uint32_t		 i;
	int			 trunc, with = 0, without = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = SESSION_DEFAULT_BUDGET;
	s = session_new(1, SESSION_LOADED, DLT_EN10MB, &cfg, 0, "lean", 1);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 3; i++) {
		t_str(&f, 1, "GET /l HTTP/1.1\r\nHost: h\r\n\r\n");
		t_str(&f, 0, resp_ok);
	}
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 3 && s->txns[2]->resp != NULL &&
	    s->txns[2]->resp->complete && s->txns[2]->resp->body_bytes > 0,
	    "transactions not analysed");
	check(session_frames_next(s, &pos, UINT64_MAX, buf,
	    sizeof(buf)) == 0 && s->ring.nframes == 0, "frames kept");
	check(session_body(s, 1, 1, &body, &len, &trunc) == -1 &&
	    t_kept(s->txns[0]->resp)->nrefs == 0 &&
	    t_kept(s->txns[0]->resp)->u.body == NULL, "body kept");
	memset(&cur, 0, sizeof(cur));
	cur.flags = SESSION_DETAIL_NO_HEADERS;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while (session_pack_next(s, &cur, &pk, 100) > 0)
		;
	msgpack_unpacked_init(&u);
	while (off < sb.size && msgpack_unpack_next(&u, sb.data, sb.size,
	    &off) > 0) {
		for (i = 0; i < u.data.via.array.size; i++) {
			o = &u.data.via.array.ptr[i];
			if ((kept = proto_get(o, "frames_kept")) != NULL)
				check(kept->type == MSGPACK_OBJECT_BOOLEAN &&
				    !kept->via.boolean, "frames_kept true");
			if (proto_get(o, "request") == NULL)
				continue;
			txns++;
			without += t_has_headers(o, "request") == 0 &&
			    t_has_headers(o, "response") == 0;
		}
	}
	check(txns == 3 && without == 3, "headers packed: %zu of %zu", 3 -
	    (size_t)without, txns);
	/* a single transaction asked for still shows them */
	msgpack_sbuffer_clear(&sb);
	off = 0;
	if (session_pack_txn(s, 2, &pk) == 0 && msgpack_unpack_next(&u,
	    sb.data, sb.size, &off) > 0)
		with = t_has_headers(&u.data, "request") == 1;
	check(with, "pack_txn without headers");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	session_free(s);
	report("lean_session");
}

/* Whether header i of m is name: value. */
static int
t_hdr(const struct msg *m, uint32_t i, const char *name, const char *value)
{
	return (i < m->nhdrs && msg_hdrs(m)[i].name_len == strlen(name) &&
	    memcmp(m->text + msg_hdrs(m)[i].name_off, name,
	    msg_hdrs(m)[i].name_len) == 0 && msg_hdrs(m)[i].val_len == strlen(value) &&
	    memcmp(m->text + msg_hdrs(m)[i].val_off, value,
	    msg_hdrs(m)[i].val_len) == 0);
}

/*
 * A session that keeps no header lists still learns from all of them
 * (server name, conditional request, encoding) and keeps the start
 * line, Content-Type and Content-Encoding, in either order.
 */
static void
test_no_headers(void)
{
	struct engine_config	 cfg;
	struct flow		 f;
	struct session		*s;
	const struct msg	*rq, *rs, *rs2;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = SESSION_DEFAULT_BUDGET;
	cfg.no_headers = 1;
	s = session_new(1, SESSION_LOADED, DLT_EN10MB, &cfg, 0, "lean", 1);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /lean?q=1 HTTP/1.1\r\nUser-Agent: t\r\n"
	    "Host: lean.example\r\nIf-None-Match: \"x\"\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 Fine\r\nServer: s\r\nContent-Encoding: "
	    "gzip\r\nX-A: b\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 0\r\n\r\n");
	t_str(&f, 1, "GET /two HTTP/1.1\r\nHost: lean.example\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 204 No Content\r\nContent-Type: a/b\r\n"
	    "Date: now\r\n\r\n");
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 2 && s->txns[0]->resp != NULL &&
	    s->txns[1]->resp != NULL, "transactions not analysed");
	rq = s->txns[0]->req;
	rs = s->txns[0]->resp;
	rs2 = s->txns[1]->resp;
	check(rq->nhdrs == 0 && rq->target_len == 9 &&
	    memcmp(rq->text + rq->target_off, "/lean?q=1", 9) == 0,
	    "request kept %u headers", rq->nhdrs);
	check(s->txns[0]->conditional && s->nservers == 1 &&
	    s->servers[0]->name != NULL &&
	    strcmp(s->servers[0]->name, "lean.example") == 0,
	    "what the headers said was lost");
	check(rs->nhdrs == 2 && rs->ce == 0 && rs->ct == 1 &&
	    t_hdr(rs, 0, "Content-Encoding", "gzip") &&
	    t_hdr(rs, 1, "Content-Type", "text/plain") && rs->encoded &&
	    rs->reason_len == 4 && memcmp(rs->text + rs->reason_off,
	    "Fine", 4) == 0, "response headers not reduced to two");
	check(rs2->nhdrs == 1 && rs2->ct == 0 && rs2->ce == -1 &&
	    t_hdr(rs2, 0, "Content-Type", "a/b"), "second response");
	session_free(s);
	report("no_headers");
}

/* Whether map m has exactly the keys of the NULL-ended list. */
static int
t_keys(const msgpack_object *m, const char **keys)
{
	uint32_t	 n = 0;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return (0);
	for (; keys[n] != NULL; n++)
		if (proto_get(m, keys[n]) == NULL)
			return (0);
	return (m->via.map.size == n);
}

/* Packs the whole detail of s with flags into sb. */
static void
t_pack_all(struct session *s, int flags, msgpack_sbuffer *sb)
{
	struct session_cursor	 cur;
	msgpack_packer		 pk;

	memset(&cur, 0, sizeof(cur));
	cur.flags = flags;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	while (session_pack_next(s, &cur, &pk, 100) > 0)
		;
}

/*
 * The brief detail carries exactly the fields PROTOCOL.md lists, with
 * the values the full one has, in fewer bytes.
 */
static void
test_brief(void)
{
	static const char	*conn[] = { "type", "id", "client_addr",
		"client_port", "server_addr", "server_port", "first_us",
		"last_us", "rtt_us", "state", "flags", "c2s", "s2c",
		"transactions", "dns", "tls", "h2", NULL };
	static const char	*dir[] = { "packets", "payload_bytes",
		"retransmits", "out_of_order", "dup_acks", "zero_windows",
		NULL };
	static const char	*txn[] = { "type", "id", "connection",
		"server", "protocol", "stream_id", "request", "response",
		"pipelined", "request_lost", "response_lost", "conditional",
		"connection_close", "upgrade",
		"timings", NULL };
	static const char	*req[] = { "method", "target", "start_us",
		"body_bytes", "headers_split", "complete", "error", NULL };
	static const char	*resp[] = { "status", "interim",
		"decoded_bytes", "content_type", "start_us", "body_bytes",
		"headers_split", "complete", "error", NULL };
	static const char	*tm[] = { "send_us", "wait_us", "receive_us",
		NULL };
	struct engine_config	 cfg;
	struct flow		 f;
	struct session		*s;
	msgpack_sbuffer		 full, brief;
	msgpack_unpacked	 u, v;
	const msgpack_object	*o, *w, *r;
	size_t			 off = 0, voff = 0, conns = 0, txns = 0;
	uint64_t		 a, b;
	uint32_t		 i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = SESSION_DEFAULT_BUDGET;
	s = session_new(1, SESSION_LOADED, DLT_EN10MB, &cfg, 0, "brief", 1);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	t_str(&f, 0, resp_ok);
	t_str(&f, 1, "POST /p HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 3\r\n\r\nabc");
	t_close(&f);
	session_finish(s, f.us);
	t_pack_all(s, SESSION_DETAIL_BRIEF, &brief);
	t_pack_all(s, 0, &full);
	check(brief.size * 3 < full.size * 2, "brief %zu bytes, full %zu",
	    brief.size, full.size);
	msgpack_unpacked_init(&u);
	msgpack_unpacked_init(&v);
	while (msgpack_unpack_next(&u, brief.data, brief.size, &off) > 0 &&
	    msgpack_unpack_next(&v, full.data, full.size, &voff) > 0) {
		for (i = 0; i < u.data.via.array.size &&
		    i < v.data.via.array.size; i++) {
			o = &u.data.via.array.ptr[i];
			w = &v.data.via.array.ptr[i];
			if (proto_get(o, "c2s") != NULL) {
				conns++;
				check(t_keys(o, conn) &&
				    t_keys(proto_get(o, "c2s"), dir) &&
				    t_keys(proto_get(o, "s2c"), dir),
				    "connection fields");
				proto_get_u64(proto_get(o, "s2c"),
				    "payload_bytes", &a);
				proto_get_u64(proto_get(w, "s2c"),
				    "payload_bytes", &b);
				check(a == b && a > 0, "payload %llu, full "
				    "%llu", (unsigned long long)a,
				    (unsigned long long)b);
			}
			if (proto_get(o, "timings") == NULL)
				continue;
			txns++;
			check(t_keys(o, txn) && t_keys(proto_get(o,
			    "request"), req) && t_keys(proto_get(o,
			    "timings"), tm), "transaction fields");
			r = proto_get(o, "response");
			check(r->type == MSGPACK_OBJECT_NIL ||
			    t_keys(r, resp), "response fields");
			proto_get_u64(proto_get(o, "request"), "start_us", &a);
			proto_get_u64(proto_get(w, "request"), "start_us", &b);
			check(a == b, "request start differs");
		}
	}
	check(conns == 1 && txns == 2, "%zu connections, %zu transactions",
	    conns, txns);
	msgpack_unpacked_destroy(&u);
	msgpack_unpacked_destroy(&v);
	msgpack_sbuffer_destroy(&brief);
	msgpack_sbuffer_destroy(&full);
	session_free(s);
	report("brief_detail");
}

int
main(void)
{
	test_basic();
	test_brief();
	test_no_headers();
	test_retransmit();
	test_closed_shed();
	test_overlap();
	test_overlap_early();
	test_fin_gap();
	test_pktlog();
	test_reorder();
	test_shared_text();
	test_body_by_reference();
	test_body_refs_spill();
	test_body_ref_evicted();
	test_gap_resync();
	test_midstream();
	test_pipelined();
	test_bytewise();
	test_text_grows();
	test_continue();
	test_head();
	test_304();
	test_chunked_gzip();
	test_deflate();
	test_close_delimited();
	test_upgrade();
	test_malformed();
	test_budget();
	test_half_open();
	test_counted_real();
	test_returned();
	test_linktype(DLT_EN10MB, 1, 0, "ipv6");
	test_linktype(DLT_EN10MB, 0, 1, "vlan");
	test_linktype(DLT_LINUX_SLL2, 0, 0, "sll2");
	test_linktype(DLT_RAW, 1, 0, "raw_ipv6");
	test_linktype(DLT_LINUX_SLL, 0, 0, "sll");
	test_linktype(DLT_NULL, 1, 0, "null_ipv6");
	test_linktype(DLT_LOOP, 0, 0, "loop");
	test_wrap();
	test_detail_snapshot();
	test_frames_snapshot();
	test_not_http();
	test_ports();
	test_reordered_handshake();
	test_bad_frames();
	test_connect();
	test_rst_reuse();
	test_idle();
	test_acks();
	test_midstream_swap();
	test_gap_in_body();
	test_gap_in_close_body();
	test_header_bounds();
	test_ring();
	test_frames_dump();
	test_pack();
	test_pack_empty_field();
	test_lean();
	test_trim();
	return (nfail ? 1 : 0);
}
