/*
 * cmd_keys.c: "htracrctl keys KEYS [SESSION]": gives a kept session the
 * TLS key log KEYS (SSLKEYLOGFILE), read here as the invoking user. A
 * running capture decrypts with it from then on; a finished session is
 * made again by the daemon from its kept frames, so that its TLS
 * connections are decrypted from their start. The keys are never
 * printed, only how many secrets the daemon took.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "keyfile.h"
#include "log.h"
#include "proto.h"

static int	 cmd_keys_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_keys_entry = {
	"keys", "KEYS [SESSION] [--json]", CMD_JSON, cmd_keys_exec
};

static void
cmd_keys_print(const struct keyfile *kf, const msgpack_object *res)
{
	const msgpack_object	*kl = proto_get(res, "keylog");
	uint64_t		 session = 0, secrets = 0, tls = 0;
	int			 rerun = 0;

	(void)proto_get_u64(res, "session", &session);
	(void)proto_get_bool(res, "rerun", &rerun);
	if (kl != NULL) {
		(void)proto_get_u64(kl, "secrets", &secrets);
		(void)proto_get_u64(kl, "tls_sessions", &tls);
	}
	printf("session %llu: %llu secrets for %llu TLS sessions%s\n",
	    (unsigned long long)session, (unsigned long long)secrets,
	    (unsigned long long)tls, rerun ? "; analysed again with them" :
	    "; used from now on");
}

static int
cmd_keys_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client	 c;
	struct keyfile	 kf;
	msgpack_object	 res;
	uint64_t	 session = 0;
	int		 ch, rc = CMD_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (cmd_usage(ctx->entry));
		ctx->json = 1;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return (cmd_usage(ctx->entry));
	if (argc - optind == 2 &&
	    cmd_parse_session(argv[optind + 1], &session) == -1)
		return (CMD_USAGE);
	if (keyfile_open(&kf, argv[optind]) == -1)
		return (CMD_ERROR);
	if (cmd_connect(ctx, &c) == -1) {
		keyfile_close(&kf);
		return (CMD_ERROR);
	}
	if (keyfile_send(&c, &kf, session, 1, &res) == 0) {
		keyfile_report(&kf, &res);
		if (ctx->json) {
			json_write(stdout, &res);
			putchar('\n');
		} else
			cmd_keys_print(&kf, &res);
		rc = CMD_OK;
	}
	keyfile_close(&kf);
	client_close(&c);
	return (rc);
}
