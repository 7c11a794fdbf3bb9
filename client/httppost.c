/*
 * httppost.c: POST one body to a plain-HTTP URL and read the reply's
 * status line and first body bytes (export --otlp sends each batch of
 * spans this way). One connection per request, "Connection: close",
 * every step bounded by HTTPPOST_TIMEOUT. Runs in htracrctl with the
 * invoking user's privileges; the reply comes from another machine and
 * is escaped by whoever prints it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "httppost.h"
#include "log.h"
#include "xmalloc.h"

#define HTTPPOST_TIMEOUT	30		/* s: connect, each send, each read */
#define HTTPPOST_READ_MAX	(64 * 1024)	/* of the reply, headers and body */

/* The authority's port: 1 to 65535 in decimal, nothing else. */
static int
httppost_port_ok(const char *p, size_t len)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5)
		return (0);
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (0);
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return (v >= 1 && v <= 65535);
}

/* Host and port of the authority auth..end, into u. */
static int
httppost_authority(struct httppost_url *u, const char *auth, const char *end)
{
	const char	*h = auth, *hend, *p;

	if (*auth == '[') {
		h = auth + 1;
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL) {
			log_warnx("the URL's IPv6 address has no ']'");
			return (-1);
		}
		p = hend + 1;
	} else {
		if ((hend = memchr(h, ':', (size_t)(end - h))) == NULL)
			hend = end;
		p = hend;
	}
	if (hend == h) {
		log_warnx("the URL names no host");
		return (-1);
	}
	if (p < end && (*p != ':' ||
	    !httppost_port_ok(p + 1, (size_t)(end - p - 1)))) {
		log_warnx("the URL's port is not a number from 1 to 65535");
		return (-1);
	}
	u->host = xstrndup(h, (size_t)(hend - h));
	u->port = p < end ? xstrndup(p + 1, (size_t)(end - p - 1)) :
	    xstrdup("80");
	u->authority = xstrndup(auth, (size_t)(end - auth));
	return (0);
}

int
httppost_parse(struct httppost_url *u, const char *url, const char *defpath)
{
	const char	*auth, *end;
	size_t		 i, plen;

	memset(u, 0, sizeof(*u));
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			log_warnx("the URL holds a space or a control character");
			return (-1);
		}
	if (strncasecmp(url, "https://", 8) == 0) {
		log_warnx("https is not supported: give the collector's "
		    "plain-HTTP endpoint, such as http://HOST:4318");
		return (-1);
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		log_warnx("'%s' is not an http:// URL", url);
		return (-1);
	}
	auth = url + 7;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		log_warnx("a user name in the URL is not supported");
		return (-1);
	}
	if (httppost_authority(u, auth, end) == -1)
		return (-1);
	plen = strcspn(end, "#");
	if (plen == 0 || (plen == 1 && *end == '/'))
		u->path = xstrdup(defpath);
	else if (*end == '?')
		xasprintf(&u->path, "/%.*s", (int)plen, end);
	else
		u->path = xstrndup(end, plen);
	return (0);
}

void
httppost_url_free(struct httppost_url *u)
{
	free(u->host);
	free(u->port);
	free(u->authority);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

/* A connected socket with the timeouts set; -1 after saying why not. */
static int
httppost_connect(const struct httppost_url *u)
{
	struct addrinfo	 hints, *res, *ai;
	struct timeval	 tv = { HTTPPOST_TIMEOUT, 0 };
	int		 fd = -1, error, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		log_warnx("cannot resolve the collector's host %s: %s",
		    u->host, gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		/* On Linux the send timeout bounds connect too. */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv)) == -1 || setsockopt(fd, SOL_SOCKET,
		    SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd != -1)
		return (fd);
	if (saved == EINPROGRESS)
		log_warnx("cannot connect to the collector at %s: no answer "
		    "within %d s", u->authority, HTTPPOST_TIMEOUT);
	else {
		errno = saved;
		log_warn("cannot connect to the collector at %s",
		    u->authority);
	}
	return (-1);
}

static int
httppost_write(int fd, const struct httppost_url *u, const void *p,
    size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = send(fd, s, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				log_warnx("the collector at %s took nothing "
				    "for %d s", u->authority, HTTPPOST_TIMEOUT);
			else
				log_warn("sending to the collector at %s",
				    u->authority);
			return (-1);
		}
		s += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The value of header name in the header block buf..buf+len, or NULL. */
static const char *
httppost_header(const char *buf, size_t len, const char *name, size_t *vlen)
{
	const char	*p = buf, *end = buf + len, *eol;
	size_t		 nlen = strlen(name);

	while (p < end) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			eol = end;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			p += nlen + 1;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			*vlen = (size_t)(eol - p);
			return (p);
		}
		p = eol + 2;
	}
	return (NULL);
}

/*
 * Whether the reply in buf is whole before the server closes: its body
 * as long as Content-Length says, or a chunked body's last chunk.
 */
static int
httppost_complete(const char *buf, size_t len)
{
	const char	*hend, *v;
	size_t		 hlen, vlen, i;
	unsigned long long	 cl = 0;

	if ((hend = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return (0);
	hlen = (size_t)(hend - buf) + 4;
	if ((v = httppost_header(buf, hlen, "Content-Length", &vlen)) != NULL) {
		for (i = 0; i < vlen && v[i] >= '0' && v[i] <= '9' &&
		    cl < HTTPPOST_READ_MAX; i++)
			cl = cl * 10 + (unsigned long long)(v[i] - '0');
		return (len - hlen >= cl);
	}
	if (httppost_header(buf, hlen, "Transfer-Encoding", &vlen) != NULL)
		return (len >= hlen + 5 &&
		    memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0);
	return (0);
}

/* The reply, up to HTTPPOST_READ_MAX bytes; -1 after saying why not. */
static ssize_t
httppost_read(int fd, const struct httppost_url *u, char *buf, size_t size)
{
	size_t	 len = 0;
	ssize_t	 n;

	while (len < size) {
		if ((n = recv(fd, buf + len, size - len, 0)) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				log_warnx("the collector at %s sent no reply "
				    "within %d s", u->authority,
				    HTTPPOST_TIMEOUT);
			else
				log_warn("reading the collector's reply");
			return (-1);
		}
		len += (size_t)n;
		if (httppost_complete(buf, len))
			break;
	}
	return ((ssize_t)len);
}

/* "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" into r; -1 if it is not that. */
static int
httppost_status(const char *buf, size_t len, struct httppost_reply *r)
{
	const char	*eol, *body;
	size_t		 rlen;

	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9')
		return (-1);
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 +
	    (buf[11] - '0');
	if ((eol = memmem(buf, len, "\r\n", 2)) == NULL)
		eol = buf + len;
	rlen = eol > buf + 13 ? (size_t)(eol - buf - 13) : 0;
	if (rlen >= sizeof(r->reason))
		rlen = sizeof(r->reason) - 1;
	memcpy(r->reason, buf + 13, rlen);
	r->reason[rlen] = '\0';
	if ((body = memmem(buf, len, "\r\n\r\n", 4)) != NULL) {
		body += 4;
		r->bodylen = (size_t)(buf + len - body);
		if (r->bodylen > sizeof(r->body))
			r->bodylen = sizeof(r->body);
		memcpy(r->body, body, r->bodylen);
	}
	return (0);
}

int
httppost_send(const struct httppost_url *u, const char *ctype,
    const void *body, size_t len, struct httppost_reply *r)
{
	char	*head, *buf;
	ssize_t	 n;
	int	 fd, rc = -1;

	memset(r, 0, sizeof(*r));
	if ((fd = httppost_connect(u)) == -1)
		return (-1);
	xasprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "User-Agent: htracrctl\r\nConnection: close\r\n\r\n",
	    u->path, u->authority, ctype, len);
	buf = xmalloc(HTTPPOST_READ_MAX);
	if (httppost_write(fd, u, head, strlen(head)) == 0 &&
	    httppost_write(fd, u, body, len) == 0 &&
	    (n = httppost_read(fd, u, buf, HTTPPOST_READ_MAX)) != -1) {
		if (httppost_status(buf, (size_t)n, r) == 0)
			rc = 0;
		else if (n == 0)
			log_warnx("the collector at %s closed the connection "
			    "without a reply", u->authority);
		else
			log_warnx("the collector at %s did not answer in "
			    "HTTP", u->authority);
	}
	free(buf);
	free(head);
	close(fd);
	return (rc);
}
