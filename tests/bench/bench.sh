#!/bin/sh
# bench.sh: `make bench`. One table, four parts:
#  offline: htracrctl analyze (text and --json) on a large real capture
#    side by side with tshark and the two floors from ../shared/bench
#    (pcap_read: reading the file; naive_parse: llhttp per direction with
#    no model) in one hyperfine run, each command's peak RSS, and the
#    requests, responses and connections htracr counts against the
#    capture's ground truth (bench.pcap.meta.txt);
#  memory: the analyzer's peak RSS with the whole capture loaded into a
#    private htracrd, beyond the raw frames it keeps, per connection and
#    per transaction;
#  queries: show, show --json, dump --format har and html of that session;
#  live: live.sh, wrk against nginx on a namespace's loopback and on a
#    veth pair with nothing, tcpdump or htracrd capturing;
#  tls: the same kind of traffic over TLS 1.3 and HTTP/2 (tls_pcap.sh),
#    htracrctl analyze --keylog side by side with tshark decrypting with
#    the same key log, the decrypted bytes per second, the counts against
#    what the clients made, decryption's share of the engine's
#    instructions (callgrind on tests/unit/bin/drive -K), and its floor
#    (openssl speed of the suite on this machine);
# and the machine (nproc, CPU model, kernel, load average).
# Reports only: nothing here asserts on time. Output: stdout and
# tests/bench/out/results.md; the raw figures stay in tests/bench/out.
#
#   BENCH_SMALL=1	bench-small.pcap, the small capture (about 1 s per
#			traffic phase), and 3 s of wrk per live measurement
#   BENCH_REGEN=1	remake the capture even if tests/bench/out has one
#   BENCH_RUNS=N	hyperfine runs per command (default 5; queries 3)
#   BENCH_LIVE=0	leave the live part out
#   BENCH_TLS=0		leave the TLS part out
#   BENCH_ONLY=queries	only the memory and query parts (no offline,
#			TLS or live part, no counts to check)
#
# Making bench.pcap, tls.pcap and the live part need root (network
# namespaces); the first takes about a minute, the second about half a
# minute, the third (10 + 4) s per measurement.
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
OUT=$ROOT/tests/bench/out
KIT=$(cd "$ROOT/.." && pwd)/shared/bench
RUNS=${BENCH_RUNS:-5}
PCAP=$OUT/bench.pcap
TLS=$OUT/tls.pcap
if [ "${BENCH_SMALL:-0}" = 1 ]; then
	PCAP=$OUT/bench-small.pcap
	TLS=$OUT/tls-small.pcap
fi
META=$PCAP.meta.txt
RES=$OUT/results.md
CTL=$ROOT/htracrctl
QSOCK=$OUT/q.sock
QPID=

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -d "$KIT" ] || die "$KIT is absent: the benchmark kit lives in ../shared/bench"
for c in hyperfine tshark python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (make deps installs package time)"
[ -x "$CTL" ] || die "$CTL is not built (make)"
mkdir -p "$OUT"

echo "== reference floors"
OUTDIR=$OUT/bench-bin sh "$KIT/build.sh" || die "building the floors failed"

if [ ! -s "$PCAP" ] || [ ! -s "$META" ] || [ "${BENCH_REGEN:-0}" = 1 ]; then
	echo "== making bench.pcap (BENCH_SMALL=${BENCH_SMALL:-0})"
	[ "$(id -u)" -eq 0 ] || die "making bench.pcap needs root (network namespaces)"
	rm -f "$PCAP" "$META"
	if [ "${BENCH_SMALL:-0}" = 1 ]; then
		set -- KA_SECS=1 CLOSE_SECS=1 PIPE_SECS=1
	else
		set --
	fi
	# The kit writes ./bench.pcap and runs ./bench-bin/naive_parse.
	(cd "$OUT" && env "$@" OUT="$PCAP" bash "$KIT/make_bench_pcap.sh")
	rc=$?
	[ "$rc" -eq 2 ] && echo "bench: the capture is lossy (kernel drops); results still shown"
	[ -s "$PCAP" ] && [ -s "$META" ] || die "make_bench_pcap.sh failed (exit $rc)"
else
	echo "== reusing $PCAP (BENCH_REGEN=1 remakes it)"
fi

offline_part() {
# One analyze run for the counts; the document is walked item by item so
# a large capture does not need its whole model in Python at once.
echo "== htracr counts"
"$CTL" analyze "$PCAP" --json >"$OUT/analyze.json" 2>"$OUT/analyze.err" ||
    die "htracrctl analyze failed: $(head -n 1 "$OUT/analyze.err")"

# Peak RSS of each command, one run each under time(1): KiB.
rss() {
	/usr/bin/time -f %M -o "$OUT/rss.$1" sh -c "$2" >/dev/null 2>&1
	cat "$OUT/rss.$1"
}

C_HTRACR="$CTL analyze $PCAP >/dev/null"
C_HJSON="$CTL analyze $PCAP --json >/dev/null"
C_TSHARK="tshark -r $PCAP -q -z http,tree >/dev/null"
C_NAIVE="$OUT/bench-bin/naive_parse $PCAP --dedup >/dev/null"
C_READ="$OUT/bench-bin/pcap_read $PCAP >/dev/null"

# Times first, then peak RSS: on a virtual machine the 1.5 GB tshark
# frees can be handed back to the host, and the next command to touch
# that much fresh memory pays for it; measured first, no command
# inherits another's churn.
echo "== offline: hyperfine ($RUNS runs each)"
hyperfine --style basic --warmup 1 --runs "$RUNS" \
    --export-json "$OUT/hyperfine.json" \
    -n "htracrctl analyze" "$C_HTRACR" \
    -n "htracrctl analyze --json" "$C_HJSON" \
    -n "tshark -z http,tree" "$C_TSHARK" \
    -n "naive_parse --dedup" "$C_NAIVE" \
    -n "pcap_read" "$C_READ" || die "hyperfine failed"

echo "== offline: peak RSS"
{
	echo "htracr $(rss htracr "$C_HTRACR")"
	echo "htracr_json $(rss hjson "$C_HJSON")"
	echo "tshark $(rss tshark "$C_TSHARK")"
	echo "naive $(rss naive "$C_NAIVE")"
	echo "read $(rss read "$C_READ")"
} >"$OUT/rss.txt"
}

ONLY=${BENCH_ONLY:-}
[ -z "$ONLY" ] || [ "$ONLY" = queries ] || die "BENCH_ONLY=$ONLY: only 'queries' is known"
if [ "$ONLY" = queries ]; then
	echo "== offline: left out (BENCH_ONLY=queries)"
	rm -f "$OUT/analyze.json" "$OUT/hyperfine.json" "$OUT/rss.txt"
else
	offline_part
fi

# The TLS part: its own capture and key log, kept like bench.pcap.
tls_part() {
	if [ ! -s "$TLS" ] || [ ! -s "$TLS.keys" ] || [ ! -s "$TLS.meta.txt" ] ||
	    [ "${BENCH_REGEN:-0}" = 1 ]; then
		echo "== tls: making $(basename "$TLS")"
		[ "$(id -u)" -eq 0 ] || die "making tls.pcap needs root (network namespaces)"
		rm -f "$TLS" "$TLS.keys" "$TLS.meta.txt"
		if [ "${BENCH_SMALL:-0}" = 1 ]; then
			set -- TLS_REQS=2000 TLS_SHORT=200 TLS_CURL=10
		else
			set --
		fi
		env "$@" sh "$ROOT/tests/bench/tls_pcap.sh" "$TLS"
		rc=$?
		[ "$rc" -eq 2 ] && echo "bench: the TLS capture is lossy; results still shown"
		[ -s "$TLS" ] && [ -s "$TLS.meta.txt" ] ||
		    die "tls_pcap.sh failed (exit $rc)"
	else
		echo "== tls: reusing $TLS (BENCH_REGEN=1 remakes it)"
	fi
	"$CTL" analyze "$TLS" --keylog "$TLS.keys" --json >"$OUT/tls.json" \
	    2>"$OUT/tls.err" ||
	    die "htracrctl analyze --keylog failed: $(head -n 1 "$OUT/tls.err")"
	echo "== tls: hyperfine ($RUNS runs each)"
	hyperfine --style basic --warmup 1 --runs "$RUNS" \
	    --export-json "$OUT/tls-hyperfine.json" \
	    -n "htracrctl analyze --keylog" \
	    "$CTL analyze $TLS --keylog $TLS.keys >/dev/null" \
	    -n "tshark -z http2,tree" \
	    "tshark -r $TLS -o tls.keylog_file:$TLS.keys -q -z http2,tree >/dev/null" ||
	    die "hyperfine failed"
	# CPU time (every process of the command, perf stat's task-clock)
	# follows the work done, where the wall time of a shared machine
	# follows the other people's work too.
	echo "== tls: CPU time (perf stat, 3 runs each)"
	for c in analyze tshark; do
		if [ "$c" = analyze ]; then
			set -- "$CTL" analyze "$TLS" --keylog "$TLS.keys"
		else
			set -- tshark -r "$TLS" -o "tls.keylog_file:$TLS.keys" -q \
			    -z http2,tree
		fi
		perf stat -x, -e task-clock -r 3 -o "$OUT/tls.cpu.$c" "$@" \
		    >/dev/null 2>"$OUT/tls.cpu.err" ||
		    echo "bench: perf stat of $c failed"
	done
	# The floor: how fast this machine's libcrypto decrypts the suite
	# nginx and h2load agree on (TLS_AES_128_GCM_SHA256), in EVP calls
	# as a TLS record layer makes them (CPU time, not wall time).
	echo "== tls: openssl speed -evp aes-128-gcm -decrypt -aead"
	openssl speed -evp aes-128-gcm -decrypt -aead -mr -seconds 2 \
	    >"$OUT/tls.gcm" 2>/dev/null ||
	    echo "bench: openssl speed failed; no floor"
	# Instruction counts repeat on a busy machine where times do not.
	echo "== tls: callgrind of the engine (tests/unit/bin/drive -K)"
	sh "$ROOT/tests/unit/run.sh" --drive || die "drive did not build"
	valgrind --tool=callgrind --callgrind-out-file="$OUT/tls.callgrind" \
	    "$ROOT/tests/unit/bin/drive" -n -H -k 0 -K "$TLS.keys" "$TLS" \
	    >"$OUT/tls.drive" 2>"$OUT/tls.valgrind" ||
	    die "callgrind failed: $(tail -n 1 "$OUT/tls.valgrind")"
	callgrind_annotate --auto=no --threshold=100 \
	    "$OUT/tls.callgrind" >"$OUT/tls.callgrind.txt" 2>&1 ||
	    die "callgrind_annotate failed"
	# Time, where instructions of unlike kinds count alike: where the
	# analyzer's CPU time goes, by library, sampled over three runs.
	echo "== tls: perf of htracrctl analyze --keylog (3 runs)"
	perf record -q -e cpu-clock -F 2000 -o "$OUT/tls.perf" -- sh -c \
	    "for i in 1 2 3; do $CTL analyze $TLS --keylog $TLS.keys; done" \
	    >/dev/null 2>"$OUT/tls.perf.err" &&
	    perf report -i "$OUT/tls.perf" --stdio --no-children \
	    --sort comm,dso -g none >"$OUT/tls.perf.txt" 2>>"$OUT/tls.perf.err" ||
	    echo "bench: perf failed ($(tail -n 1 "$OUT/tls.perf.err")); no time share"
}

rm -f "$OUT/tls.json" "$OUT/tls-hyperfine.json" "$OUT/tls.callgrind.txt" \
    "$OUT/tls.perf.txt" "$OUT/tls.cpu.analyze" "$OUT/tls.cpu.tshark" \
    "$OUT/tls.gcm"
if [ "${BENCH_TLS:-1}" = 0 ] || [ "$ONLY" = queries ]; then
	echo "== tls: left out (BENCH_TLS=0 or BENCH_ONLY)"
else
	for c in valgrind perf h2load; do
		command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
	done
	tls_part
fi

# The whole capture in a private daemon, frames, packets and headers
# kept as `load` keeps them, with a budget that evicts nothing.
q_stop() {
	[ -n "$QPID" ] || return 0
	kill -TERM "$QPID" 2>/dev/null
	i=0
	while kill -0 "$QPID" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=
}
trap q_stop EXIT
trap 'exit 130' INT TERM

# Starts a private htracrd with extra options "$2" and loads the capture
# into it: the summary goes to $OUT/load.$1.json, the analyzer's peak RSS
# (KiB) to $OUT/analyzer.$1.hwm. The daemon is left running.
q_load() {
	rm -f "$QSOCK"
	# shellcheck disable=SC2086
	"$ROOT/htracrd" --foreground --no-capture --socket "$QSOCK" \
	    --budget 8192 $2 >"$OUT/q.log" 2>&1 &
	QPID=$!
	i=0
	until "$CTL" --socket "$QSOCK" status >/dev/null 2>&1; do
		[ "$i" -lt 100 ] || die "htracrd did not come up: $(tail -n 2 "$OUT/q.log")"
		sleep 0.1
		i=$((i + 1))
	done
	APID=$(pgrep -P "$QPID" | head -n 1)
	[ -n "$APID" ] || die "no analyzer process under htracrd $QPID"
	"$CTL" --socket "$QSOCK" load "$PCAP" --json >"$OUT/load.$1.json" ||
	    die "htracrctl load failed"
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$APID/status" \
	    >"$OUT/analyzer.$1.hwm"
}

# Bodies kept (64 KiB of each by default) are wire bytes too: the
# model's own cost is measured with none kept, then the queries run on
# a session as a user would have it.
echo "== memory: the capture loaded into a private htracrd"
q_load nobody "--body-kib 0"
q_stop
q_load bodies ""

echo "== queries: hyperfine (${QRUNS:=3} runs each)"
Q="$CTL --socket $QSOCK"
# The analyzer's CPU time (user + system) over one run of each query:
# hyperfine sees only htracrctl's.
acpu() {
	awk '{ print $14 + $15 }' "/proc/$APID/stat"
}
for f in show show.json har html; do
	a0=$(acpu)
	case $f in
	show) $Q show ;;
	show.json) $Q show --json ;;
	*) $Q dump --format "$f" -o - ;;
	esac >"$OUT/query.out" && wc -c <"$OUT/query.out" >"$OUT/query.$f.bytes"
	echo "$a0 $(acpu) $(getconf CLK_TCK)" |
	    awk '{ printf "%.3f\n", ($2 - $1) / $3 }' >"$OUT/query.$f.acpu"
	[ "$f" = html ] && mv "$OUT/query.out" "$OUT/query.html"
done
rm -f "$OUT/query.out"
hyperfine --style basic --runs "$QRUNS" --export-json "$OUT/queries.json" \
    -n "show" "$Q show >/dev/null" \
    -n "show --json" "$Q show --json >/dev/null" \
    -n "dump --format har" "$Q dump --format har -o - >/dev/null" \
    -n "dump --format html" "$Q dump --format html -o - >/dev/null" ||
    die "hyperfine failed"
q_stop

# The HTML page in Debian's chromium, as tests/browser opens it: the
# time until the timeline is drawn and the zoom's, best of three.
rm -f "$OUT/browser.txt"
BROWSER=$ROOT/tests/browser
if command -v node >/dev/null 2>&1 && [ -x /usr/bin/chromium ] &&
    [ -d "$BROWSER/node_modules/playwright-core" ]; then
	echo "== queries: the HTML page in chromium (3 runs)"
	for i in 1 2 3; do
		timeout 300 node "$BROWSER/timeline.js" perf "$OUT/query.html" \
		    >>"$OUT/browser.txt" 2>&1 || echo "bench: chromium run $i failed"
	done
else
	echo "== queries: chromium left out (node, chromium or npm ci in tests/browser missing)"
fi
rm -f "$OUT/query.html"

rm -f "$OUT/live.tsv"
if [ "${BENCH_LIVE:-1}" = 0 ] || [ "$ONLY" = queries ]; then
	echo "== live: left out (BENCH_LIVE=0 or BENCH_ONLY)"
elif [ "$(id -u)" -ne 0 ]; then
	echo "== live: left out (needs root)"
else
	echo "== live"
	[ "${BENCH_SMALL:-0}" = 1 ] && : "${LIVE_SECS:=3}"
	LIVE_SECS=${LIVE_SECS:-10} sh "$ROOT/tests/bench/live.sh" \
	    "$OUT/live.tsv" || echo "bench: live.sh failed; its part is empty"
fi

{
	echo "nproc $(nproc)"
	echo "cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "kernel $(uname -sr)"
	echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

python3 "$ROOT/tests/bench/summary.py" "$OUT" "$PCAP" "$META" "$TLS" >"$RES" ||
    die "summarising failed"
echo
cat "$RES"
# Time is only reported; wrong counts are an error.
[ "$ONLY" = queries ] || grep -q 'agrees with the ground truth' "$RES"
