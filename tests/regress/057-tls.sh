#!/bin/sh
# 057-tls: real TLS between two network namespaces made here: nginx with
# a certificate the test makes (TLS 1.2 and 1.3, HTTP/1.1 and h2,
# session tickets and a session cache) in one, curl and openssl s_client
# in the other (both versions, both ALPN offers, resumed sessions, a
# client that refuses the certificate, a hostile SNI), captured by
# tcpdump. `htracrctl analyze --json` of the capture, with --ports and
# without, is compared connection by connection with tshark's view of
# the same file (SNI, ALPN offered and chosen, version, cipher suite,
# records per content type and direction, alerts) and with what curl
# says it negotiated. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_netns
t_need_cmd nginx tcpdump curl openssl tshark python3
t_need_bins
t_tmpdir

SRV=10.231.11.1
CLI=10.231.11.2
NAME=htracr.test
CAP=$T_TMP/tls.pcap
CURLS=$T_TMP/curl.tsv		# what curl says: group, version, cipher, alpn

start_nginx() {
	mkdir -p "$T_TMP/www"
	printf 'tls\n' >"$T_TMP/www/index.html"
	t_cert "/CN=$NAME/O=htracr tests"
	t_nginx -k "https://$SRV/" <<EOF
	server {
		listen $SRV:443 ssl http2;
		ssl_certificate $T_TMP/nginx/c.pem;
		ssl_certificate_key $T_TMP/nginx/k.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache shared:htracr:1m;
		ssl_session_tickets on;
		root $T_TMP/www;
	}
EOF
}

# curl's own account: group, local port, TLS version, cipher, ALPN.
curl_run() {
	group=$1
	shift
	t_ns cli timeout 20 curl -s --max-time 10 -o /dev/null -v \
	    --resolve "$NAME:443:$SRV" -w "$group\t%{local_port}\n" "$@" \
	    >"$T_TMP/curl.out" 2>"$T_TMP/curl.err"
	python3 - "$group" "$T_TMP/curl.out" "$T_TMP/curl.err" >>"$CURLS" <<'EOF'
import re, sys
group, out, err = sys.argv[1:4]
ports = [l.split("\t")[1].strip() for l in open(out) if l.startswith(group + "\t")]
text = open(err, errors="replace").read()
ssl = re.findall(r"SSL connection using (TLSv[\d.]+) / (\S+)", text)
alpn = re.findall(r"ALPN: server accepted (\S+)", text)
for i, port in enumerate(ports):
	v, c = ssl[i] if i < len(ssl) else ("-", "-")
	a = alpn[i] if i < len(alpn) else "-"
	print("%s\t%s\t%s\t%s\t%s" % (group, port, v.replace("TLSv", "TLS "), c, a))
EOF
}

sclient() {
	t_ns cli timeout 10 openssl s_client -connect "$SRV:443" -ign_eof "$@" \
	    </dev/null >/dev/null 2>&1
	return 0
}

run_clients() {
	u=https://$NAME
	: >"$CURLS"
	curl_run t13h2 -k --tlsv1.3 --http2 "$u/"
	curl_run t13h1 -k --tlsv1.3 --http1.1 "$u/"
	curl_run t12h2 -k --tlsv1.2 --tls-max 1.2 --http2 "$u/"
	curl_run t12h1 -k --tlsv1.2 --tls-max 1.2 --http1.1 "$u/"
	# Two connections in one curl: the second resumes the first's session.
	curl_run r13 -k --tlsv1.3 --http1.1 -H 'Connection: close' "$u/" "$u/"
	curl_run r12 -k --tls-max 1.2 --http1.1 -H 'Connection: close' "$u/" "$u/"
	# The certificate is not trusted: curl sends an alert and gives up.
	curl_run bad -s --tls-max 1.2 --http1.1 "$u/"
	# A session saved and offered again, by openssl s_client.
	sclient -tls1_2 -servername "$NAME" -sess_out "$T_TMP/s12.pem"
	sclient -tls1_2 -servername "$NAME" -sess_in "$T_TMP/s12.pem"
	sclient -tls1_3 -servername "$NAME" -sess_out "$T_TMP/s13.pem"
	sclient -tls1_3 -servername "$NAME" -sess_in "$T_TMP/s13.pem"
	# A name with a quote, a backslash and control bytes.
	sclient -tls1_2 -servername "$(printf 'q"\\\001\033[31m.x')"
}

t_pair "$SRV" "$CLI"
start_nginx
t_tcpdump "$CAP" tcp
run_clients
sleep 1
t_kill "$TCPDUMP_PID"

for mode in ports any; do
	args=
	[ "$mode" = ports ] && args="--ports 443"
	# shellcheck disable=SC2086
	if ! timeout 60 "$HTRACRCTL" analyze "$CAP" $args --json \
	    >"$T_TMP/$mode.json" 2>"$T_TMP/$mode.err"; then
		t_fail "$T_NAME/analyze_$mode" "$(head -n 1 "$T_TMP/$mode.err")"
		t_exit
	fi
done
t_pass "$T_NAME/analyze"

timeout 60 tshark -r "$CAP" -d tcp.port==443,tls -T fields -E occurrence=a \
    -E aggregator='|' -E separator='	' -e tcp.stream -e tcp.srcport \
    -e tcp.dstport -e tls.record.content_type -e tls.handshake.type \
    -e tls.handshake.extensions_server_name \
    -e tls.handshake.extensions_alpn_str -e tls.handshake.ciphersuite \
    -e tls.handshake.extensions.supported_version -e tls.handshake.version \
    -e tls.alert_message.level -e tls.alert_message.desc \
    -e tls.record.opaque_type -e tls.handshake.extension.type \
    >"$T_TMP/tshark.tsv" 2>"$T_TMP/tshark.err" ||
	{ t_fail "$T_NAME/tshark" "$(head -n 1 "$T_TMP/tshark.err")"; t_exit; }

python3 "$T_ROOT/tests/regress/tlscheck.py" "$T_NAME" "$T_TMP/ports.json" \
    "$T_TMP/any.json" "$T_TMP/tshark.tsv" "$CURLS" >"$T_TMP/res" \
    2>"$T_TMP/res.err"
rc=$?
cat "$T_TMP/res"
[ "$rc" -eq 0 ] || t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1

# The people's views name the TLS connections, with no transaction.
"$HTRACRCTL" analyze "$CAP" --ports 443 >"$T_TMP/summary.txt" 2>&1
t_check "$T_NAME/summary" grep -q "TLS 1.3 TLS_AES_256_GCM_SHA384 sni $NAME" \
    "$T_TMP/summary.txt"
t_check "$T_NAME/summary_escaped" sh -c "! grep -q \"$(printf '\033')\" '$T_TMP/summary.txt'"
COLUMNS=120 "$HTRACRCTL" analyze "$CAP" --ports 443 --format html -o "$T_TMP/tls.html" \
    2>"$T_TMP/html.err" || t_fail "$T_NAME/html" "$(head -n 1 "$T_TMP/html.err")"
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && b_node_modules; then
	timeout 120 node "$T_ROOT/tests/browser/timeline.js" tls "$T_TMP/tls.html" \
	    "TLS 1.3" "TLS_AES_256_GCM_SHA384" "$NAME" "h2, http/1.1" \
	    "not visible without keys" | sed "s#^\(PASS\|FAIL\): #\1: $T_NAME/#" \
	    >"$T_TMP/b.out" 2>&1
	cat "$T_TMP/b.out"
	grep -q '^FAIL' "$T_TMP/b.out" && T_FAILED=1
	grep -q '^PASS' "$T_TMP/b.out" || t_fail "$T_NAME/html_browser" "no result from the browser"
	# The TLS layer's checkbox takes the handshakes off and back.
	timeout 120 node "$T_ROOT/tests/browser/timeline.js" layers "$T_TMP/tls.html" \
	    tls states | sed "s#^\(PASS\|FAIL\): #\1: $T_NAME/#" >"$T_TMP/l.out" 2>&1
	cat "$T_TMP/l.out"
	grep -q '^FAIL' "$T_TMP/l.out" && T_FAILED=1
	grep -q '^PASS' "$T_TMP/l.out" || t_fail "$T_NAME/html_layers" "no result from the browser"
else
	t_skip "$T_NAME/html_browser" "no chromium, or no npm packages: $(tail -n 1 "$T_TMP/npm.log" 2>/dev/null)"
fi
t_exit
