/*
 * tlsmsg.c: the handshake messages TLS sends in clear, read into the
 * connection's struct tls_info: the ClientHello (version, SNI, ALPN
 * offered, supported_versions, resumption and early data offers), the
 * ServerHello (version and cipher suite chosen, ALPN in TLS 1.2, PSK
 * accepted, session id echoed, HelloRetryRequest) and, where it is
 * visible (TLS 1.2), the leaf certificate's subject and issuer, of
 * which just enough DER is read to find their CN and O.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Every length is
 * checked against what is left; a message that does not parse leaves
 * an error and what it had said so far. Strings are copied as received
 * (bounded by TLS_MAX_NAME, TLS_MAX_ALPN_LIST) into the session arena.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "tls.h"

#define TLSMSG_EXT_SNI		0
#define TLSMSG_EXT_ALPN		16
#define TLSMSG_EXT_TICKET	35
#define TLSMSG_EXT_PSK		41
#define TLSMSG_EXT_EARLY	42
#define TLSMSG_EXT_VERSIONS	43

/* SHA-256 of "HelloRetryRequest": the random of a retry (RFC 8446 4.1.3). */
static const u_char tlsmsg_hrr[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* What is left of a message or of one of its vectors. */
struct tlsmsg_cur {
	const u_char	*p;
	size_t		 n;
};

static int
tlsmsg_take(struct tlsmsg_cur *c, size_t n, const u_char **out)
{
	if (c->n < n)
		return (0);
	*out = c->p;
	c->p += n;
	c->n -= n;
	return (1);
}

/* An unsigned big-endian number of size bytes. */
static int
tlsmsg_uint(struct tlsmsg_cur *c, size_t size, uint32_t *v)
{
	const u_char	*p;
	size_t		 i;

	if (!tlsmsg_take(c, size, &p))
		return (0);
	for (*v = 0, i = 0; i < size; i++)
		*v = *v << 8 | p[i];
	return (1);
}

/* A vector with a size-byte length in front. */
static int
tlsmsg_vec(struct tlsmsg_cur *c, size_t size, struct tlsmsg_cur *v)
{
	uint32_t	 len;

	if (!tlsmsg_uint(c, size, &len) || !tlsmsg_take(c, len, &v->p))
		return (0);
	v->n = len;
	return (1);
}

static void
tlsmsg_error(struct tls_info *ti, const char *why)
{
	if (ti->error == NULL)
		ti->error = why;
}

/* A copy in the session's arena, NUL-terminated for convenience. */
static char *
tlsmsg_dup(struct session *s, const void *p, size_t n)
{
	char	*d = session_alloc(s, n + 1);

	memcpy(d, p, n);
	d[n] = '\0';
	return (d);
}

/* The first host_name of a server_name list. */
static void
tlsmsg_sni(struct session *s, struct tls_info *ti, struct tlsmsg_cur v)
{
	struct tlsmsg_cur	 list, name;
	uint32_t		 type;

	if (!tlsmsg_vec(&v, 2, &list))
		return;
	while (tlsmsg_uint(&list, 1, &type) && tlsmsg_vec(&list, 2, &name)) {
		if (type != 0 || name.n == 0)
			continue;
		if (name.n > TLS_MAX_NAME)
			name.n = TLS_MAX_NAME;
		ti->sni = tlsmsg_dup(s, name.p, name.n);
		ti->snilen = (uint16_t)name.n;
		return;
	}
}

/* The protocol_name_list as sent, cut after the last whole name that fits. */
static void
tlsmsg_alpn_offered(struct session *s, struct tls_info *ti,
    struct tlsmsg_cur v)
{
	struct tlsmsg_cur	 list, name;
	size_t			 keep = 0;

	if (!tlsmsg_vec(&v, 2, &list))
		return;
	v = list;
	while (tlsmsg_vec(&v, 1, &name) && name.n > 0 &&
	    (size_t)(v.p - list.p) <= TLS_MAX_ALPN_LIST)
		keep = (size_t)(v.p - list.p);
	ti->alpn_offered = (u_char *)tlsmsg_dup(s, list.p, keep);
	ti->alpn_offered_len = (uint16_t)keep;
}

static void
tlsmsg_versions(struct tls_info *ti, struct tlsmsg_cur v)
{
	struct tlsmsg_cur	 list;
	uint32_t		 ver;

	if (!tlsmsg_vec(&v, 1, &list))
		return;
	ti->has_offered = 1;
	while (ti->noffered < TLS_MAX_OFFERED && tlsmsg_uint(&list, 2, &ver))
		ti->offered[ti->noffered++] = (uint16_t)ver;
}

static void
tlsmsg_client_ext(struct session *s, struct tls_info *ti, uint32_t type,
    struct tlsmsg_cur v)
{
	switch (type) {
	case TLSMSG_EXT_SNI:
		if (ti->sni == NULL)
			tlsmsg_sni(s, ti, v);
		break;
	case TLSMSG_EXT_ALPN:
		if (ti->alpn_offered == NULL)
			tlsmsg_alpn_offered(s, ti, v);
		break;
	case TLSMSG_EXT_VERSIONS:
		if (!ti->has_offered)
			tlsmsg_versions(ti, v);
		break;
	case TLSMSG_EXT_TICKET:
		/* Empty: tickets are welcome; a ticket: resumption offered. */
		ti->ticket_offered = v.n > 0;
		break;
	case TLSMSG_EXT_PSK:
		ti->psk_offered = 1;
		break;
	case TLSMSG_EXT_EARLY:
		ti->early_data = 1;
		break;
	}
}

/*
 * Only the first ClientHello is read: the one a HelloRetryRequest asks
 * for again carries the same random and names, and a peer that sends
 * hellos without end must not grow the arena.
 */
void
tlsmsg_client_hello(struct session *s, struct tls_info *ti,
    struct tls_hello *h, const u_char *p, size_t n)
{
	struct tlsmsg_cur	 c = { p, n }, v, exts;
	const u_char		*rnd;
	uint32_t		 ver, type;

	if (ti->has_hello)
		return;
	if (!tlsmsg_uint(&c, 2, &ver) || !tlsmsg_take(&c, 32, &rnd)) {
		tlsmsg_error(ti, "ClientHello too short");
		return;
	}
	ti->has_hello = 1;
	ti->client_version = (uint16_t)ver;
	memcpy(h->client_random, rnd, 32);
	h->has_client_random = 1;
	if (!tlsmsg_vec(&c, 1, &v) || v.n > 32)
		goto bad;
	memcpy(h->sid, v.p, v.n);
	h->sidlen = (uint8_t)v.n;
	if (!tlsmsg_vec(&c, 2, &v))
		goto bad;
	ti->nciphers = (uint16_t)(v.n / 2);
	if (!tlsmsg_vec(&c, 1, &v))
		goto bad;
	if (c.n == 0)
		return;			/* no extensions at all */
	if (!tlsmsg_vec(&c, 2, &exts))
		goto bad;
	while (exts.n > 0) {
		if (!tlsmsg_uint(&exts, 2, &type) || !tlsmsg_vec(&exts, 2, &v))
			goto bad;
		tlsmsg_client_ext(s, ti, type, v);
	}
	return;
bad:
	tlsmsg_error(ti, "malformed ClientHello");
}

static void
tlsmsg_server_ext(struct session *s, struct tls_info *ti, uint32_t type,
    struct tlsmsg_cur v, uint32_t *selected, int *psk)
{
	struct tlsmsg_cur	 list, name;

	switch (type) {
	case TLSMSG_EXT_VERSIONS:
		(void)tlsmsg_uint(&v, 2, selected);
		break;
	case TLSMSG_EXT_PSK:
		*psk = 1;
		break;
	case TLSMSG_EXT_ALPN:
		if (ti->alpn == NULL && tlsmsg_vec(&v, 2, &list) &&
		    tlsmsg_vec(&list, 1, &name) && name.n > 0) {
			ti->alpn = tlsmsg_dup(s, name.p, name.n);
			ti->alpnlen = (uint8_t)name.n;
		}
		break;
	}
}

void
tlsmsg_encrypted_extensions(struct session *s, struct tls_info *ti,
    const u_char *p, size_t n)
{
	struct tlsmsg_cur	 c = { p, n }, exts, v;
	uint32_t		 type, selected = 0;
	int			 psk = 0;

	if (!tlsmsg_vec(&c, 2, &exts)) {
		tlsmsg_error(ti, "malformed EncryptedExtensions");
		return;
	}
	while (exts.n > 0) {
		if (!tlsmsg_uint(&exts, 2, &type) ||
		    !tlsmsg_vec(&exts, 2, &v)) {
			tlsmsg_error(ti, "malformed EncryptedExtensions");
			return;
		}
		if (type == TLSMSG_EXT_ALPN)
			tlsmsg_server_ext(s, ti, type, v, &selected, &psk);
	}
}

/* Resumption as the ServerHello answers it, once the version is known. */
static void
tlsmsg_resumed(struct tls_info *ti, const struct tls_hello *h,
    struct tlsmsg_cur sid, int psk)
{
	if (ti->version == 0x0304) {
		ti->psk_accepted = (uint8_t)psk;
		ti->id_echoed = TLS_UNKNOWN;	/* always echoed in 1.3 */
		return;
	}
	ti->psk_accepted = TLS_UNKNOWN;
	ti->id_echoed = sid.n > 0 && sid.n == h->sidlen &&
	    memcmp(sid.p, h->sid, sid.n) == 0;
}

/* A retry and the ServerHello after it: at most two are read. */
void
tlsmsg_server_hello(struct session *s, struct tls_info *ti,
    struct tls_hello *h, const u_char *p, size_t n)
{
	struct tlsmsg_cur	 c = { p, n }, sid, v, exts;
	const u_char		*rnd;
	uint32_t		 ver, cipher, comp, type, selected = 0;
	int			 psk = 0, hrr;

	if (ti->has_server_hello && !ti->hello_retry)
		return;
	if (!tlsmsg_uint(&c, 2, &ver) || !tlsmsg_take(&c, 32, &rnd) ||
	    !tlsmsg_vec(&c, 1, &sid) || !tlsmsg_uint(&c, 2, &cipher) ||
	    !tlsmsg_uint(&c, 1, &comp)) {
		tlsmsg_error(ti, "malformed ServerHello");
		return;
	}
	hrr = memcmp(rnd, tlsmsg_hrr, 32) == 0;
	if (hrr && ti->hello_retry)
		return;			/* a second retry is not allowed */
	ti->hello_retry |= hrr;
	ti->has_server_hello = 1;
	ti->server_version = (uint16_t)ver;
	ti->cipher = (uint16_t)cipher;
	if (!hrr) {
		memcpy(h->server_random, rnd, 32);
		h->has_server_random = 1;
	}
	exts.n = 0;
	if (c.n > 0 && !tlsmsg_vec(&c, 2, &exts))
		tlsmsg_error(ti, "malformed ServerHello");
	while (exts.n > 0) {
		if (!tlsmsg_uint(&exts, 2, &type) ||
		    !tlsmsg_vec(&exts, 2, &v)) {
			tlsmsg_error(ti, "malformed ServerHello");
			break;
		}
		tlsmsg_server_ext(s, ti, type, v, &selected, &psk);
	}
	ti->version = (uint16_t)(selected != 0 ? selected : ver);
	tlsmsg_resumed(ti, h, sid, psk);
}

/* One DER element: its tag and contents; 0 if it overruns c. */
static int
tlsmsg_der(struct tlsmsg_cur *c, uint8_t *tag, struct tlsmsg_cur *val)
{
	uint32_t	 len;
	const u_char	*p;

	if (!tlsmsg_take(c, 2, &p))
		return (0);
	*tag = p[0];
	len = p[1];
	if ((len & 0x80) && ((len &= 0x7f) == 0 || len > 3 ||
	    !tlsmsg_uint(c, len, &len)))
		return (0);
	if (!tlsmsg_take(c, len, &val->p))
		return (0);
	val->n = len;
	return (1);
}

/* Appends "KEY=value" to buf (size TLS_MAX_NAME), cut where it is full. */
static void
tlsmsg_append(char *buf, size_t *len, const char *key,
    struct tlsmsg_cur val)
{
	size_t	 n;
	char	 part[8];

	n = (size_t)snprintf(part, sizeof(part), "%s%s=", *len ? ", " : "",
	    key);
	if (*len + n > TLS_MAX_NAME)
		return;
	memcpy(buf + *len, part, n);
	*len += n;
	n = val.n < TLS_MAX_NAME - *len ? val.n : TLS_MAX_NAME - *len;
	memcpy(buf + *len, val.p, n);
	*len += n;
}

/* "CN=..., O=..." of a Name (RFC 5280 4.1.2.4), in its order; NULL if none. */
static char *
tlsmsg_name(struct session *s, struct tlsmsg_cur name, uint16_t *outlen)
{
	static const u_char	 cn[] = { 0x55, 0x04, 0x03 };
	static const u_char	 o[] = { 0x55, 0x04, 0x0a };
	struct tlsmsg_cur	 set, atv, oid, val;
	char			 buf[TLS_MAX_NAME];
	size_t			 len = 0;
	uint8_t			 tag;

	while (tlsmsg_der(&name, &tag, &set)) {
		while (tag == 0x31 && tlsmsg_der(&set, &tag, &atv)) {
			if (tag != 0x30 || !tlsmsg_der(&atv, &tag, &oid) ||
			    tag != 0x06 || oid.n != 3 ||
			    !tlsmsg_der(&atv, &tag, &val)) {
				tag = 0x31;
				continue;
			}
			if (memcmp(oid.p, cn, 3) == 0)
				tlsmsg_append(buf, &len, "CN", val);
			else if (memcmp(oid.p, o, 3) == 0)
				tlsmsg_append(buf, &len, "O", val);
			tag = 0x31;
		}
	}
	if (len == 0)
		return (NULL);
	*outlen = (uint16_t)len;
	return (tlsmsg_dup(s, buf, len));
}

/*
 * The first certificate of a TLS 1.2 Certificate message: its
 * tbsCertificate's issuer and subject (RFC 5280 4.1). The message may
 * have been cut at TLS_MAX_HANDSHAKE; the leaf comes first and is read
 * if it is whole.
 */
void
tlsmsg_certificate(struct session *s, struct tls_info *ti, const u_char *p,
    size_t n)
{
	struct tlsmsg_cur	 c = { p, n }, der, cert, tbs, v, issuer;
	uint32_t		 listlen;
	uint8_t			 tag;

	if (ti->subject != NULL || ti->issuer != NULL)
		return;
	if (!tlsmsg_uint(&c, 3, &listlen) || !tlsmsg_vec(&c, 3, &der) ||
	    !tlsmsg_der(&der, &tag, &cert) || tag != 0x30 ||
	    !tlsmsg_der(&cert, &tag, &tbs) || tag != 0x30 ||
	    !tlsmsg_der(&tbs, &tag, &v) ||
	    (tag == 0xa0 && !tlsmsg_der(&tbs, &tag, &v)) ||
	    !tlsmsg_der(&tbs, &tag, &v) ||
	    !tlsmsg_der(&tbs, &tag, &issuer) || tag != 0x30 ||
	    !tlsmsg_der(&tbs, &tag, &v) ||
	    !tlsmsg_der(&tbs, &tag, &v) || tag != 0x30) {
		tlsmsg_error(ti, "certificate not read");
		return;
	}
	ti->issuer = tlsmsg_name(s, issuer, &ti->issuerlen);
	ti->subject = tlsmsg_name(s, v, &ti->subjectlen);
}
