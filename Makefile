# lanchat - see README.md. Everything a build needs is named here.
# The targets a person uses, one a line (`make help` prints them):
#   make [BOARD=desktop] [FLAGS=minimal]  build build/<board>[-minimal]/lanchat
#   make run [LISTEN=0.0.0.0]             build, serve :8080 on this machine (LISTEN: the LAN too)
#   make test                             every suite, as CI runs it; ends "N passed, N failed"
#   make test-desktop                     the desktop suites alone (unit, integration, browsers)
#   make unit | integration | e2e         one suite of the desktop build
#   make lint | format                    cppcheck and clang-format: check, or rewrite
#   make check-arch                       every module uses only what src/modules.txt allows
#   make test-asan | test-tsan            the integration suite under ASan+UBSan, or TSan
#   make fuzz [FUZZ_SECONDS=30]           each libFuzzer target; fuzz-replay: the seeds only
#   make test-sanitizers                  the three above, as make test runs them
#   make BOARD=rpi4 test-emulated         a board's unit and integration suites under qemu-user
#   make BOARD=rpi4 package | bundle      a .deb, or a self-contained tarball (board/*/board.mk)
#   make cross-all | ram-budget           every board's build; each board's RAM budget
#   make config | cost-table              a build's config.h values; each feature switch's code
#   make bench | bench-instr              the delivery scenarios; instructions per message
#   make bench-mqtt                       S10 alone: two appliances mirrored through mosquitto
#   make bench-search                     search on 1,000,000 messages: index, migration, queries
#   make clean                            remove build/
#   make help                             this list

BOARD ?= desktop
FLAGS ?=
BOARD_PACKAGE := deb
ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error no board/$(BOARD)/board.mk; boards: $(notdir $(wildcard board/*)))
endif
include board/$(BOARD)/board.mk

# FLAGS=minimal: every feature switch off; FLAGS=no-<feature>: that one off
# alone (make cost-table builds each to measure what the feature costs).
FLAG_SWITCH_no-accounts := ACCOUNTS
FLAG_SWITCH_no-rooms := ROOMS
FLAG_SWITCH_no-metrics := METRICS
FLAG_SWITCH_no-embedded-web := EMBEDDED_WEB
FLAG_SWITCH_no-tls := TLS
FLAG_SWITCH_no-mqtt := MQTT
FLAG_SWITCH_no-search := SEARCH
FLAG_SWITCH_no-moderation := MODERATION
FLAG_SWITCH_no-direct := DIRECT
FLAG_SWITCH_no-typing := TYPING
FLAG_SWITCH_no-backups := BACKUPS
ifeq ($(FLAGS),minimal)
FEATURE_DEFINES := -DCHAT_WITH_ACCOUNTS=0 -DCHAT_WITH_ROOMS=0 -DCHAT_WITH_METRICS=0 \
                   -DCHAT_WITH_EMBEDDED_WEB=0 -DCHAT_WITH_TLS=0 -DCHAT_WITH_MQTT=0 \
                   -DCHAT_WITH_SEARCH=0 -DCHAT_WITH_MODERATION=0 -DCHAT_WITH_DIRECT=0 \
                   -DCHAT_WITH_TYPING=0 -DCHAT_WITH_BACKUPS=0
OUT := build/$(BOARD)-minimal
else ifeq ($(FLAGS),)
FEATURE_DEFINES :=
OUT := build/$(BOARD)
else ifneq ($(FLAG_SWITCH_$(FLAGS)),)
FEATURE_DEFINES := -DCHAT_WITH_$(FLAG_SWITCH_$(FLAGS))=0
OUT := build/$(BOARD)-$(FLAGS)
else
$(error FLAGS must be empty, minimal or one of $(patsubst FLAG_SWITCH_%,%,$(filter FLAG_SWITCH_%,$(.VARIABLES))))
endif

# ---- sanitizer builds (make test-asan / test-tsan): SANITIZE=address builds
# with AddressSanitizer and UndefinedBehaviorSanitizer, SANITIZE=thread with
# ThreadSanitizer (clang), each into its own build/<board>-<asan|tsan>/.
# Every report stops the process with a failure (no recovery); the options
# the test harness sets at run time are in tests/integration/harness.py.
SANITIZE ?=
ifeq ($(SANITIZE),address)
OUT := $(OUT)-asan
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
OUT := $(OUT)-tsan
SAN_CFLAGS := -O1 -g -fsanitize=thread
else ifeq ($(SANITIZE),fuzzer)
# The libFuzzer targets (make fuzz): every module with coverage, ASan and
# UBSan; argon2id at its cheapest, so that a login costs the fuzzer
# microseconds, not a tenth of a second.
OUT := $(OUT)-fuzz
SAN_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FEATURE_DEFINES += -DCHAT_PWHASH_OPSLIMIT=1 -DCHAT_PWHASH_MEMLIMIT=8192
else ifneq ($(SANITIZE),)
$(error SANITIZE must be empty, address, thread or fuzzer)
endif

VERSION := $(shell sed -n 's/^\#define CHAT_VERSION "\(.*\)"$$/\1/p' src/config.h)
BOARDS := $(notdir $(patsubst %/board.mk,%,$(wildcard board/*/board.mk)))

# ---- cross-compiling: the board's cross/<triple>.mk names the triple, the
# Debian architecture of its libraries and the qemu that runs it. Headers and
# libraries come from Debian's packages for that architecture, unpacked into
# build/sysroot/<arch>/ by tools/sysroot.sh (nothing is installed into the host).
ifneq ($(CROSS_TRIPLE),)
CROSS := $(CROSS_TRIPLE)-
SYSROOT := build/sysroot/$(DEB_ARCH)
SYSROOT_LIBDIRS := $(SYSROOT)/usr/lib/$(CROSS_TRIPLE) $(SYSROOT)/lib/$(CROSS_TRIPLE)
# The multiarch directory first, as a native gcc searches (OpenSSL's
# opensslconf.h lives there).
CPPFLAGS += -isystem $(SYSROOT)/usr/include/$(CROSS_TRIPLE) -isystem $(SYSROOT)/usr/include
LDFLAGS += $(SYSROOT_LIBDIRS:%=-L%) -Wl,-rpath-link,$(subst $() ,:,$(SYSROOT_LIBDIRS))
# Runs a target program on this host: the loader and libraries from the sysroot.
EMULATOR := $(QEMU) -L $(abspath $(SYSROOT))
else
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
EMULATOR :=
endif

CC := $(CROSS)gcc
HOSTCC ?= cc
# TSan and the fuzz targets are built with clang (libFuzzer is clang's);
# its -Wextra includes -Wstring-concatenation, which flags store.c's SQL,
# concatenated on purpose.
ifneq ($(filter thread fuzzer,$(SANITIZE)),)
CC := clang
SAN_WARNINGS := -Wno-string-concatenation
endif
STRIP := $(CROSS)strip
# Hardening as Debian builds its packages (dpkg-buildflags): fortified libc
# calls, read-only GOT after start.
# (Not under a sanitizer: the fortified variants of libc calls bypass its
# checks of the same calls.)
FORTIFY := $(if $(SANITIZE),,-D_FORTIFY_SOURCE=2)
# 64-bit file offsets and inode numbers on 32-bit boards too: without them
# readdir(3) fails with EOVERFLOW on a file system whose directory offsets do
# not fit 32 bits (ext4's hashed directories seen through qemu-user, large
# file systems on the board), and the service worker's list from --web-root
# came out empty on armel.
CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(FORTIFY) -Isrc $(BOARD_DEFINES) $(FEATURE_DEFINES)
CFLAGS ?= -Os -g
ifneq ($(SANITIZE),)
CFLAGS := $(SAN_CFLAGS)
LDFLAGS += $(filter -fsanitize=%,$(SAN_CFLAGS))
endif
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -pthread \
          -ffunction-sections -fdata-sections $(BOARD_CFLAGS) $(SAN_WARNINGS)
LDFLAGS += -pthread -Wl,--gc-sections -Wl,-z,relro,-z,now
LDLIBS := -lcivetweb -lsqlite3 -lsodium -lcjson

# Which features this build has, as the compiler reads src/config.h with this
# build's CPPFLAGS (board defines, FLAGS, -D on the command line): the names
# of config.h's CHAT_WITH_<NAME> switches that are on, lower case. The host
# compiler answers for every board: config.h includes nothing.
FEATURE_SWITCHES := ACCOUNTS ROOMS METRICS EMBEDDED_WEB TLS MQTT SEARCH MODERATION DIRECT TYPING BACKUPS
HASH := \#
FEATURES := $(shell { echo '$(HASH)include "config.h"'; for f in $(FEATURE_SWITCHES); do \
              printf '$(HASH)if CHAT_WITH_%s\n%s\n$(HASH)endif\n' $$f $$f; done; } | \
              $(HOSTCC) $(CPPFLAGS) -E -P -x c - 2>/dev/null | grep -xE '[A-Z_]+' | tr A-Z a-z)

# HTTPS (CHAT_WITH_TLS, docs/SECURITY.md "HTTPS"): OpenSSL 3 by its sonames,
# then our two compatibility libraries, whose SONAMEs are the names Debian's
# civetweb dlopen()s ("libssl.so", "libcrypto.so"). Real libssl first: our own
# SSL calls must reach it, not the wrappers civetweb gets. They live in lib/
# beside the binary (/usr/lib/lanchat in the package), found by RUNPATH.
TLS := $(if $(filter tls,$(FEATURES)),yes)
COMPAT_LIBS :=
ifeq ($(TLS),yes)
COMPAT_LIBS := $(OUT)/lib/libssl.so $(OUT)/lib/libcrypto.so
LDLIBS += -l:libssl.so.3 -l:libcrypto.so.3 -Wl,--no-as-needed $(COMPAT_LIBS) \
          -Wl,-rpath,'$$ORIGIN/lib:$$ORIGIN/../lib:$$ORIGIN/../lib/lanchat'
endif

# Appliances bridged through a broker (CHAT_WITH_MQTT, docs/MQTT.md).
ifneq ($(filter mqtt,$(FEATURES)),)
LDLIBS += -lmosquitto
endif

SOURCES := $(filter-out src/main.c,$(wildcard src/*.c))
OBJECTS := $(SOURCES:src/%.c=$(OUT)/obj/%.o)
# The client: every file below web/ but hidden ones and editor backups (names
# without spaces), each compressed into $(OUT)/web-gz/ and compiled in.
WEB_PATHS := $(patsubst web/%,%,$(shell find web -name '.?*' -prune -o -type f ! -name '*~' \
                                          -print 2>/dev/null | LC_ALL=C sort))
WEB_GZ := $(WEB_PATHS:%=$(OUT)/web-gz/%)
EMBED := $(if $(filter embedded_web,$(FEATURES)),yes)
ifeq ($(EMBED),yes)
OBJECTS += $(OUT)/obj/web_assets.o
# Rewritten only when the list of files changes, so that adding or removing
# a file regenerates the table even though no file is newer.
WEB_LIST := $(OUT)/web-files.txt
$(shell mkdir -p $(OUT) && echo '$(WEB_PATHS)' | cmp -s - $(WEB_LIST) || \
        echo '$(WEB_PATHS)' >$(WEB_LIST))
endif
DEPS_STAMP := build/.deps-build
BIN := $(OUT)/lanchat
# The load generator (tools/loadgen/): a tool of this host, whatever the board.
LOADGEN := build/loadgen
# The power-cut shim of the crash tests (tests/vfs/): LD_PRELOADed into a native
# binary, it makes SQLite's default VFS lose every write not yet synced.
POWERLOSS := build/powerloss.so

.PHONY: all run test unit integration e2e format lint clean bench bench-mqtt bench-search cross-all test-desktop board-info \
        ram-budget test-emulated unit-emulated integration-emulated package bundle test-package FORCE \
        bench-instr config cost-table test-asan test-tsan test-sanitizers fuzz fuzz-replay fuzz-targets \
        check-arch help
all: $(BIN) $(LOADGEN) $(POWERLOSS)

build/.deps-build: tools/deps.sh
	@tools/deps.sh build
	@mkdir -p build && touch $@

build/.deps-package: tools/deps.sh
	@tools/deps.sh package
	@mkdir -p build && touch $@

build/.deps-cross: tools/deps.sh
	@tools/deps.sh cross
	@mkdir -p build && touch $@

ifneq ($(CROSS_TRIPLE),)
DEPS_STAMP := $(SYSROOT)/.packages
$(SYSROOT)/.packages: tools/sysroot.sh | build/.deps-build build/.deps-cross
	@tools/sysroot.sh $(DEB_ARCH)
endif

$(OUT)/obj/%.o: src/%.c $(wildcard src/*.h src/compat/*.h) src/pools.def src/web.def $(DEPS_STAMP) board/$(BOARD)/board.mk Makefile
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/embed: tools/embed.c src/web.def
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -O2 -Wall -Wextra -Werror -o $@ $<

# gzip -9 -n: the smallest output, without name or time, so the same bytes
# (and ETags) on every build.
$(OUT)/web-gz/%: web/%
	@mkdir -p $(@D)
	@echo "  GZIP    $@"
	@gzip -9 -n -c $< >$@.tmp && mv $@.tmp $@

$(OUT)/web_assets.c: $(OUT)/embed $(WEB_GZ) $(WEB_LIST)
	@echo "  EMBED   $@"
	@$(OUT)/embed $@ $(OUT)/web-gz $(WEB_PATHS)

$(OUT)/obj/web_assets.o: $(OUT)/web_assets.c src/web.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/lib/libssl.so: src/compat/sslcompat.c src/compat/sslcompat.h $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -Wl,-soname,libssl.so $(LDFLAGS) -o $@ $< \
	  -Wl,--no-as-needed -l:libssl.so.3 -l:libcrypto.so.3 -ldl

$(OUT)/lib/libcrypto.so: src/compat/libcrypto.c $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -Wl,-soname,libcrypto.so $(LDFLAGS) -o $@ $< \
	  -Wl,--no-as-needed -l:libcrypto.so.3

$(BIN): $(OUT)/obj/main.o $(OBJECTS) $(COMPAT_LIBS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(OUT)/obj/main.o $(OBJECTS) $(LDLIBS)

$(LOADGEN): $(wildcard tools/loadgen/*.c tools/loadgen/*.h) Makefile
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -pthread -o $@ $(wildcard tools/loadgen/*.c) -lm

$(POWERLOSS): tests/vfs/powerloss.c Makefile
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -shared -pthread \
	  -o $@ $< -lsqlite3

# make run serves this machine only (LISTEN=127.0.0.1); `make run LISTEN=0.0.0.0`
# serves every address, as the installed service does (dist/lanchat.conf).
LISTEN ?= 127.0.0.1
run: $(BIN)
	@echo "lanchat: http://localhost:8080 $(if $(filter 127.%,$(LISTEN)),on this machine only\
	 (make run LISTEN=0.0.0.0 serves the LAN too),here; from the LAN http://<this machine>:8080)"
	$(BIN) --port 8080 --listen $(LISTEN) --db var/lanchat.db

# ---- tests: every suite, then one line "N passed, N failed" -------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c))

# ---- the module map (src/modules.txt), checked by the build ----------------
# A unit test links only the module under test, what the map lets it use
# (transitively) and its fakes (tests/unit/fake_*.c), so a call the map does
# not declare fails to link; $(OUT)/unit-links.mk lists each test's objects.
# `make check-arch` checks every include, each header's "Calls" sentence,
# docs/DESIGN.md's module table and every object's references against the map.
ARCH_CHECK := tests/arch/check-arch.py
ifeq ($(filter clean format lint check-arch,$(MAKECMDGOALS)),)
-include $(OUT)/unit-links.mk
endif
$(OUT)/unit-links.mk: src/modules.txt $(ARCH_CHECK) $(wildcard tests/unit/*.c) Makefile
	@mkdir -p $(@D)
	@python3 $(ARCH_CHECK) --unit-links >$@.tmp && mv $@.tmp $@

$(OUT)/tests/fake_%.o: tests/unit/fake_%.c $(wildcard src/*.h) src/pools.def $(DEPS_STAMP) Makefile
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(OUT)/unit-links.mk $(COMPAT_LIBS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(filter %.o,$^) $(LDFLAGS) $(LDLIBS) \
	  -lcmocka

check-arch: $(OBJECTS) $(OUT)/obj/main.o
	@python3 $(ARCH_CHECK) --objects $(OUT)/obj

# deps.sh test and e2e also install tests/e2e/node_modules (npm ci): again when
# the lock file changes or node_modules is gone.
E2E_LOCK := tests/e2e/package-lock.json \
            $(if $(wildcard tests/e2e/node_modules/.package-lock.json),,FORCE)
FORCE:

build/.deps-test: tools/deps.sh $(E2E_LOCK)
	@tools/deps.sh test
	@mkdir -p build && touch $@

build/.deps-e2e: tools/deps.sh $(E2E_LOCK)
	@tools/deps.sh e2e
	@mkdir -p build && touch $@

# Each build's suites report under its own name: unit, unit-minimal, unit-asan,
# integration-minimal, ... (tests/run-all.sh totals the "<suite>:" lines).
SUITE_SUFFIX := $(patsubst build/$(BOARD)%,%,$(OUT))
unit: build/.deps-test $(UNIT_TESTS)
	@tests/unit/run.sh unit$(SUITE_SUFFIX) $(UNIT_TESTS)

integration: build/.deps-test $(BIN) $(LOADGEN) $(POWERLOSS)
	@python3 tests/integration/run.py --bin $(BIN) --suite integration$(SUITE_SUFFIX)

# The browser tests (tests/e2e/): Debian's chromium, then firefox-esr, driven
# by playwright-core; screenshots in build/e2e/. One test runs the minimal build.
e2e: build/.deps-e2e $(BIN)
	@$(MAKE) -s FLAGS=minimal all
	@node tests/e2e/run.mjs --bin $(BIN)
	@node tests/e2e/run.mjs --bin $(BIN) --browser firefox

# ---- sanitizers and fuzzing (docs/SECURITY.md, "Sanitizers and fuzzing") ----
# test-asan / test-tsan: the whole integration suite against a server built
# with ASan+UBSan / TSan; the harness fails a test during which a server
# wrote a sanitizer report.
test-asan: build/.deps-test
	@$(MAKE) -s SANITIZE=address all
	@python3 tests/integration/run.py --bin build/$(BOARD)-asan/lanchat --suite integration-asan

test-tsan: build/.deps-test
	@$(MAKE) -s SANITIZE=thread all
	@python3 tests/integration/run.py --bin build/$(BOARD)-tsan/lanchat --suite integration-tsan

# The libFuzzer targets tests/fuzz/fuzz_<name>.c, linked with every module
# built by SANITIZE=fuzzer (never into the server). `make fuzz` replays the
# seed corpus and the regression inputs (tests/fuzz/corpus/<name>/), then
# runs each target for FUZZ_SECONDS; `make fuzz-replay` only replays.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(OUT)/fuzz/%: tests/fuzz/%.c $(OBJECTS) $(COMPAT_LIBS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(OBJECTS) $(LDFLAGS) $(LDLIBS)

fuzz-targets: $(FUZZ_TARGETS)

fuzz: build/.deps-test
	@$(MAKE) -s SANITIZE=fuzzer fuzz-targets
	@sh tests/fuzz/run.sh build/$(BOARD)-fuzz/fuzz $(FUZZ_SECONDS)

fuzz-replay: build/.deps-test
	@$(MAKE) -s SANITIZE=fuzzer fuzz-targets
	@sh tests/fuzz/run.sh build/$(BOARD)-fuzz/fuzz 0

# Every suite: the checks (lint, check-arch and the test of the check), then
# desktop (full and minimal builds); the sanitizer builds and the fuzz
# targets; every board's build, the packages, and the boards in TEST_BOARDS
# under qemu-user: these three lanes at once (run-all.sh -j), each group's
# output printed whole when it ends; ends with one line "N passed, N failed".
# `make test-desktop` runs the checks and the desktop suites alone, one after
# the other.
TEST_BOARDS ?= rpi4 rpi-zero
test: build/.deps-test build/.deps-cross
	@tests/run-all.sh -j checks desktop sanitizers boards package $(TEST_BOARDS:%=emulated:%)

test-desktop: build/.deps-test
	@tests/run-all.sh checks desktop

test-sanitizers: build/.deps-test
	@tests/run-all.sh sanitizers

C_FILES := src/*.c src/*.h src/compat/*.c src/compat/*.h tools/*.c tools/loadgen/*.c tools/loadgen/*.h \
           tests/unit/*.c tests/fuzz/*.c tests/fuzz/*.h tests/vfs/*.c

format:
	clang-format -i $(C_FILES)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem src tools/embed.c \
	  tests/fuzz
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -D_GNU_SOURCE --suppress=missingIncludeSystem tools/loadgen
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -D_GNU_SOURCE --suppress=missingIncludeSystem tests/vfs
	clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf build

# Benchmarks (docs/PERFORMANCE.md): the scenarios S1-S9 against a freshly
# built binary, 3 runs each, into build/bench/results.{json,md}; and the
# instruction counts per stored message and per delivered frame (callgrind).
build/.deps-bench: tools/deps.sh
	@tools/deps.sh bench
	@mkdir -p build && touch $@

bench: build/.deps-bench $(BIN) $(LOADGEN)
	python3 tests/bench/bench.py --bin $(BIN) --loadgen $(LOADGEN) --out build/bench

# Search on a database of 1,000,000 messages (docs/PERFORMANCE.md, "Search").
bench-search: build/.deps-bench $(BIN)
	python3 tests/bench/search.py --bin $(BIN)

# S10 alone (make bench runs it too): bridged throughput, docs/MQTT.md "Cost".
bench-mqtt: build/.deps-bench $(BIN) $(LOADGEN)
	python3 tests/bench/bench.py --bin $(BIN) --loadgen $(LOADGEN) --only S10 --out build/bench/mqtt

bench-instr: build/.deps-bench $(BIN) $(LOADGEN)
	python3 tests/bench/instr.py --bin $(BIN) --loadgen $(LOADGEN) --out build/bench/instr.json

# ---- boards: every profile, emulated tests, packages and bundles ------------
cross-all:
	@set -e; for b in $(BOARDS); do $(MAKE) -s BOARD=$$b all; file -b build/$$b/lanchat | \
	  sed "s|^|  $$b: |; s|, BuildID.*||"; done

# Wrappers that run a target program like a native one: `exec` keeps the PID
# that the test harness signals and waits for.
$(OUT)/emulated/%: $(OUT)/%
	@mkdir -p $(@D)
	@printf '#!/bin/sh\n# %s for %s, run on this host (written by make)\nexec %s %s "$$@"\n' \
	  "$*" "$(BOARD)" "$(EMULATOR)" "$(abspath $<)" >$@
	@chmod +x $@

EMULATED_UNIT := $(UNIT_TESTS:$(OUT)/%=$(OUT)/emulated/%)

unit-emulated: build/.deps-test build/.deps-cross $(EMULATED_UNIT)
	@tests/unit/run.sh unit-$(BOARD) $(EMULATED_UNIT)

integration-emulated: build/.deps-test build/.deps-cross $(OUT)/emulated/lanchat
	@python3 tests/integration/run.py --bin $(OUT)/emulated/lanchat --suite integration-$(BOARD)

test-emulated: build/.deps-test build/.deps-cross
	@tests/run-all.sh emulated:$(BOARD)

# ---- installing: a Debian package, or a self-contained bundle ---------------
STRIPPED := $(OUT)/dist/lanchat
DEB := $(OUT)/lanchat_$(VERSION)_$(DEB_ARCH).deb
BUNDLE := $(OUT)/lanchat-$(VERSION)-$(BOARD).tar.gz
DIST_FILES := $(wildcard dist/*.* dist/debian/* board/$(BOARD)/*)

$(STRIPPED): $(BIN) $(COMPAT_LIBS)
	@mkdir -p $(@D)
	@echo "  STRIP   $@"
	@$(STRIP) --remove-section=.comment --remove-section=.note -o $@ $<
	@rm -rf $(@D)/lib
	@set -e; for lib in $(COMPAT_LIBS); do mkdir -p $(@D)/lib; \
	  $(STRIP) --remove-section=.comment --remove-section=.note -o $(@D)/lib/$${lib##*/} $$lib; done

ifeq ($(BOARD_PACKAGE)$(filter package,$(MAKECMDGOALS)),bundlepackage)
$(error $(BOARD) is installed from a bundle, not a Debian package: make BOARD=$(BOARD) bundle)
endif
package: $(DEB)
$(DEB): $(STRIPPED) $(DIST_FILES) build/.deps-package
	@echo "  DEB     $@"
	@dist/mkdeb.sh $(BOARD) $(STRIPPED) $(DEB_ARCH) $(VERSION) $@

bundle: $(BUNDLE)
$(BUNDLE): $(STRIPPED) $(DIST_FILES) build/.deps-package
	@echo "  BUNDLE  $@"
	@dist/mkbundle.sh $(BOARD) $(STRIPPED) "$(SYSROOT)" \
	  $(or $(CROSS_TRIPLE),$(shell $(CC) -dumpmachine)) $(VERSION) $@

test-package: build/.deps-test build/.deps-cross
	@tests/run-all.sh package

# Code each feature switch costs on BOARD: the binary built with that switch
# off alone (build/<board>-no-<feature>/), its size(1) against the full one.
cost-table: $(DEPS_STAMP)
	@sh tools/cost-table.sh $(BOARD)

# RAM budget of each board (board/<name>/README.md): tools/ram-budget.py.
ram-budget: build/.deps-test build/.deps-cross
	@python3 tools/ram-budget.py $(BOARDS) | tee build/ram-budget.txt

# The header of this file, from its second line to its first empty one.
help:
	@sed -n '2,/^$$/s/^#   //p' $(firstword $(MAKEFILE_LIST))

board-info:
	@printf 'board=%s\narch=%s\ntriple=%s\ncflags=%s\npackage=%s\nversion=%s\ndefines=%s\nfeatures=%s\n' \
	  "$(BOARD)" "$(DEB_ARCH)" "$(CROSS_TRIPLE)" "$(BOARD_CFLAGS)" "$(BOARD_PACKAGE)" "$(VERSION)" \
	  "$(BOARD_DEFINES)" "$(FEATURES)"

# Every value of src/config.h as this build's compiler flags make it (make
# [BOARD=x] [FLAGS=minimal] config): what a board really changes.
config:
	@echo '#include "config.h"' | $(HOSTCC) $(CPPFLAGS) -dM -E -x c - | grep '^#define CHAT_' | \
	  LC_ALL=C sort
