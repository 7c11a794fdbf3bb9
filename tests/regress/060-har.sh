#!/bin/sh
# 060-har: HAR 1.2 output. A document with every kind of transaction and
# hostile wire strings goes through render_har; real corpus captures go
# through "htracrctl analyze FILE --format har". Every HAR is checked by
# the independent har-validator package (npm), then against its input:
# entry count, URLs, statuses, timings that add up, wire strings intact.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_cmd python3
t_tmpdir
b_docrender
b_need_node_modules

VALIDATE=$B_DIR/validate-har.js

# $1 case name, $2 HAR file: PASS when har-validator accepts it.
validate() {
	if node "$VALIDATE" "$2" >"$2.v" 2>&1 && head -n 1 "$2.v" | grep -qx valid; then
		t_pass "$1"
	else
		t_fail "$1" "$(head -c 300 "$2.v")"
	fi
}

python3 "$B_DIR/mkdoc.py" sample "$T_TMP/s.mp" "$T_TMP/s.json"
if "$DOCRENDER" har "$T_TMP/s.mp" >"$T_TMP/s.har"; then
	t_pass "$T_NAME/sample-render"
else
	t_fail "$T_NAME/sample-render" "render_har failed"
fi
validate "$T_NAME/sample-valid" "$T_TMP/s.har"

# The HAR against the document it came from.
python3 - "$T_TMP/s.json" "$T_TMP/s.har" <<'PY' >"$T_TMP/s.cmp"
import json, sys
d = json.load(open(sys.argv[1]))
h = json.load(open(sys.argv[2]))["log"]
ents = h["entries"]
def case(name, ok, why=""):
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)))
case("sample-entries", len(ents) == len(d["transactions"]),
     "%d entries for %d transactions" % (len(ents), len(d["transactions"])))
bad = []
for t, e in zip(d["transactions"], ents):
    rs = t["response"]
    want = rs["status"] if rs and rs["status"] is not None else 0
    if e["response"]["status"] != want or e["request"]["method"] != t["request"]["method"]:
        bad.append(t["id"])
    if e["connection"] != str(t["connection"]):
        bad.append(t["id"])
    tm = e["timings"]
    # HAR 1.2: ssl is inside connect, so the entry's time counts it once.
    total = sum(v for k, v in tm.items() if k in ("blocked", "dns", "connect", "send", "wait", "receive") and v > 0)
    if abs(total - e["time"]) > 0.01:
        bad.append(t["id"])
    w = t["timings"]["wait_us"]
    if (w is None and tm["wait"] != -1) or (w is not None and abs(tm["wait"] - w / 1000) > 0.001):
        bad.append(t["id"])
case("sample-fields", not bad, "transactions %s differ" % sorted(set(bad)))
# Wire strings arrive intact where JSON can hold them; bytes that are not
# UTF-8 become U+FFFD rather than breaking the file.
evil = [x["value"] for e in ents for x in e["request"]["headers"] if x["name"] == "X-Evil"]
case("sample-wire-strings", evil == ["</script>\u2028\x07\ufffd\ufffd'\"<b>"], repr(evil))
urls = [e["request"]["url"] for e in ents]
case("sample-urls", all(u.startswith("https://" if "api." in u else "http://")
     and " " not in u and "<" not in u for u in urls)
     and "http://www.example.com/app.js?v=3&debug" in urls
     and "http://[2001:db8::1]:8080/stream" in urls, repr(urls))
q = [e["request"]["queryString"] for e in ents if e["request"]["url"].endswith("debug")]
case("sample-query", q == [[{"name": "v", "value": "3"}, {"name": "debug", "value": ""}]], repr(q))
# The first transaction on the TLS connection: ssl, and inside connect.
conns = {c["id"]: c for c in d["connections"]}
ssl = [(e["timings"]["ssl"], e["timings"]["connect"]) for t, e in zip(d["transactions"], ents)
       if conns[t["connection"]].get("tls")]
case("sample-ssl", len(ssl) == 3 and ssl[0][0] == 7.0 and abs(ssl[0][1] - 12.0) < 0.001
     and all(s == -1 for s, _ in ssl[1:]), repr(ssl))
gz = [e["response"]["content"] for e in ents if e["request"]["url"] == "http://www.example.com/"]
t1 = d["transactions"][0]["response"]
case("sample-compression", gz and gz[0]["size"] == t1["decoded_bytes"]
     and gz[0]["compression"] == t1["decoded_bytes"] - t1["body_bytes"], repr(gz))
PY
sed "s/^\(PASS\|FAIL\): /\1: $T_NAME\//" "$T_TMP/s.cmp"
grep -q '^FAIL' "$T_TMP/s.cmp" && T_FAILED=1

# Real captures through the whole client: analyze, then HAR.
if CORPUS=$(t_shared corpus); then
	t_need_bins
	for f in "$CORPUS"/*.pcap "$CORPUS"/*.pcapng; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		name="$T_NAME/$base"
		har="$T_TMP/$base.har"
		if ! timeout 120 "$HTRACRCTL" analyze "$f" --format har -o "$har" \
		    >"$T_TMP/$base.err" 2>&1; then
			t_fail "$name/analyze" "$(head -n 1 "$T_TMP/$base.err")"
			continue
		fi
		validate "$name/valid" "$har"
		b_tshark_targets "$CORPUS/tshark/$base.tsv" >"$T_TMP/$base.want"
		python3 - "$har" "$T_TMP/$base.want" <<'PY' >"$T_TMP/$base.cmp"
import json, sys
ents = json.load(open(sys.argv[1]))["log"]["entries"]
want = open(sys.argv[2]).read().split()
got = []
for e in ents:
    u = e["request"]["url"]
    p = u[u.index("/", 7):] if u.count("/") >= 3 else "/"
    got.append(p)
missing = [w for w in want if w not in got]
ok = len(ents) == len(want) and not missing and all(e.get("serverIPAddress") for e in ents)
print("PASS" if ok else "FAIL: %d entries, tshark saw %d requests, missing %s" % (len(ents), len(want), missing[:3]))
PY
		r=$(cat "$T_TMP/$base.cmp")
		if [ "$r" = PASS ]; then
			t_pass "$name/requests"
		else
			t_fail "$name/requests" "${r#FAIL: }"
		fi
	done
else
	t_skip "$T_NAME/corpus" "../shared/corpus is absent"
fi
t_exit
