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
 * A message's text and header index share one block in the arena, the
 * index right after the text's room (msg_hdrs): one pointer for both,
 * and shared (msg_share) as one.
 */
#define MSG_TEXT_FIRST		256	/* bytes of text room at first */
#define MSG_HDRS_FIRST		16	/* headers of room at first */

static size_t
msg_block_size(size_t textcap, size_t hdrcap)
{
	return (MSG_TEXT_ROOM(textcap) + hdrcap * sizeof(struct hdr));
}

/*
 * Gives m's block room for textcap bytes of text and hdrcap headers:
 * in place when it is the newest room in the arena and not yet
 * settled (msg_trim), else as a copy; the index moves up behind the
 * text when that grows. A header entry held across it must be found
 * again.
 */
static void
msg_block(struct session *s, struct msg *m, size_t textcap, size_t hdrcap)
{
	size_t	 old = 0, was = MSG_TEXT_ROOM(m->textcap);
	char	*b;

	if (m->text != NULL)
		old = msg_block_size(m->textcap, m->hdrcap);
	b = session_extend(s, m->text, old, msg_block_size(textcap, hdrcap));
	if (m->nhdrs > 0 && MSG_TEXT_ROOM(textcap) != was)
		memmove(b + MSG_TEXT_ROOM(textcap), b + was,
		    m->nhdrs * sizeof(struct hdr));
	m->text = b;
	m->textcap = (uint16_t)textcap;
	m->hdrcap = (unsigned int)hdrcap;
}

/* Appends to the message's text; 0 when the bound is reached. */
int
msg_text(struct session *s, struct msg *m, const char *at, size_t n)
{
	size_t	 ncap;

	if (n == 0)
		return (1);	/* llhttp may hand over an empty span */
	if (n > MSG_MAX_TEXT || m->textlen + n > MSG_MAX_TEXT)
		return (0);
	if (m->text == NULL || m->textlen + n > m->textcap) {
		ncap = m->textcap ? m->textcap : MSG_TEXT_FIRST;
		while (ncap < m->textlen + n)
			ncap *= 2;
		if (ncap > MSG_MAX_TEXT)
			ncap = MSG_MAX_TEXT;
		msg_block(s, m, ncap, m->text != NULL ? m->hdrcap :
		    MSG_HDRS_FIRST);
	}
	memcpy(m->text + m->textlen, at, n);
	m->textlen += (uint16_t)n;
	return (1);
}

struct hdr *
msg_hdr_new(struct session *s, struct msg *m)
{
	struct hdr	*h;

	if (m->nhdrs >= MSG_MAX_HEADERS)
		return (NULL);
	if (m->text == NULL)
		msg_block(s, m, MSG_TEXT_FIRST, MSG_HDRS_FIRST);
	else if (m->nhdrs == m->hdrcap)
		msg_block(s, m, m->textcap, m->hdrcap ? m->hdrcap * 2 :
		    MSG_HDRS_FIRST);
	h = &msg_hdrs(m)[m->nhdrs++];
	memset(h, 0, sizeof(*h));
	h->name_off = h->val_off = m->textlen;
	return (h);
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
		h = msg_hdrs(m)[keep[i]];
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
		msg_hdrs(m)[i] = h;
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
 * asking again, a server answering the same within a second): the block
 * of a recent one is shared instead of kept twice. A shared block is
 * settled (msg_trim): it never grows in place, and a message that
 * grows (trailers) has text and headers at their capacity, so it grows
 * into a copy. One whose last header still waits for the rest of its
 * name (a name given no value) could write into it, and is left alone.
 * m's block is the newest room in the arena.
 */
static void
msg_share(struct session *s, struct msg *m)
{
	struct msg_shared	*e;
	size_t			 hlen = m->nhdrs * sizeof(struct hdr);
	uint64_t		 h;

	if (!m->in_value && m->nhdrs > 0)
		return;
	if (s->shared == NULL) {
		s->shared = xcalloc(MSG_SHARED_SLOTS, sizeof(*s->shared));
		session_charge(s, MSG_SHARED_SLOTS * sizeof(*s->shared));
	}
	h = msg_hash(m->text, m->textlen, 0xcbf29ce484222325ULL);
	h = msg_hash(msg_hdrs(m), hlen, h ^ m->textlen);
	e = &s->shared[(h ^ h >> 32) & (MSG_SHARED_SLOTS - 1)];
	if (e->text != NULL && e->hash == h && e->textlen == m->textlen &&
	    e->nhdrs == m->nhdrs &&
	    memcmp(e->text, m->text, m->textlen) == 0 &&
	    memcmp(e->text + MSG_TEXT_ROOM(e->textlen), msg_hdrs(m),
	    hlen) == 0) {
		session_unalloc(s, m->text);
		m->text = e->text;
		return;
	}
	e->text = m->text;
	e->textlen = m->textlen;
	e->nhdrs = m->nhdrs;
	e->hash = h;
}

/*
 * The header block is complete: the block gives back the room text and
 * headers were grown by, when it is the newest (most messages are done
 * growing here; trailers grow them again, into a copy), or goes
 * altogether when a recent message had the same.
 */
void
msg_trim(struct session *s, struct msg *m)
{
	size_t	 hlen = m->nhdrs * sizeof(struct hdr);

	if (m->text == NULL || !session_shrink(s, m->text,
	    msg_block_size(m->textcap, m->hdrcap),
	    msg_block_size(m->textlen, m->nhdrs)))
		return;
	/* still in place: nothing was allocated after it */
	memmove(m->text + MSG_TEXT_ROOM(m->textlen), msg_hdrs(m), hlen);
	m->textcap = m->textlen;
	m->hdrcap = m->nhdrs;
	msg_share(s, m);
}
