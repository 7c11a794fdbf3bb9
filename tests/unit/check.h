/*
 * check.h: PASS/FAIL reporting shared by the unit tests. check() keeps
 * the first failed condition of a case, report() prints the case's one
 * line and counts it. Included once by each test program.
 */
#ifndef HTRACR_CHECK_H
#define HTRACR_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int	 failed;
static char	 why[512];
static int	 npass, nfail;

static void
check(int ok, const char *fmt, ...)
{
	va_list	 ap;

	if (ok || failed)
		return;
	failed = 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static void
report(const char *name)
{
	if (failed) {
		printf("FAIL: %s: %s\n", name, why);
		nfail++;
	} else {
		printf("PASS: %s\n", name);
		npass++;
	}
	failed = 0;
}

#endif
