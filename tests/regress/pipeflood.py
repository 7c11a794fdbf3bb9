#!/usr/bin/env python3
# pipeflood.py: many tiny pipelined requests over a few connections, for
# tests/regress/122-pipeline.sh.
#
#   python3 pipeflood.py HOST PORT CONNECTIONS REQUESTS [RATE]
#
# REQUESTS in all, split over CONNECTIONS keep-alive connections opened
# at once; each sends "GET /p?C-N" requests ahead of the answers (at
# most WINDOW unanswered) and reads every response whole (status line,
# headers, Content-Length bytes). The last request of each connection
# asks the server to close. With RATE, no connection sends ahead of
# RATE / CONNECTIONS requests a second since the start. Prints the client's own account, one line
# per connection and a total:
#
#   conn C sent N answered N status200 N
#   total sent N answered N status200 N
import selectors
import socket
import sys
import time

WINDOW = 2000


class Conn:
    def __init__(self, cid, host, port, n, rate):
        self.cid = cid
        self.rate = rate
        self.t0 = time.time()
        self.host = host
        self.n = n
        self.sent = 0
        self.answered = 0
        self.ok = 0
        self.out = b""
        self.inb = b""
        self.sock = socket.create_connection((host, port), timeout=60)
        self.sock.setblocking(False)
        self.eof = False

    def request(self, i):
        close = b"Connection: close\r\n" if i == self.n - 1 else b""
        return b"GET /p?%d-%d HTTP/1.1\r\nHost: load\r\n%s\r\n" % (
            self.cid, i, close)

    def allowed(self):
        if not self.rate:
            return self.n
        return min(self.n, int((time.time() - self.t0) * self.rate) + 1)

    def fill(self):
        limit = self.allowed()
        while self.sent < limit and self.sent - self.answered < WINDOW \
                and len(self.out) < 65536:
            self.out += self.request(self.sent)
            self.sent += 1

    def write(self):
        self.fill()
        if self.out:
            try:
                k = self.sock.send(self.out)
            except BlockingIOError:
                return
            self.out = self.out[k:]

    def parse(self):
        buf = self.inb
        pos = 0
        while True:
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                break
            head = buf[pos:end]
            clen = 0
            i = head.find(b"\r\nContent-Length:")
            if i >= 0:
                j = head.find(b"\r\n", i + 2)
                clen = int(head[i + 17:j if j >= 0 else len(head)])
            if len(buf) < end + 4 + clen:
                break
            if head[9:12] == b"200":
                self.ok += 1
            self.answered += 1
            pos = end + 4 + clen
        self.inb = buf[pos:]

    def read(self):
        try:
            b = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        if not b:
            self.eof = True
            return
        self.inb += b
        self.parse()

    def done(self):
        return self.eof or self.answered == self.n


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    nconn, total = int(sys.argv[3]), int(sys.argv[4])
    rate = float(sys.argv[5]) / nconn if len(sys.argv) > 5 else 0
    conns = []
    for c in range(nconn):
        n = total // nconn + (1 if c < total % nconn else 0)
        conns.append(Conn(c, host, port, n, rate))
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    live = set(conns)
    while live:
        for key, ev in sel.select(timeout=0.01 if rate else 60):
            c = key.data
            if ev & selectors.EVENT_READ:
                c.read()
            if ev & selectors.EVENT_WRITE:
                c.write()
        for c in list(live):
            if c.done():
                sel.unregister(c.sock)
                c.sock.close()
                live.discard(c)
                continue
            blocked = c.sent == c.n or c.sent - c.answered >= WINDOW or \
                c.sent >= c.allowed()
            ev = selectors.EVENT_READ
            if c.out or not blocked:
                ev |= selectors.EVENT_WRITE
            sel.modify(c.sock, ev, c)
    for c in conns:
        print("conn %d sent %d answered %d status200 %d" % (c.cid, c.sent, c.answered, c.ok))
    print("total sent %d answered %d status200 %d" % (
        sum(c.sent for c in conns), sum(c.answered for c in conns),
        sum(c.ok for c in conns)))


main()
