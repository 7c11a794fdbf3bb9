/*
 * json.c: the JSON writer behind every --json and --format json. Runs
 * in htracrctl with the invoking user's privileges. Wire bytes reach
 * scripts through it, so it never emits invalid JSON whatever they
 * hold; it writes through stdio without locking because a session can
 * hold tens of thousands of transactions.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

static void
json_puts(FILE *fp, const char *s, size_t len)
{
	fwrite_unlocked(s, 1, len, fp);
}

static void
json_u64(FILE *fp, unsigned long long v)
{
	char	 buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	json_puts(fp, p, buf + sizeof(buf) - p);
}

static void
json_i64(FILE *fp, long long v)
{
	if (v < 0) {
		putc_unlocked('-', fp);
		json_u64(fp, 0ULL - (unsigned long long)v);
	} else
		json_u64(fp, (unsigned long long)v);
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if none.
 */
static size_t
json_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n <= need || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (need + 1);
}

static void
json_escape_byte(FILE *fp, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 buf[6] = { '\\', 'u', '0', '0', 0, 0 };

	switch (c) {
	case '"':
		json_puts(fp, "\\\"", 2);
		return;
	case '\\':
		json_puts(fp, "\\\\", 2);
		return;
	case '\n':
		json_puts(fp, "\\n", 2);
		return;
	case '\r':
		json_puts(fp, "\\r", 2);
		return;
	case '\t':
		json_puts(fp, "\\t", 2);
		return;
	}
	buf[4] = hex[c >> 4];
	buf[5] = hex[c & 0xf];
	json_puts(fp, buf, sizeof(buf));
}

void
json_write_str(FILE *fp, const void *src, size_t len)
{
	const unsigned char	*s = src;
	size_t			 i = 0, run, n;

	putc_unlocked('"', fp);
	while (i < len) {
		/* Plain printable ASCII goes out in one piece. */
		for (run = i; run < len && s[run] >= 0x20 && s[run] < 0x7f &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		if (run > i) {
			json_puts(fp, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (s[i] >= 0x80 && (n = json_utf8_len(s + i, len - i)) > 0) {
			json_puts(fp, (const char *)s + i, n);
			i += n;
			continue;
		}
		/* Controls, DEL, quotes and each byte of bad UTF-8. */
		json_escape_byte(fp, s[i]);
		i++;
	}
	putc_unlocked('"', fp);
}

static void
json_base64(FILE *fp, const unsigned char *p, size_t len)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char			 out[4];
	size_t			 i;
	unsigned int		 v;

	putc_unlocked('"', fp);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8 |
		    p[i + 2];
		out[0] = b64[v >> 18];
		out[1] = b64[(v >> 12) & 63];
		out[2] = b64[(v >> 6) & 63];
		out[3] = b64[v & 63];
		json_puts(fp, out, 4);
	}
	if (i < len) {
		v = (unsigned int)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned int)p[i + 1] << 8;
		out[0] = b64[v >> 18];
		out[1] = b64[(v >> 12) & 63];
		out[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[3] = '=';
		json_puts(fp, out, 4);
	}
	putc_unlocked('"', fp);
}

static void
json_double(FILE *fp, double d)
{
	if (!isfinite(d)) {
		json_puts(fp, "null", 4);
		return;
	}
	fprintf(fp, "%.17g", d);
}

/* JSON keys are strings; an integer key becomes its decimal text. */
static void
json_key(FILE *fp, const msgpack_object *k)
{
	switch (k->type) {
	case MSGPACK_OBJECT_STR:
		json_write_str(fp, k->via.str.ptr, k->via.str.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		putc_unlocked('"', fp);
		json_u64(fp, (unsigned long long)k->via.u64);
		putc_unlocked('"', fp);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		putc_unlocked('"', fp);
		json_i64(fp, (long long)k->via.i64);
		putc_unlocked('"', fp);
		break;
	default:
		json_puts(fp, "\"\"", 2);
		break;
	}
}

static void
json_container(FILE *fp, const msgpack_object *o)
{
	uint32_t	 i;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		putc_unlocked('[', fp);
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				putc_unlocked(',', fp);
			json_write(fp, &o->via.array.ptr[i]);
		}
		putc_unlocked(']', fp);
		return;
	}
	putc_unlocked('{', fp);
	for (i = 0; i < o->via.map.size; i++) {
		if (i > 0)
			putc_unlocked(',', fp);
		json_key(fp, &o->via.map.ptr[i].key);
		putc_unlocked(':', fp);
		json_write(fp, &o->via.map.ptr[i].val);
	}
	putc_unlocked('}', fp);
}

void
json_write(FILE *fp, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean)
			json_puts(fp, "true", 4);
		else
			json_puts(fp, "false", 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		json_u64(fp, (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		json_i64(fp, (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		json_double(fp, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_write_str(fp, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		json_base64(fp, (const unsigned char *)o->via.bin.ptr,
		    o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
	case MSGPACK_OBJECT_MAP:
		json_container(fp, o);
		break;
	default:
		/* nil, and ext which JSON cannot say. */
		json_puts(fp, "null", 4);
		break;
	}
}

/*
 * Streaming the document: the daemon sends the session, then every
 * server, connection and transaction, in that order (session.h), so
 * the one JSON object can be written as the items arrive.
 */
enum json_section {
	JSON_START,
	JSON_SESSION,
	JSON_SERVERS,
	JSON_CONNECTIONS,
	JSON_TRANSACTIONS,
	JSON_NSECTIONS
};

static const char	*json_types[JSON_NSECTIONS] = {
	NULL, "session", "server", "connection", "transaction"
};
static const char	*json_keys[JSON_NSECTIONS] = {
	NULL, "session", "servers", "connections", "transactions"
};

struct json_stream {
	FILE		*fp;
	int		 section;	/* the one being written */
	uint64_t	 count;		/* items in it so far */
	uint64_t	 skipped;	/* out of order or unknown */
};

struct json_stream *
json_stream_new(FILE *fp)
{
	struct json_stream	*j;

	j = xcalloc(1, sizeof(*j));
	j->fp = fp;
	json_puts(fp, "{\"htracr\":1", 11);
	j->section = JSON_START;
	return (j);
}

/* Closes the current section and opens the next, up to section. */
static void
json_stream_advance(struct json_stream *j, int section)
{
	while (j->section < section) {
		if (j->section > JSON_SESSION)
			putc_unlocked(']', j->fp);
		else if (j->section == JSON_SESSION && j->count == 0)
			json_puts(j->fp, "null", 4);
		j->section++;
		j->count = 0;
		putc_unlocked(',', j->fp);
		json_write_str(j->fp, json_keys[j->section],
		    strlen(json_keys[j->section]));
		putc_unlocked(':', j->fp);
		if (j->section > JSON_SESSION)
			putc_unlocked('[', j->fp);
	}
}

static int
json_section_of(const msgpack_object *item)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int			 k;

	if (item->type != MSGPACK_OBJECT_MAP)
		return (-1);
	for (i = 0; i < item->via.map.size; i++) {
		kv = &item->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR ||
		    kv->key.via.str.size != 4 ||
		    memcmp(kv->key.via.str.ptr, "type", 4) != 0 ||
		    kv->val.type != MSGPACK_OBJECT_STR)
			continue;
		for (k = JSON_SESSION; k < JSON_NSECTIONS; k++)
			if (kv->val.via.str.size == strlen(json_types[k]) &&
			    memcmp(kv->val.via.str.ptr, json_types[k],
			    kv->val.via.str.size) == 0)
				return (k);
	}
	return (-1);
}

int
json_stream_item(void *arg, const msgpack_object *item)
{
	struct json_stream	*j = arg;
	int			 k = json_section_of(item);

	/* A second session, or an item behind its section: not ours. */
	if (k == -1 || k < j->section ||
	    (k == JSON_SESSION && j->section == JSON_SESSION)) {
		j->skipped++;
		return (0);
	}
	json_stream_advance(j, k);
	if (j->count++ > 0)
		putc_unlocked(',', j->fp);
	json_write(j->fp, item);
	return (ferror(j->fp) ? -1 : 0);
}

int
json_stream_free(struct json_stream *j)
{
	int	 rc;

	json_stream_advance(j, JSON_TRANSACTIONS);
	json_puts(j->fp, "]}\n", 3);
	if (j->skipped > 0)
		log_warnx("left out %llu detail items that came out of order",
		    (unsigned long long)j->skipped);
	rc = ferror(j->fp) ? -1 : 0;
	free(j);
	return (rc);
}

int
json_render(FILE *fp, const struct doc *d)
{
	json_write(fp, &d->root);
	putc_unlocked('\n', fp);
	return (ferror(fp) ? -1 : 0);
}
