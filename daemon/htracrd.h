/*
 * htracrd.h: the daemon's settings, decided by htracrd.c from the
 * command line while still root, before the split, and handed to
 * both processes (capture: capture.c, analyzer: analyzer.c).
 */
#ifndef HTRACR_HTRACRD_H
#define HTRACR_HTRACRD_H

#include <sys/types.h>

#include <stddef.h>

#define HTRACRD_VERSION		"htracrd 0.1"
#define HTRACRD_SOCKET		"/run/htracr/htracr.sock"
#define HTRACRD_USER		"htracr"
#define HTRACRD_GROUP		"htracr"
#define HTRACRD_RING_MIB	128	/* default kernel ring */
#define HTRACRD_RING_MIB_MIN	32
#define HTRACRD_MAX_SESSIONS	16
/* The analyzer's descriptors besides its clients: stdio, link, epoll... */
#define HTRACRD_SPARE_FDS	32
/* All of them: a socket per client, with --take-files a file each too. */
#define HTRACRD_NOFILE(conf)	((conf)->max_clients * \
	    ((conf)->take_files ? 2 : 1) + HTRACRD_SPARE_FDS)

struct htracrd_conf {
	const char	*socket_path;
	char		*chroot_dir;	/* empty directory for the analyzer */
	int		 no_capture;
	int		 take_files;	/* clients may hand over a file */
	int		 foreground;
	int		 verbose;
	int		 as_root;	/* started with uid 0: drop and chroot */
	int		 chroot_done;	/* the analyzer is chrooted */
	uid_t		 uid;		/* user both processes run as */
	gid_t		 gid;
	size_t		 budget;	/* bytes per session */
	size_t		 body_keep;	/* bytes kept per body */
	size_t		 max_sessions;
	size_t		 ring_mib;	/* kernel capture ring */
	size_t		 max_clients;	/* connections in all */
	size_t		 max_per_uid;	/* connections of one uid */
	unsigned int	 idle_secs;	/* 0: never closed for silence */
	int		 nice;		/* both processes' priority */
};

#endif
