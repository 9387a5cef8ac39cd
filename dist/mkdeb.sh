#!/bin/sh
# Makes the Debian package of a built lanchat with dpkg-deb (no debhelper: the
# package is one binary and a few files). Called by `make BOARD=x package`.
# Usage: dist/mkdeb.sh BOARD STRIPPED_BINARY DEB_ARCH VERSION OUT.deb
#
# Installs /usr/bin/lanchat and its manual, the systemd unit (plus the board's drop-ins from
# board/BOARD/lanchat.service.d/), /etc/lanchat.conf (board/BOARD/lanchat.conf
# if the board has one) and the Avahi announcement. Depends: is worked out from
# the binary's NEEDED entries; the lower bounds are the versions it was linked
# against (the sysroot's, or this host's for a native build). With HTTPS built
# in, lanchat's own libssl.so and libcrypto.so (lib/ beside the stripped
# binary) go to /usr/lib/lanchat, where the binary's RUNPATH finds them.
set -eu

if [ $# -ne 5 ]; then
    echo "usage: dist/mkdeb.sh BOARD STRIPPED_BINARY DEB_ARCH VERSION OUT.deb" >&2
    exit 2
fi
board=$1 bin=$2 arch=$3 version=$4 out=$5
dist=$(dirname "$0")
boarddir=$dist/../board/$board
sysroot_packages=$dist/../build/sysroot/$arch/.packages
maintainer="lanchat maintainers <maintainers@users.noreply.b-seed-de4586cd.example>"

# Debian package of each library the binary may name. A new library in the
# link (LDLIBS) must be added here, or the package would not depend on it.
package_of() {
    case "$1" in
    libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2) echo libc6 ;;
    libcivetweb.so.1) echo libcivetweb1 ;;
    libsqlite3.so.0) echo libsqlite3-0 ;;
    libsodium.so.23) echo libsodium23 ;;
    libcjson.so.1) echo libcjson1 ;;
    libmosquitto.so.1) echo libmosquitto1 ;;
    libssl.so.3 | libcrypto.so.3) echo libssl3 ;;
    libssl.so | libcrypto.so) echo lanchat ;; # ours, in /usr/lib/lanchat
    *) return 1 ;;
    esac
}

# The version linked against, without the Debian revision.
linked_version() {
    if [ "$arch" = "$(dpkg --print-architecture)" ]; then
        v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
    else
        v=$(sed -n "s/^$1 //p" "$sysroot_packages" 2>/dev/null || true)
    fi
    if [ -z "$v" ]; then
        echo "mkdeb: no version of $1 for $arch (host dpkg or $sysroot_packages)" >&2
        return 1
    fi
    echo "${v%-*}"
}

depends="adduser"
for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    if ! pkg=$(package_of "$lib"); then
        echo "mkdeb: no Debian package known for $lib (NEEDED by $bin);" \
            "add it to package_of() in $0" >&2
        exit 1
    fi
    [ "$pkg" = lanchat ] && continue
    case ", $depends, " in
    *", $pkg "*) ;;
    *) depends="$depends, $pkg (>= $(linked_version "$pkg"))" ;;
    esac
done

# Reproducible: every date is the last commit's (or now, outside git).
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$dist" log -1 --format=%ct 2>/dev/null || date +%s)}

stage=$(dirname "$out")/deb-root
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" \
    "$stage/etc/avahi/services" "$stage/usr/share/doc/lanchat"
install -m 0755 "$bin" "$stage/usr/bin/lanchat"
if [ -d "$(dirname "$bin")/lib" ]; then
    mkdir -p "$stage/usr/lib/lanchat"
    install -m 0644 "$(dirname "$bin")/lib"/*.so "$stage/usr/lib/lanchat/"
fi
install -m 0644 "$dist/lanchat.service" "$stage/lib/systemd/system/lanchat.service"
if [ -d "$boarddir/lanchat.service.d" ]; then
    mkdir -p "$stage/lib/systemd/system/lanchat.service.d"
    install -m 0644 "$boarddir/lanchat.service.d"/*.conf "$stage/lib/systemd/system/lanchat.service.d/"
fi
conf=$dist/lanchat.conf
[ -f "$boarddir/lanchat.conf" ] && conf=$boarddir/lanchat.conf
install -m 0644 "$conf" "$stage/etc/lanchat.conf"
install -m 0644 "$dist/lanchat-avahi.service" "$stage/etc/avahi/services/lanchat.service"
install -m 0644 "$dist/copyright" "$stage/usr/share/doc/lanchat/copyright"
mkdir -p "$stage/usr/share/man/man1"
gzip -9n <"$dist/lanchat.1" >"$stage/usr/share/man/man1/lanchat.1.gz"
chmod 0644 "$stage/usr/share/man/man1/lanchat.1.gz"
cat >"$stage/usr/share/doc/lanchat/changelog" <<EOF
lanchat ($version) unstable; urgency=medium

  * lanchat $version for $board. The project's history is its git log.

 -- $maintainer  $(date -u -R -d "@$epoch")
EOF
gzip -9n "$stage/usr/share/doc/lanchat/changelog"

for script in postinst prerm postrm; do
    install -m 0755 "$dist/debian/$script" "$stage/DEBIAN/$script"
done
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<EOF
Package: lanchat
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Recommends: avahi-daemon
Section: net
Priority: optional
Description: chat server for a home, school or workshop LAN
 lanchat serves a chat to every browser on the local network: nicknames or
 accounts, rooms, history, presence; no cloud and nothing to install on the
 phones. This package runs it as the systemd service lanchat on ports 80
 and 443 (HTTPS with a local CA it makes; /etc/lanchat.conf), keeps its
 database in /var/lib/lanchat and announces it with Avahi as
 http://<hostname>.local.
EOF
# conffiles have their own checksums in dpkg's database, as with dh_md5sums
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print | sed 's|^\./||' | sort |
    xargs md5sum) >"$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$epoch" {} +
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
