/*
 * render_pack.c: the session document packed for the HTML page. The
 * page's browser reads every byte of it twice (the HTML tokenizer, then
 * JSON.parse), and in the plain document most bytes are the same keys
 * and header lines again and again. Packed, it is a list of records:
 *
 *	[shape, v1, v2, ...]		an item: its values in its shape's order
 *	{"$pairs": [[n, v], ...]}	header lines numbered next, in order
 *	{...}				an item as it is (no shape fits it)
 *
 * A shape lists a map's keys, each holding a value as it is, a map of
 * another shape (or null), a header list (numbers of header lines, or
 * [n, v] for one the table has no room for) or a list of maps of
 * another shape. A value that does not match its key's kind goes as
 * {"=": value}. The shapes themselves go into the page's script as
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
#define PACK_MAXPAIRS	65536		/* header lines given a number */
#define PACK_PAIR_BYTES	(8 * 1024 * 1024)	/* and their bytes */

enum pack_kind {
	PACK_PLAIN,
	PACK_MAP,
	PACK_PAIRS,
	PACK_LIST
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

struct pack_pair {
	char			*s;	/* name then value; NULL: free slot */
	uint32_t		 nlen;
	uint32_t		 vlen;
	uint64_t		 hash;
	uint32_t		 id;
};

struct render_pack {
	struct render_buf	 r;
	struct pack_shape	*shapes[PACK_SHAPES];
	uint32_t		 nshapes;
	uint32_t		 nnodes;
	struct pack_shape	*nodes[PACK_NODES];	/* to free them */
	struct pack_pair	*pairs;
	size_t			 pcap;		/* slots, a power of two */
	uint32_t		 npairs;
	size_t			 pbytes;
	int			 pairs_open;	/* a $pairs record is */
	uint64_t		 records;
	uint64_t		 skipped;
	int			 session;
	int			 failed;
};

static int
pack_key_is(const struct pack_col *c, const msgpack_object *k)
{
	return (k->type == MSGPACK_OBJECT_STR && k->via.str.size == c->klen &&
	    memcmp(k->via.str.ptr, c->key, c->klen) == 0);
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
		    memcmp(x->via.str.ptr, y->via.str.ptr, x->via.str.size) != 0)
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
		memcpy(s->keys + off, kv->key.via.str.ptr, kv->key.via.str.size);
		c->key = s->keys + off;
		c->klen = kv->key.via.str.size;
		off += c->klen;
		c->kind = PACK_PLAIN;
		if (kv->val.type == MSGPACK_OBJECT_MAP) {
			if ((c->sub = pack_shape_new(rp, &kv->val,
			    depth + 1)) != NULL)
				c->kind = PACK_MAP;
		} else if (kv->val.type == MSGPACK_OBJECT_ARRAY &&
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

/* FNV-1a over the name, a zero byte and the value. */
static uint64_t
pack_pair_hash(const msgpack_object *p)
{
	const msgpack_object	*nv = p->via.array.ptr;
	const unsigned char	*s;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	uint32_t		 i, k;

	for (k = 0; k < 2; k++) {
		s = (const unsigned char *)nv[k].via.str.ptr;
		for (i = 0; i < nv[k].via.str.size; i++)
			h = (h ^ s[i]) * 0x100000001b3ULL;
		h = (h ^ (k == 0 ? 0 : 0xff)) * 0x100000001b3ULL;
	}
	return (h);
}

/* The slot holding pair p, or the free one where it would go. */
static struct pack_pair *
pack_pair_slot(struct render_pack *rp, const msgpack_object *p, uint64_t h)
{
	const msgpack_object	*nv = p->via.array.ptr;
	struct pack_pair	*e;
	size_t			 i = (size_t)h & (rp->pcap - 1);

	for (;;) {
		e = &rp->pairs[i];
		if (e->s == NULL)
			return (e);
		if (e->hash == h && e->nlen == nv[0].via.str.size &&
		    e->vlen == nv[1].via.str.size &&
		    memcmp(e->s, nv[0].via.str.ptr, e->nlen) == 0 &&
		    memcmp(e->s + e->nlen, nv[1].via.str.ptr, e->vlen) == 0)
			return (e);
		i = (i + 1) & (rp->pcap - 1);
	}
}

static void
pack_pairs_grow(struct render_pack *rp)
{
	struct pack_pair	*old = rp->pairs, *e;
	size_t			 ocap = rp->pcap, i, j;

	rp->pcap = ocap == 0 ? 256 : ocap * 2;
	rp->pairs = xcalloc(rp->pcap, sizeof(*rp->pairs));
	for (i = 0; i < ocap; i++) {
		if (old[i].s == NULL)
			continue;
		j = (size_t)old[i].hash & (rp->pcap - 1);
		while ((e = &rp->pairs[j])->s != NULL)
			j = (j + 1) & (rp->pcap - 1);
		*e = old[i];
	}
	free(old);
}

/*
 * Numbers the header lines of list o that have none yet while there is
 * room, writing them out in a $pairs record ahead of the item.
 */
static void
pack_note_pairs(struct render_pack *rp, const msgpack_object *o)
{
	const msgpack_object	*p, *nv;
	struct pack_pair	*e;
	uint64_t		 h;
	uint32_t		 i;

	for (i = 0; i < o->via.array.size; i++) {
		p = &o->via.array.ptr[i];
		nv = p->via.array.ptr;
		if (rp->npairs == PACK_MAXPAIRS || rp->pbytes +
		    nv[0].via.str.size + nv[1].via.str.size > PACK_PAIR_BYTES)
			return;
		if ((rp->npairs + 1) * 2 > rp->pcap)
			pack_pairs_grow(rp);
		h = pack_pair_hash(p);
		if ((e = pack_pair_slot(rp, p, h))->s != NULL)
			continue;
		e->nlen = nv[0].via.str.size;
		e->vlen = nv[1].via.str.size;
		e->s = xmalloc(e->nlen + e->vlen + 1);
		memcpy(e->s, nv[0].via.str.ptr, e->nlen);
		memcpy(e->s + e->nlen, nv[1].via.str.ptr, e->vlen);
		e->hash = h;
		e->id = rp->npairs++;
		rp->pbytes += e->nlen + e->vlen;
		if (!rp->pairs_open) {
			pack_record(rp);
			render_put(&rp->r, "{\"$pairs\":[", 11);
			rp->pairs_open = 1;
		} else
			render_putc(&rp->r, ',');
		render_putc(&rp->r, '[');
		render_str_buf(&rp->r, e->s, e->nlen);
		render_putc(&rp->r, ',');
		render_str_buf(&rp->r, e->s + e->nlen, e->vlen);
		render_putc(&rp->r, ']');
	}
}

/* The header lists of map o in shape s, and of the maps in it. */
static void
pack_walk_pairs(struct render_pack *rp, const struct pack_shape *s,
    const msgpack_object *o)
{
	const msgpack_object	*v;
	uint32_t		 i, j;

	if (!pack_keys_match(s, o))
		return;
	for (i = 0; i < s->ncols; i++) {
		v = &o->via.map.ptr[i].val;
		switch (s->cols[i].kind) {
		case PACK_MAP:
			pack_walk_pairs(rp, s->cols[i].sub, v);
			break;
		case PACK_PAIRS:
			if (pack_is_pairs(v))
				pack_note_pairs(rp, v);
			break;
		case PACK_LIST:
			if (v->type != MSGPACK_OBJECT_ARRAY)
				break;
			for (j = 0; j < v->via.array.size; j++)
				pack_walk_pairs(rp, s->cols[i].sub,
				    &v->via.array.ptr[j]);
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
	const msgpack_object	*p;
	struct pack_pair	*e;
	uint32_t		 i;

	render_putc(&rp->r, '[');
	for (i = 0; i < v->via.array.size; i++) {
		p = &v->via.array.ptr[i];
		if (i > 0)
			render_putc(&rp->r, ',');
		e = rp->pcap == 0 ? NULL :
		    pack_pair_slot(rp, p, pack_pair_hash(p));
		if (e != NULL && e->s != NULL)
			render_json_u64(&rp->r, e->id);
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
		pack_walk_pairs(rp, rp->shapes[k], item);
	if (rp->pairs_open) {
		render_put(&rp->r, "]}", 2);
		rp->pairs_open = 0;
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
		render_put(r, "H(", 2);
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
 * number), T[k] is the item shape k's. M, L and H unpack a map, a list
 * of maps and a header list, or take a value that did not match its
 * kind; the page defines them. Keys are written as JSON strings, which
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

	for (i = 0; i < rp->pcap; i++)
		free(rp->pairs[i].s);
	free(rp->pairs);
	for (i = 0; i < rp->nnodes; i++)
		pack_shape_free(rp->nodes[i]);
	free(rp->r.b);
	free(rp);
}
