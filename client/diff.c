/*
 * diff.c: two sessions side by side, per host and per URL. Each session's
 * transactions are keyed (host, or host and target with the query as
 * asked), sorted, and summed per key; the two sorted lists are then
 * walked together, so a key is in A, in B or in both, and the rows are
 * ordered by how much their total time changed. Runs in htracrctl with
 * the invoking user's privileges; keys are escaped wire strings, safe
 * for a terminal and for JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "doc.h"
#include "esc.h"
#include "fmt.h"
#include "json.h"
#include "proto.h"
#include "render.h"
#include "xmalloc.h"

#define DIFF_KEYLEN	1024	/* of an escaped host and target */
#define DIFF_STATUSES	8	/* told apart per key; more are "other" */
#define DIFF_OTHER	(-2)

/* One key's transactions in one session. */
struct df_side {
	uint64_t	 txns;
	int64_t		*waits;
	size_t		 nwaits;
	int64_t		*totals;
	size_t		 ntotals;
	int64_t		 total_us;	/* every transaction's, summed */
	uint64_t	 wire;		/* response headers and body */
	uint64_t	 decoded;
	uint64_t	 compressed;	/* responses with a content encoding */
	struct {
		int64_t	 status;	/* -1: none, DIFF_OTHER */
		uint64_t n;
	}		 st[DIFF_STATUSES + 1];
	size_t		 nst;
	/* Hosts only: their connections. */
	uint64_t	 opened;
	uint64_t	 reused;
	uint64_t	 packets;
	uint64_t	 retrans;
};

struct df_row {
	char		*key;
	struct df_side	 s;
};

struct df_set {
	struct df_row	*rows;
	size_t		 n;
};

struct df_item {
	char			*key;
	const msgpack_object	*t;
};

struct df_pair {
	const char		*key;
	const struct df_side	*a;
	const struct df_side	*b;
	int64_t			 impact;	/* B's total time minus A's */
};

static int
df_cmp64(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

static int
df_item_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct df_item *)a)->key,
	    ((const struct df_item *)b)->key));
}

static int
df_str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Nearest-rank quantile of a sorted list; -1 if empty. */
static int64_t
df_quantile(const int64_t *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return (-1);
	i = (size_t)(q * (double)n + 0.999999);
	return (v[i == 0 ? 0 : (i > n ? n : i) - 1]);
}

/*
 * The server's name (Host), else its address, and its port, escaped:
 * two servers of one name on two ports stay apart.
 */
static void
df_host(const struct doc *d, uint64_t id, char *buf, size_t size)
{
	const msgpack_object	*s = doc_server(d, id);
	const char		*name;
	size_t			 len;
	char			 host[200];

	if ((name = render_str(s, "name", &len)) == NULL &&
	    (name = render_str(s, "addr", &len)) == NULL) {
		snprintf(buf, size, "server#%llu", (unsigned long long)id);
		return;
	}
	esc_buf(host, sizeof(host), name, len);
	snprintf(buf, size, "%s:%lld", host, (long long)render_int(s, "port",
	    0));
}

/* The query of target as the key wants it; returns buf. */
static const char *
df_query(const char *q, enum diff_query how, char *buf, size_t size)
{
	char	*copy, *p, **parts = NULL;
	size_t	 n = 0, i, off = 0;

	if (how == DIFF_QUERY_DROP || *q == '\0')
		return ("");
	if (how == DIFF_QUERY_KEEP) {
		snprintf(buf, size, "?%s", q);
		return (buf);
	}
	copy = xstrdup(q);
	for (p = strtok(copy, "&"); p != NULL; p = strtok(NULL, "&")) {
		parts = xreallocarray(parts, n + 1, sizeof(*parts));
		parts[n++] = p;
	}
	if (n > 1)	/* "&&" has no parts: parts is still NULL */
		qsort(parts, n, sizeof(*parts), df_str_cmp);
	buf[0] = '\0';
	for (i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%c%s",
		    i ? '&' : '?', parts[i]);
	free(parts);
	free(copy);
	return (buf);
}

/* "host" or "host/target", the key of transaction t. Caller frees. */
static char *
df_key(const struct doc *d, const msgpack_object *t, int urls,
    enum diff_query how)
{
	char		 host[256], target[DIFF_KEYLEN], q[DIFF_KEYLEN], *p;
	char		*key;
	const char	*tg;
	size_t		 len;

	df_host(d, (uint64_t)render_int(t, "server", 0), host, sizeof(host));
	if (!urls)
		return (xstrdup(host));
	tg = render_str(proto_get(t, "request"), "target", &len);
	esc_buf(target, sizeof(target), tg ? tg : "?", tg ? len : 1);
	if ((p = strchr(target, '?')) != NULL)
		*p++ = '\0';
	key = xmalloc(DIFF_KEYLEN * 2 + 256);
	snprintf(key, DIFF_KEYLEN * 2 + 256, "%s%s%s", host, target,
	    p ? df_query(p, how, q, sizeof(q)) : "");
	return (key);
}

static void
df_status(struct df_side *s, int64_t status)
{
	size_t	 i;

	for (i = 0; i < s->nst; i++)
		if (s->st[i].status == status) {
			s->st[i].n++;
			return;
		}
	if (s->nst == DIFF_STATUSES) {
		status = DIFF_OTHER;
		for (i = 0; i < s->nst; i++)
			if (s->st[i].status == status) {
				s->st[i].n++;
				return;
			}
	}
	s->st[s->nst].status = status;
	s->st[s->nst++].n = 1;
}

static void
df_push(int64_t **v, size_t *n, int64_t x)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = x;
}

static void
df_add_txn(struct df_side *s, const msgpack_object *t)
{
	const msgpack_object	*req = proto_get(t, "request");
	const msgpack_object	*resp = proto_get(t, "response");
	int64_t			 wait, a, b, body;
	size_t			 len;

	s->txns++;
	df_status(s, render_int(resp, "status", -1));
	if ((wait = render_int(proto_get(t, "timings"), "wait_us", -1)) >= 0)
		df_push(&s->waits, &s->nwaits, wait);
	a = render_int(req, "start_us", -1);
	b = render_int(resp, "end_us", -1);
	if (a >= 0 && b >= a) {
		df_push(&s->totals, &s->ntotals, b - a);
		s->total_us += b - a;
	}
	body = render_int(resp, "body_bytes", 0);
	s->wire += (uint64_t)(render_int(resp, "header_bytes", 0) + body);
	s->decoded += (uint64_t)render_int(resp, "decoded_bytes", body);
	if (render_str(resp, "content_encoding", &len) != NULL)
		s->compressed++;
}

static void
df_add_conn(struct df_side *s, const msgpack_object *c)
{
	const char	*dirs[] = { "c2s", "s2c" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		s->packets += (uint64_t)render_int(proto_get(c, dirs[i]),
		    "packets", 0);
		s->retrans += (uint64_t)render_int(proto_get(c, dirs[i]),
		    "retransmits", 0);
	}
	if (render_int(c, "syn_us", -1) >= 0)
		s->opened++;
	if (render_count(render_array(c, "transactions")) > 1)
		s->reused++;
}

static struct df_row *
df_find(const struct df_set *set, const char *key)
{
	size_t	 lo = 0, hi = set->n, m;
	int	 c;

	while (lo < hi) {
		m = (lo + hi) / 2;
		if ((c = strcmp(set->rows[m].key, key)) == 0)
			return (&set->rows[m]);
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return (NULL);
}

/* A host's connections, into its row. */
static void
df_conns(const struct doc *d, struct df_set *set)
{
	const msgpack_object	*c;
	struct df_row		*r;
	char			 host[256];
	uint32_t		 i;

	for (i = 0; i < render_count(d->connections); i++) {
		c = &d->connections->via.array.ptr[i];
		df_host(d, (uint64_t)render_int(c, "server", 0), host,
		    sizeof(host));
		if ((r = df_find(set, host)) != NULL)
			df_add_conn(&r->s, c);
	}
}

/* One session's rows, sorted by key. */
static void
df_collect(const struct doc *d, int urls, enum diff_query how,
    struct df_set *set)
{
	struct df_item	*it;
	struct df_row	*r = NULL;
	uint32_t	 i, n = render_count(d->transactions);

	memset(set, 0, sizeof(*set));
	it = xreallocarray(NULL, n + 1, sizeof(*it));
	for (i = 0; i < n; i++) {
		it[i].t = &d->transactions->via.array.ptr[i];
		it[i].key = df_key(d, it[i].t, urls, how);
	}
	qsort(it, n, sizeof(*it), df_item_cmp);
	set->rows = xcalloc(n + 1, sizeof(*set->rows));
	for (i = 0; i < n; i++) {
		if (r == NULL || strcmp(r->key, it[i].key) != 0) {
			r = &set->rows[set->n++];
			r->key = it[i].key;
		} else
			free(it[i].key);
		df_add_txn(&r->s, it[i].t);
	}
	/* A row whose requests got no answer has no waits: a NULL array. */
	for (i = 0; i < set->n; i++) {
		if (set->rows[i].s.nwaits > 1)
			qsort(set->rows[i].s.waits, set->rows[i].s.nwaits,
			    sizeof(int64_t), df_cmp64);
		if (set->rows[i].s.ntotals > 1)
			qsort(set->rows[i].s.totals, set->rows[i].s.ntotals,
			    sizeof(int64_t), df_cmp64);
	}
	if (!urls)
		df_conns(d, set);
	free(it);
}

static void
df_set_free(struct df_set *set)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		free(set->rows[i].key);
		free(set->rows[i].s.waits);
		free(set->rows[i].s.totals);
	}
	free(set->rows);
}

static int
df_pair_cmp(const void *a, const void *b)
{
	const struct df_pair	*x = a, *y = b;
	int64_t			 ix = llabs(x->impact), iy = llabs(y->impact);

	if (ix != iy)
		return (ix > iy ? -1 : 1);
	return (strcmp(x->key, y->key));
}

/* The two sorted sets walked together; by impact. Caller frees. */
static struct df_pair *
df_join(const struct df_set *a, const struct df_set *b, size_t *n)
{
	struct df_pair	*p;
	size_t		 i = 0, j = 0;
	int		 c;

	p = xcalloc(a->n + b->n + 1, sizeof(*p));
	*n = 0;
	while (i < a->n || j < b->n) {
		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = strcmp(a->rows[i].key, b->rows[j].key);
		p[*n].key = c <= 0 ? a->rows[i].key : b->rows[j].key;
		p[*n].a = c <= 0 ? &a->rows[i++].s : NULL;
		p[*n].b = c >= 0 ? &b->rows[j++].s : NULL;
		p[*n].impact = (p[*n].b ? p[*n].b->total_us : 0) -
		    (p[*n].a ? p[*n].a->total_us : 0);
		(*n)++;
	}
	qsort(p, *n, sizeof(*p), df_pair_cmp);
	return (p);
}

static const char *
df_change(const struct df_pair *p)
{
	if (p->a == NULL)
		return ("new");
	if (p->b == NULL)
		return ("gone");
	return ("both");
}

/* Text ------------------------------------------------------------- */

static const char *
df_dur(int64_t us, char *buf, size_t size)
{
	if (us < 0)
		return ("-");
	return (fmt_duration(buf, size, us));
}

static void
df_statuses(FILE *f, const struct df_side *s)
{
	size_t	 i;

	if (s == NULL) {
		fputs("-", f);
		return;
	}
	for (i = 0; i < s->nst; i++) {
		if (s->st[i].status == DIFF_OTHER)
			fprintf(f, "%sother x%llu", i ? " " : "",
			    (unsigned long long)s->st[i].n);
		else if (s->st[i].status < 0)
			fprintf(f, "%snone x%llu", i ? " " : "",
			    (unsigned long long)s->st[i].n);
		else
			fprintf(f, "%s%lld x%llu", i ? " " : "",
			    (long long)s->st[i].status,
			    (unsigned long long)s->st[i].n);
	}
}

/* "label A -> B" for one quantile of a list. */
static void
df_q_pair(FILE *f, const char *label, const struct df_pair *p, int totals,
    double q)
{
	char	 x[FMT_NUMLEN], y[FMT_NUMLEN];

	fprintf(f, ", %s %s -> %s", label,
	    p->a ? df_dur(df_quantile(totals ? p->a->totals : p->a->waits,
	    totals ? p->a->ntotals : p->a->nwaits, q), x, sizeof(x)) : "-",
	    p->b ? df_dur(df_quantile(totals ? p->b->totals : p->b->waits,
	    totals ? p->b->ntotals : p->b->nwaits, q), y, sizeof(y)) : "-");
}

/* "label A -> B" of a count or a size; "-" for a side without the key. */
static void
df_num(FILE *f, const char *sep, const char *label, const struct df_pair *p,
    uint64_t va, uint64_t vb, int bytes)
{
	char	 x[FMT_NUMLEN], y[FMT_NUMLEN];

	if (bytes) {
		fmt_bytes(x, sizeof(x), va);
		fmt_bytes(y, sizeof(y), vb);
	} else {
		snprintf(x, sizeof(x), "%llu", (unsigned long long)va);
		snprintf(y, sizeof(y), "%llu", (unsigned long long)vb);
	}
	fprintf(f, "%s%s %s -> %s", sep, label, p->a ? x : "-",
	    p->b ? y : "-");
}

static double
df_rate(const struct df_side *s)
{
	return (s && s->packets ? 100.0 * s->retrans / s->packets : 0);
}

/* A field of either side, 0 where the key is not in that session. */
#define A(field)	(p->a != NULL ? p->a->field : 0)
#define B(field)	(p->b != NULL ? p->b->field : 0)

static void
df_print_row(FILE *f, const struct df_pair *p, int hosts, int color)
{
	char	 d[FMT_NUMLEN];

	fprintf(f, "  %s%c%-9s%s %s%s%s\n", color ? "\033[1m" : "",
	    p->impact < 0 ? '-' : '+', df_dur(llabs(p->impact), d, sizeof(d)),
	    color ? "\033[0m" : "", p->key, p->a == NULL ? "  (new)" : "",
	    p->b == NULL ? "  (gone)" : "");
	fprintf(f, "      transactions %llu -> %llu, status ",
	    (unsigned long long)(p->a ? p->a->txns : 0),
	    (unsigned long long)(p->b ? p->b->txns : 0));
	df_statuses(f, p->a);
	fputs(" -> ", f);
	df_statuses(f, p->b);
	df_q_pair(f, "wait median", p, 0, 0.5);
	df_q_pair(f, "p95", p, 0, 0.95);
	df_q_pair(f, "total median", p, 1, 0.5);
	df_q_pair(f, "p95", p, 1, 0.95);
	df_num(f, "\n      ", "wire", p, A(wire), B(wire), 1);
	df_num(f, ", ", "decoded", p, A(decoded), B(decoded), 1);
	df_num(f, ", ", "compressed", p, A(compressed), B(compressed), 0);
	if (hosts) {
		df_num(f, ", ", "connections opened", p, A(opened), B(opened),
		    0);
		df_num(f, ", ", "reused", p, A(reused), B(reused), 0);
		fprintf(f, ", retransmissions %.2f%% -> %.2f%%", df_rate(p->a),
		    df_rate(p->b));
	}
	fputc('\n', f);
}

static void
df_print_set(FILE *f, const char *title, const struct df_set *a,
    const struct df_set *b, int hosts, int color)
{
	struct df_pair	*p;
	size_t		 i, n;

	p = df_join(a, b, &n);
	fprintf(f, "%s, by change in total time:\n", title);
	for (i = 0; i < n; i++)
		df_print_row(f, &p[i], hosts, color);
	if (n == 0)
		fputs("  none\n", f);
	free(p);
}

int
diff_print(FILE *f, const struct doc *a, const struct doc *b,
    enum diff_query how, int color)
{
	struct df_set	 ha, hb, ua, ub;
	uint64_t	 ida = 0, idb = 0;

	(void)proto_get_u64(a->session, "id", &ida);
	(void)proto_get_u64(b->session, "id", &idb);
	df_collect(a, 0, how, &ha);
	df_collect(b, 0, how, &hb);
	df_collect(a, 1, how, &ua);
	df_collect(b, 1, how, &ub);
	fprintf(f, "session %llu -> session %llu\n\n", (unsigned long long)ida,
	    (unsigned long long)idb);
	df_print_set(f, "hosts", &ha, &hb, 1, color);
	fputc('\n', f);
	df_print_set(f, "URLs", &ua, &ub, 0, color);
	df_set_free(&ha);
	df_set_free(&hb);
	df_set_free(&ua);
	df_set_free(&ub);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

/* JSON ------------------------------------------------------------- */

static void
df_jkey(struct json_out *o, const char *k, int comma)
{
	if (comma)
		json_out_raw(o, ",", 1);
	json_out_str(o, k, strlen(k));
	json_out_raw(o, ":", 1);
}

static void
df_jint(struct json_out *o, const char *k, int64_t v, int nil)
{
	char	 buf[32];
	int	 n;

	df_jkey(o, k, 1);
	if (nil) {
		json_out_raw(o, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_out_raw(o, buf, (size_t)n);
}

static void
df_jq(struct json_out *o, const char *k, const int64_t *v, size_t n,
    double q)
{
	int64_t	 x = df_quantile(v, n, q);

	df_jint(o, k, x, x < 0);
}

static void
df_jstatuses(struct json_out *o, const struct df_side *s)
{
	char	 k[24];
	size_t	 i;

	df_jkey(o, "statuses", 1);
	json_out_raw(o, "{", 1);
	for (i = 0; i < s->nst; i++) {
		if (s->st[i].status == DIFF_OTHER)
			snprintf(k, sizeof(k), "other");
		else if (s->st[i].status < 0)
			snprintf(k, sizeof(k), "none");
		else
			snprintf(k, sizeof(k), "%lld",
			    (long long)s->st[i].status);
		df_jkey(o, k, i > 0);
		json_out_u64(o, s->st[i].n);
	}
	json_out_raw(o, "}", 1);
}

static void
df_jside(struct json_out *o, const char *k, const struct df_side *s,
    int hosts)
{
	df_jkey(o, k, 1);
	if (s == NULL) {
		json_out_raw(o, "null", 4);
		return;
	}
	json_out_raw(o, "{", 1);
	df_jkey(o, "transactions", 0);
	json_out_u64(o, s->txns);
	df_jstatuses(o, s);
	df_jq(o, "wait_median_us", s->waits, s->nwaits, 0.5);
	df_jq(o, "wait_p95_us", s->waits, s->nwaits, 0.95);
	df_jq(o, "total_median_us", s->totals, s->ntotals, 0.5);
	df_jq(o, "total_p95_us", s->totals, s->ntotals, 0.95);
	df_jint(o, "total_us", s->total_us, 0);
	df_jint(o, "wire_bytes", (int64_t)s->wire, 0);
	df_jint(o, "decoded_bytes", (int64_t)s->decoded, 0);
	df_jint(o, "compressed", (int64_t)s->compressed, 0);
	if (hosts) {
		df_jint(o, "connections_opened", (int64_t)s->opened, 0);
		df_jint(o, "connections_reused", (int64_t)s->reused, 0);
		df_jint(o, "packets", (int64_t)s->packets, 0);
		df_jint(o, "retransmits", (int64_t)s->retrans, 0);
	}
	json_out_raw(o, "}", 1);
}

static void
df_jset(struct json_out *o, const char *k, const struct df_set *a,
    const struct df_set *b, int hosts)
{
	struct df_pair	*p;
	size_t		 i, n;

	p = df_join(a, b, &n);
	df_jkey(o, k, 1);
	json_out_raw(o, "[", 1);
	for (i = 0; i < n; i++) {
		json_out_raw(o, i ? ",{" : "{", i ? 2 : 1);
		df_jkey(o, "key", 0);
		json_out_str(o, p[i].key, strlen(p[i].key));
		df_jkey(o, "change", 1);
		json_out_str(o, df_change(&p[i]), strlen(df_change(&p[i])));
		df_jint(o, "impact_us", p[i].impact, 0);
		df_jside(o, "a", p[i].a, hosts);
		df_jside(o, "b", p[i].b, hosts);
		json_out_raw(o, "}", 1);
	}
	json_out_raw(o, "]", 1);
	free(p);
}

int
diff_json(FILE *f, const struct doc *a, const struct doc *b,
    enum diff_query how)
{
	static const char	*qs[] = { "keep", "sort", "drop" };
	struct json_out		*o = json_out_new(f);
	struct df_set		 ha, hb, ua, ub;
	uint64_t		 ida = 0, idb = 0;

	(void)proto_get_u64(a->session, "id", &ida);
	(void)proto_get_u64(b->session, "id", &idb);
	df_collect(a, 0, how, &ha);
	df_collect(b, 0, how, &hb);
	df_collect(a, 1, how, &ua);
	df_collect(b, 1, how, &ub);
	json_out_raw(o, "{", 1);
	df_jkey(o, "a", 0);
	json_out_u64(o, ida);
	df_jkey(o, "b", 1);
	json_out_u64(o, idb);
	df_jkey(o, "query", 1);
	json_out_str(o, qs[how], strlen(qs[how]));
	df_jset(o, "hosts", &ha, &hb, 1);
	df_jset(o, "urls", &ua, &ub, 0);
	json_out_raw(o, "}\n", 2);
	json_out_free(o);
	df_set_free(&ha);
	df_set_free(&hb);
	df_set_free(&ua);
	df_set_free(&ub);
	return (ferror(f) ? -1 : 0);
}
