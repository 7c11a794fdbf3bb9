#!/bin/sh
# 050-live: real traffic between two network namespaces made here (nginx
# and python3 -m http.server in one, curl, wget and a raw pipelining
# client in the other), captured by tcpdump on the server side, then
# `htracrctl analyze --json` on the capture compared with what each
# client itself reports it sent and got back. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx tcpdump curl wget python3
t_need_bins
t_tmpdir

SRV=10.231.7.1
CLI=10.231.7.2
WWW=$T_TMP/www
EXP=$T_TMP/expected.tsv		# group, method, target, status per request
CAP=$T_TMP/live.pcap
OUT=$T_TMP/live.json

# A few files: HTML, a small text, a large repetitive text nginx gzips,
# and one the pipelining client asks for ten times.
make_site() {
	mkdir -p "$WWW"
	printf '<html><body>htracr live test</body></html>\n' >"$WWW/index.html"
	printf 'small\n' >"$WWW/small.txt"
	python3 -c 'import sys
for i in range(3000):
	sys.stdout.write("line %05d of a text that compresses well\n" % i)' \
	    >"$WWW/big.txt"
	printf 'p\n' >"$WWW/p.txt"
}

start_nginx() {
	t_nginx "http://$SRV/small.txt" <<EOF
	types { text/html html; text/plain txt; }
	default_type application/octet-stream;
	gzip on;
	gzip_types text/plain;
	gzip_min_length 1000;
	server {
		listen $SRV:80;
		root $WWW;
		location = /post { return 200 "posted\n"; }
	}
EOF
}

start_pyserver() {
	T_BG_LOG=$T_TMP/pyserver.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    python3 -m http.server 8000 --bind "$SRV" --directory "$WWW"
	t_wait_for 10 t_ns srv curl -s -o /dev/null "http://$SRV:8000/small.txt"
}

# curl's own account of each request: one line per URL.
curl_run() {
	group=$1
	shift
	t_ns cli timeout 20 curl -s --max-time 10 \
	    -w "$group\t%{method}\t%{url_effective}\t%{http_code}\n" "$@" |
	    grep "^$group	" |
	    sed "s#\thttp://$SRV\(:[0-9]*\)\{0,1\}#\t#" >>"$EXP"
}

run_clients() {
	u=http://$SRV
	: >"$EXP"
	# Keep-alive: four URLs on one connection, gzip accepted.
	curl_run ka --compressed -o /dev/null -o /dev/null -o /dev/null \
	    -o /dev/null "$u/" "$u/small.txt" "$u/big.txt" "$u/missing"
	curl_run h10 -0 -o /dev/null "$u/small.txt"
	curl_run head -I -o /dev/null "$u/big.txt"
	curl_run post -o /dev/null --data-binary 'name=htracr&n=1' "$u/post"
	# If-Modified-Since from the very file nginx serves: 304.
	curl_run cond -o /dev/null -z "$WWW/index.html" "$u/index.html"
	# wget against the HTTP/1.0 python server; -S prints each status.
	# Without keep-alive: wget may reuse a connection the server is
	# closing, and then sends a request that never gets an answer.
	t_ns cli timeout 20 wget -S -T 10 -t 1 --no-http-keep-alive -O /dev/null \
	    "$u:8000/index.html" "$u:8000/small.txt" 2>"$T_TMP/wget.log"
	python3 - "$T_TMP/wget.log" >>"$EXP" <<'EOF'
import re, sys
target = None
sent = False
for line in open(sys.argv[1], errors="replace"):
	m = re.match(r"--\S+ \S+--\s+http://[^/]+(/\S*)", line)
	if m:
		target = m.group(1)
	if "request sent, awaiting response" in line:
		sent = True
	m = re.match(r"\s+HTTP/\d\.\d (\d+)", line)
	if m and sent:
		print("wget\tGET\t%s\t%s" % (target, m.group(1)))
		sent = False
	elif sent and "No data received" in line:
		print("wget\tGET\t%s\t-" % target)
		sent = False
EOF
	# Ten requests in one write; the last one asks the server to close.
	t_ns cli timeout 20 python3 - "$SRV" >>"$EXP" <<'EOF'
import socket, sys
reqs = []
for i in range(1, 11):
	close = "Connection: close\r\n" if i == 10 else ""
	reqs.append("GET /p.txt?n=%d HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (i, sys.argv[1], close))
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall("".join(reqs).encode())
data = b""
while True:
	b = s.recv(65536)
	if not b:
		break
	data += b
s.close()
# Responses in order: status line, headers, Content-Length bytes.
i = 0
while data:
	head, _, rest = data.partition(b"\r\n\r\n")
	lines = head.split(b"\r\n")
	status = int(lines[0].split()[1])
	n = 0
	for l in lines[1:]:
		k, _, v = l.partition(b":")
		if k.strip().lower() == b"content-length":
			n = int(v)
	data = rest[n:]
	i += 1
	print("pipe\tGET\t/p.txt?n=%d\t%d" % (i, status))
EOF
}

t_pair "$SRV" "$CLI"
make_site
start_nginx
start_pyserver || { t_fail "$T_NAME/http.server" "python3 -m http.server did not come up"; t_exit; }
t_tcpdump "$CAP" tcp
run_clients
# Let the last FIN/ACKs reach the capture before stopping it.
sleep 1
t_kill "$TCPDUMP_PID"

nexp=$(wc -l <"$EXP")
if [ "$nexp" -lt 15 ]; then
	t_fail "$T_NAME/clients" "the clients reported only $nexp requests (see $EXP)"
	t_exit
fi
t_pass "$T_NAME/clients"

if ! timeout 120 "$HTRACRCTL" analyze "$CAP" --ports 80,8000 --json >"$OUT" \
    2>"$T_TMP/analyze.err"; then
	t_fail "$T_NAME/analyze" "htracrctl analyze failed: $(head -n 1 "$T_TMP/analyze.err")"
	t_exit
fi
t_pass "$T_NAME/analyze"

python3 - "$T_NAME" "$OUT" "$EXP" "$CAP" "$WWW" >"$T_TMP/res" 2>"$T_TMP/res.err" <<'EOF'
import collections, json, os, struct, sys

name, jpath, epath, cpath, www = sys.argv[1:6]


def report(check, ok, why=""):
	if ok:
		print("PASS: %s/%s" % (name, check))
	else:
		print("FAIL: %s/%s: %s" % (name, check, why))


def frames_in(path):
	with open(path, "rb") as f:
		hdr = f.read(24)
		magic = struct.unpack("<I", hdr[:4])[0]
		order = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
		n = 0
		while True:
			rec = f.read(16)
			if len(rec) < 16:
				return n
			incl = struct.unpack(order + "IIII", rec)[2]
			f.seek(incl, 1)
			n += 1


with open(jpath, "rb") as f:
	d = json.loads(f.read().decode("utf-8", "surrogateescape"))
exp = [l.rstrip("\n").split("\t") for l in open(epath) if l.strip()]
txns = d.get("transactions", [])
conns = {c["id"]: c for c in d.get("connections", [])}
txns.sort(key=lambda t: (t["request"].get("start_us") or 0, t["connection"], t["index"]))


def status(t):
	return (t.get("response") or {}).get("status")


got = [(t["request"].get("method"), t["request"].get("target"), status(t)) for t in txns]
want = [(m, tg, None if s == "-" else int(s)) for _, m, tg, s in exp]
report("count", len(got) == len(want), "clients made %d requests, htracr shows %d" % (len(want), len(got)))
why = ""
for i in range(max(len(got), len(want))):
	g = got[i] if i < len(got) else None
	w = want[i] if i < len(want) else None
	if g != w:
		why = "request %d: clients %s, htracr %s" % (i, ascii(w), ascii(g))
		break
report("transactions", not why, why)

counters = (d.get("session") or {}).get("counters") or {}
nf = frames_in(cpath)
report("frames", counters.get("frames") == nf, "tcpdump wrote %d frames, htracr counted %s" % (nf, counters.get("frames")))

# Transactions of each client run, matched by (method, target) in order.
bygroup = collections.defaultdict(list)
pool = list(txns)
for g, m, tg, s in exp:
	for t in pool:
		if t["request"].get("method") == m and t["request"].get("target") == tg:
			bygroup[g].append(t)
			pool.remove(t)
			break


def one_conn(g, n):
	ts = bygroup.get(g, [])
	cs = {t["connection"] for t in ts}
	report(g + "_connection", len(ts) == n and len(cs) == 1,
	    "%d of %d transactions found, on %d connections" % (len(ts), n, len(cs)))


nk = sum(1 for e in exp if e[0] == "ka")
one_conn("ka", nk)
np = sum(1 for e in exp if e[0] == "pipe")
one_conn("pipe", np)

pipe = sorted(bygroup.get("pipe", []), key=lambda t: t["index"])
flags = [bool(t.get("pipelined")) for t in pipe]
report("pipelined", len(pipe) == 10 and flags == [False] + [True] * 9,
    "pipelined flags in order: %s" % flags)

for t in bygroup.get("ka", []):
	if t["request"].get("target") == "/big.txt":
		r = t.get("response") or {}
		size = os.path.getsize(os.path.join(www, "big.txt"))
		ok = (r.get("content_encoding") == "gzip" and r.get("body_bytes") is not None
		    and r.get("decoded_bytes") == size and r["decoded_bytes"] > r["body_bytes"])
		report("gzip", ok, "content_encoding %s, body_bytes %s, decoded_bytes %s, file %d"
		    % (r.get("content_encoding"), r.get("body_bytes"), r.get("decoded_bytes"), size))

for t in bygroup.get("cond", []):
	report("conditional", t.get("conditional") is True and t.get("not_modified") is True
	    and status(t) == 304, "conditional %s, not_modified %s, status %s"
	    % (t.get("conditional"), t.get("not_modified"), status(t)))
for t in bygroup.get("ka", []):
	if t.get("conditional"):
		report("not_conditional", False, "%s marked conditional" % t["request"].get("target"))

for t in bygroup.get("head", []):
	r = t.get("response") or {}
	report("head", r.get("body_bytes") == 0 and r.get("complete") is True,
	    "HEAD response body_bytes %s complete %s" % (r.get("body_bytes"), r.get("complete")))

for t in bygroup.get("post", []):
	q = t["request"]
	report("post", q.get("body_bytes") == len("name=htracr&n=1"),
	    "POST body_bytes %s" % q.get("body_bytes"))

for t in bygroup.get("h10", []):
	report("http10", t["request"].get("version") == "1.0" and t.get("connection_close") is True,
	    "version %s, connection_close %s" % (t["request"].get("version"), t.get("connection_close")))

# Whole requests and responses, except where a client got no answer
# (aligned with the clients' list, as checked above).
incomplete = [t["request"].get("target") for t, w in zip(txns, want)
    if w[2] is not None
    and not (t["request"].get("complete") and (t.get("response") or {}).get("complete"))]
report("complete", not incomplete, "incomplete: %s" % ascii(incomplete[:5]))

# Every connection was seen from its SYN and closed by the clients.
flagged = [c["id"] for c in conns.values() if "midstream" in (c.get("flags") or []) or "gap" in (c.get("flags") or [])]
report("streams_clean", not flagged, "connections flagged midstream/gap: %s" % flagged)
EOF
rc=$?
cat "$T_TMP/res"
[ "$rc" -eq 0 ] || t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1
t_exit
