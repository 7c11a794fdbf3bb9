#!/bin/sh
# 054-delete-hide: removing what one is not interested in. Live capture
# in namespaces made here (python3 servers on two ports, curl): `show
# --hide-server` and `--hide-conn` leave out exactly what they name and
# keep the rest; `delete` refuses a running session, another user's
# session and one that is not there, and forgets a finished one (gone
# from `sessions`, `show` of it fails, the daemon's memory goes down).
# Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd python3 curl setpriv
t_need_bins
t_tmpdir

SRV=10.231.54.1
CLI=10.231.54.2
SOCK=$T_TMP/s
ctl() {
	timeout 30 "$HTRACRCTL" --socket "$SOCK" "$@"
}

if ! id htracr >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin htracr ||
	    t_skip_all "cannot create user htracr"
fi
HGID=$(getent group htracr | cut -d: -f3)
NOGROUP=$(id -gn nobody)
# nobody, in group htracr: may use the socket, owns nothing.
as_nobody() {
	setpriv --reuid=nobody --regid="$NOGROUP" --groups="$HGID" "$@"
}

t_ns_add srv >/dev/null || t_skip_all "cannot create namespaces"
t_ns_add cli >/dev/null
t_veth srv "$SRV/24" cli "$CLI/24" || t_skip_all "cannot create a veth pair"
mkdir "$T_TMP/www"
echo "page" >"$T_TMP/www/index.html"
for port in 8061 8062; do
	T_BG_LOG=$T_TMP/server.log t_bg ip netns exec "$T_NS_PREFIX-srv" \
	    python3 -m http.server --bind "$SRV" --directory "$T_TMP/www" "$port"
	t_wait_for 10 t_ns cli curl -s -o /dev/null --max-time 2 \
	    "http://$SRV:$port/" || t_skip_all "the test web server does not answer"
done

T_BG_LOG=$T_TMP/htracrd.log t_bg ip netns exec "$T_NS_PREFIX-cli" \
    "$HTRACRD" --foreground --socket "$SOCK" --user htracr
if ! t_wait_for 10 test -S "$SOCK" || ! t_wait_for 5 ctl status; then
	t_fail "$T_NAME/daemon" "$(tail -n 2 "$T_TMP/htracrd.log")"
	t_exit
fi

get() {
	t_ns cli curl -s -o /dev/null --max-time 5 "http://$SRV:$1$2"
}

# Session 1: three connections to 8061, one to 8062.
t_check "$T_NAME/start" ctl start --ports 8061,8062 --interface "$T_VETH_B"
get 8061 /a
get 8061 /b
get 8061 /c
get 8062 /d
sleep 0.3
SID=$(ctl status --json | jq -r '.session.id')
out=$(ctl delete "$SID" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "stop it first"; then
	t_pass "$T_NAME/delete-running-refused"
else
	t_fail "$T_NAME/delete-running-refused" "exit $rc: $out"
fi
t_check "$T_NAME/stop" ctl stop

# What each connection and server is, from the JSON.
ctl show --json >"$T_TMP/s1.json"
C2=$(t_json "$T_TMP/s1.json" '[c["id"] for c in d["connections"] if any(
    t["request"]["target"] == "/b" for t in d["transactions"] if t["connection"] == c["id"])][0]')
S8062=$(t_json "$T_TMP/s1.json" '[s["id"] for s in d["servers"] if s["port"] == 8062][0]')

# The waterfall's lines: client ports of the connections shown, targets.
shown() {
	ctl show --width 120 "$@" | grep -o -e "$CLI:[0-9]*" -e 'GET /[a-d]' |
	    sed 's/^.*://' | paste -sd' '
}
ports() {
	t_json "$T_TMP/s1.json" "' '.join(str(c['client_port']) for c in d['connections'] $1)"
}
all=$(shown)
t_eq "$T_NAME/all-shown" 4 "$(printf '%s\n' "$all" | grep -o 'GET /' | wc -l)"
got=$(shown --hide-conn "$C2")
case "$got" in
*"/b"*) t_fail "$T_NAME/hide-conn" "still there: $got" ;;
*"/a"*"/c"*"/d"*) t_pass "$T_NAME/hide-conn" ;;
*) t_fail "$T_NAME/hide-conn" "others gone: $got" ;;
esac
hidden_port=$(ports "if c['id'] == $C2")
case " $got " in
*" $hidden_port "*) t_fail "$T_NAME/hide-conn-row" "connection row still shown" ;;
*) t_pass "$T_NAME/hide-conn-row" ;;
esac
got=$(shown --hide-server "$S8062")
t_eq "$T_NAME/hide-server-id" "$(ports "if c['server_port'] == 8061" |
    sed 's/ / GET \/. /g') GET /." "$(printf '%s' "$got" | sed 's#GET /[a-d]#GET /.#g')"
got2=$(shown --hide-server "$SRV" | grep -c 'GET')
t_eq "$T_NAME/hide-server-addr" 0 "$got2"
got=$(shown --hide-server "$S8062" --hide-conn "$C2" | grep -o 'GET /.' | paste -sd' ')
t_eq "$T_NAME/hide-both" "GET /a GET /c" "$got"
if ctl show --hide-conn 2x >/dev/null 2>&1; then
	t_fail "$T_NAME/hide-conn-bad" "accepted '2x'"
else
	t_pass "$T_NAME/hide-conn-bad"
fi

# Session 2, then delete: another user may not, the owner may.
t_check "$T_NAME/start-2" ctl start --ports 8061 --interface "$T_VETH_B"
get 8061 /e
t_check "$T_NAME/stop-2" ctl stop
mem_before=$(ctl status --json | jq '.memory')
out=$(as_nobody "$HTRACRCTL" --socket "$SOCK" delete "$SID" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "made by uid 0"; then
	t_pass "$T_NAME/delete-other-user-refused"
else
	t_fail "$T_NAME/delete-other-user-refused" "exit $rc: $out"
fi
t_eq "$T_NAME/delete" "session $SID deleted" "$(ctl delete "$SID" 2>&1)"
t_eq "$T_NAME/sessions-after" "$((SID + 1))" \
    "$(ctl sessions --json | jq -r '[.sessions[].id] | join(" ")')"
mem_after=$(ctl status --json | jq '.memory')
if [ "$mem_after" -lt "$mem_before" ]; then
	t_pass "$T_NAME/memory-freed"
else
	t_fail "$T_NAME/memory-freed" "$mem_before -> $mem_after bytes"
fi
out=$(ctl show "$SID" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "no session $SID"; then
	t_pass "$T_NAME/show-deleted"
else
	t_fail "$T_NAME/show-deleted" "exit $rc: $out"
fi
out=$(ctl delete "$SID" 2>&1)
[ $? -ne 0 ] && t_pass "$T_NAME/delete-twice" ||
    t_fail "$T_NAME/delete-twice" "$out"
t_eq "$T_NAME/delete-json" "{\"deleted\":$((SID + 1))}" \
    "$(ctl delete --json "$((SID + 1))" 2>&1)"
t_eq "$T_NAME/none-left" 0 "$(ctl sessions --json | jq '.sessions | length')"
t_check "$T_NAME/daemon-alive" ctl status
t_exit
