/*
 * pack.h: msgpack encoding of the engine's model as the "Session detail
 * items" of proto/PROTOCOL.md. Every field name there is binding.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_PACK_H
#define HTRACR_PACK_H

#include <msgpack.h>

#include "engine.h"

void	 pack_session(const struct session *, msgpack_packer *);
void	 pack_server(const struct server *, msgpack_packer *);
/* What pack_conn and pack_txn put in beyond the brief fields. */
#define PACK_PACKETS	0x1	/* a connection's packet records */
#define PACK_HEADERS	0x2	/* the messages' header lists */
#define PACK_FULL	0x4	/* every field, not only the brief ones */
/*
 * A connection without its list of transaction ids: what a watcher gets
 * with each transaction, which would otherwise cost the length of the
 * list each time, quadratic over a connection carrying many.
 */
#define PACK_NO_TXNS	0x8
/*
 * With PACK_FULL, messages with only what the waterfall reads of them
 * (pack_msg_lean), and never their header lists.
 */
#define PACK_LEAN	0x10

void	 pack_conn(const struct conn *, int, uint64_t, msgpack_packer *);
void	 pack_txn(const struct txn *, int, msgpack_packer *);

#endif
