/*
 * fmt.c: output for people laid out by hand: padded columns and decimal
 * numbers go into one buffer that leaves in large fwrites, because
 * printf's format parsing and padding were most of the time of a large
 * session's tables; and the compact forms of byte counts, durations and
 * times. Only strings already escaped are laid out here. Runs in
 * htracrctl with the invoking user's privileges.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "log.h"
#include "xmalloc.h"

#define FMT_BUFSIZE	(64 * 1024)
#define FMT_NSPACES	64

struct fmt_out {
	FILE	*fp;
	size_t	 len;
	char	 buf[FMT_BUFSIZE];
};

static const char	 fmt_spaces[FMT_NSPACES + 1] =
    "                                                                ";

struct fmt_out *
fmt_out_new(FILE *fp)
{
	struct fmt_out	*f;

	f = xmalloc(sizeof(*f));
	f->fp = fp;
	f->len = 0;
	return (f);
}

int
fmt_out_flush(struct fmt_out *f)
{
	if (f->len > 0)
		fwrite_unlocked(f->buf, 1, f->len, f->fp);
	f->len = 0;
	return (ferror(f->fp) ? -1 : 0);
}

int
fmt_out_free(struct fmt_out *f)
{
	int	 rc = fmt_out_flush(f);

	free(f);
	return (rc);
}

void
fmt_mem(struct fmt_out *f, const char *s, size_t len)
{
	if (len > FMT_BUFSIZE - f->len) {
		fmt_out_flush(f);
		if (len >= FMT_BUFSIZE) {
			fwrite_unlocked(s, 1, len, f->fp);
			return;
		}
	}
	memcpy(f->buf + f->len, s, len);
	f->len += len;
}

void
fmt_puts(struct fmt_out *f, const char *s)
{
	fmt_mem(f, s, strlen(s));
}

void
fmt_putc(struct fmt_out *f, char c)
{
	if (f->len == FMT_BUFSIZE)
		fmt_out_flush(f);
	f->buf[f->len++] = c;
}

void
fmt_printf(struct fmt_out *f, const char *format, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, format);
	n = vasprintf(&s, format, ap);
	va_end(ap);
	if (n == -1)
		fatalx("out of memory");
	fmt_mem(f, s, (size_t)n);
	free(s);
}

void
fmt_pad(struct fmt_out *f, size_t n)
{
	size_t	 k;

	while (n > 0) {
		k = n < FMT_NSPACES ? n : FMT_NSPACES;
		fmt_mem(f, fmt_spaces, k);
		n -= k;
	}
}

void
fmt_column(struct fmt_out *f, int width, const char *s, size_t len, int left)
{
	size_t	 w = width > 0 ? (size_t)width : 0;

	if (!left && len < w)
		fmt_pad(f, w - len);
	fmt_mem(f, s, len);
	if (left && len < w)
		fmt_pad(f, w - len);
}

void
fmt_right(struct fmt_out *f, int width, const char *s)
{
	fmt_column(f, width, s, strlen(s), 0);
}

void
fmt_left(struct fmt_out *f, int width, const char *s)
{
	fmt_column(f, width, s, strlen(s), 1);
}

/* At most width bytes of s, padded to width. */
void
fmt_cut(struct fmt_out *f, int width, const char *s)
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
fmt_uright(struct fmt_out *f, int width, uint64_t v)
{
	char	 buf[24];

	fmt_column(f, width, buf, fmt_uint(buf, v, 0) - buf, 0);
}

void
fmt_uleft(struct fmt_out *f, int width, uint64_t v)
{
	char	 buf[24];

	fmt_column(f, width, buf, fmt_uint(buf, v, 0) - buf, 1);
}

/*
 * The compact forms below are made by hand: they run several times for
 * every row. Each is built in tmp and copied as snprintf would, cut to
 * the caller's size.
 */
char *
fmt_copy(char *buf, size_t size, const char *tmp, const char *end)
{
	size_t	 len = end - tmp;

	if (size == 0)
		return (buf);
	if (len >= size)
		len = size - 1;
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	return (buf);
}

char *
fmt_bytes(char *buf, size_t size, uint64_t v)
{
	static const char	 units[] = "KMGT";
	unsigned long long	 scale = 1024, t;
	char			 tmp[FMT_NUMLEN], *p = tmp;
	int			 u = 0;

	if (v < 1024)
		return (fmt_copy(buf, size, tmp, fmt_uint(tmp, v, 0)));
	/* Integer tenths, rounded. */
	while (v / scale >= 1024 && u < 3) {
		scale *= 1024;
		u++;
	}
	t = (v / scale) * 10 + ((v % scale) * 10 + scale / 2) / scale;
	if (t < 100) {
		p = fmt_uint(p, t / 10, 0);
		*p++ = '.';
		p = fmt_uint(p, t % 10, 0);
	} else
		p = fmt_uint(p, (t + 5) / 10, 0);
	*p++ = units[u];
	return (fmt_copy(buf, size, tmp, p));
}

char *
fmt_duration(char *buf, size_t size, int64_t us)
{
	unsigned long long	 u, t;
	char			 tmp[FMT_NUMLEN], *p = tmp;

	u = us < 0 ? 0ULL - (unsigned long long)us : (unsigned long long)us;
	if (us < 0)
		*p++ = '-';
	/* Integer arithmetic, rounded to the digits shown. */
	if (u < 1000) {
		p = fmt_uint(p, u, 0);
		memcpy(p, "us", 2);
		p += 2;
	} else if ((t = (u + 50) / 100) < 10000) {
		p = fmt_uint(p, t / 10, 0);
		*p++ = '.';
		p = fmt_uint(p, t % 10, 0);
		memcpy(p, "ms", 2);
		p += 2;
	} else if ((t = (u + 5000) / 10000) < 6000) {
		p = fmt_uint(p, t / 100, 0);
		*p++ = '.';
		p = fmt_uint(p, t % 100, 2);
		*p++ = 's';
	} else {
		p = fmt_uint(p, u / 60000000, 0);
		*p++ = 'm';
		p = fmt_uint(p, u / 1000000 % 60, 2);
		*p++ = 's';
	}
	return (fmt_copy(buf, size, tmp, p));
}

char *
fmt_clock(char *buf, size_t size, uint64_t us)
{
	time_t		 t = (time_t)(us / 1000000);
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%llu", (unsigned long long)us);
	return (buf);
}

size_t
fmt_digits(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return (n);
}
