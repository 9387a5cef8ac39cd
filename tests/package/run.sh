#!/bin/sh
# Checks what a person installs: Debian packages (unpacked with dpkg -x into a
# throwaway root: files, unit, conffiles, config, lintian) and bundles
# (unpacked into an empty folder: self-contained, starts, installs with
# DESTDIR). A binary for another CPU runs under qemu-user: a package's with the
# board's sysroot, a bundle's with nothing but the bundle (no QEMU_LD_PREFIX).
# Prints "ok   name" or "FAIL name" per check, then "package: N passed, N failed".
# Usage: tests/package/run.sh ARTIFACT...   (lanchat_V_ARCH.deb, lanchat-V-BOARD.tar.gz)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
CHECK_LOG=$tmp/check.log
. "$repo/tests/lib/check.sh"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT


# ---- helpers ----------------------------------------------------------------
machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }

# qemu-user for a binary this host cannot run itself (empty when it can).
emulator_for() {
    case "$(machine "$1")" in
    *X86-64*) [ "$(uname -m)" = x86_64 ] || echo "qemu-x86_64" ;;
    AArch64) [ "$(uname -m)" = aarch64 ] || echo "qemu-aarch64" ;;
    ARM) case "$(uname -m)" in arm*) ;; *) echo "qemu-arm" ;; esac ;;
    *) echo "unknown-cpu" ;;
    esac
}

# Starts COMMAND... in the background, logging to $tmp/server.log; waits (10 s)
# for "listening on http://127.0.0.1:PORT" and sets $port and $server_pid.
start_server() {
    : >"$tmp/server.log"
    "$@" >"$tmp/server.log" 2>&1 &
    server_pid=$!
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/server.log")
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "server did not start:"
    cat "$tmp/server.log"
    return 1
}

# SIGTERM the server; it must exit 0 within 15 s.
stop_server() {
    kill -TERM "$server_pid"
    i=0
    while kill -0 "$server_pid" 2>/dev/null && [ $i -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    status=0
    wait "$server_pid" || status=$?
    server_pid=""
    [ "$status" -eq 0 ] || { echo "exit status $status"; cat "$tmp/server.log"; return 1; }
}

# GET /healthz answers 200, and a nickname login answers 201.
serves_chat() {
    python3 - "$1" <<'EOF'
import json, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
r = urllib.request.urlopen(base + "/healthz", timeout=20)
assert r.status == 200, r.status
req = urllib.request.Request(base + "/api/v1/session", data=json.dumps({"name": "pkgtest"}).encode(),
                             headers={"Content-Type": "application/json"})
r = urllib.request.urlopen(req, timeout=20)
body = json.load(r)
assert r.status == 201 and body["user"]["name"] == "pkgtest", (r.status, body)
EOF
}

# A running server, started with the given command, serves and stops cleanly.
runs_and_stops() {
    start_server "$@" && serves_chat "$port" && stop_server
}

# HTTPS with the package's own libssl.so (src/compat/): a free port, the CA
# it made, curl verifying against that CA alone.
serves_https() { # runner...
    tls_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    tls_db=$(mktemp -d "$tmp/tls.XXXXXX")/chat.db
    start_server "$@" --listen 127.0.0.1 --port 0 --tls-port "$tls_port" --db "$tls_db" || return 1
    i=0
    until grep -q "listening on https://127.0.0.1:$tls_port" "$tmp/server.log" || [ $i -gt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    out=$(curl -sS --max-time 60 --cacert "$(dirname "$tls_db")/tls/ca.crt" \
        --resolve "localhost:$tls_port:127.0.0.1" "https://localhost:$tls_port/healthz") ||
        { stop_server; cat "$tmp/server.log"; return 1; }
    stop_server && [ "$out" = '{"status":"ok"}' ] || { echo "$out"; return 1; }
}

has_line() { grep -qx "$2" "$1" || { echo "$1 lacks the line: $2"; return 1; }; }

unit_is_hardened_service() { # unit file, expected ExecStart binary
    for line in "ExecStart=$2 --config /etc/lanchat.conf" "User=lanchat" \
        "StateDirectory=lanchat" "NoNewPrivileges=yes" "ProtectSystem=strict" \
        "ProtectHome=yes" "PrivateTmp=yes" "Restart=on-failure" "WantedBy=multi-user.target"; do
        has_line "$1" "$line" || return 1
    done
}

# systemd parses the unit without a complaint (ExecStart pointed into the root).
unit_verifies() { # unit file, root it belongs to
    mkdir -p "$tmp/verify"
    sed "s|^ExecStart=|ExecStart=$2|" "$1" >"$tmp/verify/lanchat.service"
    out=$(systemd-analyze verify --man=no "$tmp/verify/lanchat.service" 2>&1) || {
        echo "$out"
        return 1
    }
    [ -z "$out" ] || { echo "$out"; return 1; }
    # Exposure 0 (locked down) .. 10 (unsafe); 2 or less is "OK" in systemd's words.
    systemd-analyze security --offline=yes --threshold=20 "$tmp/verify/lanchat.service" |
        tail -1
}

avahi_matches_config() { # avahi service file, config file
    python3 - "$1" "$2" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
svc = ET.parse(sys.argv[1]).getroot().find("service")
assert svc.findtext("type") == "_http._tcp", svc.findtext("type")
ports = re.findall(r"^port\s*=\s*(\d+)", open(sys.argv[2]).read(), re.M)
assert ports and svc.findtext("port") == ports[-1], (svc.findtext("port"), ports)
EOF
}

config_is_accepted() { # binary runner..., config: the server starts with it
    cfg=$1
    shift
    runs_and_stops "$@" --config "$cfg" --listen 127.0.0.1 --port 0 --tls-port 0 \
        --db "$(mktemp -u "$tmp/db.XXXXXX")"
}

# ---- Debian package ------------------------------------------------------------
depends_on() { # deb, package...
    deps=$(dpkg-deb -f "$1" Depends)
    shift
    for p in "$@"; do
        echo "$deps" | tr ',' '\n' | grep -q "^ *$p\( (>= [^)]*)\)\{0,1\}$" ||
            { echo "Depends: $deps  -- lacks $p"; return 1; }
    done
}

lintian_clean() { # deb
    out=$(lintian --fail-on error,warning "$1" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
}

check_deb() {
    deb=$1
    base=$(basename "$deb" .deb)
    arch=${base##*_}
    version=$(echo "$base" | cut -d_ -f2)
    t=deb_$arch
    root=$tmp/root-$arch
    ctl=$tmp/control-$arch
    rm -rf "$root" "$ctl"
    check "${t}_unpacks_into_a_throwaway_root" sh -c \
        "dpkg-deb -x '$deb' '$root' && dpkg-deb -e '$deb' '$ctl'"
    check "${t}_control_names_lanchat_${version}_for_$arch" test \
        "$(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')" = \
        "Package: lanchat Version: $version Architecture: $arch "
    check "${t}_depends_on_libc6_libcivetweb1_libsqlite3-0_libsodium23_libcjson1_libmosquitto1" \
        depends_on "$deb" libc6 libcivetweb1 libsqlite3-0 libsodium23 libcjson1 libmosquitto1 adduser
    check "${t}_installs_binary_unit_config_avahi_docs_manual" sh -c "cd '$root' &&
        test -x usr/bin/lanchat && test -f lib/systemd/system/lanchat.service &&
        test -f etc/lanchat.conf && test -f etc/avahi/services/lanchat.service &&
        test -f usr/share/doc/lanchat/copyright && test -f usr/share/doc/lanchat/changelog.gz &&
        test -f usr/share/man/man1/lanchat.1.gz"
    check "${t}_conffiles_are_the_config_and_avahi_service" sh -c \
        "test \"\$(sort '$ctl/conffiles' | tr '\n' ' ')\" = \
'/etc/avahi/services/lanchat.service /etc/lanchat.conf ' &&
        test -f '$root/etc/lanchat.conf' && test -f '$root/etc/avahi/services/lanchat.service'"
    check "${t}_md5sums_match_the_files" sh -c "cd '$root' && md5sum --quiet -c '$ctl/md5sums'"
    check "${t}_maintainer_scripts_make_the_user_and_start_the_service" sh -c \
        "for s in postinst prerm postrm; do sh -n '$ctl/'\$s || exit 1; done &&
        grep -q 'adduser --system' '$ctl/postinst' &&
        grep -q 'deb-systemd-helper enable .lanchat.service' '$ctl/postinst' &&
        grep -q 'deb-systemd-invoke stop .lanchat.service' '$ctl/prerm'"
    check "${t}_unit_runs_own_user_with_state_dir_hardening_restart" \
        unit_is_hardened_service "$root/lib/systemd/system/lanchat.service" /usr/bin/lanchat
    check "${t}_unit_passes_systemd-analyze_verify_and_security" \
        unit_verifies "$root/lib/systemd/system/lanchat.service" "$root"
    check "${t}_avahi_announces_http_on_the_configured_port" \
        avahi_matches_config "$root/etc/avahi/services/lanchat.service" "$root/etc/lanchat.conf"
    bin=$root/usr/bin/lanchat
    check "${t}_binary_is_stripped" sh -c "! readelf -S '$bin' | grep -q '\.symtab\|\.debug_'"
    case "$arch" in
    amd64) cpu="X86-64" sysroot="" ;;
    arm64) cpu="AArch64" sysroot=$repo/build/sysroot/arm64 ;;
    *) cpu="ARM" sysroot=$repo/build/sysroot/$arch ;;
    esac
    check "${t}_binary_is_for_$cpu" sh -c "readelf -h '$bin' | grep -q 'Machine: .*$cpu\$'"
    emu=$(emulator_for "$bin")
    run=""
    [ -z "$emu" ] || run="$emu -L $sysroot"
    # shellcheck disable=SC2086 # $run is a command and its arguments
    check "${t}_server_starts_with_the_packaged_config" \
        config_is_accepted "$root/etc/lanchat.conf" $run "$bin"
    # shellcheck disable=SC2086 # $run is a command and its arguments
    check "${t}_serves_https_with_its_own_libssl" serves_https $run "$bin"
    check "${t}_lintian_reports_no_error_or_warning" lintian_clean "$deb"
}

# ---- bundle ------------------------------------------------------------------------
# Every library the binary and the libraries need is in lib/.
self_contained() { # bundle dir
    for f in "$1/bin/lanchat" "$1"/lib/*; do
        for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            [ -e "$1/lib/$lib" ] || { echo "$f needs $lib, not in lib/"; return 1; }
        done
    done
}

# The loader, run without QEMU_LD_PREFIX, resolves every library in the bundle.
loader_finds_only_bundle_libraries() { # bundle dir, emulator
    loader=$(cd "$1/lib" && ls ld-linux*)
    out=$(cd "$1" && env -u QEMU_LD_PREFIX $2 "lib/$loader" --list --library-path lib bin/lanchat)
    echo "$out"
    [ -n "$out" ] && ! echo "$out" | grep '=>' | grep -v '=> lib/' && ! echo "$out" | grep -q 'not found'
}

installs_with_destdir() { # bundle dir, root
    DESTDIR=$2 "$1/install.sh" && (cd "$2" && test -x opt/lanchat/lanchat &&
        test -x opt/lanchat/bin/lanchat && test -f etc/lanchat.conf &&
        test -f etc/systemd/system/lanchat.service &&
        has_line etc/systemd/system/lanchat.service "DynamicUser=yes")
}

check_bundle() {
    tarball=$1
    name=$(basename "$tarball" .tar.gz)
    board=${name#lanchat-*-}
    t=bundle_$(echo "$board" | tr - _)
    dir=$tmp/empty-$board
    rm -rf "$dir"
    mkdir -p "$dir"
    check "${t}_unpacks_into_an_empty_folder" tar -xzf "$tarball" -C "$dir"
    dir=$dir/$name
    check "${t}_holds_binary_loader_launcher_unit_config_install_licenses" sh -c "cd '$dir' &&
        test -x lanchat && test -x bin/lanchat && test -x lib/ld-linux* && test -x install.sh &&
        test -f lanchat.service && test -f lanchat.conf && test -f lanchat-avahi.service &&
        test -f README && test -f licenses/lanchat && test -f licenses/libc6"
    check "${t}_lib_holds_every_needed_library" self_contained "$dir"
    emu=$(emulator_for "$dir/bin/lanchat")
    check "${t}_loader_uses_only_bundle_libraries" loader_finds_only_bundle_libraries "$dir" "$emu"
    check "${t}_starts_and_serves_with_no_qemu_prefix_and_no_host_libraries" \
        runs_and_stops env -u QEMU_LD_PREFIX -u LD_LIBRARY_PATH LANCHAT_EMULATOR="$emu" \
        "$dir/lanchat" --listen 127.0.0.1 --port 0 --tls-port 0 --db "$(mktemp -u "$tmp/db.XXXXXX")"
    check "${t}_serves_https_with_its_own_libssl" serves_https env -u QEMU_LD_PREFIX \
        -u LD_LIBRARY_PATH LANCHAT_EMULATOR="$emu" "$dir/lanchat"
    check "${t}_unit_runs_the_launcher_with_dynamic_user_state_dir_hardening" \
        unit_is_hardened_service "$dir/lanchat.service" /opt/lanchat/lanchat
    check "${t}_install_sh_installs_into_a_root" installs_with_destdir "$dir" "$tmp/broot-$board"
    check "${t}_installed_unit_passes_systemd-analyze_verify_and_security" \
        unit_verifies "$tmp/broot-$board/etc/systemd/system/lanchat.service" "$tmp/broot-$board"
    check "${t}_avahi_announces_http_on_the_configured_port" \
        avahi_matches_config "$dir/lanchat-avahi.service" "$dir/lanchat.conf"
}

[ $# -gt 0 ] || { echo "usage: tests/package/run.sh ARTIFACT..." >&2; exit 2; }
for artifact in "$@"; do
    echo "# $artifact"
    if [ ! -f "$artifact" ]; then
        echo "FAIL $(basename "$artifact")_exists"
        failed=$((failed + 1))
        continue
    fi
    case "$artifact" in
    *.deb) check_deb "$artifact" ;;
    *.tar.gz) check_bundle "$artifact" ;;
    *) echo "FAIL $(basename "$artifact")_is_a_deb_or_tar.gz"; failed=$((failed + 1)) ;;
    esac
done
check_summary package
