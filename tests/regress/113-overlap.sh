#!/bin/sh
# 113-overlap: retransmissions that overlap what came before with
# different bytes, in a live capture. A raw socket writes made-up
# connections (both sides, to an address nobody holds), six cases a
# round: copies after the original was in order, and copies of
# segments still waiting out of order. What htracr makes of each
# request and response must be what tshark makes of the dump (with
# tcp.reassemble_out_of_order: bytes already in order stay, an in-order
# segment wins over early ones, among early ones the lowest sequence
# number and then the first to come). An ordinary client makes its
# requests beside them and another user queries the daemon; the
# analyzer's peak RSS stays within its budget and the ordinary
# transactions are exactly those the client logged. Needs root and
# ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_setup 10.77.113 --budget 32
FAKE=10.77.113.9
ROUNDS=$(h_scaled 500)
h_ordinary 200 20
h_raw overlap "$ROUNDS" "$FAKE" 80
h_stop
h_check_common

N=$((ROUNDS * 6))
t_eq "$T_NAME-all-sent" "$N" "$(h_raw_value overlap_conns)"
awk -F '\t' '$2 ~ /^10\.202\./ { print $4, $5 }' "$T_TMP/txns.tsv" \
    >"$T_TMP/ours"
# What the cases were made to show, the same in every round.
python3 - "$ROUNDS" >"$T_TMP/want" <<'PY'
import sys
paths = ("/first-0", "/first-1", "/other-2", "/first-3", "/firsr-4", "/fiher-5")
for r in range(int(sys.argv[1])):
	for p in paths:
		print(p, 200)
PY
if cmp -s "$T_TMP/want" "$T_TMP/ours"; then
	t_pass "$T_NAME-first-copy-rules"
else
	t_fail "$T_NAME-first-copy-rules" "$(diff "$T_TMP/want" "$T_TMP/ours" | sed -n 2,3p | paste -sd' ')"
fi
# tshark on the dump: requests and responses in the order of their
# connections (tcp.stream follows the order connections began).
tshark -r "$T_TMP/live.pcap" -o tcp.reassemble_out_of_order:TRUE \
    -Y "http && ip.addr == 10.202.0.0/16" -T fields -e tcp.stream \
    -e http.request.uri -e http.response.code 2>/dev/null |
    python3 -c '
import sys
req, resp = {}, {}
for line in sys.stdin:
	s, uri, code = (line.rstrip("\n").split("\t") + ["", ""])[:3]
	if uri:
		req.setdefault(int(s), uri)
	if code:
		resp.setdefault(int(s), code)
for s in sorted(req):
	print(req[s], resp.get(s))
' >"$T_TMP/tshark"
if [ -s "$T_TMP/tshark" ] && cmp -s "$T_TMP/tshark" "$T_TMP/ours"; then
	t_pass "$T_NAME-as-tshark"
else
	t_fail "$T_NAME-as-tshark" "$(diff "$T_TMP/tshark" "$T_TMP/ours" | sed -n 2,3p | paste -sd' ')"
fi
t_exit
