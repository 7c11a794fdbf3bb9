/*
 * outfile.h: output files of htracrctl (dumps, reports), opened with
 * the invoking user's own privileges and never through a symbolic
 * link; an existing file is only replaced when the user said --force.
 */
#ifndef HTRACR_OUTFILE_H
#define HTRACR_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE		*fp;
	const char	*name;		/* for messages; "standard output" */
	int		 created;	/* we made it: remove it on failure */
};

/*
 * path NULL or "-" means standard output; binary output is refused on
 * a terminal. Reports what went wrong and returns -1.
 */
int	 outfile_open(struct outfile *, const char *, int, int);
/* Flushes and closes; when ok is 0 removes a file outfile_open made. */
int	 outfile_close(struct outfile *, int);

#endif
