/*
 * tcp.h: TCP connections of a session: the table keyed by the 4-tuple,
 * per-direction streams (stream.c) and the connection model (states, counters,
 * packet records). In-order bytes go to http.c.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_TCP_H
#define HTRACR_TCP_H

#include <stdint.h>

#include "decode.h"
#include "engine.h"
#include "stream.h"

#define TCP_LINGER_US	(30ULL * 1000000) /* closed: live state kept this long */

/* A connection's live state: gone some time after it closes. */
struct tcp_live {
	struct tcp_live	*hnext;
	struct tcp_live	*cnext;		/* on the closed list */
	struct tcp_live	*cprev;
	struct conn	*conn;
	uint32_t	 hash;
	struct stream	 h[2];
	struct http_conn *http;
	struct tls_conn	*tls;		/* set: TLS, and http is NULL */
	struct h2_conn	*h2;		/* set: h2c, and http is NULL */
	struct tlsdec	*dec;		/* set: TLS with a key log */
	uint64_t	 closed_us;
	uint8_t		 sure;		/* roles known (SYN or ports) */
	uint8_t		 decided;	/* HTTP or not decided */
	uint8_t		 on_closed;
	uint8_t		 shed;		/* closed: parser gone (tcp.c) */
	uint8_t		 scans;
	uint8_t		 fed;		/* bytes were handed on already */
};

void	 tcp_init(struct session *);
void	 tcp_free(struct session *);
void	 tcp_set_ports(struct session *);
void	 tcp_packet(struct session *, const struct decode_pkt *, uint64_t,
	    uint32_t);
void	 tcp_finish(struct session *, uint64_t);
/* Frees the live state of a connection about to be evicted. */
void	 tcp_forget(struct session *, struct conn *);
/* The key log grew: TLS connections waiting for keys try again. */
void	 tcp_keys_added(struct session *);

#endif
