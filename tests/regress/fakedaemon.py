#!/usr/bin/env python3
# fakedaemon.py: a stand-in for htracrd that answers one htracrctl the
# way a broken or hostile daemon might, for the client's side of the
# protocol: it says hello, then answers a detail request with chunks
# shaped by SCENARIO. Used by tests/regress/126-rawdetail.sh.
#
#   python3 fakedaemon.py SOCKET SCENARIO
#
# Scenarios: good (a well-formed session in long msgpack forms, with
# odd strings), reordered (a chunk with "chunk" before "id"), garbage
# (an item that is no msgpack value), short (fewer items than the
# chunk says), trailing (bytes after the items), miscount (an end that
# counts wrong), deep (an item nested past the reply depth limit).
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawclient import enc, dec  # noqa: E402


def recv_msg(c):
    head = b""
    while len(head) < 4:
        b = c.recv(4 - len(head))
        if not b:
            return None
        head += b
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        b = c.recv(n - len(body))
        if not b:
            return None
        body += b
    return dec(body)[0]


def send(c, body):
    c.sendall(struct.pack(">I", len(body)) + body)


def chunk(rid, items, count=None):
    # As htracrd lays one out: {"id": N, "chunk": [...]}, short forms.
    n = len(items) if count is None else count
    return (b"\x82\xa2id" + b"\xcf" + struct.pack(">Q", rid) +
            b"\xa5chunk" + b"\xdd" + struct.pack(">I", n) + b"".join(items))


def end(rid, n):
    return b"\x82\xa2id" + b"\xcf" + struct.pack(">Q", rid) + \
        b"\xa3end" + b"\xcf" + struct.pack(">Q", n)


SESSION = {"type": "session", "id": 1, "origin": "loaded",
           "source": "fake\x1b[31m.pcap", "uid": 0, "state": "finished",
           "transactions": 1}
SERVER = {"type": "server", "id": 1, "addr": "10.0.0.1", "port": 80,
          "name": "caf\u00e9 \"quoted\" \\ tab\t"}
CONN = {"type": "connection", "id": 1, "server": 1,
        "client_addr": "10.0.0.2", "client_port": 40000,
        "first_us": 1700000000000000, "rtt_us": -5, "tls": None}
TXN = {"type": "transaction", "id": 1, "connection": 1, "server": 1,
       "request": {"method": "GET", "target": "/x" * 40,
                   "headers": [["Host", "a"], ["X-Bin", b"\x00\xff"]],
                   "body_bytes": 18446744073709551615},
       "response": None, "pipelined": False}


def main():
    path, scenario = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    c, _ = srv.accept()
    c.settimeout(30)
    while True:
        m = recv_msg(c)
        if m is None:
            break
        rid = m.get("id", 0)
        if m.get("op") == 1:
            send(c, enc({"id": rid, "ok": {"version": 1,
                                           "daemon": "fake", "capture": False}}))
            continue
        if m.get("op") != 101:
            send(c, enc({"id": rid, "error": {"code": 3,
                                              "message": "not here"}}))
            continue
        items = [enc(SESSION), enc(SERVER), enc(CONN), enc(TXN)]
        if scenario == "good":
            send(c, chunk(rid, items[:2]))
            send(c, chunk(rid, items[2:]))
            send(c, end(rid, 4))
        elif scenario == "reordered":
            send(c, b"\x82\xa5chunk\xdd" + struct.pack(">I", 4) +
                 b"".join(items) + b"\xa2id" + bytes([rid]))
            send(c, end(rid, 4))
        elif scenario == "garbage":
            send(c, chunk(rid, items[:2] + [b"\xc1"] + items[3:]))
            send(c, end(rid, 4))
        elif scenario == "short":
            send(c, chunk(rid, items[:3], count=4))
            send(c, end(rid, 4))
        elif scenario == "trailing":
            send(c, chunk(rid, items) + b"\xc0")
            send(c, end(rid, 4))
        elif scenario == "miscount":
            send(c, chunk(rid, items))
            send(c, end(rid, 5))
        elif scenario == "deep":
            deep = (b"\xdf" + struct.pack(">I", 3) + enc("type") +
                    enc("transaction") + enc("id") + enc(1) + enc("x") +
                    b"\x91" * 20 + b"\xc0")
            send(c, chunk(rid, items[:3] + [deep]))
            send(c, end(rid, 4))
    c.close()


if __name__ == "__main__":
    main()
