#!/bin/sh
# 025-limits: one user cannot lock the others out. A daemon capturing on
# the loopback of a namespace this script makes: one uid opens 1,000
# connections at once and keeps the ones it gets busy, while another
# uid's status, show and watch keep working; every refused connection
# gets an error naming the limit and the log names the uid once. A
# client that says nothing is closed after the idle time while an older
# watch, as quiet, stays open. Then a second daemon with a low global
# cap filled by three uids, and the option checks.
. "$(dirname "$0")/lib.sh"

t_need_bins
t_need_netns
t_need_cmd python3 curl setpriv
t_tmpdir
IDLE=3
FLOOD=64001
OTHER=64002
THIRD=64003

# A python3 the test uids may run: a root-only one (pyenv under /root)
# would not do.
USER_PY=
for p in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3)"; do
	if setpriv --reuid="$FLOOD" --regid="$(id -g nobody)" --clear-groups \
	    "$p" -c '' >/dev/null 2>&1; then
		USER_PY=$p
		break
	fi
done
[ -n "$USER_PY" ] || t_skip_all "no python3 that another uid may run"
URAW="$USER_PY $T_ROOT/tests/regress/rawclient.py"

# Runs the rest as uid $1 whose only group is the socket's ($SGID).
as_uid() {
	_u=$1
	shift
	setpriv --reuid="$_u" --regid="$SGID" --clear-groups "$@"
}

# Starts rawclient's hold scenario as uid $1 with $2 connections, its
# output in $T_TMP/hold-$1-$3 ($3: a name), released by $T_TMP/release-$3;
# returns once its counts are printed.
hold() {
	_out=$T_TMP/hold-$1-$3
	T_BG_LOG=$_out t_bg setpriv --reuid="$1" --regid="$SGID" \
	    --clear-groups $URAW "$SOCK" hold "$2" "$T_TMP/release-$3"
	HOLD_PID=$T_BG_PID
	t_wait_for 30 grep -q '^accepted=' "$_out"
}

# The count line and each refusal line of a hold, joined by "|".
hold_result() {
	grep -e '^accepted=' -e '^refusal' "$T_TMP/hold-$1-$2" | paste -sd'|'
}

# Ends the holds named $1 and checks each kept every connection it got.
release() {
	touch "$T_TMP/release-$1"
	for _f in "$T_TMP"/hold-*-"$1"; do
		t_wait_for 10 grep -q '^kept=' "$_f"
	done
}

# --- a capturing daemon, a web server and curl in one namespace ---
t_ns_add lim >/dev/null || t_skip_all "cannot create a namespace"
mkdir "$T_TMP/www" "$T_TMP/run"
echo "limits" >"$T_TMP/www/index.html"
(cd "$T_TMP/www" && t_bg ip netns exec "$T_NS_PREFIX-lim" \
    python3 -m http.server --bind 127.0.0.1 8080)
get() {
	t_ns lim curl -s -o /dev/null --max-time 5 "http://127.0.0.1:8080$1"
}
SOCK=$T_TMP/run/s
LOG=$T_TMP/capture.log
T_BG_LOG=$LOG t_bg ip netns exec "$T_NS_PREFIX-lim" \
    "$HTRACRD" --foreground --socket "$SOCK" --user nobody \
    --idle-timeout "$IDLE"
if ! t_wait_for 10 test -S "$SOCK"; then
	t_fail "$T_NAME-start" "daemon did not come up: $(tail -n 2 "$LOG")"
	t_exit
fi
SGID=$(stat -c %g "$SOCK")
ctl() {
	timeout 20 "$HTRACRCTL" --socket "$SOCK" "$@"
}
t_wait_for 5 ctl status
t_wait_for 10 get / || t_skip_all "the test web server does not answer"
t_check "$T_NAME-start" ctl start --interface lo --ports 8080
get /before-the-flood

# --- one uid floods: 1,000 connections, each answered ---
hold "$FLOOD" 1000 flood ||
    t_fail "$T_NAME-flood-done" "$(tail -n 3 "$T_TMP/hold-$FLOOD-flood")"
t_eq "$T_NAME-flood-per-uid-cap" \
    "accepted=16 refused=984 silent=0|refusal x984: code=7 too many connections from uid $FLOOD: at most 16 per user (--max-per-uid); close some and try again" \
    "$(hold_result "$FLOOD" flood)"

# --- meanwhile another uid works: watch, status, show ---
WATCH=$T_TMP/watch.out
as_uid "$OTHER" timeout 60 "$HTRACRCTL" --socket "$SOCK" watch \
    >"$WATCH" 2>&1 &
W=$!
t_atexit "t_kill $W"
# The watch is connected once root's status lists a client of OTHER.
watch_connected() {
	ctl status --json | python3 -c 'import json, sys
sys.exit(all(c["uid"] != int(sys.argv[1]) for c in json.load(sys.stdin)["clients"]))' "$OTHER"
}
t_wait_for 5 watch_connected
st=$(as_uid "$OTHER" "$HTRACRCTL" --socket "$SOCK" status --json 2>&1)
t_eq "$T_NAME-other-status" "running 16 2" "$(printf '%s' "$st" |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
u = [c["uid"] for c in d["clients"]]
print(d["state"], u.count(int(sys.argv[1])), u.count(int(sys.argv[2])))' \
    "$FLOOD" "$OTHER" 2>&1)"
out=$(as_uid "$OTHER" "$HTRACRCTL" --socket "$SOCK" show 2>&1)
printf '%s\n' "$out" | grep -q "/before-the-flood" &&
    t_pass "$T_NAME-other-show" ||
    t_fail "$T_NAME-other-show" "$(printf '%s' "$out" | head -n 2 | paste -sd'|')"
t_eq "$T_NAME-cap-logged-once" 1 \
    "$(grep -c "uid $FLOOD holds 16 connections, its limit (--max-per-uid)" "$LOG")"

# --- idle: a client that says nothing goes, the older watch stays ---
t_eq "$T_NAME-idle-closed" \
    "ok|code=7 idle for $IDLE s: closed (--idle-timeout)|eof" \
    "$(as_uid "$OTHER" $URAW "$SOCK" idle 2>&1 | paste -sd'|')"
grep -q "client uid $OTHER pid [0-9]* idle for $IDLE s; closed" "$LOG" && t_pass "$T_NAME-idle-logged" ||
    t_fail "$T_NAME-idle-logged" "no idle line in the log"
get /after-idle
t_wait_for 10 grep -q "/after-idle" "$WATCH" &&
    t_pass "$T_NAME-watch-outlives-idle" ||
    t_fail "$T_NAME-watch-outlives-idle" "$(tail -n 2 "$WATCH" | paste -sd'|')"
t_check "$T_NAME-stop" ctl stop
wait "$W"
t_eq "$T_NAME-watch-ends-cleanly" 0 "$?"

# The flood's busy connections were never idle; once they go, the log
# says the uid is below its cap, and it may connect again.
release flood
t_eq "$T_NAME-flood-kept-busy" "kept=16" \
    "$(grep '^kept=' "$T_TMP/hold-$FLOOD-flood")"
wait "$HOLD_PID"
t_wait_for 5 grep -q "uid $FLOOD below its limit again, after refusing 984" \
    "$LOG" && t_pass "$T_NAME-below-cap-logged" ||
    t_fail "$T_NAME-below-cap-logged" "no line for uid $FLOOD below its limit"
t_check "$T_NAME-flood-uid-again" as_uid "$FLOOD" "$HTRACRCTL" \
    --socket "$SOCK" status

# --- the global cap, reached by three uids of 16 within 40 ---
t_daemon_start --max-clients 40 --idle-timeout 0 ||
    { t_fail "$T_NAME-global-start" "$(tail -n 2 "$T_TMP/htracrd.log")"; t_exit; }
SOCK=$T_SOCK
SGID=$(stat -c %g "$SOCK")
LOG2=$T_TMP/htracrd.log
hold "$FLOOD" 20 global
hold "$OTHER" 20 global
hold "$THIRD" 20 global
per="code=7 too many connections from uid %s: at most 16 per user (--max-per-uid); close some and try again"
all="code=7 too many clients: the daemon serves at most 40 connections (--max-clients); try again later"
t_eq "$T_NAME-global-first-uid" \
    "accepted=16 refused=4 silent=0|refusal x4: $(printf "$per" "$FLOOD")" \
    "$(hold_result "$FLOOD" global)"
t_eq "$T_NAME-global-second-uid" \
    "accepted=16 refused=4 silent=0|refusal x4: $(printf "$per" "$OTHER")" \
    "$(hold_result "$OTHER" global)"
t_eq "$T_NAME-global-third-uid" "accepted=8 refused=12 silent=0|refusal x12: $all" \
    "$(hold_result "$THIRD" global)"
out=$(t_ctl status 2>&1)
t_eq "$T_NAME-global-refuses-root" "htracrctl: htracrd: limit: ${all#code=7 }" \
    "$out"
t_eq "$T_NAME-global-logged-once" 1 \
    "$(grep -c "40 connections open, the limit (--max-clients)" "$LOG2")"
release global
t_wait_for 5 grep -q "below --max-clients again, after refusing 13" "$LOG2" &&
    t_pass "$T_NAME-global-below-logged" ||
    t_fail "$T_NAME-global-below-logged" "$(grep -e 'max-clients' "$LOG2" | tail -n 1)"
t_check "$T_NAME-global-serves-again" t_ctl status
t_daemon_stop

# --- a uid at its limit that closes and connects again at once ---
# Its new connection reaches the analyzer beside the ends of file of
# the ones it closed (the analyzer is stopped meanwhile), and often
# before them: those are let go as gone, not counted against the limit.
t_daemon_start --max-per-uid 2 --max-clients 4
APID=$(pgrep -P "$T_DAEMON_PID" | head -n 1)
t_eq "$T_NAME-reconnect-at-limit" "late: 16 of 16 let in" \
    "$(timeout 60 python3 "$T_ROOT/tests/regress/rawclient.py" "$T_SOCK" \
    reconnect 2 "$APID" 16 2>&1)"
t_check "$T_NAME-reconnect-serves" t_ctl status
# Stopped for two seconds (a debugger, SIGSTOP) and continued, the
# analyzer is not taken for one that ended.
kill -STOP "$APID"
sleep 2
kill -CONT "$APID"
t_check "$T_NAME-stopped-analyzer-kept" t_ctl status
t_daemon_stop

# --- the options: checked, and the descriptors they need ---
out=$("$HTRACRD" --max-clients 10 --max-per-uid 11 2>&1)
t_eq "$T_NAME-per-uid-above-all" \
    "2 htracrd: --max-per-uid 11 is above --max-clients 10" "$? $out"
out=$("$HTRACRD" --idle-timeout -1 2>&1)
t_eq "$T_NAME-idle-negative" 2 "$?"
out=$("$HTRACRD" --nice -21 2>&1)
t_eq "$T_NAME-nice-range" \
    "2 htracrd: --nice -21: not a number from -20 to 19" "$? $out"
mkdir "$T_TMP/nofile"
chown nobody "$T_TMP/nofile"
out=$(sh -c 'ulimit -n 200 && exec "$@"' sh setpriv --reuid=nobody \
    --regid="$(id -g nobody)" --clear-groups "$HTRACRD" --foreground \
    --no-capture --socket "$T_TMP/nofile/s" --max-clients 500 2>&1)
rc=$?
case "$rc $out" in
"1 "*"--max-clients 500 needs 532 open files, above the hard limit of 200"*LimitNOFILE*)
	t_pass "$T_NAME-nofile-checked" ;;
*)	t_fail "$T_NAME-nofile-checked" "exit $rc: $out" ;;
esac
out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    "$HTRACRD" --foreground --no-capture --socket "$T_TMP/nofile/nice.sock" \
    --nice -5 2>&1)
rc=$?
case "$rc $out" in
"1 "*"--nice -5: setpriority (a negative value needs root or CAP_SYS_NICE)"*)
	t_pass "$T_NAME-nice-needs-privilege" ;;
*)	t_fail "$T_NAME-nice-needs-privilege" "exit $rc: $out" ;;
esac

t_exit
