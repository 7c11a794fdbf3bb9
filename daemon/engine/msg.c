/*
 * msg.c: a message's start line and headers as sent, kept in one text
 * block per message with offsets into it, each piece appended as llhttp
 * hands it over; and what the engine asks of them. Every block is
 * bounded (MSG_MAX_TEXT, MSG_MAX_HEADERS) and grows in the session's
 * arena, counted.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <string.h>
#include <strings.h>

#include "msg.h"
#include "xmalloc.h"

static const struct msg_rare	 msg_no_rare;

struct msg_rare *
msg_rare(struct session *s, struct msg *m)
{
	if (m->rare == NULL)
		m->rare = session_alloc(s, sizeof(*m->rare));
	return (m->rare);
}

const struct msg_rare *
msg_rare_of(const struct msg *m)
{
	return (m->rare != NULL ? m->rare : &msg_no_rare);
}

/*
 * Appends to the message's text; 0 when the bound is reached. While an
 * HTTP/1 header block is parsed, its text grows in place, moving the
 * header index after it up (nobody shares either yet, msg_share): a
 * header entry held across the call must be found again.
 */
int
msg_text(struct session *s, struct msg *m, const char *at, size_t n)
{
	size_t	 ncap;
	void	*hdrs = NULL;

	if (n == 0)
		return (1);	/* llhttp may hand over an empty span */
	if (n > MSG_MAX_TEXT || m->textlen + n > MSG_MAX_TEXT)
		return (0);
	if (m->textlen + n > m->textcap) {
		ncap = m->textcap ? m->textcap : 256;
		while (ncap < m->textlen + n)
			ncap *= 2;
		if (ncap > MSG_MAX_TEXT)
			ncap = MSG_MAX_TEXT;
		if (m->in_headers)
			hdrs = session_extend_under(s, m->text, m->textcap, ncap,
			    m->hdrs, m->hdrcap * sizeof(*m->hdrs));
		if (hdrs != NULL)
			m->hdrs = hdrs;
		else
			m->text = session_extend(s, m->text, m->textcap, ncap);
		m->textcap = (uint16_t)ncap;
	}
	memcpy(m->text + m->textlen, at, n);
	m->textlen += (uint16_t)n;
	return (1);
}

struct hdr *
msg_hdr_new(struct session *s, struct msg *m)
{
	size_t	 ncap;

	if (m->nhdrs >= MSG_MAX_HEADERS)
		return (NULL);
	if (m->nhdrs == m->hdrcap) {
		ncap = m->hdrcap ? m->hdrcap * 2 : 16;
		m->hdrs = session_extend(s, m->hdrs,
		    m->hdrcap * sizeof(*m->hdrs), ncap * sizeof(*m->hdrs));
		m->hdrcap = (unsigned int)ncap;
	}
	memset(&m->hdrs[m->nhdrs], 0, sizeof(m->hdrs[0]));
	m->hdrs[m->nhdrs].name_off = (uint16_t)m->textlen;
	m->hdrs[m->nhdrs].val_off = (uint16_t)m->textlen;
	return (&m->hdrs[m->nhdrs++]);
}

int
msg_hdr_is(const struct msg *m, const struct hdr *h, const char *name)
{
	return (h->name_len == strlen(name) &&
	    strncasecmp(m->text + h->name_off, name, h->name_len) == 0);
}

int
msg_val_is(const struct msg *m, const struct hdr *h, const char *v)
{
	return (h->val_len == strlen(v) &&
	    strncasecmp(m->text + h->val_off, v, h->val_len) == 0);
}

/*
 * What a restarted message held may be another's too (msg_share), or
 * be in the table for the next to share: written over in place, it
 * would change theirs, and given back by msg_share as the newest room
 * while the table still points at it, it would be handed out again
 * under them. It stays in the arena, as every message's text does.
 */
void
msg_restart(struct msg *m)
{
	m->text = NULL;
	m->textlen = m->textcap = 0;
	m->hdrs = NULL;
	m->nhdrs = m->hdrcap = 0;
}

/*
 * A session that keeps no header lists (for a summary) holds on to the
 * start line and the two headers a summary shows, Content-Type and
 * Content-Encoding, moved down over the others.
 */
void
msg_lean(struct msg *m)
{
	struct hdr	 h;
	uint32_t	 end, i, n = 0;
	int		 keep[2];

	end = m->target_off + m->target_len;
	if (m->reason_off + m->reason_len > end)
		end = m->reason_off + m->reason_len;
	if (m->ct >= 0)
		keep[n++] = m->ct;
	if (m->ce >= 0)
		keep[n++] = m->ce;
	if (n == 2 && keep[0] > keep[1]) {
		keep[0] = m->ce;
		keep[1] = m->ct;
	}
	for (i = 0; i < n; i++) {
		h = m->hdrs[keep[i]];
		memmove(m->text + end, m->text + h.name_off, h.name_len);
		h.name_off = (uint16_t)end;
		end += h.name_len;
		memmove(m->text + end, m->text + h.val_off, h.val_len);
		h.val_off = (uint16_t)end;
		end += h.val_len;
		if (keep[i] == m->ct)
			m->ct = (int)i;
		else
			m->ce = (int)i;
		m->hdrs[i] = h;
	}
	m->nhdrs = n;
	m->textlen = end;
}

/* A hash of the text and header index of a message, eight bytes a step. */
static uint64_t
msg_hash(const void *p, size_t n, uint64_t h)
{
	const u_char	*b = p;
	uint64_t	 w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; n > 0; b++, n--)
		h = (h ^ *b) * 0x100000001b3ULL;
	return (h);
}

/*
 * Many messages repeat one seen shortly before, byte for byte (a client
 * asking again, a server answering the same within a second): the text
 * and header index of a recent one are shared instead of kept twice.
 * Shared room is never written again: a message that grows (trailers)
 * has text and headers at their capacity, so it grows into a copy.
 * One whose last header still waits for the rest of its name (a name
 * given no value) could write into it, and is left alone. first is
 * the start of the newest allocations, where the two lie.
 */
static void
msg_share(struct session *s, struct msg *m, void *first)
{
	struct msg_shared	*e;
	uint64_t		 h;

	if (!m->in_value && m->nhdrs > 0)
		return;
	if (s->shared == NULL) {
		s->shared = xcalloc(MSG_SHARED_SLOTS, sizeof(*s->shared));
		session_charge(s, MSG_SHARED_SLOTS * sizeof(*s->shared));
	}
	h = msg_hash(m->text, m->textlen, 0xcbf29ce484222325ULL);
	h = msg_hash(m->hdrs, m->nhdrs * sizeof(*m->hdrs), h ^ m->textlen);
	e = &s->shared[(h ^ h >> 32) & (MSG_SHARED_SLOTS - 1)];
	if (e->text != NULL && e->hash == h && e->textlen == m->textlen &&
	    e->nhdrs == m->nhdrs &&
	    memcmp(e->text, m->text, m->textlen) == 0 &&
	    memcmp(e->hdrs, m->hdrs, m->nhdrs * sizeof(*m->hdrs)) == 0) {
		session_unalloc(s, first);
		m->text = e->text;
		m->hdrs = e->hdrs;
		return;
	}
	e->text = m->text;
	e->hdrs = m->hdrs;
	e->textlen = m->textlen;
	e->nhdrs = m->nhdrs;
	e->hash = h;
}

/*
 * The header block is complete: text and headers give back the room
 * they were grown by (most messages are done growing here; trailers
 * grow them again), or go altogether when a recent message had the
 * same.
 */
void
msg_trim(struct session *s, struct msg *m)
{
	void	*nb, *first;
	size_t	 hcap = m->hdrcap * sizeof(*m->hdrs);
	size_t	 hlen = m->nhdrs * sizeof(*m->hdrs);

	if (session_trim(s, m->text, m->textcap, m->textlen, m->hdrs, hcap,
	    hlen, &nb)) {
		first = m->text;
		m->hdrs = nb;
	} else if (session_trim(s, m->hdrs, hcap, hlen, m->text, m->textcap,
	    m->textlen, &nb)) {
		first = m->hdrs;
		m->text = nb;
	} else
		return;
	m->textcap = m->textlen;
	m->hdrcap = m->nhdrs;
	msg_share(s, m, first);
}
