/*
 * notify.h: the service manager's side channels: sd_notify readiness and
 * status, and the listening socket systemd may pass (socket activation).
 * Called from the capture process before the split and from the
 * analyzer; harmless when not started by systemd.
 */
#ifndef HTRACR_NOTIFY_H
#define HTRACR_NOTIFY_H

/*
 * Returns the one AF_UNIX stream listening socket passed in LISTEN_FDS
 * for this process, or -1 if none was passed. Fatal if something else
 * was passed. Clears the LISTEN_* variables.
 */
int	notify_listen_fd(void);
void	notify_ready(void);
void	notify_stopping(void);
void	notify_status(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
