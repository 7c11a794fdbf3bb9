#!/usr/bin/env python3
# h2check.py: compares htracr's HTTP/2 transactions (analyze --json)
# with tshark's HTTP/2 frames for the same capture, stream by stream:
# the same streams on the same connections, the same method, path and
# status; then what 055-h2c.sh knows it sent (bodies, gzip, a POST,
# the upgraded connection). Prints PASS/FAIL lines and a table of what
# was compared.
import sys

import oracle
from oracle import begin, load, report, rows

name, jpath, tsv, sizes = sys.argv[1:5]
begin(name)


def split(s):
    return s.split("|") if s else []


doc = load(jpath)
size = dict(l.split() for l in open(sizes))
SERVER_PORTS = {8080, 8081}

# tshark: (client port, stream id) -> method, path, status. A HEADERS
# frame from the client takes the next method and path of its packet,
# one from the server the next status; an HTTP/1.1 request that asked
# for the upgrade is stream 1's.
shark = {}
for f in rows(tsv, 10):
    sport, dport, sids, types, meths, paths, stats, hmeth, huri = f[1:10]
    if not sport:
        continue
    c2s = int(dport) in SERVER_PORTS
    cport = int(sport) if c2s else int(dport)
    meths, paths, stats = split(meths), split(paths), split(stats)
    if hmeth:
        shark.setdefault((cport, 1), {})["method"] = hmeth
        shark[(cport, 1)]["path"] = huri
    for sid, typ in zip(split(sids), split(types)):
        if typ != "1":
            continue
        e = shark.setdefault((cport, int(sid)), {})
        if c2s and meths and paths:
            e["method"], e["path"] = meths.pop(0), paths.pop(0)
        elif not c2s and stats:
            e.setdefault("status", int(stats.pop(0)))

conns = {c["id"]: c for c in doc["connections"]}
ours = {}
txns = {}
for t in doc["transactions"]:
    if t.get("protocol") != "h2":
        continue
    c = conns[t["connection"]]
    req, resp = t["request"] or {}, t["response"] or {}
    key = (c["client_port"], t["stream_id"])
    ours[key] = {k: v for k, v in (("method", req.get("method")),
                                   ("path", req.get("target")),
                                   ("status", resp.get("status")))
                 if v is not None}
    txns[key] = t

print("%-6s %-6s %-8s %-16s %-6s  %-8s %-16s %-6s" % (
    "port", "stream", "method", "path", "status", "t:method", "t:path",
    "t:stat"))
for key in sorted(set(ours) | set(shark)):
    a, b = ours.get(key, {}), shark.get(key, {})
    print("%-6s %-6s %-8s %-16s %-6s  %-8s %-16s %-6s" % (
        key[0], key[1], a.get("method"), a.get("path"), a.get("status"),
        b.get("method"), b.get("path"), b.get("status")))

report("streams", set(ours) == set(shark),
       "htracr only %s, tshark only %s" % (sorted(set(ours) - set(shark)),
                                           sorted(set(shark) - set(ours))))
bad = [k for k in ours if k in shark and ours[k] != shark[k]]
report("method_path_status", not bad and len(ours) > 0,
       "%d streams differ, first %s: %s vs %s" % (
           len(bad), bad[:1], bad and ours[bad[0]], bad and shark[bad[0]]))

# What the test sent and nginx served.
by_path = {}
for key, t in txns.items():
    by_path.setdefault(t["request"]["target"], []).append(t)
gz = [t for t in by_path.get("/text.txt", [])
      if (t["response"] or {}).get("content_encoding") == "gzip"]
report("gzip", gz and all(t["response"]["decoded_bytes"] == int(size["text"])
                          for t in gz),
       "decoded %s, file %s" % ([t["response"]["decoded_bytes"] for t in gz],
                                size["text"]))
big = by_path.get("/big.bin", [])
report("large_body", big and all(t["response"]["body_bytes"] ==
                                 int(size["big"]) and t["response"]["complete"]
                                 for t in big),
       "body %s, file %s" % ([t["response"]["body_bytes"] for t in big],
                             size["big"]))
post = by_path.get("/post", [])
report("post", len(post) == 2 and all(
       t["request"]["method"] == "POST" and t["request"]["body_bytes"] == 8
       and t["request"]["complete"] and t["response"]["status"] == 201
       for t in post),
       "posts %s" % [(t["request"]["body_bytes"], t["request"]["complete"],
                      (t["response"] or {}).get("status")) for t in post])
par = [c for c in doc["connections"] if c.get("h2") and
       len(c["transactions"]) == 10 and c["h2"]["streams"] == 10]
report("multiplexed_one_connection", len(par) == 1,
       "connections with 10 streams: %d" % len(par))
up = [c for c in doc["connections"] if c.get("h2") and c["h2"]["upgraded"]]
upt = [txns.get((c["client_port"], 1)) for c in up]
report("upgrade", len(up) == 2 and all(
       t is not None and t["response"]["interim"] == [101] and
       t["response"]["status"] == 200 and t["request"]["version"] == "1.1"
       and t["request"]["target"] == "/index.html" for t in upt),
       "upgraded connections %d, stream 1 %s" % (
           len(up), [t and (t["request"]["version"], t["response"]) for t in upt]))
more = [len(c["transactions"]) for c in up]
report("upgrade_then_streams", sorted(more) == [1, 2],
       "streams per upgraded connection %s" % more)
bad = [c["id"] for c in doc["connections"] if c.get("h2") and
       (c["h2"]["malformed"] or c["h2"]["hpack_errors"] or
        c["h2"]["c2s"]["lost_bytes"] or c["h2"]["s2c"]["lost_bytes"])]
report("nothing_malformed", not bad, "connections %s" % bad)
print("compared %d streams with tshark" % len(ours))
sys.exit(1 if oracle.fails else 0)
