/*
 * h2pack.c: an HTTP/2 connection's struct h2_info as the "h2" object
 * of its connection item (proto/PROTOCOL.md, "Session detail items").
 * Settings a side never sent are nil, never the protocol's defaults.
 *
 * Runs in the analyzer (unprivileged, sandboxed).
 */
#include <sys/types.h>

#include <string.h>

#include "h2pack.h"

#define H2PACK_KEYS	15	/* keys of the h2 object */
#define H2PACK_DIRKEYS	9

static const char *h2pack_errors[] = {
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR",
	"REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
	"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

static const char *h2pack_types[H2_NTYPES + 1] = {
	"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
	"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION",
	"other",
};

const char *
h2pack_error(uint32_t code)
{
	if (code >= sizeof(h2pack_errors) / sizeof(h2pack_errors[0]))
		return (NULL);
	return (h2pack_errors[code]);
}

static void
h2pack_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

static void
h2pack_cstr(msgpack_packer *pk, const char *key, const char *v)
{
	h2pack_key(pk, key);
	if (v == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void
h2pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
	h2pack_key(pk, key);
	msgpack_pack_uint64(pk, v);
}

/* A value that may be unknown: ENGINE_NOTIME, or negative, is nil. */
static void
h2pack_opt(msgpack_packer *pk, const char *key, int64_t v)
{
	h2pack_key(pk, key);
	if (v < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_int64(pk, v);
}

static void
h2pack_time(msgpack_packer *pk, const char *key, uint64_t us)
{
	h2pack_opt(pk, key, us == ENGINE_NOTIME ? -1 : (int64_t)us);
}

static void
h2pack_bool(msgpack_packer *pk, const char *key, int v)
{
	h2pack_key(pk, key);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
h2pack_settings(msgpack_packer *pk, const struct h2_settings *st)
{
	h2pack_key(pk, "settings");
	msgpack_pack_map(pk, 7);
	h2pack_u64(pk, "frames", st->count);
	h2pack_opt(pk, "header_table_size", st->header_table_size);
	h2pack_opt(pk, "enable_push", st->enable_push);
	h2pack_opt(pk, "max_concurrent_streams", st->max_concurrent_streams);
	h2pack_opt(pk, "initial_window_size", st->initial_window_size);
	h2pack_opt(pk, "max_frame_size", st->max_frame_size);
	h2pack_opt(pk, "max_header_list_size", st->max_header_list_size);
}

static void
h2pack_dir(msgpack_packer *pk, const char *key, const struct h2_dirstats *d)
{
	int	 i;

	h2pack_key(pk, key);
	msgpack_pack_map(pk, H2PACK_DIRKEYS);
	h2pack_key(pk, "frames");
	msgpack_pack_map(pk, H2_NTYPES + 1);
	for (i = 0; i <= H2_NTYPES; i++)
		h2pack_u64(pk, h2pack_types[i], d->frames[i]);
	h2pack_u64(pk, "frame_bytes", d->frame_bytes);
	h2pack_u64(pk, "data_bytes", d->data_bytes);
	h2pack_u64(pk, "window_updates", d->window_updates);
	h2pack_u64(pk, "window_bytes", d->window_bytes);
	h2pack_u64(pk, "stalls", d->stalls);
	h2pack_u64(pk, "stall_us", d->stall_us);
	h2pack_u64(pk, "lost_bytes", d->lost_bytes);
	h2pack_settings(pk, &d->settings);
}

static void
h2pack_goaway(msgpack_packer *pk, const struct h2_info *hi)
{
	h2pack_key(pk, "goaway");
	if (!hi->has_goaway) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_map(pk, 5);
	h2pack_cstr(pk, "by", hi->goaway_dir == DIR_C2S ? "client" : "server");
	h2pack_u64(pk, "us", hi->goaway_us);
	h2pack_u64(pk, "last_stream_id", hi->goaway_last_stream);
	h2pack_u64(pk, "error_code", hi->goaway_error);
	h2pack_cstr(pk, "error", h2pack_error(hi->goaway_error));
}

static void
h2pack_rtts(msgpack_packer *pk, const struct h2_info *hi)
{
	uint32_t	 i, n;

	n = hi->npings < H2_MAX_RTTS ? hi->npings : H2_MAX_RTTS;
	h2pack_u64(pk, "pings", hi->npings);
	h2pack_key(pk, "ping_rtt_us");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_uint64(pk, hi->rtt_us[i]);
}

void
h2pack_info(const struct h2_info *hi, msgpack_packer *pk)
{
	msgpack_pack_map(pk, H2PACK_KEYS);
	h2pack_time(pk, "preface_us", hi->preface_us);
	h2pack_bool(pk, "upgraded", hi->upgraded);
	h2pack_u64(pk, "streams", hi->streams);
	h2pack_u64(pk, "streams_dropped", hi->streams_dropped);
	h2pack_u64(pk, "pushed", hi->pushed);
	h2pack_u64(pk, "resets", hi->resets);
	h2pack_u64(pk, "malformed", hi->malformed);
	h2pack_u64(pk, "hpack_errors", hi->hpack_errors);
	h2pack_u64(pk, "header_bytes_dropped", hi->header_bytes_dropped);
	h2pack_goaway(pk, hi);
	h2pack_rtts(pk, hi);
	h2pack_cstr(pk, "error", hi->error);
	h2pack_dir(pk, "c2s", &hi->d[DIR_C2S]);
	h2pack_dir(pk, "s2c", &hi->d[DIR_S2C]);
}
