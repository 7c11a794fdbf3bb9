#!/bin/sh
# 116-badhead: an analyzer that writes the shared frames ring's head
# wrong. In a test build of htracrd (make build/htracrd-testhooks),
# HTRACR_TEST_BAD_HEAD makes every other batch end with a head the
# capture process must not take (far ahead, back at the start, a whole
# ring ahead), as a subverted analyzer could write it. The capture
# process refuses each, says so in its log when the capture stops, and
# goes on: nothing is lost, the client's transactions are all there,
# the daemon stays up. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile.sh"

h_testhooks
HTRACR_TEST_BAD_HEAD=1
export HTRACR_TEST_BAD_HEAD
h_setup 10.77.116
unset HTRACR_TEST_BAD_HEAD
h_ordinary 400 0
h_stop
h_check_common

refused=$(sed -n 's/.*was out of bounds \([0-9]*\) times.*/\1/p' \
    "$T_TMP/htracrd.log" | tail -n 1)
echo "# $T_NAME: heads refused ${refused:-none}"
if [ -n "$refused" ] && [ "$refused" -gt 0 ]; then
	t_pass "$T_NAME-heads-refused"
else
	t_fail "$T_NAME-heads-refused" "no refusal logged: $(tail -n 2 "$T_TMP/htracrd.log")"
fi
t_exit
