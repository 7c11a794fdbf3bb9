/*
 * fuzz_dns.c: libFuzzer target for the DNS reader (daemon/engine/dns.c).
 * The input is a sequence of records, [ctl][len] then len bytes of a
 * DNS message. ctl bit 0: sent by the server (a response) or by the
 * client; bit 1: over TCP (with its 2-byte length) or UDP; the rest
 * paces the clock. Each record becomes an Ethernet and IPv4 frame
 * between 10.0.0.1 and 10.0.0.2 port 53. Then a TCP connection to 10.0.0.2 is
 * opened, so that a lookup answering that address gets tied to it,
 * and the session is finished and read every way. The first record is
 * also handed to dns_name directly.
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "engine.h"
#include "fuzzconn.h"
#include "session.h"

#define FUZZ_MAX_MSG	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_be16(u_char *p, size_t v)
{
	p[0] = (u_char)(v >> 8);
	p[1] = (u_char)v;
}

/* Ethernet and IPv4 headers for len bytes of transport after them. */
static size_t
fuzz_ip(u_char *f, int proto, int resp, size_t len)
{
	static const u_char	 cli[4] = { 10, 0, 0, 1 }, srv[4] = { 10, 0, 0, 2 };

	memset(f, 0, 34);
	f[12] = 0x08;
	f += 14;
	f[0] = 0x45;
	fuzz_be16(f + 2, 20 + len);
	f[8] = 64;
	f[9] = (u_char)proto;
	memcpy(f + 12, resp ? srv : cli, 4);
	memcpy(f + 16, resp ? cli : srv, 4);
	return (34);
}

static void
fuzz_message(struct session *s, uint64_t ts, int ctl, const uint8_t *m,
    size_t n)
{
	static u_char	 f[34 + 20 + 2 + FUZZ_MAX_MSG];
	int		 resp = ctl & 1, tcp = ctl & 2;
	size_t		 off, hl = tcp ? 20 : 8;

	off = fuzz_ip(f, tcp ? 6 : 17, resp, hl + (tcp ? 2 : 0) + n);
	memset(f + off, 0, hl);
	fuzz_be16(f + off, resp ? 53 : 40000);
	fuzz_be16(f + off + 2, resp ? 40000 : 53);
	if (tcp) {
		f[off + 12] = 0x50;
		f[off + 13] = 0x18;	/* PSH ACK */
		fuzz_be16(f + off + hl, n);
		hl += 2;
	} else
		fuzz_be16(f + off + 4, 8 + n);
	memcpy(f + off + hl, m, n);
	session_frame(s, ts, f, (uint32_t)(off + hl + n),
	    (uint32_t)(off + hl + n));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session		*s;
	struct fuzz_conn	 fc;
	char			 name[DNS_NAME_MAX];
	uint64_t		 ts = 0;	/* the connection opens at 1 s */
	size_t			 off = 0, n, next;
	int			 len;

	if (size > 2) {
		len = dns_name(data + 2, size - 2, data[1] % (size - 2), name,
		    &next);
		if (len != -1 && ((size_t)len >= DNS_NAME_MAX ||
		    strlen(name) != (size_t)len || next > size - 2))
			abort();
	}
	s = fuzz_session(size > 0 && (data[0] & 4));
	while (off + 2 <= size) {
		n = data[off + 1] * 16;
		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > FUZZ_MAX_MSG)
			n = FUZZ_MAX_MSG;
		ts += (uint64_t)(data[off - 2] >> 2);
		fuzz_message(s, ts, data[off - 2], data + off, n);
		off += n;
	}
	fuzz_open(&fc, s);
	session_finish(s, fc.ts);
	fuzz_drain(s);
	session_free(s);
	return (0);
}
