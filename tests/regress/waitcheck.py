#!/usr/bin/env python3
# waitcheck.py: htracr's wait_us against tshark's http.time, for every
# transaction that is not pipelined. Used by 040-corpus.sh:
#
#	waitcheck.py NAME ANALYZE.json TSHARK.tsv CAPTURE
#
# wait_us runs from the request's last byte to the response's first.
# tshark's http.time runs from the frame completing the request to the
# frame completing the response: with reassembly on (the stored TSV) that
# is the response's last frame, so there the rule is
#
#	http.time == wait_us + receive_us
#
# and the two agree exactly when the response's first and last bytes came
# in frames of the same time. With reassembly off, tshark dissects the
# frame that holds the status line on its own and times that one: then
# http.time == wait_us. Where tshark cannot tie that frame to its request
# (a final response after 100 Continue), the stored http.time less the
# time from the status line's frame to the last, by tshark's frame times,
# must equal wait_us. Both checks are asserted, the second with tshark
# run here when it is installed. Prints PASS/FAIL/SKIP lines; the PASS
# lines carry the counts.
import json
import subprocess
import sys


def report(name, check, ok, why):
	if ok:
		print("PASS: %s/%s: %s" % (name, check, why))
	else:
		print("FAIL: %s/%s: %s" % (name, check, why))


def is_final(code):
	return not (100 <= code <= 199) or code == 101


def final(t):
	r = t.get("response") or {}
	return r.get("status") is not None and not t.get("pipelined")


# Stored rows: (frame completing the response, status, http.time in us).
def tsv_rows(path):
	rows = []
	with open(path, encoding="utf-8", errors="surrogateescape") as f:
		head = f.readline().rstrip("\n").split("\t")
		col = {k: i for i, k in enumerate(head)}
		for line in f:
			row = line.rstrip("\n").split("\t")
			row += [""] * (len(head) - len(row))
			codes = [int(c) for c in row[col["status_codes"]].split()]
			times = row[col["http_time"]].split()
			for i, c in enumerate(codes):
				if is_final(c) and len(times) == len(codes):
					rows.append((int(row[col["frame"]]), c,
					    round(float(times[i]) * 1e6)))
	return rows


# tshark run without reassembly: every frame's time, and (frame of the
# status line, status, http.time in us) for the responses it ties to a
# request.
def live_rows(capture):
	out = subprocess.run(["tshark", "-r", capture,
	    "-o", "tcp.desegment_tcp_streams:FALSE",
	    "-o", "http.desegment_body:FALSE", "-T", "fields",
	    "-e", "frame.number", "-e", "frame.time_epoch",
	    "-e", "http.response.code", "-e", "http.time"],
	    capture_output=True, text=True, timeout=120)
	if out.returncode != 0:
		raise RuntimeError(out.stderr.strip().splitlines()[-1:])
	rows, when = [], {}
	for line in out.stdout.splitlines():
		f = (line.split("\t") + ["", "", "", ""])[:4]
		when[int(f[0])] = round(float(f[1]) * 1e6)
		if f[3] and f[2] and is_final(int(f[2].split(",")[0])):
			rows.append((int(f[0]), int(f[2].split(",")[0]),
			    round(float(f[3]) * 1e6)))
	return rows, when


# Transactions by a frame of their response; several may share one.
def by_frame(txns, key):
	m = {}
	for t in txns:
		r = t.get("response") or {}
		if r.get(key) is not None:
			m.setdefault(r[key], []).append(t)
	return m


def take(m, frame, code):
	for t in m.get(frame, []):
		if t["response"].get("status") == code:
			m[frame].remove(t)
			return t
	return None


def check_tsv(name, txns, path):
	m = by_frame(txns, "last_frame")
	n = equal = 0
	why = ""
	for frame, code, dt in tsv_rows(path):
		t = take(m, frame, code)
		if t is None:
			why = why or "no %d response completed by frame %d" % (code, frame)
			continue
		if not final(t):
			continue
		tm = t["timings"]
		w, r = tm.get("wait_us"), tm.get("receive_us")
		n += 1
		if w == dt:
			equal += 1
		if w is None or r is None or w + r != dt:
			why = why or ("frame %d: wait_us %s + receive_us %s, tshark "
			    "http.time %d" % (frame, w, r, dt))
		elif w != dt and t["response"]["first_frame"] == frame:
			why = why or ("frame %d: one-frame response, wait_us %d, "
			    "http.time %d" % (frame, w, dt))
	report(name, "wait_tsv", not why, why or "%d compared: wait_us + "
	    "receive_us == http.time for all, wait_us == http.time for %d "
	    "(the rest end in a later frame than they start)" % (n, equal))
	return n, equal


def check_live(name, txns, capture, stored):
	try:
		rows, when = live_rows(capture)
	except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
		print("SKIP: %s/wait_us: tshark: %s" % (name, e))
		return 0, 0
	m = by_frame(txns, "first_frame")
	n = equal = 0
	why = ""
	for frame, code, dt in rows:
		t = take(m, frame, code)
		if t is None:
			why = why or "no %d response starting in frame %d" % (code, frame)
			continue
		if not final(t):
			continue
		n += 1
		w = t["timings"].get("wait_us")
		if w == dt:
			equal += 1
		else:
			why = why or "frame %d: wait_us %s, tshark http.time %d" % (
			    frame, w, dt)
	# A response tshark times only reassembled (after a 100 Continue):
	# its http.time less the time from the status line's frame to the
	# last one, both as tshark reads them.
	late = by_frame([t for ts in m.values() for t in ts], "last_frame")
	for frame, code, dt in stored:
		t = take(late, frame, code)
		if t is None or not final(t):
			continue
		first = t["response"]["first_frame"]
		n += 1
		w = t["timings"].get("wait_us")
		if first in when and frame in when and \
		    w == dt - (when[frame] - when[first]):
			equal += 1
		else:
			why = why or ("frame %d: wait_us %s, tshark http.time %d "
			    "from frame %d" % (frame, w, dt, first))
	report(name, "wait_us", not why and n > 0, why or "%d of %d equal "
	    "tshark's http.time to the frame with the status line" % (equal, n))
	return n, equal


def main():
	name, jpath, tpath, capture = sys.argv[1:5]
	with open(jpath, "rb") as f:
		d = json.loads(f.read().decode("utf-8", "surrogateescape"))
	txns = d.get("transactions", [])
	n1, e1 = check_tsv(name, txns, tpath)
	if subprocess.run(["sh", "-c", "command -v tshark"],
	    capture_output=True).returncode != 0:
		print("SKIP: %s/wait_us: no tshark" % name)
		n2 = e2 = 0
	else:
		n2, e2 = check_live(name, txns, capture, tsv_rows(tpath))
	print("# %s: wait_us: stored http.time %d compared, %d equal; to the "
	    "status line's frame %d compared, %d equal" % (name, n1, e1, n2,
	    e2))
	return 0


if __name__ == "__main__":
	sys.exit(main())
