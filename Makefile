# keywarden — build, test and benchmark.
#
#   make            release build: build/release/keywarden
#   make check      ASan+UBSan build, unit tests (cmocka), end-to-end tests
#   make check-includes   the include graph keeps the dependency order
#   make bench      release build, then bench/run (wrk on loopback)
#
# Dependencies come from Debian through pkg-config (scripts/install-deps).

PKGS	 = libmicrohttpd jansson sqlite3 libsodium libcurl inih libcrypto cjose libpq
CC	?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN	 = -std=c17 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
DEFS	 = -D_GNU_SOURCE
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now
SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer

REL_CFLAGS  = $(WARN) $(DEFS) -O2 -g $(HARDEN) -Isrc $(PKG_CFLAGS)
REL_LDFLAGS = $(LDHARDEN)
TST_CFLAGS  = $(WARN) $(DEFS) -O1 -g $(SAN) -DKW_TESTING -Isrc $(PKG_CFLAGS)
TST_LDFLAGS = $(SAN)

SRCS	:= $(wildcard src/*.c src/*/*.c)
LIBSRCS	:= $(filter-out src/main.c,$(SRCS))
SIM_SRCS := $(wildcard sim/*.c)
UNIT	:= $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

# The web UI (web/) is compiled into the binary: tools/webembed turns its
# files into a C table (build/gen/web_assets.c), see docs/ARCHITECTURE.md.
WEB_FILES := $(sort $(wildcard web/*.html web/*.css web/*.js web/*.svg))
WEB_GEN	 := build/gen/web_assets.c

REL_OBJS := $(patsubst src/%.c,build/release/obj/%.o,$(SRCS)) \
	    build/release/obj/gen/web_assets.o
TST_OBJS := $(patsubst src/%.c,build/test/obj/%.o,$(SRCS)) \
	    build/test/obj/gen/web_assets.o
TST_LIBOBJS := $(patsubst src/%.c,build/test/obj/%.o,$(LIBSRCS)) \
	    build/test/obj/gen/web_assets.o

.PHONY: all check check-includes unit e2e bench clean test-build
all: build/release/keywarden $(if $(SIM_SRCS),build/release/zendesk-sim)

build/release/keywarden: $(REL_OBJS)
	@echo "  LD      $@"
	@$(CC) $(REL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/release/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(REL_CFLAGS) -MMD -MP -c -o $@ $<

build/gen/webembed: tools/webembed.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(WARN) -O1 -o $@ $<

$(WEB_GEN): build/gen/webembed $(WEB_FILES)
	@echo "  EMBED   web/ ($(words $(WEB_FILES)) files)"
	@build/gen/webembed $@.tmp $(WEB_FILES) && mv $@.tmp $@

build/release/obj/gen/web_assets.o: $(WEB_GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(REL_CFLAGS) -c -o $@ $<

build/test/obj/gen/web_assets.o: $(WEB_GEN)
	@mkdir -p $(dir $@)
	@echo "  CC(san) $<"
	@$(CC) $(TST_CFLAGS) -c -o $@ $<

# The Zendesk simulator (sim/): reuses keywarden's HTTP layer and utils.
REL_LIBOBJS := $(patsubst src/%.c,build/release/obj/%.o,$(LIBSRCS)) \
	    build/release/obj/gen/web_assets.o
build/release/zendesk-sim: $(patsubst sim/%.c,build/release/sim/%.o,$(SIM_SRCS)) $(REL_LIBOBJS)
	@echo "  LD      $@"
	@$(CC) $(REL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
build/release/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(REL_CFLAGS) -MMD -MP -c -o $@ $<
build/test/zendesk-sim: $(patsubst sim/%.c,build/test/sim/%.o,$(SIM_SRCS)) $(TST_LIBOBJS)
	@echo "  LD(san) $@"
	@$(CC) $(TST_LDFLAGS) -o $@ $^ $(PKG_LIBS)
build/test/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	@echo "  CC(san) $<"
	@$(CC) $(TST_CFLAGS) -MMD -MP -c -o $@ $<

build/test/keywarden: $(TST_OBJS)
	@echo "  LD(san) $@"
	@$(CC) $(TST_LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/test/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC(san) $<"
	@$(CC) $(TST_CFLAGS) -MMD -MP -c -o $@ $<

build/test/unit/%: tests/unit/%.c $(TST_LIBOBJS)
	@mkdir -p $(dir $@)
	@echo "  LD(san) $@"
	@$(CC) $(TST_CFLAGS) $(TST_LDFLAGS) -o $@ $< $(TST_LIBOBJS) \
	    $(PKG_LIBS) $(CMOCKA_LIBS)

test-build: build/test/keywarden $(if $(SIM_SRCS),build/test/zendesk-sim) \
    $(addprefix build/test/unit/,$(UNIT))

unit: test-build
	@set -e; for t in $(UNIT); do echo "== $$t"; build/test/unit/$$t; done

e2e: test-build
	KEYWARDEN_BIN=$(CURDIR)/build/test/keywarden /usr/bin/python3 tests/e2e/run.py

check: test-build
	@scripts/run-tests

check-includes:
	@scripts/check-includes

build/release/bench-ceiling: bench/ceiling.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(REL_LDFLAGS) -o $@ $< $(PKG_LIBS)

# Benchmark anchors: SQLite single-writer commits, raw SHA-256 (libsodium,
# and OpenSSL's libcrypto when pkg-config finds it).
BENCH_CRYPTO_CFLAGS := $(shell pkg-config --exists libcrypto 2>/dev/null && \
	echo "-DHAVE_LIBCRYPTO $$(pkg-config --cflags libcrypto)")
BENCH_CRYPTO_LIBS := $(shell pkg-config --exists libcrypto 2>/dev/null && \
	pkg-config --libs libcrypto)
build/release/bench-commit: bench/commit.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(REL_LDFLAGS) -o $@ $< $(shell pkg-config --libs sqlite3)
build/release/bench-sha: bench/sha.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(BENCH_CRYPTO_CFLAGS) $(REL_LDFLAGS) -o $@ $< \
	    $(shell pkg-config --libs libsodium) $(BENCH_CRYPTO_LIBS)

bench: build/release/keywarden build/release/zendesk-sim \
    build/release/bench-ceiling build/release/bench-commit \
    build/release/bench-sha
	/usr/bin/python3 bench/run.py

clean:
	rm -rf build

-include $(REL_OBJS:.o=.d) $(TST_OBJS:.o=.d) \
    $(patsubst sim/%.c,build/release/sim/%.d,$(SIM_SRCS)) \
    $(patsubst sim/%.c,build/test/sim/%.d,$(SIM_SRCS))

# ---- install, uninstall, Debian package (docs/BUILD.md, docs/OPERATIONS.md)
#
#   make install [PREFIX=/usr/local] [DESTDIR=...]   the release binary (not
#       the simulator), keywarden(8), keywarden.conf(5), the sandboxed
#       systemd unit, sysusers.d/tmpfiles.d entries for its user and data
#       directory, an example configuration (also installed as the live one
#       when there is none yet), the operator docs
#   make uninstall   removes them (the live configuration only if unchanged)
#   make deb         keywarden_<version>_<arch>.deb in the top directory

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/keywarden
SYSCONFDIR	?= $(PREFIX)/etc
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
INSTALL		?= install
DOCS		 = README.md docs/OPERATIONS.md docs/CONFIGURATION.md \
		   docs/SECURITY.md docs/API.md

.PHONY: install uninstall deb
install: build/release/keywarden
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/keywarden
	$(INSTALL) -m 0755 build/release/keywarden $(DESTDIR)$(BINDIR)/keywarden
	$(INSTALL) -m 0644 man/keywarden.8 $(DESTDIR)$(MANDIR)/man8/keywarden.8
	$(INSTALL) -m 0644 man/keywarden.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/keywarden.conf.5
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    dist/keywarden.service.in >$(DESTDIR)$(UNITDIR)/keywarden.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/keywarden.service
	$(INSTALL) -m 0644 dist/keywarden.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/keywarden.conf
	$(INSTALL) -m 0644 dist/keywarden.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/keywarden.conf
	$(INSTALL) -m 0644 dist/keywarden.conf.example $(DOCS) \
	    $(DESTDIR)$(DOCDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/keywarden/keywarden.conf || \
	    $(INSTALL) -m 0644 dist/keywarden.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/keywarden/keywarden.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/keywarden \
	    $(DESTDIR)$(MANDIR)/man8/keywarden.8 \
	    $(DESTDIR)$(MANDIR)/man5/keywarden.conf.5 \
	    $(DESTDIR)$(UNITDIR)/keywarden.service \
	    $(DESTDIR)$(SYSUSERSDIR)/keywarden.conf \
	    $(DESTDIR)$(TMPFILESDIR)/keywarden.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	if cmp -s dist/keywarden.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/keywarden/keywarden.conf; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/keywarden/keywarden.conf; \
	    rmdir $(DESTDIR)$(SYSCONFDIR)/keywarden 2>/dev/null || :; fi

# Built with debhelper (debian/) in a copy of the sources under build/deb/,
# because dpkg-buildpackage writes its results next to the source tree.
DEB_SRC	 = Makefile src sim tools web man dist debian $(DOCS)
deb:
	rm -rf build/deb
	mkdir -p build/deb/keywarden
	tar -cf - $(DEB_SRC) | tar -xf - -C build/deb/keywarden
	cd build/deb/keywarden && DEB_BUILD_OPTIONS="parallel=2 noddebs" \
	    dpkg-buildpackage -b -us -uc --no-sign
	rm -f keywarden_*.deb
	cp build/deb/keywarden_*.deb .
