/*
 * notify.c: sd_notify readiness/status and socket activation.
 * notify_listen_fd runs in the capture process before the split. The
 * others open a datagram socket per call (libsystemd does), so they are
 * called only from the capture process, never from the analyzer, whose
 * seccomp allow-list has no socket().
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

int
notify_listen_fd(void)
{
	int	 n;

	n = sd_listen_fds(1);
	if (n < 0) {
		errno = -n;
		fatal("socket activation");
	}
	if (n == 0)
		return (-1);
	if (n > 1)
		fatalx("socket activation: %d sockets passed, expected one", n);
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL,
	    0) <= 0)
		fatalx("socket activation: the passed fd is not a listening "
		    "unix stream socket");
	return (SD_LISTEN_FDS_START);
}

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
}
