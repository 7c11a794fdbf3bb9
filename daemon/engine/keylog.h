/*
 * keylog.h: TLS secrets from an NSS key log (the SSLKEYLOGFILE format
 * curl, Firefox and Chromium write), kept per TLS session and found by
 * the ClientHello's random. The bytes come from a client in pieces, as
 * the file grows; a line cut short waits for the rest.
 *
 * Runs in the analyzer (unprivileged, sandboxed). The store is bounded
 * (a cap on sessions; lines past it are dropped and counted), malformed
 * lines are counted and skipped, and every secret is wiped when the
 * store is freed. Secrets are never logged or packed.
 */
#ifndef HTRACR_KEYLOG_H
#define HTRACR_KEYLOG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define KEYLOG_RANDOM		32	/* ClientHello.random */
#define KEYLOG_MAX_SECRET	48	/* master secret, SHA-384 secrets */
#define KEYLOG_MAX_LINE		512	/* longer lines are malformed */
#define KEYLOG_DEFAULT_MAX	16384	/* TLS sessions kept */

/* The secrets a line may carry, by label. */
enum keylog_secret {
	KEYLOG_MASTER,		/* CLIENT_RANDOM: TLS 1.2 master secret */
	KEYLOG_CLIENT_EARLY,	/* CLIENT_EARLY_TRAFFIC_SECRET */
	KEYLOG_CLIENT_HS,	/* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	KEYLOG_SERVER_HS,	/* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	KEYLOG_CLIENT_APP,	/* CLIENT_TRAFFIC_SECRET_0 */
	KEYLOG_SERVER_APP,	/* SERVER_TRAFFIC_SECRET_0 */
	KEYLOG_NSECRETS,
};

/* The secrets of one TLS session; have says which are there. */
struct keylog_secrets {
	u_char		 random[KEYLOG_RANDOM];
	uint8_t		 have;		/* bit 1 << enum keylog_secret */
	uint8_t		 len[KEYLOG_NSECRETS];
	u_char		 secret[KEYLOG_NSECRETS][KEYLOG_MAX_SECRET];
};

struct keylog_stats {
	uint64_t	 lines;		/* lines read, comments and blanks too */
	uint64_t	 secrets;	/* secrets taken */
	uint64_t	 ignored;	/* comments, labels not used */
	uint64_t	 malformed;	/* lines that do not parse */
	uint64_t	 dropped;	/* secrets of sessions past the cap */
	uint64_t	 sessions;	/* TLS sessions with secrets */
};

struct keylog;

/* At most max TLS sessions are kept (0: KEYLOG_DEFAULT_MAX). */
struct keylog	*keylog_new(size_t max);
/* Wipes every secret. */
void		 keylog_free(struct keylog *);
/*
 * Reads len more bytes of the key log. A line is read once its newline
 * comes; keylog_end reads a last line without one. Returns the secrets
 * taken from these bytes.
 */
size_t		 keylog_feed(struct keylog *, const u_char *, size_t);
size_t		 keylog_end(struct keylog *);
/* The secrets of the session with this client random, or NULL. */
const struct keylog_secrets *keylog_find(const struct keylog *,
		    const u_char *);
const struct keylog_stats *keylog_stats(const struct keylog *);
/* Bytes the store holds, for the session budget. */
size_t		 keylog_memory(const struct keylog *);
/*
 * The secrets again as key log lines, for a pcapng Decryption Secrets
 * Block. Returns a buffer of *len bytes (NULL if there are none); the
 * caller wipes and frees it.
 */
char		*keylog_export(const struct keylog *, size_t *len);

#endif
