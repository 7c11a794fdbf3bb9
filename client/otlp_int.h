/*
 * otlp_int.h: what otlp.c (the writer, ids, batches) and otlp_span.c
 * (the spans) share. Runs in htracrctl with the invoking user's
 * privileges.
 */
#ifndef HTRACR_OTLP_INT_H
#define HTRACR_OTLP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#include "otlp.h"

/* What a transaction's spans need of its connection. */
struct otlp_conn {
	uint64_t	 id;		/* 0: slot unused */
	uint64_t	 server;
	uint64_t	 trace[2];
	char		 caddr[64];
	char		 saddr[64];
	uint64_t	 cport;
	uint64_t	 sport;
	int		 ipv6;
	int		 tls;
};

struct otlp_server {
	uint64_t	 id;
	char		 name[256];	/* "": none; as sent, escaped on output */
};

struct otlp {
	struct json_out		*out;
	FILE			*fp;
	/* Batches: emit NULL writes one body to fp. */
	otlp_emit_fn		 emit;
	void			*emit_arg;
	size_t			 maxspans;
	size_t			 maxbytes;	/* 0: no bound */
	char			*buf;		/* the batch's body */
	size_t			 buflen;
	int			 inbatch;	/* envelope open */
	size_t			 nbatch;	/* spans in this batch */
	uint64_t		 spans;
	int			 failed;
	size_t			 nattr;		/* attributes in this list */

	int			 have_session;
	uint64_t		 sid;
	uint64_t		 sstart;
	char			*source;
	size_t			 sourcelen;
	char			 origin[16];
	uint64_t		 skey;		/* the session's part of ids */

	struct otlp_conn	*conns;		/* slot: id % nconns */
	size_t			 nconns;
	struct otlp_server	*servers;
	size_t			 nservers;
};

/* Which span of a trace an id is for. */
enum otlp_role {
	OTLP_CONNECTION = 1,
	OTLP_TCP_HANDSHAKE,
	OTLP_TLS_HANDSHAKE,
	OTLP_TRANSACTION,
	OTLP_SEND,
	OTLP_WAIT,
	OTLP_RECEIVE
};

/* OTLP's enum values, which OTLP/JSON writes as integers. */
#define OTLP_KIND_INTERNAL	1
#define OTLP_KIND_CLIENT	3
#define OTLP_STATUS_UNSET	0
#define OTLP_STATUS_ERROR	2

#define OTLP_RAW(o, s)	json_out_raw((o)->out, (s), sizeof(s) - 1)

/* otlp.c */
void	 otlp_trace_id(const struct otlp *, uint64_t, uint64_t[2]);
uint64_t otlp_span_id(const uint64_t[2], enum otlp_role, uint64_t);
const struct otlp_conn	 *otlp_conn(const struct otlp *, uint64_t);
const struct otlp_server *otlp_server(const struct otlp *, uint64_t);
/* Around each span: a comma or the envelope; then the batch's count. */
void	 otlp_span_begin(struct otlp *);
int	 otlp_span_done(struct otlp *);

/* otlp_span.c */
void	 otlp_attr_str(struct otlp *, const char *, const void *, size_t);
void	 otlp_attr_strz(struct otlp *, const char *, const char *);
void	 otlp_attr_int(struct otlp *, const char *, int64_t);
void	 otlp_attr_bool(struct otlp *, const char *, int);
int	 otlp_conn_spans(struct otlp *, const struct otlp_conn *,
	    const msgpack_object *);
int	 otlp_txn_spans(struct otlp *, const msgpack_object *);

#endif
