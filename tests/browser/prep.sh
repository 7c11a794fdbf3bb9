# prep.sh: sourced by tests/regress/057, 060, 070 and 075 after lib.sh.
# Builds the document-driven renderer driver and, for the checks that
# need them, installs the npm packages pinned in package-lock.json into
# tests/browser/node_modules (npm ci, from the npm registry only).
#
#	b_docrender		sets DOCRENDER, FAILs the script if it cannot build
#	b_need_node_modules	SKIPs the script when node/npm are missing or
#				the packages cannot be installed
#	b_node_modules		the same, but only says whether it could
B_DIR=$T_ROOT/tests/browser

b_docrender() {
	if ! make -C "$T_ROOT" -s "$T_BUILD/docrender" >"$T_TMP/make.log" 2>&1; then
		t_fail "$T_NAME" "make $T_BUILD/docrender failed: $(tail -n 1 "$T_TMP/make.log")"
		exit 1
	fi
	DOCRENDER=$T_ROOT/$T_BUILD/docrender
}

# Installs the packages unless they are there; fails quietly (the reason
# in $T_TMP/npm.log), for a script with only one check that needs them.
b_node_modules() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
		echo "node or npm is not installed" >"$T_TMP/npm.log"
		return 1
	}
	[ -d "$B_DIR/node_modules/har-validator" ] &&
	    [ -d "$B_DIR/node_modules/playwright-core" ] && return 0
	( cd "$B_DIR" && timeout 300 npm ci --no-audit --no-fund ) \
	    >"$T_TMP/npm.log" 2>&1
}

b_need_node_modules() {
	t_need_cmd node npm
	b_node_modules ||
	    t_skip_all "npm ci in tests/browser failed: $(tail -n 1 "$T_TMP/npm.log")"
}

# Prints "TARGET" for every request tshark saw in a corpus capture.
b_tshark_targets() {
	python3 - "$1" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()[1:]
for r in rows:
    f = r.split("\t")
    if len(f) > 3 and f[2]:
        for u in f[3].split(" "):
            print(u)
PY
}
