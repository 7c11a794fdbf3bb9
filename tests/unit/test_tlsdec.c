/*
 * test_tlsdec.c: unit tests of a TLS connection decrypted inside the
 * engine (daemon/engine/tlsdec.c, session_keys.c): a TLS 1.3
 * conversation built here (ClientHello and ServerHello in clear, then
 * records sealed by tlsseal.h with secrets this file made up) goes
 * through a session as TCP segments, and its HTTP/1.1 request and
 * response must come out as a transaction: with the key log given
 * first, given after the records (they wait), cut a byte per segment,
 * with a wrong key (failed, no response made up), and given to a
 * finished session that is made again from its frames, with records
 * the capture lost; and a clear connection beside is not touched. One
 * line per case.
 */
#include "harness.h"
#include "keylog.h"
#include "tlscrypt.h"
#include "tlsseal.h"

#define CONV_MAX	16

static const char	 req[] = "GET /secret HTTP/1.1\r\nHost: t\r\n\r\n";
static const char	 resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* The conversation: records in order, each from one side. */
struct conv {
	u_char		 rec[CONV_MAX][1024];
	size_t		 len[CONV_MAX];
	int		 c2s[CONV_MAX];
	int		 n;
	char		 log[1024];
};

static void
conv_add(struct conv *cv, int c2s, const u_char *rec, size_t len)
{
	memcpy(cv->rec[cv->n], rec, len);
	cv->len[cv->n] = len;
	cv->c2s[cv->n++] = c2s;
}

/* A handshake record in clear around one message of type. */
static void
conv_clear(struct conv *cv, int c2s, uint8_t type, const u_char *body,
    size_t n)
{
	u_char	 rec[512];

	rec[0] = 22;
	rec[1] = 3;
	rec[2] = 1;
	rec[3] = (u_char)((n + 4) >> 8);
	rec[4] = (u_char)(n + 4);
	rec[5] = type;
	rec[6] = 0;
	rec[7] = (u_char)(n >> 8);
	rec[8] = (u_char)n;
	memcpy(rec + 9, body, n);
	conv_add(cv, c2s, rec, n + 9);
}

/* random, session id, suite, then the extensions given. */
static size_t
conv_hello(u_char *b, int client, const u_char *ext, size_t elen)
{
	size_t	 n = 0;

	b[n++] = 3;
	b[n++] = 3;
	memset(b + n, client ? 0x5a : 0x6b, 32);
	n += 32;
	b[n++] = 32;
	memset(b + n, 0x77, 32);
	n += 32;
	if (client) {
		b[n++] = 0;
		b[n++] = 2;
	}
	b[n++] = 0x13;
	b[n++] = 0x01;
	if (client)
		b[n++] = 1;
	b[n++] = 0;
	b[n++] = (u_char)(elen >> 8);
	b[n++] = (u_char)elen;
	memcpy(b + n, ext, elen);
	return (n + elen);
}

static void
conv_secret(struct conv *cv, struct t13 *t, const char *label, u_char fill)
{
	char	 hr[65], hs[65];
	u_char	 cr[32];
	size_t	 off = strlen(cv->log);

	memset(t, 0, sizeof(*t));
	t->slen = 32;
	memset(t->secret, fill, 32);
	t13_keys(t);
	memset(cr, 0x5a, sizeof(cr));
	hexs(hr, cr, 32);
	hexs(hs, t->secret, 32);
	snprintf(cv->log + off, sizeof(cv->log) - off, "%s %s %s\n", label,
	    hr, hs);
}

/*
 * TLS 1.3 with TLS_AES_128_GCM_SHA256 and ALPN http/1.1: the hellos,
 * the server's EncryptedExtensions and Finished, the client's Finished;
 * cap and sap are left with the application keys.
 */
static void
conv_handshake(struct conv *cv, struct t13 *cap, struct t13 *sap)
{
	static const u_char	 cext[] = { 0, 43, 0, 3, 2, 3, 4,
				    0, 16, 0, 11, 0, 9, 8, 'h', 't', 't', 'p',
				    '/', '1', '.', '1' };
	static const u_char	 sext[] = { 0, 43, 0, 2, 3, 4 };
	static const u_char	 ee[] = { 8, 0, 0, 15, 0, 13, 0, 16, 0, 9, 0,
				    7, 6, 'h', 't', 't', 'p', '/', '1' };
	struct t13		 chs, shs;
	u_char			 b[512], rec[1024];
	size_t			 n;

	memset(cv, 0, sizeof(*cv));
	conv_secret(cv, &chs, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", 0x11);
	conv_secret(cv, &shs, "SERVER_HANDSHAKE_TRAFFIC_SECRET", 0x22);
	conv_secret(cv, cap, "CLIENT_TRAFFIC_SECRET_0", 0x33);
	conv_secret(cv, sap, "SERVER_TRAFFIC_SECRET_0", 0x44);
	n = conv_hello(b, 1, cext, sizeof(cext));
	conv_clear(cv, 1, 1, b, n);
	n = conv_hello(b, 0, sext, sizeof(sext));
	conv_clear(cv, 0, 2, b, n);
	/* EncryptedExtensions then Finished, in one record. */
	memcpy(b, ee, sizeof(ee));
	b[sizeof(ee)] = 20;
	b[sizeof(ee) + 1] = b[sizeof(ee) + 2] = 0;
	b[sizeof(ee) + 3] = 32;
	memset(b + sizeof(ee) + 4, 0xf5, 32);
	n = t13_seal(&shs, 22, b, sizeof(ee) + 36, rec);
	conv_add(cv, 0, rec, n);
	memset(b + 4, 0xfc, 32);
	memcpy(b, "\x14\x00\x00\x20", 4);
	n = t13_seal(&chs, 22, b, 36, rec);
	conv_add(cv, 1, rec, n);
}

/* The handshake, a request and its response. */
static void
conv_make(struct conv *cv)
{
	struct t13	 cap, sap;
	u_char		 rec[1024];
	size_t		 n;

	conv_handshake(cv, &cap, &sap);
	n = t13_seal(&cap, 23, (const u_char *)req, strlen(req), rec);
	conv_add(cv, 1, rec, n);
	n = t13_seal(&sap, 23, (const u_char *)resp, strlen(resp), rec);
	conv_add(cv, 0, rec, n);
}

/* The conversation as segments of at most seg bytes (0: a record each). */
static void
conv_send(struct conv *cv, struct flow *f, size_t seg)
{
	size_t	 off, k;
	int	 i;

	for (i = 0; i < cv->n; i++) {
		for (off = 0; off < cv->len[i]; off += k) {
			k = cv->len[i] - off;
			if (seg > 0 && k > seg)
				k = seg;
			t_send(f, cv->c2s[i], (const char *)cv->rec[i] + off, k);
		}
	}
}

static struct session *
conv_session(struct flow *f)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	t_flow(f, s, DLT_EN10MB, 0);
	f->sport = 443;
	return (s);
}

static void
keys(struct session *s, const char *log, int end)
{
	session_keys_add(s, (const u_char *)log, strlen(log), end);
}

/* One transaction, GET /secret answered 200, four records decrypted. */
static void
check_decrypted(struct session *s, const char *what)
{
	struct tls_info	*ti;
	struct txn	*t;

	check(s->nconns == 1 && (ti = s->conns[0]->tls) != NULL,
	    "%s: one TLS connection", what);
	if (failed)
		return;
	check(ti->rec_decrypted == 4 && ti->rec_failed == 0 &&
	    ti->rec_skipped == 0, "%s: records decrypted %llu failed %llu "
	    "not %llu (%s)", what, (unsigned long long)ti->rec_decrypted,
	    (unsigned long long)ti->rec_failed,
	    (unsigned long long)ti->rec_skipped,
	    ti->dec_error ? ti->dec_error : "no error");
	check(ti->alpn != NULL && ti->alpnlen == 6 &&
	    memcmp(ti->alpn, "http/1", 6) == 0,
	    "%s: ALPN from EncryptedExtensions", what);
	check(s->ntxns == 1, "%s: %zu transactions", what, s->ntxns);
	if (failed)
		return;
	t = s->txns[0];
	check(t->req != NULL && t->req->target_len == 7 &&
	    memcmp(t->req->text + t->req->target_off, "/secret", 7) == 0,
	    "%s: the request's target", what);
	check(t->resp != NULL && t->resp->status == 200 &&
	    t->resp->body_bytes == 2, "%s: the response", what);
}

static void
test_keys_first(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = conv_session(&f);

	conv_make(&cv);
	keys(s, cv.log, 1);
	t_handshake(&f);
	conv_send(&cv, &f, 0);
	t_close(&f);
	session_finish(s, f.us);
	check_decrypted(s, "keys first");
	session_free(s);
	report("tlsdec_keys_first");
}

/* The key log trails the traffic, as a live browser's does. */
static void
test_keys_late(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = conv_session(&f);

	conv_make(&cv);
	keys(s, "", 0);
	t_handshake(&f);
	conv_send(&cv, &f, 0);
	check(s->ntxns == 0 && s->conns[0]->tls->rec_decrypted == 0,
	    "nothing before the keys");
	/* Half a line, then the rest. */
	keys(s, "CLIENT_HANDSHAKE", 0);
	keys(s, cv.log + 16, 0);
	t_close(&f);
	session_finish(s, f.us);
	check_decrypted(s, "keys late");
	session_free(s);
	report("tlsdec_keys_late");
}

static void
test_byte_by_byte(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = conv_session(&f);

	conv_make(&cv);
	keys(s, cv.log, 1);
	t_handshake(&f);
	conv_send(&cv, &f, 1);
	t_close(&f);
	session_finish(s, f.us);
	check_decrypted(s, "a byte per segment");
	session_free(s);
	report("tlsdec_byte_by_byte");
}

static void
test_wrong_key(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = conv_session(&f);
	struct tls_info	*ti;
	char		*p;

	conv_make(&cv);
	/* The server's application secret, one digit changed. */
	p = strstr(cv.log, "SERVER_TRAFFIC_SECRET_0");
	p = strrchr(p, ' ') + 1;
	*p = *p == '4' ? '5' : '4';
	keys(s, cv.log, 1);
	t_handshake(&f);
	conv_send(&cv, &f, 0);
	t_close(&f);
	session_finish(s, f.us);
	ti = s->conns[0]->tls;
	check(ti->rec_decrypted == 3 && ti->rec_failed == 1 &&
	    ti->dec_error != NULL, "decrypted %llu failed %llu",
	    (unsigned long long)ti->rec_decrypted,
	    (unsigned long long)ti->rec_failed);
	/* The lost response is a gap: no status, never complete. */
	check(s->ntxns == 1 && (s->txns[0]->resp == NULL ||
	    (s->txns[0]->resp->status == 0 && !s->txns[0]->resp->complete)),
	    "the request, and no response made up");
	session_free(s);
	report("tlsdec_wrong_key");
}

/* No keys while it ran: made again from its frames once they come. */
static void
test_rerun(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = conv_session(&f), *again;
	uint64_t	 frames;

	conv_make(&cv);
	t_handshake(&f);
	conv_send(&cv, &f, 0);
	t_close(&f);
	session_finish(s, f.us);
	frames = s->c.frames;
	check(s->ntxns == 0 && s->conns[0]->tls->keyed == 0,
	    "no keys, no transaction");
	check(session_keys_can_rerun(s), "every frame kept");
	keys(s, cv.log, 1);
	again = session_keys_rerun(s);
	session_free(s);
	check(again->id == 1 && again->c.frames == frames,
	    "the same session again: id %u, %llu of %llu frames", again->id,
	    (unsigned long long)again->c.frames, (unsigned long long)frames);
	check_decrypted(again, "made again");
	session_free(again);
	report("tlsdec_rerun");
}

/*
 * The capture lost two whole records of a response sent in five: the
 * sequence number is found again, the response has a gap of exactly
 * their plaintext, and the next request and response are read whole.
 */
static void
test_records_lost(void)
{
	static const char	 head[] = "HTTP/1.1 200 OK\r\n"
				    "Content-Length: 400\r\n\r\n";
	struct conv		 cv;
	struct flow		 f;
	struct session		*s = conv_session(&f);
	struct t13		 cap, sap;
	struct tls_info		*ti;
	u_char			 rec[1024], body[100];
	size_t			 n;
	int			 i;

	conv_handshake(&cv, &cap, &sap);
	n = t13_seal(&cap, 23, (const u_char *)req, strlen(req), rec);
	conv_add(&cv, 1, rec, n);
	n = t13_seal(&sap, 23, (const u_char *)head, strlen(head), rec);
	conv_add(&cv, 0, rec, n);
	/* As OpenSSL sends them: no padding hides in the lost bytes. */
	sap.nopad = 1;
	memset(body, 'b', sizeof(body));
	for (i = 0; i < 4; i++) {
		n = t13_seal(&sap, 23, body, sizeof(body), rec);
		conv_add(&cv, 0, rec, n);
	}
	n = t13_seal(&cap, 23, (const u_char *)req, strlen(req), rec);
	conv_add(&cv, 1, rec, n);
	n = t13_seal(&sap, 23, (const u_char *)resp, strlen(resp), rec);
	conv_add(&cv, 0, rec, n);
	keys(s, cv.log, 1);
	t_handshake(&f);
	/* Up to the head of the response and its first body record. */
	for (i = 0; i < 6; i++)
		t_send(&f, cv.c2s[i], (const char *)cv.rec[i], cv.len[i]);
	/* Two records the capture never saw; the client acknowledges them. */
	f.sseq += (uint32_t)(cv.len[6] + cv.len[7]);
	t_send(&f, 0, (const char *)cv.rec[8], cv.len[8]);
	t_seg(&f, 1, f.cseq, f.sseq, T_ACK, NULL, 0);
	for (i = 9; i < cv.n; i++)
		t_send(&f, cv.c2s[i], (const char *)cv.rec[i], cv.len[i]);
	t_close(&f);
	session_finish(s, f.us);
	ti = s->conns[0]->tls;
	check(ti->resynced == 1 && ti->rec_skipped == 2 &&
	    ti->rec_failed == 0 && ti->rec_decrypted == 8,
	    "resynced %u, not decrypted %llu, failed %llu, decrypted %llu (%s)",
	    ti->resynced, (unsigned long long)ti->rec_skipped,
	    (unsigned long long)ti->rec_failed,
	    (unsigned long long)ti->rec_decrypted,
	    ti->dec_error ? ti->dec_error : "no error");
	check(s->ntxns == 2, "%zu transactions", s->ntxns);
	if (!failed) {
		check(s->txns[0]->resp != NULL && s->txns[0]->resp->status ==
		    200 && s->txns[0]->resp->gapped, "the first response, "
		    "with its gap");
		check(s->txns[1]->resp != NULL && s->txns[1]->resp->status ==
		    200 && s->txns[1]->resp->complete &&
		    !s->txns[1]->resp->gapped, "the second response, whole");
	}
	session_free(s);
	report("tlsdec_records_lost");
}

/* A key log changes nothing for a clear connection beside. */
static void
test_clear_beside(void)
{
	struct conv	 cv;
	struct flow	 f;
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);

	conv_make(&cv);
	keys(s, cv.log, 1);
	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, req);
	t_str(&f, 0, resp);
	t_close(&f);
	session_finish(s, f.us);
	check(s->nconns == 1 && s->conns[0]->tls == NULL && s->ntxns == 1 &&
	    s->txns[0]->resp != NULL && s->txns[0]->resp->status == 200,
	    "one clear transaction");
	session_free(s);
	report("tlsdec_clear_beside");
}

int
main(void)
{
	tlscrypt_init();
	test_keys_first();
	test_keys_late();
	test_byte_by_byte();
	test_wrong_key();
	test_rerun();
	test_records_lost();
	test_clear_beside();
	return (nfail ? 1 : 0);
}
