#!/usr/bin/env python3
# bigload.py: the checks of tests/regress/bigload.sh that read JSON.
#
#   python3 bigload.py ordinary NDJSON TSV
#
# ordinary: the transactions in NDJSON (htracrctl dump --format ndjson),
# in the order their requests began, against curl's log in TSV (round,
# method, path, status, body size per line): each must have the same
# method, path, status and response body size, with both messages
# whole. Prints "ok N", or the first difference.
import json
import sys


def ordinary(npath, tpath):
    got = []
    for line in open(npath, encoding="utf-8", errors="surrogateescape"):
        t = json.loads(line)
        q, r = t["request"], t.get("response") or {}
        got.append((q.get("start_us") or 0, t["connection"], t["index"],
                    q.get("method"), q.get("target"), str(r.get("status")),
                    str(r.get("body_bytes")),
                    bool(q.get("complete") and r.get("complete"))))
    got.sort()
    got = [g[3:] for g in got]
    want = []
    for line in open(tpath):
        f = line.rstrip("\n").split("\t")
        want.append((f[1], f[2], f[3], f[4], True))
    if len(want) == 0:
        print("curl logged no request")
        return
    if got == want:
        print("ok %d" % len(want))
        return
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g != w:
            print("request %d of %d: curl %s, htracr %s (%d recorded)"
                  % (i + 1, len(want), w, g, len(got)))
            return


if sys.argv[1] == "ordinary":
    ordinary(sys.argv[2], sys.argv[3])
