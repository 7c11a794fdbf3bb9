#!/bin/sh
# 045-lostseg: a capture that missed the first segment of one response.
# Real keep-alive traffic between two network namespaces made here
# (nginx in one, curl asking for twenty files on one connection in the
# other) is captured by tcpdump; a small script then drops the segment
# that starts one response in the middle (its status line and headers),
# as a busy capture would. `htracrctl analyze --json` on the result must
# mark that transaction response_lost and pair every other response with
# its own request: the paths and statuses curl reports, in order, none
# pipelined, and wait_us equal to tshark's http.time on the whole capture
# (reassembly off, so that tshark times the frame holding the status line,
# where wait ends, not the one completing the body). The table, the
# waterfall and HAR must show the loss. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx tcpdump curl tshark python3
t_need_bins
t_tmpdir

SRV=10.231.45.1
CLI=10.231.45.2
WWW=$T_TMP/www
CAP=$T_TMP/all.pcap
LOST=$T_TMP/lost.pcap
EXP=$T_TMP/curl.tsv		# path, status, bytes per request
NREQ=20
DROP=8				# the response (from 0) whose start is dropped

# Files of 5,000 to 18,300 bytes: four to thirteen segments each, every
# one a different size and letter; one path is missing (a 404).
make_site() {
	mkdir -p "$WWW"
	python3 - "$WWW" "$NREQ" <<'EOF'
import os, sys
www, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
	if i == 13:
		continue
	with open(os.path.join(www, "f%02d.txt" % i), "w") as f:
		f.write(chr(ord("a") + i) * (5000 + 700 * i))
EOF
}

start_nginx() {
	t_nginx "http://$SRV/f00.txt" <<EOF
	types { text/plain txt; }
	server {
		listen $SRV:80;
		root $WWW;
	}
EOF
}

# One curl, twenty URLs, one connection; curl's own account per URL.
run_curl() {
	set --
	i=0
	while [ "$i" -lt "$NREQ" ]; do
		set -- "$@" -o /dev/null "http://$SRV/f$(printf %02d "$i").txt"
		i=$((i + 1))
	done
	t_ns cli timeout 30 curl -s --http1.1 --max-time 20 \
	    -w '%{url_effective}\t%{http_code}\t%{size_download}\t%{num_connects}\n' \
	    "$@" | sed "s#^http://$SRV##" >"$EXP"
}

t_pair "$SRV" "$CLI"
make_site
start_nginx
t_tcpdump "$CAP" tcp port 80
run_curl
sleep 1		# the last FIN/ACKs reach the capture
t_kill "$TCPDUMP_PID"

n=$(wc -l <"$EXP")
conns=$(awk -F '\t' '{ s += $4 } END { print s + 0 }' "$EXP")
if [ "$n" -ne "$NREQ" ] || [ "$conns" -ne 1 ]; then
	t_fail "$T_NAME/curl" "curl reported $n requests on $conns connections, want $NREQ on 1 (see $EXP)"
	t_exit
fi
t_pass "$T_NAME/curl"

# Drop the frame whose payload starts response DROP; say what it held.
python3 - "$CAP" "$LOST" "$DROP" >"$T_TMP/drop.txt" 2>"$T_TMP/drop.err" <<'EOF'
import struct, sys

src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f:
	head = f.read(24)
	magic = struct.unpack("<I", head[:4])[0]
	order = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
	link = struct.unpack(order + "I", head[20:24])[0]
	recs = []
	while True:
		rec = f.read(16)
		if len(rec) < 16:
			break
		incl = struct.unpack(order + "IIII", rec)[2]
		recs.append((rec, f.read(incl)))


# (source port, sequence number, payload) of an IPv4 TCP frame.
def segment(frame):
	l2 = {1: 14, 113: 16, 276: 20}[link]
	ip = frame[l2:]
	if ip[0] >> 4 != 4 or ip[9] != 6:
		return None, None, b""
	tcp = ip[(ip[0] & 15) * 4:]
	sport, _, seq = struct.unpack("!HHI", tcp[:8])
	return sport, seq, tcp[(tcp[12] >> 4) * 4:]


# Response starts by sequence number: a retransmitted one counts once,
# and every copy of the chosen one goes.
starts = []
for rec, frame in recs:
	sport, seq, data = segment(frame)
	if sport == 80 and data.startswith(b"HTTP/1.1 ") and seq not in starts:
		starts.append(seq)
if len(starts) <= want:
	sys.exit("response %d not found" % want)
kept = [(r, fr) for r, fr in recs
    if segment(fr)[:2] != (80, starts[want]) or not segment(fr)[2]]
lost = [segment(fr)[2] for r, fr in recs if (r, fr) not in kept]
with open(dst, "wb") as f:
	f.write(head)
	for rec, frame in kept:
		f.write(rec + frame)
print("%d\t%d" % (len(lost[0]), len(kept)))
EOF
if [ $? -ne 0 ]; then
	t_fail "$T_NAME/drop" "could not drop the segment: $(tail -n 1 "$T_TMP/drop.err")"
	t_exit
fi
t_pass "$T_NAME/drop"

# tshark on the whole capture, each frame on its own (no reassembly): the
# frame holding each status line, and http.time from the request's frame.
if ! tshark -r "$CAP" -o tcp.desegment_tcp_streams:FALSE \
    -o http.desegment_body:FALSE -Y http.response \
    -T fields -e frame.number -e http.request_in -e http.response.code \
    -e http.time >"$T_TMP/tshark.tsv" 2>"$T_TMP/tshark.err"; then
	t_fail "$T_NAME/tshark" "tshark failed: $(tail -n 1 "$T_TMP/tshark.err")"
	t_exit
fi

if ! timeout 60 "$HTRACRCTL" analyze "$LOST" --json >"$T_TMP/lost.json" \
    2>"$T_TMP/analyze.err"; then
	t_fail "$T_NAME/analyze" "htracrctl analyze failed: $(head -n 1 "$T_TMP/analyze.err")"
	t_exit
fi

python3 - "$T_NAME" "$T_TMP/lost.json" "$EXP" "$T_TMP/tshark.tsv" \
    "$T_TMP/drop.txt" "$DROP" >"$T_TMP/res" 2>"$T_TMP/res.err" <<'EOF'
import json, sys

name, jpath, epath, tpath, dpath, drop = sys.argv[1:7]
drop = int(drop)


def report(check, ok, why=""):
	print(("PASS: %s/%s" % (name, check)) if ok else
	    ("FAIL: %s/%s: %s" % (name, check, why)))


d = json.load(open(jpath))
exp = [l.rstrip("\n").split("\t") for l in open(epath) if l.strip()]
lost, nframes = [int(x) for x in open(dpath).read().split()]
tshark = [l.rstrip("\n").split("\t") for l in open(tpath) if l.strip()]
txns = sorted(d["transactions"], key=lambda t: t["index"])
report("one_connection", len(d["connections"]) == 1 and len(txns) == len(exp),
    "%d connections, %d transactions for %d requests" % (len(d["connections"]),
    len(txns), len(exp)))

t = txns[drop] if drop < len(txns) else {}
r = t.get("response") or {}
report("lost", t.get("response_lost") is True and r.get("status") is None
    and r.get("complete") is False and r.get("lost_bytes") == lost
    and (t.get("request") or {}).get("target") == exp[drop][0]
    and t["timings"].get("wait_us") is None,
    "transaction %d: response_lost %s, status %s, lost_bytes %s (want %d)" %
    (drop, t.get("response_lost"), r.get("status"), r.get("lost_bytes"), lost))
gap = sum(c["s2c"]["gap_bytes"] for c in d["connections"])
report("gap_bytes", gap == lost, "s2c gap_bytes %d, dropped %d" % (gap, lost))

why = ""
for i, (t, e) in enumerate(zip(txns, exp)):
	if i == drop:
		continue
	got = ((t.get("request") or {}).get("target"),
	    (t.get("response") or {}).get("status"),
	    (t.get("response") or {}).get("body_bytes"))
	want = (e[0], int(e[1]), int(e[2]))
	if got != want or t.get("response_lost") or t.get("request_lost"):
		why = "request %d: curl %s, htracr %s" % (i, want, got)
		break
report("paired", not why, why)
n = sum(1 for t in txns if t.get("pipelined"))
report("not_pipelined", n == 0, "%d transactions flagged pipelined" % n)

# tshark's responses by their request's frame (a retransmitted status
# line is timed once): the one whose start was dropped aside, each
# wait_us is tshark's http.time to the frame with its status line.
why = ""
first = {}
for row in tshark:
	if len(row) > 3 and row[1] and row[3]:
		first.setdefault(int(row[1]), round(float(row[3]) * 1e6))
times = [first[k] for k in sorted(first)]
if len(times) != len(exp):
	why = "tshark timed %d responses, curl made %d requests" % (len(times), len(exp))
for i, t in enumerate(txns):
	if why or i == drop or i >= len(times):
		continue
	w = t["timings"].get("wait_us")
	if w != times[i]:
		why = "request %d: wait_us %s, tshark http.time %d us" % (i, w, times[i])
report("wait_us", not why, why)
report("frames", d["session"]["counters"]["frames"] == nframes,
    "%s frames, want %d" % (d["session"]["counters"]["frames"], nframes))
EOF
cat "$T_TMP/res"
[ -s "$T_TMP/res" ] || t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1

# The people's views say so too.
if "$HTRACRCTL" analyze "$LOST" >"$T_TMP/table.txt" 2>&1 &&
    grep -q "^ *$((DROP + 1)) .* L[A-Z]* *[^ ]*/f$(printf %02d "$DROP").txt" \
    "$T_TMP/table.txt"; then
	t_pass "$T_NAME/table"
else
	t_fail "$T_NAME/table" "no L flag on transaction $((DROP + 1)) (see $T_TMP/table.txt)"
fi
if "$HTRACRCTL" analyze "$LOST" --format har -o "$T_TMP/lost.har" --force \
    2>"$T_TMP/har.err" && python3 - "$T_TMP/lost.har" "$DROP" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["log"]["entries"][int(sys.argv[2])]
r = e["response"]
sys.exit(0 if r["status"] == 0 and "not captured" in r.get("comment", "") else 1)
EOF
then
	t_pass "$T_NAME/har"
else
	t_fail "$T_NAME/har" "entry $DROP: no status 0 with a comment"
fi
if t_daemon_start; then
	if t_ctl load "$LOST" >/dev/null 2>"$T_TMP/load.err" &&
	    t_ctl show >"$T_TMP/show.txt" 2>&1 &&
	    grep -q "! response lost: its start was not captured" "$T_TMP/show.txt"; then
		t_pass "$T_NAME/waterfall"
	else
		t_fail "$T_NAME/waterfall" "no 'response lost' note (see $T_TMP/show.txt)"
	fi
	t_daemon_stop
else
	t_fail "$T_NAME/daemon" "htracrd did not come up: $(tail -n 1 "$T_TMP/htracrd.log")"
fi
t_exit
