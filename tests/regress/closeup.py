# closeup.py: the captures 124-closeup.sh loads, written as pcap files.
# Each connection is a client 10.0.0.2 asking the server 10.0.0.1:80 for
# one path with a complete TCP handshake and close; the frames are 20
# us apart.
#
#	python3 closeup.py many FILE CONNS SEGMENTS
#		CONNS connections, each answered with SEGMENTS segments of
#		8 body bytes: a session whose packet records run to tens of
#		megabytes
#	python3 closeup.py evict FILE BYTES
#		a first connection with a 1,360-byte text body, then one
#		with a body of BYTES, enough to push the first one's frames
#		out of a small memory budget, and a last one with a
#		140-byte body
import struct
import sys

CLI, SRV = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
MAC = b"\0\1\2\3\4\5\0\1\2\3\4\6\x08\x00"


class Cap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.us = 1700000000 * 1000000
        self.recs = []

    def tcp(self, c2s, cport, seq, ack, flags, data=b""):
        src, dst = (CLI, SRV) if c2s else (SRV, CLI)
        sport, dport = (cport, 80) if c2s else (80, cport)
        self.us += 20
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), 0, 0x4000,
                         64, 6, 0, src, dst)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags,
                          65535, 0, 0)
        fr = MAC + ip + tcp + data
        self.recs.append(struct.pack("=IIII", self.us // 1000000,
                                     self.us % 1000000, len(fr), len(fr)) + fr)
        if len(self.recs) >= 10000:
            self.flush()

    def flush(self):
        self.f.write(b"".join(self.recs))
        self.recs = []

    def conn(self, cport, path, body, seg):
        cs, ss = 1000, 5000
        self.tcp(1, cport, cs, 0, 0x02)
        self.tcp(0, cport, ss, cs + 1, 0x12)
        cs += 1
        ss += 1
        self.tcp(1, cport, cs, ss, 0x10)
        req = b"GET /%s HTTP/1.1\r\nHost: closeup.test\r\n\r\n" % path
        self.tcp(1, cport, cs, ss, 0x18, req)
        cs += len(req)
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        self.tcp(0, cport, ss, cs, 0x18, head)
        ss += len(head)
        for k in range(0, len(body), seg):
            self.tcp(0, cport, ss, cs, 0x10, body[k:k + seg])
            ss += len(body[k:k + seg])
        self.tcp(0, cport, ss, cs, 0x11)
        self.tcp(1, cport, cs, ss + 1, 0x11)
        self.tcp(0, cport, ss + 1, cs + 1, 0x10)

    def close(self):
        self.flush()
        self.f.close()


def main():
    cap = Cap(sys.argv[2])
    if sys.argv[1] == "many":
        for i in range(int(sys.argv[3])):
            cap.conn(20000 + i, b"conn%d" % i, b"abcdefgh" *
                     int(sys.argv[4]), 8)
    else:
        cap.conn(40001, b"first", b"the first body, kept by reference\n" * 40,
                 1400)
        cap.conn(40002, b"big", b"y" * int(sys.argv[3]), 1400)
        cap.conn(40003, b"last", b"the last body\n" * 10, 1400)
    cap.close()


main()
