/*
 * pcapng.c: the frames a daemon kept written as a pcapng file, by hand
 * (libpcap writes only classic pcap): a Section Header Block, one
 * Interface Description Block with the session's link type and snap
 * length (microsecond timestamps, the default resolution), optionally
 * a Decryption Secrets Block carrying a TLS key log (secrets type
 * "TLSK", 0x544c534b), then one Enhanced Packet Block per frame. Blocks
 * are in host byte order, as the section's byte-order magic says. Runs
 * in htracrctl with the invoking user's privileges.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pcapfile.h"
#include "proto.h"

#define PCAPNG_SHB		0x0a0d0d0aU
#define PCAPNG_IDB		0x00000001U
#define PCAPNG_EPB		0x00000006U
#define PCAPNG_DSB		0x0000000aU
#define PCAPNG_BOM		0x1a2b3c4dU
#define PCAPNG_TLS_KEYLOG	0x544c534bU

static const u_char	 pcapng_zero[4];

static size_t
pcapng_pad(size_t n)
{
	return ((4 - n % 4) % 4);
}

/*
 * One block: type, total length, the fixed fields of head, body padded
 * to 32 bits, the total length again.
 */
static int
pcapng_block(FILE *fp, uint32_t type, const void *head, size_t hlen,
    const void *body, size_t blen)
{
	uint32_t	 total;

	total = (uint32_t)(12 + hlen + blen + pcapng_pad(blen));
	if (fwrite(&type, 4, 1, fp) != 1 || fwrite(&total, 4, 1, fp) != 1 ||
	    fwrite(head, 1, hlen, fp) != hlen ||
	    (blen > 0 && fwrite(body, 1, blen, fp) != blen) ||
	    fwrite(pcapng_zero, 1, pcapng_pad(blen), fp) != pcapng_pad(blen) ||
	    fwrite(&total, 4, 1, fp) != 1) {
		log_warn("cannot write the pcapng file");
		return (-1);
	}
	return (0);
}

int
pcapfile_out_open_ng(struct pcapfile_out *po, FILE *fp, int linktype,
    uint32_t snaplen, const void *keys, size_t keylen)
{
	u_char		 shb[16], idb[8], dsb[8];
	uint32_t	 v32;
	uint16_t	 v16;
	uint64_t	 seclen = UINT64_MAX;	/* not given */

	memset(po, 0, sizeof(*po));
	if (linktype < 0 || linktype > UINT16_MAX) {
		log_warnx("cannot write link type %d", linktype);
		return (-1);
	}
	if (snaplen == 0 || snaplen > PROTO_MAX_SNAPLEN)
		snaplen = PROTO_MAX_SNAPLEN;
	v32 = PCAPNG_BOM;
	memcpy(shb, &v32, 4);
	v16 = 1;			/* version 1.0 */
	memcpy(shb + 4, &v16, 2);
	v16 = 0;
	memcpy(shb + 6, &v16, 2);
	memcpy(shb + 8, &seclen, 8);
	v16 = (uint16_t)linktype;
	memcpy(idb, &v16, 2);
	v16 = 0;
	memcpy(idb + 2, &v16, 2);
	memcpy(idb + 4, &snaplen, 4);
	if (pcapng_block(fp, PCAPNG_SHB, shb, sizeof(shb), NULL, 0) == -1 ||
	    pcapng_block(fp, PCAPNG_IDB, idb, sizeof(idb), NULL, 0) == -1)
		return (-1);
	if (keys != NULL && keylen > 0) {
		v32 = PCAPNG_TLS_KEYLOG;
		memcpy(dsb, &v32, 4);
		v32 = (uint32_t)keylen;
		memcpy(dsb + 4, &v32, 4);
		if (pcapng_block(fp, PCAPNG_DSB, dsb, sizeof(dsb), keys,
		    keylen) == -1)
			return (-1);
	}
	po->ng = fp;
	po->open = 1;
	return (0);
}

int
pcapfile_out_ng_blob(struct pcapfile_out *po, const void *blob, size_t len)
{
	const u_char		*p = blob;
	struct proto_frame	 fr;
	u_char			 epb[20];
	uint32_t		 v32;
	size_t			 off = 0;

	while (off < len) {
		if (len - off < sizeof(fr))
			return (-1);
		memcpy(&fr, p + off, sizeof(fr));
		off += sizeof(fr);
		if (fr.caplen > len - off || fr.caplen > PROTO_MAX_SNAPLEN)
			return (-1);
		memset(epb, 0, sizeof(epb));	/* interface 0 */
		v32 = (uint32_t)(fr.ts_us >> 32);
		memcpy(epb + 4, &v32, 4);
		v32 = (uint32_t)fr.ts_us;
		memcpy(epb + 8, &v32, 4);
		memcpy(epb + 12, &fr.caplen, 4);
		v32 = fr.len < fr.caplen ? fr.caplen : fr.len;
		memcpy(epb + 16, &v32, 4);
		if (pcapng_block(po->ng, PCAPNG_EPB, epb, sizeof(epb), p + off,
		    fr.caplen) == -1)
			return (-1);
		off += fr.caplen;
		po->frames++;
	}
	return (0);
}
