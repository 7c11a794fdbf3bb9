#!/usr/bin/env python3
"""corpus.py: checks the engine (through tests/unit/drive) against
tshark's view of each real capture in the corpus: per TCP stream, the
requests (method, target) in order and the response statuses in order
(interim 1xx included) must be the same. Prints PASS/FAIL/SKIP lines.

    corpus.py DRIVE CORPUS_DIR
"""
import os
import subprocess
import sys


def tshark_view(tsv):
    reqs, resps = {}, {}
    with open(tsv) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            cols += [""] * (6 - len(cols))
            _, stream, methods, uris, codes, _ = cols[:6]
            conn = int(stream) + 1
            for m, u in zip(methods.split(), uris.split()):
                reqs.setdefault(conn, []).append((m, u))
            for c in codes.split():
                resps.setdefault(conn, []).append(c)
    return reqs, resps


def engine_view(drive, capture):
    out = subprocess.run([drive, "-v", capture], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("drive exited %d: %s" % (out.returncode,
                                                    out.stderr.strip()))
    reqs, resps = {}, {}
    for line in out.stdout.splitlines():
        if not line.startswith("txn\t"):
            continue
        _, _, conn, method, target, statuses, _, _ = line.split("\t")
        conn = int(conn)
        if method != "-":
            reqs.setdefault(conn, []).append((method, target))
        if statuses != "none":
            for c in statuses.split():
                if c != "0":
                    resps.setdefault(conn, []).append(c)
    return reqs, resps


def main():
    drive, corpus = sys.argv[1], sys.argv[2]
    tdir = os.path.join(corpus, "tshark")
    if not os.path.isdir(tdir):
        print("SKIP: corpus: no %s" % tdir)
        return 0
    for name in sorted(os.listdir(tdir)):
        if not name.endswith(".tsv"):
            continue
        capture = os.path.join(corpus, name[:-4])
        test = "corpus_" + name[:-4]
        if not os.path.exists(capture):
            print("SKIP: %s: capture missing" % test)
            continue
        want_req, want_resp = tshark_view(os.path.join(tdir, name))
        try:
            got_req, got_resp = engine_view(drive, capture)
        except Exception as e:  # noqa: BLE001 - reported as a failure
            print("FAIL: %s: %s" % (test, e))
            continue
        why = []
        for conn in sorted(set(want_req) | set(got_req)):
            if want_req.get(conn, []) != got_req.get(conn, []):
                why.append("conn %d requests %s != tshark %s" % (
                    conn, got_req.get(conn), want_req.get(conn)))
        for conn in sorted(set(want_resp)):
            got = got_resp.get(conn, [])
            # tshark may miss responses the engine recovers across a
            # capture hole; every status tshark saw must be ours, in order
            it = iter(got)
            if not all(c in it for c in want_resp[conn]):
                why.append("conn %d statuses %s != tshark %s" % (
                    conn, got, want_resp[conn]))
        if why:
            print("FAIL: %s: %s" % (test, "; ".join(why)[:400]))
        else:
            print("PASS: %s" % test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
