/*
 * esc.c: escaping of untrusted bytes before they reach a terminal or a
 * log. Used by every process; needs no privilege.
 */
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "xmalloc.h"

/* Length of the escaped form of one byte. */
static size_t
esc_one(unsigned char c, char out[5])
{
	if (c == '\\') {
		memcpy(out, "\\\\", 2);
		return (2);
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return (1);
	}
	snprintf(out, 5, "\\x%02x", c);
	return (4);
}

char *
esc_buf(char *dst, size_t dstsize, const void *src, size_t len)
{
	const unsigned char	*s = src;
	size_t			 i, n, off = 0;
	char			 one[5];

	if (dstsize == 0)
		return (dst);
	for (i = 0; i < len; i++) {
		/* Most bytes stand for themselves: no call for those. */
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			one[0] = (char)s[i];
			n = 1;
		} else
			n = esc_one(s[i], one);
		if (off + n + 1 > dstsize) {
			/* Leave room for "..." and the NUL. */
			if (dstsize >= 4) {
				if (off > dstsize - 4)
					off = dstsize - 4;
				memcpy(dst + off, "...", 3);
				off += 3;
			}
			break;
		}
		if (n == 1)
			dst[off] = one[0];
		else
			memcpy(dst + off, one, n);
		off += n;
	}
	dst[off] = '\0';
	return (dst);
}

char *
esc_dup(const void *src, size_t len)
{
	size_t	 size = len * 4 + 1;
	char	*dst;

	dst = xreallocarray(NULL, len + 1, 4);
	return (esc_buf(dst, size, src, len));
}
