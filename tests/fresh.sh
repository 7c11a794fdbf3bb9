#!/bin/sh
# tests/fresh.sh: run the README's two commands, "make deps demo" and
# "make deps check", on a Debian 12 that has never seen htracr.
#
# It builds a minbase bookworm root with only what a new user's machine
# would have (build-essential, git, python3, curl, iproute2,
# ca-certificates), puts a clone of this checkout's HEAD and ../shared
# into it, and runs each command there as root with a clean environment.
# Not part of "make check": it needs debootstrap, the network and a few
# minutes. As root, from anywhere:
#
#	sh tests/fresh.sh		build the root if absent, run both
#	FRESH_KEEP=1 sh tests/fresh.sh	keep the root for the next run
#	FRESH_ROOT=/path sh tests/fresh.sh
#
# A kept root has had the packages installed: delete it (or leave
# FRESH_KEEP unset) to test first contact again.
#
# The last line is the test run's summary; the exit status is non-zero
# if either command failed. Logs: $FRESH_ROOT.{debootstrap,demo,check}.log

set -u

ROOT=${FRESH_ROOT:-/var/tmp/htracr-fresh}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
INCLUDE=build-essential,git,python3,curl,iproute2,ca-certificates
TOP=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(cd "$TOP/.." && pwd)/shared
MOUNTS=""

say() {
	echo "fresh: $*"
}

die() {
	echo "fresh: $*" >&2
	exit 1
}

# Every mount is remembered so that cleanup can undo them innermost first.
mnt() {
	_dir=$1
	shift
	mkdir -p "$_dir"
	mount "$@" "$_dir" || die "mount $* $_dir failed"
	MOUNTS="$_dir $MOUNTS"
}

cleanup() {
	# Namespaces made inside leave their bind mounts under /run/netns.
	if [ -d "$ROOT/run/netns" ]; then
		for ns in "$ROOT"/run/netns/*; do
			[ -e "$ns" ] && umount "$ns" 2>/dev/null
		done
	fi
	for m in $MOUNTS; do
		umount -l "$m" 2>/dev/null
	done
	MOUNTS=""
	if [ -z "${FRESH_KEEP:-}" ] && [ -d "$ROOT" ]; then
		if grep -q " $ROOT[/ ]" /proc/mounts; then
			say "$ROOT still has mounts; not removing it"
		else
			rm -rf "$ROOT"
		fi
	fi
}

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, mount, chroot)"
git -C "$TOP" rev-parse HEAD >/dev/null 2>&1 || die "$TOP is not a git checkout"
if ! command -v debootstrap >/dev/null 2>&1; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
	    >/dev/null || die "apt-get install debootstrap failed"
fi
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$ROOT/usr/bin/make" ]; then
	rm -rf "$ROOT"
	say "debootstrap bookworm into $ROOT (log: $ROOT.debootstrap.log)"
	if ! debootstrap --variant=minbase --include="$INCLUDE" bookworm \
	    "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1; then
		tail -n 5 "$ROOT.debootstrap.log" >&2
		die "debootstrap failed"
	fi
fi

# What reaches the registries here: apt's sources and settings, the CA
# certificates the proxy's TLS is signed by, npm's configuration.
cp -a /etc/apt/sources.list.d/. "$ROOT/etc/apt/sources.list.d/" 2>/dev/null
if [ -f /etc/apt/sources.list ]; then
	cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"
else
	rm -f "$ROOT/etc/apt/sources.list"
fi
cp -a /etc/apt/apt.conf.d/. "$ROOT/etc/apt/apt.conf.d/"
if [ -d /usr/local/share/ca-certificates ]; then
	mkdir -p "$ROOT/usr/local/share/ca-certificates"
	cp -a /usr/local/share/ca-certificates/. \
	    "$ROOT/usr/local/share/ca-certificates/"
	chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 ||
	    die "update-ca-certificates failed in the root"
fi
for f in /etc/npmrc /usr/etc/npmrc /root/.npmrc; do
	if [ -f "$f" ]; then
		mkdir -p "$ROOT$(dirname "$f")"
		cp -p "$f" "$ROOT$f"
	fi
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null

# The committed checkout, as a clean clone would have it, and the data.
rm -rf "$ROOT/src"
mkdir -p "$ROOT/src"
git clone -q "$TOP" "$ROOT/src/htracr" || die "git clone failed"
if [ -d "$SHARED" ]; then
	cp -a "$SHARED" "$ROOT/src/shared"
else
	say "no $SHARED: corpus and benchmark tests will SKIP"
fi
say "testing $(git -C "$ROOT/src/htracr" log -1 --format='%h %s')"

# The root is bind-mounted onto itself so that "ip netns" can make its
# own mounts under /run/netns inside it; /dev/pts and /dev/shm for the
# browser and the terminal tests.
mnt "$ROOT" --bind "$ROOT"
mnt "$ROOT/proc" -t proc proc
mnt "$ROOT/sys" -t sysfs sysfs
mnt "$ROOT/dev" --bind /dev
mnt "$ROOT/dev/pts" -t devpts -o newinstance,ptmxmode=0666 devpts
mnt "$ROOT/dev/shm" -t tmpfs -o mode=1777 shm
mnt "$ROOT/run" -t tmpfs -o mode=0755 run
mnt "$ROOT/tmp" -t tmpfs -o mode=1777 tmp

# One README command, as a new user would type it, with nothing of this
# shell's environment.
run() {
	_log=$1
	shift
	say "$* (log: $_log)"
	chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive \
	    sh -c "cd /src/htracr && $*" </dev/null >"$_log" 2>&1
}

status=0
if run "$ROOT.demo.log" make deps demo; then
	say "make deps demo: passed"
else
	status=1
	say "make deps demo: FAILED; its last lines:"
	tail -n 15 "$ROOT.demo.log"
fi
if run "$ROOT.check.log" make deps check; then
	say "make deps check: passed"
else
	status=1
	say "make deps check: FAILED"
fi
grep -E '^(FAIL|SKIP):' "$ROOT.check.log"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$ROOT.check.log" | tail -n 1)
[ -n "$summary" ] || { summary="no summary line"; status=1; }
echo "$summary"
exit $status
