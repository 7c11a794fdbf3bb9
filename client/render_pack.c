/*
 * render_pack.c: the session document packed for the HTML page. The
 * page's browser reads every byte of it twice (the HTML tokenizer, then
 * JSON.parse), and in the plain document most bytes are the same keys
 * and header lines again and again. Packed, it is a list of records:
 *
 *	[shape, v1, v2, ...]		an item: its values in its shape's order
 *	{"$pairs": [[n, v], ...]}	header lines numbered next, in order
 *	{"$strs": [s, ...]}		short strings numbered next, in order
 *	{...}				an item as it is (no shape fits it)
 *
 * A shape lists a map's keys, each holding a value as it is, a map of
 * another shape (or null), a header list (numbers of header lines, or
 * [n, v] for one the table has no room for), a list of maps of another
 * shape, a boolean (1 or 0), a time in µs (after the first time
 * packed, which the code holds) or a short string (its number, or the
 * string when the table has no room). A key's kind is what its value
 * was in the item the shape was made from. A value that does not
 * match its key's kind goes as {"=": value}. The shapes themselves go into the page's script as
 * code (render_pack_code), one function per shape that returns the
 * object literal: a browser builds objects from literals many times
 * faster than from keys looked up one by one. An item's shape is the
 * first that fits it: its keys in the same order, and no plain key
 * holding what another shape could pack; if none does, one is made
 * from the item, up to PACK_SHAPES. The bench session's page data is
 * a quarter of the plain document.
 *
 * Runs in htracrctl with the invoking user's privileges. Header lines
 * come from the wire: they are written by render_str_buf like any
 * other string, and the table's room is bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "log.h"
#include "proto.h"
#include "render.h"
#include "render_int.h"
#include "xmalloc.h"

#define PACK_SHAPES	64		/* top-level shapes */
#define PACK_NODES	1024		/* shapes, nested ones included */
#define PACK_COLS	128		/* keys of a map that gets a shape */
#define PACK_TABLE_MAX	65536		/* header lines or strings numbered */
#define PACK_TABLE_BYTES (8 * 1024 * 1024)	/* and their bytes, each */
#define PACK_SHORT	64		/* the longest string numbered */
#define PACK_TIME_MIN	1000000000000000ULL	/* µs since 1970: 2001 */
#define PACK_TIME_MAX	(1ULL << 53)	/* exact in a browser's numbers */

enum pack_kind {
	PACK_PLAIN,
	PACK_MAP,
	PACK_PAIRS,
	PACK_LIST,
	PACK_BOOL,		/* true, false as 1, 0 */
	PACK_TIME,		/* a time in µs, after the first one packed */
	PACK_STR		/* a short string by its number */
};

struct pack_shape;

struct pack_col {
	const char		*key;	/* in the shape's own copy */
	uint32_t		 klen;
	enum pack_kind		 kind;
	struct pack_shape	*sub;	/* PACK_MAP, PACK_LIST */
};

struct pack_shape {
	struct pack_col		*cols;
	uint32_t		 ncols;
	uint32_t		 id;	/* in render_pack's nodes */
	int			 top;	/* an item's: values from a[1] */
	char			*keys;	/* the keys' bytes */
};

/* A header line (a name and a value) or a string (a alone). */
struct pack_entry {
	char			*s;	/* a then b; NULL: a free slot */
	uint32_t		 alen;
	uint32_t		 blen;
	uint64_t		 hash;
	uint32_t		 id;
};

/* Header lines or strings given numbers in the order they came. */
struct pack_table {
	struct pack_entry	*e;
	size_t			 cap;		/* slots, a power of two */
	uint32_t		 n;
	size_t			 bytes;
	const char		*record;	/* what declares them */
};

struct render_pack {
	struct render_buf	 r;
	struct pack_shape	*shapes[PACK_SHAPES];
	uint32_t		 nshapes;
	uint32_t		 nnodes;
	struct pack_shape	*nodes[PACK_NODES];	/* to free them */
	struct pack_table	 pairs;
	struct pack_table	 strs;
	struct pack_table	*open;		/* whose record is */
	uint64_t		 time0;		/* what PACK_TIME is after */
	int			 has_time0;
	uint64_t		 records;
	uint64_t		 skipped;
	int			 session;
	int			 failed;
};

/* n bytes at a and b the same; no pointer is read when n is 0. */
static int
pack_same(const void *a, const void *b, size_t n)
{
	return (n == 0 || memcmp(a, b, n) == 0);
}

static int
pack_key_is(const struct pack_col *c, const msgpack_object *k)
{
	return (k->type == MSGPACK_OBJECT_STR && k->via.str.size == c->klen &&
	    pack_same(k->via.str.ptr, c->key, c->klen));
}

/* Does map o have exactly s's keys, in s's order? */
static int
pack_keys_match(const struct pack_shape *s, const msgpack_object *o)
{
	uint32_t	 i;

	if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != s->ncols)
		return (0);
	for (i = 0; i < s->ncols; i++)
		if (!pack_key_is(&s->cols[i], &o->via.map.ptr[i].key))
			return (0);
	return (1);
}

/* The same keys in the same order, as two maps hold them. */
static int
pack_same_keys(const msgpack_object *a, const msgpack_object *b)
{
	const msgpack_object	*x, *y;
	uint32_t		 i;

	if (a->via.map.size != b->via.map.size)
		return (0);
	for (i = 0; i < a->via.map.size; i++) {
		x = &a->via.map.ptr[i].key;
		y = &b->via.map.ptr[i].key;
		if (x->type != MSGPACK_OBJECT_STR ||
		    y->type != MSGPACK_OBJECT_STR ||
		    x->via.str.size != y->via.str.size ||
		    !pack_same(x->via.str.ptr, y->via.str.ptr, x->via.str.size))
			return (0);
	}
	return (1);
}

static int
pack_is_pair(const msgpack_object *p)
{
	return (p->type == MSGPACK_OBJECT_ARRAY && p->via.array.size == 2 &&
	    p->via.array.ptr[0].type == MSGPACK_OBJECT_STR &&
	    p->via.array.ptr[1].type == MSGPACK_OBJECT_STR);
}

/* A header list: an array of [name, value] strings, maybe empty. */
static int
pack_is_pairs(const msgpack_object *o)
{
	uint32_t	 i;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return (0);
	for (i = 0; i < o->via.array.size; i++)
		if (!pack_is_pair(&o->via.array.ptr[i]))
			return (0);
	return (1);
}

/* An array of maps that all have the first one's keys, maybe empty. */
static int
pack_is_maps(const msgpack_object *o)
{
	const msgpack_object	*a;
	uint32_t		 i;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return (0);
	a = o->via.array.ptr;
	for (i = 0; i < o->via.array.size; i++)
		if (a[i].type != MSGPACK_OBJECT_MAP || !pack_same_keys(&a[0],
		    &a[i]))
			return (0);
	return (1);
}

/* What a plain key's value would lose by staying as it is. */
static int
pack_packable(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_MAP)
		return (1);
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0)
		return (0);
	return (pack_is_pairs(o) || pack_is_maps(o));
}

/*
 * Does map o fit shape s: its keys, every plain key's value left as
 * well as as it is, every map key's value null or fitting in turn.
 */
static int
pack_fits(const struct pack_shape *s, const msgpack_object *o, int depth)
{
	const msgpack_object	*v;
	uint32_t		 i;

	if (depth > RENDER_JSON_DEPTH || !pack_keys_match(s, o))
		return (0);
	for (i = 0; i < s->ncols; i++) {
		v = &o->via.map.ptr[i].val;
		switch (s->cols[i].kind) {
		case PACK_PLAIN:
			if (pack_packable(v))
				return (0);
			break;
		case PACK_MAP:
			if (v->type != MSGPACK_OBJECT_NIL &&
			    !pack_fits(s->cols[i].sub, v, depth + 1))
				return (0);
			break;
		default:
			break;
		}
	}
	return (1);
}

static void
pack_shape_free(struct pack_shape *s)
{
	free(s->cols);
	free(s->keys);
	free(s);
}

/* A shape made from map o, or NULL: too many keys, shapes or too deep. */
static struct pack_shape *
pack_shape_new(struct render_pack *rp, const msgpack_object *o, int depth)
{
	struct pack_shape	*s;
	struct pack_col		*c;
	const msgpack_object_kv	*kv;
	size_t			 bytes = 0, off = 0;
	uint32_t		 i, n = o->via.map.size;

	if (depth > RENDER_JSON_DEPTH || rp->nnodes == PACK_NODES ||
	    n > PACK_COLS)
		return (NULL);
	for (i = 0; i < n; i++) {
		kv = &o->via.map.ptr[i];
		/* In an object literal that key would set the prototype. */
		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    (kv->key.via.str.size == 9 &&
		    memcmp(kv->key.via.str.ptr, "__proto__", 9) == 0))
			return (NULL);
		bytes += kv->key.via.str.size;
	}
	s = xcalloc(1, sizeof(*s));
	s->cols = xcalloc(n == 0 ? 1 : n, sizeof(*s->cols));
	s->keys = xmalloc(bytes == 0 ? 1 : bytes);
	s->ncols = n;
	s->id = rp->nnodes;
	s->top = depth == 2;
	rp->nodes[rp->nnodes++] = s;
	for (i = 0; i < n; i++) {
		kv = &o->via.map.ptr[i];
		c = &s->cols[i];
		if (kv->key.via.str.size > 0)
			memcpy(s->keys + off, kv->key.via.str.ptr,
			    kv->key.via.str.size);
		c->key = s->keys + off;
		c->klen = kv->key.via.str.size;
		off += c->klen;
		c->kind = PACK_PLAIN;
		if (kv->val.type == MSGPACK_OBJECT_MAP) {
			if ((c->sub = pack_shape_new(rp, &kv->val,
			    depth + 1)) != NULL)
				c->kind = PACK_MAP;
		} else if (kv->val.type == MSGPACK_OBJECT_BOOLEAN)
			c->kind = PACK_BOOL;
		else if (kv->val.type == MSGPACK_OBJECT_STR &&
		    kv->val.via.str.size <= PACK_SHORT)
			c->kind = PACK_STR;
		else if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    kv->val.via.u64 >= PACK_TIME_MIN &&
		    kv->val.via.u64 < PACK_TIME_MAX)
			c->kind = PACK_TIME;
		else if (kv->val.type == MSGPACK_OBJECT_ARRAY &&
		    kv->val.via.array.size > 0) {
			if (pack_is_pairs(&kv->val))
				c->kind = PACK_PAIRS;
			else if (pack_is_maps(&kv->val) &&
			    (c->sub = pack_shape_new(rp,
			    &kv->val.via.array.ptr[0], depth + 1)) != NULL)
				c->kind = PACK_LIST;
		}
	}
	return (s);
}

static void
pack_record(struct render_pack *rp)
{
	if (rp->records++ > 0)
		render_putc(&rp->r, ',');
}

/* FNV-1a over a, a zero byte and b. */
static uint64_t
pack_hash(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	uint32_t	 i;

	for (i = 0; i < alen; i++)
		h = (h ^ (u_char)a[i]) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (i = 0; i < blen; i++)
		h = (h ^ (u_char)b[i]) * 0x100000001b3ULL;
	return (h);
}

/* The slot holding (a, b), or the free one where it would go. */
static struct pack_entry *
pack_slot(struct pack_table *t, const char *a, uint32_t alen, const char *b,
    uint32_t blen, uint64_t h)
{
	struct pack_entry	*e;
	size_t			 i = (size_t)h & (t->cap - 1);

	for (;;) {
		e = &t->e[i];
		if (e->s == NULL)
			return (e);
		if (e->hash == h && e->alen == alen && e->blen == blen &&
		    pack_same(e->s, a, alen) && pack_same(e->s + alen, b, blen))
			return (e);
		i = (i + 1) & (t->cap - 1);
	}
}

/* The number of (a, b), -1 if it has none. */
static int64_t
pack_find(struct pack_table *t, const char *a, uint32_t alen, const char *b,
    uint32_t blen)
{
	struct pack_entry	*e;

	if (t->cap == 0)
		return (-1);
	e = pack_slot(t, a, alen, b, blen, pack_hash(a, alen, b, blen));
	return (e->s != NULL ? (int64_t)e->id : -1);
}

static void
pack_grow(struct pack_table *t)
{
	struct pack_entry	*old = t->e, *e;
	size_t			 ocap = t->cap, i, j;

	t->cap = ocap == 0 ? 256 : ocap * 2;
	t->e = xcalloc(t->cap, sizeof(*t->e));
	for (i = 0; i < ocap; i++) {
		if (old[i].s == NULL)
			continue;
		j = (size_t)old[i].hash & (t->cap - 1);
		while ((e = &t->e[j])->s != NULL)
			j = (j + 1) & (t->cap - 1);
		*e = old[i];
	}
	free(old);
}

/*
 * Numbers (a, b) if it has no number yet and the table has room,
 * declaring it in the table's record ahead of the item: a header line
 * as [a, b], a string (b NULL) as itself.
 */
static void
pack_note(struct render_pack *rp, struct pack_table *t, const char *a,
    uint32_t alen, const char *b, uint32_t blen)
{
	struct pack_entry	*e;
	uint64_t		 h;

	if (t->n == PACK_TABLE_MAX ||
	    t->bytes + alen + blen > PACK_TABLE_BYTES)
		return;
	if ((t->n + 1) * 2 > t->cap)
		pack_grow(t);
	h = pack_hash(a, alen, b, blen);
	if ((e = pack_slot(t, a, alen, b, blen, h))->s != NULL)
		return;
	e->alen = alen;
	e->blen = blen;
	e->s = xmalloc(alen + blen + 1);
	if (alen > 0)
		memcpy(e->s, a, alen);
	if (blen > 0)
		memcpy(e->s + alen, b, blen);
	e->hash = h;
	e->id = t->n++;
	t->bytes += alen + blen;
	if (rp->open != t) {
		if (rp->open != NULL)
			render_put(&rp->r, "]}", 2);
		pack_record(rp);
		render_put(&rp->r, t->record, strlen(t->record));
		rp->open = t;
	} else
		render_putc(&rp->r, ',');
	if (b == NULL) {
		render_str_buf(&rp->r, e->s, alen);
		return;
	}
	render_putc(&rp->r, '[');
	render_str_buf(&rp->r, e->s, alen);
	render_putc(&rp->r, ',');
	render_str_buf(&rp->r, e->s + alen, blen);
	render_putc(&rp->r, ']');
}

static void
pack_table_free(struct pack_table *t)
{
	size_t	 i;

	for (i = 0; i < t->cap; i++)
		free(t->e[i].s);
	free(t->e);
}

/*
 * The header lines and short strings of map o in shape s, and of the
 * maps in it, numbered ahead of the item.
 */
static void
pack_walk(struct render_pack *rp, const struct pack_shape *s,
    const msgpack_object *o)
{
	const msgpack_object	*v, *nv;
	uint32_t		 i, j;

	if (!pack_keys_match(s, o))
		return;
	for (i = 0; i < s->ncols; i++) {
		v = &o->via.map.ptr[i].val;
		switch (s->cols[i].kind) {
		case PACK_MAP:
			pack_walk(rp, s->cols[i].sub, v);
			break;
		case PACK_PAIRS:
			if (!pack_is_pairs(v))
				break;
			for (j = 0; j < v->via.array.size; j++) {
				nv = v->via.array.ptr[j].via.array.ptr;
				pack_note(rp, &rp->pairs, nv[0].via.str.ptr,
				    nv[0].via.str.size, nv[1].via.str.ptr,
				    nv[1].via.str.size);
			}
			break;
		case PACK_LIST:
			if (v->type != MSGPACK_OBJECT_ARRAY)
				break;
			for (j = 0; j < v->via.array.size; j++)
				pack_walk(rp, s->cols[i].sub,
				    &v->via.array.ptr[j]);
			break;
		case PACK_STR:
			if (v->type == MSGPACK_OBJECT_STR &&
			    v->via.str.size <= PACK_SHORT)
				pack_note(rp, &rp->strs, v->via.str.ptr,
				    v->via.str.size, NULL, 0);
			break;
		default:
			break;
		}
	}
}

static int	pack_map(struct render_pack *, const struct pack_shape *,
		    const msgpack_object *, int);
static int	pack_values(struct render_pack *, const struct pack_shape *,
		    const msgpack_object *, int);

/* A value that does not match its key's kind, as it is. */
static int
pack_wrapped(struct render_pack *rp, const msgpack_object *v, int depth)
{
	render_put(&rp->r, "{\"=\":", 5);
	if (render_json_depth(&rp->r, v, depth + 1) == -1)
		return (-1);
	render_putc(&rp->r, '}');
	return (0);
}

static int
pack_header_list(struct render_pack *rp, const msgpack_object *v, int depth)
{
	const msgpack_object	*p, *nv;
	uint32_t		 i;
	int64_t			 id;

	render_putc(&rp->r, '[');
	for (i = 0; i < v->via.array.size; i++) {
		p = &v->via.array.ptr[i];
		nv = p->via.array.ptr;
		if (i > 0)
			render_putc(&rp->r, ',');
		id = pack_find(&rp->pairs, nv[0].via.str.ptr,
		    nv[0].via.str.size, nv[1].via.str.ptr, nv[1].via.str.size);
		if (id >= 0)
			render_json_u64(&rp->r, (uint64_t)id);
		else if (render_json_depth(&rp->r, p, depth + 1) == -1)
			return (-1);
	}
	render_putc(&rp->r, ']');
	return (0);
}

static int
pack_value(struct render_pack *rp, const struct pack_col *c,
    const msgpack_object *v, int depth)
{
	uint32_t	 i;
	int64_t		 id;

	if (c->kind == PACK_PLAIN)
		return (render_json_depth(&rp->r, v, depth));
	if (v->type == MSGPACK_OBJECT_NIL) {
		render_put(&rp->r, "null", 4);
		return (0);
	}
	switch (c->kind) {
	case PACK_MAP:
		if (pack_keys_match(c->sub, v))
			return (pack_map(rp, c->sub, v, depth));
		break;
	case PACK_PAIRS:
		if (pack_is_pairs(v))
			return (pack_header_list(rp, v, depth));
		break;
	case PACK_BOOL:
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			break;
		render_putc(&rp->r, v->via.boolean ? '1' : '0');
		return (0);
	case PACK_TIME:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v->via.u64 >= PACK_TIME_MAX)
			break;
		if (!rp->has_time0) {
			rp->time0 = v->via.u64;
			rp->has_time0 = 1;
		}
		if (v->via.u64 < rp->time0) {
			render_putc(&rp->r, '-');
			render_json_u64(&rp->r, rp->time0 - v->via.u64);
		} else
			render_json_u64(&rp->r, v->via.u64 - rp->time0);
		return (0);
	case PACK_STR:
		if (v->type != MSGPACK_OBJECT_STR)
			break;
		if ((id = pack_find(&rp->strs, v->via.str.ptr,
		    v->via.str.size, NULL, 0)) >= 0)
			render_json_u64(&rp->r, (uint64_t)id);
		else
			render_str_buf(&rp->r, v->via.str.ptr, v->via.str.size);
		return (0);
	case PACK_LIST:
		if (v->type != MSGPACK_OBJECT_ARRAY)
			break;
		for (i = 0; i < v->via.array.size; i++)
			if (!pack_keys_match(c->sub, &v->via.array.ptr[i]))
				break;
		if (i < v->via.array.size)
			break;
		render_putc(&rp->r, '[');
		for (i = 0; i < v->via.array.size; i++) {
			if (i > 0)
				render_putc(&rp->r, ',');
			if (pack_map(rp, c->sub, &v->via.array.ptr[i],
			    depth + 1) == -1)
				return (-1);
		}
		render_putc(&rp->r, ']');
		return (0);
	default:
		break;
	}
	return (pack_wrapped(rp, v, depth));
}

/* The values of map o, whose keys are s's, in order. */
static int
pack_values(struct render_pack *rp, const struct pack_shape *s,
    const msgpack_object *o, int depth)
{
	uint32_t	 i;

	if (depth > RENDER_JSON_DEPTH)
		return (-1);
	for (i = 0; i < s->ncols; i++) {
		if (i > 0)
			render_putc(&rp->r, ',');
		if (pack_value(rp, &s->cols[i], &o->via.map.ptr[i].val,
		    depth + 1) == -1)
			return (-1);
	}
	return (0);
}

static int
pack_map(struct render_pack *rp, const struct pack_shape *s,
    const msgpack_object *o, int depth)
{
	render_putc(&rp->r, '[');
	if (pack_values(rp, s, o, depth) == -1)
		return (-1);
	render_putc(&rp->r, ']');
	return (0);
}

/* The shape item goes in, declared now if it needs a new one; -1: none. */
static int
pack_choose(struct render_pack *rp, const msgpack_object *item)
{
	struct pack_shape	*s;
	uint32_t		 i;

	for (i = 0; i < rp->nshapes; i++)
		if (pack_fits(rp->shapes[i], item, 2))
			return ((int)i);
	if (rp->nshapes < PACK_SHAPES &&
	    (s = pack_shape_new(rp, item, 2)) != NULL) {
		rp->shapes[rp->nshapes] = s;
		return ((int)rp->nshapes++);
	}
	/* Out of shapes: one with the same keys packs what matches. */
	for (i = 0; i < rp->nshapes; i++)
		if (pack_keys_match(rp->shapes[i], item))
			return ((int)i);
	return (-1);
}

struct render_pack *
render_pack_new(FILE *f)
{
	static const char	 head[] = "{\"htracr\":1,\"packed\":1,\"items\":[";
	struct render_pack	*rp;

	rp = xcalloc(1, sizeof(*rp));
	rp->pairs.record = "{\"$pairs\":[";
	rp->strs.record = "{\"$strs\":[";
	render_buf_init(&rp->r, f, xmalloc(RENDER_BUFSIZE), RENDER_BUFSIZE);
	render_put(&rp->r, head, sizeof(head) - 1);
	return (rp);
}

int
render_pack_item(struct render_pack *rp, const msgpack_object *item)
{
	const char	*type;
	size_t		 len;
	int		 k;

	if ((type = render_str(item, "type", &len)) == NULL) {
		rp->skipped++;
		return (0);
	}
	if (len == 7 && memcmp(type, "session", 7) == 0) {
		if (rp->session) {
			rp->skipped++;
			return (0);
		}
		rp->session = 1;
	}
	if ((k = pack_choose(rp, item)) != -1)
		pack_walk(rp, rp->shapes[k], item);
	if (rp->open != NULL) {
		render_put(&rp->r, "]}", 2);
		rp->open = NULL;
	}
	pack_record(rp);
	if (k == -1) {
		if (render_json_depth(&rp->r, item, 2) == -1)
			rp->failed = 1;
	} else {
		render_putc(&rp->r, '[');
		render_json_u64(&rp->r, (uint64_t)k);
		render_putc(&rp->r, ',');
		if (pack_values(rp, rp->shapes[k], item, 2) == -1)
			rp->failed = 1;
		render_putc(&rp->r, ']');
	}
	return (rp->failed || ferror(rp->r.f) ? -1 : 0);
}

int
render_pack_close(struct render_pack *rp)
{
	render_put(&rp->r, "]}", 2);
	render_flush(&rp->r);
	if (rp->skipped > 0)
		log_warnx("left out %llu detail items of no known kind",
		    (unsigned long long)rp->skipped);
	if (!rp->session)
		log_warnx("htracrd sent no session item in the detail");
	return (rp->failed || !rp->session || ferror(rp->r.f) ? -1 : 0);
}

/* a[i]'s value in the object literal of column c. */
static void
pack_code_value(struct render_buf *r, const struct pack_col *c, uint32_t i)
{
	char	 n[16];
	int	 len;

	len = snprintf(n, sizeof(n), "a[%u]", i);
	switch (c->kind) {
	case PACK_MAP:
	case PACK_LIST:
		render_put(r, c->kind == PACK_MAP ? "M(" : "L(", 2);
		render_put(r, n, (size_t)len);
		render_put(r, ",N[", 3);
		render_json_u64(r, c->sub->id);
		render_put(r, "])", 2);
		break;
	case PACK_PAIRS:
	case PACK_BOOL:
	case PACK_TIME:
	case PACK_STR:
		render_putc(r, "HBUS"[c->kind == PACK_PAIRS ? 0 :
		    c->kind == PACK_BOOL ? 1 : c->kind == PACK_TIME ? 2 : 3]);
		render_putc(r, '(');
		render_put(r, n, (size_t)len);
		render_putc(r, ')');
		break;
	default:
		render_put(r, n, (size_t)len);
		break;
	}
}

/*
 * The shapes as code for the page's script: N[id] makes a shape's
 * object from its values (an item's start at a[1], after its shape's
 * number), T[k] is the item shape k's, T0 the time the others are
 * after. M, L, H, B, U and S unpack a map, a list of maps, a header
 * list, a boolean, a time and a short string, or take a value that did
 * not match its kind; the page defines them. Keys are written as JSON strings, which
 * are JavaScript strings too, escaped as in the data; "__proto__" is
 * never one (pack_shape_new).
 */
void
render_pack_code(struct render_pack *rp, FILE *f)
{
	struct render_buf	 r;
	const struct pack_shape	*s;
	uint32_t		 i, j;

	render_buf_init(&r, f, rp->r.b, RENDER_BUFSIZE);
	render_put(&r, "T0=", 3);
	render_json_u64(&r, rp->time0);
	render_put(&r, ";\n", 2);
	for (i = 0; i < rp->nnodes; i++) {
		s = rp->nodes[i];
		render_put(&r, "N[", 2);
		render_json_u64(&r, s->id);
		render_put(&r, "]=function(a){return{", 21);
		for (j = 0; j < s->ncols; j++) {
			if (j > 0)
				render_putc(&r, ',');
			render_str_buf(&r, s->cols[j].key, s->cols[j].klen);
			render_putc(&r, ':');
			pack_code_value(&r, &s->cols[j], j + (s->top ? 1 : 0));
		}
		render_put(&r, "};};\n", 5);
	}
	render_put(&r, "T.push(", 7);
	for (i = 0; i < rp->nshapes; i++) {
		if (i > 0)
			render_putc(&r, ',');
		render_put(&r, "N[", 2);
		render_json_u64(&r, rp->shapes[i]->id);
		render_putc(&r, ']');
	}
	render_put(&r, ");\n", 3);
	render_flush(&r);
}

void
render_pack_free(struct render_pack *rp)
{
	size_t	 i;

	pack_table_free(&rp->pairs);
	pack_table_free(&rp->strs);
	for (i = 0; i < rp->nnodes; i++)
		pack_shape_free(rp->nodes[i]);
	free(rp->r.b);
	free(rp);
}
