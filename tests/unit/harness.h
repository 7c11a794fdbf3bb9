/*
 * harness.h: what the engine's unit tests share: PASS/FAIL reporting
 * (check.h), frames built by hand (link, IP and TCP headers around
 * chosen payloads) fed to a session, and a look at the transactions it
 * paired. Included once by each test program.
 */
#ifndef HTRACR_HARNESS_H
#define HTRACR_HARNESS_H

#include <sys/types.h>

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "session.h"

#include "check.h"

#define T_SYN	0x02
#define T_ACK	0x10
#define T_FIN	0x01
#define T_RST	0x04
#define T_PSH	0x08

struct flow {
	struct session	*s;
	int		 link;
	int		 v6;
	int		 vlan;
	uint8_t		 caddr[16];
	uint8_t		 saddr[16];
	uint16_t	 cport;
	uint16_t	 sport;
	uint32_t	 cseq;		/* next client seq */
	uint32_t	 sseq;		/* next server seq */
	uint64_t	 us;
};

static struct session *
t_session(int link, size_t budget, const uint16_t *ports, size_t nports)
{
	struct engine_config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = budget ? budget : SESSION_DEFAULT_BUDGET;
	cfg.body_keep = 4096;
	cfg.keep_frames = 1;
	if (nports)
		memcpy(cfg.ports, ports, nports * sizeof(*ports));
	cfg.nports = nports;
	return (session_new(1, SESSION_LOADED, link, &cfg, 0, "test",
	    1000000));
}

static void
t_flow(struct flow *f, struct session *s, int link, int v6)
{
	memset(f, 0, sizeof(*f));
	f->s = s;
	f->link = link;
	f->v6 = v6;
	if (v6) {
		inet_pton(AF_INET6, "2001:db8::1", f->caddr);
		inet_pton(AF_INET6, "2001:db8::2", f->saddr);
	} else {
		inet_pton(AF_INET, "192.0.2.1", f->caddr);
		inet_pton(AF_INET, "192.0.2.2", f->saddr);
	}
	f->cport = 40000;
	f->sport = 80;
	f->cseq = 1000;
	f->sseq = 5000;
	f->us = 1000000;
}

static size_t
t_link(const struct flow *f, u_char *p)
{
	size_t	 n = 0;
	uint16_t type = f->v6 ? 0x86dd : 0x0800;

	switch (f->link) {
	case DLT_EN10MB:
		memset(p, 0x02, 12);
		n = 12;
		if (f->vlan) {
			p[n++] = 0x81; p[n++] = 0x00; p[n++] = 0; p[n++] = 7;
		}
		p[n++] = type >> 8;
		p[n++] = type & 0xff;
		return (n);
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		p[0] = type >> 8;
		p[1] = type & 0xff;
		return (20);
	case DLT_LINUX_SLL:
		memset(p, 0, 16);
		p[14] = type >> 8;
		p[15] = type & 0xff;
		return (16);
	case DLT_NULL:		/* host order */
		n = f->v6 ? 10 : 2;
		memcpy(p, &(uint32_t){ (uint32_t)n }, 4);
		return (4);
	case DLT_LOOP:		/* network order, a BSD's AF_INET6 */
		memset(p, 0, 4);
		p[3] = f->v6 ? 24 : 2;
		return (4);
	}
	return (0);	/* raw IP */
}

/* One TCP segment from the client (c2s) or the server, with seq given. */
static void
t_seg(struct flow *f, int c2s, uint32_t seq, uint32_t ack, uint8_t flags,
    const void *data, size_t len)
{
	u_char		 buf[70000], *ip, *tcp;
	size_t		 l2, iphl, total;
	const uint8_t	*src = c2s ? f->caddr : f->saddr;
	const uint8_t	*dst = c2s ? f->saddr : f->caddr;
	uint16_t	 sp = c2s ? f->cport : f->sport;
	uint16_t	 dp = c2s ? f->sport : f->cport;

	l2 = t_link(f, buf);
	ip = buf + l2;
	iphl = f->v6 ? 40 : 20;
	total = iphl + 20 + len;
	memset(ip, 0, iphl + 20);
	if (f->v6) {
		ip[0] = 0x60;
		ip[4] = (20 + len) >> 8;
		ip[5] = (20 + len) & 0xff;
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		ip[2] = total >> 8;
		ip[3] = total & 0xff;
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	tcp = ip + iphl;
	tcp[0] = sp >> 8; tcp[1] = sp & 0xff;
	tcp[2] = dp >> 8; tcp[3] = dp & 0xff;
	tcp[4] = seq >> 24; tcp[5] = seq >> 16; tcp[6] = seq >> 8; tcp[7] = seq;
	tcp[8] = ack >> 24; tcp[9] = ack >> 16; tcp[10] = ack >> 8; tcp[11] = ack;
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0xff; tcp[15] = 0xff;
	if (len > 0)
		memcpy(tcp + 20, data, len);
	f->us += 1000;
	session_frame(f->s, f->us, buf, (uint32_t)(l2 + total),
	    (uint32_t)(l2 + total));
}

static void
t_handshake(struct flow *f)
{
	t_seg(f, 1, f->cseq, 0, T_SYN, NULL, 0);
	t_seg(f, 0, f->sseq, f->cseq + 1, T_SYN | T_ACK, NULL, 0);
	f->cseq++;
	f->sseq++;
	t_seg(f, 1, f->cseq, f->sseq, T_ACK, NULL, 0);
}

static void
t_send(struct flow *f, int c2s, const char *data, size_t len)
{
	if (c2s) {
		t_seg(f, 1, f->cseq, f->sseq, T_ACK | T_PSH, data, len);
		f->cseq += (uint32_t)len;
	} else {
		t_seg(f, 0, f->sseq, f->cseq, T_ACK | T_PSH, data, len);
		f->sseq += (uint32_t)len;
	}
}

static void
t_str(struct flow *f, int c2s, const char *s)
{
	t_send(f, c2s, s, strlen(s));
}

static void
t_close(struct flow *f)
{
	t_seg(f, 1, f->cseq, f->sseq, T_ACK | T_FIN, NULL, 0);
	f->cseq++;
	t_seg(f, 0, f->sseq, f->cseq, T_ACK | T_FIN, NULL, 0);
	f->sseq++;
	t_seg(f, 1, f->cseq, f->sseq, T_ACK, NULL, 0);
}

/*
 * The i-th transaction and what it paired. Inline: not every test looks
 * at HTTP/1 transactions, and an unused one must not warn.
 */
static inline struct txn *
t_txn(struct session *s, size_t i)
{
	return (i < s->ntxns ? s->txns[i] : NULL);
}

static inline int
t_target(const struct txn *t, const char *want)
{
	return (t != NULL && t->req != NULL &&
	    t->req->target_len == strlen(want) &&
	    memcmp(t->req->text + t->req->target_off, want,
	    strlen(want)) == 0);
}

static inline int
t_status(const struct txn *t)
{
	return (t != NULL && t->resp != NULL ? t->resp->status : -1);
}

#endif
