/*
 * analyzer.h: state shared by the analyzer's parts: analyzer.c (event
 * loop, clients, sessions, streams, the link to capture), control.c
 * (the request table and its handlers) and limit.c (who may connect,
 * and for how long). Runs in the analyzer: unprivileged, chrooted,
 * seccomp.
 */
#ifndef HTRACR_ANALYZER_H
#define HTRACR_ANALYZER_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <msgpack.h>

#include "htracrd.h"
#include "ipc.h"
#include "proto.h"
#include "session.h"
#include "shring.h"

/* A kept session and who is using it. */
struct ksession {
	TAILQ_ENTRY(ksession)	 entry;
	struct session		*s;
	int			 refs;		/* streams and loads on it */
};
TAILQ_HEAD(ksessions, ksession);

enum stream_kind {
	STREAM_NONE,
	STREAM_DETAIL,
	STREAM_FRAMES,
};

struct stream {
	enum stream_kind	 kind;
	uint64_t		 id;		/* request id echoed */
	struct ksession		*ks;
	struct session_cursor	 cursor;	/* detail */
	uint64_t		 pos;		/* frames */
	uint64_t		 last;		/* frames: the newest when asked */
	int			 header_sent;	/* frames: pcap item */
	uint64_t		 count;
};

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct bufferevent	*bev;
	uid_t			 uid;
	pid_t			 pid;
	uint64_t		 since_us;
	int			 hello;
	int			 closing;	/* flushing a last reply */
	int			 heard;		/* read from since limit_sweep */
	size_t			 out_seen;	/* queued bytes at limit_sweep */
	uint64_t		 quiet_since;	/* when last heard from, seconds */
	struct stream		 stream;
	int			 watching;
	uint64_t		 watch_id;
	uint64_t		 watch_count;
	uint64_t		 watch_dropped;
	struct ksession		*load;
	int			 load_format;	/* enum proto_format */
	uint64_t		 load_nframes;	/* taken so far */
	const char		*load_cut;	/* why nothing more is taken */
	u_char			*load_carry;	/* split blobs: a record begun */
	size_t			 load_carrylen;
	int			 file_fd;	/* handed over, not taken; -1 */
	int			 load_fd;	/* the load's file, or -1 */
	off_t			 load_off;	/* its next record byte */
	uint64_t		 load_left;	/* bytes of records to read */
	uint64_t		 load_end_id;	/* load_end, answered when read */
	struct event		*load_ev;	/* reads a turn's worth */
	u_char			*load_buf;
};
TAILQ_HEAD(clients, client);

/* The live capture as the analyzer sees it. */
enum capture_state {
	CAPTURE_IDLE,
	CAPTURE_STARTING,	/* start sent, no answer yet */
	CAPTURE_RUNNING,
	CAPTURE_STOPPING,
};

struct analyzer {
	const struct htracrd_conf *conf;
	struct event_base	*base;
	struct clients		 clients;
	size_t			 nclients;
	struct ksessions	 sessions;
	size_t			 nsessions;
	uint32_t		 next_id;

	int			 linkfd;	/* socketpair to capture */
	enum capture_state	 cstate;
	struct ipc_start	 cstart;	/* what runs (or is asked) */
	struct ipc_ports	 cpending;	/* ports asked, not yet set */
	uid_t			 cuid;		/* who started it */
	struct ksession		*live;
	struct client		*waiting;	/* client awaiting capture */
	uint64_t		 waiting_id;
	int			 waiting_op;
};

extern struct analyzer	 analyzer;

/* analyzer.c */
__attribute__((noreturn))
void		 analyzer_main(struct htracrd_conf *, int, int, struct shring *);
uint64_t	 analyzer_now_us(void);
uint64_t	 analyzer_mono_us(void);
void		 analyzer_send(struct client *, msgpack_sbuffer *);
void		 analyzer_error(struct client *, uint64_t, int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
void		 analyzer_close(struct client *);
void		 analyzer_reap(uid_t, int);
struct ksession	*analyzer_session_find(uint64_t);
struct ksession	*analyzer_session_new(enum session_origin, int,
		    const struct engine_config *, uid_t, const char *);
void		 analyzer_session_unref(struct ksession *);
/* Forgets a kept session nobody is using (refs 0, not running). */
void		 analyzer_session_delete(struct ksession *);
void		 analyzer_stream_start(struct client *);
void		 analyzer_client_hold(struct client *);
void		 analyzer_client_resume(struct client *);
int		 analyzer_client_turn(struct client *);
int		 analyzer_capture_cmd(uint32_t, const void *, size_t);
void		 analyzer_engine_config(struct engine_config *);
void		 analyzer_test_syscall(const char *);

/* limit.c */
int		 limit_admit(int, uid_t, pid_t);
void		 limit_release(uid_t);
void		 limit_sweep(void);

/* control_load.c */
void		 control_load_begin(struct client *, uint64_t,
		    const msgpack_object *);
void		 control_load_frames(struct client *, uint64_t,
		    const msgpack_object *);
void		 control_load_end(struct client *, uint64_t,
		    const msgpack_object *);
void		 control_load_gone(struct client *);

/* control_keys.c */
void		 control_keys(struct client *, uint64_t, const msgpack_object *);
void		 control_keylog(struct client *, uint64_t,
		    const msgpack_object *);

/* control.c */
void		 control_dispatch(struct client *, const msgpack_object *);
void		 control_ok(msgpack_sbuffer *, msgpack_packer *, uint64_t,
		    size_t);
int		 control_parse_ports(struct client *, uint64_t,
		    const msgpack_object *, struct ipc_ports *);
void		 control_pack_ports(msgpack_packer *, const struct ipc_ports *);
void		 control_client_gone(struct client *);

#endif
