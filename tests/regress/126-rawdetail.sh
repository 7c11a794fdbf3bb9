#!/bin/sh
# 126-rawdetail: htracrctl writes --format json straight from the
# msgpack bytes of the detail, never decoding them into objects. Against
# a stand-in daemon (fakedaemon.py) it must write a well-formed session
# sent in msgpack's long forms as the decoding writer would (every
# string escaped, bin as base64, the largest and negative numbers), and
# refuse, with its reason and exit 1, a chunk laid out in another key
# order, an item that is no msgpack value, a chunk with fewer items than
# it says or bytes after them, an end that counts wrong, and an item
# nested past the reply depth limit. Needs python3.
. "$(dirname "$0")/lib.sh"

t_need_cmd python3
t_need_bins
t_tmpdir
FAKE="python3 $T_ROOT/tests/regress/fakedaemon.py"

# dump --format json of session 1 from a stand-in playing scenario $1.
fake_dump() {
	rm -f "$T_TMP/fake.s"
	$FAKE "$T_TMP/fake.s" "$1" >"$T_TMP/fake.log" 2>&1 &
	_pid=$!
	if ! t_wait_for 10 test -S "$T_TMP/fake.s"; then
		kill "$_pid" 2>/dev/null
		echo "no socket"
		return 99
	fi
	"$HTRACRCTL" --socket "$T_TMP/fake.s" dump --format json 1 \
	    >"$T_TMP/out.json" 2>"$T_TMP/err.txt"
	_rc=$?
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	return $_rc
}

fake_dump good
t_eq "$T_NAME/good_exit" 0 "$?"
t_eq "$T_NAME/good_parses" ok "$(python3 - "$T_TMP/out.json" <<'EOF'
import json, sys
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw)
ok = (b"\x1b" not in raw and b"\t" not in raw and
      d["session"]["source"] == "fake\x1b[31m.pcap" and
      d["servers"][0]["name"] == 'caf\u00e9 "quoted" \\ tab\t' and
      d["connections"][0]["rtt_us"] == -5 and
      d["connections"][0]["tls"] is None and
      d["transactions"][0]["request"]["target"] == "/x" * 40 and
      d["transactions"][0]["request"]["headers"] ==
      [["Host", "a"], ["X-Bin", "AP8="]] and
      d["transactions"][0]["request"]["body_bytes"] == 2**64 - 1 and
      d["transactions"][0]["response"] is None and
      list(d) == ["htracr", "session", "servers", "connections",
                  "transactions", "dns"])
print("ok" if ok else raw[:400])
EOF
)"

for s in "reordered:laid out unlike its own" \
    "garbage:detail item that is not msgpack" \
    "short:detail item that is not msgpack" \
    "trailing:bytes after its items" \
    "miscount:announced 5 detail items but sent 4" \
    "deep:detail item that is not msgpack"; do
	name=${s%%:*}
	want=${s#*:}
	fake_dump "$name"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "$want" "$T_TMP/err.txt"; then
		t_pass "$T_NAME/$name"
	else
		t_fail "$T_NAME/$name" "exit $rc: $(head -n 1 "$T_TMP/err.txt")"
	fi
done
t_exit
