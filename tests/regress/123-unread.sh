#!/bin/sh
# 123-unread: clients that ask for a 100 MB dump and never read it. A
# daemon holds a loaded session of some 100 MB of frames; two clients
# (tests/regress/rawclient.py unread) ask for its pcap frames and for
# its detail with every packet, and then read nothing. While they sit
# there the analyzer's RSS must stay within what one client may have
# queued (PROTO_MAX_QUEUED) of where it was, it must not spin, and
# other clients must be served: status, sessions, show, and a whole
# pcap dump of the same session with every frame. When they go, the
# daemon is idle again. Needs python3.
. "$(dirname "$0")/lib.sh"

t_need_cmd python3
t_need_bins
t_tmpdir
t_daemon_start --budget 256 || {
	t_fail "$T_NAME/daemon" "$(tail -n 1 "$T_TMP/htracrd.log")"
	t_exit
}
A=$(pgrep -P "$T_DAEMON_PID" | head -n 1)
RAW="python3 $T_ROOT/tests/regress/rawclient.py"
NFRAMES=75000

# 75,000 frames of 1,400 bytes: a 100 MB pcap of one long response.
python3 - "$T_TMP/big.pcap" "$NFRAMES" <<'EOF'
import struct, sys
body = b"HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n"
body += b"x" * (1400 - len(body))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    seq = 1
    for i in range(int(sys.argv[2])):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(body), i & 0xffff,
                         0, 64, 6, 0, bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]))
        tcp = struct.pack("!HHIIBBHHH", 80, 40000, seq, 1, 0x50, 0x18, 512, 0, 0)
        fr = b"\0\1\2\3\4\5" + b"\0\1\2\3\4\6" + b"\x08\x00" + ip + tcp + body
        seq += len(body)
        f.write(struct.pack("=IIII", 1700000000 + i // 1000, i % 1000 * 1000,
                            len(fr), len(fr)) + fr)
EOF
SID=$(t_ctl load "$T_TMP/big.pcap" 2>&1 | sed -n 's/^session \([0-9]*\):.*/\1/p')
if [ -z "$SID" ]; then
	t_fail "$T_NAME/load" "no session"
	t_exit
fi
rm -f "$T_TMP/big.pcap"

rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$A/status"
}
cpu() {
	awk '{ print $14 + $15 }' "/proc/$A/stat"
}

before=$(rss)
for what in frames detail; do
	T_BG_LOG=$T_TMP/unread-$what.out t_bg $RAW "$T_SOCK" unread "$SID" \
	    "$what" "$T_TMP/release"
	t_wait_for 10 grep -q '^asked' "$T_TMP/unread-$what.out" ||
	    t_fail "$T_NAME/asked-$what" "$(tail -n 1 "$T_TMP/unread-$what.out")"
done
# They are stuck now: what the daemon holds for them stops growing.
sleep 2
t0=$(cpu)
sleep 2
t1=$(cpu)
hz=$(getconf CLK_TCK)
[ $((t1 - t0)) -lt "$hz" ] && t_pass "$T_NAME/not-spinning" ||
    t_fail "$T_NAME/not-spinning" "$((t1 - t0)) ticks of CPU in 2 s"

# Both queues bounded: each stuck client holds at most PROTO_MAX_QUEUED
# (8 MiB) in the analyzer. Measured before the others' requests, whose
# freed memory a sanitizer build keeps in quarantine.
during=$(rss)
echo "# analyzer RSS ${before} KiB before, ${during} KiB with two clients not reading"
limit=$((before + 2 * 8 * 1024 + 4096))
# The sanitizer's redzones and quarantine around what is queued.
[ "${SANITIZE:-}" = 1 ] && limit=$((limit + 16384))
[ "$during" -le "$limit" ] && t_pass "$T_NAME/bounded" ||
    t_fail "$T_NAME/bounded" "RSS ${during} KiB, over ${limit} KiB"

# Everyone else is served meanwhile, a whole dump of the session too.
t_check "$T_NAME/status" t_ctl status
t_check "$T_NAME/sessions" t_ctl sessions
t_check "$T_NAME/show" t_ctl show "$SID"
if t_ctl dump --format pcap -o "$T_TMP/dump.pcap" "$SID" 2>"$T_TMP/dump.err"; then
	got=$(python3 -c 'import struct, sys
f = open(sys.argv[1], "rb")
f.read(24)
n = 0
while True:
	h = f.read(16)
	if len(h) < 16:
		break
	f.seek(struct.unpack("<IIII", h)[2], 1)
	n += 1
print(n)' "$T_TMP/dump.pcap")
	t_eq "$T_NAME/dump" "$NFRAMES" "$got"
else
	t_fail "$T_NAME/dump" "$(tail -n 1 "$T_TMP/dump.err")"
fi
rm -f "$T_TMP/dump.pcap"
t_eq "$T_NAME/still-connected" 3 \
    "$(t_ctl status --json | python3 -c 'import json, sys
print(len(json.load(sys.stdin)["clients"]))')"

touch "$T_TMP/release"
for what in frames detail; do
	t_wait_for 10 grep -q '^released' "$T_TMP/unread-$what.out"
done
sleep 1
t0=$(cpu)
sleep 2
t1=$(cpu)
[ $((t1 - t0)) -lt "$hz" ] && t_pass "$T_NAME/idle-after" ||
    t_fail "$T_NAME/idle-after" "$((t1 - t0)) ticks of CPU in 2 s"
t_check "$T_NAME/serving-after" t_ctl status
t_exit
