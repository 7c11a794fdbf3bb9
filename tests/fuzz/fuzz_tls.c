/*
 * fuzz_tls.c: libFuzzer target for the TLS record layer and the
 * handshake messages it reads in clear (tls.c, tlsmsg.c, tlspack.c).
 * The input is a list of records whose headers and handshake lengths
 * the target writes itself, so that mutations land in what the parser
 * reads next rather than in framing it would refuse at once:
 *
 *	[0]		 session: bit 0 keep nothing (as analyze asks), bit 1
 *			 no ClientHello of the target's own first, bit 2 a
 *			 key log for that ClientHello's random first (every
 *			 protected record then goes through decryption, and
 *			 fails it), bits 2 and 3 the session then made again
 *			 from its frames with its keys
 *	then per record: ctl, type, len (2 bytes), len bytes
 *	ctl bit 0	 from the client
 *	ctl bits 1-2	 sequence jump (none, back, ahead, far)
 *	ctl bit 3	 raw: the bytes alone, no record header
 *	ctl bits 4-5	 segments the record is split into, less one
 *	ctl bits 6-7	 tenths of a second before it
 *	type < 0x80	 a record of that content type
 *	type >= 0x80	 a handshake record holding one message of type
 *			 type & 0x7f
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzzconn.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* TLS 1.2 and 1.3 offered, SNI fuzz.example, ALPN h2 and http/1.1. */
static const uint8_t fuzz_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x61,
	0x01, 0x00, 0x00, 0x5d, 0x03, 0x03,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x00, 0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f, 0x01, 0x00,
	0x00, 0x30,
	0x00, 0x00, 0x00, 0x11, 0x00, 0x0f, 0x00, 0x00, 0x0c,
	'f', 'u', 'z', 'z', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
	0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
	0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03,
};

/* Secrets for client random 11..11, one line of each kind. */
#define FUZZ_CR	"1111111111111111111111111111111111111111111111111111111111111111"
#define FUZZ_S32 "2222222222222222222222222222222222222222222222222222222222222222"
static const char fuzz_keys[] =
    "CLIENT_RANDOM " FUZZ_CR " " FUZZ_S32 FUZZ_S32 "\n"
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET " FUZZ_CR " " FUZZ_S32 "\n"
    "SERVER_HANDSHAKE_TRAFFIC_SECRET " FUZZ_CR " " FUZZ_S32 "\n"
    "CLIENT_TRAFFIC_SECRET_0 " FUZZ_CR " " FUZZ_S32 "\n"
    "SERVER_TRAFFIC_SECRET_0 " FUZZ_CR " " FUZZ_S32 "\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 rec[5 + 4 + 65536];
	struct fuzz_conn	 fc;
	struct session		*s, *again;
	size_t			 off = 1, len, n;
	uint8_t			 ctl, type;

	if (size < 1)
		return (0);
	s = fuzz_session(data[0] & 1);
	if (data[0] & 4)
		(void)session_keys_add(s, (const u_char *)fuzz_keys,
		    sizeof(fuzz_keys) - 1, 1);
	fuzz_open(&fc, s);
	if (!(data[0] & 2))
		fuzz_send(&fc, 1, 0, 1, 0, fuzz_hello, sizeof(fuzz_hello));
	while (off + 4 <= size) {
		ctl = data[off];
		type = data[off + 1];
		len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		n = 0;
		if (!(ctl & 8)) {
			if (type & 0x80) {
				rec[0] = 22;
				rec[5] = type & 0x7f;
				rec[6] = (uint8_t)(len >> 16);
				rec[7] = (uint8_t)(len >> 8);
				rec[8] = (uint8_t)len;
				n = 9;
			} else {
				rec[0] = type;
				n = 5;
			}
			rec[1] = 3;
			rec[2] = 3;
			rec[3] = (uint8_t)((len + n - 5) >> 8);
			rec[4] = (uint8_t)(len + n - 5);
		}
		memcpy(rec + n, data + off, len);
		fuzz_send(&fc, ctl & 1, (ctl >> 1) & 3, ((ctl >> 4) & 3) + 1,
		    ctl >> 6, rec, n + len);
		off += len;
	}
	session_finish(s, fc.ts + 1);
	if ((data[0] & 12) == 12 && session_keys_can_rerun(s)) {
		again = session_keys_rerun(s);
		session_free(s);
		s = again;
	}
	fuzz_drain(s);
	session_free(s);
	return (0);
}
