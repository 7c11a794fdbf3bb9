/*
 * fuzz_ipc.c: libFuzzer target for the reading side of htracrd's
 * private link (daemon/ipc.c), both ways, chosen by the first byte:
 *  - even: what the analyzer reads from the capture process. Four bytes
 *    give the length n of what follows for the shared frames ring
 *    (daemon/shring.c), then the link's messages: split by
 *    ipc_msg_next, held to ipc_reply_size, spans taken by shring_take,
 *    the frames batches in them walked by ipc_frames_next and every
 *    frame fed to a live session as the analyzer does;
 *  - odd: what the capture process reads from the analyzer: commands
 *    held to ipc_command_size, start and ports checked as the capture
 *    process checks them, and the filter built from what passed must
 *    be whole and compile in libpcap.
 * The rest of the first byte cuts the stream into reads of different
 * sizes, as the socket may hand it over. Where the daemon would stop
 * (fatalx), the target stops reading.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ipc.h"
#include "session.h"
#include "shring.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_RING	(256 * 1024)

static pcap_t		*fuzz_pcap;
static struct shring	 fuzz_ring;

/* Everything an accepted start or ports command may lead to. */
static void
fuzz_ports(const struct ipc_ports *p, int dns)
{
	struct bpf_program	 prog;
	char			 filter[IPC_FILTER_MAX];
	size_t			 n;
	uint32_t		 i;

	if (!ipc_ports_valid(p))
		return;
	for (i = 0; i < p->nports; i++)
		if (p->ports[i] == 0)
			abort();
	ipc_filter_string(p, dns, filter, sizeof(filter));
	n = strlen(filter);
	if (n == 0 || filter[n - 1] != ')')
		abort();		/* cut short */
	if (fuzz_pcap == NULL &&
	    (fuzz_pcap = pcap_open_dead(DLT_EN10MB, 65535)) == NULL)
		abort();
	if (pcap_compile(fuzz_pcap, &prog, filter, 1,
	    PCAP_NETMASK_UNKNOWN) == -1)
		abort();
	pcap_freecode(&prog);
}

static void
fuzz_start(const struct ipc_start *st)
{
	size_t	 i, n;

	if (!ipc_start_valid(st))
		return;
	n = strlen(st->ifname);
	if (n == 0 || n > PROTO_MAX_IFNAME)
		abort();
	for (i = 0; i < n; i++)
		if (strchr("./_-:", st->ifname[i]) == NULL &&
		    !(st->ifname[i] >= '0' && st->ifname[i] <= '9') &&
		    !(st->ifname[i] >= 'a' && st->ifname[i] <= 'z') &&
		    !(st->ifname[i] >= 'A' && st->ifname[i] <= 'Z'))
			abort();
	if (st->dns > 1)
		abort();
	fuzz_ports(&st->ports, (int)st->dns);
}

/* One whole command; 0 where the capture process would stop. */
static int
fuzz_command(const struct ipc_hdr *h, const u_char *p)
{
	struct ipc_start	 st;
	struct ipc_ports	 ports;

	if (ipc_command_size(h->type) != (ssize_t)h->len)
		return (0);
	if (h->type == IPC_CMD_START) {
		memcpy(&st, p, sizeof(st));
		fuzz_start(&st);
	} else if (h->type == IPC_CMD_PORTS) {
		memcpy(&ports, p, sizeof(ports));
		fuzz_ports(&ports, 1);
	}
	return (1);
}

/* A span of frames, or a reply; 0 where the analyzer would stop. */
static int
fuzz_message(struct session *s, const struct ipc_hdr *h, const u_char *p)
{
	struct ipc_span		 sp;
	struct proto_frame	 f;
	const u_char		*ring, *data;
	size_t			 len, off = 0;
	int			 rc;

	if (ipc_reply_size(h->type) != (ssize_t)h->len)
		return (0);
	if (h->type != IPC_SPAN)
		return (1);
	memcpy(&sp, p, sizeof(sp));
	if ((ring = shring_take(&fuzz_ring, &sp, &len)) == NULL)
		return (0);
	if (ring < fuzz_ring.data || ring + len > fuzz_ring.data + FUZZ_RING)
		abort();
	while ((rc = ipc_frames_next(ring, len, &off, &f, &data)) == 1) {
		if (data < ring || data + f.caplen > ring + len || off > len)
			abort();
		session_frame(s, f.ts_us, data, f.caplen, f.len);
	}
	shring_release(&fuzz_ring, &sp);
	return (rc == 0);
}

/*
 * The ring as the capture process left it: n bytes of data, then 0;
 * read-only, as the analyzer maps it.
 */
static void
fuzz_ring_fill(const uint8_t *data, size_t n)
{
	if (fuzz_ring.data == NULL)
		shring_init(&fuzz_ring, FUZZ_RING);
	else if (mprotect(fuzz_ring.data, FUZZ_RING, PROT_READ | PROT_WRITE))
		abort();
	if (n > FUZZ_RING)
		n = FUZZ_RING;
	memcpy(fuzz_ring.data, data, n);
	memset(fuzz_ring.data + n, 0, FUZZ_RING - n);
	shring_reader(&fuzz_ring);
	fuzz_ring.done = 0;
}

/*
 * The stream as the reader gets it: bytes arrive in reads of at most
 * chunk bytes, and whole messages are taken from the front each time.
 */
static void
fuzz_stream(struct session *s, const uint8_t *data, size_t size,
    size_t chunk)
{
	static u_char	 buf[IPC_MAX_PAYLOAD + sizeof(struct ipc_hdr)];
	struct ipc_hdr	 h;
	size_t		 len = 0, in = 0, n;
	int		 rc, ok;

	while (in < size) {
		n = size - in;
		if (n > chunk)
			n = chunk;
		if (n > sizeof(buf) - len)
			n = sizeof(buf) - len;
		memcpy(buf + len, data + in, n);
		len += n;
		in += n;
		while ((rc = ipc_msg_next(buf, len, &h)) == 1) {
			if (sizeof(h) + h.len > len)
				abort();
			ok = s != NULL ? fuzz_message(s, &h, buf + sizeof(h)) :
			    fuzz_command(&h, buf + sizeof(h));
			if (!ok)
				return;
			memmove(buf, buf + sizeof(h) + h.len,
			    len - sizeof(h) - h.len);
			len -= sizeof(h) + h.len;
		}
		if (rc == -1)
			return;
		/*
		 * With a header whole, the reads before the one that
		 * completes its payload change nothing the reader sees:
		 * take them in one copy (1-byte reads of a big batch
		 * were half of this target's time).
		 */
		if (len >= sizeof(h) && sizeof(h) + h.len - len > chunk) {
			n = (sizeof(h) + h.len - len - 1) / chunk * chunk;
			if (n > size - in)
				n = size - in;
			memcpy(buf + len, data + in, n);
			len += n;
			in += n;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 chunks[] = { SIZE_MAX, 1, 7, 64, 4096 };
	struct engine_config	 cfg;
	struct session		*s;
	size_t			 chunk;
	uint32_t		 n;

	if (size == 0)
		return (0);
	chunk = chunks[(data[0] >> 1) % (sizeof(chunks) / sizeof(chunks[0]))];
	if (data[0] & 1) {
		fuzz_stream(NULL, data + 1, size - 1, chunk);
		return (0);
	}
	if (size < 1 + sizeof(n))
		return (0);
	memcpy(&n, data + 1, sizeof(n));
	if (n > size - 1 - sizeof(n))
		n = (uint32_t)(size - 1 - sizeof(n));
	fuzz_ring_fill(data + 1 + sizeof(n), n);
	memset(&cfg, 0, sizeof(cfg));
	cfg.budget = 256 * 1024;
	cfg.body_keep = 512;
	cfg.keep_frames = 1;
	s = session_new(1, SESSION_CAPTURED, DLT_EN10MB, &cfg, 0, "fuzz",
	    1000000);
	fuzz_stream(s, data + 1 + sizeof(n) + n, size - 1 - sizeof(n) - n,
	    chunk);
	session_finish(s, 2000000);
	session_free(s);
	return (0);
}
