# bigload.sh: what the large hostile-traffic tests (120-*.sh and on)
# share, sourced after lib.sh. A server namespace and a client namespace
# joined by a veth; nginx in the server namespace with a load server on
# port 80 and an ordinary one on port 8080; htracrd in the server
# namespace capturing both ports on its end of the veth, with a budget
# of BL_BUDGET MiB per session. While a load runs, a second client
# queries the daemon and curl makes ordinary requests whose own log is
# compared with what the capture recorded.
#
#	bl_setup SRV CLI	namespaces, nginx (the load server's
#				locations read from stdin), htracrd and a
#				started capture; sets A (the analyzer's pid)
#	bl_queries_start	the second client: status and sessions every
#				half second until bl_queries_stop NAME,
#				which checks that every one was answered
#	bl_ordinary NAME	a round of ordinary keep-alive requests with
#				curl, logged in $T_TMP/ordinary.tsv
#	bl_settle		waits until the analyzer has taken every
#				frame the traffic left in the capture ring
#	bl_stop			settles, stops the capture; the session's
#				summary goes to $T_TMP/sessions.json
#	bl_counter KEY		a counter or field of that summary
#	bl_dump			the session's transactions as ndjson: those
#				of port 8080 in $T_TMP/ordinary.ndjson, the
#				count per connection in $T_TMP/perconn, per
#				connection state in $T_TMP/states
#	bl_ordinary_check NAME	every ordinary request recorded exactly
#	bl_rss_check NAME	the analyzer's peak RSS (VmHWM) within the
#				budget and the base of lib.sh (the budget
#				counts what the allocator holds)
#
# Under SANITIZE=1 the sanitizer runtime costs memory of its own (shadow
# and quarantine): the RSS bound grows by twice the budget and 256 MiB.

BL_BUDGET=${BL_BUDGET:-64}
BL_RING=${BL_RING:-128}

bl_ctl() {
	"$HTRACRCTL" --socket "$BL_SOCK" "$@"
}

# nginx with room for many connections: the load server on port 80
# (its locations read from stdin), the ordinary one on 8080.
bl_nginx() {
	_n=$T_TMP/nginx
	mkdir -p "$_n" "$T_TMP/www"
	for _i in 1 2 3 4 5 6 7 8; do
		printf 'ordinary page %s\n' "$_i" >"$T_TMP/www/o$_i.txt"
	done
	{
		cat <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 19000;
pid $_n/nginx.pid;
error_log $_n/error.log;
events { worker_connections 18000; }
http {
	access_log off;
	client_body_temp_path $_n/body;
	keepalive_timeout 600;
	keepalive_requests 10000000;
	types { text/plain txt; }
	default_type application/octet-stream;
	server {
		listen $BL_SRV:8080;
		root $T_TMP/www;
	}
	server {
		listen $BL_SRV:80 backlog=16384;
		root $T_TMP/www;
EOF
		cat
		echo "	}"
		echo "}"
	} >"$_n/nginx.conf"
	T_BG_LOG=$_n/stderr t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    nginx -p "$_n" -c "$_n/nginx.conf"
	t_wait_for 10 t_ns srv curl -s -o /dev/null "http://$BL_SRV:8080/o1.txt" &&
	    return 0
	t_fail "$T_NAME/nginx" "nginx did not come up: $(tail -n 1 "$_n/error.log" 2>/dev/null)"
	t_exit
}

bl_setup() {
	BL_SRV=$1
	BL_CLI=$2
	t_pair "$BL_SRV" "$BL_CLI"
	bl_nginx
	BL_SOCK=$T_TMP/s
	BL_LOG=$T_TMP/htracrd.log
	T_BG_LOG=$BL_LOG t_bg ip netns exec "$T_NS_PREFIX-srv" "$HTRACRD" \
	    --foreground --socket "$BL_SOCK" --budget "$BL_BUDGET" \
	    --ring-mib "$BL_RING" --max-sessions 2
	BL_D=$T_BG_PID
	if ! t_wait_for 10 bl_ctl status; then
		t_fail "$T_NAME/daemon" "htracrd did not come up: $(tail -n 1 "$BL_LOG")"
		t_exit
	fi
	A=$(pgrep -P "$BL_D" | head -n 1)
	if ! bl_ctl start --ports 80,8080 --interface "$T_VETH_A" \
	    >"$T_TMP/start.out" 2>&1; then
		t_fail "$T_NAME/start" "$(tail -n 1 "$T_TMP/start.out")"
		t_exit
	fi
	: >"$T_TMP/ordinary.tsv"
}

bl_queries_start() {
	rm -f "$T_TMP/queries.stop"
	: >"$T_TMP/queries.log"
	(
		while [ ! -e "$T_TMP/queries.stop" ]; do
			for _q in status sessions; do
				if timeout 20 "$HTRACRCTL" --socket "$BL_SOCK" \
				    "$_q" >/dev/null 2>"$T_TMP/queries.err"; then
					echo ok
				else
					echo "failed $_q: $(head -n 1 "$T_TMP/queries.err")"
				fi
			done
			sleep 0.5
		done >>"$T_TMP/queries.log"
	) &
	BL_QPID=$!
	t_atexit "t_kill $BL_QPID"
}

bl_queries_stop() {
	touch "$T_TMP/queries.stop"
	wait "$BL_QPID"
	_ok=$(grep -c '^ok$' "$T_TMP/queries.log")
	_bad=$(grep -v '^ok$' "$T_TMP/queries.log" | head -n 1)
	echo "# second client: $_ok queries answered"
	if [ -z "$_bad" ] && [ "$_ok" -ge 4 ]; then
		t_pass "$1"
	else
		t_fail "$1" "$_ok answered; ${_bad:-too few queries}"
	fi
}

# A round of ordinary requests on one keep-alive connection: curl's own
# account of each (method, path, status, body size) goes to the log.
bl_ordinary() {
	_u=http://$BL_SRV:8080
	t_ns cli timeout 30 curl -s --max-time 20 \
	    -w "$1\t%{method}\t%{url_effective}\t%{http_code}\t%{size_download}\n" \
	    -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	    -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	    "$_u/o1.txt" "$_u/o2.txt" "$_u/o3.txt" "$_u/o4.txt?$1" \
	    "$_u/o5.txt" "$_u/missing-$1" "$_u/o7.txt" "$_u/o8.txt" |
	    sed "s#\thttp://$BL_SRV:8080#\t#" >>"$T_TMP/ordinary.tsv"
}

bl_frames() {
	bl_ctl status --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["session"]["counters"]["frames"])'
}

# Frames still in the kernel's ring when a capture stops are never
# read: the traffic is over, so wait for the count to stand still.
bl_settle() {
	_prev=-1
	_i=0
	while [ "$_i" -lt 120 ]; do
		sleep 1
		_f=$(bl_frames)
		[ "$_f" = "$_prev" ] && return 0
		_prev=$_f
		_i=$((_i + 1))
	done
	t_fail "$T_NAME/settle" "the analyzer still takes frames after 120 s"
}

bl_stop() {
	bl_settle
	if ! bl_ctl stop >"$T_TMP/stop.out" 2>&1; then
		t_fail "$T_NAME/stop" "$(tail -n 1 "$T_TMP/stop.out")"
		t_exit
	fi
	bl_ctl sessions --json >"$T_TMP/sessions.json"
}

bl_counter() {
	t_json "$T_TMP/sessions.json" \
	    "(lambda s: s['counters'].get('$1', s.get('$1')))(d['sessions'][-1])"
}

# One pass over what may be a million lines: grep and sort, no JSON.
bl_dump() {
	if ! bl_ctl dump --format ndjson >"$T_TMP/all.ndjson" \
	    2>"$T_TMP/dump.err"; then
		t_fail "$T_NAME/dump" "$(tail -n 1 "$T_TMP/dump.err")"
		return 1
	fi
	LC_ALL=C grep -F '"server_port":8080,' "$T_TMP/all.ndjson" \
	    >"$T_TMP/ordinary.ndjson"
	# Each line begins {"type":"transaction","id":N,"connection":C,
	LC_ALL=C cut -d, -f3 "$T_TMP/all.ndjson" | LC_ALL=C sort | uniq -c |
	    sort -n -k1 >"$T_TMP/perconn"
	LC_ALL=C grep -o '"connection_state":"[a-z_]*"' "$T_TMP/all.ndjson" |
	    LC_ALL=C sort | uniq -c >"$T_TMP/states"
	rm -f "$T_TMP/all.ndjson"
}

# The ordinary transactions in order against curl's log: method, path,
# status and body size of each, both messages whole.
bl_ordinary_check() {
	python3 "$T_ROOT/tests/regress/bigload.py" ordinary \
	    "$T_TMP/ordinary.ndjson" "$T_TMP/ordinary.tsv" \
	    >"$T_TMP/ordinary.res" 2>&1
	if grep -q '^ok ' "$T_TMP/ordinary.res"; then
		echo "# ordinary requests: $(cat "$T_TMP/ordinary.res")"
		t_pass "$1"
	else
		t_fail "$1" "$(head -n 1 "$T_TMP/ordinary.res")"
	fi
}

# Peak RSS of the analyzer in MiB.
bl_rss_peak() {
	awk '/^VmHWM:/ { printf "%d\n", $2 / 1024 }' "/proc/$A/status"
}

bl_rss_limit() {
	_l=$((BL_BUDGET + T_RSS_BASE_MIB))
	[ "${SANITIZE:-}" = 1 ] && _l=$((_l + 2 * BL_BUDGET + 256))
	echo "$_l"
}

bl_rss_check() {
	_peak=$(bl_rss_peak)
	_lim=$(bl_rss_limit)
	echo "# analyzer peak RSS ${_peak} MiB (budget $BL_BUDGET MiB, bound $_lim MiB)"
	if [ -n "$_peak" ] && [ "$_peak" -le "$_lim" ]; then
		t_pass "$1"
	else
		t_fail "$1" "analyzer peak RSS ${_peak:-unknown} MiB over $_lim MiB"
	fi
}
