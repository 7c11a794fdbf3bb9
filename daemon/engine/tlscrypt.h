/*
 * tlscrypt.h: decryption of one TLS connection's protected records with
 * the secrets of a key log: TLS 1.3 (AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305; handshake, then application traffic secrets, key
 * updates) and TLS 1.2 AEAD suites (AES-GCM, ChaCha20-Poly1305, keys
 * from the master secret by the PRF). CBC and other suites are not
 * decrypted: tlscrypt_new says so.
 *
 * Runs in the analyzer (unprivileged, sandboxed). OpenSSL's libcrypto
 * is set up by tlscrypt_init before the sandbox is entered, so that no
 * provider or configuration is looked for afterwards. A record that
 * fails authentication is reported as such; nothing is made of it.
 */
#ifndef HTRACR_TLSCRYPT_H
#define HTRACR_TLSCRYPT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "keylog.h"

#define TLSCRYPT_V12		0x0303
#define TLSCRYPT_V13		0x0304

/* What tlscrypt_record made of a record. */
enum tlscrypt_result {
	TLSCRYPT_OK,		/* plaintext in out, its content type in type */
	TLSCRYPT_FAILED,	/* did not authenticate (or too short) */
	TLSCRYPT_NOKEY,		/* the secret it needs is not known yet */
	TLSCRYPT_LOST,		/* a damaged record before it hid a key change */
};

struct tlscrypt;

/* Before the sandbox: libcrypto's algorithms fetched and tried. Fatal. */
void		 tlscrypt_init(void);
/* 1 if this version and cipher suite can be decrypted. */
int		 tlscrypt_supported(uint16_t version, uint16_t cipher);

/*
 * A connection of this version and suite, with the hellos' randoms
 * (server_random only used by TLS 1.2); early: the client may send
 * 0-RTT data. NULL if tlscrypt_supported says no. The memory it takes
 * is tlscrypt_memory().
 */
struct tlscrypt	*tlscrypt_new(uint16_t version, uint16_t cipher,
		    const u_char *client_random, const u_char *server_random,
		    int early);
void		 tlscrypt_free(struct tlscrypt *);
size_t		 tlscrypt_memory(void);
/* Bytes a record's body has beyond its plaintext (no padding counted). */
size_t		 tlscrypt_overhead(const struct tlscrypt *);
/* Takes (a copy of) the secrets known so far; may be called again. */
void		 tlscrypt_secrets(struct tlscrypt *,
		    const struct keylog_secrets *);
/*
 * One protected record of dir (0: client to server), header included
 * (len bytes). On TLSCRYPT_OK, *outlen bytes of plaintext are in out
 * (at least len bytes of room) and *type is the record's real content
 * type. TLSCRYPT_NOKEY leaves the connection as it was, to try again
 * once more secrets came; any other result counts the record as read.
 */
int		 tlscrypt_record(struct tlscrypt *, int dir, const u_char *rec,
		    size_t len, u_char *out, size_t *outlen, uint8_t *type);
/*
 * The record of dir was lost: its sequence number still counts. In TLS
 * 1.3 it may have changed the keys (a Finished, a KeyUpdate): the next
 * record is tried with the keys before and after such a change, and if
 * neither authenticates it is TLSCRYPT_LOST, not TLSCRYPT_FAILED.
 */
void		 tlscrypt_skip(struct tlscrypt *, int dir);
/*
 * After kmin to kmax records of dir were lost whole: the record that
 * follows, tried at each of those sequence numbers. TLSCRYPT_OK with
 * *lost records skipped, as tlscrypt_record; TLSCRYPT_FAILED if none
 * authenticates (the connection is then as it was).
 */
int		 tlscrypt_resync(struct tlscrypt *, int dir, uint64_t kmin,
		    uint64_t kmax, const u_char *rec, size_t len, u_char *out,
		    size_t *outlen, uint8_t *type, uint64_t *lost);

#endif
