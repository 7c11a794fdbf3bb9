#!/usr/bin/env python3
# rawclient.py: a client for htracrd's protocol written without the
# project's code (and without a msgpack module), so tests can send what
# htracrctl never would: garbage, oversized lengths, deep nesting, wrong
# versions, bad frame blobs, a thousand connections at once. Used by
# tests/regress/020-daemon.sh, 025-limits.sh and 030-capture.sh.
#
#   python3 rawclient.py SOCKET SCENARIO [ARGS...]
#
# Prints one line per reply, "code=N" for errors, "ok", "chunk", "end=N",
# and "eof" when the daemon closes the connection.
import os
import socket
import struct
import time
import sys


def enc(o):
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        if o >= 0:
            return b"\xcf" + struct.pack(">Q", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, str):
        b = o.encode()
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(o, (bytes, bytearray)):
        return b"\xc6" + struct.pack(">I", len(o)) + bytes(o)
    if isinstance(o, list):
        return b"\xdd" + struct.pack(">I", len(o)) + b"".join(map(enc, o))
    if isinstance(o, dict):
        out = b"\xdf" + struct.pack(">I", len(o))
        for k, v in o.items():
            out += enc(k) + enc(v)
        return out
    raise TypeError(o)


def dec(b, i=0):
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xe0:
        return t - 256, i
    if 0x80 <= t <= 0x8f:
        return dec_map(b, i, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return dec_arr(b, i, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return b[i:i + n].decode("utf-8", "replace"), i + n
    simple = {0xc0: None, 0xc2: False, 0xc3: True}
    if t in simple:
        return simple[t], i
    ints = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
            0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
            0xca: ">f", 0xcb: ">d"}
    if t in ints:
        f = ints[t]
        n = struct.calcsize(f)
        return struct.unpack(f, b[i:i + n])[0], i + n
    lens = {0xc4: ">B", 0xc5: ">H", 0xc6: ">I", 0xd9: ">B", 0xda: ">H",
            0xdb: ">I", 0xdc: ">H", 0xdd: ">I", 0xde: ">H", 0xdf: ">I"}
    f = lens[t]
    n = struct.calcsize(f)
    ln = struct.unpack(f, b[i:i + n])[0]
    i += n
    if t in (0xc4, 0xc5, 0xc6):
        return bytes(b[i:i + ln]), i + ln
    if t in (0xd9, 0xda, 0xdb):
        return b[i:i + ln].decode("utf-8", "replace"), i + ln
    if t in (0xdc, 0xdd):
        return dec_arr(b, i, ln)
    return dec_map(b, i, ln)


def dec_arr(b, i, n):
    out = []
    for _ in range(n):
        v, i = dec(b, i)
        out.append(v)
    return out, i


def dec_map(b, i, n):
    out = {}
    for _ in range(n):
        k, i = dec(b, i)
        v, i = dec(b, i)
        out[k] = v
    return out, i


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        # A Unix socket with a timeout is non-blocking: while the
        # daemon's listen queue is full, connect fails with EAGAIN
        # instead of waiting. Wait, as a blocking connect would.
        deadline = time.time() + 10
        while True:
            try:
                self.s.connect(path)
                break
            except BlockingIOError:
                if time.time() > deadline:
                    raise
                time.sleep(0.01)
        self.next_id = 1

    def raw(self, data):
        self.s.sendall(data)

    def send(self, obj):
        body = enc(obj)
        self.raw(struct.pack(">I", len(body)) + body)

    def req(self, op, **fields):
        m = {"op": op, "id": self.next_id}
        self.next_id += 1
        m.update(fields)
        self.send(m)
        return m["id"]

    def req_fds(self, fds, op, **fields):
        # The request with descriptors handed over (SCM_RIGHTS).
        m = {"op": op, "id": self.next_id}
        self.next_id += 1
        m.update(fields)
        body = enc(m)
        socket.send_fds(self.s, [struct.pack(">I", len(body)) + body], fds)
        return m["id"]

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                got = self.s.recv(n - len(buf))
            except (ConnectionResetError, socket.timeout):
                return None
            if not got:
                return None
            buf += got
        return buf

    def recv(self):
        h = self._exact(4)
        if h is None:
            return None
        body = self._exact(struct.unpack(">I", h)[0])
        if body is None:
            return None
        return dec(body)[0]

    def hello(self):
        self.req(1, version=1, client="rawclient")
        return self.recv()


def show(m):
    if m is None:
        return "eof"
    if "error" in m:
        return "code=%d %s" % (m["error"]["code"], m["error"]["message"])
    if "end" in m:
        return "end=%d" % m["end"]
    if "chunk" in m:
        return "chunk"
    return "ok"


def frame(caplen, length, data=b""):
    return struct.pack("=QII", 1, caplen, length) + data


def misbehave(c, kind):
    """Sends one kind of bad request; False if kind is not one."""
    if kind == "garbage":
        c.raw(struct.pack(">I", 5) + b"\xc1\xc1\xc1\xc1\xc1")
    elif kind == "oversized":
        c.raw(struct.pack(">I", 0x7fffffff))
    elif kind == "deep":
        o = 1
        for _ in range(20):
            o = [o]
        c.send({"op": 1, "id": 1, "version": 1, "x": o})
    elif kind == "version":
        c.req(1, version=99, client="rawclient")
    elif kind == "nohello":
        c.req(100)
    elif kind == "notmap":
        c.raw(struct.pack(">I", 1) + b"\x01")
    elif kind == "noop":
        c.send({"id": 5})
    else:
        return False
    return True


def bad(path, kind):
    """One misbehaving connection; returns its reply and what follows."""
    c = Conn(path)
    misbehave(c, kind)
    return "%s: %s; then %s" % (kind, show(c.recv()), show(c.recv()))


def hold(path, n, release):
    """
    Opens n connections, saying hello on each, and holds them all; then
    reads their replies: prints how many were accepted and each refusal
    message with its count. Keeps
    the accepted ones busy (a status request each half second, so none
    is idle) until the file release exists, then prints how many of
    them answered every time.
    """
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 64 <= hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
    except (ImportError, ValueError, OSError):
        pass
    conns = []
    for _ in range(n):
        k = Conn(path)
        try:
            k.req(1, version=1, client="rawclient")
        except OSError:
            pass    # refused and closed: its error is still to be read
        conns.append(k)
    held, refusals, silent = [], {}, 0
    for k in conns:
        m = k.recv()
        if m is not None and "ok" in m:
            held.append(k)
        elif m is not None and "error" in m:
            refusals[show(m)] = refusals.get(show(m), 0) + 1
            k.s.close()
        else:
            silent += 1
            k.s.close()
    print("accepted=%d refused=%d silent=%d" % (len(held),
          sum(refusals.values()), silent))
    for msg, count in sorted(refusals.items()):
        print("refusal x%d: %s" % (count, msg))
    sys.stdout.flush()
    deadline = time.time() + 50
    lost = set()
    while time.time() < deadline:
        for i, k in enumerate(held):
            if i in lost:
                continue
            try:
                k.req(303)
                m = k.recv()
            except OSError:
                m = None
            if m is None or "ok" not in m:
                lost.add(i)
        if os.path.exists(release):
            break
        time.sleep(0.5)
    print("kept=%d" % (len(held) - len(lost)))


def reconnect(path, n, pid, rounds):
    """
    Holds n connections (the uid's limit), then, with the analyzer pid
    stopped, connects once more and closes the n: the new connection
    waits in the listen queue beside their ends of file. Once the
    analyzer runs again, the answer to its hello tells whether it was
    let in. The order the analyzer sees them in varies: rounds of it.
    Prints how many rounds let it in, and the first refusal.
    """
    import signal
    ok, first = 0, None
    for _ in range(rounds):
        held = [Conn(path) for _ in range(n)]
        for k in held:
            k.hello()
        os.kill(pid, signal.SIGSTOP)
        # A stop is delivered when the process next runs: wait for it.
        deadline = time.time() + 10
        while time.time() < deadline:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    break
            time.sleep(0.01)
        try:
            late = Conn(path)
            late.req(1, version=1, client="rawclient")
            for k in held:
                k.s.close()
        finally:
            os.kill(pid, signal.SIGCONT)
        m = late.recv()
        if m is not None and "ok" in m:
            ok += 1
        elif first is None:
            first = show(m)
        late.s.close()
        time.sleep(0.2)     # its end of file read: the uid holds none
    print("late: %d of %d let in%s" % (ok, rounds,
          "" if first is None else "; first refused: " + first))


def hold_fds(c, pid, path):
    # How many descriptors the analyzer (pid) holds for this client
    # beyond its socket: idle, while a load of a handed file is open,
    # after it; and that requests sent behind load_end in the same write
    # are answered after it.
    def extra():
        return len(os.listdir("/proc/%d/fd" % pid)) - base
    base = len(os.listdir("/proc/%d/fd" % pid))
    f = open(path, "rb")
    for _ in range(5):
        c.req_fds([f.fileno()] * 2, 303)
        c.recv()
    print("idle: +%d" % extra())
    size = os.fstat(f.fileno()).st_size
    c.req_fds([f.fileno()], 200, linktype=1, snaplen=65535, source="held",
              format="pcap", file=True, offset=24, length=size - 24)
    print("begin: " + show(c.recv()))
    for _ in range(3):
        c.req_fds([f.fileno()] * 2, 303)
        c.recv()
    print("loading: +%d" % extra())
    ids = []
    raw = b""
    for op in (202, 303):
        m = {"op": op, "id": c.next_id}
        ids.append(c.next_id)
        c.next_id += 1
        body = enc(m)
        raw += struct.pack(">I", len(body)) + body
    c.raw(raw)
    got = [c.recv(), c.recv()]
    print("order: %s" % ("load_end first" if [m.get("id") for m in got] ==
                         ids and "session" in got[0].get("ok", {})
                         else "wrong: %r" % [m.get("id") for m in got]))
    time.sleep(0.1)
    print("after: +%d" % extra())


def long_load(c, path, sock):
    # A file that takes long to read (a large sparse one: records of
    # nothing): another client is answered while it is read, and when
    # this one leaves mid-read the load stops, kept as aborted.
    f = open(path, "rb")
    size = os.fstat(f.fileno()).st_size
    c.req_fds([f.fileno()], 200, linktype=1, snaplen=65535, source="long",
              format="pcap", file=True, offset=24, length=size - 24)
    r = c.recv()
    print("begin: " + show(r))
    sid = r["ok"]["session"]
    c.req(202)
    other = Conn(sock)
    other.hello()
    other.req(303)
    served = show(other.recv())
    c.s.settimeout(0)
    try:
        waiting = c.s.recv(1) == b""
    except BlockingIOError:
        waiting = True
    print("other while reading: %s%s" % (served, "" if waiting else
                                         " (but the load had ended)"))
    c.s.close()
    for _ in range(100):
        other.req(100)
        s = [x for x in other.recv()["ok"]["sessions"] if x["id"] == sid]
        if s and s[0]["state"] != "running":
            break
        time.sleep(0.1)
    print("left mid-read: %s" % (s[0]["state"] if s else "no session"))


def hand(c, kind, args):
    # A load of a pcap file handed over as an open descriptor (a daemon
    # with --take-files reads it): "file PATH [EXTRA]" claims EXTRA
    # bytes more than the file holds; "pipe" hands over a pipe, "none"
    # nothing; "flood N" sends N status requests with three descriptors
    # each, then one more status request.
    print(show(c.hello()))
    if kind == "hold":
        hold_fds(c, int(args[0]), args[1])
        return
    if kind == "long":
        long_load(c, args[0], args[1])
        return
    if kind == "flood":
        f = open(sys.argv[0], "rb")
        for _ in range(int(args[0])):
            c.req_fds([f.fileno()] * 3, 303)
            c.recv()
        c.req(303)
        print("after flood: " + show(c.recv()))
        return
    fields = dict(linktype=1, snaplen=65535, source="handed",
                  format="pcap", file=True, offset=24)
    fds = []
    if kind == "file":
        f = open(args[0], "rb")
        fields["length"] = os.fstat(f.fileno()).st_size - 24 + \
            (int(args[1]) if len(args) > 1 else 0)
        fds = [f.fileno()]
    elif kind == "pipe":
        r, w = os.pipe()
        fields["length"] = 1000
        fds = [r]
    else:
        fields["length"] = 1000
    if fds:
        c.req_fds(fds, 200, **fields)
    else:
        c.req(200, **fields)
    r = c.recv()
    print(show(r))
    if "error" in r:
        return
    c.req(202)
    r = c.recv()
    print(show(r))
    if r is not None and "ok" in r:
        ok = r["ok"]
        print("frames=%d transactions=%d" % (ok["session"]["counters"]["frames"],
                                            ok["session"]["transactions"]))
        if "cut" in ok:
            print("cut=%s after %d" % (ok["cut"], ok["cut_frames"]))
    # the client is heard again once the file is read
    c.req(303)
    print("after: " + show(c.recv()))


def main():
    path, scen = sys.argv[1], sys.argv[2]
    if scen == "hand":
        hand(Conn(path), sys.argv[3], sys.argv[4:])
        return
    if scen == "hold":
        hold(path, int(sys.argv[3]), sys.argv[4])
        return
    if scen == "reconnect":
        reconnect(path, int(sys.argv[3]), int(sys.argv[4]),
                  int(sys.argv[5]))
        return
    if scen == "abuse":
        # A well-behaved client stays connected while others misbehave.
        good = Conn(path)
        print("first: " + show(good.hello()))
        for kind in sys.argv[3:]:
            print(bad(path, kind))
        good.req(303)
        print("survivor: " + show(good.recv()))
        return
    c = Conn(path)
    if misbehave(c, scen):
        pass    # its reply and what follows are printed below
    elif scen == "session":
        # hello, then each argument is one op number with no fields
        print(show(c.hello()))
        for op in sys.argv[3:]:
            c.req(int(op))
            print(show(c.recv()))
        return
    elif scen == "badfield":
        print(show(c.hello()))
        c.req(101, session="x")
        print(show(c.recv()))
        c.req(103, txn=1, which="sideways")
        print(show(c.recv()))
        c.req(303)
        print(show(c.recv()))
        return
    elif scen == "badblob":
        print(show(c.hello()))
        c.req(200, linktype=1, snaplen=65535, source="raw")
        print(show(c.recv()))
        c.req(201, frames=frame(100, 50, b"x" * 100))
        print(show(c.recv()))
        c.req(201, frames=frame(1000, 1000, b"x" * 10))
        print(show(c.recv()))
        c.req(201, frames=frame(300000, 300000, b"x" * 300000))
        print(show(c.recv()))
        c.req(201, frames=frame(20, 60, b"z" * 20))
        c.req(202)
        print(show(c.recv()))
        return
    elif scen == "pcapblob":
        # records as a classic pcap file holds them: an unknown format
        # is refused; nanoseconds become microseconds; a len below
        # caplen is taken as caplen; a bad record refuses its blob
        def rec(sec, frac, caplen, length, data):
            return struct.pack("=IIII", sec, frac, caplen, length) + data
        print(show(c.hello()))
        c.req(200, linktype=1, snaplen=65535, source="pcapns",
              format="pcap-us")
        print(show(c.recv()))
        c.req(200, linktype=1, snaplen=65535, source="pcapns",
              format="pcap-ns")
        print(show(c.recv()))
        c.req(201, frames=rec(1, 0, 300000, 300000, b"x" * 10))
        print(show(c.recv()))
        c.req(201, frames=rec(1, 0, 20, 20, b"y" * 20) +
              rec(1, 0, 100, 100, b"x" * 10))
        print(show(c.recv()))
        c.req(201, frames=rec(1700000000, 123456789, 20, 10, b"z" * 20) +
              rec(1700000001, 0, 20, 60, b"z" * 20))
        c.req(202)
        r = c.recv()
        print(show(r))
        sess = r["ok"]["session"]
        print("frames=%d first_us=%d" % (sess["counters"]["frames"],
                                         sess["first_frame_us"]))
        return
    elif scen == "vanish":
        # asks for a stream, reads one message, and goes away
        print(show(c.hello()))
        c.req(int(sys.argv[3]), session=0)
        print(show(c.recv()))
        c.s.close()
        return
    elif scen == "stuck":
        # a frames stream larger than the socket holds, left unread, then
        # a bad request: the daemon closes us; we still read nothing and
        # watch the client count from a second connection
        print(show(c.hello()))
        # 8 MiB of kept frames: more than the daemon queues plus what
        # its socket buffer holds
        c.req(200, linktype=1, snaplen=65535, source="stuck")
        sid = c.recv()["ok"]["session"]
        blob = frame(60000, 60000, b"s" * 60000) * 4
        for _ in range(35):
            c.req(201, frames=blob)
        c.req(202)
        c.recv()
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.req(102, session=sid)
        c.raw(struct.pack(">I", 1) + b"\x01")
        other = Conn(path)
        other.hello()
        for _ in range(40):
            other.req(303)
            n = len(other.recv()["ok"]["clients"])
            if n == 1:
                print("dropped")
                return
            time.sleep(0.25)
        print("still there with %d clients" % n)
        return
    elif scen == "unread":
        # asks for session N's frames (pcap dump) or packets detail and
        # never reads a byte of it, until the file RELEASE exists
        print(show(c.hello()), flush=True)
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if sys.argv[4] == "frames":
            c.req(102, session=int(sys.argv[3]))
        else:
            c.req(101, session=int(sys.argv[3]), packets=True)
        print("asked", flush=True)
        deadline = time.time() + 120
        while not os.path.exists(sys.argv[5]) and time.time() < deadline:
            time.sleep(0.1)
        print("released")
        return
    elif scen == "midload":
        print(show(c.hello()))
        c.req(200, linktype=1, snaplen=65535, source="midload")
        print(show(c.recv()))
        c.req(201, frames=frame(20, 20, b"y" * 20))
        c.s.close()
        return
    elif scen == "ports":
        print(show(c.hello()))
        args = sys.argv[3:]
        c.req(300, interface=args[0], ports=[int(p) for p in args[1:]])
        print(show(c.recv()))
        return
    elif scen == "flood":
        # requests without ever reading a reply, until the daemon hangs up
        print(show(c.hello()))
        body = enc({"op": 100, "id": 7})
        msg = (struct.pack(">I", len(body)) + body) * 1000
        c.s.settimeout(30)
        sent = 0
        try:
            while sent < 200000:
                c.raw(msg)
                sent += 1000
            print("not disconnected after %d requests" % sent)
        except OSError:
            print("disconnected")
        return
    elif scen == "body":
        print(show(c.hello()))
        c.req(103, txn=int(sys.argv[3]), which=sys.argv[4])
        m = c.recv()
        if m is not None and "ok" in m:
            print("body %d" % len(m["ok"]["body"]))
        else:
            print(show(m))
        return
    elif scen == "portsop":
        print(show(c.hello()))
        c.req(302, ports=[int(p) for p in sys.argv[3:]])
        print(show(c.recv()))
        return
    elif scen == "many":
        # N connections that said hello, then one more: its first reply
        conns = [c] + [Conn(path) for _ in range(int(sys.argv[3]) - 1)]
        for k in conns:
            k.hello()
        extra = Conn(path)
        try:
            extra.req(1, version=1, client="rawclient")
        except OSError:
            pass
        print(show(extra.recv()))
        print(show(conns[0].hello()))
        return
    elif scen == "idle":
        # says hello, then nothing: what the daemon sends, then eof
        print(show(c.hello()))
        c.s.settimeout(60)
        print(show(c.recv()))
        print(show(c.recv()))
        return
    else:
        sys.exit("unknown scenario " + scen)
    print(show(c.recv()))
    print(show(c.recv()))


if __name__ == "__main__":
    main()
