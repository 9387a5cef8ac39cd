#!/bin/sh
# Installs, with apt-get, exactly the Debian packages lanchat needs that are
# missing. Usage: tools/deps.sh build|test|e2e|package|cross|bench|all
#   build    compile for this host        test   run the test suites (e2e too)
#   e2e      the browser tests: Debian's chromium and firefox-esr, node and npm, and
#            playwright-core as tests/e2e/package-lock.json pins it (npm ci)
#   package  make and check Debian packages and bundles (make package|bundle)
#   cross    cross-compile for the boards (cross/*.mk), run them under
#            qemu-user, and package them
#   bench    make bench and bench-instr: wrk, perf (fsync counts), valgrind
set -eu

build="gcc make libc6-dev libcivetweb-dev libsqlite3-dev libsodium-dev libcjson-dev libssl-dev"
test="libcmocka-dev python3 sqlite3 binutils curl openssl slowhttptest"
# playwright-core drives these browsers (chromium over CDP, firefox-esr over
# WebDriver BiDi) and never downloads one. node and
# npm may come from elsewhere (NodeSource's nodejs includes npm and conflicts
# with Debian's npm): Debian's are installed only when the command is missing.
# zbarimg (zbar-tools) reads the trust page's QR codes (tests/web too),
# certutil (libnss3-tools) makes the browsers' certificate stores, openssl
# prints the CA's fingerprint.
e2e="chromium firefox-esr fonts-dejavu-core zbar-tools libnss3-tools openssl"
command -v node >/dev/null 2>&1 || e2e="$e2e nodejs"
command -v npm >/dev/null 2>&1 || e2e="$e2e npm"
package="binutils file dpkg-dev lintian systemd"
bench="wrk linux-perf valgrind python3 sqlite3"
# Compilers, their C libraries and qemu are named by cross/*.mk (*_PACKAGE);
# the target's other libraries are not installed here but unpacked per
# architecture by tools/sysroot.sh from Debian's archive.
cross="$(sed -n 's/^[A-Z_]*_PACKAGE := //p' "$(dirname "$0")"/../cross/*.mk | sort -u)
       $package debian-archive-keyring"

node_modules=no
case "${1:-all}" in
build) wanted=$build ;;
test) wanted="$build $test $e2e"; node_modules=yes ;;
e2e) wanted="$build $e2e"; node_modules=yes ;;
package) wanted="$build $package" ;;
cross) wanted="$build $cross" ;;
bench) wanted="$build $bench" ;;
all) wanted="$build $test $e2e $cross"; node_modules=yes ;;
*) echo "usage: tools/deps.sh build|test|e2e|package|cross|bench|all" >&2; exit 2 ;;
esac

missing=""
for pkg in $wanted; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $pkg" ;;
    esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null; then
        $sudo apt-get update -q >/dev/null
        $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
fi

# tests/e2e/node_modules, as the lock file pins it: installed again when it is
# missing or older than the lock file (npm writes node_modules/.package-lock.json).
[ "$node_modules" = yes ] || exit 0
e2e_dir="$(dirname "$0")/../tests/e2e"
installed="$e2e_dir/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ -n "$(find "$e2e_dir/package-lock.json" -newer "$installed")" ]; then
    echo "deps: npm ci in tests/e2e" >&2
    (cd "$e2e_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
