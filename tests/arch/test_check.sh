#!/bin/sh
# The test of the architecture check (tests/arch/check-arch.py) and of the
# unit-test link it drives: in a temporary copy of the tree, each case breaks
# the map one way and asserts that the check (or the link) fails with a
# message naming the module and the dependency; the tree as it is passes.
# Ends with "check-arch-test: N passed, N failed".
#   tests/arch/test_check.sh
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
MAKE=${MAKE:-make}
tmp=$(mktemp -d /tmp/lanchat-arch-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() {
    echo "ok   $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     /'
    failed=$((failed + 1))
}

# A fresh copy of what the check and a unit test's link read; broken: the
# file a case changes, which must then differ from the tree's.
copy() {
    broken=$1
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree/build" "$tmp/tree/tests" "$tmp/tree/tools"
    cp -a src docs board Makefile "$tmp/tree/"
    cp -a tests/arch tests/unit "$tmp/tree/tests/"
    cp -a tools/deps.sh "$tmp/tree/tools/"
    # The build's packages are this tree's: no install step in the copy.
    touch "$tmp/tree/build/.deps-build" "$tmp/tree/build/.deps-test"
}

check() { # output of the check in the copy; its status in $status
    out=$(cd "$tmp/tree" && python3 tests/arch/check-arch.py "$@" 2>&1)
    status=$?
}

expect_fail() { # name, text the output must contain, check arguments...
    name=$1
    want=$2
    shift 2
    check "$@"
    if [ -n "$broken" ] && cmp -s "$repo/$broken" "$tmp/tree/$broken"; then
        fail "$name: $broken is unchanged (the case no longer matches the tree: update it)"
    elif [ "$status" -eq 0 ]; then
        fail "$name: the check passed" "$out"
    elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
        fail "$name: no line with: $want" "$out"
    else
        ok "$name"
    fi
}

# Appends a line to FILE after the line matching PATTERN (first one).
insert_after() { # file, pattern, line
    awk -v pat="$2" -v line="$3" '{ print } !done && $0 ~ pat { print line; done = 1 }' \
        "$1" >"$1.new" && mv "$1.new" "$1"
}

copy ""
check
if [ "$status" -eq 0 ]; then ok "the tree as it is passes"; else fail "the tree as it is fails" "$out"; fi

copy src/text.c
insert_after "$tmp/tree/src/text.c" '^#include "text.h"' '#include "store.h"'
expect_fail "an include the map does not allow" \
    'src/text.c:2: text includes store.h, but src/modules.txt does not let text use store ('

copy src/hub.h
insert_after "$tmp/tree/src/hub.h" '^#include "store.h"' '#include "deliver.h"'
expect_fail "an include in a header" \
    'hub includes deliver.h, but src/modules.txt does not let hub use deliver ('

copy src/feed.h
sed -i 's/Calls libc (pthread)\./Calls libc (pthread) and log./' "$tmp/tree/src/feed.h"
expect_fail "a Calls sentence naming a module the map does not" \
    "src/feed.h: feed's 'Calls' sentence names log, but src/modules.txt does not let feed use log ("

copy src/pool.h
sed -i 's/^ \* Calls only libc and log\./ * Calls only libc./' "$tmp/tree/src/pool.h"
expect_fail "a Calls sentence leaving a module out" \
    "src/pool.h: pool's 'Calls' sentence leaves out log, which src/modules.txt lets pool use"

copy docs/DESIGN.md
sed -i 's/^\(| `feed` | a ring of encoded frames[^|]*| \)– |$/\1store |/' "$tmp/tree/docs/DESIGN.md"
expect_fail "DESIGN.md's table drifting from the map" \
    "the module table's 'may call' of feed names store, but src/modules.txt does not let feed use store"

copy src/modules.txt
sed -i 's/^hub: \(.*\)$/hub: \1 deliver/' "$tmp/tree/src/modules.txt"
expect_fail "the map allowing what DESIGN.md and the header do not say" \
    "src/hub.h: hub's 'Calls' sentence leaves out deliver, which src/modules.txt lets hub use"

copy ""
printf '/*\n * extra - new. Calls nothing.\n */\n' >"$tmp/tree/src/extra.h"
expect_fail "a module missing from the map" \
    "src: module extra is not in src/modules.txt: add 'extra: <modules it uses>'"

# A call without the include: text.c declares and calls log_set_level itself.
# The object check sees it, and test_text (text alone) does not link.
copy src/text.c
insert_after "$tmp/tree/src/text.c" '^#include "text.h"' 'void log_set_level(int level);'
awk '{ print } /^bool text_valid_name\(/ { f = 1 } f && /^\{/ { print "    log_set_level(1);"; f = 0 }' \
    "$tmp/tree/src/text.c" >"$tmp/text.c" && mv "$tmp/text.c" "$tmp/tree/src/text.c"
if (cd "$tmp/tree" && $MAKE -s build/desktop/obj/text.o build/desktop/obj/log.o) >"$tmp/out" 2>&1; then
    expect_fail "a call the map does not allow, in the objects" \
        "build/desktop/obj/text.o: text uses log_set_level of log, but src/modules.txt does not let text use log" \
        --objects build/desktop/obj
    if (cd "$tmp/tree" && $MAKE -s build/desktop/tests/test_text) >"$tmp/out" 2>&1; then
        fail "a unit test links a call the map does not allow" "$(cat "$tmp/out")"
    elif grep -q "undefined reference to .log_set_level" "$tmp/out"; then
        ok "a unit test does not link a call the map does not allow"
    else
        fail "a unit test failed to build, but not for log_set_level" "$(cat "$tmp/out")"
    fi
    # Declared in the map, the same call links.
    sed -i 's/^text:\(.*\)$/text:\1 log/' "$tmp/tree/src/modules.txt"
    if (cd "$tmp/tree" && $MAKE -s build/desktop/tests/test_text) >"$tmp/out" 2>&1; then
        ok "a unit test links a call the map declares"
    else
        fail "a unit test does not link a call the map declares" "$(cat "$tmp/out")"
    fi
else
    fail "building text.o and log.o in the copy" "$(cat "$tmp/out")"
fi

echo "check-arch-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
