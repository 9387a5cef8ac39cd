#!/bin/sh
# Installs, with apt-get, exactly the Debian packages lanchat needs that are
# missing. Usage: tools/deps.sh build|test|e2e|package|cross|bench|all
#   build    compile for this host        test   run the test suites (e2e too)
#   e2e      the browser tests: Debian's chromium and firefox-esr, node and npm, and
#            playwright-core as tests/e2e/package-lock.json pins it (npm ci)
#   package  make and check Debian packages and bundles (make package|bundle)
#   cross    cross-compile for the boards (cross/*.mk), run them under
#            qemu-user, and package them
#   bench    make bench and bench-instr: wrk, perf (fsync counts), valgrind,
#            mosquitto (S10)
# Prints one line per phase ("deps: downloading N packages for GROUP: ...",
# "deps: done in N s") and nothing when all is there; apt's and npm's own
# output only when they fail.
set -eu

build="gcc make libc6-dev libcivetweb-dev libsqlite3-dev libsodium-dev libcjson-dev libssl-dev libmosquitto-dev"
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
# mosquitto, mosquitto-clients: tests/integration/test_mqtt.py runs a private
# broker (/usr/sbin/mosquitto -c <its own config>, on a free port) and posts as
# a device with mosquitto_pub. The package's own system broker (port 1883) is
# not used.
test="$test mosquitto mosquitto-clients"
package="binutils file dpkg-dev lintian systemd"
bench="wrk linux-perf valgrind python3 sqlite3 mosquitto"
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
count=0
for pkg in $wanted; do
    case " $missing " in *" $pkg "*) continue ;; esac
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $pkg" count=$((count + 1)) ;;
    esac
done

started=$(date +%s)
worked=no
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One line per phase on stderr; apt's and npm's own output goes to $log and is
# shown (its error lines, else its last lines) only when the phase fails.
packages() { # count
    if [ "$1" -eq 1 ]; then echo "1 package"; else echo "$1 packages"; fi
}
fail() { # what
    echo "deps: FAILED: $1:" >&2
    grep -E '^(E: |W: |Err:|npm ERR!|npm error)' "$log" >&2 || tail -n 20 "$log" >&2
    exit 1
}

if [ -n "$missing" ]; then
    worked=yes
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    # another apt at work (an unattended upgrade): wait for it, not fail
    wait_lock=-oDPkg::Lock::Timeout=600
    # A fresh system has no package lists (every name would be "Unable to
    # locate package"), an old one may lack a newer package or version: update
    # first then. The simulation needs no root and changes nothing.
    lists=/var/lib/apt/lists
    eval "$(apt-config shell lists Dir::State::Lists/d 2>/dev/null)" || true
    has_lists() {
        for f in "$lists"/*_Packages*; do [ -e "$f" ] && return 0; done
        return 1
    }
    # shellcheck disable=SC2086 # the package list is split on purpose
    simulate() {
        apt-get -q --simulate install --no-install-recommends $missing >"$log" 2>&1
    }
    update() { # why
        echo "deps: apt-get update ($1)" >&2
        $sudo apt-get -q "$wait_lock" update >"$log" 2>&1 || fail "apt-get update"
        updated=yes
    }
    # shellcheck disable=SC2086
    download() {
        $sudo apt-get -q -y "$wait_lock" install --download-only --no-install-recommends $missing \
            >"$log" 2>&1
    }
    updated=no
    if ! has_lists; then
        update "this system has no package lists yet"
    elif ! simulate; then
        update "the package lists lack some of them"
    fi
    simulate || fail "apt-get cannot install$missing"
    all=$(grep -c '^Inst ' "$log" || true)
    echo "deps: downloading $(packages "$count") for ${1:-all} ($all with what they need):$missing" >&2
    if ! download; then
        # A mirror has moved on from old lists: what they name is gone.
        [ "$updated" = no ] || fail "apt-get download"
        update "a download failed: the package lists are out of date"
        download || fail "apt-get download"
    fi
    echo "deps: unpacking and setting up $(packages "$all")" >&2
    # shellcheck disable=SC2086
    $sudo apt-get -q -y "$wait_lock" install --no-install-recommends $missing >"$log" 2>&1 ||
        fail "apt-get install$missing"
fi

# tests/e2e/node_modules, as the lock file pins it: installed again when it is
# missing or older than the lock file (npm writes node_modules/.package-lock.json).
e2e_dir="$(dirname "$0")/../tests/e2e"
installed="$e2e_dir/node_modules/.package-lock.json"
if [ "$node_modules" = yes ] && { [ ! -f "$installed" ] ||
    [ -n "$(find "$e2e_dir/package-lock.json" -newer "$installed")" ]; }; then
    worked=yes
    echo "deps: npm ci in tests/e2e (playwright-core as package-lock.json pins it)" >&2
    (cd "$e2e_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || fail "npm ci in tests/e2e"
fi
[ "$worked" = no ] || echo "deps: done in $(($(date +%s) - started)) s" >&2
