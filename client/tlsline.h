/*
 * tlsline.h: a connection's "tls" object as lines for people (the text
 * tables and the terminal waterfall). Runs in htracrctl.
 */
#ifndef HTRACR_TLSLINE_H
#define HTRACR_TLSLINE_H

#include <stddef.h>

#include <msgpack.h>

#define TLSLINE_LEN	1024	/* room for any line below */

/* Each fills buf and returns it, or NULL when there is nothing to say. */
const char	*tlsline_fmt(char *, size_t, const msgpack_object *);
const char	*tlsline_cert(char *, size_t, const msgpack_object *);

#endif
