#!/bin/sh
# 020-daemon: htracrd without capture. A private daemon on a temporary
# socket: its two processes' privileges and sandbox (/proc status), the
# test-only hooks (a forbidden syscall kills the analyzer with SIGSYS and
# the daemon exits non-zero; uid 0 and capabilities cannot come back),
# and the request door: garbage, oversized lengths, deep nesting, wrong
# versions, bad fields and bad frame blobs get errors (and a disconnect
# where the protocol says so) while another client keeps working.
. "$(dirname "$0")/lib.sh"

t_need_bins
t_need_cmd python3
t_tmpdir
RAW="python3 $T_ROOT/tests/regress/rawclient.py"

# Field NAME of /proc/PID/status.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

analyzer_pid() {
	pgrep -P "$1" | head -n 1
}

if ! t_daemon_start; then
	t_fail "$T_NAME-start" "daemon did not come up: $(tail -n 3 "$T_TMP/htracrd.log")"
	t_exit
fi
t_pass "$T_NAME-start"
# The path appears only once the socket listens: the first connect to it
# succeeds, and no temporary name is left beside it.
t_check "$T_NAME-listening-at-once" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$T_SOCK"
t_check "$T_NAME-no-temporary-socket" test ! -e "$T_SOCK.new"
# The socket exists before the split; a reply means the analyzer is up.
t_wait_for 5 t_ctl status
A=$(analyzer_pid "$T_DAEMON_PID")

# --- the sandbox, as the kernel reports it ---
t_eq "$T_NAME-analyzer-nonewprivs" 1 "$(status_field "$A" NoNewPrivs)"
t_eq "$T_NAME-analyzer-seccomp" 2 "$(status_field "$A" Seccomp)"
t_eq "$T_NAME-analyzer-capeff" 0000000000000000 "$(status_field "$A" CapEff)"
t_eq "$T_NAME-analyzer-capprm" 0000000000000000 "$(status_field "$A" CapPrm)"
t_eq "$T_NAME-capture-seccomp" 2 "$(status_field "$T_DAEMON_PID" Seccomp)"
t_eq "$T_NAME-capture-capprm-no-capture" 0000000000000000 \
    "$(status_field "$T_DAEMON_PID" CapPrm)"
if [ "$(id -u)" -eq 0 ]; then
	for p in "$A" "$T_DAEMON_PID"; do
		ids="$(status_field "$p" Uid) $(status_field "$p" Gid)"
		case " $ids " in
		*[!0-9]0[!0-9]*) t_fail "$T_NAME-no-root-$p" "uid/gid 0 left: $ids" ;;
		*) t_pass "$T_NAME-no-root-$p" ;;
		esac
	done
	t_eq "$T_NAME-analyzer-chroot" "$T_TMP/empty" "$(readlink "/proc/$A/root")"
else
	t_skip "$T_NAME-no-root" "not started as root"
fi

# --- the door: each bad client gets its error and is closed ---
out=$($RAW "$T_SOCK" abuse garbage oversized deep version nohello notmap noop 2>&1)
want() {
	if printf '%s\n' "$out" | grep -q "^$2"; then
		t_pass "$T_NAME-$1"
	else
		t_fail "$T_NAME-$1" "no line '$2' in: $(printf '%s' "$out" | tr '\n' '|')"
	fi
}
want garbage "garbage: code=1 .*; then eof"
want oversized "oversized: code=7 .*; then eof"
want deep "deep: code=1 .*nested.*; then eof"
want version "version: code=2 .*99.*1; then eof"
want nohello "nohello: code=1 .*hello.*; then eof"
want notmap "notmap: code=1 .*; then eof"
want noop "noop: code=1 .*; then eof"
want survivor "survivor: ok"

codes() {
	printf '%s\n' "$1" | cut -d' ' -f1 | paste -sd'|'
}

out=$($RAW "$T_SOCK" badfield 2>&1)
t_eq "$T_NAME-bad-fields-keep-connection" "ok|code=4|code=4|ok" \
    "$(printf '%s\n' "$out" | cut -d' ' -f1 | paste -sd'|')"

out=$($RAW "$T_SOCK" session 300 301 302 400 999 100 2>&1)
t_eq "$T_NAME-capture-ops-unavailable" "ok|code=10|code=10|code=10|code=10|code=3|ok" \
    "$(printf '%s\n' "$out" | cut -d' ' -f1 | paste -sd'|')"

# A bad record anywhere in a blob: the whole blob is refused; the one
# good blob sent after them is the only frame taken.
out=$($RAW "$T_SOCK" badblob 2>&1)
t_eq "$T_NAME-bad-blob" "ok|ok|code=4|code=4|code=7|ok" \
    "$(printf '%s\n' "$out" | cut -d' ' -f1 | paste -sd'|')"
t_ctl sessions --json >"$T_TMP/sessions.json" 2>&1
frames=$(t_json "$T_TMP/sessions.json" \
    '[s["counters"]["frames"] for s in (d["sessions"] if isinstance(d, dict) else d) if s["source"] == "raw"][0]' 2>&1)
t_eq "$T_NAME-bad-blob-nothing-taken" 1 "$frames"

# Blobs of classic pcap records, as htracrctl sends a pcap file's bytes.
out=$($RAW "$T_SOCK" pcapblob 2>&1)
t_eq "$T_NAME-pcap-blob" "ok|code=4|ok|code=4|code=4|ok|frames=2" \
    "$(printf '%s\n' "$out" | cut -d' ' -f1 | paste -sd'|')"
t_eq "$T_NAME-pcap-blob-nanoseconds" "first_us=1700000000123456" \
    "$(printf '%s\n' "$out" | tail -n 1 | cut -d' ' -f2)"

# A client that goes away mid-load leaves its session, marked aborted.
$RAW "$T_SOCK" midload >/dev/null 2>&1
t_wait_for 5 sh -c "'$HTRACRCTL' --socket '$T_SOCK' sessions | grep -q midload"
t_ctl sessions --json >"$T_TMP/sessions.json" 2>&1
state=$(t_json "$T_TMP/sessions.json" \
    '[s["state"] for s in (d["sessions"] if isinstance(d, dict) else d) if s["source"] == "midload"][0]' 2>&1)
t_eq "$T_NAME-midload-aborted" aborted "$state"

# A client that vanishes in the middle of a stream harms nobody.
CORPUS=$(t_shared corpus/zeek-pipelined-requests.pcap) || CORPUS=
if [ -n "$CORPUS" ]; then
	t_ctl load "$CORPUS" >/dev/null 2>&1
	for op in 101 102; do
		$RAW "$T_SOCK" vanish $op >/dev/null 2>&1
	done
	t_check "$T_NAME-vanish-mid-stream" t_ctl show
	# the body op hands back the kept body, decoded when it was gzip
	t_ctl show --json >"$T_TMP/show.json" 2>&1
	kept=$(t_json "$T_TMP/show.json" '(lambda r: r["decoded_bytes"] if r["decoded_bytes"] is not None else r["body_kept"])(d["transactions"][0]["response"])' 2>&1)
	t_eq "$T_NAME-body" "ok|body $kept" \
	    "$($RAW "$T_SOCK" body 1 response 2>&1 | paste -sd'|')"
	t_eq "$T_NAME-body-bad-which" "ok|code=4" \
	    "$(codes "$($RAW "$T_SOCK" body 1 sideways 2>&1)")"
	t_eq "$T_NAME-body-no-txn" "ok|code=5" \
	    "$(codes "$($RAW "$T_SOCK" body 99999 response 2>&1)")"
else
	t_skip "$T_NAME-vanish-mid-stream" "../shared/corpus is absent"
fi

# A client closed for a bad request that never reads the replies
# still queued for it loses its slot after the grace period.
t_eq "$T_NAME-stuck-client-dropped" "ok|dropped" \
    "$(codes "$($RAW "$T_SOCK" stuck 2>&1)")"
grep -q "did not read its last replies" "$T_TMP/htracrd.log" &&
    t_pass "$T_NAME-stuck-client-logged" ||
    t_fail "$T_NAME-stuck-client-logged" "no log line"

# A client that sends requests but never reads its replies is cut off
# once PROTO_MAX_QUEUED bytes wait for it.
t_eq "$T_NAME-flood-disconnected" "ok|disconnected" \
    "$(codes "$($RAW "$T_SOCK" flood 2>&1)")"
grep -q "does not read replies, disconnected" "$T_TMP/htracrd.log" &&
    t_pass "$T_NAME-flood-logged" || t_fail "$T_NAME-flood-logged" "no log line"

# One uid's PROTO_MAX_CLIENTS_UID connections are served, its next one
# is refused (tests/regress/025-limits.sh has the rest of the limits).
out=$($RAW "$T_SOCK" many 16 2>&1)
t_eq "$T_NAME-client-limit" "code=7|ok" \
    "$(printf '%s\n' "$out" | cut -d' ' -f1 | paste -sd'|')"

t_check "$T_NAME-still-serving" t_ctl status
grep -q "client connected: uid $(id -u) pid [0-9]" "$T_TMP/htracrd.log" &&
    t_pass "$T_NAME-peercred-logged" ||
    t_fail "$T_NAME-peercred-logged" "no uid/pid line in the log"

t_daemon_stop
t_eq "$T_NAME-sigterm-exit-0" 0 "$?"

# --- the analyzer dying takes the daemon down, non-zero, saying why ---
start_private() {
	# $1: name; the rest: environment assignments for the daemon
	_n=$1
	shift
	mkdir -p "$T_TMP/$_n"
	env "$@" "$HTRACRD" --foreground --no-capture --socket "$T_TMP/$_n/s" \
	    >"$T_TMP/$_n.log" 2>&1 &
	P=$!
	t_atexit "t_kill $P"
}

start_private kill9
t_wait_for 5 "$HTRACRCTL" --socket "$T_TMP/kill9/s" status
kill -KILL "$(analyzer_pid "$P")"
wait "$P"
rc=$?
[ "$rc" -ne 0 ] && grep -q "SIGKILL" "$T_TMP/kill9.log" &&
    t_pass "$T_NAME-analyzer-killed" ||
    t_fail "$T_NAME-analyzer-killed" "exit $rc: $(tail -n 1 "$T_TMP/kill9.log")"

for sc in openat socket execve; do
	start_private "sys-$sc" HTRACR_TEST_SYSCALL=$sc
	wait "$P"
rc=$?
	if [ "$rc" -ne 0 ] && grep -q "SIGSYS" "$T_TMP/sys-$sc.log"; then
		t_pass "$T_NAME-seccomp-$sc"
	else
		t_fail "$T_NAME-seccomp-$sc" "exit $rc: $(tail -n 1 "$T_TMP/sys-$sc.log")"
	fi
done

# The sanitizer build (make check SANITIZE=1): a bad read in the
# sandboxed analyzer gets a whole report, not a seccomp kill halfway
# through it, and the daemon exits non-zero.
if [ "${SANITIZE:-}" = 1 ]; then
	start_private "sys-overflow" HTRACR_TEST_SYSCALL=heap-overflow
	wait "$P"
	rc=$?
	if [ "$rc" -ne 0 ] &&
	    grep -q "^SUMMARY: AddressSanitizer: heap-buffer-overflow" \
	    "$T_TMP/sys-overflow.log" &&
	    grep -q "analyzer closed the link: exited with status 1" \
	    "$T_TMP/sys-overflow.log"; then
		t_pass "$T_NAME-sanitizer-report-whole"
	else
		t_fail "$T_NAME-sanitizer-report-whole" \
		    "exit $rc: $(tail -n 1 "$T_TMP/sys-overflow.log")"
	fi
fi

# Signals only to itself: tgkill on another process, or F_SETOWN (the
# kernel's SIGIO to another process), is fatal too. The hook logs when
# the call returned, so an open door cannot hang here.
for sc in tgkill fcntl; do
	start_private "sys-$sc" HTRACR_TEST_SYSCALL=$sc
	t_wait_for 5 grep -q -e SIGSYS -e "test: $sc returned" \
	    "$T_TMP/sys-$sc.log"
	if grep -q "SIGSYS" "$T_TMP/sys-$sc.log"; then
		t_pass "$T_NAME-seccomp-$sc"
	else
		t_fail "$T_NAME-seccomp-$sc" "$(tail -n 1 "$T_TMP/sys-$sc.log")"
	fi
	t_kill "$P"
done

# The capture process keeps a foreground daemon's terminal: it must not
# be able to type into it (TIOCSTI). script(1) gives it one to try.
if command -v script >/dev/null; then
	mkdir -p "$T_TMP/tty"
	HTRACR_TEST_TIOCSTI=1 script -qec "exec '$HTRACRD' --foreground \
	    --no-capture --socket '$T_TMP/tty/s'" /dev/null \
	    </dev/null >"$T_TMP/tty.log" 2>&1 &
	P=$!
	t_atexit "t_kill $P"
	t_wait_for 5 grep -q "test: FIOSETOWN" "$T_TMP/tty.log"
	for io in TIOCSTI FIOSETOWN; do
		if grep -q "test: $io failed: Operation not permitted" \
		    "$T_TMP/tty.log"; then
			t_pass "$T_NAME-capture-no-$io"
		else
			t_fail "$T_NAME-capture-no-$io" \
			    "$(grep -a "test: $io" "$T_TMP/tty.log" | tr -d '\r')"
		fi
	done
	D=$(pgrep -P "$P" | head -n 1)
	[ -n "$D" ] && t_kill "$D"
	t_kill "$P"
else
	t_skip "$T_NAME-capture-no-TIOCSTI" "no script(1)"
fi

# Started with stdin, stdout and stderr closed, it still serves.
mkdir -p "$T_TMP/nostdio"
"$HTRACRD" --foreground --no-capture --socket "$T_TMP/nostdio/s" \
    <&- >&- 2>&- &
P=$!
t_atexit "t_kill $P"
t_wait_for 5 "$HTRACRCTL" --socket "$T_TMP/nostdio/s" status
t_check "$T_NAME-closed-stdio" "$HTRACRCTL" --socket "$T_TMP/nostdio/s" status
t_kill "$P"

start_private privs HTRACR_TEST_PRIVS=1
t_wait_for 5 "$HTRACRCTL" --socket "$T_TMP/privs/s" status
# Each process logs its hook as it drops: wait for both lines.
t_wait_for 5 sh -c "[ \$(grep -c '^[a-z]*: test: setuid' '$T_TMP/privs.log') -ge 2 ]"
kill -TERM "$P"
wait "$P"
for proc in analyzer capture; do
	if grep -q "^$proc: test: setuid(0) failed, setgid(0) failed, raising CAP_SYS_ADMIN failed" \
	    "$T_TMP/privs.log"; then
		t_pass "$T_NAME-no-way-back-$proc"
	else
		t_fail "$T_NAME-no-way-back-$proc" "$(grep "^$proc: test" "$T_TMP/privs.log")"
	fi
done

# --- offline use by an ordinary user: no chroot, the rest applies ---
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	mkdir -p "$T_TMP/user"
	chown nobody "$T_TMP/user"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$HTRACRD" --foreground --no-capture --socket "$T_TMP/user/s" \
	    >"$T_TMP/user.log" 2>&1 &
	P=$!
	t_atexit "t_kill $P"
	if t_wait_for 5 "$HTRACRCTL" --socket "$T_TMP/user/s" status; then
		A=$(analyzer_pid "$P")
		t_eq "$T_NAME-user-seccomp" 2 "$(status_field "$A" Seccomp)"
		t_check "$T_NAME-user-serves" "$HTRACRCTL" --socket "$T_TMP/user/s" status
	else
		t_fail "$T_NAME-user-start" "$(tail -n 1 "$T_TMP/user.log")"
	fi
	t_kill "$P"
fi

t_exit
