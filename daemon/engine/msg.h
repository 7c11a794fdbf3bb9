/*
 * msg.h: the text of an HTTP message as sent (msg.c): start line and
 * headers in one bounded block per message, in the session's arena.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_MSG_H
#define HTRACR_MSG_H

#include <string.h>
#include <strings.h>

#include "engine.h"

/* The room a message's text takes in its block (msg.c). */
#define MSG_TEXT_ROOM(cap)	(((size_t)(cap) + 7) & ~(size_t)7)

/* m's header index: it follows the text's room in one block. */
static inline struct hdr *
msg_hdrs(const struct msg *m)
{
	if (m->text == NULL)
		return (NULL);
	return ((struct hdr *)(void *)(m->text + MSG_TEXT_ROOM(m->textcap)));
}

/* A byte count held in 32 bits: it stops at the most. */
static inline uint32_t
msg_u32(uint64_t v)
{
	return (v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
}

/*
 * Appends n bytes to m's text; 0 when the bound is reached. Both this
 * and msg_hdr_new may move m's block: a header entry held across either
 * must be found again (msg_hdrs).
 */
int		 msg_text(struct session *, struct msg *, const char *, size_t);
/* A new, empty header at the end of m's text; NULL past the bound. */
struct hdr	*msg_hdr_new(struct session *, struct msg *);
/*
 * Whether h's name, or its value, is the given one, case folded.
 * Inline: the callers name literals, whose lengths are then known when
 * compiling, and most headers differ in length alone.
 */
static inline int
msg_hdr_is(const struct msg *m, const struct hdr *h, const char *name)
{
	size_t	 n = strlen(name);

	return (h->name_len == n &&
	    strncasecmp(m->text + h->name_off, name, n) == 0);
}

static inline int
msg_val_is(const struct msg *m, const struct hdr *h, const char *v)
{
	size_t	 n = strlen(v);

	return (h->val_len == n &&
	    strncasecmp(m->text + h->val_off, v, n) == 0);
}
/* Keeps the start line, Content-Type and Content-Encoding only. */
void		 msg_lean(struct msg *);
/*
 * m's rare parts to write, made the first time; and to read, all zero
 * when there are none.
 */
struct msg_rare	*msg_rare(struct session *, struct msg *);
const struct msg_rare *msg_rare_of(const struct msg *);
/*
 * m starts over (a final response after an interim one): its text and
 * header index are left where they are, shared or not, and new ones
 * grow from nothing.
 */
void		 msg_restart(struct msg *);
/* Gives back the room text and headers grew by, where it can. */
void		 msg_trim(struct session *, struct msg *);

#endif
