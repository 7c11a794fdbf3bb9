/*
 * body.c: message bodies (see body.h). A body is seen once, in pieces,
 * as llhttp hands them over; nothing here holds more than body_keep
 * bytes of it, and an inflate stream lives only while its body passes.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Compressed input is
 * hostile: decoding stops at BODY_MAX_INFLATE bytes and at any error.
 */
#include <sys/types.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "xmalloc.h"

#define BODY_ZLIB_MEM		(sizeof(z_stream) + 48 * 1024)
#define BODY_MAX_INFLATE	(64ULL * 1024 * 1024)	/* per body: bombs */

enum body_state {
	BODY_PLAIN,		/* kept as it comes */
	BODY_PENDING,		/* encoded; the first bytes say how */
	BODY_INFLATE,		/* deflate: inflated as it passes */
	BODY_DONE,		/* gzip kept compressed, or decoding gave up */
};

static u_char	 body_scratch[32 * 1024];

void
body_start(struct body_dec *b, const struct msg *m)
{
	b->state = m->encoded ? BODY_PENDING : BODY_PLAIN;
}

void
body_stop(struct session *s, struct body_dec *b)
{
	if (b->z != NULL) {
		inflateEnd(b->z);
		free(b->z);
		b->z = NULL;
		session_uncharge(s, BODY_ZLIB_MEM);
	}
	b->state = BODY_DONE;
}

size_t
body_free(struct msg *m)
{
	size_t	 n = m->bodycap;

	free(m->body);
	m->body = NULL;
	m->bodycap = 0;
	return (n);
}

/* Appends to the kept bytes, up to body_keep; hint sizes the buffer. */
static void
body_keep(struct session *s, struct msg *m, const u_char *p, size_t n,
    uint64_t hint)
{
	size_t	 room, keep = s->cfg.body_keep, ncap;

	if (m->body_evicted || keep == 0)
		return;
	if (m->gapped) {		/* what follows a hole is not kept */
		m->body_truncated = 1;
		return;
	}
	room = keep > m->bodylen ? keep - m->bodylen : 0;
	if (n > room) {
		m->body_truncated = 1;
		n = room;
	}
	if (n == 0)
		return;
	if (m->bodylen + n > m->bodycap) {
		ncap = m->bodycap ? m->bodycap : 1024;
		if (m->bodycap == 0 && hint > 0 && hint < keep)
			ncap = n + (size_t)hint;
		while (ncap < m->bodylen + n)
			ncap *= 2;
		if (ncap > keep)
			ncap = keep;
		m->body = xreallocarray(m->body, 1, ncap);
		/*
		 * What the allocator gave, not what was asked: a body of
		 * a few bytes takes a chunk of 32, and there may be a
		 * million of them.
		 */
		ncap = malloc_usable_size(m->body);
		session_charge(s, ncap - m->bodycap);
		m->bodycap = ncap;
	}
	memcpy(m->body + m->bodylen, p, n);
	m->bodylen += n;
}

/* Raw deflate or a zlib/gzip header, decided from the first bytes. */
static int
body_open(struct session *s, struct body_dec *b, const u_char *p, size_t n)
{
	int	 wbits = 15 + 32;

	if (n >= 2 && !((p[0] & 0x0f) == 8 && ((p[0] << 8) | p[1]) % 31 == 0))
		wbits = -15;
	b->z = xcalloc(1, sizeof(*b->z));
	if (inflateInit2(b->z, wbits) != Z_OK) {
		free(b->z);
		b->z = NULL;
		b->state = BODY_DONE;
		return (-1);
	}
	session_charge(s, BODY_ZLIB_MEM);
	b->state = BODY_INFLATE;
	return (0);
}

static void
body_inflate(struct session *s, struct body_dec *b, struct msg *m,
    const u_char *p, size_t n)
{
	size_t	 got;
	int	 r;

	b->z->next_in = (Bytef *)(uintptr_t)p;
	b->z->avail_in = (uInt)n;
	do {
		b->z->next_out = body_scratch;
		b->z->avail_out = sizeof(body_scratch);
		r = inflate(b->z, Z_NO_FLUSH);
		got = sizeof(body_scratch) - b->z->avail_out;
		m->decoded_bytes += got;
		body_keep(s, m, body_scratch, got, 0);
	} while (r == Z_OK && b->z->avail_out == 0 &&
	    m->decoded_bytes < BODY_MAX_INFLATE);
	if (r != Z_OK || m->decoded_bytes >= BODY_MAX_INFLATE)
		body_stop(s, b);
}

/* Keeps the last four body bytes: a gzip member ends with its size. */
static void
body_tail(struct msg *m, const u_char *p, size_t n)
{
	if (n >= 4)
		memcpy(m->tail, p + n - 4, 4);
	else {
		memmove(m->tail, m->tail + n, 4 - n);
		memcpy(m->tail + 4 - n, p, n);
	}
}

/*
 * A gzip body is not inflated while parsing: its decoded size is in its
 * trailer, and the kept (compressed) bytes are inflated only when a
 * client asks for them (body_decode).
 */
void
body_data(struct session *s, struct body_dec *b, struct msg *m,
    const u_char *p, size_t n, uint64_t hint)
{
	if (b->state == BODY_PENDING && m->body_bytes == 0 && n >= 2 &&
	    p[0] == 0x1f && p[1] == 0x8b) {
		m->lazy = 1;
		b->state = BODY_DONE;
	}
	m->body_bytes += n;
	body_tail(m, p, n);
	if (b->state == BODY_PENDING && body_open(s, b, p, n) == -1)
		return;
	if (b->state == BODY_INFLATE)
		body_inflate(s, b, m, p, n);
	else if (!m->encoded || m->lazy)
		body_keep(s, m, p, n, hint);
}

void
body_end(struct session *s, struct body_dec *b, struct msg *m)
{
	body_stop(s, b);
	if (m->lazy)
		m->decoded_bytes = (uint64_t)m->tail[0] |
		    (uint64_t)m->tail[1] << 8 | (uint64_t)m->tail[2] << 16 |
		    (uint64_t)m->tail[3] << 24;
}

/*
 * Inflates a lazily kept gzip body into out (outlen bytes at most).
 * Returns the bytes produced; a damaged stream yields what came before.
 */
size_t
body_decode(const struct msg *m, u_char *out, size_t outlen)
{
	z_stream	 z;
	size_t		 got;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return (0);
	z.next_in = (Bytef *)(uintptr_t)m->body;
	z.avail_in = (uInt)m->bodylen;
	z.next_out = out;
	z.avail_out = (uInt)outlen;
	(void)inflate(&z, Z_SYNC_FLUSH);
	got = outlen - z.avail_out;
	inflateEnd(&z);
	return (got);
}
