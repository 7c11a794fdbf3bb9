#!/bin/sh
# Installs the Debian packages htracr needs to build and to run its
# tests, skipping those already present. Non-interactive; needs root.
#
#   sh tests/deps.sh		install what is missing
#   sh tests/deps.sh --check-build
#				only say which packages the build lacks and
#				exit 1 if any (the Makefile asks this first)

# What the build needs: compiler, pkg-config, the libraries' -dev
# packages and llhttp's sources.
BUILD="build-essential pkg-config libpcap-dev libevent-dev libmsgpack-dev
node-llhttp libseccomp-dev zlib1g-dev libsystemd-dev libssl-dev
libnghttp2-dev"
# What the tests, the demo and the benchmark run: clang for the fuzzers
# and sanitizer builds (llvm for tests/fuzz/cover.sh's line coverage),
# real servers and clients (Apache and nghttp for
# HTTP/2 in clear), tshark as the oracle,
# groff and mandoc to check the man pages, Chromium for the HTML page,
# dnsmasq (the binary alone, no service) as a real resolver, poppler's
# pdftotext to read the PDF Chromium prints of it; h2load
# (nghttp2-client), valgrind and perf for the benchmark's TLS part.
TEST="clang libclang-rt-14-dev llvm tshark tcpdump nginx-light apache2-bin
nghttp2-client curl wget
iproute2 procps util-linux python3 jq hyperfine wrk mandoc groff systemd
strace time ethtool openssl ca-certificates chromium dnsmasq-base
poppler-utils valgrind linux-perf"
# Wanted as commands, not as these packages: a machine may have node and
# npm from elsewhere, whose nodejs package conflicts with Debian's npm.
CMDS="node:nodejs npm:npm"

# Prints the packages of $@ that are not installed.
missing_pkgs() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || printf ' %s' "$p"
	done
}

if [ "${1:-}" = --check-build ]; then
	if command -v dpkg-query >/dev/null 2>&1; then
		# shellcheck disable=SC2086
		missing=$(missing_pkgs $BUILD)
	elif pkg-config --exists libpcap libevent msgpack libseccomp zlib \
	    libsystemd libcrypto libnghttp2 2>/dev/null &&
	    [ -f /usr/share/llhttp/llhttp.c ]; then
		missing=""
	else
		missing=" (a library or /usr/share/llhttp; see tests/deps.sh)"
	fi
	[ -z "$missing" ] && exit 0
	echo "htracr: the build needs these Debian packages:$missing" >&2
	echo "htracr: install them with 'make deps' (as root), then run make again" >&2
	exit 1
fi

set -e
# shellcheck disable=SC2086
missing=$(missing_pkgs $BUILD $TEST)
for cp in $CMDS; do
	command -v "${cp%%:*}" >/dev/null 2>&1 || missing="$missing ${cp#*:}"
done
[ -z "$missing" ] && { echo "deps: all present"; exit 0; }
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || { echo "deps: run as root (apt-get)" >&2; exit 1; }
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
