#!/bin/sh
# 112-seqjump: TCP segments with random sequence numbers in a live
# capture. A raw socket writes made-up connections (both sides, to an
# address nobody holds): each a request and its response in order,
# then segments in both directions at random sequence numbers, which
# reassembly must hold within its bounds and skip. An ordinary client
# makes its requests beside them and another user queries the daemon.
# The analyzer's peak RSS stays within its budget, the gaps are
# counted, every made-up connection keeps its one real transaction,
# and the ordinary transactions are exactly those the client logged.
# Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

# A budget the raw frames exceed, however many are sent, but not the
# model without them: frames are evicted, no connection is dropped.
BUDGET=$((24 / H_SCALE))
[ "$BUDGET" -ge 8 ] || BUDGET=8
h_setup 10.77.112 --budget "$BUDGET"
FAKE=10.77.112.9
N=$(h_scaled 3000)
h_ordinary 200 20
h_raw seqjump "$N" "$FAKE" 80 112
h_stop
h_check_common

t_eq "$T_NAME-all-sent" "$N" "$(h_raw_value seqjump_conns)"
t_eq "$T_NAME-every-connection" "$N" \
    "$(awk -F '\t' '$2 ~ /^10\.201\./' "$T_TMP/conns.tsv" | wc -l)"
# The one transaction made in order on each: /jump-I answered 200.
got=$(awk -F '\t' '$2 ~ /^10\.201\./ && $4 ~ /^\/jump-/ && $5 == 200' \
    "$T_TMP/txns.tsv" | wc -l)
t_eq "$T_NAME-in-order-transactions-kept" "$N" "$got"
gaps=$(h_counter gaps)
echo "# $T_NAME: $(h_raw_value frames) frames sent, gaps $gaps," \
    "parse errors $(h_counter parse_errors)"
if [ "$gaps" -gt 0 ]; then
	t_pass "$T_NAME-gaps-counted"
else
	t_fail "$T_NAME-gaps-counted" "gaps is 0"
fi
# The budget is reached: the oldest raw frames go first, and are counted.
ev=$(h_counter evicted_frames)
if [ "$ev" -gt 0 ]; then
	t_pass "$T_NAME-evictions-counted"
else
	t_fail "$T_NAME-evictions-counted" "evicted_frames is 0 with a $BUDGET MiB budget"
fi
t_eq "$T_NAME-no-connection-dropped" 0 "$(h_counter dropped_connections)"
t_exit
