#!/bin/sh
# 058-explain: `htracrctl explain` against what the test imposes. A
# server with known think times (tests/regress/slowserver.py) in one
# namespace, curl and a deliberately slow client in another, htracrd
# capturing live on the client's side. The namespaces are joined by two
# taps and tests/regress/wire.py, which delays, rate-limits or drops
# what the server sends as each case asks (netem's job, done in user
# space: not every kernel has sch_netem). Each cause must be found with
# its size within the stated tolerance of what was imposed, and every
# transaction's causes must add up to its total exactly:
#	think	delay 50 ms, 300 ms think: TCP handshake and request round
#		trip 50 ms +-15 ms, server think time 300 ms +-30 ms
#	tls13	delay 50 ms, HTTPS over TLS 1.3, decrypted with curl's key
#		log (htracrctl keys): TLS handshake one round trip, 50 ms
#		+-15 ms
#	tls12	the same over TLS 1.2: two round trips, 100 ms +-25 ms
#	ss	delay 40 ms, 400 KB from a server using cubic (whole
#		flights, no pacing): at least 3 slow-start round trips of
#		0.5 to 1.5 RTT each, and slow start the largest cause
#	rate	4 Mbit/s, 500 KB: transfer 1.06 s (the frames' bytes at that
#		rate) +-15 %, the largest cause
#	loss	delay 20 ms, the 45th data segment dropped: one loss
#		episode of 10 to 250 ms, and tshark sees the lost segment
#	zw	a client that stops reading for 1 s with a 4 KiB receive
#		buffer, 500 KB: a zero window, and the client's window
#		full 1 s -50/+300 ms (the buffer stays small after)
#	late	a client that waits 300 ms after connecting: client delay
#		300 ms +-30 ms
#	pipe	two requests in one write, the first thinking 200 ms: the
#		second waits behind it 200 ms +-30 ms
#	upload	tbf at 2 Mbit/s on the client's tap, a 100 KB POST:
#		request upload 0.43 s +-20 %
# The HTML page's inspector shows the think case's verdict (Chromium).
# The measured table is printed as INFO lines. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_netns
t_need_cmd python3 curl tc tshark openssl
[ -c /dev/net/tun ] || t_skip_all "no /dev/net/tun"
t_need_bins
t_tmpdir

SRV=10.231.58.1
CLI=10.231.58.2
PORT=8058
SOCK=$T_TMP/s
ctl() {
	timeout 60 "$HTRACRCTL" --socket "$SOCK" "$@"
}

# The taps are made here, opened by the wire, then moved in.
TS=${T_NS_PREFIX}s
TC=${T_NS_PREFIX}c
ip tuntap add dev "$TS" mode tap 2>/dev/null &&
    ip tuntap add dev "$TC" mode tap 2>/dev/null ||
    t_skip_all "cannot create tap devices"
t_atexit "ip link del '$TS' 2>/dev/null; ip link del '$TC' 2>/dev/null"
t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
# Cubic sends whole windows at once: slow start shows as pauses of a
# round trip, the pattern the ss case checks. (BBR would pace them.)
t_ns srv sysctl -qw net.ipv4.tcp_congestion_control=cubic 2>/dev/null
echo '{"seq": 0}' >"$T_TMP/shape.json"
# Real-time priority keeps the wire's delays, the server's think times
# and the slow client's pauses close to what was asked on a busy
# machine; without chrt they run as they can.
CHRT=
command -v chrt >/dev/null 2>&1 && chrt -f 20 true 2>/dev/null && CHRT="chrt -f 20"
T_BG_LOG=$T_TMP/wire.log t_bg $CHRT python3 "$T_ROOT/tests/regress/wire.py" \
    "$TS" "$TC" "$T_TMP/shape.json" "$T_TMP/status"
t_wait_for 10 test -s "$T_TMP/status" ||
    t_skip_all "the wire did not start: $(tail -n 1 "$T_TMP/wire.log")"
ip link set "$TS" netns "$T_NS_PREFIX-srv"
ip link set "$TC" netns "$T_NS_PREFIX-cli"
t_ns srv ip addr add "$SRV/24" dev "$TS"
t_ns cli ip addr add "$CLI/24" dev "$TC"
t_ns srv ip link set "$TS" up
t_ns cli ip link set "$TC" up

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$T_TMP/k.pem" \
    -out "$T_TMP/c.pem" -subj "/CN=htracr.test" >/dev/null 2>&1 ||
    t_skip_all "openssl cannot make a certificate"
TLSPORT=$((PORT + 1))
KEYS=$T_TMP/keys.txt
T_BG_LOG=$T_TMP/server.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
    $CHRT python3 "$T_ROOT/tests/regress/slowserver.py" "$SRV" "$PORT" 0 \
    "$T_TMP/c.pem" "$T_TMP/k.pem"
t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 \
    "http://$SRV:$PORT/think?ms=0" || t_skip_all "the test server does not answer"

T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
    "$HTRACRD" --foreground --socket "$SOCK"
if ! t_wait_for 10 test -S "$SOCK" || ! t_wait_for 5 ctl status; then
	t_fail "$T_NAME/daemon" "$(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi

# Shapes the wire: $1 what the server sends, $2 what the client sends
# (wire.py's keys as JSON); returns once the wire applies it.
SEQ=0
shape() {
	SEQ=$((SEQ + 1))
	printf '{"seq": %d, "a2b": %s, "b2a": %s}\n' "$SEQ" "$1" "$2" \
	    >"$T_TMP/shape.new"
	mv "$T_TMP/shape.new" "$T_TMP/shape.json"
	t_wait_for 5 grep -qx "$SEQ" "$T_TMP/status" ||
	    t_fail "$T_NAME/shape-$SEQ" "the wire did not take $1 $2"
}
get() {
	t_ns cli curl -s -o /dev/null --max-time 30 "http://$SRV:$PORT$1"
}
slow() {
	t_ns cli timeout 30 $CHRT python3 "$T_ROOT/tests/regress/slowclient.py" \
	    "$SRV" "$PORT" "$@" >/dev/null
}

t_check "$T_NAME/start" ctl start --ports "$PORT,$TLSPORT" --interface "$TC"
shape '{"delay_ms": 50}' '{}'
get "/think?ms=300&c=think"
for v in 1.3 1.2; do
	t_ns cli env SSLKEYLOGFILE="$KEYS" curl -sk -o /dev/null --max-time 30 \
	    --tls-max "$v" --tlsv"$v" \
	    "https://$SRV:$TLSPORT/think?ms=0&c=tls$(echo "$v" | tr -d .)"
done
shape '{"delay_ms": 40}' '{}'
get "/bytes?n=400000&c=ss"
shape '{"rate_bps": 4000000}' '{}'
get "/bytes?n=500000&c=rate"
shape '{"delay_ms": 20, "drop_data": 45}' '{}'
get "/bytes?n=1500000&c=loss"
shape '{}' '{}'
slow read 1000 "/bytes?n=500000&c=zw"
slow late 300 "/think?ms=0&c=late"
slow pipeline "/think?ms=200&c=p1" "/think?ms=0&c=pipe"
head -c 100000 /dev/zero >"$T_TMP/body"
t_ns cli tc qdisc replace dev "$TC" root tbf rate 2mbit burst 10kb latency 5s
t_ns cli curl -s -o /dev/null --max-time 30 --data-binary "@$T_TMP/body" \
    -H 'Content-Type: application/octet-stream' "http://$SRV:$PORT/upload?c=upload"
t_ns cli tc qdisc del dev "$TC" root
sleep 0.5
t_check "$T_NAME/stop" ctl stop --dump "$T_TMP/cap.pcap"
# The HTTPS cases decrypted with the key log curl wrote.
t_check "$T_NAME/keys" ctl keys "$KEYS"

ctl explain --json >"$T_TMP/ex.json" 2>"$T_TMP/ex.err" ||
    t_fail "$T_NAME/explain-json" "$(head -n 1 "$T_TMP/ex.err")"
ctl explain >"$T_TMP/ex.txt" 2>&1 ||
    t_fail "$T_NAME/explain-text" "$(head -n 1 "$T_TMP/ex.txt")"
ctl show --json >"$T_TMP/doc.json"
# Lost segments in the loss case's connection, as tshark counts them.
tshark -r "$T_TMP/cap.pcap" -Y "tcp.srcport == $PORT && tcp.analysis.lost_segment" \
    -T fields -e tcp.stream 2>/dev/null | sort | uniq -c >"$T_TMP/lost.txt"
tshark -r "$T_TMP/cap.pcap" -Y 'http.request.uri contains "c=loss"' \
    -T fields -e tcp.stream 2>/dev/null >"$T_TMP/loss-stream.txt"

python3 - "$T_TMP" <<'PY' | sed "s#^\(PASS\|FAIL\): #\1: 058-explain/#"
import json, sys
tmp = sys.argv[1]
ex = json.load(open(tmp + "/ex.json"))
doc = json.load(open(tmp + "/doc.json"))

def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))

target = {t["id"]: t["request"]["target"] for t in doc["transactions"] if t["request"]}
by = {}
for x in ex["transactions"]:
    tg = target.get(x["id"], "")
    if "c=" in tg:
        by[tg.split("c=")[1]] = x
ms = lambda us: us / 1000.0
def cause(c, k):
    return by[c]["causes"][k + "_us"] if c in by else None
def near(c, k, want_ms, tol_ms):
    got = cause(c, k)
    case("%s-%s" % (c, k), got is not None and abs(ms(got) - want_ms) <= tol_ms,
         "want %.0f +-%.0f ms, got %s" % (want_ms, tol_ms,
         "none" if got is None else "%.1f ms" % ms(got)))
def top(c):
    cs = by[c]["causes"]
    return max(cs, key=lambda k: cs[k])[:-3]

missing = [c for c in ("think", "tls13", "tls12", "ss", "rate", "loss", "zw", "late", "pipe", "upload") if c not in by]
case("all-cases-captured", not missing, "missing %s" % missing)
bad = [x["id"] for x in ex["transactions"] if x["explained"] and
       sum(x["causes"].values()) != x["total_us"]]
case("causes-add-up", not bad and ex["transactions"], "transactions %s" % bad)
s = ex["summary"]
case("summary-adds-up", sum(s["causes"].values()) == s["total_us"] and
     s["verdict"].startswith("most time lost to:"), repr(s)[:200])

if "think" in by:
    near("think", "tcp_handshake", 50, 15)
    near("think", "network", 50, 15)
    near("think", "server_think", 300, 30)
if "tls13" in by:
    near("tls13", "tcp_handshake", 50, 15)
    near("tls13", "tls_handshake", 50, 15)
if "tls12" in by:
    near("tls12", "tls_handshake", 100, 25)
if "ss" in by:
    x = by["ss"]
    per = x["causes"]["slow_start_us"] / max(1, x["slow_start_rtts"])
    case("ss-round-trips", x["slow_start_rtts"] >= 3 and 0.5 * 40000 <= per <= 1.5 * 40000,
         "%d round trips of %.1f ms" % (x["slow_start_rtts"], ms(per)))
    case("ss-largest", top("ss") == "slow_start" and "slow start" in x["verdict"],
         "%s: %s" % (top("ss"), x["verdict"]))
if "rate" in by:
    # Frames of 1448 payload bytes, 1538 on the wire with framing.
    want = 500000 / 1448 * 1538 * 8 / 4e6 * 1000
    near("rate", "transfer", want, 0.15 * want)
    case("rate-largest", top("rate") == "transfer", top("rate"))
if "loss" in by:
    x = by["loss"]
    stream = open(tmp + "/loss-stream.txt").read().split()
    lost = 0
    for line in open(tmp + "/lost.txt"):
        n, st = line.split()
        if stream and st == stream[0]:
            lost = int(n)
    got = ms(x["causes"]["loss_recovery_us"])
    case("loss-loss_recovery", x["loss_episodes"] == 1 and 10 <= got <= 250,
         "%d episodes, %.1f ms" % (x["loss_episodes"], got))
    case("loss-tshark-agrees", lost >= 1, "tshark saw %d lost segments" % lost)
if "zw" in by:
    x = by["zw"]
    got = ms(x["causes"]["zero_window_us"])
    case("zw-zero_window", x["zero_windows"] >= 1 and 950 <= got <= 1300,
         "%d zero windows, %.1f ms" % (x["zero_windows"], got))
if "late" in by:
    near("late", "client_delay", 300, 30)
if "pipe" in by:
    near("pipe", "queued", 200, 30)
if "upload" in by:
    want = 100000 / 1448 * 1538 * 8 / 2e6 * 1000
    near("upload", "request_upload", want, 0.2 * want)

# The table for the record.
cols = ["tcp_handshake", "tls_handshake", "client_delay", "queued", "request_upload",
        "network", "server_think", "slow_start", "loss_recovery", "zero_window", "transfer"]
print("INFO: case    total_ms " + " ".join("%s" % c for c in cols))
for c in ("think", "tls13", "tls12", "ss", "rate", "loss", "zw", "late", "pipe", "upload"):
    if c in by:
        x = by[c]
        print("INFO: %-7s %8.1f " % (c, ms(x["total_us"])) +
              " ".join("%*.1f" % (len(k), ms(x["causes"][k + "_us"])) for k in cols) +
              "  | " + x["verdict"])
PY

grep -q "most time lost to:" "$T_TMP/ex.txt" && t_pass "$T_NAME/text-summary" ||
    t_fail "$T_NAME/text-summary" "$(tail -n 2 "$T_TMP/ex.txt")"
THINK=$(t_json "$T_TMP/doc.json" '[t["id"] for t in d["transactions"] if t["request"] and "c=think" in t["request"]["target"]][0]')
ctl show --txn "$THINK" >"$T_TMP/txn.txt" 2>&1
grep -q "server think time" "$T_TMP/txn.txt" && t_pass "$T_NAME/show-txn-explains" ||
    t_fail "$T_NAME/show-txn-explains" "$(grep -i why "$T_TMP/txn.txt")"
t_eq "$T_NAME/slowest-1" "$(ctl explain --json --slowest 1 | python3 -c '
import json, sys; print(json.load(sys.stdin)["transactions"][0]["id"])')" \
    "$(t_json "$T_TMP/ex.json" 'max((x for x in d["transactions"] if x["explained"]), key=lambda x: x["total_us"])["id"]')"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
if [ -x "$CHROMIUM" ] && b_node_modules; then
	ctl dump --format html -o "$T_TMP/page.html"
	timeout 180 node "$B_DIR/timeline.js" why "$T_TMP/page.html" "c=think" \
	    "server think time" >"$T_TMP/why.out" 2>&1
	sed "s#^\(PASS\|FAIL\): #\1: $T_NAME/#" "$T_TMP/why.out"
	grep -q '^FAIL' "$T_TMP/why.out" && T_FAILED=1
	grep -q '^PASS: html-why$' "$T_TMP/why.out" ||
	    t_fail "$T_NAME/html-why-ran" "$(head -n 2 "$T_TMP/why.out")"
else
	t_skip "$T_NAME/html-why" "no Chromium or npm packages"
fi
t_exit
