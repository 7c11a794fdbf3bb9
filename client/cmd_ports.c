/*
 * cmd_ports.c: "htracrctl ports 80,443": changes the ports of the
 * running capture. Runs in htracrctl with the invoking user's
 * privileges; the list is checked here for a clear message and again
 * by both daemon processes.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "proto.h"

static int	 cmd_ports_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry	cmd_ports_entry = {
	"ports", "PORT[,PORT...] [--json]", CMD_JSON, cmd_ports_exec
};

static int
cmd_ports_send(struct client *c, const uint16_t *ports, size_t nports,
    msgpack_object *res)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_PORTS, 1);
	cmd_pack_ports(&pk, ports, nports);
	if (client_send(c, &sb, NULL, 0) == -1)
		return (-1);
	return (client_read(c, id, NULL, res) == CLIENT_RESULT ? 0 : -1);
}

static int
cmd_ports_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client		 c;
	msgpack_object		 res;
	const msgpack_object	*a;
	uint16_t		 ports[PROTO_MAX_PORTS];
	size_t			 nports;
	uint32_t		 i;
	int			 ch, rc = CMD_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return (cmd_usage(ctx->entry));
		ctx->json = 1;
	}
	if (argc - optind != 1)
		return (cmd_usage(ctx->entry));
	if (cmd_parse_ports(argv[optind], ports, &nports) == -1)
		return (CMD_USAGE);
	if (cmd_connect(ctx, &c) == -1)
		return (CMD_ERROR);
	if (cmd_ports_send(&c, ports, nports, &res) == 0) {
		a = proto_get(&res, "ports");
		if (ctx->json) {
			json_write(stdout, &res);
			putchar('\n');
		} else if (a != NULL && a->type == MSGPACK_OBJECT_ARRAY) {
			printf("capturing on ports");
			for (i = 0; i < a->via.array.size; i++)
				printf("%s%llu", i ? "," : " ",
				    (unsigned long long)
				    a->via.array.ptr[i].via.u64);
			printf("\n");
		}
		rc = CMD_OK;
	}
	client_close(&c);
	return (rc);
}
