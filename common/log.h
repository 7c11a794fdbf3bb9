/*
 * log.h: OpenBSD-style logging shared by htracrd (both processes) and
 * htracrctl. Every line carries the process name set by log_init().
 */
#ifndef HTRACR_LOG_H
#define HTRACR_LOG_H

#include <stdarg.h>

void	log_init(const char *procname, int debug, int to_stderr);
void	log_procname(const char *procname);
void	log_setverbose(int verbose);
int	log_getverbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));

#endif
