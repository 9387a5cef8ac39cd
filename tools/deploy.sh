#!/bin/sh
# Builds lanchat for BOARD, copies it to HOST over ssh and installs it there:
# the Debian package through apt (which brings libcivetweb1, libsqlite3-0,
# libsodium23, libcjson1, libssl3 and libmosquitto1 from the board's own
# repositories), or, for a
# bundle board (rpi-zero), the bundle through its install.sh. The service is
# started; browsers then open http://HOST:8080 (or http://<hostname>.local:8080).
#
# Usage: tools/deploy.sh [USER@]HOST [BOARD]      BOARD defaults to rpi4
# Needs: ssh (and scp) access to HOST, sudo there (asked for on the terminal).
# Not run by CI: it changes another machine.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: tools/deploy.sh [USER@]HOST [BOARD]   (boards: $(ls "$(dirname "$0")/../board" | tr '\n' ' '))" >&2
    exit 2
fi
host=$1
board=${2:-rpi4}
cd "$(dirname "$0")/.."
for tool in ssh scp; do
    command -v $tool >/dev/null 2>&1 || { echo "deploy: $tool not found (apt-get install openssh-client)" >&2; exit 1; }
done
info=$(make -s --no-print-directory BOARD="$board" board-info)
get() { echo "$info" | sed -n "s/^$1=//p"; }
arch=$(get arch)
version=$(get version)
kind=$(get package)

# Refuse early when the board profile does not fit the machine's userland.
remote=$(ssh "$host" 'echo "$(uname -m) $(dpkg --print-architecture 2>/dev/null || echo none)"') || {
    echo "deploy: cannot reach $host over ssh" >&2
    exit 1
}
machine=${remote% *}
remote_arch=${remote#* }

if [ "$kind" = bundle ]; then
    case "$machine" in
    arm*) ;;
    *) echo "deploy: $host is $machine; the $board bundle needs a 32-bit ARM or ARMv8 CPU" >&2; exit 1 ;;
    esac
    make -s BOARD="$board" bundle
    name=lanchat-$version-$board
    echo "deploy: $name.tar.gz -> $host"
    scp -q "build/$board/$name.tar.gz" "$host:/tmp/"
    ssh -t "$host" "set -e; cd /tmp; rm -rf '$name'; tar -xzf '$name.tar.gz';
        sudo './$name/install.sh'; rm -rf '$name' '$name.tar.gz'"
else
    if [ "$remote_arch" != "$arch" ]; then
        echo "deploy: $host runs a $remote_arch userland; the $board package is $arch." >&2
        echo "        Pick the board that matches it (rpi4/rpi5: arm64, rpi3: armhf, rpi-zero: any)." >&2
        exit 1
    fi
    make -s BOARD="$board" package
    deb=lanchat_${version}_$arch.deb
    echo "deploy: $deb -> $host"
    scp -q "build/$board/$deb" "$host:/tmp/"
    ssh -t "$host" "set -e; sudo apt-get update -q; sudo apt-get install -y '/tmp/$deb'; rm -f '/tmp/$deb'"
fi
echo "deploy: done; open http://$(echo "$host" | sed 's/.*@//'):8080"
