/*
 * tls.c: the TLS record layer of one connection, without keys. Each
 * direction's reassembled bytes are cut into records (a header may come
 * a byte at a time, a segment may hold many records); handshake records
 * in clear are cut into handshake messages, of which the hellos and the
 * certificate are kept (bounded by TLS_MAX_HANDSHAKE) and read by
 * tlsmsg.c; alerts in clear are read; every protected record goes
 * through tls_protected(), the one place a decrypting sink plugs in.
 *
 * Gaps follow the rules of the HTTP side: a hole inside a record whose
 * length is known keeps the framing (the record is marked damaged, and a
 * handshake message that lost bytes is not parsed); a hole that takes
 * framing away sends the direction looking for a record header that the
 * next header, or a segment boundary, confirms. Nothing is guessed: a
 * handshake stream that lost bytes is not parsed again.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Buffers are bounded
 * (TLS_MAX_HANDSHAKE, TLS_MAX_RECORD) and counted in the session budget.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "xmalloc.h"

#define TLS_V13			0x0304
#define TLS_HS_CLIENT_HELLO	1
#define TLS_HS_SERVER_HELLO	2
#define TLS_HS_NEW_TICKET	4
#define TLS_HS_CERTIFICATE	11

enum tls_mode {
	TLS_RECORDS,		/* at a known record boundary or inside one */
	TLS_RESYNC,		/* framing lost: looking for a record header */
};

struct tls_dir {
	int		 mode;
	u_char		 hdr[5];	/* the current record's header */
	uint8_t		 hdrlen;
	uint8_t		 damaged;	/* a gap took bytes of this record */
	uint8_t		 ccs;		/* ChangeCipherSpec sent */
	uint16_t	 left;		/* body bytes still to come */
	uint8_t		 lost;		/* bytes lost since the last record */
	uint64_t	 lostbytes;	/* of records lost whole since then */
	u_char		*rec;		/* header and body, kept for a sink */
	size_t		 reclen;

	u_char		 hshdr[4];	/* handshake message header */
	uint8_t		 hshdrlen;
	uint8_t		 hs_keep;	/* this message is read */
	uint8_t		 hs_gapped;	/* and lost bytes to a gap */
	uint8_t		 hs_lost;	/* message framing lost: read no more */
	uint32_t	 hsleft;
	u_char		*hs;		/* kept part of the message */
	size_t		 hslen;
	size_t		 hscap;

	u_char		 alert[2];
	uint8_t		 alertlen;
};

struct tls_conn {
	struct session	*s;
	struct conn	*c;
	struct tls_info	*ti;
	struct tls_hello hello;
	struct tls_dir	 d[2];
	tls_sink_fn	 sink;
	void		*sink_arg;
	int		 last_dir;	/* of the last record before done */
	uint64_t	 s2c_prot_us;	/* the server's last protected record */
	int		 s2c_prot;
};

static int
tls_header_ok(const u_char *h)
{
	unsigned int	 len = (unsigned int)h[3] << 8 | h[4];

	return (h[0] >= TLS_CT_CCS && h[0] <= 24 && h[1] == 3 && h[2] <= 4 &&
	    len <= TLS_MAX_RECORD);
}

int
tls_looks(const u_char *p, size_t len, int dir, int midstream)
{
	if (midstream)
		return (len >= 5 && tls_header_ok(p));
	if (dir != DIR_C2S || len == 0 || p[0] != TLS_CT_HANDSHAKE)
		return (0);
	if ((len >= 2 && p[1] != 3) || (len >= 3 && p[2] > 4))
		return (0);
	return (len < 6 || p[5] == TLS_HS_CLIENT_HELLO);
}

struct tls_conn *
tls_conn_new(struct session *s, struct conn *c, int synced)
{
	struct tls_conn	*tc;
	struct tls_info	*ti;
	int		 i;

	tc = xcalloc(1, sizeof(*tc));
	session_charge(s, session_size(tc));
	ti = session_alloc(s, sizeof(*ti));
	ti->hello_us = ti->server_hello_us = ti->done_us = ENGINE_NOTIME;
	ti->psk_accepted = ti->id_echoed = TLS_UNKNOWN;
	c->tls = ti;
	tc->s = s;
	tc->c = c;
	tc->ti = ti;
	tc->last_dir = -1;
	for (i = 0; i < 2; i++) {
		tc->d[i].mode = synced == -1 || synced == i ? TLS_RECORDS :
		    TLS_RESYNC;
		/* Picked up mid-stream: a message may start anywhere. */
		tc->d[i].hs_lost = synced != -1;
	}
	return (tc);
}

static void
tls_hs_release(struct session *s, struct tls_dir *d)
{
	session_uncharge(s, d->hscap);
	free(d->hs);
	d->hs = NULL;
	d->hslen = d->hscap = 0;
}

static void
tls_rec_release(struct session *s, struct tls_dir *d)
{
	if (d->rec != NULL)
		session_uncharge(s, 5 + TLS_MAX_RECORD);
	free(d->rec);
	d->rec = NULL;
	d->reclen = 0;
}

void
tls_conn_free(struct session *s, struct tls_conn *tc)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		tls_hs_release(s, &tc->d[i]);
		tls_rec_release(s, &tc->d[i]);
	}
	session_uncharge(s, session_size(tc));
	free(tc);
}

void
tls_set_sink(struct tls_conn *tc, tls_sink_fn fn, void *arg)
{
	tc->sink = fn;
	tc->sink_arg = arg;
}

const struct tls_hello *
tls_conn_hello(const struct tls_conn *tc)
{
	return (&tc->hello);
}

struct tls_info *
tls_conn_info(const struct tls_conn *tc)
{
	return (tc->ti);
}

static void
tls_error(struct tls_conn *tc, const char *why)
{
	if (tc->ti->error == NULL)
		tc->ti->error = why;
}

/*
 * Records of this direction are protected once it sent
 * ChangeCipherSpec, except in TLS 1.3, where protected records all say
 * application_data and the CCS is only for middleboxes.
 */
static int
tls_encrypted(const struct tls_conn *tc, int dir)
{
	return (tc->d[dir].ccs && tc->ti->version != TLS_V13);
}

/* The server is named by the first Host header, else by the SNI. */
static void
tls_server_name(struct session *s, struct conn *c, const struct tls_info *ti)
{
	struct server	*srv = c->server;

	if (srv == NULL || srv->name != NULL || ti->sni == NULL ||
	    ti->snilen == 0)
		return;
	srv->name = xmalloc(ti->snilen + 1);
	memcpy(srv->name, ti->sni, ti->snilen);
	srv->name[ti->snilen] = '\0';
	srv->namelen = ti->snilen;
	session_charge(s, ti->snilen + 1);
}

static void
tls_alert_add(struct tls_conn *tc, int dir, uint64_t us, const u_char *a,
    int encrypted)
{
	struct tls_info		*ti = tc->ti;
	struct tls_alert	*al;

	if (ti->nalerts++ >= TLS_MAX_ALERTS)
		return;
	al = &ti->alerts[ti->nalerts - 1];
	al->us = us;
	al->dir = (uint8_t)dir;
	al->encrypted = (uint8_t)encrypted;
	al->level = a != NULL ? a[0] : 0;
	al->desc = a != NULL ? a[1] : 0;
}

/*
 * Every record ends here, and a sink gets it whole: its header and body
 * in one piece, whether it is protected, and whether bytes of this
 * direction were lost since the record before. This is where decryption
 * takes the records and hands their plaintext on.
 */
static void
tls_deliver(struct tls_conn *tc, int dir, int prot, uint64_t us,
    uint32_t frame)
{
	struct tls_dir		*d = &tc->d[dir];
	struct tls_record	 r;

	if (tc->sink == NULL)
		return;
	r.type = d->hdr[0];
	r.version = (uint16_t)(d->hdr[1] << 8 | d->hdr[2]);
	r.len = (uint16_t)(d->hdr[3] << 8 | d->hdr[4]);
	r.damaged = d->damaged || d->reclen != 5 + (size_t)r.len;
	r.rec = r.damaged ? NULL : d->rec;
	r.prot = prot;
	r.lost = d->lost;
	r.lostbytes = d->lostbytes;
	r.us = us;
	r.frame = frame;
	d->lost = 0;
	d->lostbytes = 0;
	tc->sink(tc->sink_arg, tc, dir, &r);
}

/*
 * Protected records: application data, and what a TLS 1.2 peer sends
 * after its ChangeCipherSpec. Without keys they mark the end of the
 * handshake (PROTOCOL.md, handshake_done_us): in TLS 1.2 the server's
 * first protected record, its Finished; in TLS 1.3 the server's last
 * protected record before the client's first one, which the client
 * sends once it has the server's Finished.
 */
static void
tls_protected(struct tls_conn *tc, int dir, uint64_t us)
{
	struct tls_dir		*d = &tc->d[dir];
	struct tls_info		*ti = tc->ti;

	if (dir == DIR_S2C) {
		if (ti->done_us == ENGINE_NOTIME && ti->version != TLS_V13 &&
		    d->hdr[0] == TLS_CT_HANDSHAKE)
			ti->done_us = us;
		tc->s2c_prot_us = us;
		tc->s2c_prot = 1;
	} else if (ti->done_us == ENGINE_NOTIME && ti->version == TLS_V13 &&
	    d->hdr[0] == TLS_CT_APPDATA && tc->s2c_prot)
		ti->done_us = tc->s2c_prot_us;
}

/* A sink wants records whole: keep their bytes, header first. */
static void
tls_keep_record(struct tls_conn *tc, struct tls_dir *d, const u_char *p,
    size_t n)
{
	if (tc->sink == NULL || d->damaged)
		return;
	if (d->rec == NULL) {
		d->rec = xmalloc(5 + TLS_MAX_RECORD);
		session_charge(tc->s, 5 + TLS_MAX_RECORD);
	}
	if (n > 5 + TLS_MAX_RECORD - d->reclen)
		n = 5 + TLS_MAX_RECORD - d->reclen;
	memcpy(d->rec + d->reclen, p, n);
	d->reclen += n;
}

static int
tls_hs_wanted(int dir, uint8_t type)
{
	if (dir == DIR_C2S)
		return (type == TLS_HS_CLIENT_HELLO);
	return (type == TLS_HS_SERVER_HELLO || type == TLS_HS_CERTIFICATE);
}

/* A whole handshake message (or its first TLS_MAX_HANDSHAKE bytes). */
static void
tls_hs_end(struct tls_conn *tc, int dir)
{
	struct tls_dir	*d = &tc->d[dir];
	struct session	*s = tc->s;
	uint8_t		 type = d->hshdr[0];

	d->hshdrlen = 0;
	if (!d->hs_keep)
		return;
	if (d->hs_gapped)
		tls_error(tc, "gap in a handshake message: not read");
	else if (type == TLS_HS_CLIENT_HELLO) {
		tlsmsg_client_hello(s, tc->ti, &tc->hello, d->hs, d->hslen);
		tls_server_name(s, tc->c, tc->ti);
	} else if (type == TLS_HS_SERVER_HELLO)
		tlsmsg_server_hello(s, tc->ti, &tc->hello, d->hs, d->hslen);
	else if (type == TLS_HS_CERTIFICATE)
		tlsmsg_certificate(s, tc->ti, d->hs, d->hslen);
	tls_hs_release(s, d);
}

static void
tls_hs_start(struct tls_conn *tc, int dir, uint64_t us)
{
	struct tls_dir	*d = &tc->d[dir];
	struct tls_info	*ti = tc->ti;
	uint8_t		 type = d->hshdr[0];

	d->hsleft = (uint32_t)d->hshdr[1] << 16 | (uint32_t)d->hshdr[2] << 8 |
	    d->hshdr[3];
	d->hs_keep = (uint8_t)tls_hs_wanted(dir, type);
	d->hs_gapped = 0;
	d->hslen = 0;
	if (dir == DIR_C2S && type == TLS_HS_CLIENT_HELLO &&
	    ti->hello_us == ENGINE_NOTIME)
		ti->hello_us = us;
	if (dir == DIR_S2C && type == TLS_HS_SERVER_HELLO)
		ti->server_hello_us = us;
	if (dir == DIR_S2C && type == TLS_HS_NEW_TICKET)
		ti->new_ticket = 1;
	if (d->hs_keep && d->hsleft > TLS_MAX_HANDSHAKE &&
	    type != TLS_HS_CERTIFICATE)
		tls_error(tc, "handshake message over 64 KiB: only its start read");
	if (d->hsleft == 0)
		tls_hs_end(tc, dir);
}

/* Keeps what fits of a wanted message, growing its buffer by doubling. */
static void
tls_hs_keep(struct tls_conn *tc, struct tls_dir *d, const u_char *p,
    size_t n)
{
	size_t	 need, ncap;

	if (!d->hs_keep || d->hslen >= TLS_MAX_HANDSHAKE)
		return;
	if (n > TLS_MAX_HANDSHAKE - d->hslen)
		n = TLS_MAX_HANDSHAKE - d->hslen;
	need = d->hslen + n;
	if (need > d->hscap) {
		ncap = d->hscap ? d->hscap * 2 : 1024;
		while (ncap < need)
			ncap *= 2;
		if (ncap > TLS_MAX_HANDSHAKE)
			ncap = TLS_MAX_HANDSHAKE;
		d->hs = xreallocarray(d->hs, ncap, 1);
		session_charge(tc->s, ncap - d->hscap);
		d->hscap = ncap;
	}
	memcpy(d->hs + d->hslen, p, n);
	d->hslen += n;
}

/* Handshake bytes in clear: cut into messages. */
static void
tls_hs_bytes(struct tls_conn *tc, int dir, const u_char *p, size_t n,
    uint64_t us)
{
	struct tls_dir	*d = &tc->d[dir];
	size_t		 k;

	while (n > 0 && !d->hs_lost) {
		if (d->hshdrlen < 4) {
			d->hshdr[d->hshdrlen++] = *p++;
			n--;
			if (d->hshdrlen == 4)
				tls_hs_start(tc, dir, us);
			continue;
		}
		k = n < d->hsleft ? n : d->hsleft;
		tls_hs_keep(tc, d, p, k);
		p += k;
		n -= k;
		d->hsleft -= (uint32_t)k;
		if (d->hsleft == 0)
			tls_hs_end(tc, dir);
	}
}

/* A gap of bytes inside the handshake stream of dir. */
static void
tls_hs_skip(struct tls_conn *tc, int dir, uint64_t bytes)
{
	struct tls_dir	*d = &tc->d[dir];

	if (d->hs_lost)
		return;
	if (d->hshdrlen == 4 && bytes <= d->hsleft) {
		d->hs_gapped = 1;
		d->hsleft -= (uint32_t)bytes;
		if (d->hsleft == 0)
			tls_hs_end(tc, dir);
		return;
	}
	d->hs_lost = 1;
	d->hshdrlen = 0;
	tls_hs_release(tc->s, d);
	tls_error(tc, "gap in the handshake: the rest of it not read");
}

static void
tls_alert_bytes(struct tls_conn *tc, int dir, const u_char *p, size_t n,
    uint64_t us)
{
	struct tls_dir	*d = &tc->d[dir];

	for (; n > 0; p++, n--) {
		d->alert[d->alertlen++] = *p;
		if (d->alertlen == 2) {
			tls_alert_add(tc, dir, us, d->alert, 0);
			d->alertlen = 0;
		}
	}
}

/* Body bytes of the current record. */
static void
tls_body(struct tls_conn *tc, int dir, const u_char *p, size_t n,
    uint64_t us)
{
	struct tls_dir	*d = &tc->d[dir];
	uint8_t		 type = d->hdr[0];

	tls_keep_record(tc, d, p, n);
	if (type == TLS_CT_HANDSHAKE && !tls_encrypted(tc, dir))
		tls_hs_bytes(tc, dir, p, n, us);
	else if (type == TLS_CT_ALERT && !tls_encrypted(tc, dir))
		tls_alert_bytes(tc, dir, p, n, us);
}

/* Counts a record whose header is complete; 0 if it is no header. */
static int
tls_record_start(struct tls_conn *tc, int dir)
{
	struct tls_dir		*d = &tc->d[dir];
	struct tls_info		*ti = tc->ti;
	struct tls_dirstats	*st = &ti->d[dir];
	unsigned int		 len = (unsigned int)d->hdr[3] << 8 | d->hdr[4];

	if (!tls_header_ok(d->hdr)) {
		tls_error(tc, "not a TLS record header: framing lost");
		return (0);
	}
	if (d->hdr[0] <= TLS_CT_APPDATA) {
		st->records[d->hdr[0] - TLS_CT_CCS]++;
		st->bytes[d->hdr[0] - TLS_CT_CCS] += 5 + len;
	} else
		st->other++;
	/* A round trip: the server answers what the client sent last. */
	if (ti->done_us == ENGINE_NOTIME) {
		if (dir == DIR_S2C && tc->last_dir == DIR_C2S &&
		    ti->round_trips < UINT8_MAX)
			ti->round_trips++;
		tc->last_dir = dir;
	}
	d->left = (uint16_t)len;
	d->damaged = 0;
	d->reclen = 0;
	tls_keep_record(tc, d, d->hdr, 5);
	return (1);
}

static void
tls_record_end(struct tls_conn *tc, int dir, uint64_t us, uint32_t frame)
{
	struct tls_dir	*d = &tc->d[dir];
	uint8_t		 type = d->hdr[0];
	int		 prot;

	prot = type == TLS_CT_APPDATA || ((type == TLS_CT_HANDSHAKE ||
	    type == TLS_CT_ALERT) && tls_encrypted(tc, dir));
	if (type == TLS_CT_ALERT && prot)
		tls_alert_add(tc, dir, us, NULL, 1);
	if (prot)
		tls_protected(tc, dir, us);
	tls_deliver(tc, dir, prot, us, frame);
	if (type == TLS_CT_CCS)
		d->ccs = 1;
	d->hdrlen = 0;
	d->reclen = 0;
}

/*
 * Framing lost: finds a record header in p that the next header
 * confirms, or that starts p (a segment boundary) or ends exactly at its
 * end. Returns the bytes before it, or len if there is none.
 */
static size_t
tls_resync(struct tls_conn *tc, int dir, const u_char *p, size_t len)
{
	size_t		 j, end;

	for (j = 0; j + 5 <= len; j++) {
		if (p[j] < TLS_CT_CCS || p[j] > TLS_CT_APPDATA ||
		    p[j + 1] != 3 || !tls_header_ok(p + j))
			continue;
		end = j + 5 + ((size_t)p[j + 3] << 8 | p[j + 4]);
		if (end + 5 <= len ? tls_header_ok(p + end) :
		    j == 0 || end == len) {
			tc->d[dir].mode = TLS_RECORDS;
			tc->ti->resyncs++;
			return (j);
		}
	}
	return (len);
}

void
tls_data(struct session *s, struct tls_conn *tc, int dir, const u_char *p,
    size_t len, uint64_t us, uint32_t frame)
{
	struct tls_dir	*d = &tc->d[dir];
	size_t		 off = 0, n;

	while (off < len) {
		if (d->mode == TLS_RESYNC) {
			n = tls_resync(tc, dir, p + off, len - off);
			d->lostbytes += n;
			off += n;
			continue;
		}
		if (d->hdrlen < 5) {
			n = 5 - d->hdrlen;
			if (n > len - off)
				n = len - off;
			memcpy(d->hdr + d->hdrlen, p + off, n);
			d->hdrlen += (uint8_t)n;
			off += n;
			if (d->hdrlen < 5)
				break;
			if (!tls_record_start(tc, dir)) {
				d->hdrlen = 0;
				d->lost = 1;
				d->lostbytes += 5;
				d->mode = TLS_RESYNC;
				tls_hs_skip(tc, dir, UINT64_MAX);
				continue;
			}
		} else {
			n = d->left < len - off ? d->left : len - off;
			tls_body(tc, dir, p + off, n, us);
			d->left -= (uint16_t)n;
			off += n;
		}
		if (d->left == 0)
			tls_record_end(tc, dir, us, frame);
	}
}

/*
 * A hole of bytes in dir. Inside the current record the framing holds
 * and the record is damaged; otherwise the direction resynchronises.
 */
void
tls_gap(struct session *s, struct tls_conn *tc, int dir, uint64_t bytes,
    uint64_t us, uint32_t frame)
{
	struct tls_dir	*d = &tc->d[dir];
	uint8_t		 type = d->hdr[0];

	d->lost = 1;
	if (d->mode == TLS_RESYNC) {
		d->lostbytes += bytes;
		return;
	}
	if (d->hdrlen == 5 && bytes <= d->left) {
		d->damaged = 1;
		if (type == TLS_CT_HANDSHAKE && !tls_encrypted(tc, dir))
			tls_hs_skip(tc, dir, bytes);
		d->alertlen = 0;
		d->left -= (uint16_t)bytes;
		if (d->left == 0)
			tls_record_end(tc, dir, us, frame);
		return;
	}
	if (tc->ti->done_us == ENGINE_NOTIME)
		tls_hs_skip(tc, dir, UINT64_MAX);
	/* The record cut short is lost whole, with what came of it. */
	d->lostbytes += bytes + d->hdrlen;
	if (d->hdrlen == 5)
		d->lostbytes += ((size_t)d->hdr[3] << 8 | d->hdr[4]) - d->left;
	d->hdrlen = 0;
	d->alertlen = 0;
	d->mode = TLS_RESYNC;
}

/*
 * The direction ended; a record cut short is left as it is. Its record
 * buffer goes now, not when the live state does: a closed connection
 * lingers (TCP_LINGER_US), and on a capture of many short connections
 * those buffers were most of the analyzer's fresh pages.
 */
void
tls_eof(struct session *s, struct tls_conn *tc, int dir, uint64_t us,
    uint32_t frame)
{
	struct tls_dir	*d = &tc->d[dir];

	tls_hs_release(s, d);
	tls_rec_release(s, d);
	d->hs_lost = 1;
	d->hdrlen = 0;
	d->mode = TLS_RESYNC;
}
