/*
 * tcp.h: TCP connections of a session: the table keyed by the 4-tuple,
 * per-direction reassembly and the connection model (states, counters,
 * packet records). In-order bytes go to http.c.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_TCP_H
#define HTRACR_TCP_H

#include <stdint.h>

#include "decode.h"
#include "engine.h"

#define TCP_OOO_BYTES	(256 * 1024)	/* out-of-order bytes per direction */
#define TCP_OOO_SEGS	64		/* out-of-order segments per direction */
#define TCP_LINGER_US	(30ULL * 1000000) /* closed: live state kept this long */

void	 tcp_init(struct session *);
void	 tcp_free(struct session *);
void	 tcp_set_ports(struct session *);
void	 tcp_packet(struct session *, const struct decode_pkt *, uint64_t,
	    uint32_t);
void	 tcp_finish(struct session *, uint64_t);

#endif
