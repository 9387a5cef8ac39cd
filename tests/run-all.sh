#!/bin/sh
# Runs test suites of lanchat and ends with one line "N passed, N failed"
# totalling them; each suite ends with "<suite>: N passed, N failed".
#   tests/run-all.sh [-j] [GROUP...]      no GROUP: desktop;
#   `make test-desktop` runs: checks desktop
#   `make test` runs: -j checks desktop sanitizers boards package emulated:rpi4
#   emulated:rpi-zero
# Groups:
#   checks          make lint, make check-arch (the module map,
#                   src/modules.txt) and the test of that check
#                   (tests/arch/test_check.sh)
#   desktop         unit, flags, integration and browser (e2e) suites of the
#                   desktop builds, the QR encoder against zbarimg (qr) and
#                   the page's pure logic in node (web-unit), the test
#                   runners and `make help` themselves (tooling)
#   boards          every board profile builds for its CPU (make cross-all)
#   package         the Debian packages (amd64, arm64) and the rpi-zero bundle
#   emulated:BOARD  BOARD's unit and integration suites under qemu-user
#   sanitizers      the unit suite under ASan+UBSan, the integration suite
#                   against the ASan+UBSan and the TSan builds (make
#                   test-asan, test-tsan), while the fuzz targets run beside
#                   them (make fuzz, FUZZ_SECONDS each)
# The groups run one after another, in the order given, unless -j: then they
# run in three lanes at once, which build no directory in common: checks and
# desktop (build/desktop*/); sanitizers (build/desktop-{asan,tsan,fuzz}/);
# boards, package and emulated:BOARD (which all build the cross boards'
# build/<board>/). Within a lane the groups run in the order given. What more
# than one lane builds is built first, alone: the host tools (build/loadgen,
# build/powerloss.so), then build/desktop/, which boards and package use too;
# if one of these builds fails, the lanes that need it run as one. Each
# group's output is kept apart and printed whole when the group ends, so with
# -j the groups come in the order they end.
# A group whose build fails counts as one failure; the others still run.
# Each suite, build and group ends with a line "=== <name> took N s".
set -eu
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
total_passed=0
total_failed=0
tmp=$(mktemp -d)
log=$tmp/suite.log
trap 'rm -rf "$tmp"' EXIT

run_suite() { # name, command...
    name=$1
    shift
    echo "=== $name"
    t0=$(date +%s)
    "$@" 2>&1 | tee "$log" || true
    echo "=== $name took $(($(date +%s) - t0)) s"
    # its own name: a suite reporting under another's would be counted twice
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1 || true)
    if [ -z "$line" ]; then
        echo "$name: no summary line '$name: N passed, N failed'; counted as 1 failure"
        total_failed=$((total_failed + 1))
        return 0
    fi
    p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
    f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
}

build() { # what, make arguments...
    what=$1
    shift
    t0=$(date +%s)
    if ! $MAKE -s "$@" >"$log" 2>&1; then
        cat "$log"
        echo "build failed: $what (make $*); counted as 1 failure"
        total_failed=$((total_failed + 1))
        return 1
    fi
    echo "=== build $what (make $*) took $(($(date +%s) - t0)) s"
}

check() { # name, command...: one check, one test of its own
    name=$1
    shift
    if "$@"; then
        echo "$name: 1 passed, 0 failed"
    else
        echo "$name: 0 passed, 1 failed"
    fi
}

checks() {
    run_suite lint check lint $MAKE -s lint
    run_suite check-arch check check-arch $MAKE -s check-arch
    run_suite check-arch-test sh tests/arch/test_check.sh
}

desktop() {
    build desktop all && build desktop-minimal FLAGS=minimal all || return 0
    run_suite unit $MAKE -s unit
    run_suite unit-minimal $MAKE -s FLAGS=minimal unit
    run_suite flags sh tests/build/test_flags.sh build/desktop/lanchat build/desktop-minimal/lanchat
    run_suite tooling sh tests/build/test_tooling.sh
    run_suite integration python3 tests/integration/run.py --bin build/desktop/lanchat
    run_suite integration-minimal python3 tests/integration/run.py --bin build/desktop-minimal/lanchat \
        --suite integration-minimal
    run_suite qr node tests/web/test_qr.mjs
    run_suite web-unit node tests/web/test_logic.mjs
    run_suite e2e node tests/e2e/run.mjs --bin build/desktop/lanchat
    run_suite e2e-firefox node tests/e2e/run.mjs --bin build/desktop/lanchat --browser firefox
}

package() {
    v=$(sed -n 's/^#define CHAT_VERSION "\(.*\)"$/\1/p' src/config.h)
    build packages package && build packages BOARD=rpi4 package &&
        build packages BOARD=rpi-zero bundle || return 0
    run_suite package sh tests/package/run.sh "build/desktop/lanchat_${v}_amd64.deb" \
        "build/rpi4/lanchat_${v}_arm64.deb" "build/rpi-zero/lanchat-$v-rpi-zero.tar.gz"
}

emulated() { # board
    build "$1" BOARD="$1" all build/"$1"/emulated/lanchat || return 0
    run_suite "unit-$1" $MAKE -s BOARD="$1" unit-emulated
    run_suite "integration-$1" python3 tests/integration/run.py --bin build/"$1"/emulated/lanchat \
        --suite "integration-$1"
}

# The fuzzers are CPU-bound, one core each; the integration suites mostly
# wait for their servers: on two cores they share the time well.
sanitizers() {
    fuzz_log=$tmp/fuzz.log
    fuzz_t0=$(date +%s)
    {
        $MAKE -s fuzz || true
        echo "=== make fuzz (beside the suites below) took $(($(date +%s) - fuzz_t0)) s"
    } >"$fuzz_log" 2>&1 &
    fuzz_pid=$!
    run_suite unit-asan $MAKE -s SANITIZE=address unit
    run_suite integration-asan $MAKE -s test-asan
    run_suite integration-tsan $MAKE -s test-tsan
    wait "$fuzz_pid" || true
    run_suite fuzz cat "$fuzz_log"
}

run_group() { # group
    group_t0=$(date +%s)
    case "$1" in
    checks) checks ;;
    desktop) desktop ;;
    boards) run_suite boards sh tests/package/boards.sh ;;
    package) package ;;
    emulated:?*) emulated "${1#emulated:}" ;;
    sanitizers) sanitizers ;;
    esac
    echo "=== group $1 took $(($(date +%s) - group_t0)) s${RUN_ALL_T0:+ (ended at +$(($(date +%s) - RUN_ALL_T0)) s)}"
}

# tests/run-all.sh --lane DIR ID GROUP... (started by -j below): the groups one
# after another, each one's output into DIR/ID.K.out, printed whole (one lane
# at a time: DIR/print.lock) when it ends, its totals into DIR/ID.K.result.
if [ "${1:-}" = --lane ]; then
    dir=$2
    id=$3
    shift 3
    k=0
    for group in "$@"; do
        k=$((k + 1))
        total_passed=0
        total_failed=0
        run_group "$group" >"$dir/$id.$k.out" 2>&1
        echo "$total_passed $total_failed" >"$dir/$id.$k.result"
        flock "$dir/print.lock" cat "$dir/$id.$k.out"
    done
    exit 0
fi

parallel=no
if [ "${1:-}" = -j ]; then
    parallel=yes
    shift
fi
[ $# -gt 0 ] || set -- desktop
for group in "$@"; do
    case "$group" in
    checks | desktop | boards | package | emulated:?* | sanitizers) ;;
    *)
        echo "tests/run-all.sh: unknown group '$group'" \
            "(checks, desktop, sanitizers, boards, package, emulated:BOARD)" >&2
        exit 2
        ;;
    esac
done

if [ "$parallel" = no ]; then
    for group in "$@"; do
        run_group "$group"
    done
    echo "$total_passed passed, $total_failed failed"
    [ "$total_failed" -eq 0 ]
    exit
fi

# -j: the lanes (see the top of this file), each a session of its own, so that
# a signal to this run stops every process of every lane.
RUN_ALL_T0=$(date +%s)
export RUN_ALL_T0
desktop_lane=""
sanitizers_lane=""
boards_lane=""
for group in "$@"; do
    case "$group" in
    checks | desktop) desktop_lane="$desktop_lane $group" ;;
    sanitizers) sanitizers_lane="$sanitizers_lane $group" ;;
    *) boards_lane="$boards_lane $group" ;;
    esac
done
lanes=0
lane_pids=""
start_lane() { # group...
    [ $# -gt 0 ] || return 0
    lanes=$((lanes + 1))
    setsid sh tests/run-all.sh --lane "$tmp" "$lanes" "$@" &
    lane_pids="$lane_pids $!"
}
stop_lanes() {
    for pid in $lane_pids; do
        kill -TERM "-$pid" 2>/dev/null || true
    done
    echo "tests/run-all.sh: interrupted; the lanes were stopped" >&2
    exit 130
}
trap stop_lanes INT TERM HUP
echo "=== -j: lanes [$desktop_lane ] [$sanitizers_lane ] [$boards_lane ]"
# Built alone, before the lanes that share it; when it fails, those lanes run
# as one, and the groups' own builds report the failure.
prebuild() { # make arguments...
    t0=$(date +%s)
    if $MAKE -s "$@" >"$log" 2>&1; then
        echo "=== build (make $*), before the lanes, took $(($(date +%s) - t0)) s"
    else
        echo "=== build (make $*), before the lanes, failed:"
        cat "$log"
        return 1
    fi
}
if prebuild build/.deps-build build/.deps-test build/loadgen build/powerloss.so; then
    start_lane $sanitizers_lane
    if [ -z "$desktop_lane" ] || [ -z "$boards_lane" ] || prebuild all; then
        start_lane $desktop_lane
        start_lane $boards_lane
    else
        start_lane $desktop_lane $boards_lane
    fi
else
    start_lane "$@"
fi
for pid in $lane_pids; do
    wait "$pid" || true
done
trap - INT TERM HUP

results=0
for result in "$tmp"/*.result; do
    [ -f "$result" ] || continue
    read -r p f <"$result"
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    results=$((results + 1))
done
if [ "$results" -lt $# ]; then
    echo "tests/run-all.sh: $(($# - results)) group(s) ended without their totals;" \
        "each counted as 1 failure"
    total_failed=$((total_failed + $# - results))
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
