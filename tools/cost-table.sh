#!/bin/sh
# What each feature switch of src/config.h costs in code on one board: builds
# the binary with that switch off alone (make FLAGS=no-<feature>, into
# build/<board>-no-<feature>/) and prints size(1)'s text, data and bss of the
# full build and what each feature adds to them. `make [BOARD=x] cost-table`;
# `tools/cost-table.sh BOARD FEATURE...` measures only those features.
# The figures config.h states for each CHAT_WITH_* come from this table.
set -eu
cd "$(dirname "$0")/.."
board=${1:-desktop}
[ $# -gt 0 ] && shift
features=${*:-accounts rooms metrics embedded-web tls mqtt search moderation direct typing backups}
MAKE=${MAKE:-make}
triple=$($MAKE -s --no-print-directory BOARD="$board" board-info | sed -n 's/^triple=//p')
size=${triple:+$triple-}size

sizes() { # binary -> "text data bss"
    "$size" "$1" | awk 'NR == 2 { print $1, $2, $3 }'
}

$MAKE -s BOARD="$board" "build/$board/lanchat"
set -- $(sizes "build/$board/lanchat")
text=$1 data=$2 bss=$3
echo "cost of each feature on $board (size(1) of build/$board/lanchat, -Os):"
printf '  %-14s %9s %9s %9s\n' feature text data bss
printf '  %-14s %9d %9d %9d\n' "(all on)" "$text" "$data" "$bss"
for feature in $features; do
    $MAKE -s BOARD="$board" FLAGS="no-$feature" "build/$board-no-$feature/lanchat"
    set -- $(sizes "build/$board-no-$feature/lanchat")
    printf '  %-14s %+9d %+9d %+9d\n' "$feature" $((text - $1)) $((data - $2)) $((bss - $3))
done
