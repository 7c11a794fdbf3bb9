/*
 * render.h: htracrctl's document renderers (HAR, HTML) and the small
 * helpers they share for reading session detail items and writing JSON.
 * Every renderer reads a struct doc (doc.h) and writes to a stdio stream
 * the client opened with the user's own privileges.
 */
#ifndef HTRACR_RENDER_H
#define HTRACR_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#include "doc.h"
#include "proto.h"

/* Each returns 0, or -1 if writing failed (errno from stdio). */
int	 render_har(FILE *, const struct doc *);
int	 render_html(FILE *, const struct doc *);
/*
 * The same written as the detail streams in (render_stream.c): *_item
 * is a doc_stream callback; *_end(h, ok) finishes the output when ok
 * (the stream ended well), frees h and returns as the renderers do.
 */
struct render_har;
struct render_har *render_har_new(FILE *);
int	 render_har_item(void *, const msgpack_object *);
int	 render_har_end(struct render_har *, int);
struct render_html;
struct render_html *render_html_new(FILE *);
int	 render_html_item(void *, const msgpack_object *);
int	 render_html_end(struct render_html *, int);
/* Their parts: the HAR file's head, one entry and its tail. */
void	 render_har_head(FILE *, const msgpack_object *, uint64_t);
void	 render_har_entry(FILE *, const struct doc *, const msgpack_object *,
	    uint64_t);
int	 render_har_tail(FILE *);
struct render_pack;
/*
 * The page up to the document; after it, the explanations, the shapes
 * of the packed document and the rest.
 */
int	 render_html_head(FILE *);
int	 render_html_rest(FILE *, const struct doc *, struct render_pack *);
/*
 * A curl command line that repeats transaction id's request, with body
 * (NULL: none) fed on its standard input. 1 if there is no such id.
 */
int	 render_curl(FILE *, const struct doc *, uint64_t, const char *,
	    size_t);

/*
 * JSON output. Strings are written as valid UTF-8 JSON that is also safe
 * inside an HTML <script> element: '<', '>', '&', U+2028 and U+2029 are
 * \u-escaped and bytes that are not UTF-8 become U+FFFD.
 */
void	 render_json_str(FILE *, const char *, size_t);
void	 render_json_cstr(FILE *, const char *);
/* Any msgpack value; bin values become null. -1 if nested too deep. */
int	 render_json_value(FILE *, const msgpack_object *);

/*
 * The document (doc.h's root) packed for the HTML page as a detail
 * stream hands over its items (render_pack.c): keys and header lines
 * said once, timeline.html unpacks them. render_pack_close ends the
 * data; -1 if writing failed, an item was nested too deep or there was
 * no session item. render_pack_code then writes the shapes as the page
 * script's code.
 */
struct render_pack;
struct render_pack *render_pack_new(FILE *);
int	 render_pack_item(struct render_pack *, const msgpack_object *);
int	 render_pack_close(struct render_pack *);
void	 render_pack_code(struct render_pack *, FILE *);
void	 render_pack_free(struct render_pack *);

/*
 * Item fields. Absent or nil reads as the fallback / NULL. Inline, as
 * proto_get is, so that a literal key's length is known when compiling.
 */
static inline int64_t
render_int(const msgpack_object *item, const char *key, int64_t fallback)
{
	const msgpack_object	*o = proto_get(item, key);

	if (o == NULL)
		return (fallback);
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (o->via.i64);
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		return ((int64_t)o->via.u64);
	return (fallback);
}

static inline int
render_bool(const msgpack_object *item, const char *key)
{
	const msgpack_object	*o = proto_get(item, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return (0);
	return (o->via.boolean);
}

/* Points into the document; *len set; NULL if absent or not a string. */
static inline const char *
render_str(const msgpack_object *item, const char *key, size_t *len)
{
	const msgpack_object	*o = proto_get(item, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR) {
		*len = 0;
		return (NULL);
	}
	*len = o->via.str.size;
	return (o->via.str.ptr);
}

/* Array field, or NULL. */
static inline const msgpack_object *
render_array(const msgpack_object *item, const char *key)
{
	const msgpack_object	*o = proto_get(item, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY)
		return (NULL);
	return (o);
}

/* Number of items in one of doc's arrays (0 if absent). */
static inline uint32_t
render_count(const msgpack_object *arr)
{
	if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY)
		return (0);
	return (arr->via.array.size);
}

/* One header of a message, as sent; points into the document. */
struct render_header {
	const char	*name;
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};
/* Header i of a "headers" array; -1 if it is not a pair of strings. */
int	 render_header_at(const msgpack_object *, uint32_t,
	    struct render_header *);
/* Value of a message's first header named name, any case, or NULL. */
const char *render_header(const msgpack_object *, const char *, size_t *);

#endif
