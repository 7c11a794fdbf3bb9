/*
 * dns.h: DNS lookups of a session (dns.c). Queries and responses on
 * port 53, over UDP or (one message per segment) TCP, are paired into
 * lookups; a connection is tied to the lookup whose answer gave its
 * server address. Packed as the "dns" items of proto/PROTOCOL.md.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#ifndef HTRACR_DNS_H
#define HTRACR_DNS_H

#include <msgpack.h>

#include "decode.h"
#include "engine.h"

#define DNS_PORT		53
#define DNS_MAX_LOOKUPS		16384	/* per session; more are counted */
#define DNS_MAX_ANSWERS		16	/* kept per lookup; more are counted */
#define DNS_MATCH_WINDOW	512	/* recent lookups a response may end */
#define DNS_TIE_WINDOW		1024	/* recent lookups a connection searches */
#define DNS_NAME_MAX		1024	/* presentation form, 255 octets escaped */

struct dns_answer {
	uint32_t	 ttl;
	uint16_t	 type;
	uint8_t		 addrlen;	/* 4 (A), 16 (AAAA), else 0 */
	uint8_t		 addr[16];
	char		*name;		/* CNAME target, presentation form */
	uint16_t	 namelen;
};

struct dns_lookup {
	uint32_t	 id;
	uint32_t	 query_frame;	/* 0: not seen */
	uint32_t	 response_frame;
	uint64_t	 query_us;	/* ENGINE_NOTIME: response only */
	uint64_t	 response_us;	/* ENGINE_NOTIME: unanswered */
	uint8_t		 family;
	uint8_t		 caddr[16];
	uint8_t		 saddr[16];
	uint16_t	 cport;
	uint16_t	 sport;
	uint16_t	 txid;
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint8_t		 rcode;
	uint8_t		 tcp;
	uint8_t		 truncated;	/* the TC bit was set */
	uint8_t		 nkept;		/* answers kept */
	uint16_t	 nanswers;	/* answer records in the response */
	uint32_t	 retries;	/* the same query sent again unanswered */
	uint32_t	 conns;		/* connections tied to it */
	char		*name;		/* presentation form, escaped */
	uint16_t	 namelen;
	struct dns_answer *ans;
};

/* One UDP or TCP packet with port 53 on either side. */
void	 dns_packet(struct session *, const struct decode_pkt *, int tcp,
	    uint64_t us);
/* Ties c to the latest lookup answered before it with its server address. */
void	 dns_tie(struct session *, struct conn *);
void	 dns_free(struct session *);
void	 dns_pack(const struct dns_lookup *, msgpack_packer *);

/*
 * The name at off in msg (len bytes) in presentation form: labels
 * joined by dots, bytes other than letters, digits, '-' and '_' as
 * \DDD. Follows compression pointers backwards only. Returns the
 * length written to out (NUL-terminated, at most DNS_NAME_MAX bytes)
 * and sets *next past the name where it started; -1 if malformed.
 */
int	 dns_name(const u_char *msg, size_t len, size_t off, char *out,
	    size_t *next);
const char *dns_type_name(uint16_t, char *, size_t);
const char *dns_rcode_name(uint8_t, char *, size_t);

#endif
