#!/bin/sh
# 010-cli: htracrctl as users and scripts meet it: usage errors (exit 2),
# a missing daemon and a file that is no capture (clear errors, exit 1),
# the JSON writer against hostile wire strings (checked by python3's json
# module) and the text renderer (no raw control bytes), then against a
# private htracrd: load, sessions, show, analyze of a real capture with
# the right transactions, pcap dumps that tcpdump reads back, and output
# files that are never clobbered or written through a symbolic link.
. "$(dirname "$0")/lib.sh"

t_need_cmd python3 cc pkg-config
t_need_bins
t_tmpdir

ctl() {
	"$HTRACRCTL" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	echo $? >"$T_TMP/rc"
}

rc() {
	cat "$T_TMP/rc"
}

# NAME WANT_RC GREP_PATTERN: the last ctl's status and stderr.
expect() {
	if [ "$(rc)" != "$2" ]; then
		t_fail "$1" "exit $(rc), want $2: $(head -n 1 "$T_TMP/err")"
	elif [ -n "$3" ] && ! grep -q -- "$3" "$T_TMP/err"; then
		t_fail "$1" "stderr lacks '$3': $(head -n 1 "$T_TMP/err")"
	else
		t_pass "$1"
	fi
}

# Runs as nobody, with no groups; only when root and the build is
# reachable for nobody (a checkout under /root is not).
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
NOBODY=no
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    as_nobody "$HTRACRCTL" help >/dev/null 2>&1; then
	NOBODY=yes
fi

# --- usage errors: exit 2 before anything is contacted --------------------
ctl
expect "$T_NAME/usage/no-command" 2 "usage:"
ctl frobnicate
expect "$T_NAME/usage/unknown-command" 2 "unknown command"
ctl --frob sessions
expect "$T_NAME/usage/unknown-global-option" 2 "unknown option"
ctl show --frob
expect "$T_NAME/usage/unknown-option" 2 "usage: htracrctl show"
ctl show 1 2
expect "$T_NAME/usage/extra-argument" 2 "usage: htracrctl show"
ctl show abc
expect "$T_NAME/usage/bad-session" 2 "bad session"
ctl start --ports 0
expect "$T_NAME/usage/port-zero" 2 "bad port"
ctl ports 80,70000
expect "$T_NAME/usage/port-too-big" 2 "bad port"
ctl ports 80,,81
expect "$T_NAME/usage/port-empty" 2 "bad port"
ctl ports "$(seq -s, 1 65)"
expect "$T_NAME/usage/65-ports" 2 "at most 64"
ctl start --interface abcdefghijklmnopq
expect "$T_NAME/usage/long-interface" 2 "interface name"
ctl dump --format nonsense
expect "$T_NAME/usage/unknown-format" 2 "unknown format"
ctl analyze
expect "$T_NAME/usage/analyze-no-file" 2 "usage: htracrctl analyze"
ctl status --help
expect "$T_NAME/usage/command-help" 0 ""
grep -q "usage: htracrctl status" "$T_TMP/out" &&
    t_pass "$T_NAME/usage/command-help-text" ||
    t_fail "$T_NAME/usage/command-help-text" "no usage line on stdout"
ctl help
expect "$T_NAME/usage/help" 0 ""
for c in analyze load sessions show dump start ports status stop; do
	grep -q "^  $c " "$T_TMP/out" || t_fail "$T_NAME/usage/help-lists-$c" \
	    "help does not list $c"
done

# --- no daemon --------------------------------------------------------------
ctl --socket "$T_TMP/nothing-here" sessions
expect "$T_NAME/no-daemon" 1 "cannot connect to $T_TMP/nothing-here: No such file or directory; is htracrd running?"
HTRACR_SOCKET=$T_TMP/from-env; export HTRACR_SOCKET
ctl status
expect "$T_NAME/no-daemon/env-socket" 1 "cannot connect to $T_TMP/from-env"
ctl --socket "$T_TMP/from-option" status
unset HTRACR_SOCKET
expect "$T_NAME/no-daemon/option-overrides-env" 1 \
    "cannot connect to $T_TMP/from-option"

# --- a daemon of another protocol version, a socket we may not use --------------
# A hand-made daemon: answers the hello with error 2, as PROTOCOL.md says.
cat >"$T_TMP/other-version.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(10)
n = struct.unpack(">I", c.recv(4))[0]
c.recv(n)
msg = b"wants version 2, got 1"
body = (b"\x82\xa2id\x01\xa5error\x82\xa4code\x02\xa7message" +
    bytes([0xa0 + len(msg)]) + msg)
c.sendall(struct.pack(">I", len(body)) + body)
c.close()
EOF
t_bg python3 "$T_TMP/other-version.py" "$T_TMP/v.sock"
if t_wait_for 10 test -S "$T_TMP/v.sock"; then
	ctl --socket "$T_TMP/v.sock" sessions
	expect "$T_NAME/version-mismatch" 1 \
	    "speaks another protocol version: wants version 2, got 1; this htracrctl speaks version 1"
else
	t_fail "$T_NAME/version-mismatch" "the stand-in daemon did not start"
fi
if [ "$NOBODY" = yes ]; then
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	    "$T_TMP/p.sock"
	chmod 0600 "$T_TMP/p.sock"
	as_nobody "$HTRACRCTL" --socket "$T_TMP/p.sock" status \
	    >"$T_TMP/out" 2>"$T_TMP/err"
	echo $? >"$T_TMP/rc"
	expect "$T_NAME/permission-denied" 1 \
	    "Permission denied; only root and members of group htracr"
else
	t_skip "$T_NAME/permission-denied" \
	    "needs root, setpriv and a build nobody can run"
fi

# --- not a capture ------------------------------------------------------------
printf 'GET / HTTP/1.1\r\n\r\n' >"$T_TMP/notcap.txt"
ctl --socket "$T_TMP/nothing-here" load "$T_TMP/notcap.txt"
expect "$T_NAME/not-a-capture/load" 1 \
    "notcap.txt: not a pcap or pcapng capture: "
ctl analyze "$T_TMP/notcap.txt"
expect "$T_NAME/not-a-capture/analyze" 1 \
    "notcap.txt: not a pcap or pcapng capture: "
ctl analyze "$T_TMP/missing.pcap"
expect "$T_NAME/not-a-capture/missing" 1 "cannot read .*missing.pcap"
# Whatever a message quotes reaches the terminal escaped: a name with a
# newline and an escape sequence stays on one line, and inert.
ctl analyze "$T_TMP/$(printf 'a\nb\033[31mc')"
if [ "$(wc -l <"$T_TMP/err")" -eq 1 ] &&
    grep -q 'a\\x0ab\\x1b\[31mc' "$T_TMP/err"; then
	t_pass "$T_NAME/log-escapes-control-bytes"
else
	t_fail "$T_NAME/log-escapes-control-bytes" "$(od -c "$T_TMP/err" | head -n 3)"
fi

# --- JSON writer and text renderer on hostile strings --------------------------
helper=$T_TMP/json-helper
# shellcheck disable=SC2046
if cc -D_GNU_SOURCE -I"$T_ROOT/client" -I"$T_ROOT/common" \
    -I"$T_ROOT/proto" -o "$helper" "$T_ROOT/tests/regress/010-cli-json.c" \
    "$T_ROOT/client/json.c" "$T_ROOT/client/doc.c" "$T_ROOT/client/text.c" \
    "$T_ROOT/client/fmt.c" "$T_ROOT/client/pick.c" \
    "$T_ROOT/client/tlsline.c" "$T_ROOT/client/dnsline.c" \
    "$T_ROOT/client/render.c" \
    "$T_ROOT/client/text_replies.c" \
    "$T_ROOT/client/cmd.c" "$T_ROOT/client/client.c" \
    "$T_ROOT/common/esc.c" "$T_ROOT/common/log.c" "$T_ROOT/common/xmalloc.c" \
    "$T_ROOT/proto/proto.c" $(pkg-config --cflags --libs msgpack) \
    2>"$T_TMP/cc.err"; then
	"$helper" json >"$T_TMP/hostile.json"
	python3 - "$T_TMP/hostile.json" "$T_NAME" <<'EOF'
import json, sys
path, name = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
try:
    d = json.loads(raw.decode("utf-8"))
    print("PASS: %s/json/valid" % name)
except Exception as e:
    print("FAIL: %s/json/valid: %s" % (name, e))
    sys.exit(0)
h = dict(d["transactions"][0]["request"]["headers"])
want = {
    "controls": "a\x01\x02\x1b[31mred\x7f\n\r\t\b\f end",
    "quotes": 'say "hi" \\ back\\slash / slash',
    "utf8": "caf\u00e9 \u20ac \U0001F600",
    "lone": "\u00ff\u00fe\u0080 x \u00c3",
    "overlong": "\u00c0\u00af \u00e0\u0080\u00af \u00f0\u0080\u0080\u00af",
    "surrogate": "\u00ed\u00a0\u0080\u00ed\u00bf\u00bf",
    "toolarge": "\u00f4\u0090\u0080\u0080 \u00f5\u0080\u0080\u0080",
    "truncated": "\u00e2\u0082",
    "nul": "a\x00b",
    "u2028": "\u2028\u2029",
}
for k, v in want.items():
    if h.get(k) == v:
        print("PASS: %s/json/%s" % (name, k))
    else:
        print("FAIL: %s/json/%s: got %r want %r" % (name, k, h.get(k), v))
bad = [b for b in raw if b < 0x20 and b != 0x0a]
print(("PASS: %s/json/no-raw-controls" % name) if not bad else
      ("FAIL: %s/json/no-raw-controls: %d raw control bytes" % (name, len(bad))))
body = d["transactions"][0]["response"]["body"]
print(("PASS: %s/json/bin-base64" % name) if body == "AAECA/8=" else
      ("FAIL: %s/json/bin-base64: %r" % (name, body)))
EOF
	"$helper" stream >"$T_TMP/hostile-stream.json"
	if cmp -s "$T_TMP/hostile.json" "$T_TMP/hostile-stream.json"; then
		t_pass "$T_NAME/json/stream-same-document"
	else
		t_fail "$T_NAME/json/stream-same-document" \
		    "streamed JSON differs from the document's"
	fi
	"$helper" text >"$T_TMP/hostile.txt"
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" \
	    "$T_TMP/hostile.txt"; then
		t_fail "$T_NAME/text/escaped" "raw control bytes in text output"
	elif ! grep -q 'a\\x01\\x02\\x1b\[31mred' "$T_TMP/hostile.txt"; then
		t_fail "$T_NAME/text/escaped" "escaped string missing"
	else
		t_pass "$T_NAME/text/escaped"
	fi
else
	t_fail "$T_NAME/json/helper" "cannot build: $(head -n 1 "$T_TMP/cc.err")"
fi

# --- against a private daemon ----------------------------------------------------
if ! CORPUS=$(t_shared corpus); then
	t_skip "$T_NAME/daemon" "no ../shared/corpus beside the repository"
	t_exit
fi
if ! t_daemon_start; then
	t_fail "$T_NAME/daemon" "private htracrd did not start: $(tail -n 1 "$T_TMP/htracrd.log")"
	t_exit
fi
PIPE=$CORPUS/zeek-pipelined-requests.pcap
NG=$CORPUS/cs-http_ip4and6.pcapng

ctl --socket "$T_SOCK" load "$PIPE"
expect "$T_NAME/load" 0 ""
grep -q "^session [0-9]*: zeek-pipelined-requests.pcap" "$T_TMP/out" &&
    t_pass "$T_NAME/load/summary" ||
    t_fail "$T_NAME/load/summary" "no summary line: $(head -n 1 "$T_TMP/out")"
ctl --socket "$T_SOCK" --json load "$NG"
expect "$T_NAME/load/pcapng" 0 ""
NGID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
    <"$T_TMP/out" 2>/dev/null)

ctl --socket "$T_SOCK" sessions
expect "$T_NAME/sessions" 0 ""
n=$(grep -c "zeek-pipelined-requests\|cs-http_ip4and6" "$T_TMP/out")
t_eq "$T_NAME/sessions/lists-both" 2 "$n"

ctl --socket "$T_SOCK" --json show
expect "$T_NAME/show/json" 0 ""
if python3 -m json.tool "$T_TMP/out" >/dev/null 2>&1; then
	t_pass "$T_NAME/show/json-valid"
else
	t_fail "$T_NAME/show/json-valid" "python3 -m json.tool refuses it"
fi
got=$(t_json "$T_TMP/out" '"%s %s %s" % (d["htracr"], d["session"]["id"], sorted(k for k in d))')
t_eq "$T_NAME/show/json-shape" \
    "1 $NGID ['connections', 'dns', 'htracr', 'servers', 'session', 'transactions']" \
    "$got"
got=$(t_json "$T_TMP/out" 'sorted(set(c["ip_version"] for c in d["connections"]))')
t_eq "$T_NAME/show/json-ipv6" "[4, 6]" "$got"

ctl --socket "$T_SOCK" show 1 --packets
expect "$T_NAME/show/text" 0 ""
for s in SERVERS CONNECTIONS TRANSACTIONS; do
	grep -q "^$s" "$T_TMP/out" || t_fail "$T_NAME/show/text-$s" "no $s table"
done
ctl --socket "$T_SOCK" show 999
expect "$T_NAME/show/no-such-session" 1 "not_found"
ctl --socket "$T_SOCK" show 1 --waterfall --width 100
expect "$T_NAME/show/waterfall" 0 ""
ctl --socket "$T_SOCK" show 1 --txn 2
expect "$T_NAME/show/txn" 0 ""
grep -q "^request .*GET /script/urchin.js HTTP/1.1" "$T_TMP/out" &&
    t_pass "$T_NAME/show/txn-request-line" ||
    t_fail "$T_NAME/show/txn-request-line" "$(head -n 2 "$T_TMP/out" | tail -n 1)"
ctl --socket "$T_SOCK" show 1 --txn 99
expect "$T_NAME/show/no-such-txn" 1 "no transaction 99"
ctl --socket "$T_SOCK" show 1 --conn 1
expect "$T_NAME/show/conn" 0 ""
ctl --socket "$T_SOCK" show 1 --status nonsense
expect "$T_NAME/show/bad-status-filter" 2 "bad status"

ctl --socket "$T_SOCK" --json status
expect "$T_NAME/status/json" 0 ""
got=$(t_json "$T_TMP/out" 'd["capture"]')
t_eq "$T_NAME/status/no-capture" "false" "$got"
ctl --socket "$T_SOCK" start --ports 80
expect "$T_NAME/start/unavailable" 1 "unavailable"

# pcap dumps: written by the client, read back by tcpdump.
ctl --socket "$T_SOCK" dump --format pcap -o "$T_TMP/one.pcap" 1
expect "$T_NAME/dump/pcap" 0 ""
if command -v tcpdump >/dev/null 2>&1; then
	a=$(tcpdump -nn -r "$PIPE" 2>/dev/null | md5sum)
	b=$(tcpdump -nn -r "$T_TMP/one.pcap" 2>/dev/null | md5sum)
	t_eq "$T_NAME/dump/pcap-same-frames" "$a" "$b"
	# and the snap length the file had (65535, not the daemon's own)
	snaps=$(python3 -c 'import struct, sys
print(*[struct.unpack("<I", open(f, "rb").read(20)[16:20])[0] for f in sys.argv[1:]])' "$PIPE" "$T_TMP/one.pcap")
	t_eq "$T_NAME/dump/pcap-same-snaplen" "65535 65535" "$snaps"
fi
mode=$(stat -c %a "$T_TMP/one.pcap")
t_eq "$T_NAME/dump/mode-0600" 600 "$mode"
ctl --socket "$T_SOCK" dump --format pcap -o "$T_TMP/one.pcap" 1
expect "$T_NAME/dump/refuses-existing" 1 "already exists; use --force"
chmod 0644 "$T_TMP/one.pcap"
ctl --socket "$T_SOCK" dump --format pcap --force -o "$T_TMP/one.pcap" 1
expect "$T_NAME/dump/force-overwrites" 0 ""
t_eq "$T_NAME/dump/force-mode-0600" 600 "$(stat -c %a "$T_TMP/one.pcap")"
mkfifo "$T_TMP/fifo.pcap"
# (a FIFO with no reader must fail, not hang: bounded all the same)
timeout 10 "$HTRACRCTL" --socket "$T_SOCK" dump --format pcap --force \
    -o "$T_TMP/fifo.pcap" 1 >"$T_TMP/out" 2>"$T_TMP/err"
echo $? >"$T_TMP/rc"
expect "$T_NAME/dump/force-fifo-without-reader" 1 "No such device"
ln -s "$T_TMP/victim" "$T_TMP/link.pcap"
ctl --socket "$T_SOCK" dump --format pcap -o "$T_TMP/link.pcap" 1
expect "$T_NAME/dump/refuses-symlink" 1 "symbolic link"
ctl --socket "$T_SOCK" dump --format pcap --force -o "$T_TMP/link.pcap" 1
expect "$T_NAME/dump/refuses-symlink-forced" 1 "symbolic link"
[ -e "$T_TMP/victim" ] &&
    t_fail "$T_NAME/dump/symlink-target-untouched" "the link's target exists" ||
    t_pass "$T_NAME/dump/symlink-target-untouched"
t_daemon_stop

# --- analyze: a private daemon of its own ---------------------------------------
# Its temporary directories go here, so the clean-up can be checked.
mkdir "$T_TMP/td"
TMPDIR=$T_TMP/td; export TMPDIR
if [ -f "$PIPE" ]; then
	ctl analyze "$PIPE" --json
	expect "$T_NAME/analyze/json" 0 ""
	got=$(t_json "$T_TMP/out" 'len(d["transactions"])')
	t_eq "$T_NAME/analyze/5-transactions" 5 "$got"
	want=$(tail -n +2 "$CORPUS/tshark/zeek-pipelined-requests.pcap.tsv" | cut -f4 |
	    tr ' ' '\n' | grep -v '^$' | tr '\n' ' ')
	got=$(t_json "$T_TMP/out" '" ".join(t["request"]["target"] for t in d["transactions"]) + " "')
	t_eq "$T_NAME/analyze/targets" "$want" "$got"

	ctl analyze "$PIPE" -o "$T_TMP/a.json" --format json
	expect "$T_NAME/analyze/output-file" 0 ""
	python3 -m json.tool "$T_TMP/a.json" >/dev/null 2>&1 &&
	    t_pass "$T_NAME/analyze/output-file-json" ||
	    t_fail "$T_NAME/analyze/output-file-json" "not valid JSON"
	ctl analyze "$PIPE" -o "$T_TMP/a.json" --format json
	expect "$T_NAME/analyze/output-exists" 1 "already exists"
	ctl analyze "$PIPE" -o "$T_TMP/a.json" --format text --force
	expect "$T_NAME/analyze/output-force" 0 ""
	grep -q "^TRANSACTIONS" "$T_TMP/a.json" &&
	    t_pass "$T_NAME/analyze/output-force-replaced" ||
	    t_fail "$T_NAME/analyze/output-force-replaced" "old content kept"
	ln -s "$T_TMP/victim2" "$T_TMP/link.json"
	ctl analyze "$PIPE" -o "$T_TMP/link.json" --force
	expect "$T_NAME/analyze/output-symlink" 1 "symbolic link"
	ctl analyze "$PIPE" --format pcap -o "$T_TMP/a.pcap"
	expect "$T_NAME/analyze/pcap" 0 ""
	if [ -f "$CORPUS/zeek-100-continue.pcap" ]; then
		ctl analyze "$CORPUS/zeek-100-continue.pcap"
		grep -q " POST  *100>200 " "$T_TMP/out" &&
		    t_pass "$T_NAME/analyze/text-interim-status" ||
		    t_fail "$T_NAME/analyze/text-interim-status" \
		    "no 'POST 100>200' row"
	fi
	# No root needed: a user with nothing but the file.
	if [ "$NOBODY" = yes ] && as_nobody test -r "$PIPE"; then
		TMPDIR=/tmp as_nobody "$HTRACRCTL" analyze "$PIPE" --json \
		    >"$T_TMP/out" 2>"$T_TMP/err"
		echo $? >"$T_TMP/rc"
		expect "$T_NAME/analyze/unprivileged" 0 ""
		got=$(t_json "$T_TMP/out" 'len(d["transactions"])')
		t_eq "$T_NAME/analyze/unprivileged-5-transactions" 5 "$got"
	else
		t_skip "$T_NAME/analyze/unprivileged" \
		    "needs root, setpriv and files nobody can read"
	fi
	# The private daemon keeps packet records only when they are shown.
	ctl analyze "$PIPE" --json
	got=$(t_json "$T_TMP/out" '[d["session"]["packets_kept"], sum(len(c.get("packets", [])) for c in d["connections"])]')
	t_eq "$T_NAME/analyze/no-packet-records" "[false, 0]" "$got"
	got=$(t_json "$T_TMP/out" '[d["session"]["headers_kept"], all(len(t["request"]["headers"]) > 1 for t in d["transactions"])]')
	t_eq "$T_NAME/analyze/json-keeps-headers" "[true, true]" "$got"
	ctl analyze "$PIPE" --json --packets
	got=$(t_json "$T_TMP/out" '[d["session"]["packets_kept"], sum(len(c["packets"]) for c in d["connections"]) == d["session"]["counters"]["frames"]]')
	t_eq "$T_NAME/analyze/packet-records" "[true, true]" "$got"
	# Cut short, as by a killed tcpdump: the frames before the cut count.
	head -c 30000 "$PIPE" >"$T_TMP/cut.pcap"
	ctl analyze "$T_TMP/cut.pcap" --json
	expect "$T_NAME/analyze/cut-short" 0 "unreadable after frame"
	got=$(t_json "$T_TMP/out" 'd["session"]["counters"]["frames"] > 0')
	t_eq "$T_NAME/analyze/cut-short-frames" true "$got"
	# A file cut short by someone else after htracrctl opened it: a
	# preloaded sendmsg truncates the file it hands over to its private
	# daemon to 30,000 bytes, as a writer could; a preloaded sendfile
	# truncates what load sends where it stands (load walks the file
	# itself, so it knows how much it meant to send).
	cat >"$T_TMP/shrink.c" <<'EOF2'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
static void
shrink(int fd, off_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)truncate(path, len);
}
ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	static ssize_t (*real)(int, int, off_t *, size_t);
	if (real == NULL)
		real = (ssize_t (*)(int, int, off_t *, size_t))dlsym(RTLD_NEXT,
		    "sendfile");
	shrink(in, *off);
	return (real(out, in, off, n));
}
ssize_t
sendmsg(int s, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	struct cmsghdr *c;
	int fd;
	if (real == NULL)
		real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(
		    RTLD_NEXT, "sendmsg");
	for (c = CMSG_FIRSTHDR(m); c != NULL;
	    c = CMSG_NXTHDR((struct msghdr *)m, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS) {
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			shrink(fd, 30000);
		}
	return (real(s, m, flags));
}
EOF2
	cp "$PIPE" "$T_TMP/shrink.pcap"
	chmod 0644 "$T_TMP/shrink.pcap"
	if cc -shared -fPIC -o "$T_TMP/shrink.so" "$T_TMP/shrink.c" -ldl \
	    2>"$T_TMP/cc.err"; then
		# The sanitizer build's runtime wants to be first of all
		# libraries: the preloaded one goes before it.
		env LD_PRELOAD="$T_TMP/shrink.so" \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		    "$HTRACRCTL" analyze --json \
		    "$T_TMP/shrink.pcap" >"$T_TMP/out" 2>"$T_TMP/err"
		echo $? >"$T_TMP/rc"
		expect "$T_NAME/analyze/file-shrank" 0 \
		    "unreadable after frame [1-9][0-9]* (the file became shorter while it was read)"
		got=$(t_json "$T_TMP/out" 'd["session"]["counters"]["frames"] > 0')
		t_eq "$T_NAME/analyze/file-shrank-frames" true "$got"
	else
		t_fail "$T_NAME/analyze/file-shrank" "$(head -n 1 "$T_TMP/cc.err")"
	fi
	# A nanosecond pcap as the daemon takes it straight from the file:
	# analyze's own daemon finds the records in split blobs and takes a
	# frame longer than one message whole; load's blobs hold whole
	# records, so there it is cut, alone, and said so. A length below
	# the captured length is taken as the captured one (bytes counts
	# lengths on the wire: 60 + 262140 + 60).
	python3 - "$T_TMP/ns.pcap" <<'EOF2'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
    for sec, ns, cap, length in ((1700000000, 987654321, 60, 60),
                                 (1700000001, 5000, 262140, 262140),
                                 (1700000002, 0, 60, 20)):
        f.write(struct.pack("=IIII", sec, ns, cap, length) + b"\0" * cap)
EOF2
	ctl analyze "$T_TMP/ns.pcap" --json
	expect "$T_NAME/analyze/pcap-ns-long-frame" 0 ""
	t_eq "$T_NAME/analyze/pcap-ns-long-frame-whole" "" "$(cat "$T_TMP/err")"
	got=$(t_json "$T_TMP/out" '[d["session"]["counters"]["frames"], d["session"]["counters"]["bytes"], d["session"]["first_frame_us"], d["session"]["last_frame_us"]]')
	t_eq "$T_NAME/analyze/pcap-ns-frames" \
	    "[3, 262260, 1700000000987654, 1700000002000000]" "$got"
	# load's side: a private daemon again (the first one is stopped).
	if ! t_daemon_start; then
		t_fail "$T_NAME/daemon-again" "private htracrd did not start: $(tail -n 1 "$T_TMP/htracrd.log")"
	fi
	if [ -e "$T_TMP/shrink.so" ]; then
		cp "$PIPE" "$T_TMP/shrink.pcap"
		env LD_PRELOAD="$T_TMP/shrink.so" \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		    "$HTRACRCTL" --socket "$T_SOCK" load \
		    "$T_TMP/shrink.pcap" >"$T_TMP/out" 2>"$T_TMP/err"
		echo $? >"$T_TMP/rc"
		expect "$T_NAME/load/file-shrank" 1 \
		    "the capture file became shorter while it was read"
	fi
	ctl --socket "$T_SOCK" --json load "$T_TMP/ns.pcap"
	expect "$T_NAME/load/pcap-ns-long-frame" 0 \
	    "1 frames longer than 262128 bytes were cut"
	got=$(t_json "$T_TMP/out" '[d["counters"]["frames"], d["counters"]["bytes"]]')
	t_eq "$T_NAME/load/pcap-ns-frames" "[3, 262260]" "$got"
	# Split blobs of 256 KiB: the second record's header is cut after
	# 8 bytes by the first blob's end and the record ends in the third
	# blob; then a record whose header says more than any snap length,
	# and the frames before it are what counts, as when load reads the
	# file itself; then a file that ends inside a record header.
	python3 - "$T_TMP/split.pcap" "$T_TMP/bad.pcap" "$T_TMP/hdr.pcap" <<'EOF2'
import struct, sys
head = struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)
def rec(sec, cap):
    return struct.pack("=IIII", sec, 0, cap, cap) + bytes([sec % 251]) * cap
with open(sys.argv[1], "wb") as f:
    f.write(head + rec(1, 262120) + rec(2, 262144) + rec(3, 60))
with open(sys.argv[2], "wb") as f:
    f.write(head + rec(1, 60) + rec(2, 70) +
            struct.pack("=IIII", 3, 0, 0x7fffffff, 60) + b"\0" * 300)
with open(sys.argv[3], "wb") as f:
    f.write(head + rec(1, 60) + rec(2, 70) + rec(3, 80)[:10])
EOF2
	ctl analyze "$T_TMP/split.pcap" --json
	expect "$T_NAME/analyze/split-3-blobs" 0 ""
	got=$(t_json "$T_TMP/out" '[d["session"]["counters"]["frames"], d["session"]["counters"]["bytes"], d["session"]["last_frame_us"]]')
	t_eq "$T_NAME/analyze/split-3-blobs-frames" "[3, 524324, 3000000]" "$got"
	for f in bad hdr; do
		ctl analyze "$T_TMP/$f.pcap" --json
		got=$(t_json "$T_TMP/out" 'd["session"]["counters"]["frames"]')
		sed "s/ after frame [0-9]*/ after frame N/" "$T_TMP/err" \
		    >"$T_TMP/err.$f.analyze"
		ctl --socket "$T_SOCK" --json load "$T_TMP/$f.pcap"
		sed "s/ after frame [0-9]*/ after frame N/" "$T_TMP/err" \
		    >"$T_TMP/err.$f.load"
		t_eq "$T_NAME/analyze/split-$f-frames" "2 2" \
		    "$got $(t_json "$T_TMP/out" 'd["counters"]["frames"]')"
		t_check "$T_NAME/analyze/split-$f-says-as-load" \
		    cmp -s "$T_TMP/err.$f.analyze" "$T_TMP/err.$f.load"
	done
	grep -q "unreadable after frame N (frame longer than any snap length)" \
	    "$T_TMP/err.bad.analyze" &&
	    t_pass "$T_NAME/analyze/split-bad-record" ||
	    t_fail "$T_NAME/analyze/split-bad-record" "$(cat "$T_TMP/err.bad.analyze")"
	grep -q "unreadable after frame N (truncated frame header)" \
	    "$T_TMP/err.hdr.analyze" &&
	    t_pass "$T_NAME/analyze/split-cut-header" ||
	    t_fail "$T_NAME/analyze/split-cut-header" "$(cat "$T_TMP/err.hdr.analyze")"
	t_daemon_stop
	HTRACR_DAEMON=/bin/false; export HTRACR_DAEMON
	ctl analyze "$PIPE"
	expect "$T_NAME/analyze/daemon-fails" 1 \
	    "private htracrd exited with status 1"
	HTRACR_DAEMON=$T_TMP/no-such-daemon
	ctl analyze "$PIPE"
	expect "$T_NAME/analyze/daemon-missing" 1 \
	    "cannot run $T_TMP/no-such-daemon"
	unset HTRACR_DAEMON
	# A reader that stops early must not leave the private daemon behind.
	"$HTRACRCTL" analyze "$CORPUS/zeek-bro.org.pcap" | head -n 1 >/dev/null
	left=$(ls -A "$T_TMP/td")
	t_eq "$T_NAME/analyze/cleans-up" "" "$left"
	if pgrep -f "$T_TMP/td/" >/dev/null 2>&1; then
		t_fail "$T_NAME/analyze/no-daemon-left" \
		    "$(pgrep -af "$T_TMP/td/" | head -n 1)"
		for p in $(pgrep -f "$T_TMP/td/"); do t_kill "$p"; done
	else
		t_pass "$T_NAME/analyze/no-daemon-left"
	fi
else
	t_skip "$T_NAME/analyze" "no zeek-pipelined-requests.pcap in the corpus"
fi
t_exit
