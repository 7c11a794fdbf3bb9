/*
 * capture.h: the capture process, htracrd's parent after the split
 * (capture.c). Runs as the htracr user with CAP_NET_RAW in its
 * permitted set only, under its own seccomp allow-list.
 */
#ifndef HTRACR_CAPTURE_H
#define HTRACR_CAPTURE_H

#include <sys/types.h>

#include "htracrd.h"
#include "shring.h"

/*
 * Drops privileges, serves the analyzer's commands, writes frames into
 * ring; never returns. log_fd, unless -1, carries the analyzer's log
 * lines to syslog.
 */
__attribute__((noreturn))
void	capture_main(const struct htracrd_conf *, int link_fd,
	    struct shring *ring, pid_t child, int log_fd);

#endif
