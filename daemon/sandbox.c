/*
 * sandbox.c: the privilege drop of both htracrd processes, each one
 * linear sequence run once right after the split, every step fatal on
 * failure and checked afterwards. Called as root (or as the invoking
 * user for offline analysis); leaves the analyzer with nothing and the
 * capture process with CAP_NET_RAW in its permitted set only.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#ifdef HTRACR_SANITIZE
#include <sanitizer/common_interface_defs.h>
#endif
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#define SANDBOX_CAP_NET_RAW	13
#define SANDBOX_CAP_SYS_CHROOT	18

/*
 * The analyzer's allow-list. It only works on descriptors it already
 * holds: the listening socket, clients, the socketpair, libevent's own.
 */
static const int sandbox_analyzer_io[] = {
	/* serving clients and the socketpair (libevent, stdio, syslog) */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(accept4), SCMP_SYS(accept),
	SCMP_SYS(close), SCMP_SYS(shutdown),
	/* the event loop */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	/* libevent's cached time and timers */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
};

static const int sandbox_common[] = {
	/* malloc and msgpack buffers; PROT_EXEC is filtered separately */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* glibc internals: locks, arc4random, stdio on stderr, qsort */
	SCMP_SYS(futex), SCMP_SYS(getrandom), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(newfstatat),
	SCMP_SYS(getuid), SCMP_SYS(getgid), SCMP_SYS(geteuid),
	SCMP_SYS(getegid),
	SCMP_SYS(fstat), SCMP_SYS(lseek), SCMP_SYS(sysinfo),
	/* signals are delivered as libevent events or set flags */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(rt_sigaction),
	/* leaving */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef HTRACR_SANITIZE
/*
 * Only in the sanitizer build (make SANITIZE=1): what the ASan and UBSan
 * runtime calls after the drop, in both processes. It takes down the
 * alternate signal stack of a thread that exits.
 */
static const int sandbox_sanitizer[] = {
	SCMP_SYS(sigaltstack),
};

/*
 * A report looks for the program's path and command line again, by the
 * old open and readlink calls (glibc uses openat), and probes whether
 * memory near a bad pointer is readable through a pipe. chroot has
 * taken /proc away anyway: a plain failure rather than death lets the
 * report go on with what the runtime read before the drop. openat, the
 * call of ordinary code, still kills.
 */
static void
sandbox_sanitizer_refuse(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlink),
	    0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(open),
	    0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(pipe2),
	    0) != 0)
		fatalx("seccomp: cannot add the sanitizer's refusals");
}

/*
 * The runtime's defaults for htracrd; ASAN_OPTIONS and UBSAN_OPTIONS
 * still override them. The leak check at exit stops the process's
 * threads by ptrace from a clone and reads /proc: not in a sandbox
 * (the unit tests and fuzz targets check the engine for leaks). No
 * colour: asking whether stderr is a terminal is an ioctl the analyzer
 * may not make.
 */
const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("detect_leaks=0:color=never:symbolize=0");
}

const char *
__ubsan_default_options(void)
{
	return ("color=never:print_stacktrace=1:symbolize=0");
}
#endif

/*
 * The capture process's allow-list: libpcap opens AF_PACKET sockets,
 * maps the TPACKET_V3 ring and asks about interfaces by ioctl, netlink
 * and a few files under /sys, opened read-only.
 */
static const int sandbox_capture_calls[] = {
	/* the socketpair, the pcap descriptor, syslog */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(readv),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(connect),	/* syslog(3) reconnecting to /dev/log */
	/* pcap_create/activate/setfilter and if_nametoindex */
	SCMP_SYS(bind), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(uname),
	SCMP_SYS(sendmsg),	/* netlink requests, sd_notify */
	/* raising CAP_NET_RAW around pcap_activate */
	SCMP_SYS(capget), SCMP_SYS(capset),
	/* libpcap 1.10 wakes its loop with an eventfd */
	SCMP_SYS(eventfd2),
	/* reaping the analyzer */
	SCMP_SYS(wait4),
};

/* Address families the capture process may open sockets in. */
static const int sandbox_capture_families[] = {
	AF_PACKET, AF_UNIX, AF_NETLINK,
};

static void
sandbox_allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) != 0)
			fatalx("seccomp: cannot allow syscall %d", calls[i]);
}

/* Memory may be mapped or re-protected, but never executable. */
static void
sandbox_no_exec(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		fatalx("seccomp: cannot add the mmap rules");
}

/*
 * abort() in a failed assertion signals its own thread, so it dies with
 * SIGABRT; any other process of the same uid (the invoking user's, when
 * run for offline analysis) is out of reach.
 */
static void
sandbox_abort_only(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) != 0)
		fatalx("seccomp: cannot add the tgkill rule");
}

/*
 * fcntl only reads and sets descriptor and status flags (non-blocking,
 * close-on-exec): F_SETOWN with F_SETSIG would have the kernel deliver
 * any signal to another process of the same uid, which tgkill may not.
 */
static void
sandbox_fcntl(scmp_filter_ctx ctx)
{
	static const int	 cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
	size_t			 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, cmds[i])) != 0)
			fatalx("seccomp: cannot add the fcntl rules");
}

/* Signals only for the analyzer, when it will not go by itself. */
static void
sandbox_kill_child(scmp_filter_ctx ctx, pid_t child)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)child)) != 0)
		fatalx("seccomp: cannot add the kill rule");
}

/*
 * Files only for reading: activating an Ethernet-like device, libpcap
 * reads /sys/class/net/IFACE (DSA tagging, wireless).
 */
static void
sandbox_read_only_open(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
	    O_RDONLY)) != 0)
		fatalx("seccomp: cannot add the openat rule");
}

/*
 * libpcap's interface ioctls differ by kernel and device, so ioctl stays
 * open, but for those that push input into a terminal (the capture
 * process keeps the stderr of whoever started it in the foreground, often
 * root's shell) and those that, like F_SETOWN, name another process for
 * the kernel to signal. The kernel reads the command as 32 bits, so only
 * those are compared; the refusals take precedence over the allow.
 */
static void
sandbox_no_tty_input(scmp_filter_ctx ctx)
{
	static const unsigned long	 deny[] = {
		TIOCSTI, TIOCLINUX, FIOSETOWN, SIOCSPGRP,
	};
	size_t				 i;

	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ,
		    0xffffffffUL, deny[i])) != 0)
			fatalx("seccomp: cannot add the ioctl rules");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A0(SCMP_CMP_GE, 0)) != 0)
		fatalx("seccomp: cannot add the ioctl rules");
}

static void
sandbox_sockets(scmp_filter_ctx ctx)
{
	size_t	 i, n;

	n = sizeof(sandbox_capture_families) /
	    sizeof(sandbox_capture_families[0]);
	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, sandbox_capture_families[i])) != 0)
			fatalx("seccomp: cannot add the socket rules");
}

/*
 * Only SO_PEERCRED: the analyzer asks who each client is; SO_SNDBUF,
 * which it raises on each client socket; and FIONREAD, by which
 * libevent sizes its reads.
 */
static void
sandbox_client_sockets(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD)) != 0)
		fatalx("seccomp: cannot add the ioctl rule");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED)) != 0)
		fatalx("seccomp: cannot add the getsockopt rule");
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF)) != 0)
		fatalx("seccomp: cannot add the setsockopt rule");
}

/*
 * The sanitizer build's runtime reads what a report needs (the program's
 * name and mappings, from /proc) now, before chroot and seccomp take
 * /proc and open away. Nothing in the other build.
 */
static void
sandbox_sanitizer_prepare(void)
{
#ifdef HTRACR_SANITIZE
	__sanitizer_sandbox_on_notify(NULL);
#endif
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Files clients hand over (--take-files) are read where the load stands
 * in them: pread, on descriptors the analyzer was given, never opened.
 */
static void
sandbox_files(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pread64), 0) != 0)
		fatalx("seccomp: cannot allow pread64");
}

/*
 * child: the analyzer's pid for the capture process, else 0; files:
 * the analyzer reads files clients hand over.
 */
static void
sandbox_seccomp(int analyzer, pid_t child, int files)
{
	scmp_filter_ctx	 ctx;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init failed");
	sandbox_allow(ctx, sandbox_common, NELEM(sandbox_common));
	sandbox_no_exec(ctx);
	sandbox_abort_only(ctx);
	sandbox_fcntl(ctx);
#ifdef HTRACR_SANITIZE
	sandbox_allow(ctx, sandbox_sanitizer, NELEM(sandbox_sanitizer));
	sandbox_sanitizer_refuse(ctx);
#endif
	if (analyzer) {
		sandbox_allow(ctx, sandbox_analyzer_io,
		    NELEM(sandbox_analyzer_io));
		sandbox_client_sockets(ctx);
		if (files)
			sandbox_files(ctx);
	} else {
		sandbox_allow(ctx, sandbox_capture_calls,
		    NELEM(sandbox_capture_calls));
		sandbox_read_only_open(ctx);
		sandbox_no_tty_input(ctx);
		sandbox_sockets(ctx);
		sandbox_kill_child(ctx, child);
	}
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp_load failed");
	seccomp_release(ctx);
}

static void
sandbox_rlimit(int resource, rlim_t value, const char *name)
{
	struct rlimit	 rl = { value, value };

	if (setrlimit(resource, &rl) == -1)
		fatal("setrlimit %s", name);
}

static int
sandbox_capget(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct	 h = {
		_LINUX_CAPABILITY_VERSION_3, 0 };

	return ((int)syscall(SYS_capget, &h, d));
}

static int
sandbox_capset(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct	 h = {
		_LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	 d[2];

	memset(d, 0, sizeof(d));
	d[0].permitted = (uint32_t)permitted;
	d[1].permitted = (uint32_t)(permitted >> 32);
	d[0].effective = (uint32_t)effective;
	d[1].effective = (uint32_t)(effective >> 32);
	return ((int)syscall(SYS_capset, &h, d));
}

/* Fatal unless permitted/effective/inheritable are exactly as given. */
static void
sandbox_check_caps(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_data_struct	 d[2];
	uint64_t			 p, e, i;

	if (sandbox_capget(d) == -1)
		fatal("capget");
	p = d[0].permitted | (uint64_t)d[1].permitted << 32;
	e = d[0].effective | (uint64_t)d[1].effective << 32;
	i = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	if (p != permitted || e != effective || i != 0)
		fatalx("capabilities left after the drop: permitted %#llx "
		    "effective %#llx inheritable %#llx",
		    (unsigned long long)p, (unsigned long long)e,
		    (unsigned long long)i);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
	    SANDBOX_CAP_NET_RAW, 0, 0) == 1)
		fatalx("ambient capabilities left after the drop");
}

/* Everything but keep leaves the bounding set; needs CAP_SETPCAP. */
static void
sandbox_bounding(int keep)
{
	int	 cap;

	for (cap = 0; cap <= 63; cap++) {
		if (cap == keep)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL)
				break;		/* past the kernel's last */
			fatal("PR_CAPBSET_DROP %d", cap);
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
}

/* No supplementary groups, then gid, then uid; no way back to root. */
static void
sandbox_setids(const struct htracrd_conf *conf)
{
	if (setgroups(0, NULL) == -1)
		fatal("setgroups");
	if (setresgid(conf->gid, conf->gid, conf->gid) == -1)
		fatal("setresgid %lu", (unsigned long)conf->gid);
	if (setresuid(conf->uid, conf->uid, conf->uid) == -1)
		fatal("setresuid %lu", (unsigned long)conf->uid);
	if (conf->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("could regain uid 0 after the drop");
	if (conf->gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		fatalx("could regain gid 0 after the drop");
}

static void
sandbox_chroot(struct htracrd_conf *conf)
{
	const char	*dir = conf->chroot_dir;
	struct stat	 sb;

	if (lstat(dir, &sb) == -1)
		fatal("chroot directory %s", dir);
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != 0 ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("chroot directory %s must be a directory owned by "
		    "root and writable by nobody else", dir);
	if (chroot(dir) == -1)
		fatal("chroot %s", dir);
	if (chdir("/") == -1)
		fatal("chdir /");
	conf->chroot_done = 1;
}

/*
 * No file may grow, except the log itself when stderr was redirected
 * to a file by whoever started us in the foreground: that descriptor
 * was opened before we started and nothing else can be opened.
 */
static void
sandbox_fsize(void)
{
	struct stat	 sb;

	if (fstat(STDERR_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
		log_debug("stderr is a file: RLIMIT_FSIZE left as it is");
		return;
	}
	sandbox_rlimit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE");
}

static void
sandbox_common_limits(size_t nofile)
{
	sandbox_rlimit(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
	sandbox_fsize();
	sandbox_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	sandbox_rlimit(RLIMIT_NOFILE, (rlim_t)nofile, "RLIMIT_NOFILE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("no_new_privs did not stick");
}

/* Whether cap is in the effective set (root, or a service's ambient). */
static int
sandbox_has_cap(int cap)
{
	struct __user_cap_data_struct	 d[2];

	if (sandbox_capget(d) == -1)
		fatal("capget");
	return ((d[cap / 32].effective & (1U << (cap % 32))) != 0);
}

void
sandbox_analyzer(struct htracrd_conf *conf, size_t nofile)
{
	sandbox_sanitizer_prepare();
	if (conf->as_root || sandbox_has_cap(SANDBOX_CAP_SYS_CHROOT))
		sandbox_chroot(conf);
	if (conf->as_root) {
		sandbox_bounding(-1);
		sandbox_setids(conf);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	if (sandbox_capset(0, 0) == -1)
		fatal("capset");
	sandbox_check_caps(0, 0);
	sandbox_common_limits(nofile);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	sandbox_test_hooks();
	sandbox_seccomp(1, 0, conf->take_files);
	log_debug("sandbox: uid %lu gid %lu, %s, no capabilities, seccomp on",
	    (unsigned long)getuid(), (unsigned long)getgid(),
	    conf->chroot_done ? "chrooted" : "not chrooted");
}

/*
 * Test only (tests/regress): HTRACR_TEST_TIOCSTI makes the sandboxed
 * capture process try to push a space into its terminal on stderr, and
 * to name a process for SIGIO on a socket of its own.
 */
static void
sandbox_test_tty(void)
{
	char	 c = ' ';
	int	 fd, pid = getpid();

	if (getenv("HTRACR_TEST_TIOCSTI") == NULL)
		return;
	if (ioctl(STDERR_FILENO, TIOCSTI, &c) == -1)
		log_info("test: TIOCSTI failed: %s", strerror(errno));
	else
		log_info("test: TIOCSTI succeeded");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return;
	if (ioctl(fd, FIOSETOWN, &pid) == -1)
		log_info("test: FIOSETOWN failed: %s", strerror(errno));
	else
		log_info("test: FIOSETOWN succeeded");
	close(fd);
}

/*
 * KEEPCAPS carries the permitted set across setresuid; then everything
 * but CAP_NET_RAW goes, and even that leaves the effective set until
 * pcap_activate needs it.
 */
void
sandbox_capture(const struct htracrd_conf *conf, int keep_net_raw,
    pid_t child)
{
	uint64_t	 keep;
	int		 deathsig = 0;

	sandbox_sanitizer_prepare();
	/*
	 * A parent-death signal (htracrctl analyze sets one on its private
	 * daemon) is cleared by the change of ids: set it again after.
	 */
	if (prctl(PR_GET_PDEATHSIG, &deathsig, 0, 0, 0) == -1)
		fatal("PR_GET_PDEATHSIG");
	keep = keep_net_raw && sandbox_has_cap(SANDBOX_CAP_NET_RAW) ?
	    (uint64_t)1 << SANDBOX_CAP_NET_RAW : 0;
	if (conf->as_root) {
		sandbox_bounding(keep ? SANDBOX_CAP_NET_RAW : -1);
		if (prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) == -1)
			fatal("PR_SET_KEEPCAPS");
		sandbox_setids(conf);
	}
	if (deathsig != 0) {
		if (prctl(PR_SET_PDEATHSIG, deathsig, 0, 0, 0) == -1)
			fatal("PR_SET_PDEATHSIG");
		if (getppid() == 1)
			fatalx("the process that started htracrd is gone");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("PR_CAP_AMBIENT_CLEAR_ALL");
	if (sandbox_capset(keep, 0) == -1)
		fatal("capset");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("PR_SET_KEEPCAPS");
	sandbox_check_caps(keep, 0);
	sandbox_rlimit(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
	sandbox_fsize();
	sandbox_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	sandbox_test_hooks();
	sandbox_seccomp(0, child, 0);
	sandbox_test_tty();
	log_debug("sandbox: uid %lu gid %lu, permitted capabilities %#llx, "
	    "seccomp on", (unsigned long)getuid(), (unsigned long)getgid(),
	    (unsigned long long)keep);
}

void
sandbox_net_raw(int on)
{
	uint64_t	 raw = (uint64_t)1 << SANDBOX_CAP_NET_RAW;

	if (sandbox_capset(raw, on ? raw : 0) == -1)
		fatal("capset CAP_NET_RAW %s", on ? "on" : "off");
}

/*
 * Test only (tests/regress): HTRACR_TEST_PRIVS makes the process try
 * to get root or a capability back and log what happened. The
 * analyzer's HTRACR_TEST_SYSCALL hook is in analyzer.c.
 */
void
sandbox_test_hooks(void)
{
	int	 u, g, c;

	if (getenv("HTRACR_TEST_PRIVS") == NULL)
		return;
	u = setuid(0);
	g = setgid(0);
	c = sandbox_capset((uint64_t)1 << 21, (uint64_t)1 << 21);
	log_info("test: setuid(0) %s, setgid(0) %s, raising CAP_SYS_ADMIN %s",
	    u == 0 ? "succeeded" : "failed", g == 0 ? "succeeded" : "failed",
	    c == 0 ? "succeeded" : "failed");
}
