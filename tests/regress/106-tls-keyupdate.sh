#!/bin/sh
# 106-tls-keyupdate: TLS 1.3 key updates, decrypted. nginx (TLS 1.3, a
# certificate the test makes) in one namespace made here; openssl
# s_client in the other writes its key log (-keylogfile) and, on one
# connection, asks for a page, sends a KeyUpdate that requests the
# server's too ("K": both sides change keys), asks again, sends a
# KeyUpdate of its own only ("k"), and asks a third time; once with
# AES-256-GCM (SHA-384 secrets) and once with ChaCha20-Poly1305.
# tcpdump captures it. `htracrctl analyze --keylog --json` must
# decrypt every record, none failed, and give the three requests and
# responses of each connection as tshark -o tls.keylog_file reads them
# from the same file, tshark seeing the KeyUpdates where they were
# sent. Needs root and ip netns.
. "$(dirname "$0")/lib.sh"

t_need_netns
t_need_cmd nginx tcpdump curl openssl tshark python3
t_need_bins
t_tmpdir

SRV=10.231.106.1
CLI=10.231.106.2
NAME=keyupdate.htracr.test
CAP=$T_TMP/ku.pcap
KEYS=$T_TMP/keys.txt

start_nginx() {
	mkdir -p "$T_TMP/www"
	for f in a b c; do
		python3 -c "print('$f' * 3000)" >"$T_TMP/www/$f.txt"
	done
	t_cert "/CN=$NAME"
	t_nginx -k "https://$SRV/a.txt" <<EOF
	types { text/plain txt; }
	server {
		listen $SRV:443 ssl;
		ssl_certificate $T_TMP/nginx/c.pem;
		ssl_certificate_key $T_TMP/nginx/k.pem;
		ssl_protocols TLSv1.3;
		root $T_TMP/www;
	}
EOF
}

# One connection; each write a line s_client reads alone, so that "K"
# and "k" are its commands and not data.
keyupdates() {
	{
		printf 'GET /a.txt HTTP/1.1\nHost: %s\n\n' "$NAME"
		sleep 0.5
		echo K
		sleep 0.5
		printf 'GET /b.txt HTTP/1.1\nHost: %s\n\n' "$NAME"
		sleep 0.5
		echo k
		sleep 0.5
		printf 'GET /c.txt HTTP/1.1\nHost: %s\nConnection: close\n\n' \
		    "$NAME"
		sleep 1
	} | t_ns cli timeout 20 openssl s_client -connect "$SRV:443" \
	    -servername "$NAME" -tls1_3 -ciphersuites "$1" -crlf \
	    -keylogfile "$KEYS" >>"$T_TMP/sclient.out" 2>&1
}

t_pair "$SRV" "$CLI"
start_nginx
t_tcpdump "$CAP" tcp port 443
keyupdates TLS_AES_256_GCM_SHA384
keyupdates TLS_CHACHA20_POLY1305_SHA256
sleep 1
t_kill "$TCPDUMP_PID"
t_eq "$T_NAME/sclient_updates" 4 "$(grep -c '^KEYUPDATE' "$T_TMP/sclient.out")"

timeout 60 "$HTRACRCTL" analyze "$CAP" --ports 443 --keylog "$KEYS" \
    --json >"$T_TMP/dec.json" 2>"$T_TMP/dec.err" ||
	{ t_fail "$T_NAME/analyze" "$(head -n 1 "$T_TMP/dec.err")"; t_exit; }
timeout 60 tshark -r "$CAP" -o "tls.keylog_file:$KEYS" -d tcp.port==443,tls \
    -T fields -E occurrence=a -E aggregator='|' -E separator='	' \
    -e tcp.srcport -e tcp.dstport -e tls.handshake.type \
    -e http.request.method -e http.request.uri -e http.response.code \
    >"$T_TMP/dec.tsv" 2>"$T_TMP/tshark.err" ||
	{ t_fail "$T_NAME/tshark" "$(head -n 1 "$T_TMP/tshark.err")"; t_exit; }

python3 - "$T_NAME" "$T_TMP/dec.json" "$T_TMP/dec.tsv" \
    "$T_ROOT/tests/regress" >"$T_TMP/res" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[4])
import oracle
from oracle import begin, load, report, rows, split

begin(sys.argv[1])
shark = {}
for sport, dport, htypes, meth, uri, code in rows(sys.argv[3], 6):
    if not sport:
        continue
    c2s = dport == "443"
    c = shark.setdefault(int(sport if c2s else dport),
                         {"req": [], "st": [], "ku": [0, 0]})
    c["ku"][0 if c2s else 1] += split(htypes).count("24")
    if c2s:
        c["req"] += list(zip(split(meth), split(uri)))
    else:
        c["st"] += [int(x) for x in split(code)]
d = load(sys.argv[2])
txns = {t["id"]: t for t in d["transactions"]}
ours = {c["client_port"]: c for c in d["connections"]}
report("connections", sorted(ours) == sorted(shark) and len(ours) == 2,
       "htracr %s, tshark %s" % (sorted(ours), sorted(shark)))
for port in sorted(set(ours) & set(shark)):
    c, s = ours[port], shark[port]
    tls, ts = c["tls"], [txns[i] for i in c["transactions"]]
    name = tls["cipher"]
    report("%s/keyupdates_sent" % name, s["ku"] == [2, 1],
           "tshark saw KeyUpdates c2s, s2c %r" % s["ku"])
    report("%s/decrypted" % name, tls["decrypted"] and
           tls["records_failed"] == 0 and tls["records_not_decrypted"] == 0
           and tls["decrypt_error"] is None,
           "failed %d, not decrypted %d, %r" % (tls["records_failed"],
           tls["records_not_decrypted"], tls["decrypt_error"]))
    req = [(t["request"]["method"], t["request"]["target"]) for t in ts]
    st = [t["response"]["status"] for t in ts if t["response"]]
    report("%s/requests" % name, req == s["req"] and len(req) == 3,
           "htracr %r, tshark %r" % (req, s["req"]))
    report("%s/statuses" % name, st == s["st"] and len(st) == 3,
           "htracr %r, tshark %r" % (st, s["st"]))
    report("%s/bodies" % name, all(t["response"]["body_bytes"] == 3001 and
           t["response"]["complete"] for t in ts if t["response"]),
           "%r" % [(t["response"] or {}).get("body_bytes") for t in ts])
print("# table: %s: %d connections, transactions htracr %d / tshark %d, "
      "requests, statuses, bodies, %s" % (sys.argv[1], len(ours),
      len(txns), sum(len(c["req"]) for c in shark.values()),
      "equal" if not oracle.fails else "NOT equal"))
sys.exit(1 if oracle.fails else 0)
PY
rc=$?
cat "$T_TMP/res"
grep -q '^FAIL: ' "$T_TMP/res" && T_FAILED=1
[ "$rc" -eq 0 ] || grep -q '^FAIL: ' "$T_TMP/res" ||
    t_fail "$T_NAME/check" "checker failed: $(tail -n 1 "$T_TMP/res")"
t_exit
