#!/bin/sh
# Builds and runs the engine's unit tests (test_engine.c, test_tls.c,
# test_tlscrypt.c, test_tlsdec.c, test_h2.c, test_pair.c and test_dns.c,
# against the engine objects, llhttp and the common helpers), the
# capture link's (test_ipc.c, against daemon/ipc.c and daemon/shring.c)
# and the JSON writer's (test_json.c, against client/json.c),
# and checks the
# engine against tshark's view of the real captures in the corpus
# (corpus.py, through the drive program). Prints PASS/FAIL/SKIP lines.
#
#   run.sh --drive	only builds tests/unit/bin/drive (for make bench)
cd "$(dirname "$0")/../.." || exit 1
# The engine as htracrd links it, and what it needs beside.
OBJS="build/libengine.a
    build/common/log.o build/common/xmalloc.o build/common/esc.o
    build/proto/proto.o build/llhttp/llhttp.o build/llhttp/api.o
    build/llhttp/http.o build/daemon/ipc.o build/daemon/shring.o
    build/client/json.o"
CC=${CC:-cc}
FLAGS="-O2 -g -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Idaemon/engine -Iclient
    -I/usr/share/include/llhttp
    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wpointer-arith -Wcast-qual -Wwrite-strings
    -Wno-unused-parameter -std=gnu11 $(pkg-config --cflags msgpack 2>/dev/null)"
LIBS="-lpcap $(pkg-config --libs msgpack zlib libcrypto libnghttp2 \
    2>/dev/null || echo -lmsgpackc -lz -lcrypto -lnghttp2)"
BIN=tests/unit/bin
mkdir -p "$BIN"

# shellcheck disable=SC2086
if ! make -s $OBJS >"$BIN/build.log" 2>&1; then
	echo "FAIL: unit_build: engine objects did not build (see $BIN/build.log)"
	exit 1
fi
PROGS="test_engine test_tls test_tlscrypt test_tlsdec test_h2 test_pair test_dns
    test_ipc test_json drive"
[ "${1:-}" = --drive ] && PROGS=drive
for prog in $PROGS; do
	# shellcheck disable=SC2086
	if ! $CC $FLAGS -o "$BIN/$prog" "tests/unit/$prog.c" $OBJS $LIBS \
	    >>"$BIN/build.log" 2>&1; then
		echo "FAIL: unit_build: $prog did not build (see $BIN/build.log)"
		exit 1
	fi
done
[ "${1:-}" = --drive ] && exit 0

rc=0
"$BIN/test_engine" || rc=1
"$BIN/test_tls" || rc=1
"$BIN/test_tlscrypt" || rc=1
"$BIN/test_tlsdec" || rc=1
"$BIN/test_h2" || rc=1
"$BIN/test_pair" || rc=1
"$BIN/test_dns" || rc=1
"$BIN/test_ipc" || rc=1
"$BIN/test_json" || rc=1

# The same cases again under AddressSanitizer and UBSan, one line.
if command -v clang >/dev/null 2>&1; then
	# The engine compiled once, two files at a time, for every test.
	AOBJ=$BIN/asan
	rm -rf "$AOBJ"
	mkdir -p "$AOBJ"
	ASAN="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
	    -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Idaemon/engine -Iclient
	    -I/usr/share/include/llhttp $(pkg-config --cflags msgpack 2>/dev/null)"
	export ASAN AOBJ
	# shellcheck disable=SC2086
	printf '%s\n' daemon/engine/*.c daemon/ipc.c daemon/shring.c common/log.c common/xmalloc.c \
	    common/esc.c proto/proto.c client/json.c /usr/share/llhttp/llhttp.c \
	    /usr/share/llhttp/api.c /usr/share/llhttp/http.c |
	    xargs -P 2 -I{} sh -c 'clang $ASAN -c -o "$AOBJ/$(echo "{}" |
	    tr / _).o" "{}"' >>"$BIN/build.log" 2>&1
	for prog in test_engine test_tls test_tlscrypt test_tlsdec test_h2 \
	    test_pair test_dns test_ipc test_json; do
		case=unit_asan
		[ "$prog" = test_tls ] && case=unit_asan_tls
		[ "$prog" = test_tlscrypt ] && case=unit_asan_tlscrypt
		[ "$prog" = test_tlsdec ] && case=unit_asan_tlsdec
		[ "$prog" = test_h2 ] && case=unit_asan_h2
		[ "$prog" = test_pair ] && case=unit_asan_pair
		[ "$prog" = test_dns ] && case=unit_asan_dns
		[ "$prog" = test_ipc ] && case=unit_asan_ipc
		[ "$prog" = test_json ] && case=unit_asan_json
		# shellcheck disable=SC2086
		if ! clang $ASAN -o "$BIN/${prog}_asan" "tests/unit/$prog.c" \
		    "$AOBJ"/*.o $LIBS >>"$BIN/build.log" 2>&1; then
			echo "SKIP: $case: no sanitizer build (see $BIN/build.log)"
		elif "$BIN/${prog}_asan" >"$BIN/$prog.asan.log" 2>&1; then
			echo "PASS: $case: $(grep -c '^PASS' "$BIN/$prog.asan.log") cases clean under ASan/UBSan"
		else
			echo "FAIL: $case: $(grep -m1 -E 'ERROR|runtime error|^FAIL' "$BIN/$prog.asan.log")"
			rc=1
		fi
	done
else
	echo "SKIP: unit_asan: no clang"
fi
if command -v python3 >/dev/null 2>&1 && [ -d ../shared/corpus ]; then
	python3 tests/unit/corpus.py "$BIN/drive" ../shared/corpus
elif [ -d /work/shared/corpus ] && command -v python3 >/dev/null 2>&1; then
	python3 tests/unit/corpus.py "$BIN/drive" /work/shared/corpus
else
	echo "SKIP: corpus: no corpus or no python3"
fi
exit $rc
