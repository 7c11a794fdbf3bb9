/*
 * render_int.h: the JSON writer's buffer, shared by render.c (the
 * document as JSON) and render_pack.c (the same, packed for the HTML
 * page). Not for other renderers: they write through render.h.
 */
#ifndef HTRACR_RENDER_INT_H
#define HTRACR_RENDER_INT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

/* Deeper than anything the daemon sends (PROTO_MAX_DEPTH) plus the root. */
#define RENDER_JSON_DEPTH	32

/*
 * JSON goes out through a buffer of its own and leaves in large
 * writes: a session's page is a hundred megabytes of short pieces, and
 * a stdio call for each cost more than making them.
 */
#define RENDER_BUFSIZE		(64 * 1024)
/* A single string's: a large one on the stack costs each call. */
#define RENDER_STRBUF		512

struct render_buf {
	FILE	*f;
	size_t	 len;
	size_t	 size;
	char	*b;
};

static inline void
render_buf_init(struct render_buf *r, FILE *f, char *b, size_t size)
{
	r->f = f;
	r->len = 0;
	r->size = size;
	r->b = b;
}

static inline void
render_flush(struct render_buf *r)
{
	if (r->len > 0)
		fwrite(r->b, 1, r->len, r->f);
	r->len = 0;
}

static inline void
render_put(struct render_buf *r, const void *p, size_t n)
{
	if (n > r->size - r->len) {
		render_flush(r);
		if (n >= r->size) {
			fwrite(p, 1, n, r->f);
			return;
		}
	}
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static inline void
render_putc(struct render_buf *r, char c)
{
	if (r->len == r->size)
		render_flush(r);
	r->b[r->len++] = c;
}

/* A string as JSON safe inside HTML (render.h's render_json_str). */
void	 render_str_buf(struct render_buf *, const char *, size_t);
/* A number, without printf. */
void	 render_json_u64(struct render_buf *, uint64_t);
/* Any value at nesting depth; -1 past RENDER_JSON_DEPTH. */
int	 render_json_depth(struct render_buf *, const msgpack_object *, int);

#endif /* HTRACR_RENDER_INT_H */
