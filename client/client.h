/*
 * client.h: htracrctl's side of the client protocol (proto/PROTOCOL.md):
 * connect to the daemon's Unix socket, say hello, send requests and
 * read their replies and streams. Runs in htracrctl with the invoking
 * user's privileges; replies are decoded but their strings stay raw
 * wire bytes, escaped by whoever prints them.
 */
#ifndef HTRACR_CLIENT_H
#define HTRACR_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct client {
	int		 fd;
	const char	*path;		/* socket path, for messages */
	uint64_t	 next_id;
	int		 capture;	/* the daemon can capture live */
	int		 timeout_ms;	/* silence before giving up; -1 never */
	int64_t		 last_error;	/* code of the last error reply */
	int64_t		 quiet_error;	/* an expected code: not printed */
	msgpack_zone	*zone;		/* replies land here unless told */
};

/* What client_read found. */
#define CLIENT_RESULT	0		/* "ok": val is the result map */
#define CLIENT_CHUNK	1		/* "chunk": val is the item array */
#define CLIENT_END	2		/* "end": val is the item count */
#define CLIENT_FAIL	(-1)		/* error, already reported */

/* Connects and says hello; reports what went wrong and returns -1. */
int	 client_open(struct client *, const char *);
void	 client_close(struct client *);
/* 0 if something accepts connections at path, else -1 with errno. */
int	 client_probe(const char *);

/*
 * Starts a request: a map of nfields more entries after op and id.
 * Returns the id to match the replies with.
 */
uint64_t client_begin(struct client *, msgpack_sbuffer *, msgpack_packer *,
	    int, size_t);
/*
 * Sends the request built in sb followed by tail (tail bytes are part
 * of the message: the body of a bin whose header ends sb). Frees sb.
 */
int	 client_send(struct client *, msgpack_sbuffer *, const void *, size_t);
/* The same with len bytes of a file at off as the tail, by sendfile. */
int	 client_send_file(struct client *, msgpack_sbuffer *, int, off_t,
	    size_t);
/* The request in sb with the open descriptor fd handed over with it. */
int	 client_send_fd(struct client *, msgpack_sbuffer *, int);

/*
 * Reads the next reply to id. Objects live in zone (the client's own,
 * cleared first, when zone is NULL) until it is cleared or freed.
 * Error replies are printed with the daemon's code name and message.
 */
int	 client_read(struct client *, uint64_t, msgpack_zone *,
	    msgpack_object *);
/*
 * The same for a stream whose items the caller walks as msgpack bytes:
 * a chunk is CLIENT_CHUNK with its n items from *items to at most *end
 * (valid until the next read), not decoded; any other reply is as
 * client_read returns it.
 */
int	 client_read_raw(struct client *, uint64_t, const char **,
	    const char **, uint32_t *, msgpack_object *);
/* Sends a request with no fields beyond op and id; reads its result. */
int	 client_call(struct client *, int, msgpack_object *);
/* Non-blocking: reports an error reply already waiting, if any. */
int	 client_poll_error(struct client *);

const char	*client_err_name(int64_t);
/* Set by a signal handler: blocking reads and writes give up. */
extern volatile sig_atomic_t	client_interrupted;

#endif
