# lib.sh: helpers shared by every tests/regress/NNN-name.sh script.
# POSIX sh (dash). Source it first thing:
#
#	. "$(dirname "$0")/lib.sh"
#
# Sourcing sets:
#	T_ROOT		absolute path of the repository root
#	T_NAME		the script's name without .sh (e.g. 040-corpus); prefix
#			every case name with it
#	HTRACRD, HTRACRCTL	absolute paths of the built programs: those
#			in build-asan/ when SANITIZE=1 is in the environment
#			(make check SANITIZE=1), else those at the root
#	T_BUILD		the object directory of that build (build or
#			build-asan), for programs a test makes itself
#	T_NS_PREFIX	unique prefix for namespaces this script creates
# and installs one EXIT/INT/TERM trap that runs everything registered
# with t_atexit, newest first. Do not set a trap of your own: register
# cleanups with t_atexit instead.
#
# Output, one line per case (tests/run.sh counts them):
#	t_pass NAME			PASS: NAME
#	t_fail NAME WHY			FAIL: NAME: WHY   (sets T_FAILED=1)
#	t_skip NAME WHY			SKIP: NAME: WHY
#	t_check NAME CMD...		runs CMD; PASS if it exits 0, else FAIL
#					with the first line of its output
#	t_eq NAME WANT GOT		PASS if the two strings are equal
#	t_skip_all WHY			SKIP: $T_NAME: WHY and exit 0
#	t_exit				exit 1 if any t_fail was printed, else 0
#
# Requirements (each prints a SKIP for the whole script and exits 0 when
# unmet, except t_need_bins, which is a FAIL: make check builds them):
#	t_need_root, t_need_cmd CMD..., t_need_netns, t_need_bins
#	t_shared [SUBPATH]	prints ../shared[/SUBPATH] relative to the root,
#				returns 1 when absent
#	t_need_shared [SUBPATH]	same, but SKIPs the script when absent;
#				sets T_SHARED
#
# Files and processes:
#	t_tmpdir		creates $T_TMP (removed at exit unless T_KEEP=1)
#	t_atexit CMD		run the string CMD at exit (newest first)
#	t_bg CMD...		start a program (not a function) in the background,
#				output appended to $T_BG_LOG (default
#				$T_TMP/bg.log),
#				sets T_BG_PID, killed by pid at exit
#	t_kill PID		TERM, wait up to 5 s, then KILL
#	t_wait_for SECS CMD...	poll CMD every 0.1 s until it succeeds;
#				returns 1 after SECS seconds
#	t_json FILE EXPR	print a python3 expression over the JSON
#				document in FILE, bound to d (stdlib only),
#				e.g. t_json out.json 'len(d["transactions"])'
#
# A private daemon (needs t_tmpdir first):
#	t_daemon_start [ARGS...]  htracrd --foreground --no-capture --socket
#				$T_TMP/s ARGS; waits for the socket; sets
#				T_SOCK, T_DAEMON_PID; log in $T_TMP/htracrd.log.
#				Returns 1 if it does not come up in 10 s.
#	t_daemon_stop		TERM it and wait; returns its exit status
#	t_ctl ARGS...		htracrctl --socket $T_SOCK ARGS
#
# Network namespaces (need root; removed with everything in them at exit):
#	t_ns_add NAME		creates namespace $T_NS_PREFIX-NAME with lo up;
#				prints its full name
#	t_ns NAME CMD...	runs CMD inside namespace NAME
#	t_veth NAME1 ADDR1 NAME2 ADDR2
#				a veth pair between two namespaces, addresses
#				with prefix length (10.77.1.1/24), offloads off
#				when ethtool is present; sets T_VETH_A (the
#				end in NAME1) and T_VETH_B (the end in NAME2)
#
# A server namespace "srv" and a client namespace "cli" (need t_tmpdir;
# each FAILs the case $T_NAME/setup, /nginx or /tcpdump and exits when
# what it makes does not come up):
#	t_pair SRV CLI		the two namespaces joined by a veth, SRV and
#				CLI their addresses in a /24
#	t_cert SUBJECT		a self-signed certificate for nginx,
#				$T_TMP/nginx/c.pem and its key k.pem
#	t_nginx CURLARGS...	nginx in srv, configured in $T_TMP/nginx:
#				the common head, then the inside of its
#				http { } block read from stdin; waits until
#				curl -s -o /dev/null CURLARGS succeeds in srv
#	t_tcpdump FILE FILTER...  tcpdump in srv on T_VETH_A writing FILE;
#				sets TCPDUMP_PID, log in $T_TMP/tcpdump.log
#
# Everything a script starts stays bounded: use timeout(1) around clients.

T_FAILED=0
T_NAME=$(basename "$0" .sh)
_t_atexit=""
_t_veth_n=0

# The root is the first directory above the script holding both the
# Makefile and proto/PROTOCOL.md, so scripts work from any cwd.
_t_find_root() {
	_t_d=$(cd "$(dirname "$0")" && pwd)
	while [ "$_t_d" != "/" ]; do
		if [ -f "$_t_d/Makefile" ] && [ -f "$_t_d/proto/PROTOCOL.md" ]; then
			echo "$_t_d"
			return 0
		fi
		_t_d=$(dirname "$_t_d")
	done
	return 1
}

T_ROOT=$(_t_find_root) || {
	echo "FAIL: $T_NAME: cannot find the repository root from $0"
	exit 1
}
if [ "${SANITIZE:-}" = 1 ]; then
	T_BUILD=build-asan
	HTRACRD=$T_ROOT/build-asan/htracrd
	HTRACRCTL=$T_ROOT/build-asan/htracrctl
else
	T_BUILD=build
	HTRACRD=$T_ROOT/htracrd
	HTRACRCTL=$T_ROOT/htracrctl
fi
# Short: it ends up in interface names too (15 bytes at most).
T_NS_PREFIX="htr$$"

# What the analyzer may hold beyond its session budgets (README,
# Reliability): the program and its libraries (6 MiB), the ring of
# frames from capture (4 MiB, shared with the capture process), a
# client's queued reply (8 MiB), memory eviction freed and not yet
# handed back (8 MiB at most) and the pages its allocator leaves partly
# used.
T_RSS_BASE_MIB=32

t_pass() {
	echo "PASS: $1"
}

t_fail() {
	echo "FAIL: $1: $2"
	T_FAILED=1
}

t_skip() {
	echo "SKIP: $1: $2"
}

t_skip_all() {
	t_skip "$T_NAME" "$1"
	exit 0
}

t_exit() {
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

t_eq() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "want '$2', got '$3'"
	fi
}

t_check() {
	_t_cn=$1
	shift
	if _t_out=$("$@" 2>&1); then
		t_pass "$_t_cn"
	else
		_t_rc=$?
		t_fail "$_t_cn" "exit $_t_rc: $(printf '%s\n' "$_t_out" | head -n 1)"
	fi
}

t_atexit() {
	_t_atexit="$1
$_t_atexit"
}

_t_cleanup() {
	_t_rc=$?
	trap - EXIT INT TERM
	eval "$_t_atexit"
	exit "$_t_rc"
}
trap _t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_need_root() {
	[ "$(id -u)" -eq 0 ] || t_skip_all "needs root"
}

t_need_cmd() {
	for _t_c in "$@"; do
		command -v "$_t_c" >/dev/null 2>&1 ||
		    t_skip_all "$_t_c is not installed"
	done
}

t_need_netns() {
	t_need_root
	t_need_cmd ip
	_t_probe="${T_NS_PREFIX}-probe"
	ip netns add "$_t_probe" >/dev/null 2>&1 ||
	    t_skip_all "ip netns add does not work here"
	ip netns del "$_t_probe" >/dev/null 2>&1
}

t_need_bins() {
	for _t_b in "$HTRACRD" "$HTRACRCTL"; do
		if [ ! -x "$_t_b" ]; then
			t_fail "$T_NAME" "$_t_b is not built (run make)"
			exit 1
		fi
	done
}

t_shared() {
	_t_s=$(cd "$T_ROOT/.." && pwd)/shared
	[ -d "$_t_s" ] || return 1
	[ -z "$1" ] || _t_s=$_t_s/$1
	[ -e "$_t_s" ] || return 1
	echo "$_t_s"
}

t_need_shared() {
	T_SHARED=$(t_shared "$1") ||
	    t_skip_all "../shared/$1 is absent (a fresh clone without the shared data)"
}

t_tmpdir() {
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/htracr-$T_NAME.XXXXXX") || {
		t_fail "$T_NAME" "mktemp failed"
		exit 1
	}
	# The daemon's unprivileged analyzer serves the socket inside it.
	chmod 0755 "$T_TMP"
	if [ "${T_KEEP:-0}" = 1 ]; then
		echo "# keeping $T_TMP"
	else
		t_atexit "rm -rf '$T_TMP'"
	fi
}

# A child that exited stays a zombie until waited for, and kill -0
# still succeeds on it: look at its state as well.
_t_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	_t_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_t_st" ] && [ "$_t_st" != Z ]
}

# TERM is sent again on every poll: one sent between fork and exec is
# lost to the shell's own trap handler in the child.
t_kill() {
	kill -TERM "$1" 2>/dev/null || return 0
	_t_i=0
	while _t_alive "$1" && [ "$_t_i" -lt 50 ]; do
		sleep 0.1
		kill -TERM "$1" 2>/dev/null
		_t_i=$((_t_i + 1))
	done
	_t_alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

t_bg() {
	"$@" >>"${T_BG_LOG:-${T_TMP:-/tmp}/bg.log}" 2>&1 &
	T_BG_PID=$!
	t_atexit "t_kill $T_BG_PID"
}

t_wait_for() {
	_t_limit=$(($1 * 10))
	shift
	_t_i=0
	while ! "$@" >/dev/null 2>&1; do
		_t_i=$((_t_i + 1))
		[ "$_t_i" -ge "$_t_limit" ] && return 1
		sleep 0.1
	done
	return 0
}

t_json() {
	python3 -c '
import json, sys
with open(sys.argv[1], "rb") as f:
	d = json.load(f)
r = eval(sys.argv[2])
print(json.dumps(r) if not isinstance(r, str) else r)
' "$1" "$2"
}

_t_daemon_up() {
	_t_alive "$T_DAEMON_PID" || return 2
	[ -S "$T_SOCK" ]
}

t_daemon_start() {
	T_SOCK=$T_TMP/s
	# A daemon stopped before leaves its socket: the wait below would
	# take it for the new one's and connect before that one listens.
	rm -f "$T_SOCK"
	"$HTRACRD" --foreground --no-capture --socket "$T_SOCK" "$@" \
	    >>"$T_TMP/htracrd.log" 2>&1 &
	T_DAEMON_PID=$!
	t_atexit "t_kill $T_DAEMON_PID"
	_t_i=0
	while [ "$_t_i" -lt 100 ]; do
		_t_daemon_up
		case $? in
		0) return 0 ;;
		2) return 1 ;;
		esac
		sleep 0.1
		_t_i=$((_t_i + 1))
	done
	return 1
}

t_daemon_stop() {
	kill -TERM "$T_DAEMON_PID" 2>/dev/null || return 1
	_t_i=0
	while _t_alive "$T_DAEMON_PID" && [ "$_t_i" -lt 100 ]; do
		sleep 0.1
		_t_i=$((_t_i + 1))
	done
	if _t_alive "$T_DAEMON_PID"; then
		kill -KILL "$T_DAEMON_PID" 2>/dev/null
		wait "$T_DAEMON_PID" 2>/dev/null
		return 137
	fi
	wait "$T_DAEMON_PID" 2>/dev/null
}

t_ctl() {
	"$HTRACRCTL" --socket "$T_SOCK" "$@"
}

# Kills whatever still runs inside a namespace this script made (all of
# it was started by this script), then removes the namespace.
_t_ns_del() {
	for _t_p in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$_t_p" 2>/dev/null
	done
	ip netns del "$1" 2>/dev/null
	return 0
}

t_ns_add() {
	_t_ns="$T_NS_PREFIX-$1"
	ip netns add "$_t_ns" || return 1
	t_atexit "_t_ns_del '$_t_ns'"
	ip -n "$_t_ns" link set lo up
	echo "$_t_ns"
}

t_ns() {
	_t_ns="$T_NS_PREFIX-$1"
	shift
	ip netns exec "$_t_ns" "$@"
}

t_veth() {
	_t_veth_n=$((_t_veth_n + 1))
	_t_a="v${T_NS_PREFIX}${_t_veth_n}a"
	_t_b="v${T_NS_PREFIX}${_t_veth_n}b"
	ip link add "$_t_a" type veth peer name "$_t_b" || return 1
	ip link set "$_t_a" netns "$T_NS_PREFIX-$1" || return 1
	ip link set "$_t_b" netns "$T_NS_PREFIX-$3" || return 1
	ip -n "$T_NS_PREFIX-$1" addr add "$2" dev "$_t_a" || return 1
	ip -n "$T_NS_PREFIX-$3" addr add "$4" dev "$_t_b" || return 1
	ip -n "$T_NS_PREFIX-$1" link set "$_t_a" up || return 1
	ip -n "$T_NS_PREFIX-$3" link set "$_t_b" up || return 1
	if command -v ethtool >/dev/null 2>&1; then
		# Wire-sized frames: the capture must see what a NIC would send.
		t_ns "$1" ethtool -K "$_t_a" tso off gso off gro off >/dev/null 2>&1
		t_ns "$3" ethtool -K "$_t_b" tso off gso off gro off >/dev/null 2>&1
	fi
	# IPv6 gives each end a link-local address a second or two after the
	# link comes up; a browser started before that sees the network
	# change under it and drops the page (ERR_NETWORK_CHANGED).
	t_wait_for 5 sh -c "! ip -n '$T_NS_PREFIX-$1' addr show | grep -q tentative &&
	    ! ip -n '$T_NS_PREFIX-$3' addr show | grep -q tentative"
	T_VETH_A=$_t_a
	T_VETH_B=$_t_b
	return 0
}

t_pair() {
	t_ns_add srv >/dev/null && t_ns_add cli >/dev/null &&
	    t_veth srv "$1/24" cli "$2/24" && return 0
	t_fail "$T_NAME/setup" "cannot make the namespaces and veth"
	t_exit
}

t_cert() {
	mkdir -p "$T_TMP/nginx"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -keyout "$T_TMP/nginx/k.pem" -out "$T_TMP/nginx/c.pem" \
	    -subj "$1" >"$T_TMP/nginx/openssl.log" 2>&1 && return 0
	t_fail "$T_NAME/nginx" "no certificate: $(tail -n 1 "$T_TMP/nginx/openssl.log")"
	t_exit
}

t_nginx() {
	_t_n=$T_TMP/nginx
	mkdir -p "$_t_n"
	{
		cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $_t_n/nginx.pid;
error_log $_t_n/error.log;
events { worker_connections 64; }
http {
	access_log $_t_n/access.log;
	client_body_temp_path $_t_n/body;
EOF
		cat
		echo "}"
	} >"$_t_n/nginx.conf"
	T_BG_LOG=$_t_n/stderr t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    nginx -p "$_t_n" -c "$_t_n/nginx.conf"
	t_wait_for 10 t_ns srv curl -s -o /dev/null "$@" && return 0
	t_fail "$T_NAME/nginx" "nginx did not come up: $(tail -n 1 "$_t_n/error.log" 2>/dev/null)"
	t_exit
}

t_tcpdump() {
	_t_f=$1
	shift
	T_BG_LOG=$T_TMP/tcpdump.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    tcpdump -i "$T_VETH_A" -s 0 -U -w "$_t_f" "$@"
	TCPDUMP_PID=$T_BG_PID
	t_wait_for 10 grep -q 'listening on' "$T_TMP/tcpdump.log" && return 0
	t_fail "$T_NAME/tcpdump" "tcpdump did not start: $(tail -n 1 "$T_TMP/tcpdump.log")"
	t_exit
}
