/*
 * decode.h: link, IP, TCP and UDP header decoding for the engine. Pure
 * functions over one captured frame; nothing is allocated and nothing
 * past caplen is read.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_DECODE_H
#define HTRACR_DECODE_H

#include <sys/types.h>

#include <stdint.h>

enum decode_result {
	DECODE_TCP,
	DECODE_UDP,		/* ports and payload set; no TCP fields */
	DECODE_NOT_IP,
	DECODE_NOT_TCP,
	DECODE_FRAGMENT,
	DECODE_TRUNCATED,
	DECODE_BAD,
	DECODE_LINK,		/* link type not handled */
};

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PUSH	0x08
#define TH_ACK	0x10
#define TH_URG	0x20

struct decode_pkt {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 flags;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 seq;
	uint32_t	 ack;
	uint16_t	 win;
	int		 mss;		/* -1 when absent */
	int		 wscale;	/* -1 when absent */
	const u_char	*payload;
	uint32_t	 paylen;	/* bytes captured */
	uint32_t	 wirelen;	/* bytes on the wire (>= paylen) */
	uint32_t	 framelen;	/* the whole frame on the wire */
};

int	 decode_linktype_ok(int);
enum decode_result decode_frame(int, const u_char *, uint32_t,
	    struct decode_pkt *);

#endif
