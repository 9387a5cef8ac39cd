#!/bin/sh
# Installs, with apt-get, exactly the Debian packages lanchat needs that are
# missing. Usage: tools/deps.sh build|test|package|cross|all
#   build    compile for this host        test   run the test suites
#   package  make and check Debian packages and bundles (make package|bundle)
#   cross    cross-compile for the boards (cross/*.mk), run them under
#            qemu-user, and package them
set -eu

build="gcc make libc6-dev libcivetweb-dev libsqlite3-dev libsodium-dev libcjson-dev"
test="libcmocka-dev python3 sqlite3 binutils"
package="binutils file dpkg-dev lintian systemd"
# Compilers, their C libraries and qemu are named by cross/*.mk (*_PACKAGE);
# the target's other libraries are not installed here but unpacked per
# architecture by tools/sysroot.sh from Debian's archive.
cross="$(sed -n 's/^[A-Z_]*_PACKAGE := //p' "$(dirname "$0")"/../cross/*.mk | sort -u)
       $package debian-archive-keyring"

case "${1:-all}" in
build) wanted=$build ;;
test) wanted="$build $test" ;;
package) wanted="$build $package" ;;
cross) wanted="$build $cross" ;;
all) wanted="$build $test $cross" ;;
*) echo "usage: tools/deps.sh build|test|package|cross|all" >&2; exit 2 ;;
esac

missing=""
for pkg in $wanted; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *" installed") ;;
    *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
