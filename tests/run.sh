#!/bin/sh
# Runs every test: unit, regress (real daemon, real captures and real
# traffic), and a short fuzz run. Each test prints lines "PASS: name",
# "FAIL: name: why" or "SKIP: name: why"; this counts them and ends with
# "N passed, N failed, N skipped". Exit status 1 if anything failed.
#
#   sh tests/run.sh [unit|regress|fuzz] [PATTERN]   only that kind / those scripts
cd "$(dirname "$0")/.." || exit 1
kind=${1:-all}
pattern=${2:-}
out=$(mktemp -t htracr-tests.XXXXXX)
trap 'rm -f "$out" "$out.one"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run() {
	# $1: name shown, rest: the command. A non-zero exit with no FAIL
	# line of its own still counts as one failure.
	name=$1; shift
	echo "== $name"
	"$@" >"$out.one" 2>&1
	rc=$?
	cat "$out.one"
	cat "$out.one" >>"$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$out.one"; then
		echo "FAIL: $name: exited $rc" | tee -a "$out"
	fi
	rm -f "$out.one"
}

if [ "$kind" = all ] || [ "$kind" = unit ]; then
	run unit sh tests/unit/run.sh
fi

if [ "$kind" = all ] || [ "$kind" = regress ]; then
	for t in tests/regress/[0-9]*.sh; do
		[ -e "$t" ] || continue
		case "$t" in *"$pattern"*) ;; *) continue ;; esac
		run "$t" timeout 600 sh "$t"
	done
fi

if [ "$kind" = all ] || [ "$kind" = fuzz ]; then
	run fuzz sh tests/fuzz/run.sh
fi

pass=$(grep -c '^PASS: ' "$out")
fail=$(grep -c '^FAIL: ' "$out")
skip=$(grep -c '^SKIP: ' "$out")
echo
grep '^FAIL: ' "$out" | sed 's/^/  /'
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
