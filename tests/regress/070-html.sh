#!/bin/sh
# 070-html: the self-contained HTML timeline, opened in real headless
# chromium (Debian's /usr/bin/chromium driven by playwright-core). For a
# hostile document and for a corpus capture through "htracrctl analyze
# --format html": no console errors, no network request, every
# transaction listed, a click opens the inspector on the right target,
# the document the page unpacks from its packed data is htracrctl's
# JSON of the same session,
# the keyboard moves the selection and zooms; a click on a row's hide
# mark takes a connection or a server out of the timeline and the list,
# and the buttons bring them back. Saves the screenshot
# tests/browser/out/timeline.png. Chromium prints the capture's page
# to PDF with its print stylesheet: pages, a target as text, one
# connection per row and none of the controls (pdftotext, pdfinfo).
# A 10,000-transaction capture is loaded
# and scrolled; its times are reported, not asserted.
. "$(dirname "$0")/lib.sh"
. "$T_ROOT/tests/browser/prep.sh"

t_need_cmd python3
t_tmpdir
b_docrender
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || t_skip_all "$CHROMIUM is not installed (apt-get install chromium)"
export CHROMIUM
b_need_node_modules
TIMELINE=$B_DIR/timeline.js
mkdir -p "$B_DIR/out"

# $1 prefix, $2 page, $3 expectations, $4 screenshot
browse() {
	timeout 180 node "$TIMELINE" check "$2" "$3" "$4" >"$T_TMP/b.out" 2>&1
	rc=$?
	sed "s#^\(PASS\|FAIL\|SKIP\): #\1: $1/#" "$T_TMP/b.out"
	grep -q '^FAIL' "$T_TMP/b.out" && T_FAILED=1
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$T_TMP/b.out"; then
		t_fail "$1/browser" "node exited $rc"
	fi
}

# $1 prefix, $2 page: hiding and showing servers and connections.
hide() {
	timeout 180 node "$TIMELINE" hide "$2" >"$T_TMP/h.out" 2>&1
	rc=$?
	sed "s#^\(PASS\|FAIL\|SKIP\): #\1: $1/#" "$T_TMP/h.out"
	grep -q '^FAIL' "$T_TMP/h.out" && T_FAILED=1
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$T_TMP/h.out"; then
		t_fail "$1/hide-browser" "node exited $rc"
	fi
}

# $1 prefix, $2 page, $3 the same session as htracrctl's JSON: what the
# page unpacks from its packed data is that document.
same() {
	timeout 180 node "$TIMELINE" same "$2" "$3" >"$T_TMP/sm.out" 2>&1
	rc=$?
	sed "s#^\(PASS\|FAIL\|SKIP\): #\1: $1/#" "$T_TMP/sm.out"
	grep -q '^FAIL' "$T_TMP/sm.out" && T_FAILED=1
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$T_TMP/sm.out"; then
		t_fail "$1/same-browser" "node exited $rc"
	fi
}

# $1 prefix, $2 page, $3 expectations: chromium prints it to PDF; the
# PDF has pages, a short target of the capture as text, and none of the
# page's controls.
print_check() {
	timeout 180 node "$TIMELINE" print "$2" "$T_TMP/print.pdf" >"$T_TMP/pr.out" 2>&1
	rc=$?
	sed "s#^\(PASS\|FAIL\|SKIP\): #\1: $1/#" "$T_TMP/pr.out"
	grep -q '^FAIL' "$T_TMP/pr.out" && T_FAILED=1
	if [ "$rc" -ne 0 ]; then
		t_fail "$1/print-browser" "node exited $rc: $(tail -n 1 "$T_TMP/pr.out")"
		return
	fi
	if ! command -v pdftotext >/dev/null 2>&1; then
		t_skip "$1/print-pdf" "pdftotext is not installed (poppler-utils)"
		return
	fi
	pages=$(pdfinfo "$T_TMP/print.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
	[ "${pages:-0}" -gt 0 ] && t_pass "$1/print-pages" ||
	    t_fail "$1/print-pages" "pdfinfo says '${pages:-nothing}'"
	pdftotext -layout "$T_TMP/print.pdf" "$T_TMP/print.txt"
	want=$(python3 -c 'import json, sys
t = [x for x in json.load(open(sys.argv[1]))["targets"] if 4 < len(x) < 30]
print(t[0] if t else "")' "$3")
	if [ -n "$want" ] && grep -qF "GET $want 200" "$T_TMP/print.txt"; then
		t_pass "$1/print-has-target"
	else
		t_fail "$1/print-has-target" "no 'GET $want 200' in the PDF's text"
	fi
	ctl=$(grep -oiE 'zoom|filter|show all|packets|states' "$T_TMP/print.txt" | sort -u | paste -sd,)
	t_eq "$1/print-no-controls" "" "$ctl"
}

# The hostile document: the page must keep its markup its own.
python3 "$B_DIR/mkdoc.py" sample "$T_TMP/s.mp" "$T_TMP/s.json"
"$DOCRENDER" html "$T_TMP/s.mp" >"$T_TMP/s.html"
tpl=$(grep -c '</script>' "$T_ROOT/client/timeline.html")
got=$(grep -c '</script>' "$T_TMP/s.html")
t_eq "$T_NAME/sample-script-closed-once" "$tpl" "$got"
if grep -q "$(printf '\342\200\250')" "$T_TMP/s.html"; then
	t_fail "$T_NAME/sample-no-raw-u2028" "a raw U+2028 reached the page"
else
	t_pass "$T_NAME/sample-no-raw-u2028"
fi
python3 - "$T_TMP/s.json" >"$T_TMP/s.expect" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = [x["request"]["target"] for x in d["transactions"]]
print(json.dumps({"targets": [x for x in t if x.isprintable()], "click": t[len(t) // 2]}))
PY
browse "$T_NAME/sample" "$T_TMP/s.html" "$T_TMP/s.expect" "$B_DIR/out/sample.png"
hide "$T_NAME/sample" "$T_TMP/s.html"
"$DOCRENDER" json "$T_TMP/s.mp" >"$T_TMP/s.doc.json"
same "$T_NAME/sample" "$T_TMP/s.html" "$T_TMP/s.doc.json"

# A real capture through the whole client.
if CORPUS=$(t_shared corpus) && [ -f "$CORPUS/zeek-bro.org.pcap" ]; then
	t_need_bins
	if timeout 120 "$HTRACRCTL" analyze "$CORPUS/zeek-bro.org.pcap" \
	    --format html --packets -o "$T_TMP/bro.html" >"$T_TMP/bro.err" 2>&1; then
		b_tshark_targets "$CORPUS/tshark/zeek-bro.org.pcap.tsv" |
		    python3 -c 'import json, sys
t = sys.stdin.read().split()
print(json.dumps({"targets": t, "click": t[len(t) // 2]}))' >"$T_TMP/bro.expect"
		browse "$T_NAME/bro.org" "$T_TMP/bro.html" "$T_TMP/bro.expect" \
		    "$B_DIR/out/timeline.png"
		hide "$T_NAME/bro.org" "$T_TMP/bro.html"
		print_check "$T_NAME/bro.org" "$T_TMP/bro.html" "$T_TMP/bro.expect"
	else
		t_fail "$T_NAME/bro.org/analyze" "$(head -n 1 "$T_TMP/bro.err")"
	fi
else
	t_skip "$T_NAME/bro.org" "../shared/corpus/zeek-bro.org.pcap is absent"
fi

# The page and the JSON of one loaded session (frames, packets and
# headers kept): the document the page unpacks is the JSON's.
if [ -n "${CORPUS:-}" ] && [ -f "$CORPUS/zeek-bro.org.pcap" ]; then
	t_daemon_start
	if t_ctl load "$CORPUS/zeek-bro.org.pcap" >"$T_TMP/load.err" 2>&1 &&
	    t_ctl dump --format html --packets -o "$T_TMP/bro-s.html" &&
	    t_ctl dump --format json --packets -o "$T_TMP/bro-s.json"; then
		same "$T_NAME/bro.org" "$T_TMP/bro-s.html" "$T_TMP/bro-s.json"
	else
		t_fail "$T_NAME/bro.org/load-dump" "$(head -n 1 "$T_TMP/load.err")"
	fi
	t_daemon_stop
fi

# 10,000 transactions: a synthetic capture when analyze works, else the
# same count as a document. Times are reported only.
python3 "$B_DIR/mkpcap.py" 10000 "$T_TMP/big.pcap"
if [ -x "$HTRACRCTL" ] && timeout 300 "$HTRACRCTL" analyze "$T_TMP/big.pcap" \
    --format html --packets -o "$T_TMP/big.html" >"$T_TMP/big.err" 2>&1; then
	echo "INFO: 10,000-transaction page from analyze: $(wc -c <"$T_TMP/big.html") bytes"
else
	echo "INFO: analyze failed on the synthetic capture ($(head -n 1 "$T_TMP/big.err")); using a document"
	python3 "$B_DIR/mkdoc.py" big 10000 "$T_TMP/big.mp"
	"$DOCRENDER" html "$T_TMP/big.mp" >"$T_TMP/big.html"
fi
timeout 300 node "$TIMELINE" perf "$T_TMP/big.html" >"$T_TMP/p.out" 2>&1
sed "s#^\(PASS\|FAIL\): #\1: $T_NAME/#" "$T_TMP/p.out"
grep -q '^FAIL' "$T_TMP/p.out" && T_FAILED=1
t_exit
