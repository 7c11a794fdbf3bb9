/*
 * ndjson.h: one JSON object per line, one line per transaction, with
 * the session id and its connection's fields flattened in, for log
 * pipelines (dump --format ndjson, watch --json). The shape is in
 * proto/PROTOCOL.md, "ndjson lines". Runs in htracrctl with the
 * invoking user's privileges.
 */
#ifndef HTRACR_NDJSON_H
#define HTRACR_NDJSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct doc;

/*
 * A writer fed detail items in the order the daemon sends them: the
 * session, then connections, then transactions (each connection before
 * the transactions on it). It keeps each connection's flattened fields
 * until its transactions come: for every connection of a session, or,
 * with slots set, only for the last slots connections seen (a watch
 * sends the connection just before its transaction).
 */
struct ndjson;
struct ndjson *ndjson_new(FILE *, size_t);
/* The session id to write on every line, where no session item says. */
void	 ndjson_session(struct ndjson *, uint64_t);
/* One item, of any type; doc_stream's callback shape. -1: write failed. */
int	 ndjson_item(void *, const msgpack_object *);
/* Writes out what is buffered; -1 if writing failed. */
int	 ndjson_flush(struct ndjson *);
/* Flushes, frees; -1 if writing failed at any point. */
int	 ndjson_free(struct ndjson *);

/* The whole document, as dump's format table wants it. */
int	 ndjson_render(FILE *, const struct doc *);

#endif
