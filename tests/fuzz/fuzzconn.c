/*
 * fuzzconn.c: one TCP connection around chosen bytes, and a finished
 * session read every way (see fuzzconn.h).
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzzconn.h"
#include "session.h"

#define FUZZ_MAX_SEG	1024

/*
 * Each chunk packed must be one msgpack array, whole: a map's count
 * that disagrees with the keys packed after it shows up here.
 */
static void
fuzz_chunk(msgpack_sbuffer *sb)
{
	msgpack_unpacked	 u;
	size_t			 off = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, sb->data, sb->size, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != sb->size ||
	    u.data.type != MSGPACK_OBJECT_ARRAY)
		abort();
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(sb);
}

/* Packs the whole detail with flags, chunk by chunk. */
static void
fuzz_pack(struct session *s, int flags, msgpack_sbuffer *sb,
    msgpack_packer *pk)
{
	struct session_cursor	 cur;

	memset(&cur, 0, sizeof(cur));
	cur.flags = flags;
	while (session_pack_next(s, &cur, pk, 7) > 0)
		fuzz_chunk(sb);
}

void
fuzz_drain(struct session *s)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	static u_char		 frames[PROTO_MAX_SNAPLEN + 64];
	const u_char		*body;
	size_t			 len;
	uint64_t		 pos = 0;
	uint32_t		 i;
	int			 trunc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	fuzz_pack(s, SESSION_DETAIL_PACKETS, &sb, &pk);
	fuzz_pack(s, SESSION_DETAIL_NO_HEADERS, &sb, &pk);
	fuzz_pack(s, SESSION_DETAIL_BRIEF | SESSION_DETAIL_PACKETS, &sb, &pk);
	for (i = 1; session_pack_txn(s, i, &pk) == 0; i++) {
		(void)session_body(s, i, 0, &body, &len, &trunc);
		(void)session_body(s, i, 1, &body, &len, &trunc);
	}
	session_pack_summary(s, &pk);
	msgpack_sbuffer_destroy(&sb);
	while (session_frames_next(s, &pos, UINT64_MAX, frames,
	    sizeof(frames)) > 0)
		;
}

static void
fuzz_put32(u_char *p, uint32_t v)
{
	p[0] = (u_char)(v >> 24);
	p[1] = (u_char)(v >> 16);
	p[2] = (u_char)(v >> 8);
	p[3] = (u_char)v;
}

void
fuzz_segment(struct session *s, uint64_t ts, int c2s, uint32_t seq,
    uint32_t ack, uint8_t flags, const uint8_t *p, size_t len)
{
	static u_char	 f[14 + 20 + 20 + FUZZ_MAX_SEG];
	u_char		*ip = f + 14, *tcp = f + 34;
	size_t		 total;

	if (len > FUZZ_MAX_SEG)
		len = FUZZ_MAX_SEG;
	total = 40 + len;
	memset(f, 0, 54);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (u_char)(total >> 8);
	ip[3] = (u_char)total;
	ip[9] = 6;
	ip[12] = 10; ip[15] = c2s ? 1 : 2;
	ip[16] = 10; ip[19] = c2s ? 2 : 1;
	tcp[0] = c2s ? 0x04 : 0x00; tcp[1] = c2s ? 0xd2 : 80;
	tcp[2] = c2s ? 0x00 : 0x04; tcp[3] = c2s ? 80 : 0xd2;
	fuzz_put32(tcp + 4, seq);
	fuzz_put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0x10;
	if (len > 0)
		memcpy(tcp + 20, p, len);
	session_frame(s, ts, f, (uint32_t)(54 + len), (uint32_t)(54 + len));
}

struct session *
fuzz_session(int lean)
{
	struct engine_config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = 256 * 1024;
	cfg.body_keep = 512;
	cfg.keep_frames = 1;
	if (lean) {
		cfg.body_keep = 0;
		cfg.keep_frames = 0;
		cfg.no_packets = 1;
	}
	return (session_new(1, SESSION_LOADED, DLT_EN10MB, &cfg, 0, "fuzz",
	    1000000));
}

void
fuzz_open(struct fuzz_conn *fc, struct session *s)
{
	fc->s = s;
	fc->ts = 1000000;
	fc->seq[1] = 1000;
	fc->seq[0] = 90000;
	fuzz_segment(s, fc->ts, 1, 999, 0, 0x02, NULL, 0);
	fuzz_segment(s, fc->ts + 1, 0, 89999, 1000, 0x12, NULL, 0);
	fuzz_segment(s, fc->ts + 2, 1, 1000, 90000, 0x10, NULL, 0);
	fc->ts += 2;
}

void
fuzz_send(struct fuzz_conn *fc, int c2s, int jump, int parts, int step,
    const uint8_t *p, size_t len)
{
	uint32_t	 seq;
	size_t		 n, each;
	int		 d = c2s ? 1 : 0;

	fc->ts += (uint64_t)step * 100000 + 1;
	seq = fc->seq[d];
	switch (jump) {
	case 1: seq -= (uint32_t)(len % 64 + 1); break;
	case 2: seq += (uint32_t)(len % 64 + 1); break;
	case 3: seq += 70000; break;
	}
	if (parts < 1)
		parts = 1;
	each = len / (size_t)parts + 1;
	if (each > FUZZ_MAX_SEG)
		each = FUZZ_MAX_SEG;
	do {
		n = len < each ? len : each;
		fuzz_segment(fc->s, fc->ts, c2s, seq, fc->seq[d ^ 1], 0x18, p, n);
		if (seq == fc->seq[d])
			fc->seq[d] += (uint32_t)n;
		seq += (uint32_t)n;
		p += n;
		len -= n;
	} while (len > 0);
}
