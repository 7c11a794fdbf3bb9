/*
 * drive.c: runs the engine over a capture file without the daemon, for
 * measuring, profiling and checking against other tools. Reads the file
 * with libpcap, feeds session_frame, finishes, packs the whole detail
 * into a buffer that is thrown away, then prints counts.
 *
 *   drive [-BdHmnpv] [-P port,...] [-b budget] [-k body_keep] [-K keylog]
 *         file.pcap
 *     -m  what the session counted against what the allocator holds,
 *         by holder, at the end of the input and after the free
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
#include <malloc.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "engine.h"
#include "esc.h"
#include "msg.h"
#include "stream.h"
#include "tcp.h"
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

/* What the allocator took for p: its usable size and a chunk header. */
static size_t
drive_real(const void *p)
{
	return (p != NULL ? malloc_usable_size((void *)(uintptr_t)p) + 8 : 0);
}

/* Frame blocks are mapped on their own, whole pages (ring.c). */
static size_t
drive_mapped(const struct ring_block *b)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);

	if (b == NULL)
		return (0);
	return ((sizeof(*b) + b->size + page - 1) & ~(page - 1));
}

static void
drive_row(const char *name, size_t n, size_t counted, size_t real)
{
	printf("mem\t%-14s %10zu %12zu %12zu %+7.1f%%\n", name, n, counted,
	    real, counted ? 100.0 * ((double)real - (double)counted) /
	    (double)counted : 0.0);
}

static size_t
drive_status(const char *key)
{
	FILE	*f;
	char	 line[256];
	size_t	 kb = 0, n = strlen(key);

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			kb = strtoull(line + n + 1, NULL, 10);
	fclose(f);
	return (kb);
}

static void
drive_mem_conns(struct session *s)
{
	struct conn		*c;
	struct tcp_live		*l;
	size_t			 i, d, oo = 0, nl = 0, cc = 0, cr = 0, pc = 0, pr = 0;
	size_t			 lc = 0, lr = 0, hc = 0, hr = 0, np = 0;

	for (i = 0; i < s->nconns; i++) {
		c = s->conns[i];
		cc += sizeof(*c) + c->statecap * sizeof(*c->states) +
		    c->txncap * sizeof(*c->txns);
		cr += drive_real(c) + drive_real(c->states) +
		    drive_real(c->txns);
		pc += c->pktcap * sizeof(*c->pkts);
		pr += drive_real(c->pkts);
		np += c->pkts != NULL;
		if ((l = c->live) == NULL)
			continue;
		nl++;
		lc += sizeof(*l);
		lr += drive_real(l);
		for (d = 0; d < 2; d++)
			oo += l->h[d].ooo_bytes;
		hr += drive_real(l->http) + drive_real(l->tls) +
		    drive_real(l->h2) + drive_real(l->dec);
	}
	drive_row("conn records", s->nconns, cc, cr);
	drive_row("packet arrays", np, pc, pr);
	drive_row("live tcp", nl, lc, lr);
	drive_row("live parsers", nl, hc, hr);
	drive_row("early segments", nl, oo, oo);
}

static void
drive_mem_rest(struct session *s)
{
	struct session_chunk	*k;
	size_t			 i, n = 0, ac = 0, ar = 0, bc = 0, br = 0, nb = 0;
	size_t			 rr;
	struct msg		*m[2];
	int			 j;

	rr = drive_real(s->ring.blocks) + drive_mapped(s->ring.spare);
	for (i = 0; i < s->ring.nblocks; i++)
		rr += drive_mapped(s->ring.blocks[i]);
	drive_row("frame ring", s->ring.nblocks, s->ring.mem, rr);
	for (k = s->chunks; k != NULL; k = k->next, n++) {
		ac += k->size + 4 * sizeof(size_t);
		ar += k->mapped ? k->size + sizeof(*k) : drive_real(k);
	}
	drive_row("arena chunks", n, ac, ar);
	for (i = 0; i < s->ntxns; i++) {
		m[0] = s->txns[i]->req;
		m[1] = s->txns[i]->resp;
		for (j = 0; j < 2; j++)
			if (m[j] != NULL && m[j]->kept != NULL &&
			    m[j]->kept->nrefs == 0 &&
			    m[j]->kept->u.body != NULL) {
				nb++;
				bc += malloc_usable_size(m[j]->kept->u.body);
				br += drive_real(m[j]->kept->u.body);
			}
	}
	drive_row("bodies", nb, bc, br);
	drive_row("model arrays", 3, (s->conncap + s->txncap + s->servercap) *
	    sizeof(void *), drive_real(s->conns) + drive_real(s->txns) +
	    drive_real(s->servers));
}

/* The session's count against what the allocator and the kernel say. */
static void
drive_memory(struct session *s, const char *when)
{
	struct mallinfo2	 mi = mallinfo2();

	printf("mem\t%s: counted %zu, allocator in use %zu (heap %zu, "
	    "mmap %zu), free in heap %zu, RSS %zu KiB, peak %zu KiB\n", when,
	    s != NULL ? s->mem : 0, mi.uordblks + mi.hblkhd, mi.uordblks,
	    mi.hblkhd, mi.fordblks, drive_status("VmRSS"),
	    drive_status("VmHWM"));
	if (s == NULL)
		return;
	printf("mem\t%-14s %10s %12s %12s %8s\n", "holder", "n", "counted",
	    "real", "over");
	drive_mem_conns(s);
	drive_mem_rest(s);
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
		for (i = 0; i < msg_rare_of(t->resp)->ninterim; i++)
			n += (size_t)snprintf(st + n, sizeof(st) - n, "%u ",
			    msg_rare_of(t->resp)->interim[i]);
		snprintf(st + n, sizeof(st) - n, "%u", t->resp->status);
	}
	printf("txn\t%u\t%u\t%s\t%s\t%s\t%s\t%s\n", t->id, t->conn->id,
	    t->req && t->req->has_method ? llhttp_method_name(t->req->method) :
	    "-", target, t->resp ? st : "none",
	    t->pipelined ? "pipelined" : "",
	    t->req && msg_rare_of(t->req)->error ?
	    msg_rare_of(t->req)->error : "");
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
	int			 ch, flags = 0, verbose = 0, bodies = 0, memory = 0;
	double			 t0, t1, t2, t3;

	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = SESSION_DEFAULT_BUDGET;
	cfg.body_keep = SESSION_DEFAULT_BODY_KEEP;
	cfg.keep_frames = 1;
	while ((ch = getopt(argc, argv, "Bb:dHk:K:mnpP:v")) != -1) {
		switch (ch) {
		case 'B':
			bodies = 1;
			break;
		case 'H':
			flags |= SESSION_DETAIL_NO_HEADERS |
			    SESSION_DETAIL_BRIEF;
			cfg.no_headers = 1;
			break;
		case 'm':
			memory = 1;
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
			errx(2, "usage: drive [-BdHmnpv] [-b budget] [-k keep] "
			    "[-K keylog] [-P ports] file");
		}
	}
	if (optind + 1 != argc)
		errx(2, "usage: drive [-BdHmnpv] [-b budget] [-k keep] "
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
	if (memory)
		drive_memory(s, "input read");
	session_finish(s, s->last_frame_us);
	t1 = drive_now();
	drive_pack(s, flags, &bytes, &items);
	t2 = drive_now();
	for (i = 0; i < s->ntxns; i++) {
		if (s->txns[i]->req != NULL)
			req++;
		/* as tshark counts: complete messages, interim ones too */
		if (s->txns[i]->resp != NULL)
			resp += msg_rare_of(s->txns[i]->resp)->ninterim +
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
	if (memory)
		drive_memory(NULL, "session freed");
	fprintf(stderr, "read+analyze %.3f s, pack %.3f s, free %.3f s\n",
	    t1 - t0, t2 - t1, drive_now() - t3);
	pcap_close(p);
	return (0);
}
