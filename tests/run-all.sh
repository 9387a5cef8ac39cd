#!/bin/sh
# Runs test suites of lanchat and ends with one line "N passed, N failed"
# totalling them; each suite ends with "<suite>: N passed, N failed".
#   tests/run-all.sh [GROUP...]      no GROUP: desktop;
#   `make test-desktop` runs: checks desktop
#   `make test` runs: checks desktop sanitizers boards package emulated:rpi4
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
# A group whose build fails counts as one failure; the others still run.
# Each suite, build and group ends with a line "=== <name> took N s".
set -eu
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
total_passed=0
total_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

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
    fuzz_log=$(mktemp)
    fuzz_t0=$(date +%s)
    $MAKE -s fuzz >"$fuzz_log" 2>&1 &
    fuzz_pid=$!
    run_suite unit-asan $MAKE -s SANITIZE=address unit
    run_suite integration-asan $MAKE -s test-asan
    run_suite integration-tsan $MAKE -s test-tsan
    wait "$fuzz_pid" || true
    echo "=== make fuzz (beside the three above) took $(($(date +%s) - fuzz_t0)) s"
    run_suite fuzz cat "$fuzz_log"
    rm -f "$fuzz_log"
}

[ $# -gt 0 ] || set -- desktop
for group in "$@"; do
    group_t0=$(date +%s)
    case "$group" in
    checks) checks ;;
    desktop) desktop ;;
    boards) run_suite boards sh tests/package/boards.sh ;;
    package) package ;;
    emulated:?*) emulated "${group#emulated:}" ;;
    sanitizers) sanitizers ;;
    *)
        echo "tests/run-all.sh: unknown group '$group'" \
            "(checks, desktop, sanitizers, boards, package, emulated:BOARD)" >&2
        exit 2
        ;;
    esac
    echo "=== group $group took $(($(date +%s) - group_t0)) s"
done

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
