/*
 * proto.h: the htracr client protocol, shared by htracrd's analyzer and
 * htracrctl. PROTOCOL.md documents every message; this header is its
 * single source of numbers and limits.
 *
 * A message is a 4-byte big-endian length followed by exactly one
 * msgpack map of that many bytes.
 */
#ifndef HTRACR_PROTO_H
#define HTRACR_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#define PROTO_VERSION		1

/* Limits: breaking one gets an error reply and a disconnect. */
#define PROTO_MAX_REQUEST	(1024 * 1024)	/* bytes, client -> daemon */
#define PROTO_MAX_REPLY		(16 * 1024 * 1024) /* bytes, daemon -> client */
#define PROTO_MAX_DEPTH		8		/* nesting of maps/arrays */
#define PROTO_MAX_REPLY_DEPTH	16		/* the same in replies */
#define PROTO_MAX_STRING	4096		/* bytes in one str value */
#define PROTO_MAX_ITEMS		4096		/* entries in one map/array */
/* Connections: the defaults of --max-clients, --max-per-uid, --idle-timeout. */
#define PROTO_MAX_CLIENTS	1024		/* per daemon */
#define PROTO_MAX_CLIENTS_UID	16		/* per uid (SO_PEERCRED) */
#define PROTO_IDLE_SECS		30		/* sending and reading nothing */
#define PROTO_MAX_QUEUED	(8 * 1024 * 1024) /* reply bytes queued per client */
#define PROTO_MAX_PORTS		64
#define PROTO_MAX_IFNAME	15		/* IFNAMSIZ - 1 */
#define PROTO_MAX_SNAPLEN	262144		/* bytes of one frame */
#define PROTO_FRAMES_BATCH	(256 * 1024)	/* bytes of frames per message */
#define PROTO_KEYS_BATCH	(64 * 1024)	/* key log bytes per message */
#define PROTO_CHUNK_ITEMS	256		/* items per streamed chunk */

/* Operations, in numbered blocks. Retired numbers are never reused. */
enum proto_op {
	/* 1-99: connection */
	PROTO_OP_HELLO = 1,

	/* 100-199: kept sessions */
	PROTO_OP_SESSIONS = 100,
	PROTO_OP_DETAIL = 101,
	PROTO_OP_FRAMES = 102,
	PROTO_OP_BODY = 103,
	PROTO_OP_DELETE = 104,
	PROTO_OP_KEYLOG = 105,		/* a session's TLS secrets, to its owner */

	/* 200-299: loading a capture from a client */
	PROTO_OP_LOAD_BEGIN = 200,
	PROTO_OP_LOAD_FRAMES = 201,
	PROTO_OP_LOAD_END = 202,
	PROTO_OP_KEYS = 203,		/* TLS key log bytes for a session */

	/* 300-399: live capture */
	PROTO_OP_START = 300,
	PROTO_OP_STOP = 301,
	PROTO_OP_PORTS = 302,
	PROTO_OP_STATUS = 303,

	/* 400-499: live events */
	PROTO_OP_WATCH = 400,
};

/* Error codes carried in {"error": {"code", "message"}}. */
enum proto_err {
	PROTO_ERR_MALFORMED = 1,	/* not a valid message; disconnects */
	PROTO_ERR_VERSION = 2,		/* hello version mismatch */
	PROTO_ERR_UNKNOWN_OP = 3,
	PROTO_ERR_BAD_ARG = 4,		/* missing or invalid field */
	PROTO_ERR_NOT_FOUND = 5,	/* no such session/transaction */
	PROTO_ERR_BUSY = 6,		/* capture already running, ... */
	PROTO_ERR_LIMIT = 7,		/* a limit above was broken */
	PROTO_ERR_STATE = 8,		/* wrong state: stop while stopped */
	PROTO_ERR_CAPTURE = 9,		/* capture process refused/failed */
	PROTO_ERR_UNAVAILABLE = 10,	/* daemon runs without capture */
	PROTO_ERR_INTERNAL = 11,
	PROTO_ERR_DENIED = 12,		/* not the caller's to change */
};

/*
 * One frame inside a frames blob (load_frames, the frames reply and the
 * private capture->analyzer link): this header, host byte order, then
 * caplen bytes. Records are packed back to back with no padding; read
 * the header with memcpy.
 */
struct proto_frame {
	uint64_t	ts_us;		/* capture time, microseconds since epoch */
	uint32_t	caplen;		/* bytes that follow */
	uint32_t	len;		/* length on the wire */
};

/*
 * What a load's frames blobs hold (load_begin "format"): proto_frame
 * records, or the records of a classic pcap file as it lies on disk,
 * host byte order, micro- or nanosecond fractions. A client sends such
 * a file's bytes without touching them.
 */
enum proto_format {
	PROTO_FORMAT_FRAMES,
	PROTO_FORMAT_PCAP,
	PROTO_FORMAT_PCAP_NS,
};

/* A classic pcap record header: as long as a proto_frame header. */
struct proto_pcap_record {
	uint32_t	ts_sec;
	uint32_t	ts_frac;	/* micro- or nanoseconds */
	uint32_t	caplen;
	uint32_t	len;
};

_Static_assert(sizeof(struct proto_pcap_record) == sizeof(struct proto_frame),
    "both record headers are 16 bytes");

const char	*proto_op_name(int);
const char	*proto_format_name(int);
int		 proto_format_find(const char *, size_t);

/* Encoding: every message starts with proto_begin, ends with proto_end. */
void	 proto_begin(msgpack_sbuffer *, msgpack_packer *);
int	 proto_end(msgpack_sbuffer *);	/* -1 if larger than PROTO_MAX_REPLY */
void	 proto_pack_str(msgpack_packer *, const char *);
void	 proto_pack_strn(msgpack_packer *, const void *, size_t);
void	 proto_pack_key(msgpack_packer *, const char *);
void	 proto_pack_bool(msgpack_packer *, int);
void	 proto_pack_error(msgpack_packer *, uint64_t, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

/*
 * Decoding: buf holds one message body (without the length). Returns 0
 * and fills obj (allocated in zone) if it is one map whose every count
 * fits the bytes (and, when request is set, within the depth, string and
 * item limits above), checked before anything is allocated, otherwise
 * -1 with *why set to a static explanation.
 */
int	 proto_decode(const char *, size_t, msgpack_zone *, msgpack_object *,
	    int, const char **);

/* The n-byte big-endian number at p, n 1, 2, 4 or 8 (msgpack's sizes). */
static inline uint64_t
proto_be(const unsigned char *p, size_t n)
{
	uint64_t	 v8;
	uint32_t	 v4;
	uint16_t	 v2;

	switch (n) {
	case 1:
		return (p[0]);
	case 2:
		memcpy(&v2, p, 2);
		return (__builtin_bswap16(v2));
	case 4:
		memcpy(&v4, p, 4);
		return (__builtin_bswap32(v4));
	default:
		memcpy(&v8, p, 8);
		return (__builtin_bswap64(v8));
	}
}

/* Looks up key (klen bytes) in a map object; NULL if absent or not a map. */
const msgpack_object	*proto_get_n(const msgpack_object *, const char *,
			    size_t);

/*
 * The same for a C string, inline so that a literal key's length is
 * known when compiling: a renderer looks up millions of keys.
 */
static inline const msgpack_object *
proto_get(const msgpack_object *map, const char *key)
{
	return (proto_get_n(map, key, strlen(key)));
}

int	 proto_get_u64(const msgpack_object *, const char *, uint64_t *);
int	 proto_get_i64(const msgpack_object *, const char *, int64_t *);
int	 proto_get_bool(const msgpack_object *, const char *, int *);
/* Points into the message; not NUL-terminated. */
int	 proto_get_str(const msgpack_object *, const char *, const char **,
	    size_t *);
int	 proto_get_bin(const msgpack_object *, const char *, const char **,
	    size_t *);

#endif
