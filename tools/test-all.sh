#!/bin/sh
# Runs every test suite of lanchat and ends with one line "N passed, N failed".
# Called by `make test`; each suite ends with "<suite>: N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
total_passed=0
total_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() {
    name=$1
    shift
    echo "=== $name"
    "$@" 2>&1 | tee "$log"
    line=$(grep -E "^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "$name: no summary line; counted as 1 failure"
        total_failed=$((total_failed + 1))
        return
    fi
    p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
    f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
}

if ! $MAKE -s all >/dev/null || ! $MAKE -s FLAGS=minimal all >/dev/null; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
run_suite unit $MAKE -s unit
run_suite flags sh tests/build/test_flags.sh build/desktop/lanchat build/desktop-minimal/lanchat
run_suite integration python3 tests/integration/run.py --bin build/desktop/lanchat
run_suite integration-minimal python3 tests/integration/run.py --bin build/desktop-minimal/lanchat

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
