/*
 * tls.h: TLS on one connection, without keys: the record layer over
 * each direction's reassembled bytes (records split over segments, many
 * records per segment, gaps counted and resynchronised, never guessed),
 * the cleartext handshake (tlsmsg.c) and the facts it shows (struct
 * tls_info in engine.h).
 *
 * Every record ends in one place in tls.c, tls_deliver(). A consumer
 * that can decrypt attaches a sink with tls_set_sink: from then on it
 * gets every record whole, header and body in one piece, marked
 * protected or not (application data, and what TLS 1.2 sends after
 * ChangeCipherSpec), with its direction, the time of the packet that
 * completed it and whether bytes were lost before it; tls_conn_hello
 * and tls_conn_info give the randoms, version and cipher suite to find
 * and use its keys by.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_TLS_H
#define HTRACR_TLS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define TLS_MAX_RECORD		(16384 + 2048)	/* body, RFC 5246 6.2.3 */
#define TLS_MAX_HANDSHAKE	(64 * 1024)	/* bytes kept of one message */
#define TLS_MAX_ALPN_LIST	256		/* offered list kept, bytes */
#define TLS_MAX_NAME		255		/* SNI, subject, issuer kept */

struct tls_conn;

/* One record as a sink gets it. */
struct tls_record {
	uint8_t		 type;		/* content type as on the wire */
	uint16_t	 version;	/* of the record header */
	uint16_t	 len;		/* body bytes */
	const u_char	*rec;		/* 5 + len bytes; NULL if damaged */
	int		 damaged;	/* a gap took some of its bytes */
	int		 prot;		/* protected: decrypt before use */
	int		 lost;		/* bytes of dir were lost before it */
	uint64_t	 lostbytes;	/* if so, bytes of records lost whole */
	uint64_t	 us;		/* the packet that completed it */
	uint32_t	 frame;
};

/* What the hellos carried that keys are found and made by. */
struct tls_hello {
	u_char		 client_random[32];
	u_char		 server_random[32];
	u_char		 sid[32];	/* the client's legacy_session_id */
	uint8_t		 sidlen;
	uint8_t		 has_client_random;
	uint8_t		 has_server_random;
};

typedef void	(*tls_sink_fn)(void *, struct tls_conn *, int,
		    const struct tls_record *);

/*
 * Whether the first bytes of a connection (dir: who sent them) start
 * TLS: a ClientHello record from the client, or for a connection picked
 * up mid-stream a well-formed record header from either side.
 */
int	 tls_looks(const u_char *, size_t, int, int);
/* synced: the direction whose bytes start at a record (-1: both). */
struct tls_conn	*tls_conn_new(struct session *, struct conn *, int);
void	 tls_conn_free(struct session *, struct tls_conn *);
void	 tls_data(struct session *, struct tls_conn *, int, const u_char *,
	    size_t, uint64_t, uint32_t);
void	 tls_gap(struct session *, struct tls_conn *, int, uint64_t,
	    uint64_t, uint32_t);
void	 tls_eof(struct session *, struct tls_conn *, int, uint64_t,
	    uint32_t);

void	 tls_set_sink(struct tls_conn *, tls_sink_fn, void *);
const struct tls_hello *tls_conn_hello(const struct tls_conn *);
struct tls_info	*tls_conn_info(const struct tls_conn *);

/* The handshake messages in clear (tlsmsg.c). */
void	 tlsmsg_client_hello(struct session *, struct tls_info *,
	    struct tls_hello *, const u_char *, size_t);
void	 tlsmsg_server_hello(struct session *, struct tls_info *,
	    struct tls_hello *, const u_char *, size_t);
void	 tlsmsg_certificate(struct session *, struct tls_info *,
	    const u_char *, size_t);
/* TLS 1.3's EncryptedExtensions, once decrypted: the ALPN chosen. */
void	 tlsmsg_encrypted_extensions(struct session *, struct tls_info *,
	    const u_char *, size_t);

#endif
