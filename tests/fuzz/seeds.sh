#!/bin/sh
# Writes seed inputs for the fuzz targets: for fuzz_engine, the frames of
# the small real captures in the shared corpus and of tests/fuzz/h2c.pcap
# (HTTP/2 in clear from 055-h2c: prior knowledge with nghttp's PRIORITY
# frames and a POST, Upgrade: h2c ended by GOAWAY) in the target's input
# format, whole and one TCP connection at a time (as frames and as the
# target's segments), and hand-made conversations; for fuzz_proto, a few
# valid requests; for fuzz_ipc, the link's messages both ways, with
# frames batches of the corpus captures. FUZZ_PCAPS names a directory
# of more captures (pcap or pcapng, Ethernet) to read, such as those
# the regress tests write with T_KEEP=1.
#   seeds.sh ENGINE_DIR PROTO_DIR [IPC_DIR]
engine=$1
proto=$2
ipc=${3:-}
mkdir -p "$engine" "$proto" ${ipc:+"$ipc"}
corpus=$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || exit 0
python3 - "$engine" "$proto" "$corpus" "$here" "$ipc" "${FUZZ_PCAPS:-}" <<'PY'
import glob, os, struct, sys
engine, proto, corpus, here, ipc, more = sys.argv[1:7]

def frames_pcapng(f):
    # Enhanced packet blocks of Ethernet interfaces; a section header
    # says the byte order of what follows.
    e, links = "<", []
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return
        if hdr[:4] == b"\x0a\x0d\x0d\x0a":
            body = f.read(4)
            e = "<" if body == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
            size = struct.unpack(e + "I", hdr[4:8])[0]
            body += f.read(size - 12)
        else:
            size = struct.unpack(e + "I", hdr[4:8])[0]
            if size < 12:
                return
            body = f.read(size - 8)
        btype = struct.unpack(e + "I", hdr[:4])[0]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, incl = struct.unpack(e + "IIII", body[:16])
            if iface < len(links) and links[iface] == 1:
                yield body[20:20 + incl]

def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        if hdr[:4] == b"\x0a\x0d\x0d\x0a":
            f.seek(0)
            yield from frames_pcapng(f)
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = ">"
        else:
            return
        if struct.unpack(e + "I", hdr[20:24])[0] != 1:
            return      # only Ethernet captures
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            incl = struct.unpack(e + "I", rec[8:12])[0]
            yield f.read(incl)

def tcp_of(fr):
    """(source, destination, flags, payload) of a TCP frame, or None."""
    if len(fr) < 14:
        return None
    t, p = fr[12:14], fr[14:]
    if t == b"\x08\x00" and len(p) >= 20 and p[9] == 6:
        hl, end = (p[0] & 15) * 4, struct.unpack(">H", p[2:4])[0]
        src, dst = p[12:16], p[16:20]
    elif t == b"\x86\xdd" and len(p) >= 40 and p[6] == 6:
        hl, end = 40, 40 + struct.unpack(">H", p[4:6])[0]
        src, dst = p[8:24], p[24:40]
    else:
        return None
    tcp = p[hl:end]
    if len(tcp) < 20:
        return None
    off = (tcp[12] >> 4) * 4
    return (src + tcp[0:2], dst + tcp[2:4], tcp[13], tcp[off:])

def raw_input(frs):
    out = bytearray()
    for fr in frs:
        fr = fr[:1020]
        fr += b"\0" * (-len(fr) % 4)
        out += bytes([0, len(fr) // 4]) + fr   # link 0: Ethernet
        if len(out) > 60000:
            break
    return bytes(out)

def connections(path):
    """Each TCP connection's frames, and its payloads each way in
    order, the client being the side of the first SYN seen."""
    conns = {}
    for fr in frames(path):
        t = tcp_of(fr)
        if t is None:
            continue
        key = tuple(sorted((t[0], t[1])))
        c = conns.setdefault(key, {"frames": [], "client": None, "data": []})
        c["frames"].append(fr)
        if c["client"] is None and t[2] & 0x12 == 0x02:
            c["client"] = t[0]
        if t[3]:
            c["data"].append((t[0], t[3]))
    for c in conns.values():
        client = c["client"] or (c["data"][0][0] if c["data"] else None)
        c["data"] = [(src == client, b) for src, b in c["data"]]
        yield c

pcaps = (glob.glob(os.path.join(corpus, "*.pcap")) +
    glob.glob(os.path.join(corpus, "*.pcapng")) +
    glob.glob(os.path.join(here, "*.pcap")))
if more:
    pcaps += (glob.glob(os.path.join(more, "*.pcap")) +
        glob.glob(os.path.join(more, "*.pcapng")))
for path in pcaps:
    with open(os.path.join(engine, os.path.basename(path)), "wb") as f:
        f.write(raw_input(frames(path)))

def seg(c2s, payload, ctl=0, flags=0x18):
    out = bytearray()
    for i in range(0, len(payload), 1020):
        part = payload[i:i + 1020]
        part += b" " * (-len(part) % 4)
        out += bytes([(1 if c2s else 0) | ctl, flags, len(part) // 4]) + part
    return bytes(out)

convs = {
    "seg_get": [(1, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
                (0, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd")],
    "seg_chunked": [(1, b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"),
                    (0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n")],
    "seg_upgrade": [(1, b"GET /w HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n"),
                    (0, b"HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\nxx")],
    "seg_gzip": [(1, b"HEAD / HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n"),
                 (0, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 23\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00")],
}
# TLS: a ClientHello with SNI and ALPN, a TLS 1.3 ServerHello, CCS and
# protected records; each side padded to a multiple of 4 with a record.
def rec(t, b):
    return bytes([t, 3, 3, len(b) >> 8, len(b) & 255]) + b

def vec(n, b):
    return len(b).to_bytes(n, "big") + b

def pad4(b):
    k = ((-len(b)) % 4 - 5) % 4
    return b + rec(23, b"\0" * k) if len(b) % 4 else b

exts = (b"\0\0" + vec(2, vec(2, b"\0" + vec(2, b"tls.example")))
    + b"\0\x10" + vec(2, vec(2, b"\x02h2\x08http/1.1"))
    + b"\0\x2b" + vec(2, vec(1, b"\x03\x04\x03\x03")))
ch = b"\x03\x03" + b"\x11" * 32 + vec(1, b"") + vec(2, b"\x13\x01") + b"\x01\0" + vec(2, exts)
sh = (b"\x03\x03" + b"\x22" * 32 + vec(1, b"") + b"\x13\x01\0"
    + vec(2, b"\0\x2b\0\x02\x03\x04"))
convs["seg_tls"] = [
    (1, pad4(rec(22, b"\x01" + vec(3, ch)))),
    (0, pad4(rec(22, b"\x02" + vec(3, sh)) + rec(20, b"\x01") + rec(23, b"\xaa" * 40))),
    (1, pad4(rec(20, b"\x01") + rec(23, b"\xbb" * 20))),
]
# HTTP/2 with prior knowledge: the preface, SETTINGS, two requests whose
# second names :authority by the HPACK table entry the first added, a
# CONTINUATION, DATA, a PING and its ack, RST_STREAM; each side padded to
# a multiple of 4 with a frame of an unknown type, which is skipped.
def frame(t, fl, sid, b):
    return len(b).to_bytes(3, "big") + bytes([t, fl]) + sid.to_bytes(4, "big") + b

def pad_h2(b):
    k = (-(len(b) + 9)) % 4
    return b + frame(0xfa, 0, 0, b"\0" * k)

auth = b"\x41\x0ah2.example"
convs["seg_h2c"] = [
    (1, pad_h2(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"")
        + frame(1, 0x05, 1, b"\x82\x86\x84" + auth)
        + frame(1, 0x00, 3, b"\x83\x86") + frame(9, 0x04, 3, b"\x84\xbe")
        + frame(0, 0x01, 3, b"a=1"))),
    (0, pad_h2(frame(4, 0, 0, b"\0\x03\0\0\0\x64") + frame(4, 1, 0, b"")
        + frame(1, 0x04, 1, b"\x88") + frame(0, 0x01, 1, b"hello")
        + frame(6, 0, 0, b"12345678") + frame(3, 0, 3, b"\0\0\0\x08"))),
    (1, pad_h2(frame(6, 1, 0, b"12345678") + frame(8, 0, 0, b"\0\0\x01\0"))),
]
# One connection of each capture, up to 16 per capture: its frames
# alone, and its payloads as the target's segments (a run of payloads
# the same way joined, and padded with spaces only at its end).
for path in pcaps:
    base = os.path.basename(path)
    for i, c in enumerate(connections(path)):
        if i == 16 or not c["data"]:
            break
        with open(os.path.join(engine, "conn%d_%s" % (i, base)), "wb") as f:
            f.write(raw_input(c["frames"]))
        runs = []
        for c2s, b in c["data"]:
            if runs and runs[-1][0] == c2s:
                runs[-1][1] += b
            else:
                runs.append([c2s, bytearray(b)])
        convs["seg%d_%s" % (i, base)] = [(d, bytes(b)[:60000]) for d, b in runs]
for name, parts in convs.items():
    data = b"\x02" + b"".join(seg(c, p) for c, p in parts)
    data = data[:65536]
    with open(os.path.join(engine, name), "wb") as f:
        f.write(data)

def s(x):
    b = x.encode()
    return bytes([0xa0 | len(b)]) + b

seeds = {
    "hello": b"\x84" + s("op") + b"\x01" + s("id") + b"\x01" + s("version")
        + b"\x01" + s("client") + s("htracrctl 0.1"),
    "detail": b"\x84" + s("op") + b"\xcc\x65" + s("id") + b"\x02"
        + s("session") + b"\x00" + s("packets") + b"\xc3",
    "start": b"\x84" + s("op") + b"\xcd\x01\x2c" + s("id") + b"\x03"
        + s("interface") + s("any") + s("ports") + b"\x92\x50\xcd\x1f\x90",
    "load": b"\x83" + s("op") + b"\xcc\xc9" + s("id") + b"\x04"
        + s("frames") + b"\xc4\x04abcd",
}
for name, data in seeds.items():
    with open(os.path.join(proto, name), "wb") as f:
        f.write(data)

# fuzz_ipc: [view and read size] then, for the analyzer's view, the
# length of the shared ring's bytes and those bytes; then messages, host
# byte order: a header (type, length) and the payload (daemon/ipc.h).
if not ipc:
    sys.exit(0)

def msg(t, payload=b""):
    return struct.pack("=II", t, len(payload)) + payload

def ports(*p):
    return struct.pack("=I", len(p)) + struct.pack("=64H", *(p + (0,) * (64 - len(p))))

stats = struct.pack("=QQQQ", 3, 0, 1, 1000)
failed = struct.pack("=i", 7) + b"no such interface".ljust(256, b"\0")
cmds = {
    "cmd_start": msg(1, b"veth0".ljust(16, b"\0") + ports(80, 8080)) + msg(4),
    "cmd_start_any": msg(1, b"any".ljust(16, b"\0") + ports(*range(1, 65))),
    "cmd_ports_stop": msg(2, ports(443)) + msg(3),
}
for name, data in cmds.items():
    for view in (1, 3):
        with open(os.path.join(ipc, "%s_%d" % (name, view)), "wb") as f:
            f.write(bytes([view]) + data)
replies = (msg(100, struct.pack("=iI", 1, 262144)) + msg(102) + msg(104, stats)
    + msg(101, failed) + msg(103, stats) + msg(106))
with open(os.path.join(ipc, "replies"), "wb") as f:
    f.write(b"\0" + struct.pack("=I", 0) + replies)
for path in sorted(glob.glob(os.path.join(corpus, "*.pcap")))[:8]:
    batch = bytearray()
    for i, fr in enumerate(frames(path)):
        batch += struct.pack("=QII", 1700000000000000 + i * 1000, len(fr), len(fr)) + fr
        if len(batch) > 60000:
            break
    data = (msg(100, struct.pack("=iI", 1, 262144))
        + msg(107, struct.pack("=QQ", 0, len(batch))) + msg(103, stats))
    with open(os.path.join(ipc, "frames_" + os.path.basename(path)), "wb") as f:
        f.write(b"\x02" + struct.pack("=I", len(batch)) + bytes(batch) + data)
PY
