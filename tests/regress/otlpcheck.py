#!/usr/bin/env python3
# otlpcheck.py: what an OpenTelemetry collector's OTLP/HTTP receiver
# would refuse, checked without one (neither Debian nor npm ships a
# collector or Jaeger). Used by tests/regress/061-otlp.sh.
#
#   python3 otlpcheck.py validate FILE...
#       each file one ExportTraceServiceRequest in OTLP/JSON; prints
#       what breaks the protobuf-JSON mapping, exit 1 if anything does
#   python3 otlpcheck.py serve DIR [SECONDS [ADDRESS]]
#       an OTLP/HTTP receiver on ADDRESS (127.0.0.1, or ::1), a free
#       port written to DIR/port. POST /v1/traces: the body checked as
#       above, kept as DIR/req-N.json, its faults appended to
#       DIR/errors, answered 200 (400 with the faults if any). POST
#       /partial/N: the same, but a 200 that says N spans were
#       rejected (OTLP's partialSuccess). POST /status/N: answered N
#       with a body of bytes a terminal must not see raw. Stops after
#       SECONDS (default 120) or at SIGTERM.
#
# The checks follow the OTLP specification's JSON encoding: field names
# in lowerCamelCase, trace and span ids as hex (32 and 16 digits, not
# all zero), 64-bit integers (times, intValue) as decimal strings, enums
# (kind, status code) as integers, and no field the schema lacks.
import json
import os
import re
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

DIGITS = re.compile(r"^[0-9]+$")
INT = re.compile(r"^-?[0-9]+$")
HEX = re.compile(r"^[0-9a-f]+$")

REQUEST_KEYS = {"resourceSpans"}
RESOURCE_SPANS_KEYS = {"resource", "scopeSpans", "schemaUrl"}
RESOURCE_KEYS = {"attributes", "droppedAttributesCount"}
SCOPE_SPANS_KEYS = {"scope", "spans", "schemaUrl"}
SCOPE_KEYS = {"name", "version", "attributes", "droppedAttributesCount"}
SPAN_KEYS = {"traceId", "spanId", "traceState", "parentSpanId", "flags",
             "name", "kind", "startTimeUnixNano", "endTimeUnixNano",
             "attributes", "droppedAttributesCount", "events",
             "droppedEventsCount", "links", "droppedLinksCount", "status"}
EVENT_KEYS = {"timeUnixNano", "name", "attributes", "droppedAttributesCount"}
STATUS_KEYS = {"code", "message"}
VALUE_KEYS = {"stringValue", "boolValue", "intValue", "doubleValue",
              "arrayValue", "kvlistValue", "bytesValue"}


class Faults:
    def __init__(self):
        self.list = []

    def add(self, where, what):
        if len(self.list) < 50:
            self.list.append("%s: %s" % (where, what))

    def keys(self, o, allowed, where):
        if not isinstance(o, dict):
            self.add(where, "not an object")
            return False
        for k in set(o) - allowed:
            self.add(where, "unknown field %r" % k)
        return True


def check_id(f, v, digits, where):
    if not isinstance(v, str) or len(v) != digits or not HEX.match(v):
        f.add(where, "not %d lowercase hex digits: %r" % (digits, v))
    elif set(v) == {"0"}:
        f.add(where, "all zero")


def check_nanos(f, v, where):
    if not isinstance(v, str) or not DIGITS.match(v):
        f.add(where, "not a decimal string: %r" % (v,))
        return None
    return int(v)


def check_value(f, v, where):
    if not f.keys(v, VALUE_KEYS, where):
        return
    if len(v) != 1:
        f.add(where, "holds %d values, not one" % len(v))
        return
    (k, x), = v.items()
    ok = {"stringValue": isinstance(x, str),
          "boolValue": isinstance(x, bool),
          "intValue": isinstance(x, str) and INT.match(x) is not None,
          "doubleValue": isinstance(x, (int, float)) and
          not isinstance(x, bool),
          "bytesValue": isinstance(x, str)}.get(k)
    if k == "arrayValue":
        if f.keys(x, {"values"}, where + ".arrayValue"):
            for i, e in enumerate(x.get("values", [])):
                check_value(f, e, "%s.arrayValue[%d]" % (where, i))
        return
    if k == "kvlistValue":
        if f.keys(x, {"values"}, where + ".kvlistValue"):
            check_attrs(f, x.get("values", []), where + ".kvlistValue")
        return
    if not ok:
        f.add(where, "%s of the wrong type: %r" % (k, x))


def check_attrs(f, a, where):
    if not isinstance(a, list):
        f.add(where, "attributes not a list")
        return
    seen = set()
    for i, kv in enumerate(a):
        w = "%s[%d]" % (where, i)
        if not f.keys(kv, {"key", "value"}, w):
            continue
        k = kv.get("key")
        if not isinstance(k, str) or not k:
            f.add(w, "key not a non-empty string")
        elif k in seen:
            f.add(w, "key %r twice" % k)
        seen.add(k)
        check_value(f, kv.get("value"), "%s(%s)" % (w, k))


def check_span(f, s, where):
    if not f.keys(s, SPAN_KEYS, where):
        return
    check_id(f, s.get("traceId"), 32, where + ".traceId")
    check_id(f, s.get("spanId"), 16, where + ".spanId")
    if s.get("parentSpanId", "") != "":
        check_id(f, s["parentSpanId"], 16, where + ".parentSpanId")
    if not isinstance(s.get("name"), str) or not s["name"]:
        f.add(where, "name not a non-empty string")
    k = s.get("kind")
    if type(k) is not int or not 0 <= k <= 5:
        f.add(where, "kind not an integer 0..5: %r" % (k,))
    a = check_nanos(f, s.get("startTimeUnixNano"), where + ".start")
    b = check_nanos(f, s.get("endTimeUnixNano"), where + ".end")
    if a is not None and b is not None and b < a:
        f.add(where, "ends before it starts")
    check_attrs(f, s.get("attributes", []), where + ".attributes")
    for i, e in enumerate(s.get("events", [])):
        w = "%s.events[%d]" % (where, i)
        if f.keys(e, EVENT_KEYS, w):
            check_nanos(f, e.get("timeUnixNano"), w + ".time")
            if not isinstance(e.get("name"), str):
                f.add(w, "name not a string")
            check_attrs(f, e.get("attributes", []), w + ".attributes")
    st = s.get("status", {})
    if f.keys(st, STATUS_KEYS, where + ".status"):
        c = st.get("code", 0)
        if type(c) is not int or not 0 <= c <= 2:
            f.add(where + ".status", "code not an integer 0..2: %r" % (c,))
        if not isinstance(st.get("message", ""), str):
            f.add(where + ".status", "message not a string")


def check_request(f, req):
    if not f.keys(req, REQUEST_KEYS, "request"):
        return
    rs = req.get("resourceSpans")
    if not isinstance(rs, list) or not rs:
        f.add("request", "resourceSpans not a non-empty list")
        return
    for i, r in enumerate(rs):
        w = "resourceSpans[%d]" % i
        if not f.keys(r, RESOURCE_SPANS_KEYS, w):
            continue
        if f.keys(r.get("resource", {}), RESOURCE_KEYS, w + ".resource"):
            check_attrs(f, r.get("resource", {}).get("attributes", []),
                        w + ".resource.attributes")
        for j, ss in enumerate(r.get("scopeSpans", [])):
            w2 = "%s.scopeSpans[%d]" % (w, j)
            if not f.keys(ss, SCOPE_SPANS_KEYS, w2):
                continue
            if f.keys(ss.get("scope", {}), SCOPE_KEYS, w2 + ".scope"):
                check_attrs(f, ss.get("scope", {}).get("attributes", []),
                            w2 + ".scope.attributes")
            for k, s in enumerate(ss.get("spans", [])):
                check_span(f, s, "%s.spans[%d]" % (w2, k))


def parse(raw):
    """Strict: UTF-8, one JSON value, no NaN or Infinity."""
    def bad(c):
        raise ValueError("not JSON: %s" % c)
    return json.loads(raw.decode("utf-8"), parse_constant=bad)


def faults_of(raw):
    f = Faults()
    try:
        check_request(f, parse(raw))
    except ValueError as e:
        f.add("body", str(e))
    return f.list


def spans_of(req):
    """Every span of a request with its resource's attributes."""
    out = []
    for r in req["resourceSpans"]:
        for ss in r.get("scopeSpans", []):
            out.extend(ss.get("spans", []))
    return out


def attrs(o):
    """A span's attributes as a dict of plain values."""
    d = {}
    for kv in o.get("attributes", []):
        (k, v), = kv["value"].items()
        d[kv["key"]] = int(v) if k == "intValue" else v
    return d


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    count = 0

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if 0 < n <= 64 << 20 else b""
        d = self.server.dir
        if self.path.startswith("/status/"):
            self.reply(int(self.path[8:]), b"\x1b[31mcollector says no\xff\n",
                       "text/plain")
            return
        faults = []
        partial = self.path.startswith("/partial/")
        if self.path != "/v1/traces" and not partial:
            faults.append("path %r, not /v1/traces" % self.path)
        if self.headers.get("Content-Type") != "application/json":
            faults.append("Content-Type %r" % self.headers.get("Content-Type"))
        faults += faults_of(body)
        with Receiver.lock:
            Receiver.count += 1
            name = "%s/req-%03d.json" % (d, Receiver.count)
            with open(name, "wb") as out:
                out.write(body)
            if faults:
                with open(d + "/errors", "a") as out:
                    for x in faults:
                        out.write("%s: %s\n" % (os.path.basename(name), x))
        if faults:
            self.reply(400, json.dumps({"faults": faults}).encode())
        elif partial:
            self.reply(200, json.dumps({"partialSuccess": {
                "rejectedSpans": self.path[9:],
                "errorMessage": "spans too old\x1b"}}).encode())
        else:
            self.reply(200, b'{"partialSuccess":{}}')

    def log_message(self, *args):
        pass


class Server6(HTTPServer):
    address_family = socket.AF_INET6


def serve(d, seconds, addr):
    cls = Server6 if ":" in addr else HTTPServer
    srv = cls((addr, 0), Receiver)
    srv.dir = d
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    signal.signal(signal.SIGALRM, lambda *a: sys.exit(0))
    signal.alarm(seconds)
    with open(d + "/port.tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(d + "/port.tmp", d + "/port")
    srv.serve_forever()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "validate":
        bad = 0
        for name in sys.argv[2:]:
            with open(name, "rb") as f:
                for x in faults_of(f.read()):
                    print("%s: %s" % (name, x))
                    bad = 1
        return bad
    if 3 <= len(sys.argv) <= 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]) if len(sys.argv) >= 4 else 120,
              sys.argv[4] if len(sys.argv) == 5 else "127.0.0.1")
        return 0
    print(__doc__ if __doc__ else "usage: otlpcheck.py validate|serve ...",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
