#!/bin/sh
# 030-capture: live capture with privilege separation, as root, in
# network namespaces this script creates. A web server in one namespace,
# htracrd and curl in another: start, traffic, a ports change, stop
# --dump, every request with its status, tshark reading the dump; the
# privileges of both processes; the test hooks; who may use the socket;
# a bad socket directory; bad control input changing nothing; a client
# killed mid-stream; two users at once; the analyzer killed.
. "$(dirname "$0")/lib.sh"

t_need_bins
t_need_netns
t_need_cmd python3 curl tshark setpriv
t_tmpdir
RAW="python3 $T_ROOT/tests/regress/rawclient.py"

if ! id htracr >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin htracr ||
	    t_skip_all "cannot create user htracr"
fi
HGID=$(getent group htracr | cut -d: -f3)
NOGROUP=$(id -gn nobody)

status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

analyzer_pid() {
	pgrep -P "$1" | head -n 1
}

# Runs htracrctl as nobody: outside group htracr, or (with "member")
# in it as a supplementary group.
as_nobody() {
	if [ "$1" = member ]; then
		shift
		setpriv --reuid=nobody --regid="$NOGROUP" --groups="$HGID" "$@"
	else
		setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$@"
	fi
}

# The socket lives where only root and group htracr can reach it.
RUN=$T_TMP/run
mkdir "$RUN"
chown root:htracr "$RUN"
chmod 0750 "$RUN"
SOCK=$RUN/s
ctl() {
	timeout 20 "$HTRACRCTL" --socket "$SOCK" "$@"
}

t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
t_veth srv 10.77.3.1/24 cli 10.77.3.2/24 || t_skip_all "cannot create a veth pair"
SRVDIR=$T_TMP/www
mkdir "$SRVDIR"
echo "hello from htracr's test" >"$SRVDIR/index.html"
for port in 8080 8081; do
	(cd "$SRVDIR" && t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    python3 -m http.server --bind 10.77.3.1 "$port")
done
get() {
	# $1: port, $2: path
	t_ns cli curl -s -o /dev/null --max-time 5 "http://10.77.3.1:$1$2"
}

T_BG_LOG=$T_TMP/htracrd.log
t_bg ip netns exec "$T_NS_PREFIX-cli" "$HTRACRD" --foreground \
    --socket "$SOCK" --user htracr --ring-mib 32 --nice -3 -v
D=$T_BG_PID
T_BG_LOG=
if ! t_wait_for 10 test -S "$SOCK"; then
	t_fail "$T_NAME-start" "daemon did not come up: $(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi
t_wait_for 5 ctl status
A=$(analyzer_pid "$D")
t_wait_for 10 get 8080 / || t_skip_all "the test web server does not answer"

# --- socket and both processes' privileges ---
t_eq "$T_NAME-socket-mode" "660 root:htracr" "$(stat -c '%a %U:%G' "$SOCK")"
for who in capture analyzer; do
	p=$D
	[ "$who" = analyzer ] && p=$A
	ids="$(status_field "$p" Uid) $(status_field "$p" Gid)"
	case " $ids " in
	*[!0-9]0[!0-9]*) t_fail "$T_NAME-$who-no-root" "uid/gid 0 left: $ids" ;;
	*) t_pass "$T_NAME-$who-no-root" ;;
	esac
	t_eq "$T_NAME-$who-nonewprivs" 1 "$(status_field "$p" NoNewPrivs)"
	t_eq "$T_NAME-$who-seccomp" 2 "$(status_field "$p" Seccomp)"
	t_eq "$T_NAME-$who-no-supplementary-groups" "" "$(status_field "$p" Groups)"
	# --nice: field 19 of stat, counted after the command's ")".
	t_eq "$T_NAME-$who-nice" -3 \
	    "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f17)"
done
for f in CapPrm CapEff CapAmb CapInh; do
	t_eq "$T_NAME-analyzer-$f" 0000000000000000 "$(status_field "$A" "$f")"
done
t_eq "$T_NAME-capture-CapPrm" 0000000000002000 "$(status_field "$D" CapPrm)"
t_eq "$T_NAME-capture-CapEff-at-rest" 0000000000000000 "$(status_field "$D" CapEff)"
t_eq "$T_NAME-capture-CapAmb" 0000000000000000 "$(status_field "$D" CapAmb)"
t_eq "$T_NAME-capture-CapBnd" 0000000000002000 "$(status_field "$D" CapBnd)"

# --- who may talk to it ---
out=$(as_nobody "$HTRACRCTL" --socket "$SOCK" status 2>&1)
if [ $? -ne 0 ] && printf '%s' "$out" | grep -qi "permission denied"; then
	t_pass "$T_NAME-outsider-denied"
else
	t_fail "$T_NAME-outsider-denied" "$(printf '%s' "$out" | head -n 1)"
fi
NOBODY_UID=$(id -u nobody)
t_check "$T_NAME-member-allowed" as_nobody member "$HTRACRCTL" --socket "$SOCK" status
t_wait_for 2 grep -q "client connected: uid $NOBODY_UID pid [0-9]" "$T_TMP/htracrd.log" &&
    t_pass "$T_NAME-member-logged" ||
    t_fail "$T_NAME-member-logged" "no 'client connected: uid $NOBODY_UID' in the log"

# --- bad control input is refused and changes nothing ---
codes() {
	printf '%s\n' "$1" | cut -d' ' -f1 | paste -sd'|'
}
t_eq "$T_NAME-stop-while-stopped" "ok|code=8" "$(codes "$($RAW "$SOCK" session 301 2>&1)")"
t_eq "$T_NAME-ports-while-stopped" "ok|code=8" "$(codes "$($RAW "$SOCK" portsop 80 2>&1)")"
t_eq "$T_NAME-port-0" "ok|code=4" "$(codes "$($RAW "$SOCK" ports any 0 2>&1)")"
t_eq "$T_NAME-port-70000" "ok|code=4" "$(codes "$($RAW "$SOCK" ports any 70000 2>&1)")"
t_eq "$T_NAME-65-ports" "ok|code=4" "$(codes "$($RAW "$SOCK" ports any $(seq 1 65) 2>&1)")"
t_eq "$T_NAME-unknown-interface" "ok|code=4" "$(codes "$($RAW "$SOCK" ports nosuch0 80 2>&1)")"
t_eq "$T_NAME-long-interface" "ok|code=4" "$(codes "$($RAW "$SOCK" ports abcdefghijklmnopq 80 2>&1)")"
t_eq "$T_NAME-still-idle" idle "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"

# --- live capture, end to end ---
t_check "$T_NAME-start" ctl start --ports 8080
WATCH=$T_TMP/watch.out
as_nobody member timeout 60 "$HTRACRCTL" --socket "$SOCK" watch --json >"$WATCH" 2>&1 &
W=$!
t_wait_for 5 sh -c "'$HTRACRCTL' --socket '$SOCK' status --json | grep -q '\"clients\"'"
sleep 0.3
get 8080 / && get 8080 /index.html && get 8080 /
get 8081 /not-captured-yet

out=$($RAW "$SOCK" ports any 80 2>&1)
t_eq "$T_NAME-start-while-running" "ok|code=6" "$(codes "$out")"
printf '%s' "$out" | grep -q "uid 0" && t_pass "$T_NAME-busy-names-uid" ||
    t_fail "$T_NAME-busy-names-uid" "$out"
t_eq "$T_NAME-bad-ports-change" "ok|code=4" "$(codes "$($RAW "$SOCK" portsop 0 2>&1)")"
t_eq "$T_NAME-65-ports-change" "ok|code=4" "$(codes "$($RAW "$SOCK" portsop $(seq 1 65) 2>&1)")"
t_eq "$T_NAME-ports-unchanged" 8080 "$(ctl status --json | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ports"])))')"

t_check "$T_NAME-ports-change" ctl ports 8080,8081
get 8081 / && get 8081 /index.html
get 8080 /missing-page

# Another user watches status and the running session.
st=$(as_nobody member "$HTRACRCTL" --socket "$SOCK" status --json 2>&1)
t_eq "$T_NAME-status-other-user" "running 0 8080,8081" "$(printf '%s' "$st" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["started_by"], ",".join(map(str, d["ports"])))' 2>&1)"
t_check "$T_NAME-show-other-user" as_nobody member "$HTRACRCTL" --socket "$SOCK" show

# A client killed in the middle of a stream leaves the daemon serving.
$RAW "$SOCK" vanish 102 >/dev/null 2>&1
$RAW "$SOCK" vanish 101 >/dev/null 2>&1
t_check "$T_NAME-serving-after-vanish" ctl status

# Dropping a port: its traffic stops appearing, the other's goes on.
t_check "$T_NAME-ports-drop-8080" ctl ports 8081
get 8080 /after-8080-dropped
get 8081 /only-8081

sleep 0.5
t_check "$T_NAME-stop-dump" ctl stop --dump "$T_TMP/live.pcap"
ctl show --json >"$T_TMP/live.json" 2>&1
got=$(t_json "$T_TMP/live.json" '" ".join("%s:%s%s=%s" % (
    t["connection"] and [c for c in d["connections"] if c["id"] == t["connection"]][0]["server_port"],
    t["request"]["method"], t["request"]["target"],
    t["response"] and t["response"]["status"]) for t in d["transactions"])' 2>&1)
t_eq "$T_NAME-transactions" \
    "8080:GET/=200 8080:GET/index.html=200 8080:GET/=200 8081:GET/=200 8081:GET/index.html=200 8080:GET/missing-page=404 8081:GET/only-8081=404" \
    "$got"

frames=$(t_json "$T_TMP/live.json" 'd["session"]["counters"]["frames"]' 2>&1)
tframes=$(tshark -r "$T_TMP/live.pcap" 2>/dev/null | wc -l)
t_eq "$T_NAME-dump-frames-match-tshark" "$frames" "$tframes"
treqs=$(tshark -r "$T_TMP/live.pcap" -d tcp.port==8081,http -Y http.request \
    -T fields -e http.request.uri 2>/dev/null | paste -sd' ')
t_eq "$T_NAME-dump-requests-tshark" "/ /index.html / / /index.html /missing-page /only-8081" "$treqs"

wait "$W"
nwatch=$(grep -c '"request"' "$WATCH")
t_eq "$T_NAME-watch-saw-every-transaction" 7 "$nwatch"

# --- interface any: loopback frames are kept once, not twice ---
(cd "$SRVDIR" && t_bg ip netns exec "$T_NS_PREFIX-cli" \
    python3 -m http.server --bind 127.0.0.1 8090)
t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 http://127.0.0.1:8090/
t_check "$T_NAME-start-any" ctl start --ports 8090 --interface any
t_ns cli curl -s -o /dev/null --max-time 5 http://127.0.0.1:8090/
t_ns cli curl -s -o /dev/null --max-time 5 http://127.0.0.1:8090/index.html
sleep 0.5
ctl stop >/dev/null 2>&1
ctl show --json >"$T_TMP/lo.json" 2>&1
t_eq "$T_NAME-any-loopback-transactions" 2 \
    "$(t_json "$T_TMP/lo.json" 'len(d["transactions"])' 2>&1)"
t_eq "$T_NAME-any-loopback-no-duplicates" 0 \
    "$(t_json "$T_TMP/lo.json" 'sum(c["c2s"]["retransmits"] + c["s2c"]["retransmits"] for c in d["connections"])' 2>&1)"

# --- the analyzer killed mid-capture: the daemon exits non-zero, saying
# why, and leaves the interface out of promiscuous mode ---
promisc() {
	t_ns cli ip -d link show "$T_VETH_B" | grep -o 'promiscuity [0-9]*'
}
t_check "$T_NAME-start-before-kill" ctl start --ports 8080 \
    --interface "$T_VETH_B"
t_eq "$T_NAME-not-promiscuous-while-capturing" "promiscuity 0" "$(promisc)"
kill -KILL "$A"
if t_wait_for 2 sh -c "! kill -0 $D 2>/dev/null || grep -q 'analyzer.*SIGKILL' '$T_TMP/htracrd.log'"; then
	wait "$D"
	rc=$?
	[ "$rc" -ne 0 ] && t_pass "$T_NAME-analyzer-killed" ||
	    t_fail "$T_NAME-analyzer-killed" "daemon exited $rc"
	t_eq "$T_NAME-not-promiscuous-after-kill" "promiscuity 0" "$(promisc)"
else
	t_fail "$T_NAME-analyzer-killed" "daemon still running"
fi

# --- hooks: no way back to root or other capabilities, in both ---
HOOKRUN=$T_TMP/hook
mkdir "$HOOKRUN"
HTRACR_TEST_PRIVS=1 "$HTRACRD" --foreground --socket "$HOOKRUN/s" \
    >"$T_TMP/hook.log" 2>&1 &
P=$!
t_atexit "t_kill $P"
t_wait_for 5 "$HTRACRCTL" --socket "$HOOKRUN/s" status
# Each process logs its hook as it drops: wait for both lines.
t_wait_for 5 sh -c "[ \$(grep -c '^[a-z]*: test: setuid' '$T_TMP/hook.log') -ge 2 ]"
t_kill "$P"
for proc in analyzer capture; do
	if grep -q "^$proc: test: setuid(0) failed, setgid(0) failed, raising CAP_SYS_ADMIN failed" \
	    "$T_TMP/hook.log"; then
		t_pass "$T_NAME-no-way-back-$proc"
	else
		t_fail "$T_NAME-no-way-back-$proc" "$(grep "^$proc: test" "$T_TMP/hook.log")"
	fi
done
for sc in openat socket execve; do
	mkdir "$T_TMP/sys-$sc"
	HTRACR_TEST_SYSCALL=$sc timeout 10 "$HTRACRD" --foreground \
	    --socket "$T_TMP/sys-$sc/s" >"$T_TMP/sys-$sc.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q SIGSYS "$T_TMP/sys-$sc.log"; then
		t_pass "$T_NAME-seccomp-$sc"
	else
		t_fail "$T_NAME-seccomp-$sc" "exit $rc: $(tail -n 1 "$T_TMP/sys-$sc.log")"
	fi
done

# --- the capture process killed: the analyzer goes too ---
mkdir "$T_TMP/capkill"
"$HTRACRD" --foreground --socket "$T_TMP/capkill/s" >"$T_TMP/capkill.log" 2>&1 &
P=$!
t_atexit "t_kill $P"
t_wait_for 5 "$HTRACRCTL" --socket "$T_TMP/capkill/s" status
CA=$(analyzer_pid "$P")
kill -KILL "$P"
wait "$P" 2>/dev/null
# Gone, or a zombie that whoever adopted it has not reaped yet: PID 1
# reaps when it gets to it, and under load that can take a while.
if [ -n "$CA" ] && t_wait_for 10 sh -c \
    "! [ -e /proc/$CA ] || grep -q '^[0-9]* (.*) Z ' /proc/$CA/stat"; then
	t_pass "$T_NAME-capture-killed"
else
	t_fail "$T_NAME-capture-killed" "analyzer ${CA:-?} still running"
fi

# --- a socket directory that is not safe makes start-up fail ---
refused() {
	# $1: name, $2: socket path, $3: expected words in the message
	timeout 10 "$HTRACRD" --foreground --socket "$2" >"$T_TMP/$1.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q "$3" "$T_TMP/$1.log"; then
		t_pass "$T_NAME-$1"
	else
		t_fail "$T_NAME-$1" "exit $rc: $(tail -n 1 "$T_TMP/$1.log")"
	fi
}
ln -s "$RUN" "$T_TMP/linkdir"
refused symlinked-dir "$T_TMP/linkdir/s" "symbolic link"
mkdir "$T_TMP/foreign"
chown nobody "$T_TMP/foreign"
refused foreign-dir "$T_TMP/foreign/s" "owned by uid"
mkdir -m 0755 "$T_TMP/sl"
ln -s /tmp/htracr-nowhere "$T_TMP/sl/s"
refused symlinked-socket "$T_TMP/sl/s" "symbolic link"
# The directories above count too: one others may write to (not
# sticky), or one another user owns, could have ours swapped.
mkdir -m 0777 "$T_TMP/open"
chmod 0777 "$T_TMP/open"
mkdir -m 0700 "$T_TMP/open/inner"
refused open-parent "$T_TMP/open/inner/s" "above socket directory.*writable"
mkdir "$T_TMP/theirs"
chown nobody "$T_TMP/theirs"
mkdir -m 0700 "$T_TMP/theirs/inner"
refused foreign-parent "$T_TMP/theirs/inner/s" "above socket directory.*owned"
ln -s "$T_TMP/open" "$T_TMP/via"
refused open-parent-via-link "$T_TMP/via/inner/s" "$T_TMP/open, above"
# ... while a sticky one, as /tmp is, is fine.
mkdir -m 1777 "$T_TMP/sticky"
chmod 1777 "$T_TMP/sticky"
mkdir -m 0700 "$T_TMP/sticky/inner"
timeout 10 "$HTRACRD" --foreground --no-capture \
    --socket "$T_TMP/sticky/inner/s" >"$T_TMP/sticky.log" 2>&1 &
STICKY=$!
t_wait_for 5 test -S "$T_TMP/sticky/inner/s" &&
    t_pass "$T_NAME-sticky-parent" ||
    t_fail "$T_NAME-sticky-parent" "$(tail -n 1 "$T_TMP/sticky.log")"
kill "$STICKY" 2>/dev/null
wait "$STICKY" 2>/dev/null

t_exit
