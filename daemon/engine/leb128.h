/*
 * leb128.h: unsigned LEB128 numbers (seven bits a byte, low bits
 * first, the top bit set on every byte but the last) and zigzag
 * signed numbers, as the frame ring's headers and the packet log
 * store them. A 64-bit number takes at most LEB_MAX bytes.
 */
#ifndef HTRACR_LEB128_H
#define HTRACR_LEB128_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define LEB_MAX	10

/* Writes v at out (LEB_MAX bytes of room); returns the bytes used. */
static inline size_t
leb_put(u_char *out, uint64_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		out[n++] = (u_char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (u_char)v;
	return (n);
}

/*
 * Reads a number of at most avail bytes at in into v; returns the
 * bytes read, 0 if it does not end within them or within LEB_MAX.
 */
static inline size_t
leb_get(const u_char *in, size_t avail, uint64_t *v)
{
	size_t	 n = 0;
	int	 shift = 0;

	*v = 0;
	while (n < avail && shift < 64) {
		*v |= (uint64_t)(in[n] & 0x7f) << shift;
		if ((in[n++] & 0x80) == 0)
			return (n);
		shift += 7;
	}
	return (0);
}

/* Small numbers of either sign to small unsigned ones, and back. */
static inline uint64_t
leb_zz(int64_t v)
{
	return (((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline int64_t
leb_unzz(uint64_t v)
{
	return ((int64_t)(v >> 1) ^ -(int64_t)(v & 1));
}

#endif /* HTRACR_LEB128_H */
