#!/bin/sh
# 035-faults: processes killed in the middle of things, and a full disk.
# A daemon captures in a network namespace made here; its analyzer or
# its capture process is killed (-9) while a client waits in start,
# stop, dump, load or watch: the client ends with a clear error instead
# of hanging and the daemon exits non-zero. A client killed in the
# middle of load, dump or watch leaves the daemon serving others and
# idle. A dump written to a full file system (a small tmpfs in a mount
# namespace of its own) fails saying so and leaves no partial file.
# Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_bins
t_need_netns
t_need_cmd python3 unshare mount pgrep
t_tmpdir
t_ns_add cap >/dev/null || { t_fail "$T_NAME/setup" "no namespace"; t_exit; }

# 24 MiB of HTTP-looking frames: more than the daemon queues for one
# client (PROTO_MAX_QUEUED) and the sockets and a pipe hold together,
# so a dump of it is still under way while its reader waits.
BIG=$T_TMP/big.pcap
python3 - "$BIG" <<'EOF'
import struct, sys
body = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
body += b"x" * (1400 - len(body))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    seq = 1
    for i in range(17000):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(body), i & 0xffff,
                         0, 64, 6, 0, bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]))
        tcp = struct.pack("!HHIIBBHHH", 80, 40000, seq, 1, 0x50, 0x18, 512, 0, 0)
        fr = b"\0\1\2\3\4\5" + b"\0\1\2\3\4\6" + b"\x08\x00" + ip + tcp + body
        seq += len(body)
        f.write(struct.pack("=IIII", 1700000000 + i // 1000, i % 1000 * 1000,
                            len(fr), len(fr)) + fr)
EOF

# A daemon in namespace cap: sets D (capture pid), A (analyzer), S.
up() {
	mkdir -p "$T_TMP/$1"
	S=$T_TMP/$1/s
	LOG=$T_TMP/$1.log
	ip netns exec "$T_NS_PREFIX-cap" "$HTRACRD" --foreground \
	    --socket "$S" >"$LOG" 2>&1 &
	D=$!
	t_atexit "t_kill $D"
	t_wait_for 10 "$HTRACRCTL" --socket "$S" status || {
		t_fail "$T_NAME/$1" "daemon did not come up: $(tail -n 1 "$LOG")"
		return 1
	}
	A=$(pgrep -P "$D" | head -n 1)
}

# Not for a client run in the background: its pid would be a subshell's.
ctl() {
	"$HTRACRCTL" --socket "$S" "$@"
}

# Waits up to $2 seconds for process $1 to end (not merely be a zombie).
gone() {
	_i=0
	while _t_alive "$1" && [ "$_i" -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	! _t_alive "$1"
}

# Waits until the daemon has logged its $1th client.
clients() {
	t_wait_for 10 sh -c "[ \$(grep -c 'client connected' '$LOG') -ge $1 ]"
}

# $1 case, $2 a background htracrctl's pid, $3 its stderr: it must end
# by itself, non-zero, saying that htracrd hung up or cannot be reached.
client_error() {
	if ! gone "$2" 20; then
		kill -KILL "$2" 2>/dev/null
		t_fail "$1" "the client still waits"
		return
	fi
	wait "$2"
	_rc=$?
	if [ "$_rc" -ne 0 ] && grep -q "htracrd at $S" "$3"; then
		t_pass "$1"
	else
		t_fail "$1" "exit $_rc: $(tail -n 1 "$3")"
	fi
}

# $1 case: the daemon (D) ends by itself with a non-zero status.
daemon_failed() {
	if ! gone "$D" 20; then
		t_fail "$1" "the daemon still runs"
		return
	fi
	wait "$D"
	_rc=$?
	[ "$_rc" -ne 0 ] && t_pass "$1" || t_fail "$1" "exit $_rc"
}

# $1 case: the analyzer used under a second of CPU in two idle seconds
# (a busy loop would use all of them).
idle() {
	_t0=$(awk '{ print $14 + $15 }' "/proc/$A/stat")
	sleep 2
	_t1=$(awk '{ print $14 + $15 }' "/proc/$A/stat")
	_hz=$(getconf CLK_TCK)
	[ $((_t1 - _t0)) -lt "$_hz" ] && t_pass "$1" ||
	    t_fail "$1" "$((_t1 - _t0)) ticks of CPU in 2 s"
}

promisc() {
	ip netns exec "$T_NS_PREFIX-cap" ip -d link show lo |
	    grep -o 'promiscuity [0-9]*'
}

# --- the analyzer killed while a client watches a capture ---
if up watch-a; then
	ctl start --ports 80 --interface lo >/dev/null 2>&1
	"$HTRACRCTL" --socket "$S" watch >/dev/null 2>"$T_TMP/w1.err" &
	C=$!
	clients 3
	kill -KILL "$A"
	client_error "$T_NAME/watch/analyzer-killed/client-error" \
	    "$C" "$T_TMP/w1.err"
	daemon_failed "$T_NAME/watch/analyzer-killed/daemon-exits"
fi

# --- the capture process killed while a client watches a capture ---
if up watch-c; then
	ctl start --ports 80 --interface lo >/dev/null 2>&1
	"$HTRACRCTL" --socket "$S" watch >/dev/null 2>"$T_TMP/w2.err" &
	C=$!
	clients 3
	t_eq "$T_NAME/watch/not-promiscuous" "promiscuity 0" "$(promisc)"
	kill -KILL "$D"
	client_error "$T_NAME/watch/capture-killed/client-error" \
	    "$C" "$T_TMP/w2.err"
	gone "$A" 10 && t_pass "$T_NAME/watch/capture-killed/analyzer-goes" ||
	    t_fail "$T_NAME/watch/capture-killed/analyzer-goes" "analyzer $A runs"
	t_eq "$T_NAME/watch/capture-killed/not-promiscuous" "promiscuity 0" \
	    "$(promisc)"
fi

# --- start and stop: the capture process frozen, then killed, while
# the analyzer waits for its answer ---
if up start-c; then
	kill -STOP "$D"
	"$HTRACRCTL" --socket "$S" \
	    start --ports 80 --interface lo >/dev/null 2>"$T_TMP/s1.err" &
	C=$!
	clients 2
	kill -KILL "$D"
	client_error "$T_NAME/start/capture-killed/client-error" \
	    "$C" "$T_TMP/s1.err"
fi
if up stop-c; then
	ctl start --ports 80 --interface lo >/dev/null 2>&1
	kill -STOP "$D"
	"$HTRACRCTL" --socket "$S" stop >/dev/null 2>"$T_TMP/s2.err" &
	C=$!
	clients 3
	kill -KILL "$D"
	client_error "$T_NAME/stop/capture-killed/client-error" \
	    "$C" "$T_TMP/s2.err"
	t_eq "$T_NAME/stop/capture-killed/not-promiscuous" "promiscuity 0" \
	    "$(promisc)"
fi

# --- start and load: the analyzer killed while the client waits on it ---
if up start-a; then
	kill -STOP "$D"
	"$HTRACRCTL" --socket "$S" \
	    start --ports 80 --interface lo >/dev/null 2>"$T_TMP/s3.err" &
	C=$!
	clients 2
	kill -KILL "$A"
	kill -CONT "$D"
	client_error "$T_NAME/start/analyzer-killed/client-error" \
	    "$C" "$T_TMP/s3.err"
	daemon_failed "$T_NAME/start/analyzer-killed/daemon-exits"
fi
# The load reads a FIFO: it has sent the first frames and waits for
# more when the analyzer goes.
if up load-a; then
	mkfifo "$T_TMP/feed"
	{ head -c 2000000 "$BIG"; t_wait_for 30 test -e "$T_TMP/fed"; } \
	    >"$T_TMP/feed" &
	F=$!
	"$HTRACRCTL" --socket "$S" \
	    load "$T_TMP/feed" >/dev/null 2>"$T_TMP/l1.err" &
	C=$!
	t_wait_for 10 grep -q "loads session" "$LOG"
	kill -KILL "$A"
	touch "$T_TMP/fed"
	client_error "$T_NAME/load/analyzer-killed/client-error" \
	    "$C" "$T_TMP/l1.err"
	daemon_failed "$T_NAME/load/analyzer-killed/daemon-exits"
	wait "$F"
fi

# --- dump: the analyzer killed while the client's reader holds it up ---
if up dump-a; then
	if ctl load "$BIG" >/dev/null 2>"$T_TMP/load.err"; then
		mkfifo "$T_TMP/out1"
		sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done; exec cat >/dev/null' \
		    sh "$T_TMP/go" <"$T_TMP/out1" &
		R=$!
		"$HTRACRCTL" --socket "$S" \
		    dump --format pcap -o - >"$T_TMP/out1" 2>"$T_TMP/d1.err" &
		C=$!
		clients 3
		sleep 1
		kill -KILL "$A"
		touch "$T_TMP/go"
		client_error "$T_NAME/dump/analyzer-killed/client-error" "$C" \
		    "$T_TMP/d1.err"
		daemon_failed "$T_NAME/dump/analyzer-killed/daemon-exits"
		gone "$R" 10 || kill -KILL "$R"
		wait "$R"
	else
		t_fail "$T_NAME/dump/load" "$(tail -n 1 "$T_TMP/load.err")"
	fi
fi

# --- clients killed in the middle: the daemon serves the next, idle ---
if up client-k; then
	# The load reads a FIFO that holds back the rest: killed mid-load.
	mkfifo "$T_TMP/feed2"
	{ head -c 2000000 "$BIG"; t_wait_for 30 test -e "$T_TMP/fed2"; } \
	    >"$T_TMP/feed2" &
	F=$!
	"$HTRACRCTL" --socket "$S" load "$T_TMP/feed2" >/dev/null 2>&1 &
	C=$!
	t_wait_for 10 grep -q "loads session" "$LOG"
	kill -KILL "$C"
	wait "$C" 2>/dev/null
	touch "$T_TMP/fed2"
	wait "$F"
	t_wait_for 10 grep -q "left mid-load" "$LOG" &&
	    t_pass "$T_NAME/load/client-killed/logged" ||
	    t_fail "$T_NAME/load/client-killed/logged" "$(tail -n 1 "$LOG")"
	t_check "$T_NAME/load/client-killed/serving" ctl status
	t_check "$T_NAME/load/client-killed/sessions" ctl sessions
	idle "$T_NAME/load/client-killed/idle"

	SID=$(ctl load "$BIG" 2>&1 | sed -n 's/^session \([0-9]*\):.*/\1/p')
	# The dump's reader never reads: the client blocks, then dies.
	mkfifo "$T_TMP/out2"
	sleep 60 <"$T_TMP/out2" &
	R=$!
	"$HTRACRCTL" --socket "$S" \
	    dump --format pcap -o - "$SID" >"$T_TMP/out2" 2>/dev/null &
	C=$!
	n=$(grep -c 'client connected' "$LOG")
	clients $((n + 1))
	sleep 1
	kill -KILL "$C"
	wait "$C" 2>/dev/null
	t_kill "$R"
	t_check "$T_NAME/dump/client-killed/serving" ctl status
	t_check "$T_NAME/dump/client-killed/show" ctl show
	idle "$T_NAME/dump/client-killed/idle"

	n=$(grep -c 'client connected' "$LOG")
	ctl start --ports 80 --interface lo >/dev/null 2>&1
	"$HTRACRCTL" --socket "$S" watch >/dev/null 2>&1 &
	C=$!
	clients $((n + 2))
	_t_alive "$C" && t_pass "$T_NAME/watch/client-killed/watching" ||
	    t_fail "$T_NAME/watch/client-killed/watching" "watch ended early"
	kill -KILL "$C"
	wait "$C" 2>/dev/null
	t_check "$T_NAME/watch/client-killed/serving" ctl status
	idle "$T_NAME/watch/client-killed/idle"

	# --- a full file system: the dump fails, saying so, and no
	# partial file is left behind (the JSON with every packet is some
	# 2 MB, the pcap 24 MiB) ---
	mkdir "$T_TMP/full"
	for fmt in pcap json; do
		unshare -m sh -c 'mount -t tmpfs -o size=1m htracr-full "$1" &&
		    "$2" --socket "$3" dump --format "$4" --packets \
		    -o "$1/dump.$4" "$5"
		    echo "rc=$?"; ls -A "$1"' sh "$T_TMP/full" "$HTRACRCTL" \
		    "$S" "$fmt" "$SID" >"$T_TMP/full.$fmt" 2>&1
		if grep -q '^rc=[1-9]' "$T_TMP/full.$fmt" &&
		    grep -q 'No space left on device' "$T_TMP/full.$fmt" &&
		    ! grep -q "^dump.$fmt" "$T_TMP/full.$fmt"; then
			t_pass "$T_NAME/full-disk/$fmt"
		else
			t_fail "$T_NAME/full-disk/$fmt" \
			    "$(tr '\n' ' ' <"$T_TMP/full.$fmt" | head -c 200)"
		fi
	done
fi

t_exit
