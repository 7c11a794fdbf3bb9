#!/bin/sh
# 115-overload: an analyzer that cannot keep up with the capture.
# In a test build of htracrd (make build/htracrd-testhooks),
# HTRACR_TEST_SLOW_LINK makes every read of frames from the capture
# process cost 150 ms of CPU more (longer than the capture's 100 ms
# ring block timeout, so the capture process always has a batch ready
# as a read ends), and an ordinary client keeps traffic flowing:
# frames are always waiting on the link. Frames come before
# clients, but not for ever: while the backlog lasts, the other user's
# status is answered and "stop" ends the capture, both before the
# client is done. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_testhooks
HTRACR_TEST_SLOW_LINK=150000
export HTRACR_TEST_SLOW_LINK
h_setup 10.77.115
unset HTRACR_TEST_SLOW_LINK
# Far more than the checks below need; the client is stopped after them
# (and h_ordinary's timeout bounds it).
h_ordinary 100000 0

# Served while the client still runs: the answer came during the load.
during() {
	_t_alive "$H_CLIENT" && [ -s "$T_TMP/client.log" ]
}

sleep 2
if ! during; then
	t_fail "$T_NAME-load" "the client is not running: $(head -c 200 "$T_TMP/client.err")"
	t_exit
fi
served=0
for i in 1 2 3; do
	if h_as_other timeout 60 "$HTRACRCTL" --socket "$H_SOCK" status \
	    --json >"$T_TMP/status.$i" 2>&1 &&
	    grep -q '"state"' "$T_TMP/status.$i" && during; then
		served=$((served + 1))
	fi
done
t_eq "$T_NAME-status-during-load" 3 "$served"
if h_ctl stop --dump "$T_TMP/live.pcap" >"$T_TMP/stop.out" 2>&1 && during; then
	t_pass "$T_NAME-stop-during-load"
else
	t_fail "$T_NAME-stop-during-load" "$(head -n 1 "$T_TMP/stop.out")"
fi
kill "$H_CLIENT" 2>/dev/null
wait "$H_CLIENT" 2>/dev/null
touch "$T_TMP/querier.stop"
wait "$H_QUERIER"

if _t_alive "$H_DAEMON" && _t_alive "$ANALYZER"; then
	t_pass "$T_NAME-daemon-alive"
else
	t_fail "$T_NAME-daemon-alive" "htracrd or its analyzer died: $(tail -n 3 "$T_TMP/htracrd.log")"
fi
# What was analyzed is there, and what could not be kept is counted.
if h_ctl show --json >"$T_TMP/show.json" 2>"$T_TMP/show.err"; then
	h_tables
	n=$(wc -l <"$T_TMP/txns.tsv")
	lost=$(($(h_counter kernel_drops) + $(h_counter forward_drops)))
	echo "# $T_NAME: client requests $(wc -l <"$T_TMP/client.log")," \
	    "transactions $n, frames lost and counted $lost," \
	    "querier rounds $(grep -c '^ok$' "$T_TMP/querier.log")"
	if [ "$n" -gt 0 ]; then
		t_pass "$T_NAME-session-shown"
	else
		t_fail "$T_NAME-session-shown" "no transaction"
	fi
else
	t_fail "$T_NAME-session-shown" "$(head -n 1 "$T_TMP/show.err")"
fi
t_check "$T_NAME-pcap-written" test -s "$T_TMP/live.pcap"
t_exit
