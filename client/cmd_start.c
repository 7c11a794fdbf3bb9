/*
 * cmd_start.c: "htracrctl start": asks the daemon to capture on an
 * interface and ports. With --keylog it stays, following the TLS key
 * log a browser appends to and sending new lines to the capture's
 * session until the capture stops: at once when inotify says the file
 * was written, else every START_FOLLOW_MS. Runs in htracrctl with the
 * invoking user's privileges; capturing is the daemon's capture
 * process's job, and the daemon re-checks everything sent here.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "keyfile.h"
#include "log.h"
#include "proto.h"

/*
 * How often the key log is looked at while following it when no write
 * was seen (one replaced by another file, no inotify): a browser's
 * records wait in the daemon for their keys meanwhile.
 */
#define START_FOLLOW_MS		200

static int	 cmd_start_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_start_entry = {
	"start", "[--ports 80,8080] [--interface IFACE] [--dns | --no-dns] "
	"[--keylog KEYS] [--json]", CMD_JSON, cmd_start_exec
};

/* An inotify descriptor told of writes to path; -1 if there is none. */
static int
cmd_start_watch(const char *path)
{
	int	 fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return (-1);
	if (inotify_add_watch(fd, path, IN_MODIFY) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Until the key log was written, or START_FOLLOW_MS passed. */
static void
cmd_start_wait(int wfd)
{
	struct pollfd	 pfd;
	char		 buf[4096];
	ssize_t		 n;

	pfd.fd = wfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* Without a descriptor poll only sleeps. */
	if (poll(&pfd, wfd == -1 ? 0 : 1, START_FOLLOW_MS) <= 0)
		return;
	/* The events only wake us: the file says what is new. */
	do {
		n = read(wfd, buf, sizeof(buf));
	} while (n > 0 || (n == -1 && errno == EINTR));
}

/*
 * Sends what the key log gains until the capture stops or we are
 * interrupted. The first send, made at once, gives the session a key
 * log before its first TLS connection. Each send also tells whether
 * the capture still runs, and keeps this client from being idle.
 */
static int
cmd_start_follow(struct client *c, struct keyfile *kf, uint64_t session)
{
	msgpack_object	 res;
	int		 running = 1, wfd, rc = 0;

	wfd = cmd_start_watch(kf->path);
	while (running && !client_interrupted) {
		if (keyfile_send(c, kf, session, 0, &res) == -1) {
			rc = client_interrupted ? 0 : -1;
			break;
		}
		if (proto_get_bool(&res, "running", &running) == -1)
			running = 0;
		if (running)
			cmd_start_wait(wfd);
	}
	if (wfd != -1)
		close(wfd);
	if (rc == 0 && !running)
		keyfile_report(kf, &res);
	return (rc);
}

static int
cmd_start_send(struct client *c, const char *ifname, const uint16_t *ports,
    size_t nports, int dns, msgpack_object *res)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_START, 3);
	proto_pack_key(&pk, "interface");
	proto_pack_str(&pk, ifname);
	cmd_pack_ports(&pk, ports, nports);
	proto_pack_key(&pk, "dns");
	proto_pack_bool(&pk, dns);
	if (client_send(c, &sb, NULL, 0) == -1)
		return (-1);
	return (client_read(c, id, NULL, res) == CLIENT_RESULT ? 0 : -1);
}

static int
cmd_start_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "interface", required_argument, NULL, 'i' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns", no_argument, NULL, 'd' },
		{ "no-dns", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	struct keyfile	 kf;
	msgpack_object	 res;
	const char	*keylog = NULL;
	uint16_t	 ports[PROTO_MAX_PORTS] = { 80 };
	size_t		 nports = 1;
	uint64_t	 session = 0;
	const char	*ifname = "any";
	int		 ch, dns = 1, rc = CMD_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "p:i:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (cmd_parse_ports(optarg, ports, &nports) == -1)
				return (CMD_USAGE);
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'k':
			keylog = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'd':
		case 'D':
			dns = ch == 'd';
			break;
		default:
			return (cmd_usage(ctx->entry));
		}
	}
	if (optind != argc)
		return (cmd_usage(ctx->entry));
	if (*ifname == '\0' || strlen(ifname) > PROTO_MAX_IFNAME) {
		log_warnx("bad interface name '%s': 1 to %d characters",
		    ifname, PROTO_MAX_IFNAME);
		return (CMD_USAGE);
	}
	kf.fd = -1;
	if (keylog != NULL && keyfile_open(&kf, keylog) == -1)
		return (CMD_ERROR);
	if (cmd_connect(ctx, &c) == -1) {
		keyfile_close(&kf);
		return (CMD_ERROR);
	}
	if (cmd_start_send(&c, ifname, ports, nports, dns, &res) == 0) {
		(void)proto_get_u64(&res, "session", &session);
		if (ctx->json) {
			json_write(stdout, &res);
			putchar('\n');
		} else
			printf("capturing: session %llu on %s; 'htracrctl stop "
			    "--dump FILE' ends it%s\n",
			    (unsigned long long)session, ifname, keylog != NULL ?
			    "; following the key log until then" : "");
		fflush(stdout);
		rc = CMD_OK;
		if (keylog != NULL && cmd_start_follow(&c, &kf, session) == -1)
			rc = CMD_ERROR;
	}
	keyfile_close(&kf);
	client_close(&c);
	return (rc);
}
