#!/usr/bin/env python3
# browser.py: compares htracr's view of a browser's page load over TLS
# 1.3 and HTTP/2 (analyze --json, or a live session's dump) with
# tshark's view of the same capture (105-browser-h2.sh's fields).
#
#	browser.py NAME decrypted HTRACR.json TSHARK.tsv [frames]
#	browser.py NAME handshakes HTRACR.json TSHARK.tsv
#	browser.py NAME lost HTRACR.json TSHARK.tsv CASE CLIENT_PORT
#
# decrypted: per connection SNI, ALPN, cipher suite and version; per
# HTTP/2 stream the method, path and status; the frames of each type
# each side sent; with "frames" also the frame numbers of each stream's
# request HEADERS and last response frame, and the streams open at once
# (both read from frame numbers, so only for the same capture file).
# handshakes: the same connections without keys, SNI, ALPN offered,
# cipher suites offered and chosen, version, and nothing decrypted.
# lost: a capture that lost bytes of one connection (tlshole.py CASE)
# against tshark's view of the whole capture; see lost() below.
# Prints PASS/FAIL lines and one "# table:" line for the README's table.
import sys

import oracle
from oracle import begin, load, report, rows, split

name, mode, jpath, tsv = sys.argv[1:5]
frames = mode == "decrypted" and "frames" in sys.argv[5:]
begin(name)
PORT = 443
TYPES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
         "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
VERSIONS = {0x0304: "TLS 1.3", 0x0303: "TLS 1.2"}


def conn_entry(conns, port):
    return conns.setdefault(port, {
        "sni": None, "alpn": None, "alpn_offered": None, "cipher": None,
        "ciphers_offered": None, "version": None, "streams": {},
        "frames": {"c2s": {}, "s2c": {}}})


def read_tshark(path):
    conns = {}
    for f in rows(path, 15):
        (num, sport, dport, htypes, sni, alpn, suites, _, sver,
         sids, ftypes, flags, meths, paths, stats) = f[:15]
        if not sport:
            continue
        num, c2s = int(num), int(dport) == PORT
        c = conn_entry(conns, int(sport) if c2s else int(dport))
        types = [int(x) for x in split(htypes)]
        if c2s and 1 in types:
            c["sni"] = split(sni)[0] if sni else None
            c["alpn_offered"] = split(alpn)
            c["ciphers_offered"] = len(split(suites))
        if not c2s and 2 in types:
            c["cipher"] = int(split(suites)[0], 0)
            v = [int(x, 0) for x in split(sver)]
            c["version"] = VERSIONS.get(v[0]) if v else None
        if not c2s and 8 in types and alpn:
            c["alpn"] = split(alpn)[0]
        read_h2(c, num, c2s, split(sids), split(ftypes), split(flags),
                split(meths), split(paths), split(stats))
    return conns


# One packet's HTTP/2 frames: a HEADERS frame from the client takes the
# next method and path of its packet, one from the server the next
# status (a HEADERS frame after the first on a stream is trailers).
def read_h2(c, num, c2s, sids, ftypes, flags, meths, paths, stats):
    d = c["frames"]["c2s" if c2s else "s2c"]
    for sid, typ, fl in zip(sids, ftypes, flags):
        typ, sid, fl = int(typ), int(sid), int(fl, 0)
        tname = TYPES[typ] if typ < len(TYPES) else "other"
        d[tname] = d.get(tname, 0) + 1
        if sid == 0:
            continue
        s = c["streams"].setdefault(sid, {})
        if typ == 1 and c2s and "method" not in s and meths and paths:
            s["method"], s["path"] = meths.pop(0), paths.pop(0)
            s["first"] = num
        elif typ == 1 and not c2s and "status" not in s and stats:
            s["status"] = int(stats.pop(0))
        if not c2s and typ in (0, 1) and fl & 1:
            s["last"] = num


def read_htracr(path):
    doc = load(path)
    txns = {t["id"]: t for t in doc["transactions"]}
    conns = {}
    for k in doc["connections"]:
        tls = k.get("tls")
        if not tls:
            continue
        c = conn_entry(conns, k["client_port"])
        c.update(sni=tls["sni"], alpn=tls["alpn"],
                 alpn_offered=tls["alpn_offered"] or [],
                 cipher=tls["cipher_suite"], version=tls["version"],
                 ciphers_offered=tls["ciphers_offered"], tls=tls,
                 h2=k.get("h2"), ntx=len(k["transactions"]))
        if k.get("h2"):
            for side in ("c2s", "s2c"):
                c["frames"][side] = {t: n for t, n in
                                     k["h2"][side]["frames"].items() if n}
        c["txns"] = [txns[i] for i in k["transactions"]]
        for t in c["txns"]:
            read_txn(c, t)
    return conns


def read_txn(c, t):
    req, resp = t["request"] or {}, t["response"] or {}
    s = c["streams"].setdefault(t["stream_id"], {})
    for key, v in (("method", req.get("method")), ("path", req.get("target")),
                   ("status", resp.get("status")),
                   ("first", req.get("first_frame")),
                   ("last", resp.get("last_frame"))):
        if v is not None:
            s[key] = v


def at_once(streams):
    """The most streams open at one frame: from the request's HEADERS
    to the response's last frame."""
    spans = [(s["first"], s["last"]) for s in streams.values()
             if "first" in s and "last" in s]
    return max([sum(1 for a, b in spans if a <= x <= b)
                for x, _ in spans] or [0])


def fields(c, keys):
    return {k: c[k] for k in keys}


def decrypted(ours, shark):
    keys = ["sni", "alpn", "cipher", "version"]
    compared = ntx = nshark = 0
    for port in sorted(set(ours) & set(shark)):
        a, b = ours[port], shark[port]
        tls = a["tls"]
        report("%d/decrypted" % port, tls["decrypted"] and
               tls["records_failed"] == 0 and
               tls["records_not_decrypted"] == 0,
               "decrypted %s failed %d not %d" % (tls["decrypted"],
               tls["records_failed"], tls["records_not_decrypted"]))
        report("%d/tls" % port, fields(a, keys) == fields(b, keys),
               "htracr %r, tshark %r" % (fields(a, keys), fields(b, keys)))
        sa = {k: {f: v for f, v in s.items() if frames or
                  f in ("method", "path", "status")}
              for k, s in a["streams"].items()}
        sb = {k: {f: v for f, v in s.items() if frames or
                  f in ("method", "path", "status")}
              for k, s in b["streams"].items()}
        report("%d/streams" % port, sa == sb, "htracr %r, tshark %r" %
               (sorted(sa.items())[:3], sorted(sb.items())[:3]) if sa != sb
               else "")
        report("%d/frame_types" % port, a["frames"] == b["frames"],
               "htracr %r, tshark %r" % (a["frames"], b["frames"]))
        if a["h2"]:
            h2 = a["h2"]
            report("%d/h2_clean" % port, not (h2["malformed"] or
                   h2["hpack_errors"] or h2["error"] or
                   h2["c2s"]["lost_bytes"] or h2["s2c"]["lost_bytes"]),
                   "malformed %d hpack %d error %r" % (h2["malformed"],
                   h2["hpack_errors"], h2["error"]))
        if frames and a["streams"]:
            report("%d/at_once" % port, at_once(a["streams"]) ==
                   at_once(b["streams"]), "htracr %d, tshark %d" %
                   (at_once(a["streams"]), at_once(b["streams"])))
        compared += len(keys) + 2 + 3 * len(sb)
        ntx += len(a["streams"])
        nshark += len(b["streams"])
    most = max([(len(c["streams"]), p) for p, c in ours.items()] or [(0, 0)])
    open_ = max([at_once(c["streams"]) for c in ours.values()] or [0])
    report("one_connection", most[0] >= 21,
           "the most streams on one connection: %d" % most[0])
    report("multiplexed", open_ >= 2, "at most %d streams at once" % open_)
    print("# streams on one connection %d, at once %d" % (most[0], open_))
    return ntx, nshark, compared


def handshakes(ours, shark):
    keys = ["sni", "alpn_offered", "ciphers_offered", "cipher", "version"]
    compared = 0
    for port in sorted(set(ours) & set(shark)):
        a, b = ours[port], shark[port]
        tls = a["tls"]
        report("%d/handshake" % port, fields(a, keys) == fields(b, keys),
               "htracr %r, tshark %r" % (fields(a, keys), fields(b, keys)))
        report("%d/nothing_decrypted" % port, not tls["decrypted"] and
               a["ntx"] == 0 and a["alpn"] is None and
               tls["records_failed"] == 0,
               "decrypted %s, %d transactions, alpn %r" %
               (tls["decrypted"], a["ntx"], a["alpn"]))
        compared += len(keys)
    return 0, sum(len(c["streams"]) for c in shark.values()), compared


def requests(c):
    return {k: (s.get("method"), s.get("path")) for k, s in
            c["streams"].items()}


def statuses(c):
    return {k: s["status"] for k, s in c["streams"].items() if "status" in s}


def h2_sound(c):
    h2 = c["h2"] or {}
    return not (h2.get("malformed") or h2.get("hpack_errors"))


# A capture that lost bytes of the server's side of one connection
# (tlshole.py CASE): what is known of it agrees with tshark's view of
# the whole capture, what was lost is said, nothing is made up, and the
# other connections are read whole.
def lost(ours, shark):
    case, port = sys.argv[5], int(sys.argv[6])
    a, b = ours[port], shark[port]
    tls, h2 = a["tls"], a["h2"] or {}
    if case == "hello":
        # No client random, no keys: nothing read, and why.
        report("nothing_made_up", not a["streams"] and not tls["decrypted"]
               and tls["records_failed"] == 0, "%d streams, decrypted %s" %
               (len(a["streams"]), tls["decrypted"]))
        report("said", "ClientHello lost bytes" in
               (tls["decrypt_error"] or ""), "%r" % tls["decrypt_error"])
    else:
        lost_keys(case, a, b, tls, h2)
    others_whole(case, ours, shark, port)
    # For the table: responses read of those sent, requests compared.
    return (sum(len(statuses(c)) for c in ours.values()),
            sum(len(statuses(c)) for c in shark.values()),
            sum(len(c["streams"]) for c in shark.values()))


def lost_keys(case, a, b, tls, h2):
    report("requests", requests(a) == requests(b),
           "htracr %r, tshark %r" % (requests(a), requests(b)))
    made_up = {k: v for k, v in statuses(a).items()
               if statuses(b).get(k) != v}
    report("nothing_made_up", not made_up and h2_sound(a) and
           tls["records_failed"] == 0, "statuses %r, h2 %r, failed %d" %
           (made_up, h2.get("error"), tls["records_failed"]))
    if case == "finished":
        # The application keys found without the Finished.
        ok = (tls["records_not_decrypted"] == 1 and
              statuses(a) == statuses(b) and tls["decrypt_error"] is None)
    elif case == "data":
        # One record not decrypted; HTTP/2 says what it lost.
        ok = (tls["records_not_decrypted"] == 1 and
              (h2["s2c"]["lost_bytes"] > 0 or
               any(t["response"] and t["response"]["lost_bytes"] > 0
                   for t in a["txns"])))
    else:
        # Records lost whole where the keys change: that side stops.
        ok = (tls["records_not_decrypted"] > 0 and not statuses(a) and
              "not decrypted" in (tls["decrypt_error"] or ""))
    report("said", ok, "not decrypted %d, error %r, h2 %r, "
           "statuses %d of %d" % (tls["records_not_decrypted"],
           tls["decrypt_error"], h2.get("error"), len(statuses(a)),
           len(statuses(b))))


def others_whole(case, ours, shark, port):
    others = [p for p in ours if p != port]
    bad = [p for p in others if requests(ours[p]) != requests(shark[p])
           or statuses(ours[p]) != statuses(shark[p]) or
           not ours[p]["tls"]["decrypted"] or
           ours[p]["tls"]["records_failed"] or
           ours[p]["tls"]["records_not_decrypted"]]
    report("others_whole", others and not bad,
           "connections %s, not whole %s" % (others, bad))


ours, shark = read_htracr(jpath), read_tshark(tsv)
report("connections", sorted(ours) == sorted(shark),
       "htracr %s, tshark %s" % (sorted(ours), sorted(shark)))
ntx, nshark, compared = {"decrypted": decrypted, "handshakes": handshakes,
                         "lost": lost}[mode](ours, shark)
print("# table: %s %s: %d connections, transactions htracr %d / tshark %d, "
      "%d fields compared, %s" % (name, mode, len(ours), ntx, nshark,
      compared, "equal" if not oracle.fails else "NOT equal"))
sys.exit(1 if oracle.fails else 0)
