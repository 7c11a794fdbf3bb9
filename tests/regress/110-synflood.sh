#!/bin/sh
# 110-synflood: 100,000 half-open connections to the HTTP port of a
# live capture. A raw socket in one namespace sends SYNs from as many
# spoofed sources to nginx in the other, which answers each with a
# SYN-ACK nobody takes up, while an ordinary client makes its requests
# beside them and another user queries the daemon. The analyzer's peak
# RSS stays within its budget, the session counts every half-open
# connection, and the ordinary transactions are exactly those the
# client logged. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_setup 10.77.110 --budget 128
NSYN=$(h_scaled 100000)
h_ordinary 200 25
h_raw syn "$NSYN" "$SRV" 80 110
h_stop
h_check_common

t_eq "$T_NAME-all-sent" "$NSYN" "$(h_raw_value syn_sent)"
# Every SYN is a connection of its own, half-open: handshaking.
got=$(awk -F '\t' -v cli="$CLI" '$2 != cli && $4 == "handshaking"' \
    "$T_TMP/conns.tsv" | wc -l)
t_eq "$T_NAME-half-open-counted" "$NSYN" "$got"
t_eq "$T_NAME-no-connection-dropped" 0 "$(h_counter dropped_connections)"
echo "# $T_NAME: evicted frames $(h_counter evicted_frames), packets $(h_counter evicted_packets)"
t_exit
