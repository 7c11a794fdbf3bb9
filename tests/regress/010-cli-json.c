/*
 * 010-cli-json.c: test helper for 010-cli.sh, never installed. Packs a
 * session document full of hostile wire strings (control bytes, bad
 * UTF-8, quotes, escapes), assembles it with doc_build like a detail
 * stream, and prints it with the JSON writer ("json", or "stream" item
 * by item as a detail stream is written) or the text renderer
 * ("text"). The script checks the JSON with python3 and the text for
 * raw control bytes.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cmd.h"
#include "doc.h"
#include "json.h"
#include "proto.h"
#include "text.h"

/* Each case: a name and the raw bytes a wire string may hold. */
static const struct {
	const char	*name;
	const char	*bytes;
	size_t		 len;
} hostile[] = {
#define H(n, s)	{ n, s, sizeof(s) - 1 }
	H("controls", "a\x01\x02\x1b[31mred\x7f\n\r\t\b\f end"),
	H("quotes", "say \"hi\" \\ back\\slash / slash"),
	H("utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	H("lone", "\xff\xfe\x80 x \xc3"),
	H("overlong", "\xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf"),
	H("surrogate", "\xed\xa0\x80\xed\xbf\xbf"),
	H("toolarge", "\xf4\x90\x80\x80 \xf5\x80\x80\x80"),
	H("truncated", "\xe2\x82"),
	H("nul", "a\0b"),
	H("u2028", "\xe2\x80\xa8\xe2\x80\xa9"),
#undef H
};
#define NHOSTILE	(sizeof(hostile) / sizeof(hostile[0]))

static void
str(msgpack_packer *pk, const char *s)
{
	proto_pack_str(pk, s);
}

static void
pack_session(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 6);
	str(pk, "type"); str(pk, "session");
	str(pk, "id"); msgpack_pack_uint32(pk, 1);
	str(pk, "source"); proto_pack_strn(pk, hostile[0].bytes,
	    hostile[0].len);
	str(pk, "start_us"); msgpack_pack_uint64(pk, 1700000000000000ULL);
	str(pk, "stop_us"); msgpack_pack_nil(pk);
	str(pk, "counters");
	msgpack_pack_map(pk, 2);
	str(pk, "frames"); msgpack_pack_uint32(pk, 3);
	str(pk, "gaps"); msgpack_pack_uint32(pk, 1);
}

static void
pack_server(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 5);
	str(pk, "type"); str(pk, "server");
	str(pk, "id"); msgpack_pack_uint32(pk, 1);
	str(pk, "addr"); str(pk, "192.0.2.1");
	str(pk, "port"); msgpack_pack_uint32(pk, 80);
	str(pk, "name"); proto_pack_strn(pk, hostile[3].bytes, hostile[3].len);
}

/* A transaction whose headers hold every hostile string. */
static void
pack_txn(msgpack_packer *pk, int id)
{
	size_t	 i;

	msgpack_pack_map(pk, 6);
	str(pk, "type"); str(pk, "transaction");
	str(pk, "id"); msgpack_pack_uint32(pk, id);
	str(pk, "server"); msgpack_pack_uint32(pk, 1);
	str(pk, "connection"); msgpack_pack_uint32(pk, 1);
	str(pk, "request");
	msgpack_pack_map(pk, 4);
	str(pk, "method"); proto_pack_strn(pk, hostile[0].bytes,
	    hostile[0].len);
	str(pk, "target"); proto_pack_strn(pk, hostile[id % NHOSTILE].bytes,
	    hostile[id % NHOSTILE].len);
	str(pk, "start_us"); msgpack_pack_uint64(pk, 1700000000000100ULL);
	str(pk, "headers");
	msgpack_pack_array(pk, NHOSTILE);
	for (i = 0; i < NHOSTILE; i++) {
		msgpack_pack_array(pk, 2);
		str(pk, hostile[i].name);
		proto_pack_strn(pk, hostile[i].bytes, hostile[i].len);
	}
	str(pk, "response");
	msgpack_pack_map(pk, 4);
	str(pk, "status"); msgpack_pack_uint32(pk, 200);
	str(pk, "reason"); proto_pack_strn(pk, hostile[1].bytes,
	    hostile[1].len);
	str(pk, "content_type"); proto_pack_strn(pk, hostile[0].bytes,
	    hostile[0].len);
	str(pk, "body"); msgpack_pack_bin_with_body(pk, "\0\1\2\3\xff", 5);
}

int
main(int argc, char **argv)
{
	msgpack_sbuffer		  sb;
	msgpack_packer		  pk;
	msgpack_zone		 *zone;
	msgpack_object		  all;
	const msgpack_object	 *items[16];
	struct render_opts	  ro = { 0, 0 };
	struct doc		  d;
	size_t			  off = 0, i;
	int			  txn;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2 + NHOSTILE);
	pack_session(&pk);
	pack_server(&pk);
	for (txn = 1; txn <= (int)NHOSTILE; txn++)
		pack_txn(&pk, txn);
	zone = msgpack_zone_new(4096);
	if (msgpack_unpack(sb.data, sb.size, &off, zone, &all) !=
	    MSGPACK_UNPACK_SUCCESS)
		return (1);
	for (i = 0; i < all.via.array.size; i++)
		items[i] = &all.via.array.ptr[i];
	if (doc_build(&d, zone, items, all.via.array.size) == -1)
		return (1);
	if (argc > 1 && strcmp(argv[1], "text") == 0)
		text_render(stdout, &d, &ro);
	else if (argc > 1 && strcmp(argv[1], "stream") == 0) {
		/*
		 * Item by item from their bytes, as a detail stream hands
		 * them over: past the array's header (a fixarray).
		 */
		struct json_stream	*j = json_stream_new(stdout);
		const char		*p = sb.data + 1;

		for (i = 0; i < all.via.array.size; i++)
			if (json_stream_raw(j, &p, sb.data + sb.size) == -1)
				return (1);
		json_stream_free(j);
	} else
		json_render(stdout, &d);
	doc_free(&d);
	msgpack_sbuffer_destroy(&sb);
	return (fflush(stdout) == 0 ? 0 : 1);
}
