#!/bin/sh
# 120-idle: 10,000 keep-alive connections open at once and idle
# (tests/regress/idleconns.py: one request each, then quiet), to nginx,
# captured live by htracrd on a veth while a second client queries it
# and curl makes ordinary requests before, while they idle and after
# they close. The session must hold every connection and transaction
# the client made, each connection seen to its close, the counters must
# say nothing was dropped, the ordinary requests must be recorded
# exactly as curl logged them, and the analyzer's peak RSS must stay
# within the budget. Needs root and ip netns.
#
#	HTRACR_IDLE_CONNS=N	connections (default 10,000, or 2,000 under
#				SANITIZE=1)
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/regress/bigload.sh"

t_need_netns
t_need_cmd nginx curl python3
t_need_bins
t_tmpdir

if [ "${SANITIZE:-}" = 1 ]; then
	N=${HTRACR_IDLE_CONNS:-2000}
else
	N=${HTRACR_IDLE_CONNS:-10000}
fi
[ "$(ulimit -n)" -gt $((N + 100)) ] ||
    t_skip_all "the open files limit ($(ulimit -n)) is below $N connections"


bl_setup 10.233.20.1 10.233.20.2 <<EOF
		location /i { return 200 "idle\n"; }
EOF
bl_queries_start
bl_ordinary before
T_BG_LOG=$T_TMP/idle.out t_bg ip netns exec "$T_NS_PREFIX-cli" \
    timeout 80 python3 "$T_ROOT/tests/regress/idleconns.py" "$BL_SRV" 80 \
    "$N" "$T_TMP/release"
IDLE=$T_BG_PID
if ! t_wait_for 60 grep -q '^idle$' "$T_TMP/idle.out"; then
	t_fail "$T_NAME/client" "the connections did not open: $(tail -n 1 "$T_TMP/idle.out")"
	t_exit
fi
t_eq "$T_NAME/client" "opened $N answered $N status200 $N" \
    "$(grep '^opened ' "$T_TMP/idle.out")"
bl_ordinary idle
# While they idle: the session holds every one of them, not yet closed.
bl_settle
bl_ctl status --json >"$T_TMP/status.json"
t_eq "$T_NAME/while-idle" "$((N + 2))" \
    "$(t_json "$T_TMP/status.json" 'd["session"]["connections"]')"
touch "$T_TMP/release"
wait "$IDLE"
bl_ordinary after
bl_stop
bl_queries_stop "$T_NAME/second-client"

t_eq "$T_NAME/connections" "$((N + 3))" "$(bl_counter connections)"
t_eq "$T_NAME/transactions" "$((N + 24))" "$(bl_counter transactions)"
for k in kernel_drops forward_drops dropped_transactions \
    dropped_connections parse_errors gaps; do
	t_eq "$T_NAME/counters/$k" 0 "$(bl_counter "$k")"
done

bl_dump
t_eq "$T_NAME/per-connection" "$N 1|3 8" \
    "$(awk '{ print $1 }' "$T_TMP/perconn" | sort -n | uniq -c |
    awk '{ print $1, $2 }' | paste -sd'|')"
# Every transaction's connection was seen to its end: closed, or reset
# when a close found bytes unread.
t_eq "$T_NAME/closed" "$((N + 24))" \
    "$(grep -e '"closed"' -e '"reset"' "$T_TMP/states" |
    awk '{ n += $1 } END { print n + 0 }')"
bl_ordinary_check "$T_NAME/ordinary"
bl_rss_check "$T_NAME/rss"
t_exit
