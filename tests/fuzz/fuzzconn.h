/*
 * fuzzconn.h: what the fuzz targets that drive the engine share. One TCP
 * connection, client 10.0.0.1:1234 to server 10.0.0.2:80, over Ethernet
 * and IPv4, built around the bytes a target chooses; and the draining
 * of a finished session through every way a client can read it.
 */
#ifndef HTRACR_FUZZCONN_H
#define HTRACR_FUZZCONN_H

#include <stddef.h>
#include <stdint.h>

struct session;

struct fuzz_conn {
	struct session	*s;
	uint32_t	 seq[2];	/* next sequence number; 1: client */
	uint64_t	 ts;
};

/*
 * A session as the targets load one, keeping bodies and frames, or, with
 * lean, nothing beyond the model (as analyze asks).
 */
struct session	*fuzz_session(int);
/* One segment with any sequence and acknowledgement numbers. */
void	fuzz_segment(struct session *, uint64_t, int, uint32_t, uint32_t,
	    uint8_t, const uint8_t *, size_t);
/* The three-way handshake, and fc set up to follow it. */
void	fuzz_open(struct fuzz_conn *, struct session *);
/*
 * len bytes from one side (c2s: the client) in parts segments, the
 * sequence number first moved by jump (0 none, 1 back a little, 2
 * ahead a little, 3 far ahead); the clock moves step tenths of a
 * second first.
 */
void	fuzz_send(struct fuzz_conn *, int, int, int, int, const uint8_t *,
	    size_t);
/* Packs the whole detail every way, fetches bodies, dumps the frames. */
void	fuzz_drain(struct session *);

#endif
