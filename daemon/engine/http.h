/*
 * http.h: HTTP/1.x on one connection: an llhttp parser per direction,
 * request/response pairing, headers, bodies (gzip/deflate measured) and
 * resynchronisation after gaps and errors.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_HTTP_H
#define HTRACR_HTTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct http_conn;

/* What a direction does with its bytes. */
enum http_mode {
	HTTP_PARSE,
	HTTP_RESYNC,		/* skipping to the next message start */
	HTTP_TUNNEL,		/* after an upgrade: counted, not parsed */
	HTTP_PROBE,		/* first bytes: is this HTTP at all? */
	HTTP_OFF,		/* it was not */
};

struct http_conn *http_conn_new(struct session *, struct conn *, int);
void	 http_conn_free(struct session *, struct http_conn *);
/*
 * Returns the bytes it used: fewer than given only when a 101 switched
 * the connection to HTTP/2 (http_h2c says which transaction), and the
 * rest are HTTP/2's.
 */
size_t	 http_data(struct session *, struct http_conn *, int, const u_char *,
	    size_t, uint64_t, uint32_t);
/* The request whose 101 switched the connection to h2c, or NULL. */
struct txn *http_h2c(const struct http_conn *);
void	 http_gap(struct session *, struct http_conn *, int, uint64_t,
	    uint64_t, uint32_t);
/* The client acknowledged the server's stream: see http.c. */
void	 http_acked(struct http_conn *, int32_t);
void	 http_eof(struct session *, struct http_conn *, int, uint64_t,
	    uint32_t, int);
/* 1 if buf starts a request (dir DIR_C2S) or a response (DIR_S2C). */
int	 http_looks(const u_char *, size_t, int);
/* Offset of the first message start in buf, its direction in *dir; -1. */
long	 http_find_start(const u_char *, size_t, int, int *);
/* Names srv after a Host (or :authority) value unless it has a name. */
void	 http_server_name(struct session *, struct server *, const char *,
	    size_t);
/* Gives back a message's kept body; the record itself is the arena's. */
void	 http_msg_free(struct session *, struct msg *);

#endif
