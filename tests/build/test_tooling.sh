#!/bin/sh
# The test runners are quiet when all passes and say everything when not: the
# unit runner prints one line per test binary and the output of a failing one
# only; each runner's summary carries the suite's own name (--suite); the
# integration harness finds the binary from its repository, wherever it is
# started; `make help` names real targets; tests/run-all.sh -j runs its lanes
# at once, prints each group whole and counts each suite once.
# Usage: tests/build/test_tooling.sh
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

# tests/run-all.sh -j in a tree of stand-ins (a copy of it, a make that does
# nothing, suites that only print their summary): the checks group and the
# boards group each wait for a file that the other writes (30 s at most), so
# they pass only if their lanes run at once; yet each group's lines come out
# together, and the last line counts each suite once.
run_all_j_runs_lanes_at_once_and_prints_each_group_whole() {
    tree=$dir/run-all
    mkdir -p "$tree/tests/arch" "$tree/tests/package"
    cp "$repo/tests/run-all.sh" "$tree/tests/"
    printf '#!/bin/sh\nexit 0\n' >"$tree/make"
    chmod +x "$tree/make"
    cat >"$tree/handshake" <<'EOF'
# handshake MINE OTHER: writes MINE, then waits for OTHER (30 s at most)
touch "$1"
i=0
while [ ! -f "$2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$2" ] || { echo "no $2: the lanes ran one after another"; exit 1; }
EOF
    echo 'sh handshake checks.here boards.here && echo "check-arch-test: 2 passed, 1 failed"' \
        >"$tree/tests/arch/test_check.sh"
    echo 'sh handshake boards.here checks.here && echo "boards: 3 passed, 0 failed"' \
        >"$tree/tests/package/boards.sh"
    out=$(cd "$tree" && MAKE=$tree/make sh tests/run-all.sh -j checks boards) && return 1
    printf '%s\n' "$out"
    # lint and check-arch pass (the make that does nothing), then 2 + 3 and 1
    [ "$(printf '%s\n' "$out" | tail -1)" = "7 passed, 1 failed" ] || return 1
    # c: a line of group checks, b: of group boards; each group's together
    order=$(printf '%s\n' "$out" | awk '/^(=== )?(group )?(lint|check-arch|checks)/ { print "c" }
        /^(=== )?(group )?boards/ { print "b" }' | uniq | tr -d '\n')
    [ "$order" = cb ] || [ "$order" = bc ] || { echo "groups interleaved: $order"; return 1; }
}

check unit_passing_binary_prints_one_line unit_passing_binary_prints_one_line
check unit_failing_binary_shows_its_whole_output unit_failing_binary_shows_its_whole_output
check unit_crash_without_a_summary_is_a_failure unit_crash_without_a_summary_is_a_failure
check integration_summary_carries_the_suite_name integration_summary_carries_the_suite_name
check e2e_summary_carries_the_suite_name e2e_summary_carries_the_suite_name
check harness_finds_the_binary_from_the_repository harness_finds_the_binary_from_the_repository
check make_help_names_real_targets make_help_names_real_targets
check run_all_j_runs_lanes_at_once_and_prints_each_group_whole \
    run_all_j_runs_lanes_at_once_and_prints_each_group_whole
check_summary tooling
