/*
 * text_replies.c: the short replies for people: the sessions list, a
 * session's one-line summary (after load and stop) and the capture
 * status. Runs in htracrctl; every string from the daemon is escaped
 * (pick_str) before it is printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fmt.h"
#include "pick.h"
#include "proto.h"
#include "text.h"
#include "text_int.h"

/* The port list of a session or status as "80,8080". */
char *
text_ports(const msgpack_object *m, char *buf, size_t size)
{
	const msgpack_object	*a = proto_get(m, "ports");
	size_t			 off = 0;
	uint32_t		 i;

	buf[0] = '\0';
	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.size == 0) {
		snprintf(buf, size, "any");
		return (buf);
	}
	for (i = 0; i < a->via.array.size && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%llu", i ? "," : "",
		    (unsigned long long)a->via.array.ptr[i].via.u64);
	return (buf);
}

void
text_session_line(FILE *fp, const msgpack_object *s)
{
	char	 src[256], state[32];

	fprintf(fp, "session %llu: %s (%s): %llu frames, %llu servers, %llu "
	    "connections, %llu transactions\n",
	    (unsigned long long)pick_u64(s, "id"),
	    pick_str(s, "source", src, sizeof(src)),
	    pick_str(s, "state", state, sizeof(state)),
	    (unsigned long long)pick_u64(proto_get(s, "counters"), "frames"),
	    (unsigned long long)pick_u64(s, "servers"),
	    (unsigned long long)pick_u64(s, "connections"),
	    (unsigned long long)pick_u64(s, "transactions"));
}

void
text_sessions(FILE *fp, const msgpack_object *a, int color)
{
	const msgpack_object	*s, *c;
	char			 o[32], src[64], who[64], st[32], start[32];
	char			 mem[16];
	uint32_t		 i;

	fprintf(fp, "%s%5s  %-8s %-24s %-10s %-9s %-19s %9s %6s %7s %7s%s\n",
	    color ? TEXT_BOLD : "", "ID", "ORIGIN", "SOURCE", "WHO", "STATE",
	    "START", "FRAMES", "CONNS", "TXNS", "MEMORY", color ? TEXT_RESET :
	    "");
	for (i = 0; a != NULL && i < a->via.array.size; i++) {
		s = &a->via.array.ptr[i];
		c = proto_get(s, "counters");
		fprintf(fp, "%5llu  %-8s %-24.24s %-10s %-9s %-19s %9llu %6llu "
		    "%7llu %7s\n", (unsigned long long)pick_u64(s, "id"),
		    pick_str(s, "origin", o, sizeof(o)),
		    pick_str(s, "source", src, sizeof(src)),
		    cmd_user_name(pick_u64(s, "uid"), who, sizeof(who)),
		    pick_str(s, "state", st, sizeof(st)),
		    fmt_clock(start, sizeof(start), pick_u64(s, "start_us")),
		    (unsigned long long)pick_u64(c, "frames"),
		    (unsigned long long)pick_u64(s, "connections"),
		    (unsigned long long)pick_u64(s, "transactions"),
		    fmt_bytes(mem, sizeof(mem), pick_u64(c, "memory_used")));
	}
	if (a == NULL || a->via.array.size == 0)
		fprintf(fp, "(no sessions kept; 'htracrctl start' captures, "
		    "'htracrctl load FILE' loads one)\n");
}

static void
text_clients(FILE *fp, const msgpack_object *a)
{
	const msgpack_object	*c;
	char			 who[64], since[32];
	uint32_t		 i;

	if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	fprintf(fp, "clients:    %u\n", a->via.array.size);
	for (i = 0; i < a->via.array.size; i++) {
		c = &a->via.array.ptr[i];
		fprintf(fp, "  %-10s pid %-8llu since %s\n",
		    cmd_user_name(pick_u64(c, "uid"), who, sizeof(who)),
		    (unsigned long long)pick_u64(c, "pid"),
		    fmt_clock(since, sizeof(since), pick_u64(c, "since_us")));
	}
}

void
text_status(FILE *fp, const msgpack_object *r, int color)
{
	const msgpack_object	*s = proto_get(r, "session");
	char			 st[32], ifn[64], ports[512], who[64], m[16];
	int			 capture = 0, dns = 0;

	(void)proto_get_bool(r, "capture", &capture);
	fprintf(fp, "capture:    %s\n", capture ? "available" :
	    "unavailable (htracrd runs with --no-capture)");
	fprintf(fp, "state:      %s%s%s\n", color ? TEXT_BOLD : "",
	    pick_str(r, "state", st, sizeof(st)), color ? TEXT_RESET : "");
	if (strcmp(st, "running") == 0) {
		fprintf(fp, "interface:  %s\n", pick_str(r, "interface", ifn,
		    sizeof(ifn)));
		fprintf(fp, "ports:      %s\n", text_ports(r, ports,
		    sizeof(ports)));
		(void)proto_get_bool(r, "dns", &dns);
		fprintf(fp, "dns:        %s\n", dns ?
		    "port 53 too (UDP and TCP)" : "not captured (--no-dns)");
		fprintf(fp, "started by: %s\n", cmd_user_name(pick_u64(r,
		    "started_by"), who, sizeof(who)));
	}
	if (s != NULL && s->type == MSGPACK_OBJECT_MAP) {
		fprintf(fp, "session:    ");
		text_session_line(fp, s);
		s = proto_get(s, "counters");
		fprintf(fp, "drops:      kernel %llu, interface %llu, "
		    "forwarding %llu, evicted frames %llu\n",
		    (unsigned long long)pick_u64(s, "kernel_drops"),
		    (unsigned long long)pick_u64(s, "ifdrops"),
		    (unsigned long long)pick_u64(s, "forward_drops"),
		    (unsigned long long)pick_u64(s, "evicted_frames"));
	}
	fprintf(fp, "memory:     %s\n", fmt_bytes(m, sizeof(m),
	    pick_u64(r, "memory")));
	text_clients(fp, proto_get(r, "clients"));
}
