#!/bin/sh
# 105-browser-h2: a real browser's HTTP/2 over TLS 1.3, decrypted.
# nginx (TLS 1.3 only, h2, a certificate the test makes) in one
# namespace made here serves a page with 24 sub-resources: stylesheets
# and scripts it compresses with gzip, images of eight sizes. Debian's
# chromium, headless in the other namespace, loads it writing its key
# log (--ssl-key-log-file): every request goes on one connection, many
# streams open at once; the browser often cancels its favicon request
# (RST_STREAM) after nginx answered it. tcpdump captures it, and so
# does a private
# htracrd started with `htracrctl start --keylog`, which follows the
# key log as the browser writes it. Both views, `analyze --keylog` of
# the tcpdump file and the live session, are compared with tshark -o
# tls.keylog_file on the same file (browser.py): per connection SNI,
# ALPN, cipher suite and version; per stream method, path and status;
# the HTTP/2 frames of each type each side sent; for the file also the
# frame numbers of each stream's request and last response frame, so
# the streams open at once are the same. Without keys the handshakes
# are compared (SNI, ALPN offered, suites offered and chosen, version)
# and nothing is decrypted. A curl connection follows the browser's.
# Then tlshole.py cuts bytes of the browser's connection out of the
# file: inside its ClientHello, and on the server's side inside its
# Finished record, inside a record of response data, and from the
# Finished over whole records; each time what is read must be
# tshark's, no status made up, no record counted failed, the loss
# said, and the curl connection whole.
# Needs root, ip netns and chromium.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx tcpdump curl openssl tshark python3 chromium
t_need_bins
t_tmpdir

SRV=10.231.105.1
CLI=10.231.105.2
NAME=browser.htracr.test
CAP=$T_TMP/browser.pcap
KEYS=$T_TMP/keys.txt
LKEYS=$T_TMP/live-keys.txt

# The page and its 24 sub-resources: 8 stylesheets and 8 scripts
# (nginx compresses them with gzip) and 8 PNG images from 200 bytes to
# 200 KiB, which go as they are.
make_site() {
	python3 - "$T_TMP/www" <<'PY'
import os, struct, sys, zlib
www = sys.argv[1]
os.makedirs(www, exist_ok=True)
def png(path, w, h, seed):
	raw = b"".join(b"\0" + bytes((x * seed + y * 7 + seed) & 0xff
	    for x in range(w * 3)) for y in range(h))
	def chunk(t, d):
		return struct.pack(">I", len(d)) + t + d + \
		    struct.pack(">I", zlib.crc32(t + d))
	with open(path, "wb") as f:
		f.write(b"\x89PNG\r\n\x1a\n" +
		    chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
		    chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))
body = []
for i in range(8):
	with open("%s/s%d.css" % (www, i), "w") as f:
		f.write("".join(".c%d-%d { margin: %dpx; }\n" % (i, j, j)
		    for j in range(50 + 300 * i)))
	with open("%s/j%d.js" % (www, i), "w") as f:
		f.write("".join("var v%d_%d = %d;\n" % (i, j, j)
		    for j in range(40 + 400 * i)))
	side = [8, 16, 32, 64, 96, 128, 192, 256][i]
	png("%s/i%d.png" % (www, i), side, side // 4 + 1, i + 3)
	body.append('<img src="/i%d.png">' % i)
head = "".join('<link rel="stylesheet" href="/s%d.css">\n' % i
    for i in range(8))
scripts = "".join('<script src="/j%d.js"></script>\n' % i for i in range(8))
with open(www + "/index.html", "w") as f:
	f.write("<!DOCTYPE html>\n<html><head>\n%s</head><body>\n%s\n%s"
	    "<p>browser h2</p></body></html>\n" % (head, "\n".join(body), scripts))
PY
}

start_nginx() {
	t_cert "/CN=$NAME"
	t_nginx -k "https://$SRV/" <<EOF
	types { text/html html; text/css css; application/javascript js;
		image/png png; }
	gzip on;
	gzip_types text/css application/javascript;
	gzip_min_length 0;
	server {
		listen $SRV:443 ssl http2;
		ssl_certificate $T_TMP/nginx/c.pem;
		ssl_certificate_key $T_TMP/nginx/k.pem;
		ssl_protocols TLSv1.3;
		root $T_TMP/www;
	}
EOF
}

# A private daemon in the client's namespace capturing on its end of
# the veth, started with --keylog: it follows the browser's key log.
start_live() {
	RUN=$T_TMP/run
	mkdir "$RUN" && chown root:htracr "$RUN" && chmod 0750 "$RUN" || return 1
	LSOCK=$RUN/s
	T_BG_LOG=$T_TMP/live.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
	    "$HTRACRD" --foreground --socket "$LSOCK" --user htracr
	t_wait_for 10 "$HTRACRCTL" --socket "$LSOCK" status || return 1
	: >"$LKEYS"
	"$HTRACRCTL" --socket "$LSOCK" start --ports 443 --interface "$T_VETH_B" \
	    --keylog "$LKEYS" >"$T_TMP/follow.out" 2>&1 &
	FP=$!
	t_atexit "t_kill $FP"
	t_wait_for 10 grep -q capturing "$T_TMP/follow.out"
}

stop_live() {
	"$HTRACRCTL" --socket "$LSOCK" stop --json >"$T_TMP/stop.json" 2>&1
	t_wait_for 10 sh -c "! kill -0 $FP 2>/dev/null"
	wait "$FP"
	t_eq "$T_NAME/live_follow_ended" 0 "$?"
	"$HTRACRCTL" --socket "$LSOCK" dump --format json >"$T_TMP/live.json" \
	    2>"$T_TMP/live.err"
	# The waterfall draws the streams of one connection at once.
	"$HTRACRCTL" --socket "$LSOCK" show --waterfall --width 140 \
	    >"$T_TMP/wf.txt" 2>&1
	t_check "$T_NAME/live_waterfall" grep -Eq \
	    'HTTP/2: 2[5-9] streams, up to ([2-9]|[1-9][0-9]) at once' \
	    "$T_TMP/wf.txt"
}

# One page load: every resource over one connection. The key log goes
# to the file the live capture follows; the test's copy is made after.
browse() {
	t_ns cli timeout 60 chromium --headless=new --no-sandbox \
	    --user-data-dir="$T_TMP/profile" --no-first-run \
	    --disable-background-networking --disable-component-update \
	    --ignore-certificate-errors \
	    --host-resolver-rules="MAP $NAME $SRV" \
	    --ssl-key-log-file="$LKEYS" --dump-dom "https://$NAME/" \
	    >"$T_TMP/dom.html" 2>"$T_TMP/chromium.err"
}

t_pair "$SRV" "$CLI"
make_site
start_nginx
if id htracr >/dev/null 2>&1; then
	start_live || { t_fail "$T_NAME/live" "$(tail -n 2 "$T_TMP/live.log" "$T_TMP/follow.out" 2>&1)"; t_exit; }
	LIVE=1
else
	t_skip "$T_NAME/live" "no user htracr (030-capture makes it)"
	LIVE=0
fi
t_tcpdump "$CAP" tcp port 443
browse || t_fail "$T_NAME/chromium" "exit $?: $(tail -n 1 "$T_TMP/chromium.err")"
# A connection after the browser's, which a loss in its must not touch.
t_ns cli env SSLKEYLOGFILE="$LKEYS" timeout 20 curl -sk --max-time 10 \
    --http2 --resolve "$NAME:443:$SRV" -o /dev/null "https://$NAME/s3.css" \
    -o /dev/null "https://$NAME/i7.png" 2>"$T_TMP/curl.err" ||
	t_fail "$T_NAME/curl" "$(tail -n 1 "$T_TMP/curl.err")"
sleep 1
t_kill "$TCPDUMP_PID"
[ "$LIVE" = 1 ] && stop_live
cp "$LKEYS" "$KEYS"
t_check "$T_NAME/page_loaded" grep -q 'browser h2' "$T_TMP/dom.html"
t_check "$T_NAME/keylog_written" grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$KEYS"

timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 443 --keylog "$KEYS" \
    --json >"$T_TMP/dec.json" 2>"$T_TMP/dec.err" ||
	t_fail "$T_NAME/analyze" "$(head -n 1 "$T_TMP/dec.err")"
timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 443 \
    --json >"$T_TMP/enc.json" 2>"$T_TMP/enc.err" ||
	t_fail "$T_NAME/analyze_no_keys" "$(head -n 1 "$T_TMP/enc.err")"

# tshark's view, with the key log and without.
shark() {
	timeout 60 tshark -r "$CAP" "$@" -d tcp.port==443,tls \
	    -T fields -E occurrence=a -E aggregator='|' -E separator='	' \
	    -e frame.number -e tcp.srcport -e tcp.dstport \
	    -e tls.handshake.type -e tls.handshake.extensions_server_name \
	    -e tls.handshake.extensions_alpn_str -e tls.handshake.ciphersuite \
	    -e tls.handshake.version -e tls.handshake.extensions.supported_version \
	    -e http2.streamid -e http2.type -e http2.flags \
	    -e http2.headers.method -e http2.headers.path -e http2.headers.status
}
shark -o "tls.keylog_file:$KEYS" >"$T_TMP/dec.tsv" 2>"$T_TMP/tshark.err" ||
	t_fail "$T_NAME/tshark" "$(head -n 1 "$T_TMP/tshark.err")"
shark >"$T_TMP/enc.tsv" 2>>"$T_TMP/tshark.err" ||
	t_fail "$T_NAME/tshark_no_keys" "$(head -n 1 "$T_TMP/tshark.err")"

# $1 the cases' prefix, the rest browser.py's arguments.
check() {
	_n=$1
	shift
	python3 "$T_ROOT/tests/regress/browser.py" "$T_NAME/$_n" "$@" \
	    >"$T_TMP/res" 2>"$T_TMP/res.err"
	_rc=$?
	cat "$T_TMP/res"
	grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1
	[ "$_rc" -eq 0 ] || grep -q '^FAIL: ' "$T_TMP/res" ||
	    t_fail "$T_NAME/$_n" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
}
check file decrypted "$T_TMP/dec.json" "$T_TMP/dec.tsv" frames
check nokeys handshakes "$T_TMP/enc.json" "$T_TMP/enc.tsv"
[ "$LIVE" = 1 ] && check live decrypted "$T_TMP/live.json" "$T_TMP/dec.tsv"

# The same capture with bytes of the browser's connection lost
# (tlshole.py): inside its ClientHello (no keys can be found: nothing
# read, and why), then from the server's side: inside its Finished (the
# application keys are found without it), inside a record of response
# data (that record only is not decrypted; HTTP/2 says what it lost),
# and from its Finished over whole records (that side stops). Each
# against tshark's view of the whole capture.
port=$(t_json "$T_TMP/dec.json" 'str(max(d["connections"], key=lambda c: len(c["transactions"]))["client_port"])')
for case in hello finished data across; do
	python3 "$T_ROOT/tests/regress/tlshole.py" "$CAP" "$T_TMP/$case.pcap" \
	    "$port" "$case" >"$T_TMP/$case.hole" 2>&1 ||
		{ t_fail "$T_NAME/$case" "$(tail -n 1 "$T_TMP/$case.hole")"; continue; }
	timeout 60 "$HTRACRCTL" analyze "$T_TMP/$case.pcap" --ports 443 \
	    --keylog "$KEYS" --json >"$T_TMP/$case.json" 2>"$T_TMP/$case.err" ||
		{ t_fail "$T_NAME/$case" "$(head -n 1 "$T_TMP/$case.err")"; continue; }
	check "$case" lost "$T_TMP/$case.json" "$T_TMP/dec.tsv" "$case" "$port"
done
t_exit
