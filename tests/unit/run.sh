#!/bin/sh
# Runs cmocka test binaries: one line per binary, "ok   NAME: N passed" or
# "FAIL NAME: ..." followed by that binary's whole output (cmocka's report and
# the log lines of the modules under test), and ends with
# "<suite>: N passed, N failed". A passing binary's output is not shown.
# Usage: tests/unit/run.sh SUITE BINARY...
suite=$1
shift
passed=0
failed=0
for bin in "$@"; do
    out=$("$bin" 2>&1)
    status=$?
    name=${bin##*/}
    why=""
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    if [ -z "$p" ] && [ -z "$f" ]; then
        why="exited $status without a cmocka summary"
        f=1
    elif [ "$status" -ne 0 ] && [ -z "$f" ]; then
        why="exited $status"
        f=1
    elif [ -n "$f" ] && [ "$f" -gt 0 ]; then
        # cmocka names each failed test again below its count
        names=$(printf '%s\n' "$out" |
            sed -n '/listed below:$/,$ s/^\[  FAILED  \] \(test_[^ ]*\).*/\1/p' | paste -sd' ' -)
        why="$f failed: $names"
    fi
    if [ "${f:-0}" -eq 0 ]; then
        echo "ok   $name: ${p:-0} passed"
    else
        echo "FAIL $name: $why"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
echo "$suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
