/*
 * session.h: the analysis engine's interface. A session is one capture
 * run (live, or a file a client loaded): frames go in, a model of
 * servers, connections, packets and HTTP transactions comes out as
 * msgpack items (schema in proto/PROTOCOL.md, "Session detail").
 *
 * Runs in the analyzer (unprivileged, sandboxed). Input is hostile: any
 * byte sequence must be counted and survived, never trusted. Memory is
 * counted against engine_config.budget; nothing grows without bound.
 */
#ifndef HTRACR_SESSION_H
#define HTRACR_SESSION_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "proto.h"

#define SESSION_DEFAULT_BUDGET		(256UL * 1024 * 1024)
#define SESSION_DEFAULT_BODY_KEEP	(64 * 1024)

struct engine_config {
	size_t		 budget;	/* bytes of memory for the whole session */
	size_t		 body_keep;	/* bytes kept of each (decoded) body */
	int		 keep_frames;	/* 0: raw frames are not stored */
	int		 no_packets;	/* 1: no per-packet records either */
	int		 no_headers;	/* 1: of the headers only Content-Type
					   and Content-Encoding */
	uint16_t	 ports[PROTO_MAX_PORTS];
	size_t		 nports;	/* 0: any port whose bytes parse as HTTP */
};

enum session_origin {
	SESSION_LOADED,		/* frames streamed by a client (load/analyze) */
	SESSION_CAPTURED,	/* frames from the capture process */
};

/* Counters the capture process reports; the engine only stores them. */
struct session_drops {
	uint64_t	 kernel;	/* pcap_stats ps_drop */
	uint64_t	 ifdrop;	/* pcap_stats ps_ifdrop */
	uint64_t	 forward;	/* frames capture could not forward */
};

struct session;

/*
 * source is the file name or interface (copied), linktype a DLT_ value.
 * Unsupported link types still make a session; its frames are counted
 * as unhandled.
 */
struct session	*session_new(uint32_t id, enum session_origin, int linktype,
		    const struct engine_config *, uid_t uid, const char *source,
		    uint64_t start_us);
void		 session_free(struct session *);

uint32_t	 session_id(const struct session *);
int		 session_running(const struct session *);
uid_t		 session_uid(const struct session *);
size_t		 session_memory(const struct session *);

/* One frame; data holds caplen bytes. Never fails: bad frames are counted. */
void		 session_frame(struct session *, uint64_t ts_us,
		    const u_char *data, uint32_t caplen, uint32_t len);
void		 session_set_ports(struct session *, const uint16_t *, size_t);
void		 session_set_drops(struct session *, const struct session_drops *);
/* End of input: flush reassembly, finish parsers, close the session. */
void		 session_finish(struct session *, uint64_t stop_us);
/* As session_finish, for input cut short: the state says "aborted". */
void		 session_abort(struct session *, uint64_t stop_us);

/*
 * Called once per transaction when its response completes (or when the
 * session finishes with it unanswered), for live watchers.
 */
typedef void	(*session_txn_cb)(struct session *, uint32_t txn_id, void *);
void		 session_set_txn_cb(struct session *, session_txn_cb, void *);

/* The short summary map used by the sessions and status replies. */
void		 session_pack_summary(const struct session *, msgpack_packer *);

/*
 * Streaming the detail: start with a zeroed cursor with flags set, then
 * call session_pack_next until it returns 0. Each call packs one msgpack
 * array of at most max items and returns how many it packed. Items come
 * in this order: one "session", then every "server", "connection",
 * "transaction" and "dns" (schema in PROTOCOL.md). Safe to interleave with
 * session_frame on a running session: items added meanwhile may or may
 * not appear, nothing appears twice.
 */
#define SESSION_DETAIL_PACKETS	0x1	/* include each connection's packets */
#define SESSION_DETAIL_NO_HEADERS 0x2	/* leave out messages' header lists */
#define SESSION_DETAIL_BRIEF	0x4	/* only what a summary prints */
#define SESSION_DETAIL_LEAN	0x8	/* messages: what the waterfall reads */
/* One item of a close-up (closeup.c): its phase, its id. */
struct session_pick {
	uint8_t		 phase;		/* 1 server ... 4 dns, as packed */
	uint8_t		 focus;		/* the one shown: in full */
	uint32_t	 id;
};
#define SESSION_PICKS_MAX	12
struct session_cursor {
	int		 flags;
	int		 phase;
	size_t		 index;
	uint32_t	 last_conn;	/* id of the connection packed last */
	uint64_t	 count;		/* items packed so far */
	/*
	 * What the session held at the first chunk: a live session grows
	 * while it is streamed, and a stream that followed it would not
	 * end while it grew faster than one client was served.
	 */
	int		 taken;
	size_t		 end_servers, end_txns, end_dns;
	uint32_t	 end_conn;	/* id of the last connection then */
	size_t		 end_conns;	/* where it is now in the list */
	/* A close-up: only these items, after the session; 0: every item. */
	struct session_pick pick[SESSION_PICKS_MAX];
	size_t		 npick;
};
size_t		 session_pack_next(struct session *, struct session_cursor *,
		    msgpack_packer *, size_t max);
/*
 * Instead of every item, the cursor streams only those a close-up of
 * one transaction (txn_id) or one connection (conn_id, when txn_id is
 * 0) reads: the session, that connection with its server and the
 * packets if the flags ask for them, the connection the session's time
 * axis starts at, the DNS lookups involved and the first connection
 * tied to each, and for a transaction itself and the one before it on
 * its connection. Set the flags first. -1 if there is no such one.
 */
int		 session_closeup(struct session *, struct session_cursor *,
		    uint32_t txn_id, uint32_t conn_id);

/* Packs one transaction item, as in the detail; -1 if there is none. */
int		 session_pack_txn(struct session *, uint32_t txn_id,
		    msgpack_packer *);
/*
 * Packs the connection item a transaction belongs to, without packets
 * and without its list of transactions.
 */
int		 session_pack_txn_conn(struct session *, uint32_t txn_id,
		    msgpack_packer *);

/*
 * Kept body of a transaction's request (which 0) or response (which 1),
 * decoded if it was compressed. *data points into the session and stays
 * valid until the next session_frame/session_body/session_free. -1 if
 * none kept; -2 if it was kept in raw frames that are gone since.
 */
int		 session_body(struct session *, uint32_t txn_id, int which,
		    const u_char **data, size_t *len, int *truncated);

/*
 * Raw frames still kept (oldest may have been evicted; none at all when
 * the session was made without keep_frames), in capture order, for pcap
 * dumps: packs up to maxbytes of frames as a proto_frame
 * blob into buf (caller-supplied, maxbytes long) starting after *pos,
 * advancing *pos. Returns bytes written, 0 at the end.
 */
size_t		 session_frames_next(struct session *, uint64_t *pos,
		    uint64_t last, u_char *buf, size_t maxbytes);
/*
 * The number of the newest frame kept: a stream of a live session's
 * frames stops there (last), as its detail stops at what it held.
 */
uint64_t	 session_frames_last(const struct session *);
int		 session_linktype(const struct session *);
uint32_t	 session_snaplen(const struct session *);
void		 session_set_snaplen(struct session *, uint32_t);

/*
 * TLS keys (session_keys.c): len more bytes of an NSS key log (end: the
 * log is complete, a last line without newline is read). Returns the
 * secrets taken. A running session's TLS connections that wait for
 * keys are decrypted as they come; connections that began before the
 * session had any key log are not.
 */
struct keylog_stats;
size_t		 session_keys_add(struct session *, const u_char *, size_t,
		    int end);
/* NULL when the session was given no key log. */
const struct keylog_stats *session_keys_stats(const struct session *);
void		 session_keys_free(struct session *);
/* The keys as key log lines (NULL if none); caller wipes and frees. */
char		*session_keys_export(const struct session *, size_t *);
/* 1 if every frame is kept, so that session_keys_rerun sees them all. */
int		 session_keys_can_rerun(const struct session *);
/* A finished session made again from its frames with its keys (moved). */
struct session	*session_keys_rerun(struct session *);

#endif
