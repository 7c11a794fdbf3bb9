/*
 * h2.h: HTTP/2 on one connection, over each direction's bytes in order
 * (TCP payload for h2c, decrypted records for h2 over TLS): the
 * connection preface, frames of every type, header blocks inflated by
 * libnghttp2's HPACK decoder (one per direction, its table kept across
 * streams), and one transaction per stream. The functions have the
 * shape of http.h's: whoever owns the connection's bytes calls
 * h2_data for what arrives in order, h2_gap for bytes lost and h2_eof
 * when a direction ends. What the connection shows is its struct
 * h2_info (engine.h).
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_H2_H
#define HTRACR_H2_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define H2_PREFACE		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN		24
#define H2_MAX_STREAMS		256	/* open at once; more are dropped */
#define H2_MAX_TABLE		(64 * 1024)	/* HPACK table bytes allowed */

struct h2_conn;

/*
 * A new HTTP/2 engine for c: the client's bytes start with the
 * connection preface, the server's with a frame.
 */
struct h2_conn	*h2_conn_new(struct session *, struct conn *);
void	 h2_conn_free(struct session *, struct h2_conn *);
void	 h2_data(struct session *, struct h2_conn *, int, const u_char *,
	    size_t, uint64_t, uint32_t);
void	 h2_gap(struct session *, struct h2_conn *, int, uint64_t,
	    uint64_t, uint32_t);
/* The direction ended: closed by FIN/RST (1) or with the capture (0). */
void	 h2_eof(struct session *, struct h2_conn *, int, uint64_t,
	    uint32_t, int);
/*
 * After "Upgrade: h2c" and its 101: t is the HTTP/1.1 request, whose
 * response comes on stream 1; the client still sends the preface.
 */
void	 h2_upgraded(struct session *, struct h2_conn *, struct txn *);
/*
 * The HTTP/2 facts of t, a transaction of an HTTP/2 connection, made
 * zeroed the first time; the pointer holds until the connection's next
 * transaction. h2_txn_get: NULL for a transaction of HTTP/1.x.
 */
struct txn_h2	*h2_txn(struct session *, const struct txn *);
const struct txn_h2 *h2_txn_get(const struct txn *);
/* Whether a client's first bytes are (so far) the connection preface. */
int	 h2_looks(const u_char *, size_t);

#endif
