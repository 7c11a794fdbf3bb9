/*
 * keyfile.h: a TLS key log (SSLKEYLOGFILE) read by htracrctl, as the
 * invoking user, and sent to the daemon for a session (keys, op 203) in
 * pieces. The daemon never opens it. Its bytes are secrets: nothing
 * here prints them; only the daemon's counts are reported.
 */
#ifndef HTRACR_KEYFILE_H
#define HTRACR_KEYFILE_H

#include <sys/types.h>

#include <stdint.h>

#include <msgpack.h>

struct client;

struct keyfile {
	int		 fd;
	const char	*path;
	off_t		 off;		/* bytes sent so far */
};

/* Opens path for reading; -1 after saying why. */
int	 keyfile_open(struct keyfile *, const char *);
void	 keyfile_close(struct keyfile *);
/*
 * Sends the bytes of the file past those already sent (all of them the
 * first time) for session; end says the file is complete. *res is the
 * last reply (its "running" says whether the session still captures),
 * valid until the next reply is read. -1 after an error was reported.
 */
int	 keyfile_send(struct client *, struct keyfile *, uint64_t, int,
	    msgpack_object *);
/* Warns about what the daemon's counts in res show went wrong. */
void	 keyfile_report(const struct keyfile *, const msgpack_object *);

#endif
