#!/bin/sh
# 090-install: "make install" into a temporary DESTDIR puts every file
# where it belongs with the right mode and the units point at the
# installed daemon; "make uninstall" takes exactly those files away. The
# man pages render without a single warning, and the bash completion
# completes commands, options and values.
. "$(dirname "$0")/lib.sh"

t_tmpdir
MAKE=${MAKE:-make}

# --- man pages --------------------------------------------------------
PAGES="daemon/htracrd.8 client/htracrctl.1"

if command -v mandoc >/dev/null 2>&1; then
	for p in $PAGES; do
		out=$(mandoc -T lint -W warning "$T_ROOT/$p" 2>&1)
		if [ -z "$out" ]; then
			t_pass "$T_NAME: mandoc lint $(basename "$p")"
		else
			t_fail "$T_NAME: mandoc lint $(basename "$p")" \
			    "$(printf '%s\n' "$out" | head -n 1)"
		fi
	done
else
	t_skip "$T_NAME: mandoc lint" "mandoc is not installed (make deps)"
fi

if command -v groff >/dev/null 2>&1; then
	for p in $PAGES; do
		out=$(groff -ww -mandoc -z "$T_ROOT/$p" 2>&1)
		if [ -z "$out" ]; then
			t_pass "$T_NAME: groff -ww $(basename "$p")"
		else
			t_fail "$T_NAME: groff -ww $(basename "$p")" \
			    "$(printf '%s\n' "$out" | head -n 1)"
		fi
	done
else
	t_skip "$T_NAME: groff -ww" "groff is not installed"
fi

# Every option the programs accept must be in their pages. The option
# names are taken from the programs' own help, so a new option without
# documentation fails here.
doc_options() {
	# $1: page, $2: help text. Prints the options missing from the page,
	# where "--ring-mib" is written "Fl \-ring\-mib".
	for o in $(printf '%s\n' "$2" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		m=$(printf '%s' "$o" | sed 's/^-//; s/-/\\-/g')
		grep -q -F -- "Fl $m" "$1" || echo "$o"
	done
}
if [ -x "$HTRACRD" ]; then
	help=$("$HTRACRD" --help 2>&1)
	missing=$(doc_options "$T_ROOT/daemon/htracrd.8" "$help")
	if [ -z "$help" ]; then
		t_fail "$T_NAME: htracrd.8 options" "htracrd --help printed nothing"
	elif [ -z "$missing" ]; then
		t_pass "$T_NAME: htracrd.8 documents every option of --help"
	else
		t_fail "$T_NAME: htracrd.8 options" "undocumented: $(echo $missing)"
	fi
else
	t_skip "$T_NAME: htracrd.8 options" "htracrd is not built"
fi
if [ -x "$HTRACRCTL" ]; then
	missing=""
	help=$("$HTRACRCTL" help 2>&1)
	for c in help $(printf '%s\n' "$help" |
	    awk '/^  [a-z]+/ { print $1 }'); do
		grep -q "^\\.It Ic $c\\b" "$T_ROOT/client/htracrctl.1" ||
		    missing="$missing $c"
	done
	if [ -z "$missing" ]; then
		t_pass "$T_NAME: htracrctl.1 documents every command"
	else
		t_fail "$T_NAME: htracrctl.1 commands" "undocumented:$missing"
	fi
	missing=$(doc_options "$T_ROOT/client/htracrctl.1" "$help")
	if [ -z "$missing" ]; then
		t_pass "$T_NAME: htracrctl.1 documents every option of help"
	else
		t_fail "$T_NAME: htracrctl.1 options" "undocumented: $(echo $missing)"
	fi
else
	t_skip "$T_NAME: htracrctl.1 commands" "htracrctl is not built"
fi

# --- bash completion --------------------------------------------------
if command -v bash >/dev/null 2>&1; then
	comp() {
		# Prints the completions bash offers for the words given,
		# with the fallback lists: htracrctl is not in PATH here.
		bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=(); _htracrctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
		' comp "$T_ROOT/client/htracrctl.bash-completion" "$@"
	}
	t_eq "$T_NAME: complete 'st'" "start status stop " \
	    "$(comp htracrctl st)"
	t_eq "$T_NAME: complete a command after --socket PATH" "sessions " \
	    "$(comp htracrctl --socket /tmp/x se)"
	t_eq "$T_NAME: complete 'start --'" \
	    "--dns --help --interface --json --keylog --no-dns --ports " \
	    "$(comp htracrctl start --)"
	t_eq "$T_NAME: complete dump --format" \
	    "har html json ndjson otlp pcap pcapng text " \
	    "$(comp htracrctl dump --format '')"
	t_eq "$T_NAME: complete --interface l" "lo " \
	    "$(comp htracrctl start --interface l)"
	touch "$T_TMP/a.pcap" "$T_TMP/a.txt"
	t_eq "$T_NAME: complete a capture file" "$T_TMP/a.pcap " \
	    "$(comp htracrctl analyze "$T_TMP/a.")"
	out=$(bash -c '. "$1" && complete -p htracrctl' comp \
	    "$T_ROOT/client/htracrctl.bash-completion" 2>&1)
	t_eq "$T_NAME: completion is registered" \
	    "complete -F _htracrctl htracrctl" "$out"

	# With htracrctl in PATH the lists come from its own help; the
	# fallback lists must say the same.
	if [ -x "$HTRACRCTL" ]; then
		want=$(comp htracrctl '')
		got=$(PATH=$T_ROOT:$PATH comp htracrctl '')
		t_eq "$T_NAME: completion knows every command" "$want" "$got"
		diff=""
		for c in $("$HTRACRCTL" help 2>&1 | awk '/^  [a-z]+/ { print $1 }'); do
			want=$(comp htracrctl "$c" -)
			got=$(PATH=$T_ROOT:$PATH comp htracrctl "$c" -)
			[ "$want" = "$got" ] ||
			    diff="$diff $c: fallback '$want', help '$got';"
		done
		t_eq "$T_NAME: completion knows every option" "" "$diff"
	else
		t_skip "$T_NAME: completion against help" "htracrctl is not built"
	fi
else
	t_skip "$T_NAME: bash completion" "bash is not installed"
fi

# --- install, uninstall -----------------------------------------------
if [ ! -f "$T_ROOT/daemon/htracrd.c" ]; then
	t_skip "$T_NAME: install" "htracrd has no main yet (daemon/htracrd.c)"
	t_exit
fi

D=$T_TMP/dest
if ! out=$($MAKE -s -C "$T_ROOT" install DESTDIR="$D" PREFIX=/usr 2>&1); then
	t_fail "$T_NAME: make install" "$(printf '%s\n' "$out" | tail -n 1)"
	t_exit
fi
t_pass "$T_NAME: make install DESTDIR PREFIX=/usr"

# path mode: every file install must put, and nothing else.
WANT="usr/bin/htracrctl 755
usr/lib/systemd/system/htracrd.service 644
usr/lib/systemd/system/htracrd.socket 644
usr/lib/sysusers.d/htracr.conf 644
usr/lib/tmpfiles.d/htracr.conf 644
usr/sbin/htracrd 755
usr/share/bash-completion/completions/htracrctl 644
usr/share/doc/htracr/htracrd.conf.example 644
usr/share/man/man1/htracrctl.1 644
usr/share/man/man8/htracrd.8 644"
got=$(cd "$D" && find . ! -type d -printf '%P %m\n' | LC_ALL=C sort)
t_eq "$T_NAME: installed files and modes" "$WANT" "$got"

bad=$(cd "$D" && find . -type d ! -perm 755 -printf '%P %m\n')
t_eq "$T_NAME: installed directories are 0755" "" "$bad"

t_eq "$T_NAME: ExecStart points at the installed daemon" \
    "ExecStart=/usr/sbin/htracrd --foreground \$HTRACRD_OPTS" \
    "$(grep '^ExecStart=' "$D/usr/lib/systemd/system/htracrd.service")"
t_eq "$T_NAME: no placeholder left in the units" "" \
    "$(grep -l '@[a-z]*@' "$D"/usr/lib/systemd/system/* 2>/dev/null)"
t_check "$T_NAME: installed man page is the source" \
    cmp "$T_ROOT/daemon/htracrd.8" "$D/usr/share/man/man8/htracrd.8"
t_check "$T_NAME: installed htracrctl runs" "$D/usr/bin/htracrctl" help

if ! out=$($MAKE -s -C "$T_ROOT" uninstall DESTDIR="$D" PREFIX=/usr 2>&1); then
	t_fail "$T_NAME: make uninstall" "$(printf '%s\n' "$out" | tail -n 1)"
else
	left=$(cd "$D" && find . ! -type d -printf '%P\n')
	t_eq "$T_NAME: uninstall leaves no file" "" "$left"
	t_eq "$T_NAME: uninstall removes share/doc/htracr" "no" \
	    "$([ -e "$D/usr/share/doc/htracr" ] && echo yes || echo no)"
fi

# The default prefix and a SYSTEMDUNITDIR of one's own.
D2=$T_TMP/dest2
if out=$($MAKE -s -C "$T_ROOT" install DESTDIR="$D2" \
    SYSTEMDUNITDIR=/etc/systemd/system 2>&1); then
	t_eq "$T_NAME: default PREFIX is /usr/local" \
	    "ExecStart=/usr/local/sbin/htracrd --foreground \$HTRACRD_OPTS" \
	    "$(grep '^ExecStart=' "$D2/etc/systemd/system/htracrd.service" 2>&1)"
	$MAKE -s -C "$T_ROOT" uninstall DESTDIR="$D2" \
	    SYSTEMDUNITDIR=/etc/systemd/system >/dev/null 2>&1
	t_eq "$T_NAME: uninstall with the same variables" "" \
	    "$(cd "$D2" && find . ! -type d -printf '%P\n')"
else
	t_fail "$T_NAME: make install (default prefix)" \
	    "$(printf '%s\n' "$out" | tail -n 1)"
fi

t_exit
