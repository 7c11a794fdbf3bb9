// validate-har.js: checks a HAR file against the HAR 1.2 schema with the
// independent har-validator package, then prints a few facts for the
// shell test to compare: entries, then one "METHOD URL STATUS" per entry.
"use strict";
const fs = require("fs");
const validator = require("har-validator");

const har = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
validator.har(har).then(() => {
	console.log("valid");
	console.log("entries " + har.log.entries.length);
	for (const e of har.log.entries)
		console.log([e.request.method, e.request.url, e.response.status].join(" "));
}).catch((e) => {
	console.log("invalid " + JSON.stringify(e.errors || e.message));
	process.exit(1);
});
