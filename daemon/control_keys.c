/*
 * control_keys.c: the keys request (op 203). A client that read a TLS
 * key log (the daemon never opens one) sends its bytes for a session:
 * the one it is loading, a running capture as the log grows, or a
 * finished session, which is then made again from its kept frames with
 * the keys once the client says the log is complete (until then, a
 * client that follows a live capture's log may still send its last
 * lines after the capture stopped). Only the uid that
 * made the session (or root) may give it keys. The reply counts lines
 * and secrets; it never carries a secret. The keylog request (op 105)
 * gives them back, to that uid or root only, for a pcapng file that
 * carries its own keys.
 *
 * Runs in the analyzer: unprivileged, chrooted, seccomp.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "keylog.h"
#include "log.h"

/* The session keys go to: the client's load, or the one named. */
static struct ksession *
control_keys_session(struct client *c, uint64_t id, uint64_t sid)
{
	struct ksession	*ks;

	if (c->load != NULL && (sid == 0 || sid == session_id(c->load->s)))
		return (c->load);
	if ((ks = analyzer_session_find(sid)) == NULL) {
		analyzer_error(c, id, PROTO_ERR_NOT_FOUND, sid == 0 ?
		    "no sessions kept" : "no session %llu",
		    (unsigned long long)sid);
		return (NULL);
	}
	if (c->uid != 0 && c->uid != session_uid(ks->s)) {
		analyzer_error(c, id, PROTO_ERR_DENIED, "session %u is uid "
		    "%lu's: only it or root may handle its keys",
		    session_id(ks->s), (unsigned long)session_uid(ks->s));
		return (NULL);
	}
	return (ks);
}

/*
 * A finished session is made again when its key log is complete: only
 * if it still has every frame and nobody is reading it.
 */
static int
control_keys_check(struct client *c, uint64_t id, struct ksession *ks,
    int end)
{
	if (session_running(ks->s) || !end)
		return (0);
	if (!session_keys_can_rerun(ks->s)) {
		analyzer_error(c, id, PROTO_ERR_STATE, "session %u no longer "
		    "holds all its frames: load the capture again with "
		    "--keylog", session_id(ks->s));
		return (-1);
	}
	if (ks->refs > 0) {
		analyzer_error(c, id, PROTO_ERR_BUSY, "session %u is being "
		    "read or loaded: try again when that is done",
		    session_id(ks->s));
		return (-1);
	}
	return (0);
}

static void
control_keys_reply(struct client *c, uint64_t id, struct ksession *ks,
    size_t taken, int rerun)
{
	msgpack_sbuffer			 sb;
	msgpack_packer			 pk;
	const struct keylog_stats	*st = session_keys_stats(ks->s);

	control_ok(&sb, &pk, id, 5);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint32(&pk, session_id(ks->s));
	proto_pack_key(&pk, "secrets");
	msgpack_pack_uint64(&pk, taken);
	proto_pack_key(&pk, "running");
	proto_pack_bool(&pk, session_running(ks->s));
	proto_pack_key(&pk, "rerun");
	proto_pack_bool(&pk, rerun);
	proto_pack_key(&pk, "keylog");
	msgpack_pack_map(&pk, 6);
	proto_pack_key(&pk, "lines");
	msgpack_pack_uint64(&pk, st->lines);
	proto_pack_key(&pk, "secrets");
	msgpack_pack_uint64(&pk, st->secrets);
	proto_pack_key(&pk, "tls_sessions");
	msgpack_pack_uint64(&pk, st->sessions);
	proto_pack_key(&pk, "ignored");
	msgpack_pack_uint64(&pk, st->ignored);
	proto_pack_key(&pk, "malformed");
	msgpack_pack_uint64(&pk, st->malformed);
	proto_pack_key(&pk, "dropped");
	msgpack_pack_uint64(&pk, st->dropped);
	analyzer_send(c, &sb);
}

void
control_keys(struct client *c, uint64_t id, const msgpack_object *req)
{
	struct ksession	*ks;
	struct session	*s;
	const char	*keys;
	size_t		 len, taken;
	uint64_t	 sid = 0;
	int		 end = 0, rerun = 0;

	proto_get_u64(req, "session", &sid);
	proto_get_bin(req, "keys", &keys, &len);
	proto_get_bool(req, "end", &end);
	if (len > PROTO_KEYS_BATCH) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "key log piece of %zu "
		    "bytes over the limit of %d", len, PROTO_KEYS_BATCH);
		return;
	}
	if ((ks = control_keys_session(c, id, sid)) == NULL ||
	    control_keys_check(c, id, ks, end) == -1)
		return;
	taken = session_keys_add(ks->s, (const u_char *)keys, len, end);
	if (end && !session_running(ks->s)) {
		s = session_keys_rerun(ks->s);
		session_free(ks->s);
		ks->s = s;
		rerun = 1;
		log_info("client uid %lu pid %ld: session %u made again with "
		    "its TLS keys", (unsigned long)c->uid, (long)c->pid,
		    session_id(s));
	}
	control_keys_reply(c, id, ks, taken, rerun);
}

void
control_keylog(struct client *c, uint64_t id, const msgpack_object *req)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ksession	*ks;
	char		*text;
	size_t		 len;
	uint64_t	 sid = 0;

	proto_get_u64(req, "session", &sid);
	if (sid == 0 && c->load != NULL)
		sid = session_id(c->load->s);
	if ((ks = control_keys_session(c, id, sid)) == NULL)
		return;
	text = session_keys_export(ks->s, &len);
	if (len > PROTO_MAX_REPLY / 2) {
		analyzer_error(c, id, PROTO_ERR_LIMIT, "session %u's key log "
		    "is %zu bytes, over what one reply may carry",
		    session_id(ks->s), len);
	} else {
		control_ok(&sb, &pk, id, 1);
		proto_pack_key(&pk, "keylog");
		msgpack_pack_bin_with_body(&pk, text, len);
		analyzer_send(c, &sb);
		log_info("client uid %lu pid %ld took session %u's TLS keys",
		    (unsigned long)c->uid, (long)c->pid, session_id(ks->s));
	}
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
}
