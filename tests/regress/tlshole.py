#!/usr/bin/env python3
# tlshole.py: makes a capture that missed some bytes of one TLS
# connection, at a place chosen by its TLS records, as a busy capture
# would: the bytes of the hole are cut out of the packets that carried
# them (a packet cut in the middle becomes two, at the same time).
#
#	tlshole.py IN.pcap OUT.pcap CLIENT_PORT CASE
#
# CASE:
#	hello		100 bytes inside the client's ClientHello
# and in the server's direction (port 443):
#	finished	22 bytes inside the server's Finished record (the last
#			record it sent before the client's first protected
#			record): the record that moves it to its application
#			keys is lost
#	data		1,000 bytes inside its last record of 8,000 bytes
#			or more, a piece of a response body
#	across		from inside its Finished record to the middle of
#			the record after the next one: records lost whole
#			where the keys change
# Prints the hole: direction, first byte and length (from the stream's
# start). Classic pcap, Ethernet, IPv4 (what tcpdump writes here).
import struct
import sys

SERVER = 443


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    head, off, pkts = data[:24], 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkts.append([data[off:off + 16], data[off + 16:off + 16 + caplen]])
        off += 16 + caplen
    return head, pkts


def tcp_of(frame):
    """(ip offset, tcp offset, payload offset, sport, dport, seq, flags)"""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00":
        return None
    ip = 14
    ihl = (frame[ip] & 15) * 4
    if frame[ip + 9] != 6:
        return None
    tcp = ip + ihl
    sport, dport, seq = struct.unpack(">HHI", frame[tcp:tcp + 8])
    doff = (frame[tcp + 12] >> 4) * 4
    total = struct.unpack(">H", frame[ip + 2:ip + 4])[0]
    return ip, tcp, tcp + doff, ip + total, sport, dport, seq, frame[tcp + 13]


def streams(pkts, port):
    """Per direction (0 c2s, 1 s2c): the ISN and each segment's offset."""
    isn, segs = [None, None], [[], []]
    for i, (_, fr) in enumerate(pkts):
        t = tcp_of(fr)
        if t is None or port not in (t[4], t[5]) or SERVER not in (t[4], t[5]):
            continue
        d = 0 if t[5] == SERVER else 1
        if t[7] & 2:
            isn[d] = t[6]
        elif isn[d] is not None and t[3] > t[2]:
            segs[d].append((i, (t[6] - isn[d] - 1) & 0xffffffff,
                            fr[t[2]:t[3]]))
    return segs


def records(segs):
    """(start, length with header, type, index of the packet ending it)"""
    buf, ends = bytearray(), []
    for i, off, p in sorted(segs, key=lambda s: s[1]):
        if off + len(p) > len(buf):
            buf += p[len(buf) - off:]
            ends.append((len(buf), i))
    recs, at = [], 0
    while at + 5 <= len(buf):
        n = 5 + struct.unpack(">H", buf[at + 3:at + 5])[0]
        last = next(i for e, i in ends if e >= min(at + n, len(buf)))
        recs.append((at, n, buf[at], last))
        at += n
    return recs


def hole(case, segs):
    c2s, s2c = records(segs[0]), records(segs[1])
    first = next(r[3] for r in c2s if r[2] == 23)
    hs = [r for r in s2c if r[2] == 23 and r[3] < first]
    fin = hs[-1]
    after = s2c[s2c.index(fin) + 1:]
    if case == "hello":
        return 0, c2s[0][0] + 600, 100
    if case == "finished":
        return 1, fin[0] + 20, 22
    if case == "data":
        big = [r for r in after if r[1] >= 8000]
        return 1, big[-1][0] + 1500, 1000
    if case == "across":
        return 1, fin[0] + 20, after[1][0] + after[1][1] // 2 - fin[0] - 20
    sys.exit("tlshole.py: no case %s" % case)


def cut(pkts, port, d, a, n):
    """Every packet of the connection without bytes [a, a + n) of
    direction d."""
    out = []
    segs = {i: off for i, off, _ in streams(pkts, port)[d]}
    for i, (ph, fr) in enumerate(pkts):
        if i not in segs:
            out.append((ph, fr))
            continue
        t = tcp_of(fr)
        off, pay = segs[i], fr[t[2]:t[3]]
        for lo, hi in ((off, min(off + len(pay), a)),
                       (max(off, a + n), off + len(pay))):
            if lo == off and hi == off + len(pay):
                out.append((ph, fr))
            elif lo < hi:
                out.append(piece(ph, fr, t, lo - off, hi - off))
    return out


def piece(ph, fr, t, lo, hi):
    """The packet with only payload bytes [lo, hi), its seq moved."""
    ip, tcp, pay = t[0], t[1], t[2]
    new = bytearray(fr[:pay] + fr[pay + lo:pay + hi])
    struct.pack_into(">H", new, ip + 2, pay - ip + hi - lo)
    struct.pack_into(">I", new, tcp + 4, (t[6] + lo) & 0xffffffff)
    struct.pack_into(">H", new, ip + 10, 0)
    s = sum(struct.unpack(">10H", bytes(new[ip:ip + 20])))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    struct.pack_into(">H", new, ip + 10, ~s & 0xffff)
    h = bytearray(ph)
    struct.pack_into("<II", h, 8, len(new), len(new))
    return bytes(h), bytes(new)


def main():
    src, dst, port, case = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4]
    head, pkts = read_pcap(src)
    d, a, n = hole(case, streams(pkts, port))
    with open(dst, "wb") as f:
        f.write(head)
        for ph, fr in cut(pkts, port, d, a, n):
            f.write(ph + fr)
    print("%s %d %d" % (("c2s", "s2c")[d], a, n))


main()
