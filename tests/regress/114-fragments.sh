#!/bin/sh
# 114-fragments: IPv4 fragments carrying HTTP in a live capture. A raw
# socket writes made-up connections (both sides, to an address nobody
# holds) whose requests come in fragments of 16 to 40 bytes. htracr
# does not reassemble IP fragments: it counts each fragment it gets in
# ip_fragments (a live capture gets only the first of each datagram,
# the one whose ports the filter matches); the response of each such
# connection stands without its request, and the request's bytes are a
# gap on the connection. An ordinary client makes its requests beside
# them and another user queries the daemon; the analyzer's peak RSS
# stays within its budget and the ordinary transactions are exactly
# those the client logged. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_setup 10.77.114 --budget 32
FAKE=10.77.114.9
ROUNDS=$(h_scaled 500)
h_ordinary 200 20
h_raw frag "$ROUNDS" "$FAKE" 80
h_stop
h_check_common

N=$((ROUNDS * 4))
t_eq "$T_NAME-all-sent" "$N" "$(h_raw_value frag_conns)"
# The capture filter passes only the first fragment of each datagram,
# the one holding the ports: one counted per fragmented datagram.
t_eq "$T_NAME-fragments-counted" "$(h_raw_value fragmented_datagrams)" \
    "$(h_counter ip_fragments)"
got=$(awk -F '\t' '$2 ~ /^10\.203\./ && $3 == "None" && $5 == 200' \
    "$T_TMP/txns.tsv" | wc -l)
t_eq "$T_NAME-responses-without-requests" "$N" "$got"
# The server acknowledged the client's FIN beyond the bytes never seen:
# each such connection has one gap, and is flagged.
got=$(awk -F '\t' '$2 ~ /^10\.203\./ && $5 ~ /(^|,)gap(,|$)/ && $6 == 1' \
    "$T_TMP/conns.tsv" | wc -l)
t_eq "$T_NAME-gap-on-each" "$N" "$got"
t_exit
