#!/bin/sh
# 059-diff: `htracrctl diff` on two live captures of the same page,
# before and after changes made to the servers here: nginx with gzip on,
# then off, with one asset removed (404) and a new one added, and
# tests/regress/slowserver.py answering an API call, then restarted 200
# ms slower; the client asks the API with its parameters in another
# order the second time. diff must show per host the compression gone
# and the bytes grown, per URL the new and the vanished one, the 404,
# the API's total time up by 200 ms +-60 ms and first by impact; with
# --query sort the reordered query is one URL, with keep two. Needs root
# and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd python3 curl nginx jq
t_need_bins
t_tmpdir

SRV=10.231.59.1
CLI=10.231.59.2
API=8059
SOCK=$T_TMP/s
WWW=$T_TMP/www
ctl() {
	timeout 60 "$HTRACRCTL" --socket "$SOCK" "$@"
}

t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
t_veth srv "$SRV/24" cli "$CLI/24" || t_skip_all "cannot create a veth pair"

mkdir -p "$WWW" "$T_TMP/nginx"
printf '<html><body>diff test</body></html>\n' >"$WWW/index.html"
python3 -c 'import sys
for i in range(2000):
	sys.stdout.write("var line%05d = \"a script that compresses well\";\n" % i)' \
    >"$WWW/app.js"
printf 'body { color: black; }\n' >"$WWW/style.css"

# $1: on or off.
nginx_conf() {
	cat >"$T_TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $T_TMP/nginx/nginx.pid;
error_log $T_TMP/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T_TMP/nginx/body;
	types { text/html html; application/javascript js; text/css css; }
	gzip $1;
	gzip_types application/javascript text/css;
	gzip_min_length 100;
	server { listen $SRV:80; root $WWW; }
}
EOF
}
NGINX=
nginx_start() {
	nginx_conf "$1"
	T_BG_LOG=$T_TMP/nginx/stderr t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    nginx -p "$T_TMP/nginx" -c "$T_TMP/nginx/nginx.conf"
	NGINX=$T_BG_PID
	t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 "http://$SRV/"
}
API_PID=
api_start() {
	T_BG_LOG=$T_TMP/api.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    python3 "$T_ROOT/tests/regress/slowserver.py" "$SRV" "$API" "$1"
	API_PID=$T_BG_PID
	t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 \
	    "http://$SRV:$API/think?ms=0"
}

T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
    "$HTRACRD" --foreground --socket "$SOCK"
if ! t_wait_for 10 test -S "$SOCK" || ! t_wait_for 5 ctl status; then
	t_fail "$T_NAME/daemon" "$(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi

# The page: one keep-alive connection to nginx, then the API call
# three times ($1: its query).
page() {
	t_ns cli curl -s --compressed --max-time 20 -o /dev/null -o /dev/null \
	    -o /dev/null "http://$SRV/" "http://$SRV/app.js" \
	    "http://$SRV/style.css"
	for i in 1 2 3; do
		t_ns cli curl -s -o /dev/null --max-time 20 "http://$SRV:$API/think?$1"
	done
}

nginx_start on
api_start 0
t_check "$T_NAME/start-a" ctl start --ports "80,$API" --interface "$T_VETH_B"
page "ms=10&v=1"
t_check "$T_NAME/stop-a" ctl stop
A=$(ctl sessions --json | jq '.sessions[-1].id')

# The change: gzip off, style.css gone, new.js added, the API slower.
t_kill "$NGINX"
t_kill "$API_PID"
rm "$WWW/style.css"
cp "$WWW/app.js" "$WWW/new.js"
nginx_start off
api_start 200
t_check "$T_NAME/start-b" ctl start --ports "80,$API" --interface "$T_VETH_B"
page "v=1&ms=10"
t_ns cli curl -s --compressed --max-time 20 -o /dev/null "http://$SRV/new.js"
t_check "$T_NAME/stop-b" ctl stop
B=$(ctl sessions --json | jq '.sessions[-1].id')

ctl diff "$A" "$B" --query sort --json >"$T_TMP/sort.json" 2>"$T_TMP/d.err" ||
    t_fail "$T_NAME/diff-json" "$(head -n 1 "$T_TMP/d.err")"
ctl diff "$A" "$B" --json >"$T_TMP/keep.json"
ctl diff "$A" "$B" >"$T_TMP/diff.txt" 2>&1 ||
    t_fail "$T_NAME/diff-text" "$(head -n 1 "$T_TMP/diff.txt")"

python3 - "$T_TMP" "$SRV" "$API" <<'PY' | sed "s#^\(PASS\|FAIL\): #\1: 059-diff/#"
import json, sys
tmp, srv, api = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open(tmp + "/sort.json"))
k = json.load(open(tmp + "/keep.json"))

def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))

hosts = {h["key"]: h for h in s["hosts"]}
urls = {u["key"]: u for u in s["urls"]}
web = hosts.get(srv + ":80")
case("host-web", web is not None and web["change"] == "both", sorted(hosts))
if web:
    a, b = web["a"], web["b"]
    case("host-compression-gone", a["compressed"] >= 1 and b["compressed"] == 0,
         "%d -> %d" % (a["compressed"], b["compressed"]))
    case("host-bytes-grew", b["wire_bytes"] > 2 * a["wire_bytes"],
         "%d -> %d" % (a["wire_bytes"], b["wire_bytes"]))
    case("host-connections", a["connections_opened"] == 1 and b["connections_opened"] == 2,
         "%d -> %d" % (a["connections_opened"], b["connections_opened"]))
new = urls.get(srv + ":80/new.js")
case("url-new", new is not None and new["change"] == "new" and new["a"] is None
     and new["b"]["transactions"] == 1, repr(new)[:200])
css = urls.get(srv + ":80/style.css")
case("url-404", css is not None and css["a"]["statuses"] == {"200": 1}
     and css["b"]["statuses"] == {"404": 1}, repr(css)[:200])
key = "%s:%s/think?ms=10&v=1" % (srv, api)
apiu = urls.get(key)
if apiu is None:
    case("url-api", False, "no %s in %s" % (key, sorted(urls)))
else:
    d = (apiu["b"]["total_median_us"] - apiu["a"]["total_median_us"]) / 1000.0
    case("url-api-slower", abs(d - 200) <= 60 and apiu["a"]["transactions"] == 3
         and apiu["b"]["transactions"] == 3, "total median up %.1f ms" % d)
    case("url-api-first", s["urls"][0]["key"] == key, s["urls"][0]["key"])
imp = [abs(u["impact_us"]) for u in s["urls"]]
case("sorted-by-impact", imp == sorted(imp, reverse=True), repr(imp))
kept = [u for u in k["urls"] if ":%s/think" % api in u["key"]]
case("query-keep-splits", sorted(u["change"] for u in kept) == ["gone", "new"],
     repr([(u["key"], u["change"]) for u in kept]))
case("query-field", s["query"] == "sort" and k["query"] == "keep", "%s %s" % (s["query"], k["query"]))
PY
grep -q "(new)" "$T_TMP/diff.txt" && grep -q "(gone)" "$T_TMP/diff.txt" &&
    t_pass "$T_NAME/text-new-gone" ||
    t_fail "$T_NAME/text-new-gone" "$(head -n 5 "$T_TMP/diff.txt")"
# A request that got no answer (no waits to rank on either side), its
# query only separators (no parts to sort).
python3 - "$T_TMP/noanswer.pcap" <<'PY'
import struct, sys
def frame(src, dst, sp, dp, seq, ack, flags, data=b""):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), 1, 0, 64, 6,
                     0, bytes(src), bytes(dst))
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 512, 0, 0)
    return b"\0\1\2\3\4\5\0\1\2\3\4\6\x08\x00" + ip + tcp + data
c, s = [10, 0, 0, 2], [10, 0, 0, 1]
get = b"GET /unanswered?&& HTTP/1.1\r\nHost: x\r\n\r\n"
frames = [frame(c, s, 40000, 80, 100, 0, 0x02),
          frame(s, c, 80, 40000, 500, 101, 0x12),
          frame(c, s, 40000, 80, 101, 501, 0x10),
          frame(c, s, 40000, 80, 101, 501, 0x18, get)]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, x in enumerate(frames):
        f.write(struct.pack("=IIII", 1700000000, i * 1000, len(x), len(x)) + x)
PY
ctl load "$T_TMP/noanswer.pcap" >/dev/null 2>&1
ctl load "$T_TMP/noanswer.pcap" >/dev/null 2>&1
N=$(ctl sessions --json | jq '.sessions[-1].id')
if ctl diff --query sort "$((N - 1))" "$N" >"$T_TMP/noanswer.txt" 2>&1 &&
    grep -q "/unanswered" "$T_TMP/noanswer.txt"; then
	t_pass "$T_NAME/unanswered"
else
	t_fail "$T_NAME/unanswered" "$(head -n 1 "$T_TMP/noanswer.txt")"
fi

if ctl diff "$A" 999 >/dev/null 2>&1; then
	t_fail "$T_NAME/no-such-session" "exit 0"
else
	t_pass "$T_NAME/no-such-session"
fi
t_exit
