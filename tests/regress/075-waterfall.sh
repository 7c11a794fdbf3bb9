#!/bin/sh
# 075-waterfall: the terminal views (waterfall, one transaction, one
# connection) and replay's curl command, over a document with every
# highlight and hostile wire strings. Checks the width fits, colour only
# on a terminal and never with NO_COLOR, wire bytes escaped, filters,
# zoom, the summary against figures computed here from the document, and
# that the printed curl command, run against a recorder on loopback,
# sends exactly the captured method, target, headers and body.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_cmd python3
t_tmpdir
b_docrender
S=$T_TMP/s.mp
J=$T_TMP/s.json
python3 "$B_DIR/mkdoc.py" sample "$S" "$J"
W() { "$DOCRENDER" "$@"; }

# Width: no line wider than asked, for several widths.
for w in 60 100 160; do
	# The axis, the bars and their labels; notes and sums may wrap.
	long=$(W -w "$w" waterfall "$S" |
	    grep -Ev '^(session|window|packets:|states:|transactions:|  server [0-9]+:|        )' |
	    awk -v w="$w" 'length($0) > w { n++ } END { print n + 0 }')
	t_eq "$T_NAME/width-$w" 0 "$long"
done

# No colour into a pipe; colour on a terminal; none with NO_COLOR.
esc=$(printf '\033')
if W waterfall "$S" | grep -q "$esc"; then
	t_fail "$T_NAME/no-color-in-pipe" "escape sequences in piped output"
else
	t_pass "$T_NAME/no-color-in-pipe"
fi
if command -v script >/dev/null 2>&1; then
	script -qec "$DOCRENDER waterfall $S" /dev/null >"$T_TMP/tty.out" 2>&1
	if grep -q "$esc\[3[0-9]m" "$T_TMP/tty.out"; then
		t_pass "$T_NAME/color-on-tty"
	else
		t_fail "$T_NAME/color-on-tty" "no colour on a terminal"
	fi
	NO_COLOR=1 script -qec "$DOCRENDER waterfall $S" /dev/null >"$T_TMP/nc.out" 2>&1
	if grep -q "$esc\[" "$T_TMP/nc.out"; then
		t_fail "$T_NAME/no-color-env" "colour despite NO_COLOR"
	else
		t_pass "$T_NAME/no-color-env"
	fi
else
	t_skip "$T_NAME/color-on-tty" "script(1) is not installed"
fi

# The server name holds ESC [31m: it must print as text.
W waterfall "$S" >"$T_TMP/w.out"
if grep -qF 'api.example.com\x1b[31m' "$T_TMP/w.out" &&
    ! LC_ALL=C grep -q '[[:cntrl:]]' "$T_TMP/w.out"; then
	t_pass "$T_NAME/wire-escaped"
else
	t_fail "$T_NAME/wire-escaped" "control bytes or unescaped name in the waterfall"
fi

# Highlights the document holds, each called out.
for h in 'request headers split across 2 packets' 'pipelined' \
    'conditional, answered 304' 'Connection: close' 'picked up mid-stream' \
    'retransmissions: 0 from client, 1 from server' 'response incomplete'; do
	if grep -qF "$h" "$T_TMP/w.out"; then
		t_pass "$T_NAME/highlight/$h"
	else
		t_fail "$T_NAME/highlight/$h" "not in the waterfall"
	fi
done

# The session summary against the document, computed independently.
want=$(python3 - "$J" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
w = sorted(t["timings"]["wait_us"] for t in d["transactions"] if t["timings"]["wait_us"] is not None)
q = lambda p: w[max(0, math.ceil(p * len(w)) - 1)]
ms = lambda us: ("%.2fms" % (us / 1e3)) if us < 1e4 else ("%.1fms" % (us / 1e3))
pk = sum(c[k]["packets"] for c in d["connections"] for k in ("c2s", "s2c"))
rt = sum(c[k]["retransmits"] for c in d["connections"] for k in ("c2s", "s2c"))
print("%d transactions; median %s p95 %s; (%d of %d packets)" % (
    len(d["transactions"]), ms(q(0.5)), ms(q(0.95)), rt, pk))
PY
)
got=$(grep '^session:' "$T_TMP/w.out" | sed 's/^session: \([0-9]* transactions\),.*wait \(median [^;]*\);.*\((.*packets)\).*/\1; \2; \3/')
t_eq "$T_NAME/session-summary" "$want" "$got"

# Filters: each keeps exactly the transactions the document says.
filter_case() {
	name=$1 expr=$2
	shift 2
	want=$(python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
print(sorted(t['id'] for t in d['transactions'] if $expr))" "$J")
	got=$(W "$@" waterfall "$S" | awk '/^([0-9][0-9][0-9]|---|1xx) [0-9]+ / { print $2 }' |
	    python3 -c 'import sys; print(sorted(int(x) for x in sys.stdin.read().split()))')
	t_eq "$T_NAME/filter/$name" "$want" "$got"
}
filter_case status-5xx "t['response'] and (t['response']['status'] or 0) >= 500" -S 5xx
filter_case status-list "t['response'] and t['response']['status'] in (404, 304)" -S 404,304
filter_case method-post "t['request']['method'] == 'POST'" -M post
filter_case min-wait "(t['timings']['wait_us'] or 0) >= 100000" -W 100
filter_case host "d['servers'][t['server'] - 1]['name'] == 'www.example.com'" -H www.example
filter_case none "True"

# Zoom: the scale and window asked for are the ones drawn.
# 100 columns less the labels: the window is as wide as the chart.
win=$(W -w 100 -s 10 -f 100 waterfall "$S" | sed -n 2p)
case "$win" in
"window +100.0ms .. +"*", 10.0ms per column") t_pass "$T_NAME/scale" ;;
*) t_fail "$T_NAME/scale" "$win" ;;
esac
t_eq "$T_NAME/from-to" "window +0us .. +50.0ms" \
    "$(W -f 0 -t 50 waterfall "$S" | sed -n 2p | cut -d, -f1)"

# One transaction in full: headers as sent, escaped.
W txn "$S" 6 >"$T_TMP/t5.out"
if grep -qF "X-Evil: </script>\\xe2\\x80\\xa8\\x07\\xff\\xfe'\"<b>" "$T_TMP/t5.out" &&
    ! LC_ALL=C grep -q '[[:cntrl:]]' "$T_TMP/t5.out"; then
	t_pass "$T_NAME/txn-headers-escaped"
else
	t_fail "$T_NAME/txn-headers-escaped" "$(grep X-Evil "$T_TMP/t5.out" | cat -v)"
fi
t_eq "$T_NAME/txn-missing" 1 "$(W txn "$S" 999 >/dev/null; echo $?)"

# One connection: a row per packet the document holds.
want=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["connections"][1]["packets"]))' "$J")
got=$(W conn "$S" 2 | grep -Ec '^ +[0-9]+ +[0-9.]+(us|ms|s) +(->|<-) ')
t_eq "$T_NAME/conn-packets" "$want" "$got"

# A TLS connection: its line under the connection, escaped, and the
# handshake on its bar ('t' before the connected '=').
W -w 160 waterfall "$S" >"$T_TMP/tls.out"
t_check "$T_NAME/tls-line" grep -qF \
    'TLS 1.3 TLS_AES_128_GCM_SHA256 sni api.example.com\x1b[31m alpn http/1.1 -> ? handshake 7.0ms 1 rt' \
    "$T_TMP/tls.out"
t_check "$T_NAME/tls-bar" grep -Eq '^  #2 .* t+=' "$T_TMP/tls.out"
t_eq "$T_NAME/tls-one-line" 1 "$(grep -c 'TLS 1' "$T_TMP/tls.out")"

# replay: run the printed command against a recorder on loopback (as an
# HTTP proxy, so the captured Host needs no name resolution).
if command -v curl >/dev/null 2>&1; then
	printf 'line1\nbinary \001\377 end\n' >"$T_TMP/body"
	W curl "$S" 5 "$T_TMP/body" >"$T_TMP/replay.sh"
	if LC_ALL=C grep -q '[[:cntrl:]]' "$T_TMP/replay.sh" ||
	    LC_ALL=C grep -q '[^ -~]' "$T_TMP/replay.sh"; then
		t_fail "$T_NAME/replay-printable" "raw control or 8-bit bytes in the command"
	else
		t_pass "$T_NAME/replay-printable"
	fi
	python3 - "$T_TMP/port" "$T_TMP/got" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(30)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept()
c.settimeout(10)
buf = b""
while b"\r\n\r\n" not in buf:
    buf += c.recv(65536)
head, body = buf.split(b"\r\n\r\n", 1)
n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
while n and len(body) < n[0]:
    body += c.recv(65536)
open(sys.argv[2], "wb").write(head + b"\r\n\r\n" + body)
c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
c.close()
PY
	rec=$!
	t_atexit "kill $rec 2>/dev/null"
	t_wait_for 10 test -s "$T_TMP/port"
	http_proxy=http://127.0.0.1:$(cat "$T_TMP/port") timeout 20 sh "$T_TMP/replay.sh" >/dev/null 2>&1
	wait "$rec"
	r=$(python3 - "$J" "$T_TMP/got" "$T_TMP/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
head, body = raw.split(b"\r\n\r\n", 1)
lines = head.split(b"\r\n")
t = d["transactions"][4]["request"]
host = [v for k, v in t["headers"] if k == "Host"][0]
want_line = ("%s http://%s%s HTTP/1.1" % (t["method"], host, t["target"])).encode("latin-1")
hdrs = [l.split(b": ", 1) for l in lines[1:]]
evil = [v for k, v in hdrs if k == b"X-Quote"]
want_evil = [v for k, v in t["headers"] if k == "X-Quote"][0].encode("latin-1")
bad = []
if lines[0] != want_line: bad.append("request line %r" % lines[0])
if evil != [want_evil]: bad.append("X-Quote %r" % evil)
if body != open(sys.argv[3], "rb").read(): bad.append("body %r" % body)
print("; ".join(bad) or "ok")
PY
)
	t_eq "$T_NAME/replay-roundtrip" ok "$r"
else
	t_skip "$T_NAME/replay-roundtrip" "curl is not installed"
fi
# Real captures: analyze's document drawn as a waterfall, one bar per
# request tshark saw, wire bytes escaped.
if CORPUS=$(t_shared corpus) && [ -x "$HTRACRCTL" ]; then
	for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		if ! timeout 120 "$HTRACRCTL" analyze "$f" --json --packets \
		    >"$T_TMP/c.json" 2>"$T_TMP/c.err"; then
			t_fail "$T_NAME/$base/analyze" "$(head -n 1 "$T_TMP/c.err")"
			continue
		fi
		python3 "$B_DIR/mkdoc.py" json "$T_TMP/c.json" "$T_TMP/c.mp"
		W -w 120 waterfall "$T_TMP/c.mp" >"$T_TMP/c.out"
		want=$(b_tshark_targets "$CORPUS/tshark/$base.tsv" | wc -l)
		got=$(awk '/^([0-9][0-9][0-9]|---|1xx) [0-9]+ / { n++ } END { print n + 0 }' "$T_TMP/c.out")
		t_eq "$T_NAME/$base/bars" "$want" "$got"
		if LC_ALL=C grep -q '[[:cntrl:]]' "$T_TMP/c.out"; then
			t_fail "$T_NAME/$base/escaped" "control bytes in the waterfall"
		else
			t_pass "$T_NAME/$base/escaped"
		fi
	done
else
	t_skip "$T_NAME/corpus" "../shared/corpus or htracrctl is absent"
fi

# watch on a live capture between two namespaces made here: one line per
# request while the capture runs, Ctrl-C ends one watcher cleanly, stop
# ends the other with the stream's end.
watch_live() {
	WS=10.231.9.1
	t_ns_add wsrv >/dev/null && t_ns_add wcli >/dev/null &&
	    t_veth wsrv "$WS/24" wcli 10.231.9.2/24 || {
		t_fail "$T_NAME/watch" "could not make the namespaces"
		return
	}
	mkdir -p "$T_TMP/www" && echo hello >"$T_TMP/www/a.txt"
	T_BG_LOG=$T_TMP/httpd.log t_bg ip netns exec "$T_NS_PREFIX-wsrv" \
	    python3 -m http.server 80 --bind "$WS" --directory "$T_TMP/www"
	t_wait_for 10 t_ns wcli curl -s -o /dev/null "http://$WS/a.txt" || {
		t_fail "$T_NAME/watch" "python3 -m http.server did not come up"
		return
	}
	WSOCK=$T_TMP/ws
	T_BG_LOG=$T_TMP/wd.log t_bg ip netns exec "$T_NS_PREFIX-wsrv" \
	    "$HTRACRD" --foreground --socket "$WSOCK"
	t_wait_for 10 test -S "$WSOCK" &&
	    "$HTRACRCTL" --socket "$WSOCK" start --ports 80 \
	    --interface "$T_VETH_A" >"$T_TMP/start.out" 2>&1 || {
		t_fail "$T_NAME/watch" "capture did not start: $(tail -n 1 "$T_TMP/start.out" "$T_TMP/wd.log" | tr '\n' ' ')"
		return
	}
	"$HTRACRCTL" --socket "$WSOCK" watch >"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
	w1=$!
	# sh starts background jobs with SIGINT ignored: give it back, as a
	# terminal would have it.
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$HTRACRCTL" --socket "$WSOCK" watch \
	    >"$T_TMP/watch2.out" 2>&1 &
	w2=$!
	t_atexit "kill $w1 $w2 2>/dev/null"
	# Both watchers must be subscribed before the traffic starts.
	t_wait_for 10 sh -c "'$HTRACRCTL' --socket '$WSOCK' status --json |
	    python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)[\"clients\"]) < 3)'"
	for i in 1 2 3 4 5; do
		t_ns wcli curl -s -o /dev/null "http://$WS/a.txt?n=$i"
	done
	t_wait_for 15 sh -c "[ \$(wc -l <'$T_TMP/watch.out') -ge 5 ]"
	kill -INT "$w2"
	wait "$w2"
	t_eq "$T_NAME/watch-ctrl-c" 0 "$?"
	"$HTRACRCTL" --socket "$WSOCK" stop >/dev/null 2>&1
	wait "$w1"
	t_eq "$T_NAME/watch-ends-on-stop" 0 "$?"
	n=0
	for i in 1 2 3 4 5; do
		grep -q " GET  *$WS/a.txt?n=$i .*200 " "$T_TMP/watch.out" && n=$((n + 1))
	done
	t_eq "$T_NAME/watch-lines" 5 "$n"
	# Each line names the client by address, from the connection item.
	t_eq "$T_NAME/watch-client" 5 \
	    "$(grep -c ' 10\.231\.9\.2:[0-9][0-9]*  *GET ' "$T_TMP/watch.out")"
}
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 &&
    command -v curl >/dev/null 2>&1 && [ -x "$HTRACRD" ] &&
    ip netns add "$T_NS_PREFIX-probe" >/dev/null 2>&1; then
	ip netns del "$T_NS_PREFIX-probe"
	watch_live
else
	t_skip "$T_NAME/watch" "needs root, ip netns, curl and a built htracrd"
fi
t_exit
