/*
 * waterfall_h2.c: what the waterfall says of HTTP/2: a line under an
 * HTTP/2 connection (its streams, how many were open at once, PING
 * round trips, GOAWAY, what could not be read) and the notes of a
 * stream's transaction (reset, push, flow-control stalls). The streams'
 * own bars are the transactions' rows, drawn on the same time axis, so
 * a multiplexed connection shows them overlapping. Runs in htracrctl
 * with the invoking user's privileges; strings go through wf_field.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "proto.h"
#include "render.h"
#include "waterfall_int.h"

#define WF_H2_MAX_STREAMS	4096	/* counted for "at once" */

/* When a transaction's stream was open: first to last byte seen. */
static int
wf_h2_span(const msgpack_object *t, int64_t *a, int64_t *b)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	int64_t			 e;

	if ((*a = render_int(req, "start_us", -1)) < 0 &&
	    (*a = render_int(resp, "start_us", -1)) < 0)
		return (0);
	*b = render_int(req, "end_us", *a);
	if ((e = render_int(resp, "end_us", -1)) > *b)
		*b = e;
	return (1);
}

/* The most streams of the connection open at one time. */
static unsigned int
wf_h2_at_once(const struct wf *w, const msgpack_object *c)
{
	const msgpack_object	*ids = render_array(c, "transactions");
	const msgpack_object	*t;
	int64_t			 a[WF_H2_MAX_STREAMS], b[WF_H2_MAX_STREAMS];
	uint32_t		 i, j, n = 0;
	unsigned int		 best = 0, k;

	for (i = 0; i < render_count(ids) && n < WF_H2_MAX_STREAMS; i++) {
		if (ids->via.array.ptr[i].type !=
		    MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    (t = doc_txn(w->d, ids->via.array.ptr[i].via.u64)) ==
		    NULL || !wf_h2_span(t, &a[n], &b[n]))
			continue;
		n++;
	}
	for (i = 0; i < n; i++) {
		for (k = 0, j = 0; j < n; j++)
			if (a[j] <= a[i] && b[j] >= a[i])
				k++;
		if (k > best)
			best = k;
	}
	return (best);
}

static void
wf_h2_rtts(const msgpack_object *h2, char *buf, size_t size, size_t *off)
{
	const msgpack_object	*r = render_array(h2, "ping_rtt_us");
	char			 d[32];
	uint32_t		 i, n = render_count(r);

	if (n == 0)
		return;
	wf_note(buf, size, off, "PING rtt");
	for (i = 0; i < n && i < 4; i++)
		if (r->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			wf_note(buf, size, off, "%s", wf_dur(d, sizeof(d),
			    (int64_t)r->via.array.ptr[i].via.u64));
}

/* One line under an HTTP/2 connection's bar; nothing for others. */
void
wf_h2_lines(const struct wf *w, const msgpack_object *c)
{
	const msgpack_object	*h2 = proto_get(c, "h2");
	const msgpack_object	*ga;
	char			 buf[512], e[48], by[16];
	size_t			 off = 0;

	if (h2 == NULL || h2->type != MSGPACK_OBJECT_MAP)
		return;
	wf_note(buf, sizeof(buf), &off, "HTTP/2%s: %lld streams, up to %u "
	    "at once", render_bool(h2, "upgraded") ? " (Upgrade: h2c)" : "",
	    (long long)render_int(h2, "streams", 0), wf_h2_at_once(w, c));
	wf_h2_rtts(h2, buf, sizeof(buf), &off);
	if ((ga = proto_get(h2, "goaway")) != NULL &&
	    ga->type == MSGPACK_OBJECT_MAP)
		wf_note(buf, sizeof(buf), &off, "GOAWAY by %s: %s, last "
		    "stream %lld", wf_field(by, sizeof(by), ga, "by"),
		    wf_field(e, sizeof(e), ga, "error"),
		    (long long)render_int(ga, "last_stream_id", 0));
	if (render_int(h2, "malformed", 0) > 0)
		wf_note(buf, sizeof(buf), &off, "%lld malformed frames",
		    (long long)render_int(h2, "malformed", 0));
	if (render_int(h2, "hpack_errors", 0) > 0)
		wf_note(buf, sizeof(buf), &off, "%lld header blocks not "
		    "decoded", (long long)render_int(h2, "hpack_errors", 0));
	if (render_int(h2, "streams_dropped", 0) > 0)
		wf_note(buf, sizeof(buf), &off, "%lld streams not followed",
		    (long long)render_int(h2, "streams_dropped", 0));
	fprintf(w->f, "%*s%s%s%s\n", 4, "", wf_c(w, C_CYAN), buf,
	    wf_c(w, C_RESET));
}

/* A stream's notes: reset, push, stalls. */
void
wf_h2_notes(const msgpack_object *t, char *buf, size_t size, size_t *off)
{
	const msgpack_object	*rs = proto_get(t, "reset");
	char			 by[16], e[48], d[32];

	if (rs != NULL && rs->type == MSGPACK_OBJECT_MAP)
		wf_note(buf, size, off, "stream reset by %s: %s (%lld)",
		    wf_field(by, sizeof(by), rs, "by"),
		    wf_field(e, sizeof(e), rs, "error"),
		    (long long)render_int(rs, "error_code", 0));
	if (render_bool(t, "pushed"))
		wf_note(buf, size, off, "server push");
	if (render_int(t, "stalls", 0) > 0)
		wf_note(buf, size, off, "flow control: blocked %lld times, %s",
		    (long long)render_int(t, "stalls", 0),
		    wf_dur(d, sizeof(d), render_int(t, "stall_us", 0)));
}
