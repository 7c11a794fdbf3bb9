#!/bin/sh
# bench.sh: `make bench`. Measures htracrctl analyze on a large real
# capture side by side with tshark and the two floors from ../shared/bench
# (pcap_read: reading the file; naive_parse: llhttp per direction with no
# model), in one hyperfine run, plus each command's peak RSS, and checks
# that htracr counts the requests, responses and connections the capture
# holds (bench.pcap.meta.txt, where tshark and naive_parse agree).
# Reports only: nothing here asserts on time. Output: stdout and
# tests/bench/out/results.md.
#
#   BENCH_SMALL=1	make the small capture (about 1 s per traffic phase)
#   BENCH_REGEN=1	remake bench.pcap even if tests/bench/out has one
#   BENCH_RUNS=N	hyperfine runs per command (default 5)
#
# Making bench.pcap needs root (network namespaces) and about a minute.
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
OUT=$ROOT/tests/bench/out
KIT=$(cd "$ROOT/.." && pwd)/shared/bench
RUNS=${BENCH_RUNS:-5}
PCAP=$OUT/bench.pcap
META=$PCAP.meta.txt
RES=$OUT/results.md
CTL=$ROOT/htracrctl

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -d "$KIT" ] || die "$KIT is absent: the benchmark kit lives in ../shared/bench"
for c in hyperfine tshark python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (make deps installs package time)"
[ -x "$CTL" ] || die "$CTL is not built (make)"
mkdir -p "$OUT"

echo "== reference floors"
OUTDIR=$OUT/bench-bin sh "$KIT/build.sh" || die "building the floors failed"

if [ ! -s "$PCAP" ] || [ ! -s "$META" ] || [ "${BENCH_REGEN:-0}" = 1 ]; then
	echo "== making bench.pcap (BENCH_SMALL=${BENCH_SMALL:-0})"
	[ "$(id -u)" -eq 0 ] || die "making bench.pcap needs root (network namespaces)"
	rm -f "$PCAP" "$META"
	if [ "${BENCH_SMALL:-0}" = 1 ]; then
		set -- KA_SECS=1 CLOSE_SECS=1 PIPE_SECS=1
	else
		set --
	fi
	# The kit writes ./bench.pcap and runs ./bench-bin/naive_parse.
	(cd "$OUT" && env "$@" OUT="$PCAP" bash "$KIT/make_bench_pcap.sh")
	rc=$?
	[ "$rc" -eq 2 ] && echo "bench: the capture is lossy (kernel drops); results still shown"
	[ -s "$PCAP" ] && [ -s "$META" ] || die "make_bench_pcap.sh failed (exit $rc)"
else
	echo "== reusing $PCAP (BENCH_REGEN=1 remakes it)"
fi

# One analyze run for the counts; the document is walked item by item so
# a large capture does not need its whole model in Python at once.
echo "== htracr counts"
"$CTL" analyze "$PCAP" --json >"$OUT/analyze.json" 2>"$OUT/analyze.err" ||
    die "htracrctl analyze failed: $(head -n 1 "$OUT/analyze.err")"

# Peak RSS of each command, one run each under time(1): KiB.
rss() {
	/usr/bin/time -f %M -o "$OUT/rss.$1" sh -c "$2" >/dev/null 2>&1
	cat "$OUT/rss.$1"
}

C_HTRACR="$CTL analyze $PCAP >/dev/null"
C_TSHARK="tshark -r $PCAP -q -z http,tree >/dev/null"
C_NAIVE="$OUT/bench-bin/naive_parse $PCAP --dedup >/dev/null"
C_READ="$OUT/bench-bin/pcap_read $PCAP >/dev/null"

# Times first, then peak RSS: on a virtual machine the 1.5 GB tshark
# frees can be handed back to the host, and the next command to touch
# that much fresh memory pays for it; measured first, no command
# inherits another's churn.
echo "== hyperfine ($RUNS runs each)"
hyperfine --style basic --warmup 1 --runs "$RUNS" \
    --export-markdown "$OUT/hyperfine.md" --export-json "$OUT/hyperfine.json" \
    -n "htracrctl analyze" "$C_HTRACR" \
    -n "tshark -z http,tree" "$C_TSHARK" \
    -n "naive_parse --dedup" "$C_NAIVE" \
    -n "pcap_read" "$C_READ" || die "hyperfine failed"

echo "== peak RSS"
R_HTRACR=$(rss htracr "$C_HTRACR")
R_TSHARK=$(rss tshark "$C_TSHARK")
R_NAIVE=$(rss naive "$C_NAIVE")
R_READ=$(rss read "$C_READ")

python3 - "$OUT" "$PCAP" "$META" "$R_HTRACR" "$R_TSHARK" "$R_NAIVE" "$R_READ" \
    >"$RES" <<'EOF'
import json, os, re, sys

out, pcap, meta = sys.argv[1:4]
rss = [int(x) if x.strip().isdigit() else None for x in sys.argv[4:8]]


def items(doc, key):
	"""The values of top-level array `key`, one at a time."""
	dec = json.JSONDecoder()
	ws = re.compile(r"[ \t\n\r]*")
	pos = ws.match(doc, 0).end()
	assert doc[pos] == "{"
	pos = ws.match(doc, pos + 1).end()
	while doc[pos] != "}":
		k, pos = dec.raw_decode(doc, pos)
		pos = ws.match(doc, pos).end()
		assert doc[pos] == ":"
		pos = ws.match(doc, pos + 1).end()
		if k == key and doc[pos] == "[":
			pos = ws.match(doc, pos + 1).end()
			while doc[pos] != "]":
				v, pos = dec.raw_decode(doc, pos)
				yield v
				pos = ws.match(doc, pos).end()
				if doc[pos] == ",":
					pos = ws.match(doc, pos + 1).end()
			return
		_, pos = dec.raw_decode(doc, pos)
		pos = ws.match(doc, pos).end()
		if doc[pos] == ",":
			pos = ws.match(doc, pos + 1).end()


with open(os.path.join(out, "analyze.json"), "rb") as f:
	doc = f.read().decode("utf-8", "surrogateescape")
# tshark counts a response once it is whole: so do these, and show the
# ones cut short (by the end of the capture) apart.
req = resp = cut = 0
for t in items(doc, "transactions"):
	req += 1
	r = t.get("response")
	if r is not None and r.get("status") is not None:
		if r.get("complete"):
			resp += 1
		else:
			cut += 1
conns = sum(1 for _ in items(doc, "connections"))
retrans = 0
for c in items(doc, "connections"):
	for d in ("c2s", "s2c"):
		retrans += (c.get(d) or {}).get("retransmits") or 0
del doc

truth = {}
text = open(meta, errors="replace").read()
for key, pat in (("requests", r"http requests\s*:\s*(\d+)"),
    ("responses", r"http responses\s*:\s*(\d+)"),
    ("connections", r"tcp SYNs \(connections\):\s*(\d+)")):
	m = re.search(pat, text)
	truth[key] = int(m.group(1)) if m else None
m = re.search(r"naive_parse: (\d+) pkts", text)
pkts = int(m.group(1)) if m else None

with open(os.path.join(out, "hyperfine.json")) as f:
	hf = json.load(f)["results"]
names = [r["command"] for r in hf]
mean = {r["command"]: r["mean"] for r in hf}
sd = {r["command"]: r.get("stddev") or 0.0 for r in hf}
h = names[0]

print("# htracr benchmark\n")
print("Capture: `%s`, %d bytes%s.\n" % (os.path.basename(pcap), os.path.getsize(pcap),
    ", %d packets" % pkts if pkts else ""))
print("Peak RSS is the largest single process of each command's tree "
    "(time -f %M): for htracr the client, its private htracrd or the analyzer.\n")
print("| command | mean wall (s) | peak RSS (MiB) | wall vs htracr | RSS vs htracr |")
print("|---|---|---|---|---|")
for i, n in enumerate(names):
	r = rss[i]
	wr = mean[n] / mean[h] if mean[h] else 0
	rr = (r / rss[0]) if (r and rss[0]) else None
	print("| %s | %.3f ± %.3f | %s | %.2fx | %s |" % (n, mean[n], sd[n],
	    "%.1f" % (r / 1024) if r else "?", wr, "%.2fx" % rr if rr else "?"))
t = names[1]
print("\ntshark / htracr: wall %.2fx, peak RSS %s.\n" % (mean[t] / mean[h],
    "%.2fx" % (rss[1] / rss[0]) if rss[0] and rss[1] else "?"))
print("| count | bench.pcap.meta.txt | htracr | same |")
print("|---|---|---|---|")
for k, v in (("requests", req), ("responses", resp), ("connections", conns)):
	print("| %s | %s | %d | %s |" % (k, truth[k], v, "yes" if truth[k] == v else "**no**"))
print("| responses cut short | not counted there | %d | |" % cut)
print("| retransmitted segments | not counted there | %d | |" % retrans)
same = all(truth[k] == v for k, v in (("requests", req), ("responses", resp), ("connections", conns)))
print("\nCounts: %s." % ("htracr agrees with the ground truth" if same else
    "**htracr differs from the ground truth**"))
print("\nhyperfine's own table:\n")
print(open(os.path.join(out, "hyperfine.md")).read())
EOF
[ $? -eq 0 ] || die "summarising failed"
echo
cat "$RES"
# Time is only reported; wrong counts are an error.
grep -q 'agrees with the ground truth' "$RES"
