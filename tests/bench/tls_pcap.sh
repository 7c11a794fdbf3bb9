#!/bin/sh
# tls_pcap.sh: the benchmark capture over TLS 1.3 and HTTP/2, made the
# way ../shared/bench/make_bench_pcap.sh makes bench.pcap: nginx in one
# network namespace, the clients in another, a veth pair between them
# with MTU 1500 and offloads off (wire-sized segments), tcpdump in the
# server's namespace with a large ring so that nothing is lost. nginx
# speaks only TLS 1.3, with ALPN h2; the clients write their secrets to
# a key log (SSLKEYLOGFILE).
#
# wrk speaks no HTTP/2: h2load (nghttp2-client) plays the kit's mix.lua
# on several streams per connection, with the same files and the same
# browser-like request headers:
#   1. the mix: 58 % 1 KB, 20 % 20 KB, 2 % 500 KB, 6 % 404 (a list of
#      100 paths in a fixed shuffled order, each client walking it)
#   2. short connections: one request each, the mix without the 500 KB
#      file, as the kit's Connection: close phase (a TLS handshake and
#      its key derivations per request)
#   3. gzip: 20 KB page with Accept-Encoding (6 % of the mix's count)
#   4. POST with a 2 KB form body -> 405 (6 %)
#   5. curl --http2, three URLs on one connection per run
#
#   tls_pcap.sh OUT		writes OUT, OUT.keys (the key log) and
#				OUT.meta.txt (the ground truth)
#
# The ground truth is what the clients made: requests sent, responses
# received and connections opened, from h2load's and curl's own counts;
# tshark's view (-z http2,tree with the key log) is written beside it.
#
#   TLS_REQS=N		requests of the mix (default 20000)
#   TLS_CONNS=N		h2load connections of the mix (default 20)
#   TLS_STREAMS=N	concurrent streams per connection (default 10)
#   TLS_SHORT=N		connections of one request (default 1000)
#   TLS_CURL=N		curl runs (default 40)
#   TLS_MAX_SECS=N	watchdog (default 300)
#
# Needs root. Everything it starts is stopped by pid; the namespaces,
# their hosts file and the temporary directory are removed at the end.
set -u
OUT=${1:?usage: tls_pcap.sh OUT}
REQS=${TLS_REQS:-20000}
CONNS=${TLS_CONNS:-20}
STREAMS=${TLS_STREAMS:-10}
SHORT=${TLS_SHORT:-1000}
CURL_N=${TLS_CURL:-40}
MAX_SECS=${TLS_MAX_SECS:-300}
TAG=htls$$
NS_S=${TAG}s
NS_C=${TAG}c
VS=${TAG}vs
VC=${TAG}vc
SIP=10.79.0.1
CIP=10.79.0.2
NAME=bench.local
URL=https://$NAME:8443
NGX_PID=
TCPD_PID=
WD_PID=
WORK=
SHM=

die() {
	echo "tls_pcap: $*" >&2
	exit 1
}

stop_pid() {
	[ -n "$1" ] || return 0
	kill "-$2" "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

cleanup() {
	trap - EXIT INT TERM
	stop_pid "$TCPD_PID" INT
	stop_pid "$NGX_PID" QUIT
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	rm -rf "/etc/netns/$NS_C"
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	[ -n "$SHM" ] && rm -f "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in ip nginx h2load curl tcpdump tshark ethtool openssl; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (make deps)"
done
[ "$REQS" -ge "$CONNS" ] && [ "$REQS" -ge 100 ] ||
    die "TLS_REQS must be at least 100 and TLS_CONNS"

# The watchdog's sleep goes with it, so that no one waits on its output.
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$MAX_SECS" </dev/null >/dev/null 2>&1 &
	sp=$!
	wait "$sp" || exit 0
	echo "tls_pcap: watchdog: $MAX_SECS s" >&2
	kill -TERM $$
) &
WD_PID=$!

WORK=$(mktemp -d -t htracr-tls.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
WWW=$WORK/www
mkdir -p "$WWW" "$WORK/tmp"

# The kit's files, by its method: pseudo-random bytes from a seed.
prng() {
	openssl enc -aes-128-ctr -nosalt -pass "pass:$1" -pbkdf2 \
	    </dev/zero 2>/dev/null | head -c "$2"
}
mkhtml() {
	{
		printf '<!doctype html>\n<html><head><title>%s</title></head><body>\n' "$1"
		prng "$3" "$2" | base64 -w 76 | sed 's/^/<p>/; s/$/<\/p>/'
	} | head -c $(($2 - 15)) >"$WWW/$1"
	printf '\n</body></html>\n' >>"$WWW/$1"
}
mkhtml f1k.html 1024 one
mkhtml f20k.html 20480 twenty
prng fivehundred 512000 >"$WWW/f500k.bin"
chmod -R a+rX "$WWW"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$WORK/k.pem" \
    -out "$WORK/c.pem" -subj "/CN=$NAME" >"$WORK/openssl.log" 2>&1 ||
    die "no certificate: $(tail -n 1 "$WORK/openssl.log")"

cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on; tcp_nopush on; tcp_nodelay on;
	keepalive_timeout 65; keepalive_requests 1000000;
	types { text/html html; application/octet-stream bin; }
	default_type application/octet-stream;
	gzip on; gzip_min_length 256;
	client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
	fastcgi_temp_path $WORK/tmp/fcgi; uwsgi_temp_path $WORK/tmp/uwsgi;
	scgi_temp_path $WORK/tmp/scgi;
	server {
		listen $SIP:8443 ssl http2 backlog=4096;
		server_name $NAME;
		ssl_certificate $WORK/c.pem;
		ssl_certificate_key $WORK/k.pem;
		ssl_protocols TLSv1.3;
		root $WWW;
	}
}
EOF

ip netns add "$NS_S" || die "ip netns add failed"
ip netns add "$NS_C" || die "ip netns add failed"
ip link add "$VS" type veth peer name "$VC" || die "no veth pair"
ip link set "$VS" netns "$NS_S"
ip link set "$VC" netns "$NS_C"
for pair in "$NS_S $VS $SIP" "$NS_C $VC $CIP"; do
	set -- $pair
	ip -n "$1" link set lo up
	ip -n "$1" link set "$2" mtu 1500
	ip -n "$1" addr add "$3/24" dev "$2"
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off \
	    >/dev/null 2>&1
	ip -n "$1" link set "$2" up
done
# ip netns exec puts /etc/netns/NS/hosts in place of /etc/hosts: the
# clients find the server by the name its certificate has (SNI).
mkdir -p "/etc/netns/$NS_C"
echo "$SIP $NAME" >"/etc/netns/$NS_C/hosts"

ip netns exec "$NS_S" nginx -e "$WORK/error.log" -p "$WORK" \
    -c "$WORK/nginx.conf" 2>"$WORK/nginx.err" &
NGX_PID=$!
i=0
until ip netns exec "$NS_C" curl -sk -o /dev/null -m 1 --http2 \
    "$URL/f1k.html"; do
	[ "$i" -lt 50 ] || die "nginx did not come up: $(tail -n 1 "$WORK/error.log")"
	sleep 0.1
	i=$((i + 1))
done

SHM=/dev/shm/$TAG.pcap
KEYS=$WORK/keys.txt
ip netns exec "$NS_S" tcpdump -i "$VS" -s 0 -B 262144 -n -w "$SHM" \
    "tcp port 8443" 2>"$WORK/tcpdump.err" &
TCPD_PID=$!
sleep 1

# The mix.lua request mix as a list of paths, in an order fixed by a
# seed; each h2load client walks it from the top.
awk 'BEGIN {
	srand(12345);
	for (i = 0; i < 58; i++) p[n++] = "/f1k.html";
	for (i = 0; i < 20; i++) p[n++] = "/f20k.html";
	for (i = 0; i < 2; i++) p[n++] = "/f500k.bin";
	for (i = 0; i < 6; i++) p[n++] = "/missing/page.html?id=42&q=bench";
	for (i = n - 1; i > 0; i--) {
		j = int(rand() * (i + 1)); t = p[i]; p[i] = p[j]; p[j] = t;
	}
	for (i = 0; i < n; i++) print "'"$URL"'" p[i];
}' >"$WORK/uris.txt"
awk 'BEGIN { for (i = 0; i < 170; i++) printf "field=value&" }' \
    >"$WORK/body.txt"

h2() {
	ip netns exec "$NS_C" env SSLKEYLOGFILE="$KEYS" timeout 120 \
	    h2load -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0 htracr-bench" \
	    -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" \
	    -H "Accept-Language: en-US,en;q=0.5" \
	    -H "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark" \
	    "$@" >>"$WORK/h2load.txt" 2>&1
}

SMALL=$((REQS * 6 / 100))
[ "$SMALL" -ge 4 ] || SMALL=4
echo "phase 1: the mix, h2load -n $REQS -c $CONNS -m $STREAMS" | tee "$WORK/h2load.txt"
h2 -n "$REQS" -c "$CONNS" -m "$STREAMS" -i "$WORK/uris.txt" ||
    die "h2load failed: $(tail -n 3 "$WORK/h2load.txt")"
# Each h2load client walks the list from its top: a client of one
# request would only ever ask for the first path. So one run per path,
# in the mix's proportions, 100 new connections every 0.1 s.
short() {
	[ "$1" -gt 0 ] || return 0
	rate=100
	[ "$1" -lt "$rate" ] && rate=$1
	h2 -n "$1" -c "$1" -m 1 -r "$rate" --rate-period 100ms "$2" ||
	    die "h2load failed: $(tail -n 3 "$WORK/h2load.txt")"
}
S1=$((SHORT * 58 / 84))
S20=$((SHORT * 20 / 84))
echo "phase 2: short connections, $SHORT of one request each" |
    tee -a "$WORK/h2load.txt"
short "$S1" "$URL/f1k.html"
short "$S20" "$URL/f20k.html"
short $((SHORT - S1 - S20)) "$URL/missing/page.html?id=42&q=bench"
echo "phase 3: gzip, h2load -n $SMALL -c 4" | tee -a "$WORK/h2load.txt"
h2 -n "$SMALL" -c 4 -m "$STREAMS" -H "Accept-Encoding: gzip, deflate" \
    "$URL/f20k.html" || die "h2load failed"
echo "phase 4: POST -> 405, h2load -n $SMALL -c 4" | tee -a "$WORK/h2load.txt"
h2 -n "$SMALL" -c 4 -m "$STREAMS" -d "$WORK/body.txt" \
    -H "Content-Type: application/x-www-form-urlencoded" \
    "$URL/f1k.html" || die "h2load failed"
echo "phase 5: $CURL_N curl --http2 runs, 3 URLs each"
: >"$WORK/curl.txt"
i=0
while [ "$i" -lt "$CURL_N" ]; do
	ip netns exec "$NS_C" env SSLKEYLOGFILE="$KEYS" timeout 20 \
	    curl -sk --http2 -m 10 -w '%{http_code} %{num_connects}\n' \
	    -o /dev/null -o /dev/null -o /dev/null \
	    "$URL/f1k.html?c=$i" "$URL/f500k.bin" \
	    -H "Accept-Encoding: gzip" "$URL/f20k.html" \
	    >>"$WORK/curl.txt" 2>&1
	i=$((i + 1))
done
sleep 1
stop_pid "$TCPD_PID" INT
TCPD_PID=
mv -f "$SHM" "$OUT" || die "no capture"
cp "$KEYS" "$OUT.keys" || die "no key log"
DROPS=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' \
    "$WORK/tcpdump.err")

# What the clients did, by their own counts.
h2sum() {
	awk -v f="$1" '$1 == "requests:" { s += $(f) } END { print s + 0 }' \
	    "$WORK/h2load.txt"
}
H2_DONE=$(h2sum 6)
H2_OK=$(awk '$1 == "status" && $2 == "codes:" { s += $3 + $5 + $7 + $9 }
    END { print s + 0 }' "$WORK/h2load.txt")
H2_CONNS=$((CONNS + SHORT + 8))
C_REQ=$(awk '$1 ~ /^[0-9]+$/' "$WORK/curl.txt" | wc -l)
C_RESP=$(awk '$1 ~ /^[1-5][0-9][0-9]$/' "$WORK/curl.txt" | wc -l)
C_CONNS=$(awk '$2 > 0 { n++ } END { print n + 0 }' "$WORK/curl.txt")
# tshark's view of the same bytes, with the same keys.
tshark -r "$OUT" -o "tls.keylog_file:$OUT.keys" -q -z http2,tree \
    >"$WORK/tshark.txt" 2>&1
{
	echo "# $OUT: TLS 1.3, h2, made by tests/bench/tls_pcap.sh"
	cat "$WORK/h2load.txt"
	echo "curl runs: $CURL_N"
	cat "$WORK/tcpdump.err"
	capinfos -c -s "$OUT" 2>/dev/null
	echo "tshark -z http2,tree:"
	cat "$WORK/tshark.txt"
	echo "client requests: $((H2_DONE + C_REQ))"
	echo "client responses: $((H2_OK + C_RESP))"
	echo "client connections: $((H2_CONNS + C_CONNS))"
	echo "kernel drops: ${DROPS:-?}"
} >"$OUT.meta.txt"
tail -n 4 "$OUT.meta.txt"
[ "${DROPS:-0}" = 0 ] || { echo "tls_pcap: the capture is lossy" >&2; exit 2; }
exit 0
