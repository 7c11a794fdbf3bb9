#!/bin/sh
# 055-h2c: HTTP/2 in clear between two network namespaces made here.
# nginx listens with "http2" on a clear port (prior knowledge only) and
# serves a page, a text it compresses with gzip, a large file and a
# POST; curl --http2-prior-knowledge asks for a page and sends the POST.
# Debian 12's curl (7.88.1) cannot reuse a prior-knowledge connection
# ("Error in the HTTP2 framing layer", curl issue 10634, fixed in 7.89),
# so nghttp (nghttp2-client) asks several URLs on one connection, ten of
# them at once (multiplexed streams), and sends a POST among them.
# Apache's mod_http2 ("Protocols h2c") answers curl --http2, which asks
# "Upgrade: h2c", and nghttp -u. tcpdump captures everything;
# `htracrctl analyze --json` is compared stream by stream with tshark's
# HTTP/2 view of the same file (method, path, status), and the bodies
# with the files. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx apache2 nghttp tcpdump curl tshark python3
t_need_bins
t_tmpdir

SRV=10.231.12.1
CLI=10.231.12.2
CAP=$T_TMP/h2c.pcap
U=http://$SRV:8080
A=http://$SRV:8081

make_files() {
	mkdir -p "$T_TMP/www" "$T_TMP/nginx" "$T_TMP/apache"
	printf '<html>h2c</html>\n' >"$T_TMP/www/index.html"
	i=0
	while [ $i -lt 400 ]; do
		echo "line $i of a text that compresses well, again and again"
		i=$((i + 1))
	done >"$T_TMP/www/text.txt"
	head -c 300000 /dev/urandom >"$T_TMP/www/big.bin"
	printf 'text %s\nbig %s\n' "$(wc -c <"$T_TMP/www/text.txt")" \
	    "$(wc -c <"$T_TMP/www/big.bin")" >"$T_TMP/sizes"
	# Apache serves as nobody: the tree must be readable.
	chmod 755 "$T_TMP" "$T_TMP/www"
	chmod 644 "$T_TMP/www"/*
}

start_nginx() {
	t_nginx --http2-prior-knowledge "$U/" <<CONF
	types { text/html html; text/plain txt; }
	default_type application/octet-stream;
	server {
		listen $SRV:8080 http2;
		root $T_TMP/www;
		gzip on;
		gzip_types text/plain;
		gzip_min_length 64;
		# Proxied, so that nginx reads the whole body before it
		# answers: a bare "return" answers at once and resets the
		# stream, and curl then never sends the body.
		location = /post { proxy_pass http://127.0.0.1:8099; }
	}
	server {
		listen 127.0.0.1:8099;
		location / { return 201 "created\n"; }
	}
CONF
}

start_apache() {
	m=/usr/lib/apache2/modules
	: >"$T_TMP/apache/mime.types"
	cat >"$T_TMP/apache/httpd.conf" <<CONF
ServerRoot $T_TMP/apache
ServerName h2c.test
Listen $SRV:8081
PidFile $T_TMP/apache/httpd.pid
ErrorLog $T_TMP/apache/error.log
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule mime_module $m/mod_mime.so
LoadModule http2_module $m/mod_http2.so
TypesConfig $T_TMP/apache/mime.types
AddType text/plain .txt
Protocols h2c http/1.1
DocumentRoot $T_TMP/www
User nobody
Group nogroup
CONF
	t_ns srv apache2 -f "$T_TMP/apache/httpd.conf" -k start \
	    >"$T_TMP/apache/start.log" 2>&1 || return 1
	t_atexit "ip netns exec $T_NS_PREFIX-srv apache2 -f $T_TMP/apache/httpd.conf -k stop >/dev/null 2>&1"
	t_wait_for 10 t_ns srv curl -s -o /dev/null "$A/"
}

c() {
	t_ns cli timeout 20 curl -sS --max-time 15 "$@" >>"$T_TMP/curl.out" \
	    2>>"$T_TMP/curl.err"
}

n() {
	t_ns cli timeout 20 nghttp -n -t 15 "$@" >>"$T_TMP/nghttp.out" \
	    2>>"$T_TMP/nghttp.err"
}

run_clients() {
	printf 'a=1&b=22' >"$T_TMP/post.txt"
	# One request per connection: curl.
	c --http2-prior-knowledge -o /dev/null "$U/"
	c --http2-prior-knowledge -o /dev/null -d 'a=1&b=22' "$U/post"
	# Several URLs on one connection, all at once: the page, the text
	# (gzip), the large file, a 404, and eight more small ones.
	n -H 'accept-encoding: gzip' "$U/" "$U/text.txt" "$U/big.bin" \
	    "$U/missing" "$U/index.html?1" "$U/index.html?2" \
	    "$U/text.txt?3" "$U/index.html?4" "$U/text.txt?5" \
	    "$U/index.html?6"
	n -d "$T_TMP/post.txt" "$U/post"
	# HTTP/1.1 with Upgrade: h2c, then HTTP/2 on the same connection.
	c --http2 -o /dev/null "$A/index.html"
	n -u --no-dep "$A/index.html" "$A/text.txt"
}

t_pair "$SRV" "$CLI"
make_files
start_nginx
start_apache || { t_fail "$T_NAME/apache" "apache did not come up: $(tail -n 1 "$T_TMP/apache/error.log" "$T_TMP/apache/start.log" 2>/dev/null)"; t_exit; }
t_tcpdump "$CAP" tcp
run_clients
sleep 1
t_kill "$TCPDUMP_PID"

if ! timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 8080,8081 --json \
    >"$T_TMP/a.json" 2>"$T_TMP/a.err"; then
	t_fail "$T_NAME/analyze" "$(head -n 1 "$T_TMP/a.err")"
	t_exit
fi
t_pass "$T_NAME/analyze"

timeout 120 tshark -r "$CAP" -d tcp.port==8080,http2 -d tcp.port==8081,http \
    -T fields -E occurrence=a -E aggregator='|' -E separator='	' \
    -e tcp.stream -e tcp.srcport -e tcp.dstport -e http2.streamid \
    -e http2.type -e http2.headers.method -e http2.headers.path \
    -e http2.headers.status -e http.request.method -e http.request.uri \
    >"$T_TMP/tshark.tsv" 2>"$T_TMP/tshark.err" ||
	{ t_fail "$T_NAME/tshark" "$(head -n 1 "$T_TMP/tshark.err")"; t_exit; }

python3 "$T_ROOT/tests/regress/h2check.py" "$T_NAME" "$T_TMP/a.json" \
    "$T_TMP/tshark.tsv" "$T_TMP/sizes" >"$T_TMP/res" 2>"$T_TMP/res.err"
rc=$?
cat "$T_TMP/res"
[ "$rc" -eq 0 ] || grep -q '^FAIL: ' "$T_TMP/res" ||
	t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1

# The people's views: the PROTO column, HAR's version, the waterfall.
"$HTRACRCTL" analyze "$CAP" --ports 8080,8081 >"$T_TMP/summary.txt" 2>&1
t_check "$T_NAME/table_proto" grep -Eq ' h2/15 +[0-9.]+ GET ' "$T_TMP/summary.txt"
"$HTRACRCTL" analyze "$CAP" --ports 8080,8081 --format har \
    -o "$T_TMP/h.har" 2>"$T_TMP/har.err" ||
	t_fail "$T_NAME/har" "$(head -n 1 "$T_TMP/har.err")"
t_eq "$T_NAME/har_h2" "true" "$(t_json "$T_TMP/h.har" \
    'all(e["response"]["httpVersion"] == "h2" for e in d["log"]["entries"] if "/post" in e["request"]["url"])')"
# The waterfall, from a private daemon the capture is loaded into: the
# multiplexed connection's line, its streams' bars labelled.
if t_daemon_start && t_ctl load "$CAP" --ports 8080,8081 >/dev/null 2>&1; then
	t_ctl show --waterfall --width 140 >"$T_TMP/wf.txt" 2>&1
	t_check "$T_NAME/waterfall_streams" grep -Eq \
	    'HTTP/2: 10 streams, up to ([1-9]|10) at once' "$T_TMP/wf.txt"
	t_check "$T_NAME/waterfall_labels" grep -Eq ' h2/[0-9]+ GET /text.txt\?5' \
	    "$T_TMP/wf.txt"
	t_daemon_stop
else
	t_fail "$T_NAME/waterfall" "no daemon: $(tail -n 1 "$T_TMP/htracrd.log")"
fi
t_exit
