/*
 * h2pack.h: an HTTP/2 connection's facts (struct h2_info) as the "h2"
 * object of its connection item, and the names of HTTP/2 error codes
 * (proto/PROTOCOL.md).
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_H2PACK_H
#define HTRACR_H2PACK_H

#include <stdint.h>

#include <msgpack.h>

#include "engine.h"

void		 h2pack_info(const struct h2_info *, msgpack_packer *);
/* RFC 9113 section 7 names; NULL for a code not there. */
const char	*h2pack_error(uint32_t);

#endif
