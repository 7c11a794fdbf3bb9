/*
 * fuzz_engine.c: libFuzzer target for the analysis engine. Two readings
 * of the input, chosen by its first byte:
 *  - raw: a sequence of frames, each a 2-byte header (link type choice,
 *    length) followed by that many bytes, fed to sessions of several
 *    link types;
 *  - segments: TCP segments of one connection built around the input's
 *    bytes (direction, flags and sequence jitter from a 3-byte header),
 *    which reaches reassembly and HTTP parsing far more often.
 * Sessions run under a small budget, some keeping as little as analyze
 * asks for; then each is finished, its whole detail packed in every
 * form (each chunk checked to be whole msgpack), every transaction's
 * body fetched and the frames dumped.
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzzconn.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_links[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
	DLT_RAW, 228, 229,
};
#define FUZZ_NLINKS	(sizeof(fuzz_links) / sizeof(fuzz_links[0]))

/*
 * Records: [ctl][flags][len] then len bytes. ctl bit 0: direction;
 * bits 1-3: how far to move the sequence number before sending (none,
 * back a little, ahead a little, far); the rest pace the clock.
 */
static void
fuzz_segments(struct session *s, const uint8_t *data, size_t size)
{
	uint32_t	 seq[2] = { 1000, 90000 }, use;
	uint64_t	 ts = 1000000;
	size_t		 off = 0, n;
	int		 d;

	fuzz_segment(s, ts, 1, 999, 0, 0x02, NULL, 0);
	fuzz_segment(s, ts + 1, 0, 89999, 1000, 0x12, NULL, 0);
	fuzz_segment(s, ts + 2, 1, 1000, 90000, 0x10, NULL, 0);
	while (off + 3 <= size) {
		d = data[off] & 1;
		use = seq[d];
		switch ((data[off] >> 1) & 7) {
		case 1: use -= data[off + 2]; break;
		case 2: use += data[off + 2]; break;
		case 3: use += 70000; break;
		}
		n = data[off + 2] * 4 % 1024;
		ts += (uint64_t)(data[off] >> 4) * 100000;
		off += 3;
		if (n > size - off)
			n = size - off;
		fuzz_segment(s, ts, d, use, seq[d ^ 1], data[off - 2] | 0x10,
		    data + off, n);
		if (use == seq[d])
			seq[d] += (uint32_t)n;
		off += n;
	}
}

static struct session *
fuzz_new(size_t which, const struct engine_config *cfg)
{
	return (session_new((uint32_t)which + 1, SESSION_LOADED,
	    fuzz_links[which], cfg, 0, "fuzz", 1000000));
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
	cfg.keep_frames = 1;
	if (size > 0 && data[0] & 4) {	/* as analyze asks: nothing kept */
		cfg.body_keep = 0;
		cfg.keep_frames = 0;
		cfg.no_packets = 1;
		cfg.no_headers = (data[0] & 8) != 0;
	}
	if (size > 0 && data[0] & 1) {
		cfg.ports[0] = 80;
		cfg.nports = 1;
	}
	if (size > 0 && data[0] & 2) {
		s[0] = session_new(1, SESSION_LOADED, DLT_EN10MB, &cfg, 0,
		    "fuzz", ts);
		fuzz_segments(s[0], data + 1, size - 1);
		session_finish(s[0], ts);
		fuzz_drain(s[0]);
		session_free(s[0]);
		return (0);
	}
	/*
	 * A session per link type that gets a frame, made at its first;
	 * an input of none still reads out an empty session.
	 */
	memset(s, 0, sizeof(s));
	while (off + 2 <= size) {
		which = data[off] % FUZZ_NLINKS;
		n = data[off + 1] * 4;
		off += 2;
		if (n > size - off)
			n = size - off;
		ts += (uint64_t)(data[off - 2] >> 3) * 300000;
		if (s[which] == NULL)
			s[which] = fuzz_new(which, &cfg);
		session_frame(s[which], ts, data + off, (uint32_t)n,
		    (uint32_t)n);
		off += n;
	}
	if (off == 0)
		s[0] = fuzz_new(0, &cfg);
	for (i = 0; i < FUZZ_NLINKS; i++) {
		if (s[i] == NULL)
			continue;
		session_finish(s[i], ts);
		fuzz_drain(s[i]);
		session_free(s[i]);
	}
	return (0);
}
