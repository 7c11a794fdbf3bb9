# wire.py: a shaped wire between two tap devices, for tests that need
# delay, a rate limit or lost segments where the kernel has no sch_netem.
# Ethernet frames read from one tap are written to the other after the
# shaping of their direction:
#	delay_ms	one-way delay
#	rate_bps	serialisation at this many bits per second (0: none)
#	drop_data	drop the Nth frame carrying more than 500 bytes of
#			TCP payload, counted from when the shape was set
#			(0: none); once
# The shape is a JSON file {"a2b": {...}, "b2a": {...}}, read again when
# it changes; each time, the sequence number in its "seq" key is written
# to STATUS so that the test knows it applies.
#
#	python3 wire.py TAP_A TAP_B SHAPE STATUS
#
# The taps must exist (ip tuntap add ... mode tap); they may be moved
# into namespaces after this has opened them.
import fcntl
import heapq
import json
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def tcp_payload(frame):
    # Bytes of TCP payload in an Ethernet/IPv4 frame, else 0.
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return 0
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    if len(frame) < 14 + ihl + 13:
        return 0
    doff = (frame[14 + ihl + 12] >> 4) * 4
    return max(0, total - ihl - doff)


class Direction:
    def __init__(self):
        self.set({})

    def set(self, shape):
        self.delay = shape.get("delay_ms", 0) / 1000.0
        self.rate = shape.get("rate_bps", 0)
        self.drop_data = shape.get("drop_data", 0)
        self.data_seen = 0
        self.free_at = 0.0

    def departure(self, now, frame):
        # When the frame leaves, or None to drop it.
        if self.drop_data and tcp_payload(frame) > 500:
            self.data_seen += 1
            if self.data_seen == self.drop_data:
                self.drop_data = 0
                return None
        t = now
        if self.rate:
            t = max(now, self.free_at) + (len(frame) + 24) * 8.0 / self.rate
            self.free_at = t
        return t + self.delay


def main():
    a, b = open_tap(sys.argv[1]), open_tap(sys.argv[2])
    shape_path, status_path = sys.argv[3], sys.argv[4]
    dirs = {a: (Direction(), b), b: (Direction(), a)}
    queue, n, mtime = [], 0, None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            m = os.stat(shape_path).st_mtime_ns
        except FileNotFoundError:
            m = None
        if m is not None and m != mtime:
            mtime = m
            with open(shape_path) as f:
                shape = json.load(f)
            dirs[a][0].set(shape.get("a2b", {}))
            dirs[b][0].set(shape.get("b2a", {}))
            with open(status_path + ".new", "w") as f:
                f.write("%s\n" % shape.get("seq", 0))
            os.rename(status_path + ".new", status_path)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, frame = heapq.heappop(queue)
            try:
                os.write(fd, frame)
            except OSError:
                pass
        wait = 0.05 if not queue else max(0.0, min(0.05, queue[0][0] - now))
        r, _, _ = select.select([a, b], [], [], wait)
        now = time.monotonic()
        for fd in r:
            try:
                frame = os.read(fd, 65536)
            except OSError:
                continue
            d, out = dirs[fd]
            t = d.departure(now, frame)
            if t is not None:
                n += 1
                heapq.heappush(queue, (t, n, out, frame))


main()
