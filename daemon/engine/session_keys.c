/*
 * session_keys.c: a session's TLS key log. Key log bytes a client sends
 * go into the session's table (keylog.c), counted in its budget; a
 * running session's TLS connections that wait for keys try again as the
 * log grows. A session that has finished has no live connections left
 * to decrypt: session_keys_rerun makes it again from its kept frames,
 * with the keys, so that its TLS connections are decrypted from their
 * first record.
 *
 * Runs in the analyzer (unprivileged, sandboxed). The keys are freed
 * (wiped) with the session and never packed.
 */
#include <sys/types.h>

#include <string.h>

#include "engine.h"
#include "keylog.h"
#include "tcp.h"

size_t
session_keys_add(struct session *s, const u_char *p, size_t len, int end)
{
	size_t	 before, taken;

	if (s->keys == NULL) {
		s->keys = keylog_new(0);
		session_charge(s, keylog_memory(s->keys));
	}
	before = keylog_memory(s->keys);
	taken = keylog_feed(s->keys, p, len);
	if (end)
		taken += keylog_end(s->keys);
	session_charge(s, keylog_memory(s->keys) - before);
	if (taken > 0 && s->state == SESSION_RUNNING)
		tcp_keys_added(s);
	return (taken);
}

const struct keylog_stats *
session_keys_stats(const struct session *s)
{
	return (s->keys != NULL ? keylog_stats(s->keys) : NULL);
}

char *
session_keys_export(const struct session *s, size_t *len)
{
	return (keylog_export(s->keys, len));
}

void
session_keys_free(struct session *s)
{
	keylog_free(s->keys);
	s->keys = NULL;
}

/* Whether every frame the session saw is still kept. */
int
session_keys_can_rerun(const struct session *s)
{
	return (s->cfg.keep_frames && s->c.evicted_frames == 0);
}

/*
 * The session again, from its frames, with its keys (moved to the new
 * one). The old one is left without keys; the caller frees it.
 */
struct session *
session_keys_rerun(struct session *old)
{
	struct session		*s;
	struct ring_pos		 pos;
	struct proto_frame	 f;
	const u_char		*p;
	uint64_t		 n;

	s = session_new(old->id, old->origin, old->linktype, &old->cfg,
	    old->uid, old->source, old->start_us);
	s->snaplen = old->snaplen;
	s->keys = old->keys;
	old->keys = NULL;
	session_uncharge(old, keylog_memory(s->keys));
	session_charge(s, keylog_memory(s->keys));
	memset(&pos, 0, sizeof(pos));
	for (n = 1; (p = ring_frame(&old->ring, n, &pos, &f)) != NULL; n++)
		session_frame(s, f.ts_us, p, f.caplen, f.len);
	s->drops = old->drops;
	if (old->state == SESSION_ABORTED)
		session_abort(s, old->stop_us);
	else
		session_finish(s, old->stop_us);
	return (s);
}
