#!/bin/sh
# demo.sh: `make demo`, htracr's main job on real traffic. Builds, makes
# two network namespaces joined by a veth pair (a small nginx site in one,
# curl in the other), captures a little real HTTP between them, and shows
# what htracr makes of it. Needs root; removes everything it made.
#
#   DEMO_PCAP=FILE	keep the capture there (to try htracrctl on it later)
#
# The capture step is one pair of functions, capture_start/capture_stop,
# and the report is show: when htracrd captures live they become
# `htracrctl start` / `htracrctl stop --dump` and `htracrctl show`.
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

capture_start() {
	T_BG_LOG=$T_TMP/tcpdump.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    tcpdump -i "$T_VETH_A" -s 0 -U -w "$T_TMP/demo.pcap" tcp port 80
	CAPTURE_PID=$T_BG_PID
	t_wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log"
}

capture_stop() {
	sleep 1
	t_kill "$CAPTURE_PID"
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

show() {
	"$HTRACRCTL" analyze "$T_TMP/demo.pcap"
}

say "building"
make -s all || exit 1
t_tmpdir
say "two namespaces, $SRV (nginx) and $CLI (curl)"
t_ns_add srv >/dev/null && t_ns_add cli >/dev/null &&
    t_veth srv "$SRV/24" cli "$CLI/24" || { echo "demo: cannot make namespaces" >&2; exit 1; }
site || { echo "demo: nginx did not start" >&2; exit 1; }
capture_start || { echo "demo: tcpdump did not start" >&2; exit 1; }
say "traffic: curl, 6 requests on 4 connections"
traffic
capture_stop
say "htracrctl analyze (capture made by tcpdump on the server side)"
show
rc=$?
if [ -n "${DEMO_PCAP:-}" ]; then
	cp "$T_TMP/demo.pcap" "$DEMO_PCAP" && echo "capture kept in $DEMO_PCAP"
fi
exit "$rc"
