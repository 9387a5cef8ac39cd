#!/bin/sh
# Builds build/sysroot/ARCH/: Debian's own packages of lanchat's libraries for
# a foreign architecture, unpacked with dpkg -x. Nothing is installed into the
# host and no architecture is added to its dpkg: apt-get runs against a private
# state directory (build/sysroot/.apt/ARCH) with its own sources list.
#
# Usage: tools/sysroot.sh ARCH        (arm64, armhf, armel, ...)
#
# The tree holds the -dev packages (headers, .so links) and the run-time
# closure of the libraries (libc6 and its loader included), so it serves as
# -isystem/-L for the cross compiler, as QEMU_LD_PREFIX for qemu-user and as
# the source of the libraries copied into a bundle. It is complete when
# build/sysroot/ARCH/.packages exists (one "name version" line per package);
# .lists/PACKAGE.list names the files each package brought. apt's index and
# the downloaded packages are deleted once unpacked; its logs stay in
# build/sysroot/.apt/ARCH.
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security),
# DEBIAN_SUITE (default: this host's codename, else bookworm).
set -eu

arch=${1:-}
if [ -z "$arch" ] || [ $# -ne 1 ]; then
    echo "usage: tools/sysroot.sh ARCH   (a Debian architecture: arm64, armhf, armel)" >&2
    exit 2
fi
cd "$(dirname "$0")/.."

# Headers and link-time .so links; their libraries come from the closure below.
dev_packages="libcivetweb-dev libsqlite3-dev libsodium-dev libcjson-dev libcmocka-dev libssl-dev libmosquitto-dev"
# Run-time libraries: the binary's and the unit tests' (cmocka); libssl3 for
# HTTPS (CHAT_WITH_TLS: lanchat links libssl.so.3 and libcrypto.so.3).
runtime_packages="libcivetweb1 libsqlite3-0 libsodium23 libcjson1 libcmocka0 libc6 libssl3 libmosquitto1"

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=${DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
suite=${suite:-bookworm}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

for tool in apt-get apt-cache dpkg-deb; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "sysroot: $tool not found; this script needs a Debian host" >&2
        exit 1
    fi
done
if [ ! -r "$keyring" ]; then
    echo "sysroot: $keyring missing (apt-get install debian-archive-keyring)" >&2
    exit 1
fi

top=$PWD/build/sysroot
state=$top/.apt/$arch
root=$top/$arch
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" \
    "$state/sources.list.d" "$state/preferences.d"
: >"$state/status"
{
    for s in "$suite" "$suite-updates"; do
        echo "deb [arch=$arch signed-by=$keyring] $mirror $s main"
    done
    echo "deb [arch=$arch signed-by=$keyring] $security $suite-security main"
} >"$state/sources.list"

set -- -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" \
    -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" \
    -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache" \
    -o "Dir::Etc::SourceList=$state/sources.list" \
    -o "Dir::Etc::SourceParts=$state/sources.list.d" \
    -o "Dir::Etc::PreferencesParts=$state/preferences.d" -q
# As root, apt drops to the _apt user, which may not write into this tree.
if [ "$(id -u)" -eq 0 ]; then
    set -- "$@" -o APT::Sandbox::User=root
fi

echo "sysroot: $arch from $mirror $suite (index under $state)" >&2
# A foreign index can fail while the mirror syncs; what counts is whether the
# packages below can be found and downloaded.
if ! apt-get "$@" update >"$state/update.log" 2>&1; then
    echo "sysroot: warning: apt-get update reported errors (see $state/update.log);" \
        "trying with the indexes it got" >&2
fi

closure=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances $runtime_packages \
    2>"$state/depends.log" | grep -v '^ ' | grep -v '^<' | sort -u) || true
missing=""
for pkg in $dev_packages $runtime_packages; do
    apt-cache "$@" show "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "sysroot: FAILED: no $arch package for:$missing in $mirror $suite" >&2
    echo "sysroot: apt-get update said:" >&2
    sed 's/^/    /' "$state/update.log" >&2
    exit 1
fi

rm -f "$state/debs"/*.deb
# shellcheck disable=SC2086 # word splitting of the package lists is wanted
if ! (cd "$state/debs" && apt-get "$@" download $dev_packages $closure) \
    >"$state/download.log" 2>&1; then
    echo "sysroot: FAILED: could not download the $arch packages:" >&2
    sed 's/^/    /' "$state/download.log" >&2
    exit 1
fi

# Unpack into a fresh tree, then swap it in: an interrupted run leaves no
# half-made sysroot behind a valid .packages file.
rm -rf "$root.new"
mkdir -p "$root.new"
mkdir -p "$root.new/.lists"
for deb in "$state/debs"/*.deb; do
    dpkg-deb -x "$deb" "$root.new"
    dpkg-deb -f "$deb" Package Version | paste -sd' ' >>"$root.new/.packages.tmp"
    # Which package a file came from (a bundle ships the libraries' copyrights).
    dpkg-deb -c "$deb" | sed -n -e 's/ -> .*//' -e 's|.* \./\(.*[^/]\)$|/\1|p' \
        >"$root.new/.lists/$(dpkg-deb -f "$deb" Package).list"
done
# Absolute symbolic links would point into the host when used as a sysroot.
find "$root.new" -type l | while read -r link; do
    target=$(readlink "$link")
    case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root.new$target")" "$link" ;;
    esac
done
sed 's/^Package: //; s/ Version: / /' "$root.new/.packages.tmp" | sort >"$root.new/.packages"
rm -f "$root.new/.packages.tmp"
rm -rf "$root"
mv "$root.new" "$root"
# The index and the packages served once: unpacked, apt's lists of every
# package of the archive, its caches of them and the .debs are only weight
# (most of build/ when they stay). A new run fetches them again.
rm -rf "$state/lists" "$state/cache" "$state/debs"
echo "sysroot: $root: $(wc -l <"$root/.packages") packages" \
    "($(du -sm "$root" | cut -f1) MiB; apt's index and downloads removed)" >&2
