/*
 * fuzz_engine.c: libFuzzer target for the analysis engine. The input is
 * read as a sequence of frames, each a 2-byte header (link type choice,
 * length) followed by that many bytes, fed to sessions of several link
 * types under a small budget; then each session is finished, its whole
 * detail packed, every transaction's body fetched and the frames dumped.
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_links[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
	DLT_RAW, 228, 229,
};
#define FUZZ_NLINKS	(sizeof(fuzz_links) / sizeof(fuzz_links[0]))

static void
fuzz_drain(struct session *s)
{
	struct session_cursor	 cur;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	static u_char		 frames[PROTO_MAX_SNAPLEN + 64];
	const u_char		*body;
	size_t			 len;
	uint64_t		 pos = 0;
	uint32_t		 i;
	int			 trunc;

	memset(&cur, 0, sizeof(cur));
	cur.flags = SESSION_DETAIL_PACKETS;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while (session_pack_next(s, &cur, &pk, 7) > 0)
		msgpack_sbuffer_clear(&sb);
	for (i = 1; session_pack_txn(s, i, &pk) == 0; i++) {
		(void)session_body(s, i, 0, &body, &len, &trunc);
		(void)session_body(s, i, 1, &body, &len, &trunc);
	}
	session_pack_summary(s, &pk);
	msgpack_sbuffer_destroy(&sb);
	while (session_frames_next(s, &pos, frames, sizeof(frames)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_config	 cfg;
	struct session		*s[FUZZ_NLINKS];
	uint64_t		 ts = 1000000;
	size_t			 i, off = 0, n;
	uint8_t			 which;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = 256 * 1024;
	cfg.body_keep = 512;
	if (size > 0 && data[0] & 1) {
		cfg.ports[0] = 80;
		cfg.nports = 1;
	}
	for (i = 0; i < FUZZ_NLINKS; i++)
		s[i] = session_new((uint32_t)i + 1, SESSION_LOADED,
		    fuzz_links[i], &cfg, 0, "fuzz", ts);
	while (off + 2 <= size) {
		which = data[off] % FUZZ_NLINKS;
		n = data[off + 1] * 4;
		off += 2;
		if (n > size - off)
			n = size - off;
		ts += (uint64_t)(data[off - 2] >> 3) * 300000;
		session_frame(s[which], ts, data + off, (uint32_t)n,
		    (uint32_t)n);
		off += n;
	}
	for (i = 0; i < FUZZ_NLINKS; i++) {
		session_finish(s[i], ts);
		fuzz_drain(s[i]);
		session_free(s[i]);
	}
	return (0);
}
