/*
 * fuzz_proto.c: libFuzzer target for the client protocol decoder: any
 * byte string given to proto_decode, as a request and as a reply, then
 * the field accessors on whatever it accepted.
 */
#include <stdint.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone		 zone;
	msgpack_object		 obj;
	const char		*why;
	int			 request;

	for (request = 0; request < 2; request++) {
		msgpack_zone_init(&zone, 4096);
		if (proto_decode((const char *)data, size, &zone, &obj,
		    request, &why) == 0)
			fuzz_fields(&obj);
		msgpack_zone_destroy(&zone);
	}
	return (0);
}
