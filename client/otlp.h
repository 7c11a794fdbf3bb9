/*
 * otlp.h: a session as OpenTelemetry traces in OTLP/JSON (the
 * protobuf-JSON form of an ExportTraceServiceRequest): one trace per
 * connection, the connection its root span, each transaction a CLIENT
 * span under it with its phases as child spans. The shape is in
 * proto/PROTOCOL.md, "OTLP traces". Runs in htracrctl with the
 * invoking user's privileges.
 */
#ifndef HTRACR_OTLP_H
#define HTRACR_OTLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct doc;

/*
 * A batch ready to send: one complete request body of len bytes that
 * holds nspans spans. Returns -1 to stop the export.
 */
typedef int	(*otlp_emit_fn)(void *, const char *, size_t, size_t);

/*
 * A writer fed detail items in the order the daemon sends them (the
 * session, servers, connections, then transactions). otlp_new writes
 * one request body to fp; otlp_new_batched hands emit a body each time
 * maxspans spans or maxbytes bytes are reached, and the rest at the end.
 */
struct otlp;
struct otlp	*otlp_new(FILE *);
struct otlp	*otlp_new_batched(size_t, size_t, otlp_emit_fn, void *);
/* One item, of any type; doc_stream's callback shape. -1: stop. */
int		 otlp_item(void *, const msgpack_object *);
/* Spans written so far (those of batches handed to emit included). */
uint64_t	 otlp_spans(const struct otlp *);
/* Ends the body, or sends the last batch; frees. -1 if anything failed. */
int		 otlp_free(struct otlp *);

/* The whole document, as dump's format table wants it. */
int		 otlp_render(FILE *, const struct doc *);

#endif
