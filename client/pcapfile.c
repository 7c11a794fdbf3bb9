/*
 * pcapfile.c: reading capture files into frames blobs and writing the
 * frames a daemon kept back into pcap files. Runs in htracrctl with
 * the invoking user's privileges. Loading streams hundreds of
 * megabytes: a classic pcap file in host order is walked in large
 * chunks to find where its batches of whole records end, and those
 * ranges of the file go to the daemon as they are; other formats go
 * through libpcap and are copied once into one reused batch buffer.
 * Nothing is allocated per frame.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pcapfile.h"
#include "proto.h"
#include "xmalloc.h"

#define PCAPFILE_READBUF	(1024 * 1024)
#define PCAPFILE_HDR		sizeof(struct proto_frame)
/* The largest frame a batch can carry with its header. */
#define PCAPFILE_MAXCAP		(PROTO_FRAMES_BATCH - PCAPFILE_HDR)

/*
 * Classic pcap walked directly: the file header, the two magics (micro-
 * and nanosecond timestamps) as a host of our byte order writes them,
 * the chunk read at a time and the most one record can take, which a
 * chunk always holds once topped up.
 *
 * The chunk is only a little more than two records of the largest
 * snap length, so the headers are walked while the read's copy of
 * them is still in the cache: 4 MiB chunks missed the last-level
 * cache at each record. Mapping the file instead of reading it was
 * slower still: every header then came from memory, one dependent
 * load after another.
 */
#define PCAPFILE_FILEHDR	24
#define PCAPFILE_MAGIC_US	0xa1b2c3d4U
#define PCAPFILE_MAGIC_NS	0xa1b23c4dU
#define PCAPFILE_RAWBUF		(768 * 1024)
#define PCAPFILE_RECMAX		(PCAPFILE_HDR + PROTO_MAX_SNAPLEN)

_Static_assert(PCAPFILE_RAWBUF >= 2 * PCAPFILE_RECMAX,
    "a topped-up chunk holds any whole record");

/*
 * A classic pcap file in host byte order (nearly every file tcpdump
 * writes) is already laid out as the daemon's "pcap" blobs: 16-byte
 * headers, each followed by its bytes. Such a file is only walked here
 * and the kernel moves its bytes from the page cache to the socket;
 * pcapng, swapped or modified formats and anything that is not a
 * regular file go through libpcap.
 */
static void
pcapfile_raw_probe(struct pcapfile *pf, const struct stat *st)
{
	uint32_t	 magic;

	if (!S_ISREG(st->st_mode) || pread(fileno(pf->fp), &magic,
	    sizeof(magic), 0) != (ssize_t)sizeof(magic))
		return;
	if (magic == PCAPFILE_MAGIC_US)
		pf->format = PROTO_FORMAT_PCAP;
	else if (magic == PCAPFILE_MAGIC_NS)
		pf->format = PROTO_FORMAT_PCAP_NS;
	else
		return;
	pf->off = PCAPFILE_FILEHDR;
	pf->size = st->st_size;
}

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
	if (fstat(fileno(pf->fp), &st) == -1) {
		log_warn("%s", path);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		log_warnx("%s: is a directory, not a capture file", path);
		goto fail;
	}
	/* libpcap then reads only the file header, through a small buffer. */
	pcapfile_raw_probe(pf, &st);
	if (pf->format == PROTO_FORMAT_FRAMES)
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
	if (pf->format != PROTO_FORMAT_FRAMES)
		pf->buf = xmalloc(PCAPFILE_RAWBUF);
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

/* Stops reading at a damaged record, as the libpcap path does. */
static void
pcapfile_raw_cut(struct pcapfile *pf, const char *why)
{
	log_warnx("%s: unreadable after frame %llu (%s); using the frames "
	    "before it", pf->path, (unsigned long long)pf->frames, why);
	pf->cut = 1;
}

/* Moves the unread tail to the front of buf and fills the rest. */
static void
pcapfile_raw_fill(struct pcapfile *pf)
{
	ssize_t	 n;

	memmove(pf->buf, pf->buf + pf->start, pf->end - pf->start);
	pf->end -= pf->start;
	pf->start = 0;
	while (!pf->eof && pf->end < PCAPFILE_RAWBUF) {
		n = pread(fileno(pf->fp), pf->buf + pf->end,
		    PCAPFILE_RAWBUF - pf->end, pf->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			pcapfile_raw_cut(pf, strerror(errno));
			pf->eof = 1;
			break;
		}
		if (n == 0)
			pf->eof = 1;
		pf->end += (size_t)n;
		pf->off += n;
	}
}

/*
 * A record too long for any batch goes alone, copied with its
 * captured length cut to fit.
 */
static void
pcapfile_raw_clip(struct pcapfile *pf, size_t off,
    struct proto_pcap_record *r, struct pcapfile_blob *b)
{
	if (r->len < r->caplen)
		r->len = r->caplen;
	r->caplen = PCAPFILE_MAXCAP;
	memcpy(pf->batch, r, sizeof(*r));
	memcpy(pf->batch + sizeof(*r), pf->buf + off + sizeof(*r),
	    PCAPFILE_MAXCAP);
	b->data = pf->batch;
	b->len = PROTO_FRAMES_BATCH;
	pf->clipped++;
	pf->frames++;
}

/* The next range of whole records in buf, checked as the daemon will. */
static int
pcapfile_raw_next(struct pcapfile *pf, struct pcapfile_blob *b)
{
	struct proto_pcap_record r;
	size_t			 first, off, need;

	if (pf->end - pf->start < PCAPFILE_RECMAX && !pf->eof)
		pcapfile_raw_fill(pf);
	first = off = pf->start;
	while (!pf->cut && pf->end - off >= sizeof(r)) {
		memcpy(&r, pf->buf + off, sizeof(r));
		need = sizeof(r) + (size_t)r.caplen;
		if (r.caplen > PROTO_MAX_SNAPLEN) {
			pcapfile_raw_cut(pf, "frame longer than any snap "
			    "length");
			break;
		}
		if (pf->end - off < need) {
			if (pf->eof)
				pcapfile_raw_cut(pf, "truncated frame");
			break;
		}
		if (off - first + need > PROTO_FRAMES_BATCH) {
			if (off > first)
				break;
			pcapfile_raw_clip(pf, off, &r, b);
			pf->start = off + need;
			return (1);
		}
		pf->frames++;
		off += need;
	}
	if (!pf->cut && pf->eof && off == first && pf->end > off)
		pcapfile_raw_cut(pf, "truncated frame header");
	pf->start = off;
	b->data = NULL;
	b->off = pf->off - (off_t)(pf->end - first);
	b->len = off - first;
	return (b->len > 0);
}

int
pcapfile_split(struct pcapfile *pf)
{
	if (pf->format == PROTO_FORMAT_FRAMES)
		return (0);
	pf->split = 1;
	return (1);
}

/* The next range of a split load: up to a batch of the file's bytes. */
static int
pcapfile_split_next(struct pcapfile *pf, struct pcapfile_blob *b)
{
	off_t	 left = pf->size - pf->off;

	if (left <= 0)
		return (0);
	b->data = NULL;
	b->off = pf->off;
	b->len = left < PROTO_FRAMES_BATCH ? (size_t)left : PROTO_FRAMES_BATCH;
	pf->off += (off_t)b->len;
	return (1);
}

int
pcapfile_next(struct pcapfile *pf, struct pcapfile_blob *b)
{
	struct pcap_pkthdr	*h;
	const unsigned char	*data;
	size_t			 off = 0;
	int			 rc;

	if (pf->cut)
		return (0);
	if (pf->split)
		return (pcapfile_split_next(pf, b));
	if (pf->format != PROTO_FORMAT_FRAMES)
		return (pcapfile_raw_next(pf, b));
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
	b->data = pf->batch;
	b->off = 0;
	b->len = off;
	return (off > 0);
}

int
pcapfile_fd(const struct pcapfile *pf)
{
	return (fileno(pf->fp));
}

void
pcapfile_close(struct pcapfile *pf)
{
	if (pf->p != NULL)
		pcap_close(pf->p);	/* closes fp too */
	else if (pf->fp != NULL)
		fclose(pf->fp);
	free(pf->batch);
	free(pf->buf);
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
	po->open = 1;
	return (0);
}

int
pcapfile_out_blob(struct pcapfile_out *po, const void *blob, size_t len)
{
	const unsigned char	*p = blob;
	struct proto_frame	 fr;
	struct pcap_pkthdr	 h;
	size_t			 off = 0;

	if (po->ng != NULL)
		return (pcapfile_out_ng_blob(po, blob, len));
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
	if (po->ng != NULL && fflush(po->ng) == EOF)
		rc = -1;
	if (po->dead != NULL)
		pcap_close(po->dead);
	memset(po, 0, sizeof(*po));
	return (rc);
}
