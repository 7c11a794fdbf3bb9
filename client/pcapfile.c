/*
 * pcapfile.c: reading capture files into frames blobs and writing the
 * frames a daemon kept back into pcap files, both with libpcap. Runs
 * in htracrctl with the invoking user's privileges. Loading streams
 * hundreds of megabytes, so frames are copied once into one reused
 * batch buffer and never allocated one by one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pcapfile.h"
#include "proto.h"
#include "xmalloc.h"

#define PCAPFILE_READBUF	(1024 * 1024)
#define PCAPFILE_HDR		sizeof(struct proto_frame)
/* The largest frame a batch can carry with its header. */
#define PCAPFILE_MAXCAP		(PROTO_FRAMES_BATCH - PCAPFILE_HDR)

int
pcapfile_open(struct pcapfile *pf, const char *path)
{
	char		 errbuf[PCAP_ERRBUF_SIZE];
	struct stat	 st;

	memset(pf, 0, sizeof(*pf));
	pf->path = path;
	if ((pf->fp = fopen(path, "rbe")) == NULL) {
		log_warn("cannot read %s", path);
		return (-1);
	}
	if (fstat(fileno(pf->fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		log_warnx("%s: is a directory, not a capture file", path);
		goto fail;
	}
	setvbuf(pf->fp, NULL, _IOFBF, PCAPFILE_READBUF);
	/* libpcap freads each record twice; one thread, so no locking. */
	__fsetlocking(pf->fp, FSETLOCKING_BYCALLER);
	errbuf[0] = '\0';
	pf->p = pcap_fopen_offline_with_tstamp_precision(pf->fp,
	    PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (pf->p == NULL) {
		log_warnx("%s: not a pcap or pcapng capture: %s", path,
		    errbuf[0] != '\0' ? errbuf : "unknown format");
		goto fail;
	}
	pf->linktype = pcap_datalink(pf->p);
	pf->snaplen = (uint32_t)pcap_snapshot(pf->p);
	if (pf->snaplen == 0 || pf->snaplen > PROTO_MAX_SNAPLEN)
		pf->snaplen = PROTO_MAX_SNAPLEN;
	pf->batch = xmalloc(PROTO_FRAMES_BATCH);
	return (0);
fail:
	fclose(pf->fp);
	pf->fp = NULL;
	return (-1);
}

/* Appends one frame to the batch at *off; 0 if it does not fit. */
static int
pcapfile_put(struct pcapfile *pf, size_t *off, const struct pcap_pkthdr *h,
    const unsigned char *data)
{
	struct proto_frame	 fr;
	uint32_t		 caplen = h->caplen;

	if (caplen > PCAPFILE_MAXCAP) {
		caplen = PCAPFILE_MAXCAP;
		pf->clipped++;
	}
	if (*off + PCAPFILE_HDR + caplen > PROTO_FRAMES_BATCH)
		return (0);
	fr.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
	fr.caplen = caplen;
	fr.len = h->len < caplen ? caplen : h->len;
	memcpy(pf->batch + *off, &fr, PCAPFILE_HDR);
	memcpy(pf->batch + *off + PCAPFILE_HDR, data, caplen);
	*off += PCAPFILE_HDR + caplen;
	pf->frames++;
	return (1);
}

long
pcapfile_next(struct pcapfile *pf, const unsigned char **blob)
{
	struct pcap_pkthdr	*h;
	const unsigned char	*data;
	size_t			 off = 0;
	int			 rc;

	*blob = pf->batch;
	if (pf->cut)
		return (0);
	if (pf->held_hdr != NULL) {
		(void)pcapfile_put(pf, &off, pf->held_hdr, pf->held_data);
		pf->held_hdr = NULL;
	}
	while ((rc = pcap_next_ex(pf->p, &h, &data)) == 1) {
		if (!pcapfile_put(pf, &off, h, data)) {
			/* libpcap keeps h and data until the next call. */
			pf->held_hdr = h;
			pf->held_data = data;
			break;
		}
	}
	/*
	 * A capture cut short (a killed tcpdump, a full disk) still holds
	 * frames worth analyzing, as tshark would: say so and stop there.
	 */
	if (rc == PCAP_ERROR && !pf->cut) {
		log_warnx("%s: unreadable after frame %llu (%s); using the "
		    "frames before it", pf->path,
		    (unsigned long long)pf->frames, pcap_geterr(pf->p));
		pf->cut = 1;
	}
	return ((long)off);
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf->p != NULL)
		pcap_close(pf->p);	/* closes fp too */
	else if (pf->fp != NULL)
		fclose(pf->fp);
	free(pf->batch);
	memset(pf, 0, sizeof(*pf));
}

int
pcapfile_out_open(struct pcapfile_out *po, FILE *fp, int linktype,
    uint32_t snaplen)
{
	memset(po, 0, sizeof(*po));
	if (snaplen == 0 || snaplen > PROTO_MAX_SNAPLEN)
		snaplen = PROTO_MAX_SNAPLEN;
	po->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)snaplen,
	    PCAP_TSTAMP_PRECISION_MICRO);
	if (po->dead == NULL) {
		log_warnx("cannot write link type %d", linktype);
		return (-1);
	}
	if ((po->dumper = pcap_dump_fopen(po->dead, fp)) == NULL) {
		log_warnx("cannot start the pcap file: %s",
		    pcap_geterr(po->dead));
		pcap_close(po->dead);
		po->dead = NULL;
		return (-1);
	}
	return (0);
}

int
pcapfile_out_blob(struct pcapfile_out *po, const void *blob, size_t len)
{
	const unsigned char	*p = blob;
	struct proto_frame	 fr;
	struct pcap_pkthdr	 h;
	size_t			 off = 0;

	while (off < len) {
		if (len - off < PCAPFILE_HDR)
			return (-1);
		memcpy(&fr, p + off, PCAPFILE_HDR);
		off += PCAPFILE_HDR;
		if (fr.caplen > len - off || fr.caplen > PROTO_MAX_SNAPLEN)
			return (-1);
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(fr.ts_us / 1000000);
		h.ts.tv_usec = (suseconds_t)(fr.ts_us % 1000000);
		h.caplen = fr.caplen;
		h.len = fr.len < fr.caplen ? fr.caplen : fr.len;
		pcap_dump((u_char *)po->dumper, &h, p + off);
		off += fr.caplen;
		po->frames++;
	}
	return (0);
}

/*
 * Flushes and releases the dumper; the caller still owns and closes
 * the FILE (outfile_close), so errors on the last write are seen.
 */
int
pcapfile_out_close(struct pcapfile_out *po)
{
	int	 rc = 0;

	if (po->dumper != NULL && pcap_dump_flush(po->dumper) == -1)
		rc = -1;
	if (po->dead != NULL)
		pcap_close(po->dead);
	memset(po, 0, sizeof(*po));
	return (rc);
}
