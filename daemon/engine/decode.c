/*
 * decode.c: from a captured frame to the TCP segment or UDP datagram
 * inside it. Handles
 * Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2, BSD
 * null/loop and raw IP; IPv4 and IPv6 with extension headers skipped.
 * Fragments are reported, never reassembled or guessed at.
 *
 * Runs in the analyzer (unprivileged, sandboxed): every length is
 * checked against caplen before a byte is read.
 */
#include <sys/types.h>

#include <pcap/dlt.h>
#include <string.h>

#include "decode.h"

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_QINQ		0x88a8
#define ETHERTYPE_QINQ_OLD	0x9100
#define DECODE_MAX_TAGS		4

#define LINKTYPE_RAW		101
#define LINKTYPE_IPV4		228
#define LINKTYPE_IPV6		229

static uint16_t
decode_be16(const u_char *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
decode_be32(const u_char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

int
decode_linktype_ok(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case LINKTYPE_RAW:
	case LINKTYPE_IPV4:
	case LINKTYPE_IPV6:
		return (1);
	}
	return (0);
}

/* Options matter only on SYNs: MSS and window scale. */
static void
decode_tcp_options(const u_char *p, size_t len, struct decode_pkt *pk)
{
	size_t	 i = 0, olen;

	while (i < len) {
		if (p[i] == 0)
			break;
		if (p[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || (olen = p[i + 1]) < 2 || i + olen > len)
			break;
		if (p[i] == 2 && olen == 4)
			pk->mss = decode_be16(p + i + 2);
		else if (p[i] == 3 && olen == 3)
			pk->wscale = p[i + 2] > 14 ? 14 : p[i + 2];
		i += olen;
	}
}

/* p/caplen: the TCP header onwards; wire: its length per the IP header. */
static enum decode_result
decode_tcp(const u_char *p, size_t caplen, size_t wire, struct decode_pkt *pk)
{
	size_t	 doff;

	if (caplen < 20)
		return (DECODE_TRUNCATED);
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > wire)
		return (DECODE_BAD);
	if (doff > caplen)
		return (DECODE_TRUNCATED);
	pk->sport = decode_be16(p);
	pk->dport = decode_be16(p + 2);
	pk->seq = decode_be32(p + 4);
	pk->ack = decode_be32(p + 8);
	pk->flags = p[13] & 0x3f;
	pk->win = decode_be16(p + 14);
	pk->mss = -1;
	pk->wscale = -1;
	if (pk->flags & TH_SYN)
		decode_tcp_options(p + 20, doff - 20, pk);
	pk->payload = p + doff;
	pk->wirelen = (uint32_t)(wire - doff);
	pk->paylen = (uint32_t)(caplen - doff);
	if (pk->paylen > pk->wirelen)
		pk->paylen = pk->wirelen;	/* Ethernet padding */
	return (DECODE_TCP);
}

/* p/caplen: the UDP header onwards; wire: its length per the IP header. */
static enum decode_result
decode_udp(const u_char *p, size_t caplen, size_t wire, struct decode_pkt *pk)
{
	size_t	 ulen;

	if (caplen < 8)
		return (DECODE_TRUNCATED);
	ulen = decode_be16(p + 4);
	if (ulen == 0)
		ulen = wire;		/* IPv6 jumbogram */
	if (ulen < 8 || ulen > wire)
		return (DECODE_BAD);
	pk->seq = pk->ack = 0;
	pk->win = 0;
	pk->sport = decode_be16(p);
	pk->dport = decode_be16(p + 2);
	pk->mss = -1;
	pk->wscale = -1;
	pk->flags = 0;
	pk->payload = p + 8;
	pk->wirelen = (uint32_t)(ulen - 8);
	pk->paylen = (uint32_t)(caplen - 8);
	if (pk->paylen > pk->wirelen)
		pk->paylen = pk->wirelen;
	return (DECODE_UDP);
}

/* The transport after an IP header: TCP, UDP, or neither. */
static enum decode_result
decode_transport(uint8_t proto, const u_char *p, size_t caplen, size_t wire,
    struct decode_pkt *pk)
{
	if (proto == 6)
		return (decode_tcp(p, caplen, wire, pk));
	return (decode_udp(p, caplen, wire, pk));
}

static enum decode_result
decode_ipv4(const u_char *p, size_t caplen, struct decode_pkt *pk)
{
	size_t	 hl, total;

	if (caplen < 20)
		return (DECODE_TRUNCATED);
	if (p[0] >> 4 != 4)
		return (DECODE_BAD);
	hl = (size_t)(p[0] & 0x0f) * 4;
	total = decode_be16(p + 2);
	if (total == 0)
		total = caplen;		/* TSO frames may say 0 */
	if (hl < 20 || total < hl)
		return (DECODE_BAD);
	if (caplen < hl)
		return (DECODE_TRUNCATED);
	if ((decode_be16(p + 6) & 0x3fff) != 0)
		return (DECODE_FRAGMENT);
	if (p[9] != 6 && p[9] != 17)
		return (DECODE_NOT_TCP);
	pk->family = 4;
	memset(pk->src, 0, sizeof(pk->src));
	memset(pk->dst, 0, sizeof(pk->dst));
	memcpy(pk->src, p + 12, 4);
	memcpy(pk->dst, p + 16, 4);
	if (caplen > total)
		caplen = total;
	return (decode_transport(p[9], p + hl, caplen - hl, total - hl, pk));
}

static enum decode_result
decode_ipv6(const u_char *p, size_t caplen, struct decode_pkt *pk)
{
	size_t	 off = 40, wire, hl;
	uint8_t	 nxt;
	int	 i;

	if (caplen < 40)
		return (DECODE_TRUNCATED);
	if (p[0] >> 4 != 6)
		return (DECODE_BAD);
	wire = 40 + (size_t)decode_be16(p + 4);
	if (wire == 40)
		wire = caplen;		/* jumbogram or TSO */
	if (caplen > wire)
		caplen = wire;
	nxt = p[6];
	for (i = 0; i < 8 && nxt != 6 && nxt != 17; i++) {
		switch (nxt) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (off + 8 > caplen)
				return (DECODE_TRUNCATED);
			hl = ((size_t)p[off + 1] + 1) * 8;
			break;
		case 51:	/* authentication header */
			if (off + 8 > caplen)
				return (DECODE_TRUNCATED);
			hl = ((size_t)p[off + 1] + 2) * 4;
			break;
		case 44:
			return (DECODE_FRAGMENT);
		default:
			return (DECODE_NOT_TCP);
		}
		nxt = p[off];
		off += hl;
		if (off > wire)
			return (DECODE_BAD);
	}
	if (nxt != 6 && nxt != 17)
		return (DECODE_NOT_TCP);
	if (off > caplen)
		return (DECODE_TRUNCATED);
	pk->family = 6;
	memcpy(pk->src, p + 8, 16);
	memcpy(pk->dst, p + 24, 16);
	return (decode_transport(nxt, p + off, caplen - off, wire - off, pk));
}

static enum decode_result
decode_ip(const u_char *p, size_t caplen, struct decode_pkt *pk)
{
	if (caplen < 1)
		return (DECODE_TRUNCATED);
	switch (p[0] >> 4) {
	case 4:
		return (decode_ipv4(p, caplen, pk));
	case 6:
		return (decode_ipv6(p, caplen, pk));
	}
	return (DECODE_NOT_IP);
}

static enum decode_result
decode_ethertype(uint16_t type, const u_char *p, size_t caplen,
    struct decode_pkt *pk)
{
	if (type == ETHERTYPE_IPV4)
		return (decode_ipv4(p, caplen, pk));
	if (type == ETHERTYPE_IPV6)
		return (decode_ipv6(p, caplen, pk));
	return (DECODE_NOT_IP);
}

static enum decode_result
decode_ether(const u_char *p, size_t caplen, struct decode_pkt *pk)
{
	size_t		 off = 12;
	uint16_t	 type;
	int		 tags = 0;

	for (;;) {
		if (off + 2 > caplen)
			return (DECODE_TRUNCATED);
		type = decode_be16(p + off);
		off += 2;
		if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ &&
		    type != ETHERTYPE_QINQ_OLD)
			break;
		if (++tags > DECODE_MAX_TAGS)
			return (DECODE_BAD);
		off += 2;	/* the tag's priority and VLAN id */
	}
	return (decode_ethertype(type, p + off, caplen - off, pk));
}

/* BSD null/loop: the address family, host or network byte order. */
static enum decode_result
decode_null(int linktype, const u_char *p, size_t caplen,
    struct decode_pkt *pk)
{
	uint32_t	 af;

	if (caplen < 4)
		return (DECODE_TRUNCATED);
	if (linktype == DLT_LOOP)
		af = decode_be32(p);
	else
		memcpy(&af, p, 4);
	if (af > 0xffff)		/* written on a host of other order */
		af = __builtin_bswap32(af);
	switch (af) {
	case 2:
		return (decode_ipv4(p + 4, caplen - 4, pk));
	case 10: case 24: case 28: case 30:
		return (decode_ipv6(p + 4, caplen - 4, pk));
	}
	return (DECODE_NOT_IP);
}

enum decode_result
decode_frame(int linktype, const u_char *p, uint32_t caplen,
    struct decode_pkt *pk)
{
	switch (linktype) {
	case DLT_EN10MB:
		return (decode_ether(p, caplen, pk));
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return (DECODE_TRUNCATED);
		return (decode_ethertype(decode_be16(p + 14), p + 16,
		    caplen - 16, pk));
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return (DECODE_TRUNCATED);
		return (decode_ethertype(decode_be16(p), p + 20, caplen - 20,
		    pk));
	case DLT_NULL:
	case DLT_LOOP:
		return (decode_null(linktype, p, caplen, pk));
	case LINKTYPE_IPV4:
		return (decode_ipv4(p, caplen, pk));
	case LINKTYPE_IPV6:
		return (decode_ipv6(p, caplen, pk));
	}
	if (decode_linktype_ok(linktype))
		return (decode_ip(p, caplen, pk));
	return (DECODE_LINK);
}
