/*
 * explain_out.c: the explain command's output: per transaction its
 * total, a one-line verdict and the causes, then the session's causes
 * summed, as text for people or JSON (proto/PROTOCOL.md, "explain").
 * Runs in htracrctl with the invoking user's privileges; method and
 * target come from the wire and are escaped before a terminal sees them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "esc.h"
#include "explain.h"
#include "fmt.h"
#include "json.h"
#include "proto.h"
#include "render.h"

/* The causes of every transaction summed, for the session's verdict. */
struct ex_sum {
	int64_t		 total_us;
	int64_t		 us[EXPLAIN_NCAUSES];
	uint64_t	 explained;
	uint64_t	 unexplained;
};

static void
ex_sum_add(struct ex_sum *s, const struct explain *e)
{
	int	 k;

	if (!e->ok) {
		s->unexplained++;
		return;
	}
	s->explained++;
	s->total_us += e->total_us;
	for (k = 0; k < EXPLAIN_NCAUSES; k++)
		s->us[k] += e->us[k];
}

/* "most time lost to: server think time 54 %, slow start 20 %, ..." */
static const char *
ex_sum_verdict(const struct ex_sum *s, char *buf, size_t size)
{
	int	 used[EXPLAIN_NCAUSES] = { 0 };
	int	 i, k, top;
	size_t	 off;

	if (s->total_us <= 0) {
		snprintf(buf, size, "nothing to explain");
		return (buf);
	}
	off = (size_t)snprintf(buf, size, "most time lost to:");
	for (i = 0; i < 3 && off < size; i++) {
		top = -1;
		for (k = 0; k < EXPLAIN_NCAUSES; k++)
			if (!used[k] && s->us[k] > 0 &&
			    (top == -1 || s->us[k] > s->us[top]))
				top = k;
		if (top == -1)
			break;
		used[top] = 1;
		off += (size_t)snprintf(buf + off, size - off, "%s %s %d %%",
		    i ? "," : "", explain_name(top),
		    (int)(100 * s->us[top] / s->total_us));
	}
	return (buf);
}

/* "GET /path", escaped and cut to fit. */
static const char *
ex_what(const msgpack_object *t, char *buf, size_t size)
{
	const msgpack_object	*req = proto_get(t, "request");
	const char		*m, *tg;
	size_t			 mlen, tlen;
	char			 em[32], et[256];

	m = render_str(req, "method", &mlen);
	tg = render_str(req, "target", &tlen);
	esc_buf(em, sizeof(em), m ? m : "?", m ? mlen : 1);
	esc_buf(et, sizeof(et), tg ? tg : "?", tg ? tlen : 1);
	snprintf(buf, size, "%s %s", em, et);
	return (buf);
}

/* "tcp 50.1ms  server 300ms  transfer 2.1ms" */
static void
ex_causes_line(FILE *f, const struct explain *e, const char *indent)
{
	char	 d[FMT_NUMLEN];
	int	 k, n = 0;

	fputs(indent, f);
	for (k = 0; k < EXPLAIN_NCAUSES; k++) {
		if (e->us[k] <= 0)
			continue;
		fprintf(f, "%s%s %s", n++ ? ", " : "", explain_name(k),
		    fmt_duration(d, sizeof(d), e->us[k]));
		if (k == EXPLAIN_SLOW_START && e->slow_start_rtts > 0)
			fprintf(f, " (%d RTT%s)", e->slow_start_rtts,
			    e->slow_start_rtts == 1 ? "" : "s");
		if (k == EXPLAIN_LOSS)
			fprintf(f, " (%d)", e->loss_episodes);
	}
	if (!e->packets)
		fprintf(f, "%sno packet records: the response is not broken "
		    "down", n ? "; " : "");
	fputc('\n', f);
}

void
explain_print_txn(FILE *f, const struct doc *d, uint64_t id, int color)
{
	const msgpack_object	*t = doc_txn(d, id);
	struct explain		 e;
	char			 v[160], tot[FMT_NUMLEN];

	if (t == NULL)
		return;
	explain_txn(d, t, &e);
	fprintf(f, "%swhy %s%s: %s\n", color ? "\033[1m" : "",
	    e.ok ? fmt_duration(tot, sizeof(tot), e.total_us) : "",
	    color ? "\033[0m" : "", explain_verdict(&e, v, sizeof(v)));
	if (e.ok)
		ex_causes_line(f, &e, "    ");
}

int
explain_print(FILE *f, const struct doc *d, const uint64_t *ids, size_t n,
    int color)
{
	const msgpack_object	*t;
	struct explain		 e;
	struct ex_sum		 s;
	char			 what[320], v[160], tot[FMT_NUMLEN];
	size_t			 i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		if ((t = doc_txn(d, ids[i])) == NULL)
			continue;
		explain_txn(d, t, &e);
		ex_sum_add(&s, &e);
		fprintf(f, "%s%4llu %-40.40s %9s%s  %s\n", color ? "\033[1m" : "",
		    (unsigned long long)ids[i], ex_what(t, what, sizeof(what)),
		    e.ok ? fmt_duration(tot, sizeof(tot), e.total_us) : "-",
		    color ? "\033[0m" : "", explain_verdict(&e, v, sizeof(v)));
		if (e.ok)
			ex_causes_line(f, &e, "     ");
	}
	fprintf(f, "\n%llu transactions, %s in all; %s\n",
	    (unsigned long long)s.explained,
	    fmt_duration(tot, sizeof(tot), s.total_us),
	    ex_sum_verdict(&s, v, sizeof(v)));
	if (s.unexplained > 0)
		fprintf(f, "%llu without a complete response left out\n",
		    (unsigned long long)s.unexplained);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

static void
ex_json_key(struct json_out *o, const char *k, int comma)
{
	/* Keys are htracr's own plain words: nothing to escape. */
	if (comma)
		json_out_raw(o, ",", 1);
	json_out_raw(o, "\"", 1);
	json_out_raw(o, k, strlen(k));
	json_out_raw(o, "\":", 2);
}

static void
ex_json_i64(struct json_out *o, const char *k, int64_t v)
{
	ex_json_key(o, k, 1);
	json_out_i64(o, v);
}

/*
 * The causes' keys are htracr's own plain words: written as they are,
 * without a printf and an escaping pass for each of a page's millions.
 */
static void
ex_json_causes(struct json_out *o, const int64_t *us)
{
	const char	*key;
	int		 k;

	ex_json_key(o, "causes", 1);
	json_out_raw(o, "{", 1);
	for (k = 0; k < EXPLAIN_NCAUSES; k++) {
		key = explain_key(k);
		json_out_raw(o, k > 0 ? ",\"" : "\"", k > 0 ? 2 : 1);
		json_out_raw(o, key, strlen(key));
		json_out_raw(o, "_us\":", 5);
		json_out_u64(o, (uint64_t)us[k]);
	}
	json_out_raw(o, "}", 1);
}

/* One transaction's object; null fields where it has no response. */
static void
ex_json_one(struct json_out *o, uint64_t id, const struct explain *e)
{
	char	 v[160];

	json_out_raw(o, "{", 1);
	ex_json_key(o, "id", 0);
	json_out_u64(o, id);
	explain_verdict(e, v, sizeof(v));
	ex_json_key(o, "verdict", 1);
	json_out_str(o, v, strlen(v));
	ex_json_key(o, "explained", 1);
	json_out_raw(o, e->ok ? "true" : "false", e->ok ? 4 : 5);
	if (e->ok) {
		ex_json_i64(o, "start_us", e->start_us);
		ex_json_i64(o, "end_us", e->end_us);
		ex_json_i64(o, "total_us", e->total_us);
		ex_json_causes(o, e->us);
		ex_json_i64(o, "rtt_us", e->rtt_us);
		ex_json_i64(o, "path_rtt_us", e->path_rtt_us);
		ex_json_i64(o, "slow_start_rtts", e->slow_start_rtts);
		ex_json_i64(o, "loss_episodes", e->loss_episodes);
		ex_json_i64(o, "zero_windows", e->zero_windows);
		ex_json_i64(o, "body_bytes", e->body_bytes);
		ex_json_key(o, "connection_opened", 1);
		json_out_raw(o, e->opened ? "true" : "false", e->opened ? 4 : 5);
		ex_json_key(o, "dns", 1);
		json_out_raw(o, e->dns ? "true" : "false", e->dns ? 4 : 5);
		ex_json_key(o, "packets", 1);
		json_out_raw(o, e->packets ? "true" : "false",
		    e->packets ? 4 : 5);
	}
	json_out_raw(o, "}", 1);
}

int
explain_json(FILE *f, const struct doc *d, const uint64_t *ids, size_t n)
{
	struct json_out		*o = json_out_new(f);
	const msgpack_object	*t;
	struct explain		 e;
	struct ex_sum		 s;
	char			 v[320];
	size_t			 i, out = 0;
	uint64_t		 sid = 0;

	memset(&s, 0, sizeof(s));
	(void)proto_get_u64(d->session, "id", &sid);
	json_out_raw(o, "{\"session\":", 11);
	json_out_u64(o, sid);
	json_out_raw(o, ",\"transactions\":[", 17);
	for (i = 0; i < n; i++) {
		if ((t = doc_txn(d, ids[i])) == NULL)
			continue;
		explain_txn(d, t, &e);
		ex_sum_add(&s, &e);
		if (out++ > 0)
			json_out_raw(o, ",", 1);
		ex_json_one(o, ids[i], &e);
	}
	json_out_raw(o, "],\"summary\":{", 13);
	ex_json_key(o, "transactions", 0);
	json_out_u64(o, s.explained);
	ex_json_i64(o, "unexplained", (int64_t)s.unexplained);
	ex_json_i64(o, "total_us", s.total_us);
	ex_json_causes(o, s.us);
	ex_sum_verdict(&s, v, sizeof(v));
	ex_json_key(o, "verdict", 1);
	json_out_str(o, v, strlen(v));
	json_out_raw(o, "}}\n", 3);
	json_out_free(o);
	return (ferror(f) ? -1 : 0);
}

/* The keys of a row of explain_json_all, in order; the causes' below. */
static const char *const ex_row_keys[] = {
	"id", "verdict", "explained", "start_us", "end_us", "total_us",
	"causes", "rtt_us", "path_rtt_us", "slow_start_rtts", "loss_episodes",
	"zero_windows", "body_bytes", "connection_opened", "dns", "packets"
};

/* A row's next value: a comma, then the number or the boolean. */
static void
ex_row_i64(struct json_out *o, int64_t v)
{
	json_out_raw(o, ",", 1);
	json_out_i64(o, v);
}

static void
ex_row_bool(struct json_out *o, int v)
{
	json_out_raw(o, v ? ",true" : ",false", v ? 5 : 6);
}

/* One transaction's row: ex_json_one's values without their keys. */
static void
ex_json_row(struct json_out *o, uint64_t id, const struct explain *e)
{
	char	 v[160];
	int	 k;

	json_out_raw(o, "[", 1);
	json_out_u64(o, id);
	json_out_raw(o, ",", 1);
	explain_verdict(e, v, sizeof(v));
	json_out_str(o, v, strlen(v));
	ex_row_bool(o, e->ok);
	if (e->ok) {
		ex_row_i64(o, e->start_us);
		ex_row_i64(o, e->end_us);
		ex_row_i64(o, e->total_us);
		json_out_raw(o, ",[", 2);
		for (k = 0; k < EXPLAIN_NCAUSES; k++) {
			if (k > 0)
				json_out_raw(o, ",", 1);
			json_out_u64(o, (uint64_t)e->us[k]);
		}
		json_out_raw(o, "]", 1);
		ex_row_i64(o, e->rtt_us);
		ex_row_i64(o, e->path_rtt_us);
		ex_row_i64(o, e->slow_start_rtts);
		ex_row_i64(o, e->loss_episodes);
		ex_row_i64(o, e->zero_windows);
		ex_row_i64(o, e->body_bytes);
		ex_row_bool(o, e->opened);
		ex_row_bool(o, e->dns);
		ex_row_bool(o, e->packets);
	}
	json_out_raw(o, "]", 1);
}

void
explain_json_all(FILE *f, const struct doc *d)
{
	struct json_out		*o = json_out_new(f);
	const msgpack_object	*t;
	struct explain		 e;
	const char		*key;
	uint32_t		 i, out = 0;
	uint64_t		 id;
	size_t			 k;

	json_out_raw(o, "{\"keys\":[", 9);
	for (k = 0; k < sizeof(ex_row_keys) / sizeof(ex_row_keys[0]); k++) {
		json_out_raw(o, k > 0 ? ",\"" : "\"", k > 0 ? 2 : 1);
		json_out_raw(o, ex_row_keys[k], strlen(ex_row_keys[k]));
		json_out_raw(o, "\"", 1);
	}
	json_out_raw(o, "],\"causes\":[", 12);
	for (k = 0; k < EXPLAIN_NCAUSES; k++) {
		key = explain_key((int)k);
		json_out_raw(o, k > 0 ? ",\"" : "\"", k > 0 ? 2 : 1);
		json_out_raw(o, key, strlen(key));
		json_out_raw(o, "_us\"", 4);
	}
	json_out_raw(o, "],\"rows\":[", 10);
	for (i = 0; i < render_count(d->transactions); i++) {
		t = &d->transactions->via.array.ptr[i];
		if (proto_get_u64(t, "id", &id) == -1)
			continue;
		explain_txn(d, t, &e);
		if (out++ > 0)
			json_out_raw(o, ",", 1);
		ex_json_row(o, id, &e);
	}
	json_out_raw(o, "]}", 2);
	json_out_free(o);
}
