"""summary.py OUT PCAP META [TLS]: the one table of `make bench`
(bench.sh), from the figures bench.sh and live.sh left in OUT; TLS is
the TLS capture (its key log TLS.keys, its ground truth TLS.meta.txt).
Markdown on stdout."""
import json
import os
import re
import struct
import sys

out, pcap, meta = sys.argv[1:4]
tls = sys.argv[4] if len(sys.argv) > 4 else None
MIB = 1024.0 * 1024.0


def path(name):
	return os.path.join(out, name)


def items(doc, key):
	"""The values of top-level array `key`, one at a time."""
	dec = json.JSONDecoder()
	ws = re.compile(r"[ \t\n\r]*")
	pos = ws.match(doc, 0).end()
	assert doc[pos] == "{"
	pos = ws.match(doc, pos + 1).end()
	while doc[pos] != "}":
		k, pos = dec.raw_decode(doc, pos)
		pos = ws.match(doc, pos).end()
		assert doc[pos] == ":"
		pos = ws.match(doc, pos + 1).end()
		if k == key and doc[pos] == "[":
			pos = ws.match(doc, pos + 1).end()
			while doc[pos] != "]":
				v, pos = dec.raw_decode(doc, pos)
				yield v
				pos = ws.match(doc, pos).end()
				if doc[pos] == ",":
					pos = ws.match(doc, pos + 1).end()
			return
		_, pos = dec.raw_decode(doc, pos)
		pos = ws.match(doc, pos).end()
		if doc[pos] == ",":
			pos = ws.match(doc, pos + 1).end()


def counts(name="analyze.json"):
	"""requests, whole responses, cut responses, connections, retransmits."""
	with open(path(name), "rb") as f:
		doc = f.read().decode("utf-8", "surrogateescape")
	# tshark counts a response once it is whole: so do these.
	req = resp = cut = 0
	for t in items(doc, "transactions"):
		req += 1
		r = t.get("response")
		if r is not None and r.get("status") is not None:
			if r.get("complete"):
				resp += 1
			else:
				cut += 1
	conns = retrans = 0
	for c in items(doc, "connections"):
		conns += 1
		for d in ("c2s", "s2c"):
			retrans += (c.get(d) or {}).get("retransmits") or 0
	return req, resp, cut, conns, retrans


def truth():
	text = open(meta, errors="replace").read()
	t = {}
	for key, pat in (("requests", r"http requests\s*:\s*(\d+)"),
	    ("responses", r"http responses\s*:\s*(\d+)"),
	    ("connections", r"tcp SYNs \(connections\):\s*(\d+)"),
	    ("packets", r"naive_parse: (\d+) pkts")):
		m = re.search(pat, text)
		t[key] = int(m.group(1)) if m else None
	return t


def frame_bytes():
	"""The captured bytes of every frame of a classic pcap file."""
	total = 0
	with open(pcap, "rb") as f:
		magic = f.read(24)[:4]
		if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
			fmt = "<IIII"
		elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
			fmt = ">IIII"
		else:
			return None
		while True:
			h = f.read(16)
			if len(h) < 16:
				return total
			caplen = struct.unpack(fmt, h)[2]
			total += caplen
			f.seek(caplen, 1)


def hyperfine(name):
	"""Per command: (best, mean, mean user + system CPU) seconds."""
	try:
		with open(path(name)) as f:
			res = json.load(f)["results"]
	except (OSError, ValueError):
		return {}
	return {r["command"]: (min(r["times"]), r["mean"],
	    (r.get("user") or 0) + (r.get("system") or 0)) for r in res}


def keyed(name):
	d = {}
	try:
		for line in open(path(name)):
			k, _, v = line.rstrip("\n").partition(" ")
			d[k] = v
	except OSError:
		pass
	return d


def num(s):
	try:
		return float(s)
	except (TypeError, ValueError):
		return None


ROWS = []


def row(part, what, figure, against="", ratio=""):
	ROWS.append((part, what, figure, against, ratio))


def secs(t):
	return "%.3f s" % t if t is not None else "?"


def offline(tr, got):
	hf = hyperfine("hyperfine.json")
	rss = keyed("rss.txt")
	ts = hf.get("tshark -z http,tree")
	nv = hf.get("naive_parse --dedup")
	rd = hf.get("pcap_read")
	for name, key in (("htracrctl analyze", "htracr"),
	    ("htracrctl analyze --json", "htracr_json")):
		h = hf.get(name)
		if h is None:
			continue
		row("offline", "`%s`: wall, best (mean)" % name,
		    "%s (%s)" % (secs(h[0]), secs(h[1])))
		if ts:
			row("offline", "  vs `tshark -q -z http,tree`", secs(h[0]),
			    "%s (%s)" % (secs(ts[0]), secs(ts[1])),
			    "**%.1fx faster**" % (ts[0] / h[0]))
		if nv:
			row("offline", "  vs `naive_parse --dedup` (parse floor)", secs(h[0]),
			    "%s (%s)" % (secs(nv[0]), secs(nv[1])),
			    "**%.2fx the floor**" % (h[0] / nv[0]))
		if rd:
			row("offline", "  vs `pcap_read` (I/O floor)", secs(h[0]),
			    "%s (%s)" % (secs(rd[0]), secs(rd[1])),
			    "%.2fx the floor" % (h[0] / rd[0]))
		r, t = num(rss.get(key)), num(rss.get("tshark"))
		if r:
			row("offline", "  peak RSS, largest process of its tree",
			    "%.1f MiB" % (r / 1024),
			    "tshark %.1f MiB" % (t / 1024) if t else "",
			    "%.1fx less" % (t / r) if t else "")
	req, resp, cut, conns, retrans = got
	for k, v in (("requests", req), ("responses", resp), ("connections", conns)):
		row("offline", "%s counted" % k, "%d" % v,
		    "%s in bench.pcap.meta.txt" % tr[k],
		    "equal" if tr[k] == v else "**differs**")
	row("offline", "responses cut short by the capture's end", "%d" % cut)
	row("offline", "retransmitted segments", "%d" % retrans)


def tls_truth():
	"""What the clients of tls_pcap.sh made, from TLS.meta.txt."""
	t = {}
	try:
		text = open(tls + ".meta.txt", errors="replace").read()
	except (OSError, TypeError):
		return None
	for key in ("requests", "responses", "connections"):
		m = re.search(r"^client %s: (\d+)" % key, text, re.M)
		t[key] = int(m.group(1)) if m else None
	return t


def tls_records():
	"""Records decrypted and failed, and the bytes of those decrypted."""
	with open(path("tls.json"), "rb") as f:
		doc = f.read().decode("utf-8", "surrogateescape")
	dec = failed = nbytes = 0
	for c in items(doc, "connections"):
		t = c.get("tls") or {}
		dec += t.get("records_decrypted") or 0
		failed += t.get("records_failed") or 0
		for d in ("c2s", "s2c"):
			# TLS 1.3 protects everything after the ServerHello as
			# application data records.
			nbytes += (t.get(d) or {}).get("application_bytes") or 0
	return dec, failed, nbytes


def callgrind():
	"""Instructions (self costs): the whole run, decryption (libcrypto
	and tlscrypt.c) and HTTP/2 (libnghttp2 and h2*.c)."""
	got = {"total": None, "crypto": 0, "h2": 0}
	try:
		lines = open(path("tls.callgrind.txt"), errors="replace").readlines()
	except OSError:
		return None
	for l in lines:
		m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", l)
		if not m:
			continue
		n = int(m.group(1).replace(",", ""))
		what = m.group(2)
		if what.startswith("PROGRAM TOTALS"):
			got["total"] = n
			continue
		obj = re.search(r"\[([^]]*)\]\s*$", what)
		obj = os.path.basename(obj.group(1)) if obj else ""
		src = os.path.basename(what.split(":", 1)[0])
		if obj.startswith("libcrypto") or src == "tlscrypt.c":
			got["crypto"] += n
		elif obj.startswith("libnghttp2") or re.match(r"h2\w*\.c$", src):
			got["h2"] += n
	return got if got["total"] else None


def perf_share():
	"""htracrd's samples in all and in libcrypto, from tls.perf.txt."""
	allp = crypto = 0.0
	try:
		lines = open(path("tls.perf.txt"), errors="replace").readlines()
	except OSError:
		return None
	for l in lines:
		m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\S+)", l)
		if m and m.group(2) == "htracrd":
			allp += float(m.group(1))
			if m.group(3).startswith("libcrypto"):
				crypto += float(m.group(1))
	return (allp, crypto) if allp > 0 else None


def cpu_ms(name):
	"""The mean task-clock (ms) perf stat -x, wrote to OUT/name."""
	try:
		for l in open(path(name), errors="replace"):
			f = l.strip().split(",")
			if len(f) > 2 and f[2].startswith("task-clock"):
				return float(f[0])
	except (OSError, ValueError):
		pass
	return None


def gcm_rates():
	"""libcrypto's AES-128-GCM decryption in bytes per second of CPU
	time, by record size, from openssl speed -mr in tls.gcm."""
	sizes = rates = None
	try:
		for l in open(path("tls.gcm"), errors="replace"):
			f = l.strip().split(":")
			if f[0] == "+H":
				sizes = [int(x) for x in f[1:]]
			elif f[0] == "+F" and len(f) > 3:
				rates = [float(x) for x in f[3:]]
	except (OSError, ValueError):
		return None
	return dict(zip(sizes, rates)) if sizes and rates else None


def tls_floor(nbytes, ct):
	"""Decryption alone at libcrypto's best rate (16 KB records; the
	capture's smaller records go slower) against what the two targets
	leave it: a third of the analyzer's time, within tshark's CPU / 20."""
	g = gcm_rates()
	if not g or 16384 not in g or not ct:
		return
	floor = 1000.0 * nbytes / g[16384]
	third = ct / 20.0 / 3.0
	row("tls", "  floor: its records decrypted alone at libcrypto's best "
	    "rate (openssl speed, AES-128-GCM, 16 KB: %.2f GB/s)" %
	    (g[16384] / 1e9), "%.1f ms" % floor,
	    "a third of tshark's CPU / 20: %.1f ms" % third,
	    "**the two targets cannot both hold**" if floor > third else
	    "both can hold")
	row("tls", "  the most that leaves decryption a third of the "
	    "analyzer's CPU", "%.1fx" % (ct / (3.0 * floor)),
	    "with nothing else costing anything", "")


TLS_SAME = [True]


def tls_part():
	try:
		got = counts("tls.json")
	except OSError:
		row("tls", "not measured (BENCH_TLS=0)", "")
		return
	name = os.path.basename(tls)
	tr = tls_truth() or {}
	hf = hyperfine("tls-hyperfine.json")
	h = hf.get("htracrctl analyze --keylog")
	ts = hf.get("tshark -z http2,tree")
	dec, failed, nbytes = tls_records()
	if h:
		row("tls", "`htracrctl analyze --keylog`: wall, best (mean)",
		    "%s (%s)" % (secs(h[0]), secs(h[1])),
		    "%s, %.1f MiB, TLS 1.3, h2" % (name,
		    os.path.getsize(tls) / MIB))
		if ts:
			row("tls", "  vs `tshark -o tls.keylog_file:... -q -z http2,tree`",
			    secs(h[0]), "%s (%s)" % (secs(ts[0]), secs(ts[1])),
			    "**%.1fx faster**" % (ts[0] / h[0]))
		ca, ct = cpu_ms("tls.cpu.analyze"), cpu_ms("tls.cpu.tshark")
		if ca and ct:
			row("tls", "  CPU time, all its processes (perf stat, mean of 3)",
			    "%.0f ms" % ca, "tshark %.0f ms" % ct,
			    "**%.1fx less**" % (ct / ca))
		tls_floor(nbytes, ct)
		row("tls", "  decrypted, per second of its wall time",
		    "**%.0f MiB/s**" % (nbytes / MIB / h[0]),
		    "%.1f MiB in %d records" % (nbytes / MIB, dec))
	row("tls", "records that did not authenticate", "%d" % failed, "",
	    "" if failed == 0 else "**not 0**")
	req, resp, cut, conns, retrans = got
	for k, v in (("requests", req), ("responses", resp),
	    ("connections", conns)):
		same = tr.get(k) == v
		TLS_SAME[0] = TLS_SAME[0] and same
		row("tls", "%s counted" % k, "%d" % v,
		    "%s made by the clients" % tr.get(k),
		    "equal" if same else "**differs**")
	ps = perf_share()
	if ps:
		row("tls", "decryption's share of the analyzer's CPU time "
		    "(perf, libcrypto in htracrd)", "**%.1f %%**" %
		    (100.0 * ps[1] / ps[0]), "%.1f %% of %.1f %% of all samples" %
		    (ps[1], ps[0]), "target < 33 %")
	cg = callgrind()
	if cg:
		row("tls", "decryption's share of the instructions (callgrind, "
		    "`drive -K`: libcrypto and tlscrypt.c)", "%.1f %%" %
		    (100.0 * cg["crypto"] / cg["total"]), "%.0fM of %.0fM" %
		    (cg["crypto"] / 1e6, cg["total"] / 1e6))
		row("tls", "  HTTP/2's (libnghttp2 and h2*.c)", "%.1f %%" %
		    (100.0 * cg["h2"] / cg["total"]), "%.0fM" % (cg["h2"] / 1e6))


def loaded(name):
	"""The summary and the analyzer's peak RSS (bytes) of one load."""
	try:
		s = json.load(open(path("load.%s.json" % name)))
		hwm = num(open(path("analyzer.%s.hwm" % name)).read().strip())
	except (OSError, ValueError):
		return None, None
	return s, hwm * 1024 if hwm is not None else None


def memory():
	frames = frame_bytes()
	for name, what in (("bodies", "64 KiB of each body kept (the default)"),
	    ("nobody", "no bodies kept (--body-kib 0)")):
		s, hwm = loaded(name)
		if s is None or hwm is None:
			row("memory", "%s: not measured" % what, "?")
			continue
		c = s.get("counters") or {}
		ev = c.get("evicted_frames") or 0
		row("memory", "analyzer peak RSS, whole capture loaded, %s" % what,
		    "%.1f MiB" % (hwm / MIB),
		    "session counts %.1f MiB" % ((c.get("memory_used") or 0) / MIB))
		if frames is None or not s.get("frames_kept"):
			row("memory", "  raw frames", "? (not a classic pcap file)")
			continue
		beyond = hwm - frames
		row("memory", "  beyond the %.1f MiB of raw frames" % (frames / MIB),
		    "**%.1f MiB**" % (beyond / MIB),
		    "%s; target 64 MiB" % ("%d frames evicted" % ev if ev else
		    "none evicted"))
		for k in ("connections", "transactions"):
			n = s.get(k) or 0
			if n:
				row("memory", "    per %s" % k[:-1],
				    "%.0f bytes" % (beyond / n), "%d %s" % (n, k))


def queries():
	hf = hyperfine("queries.json")
	s, _ = loaded("bodies")
	what = "%d transactions" % s.get("transactions") if s else ""
	for name, f in (("show", "show"), ("show --json", "show.json"),
	    ("dump --format har", "har"), ("dump --format html", "html")):
		h = hf.get(name)
		if h is None:
			continue
		try:
			size = num(open(path("query.%s.bytes" % f)).read().strip())
		except OSError:
			size = None
		try:
			acpu = num(open(path("query.%s.acpu" % f)).read().strip())
		except OSError:
			acpu = None
		# The CPU times repeat where the wall time, on a shared
		# machine, does not.
		row("queries", "`%s`, wall best (mean); CPU htracrctl, "
		    "analyzer" % name,
		    "%s (%s); %s, %s" % (secs(h[0]), secs(h[1]), secs(h[2]),
		    secs(acpu) if acpu is not None else "?"),
		    "%s; %.1f MiB out" % (what, (size or 0) / MIB),
		    "target < 1 s")


def browser():
	"""Best load and zoom times of the HTML page in chromium (ms)."""
	load, zoom = [], []
	try:
		for line in open(path("browser.txt")):
			m = re.match(r"INFO: loaded (\d+) transactions in (\d+) ms", line)
			if m:
				load.append(int(m.group(2)))
			m = re.match(r"INFO: (\d+) zoom steps: (\d+) ms", line)
			if m and int(m.group(1)) > 0:
				zoom.append(int(m.group(2)) / int(m.group(1)))
	except OSError:
		return
	if load:
		row("queries", "HTML page in chromium: loaded and drawn, best (of %d)"
		    % len(load), "%.2f s" % (min(load) / 1000.0),
		    "one zoom step %.0f ms" % min(zoom) if zoom else "",
		    "target < 3 s")


def cpu(vals):
	"""The capturing tool's CPU time while wrk ran, from live.tsv."""
	return "CPU %s s" % vals[6] if len(vals) > 6 and vals[6] != "-" else "CPU ?"


def live():
	try:
		lines = [l.rstrip("\n").split("\t") for l in open(path("live.tsv"))]
	except OSError:
		row("live", "not measured (BENCH_LIVE=0, or not root)", "")
		return
	runs = {}
	for l in lines:
		if len(l) in (8, 9, 10):
			runs.setdefault((l[0], l[2]), {})[l[1]] = l[3:]
	for (link, run), caps in sorted(runs.items()):
		name = "loopback" if link == "lo" else "veth, MTU 1500"
		none = caps.get("none")
		td = caps.get("tcpdump")
		hd = caps.get("htracrd")
		if none:
			row("live", "%s mix, run %s: wrk alone" % (name, run),
			    "%s req/s" % none[1], "%s requests" % none[0])
		if td:
			row("live", "  tcpdump (2 MiB ring): wrk rate, kernel drops; its CPU",
			    "%s req/s" % td[1], "%s drops; %s" % (td[2], cpu(td)),
			    "%.3f of alone" % (num(td[1]) / num(none[1]))
			    if none and num(td[1]) and num(none[1]) else "")
		if hd:
			rec, req = num(hd[4]), num(hd[0])
			row("live", "  htracrd: wrk rate, kernel + forward drops; its CPU",
			    "%s req/s" % hd[1], "%s + %s drops; %s" % (hd[2],
			    hd[3], cpu(hd)),
			    "**%.3f of tcpdump's rate**" % (num(hd[1]) / num(td[1]))
			    if td and num(hd[1]) and num(td[1]) else "")
			row("live", "  htracrd: wrk's requests recorded",
			    "%s of %s" % (hd[4], hd[0]), "",
			    "**%.2f %%**" % (100 * rec / req) if rec is not None and req else "")
		for cap, what in (("queried", "live session asked for by "
		    "clients (`show` in a loop): queries"), ("pulled", "live "
		    "session's detail pulled by clients (puller.py): details")):
			qd = caps.get(cap)
			if not qd or len(qd) <= 5:
				continue
			rec, req = num(qd[4]), num(qd[0])
			row("live", "  htracrd, %s answered/failed; wrk's rate"
			    % what, qd[5], "%s + %s drops; %s req/s" % (qd[2],
			    qd[3], qd[1]),
			    "%s of %s recorded (%.2f %%)" % (qd[4], qd[0],
			    100 * rec / req) if rec is not None and req else "")


def machine():
	m = keyed("machine.txt")
	row("machine", "nproc", m.get("nproc", "?"))
	row("machine", "CPU model", m.get("cpu", "?"))
	row("machine", "kernel", m.get("kernel", "?"))
	row("machine", "load average at the end (shared machine)", m.get("load", "?"))


def main():
	tr = truth()
	try:
		got = counts()
	except OSError:
		got = None	# BENCH_ONLY=queries
	size = os.path.getsize(pcap)
	print("# htracr benchmark\n")
	print("Capture: `%s`, %d bytes%s. Wall times are the best of the runs"
	    " (mean in brackets), ratios from the best; the machine is shared, so"
	    " read the ratios.\n" % (os.path.basename(pcap), size,
	    ", %d packets" % tr["packets"] if tr["packets"] else ""))
	if got is not None:
		offline(tr, got)
	if tls:
		tls_part()
	memory()
	queries()
	browser()
	live()
	machine()
	print("| part | measure | htracr | against | ratio |")
	print("|---|---|---|---|---|")
	for r in ROWS:
		print("| %s |" % " | ".join(r))
	if got is None:
		return
	same = all(tr[k] == v for k, v in (("requests", got[0]),
	    ("responses", got[1]), ("connections", got[3]))) and TLS_SAME[0]
	print("\nCounts: %s." % ("htracr agrees with the ground truth" if same
	    else "**htracr differs from the ground truth**"))


main()
