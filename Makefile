# htracr: htracrd (capture + analyzer daemon) and htracrctl (client).
#
#   make deps     install the Debian packages needed to build and test
#   make          build both programs (warnings are errors)
#   make check    build and run every test; ends with "N passed, N failed"
#   make demo     capture real traffic between two namespaces and analyze it
#   make asan     build with AddressSanitizer and UBSan into build-asan/
#   make check SANITIZE=1
#                 that build, then the regress suite run against it
#   make fuzz     build the libFuzzer targets (clang)

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
CFLAGS	?= -O2 -g

PKGS	 = libpcap libevent msgpack libseccomp zlib libsystemd
# Only the analyzer's TLS and HTTP/2 layers use these.
DPKGS	 = libcrypto libnghttp2
LLHTTP	 = /usr/share/llhttp
LLINC	 = /usr/share/include/llhttp

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wcast-qual \
	   -Wwrite-strings -Wno-unused-parameter
HARDEN	 = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE \
	   -fstack-clash-protection
LDHARDEN = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed

# What the system provides is asked for when a recipe first needs it, not
# when this file is read: "make deps check" builds with the packages that
# deps has just installed. memo runs a command once and keeps its output.
memo	 = $(eval $1 := $$(shell $2))$($1)
PKG_CFLAGS = $(call memo,PKG_CFLAGS,pkg-config --cflags $(PKGS) $(DPKGS))
PKG_LIBS   = $(call memo,PKG_LIBS,pkg-config --libs $(PKGS))
DPKG_LIBS  = $(call memo,DPKG_LIBS,pkg-config --libs $(DPKGS))

CPPFLAGS += -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Idaemon/engine \
	    -Iclient -I$(LLINC)
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) $(PKG_CFLAGS) -std=gnu11 -MMD -MP
LDFLAGS	+= $(LDHARDEN)

B	 = build
# Where the programs go: here, or build-asan/ for the sanitizer build.
O	 =

# SANITIZE=1: both programs with AddressSanitizer and UBSan, any finding
# fatal, in build-asan/. HTRACR_SANITIZE lets the seccomp lists admit
# what the sanitizer runtime itself calls, in this build only.
ifeq ($(SANITIZE),1)
B	 = build-asan
O	 = build-asan/
CFLAGS	 = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDHARDEN += -fsanitize=address,undefined
CPPFLAGS += -DHTRACR_SANITIZE
# The tests see it: they run these programs, and make run by a test
# builds this way too.
export SANITIZE
endif
COMMON	 = $(wildcard common/*.c) proto/proto.c
DAEMON	 = $(wildcard daemon/*.c)
# The analysis engine: frames in, a model out, no I/O. htracrd, the unit
# tests and the fuzz targets link the same code.
ENGINE	 = $(wildcard daemon/engine/*.c)
CLIENT	 = $(wildcard client/*.c)
LLSRC	 = llhttp api http

COMMON_O = $(COMMON:%.c=$(B)/%.o)
DAEMON_O = $(DAEMON:%.c=$(B)/%.o)
ENGINE_O = $(ENGINE:%.c=$(B)/%.o)
CLIENT_O = $(CLIENT:%.c=$(B)/%.o)
LL_O	 = $(LLSRC:%=$(B)/llhttp/%.o)

all: $(O)htracrd $(O)htracrctl

$(O)htracrd: $(DAEMON_O) $(B)/libengine.a $(COMMON_O) $(LL_O)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(DPKG_LIBS)

$(B)/libengine.a: $(ENGINE_O)
	rm -f $@
	$(AR) rcs $@ $^

$(O)htracrctl: $(CLIENT_O) $(COMMON_O)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/%.o: %.c | buildcheck
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# llhttp is Debian's copy (node-llhttp), compiled as it is: not our code.
# Its sources are named in the recipe, not as prerequisites, so that make
# does not look for them (and remember them missing) before deps ran.
$(LL_O): $(B)/llhttp/%.o: | buildcheck
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HARDEN) -I$(LLINC) -w -c -o $@ $(LLHTTP)/$*.c

# Says which Debian packages are missing, and "make deps", instead of
# failing later on a header or a library. After deps when both are asked.
buildcheck: $(filter deps,$(MAKECMDGOALS))
	@sh tests/deps.sh --check-build

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)

deps:
	sh tests/deps.sh

# With SANITIZE=1 only the regress suite runs, against build-asan/: the
# unit tests and the fuzz targets already run under the sanitizers in
# the plain check.
ifeq ($(SANITIZE),1)
check: all
	sh tests/run.sh regress
else
check: all
	sh tests/run.sh
endif

asan:
	$(MAKE) SANITIZE=1 all

fuzz:
	sh tests/fuzz/build.sh

bench: all
	sh tests/bench/bench.sh

demo: all
	sh tests/demo.sh

clean:
	rm -rf $(B) build-asan htracrd htracrctl tests/unit/bin tests/fuzz/bin

.PHONY: all buildcheck deps check asan fuzz bench demo clean

# ---------------------------------------------------------------------------
# install, uninstall: the programs, the systemd units (ExecStart pointed at
# SBINDIR), the sysusers.d and tmpfiles.d entries, the man pages, the bash
# completion and the example configuration. PREFIX and DESTDIR are
# honoured and every directory below can be overridden. Nothing is started,
# enabled or created outside DESTDIR: see htracrd(8) for the steps after.
# "make uninstall" removes exactly the files "make install" put.
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONDIR	?= $(PREFIX)/share/bash-completion/completions
DOCDIR		?= $(PREFIX)/share/doc/htracr

INSTALLED = $(SBINDIR)/htracrd $(BINDIR)/htracrctl \
	    $(SYSTEMDUNITDIR)/htracrd.service $(SYSTEMDUNITDIR)/htracrd.socket \
	    $(SYSUSERSDIR)/htracr.conf $(TMPFILESDIR)/htracr.conf \
	    $(MANDIR)/man8/htracrd.8 $(MANDIR)/man1/htracrctl.1 \
	    $(COMPLETIONDIR)/htracrctl $(DOCDIR)/htracrd.conf.example

install: all
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(O)htracrd $(DESTDIR)$(SBINDIR)/htracrd
	install -m 0755 $(O)htracrctl $(DESTDIR)$(BINDIR)/htracrctl
	for u in htracrd.service htracrd.socket; do \
		sed 's|@sbindir@|$(SBINDIR)|g' systemd/$$u \
		    >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -m 0644 systemd/htracr.sysusers $(DESTDIR)$(SYSUSERSDIR)/htracr.conf
	install -m 0644 systemd/htracr.tmpfiles $(DESTDIR)$(TMPFILESDIR)/htracr.conf
	install -m 0644 daemon/htracrd.8 $(DESTDIR)$(MANDIR)/man8/htracrd.8
	install -m 0644 client/htracrctl.1 $(DESTDIR)$(MANDIR)/man1/htracrctl.1
	install -m 0644 client/htracrctl.bash-completion \
	    $(DESTDIR)$(COMPLETIONDIR)/htracrctl
	install -m 0644 systemd/htracrd.conf $(DESTDIR)$(DOCDIR)/htracrd.conf.example

# Only DOCDIR is ours alone; the other directories are shared with the
# rest of the system and stay.
uninstall:
	for f in $(INSTALLED); do rm -f $(DESTDIR)$$f || exit 1; done
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

.PHONY: install uninstall

# htracrd with the hooks only tests use (HTRACR_TEST_HOOKS), for
# tests/regress/100 and 115: never installed, never the program "make"
# builds.
TESTHOOKS_O = $(B)/daemon/control-testhooks.o $(B)/daemon/analyzer-testhooks.o
$(B)/htracrd-testhooks: $(filter-out $(B)/daemon/control.o \
    $(B)/daemon/analyzer.o,$(DAEMON_O)) $(TESTHOOKS_O) $(B)/libengine.a \
    $(COMMON_O) $(LL_O)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(DPKG_LIBS)
$(B)/daemon/%-testhooks.o: daemon/%.c | buildcheck
	$(CC) $(ALL_CFLAGS) -DHTRACR_TEST_HOOKS -c -o $@ $<

# Renderers. render_html.c embeds client/timeline.html with an .incbin,
# which the compiler's dependency files do not see: name it here.
# docrender runs the renderers over a document file, for tests/regress
# 060, 070 and 075, without a daemon.
RENDER_O = $(B)/client/render.o $(B)/client/render_har.o \
	   $(B)/client/render_html.o $(B)/client/render_pack.o \
	   $(B)/client/render_curl.o \
	   $(B)/client/waterfall.o $(B)/client/waterfall_detail.o \
	   $(B)/client/waterfall_filter.o $(B)/client/waterfall_sum.o \
	   $(B)/client/waterfall_h2.o \
	   $(B)/client/explain.o $(B)/client/explain_out.o $(B)/client/json.o \
	   $(B)/client/fmt.o $(B)/client/tlsline.o $(B)/client/dnsline.o \
	   $(B)/client/pick.o
$(B)/client/render_html.o: client/timeline.html
$(B)/docrender: tests/browser/docrender.c $(RENDER_O) $(COMMON_O)
	$(CC) $(CPPFLAGS) -Itests/browser $(CFLAGS) $(WARN) $(HARDEN) \
	    $(PKG_CFLAGS) -std=gnu11 $(LDFLAGS) -o $@ \
	    tests/browser/docrender.c $(RENDER_O) $(COMMON_O) $(PKG_LIBS)
