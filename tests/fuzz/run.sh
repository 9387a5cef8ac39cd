#!/bin/sh
# Runs the libFuzzer targets built by `make fuzz`:
#   tests/fuzz/run.sh DIR SECONDS
# SECONDS 0 (make fuzz-replay): each DIR/fuzz_<name> runs every input of
# tests/fuzz/corpus/<name>/ once: the hand-made seeds and every input that
# once made a target fail, kept there as a regression test. SECONDS > 0
# (make fuzz): each target fuzzes for SECONDS, starting from those inputs
# (all run first, so a regression fails here too) and what earlier runs
# found (DIR/corpus/<name>/). One line per target; a failure prints the
# report and keeps the input in DIR/artifacts/. Ends with
# "fuzz: N passed, N failed" ("fuzz-replay: ..." when SECONDS is 0).
set -u
dir=$1
seconds=$2
suite=fuzz
[ "$seconds" -gt 0 ] || suite=fuzz-replay
here=$(dirname "$0")
passed=0
failed=0
mkdir -p "$dir/artifacts"
for bin in "$dir"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    seeds=$here/corpus/$name
    log=$dir/$name.log
    if [ ! -d "$seeds" ] || [ -z "$(ls "$seeds")" ]; then
        echo "FAIL fuzz_$name: no seed corpus in $seeds"
        failed=$((failed + 1))
        continue
    fi
    if [ "$seconds" -eq 0 ]; then
        # Each input once; a crash, a leak, a sanitizer report or an abort()
        # of the target's own checks is a failure.
        if "$bin" -close_fd_mask=3 "$seeds"/* >"$log" 2>&1; then
            echo "ok   fuzz_$name replay ($(ls "$seeds" | wc -l) inputs)"
            passed=$((passed + 1))
        else
            echo "FAIL fuzz_$name replay:"
            grep -v '^INFO\|^Running\|^Executed' "$log" | tail -60
            failed=$((failed + 1))
        fi
        continue
    fi
    mkdir -p "$dir/corpus/$name"
    start=$(date +%s)
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
        "$dir/corpus/$name" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "ok   fuzz_$name $(($(date +%s) - start)) s, ${runs:-?} runs," \
            "$(ls "$dir/corpus/$name" | wc -l) inputs in its corpus"
        passed=$((passed + 1))
    else
        echo "FAIL fuzz_$name after $(($(date +%s) - start)) s:"
        grep -v '^#\|^INFO\|^stat::' "$log" | tail -60
        ls "$dir/artifacts/$name-"* 2>/dev/null | sed 's/^/  input: /'
        failed=$((failed + 1))
    fi
done
echo "$suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
