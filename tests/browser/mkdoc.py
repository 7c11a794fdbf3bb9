#!/usr/bin/env python3
# mkdoc.py: writes a session detail document (the msgpack root that
# client/doc.h describes) for the renderer tests, without a daemon.
#
#   mkdoc.py sample OUT [JSON]  a small session with every highlight
#                               and hostile strings from the "wire"
#   mkdoc.py big N OUT [JSON]   N transactions over many connections
#   mkdoc.py json IN.json OUT   the JSON document htracrctl writes
#                               (--json), packed as msgpack
#
# JSON, when given, receives the same document as JSON (wire bytes read
# as Latin-1) so tests can compare a renderer's output with its input.
#
# The msgpack encoder is written out here so the tests need no module
# beyond python3 itself. bytes values are packed as msgpack str, as the
# daemon sends wire strings (possibly invalid UTF-8).
import random
import struct
import sys


def pack(o, out):
    if o is None:
        out.append(b'\xc0')
    elif o is True:
        out.append(b'\xc3')
    elif o is False:
        out.append(b'\xc2')
    elif isinstance(o, float):
        out.append(b'\xcb' + struct.pack('>d', o))
    elif isinstance(o, int):
        if 0 <= o < 128:
            out.append(struct.pack('B', o))
        elif o >= 0:
            out.append(b'\xcf' + struct.pack('>Q', o))
        else:
            out.append(b'\xd3' + struct.pack('>q', o))
    elif isinstance(o, (str, bytes)):
        b = o.encode() if isinstance(o, str) else o
        out.append(b'\xdb' + struct.pack('>I', len(b)) + b)
    elif isinstance(o, (list, tuple)):
        out.append(b'\xdd' + struct.pack('>I', len(o)))
        for x in o:
            pack(x, out)
    elif isinstance(o, dict):
        out.append(b'\xdf' + struct.pack('>I', len(o)))
        for k, v in o.items():
            pack(k, out)
            pack(v, out)
    else:
        raise TypeError(type(o))


def direction():
    return {"packets": 0, "bytes": 0, "payload_bytes": 0, "retransmits": 0,
            "out_of_order": 0, "dup_acks": 0, "zero_windows": 0,
            "window_scale": 7, "mss": 1460, "gaps": 0, "gap_bytes": 0}


class Builder:
    def __init__(self, t0, source):
        self.t0 = t0
        self.servers, self.conns, self.txns = [], [], []
        self.source = source
        self.nframes = 0

    def server(self, addr, name, port=80):
        s = {"type": "server", "id": len(self.servers) + 1, "addr": addr,
             "port": port, "name": name, "connections": 0,
             "transactions": 0}
        self.servers.append(s)
        return s

    def conn(self, srv, cport, start, rtt=2000, midstream=False, v6=False):
        c = {"type": "connection", "id": len(self.conns) + 1,
             "server": srv["id"],
             "client_addr": "2001:db8::10" if v6 else "192.0.2.10",
             "client_port": cport, "server_addr": srv["addr"],
             "server_port": srv["port"], "ip_version": 6 if v6 else 4,
             "first_us": start, "last_us": start,
             "syn_us": None if midstream else start,
             "synack_us": None if midstream else start + rtt // 2,
             "established_us": None if midstream else start + rtt,
             "rtt_us": None if midstream else rtt,
             "state": "connected", "states": [],
             "flags": ["midstream"] if midstream else [],
             "c2s": direction(), "s2c": direction(),
             "transactions": [], "packets": []}
        if not midstream:
            c["states"].append({"state": "handshaking", "us": start})
            c["states"].append({"state": "connected", "us": start + rtt})
            self.pkt(c, start, "c2s", "S", 0, "syn")
            self.pkt(c, start + rtt // 2, "s2c", "SA", 0, "syn-ack")
            self.pkt(c, start + rtt, "c2s", "A", 0, "ack")
        else:
            c["states"].append({"state": "connected", "us": start})
        c["_t"] = start + (0 if midstream else rtt)
        c["_seq"] = {"c2s": 1, "s2c": 1}
        self.conns.append(c)
        srv["connections"] += 1
        return c

    def pkt(self, c, us, d, flags, ln, cls):
        self.nframes += 1
        n = self.nframes
        other = "s2c" if d == "c2s" else "c2s"
        seq = c.get("_seq", {"c2s": 1, "s2c": 1})
        c["packets"].append({"n": n, "us": us, "dir": d, "flags": flags,
                             "seq": seq[d] if "_seq" in c else 0,
                             "ack": seq[other] if "_seq" in c else 0,
                             "win": 64240, "len": ln, "class": cls})
        if "_seq" in c and cls != "retransmit":
            c["_seq"][d] += ln
        c[d]["packets"] += 1
        c[d]["bytes"] += ln + 54
        c[d]["payload_bytes"] += ln
        if cls == "retransmit":
            c[d]["retransmits"] += 1
        c["last_us"] = max(c["last_us"], us)
        return c["packets"][-1]["n"]

    def txn(self, c, method, target, status, ctype=None, body=0,
            decoded=None, wait=20000, recv=3000, reqh=None, resph=None,
            split=False, pipelined=False, close=False, retrans=False,
            reason=b"OK", gap=0, complete=True, error=None):
        srv = self.servers[c["server"] - 1]
        t = c["_t"] + gap
        reqh = reqh or []
        host = srv["name"] or (b"[%s]:%d" % (srv["addr"].encode(), srv["port"]) if ":" in srv["addr"] else srv["addr"].encode())
        headers = [[b"Host", host], [b"User-Agent", b"curl/7.88.1"],
                   [b"Accept", b"*/*"]] + reqh
        hb = sum(len(k) + len(v) + 4 for k, v in headers) + \
            len(method) + len(target) + 13
        first = self.pkt(c, t, "c2s", "PA", hb // 2 if split else hb,
                         "data" if split else "push")
        send = 0
        if split:
            send = 400
            self.pkt(c, t + send, "c2s", "PA", hb - hb // 2, "push")
        last_req = c["packets"][-1]["n"]
        r0 = t + send + wait
        rh = [[b"Server", b"nginx/1.22.1"], [b"Date", b"Thu, 26 Nov 2026 10:00:00 GMT"]]
        if ctype:
            rh.append([b"Content-Type", ctype])
        rh.append([b"Content-Length", str(body).encode()])
        if decoded is not None:
            rh.append([b"Content-Encoding", b"gzip"])
        if close:
            rh.append([b"Connection", b"close"])
        rh += resph or []
        rhb = sum(len(k) + len(v) + 4 for k, v in rh) + 17 + len(reason)
        total = rhb + body
        npk = max(1, (total + 1447) // 1448)
        rfirst = None
        for i in range(npk):
            us = r0 + (recv * i // max(1, npk - 1) if npk > 1 else 0)
            ln = min(1448, total - i * 1448)
            n = self.pkt(c, us, "s2c", "PA" if i == npk - 1 else "A", ln,
                         "push" if i == npk - 1 else "data")
            rfirst = rfirst or n
            if retrans and i == 0:
                self.pkt(c, us + 200000, "s2c", "A", ln, "retransmit")
            if i % 2 == 1:
                self.pkt(c, us + 100, "c2s", "A", 0, "ack")
        end = c["packets"][-1]["us"]
        rtt = c["rtt_us"]
        tx = {"type": "transaction", "id": len(self.txns) + 1,
              "connection": c["id"], "server": srv["id"],
              "index": len(c["transactions"]),
              "request": {"method": method, "target": target,
                          "version": "1.1", "headers": headers,
                          "header_bytes": hb, "body_bytes": 0,
                          "decoded_bytes": None, "chunked": False,
                          "content_type": None, "content_encoding": None,
                          "start_us": t, "end_us": t + send,
                          "first_frame": first, "last_frame": last_req,
                          "packets": 2 if split else 1,
                          "headers_split": split, "body_kept": 0,
                          "complete": True, "error": None},
              "response": None if status is None else
                  {"status": status, "reason": reason, "interim": [],
                   "version": "1.1", "headers": rh, "header_bytes": rhb,
                   "body_bytes": body, "decoded_bytes": decoded,
                   "chunked": False, "content_type": ctype,
                   "content_encoding": b"gzip" if decoded is not None else None,
                   "start_us": r0, "end_us": end if complete else None,
                   "first_frame": rfirst, "last_frame": c["packets"][-1]["n"],
                   "packets": npk, "headers_split": False, "body_kept": body,
                   "complete": complete, "error": error},
              "pipelined": pipelined,
              "conditional": any(k.lower() in (b"if-none-match", b"if-modified-since") for k, _ in reqh),
              "not_modified": status == 304,
              "connection_close": close, "upgrade": False,
              "timings": {"connect_us": (rtt if not c["transactions"] and rtt else None),
                          "send_us": send, "wait_us": wait,
                          "receive_us": end - r0,
                          "server_stall_us": max(wait - rtt, 0) if rtt else None,
                          "round_trips": -(-(wait + end - r0) // rtt) if rtt else None}}
        self.txns.append(tx)
        c["transactions"].append(tx["id"])
        srv["transactions"] += 1
        c["_t"] = end + 1000
        return tx

    def close(self, c, by="c2s"):
        t = c["_t"]
        other = "s2c" if by == "c2s" else "c2s"
        c["states"].append({"state": "half-closed", "us": t})
        self.pkt(c, t, by, "FA", 0, "fin")
        self.pkt(c, t + 500, other, "FA", 0, "fin")
        c["states"].append({"state": "closing", "us": t + 500})
        self.pkt(c, t + 900, by, "A", 0, "ack")
        c["states"].append({"state": "closed", "us": t + 900})
        c["state"] = "closed"

    def doc(self, packets=True):
        frames = sum(len(c["packets"]) for c in self.conns)
        last = max(c["last_us"] for c in self.conns)
        for c in self.conns:
            c.pop("_t", None)
            c.pop("_seq", None)
            if not packets:
                del c["packets"]
        counters = {k: 0 for k in (
            "frames", "bytes", "kernel_drops", "ifdrops", "forward_drops",
            "evicted_frames", "evicted_bodies", "evicted_packets",
            "dropped_connections", "dropped_transactions", "not_ip",
            "not_tcp", "ip_fragments", "truncated",
            "bad_checksum_or_header", "parse_errors", "gaps",
            "memory_used", "memory_budget")}
        counters["frames"] = frames
        sess = {"type": "session", "id": 1, "origin": "loaded",
                "source": self.source, "uid": 1000, "state": "finished",
                "linktype": "EN10MB", "ports": [80], "start_us": self.t0,
                "stop_us": last + 1000, "first_frame_us": self.t0,
                "last_frame_us": last, "servers": len(self.servers),
                "connections": len(self.conns),
                "transactions": len(self.txns), "counters": counters}
        return {"htracr": 1, "session": sess, "servers": self.servers,
                "connections": self.conns, "transactions": self.txns}


T0 = 1795687200000000   # 2026-11-26T10:00:00Z


def sample():
    b = Builder(T0, "sample.pcap")
    web = b.server("192.0.2.1", b"www.example.com")
    api = b.server("192.0.2.2", b"api.example.com\x1b[31m")
    v6 = b.server("2001:db8::1", None, 8080)
    c1 = b.conn(web, 40001, T0)
    b.txn(c1, "GET", b"/", 200, b"text/html; charset=utf-8", 5120, 18000)
    b.txn(c1, "GET", b"/style.css", 200, b"text/css", 2048, wait=8000,
          pipelined=True)
    b.txn(c1, "GET", b"/logo.png", 304, None, 0,
          reqh=[[b"If-None-Match", b'"abc"']], reason=b"Not Modified")
    b.txn(c1, "GET", b"/app.js?v=3&debug", 200, b"application/javascript",
          40000, retrans=True, gap=1200000)
    b.txn(c1, "PUT", b"/upload?name=a'b&x=[1]", 204, None, 0,
          reqh=[[b"Content-Type", b"application/octet-stream"],
                [b"X-Quote", b"it's \"q\" $(id) `id` \\ \x01\xff!"]],
          reason=b"No Content")
    b.close(c1)
    c2 = b.conn(api, 40002, T0 + 30000, rtt=5000)
    # As if decrypted: a TLS connection whose handshake took 7 ms.
    c2["tls"] = {"client_hello_us": T0 + 35000, "handshake_done_us": T0 + 42000,
                 "handshake_us": 7000, "round_trips": 1, "version": "TLS 1.3",
                 "cipher_suite": 4865, "cipher": "TLS_AES_128_GCM_SHA256",
                 "sni": "api.example.com\x1b[31m", "alpn_offered": ["http/1.1"],
                 "alpn": None, "resumed": False, "alerts": [], "alert_count": 0,
                 "error": None}
    b.txn(c2, "POST", b"/v1/items?x=</script><script>alert(1)</script>",
          201, b"application/json", 90, split=True,
          reqh=[[b"Content-Type", b"application/json"],
                [b"X-Evil", b"</script>\xe2\x80\xa8\x07\xff\xfe'\"<b>"]],
          reason=b"Created")
    b.txn(c2, "GET", b"/v1/missing", 404, b"text/plain", 9,
          reason=b"Not Found")
    b.txn(c2, "GET", b"/v1/crash", 500, b"text/plain", 21, close=True,
          wait=250000, reason=b"Internal Server Error")
    b.close(c2, "s2c")
    c3 = b.conn(v6, 40003, T0 + 50000, midstream=True, v6=True)
    b.txn(c3, "GET", b"/stream", 200, b"video/mp4", 300000, wait=4000,
          complete=False)
    b.txn(c3, "GET", b"/never", None)
    return b.doc()


def big(n):
    rnd = random.Random(4)
    b = Builder(T0, "synthetic-%d.pcap" % n)
    srvs = [b.server("192.0.2.%d" % (i + 1), b"host%d.example" % i)
            for i in range(8)]
    types = [b"text/html", b"image/png", b"application/json", b"text/css",
             b"application/javascript", None]
    conns = []
    t = T0
    i = 0
    while i < n:
        c = b.conn(srvs[len(conns) % len(srvs)], 20000 + len(conns), t)
        conns.append(c)
        for _ in range(min(n - i, rnd.randint(1, 40))):
            st = rnd.choice([200] * 12 + [304, 404, 500, 301])
            b.txn(c, rnd.choice(["GET"] * 8 + ["POST", "HEAD"]),
                  b"/item/%d" % i, st, rnd.choice(types),
                  rnd.randint(0, 20000), wait=rnd.randint(500, 90000),
                  recv=rnd.randint(100, 5000))
            i += 1
        b.close(c)
        t += rnd.randint(1000, 60000)
    return b.doc()


def plain(o):
    if isinstance(o, bytes):
        return o.decode("latin-1")
    if isinstance(o, dict):
        return {k: plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(x) for x in o]
    return o


def main():
    if sys.argv[1] == "json":
        import json
        d, rest = json.load(open(sys.argv[2])), sys.argv[3:]
    elif sys.argv[1] == "sample":
        d, rest = sample(), sys.argv[2:]
    else:
        d, rest = big(int(sys.argv[2])), sys.argv[3:]
    buf = []
    pack(d, buf)
    with open(rest[0], "wb") as f:
        f.write(b"".join(buf))
    if len(rest) > 1:
        import json
        with open(rest[1], "w") as f:
            json.dump(plain(d), f)


main()
