#!/usr/bin/env python3
# hostile.py: hostile traffic for tests/regress/110-114, made with a raw
# AF_PACKET socket (no scapy): every frame is built here, checksums
# included, and written to one interface, or to a pcap file instead
# (--pcap FILE) to look at it offline. Also the ordinary client those
# tests compare with, and a sender of random bytes on real connections.
#
#	python3 hostile.py [--pcap FILE] IFACE SRCMAC DSTMAC MODE ARGS...
#	python3 hostile.py client HOST PORT N DELAY_MS LOG
#	python3 hostile.py garbage SRC HOST PORT N SEED
#
# Raw modes (addresses are IPv4 dotted quads):
#	syn N DST PORT SEED	N SYNs to DST:PORT from N different spoofed
#				sources from 10.200.0.1 on: half-open
#				connections
#	seqjump N DST PORT SEED	N made-up connections (both sides spoofed;
#				DST is an address nobody holds) whose data
#				segments carry random sequence numbers
#	overlap N DST PORT	N rounds of made-up connections whose
#				retransmissions overlap what came before with
#				different bytes
#	frag N DST PORT		N rounds of made-up connections whose
#				requests come in IPv4 fragments
#
# Each raw mode prints one line per made-up connection or fact that
# the tests check, "key value ...". The frames go out at most RATE per
# second (environment HOSTILE_RATE, default 20000).
import errno
import os
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_hdr(src, dst, payload_len, ident, proto=6, frag=0, mf=False):
    off = (frag // 8) | (0x2000 if mf else 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, off,
                    64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def tcp_seg(src, dst, sport, dport, seq, ack, flags, data=b"", opts=b""):
    doff = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                    ack & 0xFFFFFFFF, doff << 4, flags, 64240, 0, 0) + opts
    pseudo = struct.pack("!4s4sBBH", socket.inet_aton(src),
                         socket.inet_aton(dst), 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
MSS_OPT = b"\x02\x04\x05\xb4"


class Out:
    """Frames to an interface (paced) or to a pcap file."""

    def __init__(self, iface, smac, dmac, pcap):
        self.eth = (bytes.fromhex(dmac.replace(":", "")) +
                    bytes.fromhex(smac.replace(":", "")) + b"\x08\x00")
        self.rate = int(os.environ.get("HOSTILE_RATE", "20000"))
        self.sent = 0
        self.t0 = time.monotonic()
        self.ident = 1
        self.now = 1.0e9
        if pcap:
            self.f = open(pcap, "wb")
            self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                     65535, 1))
            self.sock = None
        else:
            self.f = None
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            self.sock.bind((iface, 0))

    def frame(self, ip):
        fr = self.eth + ip
        self.sent += 1
        if self.f:
            self.now += 0.0001
            sec = int(self.now)
            self.f.write(struct.pack("<IIII", sec,
                                     int((self.now - sec) * 1e6),
                                     len(fr), len(fr)) + fr)
            return
        while True:
            try:
                self.sock.send(fr)
                break
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                time.sleep(0.001)
        if self.sent % 200 == 0:
            ahead = self.sent / self.rate - (time.monotonic() - self.t0)
            if ahead > 0:
                time.sleep(ahead)

    def ip(self, src, dst, payload, proto=6):
        self.ident = (self.ident + 1) & 0xFFFF
        self.frame(ip_hdr(src, dst, len(payload), self.ident, proto) +
                   payload)

    def close(self):
        if self.f:
            self.f.close()


class Conv:
    """A made-up connection: both sides are written here."""

    def __init__(self, out, cip, sip, cport, sport, rnd):
        self.o, self.cip, self.sip = out, cip, sip
        self.cport, self.sport = cport, sport
        self.cisn = rnd.getrandbits(32)
        self.sisn = rnd.getrandbits(32)
        self.cseq = self.cisn + 1
        self.sseq = self.sisn + 1

    def c(self, seq, flags, data=b"", opts=b""):
        self.o.ip(self.cip, self.sip,
                  tcp_seg(self.cip, self.sip, self.cport, self.sport, seq,
                          self.sseq, flags, data, opts))

    def s(self, seq, flags, data=b"", opts=b""):
        self.o.ip(self.sip, self.cip,
                  tcp_seg(self.sip, self.cip, self.sport, self.cport, seq,
                          self.cseq, flags, data, opts))

    def handshake(self):
        self.o.ip(self.cip, self.sip,
                  tcp_seg(self.cip, self.sip, self.cport, self.sport,
                          self.cisn, 0, SYN, b"", MSS_OPT))
        self.s(self.sisn, SYN | ACK, b"", MSS_OPT)
        self.c(self.cseq, ACK)

    def csend(self, data, seq=None):
        if seq is None:
            seq = self.cseq
            self.cseq += len(data)
        self.c(seq, PSH | ACK, data)

    def ssend(self, data, seq=None):
        if seq is None:
            seq = self.sseq
            self.sseq += len(data)
        self.s(seq, PSH | ACK, data)

    def close(self):
        self.c(self.cseq, FIN | ACK)
        self.cseq += 1
        self.s(self.sseq, FIN | ACK)
        self.sseq += 1
        self.c(self.cseq, ACK)


def response(status, body):
    reason = {200: "OK", 404: "Not Found"}.get(status, "X")
    return ("HTTP/1.1 %d %s\r\nContent-Length: %d\r\n"
            "Content-Type: text/plain\r\n\r\n" % (status, reason, len(body))
            ).encode() + body


def mode_syn(out, n, dst, port, seed):
    rnd = random.Random(seed)
    for i in range(n):
        src = "10.%d.%d.%d" % (200 + i // 62500, i // 250 % 250, i % 250 + 1)
        sport = 1024 + rnd.randrange(64000)
        out.ip(src, dst, tcp_seg(src, dst, sport, port, rnd.getrandbits(32),
                                 0, SYN, b"", MSS_OPT))
    print("syn_sent %d" % n)


def mode_seqjump(out, n, dst, port, seed):
    # Each connection: a request and its response in order, then
    # segments at random sequence numbers in both directions, which
    # reassembly must queue within its bounds and skip.
    rnd = random.Random(seed)
    for i in range(n):
        cip = "10.201.%d.%d" % (i // 250 % 250, i % 250 + 1)
        cv = Conv(out, cip, dst, 20000 + i % 40000, port, rnd)
        cv.handshake()
        cv.csend(("GET /jump-%d HTTP/1.1\r\nHost: h\r\n\r\n" % i).encode())
        cv.ssend(response(200, b"j" * (i % 50)))
        for k in range(rnd.randrange(4, 24)):
            data = rnd.randbytes(rnd.randrange(1, 1400))
            seq = rnd.getrandbits(32)
            if k % 2:
                cv.s(seq, PSH | ACK, data)
            else:
                cv.c(seq, PSH | ACK, data)
        cv.close()
    print("seqjump_conns %d" % n)


# The overlap cases. Each is one connection carrying one request and
# its response; a retransmission repeats part of a segment with other
# bytes. "in order": the copy arrives after the original was already
# in order; "early": the original waits out of order when the copy
# comes. The path each case's request has on the wire first is /first-N,
# what the copy would make it is /other-N: the two differ in bytes 5-9.
NOVERLAP = 6


def overlap_case(out, rnd, r, n, dst, port):
    cip = "10.202.%d.%d" % (r // 250, r % 250 + 1)
    cv = Conv(out, cip, dst, 30000 + n, port, rnd)
    cv.handshake()
    first = ("GET /first-%d HTTP/1.1\r\nHost: h\r\n\r\n" % n).encode()
    other = ("GET /other-%d HTTP/1.1\r\nHost: h\r\n\r\n" % n).encode()
    body = b"a" * 40
    obody = b"b" * 40
    base = cv.cseq
    if n == 0:
        # The whole request again, other bytes, after it was in order.
        cv.csend(first)
        cv.csend(other, seq=base)
    elif n == 1:
        # A copy overlapping the request's second half and beyond.
        cv.csend(first[:10])
        cv.csend(first[10:])
        cv.csend(other[5:], seq=base + 5)
    elif n == 2:
        # The second half comes early; then the first half, longer,
        # carrying other bytes over the part that waits.
        cv.csend(first[10:], seq=base + 10)
        cv.csend(other[:20], seq=base)
        cv.cseq = base + len(first)
    elif n == 3:
        # Two early copies of the same range, the second different.
        cv.csend(first[7:], seq=base + 7)
        cv.csend(other[7:], seq=base + 7)
        cv.csend(first[:7], seq=base)
        cv.cseq = base + len(first)
    elif n == 4:
        # An early piece, then an early copy from the same place on,
        # longer, then the start.
        cv.csend(first[7:9], seq=base + 7)
        cv.csend(other[7:], seq=base + 7)
        cv.csend(first[:7], seq=base)
        cv.cseq = base + len(first)
    else:
        # An early piece, then an early copy starting before it.
        cv.csend(first[9:], seq=base + 9)
        cv.csend(other[7:], seq=base + 7)
        cv.csend(first[:7], seq=base)
        cv.cseq = base + len(first)
    sbase = cv.sseq
    resp = response(200, body)
    oresp = resp.replace(b"200 OK", b"404 NO").replace(body, obody)
    if n % 2 == 0:
        cv.ssend(resp)
        cv.ssend(oresp, seq=sbase)
    else:
        cv.ssend(resp[:30], seq=sbase)
        cv.ssend(resp[30:], seq=sbase + 30)
        cv.ssend(oresp[25:], seq=sbase + 25)
    cv.sseq = sbase + len(resp)
    cv.close()


def mode_overlap(out, rounds, dst, port):
    rnd = random.Random(4)
    for r in range(rounds):
        for n in range(NOVERLAP):
            overlap_case(out, rnd, r, n, dst, port)
    print("overlap_conns %d" % (rounds * NOVERLAP))


# Fragments of one IPv4 datagram carrying the TCP segment seg.
def fragments(out, src, dst, seg, size):
    out.ident = (out.ident + 1) & 0xFFFF
    n = 0
    for off in range(0, len(seg), size):
        part = seg[off:off + size]
        more = off + size < len(seg)
        out.frame(ip_hdr(src, dst, len(part), out.ident, 6, off, more) +
                  part)
        n += 1
    return n


def mode_frag(out, rounds, dst, port):
    # Four connections: the request of each goes in fragments of 16,
    # 24, 32 and 40 bytes (the first holds the TCP header); the
    # response is whole.
    rnd = random.Random(5)
    total = 0
    for i in range(rounds * 4):
        n, size = i % 4, (16, 24, 32, 40)[i % 4]
        cip = "10.203.%d.%d" % (i // 250, i % 250 + 1)
        cv = Conv(out, cip, dst, 31000 + n, port, rnd)
        cv.handshake()
        req = ("GET /frag-%d HTTP/1.1\r\nHost: h\r\n\r\n" % n).encode()
        seg = tcp_seg(cv.cip, cv.sip, cv.cport, cv.sport, cv.cseq, cv.sseq,
                      PSH | ACK, req)
        total += fragments(out, cv.cip, cv.sip, seg, size)
        cv.cseq += len(req)
        cv.ssend(response(200, b"f" * (10 + n)))
        cv.close()
    print("frag_conns %d" % (rounds * 4))
    print("fragmented_datagrams %d" % (rounds * 4))
    print("fragments %d" % total)


def mode_client(host, port, n, delay, log):
    # Ordinary HTTP/1.1 keep-alive traffic over a few connections; each
    # request's method, path and status go to log as they complete.
    import http.client
    methods = ("GET", "HEAD", "GET", "POST")
    with open(log, "w") as f:
        conn = None
        for i in range(n):
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            m = methods[i % len(methods)]
            path = "/f%d.txt" % (i % 7) if i % 5 else "/missing-%d" % i
            body = b"x=1" if m == "POST" else None
            conn.request(m, path, body=body)
            r = conn.getresponse()
            r.read()
            f.write("%s %s %d\n" % (m, path, r.status))
            f.flush()
            if i % 10 == 9 or r.will_close:
                conn.close()
                conn = None
            time.sleep(delay)
        if conn is not None:
            conn.close()


def mode_garbage(src, host, port, n, seed):
    # Real connections carrying random bytes; whatever the server says
    # is read and dropped.
    rnd = random.Random(seed)
    sent = 0
    for i in range(n):
        s = socket.create_connection((host, port), timeout=5, source_address=(src, 0))
        data = rnd.randbytes(rnd.randrange(1, 4000))
        try:
            s.sendall(data)
            sent += len(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()
    print("garbage_conns %d" % n)
    print("garbage_bytes %d" % sent)


def main(argv):
    if argv[0] == "client":
        mode_client(argv[1], int(argv[2]), int(argv[3]),
                    int(argv[4]) / 1000.0, argv[5])
        return
    if argv[0] == "garbage":
        mode_garbage(argv[1], argv[2], int(argv[3]), int(argv[4]),
                     int(argv[5]))
        return
    pcap = None
    if argv[0] == "--pcap":
        pcap = argv[1]
        argv = argv[2:]
    out = Out(argv[0], argv[1], argv[2], pcap)
    mode, a = argv[3], argv[4:]
    if mode == "syn":
        mode_syn(out, int(a[0]), a[1], int(a[2]), int(a[3]))
    elif mode == "seqjump":
        mode_seqjump(out, int(a[0]), a[1], int(a[2]), int(a[3]))
    elif mode == "overlap":
        mode_overlap(out, int(a[0]), a[1], int(a[2]))
    elif mode == "frag":
        mode_frag(out, int(a[0]), a[1], int(a[2]))
    else:
        sys.exit("hostile.py: unknown mode %s" % mode)
    out.close()
    print("frames %d" % out.sent)


if __name__ == "__main__":
    main(sys.argv[1:])
