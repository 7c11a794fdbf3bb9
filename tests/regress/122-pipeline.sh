#!/bin/sh
# 122-pipeline: a million tiny pipelined requests (tests/regress/
# pipeflood.py over four keep-alive connections, up to 2,000 requests
# ahead of their answers, 50,000 a second) to nginx answering each, captured live by
# htracrd on a veth while a second client queries it and curl makes
# ordinary requests before, during and after. The client's own count of
# requests and answers per connection must be what the session holds,
# the counters must say nothing was dropped, the ordinary requests must
# be recorded exactly as curl logged them, and the analyzer's peak RSS
# must stay within the budget. Needs root and ip netns.
#
#	HTRACR_PIPE_REQUESTS=N	requests in all (default 1,000,000, or
#				100,000 under SANITIZE=1)
#	HTRACR_PIPE_RATE=N	requests a second at most (default 50,000,
#				or 10,000 under SANITIZE=1), a rate the
#				analyzer takes on a loaded machine: what is
#				lost when it falls behind is another test's
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/regress/bigload.sh"

t_need_netns
t_need_cmd nginx curl python3
t_need_bins
t_tmpdir

if [ "${SANITIZE:-}" = 1 ]; then
	N=${HTRACR_PIPE_REQUESTS:-100000}
	RATE=${HTRACR_PIPE_RATE:-10000}
else
	N=${HTRACR_PIPE_REQUESTS:-1000000}
	RATE=${HTRACR_PIPE_RATE:-50000}
fi
CONNS=4
# Each transaction of this kind takes some 750 bytes of the budget.
BL_BUDGET=$((N / 1000 + 64))

bl_setup 10.233.22.1 10.233.22.2 <<EOF
		location /p { return 200 "k"; }
EOF
bl_queries_start
bl_ordinary before
T_BG_LOG=$T_TMP/flood.out t_bg ip netns exec "$T_NS_PREFIX-cli" \
    timeout 80 python3 "$T_ROOT/tests/regress/pipeflood.py" "$BL_SRV" 80 \
    "$CONNS" "$N" "$RATE"
FLOOD=$T_BG_PID
sleep 1
bl_ordinary during
wait "$FLOOD"
bl_ordinary after
bl_stop
bl_queries_stop "$T_NAME/second-client"

total=$(grep '^total ' "$T_TMP/flood.out")
t_eq "$T_NAME/client" "total sent $N answered $N status200 $N" "$total"

nord=$(wc -l <"$T_TMP/ordinary.tsv")
t_eq "$T_NAME/transactions" "$((N + nord))" "$(bl_counter transactions)"
for k in kernel_drops forward_drops dropped_transactions \
    dropped_connections parse_errors gaps; do
	t_eq "$T_NAME/counters/$k" 0 "$(bl_counter "$k")"
done

# Each flood connection holds what the client sent on it, the three
# ordinary ones eight each.
bl_dump
grep '^conn ' "$T_TMP/flood.out" | awk '{ print $4 }' | sort -n >"$T_TMP/want"
for i in 1 2 3; do
	echo 8
done >>"$T_TMP/want"
sort -n "$T_TMP/want" | paste -sd' ' >"$T_TMP/want.line"
awk '{ print $1 }' "$T_TMP/perconn" | sort -n | paste -sd' ' >"$T_TMP/got.line"
t_eq "$T_NAME/per-connection" "$(cat "$T_TMP/want.line")" \
    "$(cat "$T_TMP/got.line")"
bl_ordinary_check "$T_NAME/ordinary"
bl_rss_check "$T_NAME/rss"
t_exit
