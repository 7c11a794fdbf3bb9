/*
 * dnsline.h: a "dns" item of a session's detail (a lookup) as text for
 * people: the text tables, the terminal waterfall and explain. Every
 * string is escaped. Runs in htracrctl.
 */
#ifndef HTRACR_DNSLINE_H
#define HTRACR_DNSLINE_H

#include <stddef.h>

#include <msgpack.h>

#define DNSLINE_LEN	1024	/* room for any line below */

/* "example.test A" ; fills buf and returns it. */
const char	*dnsline_query(char *, size_t, const msgpack_object *);
/* "192.0.2.1, CNAME www.example.test (ttl 300)"; "-" with none. */
const char	*dnsline_answers(char *, size_t, const msgpack_object *);
/* "NOERROR", or "no answer" when the lookup was not answered. */
const char	*dnsline_rcode(char *, size_t, const msgpack_object *);

#endif
