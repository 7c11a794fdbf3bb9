/*
 * tlsdec.h: a TLS connection decrypted with its session's key log. The
 * record layer (tls.c) hands every record to a sink here; protected
 * ones are decrypted (tlscrypt.c) and their plaintext goes to the
 * HTTP/2 engine (h2.c) when ALPN chose "h2", else to HTTP/1.x (http.c). Records that wait for keys are queued, in
 * order, within TLSDEC_MAX_QUEUE bytes; when the key log grows the
 * queue is tried again.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_TLSDEC_H
#define HTRACR_TLSDEC_H

#include <sys/types.h>

#include <stdint.h>

#include "engine.h"

#define TLSDEC_MAX_QUEUE	(256 * 1024)	/* record bytes awaiting keys */

struct tls_conn;
struct tlsdec;

/* Attaches itself to tc as its sink. */
struct tlsdec	*tlsdec_new(struct session *, struct conn *, struct tls_conn *);
void		 tlsdec_free(struct session *, struct tlsdec *);
/* The key log grew: records waiting for keys are tried again. */
void		 tlsdec_retry(struct session *, struct tlsdec *);
/* The direction ended (closed: by FIN or RST, not the capture's end). */
void		 tlsdec_eof(struct session *, struct tlsdec *, int, uint64_t,
		    uint32_t, int);

#endif
