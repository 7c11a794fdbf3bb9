#!/usr/bin/env python3
# puller.py: N clients of htracrd's protocol in one process, each asking
# for the detail of the newest session again as soon as the last one
# ended, until STOPFILE exists; then prints "answered failed". Replies
# are taken as bytes and only the small ones (an end, an error) are
# decoded: the load falls on the analyzer packing the session, not on
# rendering it as `htracrctl show` does. Used by live.sh's "pulled" run.
#
#   python3 puller.py SOCKET N STOPFILE
import os
import selectors
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "regress"))
from rawclient import dec, enc  # noqa: E402

OP_HELLO, OP_DETAIL = 1, 101


def ask(s, op, rid, **fields):
    m = {"op": op, "id": rid}
    m.update(fields)
    body = enc(m)
    s.setblocking(True)
    s.sendall(struct.pack(">I", len(body)) + body)
    s.setblocking(False)


def main():
    path, n, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sel = selectors.DefaultSelector()
    answered = failed = 0
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        st = {"s": s, "buf": bytearray(), "id": 1, "hello": True}
        ask(s, OP_HELLO, st["id"], version=1, client="puller")
        sel.register(s, selectors.EVENT_READ, st)
    while not os.path.exists(stop):
        for key, _ in sel.select(0.2):
            st = key.data
            try:
                got = st["s"].recv(1 << 20)
            except BlockingIOError:
                continue
            if not got:
                sys.exit("puller: the daemon closed a connection")
            buf = st["buf"]
            buf += got
            while len(buf) >= 4:
                size = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + size:
                    break
                body = bytes(buf[4:4 + size])
                del buf[:4 + size]
                if size > 256 and not st["hello"]:
                    continue        # a chunk of the detail
                m = dec(body)[0]
                if not (st["hello"] or "end" in m or "error" in m):
                    continue
                if "error" in m:
                    failed += 1
                elif not st["hello"]:
                    answered += 1
                st["hello"] = False
                st["id"] += 1
                ask(st["s"], OP_DETAIL, st["id"])
    print(answered, failed)


if __name__ == "__main__":
    main()
