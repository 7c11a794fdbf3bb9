/*
 * drive.c: runs the engine over a capture file without the daemon, for
 * measuring, profiling and checking against other tools. Reads the file
 * with libpcap, feeds session_frame, finishes, packs the whole detail
 * into a buffer that is thrown away, then prints counts.
 *
 *   drive [-BdHnpv] [-P port,...] [-b budget] [-k body_keep] [-K keylog]
 *         file.pcap
 *     -p  pack packet records too      -v  one line per transaction
 *     -B  one line per kept body: its length and CRC-32, as the body
 *         request hands it out (for comparing two builds)
 *     -d  print every packed item      -n  keep no raw frames or
 *     -H  keep two headers a message,       packet records
 *         pack the brief detail        -K  the TLS key log, given
 *                                          before the first frame
 * -n -H -k 0 is what "htracrctl analyze" asks of the engine, and with
 * -K what "htracrctl analyze --keylog" asks.
 */
#include <sys/types.h>

#include <err.h>
#include <llhttp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "esc.h"
#include "session.h"
#include "tlscrypt.h"

static double
drive_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
drive_ports(struct engine_config *cfg, char *list)
{
	char	*p;

	while ((p = strsep(&list, ",")) != NULL && cfg->nports < PROTO_MAX_PORTS)
		cfg->ports[cfg->nports++] = (uint16_t)strtoul(p, NULL, 10);
}

/* Prints each packed item, one per line (for eyes, not for scripts). */
static void
drive_print(const msgpack_sbuffer *sb)
{
	msgpack_unpacked	 u;
	size_t			 off = 0;
	uint32_t		 i;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, sb->data, sb->size, &off) > 0 &&
	    u.data.type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < u.data.via.array.size; i++) {
			msgpack_object_print(stdout, u.data.via.array.ptr[i]);
			putchar('\n');
		}
	}
	msgpack_unpacked_destroy(&u);
}

static int	 dump;

/* The whole key log into the session, as htracrctl sends it first. */
static void
drive_keys(struct session *s, const char *path)
{
	FILE	*f;
	u_char	 buf[65536];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	tlscrypt_init();
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		session_keys_add(s, buf, n, 0);
	if (ferror(f))
		err(1, "%s", path);
	session_keys_add(s, buf, 0, 1);
	fclose(f);
}

static void
drive_pack(struct session *s, int flags, size_t *bytes, uint64_t *items)
{
	struct session_cursor	 cur;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;

	memset(&cur, 0, sizeof(cur));
	cur.flags = flags;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while (session_pack_next(s, &cur, &pk, PROTO_CHUNK_ITEMS) > 0) {
		*bytes += sb.size;
		if (dump)
			drive_print(&sb);
		msgpack_sbuffer_clear(&sb);
	}
	*items = cur.count;
	msgpack_sbuffer_destroy(&sb);
}

static void
drive_txn(const struct txn *t)
{
	char	 target[256], st[64];
	size_t	 i, n = 0;

	target[0] = '\0';
	if (t->req != NULL)
		esc_buf(target, sizeof(target), t->req->text +
		    t->req->target_off, t->req->target_len);
	st[0] = '\0';
	if (t->resp != NULL) {
		for (i = 0; i < t->resp->ninterim; i++)
			n += (size_t)snprintf(st + n, sizeof(st) - n, "%u ",
			    t->resp->interim[i]);
		snprintf(st + n, sizeof(st) - n, "%u", t->resp->status);
	}
	printf("txn\t%u\t%u\t%s\t%s\t%s\t%s\t%s\n", t->id, t->conn->id,
	    t->req && t->req->has_method ? llhttp_method_name(t->req->method) :
	    "-", target, t->resp ? st : "none",
	    t->pipelined ? "pipelined" : "",
	    t->req && t->req->error ? t->req->error : "");
}

/* Each kept body as session_body hands it out, or why not. */
static void
drive_bodies(struct session *s)
{
	const u_char	*data;
	size_t		 i, len;
	int		 w, r, trunc;

	for (i = 0; i < s->ntxns; i++) {
		for (w = 0; w < 2; w++) {
			r = session_body(s, (uint32_t)i + 1, w, &data, &len,
			    &trunc);
			if (r < 0)
				printf("body\t%zu\t%d\tnone %d\n", i + 1, w, r);
			else
				printf("body\t%zu\t%d\t%zu\t%d\t%08lx\n", i + 1,
				    w, len, trunc, crc32(0, data, (uInt)len));
		}
	}
}

int
main(int argc, char *argv[])
{
	struct engine_config	 cfg;
	struct pcap_pkthdr	*h;
	const u_char		*data;
	const char		*keys = NULL;
	char			 ebuf[PCAP_ERRBUF_SIZE];
	struct session		*s;
	pcap_t			*p;
	uint64_t		 req = 0, resp = 0, retrans = 0, items;
	size_t			 i, bytes = 0;
	int			 ch, flags = 0, verbose = 0, bodies = 0;
	double			 t0, t1, t2, t3;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = SESSION_DEFAULT_BUDGET;
	cfg.body_keep = SESSION_DEFAULT_BODY_KEEP;
	cfg.keep_frames = 1;
	while ((ch = getopt(argc, argv, "Bb:dHk:K:npP:v")) != -1) {
		switch (ch) {
		case 'B':
			bodies = 1;
			break;
		case 'H':
			flags |= SESSION_DETAIL_NO_HEADERS |
			    SESSION_DETAIL_BRIEF;
			cfg.no_headers = 1;
			break;
		case 'n':
			cfg.keep_frames = 0;
			cfg.no_packets = 1;
			break;
		case 'd':
			dump = 1;
			break;
		case 'k':
			cfg.body_keep = strtoull(optarg, NULL, 10);
			break;
		case 'K':
			keys = optarg;
			break;
		case 'b':
			cfg.budget = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			flags |= SESSION_DETAIL_PACKETS;
			break;
		case 'P':
			drive_ports(&cfg, optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			errx(2, "usage: drive [-BdHnpv] [-b budget] [-k keep] "
			    "[-K keylog] [-P ports] file");
		}
	}
	if (optind + 1 != argc)
		errx(2, "usage: drive [-BdHnpv] [-b budget] [-k keep] "
		    "[-K keylog] [-P ports] file");
	if ((p = pcap_open_offline(argv[optind], ebuf)) == NULL)
		errx(1, "%s", ebuf);
	s = session_new(1, SESSION_LOADED, pcap_datalink(p), &cfg, getuid(),
	    argv[optind], 0);
	if (keys != NULL)
		drive_keys(s, keys);
	t0 = drive_now();
	while (pcap_next_ex(p, &h, &data) == 1)
		session_frame(s, (uint64_t)h->ts.tv_sec * 1000000 +
		    (uint64_t)h->ts.tv_usec, data, h->caplen, h->len);
	session_finish(s, s->last_frame_us);
	t1 = drive_now();
	drive_pack(s, flags, &bytes, &items);
	t2 = drive_now();
	for (i = 0; i < s->ntxns; i++) {
		if (s->txns[i]->req != NULL)
			req++;
		/* as tshark counts: complete messages, interim ones too */
		if (s->txns[i]->resp != NULL)
			resp += s->txns[i]->resp->ninterim +
			    (s->txns[i]->resp->status != 0 &&
			    s->txns[i]->resp->complete);
		if (verbose)
			drive_txn(s->txns[i]);
	}
	for (i = 0; i < s->nconns; i++)
		retrans += s->conns[i]->d[0].retransmits +
		    s->conns[i]->d[1].retransmits;
	printf("frames %llu requests %llu responses %llu connections %zu "
	    "retransmits %llu gaps %llu parse_errors %llu items %llu "
	    "packed %zu memory %zu evicted_frames %llu\n",
	    (unsigned long long)s->c.frames, (unsigned long long)req,
	    (unsigned long long)resp, s->nconns, (unsigned long long)retrans,
	    (unsigned long long)s->c.gaps,
	    (unsigned long long)s->c.parse_errors, (unsigned long long)items,
	    bytes, s->mem, (unsigned long long)s->c.evicted_frames);
	if (bodies)
		drive_bodies(s);
	t3 = drive_now();
	session_free(s);
	fprintf(stderr, "read+analyze %.3f s, pack %.3f s, free %.3f s\n",
	    t1 - t0, t2 - t1, drive_now() - t3);
	pcap_close(p);
	return (0);
}
