#!/usr/bin/env python3
# tlscheck.py: compares htracr's TLS connections (analyze --json, with
# --ports and without) with tshark's fields for the same capture and with
# what curl said it negotiated. Used by 057-tls.sh; prints PASS/FAIL
# lines and a summary line of the fields compared.
import collections
import sys

from oracle import begin, load, report, rows, split

name, jports, jany, tsv, curls = sys.argv[1:6]
begin(name)
HOSTILE = 'q"\\\x01\x1b[31m.x'
CT = {20: "ccs", 21: "alert", 22: "handshake", 23: "application"}
# OpenSSL's names of the TLS 1.2 suites nginx and curl agree on.
OPENSSL = {
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}
VERSIONS = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


def ints(s):
    return [int(x, 0) for x in split(s)]


# tshark's view, one entry per TCP stream, keyed by the client's port.
streams = {}
for f in rows(tsv, 15):
    (stream, sport, dport, ctype, htype, sni, alpn, suites, sver, hver,
     alevel, adesc, opaque, exttypes) = f[:14]
    if not stream:
        continue
    sport, dport = int(sport), int(dport)
    c2s = dport == 443
    cport = sport if c2s else dport
    st = streams.setdefault(cport, {
        "records": {"c2s": collections.Counter(), "s2c": collections.Counter()},
        "sni": None, "alpn_offered": None, "alpn": None, "cipher": None,
        "version": None, "alerts": [], "cert": False, "psk": False})
    d = "c2s" if c2s else "s2c"
    for t in ints(ctype) + ints(opaque):
        st["records"][d][CT.get(t, "other")] += 1
    ht = ints(htype)
    if c2s and 1 in ht:
        st["sni"] = sni.split("|")[0] if sni else None
        st["alpn_offered"] = split(alpn) or None
    if not c2s and 2 in ht:
        st["alpn"] = split(alpn)[0] if alpn else None
        st["cipher"] = ints(suites)[0]
        v = ints(sver) or ints(hver)
        st["version"] = VERSIONS.get(v[0]) if v else None
        st["psk"] = 41 in ints(exttypes)
    if not c2s and 11 in ht:
        st["cert"] = True
    for lv, de in zip(ints(alevel), ints(adesc)):
        st["alerts"].append((d, lv, de))

ports = load(jports)
anyd = load(jany)


def tls_conns(d):
    return {c["client_port"]: c for c in d.get("connections", []) if c.get("tls")}


hp = tls_conns(ports)
ha = tls_conns(anyd)
tlsstreams = {p: s for p, s in streams.items()
              if sum(s["records"]["c2s"].values()) + sum(s["records"]["s2c"].values())}
report("connections", sorted(hp) == sorted(tlsstreams),
       "tshark: %s, htracr: %s" % (sorted(tlsstreams), sorted(hp)))
report("connections_any", sorted(ha) == sorted(hp),
       "without --ports %s, with %s" % (sorted(ha), sorted(hp)))
report("no_transactions", not ports.get("transactions") and not anyd.get("transactions"),
       "%d and %d transactions" % (len(ports.get("transactions", [])), len(anyd.get("transactions", []))))
nothttp = [c["client_port"] for c in anyd.get("connections", []) if "not_http" in (c.get("flags") or [])]
report("not_marked_not_http", not nothttp, "not_http: %s" % nothttp)

# Field by field against tshark.
compared = equal = 0
diffs = []
for port, st in sorted(tlsstreams.items()):
    c = hp.get(port)
    if c is None:
        continue
    t = c["tls"]
    ours = {
        "sni": t["sni"], "alpn_offered": t["alpn_offered"], "alpn": t["alpn"],
        "cipher": t["cipher_suite"], "version": t["version"],
    }
    for k, v in ours.items():
        want = st[k]
        if k == "sni" and v == HOSTILE:
            want = HOSTILE  # tshark prints it escaped; checked below
        compared += 1
        if v == want:
            equal += 1
        else:
            diffs.append("port %d %s: tshark %r, htracr %r" % (port, k, want, v))
    for d in ("c2s", "s2c"):
        for k in ("handshake", "application", "alert", "ccs"):
            compared += 1
            got = t[d]["%s_records" % k]
            if got == st["records"][d][k]:
                equal += 1
            else:
                diffs.append("port %d %s %s records: tshark %d, htracr %d"
                             % (port, d, k, st["records"][d][k], got))
    alerts = [(a["dir"], a["level"], a["description"]) for a in t["alerts"] if not a["encrypted"]]
    compared += 1
    if alerts == st["alerts"]:
        equal += 1
    else:
        diffs.append("port %d alerts: tshark %s, htracr %s" % (port, st["alerts"], alerts))
    # Resumption as tshark shows it: a PSK in the ServerHello (1.3), no
    # Certificate from the server (1.2, abbreviated handshake).
    if st["version"] is not None:
        want = st["psk"] if st["version"] == "TLS 1.3" else not st["cert"]
        compared += 1
        if t["resumed"] == want:
            equal += 1
        else:
            diffs.append("port %d resumed: tshark %s, htracr %s" % (port, want, t["resumed"]))
report("tshark_fields", not diffs, "; ".join(diffs[:4]))
print("# %d connections compared with tshark: %d of %d fields equal"
      % (len(tlsstreams), equal, compared))

# What curl says it negotiated.
why = []
said = [l.rstrip("\n").split("\t") for l in open(curls) if l.strip()]
groups = collections.defaultdict(list)
for group, port, ver, cipher, alpn in said:
    c = hp.get(int(port))
    if c is None:
        why.append("%s: no connection from port %s" % (group, port))
        continue
    t = c["tls"]
    groups[group].append(t)
    if ver == "-":
        continue
    if t["version"] != ver:
        why.append("%s: curl %s, htracr %s" % (group, ver, t["version"]))
    if t["cipher"] != OPENSSL.get(cipher, cipher):
        why.append("%s: curl %s, htracr %s" % (group, cipher, t["cipher"]))
    if ver == "TLS 1.2" and t["alpn"] != alpn:
        why.append("%s: curl ALPN %s, htracr %s" % (group, alpn, t["alpn"]))
    if ver == "TLS 1.3" and (t["alpn"] is not None or alpn not in (t["alpn_offered"] or [])):
        why.append("%s: 1.3 ALPN %s should be null and %s offered" % (group, t["alpn"], alpn))
report("curl", not why and len(said) >= 9, "; ".join(why[:4]) or "%d curl rows" % len(said))

# Resumption, handshake times and round trips, certificate, alerts.
why = []
for g in ("r13", "r12"):
    ts = groups.get(g, [])
    if len(ts) != 2 or ts[0]["resumed"] is not False or ts[1]["resumed"] is not True:
        why.append("%s resumed: %s" % (g, [t["resumed"] for t in ts]))
t13 = (groups.get("r13") or [{}])[-1]
if t13.get("psk_offered") is not True or t13.get("psk_accepted") is not True:
    why.append("r13: psk offered %s accepted %s" % (t13.get("psk_offered"), t13.get("psk_accepted")))
for port, c in hp.items():
    t = c["tls"]
    if t["alert_count"] or t["version"] is None:
        continue
    want = 1 if t["version"] == "TLS 1.3" or t["resumed"] else 2
    if t["round_trips"] != want or t["handshake_us"] is None or t["handshake_us"] < 0:
        why.append("port %d (%s, resumed %s): round trips %s, handshake_us %s"
                   % (port, t["version"], t["resumed"], t["round_trips"], t["handshake_us"]))
    full12 = t["version"] == "TLS 1.2" and not t["resumed"]
    subj = "CN=htracr.test, O=htracr tests" if full12 else None
    if t["cert_subject"] != subj or t["cert_issuer"] != subj:
        why.append("port %d: subject %r issuer %r" % (port, t["cert_subject"], t["cert_issuer"]))
    # Records and their headers add up to the TCP payload; a segment sent
    # again (a loaded machine's namespaces do retransmit) counts twice in
    # payload_bytes but its bytes once in the records.
    for d in ("c2s", "s2c"):
        total = sum(t[d]["%s_bytes" % k] for k in ("handshake", "application", "alert", "ccs"))
        resent = c[d]["retransmits"] > 0
        if total > c[d]["payload_bytes"] or (not resent and total != c[d]["payload_bytes"]):
            why.append("port %d %s: records %d bytes, TCP payload %d" % (port, d, total, c[d]["payload_bytes"]))
report("handshakes", not why, "; ".join(why[:4]))

bad = groups.get("bad", [{}])[0]
al = [(a["dir"], a["name"]) for a in bad.get("alerts", [])]
report("alert", ("c2s", "unknown_ca") in al, "alerts of the refused connection: %s" % al)
hostile = [c for c in hp.values() if c["tls"]["sni"] == HOSTILE]
report("hostile_sni", len(hostile) == 1, "connections with the hostile SNI: %d" % len(hostile))
sys.exit(0)
