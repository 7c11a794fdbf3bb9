#!/bin/sh
# 063-dns: DNS lookups beside HTTP. A real resolver (dnsmasq) and a web
# server in one namespace, htracrd and curl in another whose resolver
# is that dnsmasq (ip netns exec mounts /etc/netns/NAME/resolv.conf).
# A live capture with DNS on (the default): curl by name, through a
# CNAME, a name that does not exist, a query nobody answers, one over
# TCP. Each lookup's name, type, rcode, answers, TTL and time are held
# against tshark's dns fields on the dump; each HTTP connection is tied
# to the lookup that gave its address; the file analyzed offline says
# the same; --no-dns captures none. The waterfall, explain and HAR show
# the lookup each connection waited for, with its time. Needs root and
# ip netns.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_bins
t_need_netns
t_need_cmd python3 curl tshark dnsmasq setpriv
t_tmpdir

SRV=10.77.63.1
SRV2=10.77.63.3		# on the server's link, no resolver behind it
CLI=10.77.63.2
DOM=htracr.test

if ! id htracr >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin htracr ||
	    t_skip_all "cannot create user htracr"
fi
t_pair "$SRV" "$CLI"
ip -n "$T_NS_PREFIX-srv" addr add "$SRV2/24" dev "$T_VETH_A" ||
    t_skip_all "cannot add a second address"

# The client namespace resolves through dnsmasq, and only through it.
NSDIR=/etc/netns/$T_NS_PREFIX-cli
mkdir -p "$NSDIR"
t_atexit "rm -rf '$NSDIR'"
printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$SRV" >"$NSDIR/resolv.conf"
printf 'hosts: files dns\n' >"$NSDIR/nsswitch.conf"

WWW=$T_TMP/www
mkdir -p "$WWW"
echo "dns test page" >"$WWW/index.html"
(cd "$WWW" && T_BG_LOG=$T_TMP/http.log t_bg ip netns exec \
    "$T_NS_PREFIX-srv" python3 -m http.server --bind "$SRV" 80)
T_BG_LOG=$T_TMP/dnsmasq.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
    dnsmasq --keep-in-foreground --log-facility=- --pid-file= \
    --user=root --group=root --listen-address="$SRV" --bind-interfaces \
    --no-resolv --no-hosts --local="/$DOM/" --local-ttl=300 \
    --host-record="www.$DOM,$SRV" --cname="alias.$DOM,www.$DOM" \
    --log-queries
t_wait_for 10 t_ns srv curl -s -o /dev/null "http://$SRV/" ||
    t_skip_all "the test web server does not answer"
t_wait_for 10 t_ns cli getent ahostsv4 "www.$DOM" ||
    t_skip_all "dnsmasq does not answer: $(tail -n 1 "$T_TMP/dnsmasq.log")"

SOCK=$T_TMP/s
ctl() {
	timeout 20 "$HTRACRCTL" --socket "$SOCK" "$@"
}
T_BG_LOG=$T_TMP/htracrd.log
t_bg ip netns exec "$T_NS_PREFIX-cli" "$HTRACRD" --foreground \
    --socket "$SOCK" --user htracr --ring-mib 32
T_BG_LOG=
if ! t_wait_for 10 test -S "$SOCK"; then
	t_fail "$T_NAME-start" "daemon did not come up: $(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi
t_wait_for 5 ctl status

# One DNS query by hand: over UDP to an address with no resolver (it
# stays unanswered), or over TCP to dnsmasq.
query() {
	t_ns cli timeout 10 python3 - "$@" <<'EOF'
import socket, struct, sys
addr, name, proto = sys.argv[1], sys.argv[2], sys.argv[3]
q = struct.pack(">HHHHHH", 0x6363, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
	q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
if proto == "udp":
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(1)
	s.sendto(q, (addr, 53))
	try:
		s.recv(512)
	except OSError:
		pass
	sys.exit(0)
s = socket.create_connection((addr, 53), timeout=5)
s.sendall(struct.pack(">H", len(q)) + q)
n = struct.unpack(">H", s.recv(2))[0]
data = b""
while len(data) < n:
	data += s.recv(n - len(data))
s.close()
EOF
}

get() {
	t_ns cli curl -4 -s -o /dev/null --max-time 5 "$@"
}

# --- live, DNS on by default ---
t_check "$T_NAME-start" ctl start --ports 80
t_eq "$T_NAME-status-dns" "True" "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dns"])')"
t_eq "$T_NAME-status-dns-text" "dns:        port 53 too (UDP and TCP)" "$(ctl status | grep '^dns:')"
sleep 0.3
get "http://www.$DOM/"
get "http://alias.$DOM/index.html"
get "http://nowhere.$DOM/"
query "$SRV2" "unanswered.$DOM" udp
query "$SRV" "www.$DOM" tcp
sleep 0.5
t_check "$T_NAME-stop-dump" ctl stop --dump "$T_TMP/live.pcap"
ctl show --json >"$T_TMP/live.json" 2>&1

# tshark's view of every DNS message, as one line per lookup:
# name type rcode answers ttl time_us (rcode and answers "-" when
# unanswered). Queries are paired with responses by tshark itself.
tshark_lookups() {
	tshark -r "$1" -Y dns -T fields -E separator='|' -e dns.flags.response \
	    -e dns.id -e udp.srcport -e tcp.srcport -e udp.dstport \
	    -e tcp.dstport -e dns.qry.name -e dns.qry.type \
	    -e dns.flags.rcode -e dns.a -e dns.aaaa -e dns.cname \
	    -e dns.resp.ttl -e dns.time 2>/dev/null | python3 -c '
import sys
TYPES = {"1": "A", "28": "AAAA", "5": "CNAME", "65": "HTTPS"}
RC = {"0": "NOERROR", "2": "SERVFAIL", "3": "NXDOMAIN", "5": "REFUSED"}
open_, out = {}, []
for line in sys.stdin:
	f = line.rstrip("\n").split("|")
	resp, txid = f[0] in ("1", "True"), f[1]
	sport, dport = f[2] or f[3], f[4] or f[5]
	name, qtype = f[6], TYPES.get(f[7], f[7])
	key = (txid, dport if resp else sport, name, qtype)
	if not resp:
		open_.setdefault(key, len(out))
		out.append([name, qtype, "-", "-", "-", "-"])
		continue
	ans = ["CNAME " + c for c in f[11].split(",") if c]
	ans += [a for a in f[9].split(",") if a] + [a for a in f[10].split(",") if a]
	ttl = f[12].split(",")[0] if f[12] else "-"
	t = round(float(f[13]) * 1e6) if f[13] else "-"
	i = open_.pop(key, None)
	row = [name, qtype, RC.get(f[8], f[8]), ",".join(ans) or "-", ttl, str(t)]
	if i is None:
		out.append(row)
	else:
		out[i] = row
for r in out:
	print(" ".join(r))
'
}

htracr_lookups() {
	t_json "$1" '"\n".join(" ".join([l["name"], l["qtype"], l["rcode"] or "-",
    ",".join([("CNAME " + a["data"]) if a["type"] == "CNAME" else a["data"] for a in l["answers"]]) or "-",
    str(l["answers"][0]["ttl"]) if l["answers"] else "-",
    str(l["time_us"]) if l["time_us"] is not None else "-"]) for l in d["dns"])'
}

tshark_lookups "$T_TMP/live.pcap" >"$T_TMP/tshark.txt"
htracr_lookups "$T_TMP/live.json" >"$T_TMP/htracr.txt" 2>&1
if cmp -s "$T_TMP/tshark.txt" "$T_TMP/htracr.txt" && [ -s "$T_TMP/tshark.txt" ]; then
	t_pass "$T_NAME-lookups-match-tshark"
else
	t_fail "$T_NAME-lookups-match-tshark" "$(diff "$T_TMP/tshark.txt" "$T_TMP/htracr.txt" | head -n 6 | paste -sd' ')"
fi

# What the test did, lookup by lookup (glibc asks A and AAAA for each
# name curl resolves; -4 makes it ask A only).
has() {
	grep -q "^$1" "$T_TMP/htracr.txt" && t_pass "$T_NAME-$2" ||
	    t_fail "$T_NAME-$2" "no lookup '$1' in: $(paste -sd'|' "$T_TMP/htracr.txt")"
}
has "www.$DOM A NOERROR $SRV 300 " www-answered
has "alias.$DOM A NOERROR CNAME www.$DOM,$SRV 300 " cname-followed
has "nowhere.$DOM A NXDOMAIN - - " nxdomain
has "unanswered.$DOM A - - - -" unanswered
t_eq "$T_NAME-tcp-lookup" "tcp NOERROR $SRV" "$(t_json "$T_TMP/live.json" \
    '" ".join(str(x) for l in d["dns"] if l["transport"] == "tcp" for x in (l["transport"], l["rcode"], l["answers"][0]["data"]))')"

# Each HTTP connection: tied to the lookup of the name curl asked for.
t_eq "$T_NAME-connections-tied" "www.$DOM alias.$DOM" "$(t_json "$T_TMP/live.json" \
    '" ".join(([l["name"] for l in d["dns"] if l["id"] == c["dns"]] or ["none"])[0] for c in d["connections"])')"
t_eq "$T_NAME-tied-lookup-has-address" "True True" "$(t_json "$T_TMP/live.json" \
    '" ".join(str(c["server_addr"] in [a["data"] for l in d["dns"] if l["id"] == c["dns"] for a in l["answers"]]) for c in d["connections"])')"
t_eq "$T_NAME-counters" "0 0" "$(t_json "$T_TMP/live.json" \
    '"%d %d" % (d["session"]["counters"]["dns_dropped"], d["session"]["counters"]["dns_malformed"])')"
t_eq "$T_NAME-session-count" "$(wc -l <"$T_TMP/htracr.txt")" "$(t_json "$T_TMP/live.json" 'd["session"]["dns_lookups"]')"

# The text table shows them, escaped, with their answers.
ctl show --table >"$T_TMP/live.txt" 2>&1
grep -q "DNS LOOKUPS" "$T_TMP/live.txt" &&
    grep -q "www.$DOM A -> $SRV (ttl 300)" "$T_TMP/live.txt" &&
    t_pass "$T_NAME-text-table" ||
    t_fail "$T_NAME-text-table" "$(grep -A3 'DNS LOOKUPS' "$T_TMP/live.txt" | paste -sd'|')"

# --- the waterfall, explain, HAR and the page show the lookup waited for ---
ctl show --width 160 >"$T_TMP/wf.txt" 2>&1
if grep -q "^    dns www.$DOM A [0-9]" "$T_TMP/wf.txt" &&
    grep -q "^    dns alias.$DOM A [0-9]" "$T_TMP/wf.txt"; then
	t_pass "$T_NAME-waterfall-dns"
else
	t_fail "$T_NAME-waterfall-dns" "$(grep -n 'dns\|#[12] ' "$T_TMP/wf.txt" | head -n 4 | paste -sd'|')"
fi
ctl explain --json >"$T_TMP/explain.json" 2>&1
t_eq "$T_NAME-explain-dns" "ok ok" "$(python3 - "$T_TMP/live.json" "$T_TMP/explain.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); x = json.load(open(sys.argv[2]))
look = {l["id"]: l for l in d["dns"]}
conn = {c["id"]: c for c in d["connections"]}
out = []
for e in x["transactions"]:
	t = [t for t in d["transactions"] if t["id"] == e["id"]][0]
	l = look[conn[t["connection"]]["dns"]]
	c = e["causes"]
	ok = (e["dns"] and c["dns_us"] == l["time_us"] and e["start_us"] == l["query_us"]
	    and sum(c.values()) == e["total_us"])
	out.append("ok" if ok else "txn %d: dns %s want %s, start %s want %s, sum %d total %d" % (
	    e["id"], c["dns_us"], l["time_us"], e["start_us"], l["query_us"], sum(c.values()), e["total_us"]))
print(" ".join(out))
PY
)"
ctl dump --format har -o "$T_TMP/s.har" >/dev/null 2>&1
t_eq "$T_NAME-har-dns" "ok ok" "$(python3 - "$T_TMP/live.json" "$T_TMP/s.har" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); h = json.load(open(sys.argv[2]))
look = {l["id"]: l for l in d["dns"]}
conn = {c["id"]: c for c in d["connections"]}
out = []
for e in h["log"]["entries"]:
	c = conn[int(e["connection"])]
	l = look[c["dns"]]
	tm = e["timings"]
	want_blocked = (c["syn_us"] - l["response_us"]) / 1000
	ok = (abs(tm["dns"] * 1000 - l["time_us"]) <= 1 and abs(tm["blocked"] - want_blocked) <= 0.001
	    and abs(e["time"] - sum(v for k, v in tm.items() if v > 0 and k != "ssl")) <= 0.01)
	out.append("ok" if ok else "entry %s: %s, lookup %s us" % (e["connection"], tm, l["time_us"]))
print(" ".join(out))
PY
)"

# --- layers: the waterfall draws only those asked for ---
ctl show --width 160 --layers txn >"$T_TMP/l-txn.txt" 2>&1
ctl show --width 160 --layers dns,states >"$T_TMP/l-dns.txt" 2>&1
if grep -q "GET /index.html" "$T_TMP/l-txn.txt" &&
    ! grep -q "^    dns \|^    [0-9]* packets" "$T_TMP/l-txn.txt"; then
	t_pass "$T_NAME-layers-txn"
else
	t_fail "$T_NAME-layers-txn" "$(sed -n '8,14p' "$T_TMP/l-txn.txt" | paste -sd'|')"
fi
if grep -q "^    dns www.$DOM A " "$T_TMP/l-dns.txt" &&
    grep -q "^  #1 .*=" "$T_TMP/l-dns.txt" &&
    ! grep -q "GET /\|^    [0-9]* packets" "$T_TMP/l-dns.txt"; then
	t_pass "$T_NAME-layers-dns-states"
else
	t_fail "$T_NAME-layers-dns-states" "$(sed -n '8,14p' "$T_TMP/l-dns.txt" | paste -sd'|')"
fi
ctl show --layers txn,nope >"$T_TMP/l-bad.txt" 2>&1
t_eq "$T_NAME-layers-bad" "2 1" "$? $(grep -c "bad layers 'txn,nope'" "$T_TMP/l-bad.txt")"

# --- the HTML page: each layer's checkbox in chromium ---
ctl dump --format html --packets -o "$T_TMP/live.html" >/dev/null 2>&1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
if [ -x "$CHROMIUM" ] && b_node_modules; then
	timeout 180 node "$B_DIR/timeline.js" layers "$T_TMP/live.html" \
	    packets states txn dns >"$T_TMP/layers.out" 2>&1
	rc=$?
	sed "s#^\(PASS\|FAIL\|SKIP\): #\1: $T_NAME/#" "$T_TMP/layers.out"
	grep -q '^FAIL' "$T_TMP/layers.out" && T_FAILED=1
	[ $rc -eq 0 ] || t_fail "$T_NAME/layers-browser" "node exited $rc: $(tail -n 1 "$T_TMP/layers.out")"
else
	t_skip "$T_NAME/layers-browser" "no chromium or npm packages: $(tail -n 1 "$T_TMP/npm.log" 2>/dev/null)"
fi

# --- the same file analyzed offline sees the same lookups ---
"$HTRACRCTL" analyze --json "$T_TMP/live.pcap" >"$T_TMP/file.json" 2>&1
htracr_lookups "$T_TMP/file.json" >"$T_TMP/file.txt" 2>&1
if cmp -s "$T_TMP/htracr.txt" "$T_TMP/file.txt"; then
	t_pass "$T_NAME-analyze-file"
else
	t_fail "$T_NAME-analyze-file" "$(diff "$T_TMP/htracr.txt" "$T_TMP/file.txt" | head -n 4 | paste -sd' ')"
fi

# --- --no-dns: the filter leaves port 53 out ---
t_check "$T_NAME-start-no-dns" ctl start --ports 80 --no-dns
t_eq "$T_NAME-status-no-dns" "False" "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dns"])')"
t_eq "$T_NAME-status-no-dns-text" "dns:        not captured (--no-dns)" "$(ctl status | grep '^dns:')"
sleep 0.3
get "http://www.$DOM/"
sleep 0.5
t_check "$T_NAME-stop-no-dns" ctl stop --dump "$T_TMP/nodns.pcap"
ctl show --json >"$T_TMP/nodns.json" 2>&1
t_eq "$T_NAME-no-dns-lookups" "0 1" "$(t_json "$T_TMP/nodns.json" \
    '"%d %d" % (len(d["dns"]), len(d["transactions"]))')"
t_eq "$T_NAME-no-dns-frames" 0 "$(tshark -r "$T_TMP/nodns.pcap" -Y 'udp.port == 53 || tcp.port == 53' 2>/dev/null | wc -l)"
grep -q "filter: (tcp and (port 80)) or ((udp or tcp) and port 53)" "$T_TMP/htracrd.log" &&
    grep -q "filter: tcp and (port 80)$" "$T_TMP/htracrd.log" &&
    t_pass "$T_NAME-filters-logged" ||
    t_fail "$T_NAME-filters-logged" "$(grep 'filter:' "$T_TMP/htracrd.log" | paste -sd'|')"

t_exit
