#!/bin/sh
# 110-synflood: 100,000 half-open connections to the HTTP port of a
# live capture. A raw socket in one namespace sends SYNs from as many
# spoofed sources to nginx in the other, which answers each with a
# SYN-ACK nobody takes up, while an ordinary client makes its requests
# beside them and another user queries the daemon. The budget holds a
# third of the flood: the half-open connections go (oldest first, once
# a second old) to make room, each counted, so that no connection is
# refused. The analyzer's peak RSS stays within its budget, every SYN
# is a half-open connection kept or evicted, and the ordinary
# transactions are exactly those the client logged. Needs root and ip
# netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

BUDGET=$((32 / H_SCALE))
[ "$BUDGET" -ge 8 ] || BUDGET=8
h_setup 10.77.110 --budget "$BUDGET"
NSYN=$(h_scaled 100000)
# Scaled down, the flood still lasts as long (5 s): a half-open
# connection may go only once it is a second old.
HOSTILE_RATE=${HOSTILE_RATE:-$((20000 / H_SCALE))}
export HOSTILE_RATE
h_ordinary 200 25
h_raw syn "$NSYN" "$SRV" 80 110
h_stop
h_check_common

t_eq "$T_NAME-all-sent" "$NSYN" "$(h_raw_value syn_sent)"
# Every SYN is a connection of its own, half-open: kept as
# handshaking, or evicted and counted. A SYN-ACK that nginx sends again
# for an evicted one makes it anew, so there may be more.
kept=$(awk -F '\t' -v cli="$CLI" '$2 != cli && $4 == "handshaking"' \
    "$T_TMP/conns.tsv" | wc -l)
evicted=$(h_counter evicted_half_open)
echo "# $T_NAME: half-open kept $kept, evicted $evicted"
if [ "$evicted" -gt 0 ] && [ $((kept + evicted)) -ge "$NSYN" ]; then
	t_pass "$T_NAME-half-open-counted"
else
	t_fail "$T_NAME-half-open-counted" "$kept kept + $evicted evicted < $NSYN SYNs"
fi
t_eq "$T_NAME-no-connection-dropped" 0 "$(h_counter dropped_connections)"
echo "# $T_NAME: evicted frames $(h_counter evicted_frames), packets $(h_counter evicted_packets)"
t_exit
