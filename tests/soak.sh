#!/bin/sh
# soak.sh: a long live capture, not part of make check. nginx and wrk
# (the bench kit's mix.lua, each connection pausing between requests so
# that nothing is lost) run in two network namespaces made here, joined
# by a veth; htracrd captures on the server's end. The capture is
# stopped and started again every few minutes, a client queries the
# daemon every few seconds (status, sessions, show), and the RSS and
# open descriptors of both daemon processes are sampled every 10 s.
# At the end it prints a summary: RSS from when the first session
# reached its budget on, how far the analyzer's RSS went beyond what
# its sessions count and its heap beyond what malloc has in use, the
# analyzer's peak RSS (VmHWM) against the
# bound it promises (the budgets of the two sessions kept and the base
# of 32 MiB, README's Reliability; exit status 1 when over),
# descriptors at the start and the end, drops, wrk's requests against
# the transactions recorded, failed queries.
#
#   sh tests/soak.sh [MINUTES]		default 30
#
#   SOAK_ROUND=N	minutes per session (default 3)
#   SOAK_DELAY_MS=N	each wrk connection waits N ms between requests
#			(default 20: about 1,800 requests/s with 50)
#   SOAK_CONNS=N	wrk's connections (default 50)
#   SOAK_BUDGET=N	htracrd --budget, MiB (default 256); two sessions
#			are kept (--max-sessions 2)
#   SOAK_SAMPLES=FILE	where the samples go (default: a temporary file,
#			printed path kept when set)
#
# Needs root, ip netns, nginx, wrk and ../shared/bench/mix.lua.
# Everything started is stopped by pid and the namespaces removed.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
KIT=$(cd "$ROOT/.." && pwd)/shared/bench
MINUTES=${1:-30}
ROUND=${SOAK_ROUND:-3}
DELAY=${SOAK_DELAY_MS:-20}
CONNS=${SOAK_CONNS:-50}
BUDGET=${SOAK_BUDGET:-256}
TAG=hsk$$
NS_S=${TAG}s
NS_C=${TAG}c
VS=${TAG}vs
VC=${TAG}vc
SRV=10.79.$(($$ % 250)).1
CLI=10.79.$(($$ % 250)).2
PIDS=
WORK=

die() {
	echo "soak: $*" >&2
	exit 1
}

cleanup() {
	trap - EXIT INT TERM
	[ -n "$WORK" ] && touch "$WORK/stop"
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
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in ip nginx wrk ethtool python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
done
[ -f "$KIT/mix.lua" ] || die "$KIT/mix.lua is absent"
[ -x "$ROOT/htracrd" ] && [ -x "$ROOT/htracrctl" ] || die "build first (make)"
case $MINUTES in
''|*[!0-9]*) die "minutes must be a number" ;;
esac

WORK=$(mktemp -d -t htracr-soak.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM
SAMPLES=${SOAK_SAMPLES:-$WORK/samples.tsv}
SOCK=$WORK/s

ctl() {
	"$ROOT/htracrctl" --socket "$SOCK" "$@"
}

# The objects mix.lua asks for, and mix.lua paced by wrk's delay().
site() {
	mkdir "$WORK/www"
	head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 >"$WORK/www/f1k.html"
	head -c 20480 /dev/urandom | base64 -w 76 | head -c 20480 >"$WORK/www/f20k.html"
	head -c 512000 /dev/urandom >"$WORK/www/f500k.bin"
	chmod -R a+rX "$WORK/www"
	{
		echo "dofile(\"$KIT/mix.lua\")"
		echo "delay = function() return $DELAY end"
	} >"$WORK/paced.lua"
}

netns() {
	ip netns add "$NS_S" && ip netns add "$NS_C" || die "ip netns add failed"
	ip link add "$VS" type veth peer name "$VC" || die "no veth"
	ip link set "$VS" netns "$NS_S"
	ip link set "$VC" netns "$NS_C"
	for x in "$NS_S $VS $SRV" "$NS_C $VC $CLI"; do
		set -- $x
		ip -n "$1" link set lo up
		ip -n "$1" addr add "$3/24" dev "$2"
		ip netns exec "$1" ethtool -K "$2" tso off gso off gro off \
		    >/dev/null 2>&1
		ip -n "$1" link set "$2" up
	done
}

nginx_start() {
	mkdir "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
	keepalive_timeout 65; keepalive_requests 1000;
	types { text/html html; application/octet-stream bin; }
	gzip on; gzip_min_length 256;
	client_body_temp_path $WORK/nginx/tb; proxy_temp_path $WORK/nginx/tp;
	fastcgi_temp_path $WORK/nginx/tf; uwsgi_temp_path $WORK/nginx/tu;
	scgi_temp_path $WORK/nginx/ts;
	server { listen $SRV:8080 backlog=4096; root $WORK/www; }
}
EOF
	ip netns exec "$NS_S" nginx -e "$WORK/nginx/error.log" \
	    -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
	PIDS="$PIDS $!"
}

htracrd_start() {
	ip netns exec "$NS_S" "$ROOT/htracrd" --foreground --socket "$SOCK" \
	    --budget "$BUDGET" --max-sessions 2 >>"$WORK/htracrd.log" 2>&1 &
	D=$!
	PIDS="$PIDS $D"
	i=0
	while ! ctl status >/dev/null 2>&1; do
		[ "$i" -lt 100 ] || die "htracrd did not come up: $(tail -n 2 "$WORK/htracrd.log")"
		sleep 0.1
		i=$((i + 1))
	done
	A=$(pgrep -P "$D" | head -n 1)
}

fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# The resident part of the heap (its mappings, split where madvise was
# applied, are all named so).
heap() {
	awk '/^[0-9a-f]+-/ { h = /\[heap\]/ } h && /^Rss:/ { n += $2 }
	    END { print n + 0 }' "/proc/$1/smaps" 2>/dev/null
}

# Every 10 s: seconds, capture RSS and fds, analyzer RSS and fds, the
# running session's memory (0 between sessions), what all kept sessions
# count, the analyzer's heap as malloc sees it (in use, free) and as
# the kernel does (resident), all in KiB.
sampler() {
	t0=$(date +%s)
	while [ ! -e "$WORK/stop" ]; do
		mem=$(ctl status --json 2>/dev/null | python3 -c 'import json, sys
j = json.load(sys.stdin)
s = j.get("session") or {}
h = j.get("heap") or {}
print("%d\t%d\t%d\t%d" % (s.get("counters", {}).get("memory_used", 0) // 1024,
    j.get("memory", 0) // 1024, h.get("in_use", 0) // 1024,
    h.get("free", 0) // 1024))' 2>/dev/null)
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $(($(date +%s) - t0)) \
		    "$(rss "$D")" "$(fds "$D")" "$(rss "$A")" "$(fds "$A")" \
		    "${mem:-0	0	0	0}" "$(heap "$A")" >>"$SAMPLES"
		sleep 10
	done
}

# A user looking every few seconds; a failure is logged.
querier() {
	while [ ! -e "$WORK/stop" ]; do
		for q in status sessions show; do
			if ctl "$q" >/dev/null 2>"$WORK/q.err"; then
				echo ok
			else
				echo "failed $q: $(head -n 1 "$WORK/q.err")"
			fi
		done >>"$WORK/queries.log"
		sleep 5
	done
}

# One session: start, wrk for $1 seconds, stop; one line of results.
round() {
	ctl start --ports 8080 --interface "$VS" >/dev/null ||
	    die "start failed"
	if [ -z "$WATCHING" ]; then
		WATCHING=1
		sampler &
		PIDS="$PIDS $!"
		querier &
		PIDS="$PIDS $!"
	fi
	ip netns exec "$NS_C" timeout $(($1 + 30)) wrk -t2 -c"$CONNS" \
	    -d"$1s" -s "$WORK/paced.lua" "http://$SRV:8080/" >"$WORK/wrk.out" 2>&1
	sleep 2
	ctl stop --json >"$WORK/stop.json" || die "stop failed"
	python3 - "$WORK/stop.json" "$WORK/wrk.out" >>"$WORK/rounds.tsv" <<'EOF'
import json, re, sys
s = json.load(open(sys.argv[1]))
s = s.get("session", s)
c = s["counters"]
m = re.search(r"(\d+) requests in", open(sys.argv[2]).read())
print("%d\t%d\t%d\t%d\t%d\t%d\t%d" % (int(m.group(1)) if m else -1,
    s["transactions"], c["dropped_transactions"], c["kernel_drops"],
    c["ifdrops"], c["forward_drops"], c["dropped_connections"]))
EOF
}

summary() {
	python3 - "$SAMPLES" "$WORK/rounds.tsv" "$WORK/queries.log" \
	    "$BUDGET" "$FD_START" "$FD_END" "$MINUTES" "$HWM" <<'EOF'
import sys
samples, rounds, queries, budget = sys.argv[1:5]
fd0, fd1, minutes, hwm = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
rows = [l.split("\t") for l in open(samples) if l.strip()]
rows = [[int(x or 0) for x in r] for r in rows]
full = [i for i, r in enumerate(rows) if r[5] >= int(budget) * 1024 * 95 // 100]
after = rows[full[0]:] if full else []
def mib(k):
    return "%.0f" % (k / 1024)
print("soak: %s minutes, %d samples, budget %s MiB" % (minutes, len(rows), budget))
if after:
    print("  budget first reached at %d s" % rows[full[0]][0])
    for name, col in (("capture", 1), ("analyzer", 3)):
        v = [r[col] for r in after]
        print("  %s RSS after that: min %s MiB, max %s MiB, last %s MiB"
              % (name, mib(min(v)), mib(max(v)), mib(v[-1])))
else:
    print("  the budget was never reached")
for name, col in (("capture", 1), ("analyzer", 3)):
    v = [r[col] for r in rows]
    print("  %s RSS overall: min %s MiB, max %s MiB" % (name, mib(min(v)), mib(max(v))))
if after:
    over = [r[3] - r[6] for r in after]
    held = [r[9] - r[7] for r in after]
    print("  analyzer RSS beyond the sessions' count: max %s MiB; heap "
          "resident beyond malloc's in use: max %s MiB"
          % (mib(max(over)), mib(max(held))))
bound = 2 * int(budget) + 32
print("  analyzer peak RSS (VmHWM) %s MiB, bound %d MiB: %s"
      % (mib(int(hwm or 0)), bound,
         "within" if 0 < int(hwm or 0) <= bound * 1024 else "OVER"))
print("  open fds (capture analyzer): start %s, end %s" % (fd0, fd1))
rr = [[int(x) for x in l.split("\t")] for l in open(rounds) if l.strip()]
req = sum(r[0] for r in rr)
rec = sum(r[1] for r in rr)
print("  sessions %d: wrk requests %d, recorded %d (%.2f %%)"
      % (len(rr), req, rec, 100.0 * rec / req if req else 0))
print("  left out at the budget: %d transactions, %d connections"
      % (sum(r[2] for r in rr), sum(r[6] for r in rr)))
print("  drops: kernel %d, interface %d, forward %d"
      % (sum(r[3] for r in rr), sum(r[4] for r in rr), sum(r[5] for r in rr)))
q = [l.strip() for l in open(queries)]
bad = [l for l in q if l != "ok"]
print("  queries: %d answered, %d failed%s" % (len(q) - len(bad), len(bad),
      (": " + bad[0]) if bad else ""))
EOF
}

site
netns
nginx_start
htracrd_start
i=0
while ! ip netns exec "$NS_C" curl -s -o /dev/null -m 1 \
    "http://$SRV:8080/f1k.html"; do
	[ "$i" -lt 50 ] || die "nginx did not come up"
	sleep 0.1
	i=$((i + 1))
done
: >"$SAMPLES"
: >"$WORK/rounds.tsv"
: >"$WORK/queries.log"
# Descriptors with the daemon idle, before the first capture and after
# the last one, with no client connected.
FD_START="$(fds "$D") $(fds "$A")"
WATCHING=

end=$(($(date +%s) + MINUTES * 60))
while [ "$(date +%s)" -lt $((end - 10)) ]; do
	left=$((end - $(date +%s) - 3))
	secs=$((ROUND * 60))
	[ "$secs" -gt "$left" ] && secs=$left
	round "$secs"
	echo "soak: session done at $(date +%T): $(tail -n 1 "$WORK/rounds.tsv")"
done
touch "$WORK/stop"
sleep 12
FD_END="$(fds "$D") $(fds "$A")"
HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$A/status" 2>/dev/null)
summary
[ -n "${SOAK_SAMPLES:-}" ] && echo "soak: samples in $SAMPLES"
[ -n "$HWM" ] && [ "$HWM" -le $(((2 * BUDGET + 32) * 1024)) ]
