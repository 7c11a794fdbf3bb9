#!/usr/bin/env python3
# idleconns.py: many keep-alive connections open at once and idle, for
# tests/regress/120-idle.sh.
#
#   python3 idleconns.py HOST PORT COUNT RELEASE
#
# Opens COUNT connections, sends one "GET /i?N" on each and reads its
# response whole, then keeps them all open and quiet until the file
# RELEASE exists (60 s at most), and closes them. Prints the client's
# own account, "opened N answered N status200 N", once every answer is
# in (the line "idle" follows it while they wait), and "closed N" at the
# end.
import os
import selectors
import socket
import sys
import time


def parse(buf):
    """(status, rest) once a whole response is in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end]
    clen = 0
    i = head.find(b"\r\nContent-Length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        clen = int(head[i + 17:j if j >= 0 else len(head)])
    if len(buf) < end + 4 + clen:
        return None
    return head[9:12], buf[end + 4 + clen:]


def main():
    host, port, n, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    socks = []
    for i in range(n):
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(b"GET /i?%d HTTP/1.1\r\nHost: idle\r\n\r\n" % i)
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    answered = ok = 0
    deadline = time.time() + 60
    while answered < n and time.time() < deadline:
        for key, _ in sel.select(timeout=5):
            s = key.fileobj
            b = s.recv(65536)
            if not b:
                sel.unregister(s)
                continue
            bufs[s] += b
            r = parse(bufs[s])
            if r is not None:
                answered += 1
                ok += r[0] == b"200"
                sel.unregister(s)
    print("opened %d answered %d status200 %d" % (len(socks), answered, ok), flush=True)
    print("idle", flush=True)
    while not os.path.exists(release) and time.time() < deadline:
        time.sleep(0.2)
    for s in socks:
        s.close()
    print("closed %d" % len(socks), flush=True)


main()
