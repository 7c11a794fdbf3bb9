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
void	 pack_conn(const struct conn *, int, uint64_t, msgpack_packer *);
/* headers 0: the messages' "headers" lists are left out. */
void	 pack_txn(const struct txn *, int headers, msgpack_packer *);

#endif
