#!/bin/sh
# 121-bigbody: one response of several GiB (nginx serving a sparse file,
# curl reading every byte of it) captured live by htracrd on a veth
# while a second client queries it and curl makes ordinary requests
# before, during and after. The session must hold that one transaction
# with the whole size curl counted and only body_keep bytes of it kept,
# the counters must say which frames the budget evicted and that
# nothing was dropped, the ordinary requests must be recorded exactly
# as curl logged them, and the analyzer's peak RSS must stay within the
# budget although the body is fifty times larger. Needs root and ip
# netns.
#
#	HTRACR_BIG_MIB=N	the body's size in MiB (default 3072, or 512
#				under SANITIZE=1)
#	HTRACR_BIG_RATE=R	curl's --limit-rate (default 80M, or 16M
#				under SANITIZE=1), a rate the analyzer takes
#				on a loaded machine
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/regress/bigload.sh"

t_need_netns
t_need_cmd nginx curl python3 truncate
t_need_bins
t_tmpdir

if [ "${SANITIZE:-}" = 1 ]; then
	MIB=${HTRACR_BIG_MIB:-512}
	RATE=${HTRACR_BIG_RATE:-16M}
else
	MIB=${HTRACR_BIG_MIB:-3072}
	RATE=${HTRACR_BIG_RATE:-80M}
fi
SIZE=$((MIB * 1024 * 1024))
KEEP=65536

bl_setup 10.233.21.1 10.233.21.2 </dev/null
truncate -s "$SIZE" "$T_TMP/www/big.bin"
bl_queries_start
bl_ordinary before
t_ns cli timeout 80 curl -s --max-time 75 --limit-rate "$RATE" -o /dev/null \
    -w '%{http_code} %{size_download}\n' "http://$BL_SRV/big.bin" \
    >"$T_TMP/big.out" 2>&1 &
BIG=$!
sleep 1
bl_ordinary during
wait "$BIG"
bl_ordinary after
bl_stop
bl_queries_stop "$T_NAME/second-client"
t_eq "$T_NAME/client" "200 $SIZE" "$(cat "$T_TMP/big.out")"

t_eq "$T_NAME/transactions" 25 "$(bl_counter transactions)"
for k in kernel_drops forward_drops dropped_transactions \
    dropped_connections parse_errors gaps; do
	t_eq "$T_NAME/counters/$k" 0 "$(bl_counter "$k")"
done
# The frames went through a budget of a fiftieth of their size: the
# evicted ones are counted, those kept are what a pcap dump gives back.
frames=$(bl_counter frames)
evicted=$(bl_counter evicted_frames)
bl_ctl dump --format pcap -o "$T_TMP/kept.pcap" >/dev/null 2>&1
kept=$(python3 -c 'import struct, sys
f = open(sys.argv[1], "rb")
f.read(24)
n = 0
while True:
	h = f.read(16)
	if len(h) < 16:
		break
	f.seek(struct.unpack("<IIII", h)[2], 1)
	n += 1
print(n)' "$T_TMP/kept.pcap")
rm -f "$T_TMP/kept.pcap"
if [ "$evicted" -gt 0 ] && [ $((frames - evicted)) -eq "$kept" ] &&
    [ "$(bl_counter evicted_packets)" -le "$frames" ]; then
	t_pass "$T_NAME/evicted-frames"
else
	t_fail "$T_NAME/evicted-frames" "$frames frames, $evicted evicted, $kept in the dump"
fi
echo "# $frames frames, $evicted evicted by the budget, packet records of $(bl_counter evicted_packets)"

bl_dump
# The big one: every byte counted, both messages whole, body_keep bytes
# kept, or none once the budget evicted bodies, as its counter says.
bl_ctl dump --format ndjson | LC_ALL=C grep -F '"server_port":80,' \
    >"$T_TMP/big.ndjson"
got=$(python3 -c 'import json, sys
ts = [json.loads(l) for l in open(sys.argv[1])]
q, r = ts[0]["request"], ts[0]["response"]
print(len(ts), q["method"], q["target"], r["status"], r["body_bytes"],
    q["complete"], r["complete"], r["body_kept"])' "$T_TMP/big.ndjson")
want="1 GET /big.bin 200 $SIZE True True"
case "$got" in
"$want $KEEP")
	t_pass "$T_NAME/body" ;;
"$want 0")
	t_eq "$T_NAME/body" evicted \
	    "$([ "$(bl_counter evicted_bodies)" -gt 0 ] && echo evicted)" ;;
*)
	t_fail "$T_NAME/body" "want '$want $KEEP', got '$got'" ;;
esac
bl_ordinary_check "$T_NAME/ordinary"
bl_rss_check "$T_NAME/rss"
t_exit
