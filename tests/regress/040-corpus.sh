#!/bin/sh
# 040-corpus: htracrctl analyze on every real capture in ../shared/corpus,
# cross-checked against tshark's view of the same file (tshark/FILE.tsv:
# one row per frame that completes HTTP messages) and tshark's summary
# in SOURCES.md. Per TCP stream: the same requests in the same order, the
# same final statuses, each response paired with the request tshark pairs
# it with (by tshark's http.time), each wait_us against tshark's
# http.time (waitcheck.py), and the summary counts that mean the same
# thing in both tools. One line per capture and check.
. "$(dirname "$0")/lib.sh"

t_need_shared corpus
t_need_cmd python3
t_need_bins
t_tmpdir

CORPUS=$T_SHARED

check_capture() {
	f=$1
	base=$(basename "$f")
	name="$T_NAME/$base"
	tsv="$CORPUS/tshark/$base.tsv"
	out="$T_TMP/$base.json"
	if [ ! -f "$tsv" ]; then
		t_skip "$name" "no tshark/$base.tsv to compare with"
		return
	fi
	if ! timeout 120 "$HTRACRCTL" analyze "$f" --json >"$out" \
	    2>"$T_TMP/$base.err"; then
		t_fail "$name/analyze" "htracrctl analyze failed: $(head -n 1 "$T_TMP/$base.err")"
		return
	fi
	res="$T_TMP/$base.res"
	python3 - "$name" "$out" "$tsv" "$CORPUS/SOURCES.md" "$base" >"$res" \
	    2>"$res.err" <<'EOF'
import ast, collections, json, re, sys

name, jpath, tpath, spath, base = sys.argv[1:6]


def show(v):
	s = ascii(v)
	return s if len(s) <= 160 else s[:157] + "..."


def report(check, ok, why=""):
	if ok:
		print("PASS: %s/%s" % (name, check))
	else:
		print("FAIL: %s/%s: %s" % (name, check, why))


def is_final(code):
	return not (100 <= code <= 199) or code == 101


# tshark's view: per stream, the requests and the responses in frame order.
def read_tsv(path):
	streams = collections.OrderedDict()
	multi = []	# (stream, position of a request sent in the same frame as the one before)
	with open(path, encoding="utf-8", errors="surrogateescape") as f:
		head = f.readline().rstrip("\n").split("\t")
		col = {k: i for i, k in enumerate(head)}
		for line in f:
			row = line.rstrip("\n").split("\t")
			if len(row) < len(head):
				row += [""] * (len(head) - len(row))
			s = int(row[col["tcp_stream"]])
			st = streams.setdefault(s, {"reqs": [], "resps": []})
			methods = row[col["methods"]].split()
			uris = row[col["uris"]].split()
			codes = [int(c) for c in row[col["status_codes"]].split()]
			times = row[col["http_time"]].split()
			for i, m in enumerate(methods):
				if i > 0:
					multi.append((s, len(st["reqs"])))
				st["reqs"].append((m, uris[i] if i < len(uris) else None))
			for i, c in enumerate(codes):
				t = None
				if len(times) == len(codes):
					t = round(float(times[i]) * 1e6)
				st["resps"].append((c, t, int(row[col["frame"]])))
	return streams, multi


def read_summary(path, base):
	with open(path, encoding="utf-8") as f:
		for line in f:
			if line.startswith("- " + base + ": "):
				rest = line[len(base) + 4:]
				out = {}
				for m in re.finditer(r"(\S+?)=(\{[^}]*\}|\[[^\]]*\]|\S+)", rest):
					out[m.group(1)] = ast.literal_eval(m.group(2))
				return out
	return None


with open(jpath, "rb") as f:
	raw = f.read()
try:
	d = json.loads(raw.decode("utf-8", "surrogateescape"))
except ValueError as e:
	report("json", False, "not one JSON document: %s" % e)
	sys.exit(0)
report("json", d.get("htracr") == 1 and isinstance(d.get("transactions"), list),
    "no htracr:1 document with transactions")

conns = {c["id"]: c for c in d.get("connections", [])}
bycon = collections.defaultdict(list)
for t in d.get("transactions", []):
	bycon[t["connection"]].append(t)
for l in bycon.values():
	l.sort(key=lambda t: t["index"])
ours = sorted((cid for cid in bycon), key=lambda cid: (
    conns.get(cid, {}).get("first_us") or 0, cid))


def reqs_of(cid):
	return [(t["request"].get("method"), t["request"].get("target"))
	    for t in bycon[cid]]


def complete_resp(t):
	r = t.get("response")
	return r is not None and r.get("complete") and r.get("status") is not None


streams, multi = read_tsv(tpath)

# Streams are matched by their request sequence (ids differ between the
# tools); an unmatched stream fails "requests" below.
match = {}
used = set()
for s, st in streams.items():
	for cid in ours:
		if cid not in used and reqs_of(cid) == st["reqs"]:
			match[s] = cid
			used.add(cid)
			break

report("streams", len(ours) == len(streams),
    "tshark has %d HTTP streams, htracr %d connections with transactions"
    % (len(streams), len(ours)))

bad = [s for s in streams if s not in match]
why = ""
if bad:
	s = bad[0]
	want = streams[s]["reqs"]
	left = [reqs_of(c) for c in ours if c not in used]
	if not left:
		why = "tcp.stream %d (%d requests): no htracr connection left for it" % (s, len(want))
	else:
		# The closest unmatched connection: the longest common prefix.
		def common(got):
			i = 0
			while i < min(len(got), len(want)) and got[i] == want[i]:
				i += 1
			return i
		got = max(left, key=common)
		i = common(got)
		why = "tcp.stream %d request %d: tshark %s, htracr %s (%d vs %d requests)" % (
		    s, i, show(want[i] if i < len(want) else None),
		    show(got[i] if i < len(got) else None), len(want), len(got))
report("requests", not bad, why)

why = ""
for s, cid in match.items():
	want = [c for c, _, _ in streams[s]["resps"] if is_final(c)]
	got = [t["response"]["status"] for t in bycon[cid] if complete_resp(t)]
	if want != got:
		why = "tcp.stream %d: tshark %s, htracr %s" % (s, want, got)
		break
report("statuses", not why, why)

# Pairing: tshark's http.time is the response's last frame time minus its
# request's; the transaction holding that response must show the same gap.
why = ""
checked = 0
for s, cid in match.items():
	free = list(bycon[cid])
	for code, dt, frame in streams[s]["resps"]:
		if dt is None or not is_final(code):
			continue
		checked += 1
		hit = None
		for t in free:
			r, q = t.get("response"), t["request"]
			if (r and r.get("status") == code and r.get("end_us") is not None
			    and q.get("end_us") is not None
			    and abs(r["end_us"] - q["end_us"] - dt) <= 2):
				hit = t
				break
		if hit is None:
			why = ("tcp.stream %d: no transaction whose %d response ends %d us "
			    "after its request (tshark frame %d)" % (s, code, dt, frame))
			break
		free.remove(hit)
	if why:
		break
if checked:
	report("pairing", not why, why)

interim = [(s, c) for s, st in streams.items() for c, _, _ in st["resps"]
    if not is_final(c)]
if interim:
	why = ""
	for s, c in interim:
		cid = match.get(s)
		ts = bycon.get(cid, [])
		if not any(c in ((t.get("response") or {}).get("interim") or [])
		    and (t.get("response") or {}).get("status") is not None for t in ts):
			why = "tcp.stream %d: no transaction with interim %d and a final status" % (s, c)
			break
	report("interim", not why, why)

# Requests tshark saw completed by the same frame as the request before
# them were sent before any response could begin: pipelined.
if multi:
	why = ""
	for s, pos in multi:
		cid = match.get(s)
		if cid is None or pos >= len(bycon[cid]) or not bycon[cid][pos].get("pipelined"):
			why = "tcp.stream %d: request %d shares a frame with the one before but is not pipelined" % (s, pos)
			break
	report("pipelined", not why, why)

# The server's share of a wait is never negative, even when the path got
# faster than the handshake's round trip (zeek-bro.org.pcap does).
neg = [t["id"] for t in d["transactions"]
       if ((t.get("timings") or {}).get("server_stall_us") or 0) < 0]
report("stall_not_negative", not neg, "transactions %s" % show(neg))

sm = read_summary(spath, base)
if sm is None:
	sys.exit(0)

txns = d.get("transactions", [])
msgs = [t["request"] for t in txns] + [t["response"] for t in txns if t.get("response")]
counters = (d.get("session") or {}).get("counters") or {}
if "frames" in sm:
	report("frames", counters.get("frames") == sm["frames"],
	    "tshark %s frames, htracr %s" % (sm["frames"], counters.get("frames")))
if "methods" in sm:
	got = dict(collections.Counter(t["request"].get("method") for t in txns))
	report("methods", got == sm["methods"], "tshark %s, htracr %s" % (sm["methods"], got))
if "codes" in sm:
	c = collections.Counter()
	for t in txns:
		if complete_resp(t):
			c[str(t["response"]["status"])] += 1
		for i in (t.get("response") or {}).get("interim") or []:
			c[str(i)] += 1
	report("codes", dict(c) == sm["codes"], "tshark %s, htracr %s" % (sm["codes"], dict(c)))
if "http_streams" in sm:
	report("http_streams", len(ours) == sm["http_streams"],
	    "tshark %d, htracr %d" % (sm["http_streams"], len(ours)))
if "keepalive_streams" in sm:
	n = sum(1 for cid in ours if len(bycon[cid]) > 1)
	report("keepalive_streams", n == sm["keepalive_streams"],
	    "tshark %d, htracr %d connections with several transactions"
	    % (sm["keepalive_streams"], n))
if sm.get("pipelined_streams") == 0:
	n = sum(1 for t in txns if t.get("pipelined"))
	report("not_pipelined", n == 0, "tshark saw no pipelining, htracr %d pipelined" % n)
if "chunked" in sm:
	n = sum(1 for m in msgs if m.get("chunked"))
	report("chunked", n == sm["chunked"], "tshark %d chunked messages, htracr %d" % (sm["chunked"], n))
if "gzip/deflate" in sm:
	enc = [m for m in msgs if (m.get("content_encoding") or "").lower() in ("gzip", "deflate", "x-gzip")]
	n = len(enc)
	report("gzip_deflate", n == sm["gzip/deflate"],
	    "tshark %d encoded messages, htracr %d" % (sm["gzip/deflate"], n))
	if enc:
		nd = [m for m in enc if m.get("complete") and m.get("decoded_bytes") is None]
		report("decoded", not nd, "%d complete encoded messages without decoded_bytes" % len(nd))
if "ipv6_msgs" in sm:
	n = 0
	for t in txns:
		if (conns.get(t["connection"]) or {}).get("ip_version") == 6:
			n += 1 + (t.get("response") is not None)
	report("ipv6_msgs", n == sm["ipv6_msgs"], "tshark %d, htracr %d" % (sm["ipv6_msgs"], n))
	if sm["ipv6_msgs"]:
		v6 = [c for c in conns.values() if c.get("ip_version") == 6]
		report("ipv6_conns", all(":" in c.get("client_addr", "") for c in v6) and v6,
		    "no IPv6 connection with an IPv6 address")


def dirsum(key):
	return sum((c.get(dr) or {}).get(key) or 0
	    for c in conns.values() for dr in ("c2s", "s2c"))


if "retrans" in sm:
	n = dirsum("retransmits")
	report("retransmits", (n > 0) == (sm["retrans"] > 0),
	    "tshark %d retransmissions, htracr %d" % (sm["retrans"], n))
if "ooo" in sm:
	n = dirsum("out_of_order")
	report("out_of_order", (n > 0) == (sm["ooo"] > 0),
	    "tshark %d out-of-order segments, htracr %d" % (sm["ooo"], n))
if "ports" in sm:
	got = sorted({str(conns[cid].get("server_port")) for cid in ours if cid in conns})
	report("ports", got == sorted(sm["ports"]), "tshark %s, htracr %s" % (sm["ports"], got))
EOF
	rc=$?
	cat "$res"
	if [ "$rc" -ne 0 ]; then
		t_fail "$name/check" "checker failed: $(tail -n 1 "$res.err")"
	fi
	grep -q '^FAIL: ' "$res" && T_FAILED=1
	# wait_us against tshark's http.time: waitcheck.py says which frames
	# each tool times from, and the rule that follows.
	if ! python3 "$T_ROOT/tests/regress/waitcheck.py" "$name" "$out" \
	    "$tsv" "$f" >"$res.wait" 2>"$res.wait.err"; then
		t_fail "$name/wait" "waitcheck.py failed: $(tail -n 1 "$res.wait.err")"
	fi
	cat "$res.wait"
	grep -q '^FAIL: ' "$res.wait" && T_FAILED=1
}

# The same file through a long-running daemon (load, then show) must
# give what analyze gave: one engine behind both doors.
check_load() {
	f=$1
	base=$(basename "$f")
	name="$T_NAME/$base/load_show"
	[ -s "$T_TMP/$base.json" ] || return
	if ! timeout 120 "$HTRACRCTL" --socket "$T_SOCK" load "$f" >/dev/null \
	    2>"$T_TMP/$base.load.err" ||
	    ! timeout 120 "$HTRACRCTL" --socket "$T_SOCK" show --json \
	    >"$T_TMP/$base.show.json" 2>>"$T_TMP/$base.load.err"; then
		t_fail "$name" "load or show failed: $(head -n 1 "$T_TMP/$base.load.err")"
		return
	fi
	why=$(python3 - "$T_TMP/$base.json" "$T_TMP/$base.show.json" <<'EOF'
import json, sys


def key(path):
	with open(path, "rb") as f:
		d = json.loads(f.read().decode("utf-8", "surrogateescape"))
	txns = [(t["connection"], t["index"], t["request"].get("method"),
	    t["request"].get("target"), (t.get("response") or {}).get("status"),
	    (t.get("response") or {}).get("complete"), t.get("pipelined"))
	    for t in d.get("transactions", [])]
	frames = ((d.get("session") or {}).get("counters") or {}).get("frames")
	return txns, frames, len(d.get("connections", []))


a, b = key(sys.argv[1]), key(sys.argv[2])
if a != b:
	print("analyze: %d transactions, %s frames, %d connections; load+show: "
	    "%d transactions, %s frames, %d connections%s" % (len(a[0]), a[1], a[2],
	    len(b[0]), b[1], b[2], "" if len(a[0]) != len(b[0]) else
	    "; first difference %s vs %s" % next(((ascii(x), ascii(y))
	    for x, y in zip(a[0], b[0]) if x != y), ("-", "-"))))
EOF
)
	if [ $? -ne 0 ]; then
		t_fail "$name" "comparison failed"
	elif [ -n "$why" ]; then
		t_fail "$name" "$why"
	else
		t_pass "$name"
	fi
}

n=0
for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	check_capture "$f"
done
if [ "$n" -gt 0 ]; then
	if t_daemon_start; then
		for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng; do
			[ -f "$f" ] && check_load "$f"
		done
		t_daemon_stop
	else
		t_fail "$T_NAME/daemon" "htracrd did not come up: $(tail -n 1 "$T_TMP/htracrd.log")"
	fi
fi
[ "$n" -gt 0 ] || t_skip "$T_NAME" "no captures in $CORPUS"
t_exit
