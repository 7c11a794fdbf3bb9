/*
 * tlspack.h: a TLS connection's facts (struct tls_info) as the "tls"
 * object of its connection item, proto/PROTOCOL.md.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_TLSPACK_H
#define HTRACR_TLSPACK_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tls.h"

void		 tlspack_info(const struct tls_info *, msgpack_packer *);
/* IANA names; NULL for a suite not in the table. */
const char	*tlspack_cipher(uint16_t);
const char	*tlspack_version(uint16_t, char *, size_t);

#endif
