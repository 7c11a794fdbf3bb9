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

/* Appends to the message's text; 0 when the bound is reached. */
int
msg_text(struct session *s, struct msg *m, const char *at, size_t n)
{
	size_t	 ncap;

	if (n == 0)
		return (1);	/* llhttp may hand over an empty span */
	if (n > MSG_MAX_TEXT || m->textlen + n > MSG_MAX_TEXT)
		return (0);
	if (m->textlen + n > m->textcap) {
		ncap = m->textcap ? m->textcap : 256;
		while (ncap < m->textlen + n)
			ncap *= 2;
		m->text = session_extend(s, m->text, m->textcap, ncap);
		m->textcap = (uint32_t)ncap;
	}
	memcpy(m->text + m->textlen, at, n);
	m->textlen += (uint32_t)n;
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
		m->hdrcap = (uint32_t)ncap;
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

/*
 * The header block is complete: text and headers give back the room
 * they were grown by (most messages are done growing here; trailers
 * grow them again).
 */
void
msg_trim(struct session *s, struct msg *m)
{
	void	*nb;
	size_t	 hcap = m->hdrcap * sizeof(*m->hdrs);
	size_t	 hlen = m->nhdrs * sizeof(*m->hdrs);

	if (session_trim(s, m->text, m->textcap, m->textlen, m->hdrs, hcap,
	    hlen, &nb)) {
		m->hdrs = nb;
	} else if (session_trim(s, m->hdrs, hcap, hlen, m->text, m->textcap,
	    m->textlen, &nb)) {
		m->text = nb;
	} else
		return;
	m->textcap = m->textlen;
	m->hdrcap = m->nhdrs;
}
