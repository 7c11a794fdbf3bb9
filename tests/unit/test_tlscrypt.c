/*
 * test_tlscrypt.c: unit tests of the key log reader (daemon/engine/keylog.c)
 * and record decryption (daemon/engine/tlscrypt.c). TLS 1.3 is checked against
 * the published trace of RFC 8448 section 3 (its secrets and records);
 * the other suites, key updates and TLS 1.2 against records this file
 * seals itself, with keys it derives by its own HMAC-based HKDF and PRF
 * (the PRF first checked against the TLS 1.2 test vector circulated on
 * the TLS working group's list). One line per case.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "keylog.h"
#include "tlscrypt.h"
#include "tlsseal.h"

#include "check.h"

/* Hex (spaces allowed) into out; returns the bytes. */
static size_t
unhex(const char *s, u_char *out, size_t max)
{
	size_t	 n = 0;
	unsigned int v;

	while (*s != '\0' && n < max) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (u_char)v;
		s += 2;
	}
	return (n);
}

static size_t
feed_str(struct keylog *kl, const char *s)
{
	return (keylog_feed(kl, (const u_char *)s, strlen(s)));
}

/* ------------------------------------------------------------------ */
/* RFC 8448 section 3, "Simple 1-RTT Handshake". */

static const char rfc_client_random[] =
    "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";
static const char rfc_chts[] =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc_shts[] =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char rfc_cats[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
static const char rfc_sats[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

/* The server's encrypted flight: EncryptedExtensions to Finished. */
static const char rfc_server_flight[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b";
/* Its last message, the server's Finished, in clear. */
static const char rfc_server_finished[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";
static const char rfc_client_finished_rec[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546";
static const char rfc_client_finished[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
static const char rfc_client_data_rec[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";
/* The server's data follows its NewSessionTicket (sequence 0). */
static const char rfc_server_data_rec[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";
static const char rfc_client_alert_rec[] =
    "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";
static const char rfc_server_alert_rec[] =
    "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

static char rfc_log[2048];

static void
rfc_keylog(void)
{
	snprintf(rfc_log, sizeof(rfc_log),
	    "# RFC 8448, simple 1-RTT handshake\n"
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
	    "SERVER_TRAFFIC_SECRET_0 %s %s\n"
	    "EXPORTER_SECRET %s %s\n",
	    rfc_client_random, rfc_chts, rfc_client_random, rfc_shts,
	    rfc_client_random, rfc_cats, rfc_client_random, rfc_sats,
	    rfc_client_random, rfc_sats);
}

/* Decrypts one record given in hex; the result, plaintext in out. */
static int
open_hex(struct tlscrypt *tc, int dir, const char *hex, u_char *out,
    size_t *outlen, uint8_t *type)
{
	u_char	 rec[1024];
	size_t	 n = unhex(hex, rec, sizeof(rec));

	return (tlscrypt_record(tc, dir, rec, n, out, outlen, type));
}

static int
same_hex(const u_char *p, size_t n, const char *hex)
{
	u_char	 want[1024];
	size_t	 wn = unhex(hex, want, sizeof(want));

	return (wn == n && memcmp(p, want, n) == 0);
}

static struct tlscrypt *
rfc_conn(struct keylog *kl)
{
	u_char		 cr[32];
	struct tlscrypt	*tc;

	unhex(rfc_client_random, cr, sizeof(cr));
	tc = tlscrypt_new(TLSCRYPT_V13, 0x1301, cr, NULL, 0);
	if (tc != NULL && kl != NULL)
		tlscrypt_secrets(tc, keylog_find(kl, cr));
	return (tc);
}

static void
test_rfc8448(void)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	u_char		 out[1024], data[50];
	size_t		 n, i;
	uint8_t		 type;
	int		 rc;

	rfc_keylog();
	check(feed_str(kl, rfc_log) == 4, "4 secrets from the log");
	tc = rfc_conn(kl);
	check(tc != NULL, "TLS_AES_128_GCM_SHA256 is supported");
	if (tc == NULL)
		goto out;
	rc = open_hex(tc, 1, rfc_server_flight, out, &n, &type);
	check(rc == TLSCRYPT_OK, "server flight: result %d", rc);
	check(type == 22 && n == 0x2a2 - 17, "server flight: type %u len %zu",
	    type, n);
	check(n > 36 && same_hex(out + n - 36, 36, rfc_server_finished),
	    "server flight ends with its Finished");
	check(out[0] == 8, "server flight starts with EncryptedExtensions");
	rc = open_hex(tc, 0, rfc_client_finished_rec, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 22 &&
	    same_hex(out, n, rfc_client_finished), "client Finished: %d", rc);
	rc = open_hex(tc, 0, rfc_client_data_rec, out, &n, &type);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (u_char)i;
	check(rc == TLSCRYPT_OK && type == 23 && n == 50 &&
	    memcmp(out, data, 50) == 0, "client data: %d len %zu", rc, n);
	tlscrypt_skip(tc, 1);		/* the NewSessionTicket */
	rc = open_hex(tc, 1, rfc_server_data_rec, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 23 && n == 50 &&
	    memcmp(out, data, 50) == 0, "server data: %d len %zu", rc, n);
	rc = open_hex(tc, 0, rfc_client_alert_rec, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 21 && same_hex(out, n, "0100"),
	    "client close_notify: %d", rc);
	rc = open_hex(tc, 1, rfc_server_alert_rec, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 21 && same_hex(out, n, "0100"),
	    "server close_notify: %d", rc);
	tlscrypt_free(tc);
out:
	keylog_free(kl);
	report("tlscrypt_rfc8448");
}

/* A flipped bit in a secret or in a record: failed, never plaintext. */
static void
test_wrong_key(void)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	u_char		 out[1024], rec[1024];
	char		 bad[65], line[512];
	size_t		 n, rn;
	uint8_t		 type;
	int		 rc;

	memcpy(bad, rfc_shts, sizeof(bad));
	bad[0] = bad[0] == 'b' ? 'c' : 'b';
	snprintf(line, sizeof(line), "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n",
	    rfc_client_random, bad, rfc_client_random, rfc_chts);
	feed_str(kl, line);
	tc = rfc_conn(kl);
	rc = open_hex(tc, 1, rfc_server_flight, out, &n, &type);
	check(rc == TLSCRYPT_FAILED, "wrong server secret: result %d", rc);
	/* The right client key, a record with one bit changed. */
	rn = unhex(rfc_client_finished_rec, rec, sizeof(rec));
	rec[20] ^= 0x01;
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_FAILED, "tampered record: result %d", rc);
	/* The sequence number moved on: the untouched record fails too. */
	rc = open_hex(tc, 0, rfc_client_finished_rec, out, &n, &type);
	check(rc == TLSCRYPT_FAILED, "record at the wrong sequence: %d", rc);
	/* Too short to hold a tag. */
	rc = tlscrypt_record(tc, 0, rec, 10, out, &n, &type);
	check(rc == TLSCRYPT_FAILED, "short record: %d", rc);
	tlscrypt_free(tc);
	keylog_free(kl);
	report("tlscrypt_wrong_key");
}

/* Secrets that come after the records: NOKEY, then the same record. */
static void
test_late_keys(void)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	u_char		 out[1024], cr[32];
	size_t		 n;
	uint8_t		 type;
	int		 rc;

	tc = rfc_conn(NULL);
	rc = open_hex(tc, 1, rfc_server_flight, out, &n, &type);
	check(rc == TLSCRYPT_NOKEY, "no secrets: result %d", rc);
	rfc_keylog();
	/* The log arrives cut in the middle of a line. */
	keylog_feed(kl, (const u_char *)rfc_log, 150);
	unhex(rfc_client_random, cr, sizeof(cr));
	tlscrypt_secrets(tc, keylog_find(kl, cr));
	rc = open_hex(tc, 1, rfc_server_flight, out, &n, &type);
	check(rc == TLSCRYPT_NOKEY, "half a log: result %d", rc);
	keylog_feed(kl, (const u_char *)rfc_log + 150, strlen(rfc_log) - 150);
	tlscrypt_secrets(tc, keylog_find(kl, cr));
	rc = open_hex(tc, 1, rfc_server_flight, out, &n, &type);
	check(rc == TLSCRYPT_OK, "whole log: result %d", rc);
	tlscrypt_free(tc);
	keylog_free(kl);
	report("tlscrypt_late_keys");
}

/* ------------------------------------------------------------------ */
/* Sealing records here (tlsseal.h), with keys derived here. */

/* P_hash of RFC 5246 5 over label + seed. */
static void
t_prf(int sha384, const u_char *secret, size_t slen, const char *label,
    const u_char *seed, size_t seedlen, u_char *out, size_t outlen)
{
	const EVP_MD	*md = md_of(sha384);
	u_char		 ls[256], a[64], buf[64 + 256], t[64];
	size_t		 lslen, done = 0, k;
	unsigned int	 alen, tl;

	lslen = strlen(label);
	memcpy(ls, label, lslen);
	memcpy(ls + lslen, seed, seedlen);
	lslen += seedlen;
	HMAC(md, secret, (int)slen, ls, lslen, a, &alen);
	while (done < outlen) {
		memcpy(buf, a, alen);
		memcpy(buf + alen, ls, lslen);
		HMAC(md, secret, (int)slen, buf, alen + lslen, t, &tl);
		k = outlen - done < tl ? outlen - done : tl;
		memcpy(out + done, t, k);
		done += k;
		HMAC(md, secret, (int)slen, a, alen, a, &alen);
	}
}

/*
 * A TLS 1.3 connection of one suite: the client's Finished under its
 * handshake secret, data under its application secret, a KeyUpdate,
 * data under the next secret.
 */
static void
t13_suite(uint16_t suite, int aead, int sha384)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	struct t13	 hs, ap;
	u_char		 cr[32], rec[2048], out[2048], fin[4 + 48];
	u_char		 ku[5] = { 24, 0, 0, 1, 0 };
	char		 log[1024], hcr[65], hh[97], ha[97];
	size_t		 rn, n, slen = sha384 ? 48 : 32;
	uint8_t		 type;
	int		 rc;

	memset(cr, 0x5a, sizeof(cr));
	memset(&hs, 0, sizeof(hs));
	memset(&ap, 0, sizeof(ap));
	hs.aead = ap.aead = aead;
	hs.sha384 = ap.sha384 = sha384;
	hs.slen = ap.slen = slen;
	memset(hs.secret, 0x11, slen);
	memset(ap.secret, 0x22, slen);
	t13_keys(&hs);
	t13_keys(&ap);
	hexs(hcr, cr, 32);
	hexs(hh, hs.secret, slen);
	hexs(ha, ap.secret, slen);
	snprintf(log, sizeof(log), "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"
	    "CLIENT_TRAFFIC_SECRET_0 %s %s\r\n", hcr, hh, hcr, ha);
	check(feed_str(kl, log) == 2, "%04x: 2 secrets", suite);
	tc = tlscrypt_new(TLSCRYPT_V13, suite, cr, NULL, 0);
	tlscrypt_secrets(tc, keylog_find(kl, cr));
	fin[0] = 20;
	fin[1] = fin[2] = 0;
	fin[3] = (u_char)slen;
	memset(fin + 4, 0xf1, slen);
	rn = t13_seal(&hs, 22, fin, 4 + slen, rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 22 && n == 4 + slen,
	    "%04x: Finished %d", suite, rc);
	rn = t13_seal(&ap, 23, (const u_char *)"GET / HTTP/1.1\r\n", 16, rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 23 && n == 16 &&
	    memcmp(out, "GET / ", 6) == 0, "%04x: data %d", suite, rc);
	rn = t13_seal(&ap, 22, ku, sizeof(ku), rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 22, "%04x: KeyUpdate %d", suite, rc);
	t_expand_label(sha384, ap.secret, slen, "traffic upd", ap.secret,
	    slen);
	t13_keys(&ap);
	rn = t13_seal(&ap, 23, (const u_char *)"after", 5, rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && n == 5 && memcmp(out, "after", 5) == 0,
	    "%04x: data after the key update %d", suite, rc);
	tlscrypt_free(tc);
	keylog_free(kl);
}

static void
test_tls13_suites(void)
{
	t13_suite(0x1301, 0, 0);
	t13_suite(0x1302, 1, 1);
	t13_suite(0x1303, 2, 0);
	report("tlscrypt_tls13_suites_keyupdate");
}

/*
 * Records the capture damaged (tlscrypt_skip) in TLS 1.3: one that held
 * the client's Finished, so the next record is under the application
 * secret; one that held a KeyUpdate, so the next is under the next
 * secret; one that held neither, so the next is under the same keys
 * and a KeyUpdate read after it still counts; and one after which no
 * key opens the next record, which is then TLSCRYPT_LOST, not a
 * failure to blame on the keys.
 */
static int
t13_open(struct tlscrypt *tc, struct t13 *ap, const char *pt)
{
	u_char	 rec[2048], out[2048];
	size_t	 rn, n = 0;
	uint8_t	 type;
	int	 rc;

	rn = t13_seal(ap, 23, (const u_char *)pt, strlen(pt), rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	if (rc == TLSCRYPT_OK && (n != strlen(pt) || memcmp(out, pt, n) != 0))
		return (-1);
	return (rc);
}

static void
test_damaged13(void)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	struct t13	 hs, ap, other;
	u_char		 cr[32], rec[2048], out[2048];
	u_char		 ku[5] = { 24, 0, 0, 1, 0 };
	char		 log[512], hcr[65], hh[65], ha[65];
	size_t		 n;
	uint8_t		 type;

	memset(cr, 0x6b, sizeof(cr));
	memset(&hs, 0, sizeof(hs));
	hs.slen = 32;
	ap = other = hs;
	memset(hs.secret, 0x31, 32);
	memset(ap.secret, 0x32, 32);
	memset(other.secret, 0x33, 32);
	t13_keys(&hs);
	t13_keys(&ap);
	t13_keys(&other);
	hexs(hcr, cr, 32);
	hexs(hh, hs.secret, 32);
	hexs(ha, ap.secret, 32);
	snprintf(log, sizeof(log), "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "CLIENT_TRAFFIC_SECRET_0 %s %s\n", hcr, hh, hcr, ha);
	feed_str(kl, log);
	tc = tlscrypt_new(TLSCRYPT_V13, 0x1301, cr, NULL, 0);
	tlscrypt_secrets(tc, keylog_find(kl, cr));
	/* The Finished's record lost: the application keys from seq 0. */
	t13_seal(&hs, 22, (const u_char *)"\x14\0\0\x20", 4, rec);
	tlscrypt_skip(tc, 0);
	check(t13_open(tc, &ap, "first") == TLSCRYPT_OK,
	    "the application data after a lost Finished");
	/* A KeyUpdate's record lost: the next secret. */
	t13_seal(&ap, 22, ku, sizeof(ku), rec);
	tlscrypt_skip(tc, 0);
	t_expand_label(0, ap.secret, 32, "traffic upd", ap.secret, 32);
	t13_keys(&ap);
	check(t13_open(tc, &ap, "second") == TLSCRYPT_OK,
	    "the data after a lost KeyUpdate");
	/* Data lost: the same keys, and a KeyUpdate after is followed. */
	t13_seal(&ap, 23, (const u_char *)"lost", 4, rec);
	tlscrypt_skip(tc, 0);
	check(t13_open(tc, &ap, "third") == TLSCRYPT_OK,
	    "the data after lost data");
	n = t13_seal(&ap, 22, ku, sizeof(ku), rec);
	check(tlscrypt_record(tc, 0, rec, n, out, &n, &type) == TLSCRYPT_OK,
	    "a KeyUpdate read");
	t_expand_label(0, ap.secret, 32, "traffic upd", ap.secret, 32);
	t13_keys(&ap);
	check(t13_open(tc, &ap, "fourth") == TLSCRYPT_OK,
	    "the data after it");
	/* A record no key opens fails; after a lost one it is lost. */
	check(t13_open(tc, &other, "junk") == TLSCRYPT_FAILED,
	    "a record of other keys fails");
	tlscrypt_skip(tc, 0);
	check(t13_open(tc, &other, "junk") == TLSCRYPT_LOST,
	    "no key after a lost record");
	tlscrypt_free(tc);
	keylog_free(kl);
	report("tlscrypt_tls13_damaged_records");
}

/* A TLS 1.2 record: AAD of sequence, type, version, length. */
static size_t
t12_seal(int aead, const u_char *key, const u_char *iv, uint64_t seq,
    uint8_t type, const u_char *pt, size_t ptlen, u_char *rec)
{
	u_char	 nonce[12], aad[13];
	size_t	 explicit = aead == 2 ? 0 : 8, n = explicit + ptlen + 16;
	int	 i;

	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (u_char)(n >> 8);
	rec[4] = (u_char)n;
	if (explicit) {
		memcpy(nonce, iv, 4);
		for (i = 0; i < 8; i++)
			nonce[4 + i] = (u_char)(0xa0 + seq + (uint64_t)i);
		memcpy(rec + 5, nonce + 4, 8);
	} else
		t_xor_seq(nonce, iv, seq);
	for (i = 0; i < 8; i++)
		aad[i] = (u_char)(seq >> (8 * (7 - i)));
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (u_char)(ptlen >> 8);
	aad[12] = (u_char)ptlen;
	t_seal(aead, key, nonce, aad, 13, pt, ptlen, rec + 5 + explicit);
	return (5 + n);
}

static void
t12_suite(uint16_t suite, int aead, int sha384)
{
	struct keylog	*kl = keylog_new(0);
	struct tlscrypt	*tc;
	u_char		 cr[32], sr[32], ms[48], seed[64], kb[96];
	u_char		 rec[2048], out[2048];
	char		 log[512], hcr[65], hms[97];
	size_t		 klen = aead == 0 ? 16 : 32, ivlen = aead == 2 ? 12 : 4;
	size_t		 rn, n;
	uint8_t		 type;
	int		 rc;

	memset(cr, 0x33, sizeof(cr));
	memset(sr, 0x44, sizeof(sr));
	memset(ms, 0x55, sizeof(ms));
	memcpy(seed, sr, 32);
	memcpy(seed + 32, cr, 32);
	t_prf(sha384, ms, 48, "key expansion", seed, 64, kb,
	    2 * klen + 2 * ivlen);
	hexs(hcr, cr, 32);
	hexs(hms, ms, 48);
	snprintf(log, sizeof(log), "CLIENT_RANDOM %s %s", hcr, hms);
	feed_str(kl, log);
	check(keylog_find(kl, cr) == NULL, "%04x: no newline yet", suite);
	check(keylog_end(kl) == 1, "%04x: a last line without newline",
	    suite);
	tc = tlscrypt_new(TLSCRYPT_V12, suite, cr, sr, 0);
	check(tc != NULL, "%04x: supported", suite);
	if (tc == NULL)
		goto out;
	tlscrypt_secrets(tc, keylog_find(kl, cr));
	/* The client's Finished, then a request; the server's Finished. */
	rn = t12_seal(aead, kb, kb + 2 * klen, 0, 22,
	    (const u_char *)"\x14\x00\x00\x0c" "0123456789ab", 16, rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 22 && n == 16 && out[0] == 20,
	    "%04x: client Finished %d", suite, rc);
	rn = t12_seal(aead, kb, kb + 2 * klen, 1, 23,
	    (const u_char *)"GET / HTTP/1.1\r\n\r\n", 18, rec);
	rc = tlscrypt_record(tc, 0, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 23 && n == 18 &&
	    memcmp(out, "GET / HTTP/1.1", 14) == 0, "%04x: request %d", suite,
	    rc);
	rn = t12_seal(aead, kb + klen, kb + 2 * klen + ivlen, 0, 22,
	    (const u_char *)"\x14\x00\x00\x0c" "ba9876543210", 16, rec);
	rc = tlscrypt_record(tc, 1, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_OK && type == 22 && n == 16,
	    "%04x: server Finished %d", suite, rc);
	/* A record sealed with the other direction's key. */
	rn = t12_seal(aead, kb, kb + 2 * klen, 1, 23,
	    (const u_char *)"HTTP/1.1 200 OK\r\n", 17, rec);
	rc = tlscrypt_record(tc, 1, rec, rn, out, &n, &type);
	check(rc == TLSCRYPT_FAILED, "%04x: wrong direction's key %d", suite,
	    rc);
	tlscrypt_free(tc);
out:
	keylog_free(kl);
}

static void
test_tls12(void)
{
	u_char	 secret[16], seed[16], out[100];

	unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof(secret));
	unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof(seed));
	t_prf(0, secret, 16, "test label", seed, 16, out, 100);
	check(same_hex(out, 100, "e3f229ba727be17b8d122620557cd453"
	    "c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af"
	    "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789ba"
	    "a48082d122ee42c5a72e5a5110fff70187347b66"),
	    "the test's own PRF against the published vector");
	t12_suite(0xc02f, 0, 0);
	t12_suite(0xc030, 1, 1);
	t12_suite(0xc02b, 0, 0);
	t12_suite(0xcca8, 2, 0);
	t12_suite(0xcca9, 2, 0);
	check(tlscrypt_new(TLSCRYPT_V12, 0xc013, secret, secret, 0) == NULL &&
	    !tlscrypt_supported(TLSCRYPT_V12, 0xc013) &&
	    !tlscrypt_supported(TLSCRYPT_V12, 0x1301) &&
	    !tlscrypt_supported(0, 0xc02f),
	    "CBC suites, a 1.3 suite in 1.2, no version: not decrypted");
	report("tlscrypt_tls12_aead");
}

/* ------------------------------------------------------------------ */
/* The key log itself. */

static void
test_keylog_lines(void)
{
	struct keylog			*kl = keylog_new(0);
	const struct keylog_stats	*st = keylog_stats(kl);
	const struct keylog_secrets	*k;
	u_char				 cr[32];
	char				 log[4096], up[65];
	size_t				 i;

	for (i = 0; i < 64; i++)
		up[i] = (char)(rfc_client_random[i] >= 'a' ?
		    rfc_client_random[i] - 32 : rfc_client_random[i]);
	up[64] = '\0';
	snprintf(log, sizeof(log),
	    "\n"
	    "# comment\n"
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"	/* upper case */
	    "EXPORTER_SECRET %s %s\n"			/* not used */
	    "CLIENT_RANDOM %s %s\n"			/* 32 bytes: bad */
	    "SERVER_TRAFFIC_SECRET_0 %.60s %s\n"	/* short random */
	    "SERVER_TRAFFIC_SECRET_0 %s %sxy\n"	/* not hex */
	    "SERVER_TRAFFIC_SECRET_0 %s %s extra\n"	/* a fourth field */
	    "CLIENT_TRAFFIC_SECRET_9 %s %s\n"		/* no such label */
	    "CLIENT_TRAFFIC_SECRET_0\n"			/* no fields */
	    "\tCLIENT_TRAFFIC_SECRET_0  %s\t%s\n",	/* odd spacing */
	    up, rfc_chts, rfc_client_random, rfc_chts,
	    rfc_client_random, rfc_chts, rfc_client_random, rfc_sats,
	    rfc_client_random, rfc_sats, rfc_client_random, rfc_sats,
	    rfc_client_random, rfc_sats, rfc_client_random, rfc_cats);
	/* One byte at a time: lines cut anywhere read the same. */
	for (i = 0; log[i] != '\0'; i++)
		keylog_feed(kl, (const u_char *)log + i, 1);
	check(keylog_end(kl) == 0, "nothing left at the end");
	check(st->lines == 11, "lines %llu", (unsigned long long)st->lines);
	check(st->secrets == 2, "secrets %llu",
	    (unsigned long long)st->secrets);
	check(st->ignored == 3, "ignored %llu",
	    (unsigned long long)st->ignored);
	check(st->malformed == 6, "malformed %llu",
	    (unsigned long long)st->malformed);
	check(st->sessions == 1, "sessions %llu",
	    (unsigned long long)st->sessions);
	unhex(rfc_client_random, cr, sizeof(cr));
	k = keylog_find(kl, cr);
	check(k != NULL && k->have == (1 << KEYLOG_CLIENT_HS |
	    1 << KEYLOG_CLIENT_APP) && k->len[KEYLOG_CLIENT_HS] == 32 &&
	    same_hex(k->secret[KEYLOG_CLIENT_APP], 32, rfc_cats),
	    "the session's secrets");
	cr[31] ^= 1;
	check(keylog_find(kl, cr) == NULL, "another random finds nothing");
	keylog_free(kl);
	report("keylog_lines");
}

/* A cut-off last line, an overlong line, and the cap on sessions. */
static void
test_keylog_bounds(void)
{
	struct keylog			*kl = keylog_new(2);
	const struct keylog_stats	*st = keylog_stats(kl);
	char				 line[1024], rnd[65];
	size_t				 i, mem0;
	int				 j;

	mem0 = keylog_memory(kl);
	for (j = 0; j < 3; j++) {
		for (i = 0; i < 64; i++)
			rnd[i] = "0123456789abcdef"[(i + (size_t)j) % 16];
		rnd[64] = '\0';
		snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s%s\n", rnd,
		    rfc_chts, "00000000000000000000000000000000");
		feed_str(kl, line);
	}
	check(st->sessions == 2 && st->dropped == 1,
	    "cap of 2: sessions %llu dropped %llu",
	    (unsigned long long)st->sessions,
	    (unsigned long long)st->dropped);
	check(keylog_memory(kl) > mem0, "memory counted");
	memset(line, 'A', 600);
	line[600] = '\n';
	line[601] = '\0';
	feed_str(kl, line);
	check(st->malformed == 1, "an overlong line is malformed");
	/* A secret cut short by the end of the file. */
	feed_str(kl, "CLIENT_RANDOM 0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef 00112233");
	check(keylog_end(kl) == 0 && st->malformed == 2,
	    "a truncated last line is malformed, malformed %llu",
	    (unsigned long long)st->malformed);
	keylog_free(kl);
	report("keylog_bounds");
}

/*
 * More sessions than the table first has buckets: it grows, and every
 * one is still found, each under its own secret, and exported once.
 */
static void
test_keylog_many(void)
{
	struct keylog			*kl = keylog_new(0);
	const struct keylog_secrets	*k;
	const u_char			*sec;
	char				 line[256], *out;
	u_char				 rnd[KEYLOG_RANDOM];
	size_t				 i, found = 0, mem0, len, lines = 0;

	mem0 = keylog_memory(kl);
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "CLIENT_RANDOM %08zx%056d "
		    "%08zx%088d\n", i * 2654435761u % 0x100000000, 0, i, 0);
		feed_str(kl, line);
	}
	check(keylog_stats(kl)->sessions == 1000, "1000 sessions, got %llu",
	    (unsigned long long)keylog_stats(kl)->sessions);
	for (i = 0; i < 1000; i++) {
		memset(rnd, 0, sizeof(rnd));
		snprintf(line, sizeof(line), "%08zx",
		    i * 2654435761u % 0x100000000);
		unhex(line, rnd, 4);
		if ((k = keylog_find(kl, rnd)) == NULL ||
		    k->len[KEYLOG_MASTER] != KEYLOG_MAX_SECRET)
			continue;
		sec = k->secret[KEYLOG_MASTER];
		if (((size_t)sec[0] << 24 | (size_t)sec[1] << 16 |
		    (size_t)sec[2] << 8 | sec[3]) == i)
			found++;
	}
	check(found == 1000, "each found with its secret: %zu", found);
	check(keylog_memory(kl) > mem0 + 1000 * KEYLOG_MAX_SECRET,
	    "the grown table and entries counted");
	out = keylog_export(kl, &len);
	for (i = 0; i < len; i++)
		if (out[i] == '\n')
			lines++;
	check(lines == 1000, "1000 lines exported, got %zu", lines);
	free(out);
	keylog_free(kl);
	report("keylog_many");
}

int
main(void)
{
	tlscrypt_init();
	test_keylog_lines();
	test_keylog_bounds();
	test_keylog_many();
	test_rfc8448();
	test_wrong_key();
	test_late_keys();
	test_tls13_suites();
	test_damaged13();
	test_tls12();
	return (nfail ? 1 : 0);
}
