/*
 * text.h: htracrctl's output for people: the session document (servers,
 * connections, transactions, optionally packets) as aligned tables,
 * and the smaller replies (sessions list, status, one-line summaries).
 * Every string from the wire is escaped (common/esc.h) before printing.
 */
#ifndef HTRACR_TEXT_H
#define HTRACR_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct doc;
struct render_opts;

int	 text_render(FILE *, const struct doc *, const struct render_opts *);

/*
 * The same tables, printed item by item as the detail streams in, so
 * that nothing but the servers' names is kept: text_stream_item has
 * the callback shape doc_stream wants. text_stream_free ends the
 * output and returns -1 if writing failed.
 */
struct text_stream;
struct text_stream *text_stream_new(FILE *, const struct render_opts *);
int	 text_stream_item(void *, const msgpack_object *);
int	 text_stream_free(struct text_stream *);

/* "session 3: file.pcap: 49 frames, 1 connection, 5 transactions" */
void	 text_session_line(FILE *, const msgpack_object *);
/* The sessions reply's array as a table. */
void	 text_sessions(FILE *, const msgpack_object *, int);
/* The status reply. */
void	 text_status(FILE *, const msgpack_object *, int);

/* Compact human forms; each returns buf. */

#endif
