/*
 * esc.h: make bytes from the wire safe for a terminal or a log line.
 * Printable ASCII passes through; everything else (control bytes, DEL,
 * bytes >= 0x80, backslash) becomes a \xNN or \\ escape.
 */
#ifndef HTRACR_ESC_H
#define HTRACR_ESC_H

#include <stddef.h>

/*
 * Writes the escaped form of src into dst (always NUL-terminated when
 * dstsize > 0), truncating with "..." if it does not fit. Returns dst.
 */
char	*esc_buf(char *dst, size_t dstsize, const void *src, size_t len);

/* Returns the escaped form of src in a fresh string. Caller frees. */
char	*esc_dup(const void *src, size_t len);

#endif
