# hostile.sh: what tests/regress/110-114 share, sourced after lib.sh.
# Each of them runs one kind of hostile traffic through a live capture
# while ordinary traffic goes on beside it and another user queries:
#
#	h_setup SUBNET [DAEMON ARGS...]
#		namespaces srv (nginx on SUBNET.1:80, htracrd capturing its
#		end of the veth) and cli (SUBNET.2), htracrd started, the
#		capture started on port 80, the querier running; sets
#		SRV CLI ANALYZER
#	h_ordinary N MS	the ordinary client in cli: N requests, MS
#			milliseconds apart, in the background; its own log
#			in $T_TMP/client.log
#	h_raw MODE ARGS...
#			hostile.py MODE in cli, frames to srv's end; its
#			lines in $T_TMP/raw.out
#	h_stop		waits for the client, stops the capture, writes
#			$T_TMP/show.json and $T_TMP/live.pcap
#	h_check_common	the analyzer lived, its peak RSS stayed within
#			the budget, the querier was served throughout,
#			nothing was lost by the capture, and every ordinary
#			request is in the session as the client logged it
#	h_counter NAME	a counter of the session
#	h_raw_value KEY	a value hostile.py printed
#
# HOSTILE_SCALE (default 1; make check SANITIZE=1 sets 5) divides the
# counts of what is sent, for the slower sanitizer build: every check
# stays.

H_PY=$T_ROOT/tests/regress/hostile.py
if [ -n "${HOSTILE_SCALE:-}" ]; then
	H_SCALE=$HOSTILE_SCALE
elif [ "${SANITIZE:-}" = 1 ]; then
	H_SCALE=5
else
	H_SCALE=1
fi

# The analyzer's resident memory beyond its session budget: the base
# of lib.sh. The sanitizer build keeps shadow memory, red zones and a
# quarantine of freed blocks beside every allocation (256 MiB by
# default, full once a run frees that much, as 110's 5 s flood does).
if [ "${SANITIZE:-}" = 1 ]; then
	H_RSS_SLACK_MIB=320
	H_RSS_FACTOR=3
else
	H_RSS_SLACK_MIB=$T_RSS_BASE_MIB
	H_RSS_FACTOR=1
fi

h_scaled() {
	echo $(($1 / H_SCALE))
}

# HTRACRD becomes the test build of htracrd (make
# build/htracrd-testhooks), whose hooks the environment turns on.
h_testhooks() {
	t_need_bins
	if ! out=$(make -s -C "$T_ROOT" "$T_BUILD/htracrd-testhooks" 2>&1); then
		t_fail "$T_NAME-testhooks-build" "$(printf '%s\n' "$out" | tail -n 1)"
		t_exit
	fi
	HTRACRD=$T_ROOT/$T_BUILD/htracrd-testhooks
}

h_ctl() {
	timeout 60 "$HTRACRCTL" --socket "$H_SOCK" "$@"
}

# htracrctl as nobody, a member of group htracr: the other user.
h_as_other() {
	setpriv --reuid=nobody --regid="$(id -gn nobody)" \
	    --groups="$(getent group htracr | cut -d: -f3)" "$@"
}

# The other user asks for the status and the first transaction, over
# and over, until told to stop; each answer or failure is one line.
h_querier() {
	while [ ! -e "$T_TMP/querier.stop" ]; do
		if h_as_other timeout 20 "$HTRACRCTL" --socket "$H_SOCK" \
		    status --json >"$T_TMP/q.status" 2>&1 &&
		    grep -q '"state"' "$T_TMP/q.status"; then
			echo ok
		else
			echo "status failed: $(head -c 200 "$T_TMP/q.status")"
		fi
		h_as_other timeout 20 "$HTRACRCTL" --socket "$H_SOCK" \
		    show --txn 1 >/dev/null 2>&1 && echo show
		sleep 0.2
	done >"$T_TMP/querier.log"
}

h_setup() {
	t_need_bins
	t_need_netns
	t_need_cmd python3 nginx curl tshark setpriv timeout
	t_tmpdir
	if ! id htracr >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    htracr || t_skip_all "cannot create user htracr"
	fi
	SRV=$1.1
	CLI=$1.2
	shift
	t_pair "$SRV" "$CLI"
	SRVMAC=$(t_ns srv cat "/sys/class/net/$T_VETH_A/address")
	CLIMAC=$(t_ns cli cat "/sys/class/net/$T_VETH_B/address")
	# Replies to spoofed sources leave srv towards cli, which drops
	# them: they are on the wire, as on a server under attack.
	ip -n "$T_NS_PREFIX-srv" route add default via "$CLI"
	mkdir -p "$T_TMP/www"
	for i in 0 1 2 3 4 5 6; do
		python3 -c "import sys; sys.stdout.write('$i' * (300 + 2000 * $i))" \
		    >"$T_TMP/www/f$i.txt"
	done
	t_nginx "http://$SRV/f0.txt" <<EOF
	types { text/plain txt; }
	server {
		listen $SRV:80 backlog=128;
		root $T_TMP/www;
		access_log off;
	}
EOF

	H_RUN=$T_TMP/run
	mkdir "$H_RUN"
	chown root:htracr "$H_RUN"
	chmod 0750 "$H_RUN"
	H_SOCK=$H_RUN/s
	T_BG_LOG=$T_TMP/htracrd.log
	t_bg ip netns exec "$T_NS_PREFIX-srv" "$HTRACRD" --foreground \
	    --socket "$H_SOCK" --user htracr --ring-mib 64 "$@"
	H_DAEMON=$T_BG_PID
	T_BG_LOG=
	if ! t_wait_for 10 test -S "$H_SOCK" || ! t_wait_for 10 h_ctl status; then
		t_fail "$T_NAME/daemon" "did not come up: $(tail -n 2 "$T_TMP/htracrd.log")"
		t_exit
	fi
	ANALYZER=$(pgrep -P "$H_DAEMON" | head -n 1)
	if ! h_ctl start --ports 80 --interface "$T_VETH_A" >"$T_TMP/start.out" 2>&1; then
		t_fail "$T_NAME/start" "$(head -n 1 "$T_TMP/start.out")"
		t_exit
	fi
	h_querier &
	H_QUERIER=$!
	t_atexit "touch '$T_TMP/querier.stop'; kill $H_QUERIER 2>/dev/null"
}

h_ordinary() {
	t_ns cli timeout 80 python3 "$H_PY" client "$SRV" 80 "$1" "$2" \
	    "$T_TMP/client.log" >"$T_TMP/client.err" 2>&1 &
	H_CLIENT=$!
}

h_raw() {
	t_ns cli timeout 80 python3 "$H_PY" "$T_VETH_B" "$CLIMAC" "$SRVMAC" \
	    "$@" >"$T_TMP/raw.out" 2>&1
}

h_raw_value() {
	sed -n "s/^$1 //p" "$T_TMP/raw.out"
}

h_stop() {
	wait "$H_CLIENT"
	H_CLIENT_RC=$?
	# The last frames reach the analyzer before the stop does.
	sleep 1
	H_RSS_PEAK=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' \
	    "/proc/$ANALYZER/status" 2>/dev/null)
	touch "$T_TMP/querier.stop"
	wait "$H_QUERIER"
	if ! h_ctl stop --dump "$T_TMP/live.pcap" >"$T_TMP/stop.out" 2>&1; then
		t_fail "$T_NAME/stop" "$(head -n 1 "$T_TMP/stop.out")"
		t_exit
	fi
	h_ctl show --json >"$T_TMP/show.json" 2>"$T_TMP/show.err" ||
	    t_fail "$T_NAME/show" "$(head -n 1 "$T_TMP/show.err")"
	h_tables
}

# The session in three small files, read once (it may be large):
# counters (name value), conns.tsv (id, client address, server
# address, state, flags, gaps both ways) and txns.tsv (connection,
# client address, method, target, status).
h_tables() {
	python3 - "$T_TMP" <<'EOF'
import json, os, sys
tmp = sys.argv[1]
d = json.load(open(os.path.join(tmp, "show.json")))
with open(os.path.join(tmp, "counters"), "w") as f:
	for k, v in d["session"]["counters"].items():
		f.write("%s %s\n" % (k, v))
addr = {}
with open(os.path.join(tmp, "conns.tsv"), "w") as f:
	for c in d["connections"]:
		addr[c["id"]] = c["client_addr"]
		f.write("%d\t%s\t%s\t%s\t%s\t%d\n" % (c["id"], c["client_addr"],
		    c["server_addr"], c["state"], ",".join(c["flags"]) or "-",
		    c["c2s"]["gaps"] + c["s2c"]["gaps"]))
with open(os.path.join(tmp, "txns.tsv"), "w") as f:
	for t in d["transactions"]:
		req, resp = t["request"] or {}, t["response"] or {}
		f.write("%s\t%s\t%s\t%s\t%s\n" % (t["connection"],
		    addr.get(t["connection"]), req.get("method"),
		    req.get("target"), resp.get("status")))
EOF
}

h_counter() {
	sed -n "s/^$1 //p" "$T_TMP/counters"
}

# The ordinary client's transactions as the session has them: method,
# path and status of each on a connection from CLI (to SRV: the only
# server the client knows).
h_ordinary_seen() {
	awk -F '\t' -v cli="$CLI" '$2 == cli { print $3, $4, $5 }' \
	    "$T_TMP/txns.tsv"
}

h_check_common() {
	t_eq "$T_NAME-client-ran" 0 "$H_CLIENT_RC"
	if _t_alive "$H_DAEMON" && _t_alive "$ANALYZER"; then
		t_pass "$T_NAME-daemon-alive"
	else
		t_fail "$T_NAME-daemon-alive" "htracrd or its analyzer died: $(tail -n 3 "$T_TMP/htracrd.log")"
	fi
	budget=$(h_counter memory_budget)
	used=$(h_counter memory_used)
	limit=$((budget / 1024 * H_RSS_FACTOR + H_RSS_SLACK_MIB * 1024))
	echo "# $T_NAME: analyzer peak RSS ${H_RSS_PEAK:-?} KiB," \
	    "session memory $used of $budget bytes, RSS limit $limit KiB"
	if [ -n "$H_RSS_PEAK" ] && [ "$H_RSS_PEAK" -le "$limit" ]; then
		t_pass "$T_NAME-rss-within-budget"
	else
		t_fail "$T_NAME-rss-within-budget" "peak ${H_RSS_PEAK:-unknown} KiB > $limit KiB"
	fi
	if [ "$used" -le "$budget" ]; then
		t_pass "$T_NAME-memory-within-budget"
	else
		t_fail "$T_NAME-memory-within-budget" "$used > $budget"
	fi
	qok=$(grep -c '^ok$' "$T_TMP/querier.log")
	qbad=$(grep -v '^ok$' "$T_TMP/querier.log" | grep -v '^show$' | head -n 1)
	echo "# $T_NAME: querier rounds $qok, show answered $(grep -c '^show$' "$T_TMP/querier.log")"
	if [ "$qok" -gt 0 ] && [ -z "$qbad" ]; then
		t_pass "$T_NAME-querier-served"
	else
		t_fail "$T_NAME-querier-served" "$qok rounds; ${qbad:-none answered}"
	fi
	lost=$(($(h_counter kernel_drops) + $(h_counter ifdrops) +
	    $(h_counter forward_drops)))
	t_eq "$T_NAME-capture-lost-nothing" 0 "$lost"
	h_ordinary_seen >"$T_TMP/seen.log"
	n=$(wc -l <"$T_TMP/client.log")
	echo "# $T_NAME: ordinary requests $n; counters not 0:" \
	    $(awk '$2 != 0' "$T_TMP/counters" | tr ' ' =)
	if [ "$n" -gt 0 ] && cmp -s "$T_TMP/client.log" "$T_TMP/seen.log"; then
		t_pass "$T_NAME-ordinary-exact"
	else
		t_fail "$T_NAME-ordinary-exact" "client logged $n, session has $(wc -l <"$T_TMP/seen.log"): $(diff "$T_TMP/client.log" "$T_TMP/seen.log" | sed -n 2p)"
	fi
}
