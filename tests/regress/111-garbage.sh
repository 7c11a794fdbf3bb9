#!/bin/sh
# 111-garbage: random bytes on the HTTP port of a live capture. Real
# TCP connections from a second address of the client namespace carry
# random bytes to nginx, while an ordinary client makes its requests
# from the first and another user queries the daemon. The analyzer's
# peak RSS stays within its budget, every garbage connection is in the
# session and the parse errors are counted, and the ordinary
# transactions are exactly those the client logged. Needs root and
# ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_setup 10.77.111 --budget 32
BAD=10.77.111.3
ip -n "$T_NS_PREFIX-cli" addr add "$BAD/24" dev "$T_VETH_B"
NBAD=$(h_scaled 1000)
h_ordinary 200 20
t_ns cli timeout 80 python3 "$H_PY" garbage "$BAD" "$SRV" 80 "$NBAD" 111 \
    >"$T_TMP/raw.out" 2>&1
h_stop
h_check_common

t_eq "$T_NAME-all-sent" "$NBAD" "$(h_raw_value garbage_conns)"
t_eq "$T_NAME-every-connection" "$NBAD" \
    "$(awk -F '\t' -v a="$BAD" '$2 == a' "$T_TMP/conns.tsv" | wc -l)"
perr=$(h_counter parse_errors)
echo "# $T_NAME: $(h_raw_value garbage_bytes) random bytes, parse errors $perr," \
    "garbage transactions $(awk -F '\t' -v a="$BAD" '$2 == a' "$T_TMP/txns.tsv" | wc -l)"
if [ "$perr" -gt 0 ]; then
	t_pass "$T_NAME-parse-errors-counted"
else
	t_fail "$T_NAME-parse-errors-counted" "parse_errors is 0"
fi
t_eq "$T_NAME-no-connection-dropped" 0 "$(h_counter dropped_connections)"
t_exit
