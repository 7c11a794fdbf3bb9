/*
 * cmd_analyze.c: "htracrctl analyze FILE": offline analysis with no
 * root and no installed daemon. Starts a private htracrd (--foreground
 * --no-capture) on a socket in a fresh temporary directory, loads the
 * file into it, renders the session, and stops it again, whatever went
 * wrong on the way. Runs in htracrctl with the invoking user's
 * privileges; the private daemon sandboxes itself as usual.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "keyfile.h"
#include "log.h"
#include "outfile.h"
#include "pcapfile.h"
#include "proto.h"
#include "xmalloc.h"

#define ANALYZE_WAIT_MS		10000	/* for the daemon's socket */
#define ANALYZE_STOP_MS		5000	/* for it to exit on SIGTERM */

static int	 cmd_analyze_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_analyze_entry = {
	"analyze", "FILE [--ports 80,8080] [--keylog KEYS] [--json] "
	"[--format FORMAT] "
	"[-o FILE] [--force] [--packets] [--budget MIB] [-v]", CMD_JSON,
	cmd_analyze_exec
};

struct analyze {
	const char	*file;
	const char	*output;
	const char	*format;
	const char	*budget;
	const char	*keylog;
	struct keyfile	 kf;
	uint16_t	 ports[PROTO_MAX_PORTS];
	size_t		 nports;
	int		 force;
	int		 packets;
	int		 verbose;

	char		 dir[PATH_MAX];	/* private, removed at the end */
	char		 sock[PATH_MAX + 8];
	pid_t		 pid;		/* the private htracrd */
};

static void
cmd_analyze_sleep(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * HTRACR_DAEMON, else htracrd beside this htracrctl (a build tree or
 * one installation), else whatever PATH finds. Caller frees.
 */
static char *
cmd_analyze_daemon(void)
{
	char		 self[PATH_MAX], *path;
	const char	*env;
	ssize_t		 n;

	if ((env = getenv("HTRACR_DAEMON")) != NULL && *env != '\0')
		return (xstrdup(env));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		xasprintf(&path, "%s/htracrd", dirname(self));
		if (access(path, X_OK) == 0)
			return (path);
		free(path);
	}
	return (xstrdup("htracrd"));
}

/* In the child: quiet unless -v, dies with its parent. */
static void
cmd_analyze_child(struct analyze *a, const char *daemon)
{
	char	*argv[11];
	int	 i = 0, fd, errfd;

	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Ours, not the daemon's: it starts as it would on its own. */
	signal(SIGPIPE, SIG_DFL);
	/* Our stderr, kept (closed by a successful exec) to say why not. */
	errfd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (!a->verbose)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	argv[i++] = xstrdup("htracrd");
	argv[i++] = xstrdup("--foreground");
	argv[i++] = xstrdup("--no-capture");
	argv[i++] = xstrdup("--take-files");
	argv[i++] = xstrdup("--socket");
	argv[i++] = a->sock;
	if (a->budget != NULL) {
		argv[i++] = xstrdup("--budget");
		argv[i++] = xstrdup(a->budget);
	}
	if (a->verbose)
		argv[i++] = xstrdup("-v");
	argv[i] = NULL;
	if (strchr(daemon, '/') != NULL)
		execv(daemon, argv);
	else
		execvp(daemon, argv);
	dprintf(errfd, "htracrctl: cannot run %s: %s; set HTRACR_DAEMON to "
	    "its path\n", daemon, strerror(errno));
	_exit(127);
}

static void
cmd_analyze_exited(int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return;		/* the child said why */
	if (WIFEXITED(status))
		log_warnx("the private htracrd exited with status %d; "
		    "'htracrctl analyze -v FILE' shows its log",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("the private htracrd was killed by signal %d (%s); "
		    "'htracrctl analyze -v FILE' shows its log",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Starts the daemon and waits until its socket accepts. */
static int
cmd_analyze_spawn(struct analyze *a)
{
	char	*daemon;
	int	 status, waited;

	if (mkdtemp(a->dir) == NULL) {
		log_warn("cannot make a temporary directory %s", a->dir);
		a->dir[0] = '\0';
		return (-1);
	}
	snprintf(a->sock, sizeof(a->sock), "%s/s", a->dir);
	daemon = cmd_analyze_daemon();
	fflush(NULL);
	if ((a->pid = fork()) == -1) {
		log_warn("fork");
		free(daemon);
		return (-1);
	}
	if (a->pid == 0)
		cmd_analyze_child(a, daemon);
	free(daemon);
	/* It is up within milliseconds: look often, it costs a syscall. */
	for (waited = 0; waited < ANALYZE_WAIT_MS && !client_interrupted;
	    waited++) {
		if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
			a->pid = -1;
			cmd_analyze_exited(status);
			return (-1);
		}
		if (client_probe(a->sock) == 0)
			return (0);
		cmd_analyze_sleep(1);
	}
	log_warnx("the private htracrd did not open %s within %d s",
	    a->sock, ANALYZE_WAIT_MS / 1000);
	return (-1);
}

/*
 * The private directory holds what the daemon made there (its socket,
 * an empty directory to chroot to): one level, never following links.
 */
static void
cmd_analyze_rmdir(const char *path)
{
	DIR		*d;
	struct dirent	*e;

	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) == -1 &&
			    (errno != EISDIR || unlinkat(dirfd(d), e->d_name,
			    AT_REMOVEDIR) == -1))
				log_warn("cannot remove %s/%s", path,
				    e->d_name);
		}
		closedir(d);
	}
	if (rmdir(path) == -1)
		log_warn("cannot remove %s", path);
}

/* SIGTERM, wait, and only if it will not go, SIGKILL. */
static void
cmd_analyze_stop(struct analyze *a)
{
	int	 status, waited;

	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		for (waited = 0; waited < ANALYZE_STOP_MS; waited++) {
			if (waitpid(a->pid, &status, WNOHANG) == a->pid)
				break;
			cmd_analyze_sleep(1);
		}
		if (waited >= ANALYZE_STOP_MS) {
			log_warnx("the private htracrd ignored SIGTERM; "
			    "killing it");
			kill(a->pid, SIGKILL);
			waitpid(a->pid, &status, 0);
		}
		a->pid = -1;
	}
	if (a->dir[0] != '\0')
		cmd_analyze_rmdir(a->dir);
}

static int
cmd_analyze_options(struct cmd_ctx *ctx, struct analyze *a, int argc,
    char **argv)
{
	static const struct option	 opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "packets", no_argument, NULL, 'P' },
		{ "budget", required_argument, NULL, 'b' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:o:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (cmd_parse_ports(optarg, a->ports, &a->nports) == -1)
				return (-1);
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'F':
			a->force = 1;
			break;
		case 'P':
			a->packets = 1;
			break;
		case 'b':
			if (strtoul(optarg, &end, 10) == 0 || *end != '\0' ||
			    strlen(optarg) > 7) {
				log_warnx("bad budget '%s': a number of MiB",
				    optarg);
				return (-1);
			}
			a->budget = optarg;
			break;
		case 'k':
			a->keylog = optarg;
			break;
		case 'v':
			a->verbose = 1;
			break;
		default:
			return (-1);
		}
	}
	if (argc - optind != 1)
		return (-1);
	a->file = argv[optind];
	return (0);
}

/* Loads the file into the private daemon and writes the result. */
static int
cmd_analyze_run(struct cmd_ctx *ctx, struct analyze *a,
    const struct cmd_format *fmt, struct pcapfile *pf, FILE *out, int color)
{
	struct client	 c;
	struct render_opts ro;
	msgpack_object	 summary;
	uint64_t	 session = 0;
	char		*copy;
	int		 rc;

	if (cmd_analyze_spawn(a) == -1 || client_open(&c, a->sock) == -1)
		return (-1);
	copy = xstrdup(a->file);
	/*
	 * Only a pcap dump reads the raw frames back, only --packets the
	 * packet records, and only some formats show header lists: the
	 * daemon keeps nothing else.
	 */
	rc = cmd_load_stream(&c, pf, basename(copy), a->ports, a->nports,
	    (fmt->doc == NULL && fmt->doc_opts == NULL ? CMD_KEEP_FRAMES : 0) |
	    (a->packets ? CMD_KEEP_PACKETS : 0) |
	    (fmt->headers ? CMD_KEEP_HEADERS : 0) | CMD_LOAD_HANDED,
	    a->keylog != NULL ? &a->kf : NULL, &summary);
	free(copy);
	if (rc == 0 && proto_get_u64(&summary, "id", &session) == -1) {
		log_warnx("the private htracrd sent a summary without an id");
		rc = -1;
	}
	if (rc == 0) {
		memset(&ro, 0, sizeof(ro));
		ro.packets = a->packets;
		ro.color = color;
		rc = cmd_dump_write(&c, fmt, session, out, &ro);
	}
	client_close(&c);
	return (rc);
}

static int
cmd_analyze_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_format	*fmt;
	struct analyze		 a;
	struct pcapfile		 pf;
	struct outfile		 of;
	const char		*tmp;
	int			 ok;

	memset(&a, 0, sizeof(a));
	a.pid = -1;
	if (cmd_analyze_options(ctx, &a, argc, argv) == -1)
		return (cmd_usage(ctx->entry));
	if (ctx->json && a.format != NULL && strcmp(a.format, "json") != 0) {
		log_warnx("--json and --format %s disagree", a.format);
		return (CMD_USAGE);
	}
	if ((fmt = cmd_dump_find(ctx->json ? "json" : a.format != NULL ?
	    a.format : "text")) == NULL)
		return (CMD_USAGE);
	/* The socket path must fit a sockaddr_un. */
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0' ||
	    strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(a.dir, sizeof(a.dir), "%s/htracrctl.XXXXXX", tmp);

	/* Refuse a bad input or output before starting anything. */
	a.kf.fd = -1;
	if (a.keylog != NULL && keyfile_open(&a.kf, a.keylog) == -1)
		return (CMD_ERROR);
	if (pcapfile_open(&pf, a.file) == -1) {
		keyfile_close(&a.kf);
		return (CMD_ERROR);
	}
	/* Its own daemon reads the records: the file is not read here. */
	(void)pcapfile_split(&pf);
	if (outfile_open(&of, a.output, a.force, fmt->binary) == -1) {
		pcapfile_close(&pf);
		keyfile_close(&a.kf);
		return (CMD_ERROR);
	}
	ok = cmd_analyze_run(ctx, &a, fmt, &pf, of.fp, ctx->color &&
	    (a.output == NULL || strcmp(a.output, "-") == 0)) == 0;
	cmd_analyze_stop(&a);
	pcapfile_close(&pf);
	keyfile_close(&a.kf);
	if (outfile_close(&of, ok) == -1)
		ok = 0;
	return (ok ? CMD_OK : CMD_ERROR);
}
