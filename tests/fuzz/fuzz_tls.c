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
 *			 from its frames with its keys, bit 4 sealed (below),
 *			 bit 5 with bit 4: ChaCha20-Poly1305, else AES-128-GCM
 *	then per record: ctl, type, len (2 bytes), len bytes
 *	ctl bit 0	 from the client
 *	ctl bits 1-2	 sequence jump (none, back, ahead, far)
 *	ctl bit 3	 raw: the bytes alone, no record header
 *	ctl bits 4-5	 segments the record is split into, less one
 *	ctl bits 6-7	 tenths of a second before it
 *	type < 0x80	 a record of that content type
 *	type >= 0x80	 a handshake record holding one message of type
 *			 type & 0x7f
 *
 * Sealed (bit 4): the key log is given, the target's ClientHello and a
 * TLS 1.3 ServerHello choosing the suite go first, and every record
 * that is not raw is sealed here with the keys the key log's secrets
 * give (all secrets are equal, so the epochs differ only in their
 * sequence numbers), so that mutations reach what decryption yields:
 * EncryptedExtensions with ALPN, Finished, key updates, alerts and
 * HTTP/1.x or HTTP/2 inside. Then type is
 *	bit 7		 this direction's sequence restarts at 0 first (a
 *			 new epoch)
 *	bit 6		 a handshake message of type type & 0x3f, its header
 *			 written by the target
 *	else		 the inner content type, type & 0x3f
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzzconn.h"
#include "session.h"
#include "tlscrypt.h"
#include "tlsseal.h"

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

/* TLS 1.3 with the suite (cipher) filled in; no retry, no PSK. */
static uint8_t fuzz_server_hello[] = {
	0x16, 0x03, 0x03, 0x00, 0x5a,
	0x02, 0x00, 0x00, 0x56, 0x03, 0x03,
	0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	0x00, 0x13, 0x01, 0x00, 0x00, 0x2e,
	0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
	0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
};
#define FUZZ_SH_CIPHER	45		/* offset of the suite's low byte */

/* The two senders of a sealed session: [0] server, [1] client. */
static struct t13	 fuzz_dir[2];

static void
fuzz_seal_start(int chacha)
{
	int	 d;

	fuzz_server_hello[FUZZ_SH_CIPHER] = chacha ? 0x03 : 0x01;
	for (d = 0; d < 2; d++) {
		memset(&fuzz_dir[d], 0, sizeof(fuzz_dir[d]));
		fuzz_dir[d].aead = chacha ? 2 : 0;
		memset(fuzz_dir[d].secret, 0x22, 32);
		fuzz_dir[d].slen = 32;
		t13_keys(&fuzz_dir[d]);
	}
}

/*
 * One sealed record into rec from the record the plain path built
 * there (rec[0] its type, its body from rec + 5); its new length.
 */
static size_t
fuzz_seal(struct t13 *t, uint8_t *rec, size_t n)
{
	static uint8_t	 inner[4 + 65536 + 1];
	uint8_t		 nonce[12];
	size_t		 len = n - 5;

	memcpy(inner, rec + 5, len);
	inner[len++] = rec[0];
	rec[0] = 23;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)((len + 16) >> 8);
	rec[4] = (uint8_t)(len + 16);
	t_xor_seq(nonce, t->iv, t->seq++);
	t_seal(t->aead, t->key, nonce, rec, 5, inner, len, rec + 5);
	return (5 + len + 16);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 rec[5 + 4 + 65536 + 1 + 16];
	static int		 init;
	struct fuzz_conn	 fc;
	struct session		*s, *again;
	size_t			 off = 1, len, n;
	uint8_t			 ctl, type;
	int			 sealed;

	if (size < 1)
		return (0);
	if (!init) {
		tlscrypt_init();
		init = 1;
	}
	sealed = (data[0] & 0x10) != 0;
	s = fuzz_session(data[0] & 1);
	if (data[0] & 4 || sealed)
		(void)session_keys_add(s, (const u_char *)fuzz_keys,
		    sizeof(fuzz_keys) - 1, 1);
	fuzz_open(&fc, s);
	if (!(data[0] & 2) || sealed)
		fuzz_send(&fc, 1, 0, 1, 0, fuzz_hello, sizeof(fuzz_hello));
	if (sealed) {
		fuzz_seal_start(data[0] & 0x20);
		fuzz_send(&fc, 0, 0, 1, 0, fuzz_server_hello,
		    sizeof(fuzz_server_hello));
	}
	while (off + 4 <= size) {
		ctl = data[off];
		type = data[off + 1];
		len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		n = 0;
		if (sealed && !(ctl & 8)) {
			if (len > 16384)
				len = 16384;	/* a record's plaintext */
			if (type & 0x80)
				fuzz_dir[ctl & 1].seq = 0;
			/* The plain path's handshake message, or type. */
			type = type & 0x40 ? 0x80 | (type & 0x3f) :
			    type & 0x3f;
		}
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
		n += len;
		if (sealed && !(ctl & 8))
			n = fuzz_seal(&fuzz_dir[ctl & 1], rec, n);
		fuzz_send(&fc, ctl & 1, (ctl >> 1) & 3, ((ctl >> 4) & 3) + 1,
		    ctl >> 6, rec, n);
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
