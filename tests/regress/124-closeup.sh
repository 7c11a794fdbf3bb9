#!/bin/sh
# 124-closeup: "htracrctl show --txn" and "--conn" of a large session.
# A session of 18 connections each with 30,000 packets has tens of
# megabytes of packet records, more than one detail chunk may carry:
# the close-ups must fetch only the items they show and print the
# transaction, its explanation and every packet of the connection;
# ids that do not exist are errors naming them. A response body kept
# by reference into frames the memory budget has evicted since must be
# reported as evicted, not left out silently. Needs python3.
. "$(dirname "$0")/lib.sh"

t_need_cmd python3
t_need_bins
t_tmpdir
t_daemon_start --budget 24 || {
	t_fail "$T_NAME/daemon" "$(tail -n 1 "$T_TMP/htracrd.log")"
	t_exit
}
GEN="python3 $T_ROOT/tests/regress/closeup.py"
CONNS=18
SEGS=30000

ctl() {
	t_ctl "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	echo $? >"$T_TMP/rc"
}

# NAME WANT_RC PATTERN [FILE]: the last ctl's status and a line it wrote
# (stdout unless FILE says err).
expect() {
	_rc=$(cat "$T_TMP/rc")
	if [ "$_rc" != "$2" ]; then
		t_fail "$1" "exit $_rc, want $2: $(head -n 1 "$T_TMP/err")"
	elif ! grep -q -- "$3" "$T_TMP/${4:-out}"; then
		t_fail "$1" "no line with '$3' in std${4:-out}"
	else
		t_pass "$1"
	fi
}

load() {
	t_ctl load "$1" 2>&1 | sed -n 's/^session \([0-9]*\):.*/\1/p'
}

$GEN many "$T_TMP/many.pcap" "$CONNS" "$SEGS"
BIG=$(load "$T_TMP/many.pcap")
rm -f "$T_TMP/many.pcap"
if [ -z "$BIG" ]; then
	t_fail "$T_NAME/load-many" "no session"
	t_exit
fi

ctl show --txn 5 "$BIG"
expect "$T_NAME/txn" 0 "^transaction 5 on connection 5, index 0"
expect "$T_NAME/txn-request" 0 "^request .*: GET /conn4 HTTP/1.1"
expect "$T_NAME/txn-response" 0 "^response .*: HTTP/1.1 200 OK"
expect "$T_NAME/txn-why" 0 "^why "

# Every packet of connection 7: handshake, request, head, the body's
# segments and the close.
ctl show --conn 7 "$BIG"
expect "$T_NAME/conn" 0 "^connection 7 "
t_eq "$T_NAME/conn-packets" "$((SEGS + 8))" \
    "$(grep -c '^ *[0-9][0-9]* .* \(syn\|syn-ack\|ack\|push\|data\|fin\)$' \
    "$T_TMP/out")"

ctl show --txn $((CONNS + 1)) "$BIG"
expect "$T_NAME/no-such-txn" 1 "no transaction $((CONNS + 1))" err
ctl show --conn $((CONNS + 1)) "$BIG"
expect "$T_NAME/no-such-conn" 1 "no connection $((CONNS + 1))" err

# 32 MB after the first body, in a budget of 24 MiB.
$GEN evict "$T_TMP/evict.pcap" 32000000
EV=$(load "$T_TMP/evict.pcap")
rm -f "$T_TMP/evict.pcap"
if [ -z "$EV" ]; then
	t_fail "$T_NAME/load-evict" "no session"
	t_exit
fi
ctl show --txn 1 "$EV"
expect "$T_NAME/evicted-view" 0 "^ *(body evicted: "
expect "$T_NAME/evicted-daemon" 0 "body of transaction 1 is gone" err
# The last body's frames are still there.
ctl show --txn 3 "$EV"
expect "$T_NAME/kept" 0 "^  body: 140 bytes"
t_exit
