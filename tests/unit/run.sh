#!/bin/sh
# Runs cmocka test binaries and ends with "<suite>: N passed, N failed".
# Usage: tests/unit/run.sh SUITE BINARY...
suite=$1
shift
passed=0
failed=0
for bin in "$@"; do
    out=$("$bin" 2>&1)
    status=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    if [ -z "$p" ] && [ -z "$f" ]; then
        echo "FAIL $bin: exited $status without a cmocka summary"
        f=1
    elif [ "$status" -ne 0 ] && [ -z "$f" ]; then
        echo "FAIL $bin: exited $status"
        f=1
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
echo "$suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
