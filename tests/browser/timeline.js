// timeline.js: opens an htracr HTML timeline in Debian's headless
// chromium (driven by playwright-core, no downloaded browser) and checks
// it the way a person would use it. Prints PASS/FAIL/INFO lines.
//
//   node timeline.js check PAGE EXPECT.json SHOT.png
//       EXPECT: {"targets": ["/", ...], "click": "/target"}
//   node timeline.js perf PAGE
//       loads a large page, scrolls it, prints the times (no asserts)
//   node timeline.js tls PAGE WORD...
//       clicks the first connection's label: its inspector must show
//       a TLS section holding every WORD
//   node timeline.js why PAGE TARGET WORD...
//       clicks the bar of the transaction whose target holds TARGET:
//       the inspector's "why" verdict must hold every WORD
//   node timeline.js layers PAGE LAYER...
//       each LAYER (packets, states, txn, tls, dns) must be drawn; each
//       layer's checkbox takes it, and only it, off the timeline and
//       brings it back
//   node timeline.js same PAGE DOC.json
//       the document the page unpacked from its packed data must be
//       DOC.json (htracrctl's JSON of the same session), section by
//       section; of the session, the times it was made may differ
//   node timeline.js print PAGE OUT.pdf
//       prints the page to OUT.pdf with chromium's PDF printing (A4
//       landscape, as its print stylesheet asks); the caller reads it
//   node timeline.js hide PAGE
//       hides a connection, then a server, by clicking their rows' hide
//       marks, and brings them back with the buttons beside the list
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync"];

function pass(n) { console.log("PASS: " + n); }
function fail(n, why) { console.log("FAIL: " + n + ": " + why); process.exitCode = 1; }
function check(n, ok, why) { ok ? pass(n) : fail(n, why); }

async function open(page_path) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "htracr-chromium-"));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true, args: ARGS, viewport: { width: 1400, height: 900 },
		offline: true
	});
	const page = ctx.pages()[0] || await ctx.newPage();
	const seen = { errors: [], requests: [] };
	const url = "file://" + path.resolve(page_path);
	page.on("console", (m) => { if (m.type() === "error") seen.errors.push(m.text()); });
	page.on("pageerror", (e) => seen.errors.push(String(e)));
	page.on("request", (r) => { if (r.url() !== url) seen.requests.push(r.url()); });
	const t = Date.now();
	await page.goto(url, { waitUntil: "load" });
	await page.waitForFunction(() => window.htracr !== undefined, null, { timeout: 60000 });
	seen.loadMs = Date.now() - t;
	return { ctx, page, seen, dir };
}

async function close(o) {
	await o.ctx.close();
	fs.rmSync(o.dir, { recursive: true, force: true });
}

/* The list shows a row for target once the filter narrows to it. */
async function listed(page, target) {
	await page.fill("#filter", target);
	const cells = await page.$$eval("#list .row:not(.head) > span:nth-child(3)", (s) => s.map((e) => e.textContent));
	return cells.some((c) => c.endsWith(target));
}

async function checkPage(pagePath, expectPath, shot) {
	const expect = JSON.parse(fs.readFileSync(expectPath, "utf8"));
	const o = await open(pagePath), page = o.page;
	const n = await page.evaluate(() => window.htracr.data.transactions.length);
	const shown = await page.textContent("#sum-txns");
	check("html-summary-count", shown === String(n) && n >= expect.targets.length,
		"summary says " + shown + ", document has " + n + ", expected at least " + expect.targets.length);
	const missing = [];
	for (const t of expect.targets) if (!(await listed(page, t))) missing.push(t);
	check("html-transactions-listed", missing.length === 0, "not listed: " + JSON.stringify(missing.slice(0, 5)));
	await page.fill("#filter", "");

	/* Click the bar of the transaction whose target is expect.click. */
	const id = await page.evaluate((t) => {
		const x = window.htracr.data.transactions.find((u) => u.request.target === t);
		return x ? x.id : null;
	}, expect.click);
	const pt = id == null ? null : await page.evaluate((i) => window.htracr.txnPoint(i), id);
	if (pt == null) fail("html-click-inspector", "no transaction with target " + expect.click);
	else {
		await page.mouse.click(pt.x, pt.y);
		const open_ = await page.$eval("#inspector", (e) => e.classList.contains("open"));
		const tgt = open_ ? await page.textContent("#insp-target") : null;
		check("html-click-inspector", open_ && tgt === expect.click,
			"inspector " + (open_ ? "shows " + JSON.stringify(tgt) : "did not open"));
	}

	/* Keyboard: right moves along the connection, down to another one. */
	const before = await page.evaluate(() => window.htracr.selected());
	await page.keyboard.press("ArrowRight");
	const right = await page.evaluate(() => window.htracr.selected());
	await page.keyboard.press("ArrowDown");
	const down = await page.evaluate(() => window.htracr.selected());
	check("html-keyboard-moves", before != null && (right !== before || down !== before),
		"selection stayed at " + before);
	const z0 = await page.textContent("#scale");
	await page.keyboard.press("+");
	const z1 = await page.textContent("#scale");
	check("html-keyboard-zoom", z0 !== z1, "scale stayed " + z0);
	await page.keyboard.press("-");

	/* Hostile strings must stay text: no element the page did not make. */
	const injected = await page.evaluate(() => document.querySelectorAll("img, iframe, object, embed, script:not([id]):not([src=''])").length);
	check("html-no-injected-markup", injected <= 1, injected + " unexpected elements");

	await page.screenshot({ path: shot });
	check("html-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	check("html-no-network", o.seen.requests.length === 0, JSON.stringify(o.seen.requests.slice(0, 3)));
	await close(o);
}

async function perfPage(pagePath) {
	const o = await open(pagePath), page = o.page;
	const n = await page.evaluate(() => window.htracr.data.transactions.length);
	console.log("INFO: loaded " + n + " transactions in " + o.seen.loadMs + " ms");
	const t = await page.evaluate(() => {
		const s = performance.now();
		for (let i = 0; i < 200; i++) window.htracr.scrollBy(300);
		return performance.now() - s;
	});
	console.log("INFO: 200 scroll steps of 300 px, each redrawn: " + t.toFixed(0) + " ms");
	const z = await page.evaluate(() => {
		const s = performance.now();
		const sl = document.getElementById("zoom");
		for (let v = 0; v <= 1000; v += 50) { sl.value = v; sl.dispatchEvent(new Event("input")); }
		return performance.now() - s;
	});
	console.log("INFO: 21 zoom steps: " + z.toFixed(0) + " ms");
	check("html-big-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	check("html-big-loaded", n > 0, "no transactions");
	await close(o);
}

async function tlsPage(pagePath, words) {
	const o = await open(pagePath), page = o.page;
	const box = await page.$eval("#canvas", (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y]; });
	/* The axis, the server's row, then the first connection's label. */
	await page.mouse.click(box[0] + 60, box[1] + 26 + 24 + 12);
	const text = await page.textContent("#inspector");
	const missing = words.filter((w) => text.indexOf(w) < 0);
	check("html-tls-inspector", text.indexOf("TLS") >= 0 && missing.length === 0,
		"inspector lacks " + JSON.stringify(missing) + ": " + JSON.stringify(text.slice(0, 200)));
	check("html-tls-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

/* Each layer's checkbox: off takes only it off the timeline, on brings it back. */
async function layersPage(pagePath, want) {
	const o = await open(pagePath), page = o.page;
	const all = await page.evaluate(() => window.htracr.drawn());
	for (const k of want) check("html-layer-" + k + "-drawn", all[k] > 0, JSON.stringify(all));
	for (const k of Object.keys(all)) {
		await page.click("#layer-" + k);
		const off = await page.evaluate(() => window.htracr.drawn());
		const rest = Object.keys(all).every((j) => j === k || off[j] === all[j]);
		check("html-layer-" + k + "-off", off[k] === 0 && rest, JSON.stringify({ all, off }));
		await page.click("#layer-" + k);
		const on = await page.evaluate(() => window.htracr.drawn());
		check("html-layer-" + k + "-on", on[k] === all[k], JSON.stringify({ all, on }));
	}
	check("html-layers-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

/* The page's unpacked document against htracrctl's own JSON of it. */
async function samePage(pagePath, docPath) {
	const o = await open(pagePath), page = o.page;
	const want = JSON.parse(fs.readFileSync(docPath, "utf8"));
	const got = await page.evaluate(() => JSON.stringify(window.htracr.data));
	const d = JSON.parse(got);
	const session = (s) => s && Object.assign({}, s, { start_us: null, stop_us: null });
	check("html-same-session", JSON.stringify(session(d.session)) === JSON.stringify(session(want.session)),
		"session differs");
	for (const k of ["servers", "connections", "transactions", "dns"]) {
		const a = JSON.stringify(d[k] || []), b = JSON.stringify(want[k] || []);
		let i = 0;
		while (i < a.length && a[i] === b[i]) i++;
		check("html-same-" + k, a === b, (want[k] || []).length + " in the document, " +
			(d[k] || []).length + " on the page; first difference at " + i + ": " +
			JSON.stringify(a.slice(i, i + 60)) + " vs " + JSON.stringify(b.slice(i, i + 60)));
	}
	check("html-same-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

/* Chromium's own printing of the page, with the page's print stylesheet. */
async function printPage(pagePath, out) {
	const o = await open(pagePath), page = o.page;
	await page.emulateMedia({ media: "print" });
	/* The page builds its printed rows as printing starts. */
	await page.waitForFunction(() => document.querySelectorAll("#print .prow").length > 0,
		null, { timeout: 10000 }).catch(() => {});
	const shown = await page.evaluate(() => ({
		rows: document.querySelectorAll("#print .prow").length,
		conns: window.htracr.data.connections.length,
		controls: ["toolbar", "listwrap", "main"].filter((id) =>
			getComputedStyle(document.getElementById(id)).display !== "none")
	}));
	check("html-print-one-row-per-connection", shown.rows === shown.conns && shown.rows > 0,
		shown.rows + " rows for " + shown.conns + " connections");
	check("html-print-no-controls", shown.controls.length === 0, "shown: " + shown.controls.join(", "));
	await page.pdf({ path: out, preferCSSPageSize: true, printBackground: true });
	check("html-print-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

/* Rows on the timeline and the transaction count beside the list. */
async function counts(page) {
	await page.fill("#filter", "");
	return page.evaluate(() => ({ rows: window.htracr.rows,
		listed: parseInt(document.getElementById("count").textContent, 10),
		hidden: window.htracr.hidden() }));
}

/* Clicks the hide mark of a row: kind "srv" or "conn". */
async function clickHide(page, kind, id) {
	const pt = await page.evaluate(([k, i]) => window.htracr.hidePoint(k, i), [kind, id]);
	if (pt) await page.mouse.click(pt.x, pt.y);
	return pt != null;
}

async function hidePage(pagePath) {
	const o = await open(pagePath), page = o.page;
	/* The connection with the most transactions, and a server with several. */
	const pick = await page.evaluate(() => {
		const d = window.htracr.data, per = new Map();
		const conn = d.connections.slice().sort((a, b) =>
			(b.transactions || []).length - (a.transactions || []).length)[0];
		for (const c of d.connections) per.set(c.server, (per.get(c.server) || 0) + 1);
		const srv = [...per.entries()].sort((a, b) => b[1] - a[1])[0];
		const txnsOf = (f) => d.transactions.filter(f).length;
		return { conn: conn.id, alone: per.get(conn.server) === 1, connTxns: txnsOf((t) => t.connection === conn.id),
			connTarget: (d.transactions.find((t) => t.connection === conn.id) || {}).id,
			srv: srv[0], srvConns: srv[1], srvTxns: txnsOf((t) => t.server === srv[0]) };
	});
	const c0 = await counts(page);
	const clicked = await clickHide(page, "conn", pick.conn);
	const c1 = await counts(page);
	/* A server left with no connection shown goes from the timeline too. */
	check("html-hide-conn", clicked && c1.rows === c0.rows - (pick.alone ? 2 : 1) &&
		c1.listed === c0.listed - pick.connTxns && c1.hidden.conns.includes(pick.conn),
		JSON.stringify({ before: c0, after: c1, pick }));
	const gone = await page.evaluate((id) => window.htracr.txnPoint(id), pick.connTarget);
	check("html-hide-conn-off-timeline", gone === null, "its transaction is still drawn");
	await page.click("#hidden button[data-kind=conn]");
	const c2 = await counts(page);
	check("html-show-conn", c2.rows === c0.rows && c2.listed === c0.listed &&
		c2.hidden.conns.length === 0, JSON.stringify(c2));

	await clickHide(page, "srv", pick.srv);
	const c3 = await counts(page);
	check("html-hide-server", c3.rows === c0.rows - 1 - pick.srvConns &&
		c3.listed === c0.listed - pick.srvTxns && c3.hidden.servers.includes(pick.srv),
		JSON.stringify({ before: c0, after: c3, pick }));
	/* A second one hidden: "show all" brings both back. */
	const other = await page.evaluate((s) => {
		const c = window.htracr.data.connections.find((x) => x.server !== s);
		return c ? c.id : null;
	}, pick.srv);
	if (other != null) {
		await clickHide(page, "conn", other);
		await page.click("#hidden button.all");
	} else
		await page.click("#hidden button[data-kind=srv]");
	const c4 = await counts(page);
	check("html-show-all", c4.rows === c0.rows && c4.listed === c0.listed &&
		c4.hidden.servers.length === 0 && c4.hidden.conns.length === 0, JSON.stringify(c4));
	check("html-hide-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

async function whyPage(pagePath, target, words) {
	const o = await open(pagePath), page = o.page;
	const id = await page.evaluate((t) => {
		const x = window.htracr.data.transactions.find((u) => u.request && u.request.target &&
			u.request.target.indexOf(t) >= 0);
		return x ? x.id : null;
	}, target);
	const pt = id == null ? null : await page.evaluate((i) => window.htracr.txnPoint(i), id);
	if (pt) await page.mouse.click(pt.x, pt.y);
	const why = pt ? await page.$eval("#insp-why", (e) => e.textContent).catch(() => null) : null;
	const missing = words.filter((w) => why == null || why.indexOf(w) < 0);
	check("html-why", why != null && missing.length === 0,
		"transaction " + id + " verdict " + JSON.stringify(why) + " lacks " + JSON.stringify(missing));
	check("html-why-no-console-errors", o.seen.errors.length === 0, JSON.stringify(o.seen.errors.slice(0, 3)));
	await close(o);
}

(async () => {
	try {
		if (process.argv[2] === "check") await checkPage(process.argv[3], process.argv[4], process.argv[5]);
		else if (process.argv[2] === "tls") await tlsPage(process.argv[3], process.argv.slice(4));
		else if (process.argv[2] === "hide") await hidePage(process.argv[3]);
		else if (process.argv[2] === "print") await printPage(process.argv[3], process.argv[4]);
		else if (process.argv[2] === "same") await samePage(process.argv[3], process.argv[4]);
		else if (process.argv[2] === "layers") await layersPage(process.argv[3], process.argv.slice(4));
		else if (process.argv[2] === "why") await whyPage(process.argv[3], process.argv[4], process.argv.slice(5));
		else await perfPage(process.argv[3]);
	} catch (e) {
		fail("html-browser", String(e).split("\n")[0]);
	}
})();
