/*
 * tlscrypt.c: TLS record decryption with key log secrets, on OpenSSL's
 * libcrypto (EVP AEAD ciphers, HMAC for HKDF-Expand, the TLS1-PRF key
 * derivation).
 *
 * TLS 1.3 (RFC 8446): each direction starts with its handshake traffic
 * secret (or, when the client may send 0-RTT data, its early one), moves
 * to its application traffic secret after its Finished and to the next
 * one after each KeyUpdate it sends; key and IV come from the secret by
 * HKDF-Expand-Label (7.3), the nonce is the IV XOR the record's
 * sequence number (5.3), the additional data the record header, and the
 * plaintext ends with the real content type and padding (5.2). The
 * handshake messages inside the decrypted records are followed just
 * enough to see those changes. A record the capture damaged may have
 * held one (the Finished, a KeyUpdate): the record after it is tried
 * with the keys it had and then with the keys that message would have
 * brought, and whichever authenticates says which.
 *
 * TLS 1.2 (RFC 5246 6.3, RFC 5288, RFC 7905): the key block is the PRF
 * of the master secret over "key expansion" and the randoms; AES-GCM
 * takes a 4-byte salt and an 8-byte nonce carried in each record,
 * ChaCha20-Poly1305 a 12-byte IV XOR the sequence number; the
 * additional data is sequence number, type, version and plaintext
 * length.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Everything libcrypto
 * would look up at first use (configuration, providers, algorithms) is
 * done in tlscrypt_init, before the sandbox.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "log.h"
#include "tlscrypt.h"
#include "xmalloc.h"

#define TLSCRYPT_TAG		16
#define TLSCRYPT_IV		12
#define TLSCRYPT_MAX_KEY	32
#define TLSCRYPT_CT_ALERT	21
#define TLSCRYPT_CT_HANDSHAKE	22
#define TLSCRYPT_CT_APPDATA	23
#define TLSCRYPT_HS_EOED	5	/* EndOfEarlyData */
#define TLSCRYPT_HS_FINISHED	20
#define TLSCRYPT_HS_KEY_UPDATE	24
/* What one EVP_CIPHER_CTX takes, roughly, for the budget. */
#define TLSCRYPT_CTX_BYTES	1024

enum tlscrypt_aead {
	AEAD_AES128GCM,
	AEAD_AES256GCM,
	AEAD_CHACHA,
	AEAD_N,
};

enum tlscrypt_phase {
	PHASE_EARLY,		/* TLS 1.3 0-RTT data */
	PHASE_HANDSHAKE,
	PHASE_APP,		/* and every phase of TLS 1.2 */
};

struct tlscrypt_suite {
	uint16_t	 id;
	uint16_t	 version;
	const char	*name;
	int		 aead;
	int		 sha384;
};

static const struct tlscrypt_suite tlscrypt_suites[] = {
	{ 0x1301, TLSCRYPT_V13, "TLS_AES_128_GCM_SHA256", AEAD_AES128GCM, 0 },
	{ 0x1302, TLSCRYPT_V13, "TLS_AES_256_GCM_SHA384", AEAD_AES256GCM, 1 },
	{ 0x1303, TLSCRYPT_V13, "TLS_CHACHA20_POLY1305_SHA256", AEAD_CHACHA, 0 },
	{ 0x009c, TLSCRYPT_V12, "TLS_RSA_WITH_AES_128_GCM_SHA256",
	    AEAD_AES128GCM, 0 },
	{ 0x009d, TLSCRYPT_V12, "TLS_RSA_WITH_AES_256_GCM_SHA384",
	    AEAD_AES256GCM, 1 },
	{ 0x009e, TLSCRYPT_V12, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	    AEAD_AES128GCM, 0 },
	{ 0x009f, TLSCRYPT_V12, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	    AEAD_AES256GCM, 1 },
	{ 0xc02b, TLSCRYPT_V12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	    AEAD_AES128GCM, 0 },
	{ 0xc02c, TLSCRYPT_V12, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	    AEAD_AES256GCM, 1 },
	{ 0xc02f, TLSCRYPT_V12, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    AEAD_AES128GCM, 0 },
	{ 0xc030, TLSCRYPT_V12, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	    AEAD_AES256GCM, 1 },
	{ 0xcca8, TLSCRYPT_V12, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	    AEAD_CHACHA, 0 },
	{ 0xcca9, TLSCRYPT_V12,
	    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", AEAD_CHACHA, 0 },
	{ 0xccaa, TLSCRYPT_V12, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	    AEAD_CHACHA, 0 },
};

static const char *const tlscrypt_cipher_names[AEAD_N] = {
	"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305",
};
static const int tlscrypt_key_len[AEAD_N] = { 16, 32, 32 };

static EVP_CIPHER	*tlscrypt_ciphers[AEAD_N];
static EVP_KDF		*tlscrypt_prf;
/*
 * HMAC with SHA-256 and with SHA-384, set up once, for HKDF-Expand:
 * libcrypto's HKDF made three digest contexts and keyed an HMAC for
 * every derivation (about 17,000 instructions each, eight of them for
 * each connection).
 */
static EVP_MAC		*tlscrypt_hmac;
static EVP_MAC_CTX	*tlscrypt_expand[2];

/* The keys one direction uses now. */
struct tlscrypt_dir {
	EVP_CIPHER_CTX	*ctx;
	int		 ready;		/* ctx has the key of this phase */
	int		 phase;
	uint64_t	 seq;
	u_char		 iv[TLSCRYPT_IV];
	u_char		 secret[KEYLOG_MAX_SECRET];	/* TLS 1.3 */
	size_t		 secretlen;
	/* The handshake messages inside its records (TLS 1.3). */
	u_char		 hshdr[4];
	uint8_t		 hshdrlen;
	uint32_t	 hsleft;
	/* A record lost bytes since the keys were last seen to hold. */
	int		 unsure;
};

struct tlscrypt {
	const struct tlscrypt_suite *suite;
	u_char		 client_random[KEYLOG_RANDOM];
	u_char		 server_random[KEYLOG_RANDOM];
	struct keylog_secrets k;
	struct tlscrypt_dir d[2];
};

static const struct tlscrypt_suite *
tlscrypt_suite(uint16_t version, uint16_t cipher)
{
	size_t	 i;

	for (i = 0; i < sizeof(tlscrypt_suites) / sizeof(tlscrypt_suites[0]);
	    i++) {
		if (tlscrypt_suites[i].id == cipher &&
		    (version == 0 || tlscrypt_suites[i].version == version))
			return (&tlscrypt_suites[i]);
	}
	return (NULL);
}

int
tlscrypt_supported(uint16_t version, uint16_t cipher)
{
	return (version != 0 && tlscrypt_suite(version, cipher) != NULL);
}

size_t
tlscrypt_overhead(const struct tlscrypt *tc)
{
	if (tc->suite->version == TLSCRYPT_V13)
		return (TLSCRYPT_TAG + 1);
	return (TLSCRYPT_TAG + (tc->suite->aead == AEAD_CHACHA ? 0 : 8));
}

static const char *
tlscrypt_digest(const struct tlscrypt_suite *su)
{
	return (su->sha384 ? "SHA384" : "SHA256");
}

/* What HKDF-Expand-Label derives: a label and where its bytes go. */
struct tlscrypt_label {
	const char	*label;
	u_char		*out;
	size_t		 outlen;
};

/*
 * HKDF-Expand-Label(secret, label, "", outlen) of each label, RFC 8446
 * 7.1. No output is longer than the digest, so each is the first
 * outlen bytes of one HMAC of its HkdfLabel and the byte 1 (RFC 5869
 * 2.3), under the secret, which is keyed into the shared context once
 * for all of them. The context is then keyed with a byte of zeros: no
 * secret outlives its use there.
 */
static int
tlscrypt_expand_labels(const struct tlscrypt_suite *su, const u_char *secret,
    size_t secretlen, const struct tlscrypt_label *l, size_t nl)
{
	static const u_char	 none[1];
	EVP_MAC_CTX		*mc = tlscrypt_expand[su->sha384];
	u_char			 info[2 + 1 + 255 + 1 + 1];
	u_char			 t[EVP_MAX_MD_SIZE];
	size_t			 i, llen, n, tlen;
	int			 ok = 1;

	if (mc == NULL)
		return (-1);	/* no tlscrypt_init: nothing is derived */
	for (i = 0; i < nl && ok; i++) {
		llen = strlen(l[i].label);
		n = 0;
		info[n++] = (u_char)(l[i].outlen >> 8);
		info[n++] = (u_char)l[i].outlen;
		info[n++] = (u_char)(6 + llen);
		memcpy(info + n, "tls13 ", 6);
		memcpy(info + n + 6, l[i].label, llen);
		n += 6 + llen;
		info[n++] = 0;		/* no context */
		info[n++] = 1;		/* T(1) */
		ok = EVP_MAC_init(mc, i == 0 ? secret : NULL,
		    i == 0 ? secretlen : 0, NULL) == 1 &&
		    EVP_MAC_update(mc, info, n) == 1 &&
		    EVP_MAC_final(mc, t, &tlen, sizeof(t)) == 1 &&
		    tlen >= l[i].outlen;
		if (ok)
			memcpy(l[i].out, t, l[i].outlen);
	}
	explicit_bzero(t, sizeof(t));
	if (EVP_MAC_init(mc, none, sizeof(none), NULL) != 1)
		fatalx("libcrypto: HMAC did not take a new key");
	return (ok ? 0 : -1);
}

static int
tlscrypt_expand_label(const struct tlscrypt_suite *su, const u_char *secret,
    size_t secretlen, const char *label, u_char *out, size_t outlen)
{
	struct tlscrypt_label	 l = { label, out, outlen };

	return (tlscrypt_expand_labels(su, secret, secretlen, &l, 1));
}

/* An HMAC context of the digest; fatal if libcrypto refuses. */
static EVP_MAC_CTX *
tlscrypt_expand_new(const char *digest)
{
	EVP_MAC_CTX	*mc;
	OSSL_PARAM	 params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mc = EVP_MAC_CTX_new(tlscrypt_hmac)) == NULL ||
	    EVP_MAC_CTX_set_params(mc, params) != 1)
		fatalx("libcrypto: no HMAC with %s", digest);
	return (mc);
}

/* The TLS 1.2 key block: PRF(master, "key expansion", sr + cr). */
static int
tlscrypt_key_block(const struct tlscrypt *tc, u_char *out, size_t outlen)
{
	EVP_KDF_CTX	*kc;
	OSSL_PARAM	 params[4];
	u_char		 seed[13 + 2 * KEYLOG_RANDOM];
	int		 ok;

	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, tc->server_random, KEYLOG_RANDOM);
	memcpy(seed + 13 + KEYLOG_RANDOM, tc->client_random, KEYLOG_RANDOM);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)tlscrypt_digest(tc->suite), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
	    (void *)(uintptr_t)tc->k.secret[KEYLOG_MASTER],
	    tc->k.len[KEYLOG_MASTER]);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
	    seed, sizeof(seed));
	params[3] = OSSL_PARAM_construct_end();
	if ((kc = EVP_KDF_CTX_new(tlscrypt_prf)) == NULL)
		return (-1);
	ok = EVP_KDF_derive(kc, out, outlen, params);
	EVP_KDF_CTX_free(kc);
	return (ok == 1 ? 0 : -1);
}

static int
tlscrypt_set_key(const struct tlscrypt *tc, struct tlscrypt_dir *d,
    const u_char *key)
{
	EVP_CIPHER	*c = tlscrypt_ciphers[tc->suite->aead];

	if (EVP_DecryptInit_ex(d->ctx, c, NULL, key, NULL) != 1)
		return (-1);
	d->ready = 1;
	return (0);
}

/* TLS 1.3: key and IV of dir from its current traffic secret. */
static int
tlscrypt_keys13(struct tlscrypt *tc, struct tlscrypt_dir *d)
{
	const struct tlscrypt_suite	*su = tc->suite;
	u_char				 key[TLSCRYPT_MAX_KEY];
	struct tlscrypt_label		 l[2] = {
		{ "key", key, (size_t)tlscrypt_key_len[su->aead] },
		{ "iv", d->iv, TLSCRYPT_IV },
	};
	int				 rc;

	if (tlscrypt_expand_labels(su, d->secret, d->secretlen, l, 2) == -1)
		rc = -1;
	else
		rc = tlscrypt_set_key(tc, d, key);
	explicit_bzero(key, sizeof(key));
	return (rc);
}

/* The key log's secret for dir in its phase; -1 if it is not known. */
static int
tlscrypt_secret13(struct tlscrypt *tc, int dir)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	size_t			 want = tc->suite->sha384 ? 48 : 32;
	int			 which;

	/* A client that logged no early secret sent no 0-RTT data. */
	if (d->phase == PHASE_EARLY &&
	    !(tc->k.have & (1 << KEYLOG_CLIENT_EARLY)) &&
	    (tc->k.have & (1 << KEYLOG_CLIENT_HS)))
		d->phase = PHASE_HANDSHAKE;
	if (d->phase == PHASE_EARLY)
		which = KEYLOG_CLIENT_EARLY;
	else if (d->phase == PHASE_HANDSHAKE)
		which = dir == 0 ? KEYLOG_CLIENT_HS : KEYLOG_SERVER_HS;
	else
		which = dir == 0 ? KEYLOG_CLIENT_APP : KEYLOG_SERVER_APP;
	if (!(tc->k.have & (1 << which)) || tc->k.len[which] != want)
		return (-1);
	memcpy(d->secret, tc->k.secret[which], want);
	d->secretlen = want;
	return (tlscrypt_keys13(tc, d));
}

/* TLS 1.2: both directions' keys from the master secret at once. */
static int
tlscrypt_keys12(struct tlscrypt *tc)
{
	int	 klen = tlscrypt_key_len[tc->suite->aead];
	int	 ivlen = tc->suite->aead == AEAD_CHACHA ? TLSCRYPT_IV : 4;
	u_char	 kb[2 * TLSCRYPT_MAX_KEY + 2 * TLSCRYPT_IV];
	int	 rc = -1;

	if (!(tc->k.have & (1 << KEYLOG_MASTER)))
		return (-1);
	if (tlscrypt_key_block(tc, kb, (size_t)(2 * klen + 2 * ivlen)) == 0) {
		memcpy(tc->d[0].iv, kb + 2 * klen, (size_t)ivlen);
		memcpy(tc->d[1].iv, kb + 2 * klen + ivlen, (size_t)ivlen);
		if (tlscrypt_set_key(tc, &tc->d[0], kb) == 0 &&
		    tlscrypt_set_key(tc, &tc->d[1], kb + klen) == 0)
			rc = 0;
	}
	explicit_bzero(kb, sizeof(kb));
	return (rc);
}

static int
tlscrypt_ready(struct tlscrypt *tc, int dir)
{
	if (tc->d[dir].ready)
		return (0);
	if (tc->suite->version == TLSCRYPT_V12)
		return (tlscrypt_keys12(tc));
	return (tlscrypt_secret13(tc, dir));
}

/*
 * One AEAD open: ct of ctlen bytes followed by its tag. 0 if it
 * authenticates, the plaintext in out.
 */
static int
tlscrypt_open(EVP_CIPHER_CTX *ctx, const u_char *nonce, const u_char *aad,
    size_t aadlen, const u_char *ct, size_t ctlen, u_char *out)
{
	int	 n;

	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TLSCRYPT_TAG,
	    (void *)(uintptr_t)(ct + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n, &n) != 1)
		return (-1);
	return (0);
}

/* The IV XOR the sequence number, as TLS 1.3 and ChaCha20 want it. */
static void
tlscrypt_nonce(const struct tlscrypt_dir *d, u_char *nonce)
{
	int	 i;

	memcpy(nonce, d->iv, TLSCRYPT_IV);
	for (i = 0; i < 8; i++)
		nonce[TLSCRYPT_IV - 1 - i] ^= (u_char)(d->seq >> (8 * i));
}

static int
tlscrypt_open12(struct tlscrypt *tc, struct tlscrypt_dir *d,
    const u_char *rec, size_t len, u_char *out, size_t *outlen)
{
	u_char		 nonce[TLSCRYPT_IV], aad[13];
	const u_char	*ct = rec + 5;
	size_t		 ctlen = len - 5, explicit = 0;
	int		 i;

	if (tc->suite->aead != AEAD_CHACHA)
		explicit = 8;
	if (ctlen < explicit + TLSCRYPT_TAG)
		return (-1);
	if (explicit) {
		memcpy(nonce, d->iv, 4);
		memcpy(nonce + 4, ct, 8);
		ct += 8;
		ctlen -= 8;
	} else
		tlscrypt_nonce(d, nonce);
	ctlen -= TLSCRYPT_TAG;
	for (i = 0; i < 8; i++)
		aad[i] = (u_char)(d->seq >> (8 * (7 - i)));
	memcpy(aad + 8, rec, 3);
	aad[11] = (u_char)(ctlen >> 8);
	aad[12] = (u_char)ctlen;
	if (tlscrypt_open(d->ctx, nonce, aad, sizeof(aad), ct, ctlen, out) ==
	    -1)
		return (-1);
	*outlen = ctlen;
	return (0);
}

static int
tlscrypt_open13(struct tlscrypt_dir *d, const u_char *rec, size_t len,
    u_char *out, size_t *outlen)
{
	u_char	 nonce[TLSCRYPT_IV];

	if (len < 5 + TLSCRYPT_TAG)
		return (-1);
	tlscrypt_nonce(d, nonce);
	if (tlscrypt_open(d->ctx, nonce, rec, 5, rec + 5,
	    len - 5 - TLSCRYPT_TAG, out) == -1)
		return (-1);
	*outlen = len - 5 - TLSCRYPT_TAG;
	return (0);
}

/* Moves dir to phase, with the key log's secret for it when known. */
static void
tlscrypt_phase(struct tlscrypt *tc, int dir, int phase)
{
	struct tlscrypt_dir	*d = &tc->d[dir];

	d->phase = phase;
	d->ready = 0;
	d->seq = 0;
	explicit_bzero(d->secret, sizeof(d->secret));
}

/* A KeyUpdate: the next secret from this one, RFC 8446 7.2. */
static void
tlscrypt_update(struct tlscrypt *tc, int dir)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	u_char			 next[KEYLOG_MAX_SECRET];

	d->ready = 0;
	if (tlscrypt_expand_label(tc->suite, d->secret, d->secretlen,
	    "traffic upd", next, d->secretlen) == 0) {
		memcpy(d->secret, next, d->secretlen);
		d->seq = 0;
		tlscrypt_keys13(tc, d);
	}
	explicit_bzero(next, sizeof(next));
}

/* A whole handshake message of type was read in dir (TLS 1.3). */
static void
tlscrypt_message(struct tlscrypt *tc, int dir, uint8_t type)
{
	struct tlscrypt_dir	*d = &tc->d[dir];

	if (d->phase == PHASE_EARLY && type == TLSCRYPT_HS_EOED)
		tlscrypt_phase(tc, dir, PHASE_HANDSHAKE);
	else if (d->phase == PHASE_HANDSHAKE && type == TLSCRYPT_HS_FINISHED)
		tlscrypt_phase(tc, dir, PHASE_APP);
	else if (d->phase == PHASE_APP && type == TLSCRYPT_HS_KEY_UPDATE)
		tlscrypt_update(tc, dir);
}

/*
 * Follows the handshake messages in a decrypted record of dir. A key
 * change takes effect with the next record: RFC 8446 5.1 keeps the
 * messages before one from sharing a record with what follows.
 */
static void
tlscrypt_handshake(struct tlscrypt *tc, int dir, const u_char *p, size_t n)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	size_t			 k;

	while (n > 0) {
		if (d->hshdrlen < 4) {
			d->hshdr[d->hshdrlen++] = *p++;
			n--;
			if (d->hshdrlen < 4)
				continue;
			d->hsleft = (uint32_t)d->hshdr[1] << 16 |
			    (uint32_t)d->hshdr[2] << 8 | d->hshdr[3];
		} else {
			k = n < d->hsleft ? n : d->hsleft;
			p += k;
			n -= k;
			d->hsleft -= (uint32_t)k;
		}
		if (d->hsleft == 0) {
			d->hshdrlen = 0;
			tlscrypt_message(tc, dir, d->hshdr[0]);
		}
	}
}

/* TLS 1.3 plaintext: content, the real type, then zeros. */
static int
tlscrypt_inner(const u_char *out, size_t *outlen, uint8_t *type)
{
	size_t	 n = *outlen;

	while (n > 0 && out[n - 1] == 0)
		n--;
	if (n == 0)
		return (-1);
	*type = out[n - 1];
	*outlen = n - 1;
	return (0);
}

/* 0-RTT data the server refused is followed by handshake records. */
static int
tlscrypt_try13(struct tlscrypt *tc, int dir, const u_char *rec, size_t len,
    u_char *out, size_t *outlen)
{
	struct tlscrypt_dir	*d = &tc->d[dir];

	if (tlscrypt_open13(d, rec, len, out, outlen) == 0)
		return (0);
	if (d->phase != PHASE_EARLY ||
	    !(tc->k.have & (1 << KEYLOG_CLIENT_HS)))
		return (-1);
	tlscrypt_phase(tc, dir, PHASE_HANDSHAKE);
	if (tlscrypt_ready(tc, dir) == -1)
		return (-1);
	return (tlscrypt_open13(d, rec, len, out, outlen));
}

/*
 * The keys a damaged record of dir may have moved it to: the end of
 * the handshake (its Finished) or a KeyUpdate. Tried on this record;
 * dir keeps them if it authenticates, else is set back as it was (-2:
 * the key log has no application secret yet).
 */
static int
tlscrypt_next13(struct tlscrypt *tc, int dir, const u_char *rec, size_t len,
    u_char *out, size_t *outlen)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	struct tlscrypt_dir	 was = *d;
	int			 rc = -1;

	if (d->phase == PHASE_HANDSHAKE) {
		tlscrypt_phase(tc, dir, PHASE_APP);
		if (tlscrypt_ready(tc, dir) == -1)
			rc = -2;
		else
			rc = tlscrypt_open13(d, rec, len, out, outlen);
	} else if (d->phase == PHASE_APP) {
		tlscrypt_update(tc, dir);
		if (d->ready)
			rc = tlscrypt_open13(d, rec, len, out, outlen);
	}
	if (rc == 0)
		d->unsure = 0;
	else {
		*d = was;
		d->ready = 0;
		tlscrypt_keys13(tc, d);
	}
	explicit_bzero(&was, sizeof(was));
	return (rc);
}

/*
 * TLS 1.3 after a damaged record: the keys it had hold once a record
 * of the application phase authenticates with them (a handshake
 * record may still come before the lost Finished took effect, whose
 * messages cannot be followed now), else the next keys are tried.
 */
static int
tlscrypt_unsure13(struct tlscrypt *tc, int dir, const u_char *rec,
    size_t len, u_char *out, size_t *outlen)
{
	struct tlscrypt_dir	*d = &tc->d[dir];

	if (tlscrypt_open13(d, rec, len, out, outlen) == 0) {
		if (d->phase == PHASE_APP)
			d->unsure = 0;
		return (0);
	}
	return (tlscrypt_next13(tc, dir, rec, len, out, outlen));
}

int
tlscrypt_record(struct tlscrypt *tc, int dir, const u_char *rec, size_t len,
    u_char *out, size_t *outlen, uint8_t *type)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	int			 rc;

	if (tlscrypt_ready(tc, dir) == -1)
		return (TLSCRYPT_NOKEY);
	if (len < 5)
		return (TLSCRYPT_FAILED);
	if (tc->suite->version == TLSCRYPT_V12) {
		rc = tlscrypt_open12(tc, d, rec, len, out, outlen);
		*type = rec[0];
	} else {
		if (d->unsure)
			rc = tlscrypt_unsure13(tc, dir, rec, len, out, outlen);
		else
			rc = tlscrypt_try13(tc, dir, rec, len, out, outlen);
		if (rc == -2)
			return (TLSCRYPT_NOKEY);
		if (rc == 0)
			rc = tlscrypt_inner(out, outlen, type);
	}
	d->seq++;
	if (rc == -1)
		return (d->unsure ? TLSCRYPT_LOST : TLSCRYPT_FAILED);
	if (tc->suite->version == TLSCRYPT_V13 &&
	    *type == TLSCRYPT_CT_HANDSHAKE && !d->unsure)
		tlscrypt_handshake(tc, dir, out, *outlen);
	return (TLSCRYPT_OK);
}

void
tlscrypt_skip(struct tlscrypt *tc, int dir)
{
	struct tlscrypt_dir	*d = &tc->d[dir];

	d->seq++;
	if (tc->suite->version != TLSCRYPT_V13 || d->phase == PHASE_EARLY)
		return;
	/* Its handshake messages went with it. */
	d->unsure = 1;
	d->hshdrlen = 0;
	d->hsleft = 0;
}

/*
 * Records of dir were lost whole, between kmin and kmax of them: the
 * one that comes next is tried at each of those sequence numbers and
 * taken at the first that authenticates, which says how many were
 * lost. Only where the keys cannot have changed unseen: TLS 1.2, and
 * TLS 1.3's application data (a KeyUpdate lost with them defeats it).
 */
int
tlscrypt_resync(struct tlscrypt *tc, int dir, uint64_t kmin, uint64_t kmax,
    const u_char *rec, size_t len, u_char *out, size_t *outlen,
    uint8_t *type, uint64_t *lost)
{
	struct tlscrypt_dir	*d = &tc->d[dir];
	uint64_t		 base = d->seq, k;
	int			 rc;

	if (tlscrypt_ready(tc, dir) == -1)
		return (TLSCRYPT_NOKEY);
	if (len < 5 || (tc->suite->version == TLSCRYPT_V13 &&
	    d->phase != PHASE_APP))
		return (TLSCRYPT_FAILED);
	for (k = kmin; k <= kmax; k++) {
		d->seq = base + k;
		if (tc->suite->version == TLSCRYPT_V12) {
			rc = tlscrypt_open12(tc, d, rec, len, out, outlen);
			*type = rec[0];
		} else if ((rc = tlscrypt_open13(d, rec, len, out,
		    outlen)) == 0)
			rc = tlscrypt_inner(out, outlen, type);
		if (rc == 0) {
			d->seq++;
			*lost = k;
			if (tc->suite->version == TLSCRYPT_V13 &&
			    *type == TLSCRYPT_CT_HANDSHAKE)
				tlscrypt_handshake(tc, dir, out, *outlen);
			return (TLSCRYPT_OK);
		}
	}
	d->seq = base;
	return (TLSCRYPT_FAILED);
}

struct tlscrypt *
tlscrypt_new(uint16_t version, uint16_t cipher, const u_char *client_random,
    const u_char *server_random, int early)
{
	const struct tlscrypt_suite	*su;
	struct tlscrypt			*tc;
	int				 i;

	if (version == 0 || (su = tlscrypt_suite(version, cipher)) == NULL)
		return (NULL);
	tc = xcalloc(1, sizeof(*tc));
	tc->suite = su;
	memcpy(tc->client_random, client_random, KEYLOG_RANDOM);
	if (server_random != NULL)
		memcpy(tc->server_random, server_random, KEYLOG_RANDOM);
	for (i = 0; i < 2; i++) {
		if ((tc->d[i].ctx = EVP_CIPHER_CTX_new()) == NULL)
			fatalx("EVP_CIPHER_CTX_new failed");
		tc->d[i].phase = version == TLSCRYPT_V13 ? PHASE_HANDSHAKE :
		    PHASE_APP;
	}
	if (version == TLSCRYPT_V13 && early)
		tc->d[0].phase = PHASE_EARLY;
	return (tc);
}

void
tlscrypt_free(struct tlscrypt *tc)
{
	int	 i;

	if (tc == NULL)
		return;
	for (i = 0; i < 2; i++)
		EVP_CIPHER_CTX_free(tc->d[i].ctx);
	explicit_bzero(tc, sizeof(*tc));
	free(tc);
}

size_t
tlscrypt_memory(void)
{
	return (sizeof(struct tlscrypt) + 2 * TLSCRYPT_CTX_BYTES);
}

void
tlscrypt_secrets(struct tlscrypt *tc, const struct keylog_secrets *k)
{
	if (k != NULL)
		tc->k = *k;
}

/*
 * One derivation and one authenticated open of each kind, so that
 * libcrypto fetches and sets up everything it would otherwise fetch at
 * first use, when the sandbox would not let it read a file.
 */
static void
tlscrypt_selftest(void)
{
	static const u_char	 secret[KEYLOG_MAX_SECRET];
	struct keylog_secrets	 k;
	struct tlscrypt		*tc;
	u_char			 rec[5 + TLSCRYPT_TAG + 8], out[sizeof(rec)];
	size_t			 i, outlen;
	uint8_t			 type;

	memset(&k, 0, sizeof(k));
	k.have = 0xff;
	for (i = 0; i < KEYLOG_NSECRETS; i++)
		k.len[i] = KEYLOG_MAX_SECRET;
	memset(rec, 0, sizeof(rec));
	rec[0] = TLSCRYPT_CT_APPDATA;
	rec[4] = sizeof(rec) - 5;
	for (i = 0; i < sizeof(tlscrypt_suites) / sizeof(tlscrypt_suites[0]);
	    i++) {
		tc = tlscrypt_new(tlscrypt_suites[i].version,
		    tlscrypt_suites[i].id, secret, secret, 0);
		if (tlscrypt_suites[i].version == TLSCRYPT_V13 &&
		    !tlscrypt_suites[i].sha384)
			memset(k.len, 32, sizeof(k.len));
		else
			memset(k.len, KEYLOG_MAX_SECRET, sizeof(k.len));
		tlscrypt_secrets(tc, &k);
		/* An all-zero record cannot authenticate: it must fail. */
		if (tlscrypt_record(tc, 0, rec, sizeof(rec), out, &outlen,
		    &type) != TLSCRYPT_FAILED)
			fatalx("libcrypto: %s did not set up",
			    tlscrypt_suites[i].name);
		tlscrypt_free(tc);
	}
}

void
tlscrypt_init(void)
{
	static int	 done;
	int		 i;

	if (done)
		return;
	done = 1;
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
		fatalx("libcrypto did not initialise");
	for (i = 0; i < AEAD_N; i++) {
		tlscrypt_ciphers[i] = EVP_CIPHER_fetch(NULL,
		    tlscrypt_cipher_names[i], NULL);
		if (tlscrypt_ciphers[i] == NULL)
			fatalx("libcrypto has no %s", tlscrypt_cipher_names[i]);
	}
	if ((tlscrypt_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (tlscrypt_prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL)) == NULL)
		fatalx("libcrypto has no HMAC or TLS1-PRF");
	tlscrypt_expand[0] = tlscrypt_expand_new("SHA256");
	tlscrypt_expand[1] = tlscrypt_expand_new("SHA384");
	tlscrypt_selftest();
}
