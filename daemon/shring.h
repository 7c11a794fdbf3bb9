/*
 * shring.h: the way frames take from the capture process to the
 * analyzer, a byte ring in memory both processes map (see shring.c).
 * The capture process writes frames into it as they come from pcap and
 * says on the socketpair which span of it a batch took (IPC_SPAN); the
 * analyzer reads the batch where it lies and then moves the ring's
 * head past it. Spans come in the link's order, so frames and replies
 * keep theirs.
 */
#ifndef HTRACR_SHRING_H
#define HTRACR_SHRING_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

/* Bytes of frames the ring holds: a power of two. */
#define SHRING_SIZE	(4 * 1024 * 1024)

/* The one word the analyzer writes: how far it has read. */
struct shring_ctl {
	uint64_t	 head;
};

/*
 * Positions count bytes since the ring was made; position p lies at
 * data[p % size]. Each process keeps its own copy of this structure;
 * only ctl and data are shared.
 */
struct shring {
	struct shring_ctl	*ctl;
	u_char			*data;
	size_t			 size;
	/* the capture process's */
	uint64_t		 tail;	/* end of the bytes written */
	uint64_t		 sent;	/* end of the bytes announced */
	uint64_t		 head;	/* the analyzer's head last taken */
	uint64_t		 bogus;	/* times the head read was refused */
	/* the analyzer's */
	uint64_t		 done;	/* end of the bytes read */
};

void	 shring_init(struct shring *, size_t);
void	 shring_free(struct shring *);
void	 shring_writer(struct shring *);
void	 shring_reader(struct shring *);

/* capture process */
size_t	 shring_room(struct shring *);
u_char	*shring_reserve(struct shring *, size_t);
void	 shring_commit(struct shring *, size_t);
size_t	 shring_open(const struct shring *);
int	 shring_span(struct shring *, struct ipc_span *);

/* analyzer */
const u_char *shring_take(const struct shring *, const struct ipc_span *,
	    size_t *);
void	 shring_release(struct shring *, const struct ipc_span *);

#endif
