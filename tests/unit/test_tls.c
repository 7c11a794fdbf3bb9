/*
 * test_tls.c: unit tests of the TLS record layer and handshake reading
 * (daemon/engine/tls.c, tlsmsg.c, tlspack.c). Each case builds the records of a
 * handshake by hand, sends them as TCP segments cut in chosen places
 * (byte by byte, many per segment, with holes) and checks what the
 * engine made of them. One line per case, as test_engine.c.
 */
#include "harness.h"
#include "tcp.h"
#include "tls.h"

/* A message under construction, with length prefixes filled in later. */
struct tb {
	u_char	 b[8192];
	size_t	 n;
	size_t	 open[8];	/* offsets of unfilled length fields */
	int	 size[8];
	int	 depth;
};

static void
tb_put(struct tb *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void
tb_u(struct tb *t, uint32_t v, int size)
{
	int	 i;

	for (i = size - 1; i >= 0; i--)
		t->b[t->n++] = (u_char)(v >> (8 * i));
}

/* Opens a vector with a size-byte length; tb_end fills it. */
static void
tb_begin(struct tb *t, int size)
{
	t->open[t->depth] = t->n;
	t->size[t->depth++] = size;
	t->n += (size_t)size;
}

static void
tb_end(struct tb *t)
{
	size_t	 at = t->open[--t->depth];
	int	 size = t->size[t->depth], i;
	size_t	 len = t->n - at - (size_t)size;

	for (i = 0; i < size; i++)
		t->b[at + (size_t)i] = (u_char)(len >> (8 * (size - 1 - i)));
}

/* A record of type around the bytes of m (may be NULL: n zero bytes). */
static size_t
t_record(u_char *out, uint8_t type, const void *m, size_t n)
{
	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (u_char)(n >> 8);
	out[4] = (u_char)n;
	if (m != NULL)
		memcpy(out + 5, m, n);
	else
		memset(out + 5, 0xaa, n);
	return (n + 5);
}

static void
t_ext(struct tb *t, uint16_t type)
{
	tb_u(t, type, 2);
	tb_begin(t, 2);
}

/* A ClientHello with every extension tlsmsg.c reads. */
static void
t_client_hello(struct tb *t, const char *sni)
{
	static const u_char	 sid[32] = { 7, 7, 7 };
	u_char			 rnd[32];

	memset(t, 0, sizeof(*t));
	memset(rnd, 0x11, sizeof(rnd));
	tb_u(t, 1, 1);
	tb_begin(t, 3);
	tb_u(t, 0x0303, 2);
	tb_put(t, rnd, 32);
	tb_u(t, 32, 1);
	tb_put(t, sid, 32);
	tb_begin(t, 2);
	tb_u(t, 0x1301, 2);
	tb_u(t, 0x1302, 2);
	tb_u(t, 0xc02f, 2);
	tb_end(t);
	tb_u(t, 1, 1);
	tb_u(t, 0, 1);
	tb_begin(t, 2);			/* extensions */
	t_ext(t, 0);			/* server_name */
	tb_begin(t, 2);
	tb_u(t, 0, 1);
	tb_begin(t, 2);
	tb_put(t, sni, strlen(sni));
	tb_end(t);
	tb_end(t);
	tb_end(t);
	t_ext(t, 16);			/* ALPN */
	tb_begin(t, 2);
	tb_u(t, 2, 1);
	tb_put(t, "h2", 2);
	tb_u(t, 8, 1);
	tb_put(t, "http/1.1", 8);
	tb_end(t);
	tb_end(t);
	t_ext(t, 43);			/* supported_versions, with GREASE */
	tb_begin(t, 1);
	tb_u(t, 0x0a0a, 2);
	tb_u(t, 0x0304, 2);
	tb_u(t, 0x0303, 2);
	tb_end(t);
	tb_end(t);
	t_ext(t, 35);			/* a session ticket */
	tb_put(t, "ticket", 6);
	tb_end(t);
	t_ext(t, 42);			/* early_data */
	tb_end(t);
	t_ext(t, 41);			/* pre_shared_key, last */
	tb_put(t, "\0\0", 2);
	tb_end(t);
	tb_end(t);
	tb_end(t);
}

/* A TLS 1.3 ServerHello that accepts the PSK. */
static void
t_server_hello(struct tb *t)
{
	u_char	 rnd[32];

	memset(t, 0, sizeof(*t));
	memset(rnd, 0x22, sizeof(rnd));
	tb_u(t, 2, 1);
	tb_begin(t, 3);
	tb_u(t, 0x0303, 2);
	tb_put(t, rnd, 32);
	tb_u(t, 0, 1);
	tb_u(t, 0x1301, 2);
	tb_u(t, 0, 1);
	tb_begin(t, 2);
	t_ext(t, 43);
	tb_u(t, 0x0304, 2);
	tb_end(t);
	t_ext(t, 41);
	tb_u(t, 0, 2);
	tb_end(t);
	tb_end(t);
	tb_end(t);
}

/* Sends buf as segments of at most step bytes. */
static void
t_cut(struct flow *f, int c2s, const u_char *buf, size_t len, size_t step)
{
	size_t	 off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		t_send(f, c2s, (const char *)buf + off, n);
	}
}

static struct tls_info *
t_tls(struct session *s)
{
	return (s->nconns > 0 ? s->conns[0]->tls : NULL);
}

/*
 * A whole TLS 1.3 resumption with early data offered: client flight,
 * server flight (hello, CCS, protected records), client's protected
 * records, each record list cut into segments of step bytes.
 */
static struct session *
t_flight13(size_t step, const uint16_t *ports, size_t nports)
{
	struct session	*s = t_session(DLT_EN10MB, 0, ports, nports);
	struct flow	 f;
	struct tb	 ch, sh;
	u_char		 buf[8192];
	size_t		 n;

	t_flow(&f, s, DLT_EN10MB, 0);
	f.sport = 443;
	t_handshake(&f);
	t_client_hello(&ch, "www.example.com");
	t_server_hello(&sh);
	n = t_record(buf, 22, ch.b, ch.n);
	t_cut(&f, 1, buf, n, step);
	n = t_record(buf, 22, sh.b, sh.n);
	n += t_record(buf + n, 20, "\1", 1);
	n += t_record(buf + n, 23, NULL, 900);
	n += t_record(buf + n, 23, NULL, 60);
	t_cut(&f, 0, buf, n, step);
	n = t_record(buf, 20, "\1", 1);
	n += t_record(buf + n, 23, NULL, 53);	/* Finished */
	n += t_record(buf + n, 23, NULL, 300);	/* a request */
	t_cut(&f, 1, buf, n, step);
	n = t_record(buf, 23, NULL, 2000);
	n += t_record(buf + n, 21, "\1\0", 2);	/* cleartext in 1.3: read */
	t_cut(&f, 0, buf, n, step);
	t_close(&f);
	session_finish(s, f.us);
	return (s);
}

static void
t_check13(struct session *s)
{
	struct tls_info	*ti = t_tls(s);

	check(ti != NULL, "no tls");
	if (ti == NULL)
		return;
	check(ti->sni != NULL && strcmp(ti->sni, "www.example.com") == 0,
	    "sni %s", ti->sni ? ti->sni : "(null)");
	check(ti->alpn_offered_len == 12 &&
	    memcmp(ti->alpn_offered, "\2h2\10http/1.1", 12) == 0, "alpn offered");
	check(ti->alpn == NULL, "alpn chosen must be unknown in 1.3");
	check(ti->version == 0x0304 && ti->client_version == 0x0303,
	    "version %04x", ti->version);
	check(ti->cipher == 0x1301 && ti->nciphers == 3, "cipher %04x",
	    ti->cipher);
	check(ti->noffered == 3 && ti->offered[0] == 0x0a0a &&
	    ti->offered[1] == 0x0304, "supported_versions");
	check(ti->ticket_offered && ti->psk_offered && ti->early_data &&
	    ti->psk_accepted == 1 && ti->id_echoed == TLS_UNKNOWN,
	    "resumption %d %d %d %d", ti->ticket_offered, ti->psk_offered,
	    ti->early_data, ti->psk_accepted);
	check(ti->hello_us != ENGINE_NOTIME && ti->done_us != ENGINE_NOTIME &&
	    ti->done_us >= ti->server_hello_us && ti->server_hello_us >
	    ti->hello_us, "times");
	check(ti->round_trips == 1, "round trips %u", ti->round_trips);
	check(ti->d[DIR_C2S].records[2] == 1 && ti->d[DIR_C2S].records[0] == 1 &&
	    ti->d[DIR_C2S].records[3] == 2, "client records");
	check(ti->d[DIR_S2C].records[2] == 1 && ti->d[DIR_S2C].records[3] == 3 &&
	    ti->d[DIR_S2C].records[1] == 1, "server records");
	check(ti->d[DIR_C2S].bytes[3] == 53 + 300 + 10, "client app bytes %llu",
	    (unsigned long long)ti->d[DIR_C2S].bytes[3]);
	check(ti->nalerts == 1 && ti->alerts[0].level == 1 &&
	    ti->alerts[0].desc == 0 && !ti->alerts[0].encrypted, "alert");
	check(ti->error == NULL && ti->resyncs == 0, "error %s",
	    ti->error ? ti->error : "");
	check(s->ntxns == 0 && !(s->conns[0]->flags & CONN_F_NOT_HTTP),
	    "txns %zu flags %x", s->ntxns, s->conns[0]->flags);
	check(s->servers[0]->name != NULL &&
	    strcmp(s->servers[0]->name, "www.example.com") == 0,
	    "server named by SNI");
}

static void
test_tls13(void)
{
	static const uint16_t	 port = 443;
	struct session		*s;

	s = t_flight13(1400, NULL, 0);
	t_check13(s);
	session_free(s);
	report("tls13_every_extension");
	s = t_flight13(1400, &port, 1);
	t_check13(s);
	session_free(s);
	report("tls13_ports");
}

/* Every record split byte by byte, and a few at odd places. */
static void
test_split(void)
{
	struct session	*s;
	size_t		 steps[] = { 1, 2, 3, 7, 64 }, i;
	char		 name[32];

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		s = t_flight13(steps[i], NULL, 0);
		t_check13(s);
		session_free(s);
		snprintf(name, sizeof(name), "tls_split_%zu", steps[i]);
		report(name);
	}
}

/* One ClientHello in four records, the records cut across segments. */
static void
test_fragmented_hello(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct flow	 f;
	struct tb	 ch;
	u_char		 buf[8192];
	size_t		 n = 0, off, part;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_client_hello(&ch, "frag.example");
	for (off = 0; off < ch.n; off += part) {
		part = off == 0 ? 3 : (ch.n - off) / 2 + 1;
		if (part > ch.n - off)
			part = ch.n - off;
		n += t_record(buf + n, 22, ch.b + off, part);
	}
	t_send(&f, 1, (const char *)buf, 10);
	t_send(&f, 1, (const char *)buf + 10, 100);
	t_send(&f, 1, (const char *)buf + 110, n - 110);
	t_close(&f);
	session_finish(s, f.us);
	check(t_tls(s) != NULL && t_tls(s)->sni != NULL &&
	    strcmp(t_tls(s)->sni, "frag.example") == 0, "sni");
	check(t_tls(s) != NULL && t_tls(s)->d[DIR_C2S].records[2] >= 3,
	    "handshake records");
	session_free(s);
	report("tls_hello_over_records");
}

/*
 * A hole inside the ClientHello record: the record's framing holds, so
 * the server's records are read and the client's next record counted,
 * but nothing of the hello is guessed. A hole across a record boundary
 * loses framing until a header the next one confirms.
 */
static void
test_gap(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct flow	 f;
	struct tb	 ch, sh;
	struct tls_info	*ti;
	u_char		 buf[8192];
	size_t		 n;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_client_hello(&ch, "lost.example");
	n = t_record(buf, 22, ch.b, ch.n);
	t_send(&f, 1, (const char *)buf, 20);
	f.cseq += 30;				/* the capture lost these */
	t_send(&f, 1, (const char *)buf + 50, n - 50);
	t_server_hello(&sh);
	n = t_record(buf, 22, sh.b, sh.n);	/* its ACK skips the hole */
	t_send(&f, 0, (const char *)buf, n);
	n = t_record(buf, 23, NULL, 500);
	n += t_record(buf + n, 23, NULL, 500);
	n += t_record(buf + n, 23, NULL, 40);
	t_send(&f, 1, (const char *)buf, 200);
	f.cseq += 400;				/* across the first boundary */
	t_send(&f, 1, (const char *)buf + 600, n - 600);
	t_send(&f, 0, (const char *)buf, 10);	/* acks past the hole */
	t_close(&f);
	session_finish(s, f.us);
	ti = t_tls(s);
	check(ti != NULL, "no tls");
	if (ti != NULL) {
		check(ti->sni == NULL && !ti->has_hello, "hello read after a gap");
		check(ti->has_server_hello && ti->version == 0x0304,
		    "server hello");
		check(ti->hello_us != ENGINE_NOTIME, "hello time");
		check(ti->error != NULL, "no error");
		check(ti->resyncs == 1, "resyncs %u", ti->resyncs);
		/* The first, and the third found again; the second's
		 * header was in the hole. */
		check(ti->d[DIR_C2S].records[3] == 2, "app records %llu",
		    (unsigned long long)ti->d[DIR_C2S].records[3]);
	}
	check(s->conns[0]->d[DIR_C2S].gaps == 2, "gaps %llu",
	    (unsigned long long)s->conns[0]->d[DIR_C2S].gaps);
	session_free(s);
	report("tls_gap");
}

/* Lengths that lie: a record, a handshake message, an extension. */
static void
test_hostile(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct flow	 f;
	struct tb	 ch;
	u_char		 buf[8192];
	size_t		 n, mem;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_client_hello(&ch, "x");
	ch.b[ch.n - 18] = 0xff;			/* an extension overruns */
	n = t_record(buf, 22, ch.b, ch.n);
	t_send(&f, 1, (const char *)buf, n);
	/* A message claiming 16 MiB, then a record claiming 64 KiB. */
	t_send(&f, 0, "\x16\x03\x03\x00\x08\x02\xff\xff\xff\0\0\0\0", 13);
	mem = s->mem;
	t_send(&f, 0, "\x17\x03\x03\xff\xff" "0123456789", 15);
	t_send(&f, 0, "\x17\x03\x03\x00\x02" "ab\x17\x03\x03\x00\x01" "c",
	    13);
	t_close(&f);
	session_finish(s, f.us);
	check(t_tls(s) != NULL && t_tls(s)->error != NULL, "no error");
	check(t_tls(s) != NULL && t_tls(s)->sni != NULL &&
	    strcmp(t_tls(s)->sni, "x") == 0, "sni before the bad extension");
	check(t_tls(s) != NULL && !t_tls(s)->has_server_hello,
	    "a cut server hello read");
	check(t_tls(s) != NULL && t_tls(s)->resyncs == 1 &&
	    t_tls(s)->d[DIR_S2C].records[3] == 2, "resync after the bad header");
	check(s->mem <= mem + 1024, "memory grew by %zu", s->mem - mem);
	session_free(s);
	report("tls_hostile_lengths");
}

struct t_sink {
	int	 n;
	int	 prot;
	int	 dirs;
	size_t	 bytes;
	int	 ok;
};

static void
t_sink_fn(void *arg, struct tls_conn *tc, int dir, const struct tls_record *r)
{
	struct t_sink	*k = arg;
	size_t		 i;

	k->n++;
	if (!r->prot) {
		if (r->type != 20 || r->rec == NULL || r->rec[5] != 1)
			k->ok = 0;
		return;
	}
	k->prot++;
	k->dirs |= 1 << dir;
	k->bytes += r->len;
	if (r->rec == NULL || r->damaged || r->lost || r->rec[0] != 23 ||
	    (r->rec[3] << 8 | r->rec[4]) != r->len)
		k->ok = 0;
	for (i = 0; r->rec != NULL && i < r->len; i++)
		if (r->rec[5 + i] != 0xaa)
			k->ok = 0;
	if (tls_conn_hello(tc)->has_client_random == 0)
		k->ok = 0;
}

/* A sink gets every record whole, however it was cut. */
static void
test_sink(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct flow	 f;
	struct tb	 ch;
	struct t_sink	 k = { 0, 0, 0, 0, 1 };
	u_char		 buf[20000];
	size_t		 n;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_client_hello(&ch, "sink");
	n = t_record(buf, 22, ch.b, ch.n);
	t_send(&f, 1, (const char *)buf, n);
	check(s->conns[0]->live != NULL && s->conns[0]->live->tls != NULL,
	    "no live tls");
	if (s->conns[0]->live != NULL && s->conns[0]->live->tls != NULL)
		tls_set_sink(s->conns[0]->live->tls, t_sink_fn, &k);
	n = t_record(buf, 20, "\1", 1);
	n += t_record(buf + n, 23, NULL, 16384);
	n += t_record(buf + n, 23, NULL, 7);
	t_cut(&f, 0, buf, n, 1448);
	n = t_record(buf, 23, NULL, 33);
	t_cut(&f, 1, buf, n, 1);
	t_close(&f);
	session_finish(s, f.us);
	check(k.n == 4 && k.prot == 3 && k.dirs == 3 &&
	    k.bytes == 16384 + 7 + 33 && k.ok,
	    "sink got %d records (%d protected), %zu bytes, ok %d", k.n,
	    k.prot, k.bytes, k.ok);
	session_free(s);
	report("tls_sink_records");
}

/* HTTP beside TLS parses as before; a server's 0x16 is not TLS. */
static void
test_not_tls(void)
{
	struct session	*s = t_session(DLT_EN10MB, 0, NULL, 0);
	struct flow	 f;

	t_flow(&f, s, DLT_EN10MB, 0);
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	t_str(&f, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	t_close(&f);
	f.cport++;
	t_handshake(&f);
	t_send(&f, 0, "\x16\x03\x03\x00\x01\x02", 6);
	t_close(&f);
	session_finish(s, f.us);
	check(s->ntxns == 1 && s->conns[0]->tls == NULL, "http connection");
	check(s->nconns == 2 && s->conns[1]->tls == NULL &&
	    (s->conns[1]->flags & CONN_F_NOT_HTTP), "server-first bytes");
	session_free(s);
	report("tls_http_unchanged");
}

int
main(void)
{
	test_tls13();
	test_split();
	test_fragmented_hello();
	test_gap();
	test_hostile();
	test_sink();
	test_not_tls();
	return (nfail ? 1 : 0);
}
