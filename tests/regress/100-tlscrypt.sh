#!/bin/sh
# 100-tlscrypt: HTTPS decrypted with the client's key log. nginx with a
# certificate the test makes, in one namespace made here; curl in
# another writing SSLKEYLOGFILE, over TLS 1.3 and TLS 1.2 with each AEAD
# cipher (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305): several URLs on
# one connection, a gzip body, a 304 and a POST on each, over HTTP/1.1
# and, for two of them, HTTP/2 (ALPN h2). tcpdump captures it. `htracrctl analyze --keylog --json` is compared with
# tshark -o tls.keylog_file on the same file: per connection the
# requests (method, path) and statuses in order, SNI, ALPN and cipher
# suite. Then: a CBC suite is reported not decrypted, a wrong key log
# gives failed records and no transaction, `load` then `keys` analyses
# the session again with the keys, a pcapng file dumped --with-keys is
# decrypted by tshark with no key log of its own, the analyzer still
# dies of SIGSYS on openat after decrypting, and a live capture started
# with --keylog decrypts as the key log grows. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx tcpdump curl openssl tshark python3
t_need_bins
t_tmpdir

SRV=10.231.100.1
CLI=10.231.100.2
NAME=crypt.htracr.test
CAP=$T_TMP/tls.pcap
KEYS=$T_TMP/keys.txt

start_nginx() {
	mkdir -p "$T_TMP/www"
	printf 'index\n' >"$T_TMP/www/index.html"
	printf 'a\n' >"$T_TMP/www/a.txt"
	python3 -c 'print("htracr decrypts this line\n" * 400, end="")' \
	    >"$T_TMP/www/big.txt"
	t_cert "/CN=$NAME"
	t_nginx -k "https://$SRV/" <<EOF
	gzip on;
	gzip_types text/plain;
	gzip_min_length 0;
	if_modified_since before;
	server {
		listen $SRV:443 ssl http2;
		ssl_certificate $T_TMP/nginx/c.pem;
		ssl_certificate_key $T_TMP/nginx/k.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA;
		ssl_session_tickets off;
		root $T_TMP/www;
		location /post { return 201 "made\n"; }
	}
EOF
}

# One connection: four GETs (one gzip, one conditional), then a POST.
# $1 is --http1.1 or --http2.
curl_case() {
	u=https://$NAME
	since=$(date -u -d '+1 day' '+%a, %d %b %Y %H:%M:%S GMT')
	t_ns cli env SSLKEYLOGFILE="$KEYS" timeout 20 curl -sk --max-time 10 \
	    --resolve "$NAME:443:$SRV" "$@" \
	    -o /dev/null "$u/" -o /dev/null "$u/a.txt" \
	    --next -sk --resolve "$NAME:443:$SRV" "$@" --compressed \
	    -o /dev/null "$u/big.txt" \
	    --next -sk --resolve "$NAME:443:$SRV" "$@" \
	    -H "If-Modified-Since: $since" -o /dev/null "$u/a.txt" \
	    --next -sk --resolve "$NAME:443:$SRV" "$@" \
	    -d 'name=value' -o /dev/null "$u/post" \
	    >/dev/null 2>>"$T_TMP/curl.err"
}

run_clients() {
	h1=--http1.1
	curl_case $h1 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
	curl_case $h1 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
	curl_case $h1 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
	curl_case $h1 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
	curl_case $h1 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384
	curl_case $h1 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
	curl_case $h1 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA
	# HTTP/2 inside: ALPN h2 sends the plaintext to the h2 engine.
	curl_case --http2 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
	curl_case --http2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
}

t_pair "$SRV" "$CLI"
start_nginx
t_tcpdump "$CAP" tcp
run_clients
sleep 1
t_kill "$TCPDUMP_PID"
t_check "$T_NAME/keylog_written" test -s "$KEYS"

if ! timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 443 --keylog "$KEYS" \
    --json >"$T_TMP/dec.json" 2>"$T_TMP/dec.err"; then
	t_fail "$T_NAME/analyze" "$(head -n 1 "$T_TMP/dec.err")"
	t_exit
fi
t_pass "$T_NAME/analyze"

timeout 60 tshark -r "$CAP" -o "tls.keylog_file:$KEYS" -d tcp.port==443,tls \
    -T fields -E occurrence=a -E aggregator='|' -E separator='	' \
    -e tcp.srcport -e tcp.dstport -e http.request.method \
    -e http.request.uri -e http.response.code \
    -e tls.handshake.extensions_server_name \
    -e tls.handshake.extensions_alpn_str -e tls.handshake.ciphersuite \
    -e tls.handshake.type -e http2.headers.method -e http2.headers.path \
    -e http2.headers.status \
    >"$T_TMP/tshark.tsv" 2>"$T_TMP/tshark.err" ||
	{ t_fail "$T_NAME/tshark" "$(head -n 1 "$T_TMP/tshark.err")"; t_exit; }

python3 "$T_ROOT/tests/regress/tlscrypt.py" "$T_NAME" "$T_TMP/dec.json" \
    "$T_TMP/tshark.tsv" >"$T_TMP/res" 2>"$T_TMP/res.err"
rc=$?
cat "$T_TMP/res"
[ "$rc" -eq 0 ] || t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res.err")"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1

# Keys never leave the daemon: no secret of the log is in the JSON.
secret=$(awk '$1 == "CLIENT_RANDOM" { print $3; exit }' "$KEYS")
t_check "$T_NAME/no_keys_in_json" sh -c "[ -n '$secret' ] && ! grep -qi '$secret' '$T_TMP/dec.json'"

# A key log whose secrets are all wrong: records fail, nothing is made up.
# (Every secret's first digit changed: a secret with no 0 in it would
# survive replacing 0s, and one in a few dozen runs had one.)
awk '{ c = substr($3, 1, 1) == "0" ? "1" : "0"
       print $1, $2, c substr($3, 2) }' "$KEYS" >"$T_TMP/bad.txt"
timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 443 --keylog "$T_TMP/bad.txt" \
    --json >"$T_TMP/bad.json" 2>"$T_TMP/bad.err"
t_eq "$T_NAME/wrong_keys" "0 transactions, failed records, no record decrypted" \
    "$(t_json "$T_TMP/bad.json" '"%d transactions, %s, %s" % (len(d["transactions"]), "failed records" if all(c["tls"]["records_failed"] > 0 for c in d["connections"] if c["tls"]["cipher_suite"] != 0xc013) else "records not failed", "no record decrypted" if all(c["tls"]["records_decrypted"] == 0 for c in d["connections"]) else "records decrypted")')"

# The same capture loaded without keys, then given them.
t_daemon_start || { t_fail "$T_NAME/daemon" "$(tail -n 1 "$T_TMP/htracrd.log")"; t_exit; }
# The socket exists from bind(); it answers from listen() on.
t_wait_for 10 t_ctl status
t_ctl load "$CAP" --ports 443 --json >"$T_TMP/load.json" 2>"$T_TMP/load.err" ||
    t_fail "$T_NAME/load" "$(head -n 1 "$T_TMP/load.err")"
sid=$(t_json "$T_TMP/load.json" 'str(d["id"])')
t_eq "$T_NAME/load_no_keys" "0" "$(t_json "$T_TMP/load.json" 'str(d["transactions"])')"
t_ctl keys "$KEYS" "$sid" >"$T_TMP/keys.out" 2>&1 ||
    t_fail "$T_NAME/keys" "$(head -n 1 "$T_TMP/keys.out")"
t_check "$T_NAME/keys_rerun" grep -q "session $sid: .* analysed again" "$T_TMP/keys.out"
t_ctl dump --format json "$sid" >"$T_TMP/rerun.json" 2>"$T_TMP/rerun.err" ||
    t_fail "$T_NAME/keys_dump" "$(head -n 1 "$T_TMP/rerun.err")"
t_eq "$T_NAME/keys_same_as_analyze" \
    "$(t_json "$T_TMP/dec.json" 'str(sorted((t["request"]["method"], t["request"]["target"], t["response"]["status"]) for t in d["transactions"]))')" \
    "$(t_json "$T_TMP/rerun.json" 'str(sorted((t["request"]["method"], t["request"]["target"], t["response"]["status"]) for t in d["transactions"]))')"

# A pcapng file that carries its keys: tshark, given no key log, reads
# the same requests from it as from the capture with the key log.
h2reqs() {
	_f=$1
	shift
	timeout 60 tshark -r "$_f" "$@" -T fields -E occurrence=a \
	    -E aggregator='|' -e http.request.method -e http.request.uri \
	    -e http2.headers.method -e http2.headers.path 2>/dev/null |
	    grep -v '^[[:space:]]*$' | sort
}
t_ctl dump --format pcapng --with-keys -o "$T_TMP/keys.pcapng" "$sid" \
    2>"$T_TMP/pcapng.err" || t_fail "$T_NAME/pcapng" "$(head -n 1 "$T_TMP/pcapng.err")"
t_ctl dump --format pcapng -o "$T_TMP/nokeys.pcapng" "$sid" 2>>"$T_TMP/pcapng.err"
want=$(h2reqs "$CAP" -o "tls.keylog_file:$KEYS")
t_eq "$T_NAME/pcapng_with_keys" "$want" "$(h2reqs "$T_TMP/keys.pcapng")"
t_eq "$T_NAME/pcapng_requests" 45 "$(printf '%s\n' "$want" | wc -l)"
t_eq "$T_NAME/pcapng_without_keys" "" "$(h2reqs "$T_TMP/nokeys.pcapng")"
t_check "$T_NAME/with_keys_pcapng_only" sh -c "! '$HTRACRCTL' --socket '$T_SOCK' dump --format json --with-keys '$sid' >/dev/null 2>&1"

# The people's views: the TLS line says what was decrypted, and why not.
t_ctl show "$sid" --table >"$T_TMP/show.txt" 2>&1
t_check "$T_NAME/text_decrypted" grep -q "TLS 1.3 TLS_CHACHA20_POLY1305_SHA256 sni $NAME alpn http/1.1 -> http/1.1 .* decrypted 18 records" "$T_TMP/show.txt"
t_check "$T_NAME/text_not_decrypted" grep -q "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA .* not decrypted: version or cipher suite" "$T_TMP/show.txt"
t_check "$T_NAME/text_transactions" grep -q "POST  *201 .*/post" "$T_TMP/show.txt"
COLUMNS=160 t_ctl show "$sid" --waterfall >"$T_TMP/wf.txt" 2>&1
t_check "$T_NAME/waterfall_decrypted" grep -q "decrypted 13 records" "$T_TMP/wf.txt"

# The sandbox still holds after decrypting: a test build of htracrd
# (make build/htracrd-testhooks) tries openat when asked for its status,
# here after a load decrypted 40 transactions.
if make -s -C "$T_ROOT" "$T_BUILD/htracrd-testhooks" >"$T_TMP/make.log" 2>&1; then
	mkdir -p "$T_TMP/hook"
	HTRACR_TEST_SYSCALL_ON_STATUS=openat "$T_ROOT/$T_BUILD/htracrd-testhooks" \
	    --foreground --no-capture --socket "$T_TMP/hook/s" \
	    >"$T_TMP/hook.log" 2>&1 &
	HP=$!
	t_atexit "t_kill $HP"
	t_wait_for 10 "$HTRACRCTL" --socket "$T_TMP/hook/s" sessions
	"$HTRACRCTL" --socket "$T_TMP/hook/s" load "$CAP" --ports 443 \
	    --keylog "$KEYS" --json >"$T_TMP/hook.json" 2>"$T_TMP/hook.err"
	t_eq "$T_NAME/sandbox_decrypted_first" 40 \
	    "$(t_json "$T_TMP/hook.json" 'str(d["transactions"])')"
	"$HTRACRCTL" --socket "$T_TMP/hook/s" status >/dev/null 2>&1
	t_wait_for 10 grep -q SIGSYS "$T_TMP/hook.log"
	t_check "$T_NAME/sandbox_openat_sigsys" grep -q "SIGSYS" "$T_TMP/hook.log"
	t_kill "$HP"
else
	t_fail "$T_NAME/testhooks_build" "$(tail -n 1 "$T_TMP/make.log")"
fi

# Live: a capture whose key log grows as curl writes it. start --keylog
# follows the file and sends each new line while the capture runs.
live() {
	RUN=$T_TMP/run
	mkdir "$RUN" && chown root:htracr "$RUN" && chmod 0750 "$RUN" || return 1
	LSOCK=$RUN/s
	T_BG_LOG=$T_TMP/live.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
	    "$HTRACRD" --foreground --socket "$LSOCK" --user htracr
	t_wait_for 10 "$HTRACRCTL" --socket "$LSOCK" status || return 1
	KEYS=$T_TMP/live-keys.txt
	: >"$KEYS"
	"$HTRACRCTL" --socket "$LSOCK" start --ports 443 --interface "$T_VETH_B" \
	    --keylog "$KEYS" >"$T_TMP/follow.out" 2>&1 &
	FP=$!
	t_atexit "t_kill $FP"
	t_wait_for 10 grep -q capturing "$T_TMP/follow.out" || return 1
	curl_case --http1.1 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
	curl_case --http2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
	sleep 1
	"$HTRACRCTL" --socket "$LSOCK" stop --json >"$T_TMP/stop.json" 2>&1
	t_wait_for 10 sh -c "! kill -0 $FP 2>/dev/null"
	wait "$FP"
	t_eq "$T_NAME/live_follow_ended" 0 "$?"
	"$HTRACRCTL" --socket "$LSOCK" dump --format json >"$T_TMP/live.json" \
	    2>"$T_TMP/live.err"
}
if ! id htracr >/dev/null 2>&1; then
	t_skip "$T_NAME/live" "no user htracr (030-capture makes it)"
elif live; then
	t_eq "$T_NAME/live_decrypted" "10 transactions; records decrypted 2 of 2, failed 0" \
	    "$(t_json "$T_TMP/live.json" '"%d transactions; records decrypted %d of %d, failed %d" % (len(d["transactions"]), sum(1 for c in d["connections"] if c["tls"] and c["tls"]["decrypted"]), len(d["connections"]), sum(c["tls"]["records_failed"] for c in d["connections"] if c["tls"]))')"
	t_check "$T_NAME/live_statuses" test "$(t_json "$T_TMP/live.json" 'str(sorted(t["response"]["status"] for t in d["transactions"]))')" = "[200, 200, 200, 200, 200, 200, 201, 201, 304, 304]"
else
	t_fail "$T_NAME/live" "$(tail -n 2 "$T_TMP/live.log" "$T_TMP/follow.out" 2>&1)"
fi
t_exit
