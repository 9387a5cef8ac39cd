#!/bin/sh
# Installs this lanchat bundle as a systemd service: the bundle to /opt/lanchat
# (replacing an older one), /etc/lanchat.conf (an existing one is kept), the
# unit, the Avahi announcement when Avahi is there; then enables and starts it.
# Run as root from the unpacked folder:  sudo ./install.sh
# DESTDIR=DIR installs under DIR instead and leaves systemd alone (for tests).
set -eu
src=$(dirname "$(readlink -f "$0")")
root=${DESTDIR:-}
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root: sudo $0" >&2
    exit 1
fi
prefix=$root/opt/lanchat

mkdir -p "$root/opt" "$root/etc/systemd/system"
rm -rf "$prefix.new"
cp -a "$src" "$prefix.new"
rm -rf "$prefix.old"
if [ -d "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

if [ ! -e "$root/etc/lanchat.conf" ]; then
    install -m 0644 "$src/lanchat.conf" "$root/etc/lanchat.conf"
fi
install -m 0644 "$src/lanchat.service" "$root/etc/systemd/system/lanchat.service"
if [ -d "$src/lanchat.service.d" ]; then
    mkdir -p "$root/etc/systemd/system/lanchat.service.d"
    install -m 0644 "$src/lanchat.service.d"/*.conf "$root/etc/systemd/system/lanchat.service.d/"
fi
if [ -d "$root/etc/avahi/services" ]; then
    install -m 0644 "$src/lanchat-avahi.service" "$root/etc/avahi/services/lanchat.service"
fi

port=$(sed -n 's/^port *= *\([0-9]*\).*/\1/p' "$root/etc/lanchat.conf" | tail -1)
if [ -n "$root" ]; then
    echo "install.sh: installed under $root; systemd not touched"
    exit 0
fi
systemctl daemon-reload
systemctl enable lanchat.service
systemctl restart lanchat.service
echo "lanchat is running: open http://$(hostname).local:${port:-80} (trust the local CA at /trust)"
