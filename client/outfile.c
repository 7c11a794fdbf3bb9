/*
 * outfile.c: opening output files safely. Runs in htracrctl with the
 * invoking user's privileges, which is the point: the daemon never
 * writes a user's file, so a user can only write where they may.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "outfile.h"

#define OUTFILE_BUFSIZE	(1024 * 1024)

/*
 * An existing file taken over with --force: opened without blocking (a
 * FIFO with no reader fails instead of hanging), and a regular file gets
 * the mode a new one would have, since it will hold captured traffic.
 */
static int
outfile_forced(const char *path, int fd)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1 ||
	    (S_ISREG(st.st_mode) && (st.st_mode & 07777) != 0600 &&
	    fchmod(fd, 0600) == -1) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		log_warn("%s", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
outfile_fd(const char *path, int force, int *created)
{
	int	 fd, saved;
	struct stat st;

	*created = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd != -1) {
		*created = 1;
		return (fd);
	}
	if (errno == EEXIST && force)
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd != -1)
		return (outfile_forced(path, fd));
	saved = errno;
	if ((saved == EEXIST || saved == ELOOP) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		log_warnx("%s: is a symbolic link; refusing to write through "
		    "it (remove it or choose another name)", path);
	else if (saved == EEXIST)
		log_warnx("%s: already exists; use --force to overwrite it",
		    path);
	else
		log_warnx("cannot create %s: %s", path, strerror(saved));
	return (-1);
}

int
outfile_open(struct outfile *of, const char *path, int force, int binary)
{
	int	 fd;

	memset(of, 0, sizeof(*of));
	if (path == NULL || strcmp(path, "-") == 0) {
		of->name = "standard output";
		if (binary && isatty(STDOUT_FILENO)) {
			log_warnx("refusing to write binary data to a terminal; "
			    "use -o FILE or redirect the output");
			return (-1);
		}
		/* A copy, so closing it leaves stdout to main. */
		fflush(stdout);
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	} else {
		of->name = path;
		fd = outfile_fd(path, force, &of->created);
		if (fd == -1)
			return (-1);
	}
	if (fd == -1 || (of->fp = fdopen(fd, "w")) == NULL) {
		log_warn("%s", of->name);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	setvbuf(of->fp, NULL, _IOFBF, OUTFILE_BUFSIZE);
	/*
	 * htracrctl has one thread: renderers write a session in millions
	 * of short pieces, and stdio need not lock the stream for each.
	 */
	__fsetlocking(of->fp, FSETLOCKING_BYCALLER);
	return (0);
}

int
outfile_close(struct outfile *of, int ok)
{
	int	 rc = 0;

	if (of->fp == NULL)
		return (-1);
	if (fflush(of->fp) == EOF || ferror(of->fp))
		rc = -1;
	if (fclose(of->fp) == EOF)
		rc = -1;
	/* A reader of stdout that went away ("| head") knows why. */
	if (rc == -1 && (errno != EPIPE || of->created))
		log_warn("cannot write %s", of->name);
	of->fp = NULL;
	if ((rc == -1 || !ok) && of->created && unlink(of->name) == -1)
		log_warn("cannot remove the incomplete %s", of->name);
	return (rc);
}
