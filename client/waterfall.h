/*
 * waterfall.h: the terminal views of a session that "htracrctl show"
 * prints: the waterfall (servers, connections and transactions on a
 * time axis that fits the terminal), one transaction in full, and one
 * connection's packets. Runs in htracrctl; every wire string is escaped.
 */
#ifndef HTRACR_WATERFALL_H
#define HTRACR_WATERFALL_H

#include <stdint.h>
#include <stdio.h>

#include "doc.h"

struct waterfall_opts {
	int		 width;		/* columns; 0: terminal, else 100 */
	int		 color;		/* 1, 0, or -1: on a terminal without NO_COLOR */
	int64_t		 scale_us;	/* per column (--scale); 0: fit */
	int64_t		 from_us;	/* offsets from the first frame; -1: none */
	int64_t		 to_us;
	const char	*host;		/* --host: substring of the server name */
	const char	*status;	/* --status 404, 5xx, 4xx,5xx */
	const char	*method;	/* --method GET */
	int64_t		 min_wait_us;	/* --min-wait; -1: none */
	const char	*hide_servers;	/* --hide-server: ids, names, addresses */
	const char	*hide_conns;	/* --hide-conn: connection ids */
	int		 layers;	/* --layers: WATERFALL_L_* drawn */
};

/* What the waterfall draws (--layers); all by default. */
#define WATERFALL_L_PACKETS	0x01	/* a connection's packet line */
#define WATERFALL_L_STATES	0x02	/* its states on its bar */
#define WATERFALL_L_TXN		0x04	/* transactions, their lines */
#define WATERFALL_L_TLS		0x08	/* the TLS handshake and lines */
#define WATERFALL_L_DNS		0x10	/* the lookup it waited for */
#define WATERFALL_L_ALL		0x1f

/* A message body fetched with the body op (PROTOCOL.md 103). */
struct waterfall_body {
	const char	*buf;
	size_t		 len;
	int		 truncated;
	int		 evicted;	/* kept by the daemon, gone since */
};

void	 waterfall_opts_init(struct waterfall_opts *);
/* Parses a --status filter; -1 if it is not NNN, Nxx or a list of them. */
int	 waterfall_status_ok(const char *);
/*
 * Parses a --hide-server (names allowed) or --hide-conn (ids only)
 * list; -1 if an item is empty or, for connections, not a number.
 */
int	 waterfall_hide_ok(const char *, int);
/*
 * Parses a --layers list (packets, states, txn, tls, dns) into
 * WATERFALL_L_* bits; -1 on an unknown or empty name.
 */
int	 waterfall_layers(const char *, int *);

/* Each returns 0, -1 if writing failed, 1 if the id does not exist. */
int	 waterfall_render(FILE *, const struct doc *,
	    const struct waterfall_opts *);
int	 waterfall_txn(FILE *, const struct doc *, uint64_t,
	    const struct waterfall_body *, const struct waterfall_body *,
	    const struct waterfall_opts *);
int	 waterfall_conn(FILE *, const struct doc *, uint64_t,
	    const struct waterfall_opts *);

#endif
