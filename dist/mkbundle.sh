#!/bin/sh
# Makes a self-contained bundle of a built lanchat: the binary, its dynamic
# loader and every library it needs (from the board's sysroot, or this host for
# a native build), a launcher that runs the binary through that loader, the
# systemd unit, the default config, the Avahi announcement and install.sh.
# It runs on any Linux kernel for the CPU whatever the userland: that is how
# rpi-zero (armel) runs on Raspberry Pi OS for ARMv6, and how lanchat goes onto
# a Buildroot or Yocto system without apt. Called by `make BOARD=x bundle`.
# Usage: dist/mkbundle.sh BOARD STRIPPED_BINARY SYSROOT MULTIARCH VERSION OUT.tar.gz
#   SYSROOT: build/sysroot/ARCH, or / (or empty) for a native build.
set -eu

if [ $# -ne 6 ]; then
    echo "usage: dist/mkbundle.sh BOARD STRIPPED_BINARY SYSROOT MULTIARCH VERSION OUT.tar.gz" >&2
    exit 2
fi
board=$1 bin=$2 multiarch=$4 version=$5 out=$6
sysroot=""
case "$3" in
"" | /) ;;
*) sysroot=$(cd "$3" && pwd -P) ;;
esac
dist=$(dirname "$0")
boarddir=$dist/../board/$board
name=lanchat-$version-$board
libdirs="$sysroot/lib/$multiarch $sysroot/usr/lib/$multiarch $sysroot/lib $sysroot/usr/lib"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

find_lib() { # soname -> its path in the sysroot
    for d in $libdirs; do
        if [ -e "$d/$1" ]; then
            echo "$d/$1"
            return 0
        fi
    done
    echo "mkbundle: $1 not found in $libdirs" >&2
    return 1
}

package_of() { # a file of the sysroot -> the Debian package that brought it
    path=${1#"$sysroot"}
    if [ -z "$sysroot" ]; then
        dpkg -S "$path" 2>/dev/null | sed -n '1s/:.*//p'
    else
        grep -lx "$path" "$sysroot/.lists"/*.list 2>/dev/null | sed -n '1s|.*/\(.*\)\.list$|\1|p'
    fi
}

work=$(dirname "$out")/bundle-root
rm -rf "$work"
top=$work/$name
mkdir -p "$top/bin" "$top/lib" "$top/licenses"
install -m 0755 "$bin" "$top/bin/lanchat"

# The loader the binary names (PT_INTERP), then the NEEDED closure. glibc
# dlopen()s libgcc_s for thread cancellation, so it comes along too.
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
if [ -z "$interp" ] || [ ! -e "$sysroot$interp" ]; then
    echo "mkbundle: $bin names loader '$interp', not found under ${sysroot:-/}" >&2
    exit 1
fi
loader=$(basename "$interp")
cp -L "$sysroot$interp" "$top/lib/$loader"
todo="$(needed "$bin") libgcc_s.so.1"
sources="$sysroot$interp"
# lanchat's own libssl.so and libcrypto.so (HTTPS: see src/compat/), never the
# sysroot's files of those names.
for own in "$(dirname "$bin")/lib"/*.so; do
    [ -e "$own" ] || continue
    cp "$own" "$top/lib/$(basename "$own")"
    todo="$todo $(needed "$own")"
done
while [ -n "$todo" ]; do
    set -- $todo
    lib=$1
    shift
    todo="$*"
    [ -e "$top/lib/$lib" ] && continue
    path=$(find_lib "$lib")
    cp -L "$path" "$top/lib/$lib"
    sources="$sources $path"
    todo="$todo $(needed "$top/lib/$lib")"
done
chmod 0644 "$top/lib"/*
chmod 0755 "$top/lib/$loader"

# The libraries are Debian's: their copyright files go with them.
for path in $sources; do
    pkg=$(package_of "$(readlink -f "$path")") || true
    [ -n "$pkg" ] || pkg=$(package_of "$path") || true
    if [ -z "$pkg" ]; then
        echo "mkbundle: no Debian package owns $path" >&2
        exit 1
    fi
    cp -L "$sysroot/usr/share/doc/$pkg/copyright" "$top/licenses/$pkg"
done
cp "$dist/copyright" "$top/licenses/lanchat"

cat >"$top/lanchat" <<EOF
#!/bin/sh
# lanchat $version for $board: runs bin/lanchat through the loader and
# libraries in lib/, so nothing of the system's userland is used.
# LANCHAT_EMULATOR (say qemu-arm) goes in front of the loader, to try the
# bundle on another CPU.
set -eu
here=\$(dirname "\$(readlink -f "\$0")")
exec \${LANCHAT_EMULATOR:-} "\$here/lib/$loader" --library-path "\$here/lib" "\$here/bin/lanchat" "\$@"
EOF
chmod 0755 "$top/lanchat"

conf=$dist/lanchat.conf
[ -f "$boarddir/lanchat.conf" ] && conf=$boarddir/lanchat.conf
install -m 0644 "$conf" "$top/lanchat.conf"
install -m 0644 "$dist/lanchat-avahi.service" "$top/lanchat-avahi.service"
# No adduser on many such systems: systemd makes the user (DynamicUser).
sed -e 's|^ExecStart=/usr/bin/lanchat |ExecStart=/opt/lanchat/lanchat |' \
    -e 's|^User=lanchat$|User=lanchat\nDynamicUser=yes|' \
    "$dist/lanchat.service" >"$top/lanchat.service"
if [ -d "$boarddir/lanchat.service.d" ]; then
    mkdir -p "$top/lanchat.service.d"
    install -m 0644 "$boarddir/lanchat.service.d"/*.conf "$top/lanchat.service.d/"
fi
install -m 0755 "$dist/bundle-install.sh" "$top/install.sh"
sed -e "s/@VERSION@/$version/g" -e "s/@BOARD@/$board/g" -e "s/@NAME@/$name/g" \
    "$dist/bundle-README" >"$top/README"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$dist" log -1 --format=%ct 2>/dev/null || date +%s)}
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -cf - "$name" | gzip -9n >"$out"
