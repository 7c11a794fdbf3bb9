/*
 * httppost.h: the smallest HTTP/1.1 client that export needs: one
 * POST of a body to a plain-HTTP URL on a connection of its own, and
 * the status and start of the reply. No TLS, no redirects, no proxy.
 * Runs in htracrctl with the invoking user's privileges.
 */
#ifndef HTRACR_HTTPPOST_H
#define HTRACR_HTTPPOST_H

#include <stddef.h>

struct httppost_url {
	char	*host;		/* name or address, IPv6 without brackets */
	char	*port;		/* decimal */
	char	*authority;	/* host[:port] as the URL has it: Host */
	char	*path;		/* from '/', query included */
};

/*
 * Splits an http:// URL; an empty path (or "/") becomes defpath.
 * -1 after saying what is wrong with it.
 */
int	 httppost_parse(struct httppost_url *, const char *, const char *);
void	 httppost_url_free(struct httppost_url *);

/* What came back: the status, and the first bytes of the body. */
#define HTTPPOST_BODY_MAX	4096
struct httppost_reply {
	int	 status;
	char	 reason[64];	/* as sent, not escaped */
	char	 body[HTTPPOST_BODY_MAX];
	size_t	 bodylen;
};

/*
 * POSTs len bytes of body with the given Content-Type. 0 when a reply
 * came (whatever its status); -1 after saying why none did (no such
 * host, refused, timed out, not HTTP).
 */
int	 httppost_send(const struct httppost_url *, const char *,
	    const void *, size_t, struct httppost_reply *);

#endif
