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
 * Runs in the analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "log.h"
#include "xmalloc.h"

static void	control_load_release(struct client *);

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
	proto_get_str(req, "source", &src, &srclen);
	source = xstrndup(src, srclen);
	c->load = analyzer_session_new(SESSION_LOADED, (int)linktype, &ec,
	    c->uid, source);
	free(source);
	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "%zu sessions kept and "
		    "all in use", analyzer.conf->max_sessions);
		return;
	}
	c->load->refs++;
	c->load_format = format;
	c->load_nframes = 0;
	c->load_cut = NULL;
	if (proto_get_bool(req, "split", &split) == 0 && split) {
		c->load_carry = xmalloc(sizeof(struct proto_frame) +
		    PROTO_MAX_SNAPLEN);
		c->load_carrylen = 0;
	}
	session_set_snaplen(c->load->s, (uint32_t)snaplen);
	log_info("client uid %lu pid %ld loads session %u (%s records)",
	    (unsigned long)c->uid, (long)c->pid, session_id(c->load->s),
	    proto_format_name(format));
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

void
control_load_end(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	if (c->load == NULL) {
		analyzer_error(c, id, PROTO_ERR_STATE, "load_end without "
		    "load_begin");
		return;
	}
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
