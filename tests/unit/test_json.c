/*
 * test_json.c: the JSON writer reading msgpack bytes where they lie
 * (json_write_raw) against the same writer over the decoded value
 * (proto_decode, json_write): on random values of every msgpack type,
 * nested up to and past the reply depth limit, with strings of any
 * bytes, whole, cut short and with bytes changed, both must agree on
 * whether the bytes are a value and, when they are, write the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "check.h"
#include "json.h"
#include "proto.h"

static uint64_t	 rnd_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (rnd_state);
}

static unsigned int
rnd_below(unsigned int n)
{
	return ((unsigned int)(rnd() % n));
}

/* Bytes a string may hold: mostly plain, then every kind of odd one. */
static void
rnd_bytes(char *buf, size_t n)
{
	static const char	 odd[] = "\"\\\n\r\t\x01\x1f\x7f\x80\xbf\xc0"
				    "\xc3\xa9\xe2\x82\xac\xed\xa0\x80\xf0\x9f"
				    "\x98\x80\xf4\x90\xff";
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (rnd_below(4) == 0)
			buf[i] = odd[rnd_below(sizeof(odd) - 1)];
		else
			buf[i] = (char)(0x20 + rnd_below(95));
	}
}

static void	 pack_value(msgpack_packer *, int);

static void
pack_str(msgpack_packer *pk, size_t n)
{
	char	 buf[300];

	rnd_bytes(buf, n);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, buf, n);
}

static size_t
rnd_len(void)
{
	switch (rnd_below(6)) {
	case 0:
		return (0);
	case 1:
		return (rnd_below(8));
	case 2:
		return (8 + rnd_below(9));
	case 3:
		return (rnd_below(64));
	case 4:
		return (60 + rnd_below(10));
	default:
		return (rnd_below(300));
	}
}

/* A key as the daemon writes them, or anything else now and then. */
static void
pack_key(msgpack_packer *pk, int depth)
{
	if (rnd_below(8) != 0)
		pack_str(pk, rnd_len());
	else
		pack_value(pk, depth);
}

static void
pack_value(msgpack_packer *pk, int depth)
{
	char		 buf[40];
	unsigned int	 i, n;
	int		 kind = rnd_below(depth < 20 ? 18 : 14);

	switch (kind) {
	case 0:
		msgpack_pack_uint64(pk, rnd() >> rnd_below(64));
		break;
	case 1:
		msgpack_pack_int64(pk, -(int64_t)(rnd() >> (1 +
		    rnd_below(63))));
		break;
	case 2:
		msgpack_pack_int8(pk, (int8_t)rnd());
		break;
	case 3:
		/* Signed forms holding numbers at or above zero. */
		buf[0] = (char)(0xd0 + rnd_below(4));
		n = 1u << (buf[0] & 3);
		for (i = 0; i < n; i++)
			buf[1 + i] = (char)(i == 0 ? rnd() & 0x7f : rnd());
		pk->callback(pk->data, buf, 1 + n);
		break;
	case 4:
		msgpack_pack_nil(pk);
		break;
	case 5:
		if (rnd_below(2))
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case 6:
		msgpack_pack_float(pk, (float)(int64_t)rnd() / 1e6f);
		break;
	case 7:
		msgpack_pack_double(pk, (double)(int64_t)rnd() / 1e9);
		break;
	case 8:
		n = rnd_len();
		rnd_bytes(buf, n < sizeof(buf) ? n : sizeof(buf));
		msgpack_pack_bin(pk, n < sizeof(buf) ? n : sizeof(buf));
		msgpack_pack_bin_body(pk, buf, n < sizeof(buf) ? n :
		    sizeof(buf));
		break;
	case 9:
		n = rnd_below(20);
		msgpack_pack_ext(pk, n, (int8_t)rnd());
		rnd_bytes(buf, n);
		msgpack_pack_ext_body(pk, buf, n);
		break;
	case 10:
	case 11:
	case 12:
	case 13:
		pack_str(pk, rnd_len());
		break;
	case 14:
	case 15:
		n = rnd_below(6);
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			pack_value(pk, depth + 1);
		break;
	default:
		n = rnd_below(6);
		msgpack_pack_map(pk, n);
		for (i = 0; i < n; i++) {
			pack_key(pk, depth + 1);
			pack_value(pk, depth + 1);
		}
		break;
	}
}

/*
 * Both writers on the value at msg + off of a message {"v": value}
 * of len bytes (perhaps damaged): agreed, or why not in err.
 */
static int
compare(const char *msg, size_t len, size_t off, char *err, size_t errlen)
{
	msgpack_zone	 zone;
	msgpack_object	 obj;
	const char	*reason, *end;
	char		*a = NULL, *b = NULL;
	size_t		 alen = 0, blen = 0;
	FILE		*fa, *fb;
	int		 ok, decoded;

	msgpack_zone_init(&zone, 4096);
	decoded = proto_decode(msg, len, &zone, &obj, 0, &reason) == 0 &&
	    obj.type == MSGPACK_OBJECT_MAP && obj.via.map.size == 1;
	fa = open_memstream(&a, &alen);
	fb = open_memstream(&b, &blen);
	if (decoded)
		json_write(fa, &obj.via.map.ptr[0].val);
	end = json_write_raw(fb, msg + off, msg + len, 1);
	fclose(fa);
	fclose(fb);
	if (decoded)
		ok = end == msg + len && alen == blen &&
		    memcmp(a, b, alen) == 0;
	else
		ok = end == NULL || end != msg + len;
	if (!ok)
		snprintf(err, errlen, "decoded %d raw %s; %zu bytes '%.60s' "
		    "against %zu '%.60s'", decoded, end == NULL ? "failed" :
		    end == msg + len ? "whole" : "short", alen,
		    a != NULL ? a : "", blen, b != NULL ? b : "");
	free(a);
	free(b);
	msgpack_zone_destroy(&zone);
	return (ok);
}

/* The message {"v": value} with a random value; off: where it starts. */
static void
message(msgpack_sbuffer *sb, size_t *off)
{
	msgpack_packer	 pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "v", 1);
	*off = sb->size;
	pack_value(&pk, 1);
}

/* json_write of one integer against printf's digits. */
static int
number(int neg, uint64_t v, char *err, size_t errlen)
{
	msgpack_object	 o;
	char		*a = NULL, want[32];
	size_t		 alen = 0;
	FILE		*f;
	int		 ok;

	memset(&o, 0, sizeof(o));
	if (neg) {
		o.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o.via.i64 = (int64_t)v;
		snprintf(want, sizeof(want), "%lld", (long long)(int64_t)v);
	} else {
		o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o.via.u64 = v;
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	}
	f = open_memstream(&a, &alen);
	json_write(f, &o);
	fclose(f);
	ok = alen == strlen(want) && memcmp(a, want, alen) == 0;
	if (!ok)
		snprintf(err, errlen, "%s written as '%.30s'", want, a);
	free(a);
	return (ok);
}

int
main(void)
{
	msgpack_sbuffer	 sb;
	char		 err[300], *copy;
	size_t		 off, cut;
	int		 i, deep = 0, whole = 0;

	/* Every digit count, at and around each power of ten and two. */
	{
		uint64_t	 p10 = 1;
		int		 k;

		for (k = 0; k < 64 && !failed; k++) {
			if (!number(0, ((uint64_t)1 << k) - 1, err,
			    sizeof(err)) || !number(0, (uint64_t)1 << k, err,
			    sizeof(err)) || !number(1, -((int64_t)1 << (k /
			    2 + k / 3)), err, sizeof(err)))
				check(0, "2^%d: %s", k, err);
			if (k < 20 && (!number(0, p10, err, sizeof(err)) ||
			    !number(0, p10 - 1, err, sizeof(err)) ||
			    !number(0, p10 + 1, err, sizeof(err))))
				check(0, "10^%d: %s", k, err);
			if (k < 19)
				p10 *= 10;
		}
		if (!number(0, UINT64_MAX, err, sizeof(err)) ||
		    !number(1, (uint64_t)INT64_MIN, err, sizeof(err)))
			check(0, "extremes: %s", err);
		for (i = 0; i < 100000 && !failed; i++)
			if (!number(0, rnd() >> rnd_below(64), err,
			    sizeof(err)))
				check(0, "%s", err);
		report("json_numbers");
	}

	msgpack_sbuffer_init(&sb);
	for (i = 0; i < 20000 && !failed; i++) {
		message(&sb, &off);
		if (!compare(sb.data, sb.size, off, err, sizeof(err)))
			check(0, "value %d: %s", i, err);
		whole++;
	}
	check(whole == 20000, "only %d values", whole);
	report("json_raw_random");

	/* Nesting: the same limit, to the level. */
	for (i = 10; i < 22 && !failed; i++) {
		msgpack_packer	 pk;
		int		 k;

		msgpack_sbuffer_clear(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		msgpack_pack_str(&pk, 1);
		msgpack_pack_str_body(&pk, "v", 1);
		off = sb.size;
		for (k = 0; k < i; k++)
			msgpack_pack_array(&pk, 1);
		msgpack_pack_str(&pk, 2);
		msgpack_pack_str_body(&pk, "ok", 2);
		if (!compare(sb.data, sb.size, off, err, sizeof(err)))
			check(0, "nested %d: %s", i, err);
		if (i > PROTO_MAX_REPLY_DEPTH)
			deep++;
	}
	check(deep > 0, "never past the limit");
	report("json_raw_depth");

	/* Cut short anywhere: neither takes it. */
	for (i = 0; i < 3000 && !failed; i++) {
		message(&sb, &off);
		cut = off + rnd_below((unsigned int)(sb.size - off));
		copy = malloc(cut);
		memcpy(copy, sb.data, cut);
		if (!compare(copy, cut, off, err, sizeof(err)))
			check(0, "value %d cut at %zu of %zu: %s", i, cut,
			    sb.size, err);
		free(copy);
	}
	report("json_raw_truncated");

	/* A byte changed: agreed, whatever the bytes became. */
	for (i = 0; i < 20000 && !failed; i++) {
		message(&sb, &off);
		copy = malloc(sb.size);
		memcpy(copy, sb.data, sb.size);
		copy[off + rnd_below((unsigned int)(sb.size - off))] =
		    (char)rnd();
		if (!compare(copy, sb.size, off, err, sizeof(err)))
			check(0, "value %d changed: %s", i, err);
		free(copy);
	}
	report("json_raw_damaged");
	msgpack_sbuffer_destroy(&sb);
	return (nfail > 0);
}
