/*
 * fuzz_proto.c: libFuzzer target for the client protocol decoder: any
 * byte string given to proto_decode, as a request and as a reply, then
 * the field accessors on whatever it accepted. proto_decode is checked
 * against msgpack-c's own unpacker: what one accepts as a reply the
 * other reads as the same objects (unless it nests deeper than a reply
 * may), and what it accepts as a request it also accepts as a reply.
 * The JSON writer that reads msgpack bytes where they lie (json.c) is
 * checked against the same writer over the decoded reply: it writes
 * the same bytes for every message proto_decode takes, and never reads
 * a message proto_decode refuses as one whole value.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* json_write_raw on the message agrees with json_write on obj (NULL: none). */
static void
fuzz_json(const uint8_t *data, size_t size, const msgpack_object *obj)
{
	const char	*end;
	char		*a = NULL, *b = NULL;
	size_t		 alen = 0, blen = 0;
	FILE		*fa, *fb;

	if (size == 0 || ((data[0] & 0xf0) != 0x80 && data[0] != 0xde &&
	    data[0] != 0xdf))
		return;
	if ((fa = open_memstream(&a, &alen)) == NULL ||
	    (fb = open_memstream(&b, &blen)) == NULL)
		abort();
	if (obj != NULL)
		json_write(fa, obj);
	end = json_write_raw(fb, (const char *)data, (const char *)data +
	    size, 0);
	fclose(fa);
	fclose(fb);
	if (obj != NULL && (end != (const char *)data + size ||
	    alen != blen || memcmp(a, b, alen) != 0))
		abort();
	if (obj == NULL && end == (const char *)data + size)
		abort();
	free(a);
	free(b);
}

static void
fuzz_fields(const msgpack_object *o)
{
	uint64_t	 u;
	int64_t		 i;
	int		 b;
	const char	*p;
	size_t		 n;

	(void)proto_get_u64(o, "op", &u);
	(void)proto_get_u64(o, "id", &u);
	(void)proto_get_i64(o, "session", &i);
	(void)proto_get_bool(o, "packets", &b);
	(void)proto_get_str(o, "source", &p, &n);
	(void)proto_get_bin(o, "frames", &p, &n);
	(void)proto_get(o, "ports");
}

/* Whether a and b pack to the same bytes. */
static int
fuzz_same(const msgpack_object *a, const msgpack_object *b)
{
	msgpack_sbuffer	 sa, sb;
	msgpack_packer	 pa, pb;
	int		 same;

	msgpack_sbuffer_init(&sa);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pa, &sa, msgpack_sbuffer_write);
	msgpack_packer_init(&pb, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pa, *a);
	msgpack_pack_object(&pb, *b);
	same = sa.size == sb.size && memcmp(sa.data, sb.data, sa.size) == 0;
	msgpack_sbuffer_destroy(&sa);
	msgpack_sbuffer_destroy(&sb);
	return (same);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone		 zone[2], rzone;
	msgpack_object		 obj[2], ref;
	const char		*why[2] = { "", "" };
	size_t			 off = 0;
	int			 ok[2], refok, request;

	for (request = 0; request < 2; request++) {
		msgpack_zone_init(&zone[request], 4096);
		ok[request] = proto_decode((const char *)data, size,
		    &zone[request], &obj[request], request, &why[request]) == 0;
		if (ok[request])
			fuzz_fields(&obj[request]);
	}
	if (ok[1] && !ok[0])
		abort();
	fuzz_json(data, size, ok[0] ? &obj[0] : NULL);
	/*
	 * msgpack-c's view, where it cannot be led to allocate much: the
	 * counts it meets first fit the bytes unless proto_decode said not.
	 */
	if (strcmp(why[0], "count larger than the message") != 0 &&
	    strcmp(why[0], "nested too deeply") != 0) {
		msgpack_zone_init(&rzone, 4096);
		refok = size > 0 && ((data[0] & 0xf0) == 0x80 ||
		    data[0] == 0xde || data[0] == 0xdf) &&
		    msgpack_unpack((const char *)data, size, &off, &rzone,
		    &ref) == MSGPACK_UNPACK_SUCCESS && off == size;
		if (refok != ok[0] || (ok[0] && !fuzz_same(&obj[0], &ref)))
			abort();
		msgpack_zone_destroy(&rzone);
	}
	for (request = 0; request < 2; request++)
		msgpack_zone_destroy(&zone[request]);
	return (0);
}
