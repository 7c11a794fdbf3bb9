/*
 * doc.h: a session's detail as htracrctl holds it, assembled from the
 * streamed items of the detail reply (proto/PROTOCOL.md). Every
 * renderer (text, JSON, HAR, HTML) reads this one structure.
 *
 * root is a msgpack map shaped like the JSON document:
 *   {"htracr": 1, "session": {...}, "servers": [...],
 *    "connections": [...], "transactions": [...], "dns": [...]}
 * with each array holding the items of that type in the order received
 * (ids ascending). The by-id tables give O(1) lookup; an id with no item
 * maps to NULL.
 */
#ifndef HTRACR_DOC_H
#define HTRACR_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct doc {
	msgpack_zone		*zone;		/* owns every object below */
	msgpack_object		 root;
	const msgpack_object	*session;
	const msgpack_object	*servers;	/* array objects in root */
	const msgpack_object	*connections;
	const msgpack_object	*transactions;
	const msgpack_object	*lookups;	/* the "dns" items */

	const msgpack_object	**server_by_id;	/* index: id, size n+1 */
	size_t			 nserver_by_id;
	const msgpack_object	**conn_by_id;
	size_t			 nconn_by_id;
	const msgpack_object	**txn_by_id;
	size_t			 ntxn_by_id;
	const msgpack_object	**dns_by_id;
	size_t			 ndns_by_id;
	uint64_t		*dns_first;	/* by lookup id: first conn tied */
};

/* Lookups by id; NULL when out of range or absent. */
const msgpack_object	*doc_server(const struct doc *, uint64_t);
const msgpack_object	*doc_conn(const struct doc *, uint64_t);
const msgpack_object	*doc_txn(const struct doc *, uint64_t);
const msgpack_object	*doc_dns(const struct doc *, uint64_t);
/*
 * The "dns" item of the lookup connection c is tied to, when c is the
 * first connection tied to it (the one that waited for it); else NULL.
 */
const msgpack_object	*doc_conn_dns(const struct doc *,
			    const msgpack_object *);

struct client;

/*
 * Builds d from n detail items (maps with "type", PROTOCOL.md) that
 * live in zone; d takes zone over and doc_free frees it. Items of an
 * unknown type are skipped. -1 if there is no session item.
 */
int	 doc_build(struct doc *, msgpack_zone *, const msgpack_object **,
	    size_t);
/* What a detail request asks for (the flags of doc_fetch/doc_stream). */
#define DOC_PACKETS	0x1	/* each connection's packets */
#define DOC_NO_HEADERS	0x2	/* leave out header lists */
#define DOC_BRIEF	0x4	/* only the fields the text summary prints */
#define DOC_LEAN	0x8	/* messages: what the waterfall reads */

/* Fetches a session's detail (0: the newest); -1 after reporting why. */
int	 doc_fetch(struct doc *, struct client *, uint64_t, int);
/*
 * Only what the close-up of transaction txn, or else of connection
 * conn, reads (PROTOCOL.md, detail): a few items instead of the whole
 * session. An older daemon sends the whole; the views read the same.
 */
int	 doc_fetch_closeup(struct doc *, struct client *, uint64_t, int,
	    uint64_t, uint64_t);
/*
 * The same detail, handed to fn item by item without keeping it (each
 * item is valid only during its call), for renderers that need not
 * hold the whole session. fn returns -1 to stop.
 */
int	 doc_stream(struct client *, uint64_t, int,
	    int (*)(void *, const msgpack_object *), void *);
/*
 * The same with each item as its msgpack bytes, not decoded: fn reads
 * the item at *p (never past end) and moves *p to its end.
 */
int	 doc_stream_raw(struct client *, uint64_t, int,
	    int (*)(void *, const char **, const char *), void *);

/*
 * Copies src into dst, every string and container in zone, so that an
 * item handed to a doc_stream callback can be kept past the call.
 */
void	 doc_copy(msgpack_zone *, msgpack_object *, const msgpack_object *);

void	 doc_free(struct doc *);

#endif
