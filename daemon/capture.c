/*
 * capture.c: the capture process, htracrd's parent. Started as root
 * (or with CAP_NET_RAW), it drops to the htracr user keeping only
 * CAP_NET_RAW, raised into the effective set just around
 * pcap_activate. It takes a closed set of fixed-form commands from the
 * analyzer, re-checks each (a malformed one is fatal), builds BPF
 * filters itself from port numbers, and forwards frames in batches
 * through the ring both processes map (shring.c: of that memory it
 * reads only the analyzer's head, and checks it), announcing each batch
 * on the non-blocking socketpair. It never waits for the analyzer:
 * while the ring is nearly full it leaves frames in the kernel's ring,
 * and what cannot be put in even so is counted as a forward drop. It
 * also watches the analyzer: if it dies, the daemon exits non-zero.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "ipc.h"
#include "log.h"
#include "notify.h"
#include "sandbox.h"
#include "shring.h"

/*
 * Replies and the spans of frame batches wait here for the analyzer.
 * The pcap ring is read only while half of it is free: a span is 24
 * bytes and a reply at most 272, so neither ever finds it full.
 */
#define CAPTURE_QUEUE		(64 * 1024)
/*
 * Room the shared ring keeps while pcap's is read: more than one frame.
 * Below it reading stops (pcap_breakloop) and frames wait in the
 * kernel's ring, sixteen times this one by default, instead of being
 * read only to be dropped here: a stalled analyzer then costs frames
 * only once both are full. Three quarters of this ring hold twelve
 * batches of 256 KiB.
 */
#define CAPTURE_READ_ROOM	(1024 * 1024)
/*
 * How soon a full ring is looked at again, in ns: no wake-up comes when
 * the analyzer makes room. Twice as long each time it is still full,
 * up to the longest: an analyzer that has stopped reading costs little.
 */
#define CAPTURE_FULL_NS		(1000 * 1000)
#define CAPTURE_FULL_MAX_NS	(16 * 1000 * 1000)
/* How long a stop waits for the analyzer to make ring room, in ms. */
#define CAPTURE_DRAIN_MS	1000

_Static_assert(CAPTURE_READ_ROOM < SHRING_SIZE / 2,
    "the ring holds batches beyond the room a read needs");
_Static_assert(PROTO_MAX_SNAPLEN + sizeof(struct proto_frame) <
    CAPTURE_READ_ROOM, "a frame fits in the room a read keeps");

/* From the Linux cooked headers: a loopback frame seen going out. */
#define CAPTURE_PACKET_OUTGOING	4
#define CAPTURE_ARPHRD_LOOPBACK	772

static struct {
	const struct htracrd_conf *conf;
	int			 link;
	pid_t			 child;
	struct ipc_buf		 out;
	struct shring		*ring;
	pcap_t			*pcap;
	int			 linktype;
	struct ipc_start	 cur;
	uint64_t		 forward_drops;
	uint64_t		 frames;
	long			 full_ns;	/* next look at a full ring */
	int			 draining;	/* a stop takes what is left */
	u_char			 in[sizeof(struct ipc_hdr) +
				    sizeof(struct ipc_start)];
	size_t			 inlen;
	int			 logfd;		/* analyzer's stderr, or -1 */
	char			 logbuf[1024];
	size_t			 loglen;
} capture;

static volatile sig_atomic_t	capture_quit;
static volatile sig_atomic_t	capture_chld;

static void
capture_signal(int sig)
{
	if (sig == SIGCHLD)
		capture_chld = 1;
	else
		capture_quit = 1;
}

/* Why the analyzer ended, for the log. */
static void
capture_reason(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal SIG%s (%s)",
		    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(
		    WTERMSIG(status)) : "?", strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "stopped (status %#x)", status);
}

/* The analyzer is gone or going: say why and leave non-zero. */
static void __attribute__((noreturn))
capture_lost(const char *what)
{
	char	 why[128];
	int	 status, i;
	pid_t	 r = 0;

	for (i = 0; i < 100 && r == 0; i++) {
		r = waitpid(capture.child, &status, WNOHANG);
		if (r == 0)
			poll(NULL, 0, 10);
	}
	if (r == capture.child) {
		capture_reason(status, why, sizeof(why));
		fatalx("analyzer %s: %s; exiting", what, why);
	}
	kill(capture.child, SIGKILL);
	fatalx("analyzer %s; exiting", what);
}

static void
capture_flush(void)
{
	if (ipc_buf_flush(&capture.out, capture.link) == -1)
		capture_lost("closed the link");
}

/*
 * Tells the analyzer of the frames written since the last span, ahead
 * of any other message: it sees frames and replies in the order they
 * came.
 */
static void
capture_announce(void)
{
	struct ipc_span	 sp;

	if (shring_span(capture.ring, &sp) &&
	    ipc_buf_put(&capture.out, IPC_SPAN, &sp, sizeof(sp)) == -1)
		fatalx("no room to announce frames to the analyzer");
}

/* Orderly end: tell the analyzer, let it go, leave with 0. */
static void __attribute__((noreturn))
capture_shutdown(void)
{
	int	 status, i;

	log_info("shutting down");
	notify_stopping();
	if (capture.pcap != NULL)
		pcap_close(capture.pcap);
	capture_announce();
	ipc_buf_put(&capture.out, IPC_QUIT, NULL, 0);
	for (i = 0; i < 100 && ipc_buf_pending(&capture.out) > 0; i++) {
		if (ipc_buf_flush(&capture.out, capture.link) == -1)
			break;
		poll(NULL, 0, 10);
	}
	close(capture.link);
	/*
	 * Looked for every millisecond, up to a second: the analyzer takes
	 * a few to give its memory back, and `htracrctl analyze` waits for
	 * this exit before it can return.
	 */
	for (i = 0; i < 1000; i++) {
		if (waitpid(capture.child, &status, WNOHANG) != 0)
			exit(0);
		poll(NULL, 0, 1);
	}
	kill(capture.child, SIGKILL);
	exit(0);
}

static void
capture_reply(uint32_t type, const void *p, size_t len)
{
	capture_announce();
	if (ipc_buf_put(&capture.out, type, p, len) == -1)
		fatalx("no room for a reply to the analyzer");
}

static void
capture_fail(int code, const char *fmt, ...)
{
	struct ipc_failed	 f;
	va_list			 ap;

	memset(&f, 0, sizeof(f));
	f.code = code;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", f.msg);
	capture_reply(IPC_FAILED, &f, sizeof(f));
}

static int
capture_set_filter(const struct ipc_ports *p, int dns)
{
	struct bpf_program	 prog;
	char			 filter[IPC_FILTER_MAX];

	ipc_filter_string(p, dns, filter, sizeof(filter));
	if (pcap_compile(capture.pcap, &prog, filter, 1,
	    PCAP_NETMASK_UNKNOWN) == -1) {
		capture_fail(PROTO_ERR_CAPTURE, "filter \"%s\": %s", filter,
		    pcap_geterr(capture.pcap));
		return (-1);
	}
	if (pcap_setfilter(capture.pcap, &prog) == -1) {
		pcap_freecode(&prog);
		capture_fail(PROTO_ERR_CAPTURE, "setting filter \"%s\": %s",
		    filter, pcap_geterr(capture.pcap));
		return (-1);
	}
	pcap_freecode(&prog);
	log_info("filter: %s", filter);
	notify_status("capturing: %s", filter);
	return (0);
}

/*
 * With "any", a loopback packet passes the tap twice, going out and
 * coming in. libpcap 1.10 already drops the outgoing copy; this check
 * keeps that true with a libpcap that does not, so every frame on lo
 * is counted once.
 */
static int
capture_duplicate(const u_char *d, uint32_t caplen)
{
	unsigned	 pkttype, hatype;

	if (capture.linktype == DLT_LINUX_SLL && caplen >= 16) {
		pkttype = (unsigned)d[0] << 8 | d[1];
		hatype = (unsigned)d[2] << 8 | d[3];
	} else if (capture.linktype == DLT_LINUX_SLL2 && caplen >= 20) {
		hatype = (unsigned)d[8] << 8 | d[9];
		pkttype = d[10];
	} else
		return (0);
	return (pkttype == CAPTURE_PACKET_OUTGOING &&
	    hatype == CAPTURE_ARPHRD_LOOPBACK);
}

/* Whether the shared ring and the queue can take more frames. */
static int
capture_can_read(void)
{
	return (capture.pcap != NULL &&
	    ipc_buf_room(&capture.out) >= CAPTURE_QUEUE / 2 &&
	    shring_room(capture.ring) >= CAPTURE_READ_ROOM);
}

static void
capture_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *d)
{
	struct proto_frame	 f;
	size_t			 need;
	u_char			*p;

	if (capture_duplicate(d, h->caplen))
		return;
	f.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
	f.caplen = h->caplen > PROTO_MAX_SNAPLEN ? PROTO_MAX_SNAPLEN :
	    h->caplen;
	f.len = h->len < f.caplen ? f.caplen : h->len;
	need = sizeof(f) + f.caplen;
	if (shring_open(capture.ring) + need > PROTO_FRAMES_BATCH)
		capture_announce();
	if ((p = shring_reserve(capture.ring, need)) == NULL) {
		/* It may have to start over at the ring's beginning. */
		capture_announce();
		if ((p = shring_reserve(capture.ring, need)) == NULL) {
			capture.forward_drops++;
			return;
		}
	}
	memcpy(p, &f, sizeof(f));
	memcpy(p + sizeof(f), d, f.caplen);
	shring_commit(capture.ring, need);
	capture.frames++;
	/* One call can drain the whole ring: leave the rest there. */
	if (!capture.draining && !capture_can_read())
		pcap_breakloop(capture.pcap);
}

/* Reads what the ring holds now, in batches, without blocking. */
static void
capture_dispatch(void)
{
	int	 i, n;

	for (i = 0; i < 64 && capture_can_read(); i++) {
		n = pcap_dispatch(capture.pcap, -1, capture_frame, NULL);
		if (n == PCAP_ERROR)
			fatalx("pcap_dispatch: %s", pcap_geterr(capture.pcap));
		capture_announce();
		if (n <= 0)
			break;
		capture_flush();
	}
}

static void
capture_stats(struct ipc_stats *st)
{
	struct pcap_stat	 ps;

	memset(st, 0, sizeof(*st));
	if (capture.pcap != NULL && pcap_stats(capture.pcap, &ps) == 0) {
		st->kernel = ps.ps_drop;
		st->ifdrop = ps.ps_ifdrop;
	}
	st->forward = capture.forward_drops;
	st->frames = capture.frames;
}

static pcap_t *
capture_open(const char *ifname)
{
	char	 err[PCAP_ERRBUF_SIZE];
	pcap_t	*p;
	int	 rc;

	if ((p = pcap_create(ifname, err)) == NULL) {
		capture_fail(PROTO_ERR_CAPTURE, "%s: %s", ifname, err);
		return (NULL);
	}
	/* No promiscuous mode: nothing to restore however capture ends. */
	if (pcap_set_snaplen(p, PROTO_MAX_SNAPLEN) != 0 ||
	    pcap_set_promisc(p, 0) != 0 || pcap_set_timeout(p, 100) != 0 ||
	    pcap_set_immediate_mode(p, 0) != 0 ||
	    pcap_set_buffer_size(p, (int)(capture.conf->ring_mib << 20)) != 0)
		fatalx("pcap_set_*: %s", pcap_geterr(p));
	sandbox_net_raw(1);
	rc = pcap_activate(p);
	sandbox_net_raw(0);
	if (rc < 0) {
		capture_fail(PROTO_ERR_CAPTURE, "%s: %s (%s)", ifname,
		    pcap_statustostr(rc), pcap_geterr(p));
		pcap_close(p);
		return (NULL);
	}
	if (rc > 0)
		log_warnx("%s: %s", ifname, pcap_statustostr(rc));
	if (pcap_setnonblock(p, 1, err) == -1)
		fatalx("pcap_setnonblock: %s", err);
	return (p);
}

static void
capture_start(const struct ipc_start *st)
{
	struct ipc_started	 ok;

	if (capture.pcap != NULL)
		fatalx("analyzer sent start while a capture runs");
	if (!ipc_start_valid(st))
		fatalx("analyzer sent a malformed start command");
	if (strcmp(st->ifname, "any") != 0 && if_nametoindex(st->ifname) == 0) {
		capture_fail(PROTO_ERR_BAD_ARG, "no interface named %s",
		    st->ifname);
		return;
	}
	if ((capture.pcap = capture_open(st->ifname)) == NULL)
		return;
	capture.linktype = pcap_datalink(capture.pcap);
	if (capture_set_filter(&st->ports, st->dns) == -1) {
		pcap_close(capture.pcap);
		capture.pcap = NULL;
		return;
	}
	capture.cur = *st;
	capture.forward_drops = capture.frames = 0;
	ok.linktype = capture.linktype;
	ok.snaplen = PROTO_MAX_SNAPLEN;
	capture_reply(IPC_STARTED, &ok, sizeof(ok));
	log_info("capturing on %s, link type %s, ring %zu MiB", st->ifname,
	    pcap_datalink_val_to_name(capture.linktype),
	    capture.conf->ring_mib);
}

static void
capture_ports(const struct ipc_ports *p)
{
	if (capture.pcap == NULL)
		fatalx("analyzer sent ports while no capture runs");
	if (!ipc_ports_valid(p))
		fatalx("analyzer sent a malformed ports command");
	if (capture_set_filter(p, capture.cur.dns) == 0) {
		capture.cur.ports = *p;
		capture_reply(IPC_PORTS_SET, NULL, 0);
	}
}

/*
 * The kernel hands TPACKET_V3 blocks over when full or after the 100 ms
 * block timeout: wait out one timeout so frames seen before the stop
 * are in the session. The analyzer goes on reading the shared ring
 * meanwhile; while it is full, wait for room (CAPTURE_DRAIN_MS at
 * most). Then take what pcap's ring still holds: a frame the shared
 * ring cannot take is a forward drop, counted, not lost unsaid when
 * pcap's ring is closed.
 */
static void
capture_drain(void)
{
	struct pollfd	 pfd;
	int		 rounds = 0, waited = 0, i, n;

	pfd.fd = pcap_get_selectable_fd(capture.pcap);
	pfd.events = POLLIN;
	while (rounds < 3 && waited < CAPTURE_DRAIN_MS) {
		capture_dispatch();
		capture_flush();
		if (!capture_can_read()) {
			poll(NULL, 0, 1);
			waited++;
			continue;
		}
		rounds++;
		if (poll(&pfd, 1, 100) <= 0)
			break;
	}
	capture.draining = 1;
	for (i = 0; i < 64; i++) {
		n = pcap_dispatch(capture.pcap, -1, capture_frame, NULL);
		if (n == PCAP_ERROR)
			fatalx("pcap_dispatch: %s", pcap_geterr(capture.pcap));
		if (n <= 0)
			break;
	}
	capture.draining = 0;
	capture_announce();
}

static void
capture_stop(void)
{
	struct ipc_stats	 st;

	if (capture.pcap == NULL)
		fatalx("analyzer sent stop while no capture runs");
	capture_drain();
	capture_stats(&st);
	pcap_close(capture.pcap);
	capture.pcap = NULL;
	capture_reply(IPC_STOPPED, &st, sizeof(st));
	log_info("capture stopped: %llu frames forwarded, %llu dropped by "
	    "the kernel, %llu not forwarded", (unsigned long long)st.frames,
	    (unsigned long long)st.kernel, (unsigned long long)st.forward);
	if (capture.ring->bogus > 0)
		log_warnx("the ring's head, as the analyzer left it, was out "
		    "of bounds %llu times", (unsigned long long)capture.ring->bogus);
	notify_status("idle");
}

/* One whole command: its type fixes its size. */
static void
capture_command(const struct ipc_hdr *h, const u_char *p)
{
	struct ipc_start	 st;
	struct ipc_ports	 ports;
	struct ipc_stats	 stats;

	switch (h->type) {
	case IPC_CMD_START:
		memcpy(&st, p, sizeof(st));
		capture_start(&st);
		break;
	case IPC_CMD_PORTS:
		memcpy(&ports, p, sizeof(ports));
		capture_ports(&ports);
		break;
	case IPC_CMD_STOP:
		capture_stop();
		break;
	case IPC_CMD_STATS:
		capture_stats(&stats);
		capture_reply(IPC_STATS, &stats, sizeof(stats));
		break;
	}
}

/* Reads commands; anything not exactly of its fixed form is fatal. */
static void
capture_read_link(void)
{
	struct ipc_hdr	 h;
	size_t		 need = sizeof(h);
	ssize_t		 n;

	for (;;) {
		if (capture.inlen >= sizeof(h)) {
			memcpy(&h, capture.in, sizeof(h));
			if (ipc_command_size(h.type) == -1)
				fatalx("analyzer sent unknown command type %u",
				    h.type);
			if ((ssize_t)h.len != ipc_command_size(h.type))
				fatalx("analyzer sent command %u with %u bytes",
				    h.type, h.len);
			need = sizeof(h) + h.len;
			if (capture.inlen == need) {
				capture_command(&h, capture.in + sizeof(h));
				capture.inlen = 0;
				need = sizeof(h);
				continue;
			}
		}
		n = read(capture.link, capture.in + capture.inlen,
		    need - capture.inlen);
		if (n == 0)
			capture_lost("closed the link");
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			capture_lost("link failed");
		}
		capture.inlen += (size_t)n;
	}
}

/*
 * In the background the analyzer cannot reach syslog itself (it may
 * not open sockets), so its stderr is a pipe to us: each line it
 * writes goes to syslog from here, already tagged "analyzer".
 */
static void
capture_read_log(void)
{
	char	*nl;
	ssize_t	 n;

	n = read(capture.logfd, capture.logbuf + capture.loglen,
	    sizeof(capture.logbuf) - 1 - capture.loglen);
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(capture.logfd);
			capture.logfd = -1;
		}
		return;
	}
	capture.loglen += (size_t)n;
	capture.logbuf[capture.loglen] = '\0';
	while ((nl = strchr(capture.logbuf, '\n')) != NULL) {
		*nl = '\0';
		syslog(LOG_NOTICE, "%s", capture.logbuf);
		capture.loglen -= (size_t)(nl + 1 - capture.logbuf);
		memmove(capture.logbuf, nl + 1, capture.loglen + 1);
	}
	if (capture.loglen == sizeof(capture.logbuf) - 1) {
		syslog(LOG_NOTICE, "%s", capture.logbuf);	/* too long */
		capture.loglen = 0;
	}
}

static void
capture_signals(sigset_t *old)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = capture_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/*
	 * Only an analyzer that ended: one stopped (a debugger, SIGSTOP)
	 * and continued is no reason to leave, as SIGCHLD alone took it.
	 */
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Delivered only inside ppoll, so no wake-up is ever missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, old);
}

static void
capture_loop(const sigset_t *mask)
{
	struct pollfd	 pfd[3];
	struct timespec	 ts;
	int		 n, logi;

	for (;;) {
		if (capture_quit)
			capture_shutdown();
		if (capture_chld)
			capture_lost("ended");
		pfd[0].fd = capture.link;
		pfd[0].events = POLLIN;
		if (ipc_buf_pending(&capture.out) > 0)
			pfd[0].events |= POLLOUT;
		n = 1;
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		if (capture_can_read()) {
			pfd[n].fd = pcap_get_selectable_fd(capture.pcap);
			pfd[n++].events = POLLIN;
			capture.full_ns = CAPTURE_FULL_NS;
		} else if (capture.pcap != NULL) {
			ts.tv_sec = 0;
			ts.tv_nsec = capture.full_ns;
			if (capture.full_ns < CAPTURE_FULL_MAX_NS)
				capture.full_ns *= 2;
		}
		logi = -1;
		if (capture.logfd != -1) {
			pfd[n].fd = capture.logfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			logi = n++;
		}
		if (ppoll(pfd, (nfds_t)n, &ts, mask) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		if (logi != -1 && pfd[logi].revents != 0)
			capture_read_log();
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			capture_read_link();
		capture_dispatch();
		capture_flush();
	}
}

void
capture_main(const struct htracrd_conf *conf, int link_fd,
    struct shring *ring, pid_t child, int log_fd)
{
	sigset_t	 mask;

	log_procname("capture");
	capture.conf = conf;
	capture.link = link_fd;
	capture.ring = ring;
	capture.full_ns = CAPTURE_FULL_NS;
	capture.child = child;
	capture.logfd = log_fd;
	capture_signals(&mask);
	if (fcntl(link_fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	ipc_buf_init(&capture.out, CAPTURE_QUEUE);
	shring_writer(ring);
	sandbox_capture(conf, !conf->no_capture, child);
	capture_loop(&mask);
	fatalx("capture loop ended");
}
