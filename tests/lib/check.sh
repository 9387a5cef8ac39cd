# Shared by the shell test suites (sourced): check NAME COMMAND... runs the
# command, prints "ok   NAME" or "FAIL NAME" with the tail of its output, and
# counts; check_summary SUITE prints "SUITE: N passed, N failed" and returns
# non-zero when anything failed. The caller may set CHECK_LOG to a file path.
passed=0
failed=0
CHECK_LOG=${CHECK_LOG:-$(mktemp)}

check() {
    check_name=$1
    shift
    if "$@" >"$CHECK_LOG" 2>&1; then
        echo "ok   $check_name"
        passed=$((passed + 1))
    else
        echo "FAIL $check_name"
        sed 's/^/    /' "$CHECK_LOG" | tail -20
        failed=$((failed + 1))
    fi
}

check_summary() {
    rm -f "$CHECK_LOG"
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
