#!/bin/sh
# Installs the Debian packages htracr needs to build and to run its
# tests, skipping those already present. Non-interactive; needs root.
set -e
PKGS="build-essential pkg-config libpcap-dev libevent-dev libmsgpack-dev
node-llhttp libseccomp-dev zlib1g-dev libsystemd-dev
clang libclang-rt-14-dev tshark tcpdump nginx-light curl wget iproute2
procps util-linux python3 hyperfine wrk mandoc systemd strace time ethtool
openssl chromium"
# Wanted as commands, not as these packages: a machine may have node and
# npm from elsewhere, whose nodejs package conflicts with Debian's npm.
CMDS="node:nodejs npm:npm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
for cp in $CMDS; do
	command -v "${cp%%:*}" >/dev/null 2>&1 || missing="$missing ${cp#*:}"
done
[ -z "$missing" ] && { echo "deps: all present"; exit 0; }
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || { echo "deps: run as root (apt-get)" >&2; exit 1; }
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
