/*
 * cmd.c: helpers every htracrctl command shares: usage messages, port
 * lists and session ids from the command line, the daemon connection.
 * Runs in htracrctl with the invoking user's privileges.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "proto.h"

int
cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: htracrctl %s %s\n", e->name, e->usage);
	return (CMD_USAGE);
}

/* One decimal number in [min, max] spanning exactly [s, end). */
static int
cmd_number(const char *s, const char *end, unsigned long min,
    unsigned long max, unsigned long *v)
{
	char	*ep;

	if (s == end || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoul(s, &ep, 10);
	if (errno != 0 || ep != end || *v < min || *v > max)
		return (-1);
	return (0);
}

/*
 * "80,8080" into ports (room for PROTO_MAX_PORTS). Repeats are kept
 * once. The daemon checks again; this only gives a clearer message.
 */
int
cmd_parse_ports(const char *arg, uint16_t *ports, size_t *nports)
{
	const char	*s = arg, *end;
	unsigned long	 v;
	size_t		 i, n = 0;

	for (;;) {
		if ((end = strchr(s, ',')) == NULL)
			end = s + strlen(s);
		if (cmd_number(s, end, 1, 65535, &v) == -1) {
			log_warnx("bad port '%.*s' in '%s': ports are numbers "
			    "from 1 to 65535, separated by commas",
			    (int)(end - s), s, arg);
			return (-1);
		}
		for (i = 0; i < n && ports[i] != v; i++)
			;
		if (i == n) {
			if (n == PROTO_MAX_PORTS) {
				log_warnx("too many ports in '%s': at most %d",
				    arg, PROTO_MAX_PORTS);
				return (-1);
			}
			ports[n++] = (uint16_t)v;
		}
		if (*end == '\0')
			break;
		s = end + 1;
	}
	*nports = n;
	return (0);
}

int
cmd_parse_session(const char *arg, uint64_t *id)
{
	unsigned long	 v;

	if (cmd_number(arg, arg + strlen(arg), 1, UINT32_MAX, &v) == -1) {
		log_warnx("bad session '%s': a session is a number from "
		    "'htracrctl sessions'", arg);
		return (-1);
	}
	*id = v;
	return (0);
}

int
cmd_connect(struct cmd_ctx *ctx, struct client *c)
{
	return (client_open(c, ctx->socket));
}

/* The login name of uid if this host knows it, else its number. */
const char *
cmd_user_name(uint64_t uid, char *buf, size_t size)
{
	struct passwd	*pw = NULL;

	if (uid <= UINT32_MAX)
		pw = getpwuid((uid_t)uid);
	if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%llu", (unsigned long long)uid);
	return (buf);
}

int
cmd_json_only(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int				 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (-1);
		ctx->json = 1;
	}
	return (optind == argc ? 0 : -1);
}

void
cmd_pack_ports(msgpack_packer *pk, const uint16_t *ports, size_t nports)
{
	size_t	 i;

	proto_pack_key(pk, "ports");
	msgpack_pack_array(pk, nports);
	for (i = 0; i < nports; i++)
		msgpack_pack_uint16(pk, ports[i]);
}
