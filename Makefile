# lanchat - see README.md. Everything a build needs is named here.
#   make [BOARD=desktop] [FLAGS=minimal]   build build/<board>[-minimal]/lanchat
#   make run | test | unit | integration | format | lint | clean

BOARD ?= desktop
FLAGS ?=
include board/$(BOARD)/board.mk

ifeq ($(FLAGS),minimal)
FEATURE_DEFINES := -DCHAT_WITH_ACCOUNTS=0 -DCHAT_WITH_ROOMS=0 -DCHAT_WITH_METRICS=0 \
                   -DCHAT_WITH_EMBEDDED_WEB=0
OUT := build/$(BOARD)-minimal
else ifeq ($(FLAGS),)
FEATURE_DEFINES :=
OUT := build/$(BOARD)
else
$(error FLAGS must be empty or minimal)
endif

CC := $(CROSS)gcc
HOSTCC ?= cc
CPPFLAGS += -D_GNU_SOURCE -Isrc $(BOARD_DEFINES) $(FEATURE_DEFINES)
CFLAGS ?= -Os -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -pthread \
          -ffunction-sections -fdata-sections $(BOARD_CFLAGS)
LDFLAGS += -pthread -Wl,--gc-sections
LDLIBS := -lcivetweb -lsqlite3 -lsodium -lcjson

SOURCES := $(filter-out src/main.c,$(wildcard src/*.c))
OBJECTS := $(SOURCES:src/%.c=$(OUT)/obj/%.o)
WEB_FILES := $(shell find web -type f 2>/dev/null | sort)
EMBED := $(if $(findstring -DCHAT_WITH_EMBEDDED_WEB=0,$(FEATURE_DEFINES) $(BOARD_DEFINES)),,yes)
ifeq ($(EMBED),yes)
OBJECTS += $(OUT)/obj/web_assets.o
endif
DEPS_STAMP := build/.deps-build
BIN := $(OUT)/lanchat

.PHONY: all run test unit integration format lint clean bench
all: $(BIN)

$(DEPS_STAMP): tools/deps.sh
	@tools/deps.sh build
	@mkdir -p build && touch $@

$(OUT)/obj/%.o: src/%.c $(wildcard src/*.h) src/pools.def $(DEPS_STAMP) board/$(BOARD)/board.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/embed: tools/embed.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -O2 -Wall -Wextra -Werror -o $@ $<

$(OUT)/web_assets.c: $(OUT)/embed $(WEB_FILES)
	@echo "  EMBED   $@"
	@$(OUT)/embed $@ web $(WEB_FILES)

$(OUT)/obj/web_assets.o: $(OUT)/web_assets.c src/web.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BIN): $(OUT)/obj/main.o $(OBJECTS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: $(BIN)
	$(BIN) --port 8080 --db var/lanchat.db --web-root web

# ---- tests: every suite, then one line "N passed, N failed" -------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c))

$(OUT)/tests/%: tests/unit/%.c $(OBJECTS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(OBJECTS) $(LDFLAGS) $(LDLIBS) -lcmocka

build/.deps-test: tools/deps.sh
	@tools/deps.sh test
	@mkdir -p build && touch $@

unit: build/.deps-test $(UNIT_TESTS)
	@tools/run-tests.sh unit $(UNIT_TESTS)

integration: build/.deps-test $(BIN)
	@python3 tests/integration/run.py --bin $(BIN)

test: build/.deps-test
	@tools/test-all.sh

format:
	clang-format -i src/*.c src/*.h tools/*.c tests/unit/*.c

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem src tools/embed.c
	clang-format --dry-run --Werror src/*.c src/*.h tools/*.c tests/unit/*.c

clean:
	rm -rf build

bench: $(BIN)
	@$(MAKE) -s FLAGS=minimal all
	python3 tests/bench/bench.py --bin $(BIN) --minimal build/$(BOARD)-minimal/lanchat
