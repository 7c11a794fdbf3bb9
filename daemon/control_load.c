/*
 * control_load.c: the load requests (ops 200 to 202). A client that read
 * a capture file (the daemon never opens one) streams its records into
 * a new session: in blobs of whole records, or, when load_begin says
 * "split", as consecutive pieces of the file's records, cut wherever
 * the client's reads ended, so that it can hand over a pcap file's
 * bytes without reading them. Records are taken where they lie in the
 * request; only a record cut by a split blob's end is copied, into a
 * buffer of 16 + PROTO_MAX_SNAPLEN bytes the loading client holds.
 *
 * A daemon started with --take-files (the private one of htracrctl
 * analyze) also takes the file itself: an open descriptor handed over
 * with load_begin, read here at load_end in pieces that stay in the
 * cache, sixteen a turn of the event loop, as split blobs. The daemon
 * still opens nothing: the client opened the file, as its user.
 *
 * Runs in the analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "log.h"
#include "xmalloc.h"

/*
 * A piece of a handed-over file: read and parsed while it is still in
 * the cache (256 KiB pieces cost this machine's analyzer three times
 * the CPU of 64 KiB ones); a turn reads at most CONTROL_FILE_TURN.
 */
#define CONTROL_FILE_PIECE	(64 * 1024)
#define CONTROL_FILE_TURN	16

static void	control_load_release(struct client *);

/*
 * The file handed over with load_begin, for a load of split records
 * from offset, length bytes of them; -1 (the reply sent) if the load
 * cannot have it.
 */
static int
control_load_file(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct stat	 sb;
	uint64_t	 off = 0, len = 0;

	if (!analyzer.conf->take_files) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "this htracrd takes "
		    "no files (--take-files); send the records");
		return (-1);
	}
	if (c->file_fd == -1) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "no file descriptor "
		    "came with load_begin");
		return (-1);
	}
	proto_get_u64(req, "offset", &off);
	if (proto_get_u64(req, "length", &len) == -1) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "a load of a file "
		    "needs its length");
		return (-1);
	}
	if (fstat(c->file_fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    off > INT64_MAX || len > INT64_MAX - off) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "the file handed "
		    "over is not a regular file, or offset and length do not "
		    "fit one");
		close(c->file_fd);
		c->file_fd = -1;
		return (-1);
	}
	c->load_fd = c->file_fd;
	c->file_fd = -1;
	c->load_off = (off_t)off;
	c->load_left = len;
	return (0);
}

void
control_load_begin(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct engine_config	 ec;
	struct ipc_ports	 ports;
	const msgpack_object	*o;
	const char		*src = "client", *fmt = "frames";
	size_t			 srclen = 6, fmtlen = 6;
	int64_t			 linktype;
	uint64_t		 snaplen;
	char			*source;
	int			 bodies, packets, headers, format, split = 0;
	int			 file = 0;

	if (c->load != NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE,
		    "a load is already running on this connection");
		return;
	}
	proto_get_i64(req, "linktype", &linktype);
	proto_get_u64(req, "snaplen", &snaplen);
	if (linktype < 0 || linktype > 65535 || snaplen > INT32_MAX) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG,
		    "bad linktype or snaplen");
		return;
	}
	proto_get_str(req, "format", &fmt, &fmtlen);
	if ((format = proto_format_find(fmt, fmtlen)) == -1) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "unknown frames "
		    "format; known: frames, pcap, pcap-ns");
		return;
	}
	analyzer_engine_config(&ec);
	proto_get_bool(req, "frames", &ec.keep_frames);
	if (proto_get_bool(req, "bodies", &bodies) == 0 && !bodies)
		ec.body_keep = 0;
	if (proto_get_bool(req, "packets", &packets) == 0 && !packets)
		ec.no_packets = 1;
	if (proto_get_bool(req, "headers", &headers) == 0 && !headers)
		ec.no_headers = 1;
	if ((o = proto_get(req, "ports")) != NULL &&
	    o->type == MSGPACK_OBJECT_ARRAY) {
		if (control_parse_ports(c, id, o, &ports) == -1)
			return;
		memcpy(ec.ports, ports.ports, sizeof(ec.ports));
		ec.nports = ports.nports;
	}
	if (proto_get_bool(req, "file", &file) == 0 && file &&
	    control_load_file(c, id, req) == -1)
		return;
	proto_get_str(req, "source", &src, &srclen);
	source = xstrndup(src, srclen);
	c->load = analyzer_session_new(SESSION_LOADED, (int)linktype, &ec,
	    c->uid, source);
	free(source);
	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "%zu sessions kept and "
		    "all in use", analyzer.conf->max_sessions);
		control_load_release(c);
		return;
	}
	c->load->refs++;
	c->load_format = format;
	c->load_nframes = 0;
	c->load_cut = NULL;
	if ((proto_get_bool(req, "split", &split) == 0 && split) ||
	    c->load_fd != -1) {
		c->load_carry = xmalloc(sizeof(struct proto_frame) +
		    PROTO_MAX_SNAPLEN);
		c->load_carrylen = 0;
	}
	session_set_snaplen(c->load->s, (uint32_t)snaplen);
	log_info("client uid %lu pid %ld loads session %u (%s records%s)",
	    (unsigned long)c->uid, (long)c->pid, session_id(c->load->s),
	    proto_format_name(format), c->load_fd != -1 ? ", its file" : "");
	control_ok(&sb, &pk, id, 1);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint32(&pk, session_id(c->load->s));
	analyzer_send(c, &sb);
}

/*
 * The record header at p as a frame header. A pcap record whose
 * original length is below its captured length is taken at the
 * captured length, as libpcap's readers do; a frames record keeps what
 * it says, for control_blob_valid to refuse.
 */
static void
control_record(int format, const u_char *p, struct proto_frame *f)
{
	struct proto_pcap_record	 r;

	if (format == PROTO_FORMAT_FRAMES) {
		memcpy(f, p, sizeof(*f));
		return;
	}
	memcpy(&r, p, sizeof(r));
	f->ts_us = (uint64_t)r.ts_sec * 1000000 +
	    (format == PROTO_FORMAT_PCAP_NS ? r.ts_frac / 1000 : r.ts_frac);
	f->caplen = r.caplen;
	f->len = r.len < r.caplen ? r.caplen : r.len;
}

/* Every record fits, is within the snap length and caplen <= len. */
static int
control_blob_valid(int format, const u_char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 off = 0;

	while (off < len) {
		if (len - off < sizeof(f))
			return (0);
		control_record(format, p + off, &f);
		off += sizeof(f);
		if (f.caplen > PROTO_MAX_SNAPLEN || f.caplen > f.len ||
		    f.caplen > len - off)
			return (0);
		off += f.caplen;
	}
	return (1);
}


static void
control_load_take(struct client *c, const u_char *p,
    const struct proto_frame *f)
{
	session_frame(c->load->s, f->ts_us, p + sizeof(*f), f->caplen, f->len);
	c->load_nframes++;
}

/*
 * A record header of split blobs, checked as control_blob_valid checks
 * whole ones; a bad one ends what the load takes (-1).
 */
static int
control_split_header(struct client *c, const u_char *p, struct proto_frame *f)
{
	control_record(c->load_format, p, f);
	if (f->caplen > PROTO_MAX_SNAPLEN)
		c->load_cut = "frame longer than any snap length";
	else if (f->caplen > f->len)
		c->load_cut = "captured length above the frame's length";
	return (c->load_cut != NULL ? -1 : 0);
}

/*
 * The record an earlier blob began, completed from p as far as p goes:
 * its header first, then its bytes. Returns the bytes of p used.
 */
static size_t
control_split_carry(struct client *c, const u_char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 used = 0, need, n;

	while (c->load_carrylen > 0 && used < len) {
		need = sizeof(f);
		if (c->load_carrylen >= sizeof(f)) {
			if (control_split_header(c, c->load_carry, &f) == -1)
				break;
			need += f.caplen;
		}
		n = need - c->load_carrylen;
		if (n > len - used)
			n = len - used;
		memcpy(c->load_carry + c->load_carrylen, p + used, n);
		c->load_carrylen += n;
		used += n;
		if (c->load_carrylen < sizeof(f))
			break;
		if (control_split_header(c, c->load_carry, &f) == -1)
			break;
		if (c->load_carrylen == sizeof(f) + f.caplen) {
			control_load_take(c, c->load_carry, &f);
			c->load_carrylen = 0;
		}
	}
	return (used);
}

/*
 * A blob of a split load: consecutive bytes of the records, which may
 * begin in one blob and end in a later one. The whole records are
 * taken where they lie; only a record cut by the blob's end is copied,
 * to be completed by the next. After a bad record nothing is taken.
 */
static void
control_load_split(struct client *c, const u_char *p, size_t len)
{
	struct proto_frame	 f;
	size_t			 off;

	if (c->load_cut != NULL)
		return;
	off = control_split_carry(c, p, len);
	if (c->load_carrylen > 0 || c->load_cut != NULL)
		return;
	while (len - off >= sizeof(f)) {
		if (control_split_header(c, p + off, &f) == -1)
			return;
		if (f.caplen > len - off - sizeof(f))
			break;
		control_load_take(c, p + off, &f);
		off += sizeof(f) + f.caplen;
	}
	memcpy(c->load_carry, p + off, len - off);
	c->load_carrylen = len - off;
}

/* Ends the client's load, whatever became of it. */
static void
control_load_release(struct client *c)
{
	if (c->load_fd != -1)
		close(c->load_fd);
	c->load_fd = -1;
	if (c->load_ev != NULL)
		event_free(c->load_ev);
	c->load_ev = NULL;
	free(c->load_buf);
	c->load_buf = NULL;
	free(c->load_carry);
	c->load_carry = NULL;
	c->load_carrylen = 0;
	analyzer_session_unref(c->load);
	c->load = NULL;
}

void
control_load_frames(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct proto_frame	 f;
	const char		*blob;
	const u_char		*p;
	size_t			 len, off;

	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE, "load_frames without "
		    "load_begin");
		return;
	}
	proto_get_bin(req, "frames", &blob, &len);
	p = (const u_char *)blob;
	if (len > PROTO_FRAMES_BATCH) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "frames blob of %zu "
		    "bytes over the limit of %d", len, PROTO_FRAMES_BATCH);
		return;
	}
	if (c->load_fd != -1) {
		analyzer_error(c, id, PROTO_ERR_STATE, "this load reads the "
		    "file handed over; it takes no frames");
		return;
	}
	if (c->load_carry != NULL) {
		control_load_split(c, p, len);
		return;
	}
	if (!control_blob_valid(c->load_format, p, len)) {
		analyzer_error(c, id, PROTO_ERR_BAD_ARG, "frames blob has a "
		    "bad record; none of it was taken");
		return;
	}
	for (off = 0; off < len; off += sizeof(f) + f.caplen) {
		control_record(c->load_format, p + off, &f);
		control_load_take(c, p + off, &f);
	}
}

/* The summary of the load, and its end. */
static void
control_load_finish(struct client *c, uint64_t id)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	if (c->load_carrylen > 0 && c->load_cut == NULL)
		c->load_cut = c->load_carrylen < sizeof(struct proto_frame) ?
		    "truncated frame header" : "truncated frame";
	session_finish(c->load->s, analyzer_now_us());
	control_ok(&sb, &pk, id, c->load_cut != NULL ? 3 : 1);
	proto_pack_key(&pk, "session");
	session_pack_summary(c->load->s, &pk);
	if (c->load_cut != NULL) {
		proto_pack_key(&pk, "cut");
		proto_pack_str(&pk, c->load_cut);
		proto_pack_key(&pk, "cut_frames");
		msgpack_pack_uint64(&pk, c->load_nframes);
	}
	analyzer_send(c, &sb);
	control_load_release(c);
}

/*
 * The next turn, behind every other callback ready now: a timer due at
 * once, as an event made active from its own callback would run again
 * before the loop looked at anything else.
 */
static void
control_load_later(struct client *c)
{
	struct timeval	 now = { 0, 0 };

	if (evtimer_add(c->load_ev, &now) == -1)
		fatalx("cannot read a file handed over");
}

/*
 * A turn's worth of the handed-over file. A file that ends before the
 * length the client saw, or cannot be read, ends what the load takes,
 * as a damaged record would. A client that left meanwhile (its socket
 * is not watched while the file is read) leaves the load aborted.
 */
static void
control_load_read(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	size_t		 want;
	ssize_t		 n;
	int		 i;

	if (analyzer_client_turn(c) == -1)
		return;
	for (i = 0; i < CONTROL_FILE_TURN && c->load_left > 0 &&
	    c->load_cut == NULL; i++) {
		want = c->load_left < CONTROL_FILE_PIECE ?
		    (size_t)c->load_left : CONTROL_FILE_PIECE;
		n = pread(c->load_fd, c->load_buf, want, c->load_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->load_cut = n == 0 ? "the file became shorter "
			    "while it was read" : "the file could not be read";
			break;
		}
		c->load_off += n;
		c->load_left -= (uint64_t)n;
		control_load_split(c, c->load_buf, (size_t)n);
	}
	c->heard = 1;
	if (c->load_left > 0 && c->load_cut == NULL) {
		control_load_later(c);
		return;
	}
	control_load_finish(c, c->load_end_id);
	analyzer_client_resume(c);
}

void
control_load_end(struct client *c, uint64_t id, const msgpack_object *req)
{
	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE, "load_end without "
		    "load_begin");
		return;
	}
	if (c->load_fd == -1) {
		control_load_finish(c, id);
		return;
	}
	/* Keys came first; now the file, and the client waits. */
	c->load_end_id = id;
	c->load_buf = xmalloc(CONTROL_FILE_PIECE);
	c->load_ev = evtimer_new(analyzer.base, control_load_read, c);
	if (c->load_ev == NULL)
		fatalx("cannot read a file handed over");
	analyzer_client_hold(c);
	control_load_later(c);
}

/* The client left: a load it had running is kept, as aborted. */
void
control_load_gone(struct client *c)
{
	if (c->load == NULL)
		return;
	log_info("client uid %lu pid %ld left mid-load: session %u kept as "
	    "aborted", (unsigned long)c->uid, (long)c->pid,
	    session_id(c->load->s));
	session_abort(c->load->s, analyzer_now_us());
	control_load_release(c);
}
