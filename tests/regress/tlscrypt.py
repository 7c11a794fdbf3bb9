#!/usr/bin/env python3
# tlscrypt.py: compares what htracr decrypted (analyze --keylog --json)
# with tshark's view of the same capture decrypted with the same key log:
# per TCP connection (by the client's port) the requests' methods and
# paths and the responses' statuses in order, the SNI, the ALPN protocol
# chosen and the cipher suite. A CBC connection, which htracr does not
# decrypt, must say so and have no transaction. Used by 100-tlscrypt.sh;
# prints PASS/FAIL lines and one line of what was compared.
import sys

from oracle import begin, load, report, rows, split

name, jpath, tsv = sys.argv[1:4]
begin(name)
CBC = {0xc013, 0xc014, 0x002f, 0x0035}
compared = 0
notify = 0


# tshark: one entry per client port.
streams = {}
for f in rows(tsv, 12):
    sport, dport, method, uri, code, sni, alpn, suites, htypes = f[:9]
    h2method, h2path, h2status = f[9:12]
    # HTTP/2 inside TLS: the pseudo-headers are the request and status.
    method, uri, code = method or h2method, uri or h2path, code or h2status
    if not sport:
        continue
    c2s = int(dport) == 443
    port = int(sport) if c2s else int(dport)
    st = streams.setdefault(port, {"requests": [], "statuses": [],
                                   "sni": None, "alpn": None, "cipher": None})
    types = [int(x) for x in split(htypes)]
    if c2s:
        st["requests"] += list(zip(split(method), split(uri)))
        if 1 in types and sni:
            st["sni"] = split(sni)[0]
    else:
        st["statuses"] += [int(x) for x in split(code)]
        if 2 in types and suites:
            st["cipher"] = int(split(suites)[0], 0)
        if alpn:
            st["alpn"] = split(alpn)[0]

d = load(jpath)
txns = {t["id"]: t for t in d["transactions"]}
conns = {c["client_port"]: c for c in d["connections"] if c.get("tls")}

report("connections", sorted(conns) == sorted(streams),
       "htracr %s, tshark %s" % (sorted(conns), sorted(streams)))
for port in sorted(set(conns) & set(streams)):
    c, st = conns[port], streams[port]
    tls = c["tls"]
    ours_t = [txns[i] for i in c["transactions"]]
    ours = {
        "requests": [(t["request"]["method"], t["request"]["target"])
                     for t in ours_t],
        "statuses": [t["response"]["status"] for t in ours_t
                     if t["response"]],
        "sni": tls["sni"], "alpn": tls["alpn"], "cipher": tls["cipher_suite"],
    }
    case = (tls["cipher"] or str(tls["cipher_suite"])).replace("TLS_", "", 1)
    if tls["cipher_suite"] in CBC:
        report("%s/cbc_not_decrypted" % case,
               tls["decrypted"] is False and not ours_t and
               "not decrypted" in (tls["decrypt_error"] or ""),
               "decrypted %s, %d transactions, error %r" %
               (tls["decrypted"], len(ours_t), tls["decrypt_error"]))
        continue
    report("%s/decrypted" % case, tls["decrypted"] is True and
           tls["records_failed"] == 0 and tls["records_not_decrypted"] == 0,
           "decrypted %s failed %d not %d: %r" % (tls["decrypted"],
           tls["records_failed"], tls["records_not_decrypted"],
           tls["decrypt_error"]))
    report("%s/several_requests" % case, len(st["requests"]) >= 5,
           "tshark saw %d requests" % len(st["requests"]))
    # Protected alerts (curl's close_notify over HTTP/1.1) are read now.
    al = [(a["dir"], a["name"]) for a in tls["alerts"]]
    notify += al.count(("c2s", "close_notify"))
    report("%s/alerts_read" % case, all(a["decrypted"] and a["name"]
           for a in tls["alerts"]), "alerts %r" % al)
    for k in ("requests", "statuses", "sni", "alpn", "cipher"):
        compared += 1
        report("%s/%s" % (case, k), ours[k] == st[k],
               "htracr %r, tshark %r" % (ours[k], st[k]))
report("close_notify_decrypted", notify >= 6,
       "%d close_notify alerts read" % notify)
print("# %d connections, %d fields compared with tshark -o tls.keylog_file"
      % (len(conns), compared))
sys.exit(0)
