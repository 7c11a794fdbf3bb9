#!/bin/sh
# 061-otlp: a session as OpenTelemetry traces. Real traffic between two
# namespaces made here (python3's HTTP/1.1 server; curl with a
# keep-alive pair, a 404, a 501, a User-Agent of bytes that are not
# UTF-8; a raw request whose target holds a Latin-1 byte, a quote and a
# backslash; a GET over TLS 1.3 to nginx whose key log is given to the
# session after it stopped), captured live by htracrd. Then `dump --format otlp` is
# checked against the OTLP protobuf-JSON mapping by otlpcheck.py (no
# collector is packaged for Debian or npm) and against `dump --format
# json`: one trace per connection rooted in its connection span, every
# transaction a CLIENT span under it with the method, path, status,
# ports and times of the session, its phases child spans within it,
# wire bytes escaped, ids the same when dumped again. Then `export
# --otlp` to otlpcheck.py's receiver on loopback (IPv4 and IPv6): the
# same spans in bounded batches, the same ids again, and clear failures
# for a refused connection, a 503, spans the collector rejected, an
# https URL and a missing session. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd python3 curl nginx openssl
t_need_bins
t_tmpdir

SRV=10.231.61.1
CLI=10.231.61.2
SOCK=$T_TMP/s
WWW=$T_TMP/www
CHECK=$(dirname "$0")/otlpcheck.py
ctl() {
	timeout 60 "$HTRACRCTL" --socket "$SOCK" "$@"
}

t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
t_veth srv "$SRV/24" cli "$CLI/24" || t_skip_all "cannot create a veth pair"

mkdir "$WWW"
echo "otlp test page" >"$WWW/index.html"
echo "small" >"$WWW/small.txt"
T_BG_LOG=$T_TMP/server.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
    python3 -m http.server --protocol HTTP/1.1 --bind "$SRV" \
    --directory "$WWW" 8061
t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 "http://$SRV:8061/" ||
    t_skip_all "the test web server does not answer"
echo "over tls" >"$WWW/tls.txt"
t_cert "/CN=otlp.test"
t_nginx -k "https://$SRV:8443/" <<EOF
	server {
		listen $SRV:8443 ssl;
		ssl_certificate $T_TMP/nginx/c.pem;
		ssl_certificate_key $T_TMP/nginx/k.pem;
		ssl_protocols TLSv1.3;
		root $WWW;
	}
EOF
KEYS=$T_TMP/keys.txt

T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
    "$HTRACRD" --foreground --socket "$SOCK"
if ! t_wait_for 10 test -S "$SOCK" || ! t_wait_for 5 ctl status; then
	t_fail "$T_NAME/daemon" "$(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi
t_check "$T_NAME/start" ctl start --ports 8061,8443 --interface "$T_VETH_B"
sleep 0.3

u=http://$SRV:8061
get() {
	t_ns cli curl -s --max-time 5 "$@" >/dev/null
}
get "$u/index.html" "$u/small.txt"
get "$u/missing"
get --data-binary 'x=1' "$u/post"
get -A "$(printf '\377\001</script>')" "$u/agent"
t_ns cli python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8061), timeout=5)
s.sendall(b"GET /caf\xe9?q=\"a\\b\" HTTP/1.1\r\nHost: otlp.test:8061\r\n"
          b"Connection: close\r\n\r\n")
while s.recv(65536):
    pass
' "$SRV" || t_fail "$T_NAME/raw-request" "the raw client failed"
t_ns cli env SSLKEYLOGFILE="$KEYS" curl -sk --max-time 5 \
    --resolve "otlp.test:8443:$SRV" https://otlp.test:8443/tls.txt >/dev/null
sleep 0.5
t_check "$T_NAME/stop" ctl stop
t_check "$T_NAME/keys" ctl keys "$KEYS"

ctl dump --format json >"$T_TMP/doc.json" 2>"$T_TMP/doc.err" ||
    t_fail "$T_NAME/dump-json" "$(head -n 1 "$T_TMP/doc.err")"
for n in 1 2; do
	ctl dump --format otlp >"$T_TMP/dump$n.json" 2>"$T_TMP/dump.err" ||
	    t_fail "$T_NAME/dump-otlp" "$(head -n 1 "$T_TMP/dump.err")"
done
if out=$(python3 "$CHECK" validate "$T_TMP/dump1.json" 2>&1); then
	t_pass "$T_NAME/dump-mapping"
else
	t_fail "$T_NAME/dump-mapping" "$(printf '%s\n' "$out" | head -n 3)"
fi
if cmp -s "$T_TMP/dump1.json" "$T_TMP/dump2.json"; then
	t_pass "$T_NAME/dump-same-ids"
else
	t_fail "$T_NAME/dump-same-ids" "two dumps of one session differ"
fi

python3 - "$T_TMP" "$CHECK" <<'PY' | sed "s#^\(PASS\|FAIL\): #\1: 061-otlp/#"
import json, os, sys
tmp = sys.argv[1]
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from otlpcheck import attrs, spans_of

def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))

doc = json.load(open(tmp + "/doc.json"))
req = json.load(open(tmp + "/dump1.json"))
spans = spans_of(req)
res = attrs(req["resourceSpans"][0]["resource"])
case("resource", res.get("service.name") == "htracr" and
     res.get("htracr.session.id") == doc["session"]["id"], repr(res))

by_id = {(s["traceId"], s["spanId"]): s for s in spans}
case("unique-ids", len(by_id) == len(spans), "%d spans, %d ids" % (len(spans), len(by_id)))
orphans = [s["name"] for s in spans if s.get("parentSpanId")
           and (s["traceId"], s["parentSpanId"]) not in by_id]
case("parents-exist", not orphans, repr(orphans))
outside = []
for s in spans:
    p = by_id.get((s["traceId"], s.get("parentSpanId")))
    if p and not (int(p["startTimeUnixNano"]) <= int(s["startTimeUnixNano"])
                  <= int(s["endTimeUnixNano"]) <= int(p["endTimeUnixNano"])):
        outside.append((s["name"], p["name"]))
case("children-within-parents", not outside, repr(outside[:4]))

# One trace per connection, its root the connection span.
roots = {}
for s in spans:
    if not s.get("parentSpanId"):
        roots.setdefault(s["traceId"], []).append(s)
conns = {c["id"]: c for c in doc["connections"]}
rootconn = {t: attrs(r[0]).get("htracr.connection.id") for t, r in roots.items()}
case("trace-per-connection", all(len(r) == 1 and r[0]["name"] == "connection"
     for r in roots.values()) and sorted(rootconn.values()) == sorted(conns),
     "%r vs %r" % (sorted(rootconn.values()), sorted(conns)))
traces = {s["traceId"] for s in spans}
case("no-stray-trace", traces == set(roots), "%d traces, %d roots" % (len(traces), len(roots)))
trace_of = {c: t for t, c in rootconn.items()}
bad = []
for t, r in roots.items():
    a, c = attrs(r[0]), conns[rootconn[t]]
    if (a["client.address"], a["client.port"], a["network.peer.address"],
        a["server.port"]) != (c["client_addr"], c["client_port"],
                              c["server_addr"], c["server_port"]) or \
       r[0]["startTimeUnixNano"] != "%d000" % min(c["first_us"], c["syn_us"] or c["first_us"]):
        bad.append(c["id"])
    hs = [s for s in spans if s["traceId"] == t and s["name"] == "tcp handshake"]
    if c["syn_us"] and c["established_us"] and (len(hs) != 1 or
        hs[0]["endTimeUnixNano"] != "%d000" % c["established_us"]):
        bad.append(("handshake", c["id"]))
case("connection-spans", not bad, repr(bad))

# Every transaction once, a CLIENT span under its connection.
txns = {}
for s in spans:
    a = attrs(s)
    if s["kind"] == 3:
        txns.setdefault(a.get("htracr.transaction.id"), []).append((s, a))
case("every-transaction", sorted(txns) == sorted(t["id"] for t in doc["transactions"])
     and all(len(v) == 1 for v in txns.values()),
     "%r vs %d transactions" % (sorted(txns), len(doc["transactions"])))
bad = []
for t in doc["transactions"]:
    if t["id"] not in txns:
        continue
    (s, a), = txns[t["id"]]
    rq, rs = t["request"], t["response"]
    root = roots[trace_of[t["connection"]]][0]
    c = conns[t["connection"]]
    want = (rq["method"], rq["target"].split("?")[0], rs["status"],
            c["client_port"], c["server_port"], "%d000" % rq["start_us"],
            "%d000" % rs["end_us"], root["spanId"], rs["body_bytes"])
    got = (a.get("http.request.method"), a.get("url.path"),
           a.get("http.response.status_code"), a.get("client.port"),
           a.get("server.port"), s["startTimeUnixNano"], s["endTimeUnixNano"],
           s.get("parentSpanId"), a.get("http.response.body.size"))
    if want != got:
        bad.append((t["id"], want, got))
case("transaction-spans", not bad, repr(bad[:2]))

# Phases: send, wait and receive under each transaction, from its timings.
bad = []
for t in doc["transactions"]:
    (s, a), = txns.get(t["id"], [(None, None)])
    if s is None:
        continue
    kids = {k["name"]: k for k in spans if k.get("parentSpanId") == s["spanId"]
            and k["traceId"] == s["traceId"]}
    for name, at, d in (("wait", t["request"]["end_us"], t["timings"]["wait_us"]),
                        ("receive", t["response"]["start_us"], t["timings"]["receive_us"])):
        k = kids.get(name)
        if d is None or k is None or int(k["startTimeUnixNano"]) != at * 1000 or \
           int(k["endTimeUnixNano"]) - int(k["startTimeUnixNano"]) != d * 1000:
            bad.append((t["id"], name))
    if "send" not in kids:
        bad.append((t["id"], "send"))
case("phases", not bad, repr(bad[:4]))

# Status: the conventions' client rule, 4xx and 5xx are errors.
st = sorted((a["http.response.status_code"], s["status"].get("code", 0),
             a.get("error.type")) for v in txns.values() for s, a in v)
case("status", all((c == 2 and e == str(h)) if h >= 400 else (c == 0 and e is None)
     for h, c, e in st) and {h for h, c, e in st} >= {200, 404, 501}, repr(st))

# Keep-alive: two transactions, one trace.
ka = [s for v in txns.values() for s, a in v
      if a.get("url.path") in ("/index.html", "/small.txt")]
case("keepalive-one-trace", len(ka) == 2 and ka[0]["traceId"] == ka[1]["traceId"],
     repr([s["traceId"] for s in ka]))

# Wire bytes: each byte that is not UTF-8 a \u00XX escape, the rest as sent.
ua = [a.get("user_agent.original") for v in txns.values() for s, a in v
      if a.get("url.path") == "/agent"]
case("escaped-agent", ua == ["\u00ff\u0001</script>"], repr(ua))
raw = [a for v in txns.values() for s, a in v if a.get("url.path") == "/caf\u00e9"]
case("escaped-target", len(raw) == 1 and raw[0].get("url.query") == 'q="a\\b"' and
     raw[0].get("url.full") == 'http://otlp.test:8061/caf\u00e9?q="a\\b"' and
     raw[0].get("server.address") == "otlp.test", repr(raw))
# TLS: the connection's handshake and names, the request's https URL.
tls = [c for c in doc["connections"] if c["tls"]]
case("tls-captured", len(tls) == 1 and tls[0]["tls"]["decrypted"] and
     len(tls[0]["transactions"]) == 1, repr([c["tls"] for c in tls])[:300])
if tls:
    c = tls[0]
    root = roots[trace_of[c["id"]]][0]
    a = attrs(root)
    hs = [s for s in spans if s["traceId"] == root["traceId"] and
          s["name"] == "tls handshake" and s.get("parentSpanId") == root["spanId"]]
    case("tls-connection", (a.get("tls.protocol.name"), a.get("tls.protocol.version"),
         a.get("tls.client.server_name"), a.get("tls.cipher"), a.get("htracr.tls.decrypted"),
         a.get("server.address")) == ("tls", "1.3", "otlp.test", c["tls"]["cipher"], True,
         "otlp.test"), repr(a))
    case("tls-handshake", len(hs) == 1 and
         hs[0]["startTimeUnixNano"] == "%d000" % c["tls"]["client_hello_us"] and
         hs[0]["endTimeUnixNano"] == "%d000" % c["tls"]["handshake_done_us"], repr(hs))
    (s, a), = txns[c["transactions"][0]]
    case("tls-transaction", (a.get("url.scheme"), a.get("url.full"),
         a.get("http.response.status_code"), s["traceId"]) ==
         ("https", "https://otlp.test:8443/tls.txt", 200, root["traceId"]), repr(a))
case("escaped-raw-text", b'\\u00e9' in open(tmp + "/dump1.json", "rb").read(),
     "no \\u00e9 in the file")
PY

# export --otlp: the same spans POSTed to a receiver on loopback, in
# batches of at most --batch spans, every body checked as it arrives.
mkdir "$T_TMP/recv"
T_BG_LOG=$T_TMP/recv.log t_bg python3 "$CHECK" serve "$T_TMP/recv" 120
t_wait_for 10 test -s "$T_TMP/recv/port" ||
    t_fail "$T_NAME/receiver" "$(tail -n 2 "$T_TMP/recv.log")"
PORT=$(cat "$T_TMP/recv/port")
nspans=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(len(s["spans"]) for r in d["resourceSpans"] for s in r["scopeSpans"]))' \
    "$T_TMP/dump1.json")
if ctl export --otlp "http://127.0.0.1:$PORT" --batch 7 >"$T_TMP/export.out" \
    2>"$T_TMP/export.err"; then
	t_pass "$T_NAME/export"
else
	t_fail "$T_NAME/export" "$(head -n 1 "$T_TMP/export.err")"
fi
want=$(((nspans + 6) / 7))
t_eq "$T_NAME/export-says" \
    "sent $nspans spans in $want requests to http://127.0.0.1:$PORT" \
    "$(cat "$T_TMP/export.out")"
t_eq "$T_NAME/export-requests" "$want" \
    "$(find "$T_TMP/recv" -name 'req-*.json' | wc -l)"
if [ -s "$T_TMP/recv/errors" ]; then
	t_fail "$T_NAME/export-mapping" "$(head -n 3 "$T_TMP/recv/errors")"
else
	t_pass "$T_NAME/export-mapping"
fi
# Again, to the path given: the ids do not change.
mkdir "$T_TMP/first" && mv "$T_TMP/recv"/req-*.json "$T_TMP/first/"
ctl export --otlp "http://127.0.0.1:$PORT/v1/traces" >/dev/null 2>&1 ||
    t_fail "$T_NAME/export-again" "exit $?"
python3 - "$T_TMP" "$CHECK" <<'PY' | sed "s#^\(PASS\|FAIL\): #\1: 061-otlp/#"
import glob, json, os, sys
tmp = sys.argv[1]
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from otlpcheck import spans_of

def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))

def load(pattern):
    reqs = [json.load(open(f)) for f in sorted(glob.glob(pattern))]
    return reqs, [s for r in reqs for s in spans_of(r)]

dump = spans_of(json.load(open(tmp + "/dump1.json")))
first, sent = load(tmp + "/first/req-*.json")
again, resent = load(tmp + "/recv/req-*.json")
key = lambda s: json.dumps(s, sort_keys=True)
case("export-batches", all(len(spans_of(r)) <= 7 for r in first),
     repr([len(spans_of(r)) for r in first]))
case("export-same-as-dump", sorted(map(key, sent)) == sorted(map(key, dump)),
     "%d sent, %d dumped" % (len(sent), len(dump)))
case("export-resource", all(r["resourceSpans"][0]["resource"] ==
     first[0]["resourceSpans"][0]["resource"] for r in first + again), "")
ids = lambda ss: sorted((s["traceId"], s["spanId"]) for s in ss)
case("export-idempotent", len(again) == 1 and ids(resent) == ids(sent),
     "%d requests, %d spans" % (len(again), len(resent)))
PY

# What goes wrong says so, and exits non-zero.
expect_fail() {
	_n=$1 _pat=$2
	shift 2
	if ctl "$@" >/dev/null 2>"$T_TMP/fail.err"; then
		t_fail "$T_NAME/$_n" "exit 0"
	elif grep -q -- "$_pat" "$T_TMP/fail.err"; then
		t_pass "$T_NAME/$_n"
	else
		t_fail "$T_NAME/$_n" "$(head -n 1 "$T_TMP/fail.err")"
	fi
}
expect_fail export-503 \
    'answered 503 Service Unavailable: \\x1b\[31mcollector says no\\xff' \
    export --otlp "http://127.0.0.1:$PORT/status/503"
expect_fail export-partial \
    'the collector at 127.0.0.1:[0-9]* rejected 2 of 7 spans: .*spans too old' \
    export --otlp "http://127.0.0.1:$PORT/partial/2" --batch 7
expect_fail export-refused 'cannot connect to the collector at 127.0.0.1:9: Connection refused' \
    export --otlp "http://127.0.0.1:9/v1/traces"
expect_fail export-https 'https is not supported' \
    export --otlp "https://127.0.0.1:$PORT/"
expect_fail export-no-session 'no such session\|not found\|no session' \
    export --otlp "http://127.0.0.1:$PORT/" 999
expect_fail export-no-url 'usage' export 1

# An IPv6 address in the URL, where this machine has ::1.
mkdir "$T_TMP/recv6"
T_BG_LOG=$T_TMP/recv6.log t_bg python3 "$CHECK" serve "$T_TMP/recv6" 60 ::1
if t_wait_for 10 test -s "$T_TMP/recv6/port"; then
	PORT6=$(cat "$T_TMP/recv6/port")
	t_check "$T_NAME/export-ipv6" ctl export --otlp "http://[::1]:$PORT6"
	t_eq "$T_NAME/export-ipv6-received" "1 " "$(find "$T_TMP/recv6" \
	    -name 'req-*.json' | wc -l) $(cat "$T_TMP/recv6/errors" 2>/dev/null)"
else
	t_skip "$T_NAME/export-ipv6" "no ::1 here: $(tail -n 1 "$T_TMP/recv6.log")"
fi

if ctl dump --format otlp 999 >/dev/null 2>&1; then
	t_fail "$T_NAME/no-such-session" "exit 0"
else
	t_pass "$T_NAME/no-such-session"
fi
t_exit
