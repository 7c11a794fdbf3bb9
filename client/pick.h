/*
 * pick.h: fields out of the msgpack maps of a session's detail, for the
 * renderers that print them. A table of keys, declared once per kind
 * of item, picks all the fields a row shows in one walk of its map;
 * the value helpers read a field only when it has the expected type,
 * so that whatever a daemon sent, a missing or odd field prints as
 * absent.
 */
#ifndef HTRACR_PICK_H
#define HTRACR_PICK_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct pick_key {
	const char	*name;
	uint32_t	 len;
};
#define PICK_KEY(s)	{ s, sizeof(s) - 1 }
#define PICK_SLOTS	64		/* more than twice any table */

/* A table of keys; the index of a key in it is its field's. */
struct pick_keys {
	const struct pick_key	*key;
	size_t			 n;
	int			 built;
	uint8_t			 slot[PICK_SLOTS];	/* index + 1; 0: free */
};
#define PICK_KEYS(t)	{ t, sizeof(t) / sizeof(t[0]), 0, { 0 } }

/* The index of key s (len bytes) in t, or -1. */
int	 pick_find(struct pick_keys *, const char *, size_t);
/*
 * Sets out[i] to the value of t's key i in map m, NULL where m has
 * none (or is not a map). The first of two equal keys wins.
 */
void	 pick_fields(const msgpack_object *, struct pick_keys *,
	    const msgpack_object **);

/* A value already picked: 0, or -1 if absent or of another type. */
int	 pick_val_u64(const msgpack_object *, uint64_t *);
int	 pick_val_i64(const msgpack_object *, int64_t *);
uint64_t pick_val_u(const msgpack_object *);	/* 0 if not a number */
int	 pick_val_true(const msgpack_object *);	/* a boolean true */
int	 pick_val_isstr(const msgpack_object *);
/* The escaped string, or "-" when absent or not a string. */
const char *pick_val_str(const msgpack_object *, char *, size_t);

/* The same, looked up by key in map m (proto_get). */
uint64_t pick_u64(const msgpack_object *, const char *);
const char *pick_str(const msgpack_object *, const char *, char *, size_t);

#endif
