/*
 * sandbox.h: the one-way privilege drop of each htracrd process, done
 * once, right after the split (sandbox.c).
 */
#ifndef HTRACR_SANDBOX_H
#define HTRACR_SANDBOX_H

#include <sys/types.h>

#include "htracrd.h"

/* Analyzer: chroot (when root), no uid 0, no capabilities, seccomp. */
void	sandbox_analyzer(struct htracrd_conf *, size_t nofile);

/* Capture: htracr user, CAP_NET_RAW kept in the permitted set only. */
void	sandbox_capture(const struct htracrd_conf *, int keep_net_raw,
	    pid_t child);

/* Raises or lowers CAP_NET_RAW in the effective set (capture only). */
void	sandbox_net_raw(int on);

/* Test hooks, run after the drop when HTRACR_TEST_* is set. */
void	sandbox_test_hooks(void);

#endif
