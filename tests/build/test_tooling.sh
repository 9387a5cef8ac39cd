#!/bin/sh
# The test runners are quiet when all passes and say everything when not: the
# unit runner prints one line per test binary and the output of a failing one
# only; each runner's summary carries the suite's own name (--suite); the
# integration harness finds the binary from its repository, wherever it is
# started; `make help` names real targets. Usage: tests/build/test_tooling.sh
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/tests/lib/check.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Stand-ins for cmocka binaries: their report and the modules' log lines.
cat >"$dir/test_pass" <<'EOF'
#!/bin/sh
echo "[==========] Running 3 test(s)."
echo "2026-01-01T00:00:00.000Z error store: cannot open /nowhere/chat.db (a tested error path)" >&2
echo "[       OK ] test_a"
echo "[  PASSED  ] 3 test(s)."
EOF
cat >"$dir/test_fail" <<'EOF'
#!/bin/sh
echo "[ RUN      ] test_b"
echo "2026-01-01T00:00:00.000Z error pool: the line that explains it" >&2
echo "[  FAILED  ] test_b"
echo "[  PASSED  ] 2 test(s)."
echo "[  FAILED  ] 1 test(s), listed below:"
echo "[  FAILED  ] test_b"
exit 1
EOF
printf '#!/bin/sh\necho "[ RUN      ] test_c"\nkill -SEGV $$\n' >"$dir/test_crash"
chmod +x "$dir/test_pass" "$dir/test_fail" "$dir/test_crash"

unit_passing_binary_prints_one_line() {
    out=$(sh "$repo/tests/unit/run.sh" unit-x "$dir/test_pass") || return 1
    printf '%s\n' "$out"
    [ "$out" = "ok   test_pass: 3 passed
unit-x: 3 passed, 0 failed" ]
}

unit_failing_binary_shows_its_whole_output() {
    if out=$(sh "$repo/tests/unit/run.sh" unit-x "$dir/test_pass" "$dir/test_fail"); then
        echo "exit status 0 with a failing binary"
        return 1
    fi
    printf '%s\n' "$out"
    printf '%s\n' "$out" | grep -qx "FAIL test_fail: 1 failed: test_b" &&
        printf '%s\n' "$out" | grep -q "^    .* error pool: the line that explains it$" &&
        ! printf '%s\n' "$out" | grep -q "a tested error path" &&
        printf '%s\n' "$out" | tail -1 | grep -qx "unit-x: 5 passed, 1 failed"
}

unit_crash_without_a_summary_is_a_failure() {
    out=$(sh "$repo/tests/unit/run.sh" unit-x "$dir/test_crash") && return 1
    printf '%s\n' "$out"
    printf '%s\n' "$out" | grep -q "^FAIL test_crash: exited 139 without a cmocka summary" &&
        printf '%s\n' "$out" | tail -1 | grep -qx "unit-x: 0 passed, 1 failed"
}

integration_summary_carries_the_suite_name() {
    out=$(python3 "$repo/tests/integration/run.py" --bin "$dir/none" --suite integration-rpi9) &&
        return 1
    printf '%s\n' "$out"
    printf '%s\n' "$out" | tail -1 | grep -qx "integration-rpi9: 0 passed, 1 failed"
}

e2e_summary_carries_the_suite_name() {
    out=$(node "$repo/tests/e2e/run.mjs" --bin "$dir/none" --suite e2e-x) && return 1
    printf '%s\n' "$out"
    printf '%s\n' "$out" | tail -1 | grep -qx "e2e-x: 0 passed, 1 failed"
}

# Started from elsewhere, without LANCHAT_BIN: this repository's build.
harness_finds_the_binary_from_the_repository() {
    found=$(cd / && env -u LANCHAT_BIN python3 -c "import sys; sys.dont_write_bytecode = True
sys.path.insert(0, '$repo/tests/integration'); import harness; print(harness.binary())")
    echo "$found"
    [ "$found" = "$repo/build/desktop/lanchat" ]
}

# Each target `make help` names (its command column) is one of the Makefile's.
make_help_names_real_targets() {
    phony=" $(make -C "$repo" -qp 2>/dev/null | sed -n 's/^\.PHONY: //p') "
    named=$(make -C "$repo" -s help | cut -c1-38 | tr ' |' '\n' | grep -E '^[a-z][a-z0-9-]*$' |
        grep -vx make)
    [ -n "$named" ] || return 1
    for t in $named; do
        case "$phony" in *" $t "*) ;; *) echo "make help names $t, which is no target" && return 1 ;; esac
    done
}

check unit_passing_binary_prints_one_line unit_passing_binary_prints_one_line
check unit_failing_binary_shows_its_whole_output unit_failing_binary_shows_its_whole_output
check unit_crash_without_a_summary_is_a_failure unit_crash_without_a_summary_is_a_failure
check integration_summary_carries_the_suite_name integration_summary_carries_the_suite_name
check e2e_summary_carries_the_suite_name e2e_summary_carries_the_suite_name
check harness_finds_the_binary_from_the_repository harness_finds_the_binary_from_the_repository
check make_help_names_real_targets make_help_names_real_targets
check_summary tooling
