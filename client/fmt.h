/*
 * fmt.h: a buffered writer for rows laid out by hand, and the compact
 * number forms htracrctl prints (client/fmt.c).
 */
#ifndef HTRACR_FMT_H
#define HTRACR_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FMT_NUMLEN	64	/* room for any compact form below */

struct fmt_out;

/* Writes to fp; fmt_out_free flushes, frees, and is -1 on a write error. */
struct fmt_out	*fmt_out_new(FILE *);
int		 fmt_out_flush(struct fmt_out *);
int		 fmt_out_free(struct fmt_out *);

void	 fmt_mem(struct fmt_out *, const char *, size_t);
void	 fmt_puts(struct fmt_out *, const char *);
void	 fmt_putc(struct fmt_out *, char);
/* For the few lines that are not rows: headings, the session header. */
void	 fmt_printf(struct fmt_out *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fmt_pad(struct fmt_out *, size_t);
/* s padded to width, on the right (left set) or on the left. */
void	 fmt_column(struct fmt_out *, int, const char *, size_t, int);
void	 fmt_right(struct fmt_out *, int, const char *);
void	 fmt_left(struct fmt_out *, int, const char *);
/* At most width bytes of s, padded to width. */
void	 fmt_cut(struct fmt_out *, int, const char *);
void	 fmt_uright(struct fmt_out *, int, uint64_t);
void	 fmt_uleft(struct fmt_out *, int, uint64_t);

/* v in decimal at p, at least min digits; returns the end. */
char	*fmt_uint(char *, uint64_t, int);
/* Copies tmp..end into buf as snprintf would; returns buf. */
char	*fmt_copy(char *, size_t, const char *, const char *);
size_t	 fmt_digits(uint64_t);

/* 1.5K, 20M: bytes; 950us, 1.20ms, 3.05s, 2m05s: durations. */
char	*fmt_bytes(char *, size_t, uint64_t);
char	*fmt_duration(char *, size_t, int64_t);
/* Local time, to the second. */
char	*fmt_clock(char *, size_t, uint64_t);

#endif
