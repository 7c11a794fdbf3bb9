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
#include "leb128.h"
#include "xmalloc.h"

#define BODY_ZLIB_MEM		(sizeof(z_stream) + 48 * 1024)
#define BODY_MAX_INFLATE	(64ULL * 1024 * 1024)	/* per body: bombs */
#define BODY_REF_MAX		15	/* bytes a packed reference takes */
#define BODY_REFS_MAX		(UINT32_MAX / 4)	/* bytes of them */

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
	memset(b->tail, 0, sizeof(b->tail));
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

/* Whether the packed references lie in the heap, not in the record. */
static int
body_refs_out(const struct msg_body *k)
{
	return (k->nrefs > 0 && k->reflen > BODY_REFS_INLINE);
}

static const u_char *
body_refs(const struct msg_body *k)
{
	return (body_refs_out(k) ? k->u.refs : k->u.in);
}

size_t
body_free(struct msg *m)
{
	struct msg_body	*k = m->kept;
	size_t		 n = 0;

	if (k == NULL)
		return (0);
	if (body_refs_out(k)) {
		n = malloc_usable_size(k->u.refs);
		free(k->u.refs);
	} else if (k->nrefs == 0) {
		n = session_size(k->u.body);
		free(k->u.body);
	}
	memset(&k->u, 0, sizeof(k->u));
	memset(&k->last, 0, sizeof(k->last));
	k->nrefs = k->reflen = 0;
	return (n);
}

/*
 * A body's references but the newest are packed in the order they came:
 * the step to the frame of the one after it (zigzag: a hole filled late
 * hands over bytes of a later frame first), the offset in the frame, the
 * length; LEB128 numbers. A body in full-sized segments takes about four
 * bytes a segment, not twelve, and the frame of the first is the newest
 * one's less the steps. Packs last, which next (in frame) follows.
 */
static void
body_ref_pack(struct session *s, struct msg_body *k, uint32_t next)
{
	u_char	 one[BODY_REF_MAX], *p;
	size_t	 n, had, ncap;

	n = leb_put(one, leb_zz((int64_t)next - k->last.frame));
	n += leb_put(one + n, k->last.off);
	n += leb_put(one + n, k->last.len);
	if (k->reflen + n <= BODY_REFS_INLINE) {
		memcpy(k->u.in + k->reflen, one, n);
		k->reflen += (uint32_t)n;
		return;
	}
	had = body_refs_out(k) ? malloc_usable_size(k->u.refs) : 0;
	if (had < k->reflen + n) {
		ncap = had ? had * 2 : 32;
		if (ncap < (size_t)k->reflen + n)
			ncap = (size_t)k->reflen + n;
		if (had == 0) {
			p = xmalloc(ncap);
			memcpy(p, k->u.in, k->reflen);
		} else
			p = xreallocarray(k->u.refs, ncap, 1);
		k->u.refs = p;
		session_charge(s, malloc_usable_size(p) - had);
	}
	memcpy(k->u.refs + k->reflen, one, n);
	k->reflen += (uint32_t)n;
}

/*
 * The next packed reference of k at *at into r, whose frame it is; -1
 * if the packing is bad. The frame of the one after it is r's, stepped.
 */
static int
body_ref_next(const struct msg_body *k, uint32_t *at, struct body_ref *r,
    uint32_t *next)
{
	const u_char	*refs = body_refs(k);
	uint64_t	 v[3];
	size_t		 got;
	int		 j;

	for (j = 0; j < 3; j++) {
		if ((got = leb_get(refs + *at, k->reflen - *at, &v[j])) == 0)
			return (-1);
		*at += (uint32_t)got;
	}
	r->frame = *next;
	r->off = (uint32_t)v[1];
	r->len = (uint32_t)v[2];
	*next += (uint32_t)leb_unzz(v[0]);
	return (0);
}

/* The frame of k's first reference: the newest's, less every step. */
static int
body_ref_first(const struct msg_body *k, uint32_t *frame)
{
	const u_char	*refs = body_refs(k);
	uint64_t	 v;
	uint32_t	 at = 0, steps = 0;
	size_t		 got;
	int		 j;

	while (at < k->reflen)
		for (j = 0; j < 3; j++) {
			if ((got = leb_get(refs + at, k->reflen - at,
			    &v)) == 0)
				return (-1);
			if (j == 0)
				steps += (uint32_t)leb_unzz(v);
			at += (uint32_t)got;
		}
	*frame = k->last.frame - steps;
	return (0);
}

/*
 * Copies the bytes m keeps by reference, bodylen of them, into out.
 * Returns -1 when a frame holding some of them is gone.
 */
int
body_gather(const struct session *s, const struct msg *m, u_char *out)
{
	const struct msg_body	*k = m->kept;
	struct ring_pos		 pos;
	struct body_ref		 r;
	struct proto_frame	 h;
	const u_char		*f;
	uint32_t		 i, at = 0, next;

	if (k == NULL || k->nrefs == 0)
		return (0);
	if (body_ref_first(k, &next) == -1)
		return (-1);
	memset(&pos, 0, sizeof(pos));
	for (i = 0; i < k->nrefs; i++) {
		if (i + 1 == k->nrefs)
			r = k->last;
		else if (body_ref_next(k, &at, &r, &next) == -1)
			return (-1);
		f = ring_frame(&s->ring, r.frame, &pos, &h);
		if (f == NULL || r.off > h.caplen || r.len > h.caplen - r.off)
			return (-1);
		memcpy(out, f + r.off, r.len);
		out += r.len;
	}
	return (0);
}

/*
 * Keeps n bytes at p as a reference to the raw frame they lie in, when
 * the session keeps that frame and they are its bytes as sent (not
 * decrypted, not inflated). Returns 0 when they must be copied.
 */
static int
body_ref(struct session *s, struct msg_body *k, const u_char *p, size_t n)
{
	struct body_ref	*r = &k->last;
	uintptr_t	 a = (uintptr_t)s->src_p, b = (uintptr_t)p;
	uint32_t	 off;

	if (s->src_frame == 0 || !s->cfg.keep_frames || b < a ||
	    b - a > s->src_len || n > s->src_len - (b - a) ||
	    !ring_holds(&s->ring, s->src_frame) ||
	    k->reflen > BODY_REFS_MAX)
		return (0);
	off = s->src_off + (uint32_t)(b - a);
	if (k->nrefs > 0 && r->frame == s->src_frame &&
	    r->off + r->len == off) {
		r->len += (uint32_t)n;
		return (1);
	}
	if (k->nrefs > 0)
		body_ref_pack(s, k, s->src_frame);
	r->frame = s->src_frame;
	r->off = off;
	r->len = (uint32_t)n;
	k->nrefs++;
	return (1);
}

/*
 * Bytes that are not the frames' own follow bytes kept by reference:
 * the body is copied out of the frames, to go on as a copy. Returns -1
 * (the body is gone) when the frames are.
 */
static int
body_unref(struct session *s, struct msg *m)
{
	struct msg_body	*k = m->kept;
	u_char		*buf;

	buf = xmalloc(k->len);
	if (body_gather(s, m, buf) == -1) {
		free(buf);
		session_uncharge(s, body_free(m));
		k->len = 0;
		m->body_evicted = 1;
		s->c.evicted_bodies++;
		return (-1);
	}
	session_uncharge(s, body_free(m));
	k->u.body = buf;
	session_charge(s, session_size(buf));
	return (0);
}

/*
 * Appends to the kept bytes, up to body_keep; hint sizes the buffer.
 * Bytes as sent in a kept frame are kept as a reference to it, until
 * the first that are not.
 */
static void
body_keep(struct session *s, struct msg *m, const u_char *p, size_t n,
    uint64_t hint)
{
	struct msg_body	*k = m->kept;
	size_t		 room, keep = s->cfg.body_keep, ncap, had, cap;

	if (m->body_evicted || keep == 0)
		return;
	if (keep > UINT32_MAX / 2)	/* a message's counts are 32-bit */
		keep = UINT32_MAX / 2;
	if (m->gapped) {		/* what follows a hole is not kept */
		m->body_truncated = 1;
		return;
	}
	had = k != NULL ? k->len : 0;
	room = keep > had ? keep - had : 0;
	if (n > room) {
		m->body_truncated = 1;
		n = room;
	}
	if (n == 0)
		return;
	if (k == NULL)
		k = m->kept = session_alloc(s, sizeof(*k));
	if ((k->nrefs > 0 || k->u.body == NULL) && body_ref(s, k, p, n)) {
		k->len += n;
		return;
	}
	if (k->nrefs > 0 && body_unref(s, m) == -1)
		return;
	cap = k->u.body != NULL ? malloc_usable_size(k->u.body) : 0;
	if (k->len + n > cap) {
		/*
		 * The whole body when its length is known: a one-byte
		 * body takes a chunk of 32, not of a kilobyte.
		 */
		ncap = cap ? cap : 1024;
		if (cap == 0 && hint < keep)
			ncap = n + (size_t)hint;
		while (ncap < k->len + n)
			ncap *= 2;
		if (ncap > keep)
			ncap = keep;
		session_uncharge(s, session_size(k->u.body));
		k->u.body = xreallocarray(k->u.body, 1, ncap);
		/*
		 * What the allocator gave, not what was asked: a body of
		 * a few bytes takes a chunk of 32, and there may be a
		 * million of them.
		 */
		session_charge(s, session_size(k->u.body));
	}
	memcpy(k->u.body + k->len, p, n);
	k->len += n;
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
body_tail(struct body_dec *b, const u_char *p, size_t n)
{
	if (n >= 4)
		memcpy(b->tail, p + n - 4, 4);
	else {
		memmove(b->tail, b->tail + n, 4 - n);
		memcpy(b->tail + 4 - n, p, n);
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
	body_tail(b, p, n);
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
	struct msg_body	*k = m->kept;
	size_t		 had;

	body_stop(s, b);
	/* the references packed grow no more: their spare room goes */
	if (k != NULL && body_refs_out(k) &&
	    (had = malloc_usable_size(k->u.refs)) > k->reflen) {
		session_uncharge(s, had);
		k->u.refs = xreallocarray(k->u.refs, k->reflen, 1);
		session_charge(s, malloc_usable_size(k->u.refs));
	}
	if (m->lazy)
		m->decoded_bytes = (uint64_t)b->tail[0] |
		    (uint64_t)b->tail[1] << 8 | (uint64_t)b->tail[2] << 16 |
		    (uint64_t)b->tail[3] << 24;
}

/*
 * Inflates the kept bytes of a lazily kept gzip body (in, inlen) into
 * out (outlen bytes at most). Returns the bytes produced; a damaged
 * stream yields what came before.
 */
size_t
body_decode(const u_char *in, size_t inlen, u_char *out, size_t outlen)
{
	z_stream	 z;
	size_t		 got;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return (0);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)inlen;
	z.next_out = out;
	z.avail_out = (uInt)outlen;
	(void)inflate(&z, Z_SYNC_FLUSH);
	got = outlen - z.avail_out;
	inflateEnd(&z);
	return (got);
}
