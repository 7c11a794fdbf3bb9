# slowclient.py: an HTTP/1.1 client that is slow on purpose, for
# tests/regress/058-explain.sh.
#	python3 slowclient.py ADDR PORT late MS PATH
#		connects, waits MS ms, then sends GET PATH
#	python3 slowclient.py ADDR PORT read MS PATH
#		a 4 KiB receive buffer; sends GET PATH, stops reading for
#		MS ms after the first bytes, then reads to the end
#	python3 slowclient.py ADDR PORT pipeline PATH PATH
#		both requests in one write, then reads both answers
# Prints the bytes it read. Gives up after 20 s.
import socket
import sys
import time

addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def get(path):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, addr)).encode()


def read_answers(s, n):
    # Reads n responses with Content-Length bodies, as fast as it can.
    buf, got = bytearray(), 0
    while got < n:
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                return
            buf += b
        i = buf.index(b"\r\n\r\n")
        head, buf = bytes(buf[:i]), buf[i + 4:]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(buf) < length:
            b = s.recv(262144)
            if not b:
                return
            buf += b
        del buf[:length]
        got += 1


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(20)
if mode == "read":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((addr, port))
if mode == "late":
    time.sleep(int(sys.argv[4]) / 1000.0)
    s.sendall(get(sys.argv[5]))
    read_answers(s, 1)
elif mode == "read":
    s.sendall(get(sys.argv[5]))
    s.recv(1)
    time.sleep(int(sys.argv[4]) / 1000.0)
    read_answers(s, 1)
elif mode == "pipeline":
    s.sendall(get(sys.argv[4]) + get(sys.argv[5]))
    read_answers(s, 2)
s.close()
