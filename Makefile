# htracr: htracrd (capture + analyzer daemon) and htracrctl (client).
#
#   make deps     install the Debian packages needed to build and test
#   make          build both programs (warnings are errors)
#   make check    build and run every test; ends with "N passed, N failed"
#   make asan     build with AddressSanitizer and UBSan into build-asan/
#   make fuzz     build the libFuzzer targets (clang)

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
CFLAGS	?= -O2 -g

PKGS	 = libpcap libevent msgpack libseccomp zlib libsystemd
LLHTTP	 = /usr/share/llhttp
LLINC	 = /usr/share/include/llhttp

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wcast-qual \
	   -Wwrite-strings -Wno-unused-parameter
HARDEN	 = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE \
	   -fstack-clash-protection
LDHARDEN = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

PKG_CFLAGS != pkg-config --cflags $(PKGS) 2>/dev/null || echo
PKG_LIBS   != pkg-config --libs $(PKGS) 2>/dev/null || echo

CPPFLAGS += -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Iclient -I$(LLINC)
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) $(PKG_CFLAGS) -std=gnu11 -MMD -MP
LDFLAGS	+= $(LDHARDEN)

B	 = build
COMMON	 = $(wildcard common/*.c) proto/proto.c
DAEMON	 = $(wildcard daemon/*.c)
CLIENT	 = $(wildcard client/*.c)
LLSRC	 = llhttp api http

COMMON_O = $(COMMON:%.c=$(B)/%.o)
DAEMON_O = $(DAEMON:%.c=$(B)/%.o)
CLIENT_O = $(CLIENT:%.c=$(B)/%.o)
LL_O	 = $(LLSRC:%=$(B)/llhttp/%.o)

all: htracrd htracrctl

htracrd: $(DAEMON_O) $(COMMON_O) $(LL_O)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

htracrctl: $(CLIENT_O) $(COMMON_O)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# llhttp is Debian's copy (node-llhttp), compiled as it is: not our code.
$(B)/llhttp/%.o: $(LLHTTP)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HARDEN) -I$(LLINC) -w -c -o $@ $<

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)

deps:
	sh tests/deps.sh

check: all
	sh tests/run.sh

asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDHARDEN="-fsanitize=address,undefined" htracrd htracrctl

fuzz:
	sh tests/fuzz/build.sh

bench: all
	sh tests/bench/bench.sh

clean:
	rm -rf $(B) build-asan htracrd htracrctl tests/unit/run_unit tests/fuzz/bin

.PHONY: all deps check asan fuzz bench clean
