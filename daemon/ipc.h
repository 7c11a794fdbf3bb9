/*
 * ipc.h: the private link between htracrd's two processes, a stream
 * socketpair created before the split. Each message is a fixed header
 * (type, length) followed by length bytes. Commands (analyzer ->
 * capture) are fixed-size structures the capture process re-checks;
 * replies and the spans of frame batches go the other way, the frames
 * themselves in the ring both map (shring.h). Both processes use it:
 * the capture process (CAP_NET_RAW only) and the sandboxed analyzer.
 */
#ifndef HTRACR_IPC_H
#define HTRACR_IPC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct ipc_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* payload bytes after this header */
};

enum ipc_type {
	/* analyzer -> capture: fixed-size commands, re-checked */
	IPC_CMD_START = 1,	/* struct ipc_start */
	IPC_CMD_PORTS = 2,	/* struct ipc_ports */
	IPC_CMD_STOP = 3,	/* no payload */
	IPC_CMD_STATS = 4,	/* no payload */

	/* capture -> analyzer */
	IPC_STARTED = 100,	/* struct ipc_started */
	IPC_FAILED = 101,	/* struct ipc_failed: start or ports refused */
	IPC_PORTS_SET = 102,	/* no payload */
	IPC_STOPPED = 103,	/* struct ipc_stats, the final counters */
	IPC_STATS = 104,	/* struct ipc_stats */
	/* 105: retired (frames batches on the link itself) */
	IPC_QUIT = 106,		/* orderly shutdown: the analyzer exits 0 */
	IPC_SPAN = 107,		/* struct ipc_span: a batch in the ring */
};

/* Largest payload either side accepts; anything larger is fatal. */
#define IPC_MAX_PAYLOAD		4096

/*
 * "(tcp and (port N or ...)) or ((udp or tcp) and port 53)" for
 * PROTO_MAX_PORTS ports fits.
 */
#define IPC_FILTER_MAX		(64 + PROTO_MAX_PORTS * 16)

struct ipc_ports {
	uint32_t	 nports;
	uint16_t	 ports[PROTO_MAX_PORTS];
};

struct ipc_start {
	char		 ifname[PROTO_MAX_IFNAME + 1];	/* NUL-terminated */
	struct ipc_ports ports;
	uint32_t	 dns;		/* 1: DNS on port 53 too; 0 or 1 */
};

struct ipc_started {
	int32_t		 linktype;
	uint32_t	 snaplen;
};

struct ipc_failed {
	int32_t		 code;		/* enum proto_err for the client */
	char		 msg[256];	/* NUL-terminated */
};

/*
 * A frames batch in the shared ring: the proto_frame blob at positions
 * [start, end) of the ring's byte stream.
 */
struct ipc_span {
	uint64_t	 start;
	uint64_t	 end;
};

struct ipc_stats {
	uint64_t	 kernel;	/* pcap_stats ps_drop */
	uint64_t	 ifdrop;	/* pcap_stats ps_ifdrop */
	uint64_t	 forward;	/* frames the shared ring refused */
	uint64_t	 frames;	/* frames forwarded */
};

/*
 * A bounded byte queue for a non-blocking descriptor: messages are
 * appended whole and written out as the peer reads. Never grows past
 * the size given to ipc_buf_init.
 */
struct ipc_buf {
	u_char		*data;
	size_t		 off;		/* first byte not yet written */
	size_t		 used;		/* end of queued bytes */
	size_t		 size;
};

void	 ipc_buf_init(struct ipc_buf *, size_t);
void	 ipc_buf_free(struct ipc_buf *);
size_t	 ipc_buf_room(struct ipc_buf *);
int	 ipc_buf_put(struct ipc_buf *, uint32_t, const void *, size_t);
int	 ipc_buf_flush(struct ipc_buf *, int);
size_t	 ipc_buf_pending(const struct ipc_buf *);

int	 ipc_ports_valid(const struct ipc_ports *);
int	 ipc_ifname_valid(const char *, size_t);
int	 ipc_start_valid(const struct ipc_start *);
void	 ipc_filter_string(const struct ipc_ports *, int, char *, size_t);

/*
 * Reading the link: what each side accepts, checked before any of it
 * is used. The callers treat -1 as fatal (the peer is the daemon's own
 * other half).
 */
int	 ipc_msg_next(const u_char *, size_t, struct ipc_hdr *);
ssize_t	 ipc_command_size(uint32_t);
ssize_t	 ipc_reply_size(uint32_t);
int	 ipc_frames_next(const u_char *, size_t, size_t *,
	    struct proto_frame *, const u_char **);

#endif
