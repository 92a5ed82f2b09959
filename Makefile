# keywarden — build, test and benchmark.
#
#   make            release build: build/release/keywarden
#   make check      ASan+UBSan build, unit tests (cmocka), end-to-end tests
#   make bench      release build, then bench/run (wrk on loopback)
#
# Dependencies come from Debian through pkg-config (scripts/install-deps).

PKGS	 = libmicrohttpd jansson sqlite3 libsodium libcurl inih
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

.PHONY: all check unit e2e bench clean test-build
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
