/*
 * json.h: msgpack objects as JSON text. Always valid JSON: strings
 * from the wire pass through when they are valid UTF-8, control
 * characters are escaped and each byte of an invalid sequence becomes
 * \u00XX; bin values become base64 strings.
 */
#ifndef HTRACR_JSON_H
#define HTRACR_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct doc;

/*
 * The buffered writer itself, for renderers that write shapes of their
 * own (ndjson.c): output leaves in large writes, at json_out_flush and
 * json_out_free, and stdio's error flag says whether writing failed.
 */
struct json_out;
struct json_out *json_out_new(FILE *);
void	 json_out_free(struct json_out *);	/* flushes first */
void	 json_out_flush(struct json_out *);
void	 json_out_raw(struct json_out *, const void *, size_t);
void	 json_out_str(struct json_out *, const void *, size_t);
void	 json_out_value(struct json_out *, const msgpack_object *);
void	 json_out_u64(struct json_out *, uint64_t);
void	 json_out_i64(struct json_out *, int64_t);

void	 json_write(FILE *, const msgpack_object *);
void	 json_write_str(FILE *, const void *, size_t);
/*
 * The msgpack value at p (never read past end) as JSON, what
 * json_write writes for it decoded (proto_decode); depth is where it
 * sits in its message (the message's map: 0), for the limit on
 * nesting. Returns where the value ended; NULL if the bytes are not
 * one value (what was written of it is left).
 */
const char *json_write_raw(FILE *, const char *, const char *, int);
/* The whole document, one JSON object and a newline. */
int	 json_render(FILE *, const struct doc *);

/*
 * The same object written item by item as the detail streams in, each
 * item as its msgpack bytes from *p to at most end (the callback shape
 * doc_stream_raw wants), never decoded: *p is moved past the item; -1
 * if they are not one msgpack value (reported) or writing failed.
 * json_stream_free closes the object and returns -1 if writing failed.
 */
struct json_stream;
struct json_stream *json_stream_new(FILE *);
int	 json_stream_raw(void *, const char **, const char *);
int	 json_stream_free(struct json_stream *);

#endif
