# oracle.py: what the regress tests' comparisons with tshark share
# (tlscheck.py, tlscrypt.py, h2check.py): one PASS/FAIL line per check
# under the test's name, the strict reading of htracr's JSON, and the
# rows of a "tshark -T fields" file.
import json

name = ""
fails = 0


def begin(test):
    """Names the lines report() prints after this."""
    global name, fails
    name = test
    fails = 0


def report(check, ok, why=""):
    global fails
    if ok:
        print("PASS: %s/%s" % (name, check))
    else:
        fails += 1
        print("FAIL: %s/%s: %s" % (name, check, why))


def load(path):
    # Strict: the document must be valid UTF-8 JSON whatever the capture
    # held.
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def split(s):
    """A tshark field of several values: the non-empty ones."""
    return [x for x in s.split("|") if x != ""] if s else []


def rows(path, n):
    """Each line of tshark's tab-separated fields, padded to n fields.
    Bytes that are not UTF-8 pass through unchanged."""
    with open(path, errors="surrogateescape") as f:
        for line in f:
            r = line.rstrip("\n").split("\t")
            yield r + [""] * (n - len(r))
