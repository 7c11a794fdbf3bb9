#!/bin/sh
# demo.sh: `make demo`, htracr's main job on real traffic. Builds, makes
# two network namespaces joined by a veth pair (a small nginx site in one,
# curl in the other), runs htracrd in the server's namespace, captures a
# little real HTTP with `htracrctl start` / `htracrctl stop --dump`, and
# shows the session. Needs root; removes everything it made.
#
#   DEMO_PCAP=FILE	keep the dumped capture there (for htracrctl analyze,
#			Wireshark, ...)
#   DEMO_CAPTURE=tcpdump	capture with tcpdump and show it with
#			htracrctl analyze instead of the daemon
#
# The capture step is one pair of functions, capture_start/capture_stop,
# and the report is show, one of each per way of capturing.
. "$(dirname "$0")/regress/lib.sh"

cd "$T_ROOT" || exit 1
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it makes network namespaces)" >&2; exit 1; }
for c in ip nginx curl tcpdump; do
	command -v "$c" >/dev/null 2>&1 || { echo "demo: $c is missing (make deps)" >&2; exit 1; }
done

SRV=10.231.9.1
CLI=10.231.9.2

say() {
	printf '\n== %s\n' "$*"
}

site() {
	mkdir -p "$T_TMP/www/img" "$T_TMP/nginx"
	printf '<html><head><title>demo</title></head><body><img src="/img/a.png"></body></html>\n' \
	    >"$T_TMP/www/index.html"
	head -c 3000 /dev/urandom >"$T_TMP/www/img/a.png"
	seq 1 4000 | sed 's/^/a line that compresses well, number /' >"$T_TMP/www/app.js"
	cat >"$T_TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
pid $T_TMP/nginx/nginx.pid;
error_log $T_TMP/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T_TMP/nginx/body;
	types { text/html html; image/png png; application/javascript js; }
	gzip on;
	gzip_types application/javascript;
	server {
		listen $SRV:80;
		root $T_TMP/www;
		location = /api/login { return 200 "{\"ok\":true}\n"; }
	}
}
EOF
	T_BG_LOG=$T_TMP/nginx/stderr t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    nginx -p "$T_TMP/nginx" -c "$T_TMP/nginx/nginx.conf"
	t_wait_for 10 t_ns srv curl -s -o /dev/null "http://$SRV/"
}

# htracrd runs where the server's interface is; it starts as root and
# keeps only what capturing needs (see htracrd(8)).
daemon_capture_start() {
	T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    "$HTRACRD" --foreground --socket "$T_TMP/s"
	t_wait_for 10 test -S "$T_TMP/s" || return 1
	"$HTRACRCTL" --socket "$T_TMP/s" start --interface "$T_VETH_A" --ports 80
}

daemon_capture_stop() {
	"$HTRACRCTL" --socket "$T_TMP/s" stop --dump "$T_TMP/demo.pcap"
}

daemon_show() {
	"$HTRACRCTL" --socket "$T_TMP/s" show
}

tcpdump_capture_start() {
	T_BG_LOG=$T_TMP/tcpdump.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    tcpdump -i "$T_VETH_A" -s 0 -U -w "$T_TMP/demo.pcap" tcp port 80
	TCPDUMP_PID=$T_BG_PID
	t_wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log"
}

tcpdump_capture_stop() {
	sleep 1
	t_kill "$TCPDUMP_PID"
}

tcpdump_show() {
	"$HTRACRCTL" analyze "$T_TMP/demo.pcap"
}

# A browser-like visit: page and its parts on one connection, a login
# POST, a revisit with a conditional GET, and a missing page.
traffic() {
	u=http://$SRV
	t_ns cli timeout 20 curl -s --max-time 10 --compressed \
	    -o /dev/null -o /dev/null -o /dev/null "$u/" "$u/img/a.png" "$u/app.js"
	t_ns cli timeout 20 curl -s --max-time 10 -o /dev/null \
	    -d 'user=demo&password=not-a-secret' "$u/api/login"
	t_ns cli timeout 20 curl -s --max-time 10 -o /dev/null \
	    -z "$T_TMP/www/index.html" "$u/"
	t_ns cli timeout 20 curl -s --max-time 10 -o /dev/null "$u/nowhere"
}

say "building"
make -s all || exit 1
t_tmpdir
say "two namespaces, $SRV (nginx) and $CLI (curl)"
t_ns_add srv >/dev/null && t_ns_add cli >/dev/null &&
    t_veth srv "$SRV/24" cli "$CLI/24" || { echo "demo: cannot make namespaces" >&2; exit 1; }
site || { echo "demo: nginx did not start" >&2; exit 1; }
case ${DEMO_CAPTURE:-daemon} in
daemon)
	say "htracrd in the server's namespace: htracrctl start"
	how=daemon ;;
tcpdump)
	say "tcpdump in the server's namespace"
	how=tcpdump ;;
*)
	echo "demo: DEMO_CAPTURE is daemon or tcpdump" >&2
	exit 1 ;;
esac
${how}_capture_start || {
	echo "demo: the capture did not start" >&2
	tail -n 3 "$T_TMP/$how.log" "$T_TMP/htracrd.log" 2>/dev/null >&2
	exit 1
}
say "traffic: curl, 6 requests on 4 connections"
traffic
say "stop"
${how}_capture_stop || { echo "demo: stopping the capture failed" >&2; exit 1; }
say "what htracr saw"
${how}_show
rc=$?
if [ -n "${DEMO_PCAP:-}" ]; then
	cp "$T_TMP/demo.pcap" "$DEMO_PCAP" && echo "capture kept in $DEMO_PCAP"
fi
exit "$rc"
