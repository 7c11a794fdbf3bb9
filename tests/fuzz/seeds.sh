#!/bin/sh
# Writes seed inputs for the fuzz targets: for fuzz_engine, the frames of
# the small real captures in the shared corpus and of tests/fuzz/h2c.pcap
# (HTTP/2 in clear from 055-h2c: prior knowledge with nghttp's PRIORITY
# frames and a POST, Upgrade: h2c ended by GOAWAY) in the target's input
# format, and hand-made conversations; for fuzz_proto, a few valid
# requests; for fuzz_ipc, the link's messages both ways, with frames
# batches of the corpus captures.
#   seeds.sh ENGINE_DIR PROTO_DIR [IPC_DIR]
engine=$1
proto=$2
ipc=${3:-}
mkdir -p "$engine" "$proto" ${ipc:+"$ipc"}
corpus=$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || exit 0
python3 - "$engine" "$proto" "$corpus" "$here" "$ipc" <<'PY'
import glob, os, struct, sys
engine, proto, corpus, here, ipc = sys.argv[1:6]

def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = ">"
        else:
            return      # pcapng: skipped
        if struct.unpack(e + "I", hdr[20:24])[0] != 1:
            return      # only Ethernet captures
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            incl = struct.unpack(e + "I", rec[8:12])[0]
            yield f.read(incl)

for path in (glob.glob(os.path.join(corpus, "*.pcap")) +
             glob.glob(os.path.join(here, "*.pcap"))):
    out = bytearray()
    for fr in frames(path):
        fr = fr[:1020]
        fr += b"\0" * (-len(fr) % 4)
        out += bytes([0, len(fr) // 4]) + fr   # link 0: Ethernet
        if len(out) > 60000:
            break
    with open(os.path.join(engine, os.path.basename(path)), "wb") as f:
        f.write(out)

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
for name, parts in convs.items():
    data = b"\x02" + b"".join(seg(c, p) for c, p in parts)
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

# fuzz_ipc: [view and read size] then messages, host byte order: a
# header (type, length) and the payload (daemon/ipc.h).
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
    f.write(b"\0" + replies)
for path in sorted(glob.glob(os.path.join(corpus, "*.pcap")))[:8]:
    batch = bytearray()
    for i, fr in enumerate(frames(path)):
        batch += struct.pack("=QII", 1700000000000000 + i * 1000, len(fr), len(fr)) + fr
        if len(batch) > 60000:
            break
    data = msg(100, struct.pack("=iI", 1, 262144)) + msg(105, bytes(batch)) + msg(103, stats)
    with open(os.path.join(ipc, "frames_" + os.path.basename(path)), "wb") as f:
        f.write(b"\x02" + data)
PY
