/*
 * engine.h: the analysis engine's private model, shared by session.c,
 * tcp.c, http.c and pack.c. Nothing outside the engine includes it; the
 * rest of the daemon sees only session.h.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_ENGINE_H
#define HTRACR_ENGINE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "ring.h"

#define ENGINE_NOTIME		UINT64_MAX	/* "nil" for any *_us */
#define ENGINE_IDLE_US		1000000		/* quiet time before "idle" */

enum conn_state {
	CONN_HANDSHAKING,
	CONN_CONNECTED,
	CONN_HALF_CLOSED,
	CONN_IDLE,
	CONN_CLOSING,
	CONN_CLOSED,
	CONN_RESET,
};

/* Connection flags, in the order PROTOCOL.md lists their names. */
#define CONN_F_MIDSTREAM	0x01
#define CONN_F_GAP		0x02
#define CONN_F_TUNNEL		0x04
#define CONN_F_NOT_HTTP		0x08
#define CONN_F_REORDERED_HS	0x10

enum pkt_class {
	PKT_SYN,
	PKT_SYNACK,
	PKT_ACK,
	PKT_DATA,
	PKT_PUSH,
	PKT_FIN,
	PKT_RST,
	PKT_RETRANSMIT,
	PKT_OUT_OF_ORDER,
	PKT_DUP_ACK,
	PKT_ZERO_WINDOW,
};

#define DIR_C2S			0
#define DIR_S2C			1

/*
 * One packet record, as pktlog.c reads it back: a connection keeps its
 * records packed, a few bytes each.
 */
struct pkt {
	uint64_t	 us;
	uint32_t	 frame;
	uint32_t	 seq;		/* relative to the direction's base */
	uint32_t	 ack;		/* relative to the other direction's base */
	uint32_t	 win;		/* scaled when the scale is known */
	uint32_t	 len;
	uint8_t		 flags;		/* TCP flag bits as on the wire */
	uint8_t		 dir;
	uint8_t		 class;
	uint8_t		 pad;
};

/* What the next packed record is told apart from (pktlog.c). */
struct pktlog_state {
	uint64_t	 us;
	uint32_t	 frame;
	uint32_t	 seq[2];	/* where each direction's last ended */
	uint32_t	 ack[2];
	uint32_t	 win[2];
	uint32_t	 len[2];	/* each direction's last payload */
};

struct dirstats {
	uint64_t	 packets;
	uint64_t	 bytes;
	uint64_t	 payload;
	uint64_t	 retransmits;
	uint64_t	 out_of_order;
	uint64_t	 dup_acks;
	uint64_t	 zero_windows;
	uint64_t	 gaps;
	uint64_t	 gap_bytes;
	int		 wscale;	/* -1: not seen */
	int		 mss;		/* -1: not seen */
};

struct state_change {
	uint64_t	 us;
	uint8_t		 state;
};

struct server {
	uint32_t	 id;
	uint8_t		 family;
	uint8_t		 addr[16];
	uint16_t	 port;
	char		*name;		/* first Host header, port stripped */
	size_t		 namelen;
	uint64_t	 nconns;
	uint64_t	 ntxns;
	struct server	*hnext;
};

struct tcp_live;
struct tls_info;
struct h2_info;

struct conn {
	uint32_t	 id;
	uint32_t	 dns;		/* lookup that gave saddr; 0: none */
	struct server	*server;
	uint8_t		 family;
	uint8_t		 caddr[16];
	uint8_t		 saddr[16];
	uint8_t		 state;
	uint8_t		 flags;
	uint8_t		 pkts_evicted;	/* stop recording packets */
	uint16_t	 cport;
	uint16_t	 sport;
	uint64_t	 first_us;
	uint64_t	 last_us;
	uint64_t	 syn_us;
	uint64_t	 synack_us;
	uint64_t	 est_us;

	u_char		*states;	/* packed (session_conn_state) */
	size_t		 statelen;	/* bytes used */
	size_t		 statecap;	/* bytes allocated */
	uint32_t	 nstates;
	uint32_t	 ntxns;		/* ids are 32-bit */

	struct dirstats	 d[2];

	uint32_t	*txns;
	size_t		 txncap;

	u_char		*pkts;		/* packed records (pktlog.h) */
	size_t		 pktlen;	/* bytes used */
	size_t		 pktcap;	/* bytes allocated */
	uint32_t	 npkts;		/* records; frame numbers are 32-bit */
	struct pktlog_state pktlast;	/* of the newest record */

	struct tls_info	*tls;		/* NULL: not a TLS connection */
	struct h2_info	*h2;		/* NULL: not HTTP/2 */
	struct tcp_live	*live;		/* NULL once released */
};

/*
 * What a TLS connection shows without keys (tls.c, tlsmsg.c; packed by
 * tlspack.c as the connection's "tls" object). It lives in the session's
 * arena, as do its strings; every string is as received (escape it).
 */
#define TLS_CT_CCS		20	/* record content types */
#define TLS_CT_ALERT		21
#define TLS_CT_HANDSHAKE	22
#define TLS_CT_APPDATA		23
#define TLS_MAX_ALERTS		8	/* alerts kept; more are only counted */
#define TLS_MAX_OFFERED		8	/* supported_versions kept */

/* Records and their bytes (5-byte headers included), by content type. */
struct tls_dirstats {
	uint64_t	 records[4];	/* CCS, alert, handshake, application */
	uint64_t	 bytes[4];
	uint64_t	 other;		/* records of another content type */
};

struct tls_alert {
	uint64_t	 us;
	uint8_t		 dir;
	uint8_t		 level;		/* both 0 and encrypted 1: unreadable */
	uint8_t		 desc;
	uint8_t		 encrypted;
	uint8_t		 decrypted;	/* level and desc read with the keys */
};

/* Tri-state answers: unknown until the message that says was seen. */
#define TLS_UNKNOWN		2

struct tls_info {
	uint64_t	 hello_us;	/* first byte of the ClientHello */
	uint64_t	 server_hello_us;
	uint64_t	 done_us;	/* the server's Finished, see PROTOCOL.md */
	uint16_t	 client_version;	/* ClientHello legacy_version, 0 */
	uint16_t	 server_version;	/* ServerHello legacy_version, 0 */
	uint16_t	 version;	/* negotiated; 0: unknown */
	uint16_t	 cipher;
	uint16_t	 offered[TLS_MAX_OFFERED];	/* supported_versions */
	uint8_t		 noffered;
	uint8_t		 has_offered;	/* the extension was there */
	uint8_t		 has_hello;	/* a ClientHello was parsed */
	uint8_t		 has_server_hello;
	uint8_t		 hello_retry;	/* a HelloRetryRequest was seen */
	uint8_t		 ticket_offered;
	uint8_t		 psk_offered;
	uint8_t		 early_data;	/* offered */
	uint8_t		 psk_accepted;	/* TLS_UNKNOWN until a ServerHello */
	uint8_t		 id_echoed;	/* session id echoed (TLS 1.2) */
	uint8_t		 new_ticket;	/* NewSessionTicket in clear */
	uint8_t		 round_trips;
	uint16_t	 nciphers;	/* cipher suites offered */
	char		*sni;
	uint16_t	 snilen;
	u_char		*alpn_offered;	/* protocol_name_list as sent */
	uint16_t	 alpn_offered_len;
	char		*alpn;		/* chosen, from a TLS 1.2 ServerHello */
	uint8_t		 alpnlen;
	char		*subject;	/* "CN=..., O=..." of the leaf certificate */
	uint16_t	 subjectlen;
	char		*issuer;
	uint16_t	 issuerlen;
	const char	*error;		/* first problem, static text */
	/* With a key log (tlsdec.c): records counted, and why not more. */
	uint8_t		 keyed;		/* its session has a key log */
	uint64_t	 rec_decrypted;
	uint64_t	 rec_failed;	/* did not authenticate */
	uint64_t	 rec_skipped;	/* not decrypted: no keys, suite, lost */
	uint32_t	 resynced;	/* sequence found again after a loss */
	const char	*dec_error;	/* why not, static text */
	uint32_t	 resyncs;
	uint32_t	 nalerts;	/* all alert records, kept or not */
	struct tls_alert alerts[TLS_MAX_ALERTS];
	struct tls_dirstats d[2];
};

/*
 * What an HTTP/2 connection shows (h2.c; in the session's arena). Per
 * direction: who sent it. Counters never stop; lists are bounded.
 */
#define H2_NTYPES		10	/* DATA .. CONTINUATION */
#define H2_MAX_RTTS		16	/* PING round trips kept */

/* SETTINGS as a side last announced them; -1: never said. */
struct h2_settings {
	int64_t		 header_table_size;
	int64_t		 enable_push;
	int64_t		 max_concurrent_streams;
	int64_t		 initial_window_size;
	int64_t		 max_frame_size;
	int64_t		 max_header_list_size;
	uint32_t	 count;		/* SETTINGS frames, not acks */
};

struct h2_dirstats {
	uint64_t	 frames[H2_NTYPES + 1];	/* by type; last: others */
	uint64_t	 frame_bytes;	/* headers included */
	uint64_t	 data_bytes;	/* DATA payloads, padding included */
	uint64_t	 window_updates;
	uint64_t	 window_bytes;	/* credit they granted */
	uint64_t	 stalls;	/* its send window ran out */
	uint64_t	 stall_us;
	uint64_t	 lost_bytes;	/* not parsed after a hole */
	struct h2_settings settings;
};

struct h2_info {
	uint64_t	 preface_us;	/* the client's connection preface */
	uint32_t	 streams;	/* streams seen */
	uint32_t	 streams_dropped;	/* over H2_MAX_STREAMS at once */
	uint32_t	 pushed;	/* PUSH_PROMISE streams */
	uint32_t	 resets;	/* RST_STREAM frames */
	uint32_t	 malformed;	/* frames skipped as malformed */
	uint32_t	 hpack_errors;	/* header blocks that did not inflate */
	uint64_t	 header_bytes_dropped;	/* decoded, over the bounds */
	uint8_t		 upgraded;	/* from HTTP/1.1, Upgrade: h2c */
	uint8_t		 has_goaway;
	uint8_t		 goaway_dir;
	uint32_t	 goaway_last_stream;
	uint32_t	 goaway_error;
	uint64_t	 goaway_us;
	uint32_t	 npings;	/* PING round trips measured */
	uint64_t	 rtt_us[H2_MAX_RTTS];	/* the first ones */
	const char	*error;		/* first problem, static text */
	struct h2_dirstats d[2];
	struct txn_h2	*txns;		/* by transaction index (h2_txn) */
	size_t		 ntxns;		/* set, zeroed when made */
	size_t		 txncap;
};

/*
 * A transaction's HTTP/2 facts: kept by its connection, not in the
 * record every transaction has, so that HTTP/1.x pays nothing for them.
 */
struct txn_h2 {
	uint64_t	 stall_us;	/* DATA blocked on a spent window */
	uint32_t	 stream_id;
	uint32_t	 reset_code;
	uint32_t	 stalls;
};

#define TXN_PROTO_HTTP1		0	/* version from the messages */
#define TXN_PROTO_H2		1

/*
 * A piece of a kept body that lies, as sent, in a raw frame the session
 * keeps: bytes off .. off + len of frame number frame, counted from the
 * start of the frame as captured.
 */
struct body_ref {
	uint32_t	 frame;
	uint32_t	 off;
	uint32_t	 len;
};

/* A header as offsets into its message's text (at most MSG_MAX_TEXT). */
struct hdr {
	uint16_t	 name_off;
	uint16_t	 name_len;
	uint16_t	 val_off;
	uint16_t	 val_len;
};

/*
 * A recent message's text and header index, for messages that repeat
 * it to share (msg.c): a table of MSG_SHARED_SLOTS, the newest in each.
 */
#define MSG_SHARED_SLOTS	4096

struct msg_shared {
	char		*text;		/* its header index after it */
	uint32_t	 textlen;
	uint32_t	 nhdrs;
	uint64_t	 hash;
};

#define MSG_MAX_TEXT		UINT16_MAX	/* target, reason, headers */
#define MSG_MAX_HEADERS		256
#define MSG_MAX_INTERIM		8

/*
 * What few messages have, in a record of its own (msg.c, the session's
 * arena) made for the first that needs it: most have none of it.
 */
struct msg_rare {
	const char	*error;		/* llhttp's static reason text */
	uint64_t	 lost_bytes;	/* in holes of the capture */
	uint16_t	 interim[MSG_MAX_INTERIM];
	uint8_t		 ninterim;
};

/*
 * The bytes kept of a message's body (body.c), in a record of its own
 * made with the first of them (the session's arena): copied, or where
 * they lie in the raw frames, the newest reference in last and those
 * before it packed, a few bytes each, in the record itself while they
 * fit in a pointer's room (most bodies are one or two references).
 * Eviction frees what is allocated and leaves the record: 32 bytes.
 */
#define BODY_REFS_INLINE	8

struct msg_body {
	union {
		u_char	*body;		/* nrefs 0: the bytes, copied */
		u_char	*refs;		/* the packed ones, reflen above */
		u_char	 in[BODY_REFS_INLINE]; /* them, reflen at most */
	} u;
	struct body_ref	 last;		/* nrefs > 0: the newest reference */
	uint32_t	 len;		/* bytes kept, copied or by reference */
	uint32_t	 nrefs;		/* references, the newest included */
	uint32_t	 reflen;	/* bytes of packed references */
};

/*
 * There is one for every request and response the session holds, so
 * every byte counts: 96 bytes, the rare parts and the kept body out
 * of line, counts in as few bits as their bounds need.
 */
struct msg {
	uint64_t	 start_us;
	uint64_t	 end_us;
	uint64_t	 body_bytes;
	uint64_t	 decoded_bytes;
	char		*text;		/* target, reason, header names/values,
					   then the header index (msg_hdrs) */
	struct msg_rare	*rare;		/* NULL: none of it */
	struct msg_body	*kept;		/* NULL: no body bytes kept */
	uint32_t	 header_bytes;	/* stops at UINT32_MAX (msg_u32) */
	uint32_t	 first_frame;
	uint32_t	 last_frame;	/* while parsed: the newest seen */
	uint32_t	 packets;
	uint16_t	 textlen;	/* at most MSG_MAX_TEXT */
	uint16_t	 textcap;
	uint16_t	 target_off;	/* in text */
	uint16_t	 target_len;
	uint16_t	 reason_off;	/* a request's: a method llhttp */
	uint16_t	 reason_len;	/* does not know (HTTP/2) */
	int16_t		 ct;		/* header index of Content-Type, -1 */
	int16_t		 ce;		/* of Content-Encoding, -1 */
	uint16_t	 status;	/* 0: none yet */
	uint8_t		 method;
	unsigned int	 has_version:1;
	unsigned int	 has_method:1;
	unsigned int	 complete:1;
	unsigned int	 gapped:1;	/* a hole was stepped over in it */
	unsigned int	 chunked:1;
	unsigned int	 headers_split:1;
	unsigned int	 encoded:1;	/* gzip/deflate: decoded_bytes valid */
	unsigned int	 lazy:1;	/* gzip kept compressed, size from trailer */
	unsigned int	 body_truncated:1;
	unsigned int	 body_evicted:1;
	unsigned int	 in_headers:1;	/* header block still being parsed */
	unsigned int	 in_value:1;	/* last header callback was a value */
	unsigned int	 nhdrs:9;	/* at most MSG_MAX_HEADERS */
	unsigned int	 hdrcap:9;
	unsigned int	 vmajor:4;	/* HTTP versions are single digits */
	unsigned int	 vminor:4;
};

/* One for every transaction the session holds: 56 bytes. */
struct txn {
	uint32_t	 id;
	uint32_t	 index;		/* position on its connection */
	struct conn	*conn;
	struct msg	*req;		/* NULL: response without request seen */
	struct msg	*resp;
	unsigned int	 pipelined:1;
	unsigned int	 conditional:1;
	unsigned int	 not_modified:1;
	unsigned int	 conn_close:1;
	unsigned int	 upgrade:1;
	unsigned int	 head:1;	/* request method was HEAD */
	unsigned int	 connect:1;	/* request method was CONNECT */
	unsigned int	 req_lost:1;	/* its request's start: in a hole */
	unsigned int	 resp_lost:1;	/* its response's start: in a hole */
	unsigned int	 reported:1;	/* txn callback already called */
	unsigned int	 pushed:1;	/* HTTP/2 server push */
	unsigned int	 h2c:1;		/* the request asked Upgrade: h2c */
	unsigned int	 proto:2;	/* TXN_PROTO_* */
	unsigned int	 reset_by:2;	/* RST_STREAM: 0 none, 1 client, 2 server */
};

struct counters {
	uint64_t	 frames;
	uint64_t	 bytes;
	uint64_t	 evicted_frames;
	uint64_t	 evicted_bodies;
	uint64_t	 evicted_packets;
	uint64_t	 evicted_half_open;	/* handshakes never completed */
	uint64_t	 dropped_connections;
	uint64_t	 dropped_transactions;
	uint64_t	 not_ip;
	uint64_t	 not_tcp;
	uint64_t	 ip_fragments;
	uint64_t	 truncated;
	uint64_t	 bad_header;
	uint64_t	 parse_errors;
	uint64_t	 gaps;
	uint64_t	 dns_dropped;	/* lookups over DNS_MAX_LOOKUPS */
	uint64_t	 dns_malformed;	/* port 53 messages not read */
	uint64_t	 dns_unmatched;	/* responses to no query seen */
};

enum session_state {
	SESSION_RUNNING,
	SESSION_FINISHED,
	SESSION_ABORTED,
};

struct tcp_table;

/* One chunk of the records' arena (session.c). */
struct session_chunk {
	struct session_chunk	*next;
	size_t			 size;
	size_t			 used;
	size_t			 mapped;	/* mapped on its own; keeps data
						   16-byte aligned */
	u_char			 data[];
};

struct keylog;
struct dns_lookup;

struct session {
	uint32_t		 id;
	enum session_origin	 origin;
	enum session_state	 state;
	int			 linktype;
	uint32_t		 snaplen;
	uid_t			 uid;
	char			*source;
	struct engine_config	 cfg;
	uint64_t		 start_us;
	uint64_t		 stop_us;
	uint64_t		 first_frame_us;
	uint64_t		 last_frame_us;
	uint32_t		 frameno;	/* number of the current frame */
	struct counters		 c;
	struct session_drops	 drops;

	size_t			 mem;		/* bytes counted so far */
	int			 full;		/* budget reached: store no more */

	struct session_chunk	*chunks;	/* records' arena, newest first */
	size_t			 chunksize;
	void			*last;		/* newest arena allocation */

	struct ring		 ring;

	struct server		**servers;
	size_t			 nservers;
	size_t			 servercap;
	struct server		**srvhash;
	size_t			 srvhashsize;

	struct conn		**conns;	/* by id, with gaps once evicted */
	size_t			 nconns;
	size_t			 conncap;
	uint32_t		 conn_id;	/* the last one given */

	struct txn		**txns;
	size_t			 ntxns;
	size_t			 txncap;

	struct tcp_table	*tcp;

	struct dns_lookup	**dns;		/* lookups, by id - 1 */
	size_t			 ndns;
	size_t			 dnscap;

	size_t			 body_evict;	/* next txn whose body goes */
	size_t			 pkt_evict;	/* next conn whose packets go */
	size_t			 open_evict;	/* conns before it: not half-open */

	struct msg_shared	*shared;	/* recent messages' text (msg.c) */

	u_char			*bodybuf;	/* a body handed to a client */
	u_char			*bodyraw;	/* a gzip body gathered */

	/*
	 * The frame being analyzed, and where the bytes being parsed lie
	 * in the raw frames (src_frame 0: nowhere, they were decrypted
	 * or are not the frame's): stream.c sets these, body.c reads them.
	 */
	const u_char		*fdata;
	uint32_t		 fcaplen;
	const u_char		*src_p;
	size_t			 src_len;
	uint32_t		 src_frame;
	uint32_t		 src_off;
	struct keylog		*keys;		/* TLS secrets; NULL: none given */

	session_txn_cb		 txn_cb;
	void			*txn_arg;
};

/*
 * Memory accounting (session.c). A record allocated on its own is
 * charged session_size of it, and uncharged the same before its free.
 */
#define SESSION_CHUNK_HDR	sizeof(size_t)	/* glibc's, per chunk */
size_t	 session_size(const void *);
void	 session_charge(struct session *, size_t);
void	 session_uncharge(struct session *, size_t);
int	 session_room(struct session *);
void	*session_grow(struct session *, void *, size_t *, size_t, size_t);
void	*session_fit(struct session *, void *, size_t *, size_t, size_t);
void	*session_grow_from(struct session *, void *, size_t *, size_t,
	    size_t, size_t);
/*
 * Records that live as long as the session (transactions, messages,
 * their text and headers) come from an arena freed only with it.
 * session_alloc returns zeroed memory; session_extend grows the newest
 * allocation in place when it can, else moves it (the old room is lost
 * until the session goes, and stays counted). Grown room is not zeroed.
 */
void	*session_alloc(struct session *, size_t);
void	*session_extend(struct session *, void *, size_t, size_t);
int	 session_shrink(struct session *, void *, size_t, size_t);
/* Gives back p, the start of the newest allocations, and all after it. */
void	 session_unalloc(struct session *, void *);

/* Model records (session.c). */
/*
 * Reads the state change at *off of c's packed list into *sc and moves
 * *off past it; 0 at the end or if the list is damaged.
 */
int		 session_conn_state_get(const struct conn *, size_t *,
		    struct state_change *);
struct server	*session_server(struct session *, uint8_t, const uint8_t *,
		    uint16_t);
struct conn	*session_conn_new(struct session *);
void		 session_conn_state(struct session *, struct conn *, int,
		    uint64_t);
struct txn	*session_txn_new(struct session *, struct conn *);
void		 session_txn_done(struct session *, struct txn *);
/* session_pack_next for a close-up (session_closeup.c). */
size_t		 session_closeup_next(struct session *,
		    struct session_cursor *, msgpack_packer *, int);

#endif
