/*
 * dnsline.c: DNS lookups as short lines of text (dnsline.h). Runs in
 * htracrctl with the invoking user's privileges; names and answers are
 * from the wire and pass through esc_buf (pick_str) before any use.
 */
#include <stdio.h>
#include <string.h>

#include "dnsline.h"
#include "pick.h"
#include "proto.h"

const char *
dnsline_query(char *buf, size_t size, const msgpack_object *l)
{
	char	 name[512], type[32];

	snprintf(buf, size, "%s %s", pick_str(l, "name", name, sizeof(name)),
	    pick_str(l, "qtype", type, sizeof(type)));
	return (buf);
}

const char *
dnsline_answers(char *buf, size_t size, const msgpack_object *l)
{
	const msgpack_object	*a = proto_get(l, "answers"), *e;
	char			 data[512], type[32];
	size_t			 off = 0;
	uint32_t		 i;
	uint64_t		 ttl = 0;

	buf[0] = '\0';
	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.size == 0) {
		snprintf(buf, size, "-");
		return (buf);
	}
	for (i = 0; i < a->via.array.size && off + 1 < size; i++) {
		e = &a->via.array.ptr[i];
		pick_str(e, "type", type, sizeof(type));
		pick_str(e, "data", data, sizeof(data));
		if (i == 0)
			ttl = pick_u64(e, "ttl");
		if (strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
			    i > 0 ? ", " : "", data);
		else
			off += (size_t)snprintf(buf + off, size - off,
			    "%s%s %s", i > 0 ? ", " : "", type, data);
	}
	if (off + 1 < size)
		snprintf(buf + off, size - off, " (ttl %llu)",
		    (unsigned long long)ttl);
	return (buf);
}

const char *
dnsline_rcode(char *buf, size_t size, const msgpack_object *l)
{
	const msgpack_object	*r = proto_get(l, "rcode");

	if (r == NULL || r->type != MSGPACK_OBJECT_STR) {
		snprintf(buf, size, "no answer");
		return (buf);
	}
	return (pick_str(l, "rcode", buf, size));
}
