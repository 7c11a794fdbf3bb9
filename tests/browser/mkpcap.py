#!/usr/bin/env python3
# mkpcap.py: writes a synthetic capture of many small HTTP/1.1 exchanges
# (Ethernet, IPv4, TCP with handshakes, keep-alive, FIN teardown) so the
# whole path, analyze and the renderers, can be tried with a big session.
#
#   mkpcap.py N OUT.pcap      N transactions, 20 per connection
import random
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Conn:
    def __init__(self, cport, sip):
        self.c = (bytes([192, 0, 2, 10]), cport)
        self.s = (sip, 80)
        self.seq = {0: 1000, 1: 5000}

    def frame(self, d, flags, payload=b""):
        src, dst = (self.c, self.s) if d == 0 else (self.s, self.c)
        seq, ack = self.seq[d], self.seq[1 - d]
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4,
                          flags, 65535, 0, 0)
        pseudo = src[0] + dst[0] + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload),
                         0, 0x4000, 64, 6, 0, src[0], dst[0])
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
        self.seq[d] = (seq + len(payload) + (1 if flags & 0x03 else 0)) & 0xffffffff
        return eth + ip + tcp + payload


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(7)
    frames = []
    t = 1795687200.0
    done = 0
    port = 20000
    while done < n:
        c = Conn(port, bytes([192, 0, 2, 1 + port % 8]))
        port += 1
        tt = t
        def add(dt, d, fl, p=b""):
            nonlocal tt
            tt += dt
            frames.append((tt, c.frame(d, fl, p)))
        add(0, 0, 0x02)
        add(0.0004, 1, 0x12)
        add(0.0004, 0, 0x10)
        for _ in range(min(20, n - done)):
            body = b"x" * rnd.randint(0, 1200)
            req = (b"GET /item/%d HTTP/1.1\r\nHost: host%d.example\r\n"
                   b"User-Agent: mkpcap\r\n\r\n" % (done, port % 8))
            resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)) + body
            add(0.001, 0, 0x18, req)
            add(rnd.uniform(0.0005, 0.03), 1, 0x18, resp)
            add(0.0002, 0, 0x10)
            done += 1
        add(0.001, 0, 0x11)
        add(0.0003, 1, 0x11)
        add(0.0003, 0, 0x10)
        t += rnd.uniform(0.001, 0.05)
    frames.sort(key=lambda f: f[0])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in frames:
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(fr), len(fr)))
            f.write(fr)


main()
