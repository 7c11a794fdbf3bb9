#!/bin/sh
# 053-ndjson: one JSON line per transaction. Real traffic between two
# namespaces made here (python3's HTTP/1.1 server, curl with a keep-alive
# pair, a 404, a 501 and a request header of bytes that are not UTF-8),
# captured live by htracrd while `watch --json` follows it and tcpdump
# records it. Then: every line of `dump --format ndjson`, `show --format
# ndjson`, `analyze FILE --format ndjson` and the watch is strict JSON;
# each line is its transaction from `dump --format json` with the
# session id and its connection's fields flattened in (PROTOCOL.md,
# "ndjson lines"); the watch's lines have the same keys; jq selects on
# the flattened fields. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd python3 curl tcpdump tshark jq
t_need_bins
t_tmpdir

SRV=10.231.53.1
CLI=10.231.53.2
SOCK=$T_TMP/s
WWW=$T_TMP/www
ctl() {
	timeout 30 "$HTRACRCTL" --socket "$SOCK" "$@"
}

t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
t_veth srv "$SRV/24" cli "$CLI/24" || t_skip_all "cannot create a veth pair"

mkdir "$WWW"
echo "ndjson test page" >"$WWW/index.html"
echo "small" >"$WWW/small.txt"
T_BG_LOG=$T_TMP/server.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
    python3 -m http.server --protocol HTTP/1.1 --bind "$SRV" \
    --directory "$WWW" 8053
t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 "http://$SRV:8053/" ||
    t_skip_all "the test web server does not answer"

T_BG_LOG=$T_TMP/tcpdump.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
    tcpdump -i "$T_VETH_A" -s 0 -U -w "$T_TMP/cap.pcap" tcp port 8053
TCPDUMP=$T_BG_PID
t_wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log"

T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
    "$HTRACRD" --foreground --socket "$SOCK"
if ! t_wait_for 10 test -S "$SOCK" || ! t_wait_for 5 ctl status; then
	t_fail "$T_NAME/daemon" "$(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi
t_check "$T_NAME/start" ctl start --ports 8053 --interface "$T_VETH_B"
ctl watch --json >"$T_TMP/watch.ndjson" 2>"$T_TMP/watch.err" &
WATCH=$!
t_wait_for 5 sh -c "'$HTRACRCTL' --socket '$SOCK' status --json |
    grep -q '\"clients\": *\[{'"
sleep 0.3

u=http://$SRV:8053
get() {
	t_ns cli curl -s --max-time 5 "$@" >/dev/null
}
get "$u/index.html" "$u/small.txt"
get "$u/missing"
get --data-binary 'x=1' "$u/post"
get -H "X-Evil: $(printf '\377\001</script>')" "$u/evil"
sleep 0.5
t_check "$T_NAME/stop" ctl stop
# On a busy machine tcpdump may still be reading its ring: let it write
# all five requests before it is told to stop.
requests_written() {
	[ "$(tshark -r "$T_TMP/cap.pcap" -Y http.request 2>/dev/null | wc -l)" -ge 5 ]
}
t_wait_for 20 requests_written
t_kill "$TCPDUMP"
wait "$WATCH"

ctl dump --format ndjson >"$T_TMP/dump.ndjson" 2>"$T_TMP/dump.err" ||
    t_fail "$T_NAME/dump" "$(head -n 1 "$T_TMP/dump.err")"
ctl show --format ndjson >"$T_TMP/show.ndjson" 2>&1
ctl dump --format json >"$T_TMP/doc.json" 2>&1
timeout 60 "$HTRACRCTL" analyze "$T_TMP/cap.pcap" --ports 8053 \
    --format ndjson >"$T_TMP/analyze.ndjson" 2>"$T_TMP/analyze.err" ||
    t_fail "$T_NAME/analyze" "$(head -n 1 "$T_TMP/analyze.err")"

if cmp -s "$T_TMP/dump.ndjson" "$T_TMP/show.ndjson"; then
	t_pass "$T_NAME/show-same-as-dump"
else
	t_fail "$T_NAME/show-same-as-dump" "$(head -c 200 "$T_TMP/show.ndjson")"
fi

python3 - "$T_TMP" <<'PY' | sed "s#^\(PASS\|FAIL\): #\1: 053-ndjson/#"
import json, sys
tmp = sys.argv[1]

def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))

def lines(name):
    # Strict: UTF-8 only, one object per line, nothing else.
    out, bad = [], []
    with open("%s/%s.ndjson" % (tmp, name), "rb") as f:
        for raw in f:
            try:
                o = json.loads(raw.decode("utf-8"))
                if not isinstance(o, dict) or not raw.endswith(b"\n"):
                    raise ValueError("not one object on a line")
                out.append(o)
            except ValueError as e:
                bad.append(str(e))
    case("%s-strict" % name, not bad and out, "%d lines, %s" % (len(out), bad[:2]))
    return out

doc = json.load(open(tmp + "/doc.json"))
dump, watch, ana = lines("dump"), lines("watch"), lines("analyze")
sid = doc["session"]["id"]
conns = {c["id"]: c for c in doc["connections"]}
renames = {"first_us": "connection_first_us", "last_us": "connection_last_us",
           "state": "connection_state", "flags": "connection_flags"}
left_out = {"type", "id", "server", "transactions", "states", "packets"}

def expect(t):
    e = dict(t)
    e["session"] = sid
    for k, v in conns[t["connection"]].items():
        if k not in left_out:
            e[renames.get(k, k)] = v
    return e

case("dump-count", len(dump) == len(doc["transactions"]) == 5,
     "%d lines, %d transactions" % (len(dump), len(doc["transactions"])))
diff = [t["id"] for t, l in zip(doc["transactions"], dump) if expect(t) != l]
case("dump-flattened", not diff, "transactions %s differ" % diff)
want = [("GET", "/index.html", 200), ("GET", "/small.txt", 200),
        ("GET", "/missing", 404), ("POST", "/post", 501), ("GET", "/evil", 200)]
got = [(l["request"]["method"], l["request"]["target"],
        l["response"] and l["response"]["status"]) for l in dump]
# python3's server has no /evil: a 404 all the same.
want[4] = ("GET", "/evil", 404)
case("dump-requests", got == want, repr(got))
ka = [l for l in dump if l["request"]["target"] in ("/index.html", "/small.txt")]
case("dump-keepalive", len(ka) == 2 and ka[0]["connection"] == ka[1]["connection"]
     and ka[0]["client_port"] == ka[1]["client_port"] and ka[0]["client_addr"] == "10.231.53.2"
     and ka[0]["server_port"] == 8053 and ka[1]["index"] == 1, repr(ka[:1])[:200])
evil = [v for l in dump if l["request"]["target"] == "/evil"
        for n, v in l["request"]["headers"] if n == "X-Evil"]
case("dump-wire-bytes", evil == ["\u00ff\u0001</script>"], repr(evil))

# The watch: the same transactions, the same keys, the connection as it was.
case("watch-count", len(watch) == len(dump), "%d lines" % len(watch))
same = [(w["id"], w["session"], w["connection"], w["client_port"],
         w["request"]["target"], w["response"]["status"]) for w in watch]
base = [(l["id"], l["session"], l["connection"], l["client_port"],
         l["request"]["target"], l["response"]["status"]) for l in dump]
case("watch-values", same == base, repr(same))
keys = [sorted(w) for w in watch] == [sorted(l) for l in dump]
case("watch-schema", keys, repr(sorted(set(watch[0]) ^ set(dump[0]))) if watch and dump else "")

# Offline from tcpdump's file: the same requests on the same ports.
conv = lambda ls: [(l["request"]["target"], l["response"]["status"],
                    l["client_port"]) for l in ls]
case("analyze-same", conv(ana) == conv(dump), repr(conv(ana)))
case("analyze-session", all(l["session"] for l in ana), repr(ana[:1])[:120])
PY

# jq over the flattened lines: no join needed.
t_eq "$T_NAME/jq-404s" "/missing /evil" \
    "$(jq -r 'select(.response.status == 404) | .request.target' \
    "$T_TMP/dump.ndjson" | paste -sd' ')"
t_eq "$T_NAME/jq-connections" 4 \
    "$(jq -r '[.connection, .client_port, .server_addr] | @tsv' \
    "$T_TMP/dump.ndjson" | sort -u | wc -l)"

if ctl dump --format ndjson 999 >/dev/null 2>&1; then
	t_fail "$T_NAME/no-such-session" "exit 0"
else
	t_pass "$T_NAME/no-such-session"
fi
t_exit
