/*
 * explain.h: why a transaction took as long as it did. Its total time,
 * from the client's first request byte (or the SYN of a connection
 * opened for it) to the last response byte, is cut into named causes
 * that add up to it exactly, read from the session document: handshake
 * times, message times and, when packet records were kept, the data and
 * ACK pattern of the response. Runs in htracrctl; it only reads the
 * document. The JSON shape is "explain" in proto/PROTOCOL.md.
 */
#ifndef HTRACR_EXPLAIN_H
#define HTRACR_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct doc;

/* The causes, in the order they happen along a transaction. */
enum explain_cause {
	EXPLAIN_DNS,		/* the lookup of the server's address */
	EXPLAIN_CONNECT,	/* TCP handshake of a connection opened for it */
	EXPLAIN_TLS,		/* TLS handshake round trips */
	EXPLAIN_CLIENT,		/* the client slow to start or to read */
	EXPLAIN_QUEUED,		/* behind an earlier request on the connection */
	EXPLAIN_UPLOAD,		/* first to last request byte */
	EXPLAIN_NETWORK,	/* the round trip of the request to its answer */
	EXPLAIN_SERVER,		/* think time and stalls in the body */
	EXPLAIN_SLOW_START,	/* body round trips waiting for ACKs */
	EXPLAIN_LOSS,		/* from a hole to the retransmission filling it */
	EXPLAIN_ZERO_WINDOW,	/* the client's receive window at zero */
	EXPLAIN_TRANSFER,	/* the body's bytes at the path's rate */
	EXPLAIN_NCAUSES
};

struct explain {
	int		 ok;		/* 0: no complete response to explain */
	int64_t		 start_us;
	int64_t		 end_us;
	int64_t		 total_us;
	int64_t		 us[EXPLAIN_NCAUSES];
	int64_t		 rtt_us;	/* the connection's, -1 if unknown */
	int64_t		 path_rtt_us;	/* capture point to server and back */
	int		 slow_start_rtts;
	int		 loss_episodes;
	int		 zero_windows;
	int		 packets;	/* packet records were there */
	int		 opened;	/* the connection was opened for it */
	int		 dns;		/* its lookup was seen, from query_us */
	int64_t		 body_bytes;
	double		 rate;		/* body bytes per second, 0: unknown */
};

/* Each cause's name in JSON (without "_us") and for people. */
const char	*explain_key(int);
const char	*explain_name(int);

/* Explains transaction t of d into e. */
void	 explain_txn(const struct doc *, const msgpack_object *,
	    struct explain *);
/* "62 % server think time (310 ms)"; buf returned. */
const char	*explain_verdict(const struct explain *, char *, size_t);

/* The explain command's text and JSON, for the transactions given. */
int	 explain_print(FILE *, const struct doc *, const uint64_t *, size_t,
	    int);
int	 explain_json(FILE *, const struct doc *, const uint64_t *, size_t);
/* The causes of one transaction, as show --txn prints them. */
void	 explain_print_txn(FILE *, const struct doc *, uint64_t, int);
/*
 * A copy in zone of a detail item (valid only during a doc_stream
 * callback) holding what the explanations read of it, for a document
 * assembled from such copies with doc_build.
 */
const msgpack_object *explain_keep(msgpack_zone *, const msgpack_object *);
/*
 * Every transaction's explanation for the HTML page, as rows of values
 * after the list of their keys: {"keys": [...], "causes": [...],
 * "rows": [[id, verdict, explained, ...], ...]}; a row of one without
 * a complete response stops after "explained".
 */
void	 explain_json_all(FILE *, const struct doc *);

#endif
