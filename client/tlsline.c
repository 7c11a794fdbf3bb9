/*
 * tlsline.c: a TLS connection's "tls" object (PROTOCOL.md) as one line
 * for people, shared by the text tables and the terminal waterfall:
 * "TLS 1.3 TLS_AES_128_GCM_SHA256 sni example.com alpn h2,http/1.1 -> ?
 * handshake 1.20ms 1 rt resumed decrypted 18 records". Runs in
 * htracrctl; every string from the wire is escaped. "?" marks what
 * cannot be seen without keys (the ALPN choice of TLS 1.3), "-" what
 * was not sent or not captured.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "fmt.h"
#include "proto.h"
#include "render.h"
#include "tlsline.h"

static void __attribute__((format(printf, 4, 5)))
tlsline_add(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (*off >= size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < size - *off ? (size_t)n : size - *off - 1;
}

/* A string field escaped, or dflt when nil. */
static const char *
tlsline_str(char *buf, size_t size, const msgpack_object *o, const char *key,
    const char *dflt)
{
	const char	*s;
	size_t		 len;

	if ((s = render_str(o, key, &len)) == NULL)
		return (dflt);
	return (esc_buf(buf, size, s, len));
}

/* The offered ALPN names joined by commas, escaped. */
static const char *
tlsline_alpn(char *buf, size_t size, const msgpack_object *tls)
{
	const msgpack_object	*a = render_array(tls, "alpn_offered");
	char			 one[64];
	size_t			 off = 0;
	uint32_t		 i;

	if (a == NULL || a->via.array.size == 0)
		return ("-");
	buf[0] = '\0';
	for (i = 0; i < a->via.array.size; i++) {
		if (a->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			continue;
		esc_buf(one, sizeof(one), a->via.array.ptr[i].via.str.ptr,
		    a->via.array.ptr[i].via.str.size);
		tlsline_add(buf, size, &off, "%s%s", off ? "," : "", one);
	}
	return (buf);
}

/* The first alert, as "alert c2s fatal unknown_ca", when any. */
static void
tlsline_alert(char *buf, size_t size, size_t *off, const msgpack_object *tls)
{
	const msgpack_object	*a = render_array(tls, "alerts"), *al;
	char			 dir[8], name[48];
	int64_t			 level;

	if (a == NULL || a->via.array.size == 0)
		return;
	al = &a->via.array.ptr[0];
	level = render_int(al, "level", -1);
	tlsline_add(buf, size, off, " alert %s %s",
	    tlsline_str(dir, sizeof(dir), al, "dir", "?"),
	    level == 2 ? "fatal" : level == 1 ? "warning" :
	    level < 0 ? "encrypted" : "?");
	if (tlsline_str(name, sizeof(name), al, "name", NULL) != NULL)
		tlsline_add(buf, size, off, " %s", name);
	if (a->via.array.size > 1)
		tlsline_add(buf, size, off, " (+%u)",
		    (unsigned int)a->via.array.size - 1);
}

/*
 * What a key log did: "decrypted 18 records (2 failed)", or "not
 * decrypted: why" when it had a reason and decrypted nothing.
 */
static void
tlsline_decrypt(char *buf, size_t size, size_t *off,
    const msgpack_object *tls)
{
	char	 why[160];
	int64_t	 ok, bad;

	ok = render_int(tls, "records_decrypted", 0);
	bad = render_int(tls, "records_failed", 0);
	if (ok > 0)
		tlsline_add(buf, size, off, " decrypted %lld records",
		    (long long)ok);
	if (bad > 0)
		tlsline_add(buf, size, off, " %s%lld failed%s", ok > 0 ? "(" :
		    "records: ", (long long)bad, ok > 0 ? ")" : "");
	if (ok == 0 && tlsline_str(why, sizeof(why), tls, "decrypt_error",
	    NULL) != NULL)
		tlsline_add(buf, size, off, " not decrypted: %s", why);
}

const char *
tlsline_fmt(char *buf, size_t size, const msgpack_object *tls)
{
	char		 ver[32], cipher[64], sni[300], alpn[300], chosen[64];
	char		 dur[32], err[96];
	const char	*v;
	size_t		 off = 0, len;
	int64_t		 n;

	if (tls == NULL || tls->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	v = tlsline_str(ver, sizeof(ver), tls, "version", "TLS ?");
	if ((tlsline_str(cipher, sizeof(cipher), tls, "cipher", NULL)) == NULL) {
		n = render_int(tls, "cipher_suite", -1);
		if (n >= 0)
			snprintf(cipher, sizeof(cipher), "0x%04llx",
			    (unsigned long long)n);
		else
			snprintf(cipher, sizeof(cipher), "-");
	}
	tlsline_add(buf, size, &off, "%s %s sni %s alpn %s -> %s", v, cipher,
	    tlsline_str(sni, sizeof(sni), tls, "sni", "-"),
	    tlsline_alpn(alpn, sizeof(alpn), tls),
	    tlsline_str(chosen, sizeof(chosen), tls, "alpn",
	    strcmp(v, "TLS 1.3") == 0 ? "?" : "-"));
	n = render_int(tls, "handshake_us", -1);
	tlsline_add(buf, size, &off, " handshake %s",
	    n >= 0 ? fmt_duration(dur, sizeof(dur), n) : "-");
	if ((n = render_int(tls, "round_trips", -1)) >= 0)
		tlsline_add(buf, size, &off, " %lld rt", (long long)n);
	if (render_bool(tls, "resumed"))
		tlsline_add(buf, size, &off, " resumed");
	if (render_bool(tls, "early_data_offered"))
		tlsline_add(buf, size, &off, " early-data-offered");
	if (render_bool(tls, "hello_retry"))
		tlsline_add(buf, size, &off, " hello-retry");
	tlsline_decrypt(buf, size, &off, tls);
	tlsline_alert(buf, size, &off, tls);
	if (render_str(tls, "error", &len) != NULL)
		tlsline_add(buf, size, &off, " ! %s",
		    tlsline_str(err, sizeof(err), tls, "error", ""));
	return (buf);
}

/* "certificate CN=..., O=... issued by CN=..." when one was seen. */
const char *
tlsline_cert(char *buf, size_t size, const msgpack_object *tls)
{
	char	 subj[300], iss[300];
	size_t	 len;

	if (render_str(tls, "cert_subject", &len) == NULL &&
	    render_str(tls, "cert_issuer", &len) == NULL)
		return (NULL);
	snprintf(buf, size, "certificate %s issued by %s",
	    tlsline_str(subj, sizeof(subj), tls, "cert_subject", "-"),
	    tlsline_str(iss, sizeof(iss), tls, "cert_issuer", "-"));
	return (buf);
}
