#!/bin/sh
# Compile-time feature flags really remove code: the minimal build (every
# CHAT_WITH_* off) lacks the symbols of each disabled feature and is smaller.
# Usage: test_flags.sh FULL_BINARY MINIMAL_BINARY
full=$1
minimal=$2
. "$(dirname "$0")/../lib/check.sh"

has_symbol() { nm "$1" 2>/dev/null | grep -qw "$2"; }
lacks_symbol() { ! has_symbol "$1" "$2"; }
smaller() { [ "$(stat -c %s "$2")" -lt "$(stat -c %s "$1")" ]; }
features_line() { "$1" --version | grep -qx "features: $2"; }

check full_build_has_account_registration has_symbol "$full" users_create
check full_build_has_room_creation has_symbol "$full" rooms_create
check full_build_has_metrics_exporter has_symbol "$full" metrics_export
check full_build_has_embedded_web has_symbol "$full" web_assets
check full_build_has_tls has_symbol "$full" tls_setup
check minimal_build_lacks_account_registration lacks_symbol "$minimal" users_create
check minimal_build_lacks_password_hashing lacks_symbol "$minimal" crypto_pwhash_str
check minimal_build_lacks_room_creation lacks_symbol "$minimal" rooms_create
check minimal_build_lacks_metrics_exporter lacks_symbol "$minimal" metrics_export
check minimal_build_lacks_embedded_web lacks_symbol "$minimal" web_assets
check minimal_build_lacks_tls lacks_symbol "$minimal" tls_setup
check minimal_build_needs_no_openssl sh -c "! readelf -d '$minimal' | grep -q 'libssl'"
check minimal_binary_is_smaller smaller "$full" "$minimal"
check full_version_lists_features features_line "$full" "accounts rooms metrics embedded-web tls"
check minimal_version_lists_no_features features_line "$minimal" "none"
check_summary flags
