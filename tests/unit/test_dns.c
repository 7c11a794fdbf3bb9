/*
 * test_dns.c: the engine's DNS reader (daemon/engine/dns.c) on messages
 * built here: names in presentation form with their escapes and
 * compression pointers (and the malformed ones refused), a query paired
 * with its response, connections tied to the latest answer for their
 * server address, an unanswered query, and the cap on lookups.
 */
#include "harness.h"
#include "dns.h"

static size_t
t_qname(u_char *p, const char *name)
{
	size_t	 n = 0, l;
	const char *dot;

	while (*name != '\0') {
		dot = strchr(name, '.');
		l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		p[n++] = (u_char)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot != NULL);
	}
	p[n++] = 0;
	return (n);
}

/* A query (ans NULL) or a response with one A record ans. */
static size_t
t_msg(u_char *p, uint16_t txid, const char *name, const char *ans,
    uint8_t rcode)
{
	size_t	 n = 12;

	memset(p, 0, 12);
	p[0] = txid >> 8;
	p[1] = txid & 0xff;
	p[2] = ans != NULL || rcode ? 0x81 : 0x01;
	p[3] = ans != NULL || rcode ? 0x80 | rcode : 0;
	p[5] = 1;
	p[7] = ans != NULL;
	n += t_qname(p + n, name);
	memcpy(p + n, "\0\1\0\1", 4);
	n += 4;
	if (ans == NULL)
		return (n);
	memcpy(p + n, "\xc0\x0c\0\1\0\1\0\0\1\x2c\0\4", 12);
	n += 12;
	inet_pton(AF_INET, ans, p + n);
	return (n + 4);
}

/* One UDP datagram over Ethernet between the flow's client and port 53. */
static void
t_udp(struct flow *f, int c2s, const u_char *msg, size_t len)
{
	u_char		 buf[2048], *ip;
	size_t		 l2;

	l2 = t_link(f, buf);
	ip = buf + l2;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (u_char)((28 + len) >> 8);
	ip[3] = (u_char)(28 + len);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, c2s ? f->caddr : f->saddr, 4);
	memcpy(ip + 16, c2s ? f->saddr : f->caddr, 4);
	ip[20] = c2s ? 0x9c : 0;
	ip[21] = c2s ? 0x41 : 53;	/* 40001 */
	ip[22] = c2s ? 0 : 0x9c;
	ip[23] = c2s ? 53 : 0x41;
	ip[24] = (u_char)((8 + len) >> 8);
	ip[25] = (u_char)(8 + len);
	memcpy(ip + 28, msg, len);
	session_frame(f->s, f->us, buf, (uint32_t)(l2 + 28 + len),
	    (uint32_t)(l2 + 28 + len));
}

static int
t_name(const u_char *m, size_t len, size_t off, const char *want)
{
	char	 out[DNS_NAME_MAX];
	size_t	 next;
	int	 n;

	n = dns_name(m, len, off, out, &next);
	if (want == NULL)
		return (n == -1);
	return (n >= 0 && strcmp(out, want) == 0);
}

static void
test_names(void)
{
	static const u_char	 plain[] = "\3www\6htracr\4test\0";
	static const u_char	 odd[] = "\3a.b\2\x01\\\0";
	static const u_char	 back[] = "\4test\0\3www\xc0\0";
	static const u_char	 fwd[] = "\3www\xc0\6\0";
	static const u_char	 self[] = "\3www\xc0\4";
	static const u_char	 ext[] = "\x43xx\0";
	u_char			 big[300];
	size_t			 i;

	check(t_name(plain, sizeof(plain), 0, "www.htracr.test"), "plain");
	check(t_name(odd, sizeof(odd), 0, "a\\046b.\\001\\092"), "escapes");
	check(t_name(back, sizeof(back), 6, "www.test"), "pointer back");
	check(t_name(fwd, sizeof(fwd), 0, NULL), "pointer forward taken");
	check(t_name(self, sizeof(self), 0, NULL), "pointer loop taken");
	check(t_name(ext, sizeof(ext), 0, NULL), "extended label taken");
	check(t_name(plain, 8, 0, NULL), "name past the end taken");
	for (i = 0; i + 64 < sizeof(big); i += 64) {
		big[i] = 63;
		memset(big + i + 1, 'x', 63);
	}
	big[i] = 0;
	check(t_name(big, i + 1, 0, NULL), "name over 255 octets taken");
	check(t_name((const u_char *)"\0", 1, 0, "."), "root");
	report("dns_names");
}

static const struct dns_lookup *
t_lookup(struct session *s, uint32_t id)
{
	return (id >= 1 && id <= s->ndns ? s->dns[id - 1] : NULL);
}

static void
test_lookups(void)
{
	struct flow			 f;
	const struct dns_lookup		*l;
	u_char				 m[512];
	size_t				 n;

	t_flow(&f, t_session(DLT_EN10MB, 0, (uint16_t[]){ 80 }, 1),
	    DLT_EN10MB, 0);
	n = t_msg(m, 1, "www.htracr.test", NULL, 0);
	t_udp(&f, 1, m, n);
	f.us += 250;
	n = t_msg(m, 1, "WWW.htracr.test", "192.0.2.2", 0);
	t_udp(&f, 0, m, n);
	n = t_msg(m, 2, "lost.htracr.test", NULL, 0);
	t_udp(&f, 1, m, n);
	f.us += 100000;
	t_handshake(&f);
	t_str(&f, 1, "GET / HTTP/1.1\r\nHost: www.htracr.test\r\n\r\n");
	t_close(&f);
	l = t_lookup(f.s, 1);
	check(f.s->ndns == 2, "%zu lookups, want 2", f.s->ndns);
	check(l != NULL && l->response_us - l->query_us == 250 &&
	    l->nkept == 1 && l->ans[0].ttl == 300 && l->rcode == 0,
	    "lookup 1 not answered as sent");
	check(f.s->conns[0]->dns == 1 && l->conns == 1, "conn 1 tied to %u",
	    f.s->conns[0]->dns);
	l = t_lookup(f.s, 2);
	check(l != NULL && l->response_us == ENGINE_NOTIME, "lookup 2 answered");
	/* A later answer for the same address wins the next connection. */
	n = t_msg(m, 3, "other.htracr.test", NULL, 0);
	t_udp(&f, 1, m, n);
	n = t_msg(m, 3, "other.htracr.test", "192.0.2.2", 0);
	t_udp(&f, 0, m, n);
	f.cport++;
	f.us += 1000;
	t_handshake(&f);
	check(f.s->nconns == 2 && f.s->conns[1]->dns == 3,
	    "conn 2 tied to %u, want 3", f.s->conns[1]->dns);
	check(f.s->c.dns_unmatched == 0 && f.s->c.dns_malformed == 0,
	    "counters %llu %llu", (unsigned long long)f.s->c.dns_unmatched,
	    (unsigned long long)f.s->c.dns_malformed);
	session_free(f.s);
	report("dns_lookups_tied");
}

static void
test_cap(void)
{
	struct flow	 f;
	u_char		 m[512];
	size_t		 n, i;

	t_flow(&f, t_session(DLT_EN10MB, 0, (uint16_t[]){ 80 }, 1),
	    DLT_EN10MB, 0);
	for (i = 0; i < DNS_MAX_LOOKUPS + 5; i++) {
		n = t_msg(m, (uint16_t)i, "many.htracr.test", NULL, 0);
		t_udp(&f, 1, m, n);
		f.us++;
	}
	check(f.s->ndns == DNS_MAX_LOOKUPS && f.s->c.dns_dropped == 5,
	    "%zu kept, %llu dropped", f.s->ndns,
	    (unsigned long long)f.s->c.dns_dropped);
	n = t_msg(m, 9, "many.htracr.test", NULL, 0);
	m[5] = 2;	/* two questions: not read */
	t_udp(&f, 1, m, n);
	check(f.s->c.dns_malformed == 1, "malformed %llu",
	    (unsigned long long)f.s->c.dns_malformed);
	session_free(f.s);
	report("dns_cap");
}

int
main(void)
{
	test_names();
	test_lookups();
	test_cap();
	return (nfail ? 1 : 0);
}
