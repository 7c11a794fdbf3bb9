/*
 * waterfall_int.h: what waterfall.c (the chart) shares with
 * waterfall_detail.c (one transaction, one connection) and the other
 * waterfall_*.c files: the view of a document on the terminal and the
 * pieces they print. Private to them, so its names keep the short wf_
 * prefix.
 */
#ifndef HTRACR_WATERFALL_INT_H
#define HTRACR_WATERFALL_INT_H

#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#include "doc.h"
#include "waterfall.h"

/* ANSI colours; empty strings when colour is off. */
#define C_RESET		"\033[0m"
#define C_DIM		"\033[2m"
#define C_BOLD		"\033[1m"
#define C_RED		"\033[31m"
#define C_GREEN		"\033[32m"
#define C_YELLOW	"\033[33m"
#define C_BLUE		"\033[34m"
#define C_MAGENTA	"\033[35m"
#define C_CYAN		"\033[36m"

struct wf {
	FILE				*f;
	const struct doc		*d;
	const struct waterfall_opts	*o;
	int				 color;
	int				 width;
	int				 label;	/* columns left of the chart */
	int				 cols;	/* columns of the chart */
	int64_t				 t0;	/* offsets start here */
	int64_t				 from;	/* absolute window */
	int64_t				 to;
	int64_t				 scale;	/* microseconds per column */
};

void	 wf_setup(struct wf *, FILE *, const struct doc *,
	    const struct waterfall_opts *);
/* An SGR sequence, or "" when colour is off. */
const char *wf_c(const struct wf *, const char *);
/* A field of an item, escaped into buf; "-" when absent. */
const char *wf_field(char *, size_t, const msgpack_object *,
	    const char *);
const char *wf_dur(char *, size_t, int64_t);
const char *wf_bytes(char *, size_t, int64_t);
int	 wf_contains(const char *, size_t, const char *);
/* Index of a packet class, -1 if unknown; its colour. */
int	 wf_class(const char *, size_t);
const char *wf_class_color(int);
/* The lines under a transaction's bar: sizes, timings, then notes. */
void	 wf_txn_detail(const struct wf *,
	    const msgpack_object *);
void	 wf_txn_notes(const struct wf *,
	    const msgpack_object *);
void	 wf_conn_notes(const struct wf *,
	    const msgpack_object *);
/* A TLS connection's handshake on its bar, and its lines of text. */
void	 wf_tls_bar(const struct wf *, const msgpack_object *, char *,
	    const char **);
void	 wf_tls_lines(const struct wf *, const msgpack_object *, int);
/* An HTTP/2 connection's line, a stream's notes (waterfall_h2.c). */
void	 wf_h2_lines(const struct wf *, const msgpack_object *);
void	 wf_h2_notes(const msgpack_object *, char *, size_t, size_t *);
/* Appends one note to buf, separated by "; ". */
void	 wf_note(char *, size_t, size_t *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* Fills columns [a, b) of a chart row; clipped to the window. */
void	 wf_fill(const struct wf *, char *, const char **, int64_t,
	    int64_t, char, const char *);

/* The filters (waterfall_filter.c). */
int	 wf_status_match(const char *, int64_t);	/* 1, 0, -1 bad */
int	 wf_filtered(const struct waterfall_opts *);
int	 wf_txn_ok(const struct wf *, const msgpack_object *);
int	 wf_conn_ok(const struct wf *, const msgpack_object *);

/* The summary lines (waterfall_sum.c). */
/* Figures for one summary line (per server, per session). */
struct wf_sum {
	uint64_t	 txns, bytes;
	uint64_t	 classes[7];	/* 0 none, 1-5 Nxx, 6 other */
	uint64_t	 packets, retrans, opened, reused;
	int64_t		*waits;
	size_t		 nwaits;
	size_t		 capwaits;
};
void	 wf_sum_txn(struct wf_sum *, const msgpack_object *);
void	 wf_sum_conn(struct wf_sum *, const msgpack_object *);
/* Prints the line for what and clears s. */
void	 wf_sum_print(const struct wf *, struct wf_sum *, const char *);

#endif
