/*
 * log.c: logging to stderr or syslog, tagged with the process name.
 * Runs in every process; needs no privilege. Messages that quote bytes
 * from the wire must pass them through esc_*() first (common/esc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_name = "htracr";
static int		 log_debugging;
static int		 log_stderr = 1;
static int		 log_verbose;

void
log_init(const char *procname, int debug, int to_stderr)
{
	log_name = procname;
	log_debugging = debug;
	log_verbose = debug;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* Renames the tag after fork, so each process can be told apart. */
void
log_procname(const char *procname)
{
	log_name = procname;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/*
 * The last guard for whatever a message quotes: control bytes, DEL and
 * bytes above ASCII become \xNN, so no string can end a log line early,
 * forge another or drive a terminal. Backslashes pass: text escaped
 * before it got here (esc_buf) reads the same.
 */
static void
log_clean(char *dst, size_t size, const char *src)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 n = 0;

	for (; *p != '\0' && n + 5 < size; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			dst[n++] = (char)*p;
			continue;
		}
		dst[n++] = '\\';
		dst[n++] = 'x';
		dst[n++] = hex[*p >> 4];
		dst[n++] = hex[*p & 0xf];
	}
	dst[n] = '\0';
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char	 raw[1024], msg[1024];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_clean(msg, sizeof(msg), raw);
	if (log_stderr) {
		if (suffix != NULL)
			fprintf(stderr, "%s: %s: %s\n", log_name, msg, suffix);
		else
			fprintf(stderr, "%s: %s\n", log_name, msg);
		fflush(stderr);
	} else if (suffix != NULL)
		syslog(pri, "%s: %s: %s", log_name, msg, suffix);
	else
		syslog(pri, "%s: %s", log_name, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
