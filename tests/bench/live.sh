#!/bin/sh
# live.sh: live capture under load, the way ../shared/bench/live_capture.sh
# measures tcpdump: nginx and wrk (-t2, the kit's mix.lua) in network
# namespaces this script creates, on a namespace's loopback and on a veth
# pair (MTU 1500, offloads off). For each link and run: wrk with nothing
# capturing, with tcpdump (its default 2 MiB ring), with htracrd
# capturing, with htracrd capturing while LIVE_QUERIES clients ask
# it for the live session over and over ("queried"), and while
# LIVE_PULLERS clients of the protocol (puller.py) pull the session's
# detail over and over without rendering it ("pulled"), which keeps the
# analyzer busy where htracrctl's rendering would slow the clients
# down. One tab-separated line per measurement goes to OUTFILE:
#
#   link capture run requests rps kernel_drops forward_drops recorded
#   queries cpu
#
# requests and rps are wrk's; recorded is the number of transactions
# htracrd's session holds ("-" for the others); forward_drops is "-" for
# tcpdump, which has no such stage; queries is "answered/failed" for the
# queried and pulled runs; cpu is the CPU time (user + system, seconds) the capturing
# tool took while wrk ran: tcpdump, or htracrd's two processes. Reports
# only, asserts nothing.
#
#   LIVE_SECS=N		wrk's duration (default 10)
#   LIVE_RUNS=N		runs of each link (default 1)
#   LIVE_CONNS=N	wrk's connections (default 50)
#   LIVE_DELAY_MS=N	each connection waits N ms between requests: a
#			rate below wrk's full one (default: none)
#   LIVE_LINKS="lo veth"	which links
#   LIVE_NICE=N		htracrd's --nice (default -10; 0: as inherited,
#			like tcpdump)
#   LIVE_QUERIES=N	clients of the queried run, each running
#			htracrctl show in a loop while wrk runs (default 50;
#			0: no queried run)
#   LIVE_PULLERS=N	clients of the pulled run (default 50; 0: none)
#
# Needs root. Everything started is stopped by pid; the namespaces and
# the temporary directory are removed at the end, and a watchdog ends a
# run that hangs.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
KIT=$(cd "$ROOT/.." && pwd)/shared/bench
OUTF=${1:?usage: live.sh OUTFILE}
SECS=${LIVE_SECS:-10}
RUNS=${LIVE_RUNS:-1}
CONNS=${LIVE_CONNS:-50}
DELAY=${LIVE_DELAY_MS:-}
LINKS=${LIVE_LINKS:-lo veth}
NICE=${LIVE_NICE:--10}
QUERIES=${LIVE_QUERIES:-50}
PULLERS=${LIVE_PULLERS:-50}
TAG=hspd$$
NS_L=${TAG}l
NS_S=${TAG}s
NS_C=${TAG}c
VS=${TAG}vs
VC=${TAG}vc
PIDS=
WD=

die() {
	echo "live: $*" >&2
	exit 1
}

cleanup() {
	trap - EXIT INT TERM
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "$NS_L" "$NS_S" "$NS_C"; do
		ip netns del "$n" 2>/dev/null
	done
	[ -n "$WD" ] && kill "$WD" 2>/dev/null
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in ip nginx wrk tcpdump ethtool; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
done
[ -f "$KIT/mix.lua" ] || die "$KIT/mix.lua is absent"
[ -x "$ROOT/htracrd" ] && [ -x "$ROOT/htracrctl" ] || die "build first (make)"
id htracr >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin htracr ||
    die "cannot create user htracr"

WORK=$(mktemp -d -t htracr-live.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM
# Per run: four captures of SECS plus start and stop, per link.
MAX=$(( (SECS + 15) * 4 * 2 * RUNS + 60 ))
( sleep "$MAX"; echo "live: watchdog: $MAX s exceeded" >&2; kill -TERM $$ ) &
WD=$!

# The objects mix.lua asks for.
WWW=$WORK/www
mkdir "$WWW"
page() {
	head -c "$2" /dev/urandom | base64 -w 76 | head -c "$2" >"$WWW/$1"
}
page f1k.html 1024
page f20k.html 20480
head -c 512000 /dev/urandom >"$WWW/f500k.bin"
chmod -R a+rX "$WWW"

# Delay between requests, when asked for: mix.lua plus wrk's delay().
SCRIPT=$KIT/mix.lua
if [ -n "$DELAY" ]; then
	SCRIPT=$WORK/paced.lua
	{
		echo "dofile(\"$KIT/mix.lua\")"
		echo "delay = function() return $DELAY end"
	} >"$SCRIPT"
fi

nginx_start() {
	# $1: namespace, $2: listen address, $3: name
	mkdir "$WORK/$3"
	cat >"$WORK/$3/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/$3/nginx.pid;
error_log $WORK/$3/error.log warn;
events { worker_connections 4096; }
http {
	access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
	keepalive_timeout 65; keepalive_requests 1000;
	types { text/html html; application/octet-stream bin; }
	gzip on; gzip_min_length 256;
	client_body_temp_path $WORK/$3/tb; proxy_temp_path $WORK/$3/tp;
	fastcgi_temp_path $WORK/$3/tf; uwsgi_temp_path $WORK/$3/tu;
	scgi_temp_path $WORK/$3/ts;
	server { listen $2 backlog=4096; root $WWW; }
}
EOF
	ip netns exec "$1" nginx -e "$WORK/$3/error.log" -p "$WORK/$3" \
	    -c "$WORK/$3/nginx.conf" &
	PIDS="$PIDS $!"
}

# CPU seconds (user + system) processes $@ have taken so far.
cpu_of() {
	t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null ||
		    echo 0)))
	done
	echo "$t"
}

# Starts htracrd in namespace $1 on socket $2; its pid goes to $WORK/$3.
# The queried and pulled runs' clients are all root: the cap per user
# (16 by default) is raised to let them all in. Each capturing tool runs in a
# session of its own (setsid), so the kernel's autogroup scheduling
# gives it its own share of the CPU beside wrk, nginx and the clients,
# as a service's own cgroup does.
htracrd_start() {
	ip netns exec "$1" setsid "$ROOT/htracrd" --foreground --socket "$2" \
	    --user htracr --nice "$NICE" \
	    --max-per-uid $((QUERIES > PULLERS ? QUERIES + 8 : PULLERS + 8)) \
	    >>"$WORK/htracrd.log" 2>&1 &
	PIDS="$PIDS $!"
	echo $! >"$WORK/$3.pid"
	i=0
	while ! "$ROOT/htracrctl" --socket "$2" status >/dev/null 2>&1; do
		[ "$i" -lt 100 ] || die "htracrd did not come up: $(tail -n 2 "$WORK/htracrd.log")"
		sleep 0.1
		i=$((i + 1))
	done
}

# A JSON field of the session summary in file $1: counters.$2 or $2.
summary_field() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["session"]
k = sys.argv[2]
print(s.get(k, s["counters"].get(k)))' "$1" "$2"
}

ip netns add "$NS_L" || die "cannot create a namespace"
ip -n "$NS_L" link set lo up
nginx_start "$NS_L" 127.0.0.1:8080 lo
htracrd_start "$NS_L" "$WORK/lo.sock" lo
case " $LINKS " in
*" veth "*)
	ip netns add "$NS_S" && ip netns add "$NS_C" || die "cannot create namespaces"
	ip link add "$VS" type veth peer name "$VC" || die "cannot create a veth pair"
	ip link set "$VS" netns "$NS_S"
	ip link set "$VC" netns "$NS_C"
	for pair in "$NS_S $VS 10.81.0.1" "$NS_C $VC 10.81.0.2"; do
		set -- $pair
		ip -n "$1" link set lo up
		ip -n "$1" addr add "$3/24" dev "$2"
		ip netns exec "$1" ethtool -K "$2" tx off tso off gso off \
		    gro off >/dev/null 2>&1
		ip -n "$1" link set "$2" mtu 1500 up
	done
	nginx_start "$NS_S" 10.81.0.1:8080 veth
	htracrd_start "$NS_S" "$WORK/veth.sock" veth
	;;
esac
for n in $(seq 50); do
	ip netns exec "$NS_L" curl -s -o /dev/null -m 1 \
	    http://127.0.0.1:8080/f1k.html && break
	sleep 0.1
done

# wrk from namespace $1 to URL $2: "requests rps" on stdout.
wrk_run() {
	out=$(ip netns exec "$1" timeout $((SECS + 20)) wrk -t2 -c"$CONNS" \
	    -d"${SECS}s" -s "$SCRIPT" "$2" 2>&1)
	req=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests in .*/\1/p')
	rps=$(printf '%s\n' "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
	echo "${req:--} ${rps:--}"
}

# N clients ($1) asking socket $2 for the live session until $3 exists;
# each leaves "answered failed" in $3.N.
queriers() {
	for q in $(seq "$1"); do
		(
			ok=0; bad=0
			while [ ! -e "$3" ]; do
				if "$ROOT/htracrctl" --socket "$2" show \
				    >/dev/null 2>&1; then
					ok=$((ok + 1))
				else
					bad=$((bad + 1))
				fi
			done
			echo "$ok $bad" >"$3.$q"
		) &
		QPIDS="$QPIDS $!"
	done
}

# One measurement: link $1, capture $2 (none, tcpdump, htracrd, queried),
# run $3.
measure() {
	if [ "$1" = lo ]; then
		cns=$NS_L; wns=$NS_L; ifc=lo; url=http://127.0.0.1:8080/
	else
		cns=$NS_S; wns=$NS_C; ifc=$VS; url=http://10.81.0.1:8080/
	fi
	sock=$WORK/$1.sock
	hp=$(cat "$WORK/$1.pid")
	kd=-; fd=-; rec=-; qs=-; cpu=-
	case $2 in
	tcpdump)
		ip netns exec "$cns" setsid tcpdump -i "$ifc" -n -w /dev/null \
		    tcp port 8080 2>"$WORK/td.err" &
		tp=$!
		sleep 1
		c0=$(cpu_of "$tp")
		set -- "$1" "$2" "$3" $(wrk_run "$wns" "$url")
		sleep 1
		cpu=$(( $(cpu_of "$tp") - c0 ))
		kill -INT "$tp"
		wait "$tp"
		kd=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/td.err")
		;;
	htracrd|queried|pulled)
		"$ROOT/htracrctl" --socket "$sock" start --interface "$ifc" \
		    --ports 8080 >/dev/null || die "htracrctl start failed"
		sleep 1
		QPIDS=
		rm -f "$WORK"/qstop*
		ap=$(pgrep -P "$hp" | head -n 1)
		c0=$(cpu_of "$hp" $ap)
		[ "$2" = queried ] && queriers "$QUERIES" "$sock" "$WORK/qstop"
		if [ "$2" = pulled ]; then
			python3 "$ROOT/tests/bench/puller.py" "$sock" "$PULLERS" \
			    "$WORK/qstop" >"$WORK/pulled" 2>&1 &
			QPIDS=$!
		fi
		set -- "$1" "$2" "$3" $(wrk_run "$wns" "$url")
		if [ "$2" = queried ]; then
			touch "$WORK/qstop"
			for p in $QPIDS; do
				wait "$p"
			done
			qs=$(cat "$WORK"/qstop.* | awk '{ a += $1; b += $2 }
			    END { print a "/" b }')
		elif [ "$2" = pulled ]; then
			touch "$WORK/qstop"
			wait "$QPIDS"
			qs=$(awk 'NF == 2 { print $1 "/" $2 }' "$WORK/pulled")
			[ -n "$qs" ] || qs="?/?"
		fi
		sleep 1
		cpu=$(( $(cpu_of "$hp" $ap) - c0 ))
		"$ROOT/htracrctl" --socket "$sock" stop --json >"$WORK/stop.json" ||
		    die "htracrctl stop failed"
		kd=$(( $(summary_field "$WORK/stop.json" kernel_drops) + \
		    $(summary_field "$WORK/stop.json" ifdrops) ))
		fd=$(summary_field "$WORK/stop.json" forward_drops)
		rec=$(summary_field "$WORK/stop.json" transactions)
		;;
	*)
		set -- "$1" "$2" "$3" $(wrk_run "$wns" "$url")
		;;
	esac
	[ "$cpu" = - ] || cpu=$(awk -v t="$cpu" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.2f", t / hz }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
	    "$4" "$5" "${kd:--}" "$fd" "$rec" "$qs" "$cpu" | tee -a "$OUTF"
}

CAPS="none tcpdump htracrd"
[ "$QUERIES" -gt 0 ] && CAPS="$CAPS queried"
[ "$PULLERS" -gt 0 ] && CAPS="$CAPS pulled"
for run in $(seq "$RUNS"); do
	for link in $LINKS; do
		for cap in $CAPS; do
			measure "$link" "$cap" "$run"
		done
	done
done
exit 0
