/*
 * fmt.c: the text renderer's output buffer and column formatting (see
 * fmt.h). Runs in htracrctl with the invoking user's privileges. It
 * only lays out strings that the caller has already escaped.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "xmalloc.h"

#define FMT_BUFSIZE	(64 * 1024)
#define FMT_SPACES	64

struct fmt {
	FILE	*fp;
	size_t	 len;
	char	 buf[FMT_BUFSIZE];
};

static const char	 fmt_spaces[FMT_SPACES + 1] =
    "                                                                ";

struct fmt *
fmt_new(FILE *fp)
{
	struct fmt	*f;

	f = xmalloc(sizeof(*f));
	f->fp = fp;
	f->len = 0;
	return (f);
}

int
fmt_flush(struct fmt *f)
{
	if (f->len > 0)
		fwrite_unlocked(f->buf, 1, f->len, f->fp);
	f->len = 0;
	return (ferror(f->fp) ? -1 : 0);
}

int
fmt_free(struct fmt *f)
{
	int	 rc = fmt_flush(f);

	free(f);
	return (rc);
}

void
fmt_mem(struct fmt *f, const char *s, size_t len)
{
	if (len > FMT_BUFSIZE - f->len) {
		fmt_flush(f);
		if (len >= FMT_BUFSIZE) {
			fwrite_unlocked(s, 1, len, f->fp);
			return;
		}
	}
	memcpy(f->buf + f->len, s, len);
	f->len += len;
}

void
fmt_str(struct fmt *f, const char *s)
{
	fmt_mem(f, s, strlen(s));
}

void
fmt_char(struct fmt *f, char c)
{
	if (f->len == FMT_BUFSIZE)
		fmt_flush(f);
	f->buf[f->len++] = c;
}

/* For the few lines that are not rows: headings, the session header. */
void
fmt_printf(struct fmt *f, const char *format, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, format);
	n = vasprintf(&s, format, ap);
	va_end(ap);
	if (n == -1)
		return;
	fmt_mem(f, s, (size_t)n);
	free(s);
}

static void
fmt_pad(struct fmt *f, size_t n)
{
	size_t	 k;

	while (n > 0) {
		k = n < FMT_SPACES ? n : FMT_SPACES;
		fmt_mem(f, fmt_spaces, k);
		n -= k;
	}
}

static void
fmt_column(struct fmt *f, int width, const char *s, size_t len, int left)
{
	size_t	 w = width > 0 ? (size_t)width : 0;

	if (!left && len < w)
		fmt_pad(f, w - len);
	fmt_mem(f, s, len);
	if (left && len < w)
		fmt_pad(f, w - len);
}

void
fmt_right(struct fmt *f, int width, const char *s)
{
	fmt_column(f, width, s, strlen(s), 0);
}

void
fmt_left(struct fmt *f, int width, const char *s)
{
	fmt_column(f, width, s, strlen(s), 1);
}

/* At most width bytes of s, padded to width. */
void
fmt_cut(struct fmt *f, int width, const char *s)
{
	size_t	 w = width > 0 ? (size_t)width : 0;

	fmt_column(f, width, s, strnlen(s, w), 1);
}

char *
fmt_uint(char *p, uint64_t v, int min)
{
	char	 tmp[20], *q = tmp + sizeof(tmp);
	int	 n;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (n = (int)(tmp + sizeof(tmp) - q); n < min; n++)
		*p++ = '0';
	memcpy(p, q, tmp + sizeof(tmp) - q);
	return (p + (tmp + sizeof(tmp) - q));
}

void
fmt_uright(struct fmt *f, int width, uint64_t v)
{
	char	 buf[24];

	fmt_column(f, width, buf, fmt_uint(buf, v, 0) - buf, 0);
}

void
fmt_uleft(struct fmt *f, int width, uint64_t v)
{
	char	 buf[24];

	fmt_column(f, width, buf, fmt_uint(buf, v, 0) - buf, 1);
}
