/*
 * fuzz_h2.c: libFuzzer target for the HTTP/2 engine (h2.c, h2stream.c,
 * HPACK through libnghttp2) on an h2c connection with prior knowledge.
 * The input is a list of frames whose 9-byte headers the target writes
 * itself, so that mutations reach header blocks, settings and stream
 * states rather than the frame length check:
 *
 *	[0]		 session: bit 0 keep nothing (as analyze asks), bit 1
 *			 no connection preface of the target's own first
 *	then per frame: ctl, type, flags, stream, len (2 bytes), len bytes
 *	ctl bit 0	 from the client
 *	ctl bits 1-2	 sequence jump (none, back, ahead, far)
 *	ctl bit 3	 raw: the bytes alone, no frame header
 *	ctl bits 4-5	 segments the frame is split into, less one
 *	ctl bits 6-7	 tenths of a second before it
 *	stream		 the stream identifier (bit 7 set: the reserved bit
 *			 and a high identifier)
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzzconn.h"
#include "h2.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 fr[9 + 65536];
	struct fuzz_conn	 fc;
	struct session		*s;
	size_t			 off = 1, len, n;
	uint8_t			 ctl;

	if (size < 1)
		return (0);
	s = fuzz_session(data[0] & 1);
	fuzz_open(&fc, s);
	if (!(data[0] & 2))
		fuzz_send(&fc, 1, 0, 1, 0, (const uint8_t *)H2_PREFACE,
		    H2_PREFACE_LEN);
	while (off + 6 <= size) {
		ctl = data[off];
		len = (size_t)data[off + 4] << 8 | data[off + 5];
		if (len > size - off - 6)
			len = size - off - 6;
		n = 0;
		if (!(ctl & 8)) {
			fr[0] = 0;
			fr[1] = (uint8_t)(len >> 8);
			fr[2] = (uint8_t)len;
			fr[3] = data[off + 1];
			fr[4] = data[off + 2];
			fr[5] = data[off + 3] & 0x80 ? 0xff : 0;
			fr[6] = 0;
			fr[7] = 0;
			fr[8] = data[off + 3] & 0x7f;
			n = 9;
		}
		off += 6;
		memcpy(fr + n, data + off, len);
		fuzz_send(&fc, ctl & 1, (ctl >> 1) & 3, ((ctl >> 4) & 3) + 1,
		    ctl >> 6, fr, n + len);
		off += len;
	}
	session_finish(s, fc.ts + 1);
	fuzz_drain(s);
	session_free(s);
	return (0);
}
