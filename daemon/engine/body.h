/*
 * body.h: what the engine keeps of an HTTP message body: its first
 * body_keep bytes (decoded when compressed) and its decoded size. Bytes
 * as sent in a raw frame the session keeps are not copied: the body
 * holds where they lie, and is put together when a client asks for it.
 * gzip bodies are measured from their trailer and inflated only when a
 * client asks for them; deflate bodies are inflated as they pass.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_BODY_H
#define HTRACR_BODY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "engine.h"

/* Decoding state of the body being parsed in one direction. */
struct body_dec {
	int		 state;
	z_stream	*z;
	u_char		 tail[4];	/* last body bytes: the gzip ISIZE */
};

void	 body_start(struct body_dec *, const struct msg *);
/*
 * hint: body bytes still to come after these, when the framing says
 * (Content-Length), else BODY_HINT_NONE.
 */
#define BODY_HINT_NONE	UINT64_MAX
void	 body_data(struct session *, struct body_dec *, struct msg *,
	    const u_char *, size_t, uint64_t);
void	 body_end(struct session *, struct body_dec *, struct msg *);
void	 body_stop(struct session *, struct body_dec *);
/* Frees what m keeps of its body; returns the bytes it held. */
size_t	 body_free(struct msg *);
int	 body_gather(const struct session *, const struct msg *, u_char *);
size_t	 body_decode(const u_char *, size_t, u_char *, size_t);

#endif
