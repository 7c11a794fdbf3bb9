/*
 * tlsseal.h: TLS records sealed by the tests themselves, with keys they
 * derive on their own (HKDF-Expand-Label by one HMAC, RFC 8446 7.1;
 * AEAD by OpenSSL's EVP), to check daemon/engine/tlscrypt.c and
 * tlsdec.c against something that is not them. Included by
 * test_tlscrypt.c and test_tlsdec.c.
 */
#ifndef HTRACR_TLSSEAL_H
#define HTRACR_TLSSEAL_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const EVP_MD *
md_of(int sha384)
{
	return (sha384 ? EVP_sha384() : EVP_sha256());
}

/* HKDF-Expand-Label with an empty context, for outlen <= hash length. */
static void
t_expand_label(int sha384, const u_char *secret, size_t slen,
    const char *label, u_char *out, size_t outlen)
{
	u_char		 info[300], t[64];
	size_t		 n = 0, llen = strlen(label);
	unsigned int	 tl;

	info[n++] = (u_char)(outlen >> 8);
	info[n++] = (u_char)outlen;
	info[n++] = (u_char)(6 + llen);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, llen);
	n += 6 + llen;
	info[n++] = 0;
	info[n++] = 1;		/* HKDF-Expand's counter, T(1) */
	HMAC(md_of(sha384), secret, (int)slen, info, n, t, &tl);
	memcpy(out, t, outlen);
}

static const EVP_CIPHER *
cipher_of(int aead)
{
	if (aead == 0)
		return (EVP_aes_128_gcm());
	if (aead == 1)
		return (EVP_aes_256_gcm());
	return (EVP_chacha20_poly1305());
}

/* AEAD seal: ct then the 16-byte tag into out. */
static void
t_seal(int aead, const u_char *key, const u_char *nonce, const u_char *aad,
    size_t aadlen, const u_char *pt, size_t ptlen, u_char *out)
{
	EVP_CIPHER_CTX	*ctx = EVP_CIPHER_CTX_new();
	int		 n;

	EVP_EncryptInit_ex(ctx, cipher_of(aead), NULL, key, nonce);
	EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen);
	EVP_EncryptUpdate(ctx, out, &n, pt, (int)ptlen);
	EVP_EncryptFinal_ex(ctx, out + n, &n);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + ptlen);
	EVP_CIPHER_CTX_free(ctx);
}

static void
t_xor_seq(u_char *nonce, const u_char *iv, uint64_t seq)
{
	int	 i;

	memcpy(nonce, iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (u_char)(seq >> (8 * i));
}

/* A TLS 1.3 sender: one direction's secret, key, iv and sequence. */
struct t13 {
	int		 aead;
	int		 sha384;
	u_char		 secret[48];
	size_t		 slen;
	u_char		 key[32];
	u_char		 iv[12];
	uint64_t	 seq;
	int		 nopad;		/* records without padding */
};

static void
t13_keys(struct t13 *s)
{
	t_expand_label(s->sha384, s->secret, s->slen, "key", s->key,
	    s->aead == 0 ? 16 : 32);
	t_expand_label(s->sha384, s->secret, s->slen, "iv", s->iv, 12);
	s->seq = 0;
}

/* A record of inner type around pt; returns its length. */
static size_t
t13_seal(struct t13 *s, uint8_t type, const u_char *pt, size_t ptlen,
    u_char *rec)
{
	u_char	 inner[2048], nonce[12];
	size_t	 pad = s->nopad ? 0 : 3, n = ptlen + 1 + pad;

	memcpy(inner, pt, ptlen);
	inner[ptlen] = type;
	memset(inner + ptlen + 1, 0, pad);
	rec[0] = 23;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (u_char)((n + 16) >> 8);
	rec[4] = (u_char)(n + 16);
	t_xor_seq(nonce, s->iv, s->seq++);
	t_seal(s->aead, s->key, nonce, rec, 5, inner, n, rec + 5);
	return (5 + n + 16);
}

static void
hexs(char *out, const u_char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

#endif
