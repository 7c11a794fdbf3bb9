/*
 * test_pair.c: unit tests of request/response pairing when the capture
 * lost segments: the first segment of a response, of a request, of a
 * response in a pipelined burst, several responses in one hole, and a
 * hole inside a body. Each case builds the segments by hand (harness.h),
 * with every segment 1000 us after the one before, and checks which
 * request each response went to, the statuses, wait_us and the flags.
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "msg.h"
#include "session.h"

#include "harness.h"

#define BODY	2000		/* response body bytes: three segments */
#define SEG	1000

/* wait_us as the detail computes it; -1 when it has none. */
static long long
t_wait(const struct txn *t)
{
	if (t == NULL || t->req == NULL || t->resp == NULL ||
	    t->resp->status == 0 || t->req->end_us == ENGINE_NOTIME)
		return (-1);
	return ((long long)(t->resp->start_us - t->req->end_us));
}

/* "HTTP/1.1 <status> OK" with a BODY-byte body; returns its length. */
static size_t
t_response(char *buf, size_t size, int status)
{
	int	 n;

	n = snprintf(buf, size, "HTTP/1.1 %d OK\r\nContent-Length: %d\r\n"
	    "\r\n", status, BODY);
	memset(buf + n, 'a' + status % 26, BODY);
	return ((size_t)n + BODY);
}

/*
 * The server sends r in segments of SEG bytes; the capture misses those
 * whose bit is set in lose (bit 0: the first). The client acks it all.
 */
static void
t_respond(struct flow *f, const char *r, size_t len, unsigned int lose)
{
	size_t		 off, n;
	unsigned int	 i;

	for (off = 0, i = 0; off < len; off += n, i++) {
		n = len - off < SEG ? len - off : SEG;
		if (lose & (1u << i)) {
			f->sseq += (uint32_t)n;
			f->us += 1000;
		} else
			t_send(f, 0, r + off, n);
	}
	t_seg(f, 1, f->cseq, f->sseq, T_ACK, NULL, 0);
}

/* A keep-alive exchange: GET /<i>, answered 200 + i. */
static void
t_exchange(struct flow *f, int i, unsigned int lose)
{
	char	 req[64], resp[BODY + 128];
	size_t	 n;

	snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
	t_str(f, 1, req);
	n = t_response(resp, sizeof(resp), 200 + i);
	t_respond(f, resp, n, lose);
}

/*
 * Transaction i carries GET /<i> answered 200 + i, 1000 us after the
 * request, not pipelined, nothing lost.
 */
static int
t_paired(struct session *s, size_t i)
{
	struct txn	*t = t_txn(s, i);
	char		 want[32];

	snprintf(want, sizeof(want), "/%zu", i);
	if (!t_target(t, want) || t_status(t) != (int)(200 + i) ||
	    t_wait(t) != 1000 || t->pipelined || t->req_lost ||
	    t->resp_lost) {
		check(0, "transaction %zu: target ok %d, status %d, wait %lld, "
		    "pipelined %d, lost %d/%d", i, t_target(t, want),
		    t_status(t), t_wait(t), t ? t->pipelined : -1,
		    t ? t->req_lost : -1, t ? t->resp_lost : -1);
		return (0);
	}
	return (1);
}

/* The response to GET /2 lost its first segment (status line, headers). */
static void
test_lost_response_start(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct txn	*t;
	size_t		 i;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 6; i++)
		t_exchange(&f, (int)i, i == 2 ? 1 : 0);
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 6, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns; i++)
		if (i != 2)
			t_paired(s, i);
	t = t_txn(s, 2);
	check(t_target(t, "/2") && t->resp_lost && !t->req_lost &&
	    !t->pipelined, "GET /2: response lost, request kept");
	check(t && t->resp != NULL && t->resp->status == 0 &&
	    !t->resp->complete && msg_rare_of(t->resp)->lost_bytes == SEG,
	    "lost response: status 0, lost_bytes %llu",
	    t && t->resp ?
	    (unsigned long long)msg_rare_of(t->resp)->lost_bytes : 0);
	check(t_wait(t) == -1, "no wait for a lost response");
	check(s->conns[0]->d[DIR_S2C].gap_bytes == SEG, "gap_bytes");
	session_free(s);
	report("lost_response_start");
}

/*
 * A request lost its first segment (its request line); a later single-
 * segment request was lost whole, so its answer came before any sign
 * of the hole.
 */
static void
test_lost_request_start(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	const char	*post = "POST /2 HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 10\r\n\r\n";
	char		 resp[BODY + 128];
	struct txn	*t;
	size_t		 i, n;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_exchange(&f, 0, 0);
	t_exchange(&f, 1, 0);
	f.cseq += (uint32_t)strlen(post);	/* its header block: lost */
	f.us += 1000;
	t_str(&f, 1, "0123456789");
	n = t_response(resp, sizeof(resp), 202);
	t_respond(&f, resp, n, 0);
	t_exchange(&f, 3, 0);
	/* GET /4, one segment: lost */
	f.cseq += (uint32_t)strlen("GET /4 HTTP/1.1\r\nHost: h\r\n\r\n");
	f.us += 1000;
	n = t_response(resp, sizeof(resp), 204);
	t_respond(&f, resp, n, 0);
	t_exchange(&f, 5, 0);
	t_exchange(&f, 6, 0);
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 7, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns; i++)
		if (i != 2 && i != 4)
			t_paired(s, i);
	t = t_txn(s, 2);
	check(t && t->req == NULL && t->req_lost && !t->resp_lost &&
	    t_status(t) == 202, "request 2: lost, its response 202 (%d)",
	    t_status(t));
	t = t_txn(s, 4);
	check(t && t->req == NULL && t->req_lost && !t->resp_lost &&
	    t_status(t) == 204, "request 4: lost, its response 204 (%d)",
	    t_status(t));
	session_free(s);
	report("lost_request_start");
}

/* Four requests in one segment; the second response lost its start. */
static void
test_lost_start_pipelined(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 req[512], resp[4 * (BODY + 128)];
	size_t		 i, n = 0, m = 0, off[5];
	uint32_t	 base;
	struct txn	*t;
	int		 ok = 1;

	for (i = 0; i < 4; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n,
		    "GET /%zu HTTP/1.1\r\nHost: h\r\n\r\n", i);
	for (i = 0; i < 4; i++) {
		off[i] = m;
		m += t_response(resp + m, sizeof(resp) - m, (int)(200 + i));
	}
	off[4] = m;
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_send(&f, 1, req, n);
	base = f.sseq;
	for (i = 0; i < 4; i++) {
		/* each response: its headers and half its body, the rest */
		n = (off[i + 1] - off[i]) / 2;
		if (i != 1)
			t_seg(&f, 0, base + (uint32_t)off[i], f.cseq,
			    T_ACK, resp + off[i], n);
		else
			f.us += 1000;
		t_seg(&f, 0, base + (uint32_t)(off[i] + n), f.cseq,
		    T_ACK | T_PSH, resp + off[i] + n, off[i + 1] - off[i] - n);
	}
	f.sseq += (uint32_t)m;
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);
	session_finish(s, f.us);
	check(s->ntxns == 4, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns && i < 4; i++) {
		t = t_txn(s, i);
		snprintf(req, sizeof(req), "/%zu", i);
		ok &= t_target(t, req) && t->pipelined == (i > 0) &&
		    t->resp_lost == (i == 1) && !t->req_lost &&
		    t_status(t) == (i == 1 ? 0 : (int)(200 + i));
	}
	check(ok, "pairing, statuses or flags");
	/* the request went out at 4000; each response 2000 us apart */
	check(t_wait(t_txn(s, 0)) == 1000 && t_wait(t_txn(s, 2)) == 5000 &&
	    t_wait(t_txn(s, 3)) == 7000, "wait_us %lld %lld %lld",
	    t_wait(t_txn(s, 0)), t_wait(t_txn(s, 2)), t_wait(t_txn(s, 3)));
	session_free(s);
	report("lost_start_pipelined");
}

/*
 * One hole takes all of the response to GET /2 and the start of the one
 * to GET /3: the acks of the requests say both were lost.
 */
static void
test_lost_several(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	char		 resp[BODY + 128];
	size_t		 i, n;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	for (i = 0; i < 6; i++)
		t_exchange(&f, (int)i, i == 2 ? 7 : i == 3 ? 1 : 0);
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 6, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns; i++)
		if (i != 2 && i != 3)
			t_paired(s, i);
	check(t_txn(s, 2) && t_txn(s, 2)->resp_lost &&
	    t_status(t_txn(s, 2)) == 0 && !t_txn(s, 2)->pipelined,
	    "GET /2: response lost");
	check(t_txn(s, 3) && t_txn(s, 3)->resp_lost &&
	    t_status(t_txn(s, 3)) == 0 && !t_txn(s, 3)->pipelined,
	    "GET /3: response lost");
	n = t_response(resp, sizeof(resp), 202) + SEG;
	check(t_txn(s, 2) &&
	    msg_rare_of(t_txn(s, 2)->resp)->lost_bytes == n &&
	    msg_rare_of(t_txn(s, 3)->resp)->lost_bytes == 0,
	    "lost_bytes %llu, want %zu",
	    (unsigned long long)msg_rare_of(t_txn(s, 2)->resp)->lost_bytes, n);
	session_free(s);
	report("lost_several_responses");
}

/*
 * Holes inside bodies: in a Content-Length body the hole is stepped over
 * and the message ends where it should; in a chunked one the message is
 * given up. Neither touches the pairing of what follows.
 */
static void
test_lost_in_body(void)
{
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	static const char chunked[] = "HTTP/1.1 201 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "7d0\r\n";
	char		 resp[BODY + 256];
	size_t		 i, n;
	struct txn	*t;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_exchange(&f, 0, 2);		/* the middle segment lost */
	t_str(&f, 1, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
	n = strlen(chunked);
	memcpy(resp, chunked, n);
	memset(resp + n, 'c', BODY);
	n += BODY;
	memcpy(resp + n, "\r\n0\r\n\r\n", 7);
	n += 7;
	t_respond(&f, resp, n, 2);
	for (i = 2; i < 5; i++)
		t_exchange(&f, (int)i, 0);
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 5, "transactions %zu", s->ntxns);
	for (i = 0; i < s->ntxns; i++)
		t_paired(s, i);
	t = t_txn(s, 0);
	check(t && msg_rare_of(t->resp)->lost_bytes == SEG &&
	    !t->resp->complete && t->resp->end_us != ENGINE_NOTIME && t->resp->body_bytes == BODY,
	    "content-length body: stepped over, %llu lost",
	    t ? (unsigned long long)msg_rare_of(t->resp)->lost_bytes : 0);
	t = t_txn(s, 1);
	check(t && t_status(t) == 201 && !t->resp->complete &&
	    !t->resp_lost && !t->pipelined && t_wait(t) == 1000,
	    "chunked body: status %d, given up, not lost", t_status(t));
	check(s->conns[0]->d[DIR_S2C].gaps == 2, "gaps %llu",
	    (unsigned long long)s->conns[0]->d[DIR_S2C].gaps);
	session_free(s);
	report("lost_inside_body");
}

int
main(void)
{
	test_lost_response_start();
	test_lost_request_start();
	test_lost_start_pipelined();
	test_lost_several();
	test_lost_in_body();
	return (nfail ? 1 : 0);
}
