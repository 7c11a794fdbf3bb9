/*
 * keylog.c: the NSS key log format read line by line into a table of
 * TLS sessions keyed by client random. A line is
 *
 *	LABEL <client random, 64 hex digits> <secret, hex>
 *
 * with CLIENT_RANDOM carrying a TLS 1.2 master secret (48 bytes) and
 * the TLS 1.3 labels a traffic secret as long as the suite's hash (32
 * or 48 bytes). Comments (#) and blank lines are skipped; labels not
 * used here (EXPORTER_SECRET, ...) are counted as ignored. A line that
 * does not parse is counted, never fatal. A line longer than
 * KEYLOG_MAX_LINE is malformed; its bytes are skipped to the newline.
 *
 * Runs in the analyzer (unprivileged, sandboxed). Secrets are wiped
 * with explicit_bzero when the table goes.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keylog.h"
#include "xmalloc.h"

struct keylog_entry {
	struct keylog_entry	*next;
	struct keylog_secrets	 k;
};

struct keylog {
	struct keylog_entry	**b;
	size_t			 nb;		/* buckets, a power of two */
	size_t			 n;
	size_t			 max;
	char			 line[KEYLOG_MAX_LINE];
	size_t			 linelen;
	int			 skipping;	/* in a line too long */
	struct keylog_stats	 st;
};

/* The first KEYLOG_NSECRETS in enum keylog_secret's order. */
static const struct {
	const char	*label;
	int		 which;		/* enum keylog_secret, -1: ignored */
} keylog_labels[] = {
	{ "CLIENT_RANDOM", KEYLOG_MASTER },
	{ "CLIENT_EARLY_TRAFFIC_SECRET", KEYLOG_CLIENT_EARLY },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_CLIENT_HS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", KEYLOG_SERVER_HS },
	{ "CLIENT_TRAFFIC_SECRET_0", KEYLOG_CLIENT_APP },
	{ "SERVER_TRAFFIC_SECRET_0", KEYLOG_SERVER_APP },
	{ "EXPORTER_SECRET", -1 },
	{ "EARLY_EXPORTER_SECRET", -1 },
};

/*
 * The table starts small, as most logs name a few sessions, and doubles
 * with them up to a quarter of the cap.
 */
#define KEYLOG_MIN_BUCKETS	64

struct keylog *
keylog_new(size_t max)
{
	struct keylog	*kl;

	kl = xcalloc(1, sizeof(*kl));
	kl->max = max ? max : KEYLOG_DEFAULT_MAX;
	kl->nb = KEYLOG_MIN_BUCKETS;
	kl->b = xcalloc(kl->nb, sizeof(*kl->b));
	return (kl);
}

void
keylog_free(struct keylog *kl)
{
	struct keylog_entry	*e, *next;
	size_t			 i;

	if (kl == NULL)
		return;
	for (i = 0; i < kl->nb; i++) {
		for (e = kl->b[i]; e != NULL; e = next) {
			next = e->next;
			explicit_bzero(e, sizeof(*e));
			free(e);
		}
	}
	free(kl->b);
	explicit_bzero(kl, sizeof(*kl));
	free(kl);
}

/* The random is random: its first bytes spread the sessions well. */
static size_t
keylog_slot(const u_char *random, size_t nb)
{
	uint32_t	 h;

	h = (uint32_t)random[0] | (uint32_t)random[1] << 8 |
	    (uint32_t)random[2] << 16 | (uint32_t)random[3] << 24;
	return (h & (nb - 1));
}

static size_t
keylog_hash(const struct keylog *kl, const u_char *random)
{
	return (keylog_slot(random, kl->nb));
}

static struct keylog_entry *
keylog_lookup(const struct keylog *kl, const u_char *random)
{
	struct keylog_entry	*e;

	for (e = kl->b[keylog_hash(kl, random)]; e != NULL; e = e->next)
		if (memcmp(e->k.random, random, KEYLOG_RANDOM) == 0)
			return (e);
	return (NULL);
}

const struct keylog_secrets *
keylog_find(const struct keylog *kl, const u_char *random)
{
	struct keylog_entry	*e;

	if (kl == NULL || (e = keylog_lookup(kl, random)) == NULL)
		return (NULL);
	return (&e->k);
}

const struct keylog_stats *
keylog_stats(const struct keylog *kl)
{
	return (&kl->st);
}

size_t
keylog_memory(const struct keylog *kl)
{
	return (sizeof(*kl) + kl->nb * sizeof(*kl->b) +
	    kl->n * sizeof(struct keylog_entry));
}

static int
keylog_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Exactly 2 * n hex digits into out; -1 if they are not. */
static int
keylog_hex(const char *s, size_t len, u_char *out, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	if (len != 2 * n)
		return (-1);
	for (i = 0; i < n; i++) {
		hi = keylog_nibble(s[2 * i]);
		lo = keylog_nibble(s[2 * i + 1]);
		if (hi == -1 || lo == -1)
			return (-1);
		out[i] = (u_char)(hi << 4 | lo);
	}
	return (0);
}

/* The next field of a line: its start and length; 0 if there is none. */
static int
keylog_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char	*s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return (0);
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return (1);
}

/* The label's enum keylog_secret, -1 for one not used, -2 unknown. */
static int
keylog_label(const char *f, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(keylog_labels) / sizeof(keylog_labels[0]);
	    i++) {
		if (strlen(keylog_labels[i].label) == len &&
		    memcmp(keylog_labels[i].label, f, len) == 0)
			return (keylog_labels[i].which);
	}
	return (-2);
}

static void
keylog_grow(struct keylog *kl)
{
	struct keylog_entry	**nb, *e, *next;
	size_t			  i, h, size = kl->nb * 2;

	nb = xcalloc(size, sizeof(*nb));
	for (i = 0; i < kl->nb; i++) {
		for (e = kl->b[i]; e != NULL; e = next) {
			next = e->next;
			h = keylog_slot(e->k.random, size);
			e->next = nb[h];
			nb[h] = e;
		}
	}
	free(kl->b);
	kl->b = nb;
	kl->nb = size;
}

/* The entry for random, made if there is room; NULL past the cap. */
static struct keylog_entry *
keylog_entry(struct keylog *kl, const u_char *random)
{
	struct keylog_entry	*e;
	size_t			 h;

	if ((e = keylog_lookup(kl, random)) != NULL)
		return (e);
	if (kl->n >= kl->max)
		return (NULL);
	e = xcalloc(1, sizeof(*e));
	memcpy(e->k.random, random, KEYLOG_RANDOM);
	h = keylog_hash(kl, random);
	e->next = kl->b[h];
	kl->b[h] = e;
	kl->n++;
	kl->st.sessions++;
	if (kl->n > kl->nb && kl->nb < kl->max / 4)
		keylog_grow(kl);
	return (e);
}

/* A secret's hex: the master secret is 48 bytes, traffic 32 or 48. */
static int
keylog_secret(int which, const char *f, size_t len, u_char *out,
    uint8_t *outlen)
{
	if (keylog_hex(f, len, out, KEYLOG_MAX_SECRET) == 0) {
		*outlen = KEYLOG_MAX_SECRET;
		return (0);
	}
	if (which != KEYLOG_MASTER && keylog_hex(f, len, out, 32) == 0) {
		*outlen = 32;
		return (0);
	}
	return (-1);
}

/* One whole line, without its newline. Returns the secrets taken. */
static size_t
keylog_line(struct keylog *kl, const char *s, size_t len)
{
	const char		*p = s, *end = s + len, *f[3];
	size_t			 flen[3], extra;
	u_char			 random[KEYLOG_RANDOM], secret[KEYLOG_MAX_SECRET];
	uint8_t			 slen;
	int			 which;
	struct keylog_entry	*e;

	kl->st.lines++;
	if (len > 0 && s[len - 1] == '\r')
		end--;
	if (!keylog_field(&p, end, &f[0], &flen[0]) || *f[0] == '#') {
		kl->st.ignored++;
		return (0);
	}
	which = keylog_label(f[0], flen[0]);
	if (which == -1) {
		kl->st.ignored++;
		return (0);
	}
	if (which == -2 || !keylog_field(&p, end, &f[1], &flen[1]) ||
	    !keylog_field(&p, end, &f[2], &flen[2]) ||
	    keylog_field(&p, end, &f[0], &extra) ||
	    keylog_hex(f[1], flen[1], random, sizeof(random)) == -1 ||
	    keylog_secret(which, f[2], flen[2], secret, &slen) == -1) {
		kl->st.malformed++;
		return (0);
	}
	if ((e = keylog_entry(kl, random)) == NULL) {
		kl->st.dropped++;
		explicit_bzero(secret, sizeof(secret));
		return (0);
	}
	memcpy(e->k.secret[which], secret, slen);
	e->k.len[which] = slen;
	e->k.have |= (uint8_t)(1 << which);
	kl->st.secrets++;
	explicit_bzero(secret, sizeof(secret));
	return (1);
}

size_t
keylog_feed(struct keylog *kl, const u_char *p, size_t len)
{
	const u_char	*nl;
	size_t		 n, taken = 0;

	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (!kl->skipping && n > sizeof(kl->line) - kl->linelen) {
			kl->skipping = 1;
			kl->st.lines++;
			kl->st.malformed++;
		}
		if (!kl->skipping) {
			memcpy(kl->line + kl->linelen, p, n);
			kl->linelen += n;
		}
		if (nl == NULL)
			break;
		if (!kl->skipping)
			taken += keylog_line(kl, kl->line, kl->linelen);
		explicit_bzero(kl->line, kl->linelen);
		kl->linelen = 0;
		kl->skipping = 0;
		p += n + 1;
		len -= n + 1;
	}
	return (taken);
}

size_t
keylog_end(struct keylog *kl)
{
	size_t	 taken = 0;

	if (!kl->skipping && kl->linelen > 0)
		taken = keylog_line(kl, kl->line, kl->linelen);
	explicit_bzero(kl->line, kl->linelen);
	kl->linelen = 0;
	kl->skipping = 0;
	return (taken);
}

/* One line: label, random and secret in lower-case hex. */
static size_t
keylog_export_line(char *out, const char *label, const u_char *random,
    const u_char *secret, size_t slen)
{
	size_t	 n, i;

	n = (size_t)sprintf(out, "%s ", label);
	for (i = 0; i < KEYLOG_RANDOM; i++)
		n += (size_t)sprintf(out + n, "%02x", random[i]);
	out[n++] = ' ';
	for (i = 0; i < slen; i++)
		n += (size_t)sprintf(out + n, "%02x", secret[i]);
	out[n++] = '\n';
	return (n);
}

char *
keylog_export(const struct keylog *kl, size_t *len)
{
	const struct keylog_entry	*e;
	char				*buf;
	size_t				 i, max, n = 0;
	int				 w;

	*len = 0;
	if (kl == NULL || kl->n == 0)
		return (NULL);
	/* The longest label, two fields and their spaces, a newline. */
	max = kl->n * KEYLOG_NSECRETS * (32 + 2 * KEYLOG_RANDOM +
	    2 * KEYLOG_MAX_SECRET + 3);
	buf = xmalloc(max);
	for (i = 0; i < kl->nb; i++) {
		for (e = kl->b[i]; e != NULL; e = e->next) {
			for (w = 0; w < KEYLOG_NSECRETS; w++) {
				if (!(e->k.have & (1 << w)))
					continue;
				n += keylog_export_line(buf + n,
				    keylog_labels[w].label, e->k.random,
				    e->k.secret[w], e->k.len[w]);
			}
		}
	}
	*len = n;
	return (buf);
}
