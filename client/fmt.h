/*
 * fmt.h: buffered output of table rows for htracrctl's text renderer.
 * Padded columns and decimal numbers are written by hand into one
 * buffer that leaves in large fwrites: printf's format parsing and
 * padding were most of the time of a large session's tables.
 */
#ifndef HTRACR_FMT_H
#define HTRACR_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fmt;

struct fmt	*fmt_new(FILE *);
/* Writes what is buffered; -1 if writing to the file ever failed. */
int		 fmt_flush(struct fmt *);
int		 fmt_free(struct fmt *);

void		 fmt_mem(struct fmt *, const char *, size_t);
void		 fmt_str(struct fmt *, const char *);
void		 fmt_char(struct fmt *, char);
void		 fmt_printf(struct fmt *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* The columns of printf: "%*s", "%-*s", "%-W.Ws", "%*llu", "%-*llu". */
void		 fmt_right(struct fmt *, int, const char *);
void		 fmt_left(struct fmt *, int, const char *);
void		 fmt_cut(struct fmt *, int, const char *);
void		 fmt_uright(struct fmt *, int, uint64_t);
void		 fmt_uleft(struct fmt *, int, uint64_t);

/*
 * Decimal digits of v at p, at least min of them (zero-padded);
 * returns the end. p needs room for 20 digits or min, the larger.
 */
char		*fmt_uint(char *, uint64_t, int);

#endif
