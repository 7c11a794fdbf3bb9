#!/bin/sh
# Line coverage that a fuzz target's corpus reaches: builds the target
# with clang's source-based coverage (no sanitizers) into
# tests/fuzz/bin/cov/, runs every input of the corpus directories once
# and prints llvm-cov's report for the code the target is about (the
# engine for fuzz_engine, fuzz_tls, fuzz_h2 and fuzz_dns; proto/proto.c for
# fuzz_proto; daemon/ipc.c and the engine for fuzz_ipc). Not part of
# make check: it is for measuring a long fuzzing run.
#   cover.sh TARGET CORPUS_DIR...
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: cover.sh TARGET CORPUS_DIR..." >&2; exit 1; }
t=$1
shift
CC=${FUZZ_CC:-clang}
for c in "$CC" llvm-profdata llvm-cov; do
	command -v "$c" >/dev/null 2>&1 || { echo "no $c" >&2; exit 2; }
done
OUT=tests/fuzz/bin/cov
mkdir -p "$OUT"

FLAGS="-g -O0 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping
    -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Idaemon/engine -Itests/fuzz
    -Itests/unit -I/usr/share/include/llhttp $(pkg-config --cflags msgpack)"
LIBS="-lpcap $(pkg-config --libs msgpack zlib libnghttp2 libcrypto)"
ENGINE=$(echo daemon/engine/*.c)
COMMON="common/log.c common/xmalloc.c common/esc.c proto/proto.c"
LL="/usr/share/llhttp/llhttp.c /usr/share/llhttp/api.c /usr/share/llhttp/http.c"
case $t in
fuzz_engine|fuzz_tls|fuzz_h2|fuzz_dns)
	SRC="tests/fuzz/$t.c tests/fuzz/fuzzconn.c $ENGINE $COMMON $LL"
	SHOW=$ENGINE ;;
fuzz_proto)
	SRC="tests/fuzz/$t.c proto/proto.c"
	SHOW=proto/proto.c ;;
fuzz_ipc)
	SRC="tests/fuzz/$t.c daemon/ipc.c $ENGINE $COMMON $LL"
	SHOW="daemon/ipc.c $ENGINE" ;;
*)
	echo "cover.sh: no target $t" >&2
	exit 1 ;;
esac
# shellcheck disable=SC2086
$CC $FLAGS -o "$OUT/$t" $SRC $LIBS || exit 1
rm -f "$OUT/$t".*.profraw
# Each input once, nothing new tried; leaks are not the point here.
LLVM_PROFILE_FILE="$OUT/$t.%p.profraw" ASAN_OPTIONS=detect_leaks=0 \
    "$OUT/$t" -runs=0 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    "$@" >"$OUT/$t.log" 2>&1 ||
    { echo "cover.sh: $t failed, see $OUT/$t.log" >&2; exit 1; }
llvm-profdata merge -sparse -o "$OUT/$t.profdata" "$OUT/$t".*.profraw ||
    exit 1
rm -f "$OUT/$t".*.profraw
# shellcheck disable=SC2086
llvm-cov report "$OUT/$t" -instr-profile="$OUT/$t.profdata" $SHOW
