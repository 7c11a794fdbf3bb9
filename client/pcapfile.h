/*
 * pcapfile.h: capture files on the client side. Reading turns a pcap
 * or pcapng file into frames blobs for load_frames (a classic pcap
 * file in host order into ranges of its own bytes); writing
 * turns the frames stream of a session back into a pcap file. Runs in
 * htracrctl with the invoking user's privileges: the daemon never
 * opens a path.
 */
#ifndef HTRACR_PCAPFILE_H
#define HTRACR_PCAPFILE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

struct pcapfile {
	pcap_t			*p;
	FILE			*fp;
	const char		*path;		/* for messages */
	int			 cut;		/* unreadable past frames */
	int			 linktype;	/* DLT_ */
	uint32_t		 snaplen;
	uint64_t		 frames;	/* read so far */
	uint64_t		 clipped;	/* cut to fit a batch */
	unsigned char		*batch;		/* PROTO_FRAMES_BATCH bytes */
	struct pcap_pkthdr	*held_hdr;	/* read, did not fit the last */
	const unsigned char	*held_data;	/* batch */

	/* Classic pcap in host order, read without libpcap: see pcapfile.c */
	int			 format;	/* enum proto_format of blobs */
	unsigned char		*buf;		/* file bytes, walked */
	size_t			 start;		/* next record in buf */
	size_t			 end;		/* bytes read into buf */
	off_t			 off;		/* file offset of buf + end */
	int			 eof;
	/* Split blobs: the file's bytes in order, walked by the daemon. */
	int			 split;
	off_t			 size;		/* of the file when opened */
};

/*
 * One blob of whole records, of the file's format: len bytes at data,
 * or when data is NULL, len bytes of the file at off, to be sent as
 * they lie (sendfile).
 */
struct pcapfile_blob {
	const unsigned char	*data;
	off_t			 off;
	size_t			 len;
};

/* Reports what went wrong ("not a pcap or pcapng capture") and returns -1. */
int	 pcapfile_open(struct pcapfile *, const char *);
/*
 * The next blob: 1, or 0 at the end (or where the file became
 * unreadable, reported once).
 */
int	 pcapfile_next(struct pcapfile *, struct pcapfile_blob *);
int	 pcapfile_fd(const struct pcapfile *);
/*
 * For a daemon that takes split blobs (load_begin's "split"): a classic
 * pcap file in host order then goes as consecutive ranges of its bytes,
 * which the client never reads; the daemon finds the records and says
 * where the file was damaged. 1 if the file is sent so, else 0.
 */
int	 pcapfile_split(struct pcapfile *);
void	 pcapfile_close(struct pcapfile *);

struct pcapfile_out {
	pcap_t		*dead;
	pcap_dumper_t	*dumper;
	FILE		*ng;		/* pcapng, written by pcapng.c */
	int		 open;		/* a header was written */
	uint64_t	 frames;
};

/* Starts a pcap file on fp, which the caller closes after pcapfile_out_close. */
int	 pcapfile_out_open(struct pcapfile_out *, FILE *, int, uint32_t);
/*
 * Starts a pcapng file instead (pcapng.c): one section, one interface,
 * and when keys is set a Decryption Secrets Block holding that TLS key
 * log, so that Wireshark decrypts the file with no other setting.
 */
int	 pcapfile_out_open_ng(struct pcapfile_out *, FILE *, int, uint32_t,
	    const void *, size_t);
/* One frames blob as Enhanced Packet Blocks (pcapng.c). */
int	 pcapfile_out_ng_blob(struct pcapfile_out *, const void *, size_t);
/* Appends the records of a frames blob; -1 if the blob is malformed. */
int	 pcapfile_out_blob(struct pcapfile_out *, const void *, size_t);
int	 pcapfile_out_close(struct pcapfile_out *);

#endif
