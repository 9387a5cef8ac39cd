#!/bin/sh
# Every board profile builds (make BOARD=x, i.e. make cross-all) into a binary
# for its CPU and ABI: the machine and float ABI of its Debian architecture,
# and on 32-bit ARM the architecture of the CPU that the board's -mcpu names.
# Prints "ok   name" / "FAIL name" and "boards: N passed, N failed".
# Usage: tests/package/boards.sh [BOARD...]   (default: every board/*/board.mk)
set -eu
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
. tests/lib/check.sh


is_for() { # binary, debian arch, -mcpu value or empty
    header=$(readelf -h "$1")
    case "$2" in
    amd64) want="X86-64" ;;
    arm64) want="AArch64" ;;
    armhf) want="ARM .*hard-float ABI" ;;
    armel) want="ARM .*soft-float ABI" ;;
    *) echo "no expectation for $2"; return 1 ;;
    esac
    echo "$header" | tr '\n' ' ' | grep -q "Machine: .*$want" ||
        { echo "$header"; echo "expected $want"; return 1; }
    [ "$2" != arm64 ] && [ -n "$3" ] || return 0
    # 32-bit ARM records the architecture the code needs (EABI attributes).
    case "$3" in
    arm1176jzf-s) arch="v6KZ" ;;
    cortex-a7) arch="v7" ;;
    cortex-a53 | cortex-a72) arch="v8" ;;
    *) echo "no expected Tag_CPU_arch for -mcpu=$3 in $0"; return 1 ;;
    esac
    readelf -A "$1" | grep -q "Tag_CPU_arch: $arch\$" ||
        { readelf -A "$1"; echo "expected Tag_CPU_arch: $arch for -mcpu=$3"; return 1; }
}

[ $# -gt 0 ] || set -- $(ls board/*/board.mk | cut -d/ -f2)
for board in "$@"; do
    check "${board}_builds" $MAKE -s BOARD="$board" all
    info=$($MAKE -s --no-print-directory BOARD="$board" board-info)
    arch=$(echo "$info" | sed -n 's/^arch=//p')
    cpu=$(echo "$info" | sed -n 's/^cflags=.*-mcpu=\([^ ]*\).*/\1/p')
    check "${board}_binary_is_for_${arch}${cpu:+_$cpu}" is_for "build/$board/lanchat" "$arch" "$cpu"
done
check_summary boards
