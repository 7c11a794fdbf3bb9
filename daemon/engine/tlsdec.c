/*
 * tlsdec.c: the decrypting sink of a TLS connection. Every protected
 * record tls.c completes comes here; once the connection's version,
 * cipher suite and randoms are known and the session's key log has its
 * secrets, the record is decrypted and its plaintext handed on:
 * application data to an HTTP/2 engine when ALPN chose "h2", else to an
 * HTTP/1.x parser, of the connection's own (as if it were the TCP
 * stream of a clear connection); the server's EncryptedExtensions (TLS
 * 1.3) are read for the ALPN protocol chosen, and alerts for what they
 * say.
 *
 * Records wait, in arrival order across both directions, while their
 * keys are not known (the key log of a live capture trails the
 * traffic), up to TLSDEC_MAX_QUEUE bytes; past that, or when the suite
 * cannot be decrypted, the connection is given up and its records only
 * counted. A record that does not authenticate is counted as failed
 * and its bytes are a gap for the parser: nothing is guessed. A
 * record the capture damaged is a gap too; in TLS 1.3 it may have
 * changed the keys, and if the next record opens neither with the old
 * keys nor with the new, that direction is decrypted no further. When
 * records were lost whole (the capture dropped packets), how many is
 * known only within bounds from the bytes lost: the next record is
 * tried at each sequence number they allow (TLSDEC_RESYNC_TRIES at
 * most) and the one that authenticates says; if none does, that
 * direction is decrypted no further.
 *
 * Runs in the analyzer (unprivileged, sandboxed). The queue is counted
 * in the session budget.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "h2.h"
#include "http.h"
#include "keylog.h"
#include "tls.h"
#include "tlscrypt.h"
#include "tlsdec.h"
#include "xmalloc.h"

#define TLSDEC_CT_ALERT		21
#define TLSDEC_CT_HANDSHAKE	22
#define TLSDEC_CT_APPDATA	23
#define TLSDEC_HS_EE		8	/* EncryptedExtensions */
#define TLSDEC_MAX_EE		4096	/* bytes of it read */
#define TLSDEC_RESYNC_TRIES	64	/* sequence numbers tried after a loss */

/* A record: one just completed, or a copy waiting in the queue. */
struct tlsdec_rec {
	struct tlsdec_rec	*next;
	const u_char		*data;	/* header and body; NULL if damaged */
	size_t			 len;
	uint16_t		 body;	/* body length from the header */
	uint8_t			 dir;
	uint8_t			 lost;
	uint64_t		 lostbytes;	/* of records lost before it */
	uint64_t		 us;
	uint32_t		 frame;
	u_char			 copy[];
};

struct tlsdec {
	struct session		*s;
	struct conn		*c;
	struct tls_conn		*tc;
	struct tls_info		*ti;
	struct tlscrypt		*cr;
	struct http_conn	*http;
	struct h2_conn		*h2;
	int			 off;		/* given up: only count */
	int			 stopped[2];	/* bytes lost: no more */
	int			 eof[2];	/* ended while records wait */
	int			 closed[2];
	uint64_t		 eof_us[2];
	uint32_t		 eof_frame[2];
	struct tlsdec_rec	*q;
	struct tlsdec_rec	**qtail;
	size_t			 qbytes;
	u_char			*ee;		/* the server's first message */
	size_t			 eelen;
	int			 eedone;
};

/* One plaintext at a time: the analyzer has one thread. */
static u_char	 tlsdec_out[TLS_MAX_RECORD];

static void	tlsdec_sink(void *, struct tls_conn *, int,
		    const struct tls_record *);

struct tlsdec *
tlsdec_new(struct session *s, struct conn *c, struct tls_conn *tc)
{
	struct tlsdec	*td;

	td = xcalloc(1, sizeof(*td));
	session_charge(s, session_size(td));
	td->s = s;
	td->c = c;
	td->tc = tc;
	td->ti = tls_conn_info(tc);
	td->ti->keyed = 1;
	td->qtail = &td->q;
	tls_set_sink(tc, tlsdec_sink, td);
	return (td);
}

static void
tlsdec_error(struct tlsdec *td, const char *why)
{
	if (td->ti->dec_error == NULL)
		td->ti->dec_error = why;
}

/* Every queued record goes uncounted as decrypted; the rest too. */
static void
tlsdec_give_up(struct session *s, struct tlsdec *td, const char *why)
{
	struct tlsdec_rec	*r;

	tlsdec_error(td, why);
	td->off = 1;
	while ((r = td->q) != NULL) {
		td->q = r->next;
		td->ti->rec_skipped++;
		session_uncharge(s, session_size(r));
		free(r);
	}
	td->qtail = &td->q;
	td->qbytes = 0;
}

void
tlsdec_free(struct session *s, struct tlsdec *td)
{
	if (td->q != NULL)
		tlsdec_give_up(s, td, "no keys in the key log for it");
	if (td->http != NULL)
		http_conn_free(s, td->http);
	if (td->h2 != NULL)
		h2_conn_free(s, td->h2);
	tlscrypt_free(td->cr);
	if (td->ee != NULL) {
		session_uncharge(s, TLSDEC_MAX_EE);
		free(td->ee);
	}
	if (td->cr != NULL)
		session_uncharge(s, tlscrypt_memory());
	session_uncharge(s, session_size(td));
	free(td);
}

/*
 * Decryption set up once the hellos said what it needs. -1: not yet
 * (0-RTT data before the ServerHello); 0 with off set: never.
 */
static int
tlsdec_setup(struct session *s, struct tlsdec *td)
{
	const struct tls_hello	*h = tls_conn_hello(td->tc);
	struct tls_info		*ti = td->ti;

	if (!h->has_client_random) {
		tlsdec_give_up(s, td, ti->hello_us != ENGINE_NOTIME ?
		    "the ClientHello lost bytes in the capture: no client "
		    "random to find its keys by" :
		    "no ClientHello seen: no keys to find");
		return (0);
	}
	if (!ti->has_server_hello || ti->version == 0)
		return (-1);
	if (!tlscrypt_supported(ti->version, ti->cipher)) {
		tlsdec_give_up(s, td, "version or cipher suite not decrypted "
		    "(AEAD suites of TLS 1.2 and 1.3 are)");
		return (0);
	}
	if (ti->version == TLSCRYPT_V12 && !h->has_server_random) {
		tlsdec_give_up(s, td, "no ServerHello random: no TLS 1.2 keys");
		return (0);
	}
	td->cr = tlscrypt_new(ti->version, ti->cipher, h->client_random,
	    h->server_random, ti->early_data == 1);
	session_charge(s, tlscrypt_memory());
	return (0);
}

/* The server's EncryptedExtensions, for the ALPN protocol (TLS 1.3). */
static void
tlsdec_ee(struct session *s, struct tlsdec *td, const u_char *p, size_t n)
{
	uint32_t	 mlen;

	if (td->eedone)
		return;
	if (td->ee == NULL) {
		td->ee = xmalloc(TLSDEC_MAX_EE);
		session_charge(s, TLSDEC_MAX_EE);
	}
	if (n > TLSDEC_MAX_EE - td->eelen)
		n = TLSDEC_MAX_EE - td->eelen;
	memcpy(td->ee + td->eelen, p, n);
	td->eelen += n;
	if (td->eelen < 4)
		return;
	mlen = (uint32_t)td->ee[1] << 16 | (uint32_t)td->ee[2] << 8 |
	    td->ee[3];
	if (td->ee[0] == TLSDEC_HS_EE && td->eelen - 4 < mlen &&
	    td->eelen < TLSDEC_MAX_EE)
		return;
	if (td->ee[0] == TLSDEC_HS_EE && td->eelen - 4 >= mlen)
		tlsmsg_encrypted_extensions(s, td->ti, td->ee + 4, mlen);
	td->eedone = 1;
	session_uncharge(s, TLSDEC_MAX_EE);
	free(td->ee);
	td->ee = NULL;
}

/*
 * The parser of the plaintext, made at the first application data (the
 * ALPN choice is known by then, in TLS 1.3 from EncryptedExtensions).
 */
static void
tlsdec_parser(struct session *s, struct tlsdec *td)
{
	struct tls_info	*ti = td->ti;

	if (td->http != NULL || td->h2 != NULL)
		return;
	if (ti->alpn != NULL && ti->alpnlen == 2 &&
	    memcmp(ti->alpn, "h2", 2) == 0)
		td->h2 = h2_conn_new(s, td->c);
	else
		td->http = http_conn_new(s, td->c, HTTP_PROBE);
}

/* Plaintext lost: a gap for the parser, if it started. */
static void
tlsdec_gap_bytes(struct session *s, struct tlsdec *td,
    const struct tlsdec_rec *r, uint64_t n)
{
	if (td->h2 != NULL)
		h2_gap(s, td->h2, r->dir, n, r->us, r->frame);
	else if (td->http != NULL)
		http_gap(s, td->http, r->dir, n, r->us, r->frame);
}

/* The plaintext of one record lost. */
static void
tlsdec_gap(struct session *s, struct tlsdec *td, const struct tlsdec_rec *r)
{
	size_t	 over = td->cr != NULL ? tlscrypt_overhead(td->cr) : 0;

	if (r->body > over)
		tlsdec_gap_bytes(s, td, r, r->body - over);
}

/*
 * A decrypted alert. TLS 1.2 counted it already as an encrypted alert
 * record: its entry is read now. TLS 1.3 hides it in an application
 * data record: it is counted here.
 */
static void
tlsdec_alert(struct tlsdec *td, const struct tlsdec_rec *r, size_t n)
{
	struct tls_info		*ti = td->ti;
	struct tls_alert	*a = NULL;
	uint32_t		 i;

	if (n < 2)
		return;
	if (ti->version == TLSCRYPT_V12) {
		i = ti->nalerts < TLS_MAX_ALERTS ? ti->nalerts : TLS_MAX_ALERTS;
		while (i-- > 0 && a == NULL)
			if (ti->alerts[i].dir == r->dir &&
			    ti->alerts[i].encrypted && !ti->alerts[i].decrypted)
				a = &ti->alerts[i];
	} else if (ti->nalerts++ < TLS_MAX_ALERTS) {
		a = &ti->alerts[ti->nalerts - 1];
		a->us = r->us;
		a->dir = r->dir;
		a->encrypted = 1;
	}
	if (a == NULL)
		return;
	a->level = tlsdec_out[0];
	a->desc = tlsdec_out[1];
	a->decrypted = 1;
}

static void
tlsdec_plain(struct session *s, struct tlsdec *td, const struct tlsdec_rec *r,
    uint8_t type, size_t n)
{
	if (type == TLSDEC_CT_APPDATA && n > 0) {
		tlsdec_parser(s, td);
		if (td->h2 != NULL)
			h2_data(s, td->h2, r->dir, tlsdec_out, n, r->us,
			    r->frame);
		else
			http_data(s, td->http, r->dir, tlsdec_out, n, r->us,
			    r->frame);
	} else if (type == TLSDEC_CT_HANDSHAKE && r->dir == DIR_S2C &&
	    td->ti->version == TLSCRYPT_V13)
		tlsdec_ee(s, td, tlsdec_out, n);
	else if (type == TLSDEC_CT_ALERT)
		tlsdec_alert(td, r, n);
}

/*
 * The first record after records were lost whole: lostbytes of them,
 * each at least the record overhead and at most the largest record.
 */
static int
tlsdec_lost(struct session *s, struct tlsdec *td, const struct tlsdec_rec *r)
{
	struct tls_info	*ti = td->ti;
	uint64_t	 over = tlscrypt_overhead(td->cr), kmin, kmax, k;
	size_t		 n;
	uint8_t		 type;
	int		 rc = TLSCRYPT_FAILED;

	if (r->lostbytes > 0) {
		kmin = (r->lostbytes + 5 + TLS_MAX_RECORD - 1) /
		    (5 + TLS_MAX_RECORD);
		kmax = r->lostbytes / (5 + over);
		if (kmax > kmin + TLSDEC_RESYNC_TRIES - 1)
			kmax = kmin + TLSDEC_RESYNC_TRIES - 1;
		rc = tlscrypt_resync(td->cr, r->dir, kmin, kmax, r->data,
		    r->len, tlsdec_out, &n, &type, &k);
	}
	if (rc == TLSCRYPT_NOKEY)
		return (-1);
	if (rc != TLSCRYPT_OK) {
		td->stopped[r->dir] = 1;
		tlsdec_error(td, "records lost and the sequence number after "
		    "them not found: the rest of that direction is not "
		    "decrypted");
		ti->rec_skipped++;
		return (0);
	}
	ti->rec_skipped += k;
	ti->rec_decrypted++;
	ti->resynced++;
	/* Their plaintext, exactly when no padding hid in it. */
	if (r->lostbytes > k * (5 + over))
		tlsdec_gap_bytes(s, td, r, r->lostbytes - k * (5 + over));
	tlsdec_plain(s, td, r, type, n);
	return (0);
}

/* One record; -1 if it has to wait for keys. */
static int
tlsdec_one(struct session *s, struct tlsdec *td, const struct tlsdec_rec *r)
{
	struct tls_info	*ti = td->ti;
	size_t		 n;
	uint8_t		 type;
	int		 rc;

	if (!td->off && td->cr == NULL && tlsdec_setup(s, td) == -1)
		return (-1);
	if (td->off || td->stopped[r->dir]) {
		ti->rec_skipped++;
		return (0);
	}
	if (r->lost && r->data != NULL)
		return (tlsdec_lost(s, td, r));
	if (r->data == NULL) {
		tlscrypt_skip(td->cr, r->dir);
		ti->rec_skipped++;
		tlsdec_gap(s, td, r);
		return (0);
	}
	rc = tlscrypt_record(td->cr, r->dir, r->data, r->len, tlsdec_out, &n,
	    &type);
	if (rc == TLSCRYPT_NOKEY) {
		tlscrypt_secrets(td->cr, keylog_find(s->keys,
		    tls_conn_hello(td->tc)->client_random));
		rc = tlscrypt_record(td->cr, r->dir, r->data, r->len,
		    tlsdec_out, &n, &type);
	}
	if (rc == TLSCRYPT_NOKEY)
		return (-1);
	if (rc == TLSCRYPT_LOST) {
		td->stopped[r->dir] = 1;
		ti->rec_skipped++;
		tlsdec_error(td, "a record that lost bytes may have changed "
		    "the keys and neither the old nor the new ones open the "
		    "next: the rest of that direction is not decrypted");
		tlsdec_gap(s, td, r);
		return (0);
	}
	if (rc == TLSCRYPT_FAILED) {
		ti->rec_failed++;
		tlsdec_error(td, "a record did not authenticate: wrong keys "
		    "or damaged bytes");
		tlsdec_gap(s, td, r);
		return (0);
	}
	ti->rec_decrypted++;
	tlsdec_plain(s, td, r, type, n);
	return (0);
}

static void
tlsdec_queue(struct session *s, struct tlsdec *td, const struct tlsdec_rec *r)
{
	struct tlsdec_rec	*q;

	if (td->qbytes + sizeof(*q) + r->len > TLSDEC_MAX_QUEUE) {
		tlsdec_give_up(s, td, "no keys within 256 KiB of its records");
		td->ti->rec_skipped++;
		return;
	}
	q = xmalloc(sizeof(*q) + r->len);
	*q = *r;
	q->next = NULL;
	if (r->data != NULL) {
		memcpy(q->copy, r->data, r->len);
		q->data = q->copy;
	}
	*td->qtail = q;
	td->qtail = &q->next;
	td->qbytes += sizeof(*q) + r->len;
	session_charge(s, session_size(q));
}

static void
tlsdec_end(struct session *s, struct tlsdec *td, int dir, uint64_t us,
    uint32_t frame, int closed)
{
	if (td->h2 != NULL)
		h2_eof(s, td->h2, dir, us, frame, closed);
	else if (td->http != NULL)
		http_eof(s, td->http, dir, us, frame, closed);
}

/* Delivers an end that came while records waited. */
static void
tlsdec_ended(struct session *s, struct tlsdec *td)
{
	int	 dir;

	for (dir = 0; dir < 2; dir++) {
		if (!td->eof[dir])
			continue;
		td->eof[dir] = 0;
		tlsdec_end(s, td, dir, td->eof_us[dir], td->eof_frame[dir],
		    td->closed[dir]);
	}
}

void
tlsdec_retry(struct session *s, struct tlsdec *td)
{
	struct tlsdec_rec	*r;

	while ((r = td->q) != NULL) {
		if (tlsdec_one(s, td, r) == -1)
			return;
		if ((td->q = r->next) == NULL)
			td->qtail = &td->q;
		td->qbytes -= sizeof(*r) + r->len;
		session_uncharge(s, session_size(r));
		free(r);
	}
	tlsdec_ended(s, td);
}

static void
tlsdec_sink(void *arg, struct tls_conn *tc, int dir,
    const struct tls_record *tr)
{
	struct tlsdec		*td = arg;
	struct tlsdec_rec	 r;

	if (!tr->prot)
		return;
	memset(&r, 0, sizeof(r));
	r.data = tr->rec;
	r.len = tr->rec != NULL ? 5 + (size_t)tr->len : 0;
	r.body = tr->len;
	r.dir = (uint8_t)dir;
	r.lost = (uint8_t)tr->lost;
	r.lostbytes = tr->lostbytes;
	r.us = tr->us;
	r.frame = tr->frame;
	if (td->q == NULL && tlsdec_one(td->s, td, &r) == 0)
		return;
	tlsdec_queue(td->s, td, &r);
}

void
tlsdec_eof(struct session *s, struct tlsdec *td, int dir, uint64_t us,
    uint32_t frame, int closed)
{
	if (td->q != NULL) {
		td->eof[dir] = 1;
		td->eof_us[dir] = us;
		td->eof_frame[dir] = frame;
		td->closed[dir] = closed;
		return;
	}
	tlsdec_end(s, td, dir, us, frame, closed);
}
