/*
 * h2_int.h: what h2.c (framing, connection-level frames) and
 * h2stream.c (streams, header blocks, transactions, flow control)
 * share. Nothing else includes it.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_H2_INT_H
#define HTRACR_H2_INT_H

#include <nghttp2/nghttp2.h>

#include "body.h"
#include "engine.h"

#define H2_DATA			0x0
#define H2_HEADERS		0x1
#define H2_PRIORITY		0x2
#define H2_RST_STREAM		0x3
#define H2_SETTINGS		0x4
#define H2_PUSH_PROMISE		0x5
#define H2_PING			0x6
#define H2_GOAWAY		0x7
#define H2_WINDOW_UPDATE	0x8
#define H2_CONTINUATION		0x9

#define H2_F_END_STREAM		0x01
#define H2_F_ACK		0x01
#define H2_F_END_HEADERS	0x04
#define H2_F_PADDED		0x08
#define H2_F_PRIORITY		0x20

#define H2_DEFAULT_FRAME	16384
#define H2_MAX_FRAME		16777215
#define H2_DEFAULT_WINDOW	65535
#define H2_FIXED_MAX		96	/* bytes kept of a control frame */
#define H2_MAX_PINGS		4	/* unanswered PINGs remembered */

enum h2_mode {
	H2_M_PREFACE,		/* the client's 24 bytes */
	H2_M_FRAMES,
	H2_M_OFF,		/* framing lost: bytes only counted */
};

/* A header block being inflated: HEADERS or PUSH_PROMISE, then CONTINUATIONs. */
struct h2_block {
	uint8_t		 type;
	uint8_t		 end_stream;
	uint8_t		 broken;	/* did not inflate; not used */
	uint32_t	 sid;
	uint32_t	 promised;	/* PUSH_PROMISE: the new stream */
	uint64_t	 us;		/* its first byte */
	uint32_t	 frame;
	uint32_t	 packets;
	uint32_t	 seen_frame;
	uint64_t	 wire;		/* frame bytes, headers included */
	char		*text;		/* decoded names and values */
	uint32_t	 textlen;
	uint32_t	 textcap;
	struct hdr	*hdrs;
	uint32_t	 nhdrs;
	uint32_t	 hdrcap;
};

struct h2_dir {
	int		 dir;
	int		 mode;
	size_t		 got;		/* preface bytes matched */
	uint64_t	 us;		/* the packet being read */
	uint32_t	 frame;

	u_char		 hdr[9];	/* the frame header being read */
	size_t		 hdrlen;
	uint32_t	 len;
	uint8_t		 type;
	uint8_t		 flags;
	uint32_t	 sid;
	uint32_t	 left;		/* payload bytes still to come */
	int		 part;
	int		 bad;		/* malformed: skipped to its end */
	uint8_t		 padlen;
	u_char		 fixed[H2_FIXED_MAX];
	size_t		 fixedlen;
	size_t		 fixedneed;
	uint32_t	 content;	/* content bytes still to come */
	uint64_t	 frame_us;	/* when the frame's header came */
	uint32_t	 frame_frame;

	nghttp2_hd_inflater *inf;
	int		 hpack_broken;	/* its table is no longer known */
	size_t		 table_max;	/* what the inflater allows now */
	int		 block_open;
	struct h2_block	 blk;

	uint32_t	 max_frame;	/* what the receiver accepts */
	int64_t		 win;		/* connection send window */
	int64_t		 init_win;	/* new streams' send window */
	uint64_t	 stall_since;	/* connection window spent; or NOTIME */

	u_char		 ping[H2_MAX_PINGS][8];	/* sent, not yet acked */
	uint64_t	 ping_us[H2_MAX_PINGS];
	int		 nping;
};

struct h2_stream {
	uint32_t	 id;
	struct txn	*txn;
	struct body_dec	 body[2];
	uint8_t		 ended[2];	/* END_STREAM seen, by direction */
	uint8_t		 cancelled;	/* the client reset it; the server's
					   frames on their way still count */
	int64_t		 win[2];	/* send windows, by sender */
	uint64_t	 stall_since[2];
};

struct h2_conn {
	struct session	*s;
	struct conn	*c;
	struct h2_info	*info;
	struct h2_dir	 d[2];
	struct h2_stream **st;		/* open streams, in no order */
	size_t		 nst;
	size_t		 stcap;
	uint32_t	 last_sid[2];	/* highest opened: by the client (odd),
					   by the server (even, pushed) */
};

void	 h2_lose(struct h2_conn *, struct h2_dir *, const char *);
void	 h2_malformed(struct h2_conn *, const char *);

void	 h2stream_hpack_init(struct h2_conn *, struct h2_dir *);
void	 h2stream_hpack_free(struct h2_conn *, struct h2_dir *);
/* The receiver of d's header blocks allows a table this big. */
void	 h2stream_hpack_size(struct h2_conn *, struct h2_dir *, uint32_t);
void	 h2stream_free_all(struct h2_conn *);
void	 h2stream_block_begin(struct h2_conn *, struct h2_dir *);
void	 h2stream_block_bytes(struct h2_conn *, struct h2_dir *,
	    const u_char *, size_t, int);
void	 h2stream_block_abandon(struct h2_conn *, struct h2_dir *);
void	 h2stream_data_begin(struct h2_conn *, struct h2_dir *);
void	 h2stream_data(struct h2_conn *, struct h2_dir *, const u_char *,
	    size_t);
void	 h2stream_data_gap(struct h2_conn *, struct h2_dir *, uint64_t);
void	 h2stream_end(struct h2_conn *, struct h2_dir *, uint32_t);
void	 h2stream_reset(struct h2_conn *, struct h2_dir *, uint32_t,
	    uint32_t);
void	 h2stream_window(struct h2_conn *, struct h2_dir *, uint32_t,
	    uint32_t);
void	 h2stream_initial_window(struct h2_conn *, int, int64_t);
void	 h2stream_eof(struct h2_conn *, int);
void	 h2stream_upgraded(struct h2_conn *, struct txn *);

#endif
