#!/bin/sh
# 125-handfile: a capture file handed over as an open descriptor
# (SCM_RIGHTS with load_begin), which the private daemon of "htracrctl
# analyze" reads itself (--take-files). The session it makes must be
# the one the same records make sent through the socket; a file that
# ends before the length the client saw ends the load with the frames
# before it, said so; a pipe, or no descriptor, is an error. A daemon
# without --take-files, as the shared one runs, refuses the load and
# keeps none of the descriptors a client sends it; with it, a client
# holds one at most. The client is served again once the file is read.
# Needs python3 and ../shared/corpus.
. "$(dirname "$0")/lib.sh"

t_need_cmd python3
t_need_bins
t_need_shared corpus
t_tmpdir
RAW="python3 $T_ROOT/tests/regress/rawclient.py"
F=$T_SHARED/zeek-pipelined-requests.pcap
BIG=$T_SHARED/zeek-bro.org.pcap

# Descriptors the analyzer (the daemon's child) holds.
fds() {
	ls "/proc/$(pgrep -P "$1" | head -n 1)/fd" | wc -l
}

# NAME WANT: one of the lines rawclient printed is WANT.
has() {
	if [ -n "$2" ] && grep -qxF -- "$2" "$T_TMP/out"; then
		t_pass "$1"
	else
		t_fail "$1" "no '$2' in: $(paste -sd'|' "$T_TMP/out")"
	fi
}

# NAME [OPTION]: a private daemon, serving; its analyzer's descriptors
# then are in $before.
daemon() {
	_name=$1
	shift
	t_daemon_start "$@" || {
		t_fail "$T_NAME/$_name" "$(tail -n 1 "$T_TMP/htracrd.log")"
		t_exit
	}
	t_wait_for 5 t_ctl status >/dev/null
	before=$(fds "$T_DAEMON_PID")
}

# --- the shared daemon's way: no files -------------------------------------
daemon daemon
$RAW "$T_SOCK" hand file "$F" >"$T_TMP/out" 2>&1
has "$T_NAME/refused" "code=4 this htracrd takes no files (--take-files); send the records"
$RAW "$T_SOCK" hand flood 50 >"$T_TMP/out" 2>&1
has "$T_NAME/refused-flood-served" "after flood: ok"
t_eq "$T_NAME/refused-keeps-no-descriptor" "$before" "$(fds "$T_DAEMON_PID")"
# What the same records make sent through the socket, for comparison.
t_ctl --json load "$F" >"$T_TMP/load.json" 2>"$T_TMP/err"
want=$(t_json "$T_TMP/load.json" '"frames=%d transactions=%d" % (d["counters"]["frames"], d["transactions"])')
t_ctl --json load "$BIG" >"$T_TMP/load.json" 2>"$T_TMP/err"
want_big=$(t_json "$T_TMP/load.json" '"frames=%d transactions=%d" % (d["counters"]["frames"], d["transactions"])')
t_daemon_stop

# --- a daemon that takes files --------------------------------------------
daemon daemon-files --take-files
$RAW "$T_SOCK" hand file "$F" >"$T_TMP/out" 2>&1
has "$T_NAME/file-session" "$want"
has "$T_NAME/file-served-after" "after: ok"
$RAW "$T_SOCK" hand file "$BIG" >"$T_TMP/out" 2>&1
has "$T_NAME/file-session-big" "$want_big"
# The client said 100 bytes more than the file holds: the frames
# before the end are kept, and counted in the cut.
frames=${want%% *}
$RAW "$T_SOCK" hand file "$F" 100 >"$T_TMP/out" 2>&1
has "$T_NAME/file-shorter" "cut=the file became shorter while it was read after ${frames#frames=}"
has "$T_NAME/file-shorter-frames-kept" "$want"
has "$T_NAME/file-shorter-served-after" "after: ok"
$RAW "$T_SOCK" hand pipe >"$T_TMP/out" 2>&1
has "$T_NAME/pipe-refused" "code=4 the file handed over is not a regular file, or offset and length do not fit one"
$RAW "$T_SOCK" hand none >"$T_TMP/out" 2>&1
has "$T_NAME/none-refused" "code=4 no file descriptor came with load_begin"
$RAW "$T_SOCK" hand flood 50 >"$T_TMP/out" 2>&1
has "$T_NAME/flood-served" "after flood: ok"
# While connected: one file kept of the ten sent, none more while a load
# holds one, none after it; what was sent behind load_end waits for it.
$RAW "$T_SOCK" hand hold "$(pgrep -P "$T_DAEMON_PID" | head -n 1)" "$F" \
    >"$T_TMP/out" 2>&1
has "$T_NAME/hold-idle-one" "idle: +1"
has "$T_NAME/hold-loading-one" "loading: +1"
has "$T_NAME/hold-after-none" "after: +0"
has "$T_NAME/hold-order" "order: load_end first"
# 64 GiB of nothing (sparse: no disk), after a pcap header: a read that
# lasts while another client asks, and stops when its client leaves.
python3 -c '
import os, struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.truncate(64 << 30)' "$T_TMP/long.pcap"
$RAW "$T_SOCK" hand long "$T_TMP/long.pcap" "$T_SOCK" >"$T_TMP/out" 2>&1
has "$T_NAME/long-other-served" "other while reading: ok"
has "$T_NAME/long-left-aborted" "left mid-read: aborted"
# Every client above has gone: nothing it handed over is left open.
t_wait_for 5 test "$(fds "$T_DAEMON_PID")" -eq "$before"
t_eq "$T_NAME/no-descriptor-left" "$before" "$(fds "$T_DAEMON_PID")"
t_daemon_stop

# --- htracrctl analyze hands its file over --------------------------------
"$HTRACRCTL" analyze -v --json "$F" >"$T_TMP/an.json" 2>"$T_TMP/an.err"
t_check "$T_NAME/analyze-hands-over" grep -q "(pcap records, its file)" \
    "$T_TMP/an.err"
got=$(t_json "$T_TMP/an.json" '"frames=%d transactions=%d" % (d["session"]["counters"]["frames"], d["session"]["transactions"])')
t_eq "$T_NAME/analyze-session" "$want" "$got"

t_exit
