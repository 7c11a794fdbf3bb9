/*
 * tlspack.c: a TLS connection's struct tls_info as the "tls" object of
 * its connection item (proto/PROTOCOL.md, "Session detail items"), with
 * the IANA names of versions, cipher suites and alerts. Strings from
 * the wire go out as received; unknown values are nil, never a guess.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "tlspack.h"

#define TLSPACK_KEYS	36	/* keys of the tls object */
#define TLSPACK_DIRKEYS	9

static const struct {
	uint16_t	 id;
	const char	*name;
} tlspack_ciphers[] = {
	{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
};

static const struct {
	uint8_t		 id;
	const char	*name;
} tlspack_alerts[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" },
	{ 20, "bad_record_mac" }, { 22, "record_overflow" },
	{ 40, "handshake_failure" }, { 42, "bad_certificate" },
	{ 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
	{ 45, "certificate_expired" }, { 46, "certificate_unknown" },
	{ 47, "illegal_parameter" }, { 48, "unknown_ca" },
	{ 49, "access_denied" }, { 50, "decode_error" },
	{ 51, "decrypt_error" }, { 70, "protocol_version" },
	{ 71, "insufficient_security" }, { 80, "internal_error" },
	{ 86, "inappropriate_fallback" }, { 90, "user_canceled" },
	{ 100, "no_renegotiation" }, { 109, "missing_extension" },
	{ 110, "unsupported_extension" }, { 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 115, "unknown_psk_identity" }, { 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

static void
tlspack_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

static void
tlspack_str(msgpack_packer *pk, const char *key, const void *v, size_t n)
{
	tlspack_key(pk, key);
	if (v == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_str_with_body(pk, v, n);
}

static void
tlspack_cstr(msgpack_packer *pk, const char *key, const char *v)
{
	tlspack_str(pk, key, v, v != NULL ? strlen(v) : 0);
}

static void
tlspack_u64(msgpack_packer *pk, const char *key, uint64_t v, int known)
{
	tlspack_key(pk, key);
	if (known)
		msgpack_pack_uint64(pk, v);
	else
		msgpack_pack_nil(pk);
}

static void
tlspack_time(msgpack_packer *pk, const char *key, uint64_t us)
{
	tlspack_u64(pk, key, us, us != ENGINE_NOTIME);
}

/* A bool that is nil while the message that tells was not seen. */
static void
tlspack_tri(msgpack_packer *pk, const char *key, int v, int known)
{
	tlspack_key(pk, key);
	if (!known || v == TLS_UNKNOWN)
		msgpack_pack_nil(pk);
	else if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* "TLS 1.2", or the number in hex ("0x7f1c", "0x0a0a") when unnamed. */
const char *
tlspack_version(uint16_t v, char *buf, size_t size)
{
	if (v == 0x0300)
		snprintf(buf, size, "SSL 3.0");
	else if (v >= 0x0301 && v <= 0x0304)
		snprintf(buf, size, "TLS 1.%u", (unsigned int)(v - 0x0301));
	else
		snprintf(buf, size, "0x%04x", (unsigned int)v);
	return (buf);
}

const char *
tlspack_cipher(uint16_t id)
{
	size_t	 i;

	for (i = 0; i < sizeof(tlspack_ciphers) / sizeof(tlspack_ciphers[0]);
	    i++)
		if (tlspack_ciphers[i].id == id)
			return (tlspack_ciphers[i].name);
	return (NULL);
}

static const char *
tlspack_alert(uint8_t id)
{
	size_t	 i;

	for (i = 0; i < sizeof(tlspack_alerts) / sizeof(tlspack_alerts[0]);
	    i++)
		if (tlspack_alerts[i].id == id)
			return (tlspack_alerts[i].name);
	return (NULL);
}

static void
tlspack_verkey(msgpack_packer *pk, const char *key, uint16_t v)
{
	char	 buf[16];

	tlspack_cstr(pk, key, v != 0 ? tlspack_version(v, buf, sizeof(buf)) :
	    NULL);
}

static void
tlspack_offered(msgpack_packer *pk, const struct tls_info *ti)
{
	char	 buf[16];
	size_t	 i;

	tlspack_key(pk, "versions_offered");
	if (!ti->has_offered) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, ti->noffered);
	for (i = 0; i < ti->noffered; i++) {
		tlspack_version(ti->offered[i], buf, sizeof(buf));
		msgpack_pack_str_with_body(pk, buf, strlen(buf));
	}
}

/* The protocol_name_list kept as sent, one string per name. */
static void
tlspack_alpn_offered(msgpack_packer *pk, const struct tls_info *ti)
{
	const u_char	*p = ti->alpn_offered, *end;
	size_t		 n = 0;

	tlspack_key(pk, "alpn_offered");
	if (p == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	end = p + ti->alpn_offered_len;
	for (; p < end && p + 1 + *p <= end; p += 1 + *p)
		n++;
	msgpack_pack_array(pk, n);
	for (p = ti->alpn_offered; n > 0; n--, p += 1 + *p)
		msgpack_pack_str_with_body(pk, p + 1, *p);
}

static void
tlspack_alerts_list(msgpack_packer *pk, const struct tls_info *ti)
{
	const struct tls_alert	*a;
	uint32_t		 i, n;
	int			 seen;

	n = ti->nalerts < TLS_MAX_ALERTS ? ti->nalerts : TLS_MAX_ALERTS;
	tlspack_key(pk, "alerts");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		a = &ti->alerts[i];
		seen = !a->encrypted || a->decrypted;
		msgpack_pack_map(pk, 7);
		tlspack_u64(pk, "us", a->us, 1);
		tlspack_cstr(pk, "dir", a->dir == DIR_C2S ? "c2s" : "s2c");
		tlspack_u64(pk, "level", a->level, seen);
		tlspack_u64(pk, "description", a->desc, seen);
		tlspack_cstr(pk, "name", seen ? tlspack_alert(a->desc) : NULL);
		tlspack_tri(pk, "encrypted", a->encrypted, 1);
		tlspack_tri(pk, "decrypted", a->decrypted, 1);
	}
}

static void
tlspack_dir(msgpack_packer *pk, const char *key, const struct tls_dirstats *d)
{
	static const char	*names[4] = { "ccs", "alert", "handshake",
				    "application" };
	char			 k[32];
	int			 i;

	tlspack_key(pk, key);
	msgpack_pack_map(pk, TLSPACK_DIRKEYS);
	for (i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "%s_records", names[i]);
		tlspack_u64(pk, k, d->records[i], 1);
		snprintf(k, sizeof(k), "%s_bytes", names[i]);
		tlspack_u64(pk, k, d->bytes[i], 1);
	}
	tlspack_u64(pk, "other_records", d->other, 1);
}

static void
tlspack_resumption(msgpack_packer *pk, const struct tls_info *ti)
{
	int	 sh = ti->has_server_hello, v13 = ti->version == 0x0304;
	int	 resumed = v13 ? ti->psk_accepted : ti->id_echoed;

	tlspack_tri(pk, "ticket_offered", ti->ticket_offered, ti->has_hello);
	tlspack_tri(pk, "psk_offered", ti->psk_offered, ti->has_hello);
	tlspack_tri(pk, "early_data_offered", ti->early_data, ti->has_hello);
	tlspack_tri(pk, "psk_accepted", ti->psk_accepted, sh && v13);
	tlspack_tri(pk, "session_id_echoed", ti->id_echoed, sh && !v13);
	tlspack_tri(pk, "resumed", resumed, sh);
	/* In TLS 1.3 tickets come encrypted: not seen, not denied. */
	tlspack_tri(pk, "new_session_ticket", ti->new_ticket, sh && !v13);
	tlspack_tri(pk, "hello_retry", ti->hello_retry, sh);
}

/* What a key log made of it; never the keys. */
static void
tlspack_decrypt(msgpack_packer *pk, const struct tls_info *ti)
{
	tlspack_tri(pk, "decrypted", ti->rec_decrypted > 0, 1);
	tlspack_u64(pk, "records_decrypted", ti->rec_decrypted, 1);
	tlspack_u64(pk, "records_failed", ti->rec_failed, 1);
	tlspack_u64(pk, "records_not_decrypted", ti->rec_skipped, 1);
	tlspack_u64(pk, "decrypt_resyncs", ti->resynced, 1);
	tlspack_cstr(pk, "decrypt_error", ti->dec_error);
}

void
tlspack_info(const struct tls_info *ti, msgpack_packer *pk)
{
	int	 sh = ti->has_server_hello;

	msgpack_pack_map(pk, TLSPACK_KEYS);
	tlspack_time(pk, "client_hello_us", ti->hello_us);
	tlspack_time(pk, "server_hello_us", ti->server_hello_us);
	tlspack_time(pk, "handshake_done_us", ti->done_us);
	tlspack_u64(pk, "handshake_us", ti->done_us - ti->hello_us,
	    ti->done_us != ENGINE_NOTIME && ti->hello_us != ENGINE_NOTIME &&
	    ti->done_us >= ti->hello_us);
	tlspack_u64(pk, "round_trips", ti->round_trips,
	    ti->done_us != ENGINE_NOTIME);
	tlspack_verkey(pk, "client_version", ti->client_version);
	tlspack_offered(pk, ti);
	tlspack_verkey(pk, "version", sh ? ti->version : 0);
	tlspack_u64(pk, "cipher_suite", ti->cipher, sh);
	tlspack_cstr(pk, "cipher", sh ? tlspack_cipher(ti->cipher) : NULL);
	tlspack_u64(pk, "ciphers_offered", ti->nciphers, ti->has_hello);
	tlspack_str(pk, "sni", ti->sni, ti->snilen);
	tlspack_alpn_offered(pk, ti);
	tlspack_str(pk, "alpn", ti->alpn, ti->alpnlen);
	tlspack_resumption(pk, ti);
	tlspack_str(pk, "cert_subject", ti->subject, ti->subjectlen);
	tlspack_str(pk, "cert_issuer", ti->issuer, ti->issuerlen);
	tlspack_alerts_list(pk, ti);
	tlspack_u64(pk, "alert_count", ti->nalerts, 1);
	tlspack_dir(pk, "c2s", &ti->d[DIR_C2S]);
	tlspack_dir(pk, "s2c", &ti->d[DIR_S2C]);
	tlspack_u64(pk, "resyncs", ti->resyncs, 1);
	tlspack_cstr(pk, "error", ti->error);
	tlspack_decrypt(pk, ti);
}
