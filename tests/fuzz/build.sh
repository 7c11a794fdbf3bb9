#!/bin/sh
# Builds the libFuzzer targets into tests/fuzz/bin/ with clang,
# AddressSanitizer and UBSan: fuzz_engine (the analysis engine: TCP
# reassembly, HTTP parsing, packing), fuzz_tls (the TLS record layer and
# handshake, decryption attempted), fuzz_h2 (HTTP/2 frames and HPACK),
# fuzz_dns (DNS messages on port 53, lookups tied to a connection),
# fuzz_proto (the protocol decoder, and the JSON writer that reads its
# bytes) and fuzz_ipc (the capture<->analyzer
# link, both ways). Exits 2 when clang or its fuzzer runtime is missing.
cd "$(dirname "$0")/../.." || exit 1
CC=${FUZZ_CC:-clang}
OUT=tests/fuzz/bin
command -v "$CC" >/dev/null 2>&1 || { echo "no $CC" >&2; exit 2; }
mkdir -p "$OUT"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' \
    >"$OUT/probe.c"
if ! "$CC" -fsanitize=fuzzer -o "$OUT/probe" "$OUT/probe.c" 2>/dev/null; then
	echo "no libFuzzer runtime for $CC" >&2
	exit 2
fi
rm -f "$OUT/probe" "$OUT/probe.c"

FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined -D_GNU_SOURCE -Icommon -Iproto -Idaemon
    -Idaemon/engine -Itests/fuzz -Itests/unit -I/usr/share/include/llhttp $(pkg-config --cflags msgpack)"
LIBS="-lpcap $(pkg-config --libs msgpack zlib libnghttp2 libcrypto)"
ENGINE=$(echo daemon/engine/*.c)
COMMON="common/log.c common/xmalloc.c common/esc.c proto/proto.c"
LL="/usr/share/llhttp/llhttp.c /usr/share/llhttp/api.c /usr/share/llhttp/http.c"

# The engine is compiled once, two files at a time, for every target
# that links it. The packing code and the targets' own helpers compare
# sizes and counts, not bytes of the input: tracing those comparisons
# (for the fuzzer to match input bytes against) steered nothing and
# took a fifth of the time of each input, so only their edges count.
OBJ=$OUT/obj
rm -rf "$OBJ"
mkdir -p "$OBJ"
NOCMP="daemon/engine/pack.c daemon/engine/h2pack.c daemon/engine/tlspack.c
    tests/fuzz/fuzzconn.c"
export CC FLAGS OBJ NOCMP
# shellcheck disable=SC2086,SC2016
printf '%s\n' $ENGINE $COMMON $LL tests/fuzz/fuzzconn.c |
    xargs -P 2 -I{} sh -c '
	o="$OBJ/$(echo "{}" | tr / _).o"
	more=
	case " $(echo $NOCMP) " in
	*" {} "*) more=-fno-sanitize-coverage=trace-cmp ;;
	esac
	$CC $FLAGS $more -c -o "$o" "{}"' || exit 1
for t in fuzz_engine fuzz_tls fuzz_h2 fuzz_dns; do
	# shellcheck disable=SC2086
	$CC $FLAGS -o "$OUT/$t" tests/fuzz/$t.c "$OBJ"/*.o $LIBS || exit 1
done
# shellcheck disable=SC2086
$CC $FLAGS -Iclient -o "$OUT/fuzz_proto" tests/fuzz/fuzz_proto.c \
    proto/proto.c client/json.c common/log.c common/xmalloc.c $LIBS || exit 1
# shellcheck disable=SC2086
$CC $FLAGS -o "$OUT/fuzz_ipc" tests/fuzz/fuzz_ipc.c daemon/ipc.c daemon/shring.c \
    "$OBJ"/*.o $LIBS || exit 1
