#!/bin/sh
# Builds the fuzz targets and runs each for FUZZ_SECS seconds (20 by
# default) from a seed corpus (what seeds.sh writes and what is kept in
# tests/fuzz/seeds/TARGET), with its dictionary (tests/fuzz/TARGET.dict)
# if it has one, printing PASS/FAIL/SKIP per target. The inputs kept in
# tests/fuzz/seeds/TARGET (hand-made ones and the crashes fuzzing found,
# each a regression case) are first run one by one, each once. A crash
# leaves its input in tests/fuzz/bin/ and fails the target. FUZZ_TARGETS
# names fewer.
cd "$(dirname "$0")/../.." || exit 1
SECS=${FUZZ_SECS:-20}
TARGETS=${FUZZ_TARGETS:-fuzz_engine fuzz_tls fuzz_h2 fuzz_dns fuzz_proto fuzz_ipc}
OUT=tests/fuzz/bin
sh tests/fuzz/build.sh >"$OUT.log" 2>&1
rc=$?
mkdir -p "$OUT"
mv "$OUT.log" "$OUT/build.log"
if [ $rc -eq 2 ]; then
	for t in $TARGETS; do
		echo "SKIP: $t: $(tail -1 "$OUT/build.log")"
	done
	exit 0
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: fuzz_build: see $OUT/build.log"
	exit 1
fi
sh tests/fuzz/seeds.sh "$OUT/seeds_engine" "$OUT/seeds_proto" \
    "$OUT/seeds_ipc"
# A msgpack header may declare a huge array: msgpack-c then asks for
# that much memory up front, untouched. As in production, a refused
# malloc is an error path; only real (RSS) use is bounded.
fuzz() {
	ASAN_OPTIONS=allocator_may_return_null=1 "$OUT/$t" -rss_limit_mb=2048 \
	    -malloc_limit_mb=1048576 -max_len=65536 -timeout=10 "$@"
}

# Runs each kept input of $t once; prints how many there were.
replay() {
	kept=$(find "tests/fuzz/seeds/$t" -type f 2>/dev/null | sort)
	[ -n "$kept" ] || { echo 0; return 0; }
	# shellcheck disable=SC2086
	fuzz -runs=1 $kept >"$OUT/$t.replay.log" 2>&1 || return 1
	echo "$kept" | wc -l
}

for t in $TARGETS; do
	if ! nkept=$(replay); then
		echo "FAIL: $t: a kept input crashed, see $OUT/$t.replay.log"
		continue
	fi
	seeds=$OUT/seeds_${t#fuzz_}
	[ -d "$seeds" ] || seeds=
	kept=tests/fuzz/seeds/$t
	[ -d "$kept" ] || kept=
	work=$OUT/corpus_${t#fuzz_}
	mkdir -p "$work"
	dict=tests/fuzz/$t.dict
	[ -f "$dict" ] || dict=
	if fuzz -max_total_time="$SECS" -print_final_stats=1 \
	    ${dict:+-dict="$dict"} -artifact_prefix="$OUT/$t-" \
	    "$work" ${seeds:+"$seeds"} ${kept:+"$kept"} \
	    >"$OUT/$t.log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
		    "$OUT/$t.log" | grep -o '[0-9]*$')
		echo "PASS: $t: $nkept kept inputs, then ${runs:-?} runs in ${SECS}s, no crash"
	else
		echo "FAIL: $t: crashed, see $OUT/$t.log and $OUT/$t-*"
	fi
done
