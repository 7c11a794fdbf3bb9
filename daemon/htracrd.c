/*
 * htracrd.c: htracrd's entry point. Runs as root (or as a service user
 * holding CAP_NET_RAW and CAP_SYS_CHROOT, or as a plain user for
 * offline analysis): reads the options, creates the client socket (or
 * takes systemd's), splits into the capture process (this one, which
 * then drops to CAP_NET_RAW only) and the analyzer (the child, which
 * drops everything). Nothing here handles data from the network.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "analyzer.h"
#include "capture.h"
#include "htracrd.h"
#include "log.h"
#include "notify.h"
#include "shring.h"
#include "xmalloc.h"

static void __attribute__((noreturn))
htracrd_usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: htracrd [--foreground] [--socket PATH] [--no-capture] "
	    "[--user USER]\n"
	    "               [--group GROUP] [--ring-mib N] [--budget MIB] "
	    "[--body-kib N]\n"
	    "               [--max-sessions N] [--max-clients N] "
	    "[--max-per-uid N]\n"
	    "               [--idle-timeout SECS] [--nice N] [--take-files] "
	    "[-v]\n");
	exit(status);
}

static size_t
htracrd_number(const char *opt, const char *arg, long long min,
    long long max)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || n < min ||
	    n > max) {
		fprintf(stderr, "htracrd: %s %s: not a number from %lld to "
		    "%lld\n", opt, arg, min, max);
		exit(2);
	}
	return ((size_t)n);
}

/* A nice value for --nice: -20 to 19, as setpriority(2) takes it. */
static int
htracrd_nice(const char *arg)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || n < -20 ||
	    n > 19) {
		fprintf(stderr, "htracrd: --nice %s: not a number from -20 "
		    "to 19\n", arg);
		exit(2);
	}
	return ((int)n);
}

/*
 * Both processes get the --nice priority, set once here, before the
 * split and before either drops its privileges: a negative value
 * needs root (or CAP_SYS_NICE), and setpriority is in neither seccomp
 * list. On a machine busy with other work, a capture at the same
 * priority waits its turn behind every runnable process while frames
 * fill the kernel's ring.
 */
static void
htracrd_priority(const struct htracrd_conf *conf)
{
	if (conf->nice == 0)
		return;
	if (setpriority(PRIO_PROCESS, 0, conf->nice) == -1)
		fatal("--nice %d: setpriority (a negative value needs root "
		    "or CAP_SYS_NICE)", conf->nice);
	log_info("running at nice %d", conf->nice);
}

/*
 * As root: who the processes become. Without --user and without an
 * htracr user (a build machine, say), nobody will do, with a warning.
 */
static void
htracrd_ids(struct htracrd_conf *conf, const char *user, const char *group)
{
	struct passwd	*pw;
	struct group	*gr;

	if (user == NULL) {
		user = HTRACRD_USER;
		if (getpwnam(user) == NULL) {
			log_warnx("no user %s (create it: useradd --system "
			    "%s); running as nobody", user, user);
			user = "nobody";
		}
	}
	if ((pw = getpwnam(user)) == NULL)
		fatalx("no user %s: create it (useradd --system --no-create-"
		    "home %s) or pass --user", user, user);
	if (pw->pw_uid == 0)
		fatalx("user %s is root; pick an unprivileged user", user);
	conf->uid = pw->pw_uid;
	conf->gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			fatalx("no group %s", group);
		if (gr->gr_gid == 0)
			fatalx("group %s is gid 0; pick another", group);
		conf->gid = gr->gr_gid;
	}
}

/*
 * One directory above the socket's: owned by root or by us, and either
 * writable by nobody else or sticky (there others cannot move what is
 * ours). A symbolic link on the way is judged by its owner; where it
 * leads is checked as part of the real path.
 */
static void
htracrd_check_parent(const char *path, const char *dir)
{
	struct stat	 sb;

	if (lstat(path, &sb) == -1)
		fatal("%s, above socket directory %s", path, dir);
	if (sb.st_uid != 0 && sb.st_uid != geteuid())
		fatalx("%s, above socket directory %s, is owned by uid %lu, not "
		    "by root or uid %lu; refusing to start", path, dir,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	if (!S_ISLNK(sb.st_mode) && (sb.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(sb.st_mode & S_ISVTX))
		fatalx("%s, above socket directory %s, is writable by group or "
		    "others (mode %04o); refusing to start", path, dir,
		    (unsigned)(sb.st_mode & 07777));
}

/* Every directory above dir, as written (when absolute) and as it is. */
static void
htracrd_check_parents(const char *dir)
{
	char	 path[PATH_MAX], *p;
	int	 pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0 && dir[0] != '/')
			continue;
		if (pass == 0 && (size_t)snprintf(path, sizeof(path), "%s",
		    dir) >= sizeof(path))
			fatalx("socket directory %s: path too long", dir);
		if (pass == 1 && realpath(dir, path) == NULL)
			fatal("socket directory %s", dir);
		while ((p = strrchr(path, '/')) != NULL) {
			p[p == path ? 1 : 0] = '\0';
			htracrd_check_parent(path, dir);
			if (p == path)
				break;
		}
	}
}

/*
 * The directory holding the socket must be a real directory owned by
 * root or by us and writable by nobody else: otherwise someone could
 * put their own socket where clients connect.
 */
static void
htracrd_check_dir(const char *dir, const struct htracrd_conf *conf)
{
	struct stat	 sb;

	if (lstat(dir, &sb) == -1) {
		if (errno != ENOENT || strcmp(dir, "/run/htracr") != 0 ||
		    !conf->as_root)
			fatal("socket directory %s", dir);
		if (mkdir(dir, 0750) == -1 || chown(dir, 0, conf->gid) == -1)
			fatal("creating %s", dir);
		if (lstat(dir, &sb) == -1)
			fatal("%s", dir);
	}
	if (S_ISLNK(sb.st_mode))
		fatalx("socket directory %s is a symbolic link; refusing to "
		    "start", dir);
	if (!S_ISDIR(sb.st_mode))
		fatalx("socket directory %s is not a directory", dir);
	if (sb.st_uid != 0 && sb.st_uid != geteuid())
		fatalx("socket directory %s is owned by uid %lu, not by root "
		    "or uid %lu; refusing to start", dir,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		fatalx("socket directory %s is writable by group or others "
		    "(mode %04o); refusing to start", dir,
		    (unsigned)(sb.st_mode & 07777));
	htracrd_check_parents(dir);
}

/* A socket left by a daemon that died is replaced; a live one is not. */
static void
htracrd_check_path(const char *path, struct sockaddr_un *sun)
{
	struct stat	 sb;
	int		 fd;

	if (lstat(path, &sb) == -1) {
		if (errno != ENOENT)
			fatal("%s", path);
		return;
	}
	if (S_ISLNK(sb.st_mode))
		fatalx("socket path %s is a symbolic link; refusing to start",
		    path);
	if (!S_ISSOCK(sb.st_mode))
		fatalx("%s exists and is not a socket; refusing to start",
		    path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)sun, sizeof(*sun)) == 0)
		fatalx("another htracrd is listening on %s", path);
	close(fd);
	if (unlink(path) == -1)
		fatal("removing stale socket %s", path);
}

/*
 * The socket is bound and listening under a temporary name and renamed
 * into place, so a client that sees the path never finds it refusing
 * connections.
 */
static int
htracrd_listen(const struct htracrd_conf *conf)
{
	struct sockaddr_un	 sun;
	char			*copy, *dir, *tmp;
	mode_t			 old;
	int			 fd;

	xasprintf(&tmp, "%s.new", conf->socket_path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(tmp) >= sizeof(sun.sun_path))
		fatalx("socket path %s is too long", conf->socket_path);
	memcpy(sun.sun_path, conf->socket_path, strlen(conf->socket_path));
	copy = xstrdup(conf->socket_path);
	dir = dirname(copy);
	htracrd_check_dir(dir, conf);
	free(copy);
	htracrd_check_path(conf->socket_path, &sun);

	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path, tmp, strlen(tmp));
	if (unlink(tmp) == -1 && errno != ENOENT)
		fatal("removing %s", tmp);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", tmp);
	umask(old);
	if (conf->as_root && chown(tmp, 0, conf->gid) == -1)
		fatal("chown %s", tmp);
	if (chmod(tmp, 0660) == -1)
		fatal("chmod %s", tmp);
	if (listen(fd, 64) == -1)
		fatal("listen");
	if (rename(tmp, conf->socket_path) == -1)
		fatal("rename %s to %s", tmp, conf->socket_path);
	free(tmp);
	return (fd);
}

/*
 * The analyzer's root: "empty" beside the socket, made when root. An
 * absolute path, as the daemon may chdir("/") before using it.
 */
static void
htracrd_chroot_dir(struct htracrd_conf *conf)
{
	struct stat	 sb;
	char		*copy, dir[PATH_MAX];

	copy = xstrdup(conf->socket_path);
	if (realpath(dirname(copy), dir) == NULL)
		fatal("socket directory of %s", conf->socket_path);
	free(copy);
	xasprintf(&conf->chroot_dir, "%s/empty", dir);
	if (!conf->as_root || lstat(conf->chroot_dir, &sb) == 0)
		return;
	if (mkdir(conf->chroot_dir, 0555) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->chroot_dir);
}

/* In the background the analyzer logs through a pipe to its parent. */
static void
htracrd_child_log(const struct htracrd_conf *conf, int logpipe[2])
{
	if (logpipe[1] == -1)
		return;
	close(logpipe[0]);
	if (dup2(logpipe[1], STDERR_FILENO) == -1)
		fatal("dup2");
	close(logpipe[1]);
	closelog();
	log_init("analyzer", conf->verbose, 1);
}

/*
 * Descriptors 0-2 must be taken before any socket is made: the listening
 * socket would otherwise become stdin and daemon(3) would put /dev/null
 * over it, or the analyzer's link would become stderr and its log lines
 * would reach the capture process as commands.
 */
static void
htracrd_stdio(void)
{
	int	 fd;

	do {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			exit(1);
	} while (fd <= STDERR_FILENO);
	close(fd);
}

static void
htracrd_options(int argc, char **argv, struct htracrd_conf *conf,
    const char **user, const char **group)
{
	static const struct option	 opts[] = {
		{ "foreground", no_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-capture", no_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "ring-mib", required_argument, NULL, 'r' },
		{ "budget", required_argument, NULL, 'b' },
		{ "body-kib", required_argument, NULL, 'k' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "max-clients", required_argument, NULL, 'c' },
		{ "max-per-uid", required_argument, NULL, 'p' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "nice", required_argument, NULL, 'N' },
		{ "take-files", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				 ch, per_uid = 0;

	while ((ch = getopt_long(argc, argv, "ds:nu:g:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			conf->foreground = 1;
			break;
		case 's':
			conf->socket_path = optarg;
			break;
		case 'n':
			conf->no_capture = 1;
			break;
		case 'u':
			*user = optarg;
			break;
		case 'g':
			*group = optarg;
			break;
		case 'r':
			conf->ring_mib = htracrd_number("--ring-mib", optarg,
			    HTRACRD_RING_MIB_MIN, 2048);
			break;
		case 'b':
			conf->budget = htracrd_number("--budget", optarg, 1,
			    65536) << 20;
			break;
		case 'k':
			conf->body_keep = htracrd_number("--body-kib", optarg,
			    0, 65536) << 10;
			break;
		case 'm':
			conf->max_sessions = htracrd_number("--max-sessions",
			    optarg, 1, 4096);
			break;
		case 'c':
			conf->max_clients = htracrd_number("--max-clients",
			    optarg, 1, 65536);
			break;
		case 'p':
			conf->max_per_uid = htracrd_number("--max-per-uid",
			    optarg, 1, 65536);
			per_uid = 1;
			break;
		case 'i':
			conf->idle_secs = htracrd_number("--idle-timeout",
			    optarg, 0, 86400);
			break;
		case 'N':
			conf->nice = htracrd_nice(optarg);
			break;
		case 'T':
			conf->take_files = 1;
			break;
		case 'v':
			conf->verbose = 1;
			break;
		case 'h':
			htracrd_usage(0);
		default:
			htracrd_usage(2);
		}
	}
	if (optind != argc)
		htracrd_usage(2);
	/* A lower --max-clients alone lowers the default per uid too. */
	if (!per_uid && conf->max_per_uid > conf->max_clients)
		conf->max_per_uid = conf->max_clients;
	if (conf->max_per_uid > conf->max_clients) {
		fprintf(stderr, "htracrd: --max-per-uid %zu is above "
		    "--max-clients %zu\n", conf->max_per_uid,
		    conf->max_clients);
		exit(2);
	}
}

/*
 * The analyzer holds a descriptor per client (two with --take-files)
 * besides its own few, and
 * needs one more to accept a client it refuses: with fewer, accept(2)
 * would fail with EMFILE and the listening socket would stay readable
 * forever. It sets its limit to exactly that after dropping privilege,
 * when it can no longer raise the hard limit: raise it here while we
 * may, or say what to change.
 */
static void
htracrd_nofile(const struct htracrd_conf *conf)
{
	struct rlimit	 rl;
	rlim_t		 need = HTRACRD_NOFILE(conf), hard;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit RLIMIT_NOFILE");
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need)
		return;
	hard = rl.rlim_max;
	rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatalx("--max-clients %zu needs %llu open files, above the "
		    "hard limit of %llu: raise it (LimitNOFILE= of the "
		    "service, ulimit -Hn) or lower --max-clients",
		    conf->max_clients, (unsigned long long)need,
		    (unsigned long long)hard);
}

int
main(int argc, char **argv)
{
	static struct htracrd_conf	 conf;
	const char			*user = NULL, *group = NULL;
	int				 listen_fd, sp[2];
	struct shring			 ring;
	int				 logpipe[2] = { -1, -1 };
	pid_t				 pid;

	conf.socket_path = getenv("HTRACR_SOCKET");
	if (conf.socket_path == NULL || *conf.socket_path == '\0')
		conf.socket_path = HTRACRD_SOCKET;
	conf.budget = SESSION_DEFAULT_BUDGET;
	conf.body_keep = SESSION_DEFAULT_BODY_KEEP;
	conf.max_sessions = HTRACRD_MAX_SESSIONS;
	conf.ring_mib = HTRACRD_RING_MIB;
	conf.max_clients = PROTO_MAX_CLIENTS;
	conf.max_per_uid = PROTO_MAX_CLIENTS_UID;
	conf.idle_secs = PROTO_IDLE_SECS;
	htracrd_options(argc, argv, &conf, &user, &group);
	/* Only systemd's socket may be inherited; the rest is not ours. */
	listen_fd = notify_listen_fd();
	closefrom(listen_fd == -1 ? STDERR_FILENO + 1 : listen_fd + 1);
	htracrd_stdio();
	log_init("htracrd", conf.verbose, conf.foreground);

	/* Nothing may inherit capabilities from us across an exec. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	htracrd_nofile(&conf);
	conf.as_root = geteuid() == 0;
	if (conf.as_root) {
		if (group == NULL && getgrnam(HTRACRD_GROUP) != NULL)
			group = HTRACRD_GROUP;
		htracrd_ids(&conf, user, group);
	} else {
		conf.uid = geteuid();
		conf.gid = getegid();
	}
	if (listen_fd == -1)
		listen_fd = htracrd_listen(&conf);
	htracrd_chroot_dir(&conf);
	if (!conf.foreground && daemon(0, 0) == -1)
		fatal("daemon");

	htracrd_priority(&conf);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	shring_init(&ring, SHRING_SIZE);
	if (!conf.foreground && pipe2(logpipe, O_CLOEXEC) == -1)
		fatal("pipe2");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(sp[0]);
		htracrd_child_log(&conf, logpipe);
		analyzer_main(&conf, listen_fd, sp[1], &ring);
	}
	close(sp[1]);
	close(listen_fd);
	if (logpipe[1] != -1)
		close(logpipe[1]);
	log_procname("capture");
	log_info("%s started: socket %s, analyzer pid %ld%s", HTRACRD_VERSION,
	    conf.socket_path, (long)pid,
	    conf.no_capture ? ", without capture" : "");
	notify_ready();
	capture_main(&conf, sp[0], &ring, pid, logpipe[0]);
}
