#!/bin/sh
# Compile-time feature flags really remove code: the minimal build (every
# CHAT_WITH_* off) lacks the symbols of each disabled feature and is smaller.
# And config.h's check block refuses combinations that cannot work: each is
# compiled (config.h alone, a fraction of a second) and must fail, naming
# the option.
# Usage: test_flags.sh FULL_BINARY MINIMAL_BINARY
full=$1
minimal=$2
. "$(dirname "$0")/../lib/check.sh"

has_symbol() { nm "$1" 2>/dev/null | grep -qw "$2"; }
lacks_symbol() { ! has_symbol "$1" "$2"; }
smaller() { [ "$(stat -c %s "$2")" -lt "$(stat -c %s "$1")" ]; }
features_line() { "$1" --version | grep -qx "features: $2"; }

src=$(dirname "$0")/../../src
config_compiles() { # -D...
    printf '#include "config.h"\nint main(void) { return 0; }\n' |
        ${CC:-cc} -std=c11 -I"$src" "$@" -fsyntax-only -x c -
}
config_rejects() { # OPTION_NAMED_IN_THE_ERROR -D...
    named=$1
    shift
    if out=$(config_compiles "$@" 2>&1); then
        echo "compiled with $*"
        return 1
    fi
    echo "$out" | grep -E "error" | grep -q "$named" || { echo "$out"; return 1; }
}

check full_build_has_account_registration has_symbol "$full" users_create
check full_build_has_room_creation has_symbol "$full" rooms_create
check full_build_has_metrics_exporter has_symbol "$full" metrics_export
check full_build_has_embedded_web has_symbol "$full" web_assets
check full_build_has_tls has_symbol "$full" tls_setup
check full_build_has_search has_symbol "$full" search_get
check full_build_has_moderation has_symbol "$full" admin_main
check full_build_has_direct_messages has_symbol "$full" hub_direct_open
check full_build_has_typing has_symbol "$full" deliver_typing
check full_build_has_backups has_symbol "$full" store_quiesce
check minimal_build_lacks_account_registration lacks_symbol "$minimal" users_create
check minimal_build_lacks_password_hashing lacks_symbol "$minimal" crypto_pwhash_str
check minimal_build_lacks_room_creation lacks_symbol "$minimal" rooms_create
check minimal_build_lacks_metrics_exporter lacks_symbol "$minimal" metrics_export
check minimal_build_lacks_embedded_web lacks_symbol "$minimal" web_assets
check minimal_build_lacks_tls lacks_symbol "$minimal" tls_setup
check minimal_build_lacks_search lacks_symbol "$minimal" search_get
check minimal_build_lacks_moderation lacks_symbol "$minimal" audit_list
check minimal_build_lacks_direct_messages lacks_symbol "$minimal" hub_direct_open
check minimal_build_lacks_typing lacks_symbol "$minimal" deliver_typing
check minimal_build_lacks_backups lacks_symbol "$minimal" store_quiesce
check minimal_build_needs_no_openssl sh -c "! readelf -d '$minimal' | grep -q 'libssl'"
check minimal_binary_is_smaller smaller "$full" "$minimal"
check full_version_lists_features features_line "$full" "accounts rooms metrics embedded-web tls mqtt search moderation direct typing backups"
check minimal_version_lists_no_features features_line "$minimal" "none"
check config_h_defaults_compile config_compiles
check config_moderation_without_accounts_fails_to_compile config_rejects CHAT_WITH_MODERATION \
    -DCHAT_WITH_ACCOUNTS=0 -DCHAT_WITH_MODERATION=1
check config_direct_without_rooms_fails_to_compile config_rejects CHAT_WITH_DIRECT \
    -DCHAT_WITH_ROOMS=0 -DCHAT_WITH_DIRECT=1
check config_batch_larger_than_queue_fails_to_compile config_rejects CHAT_WRITE_BATCH \
    -DCHAT_WRITE_BATCH=999 -DCHAT_WRITE_QUEUE=10
check config_io_buffer_smaller_than_a_frame_fails_to_compile config_rejects CHAT_IO_BUFFER \
    -DCHAT_IO_BUFFER=1024
check config_io_buffer_smaller_than_the_hello_fails_to_compile config_rejects CHAT_IO_BUFFER \
    -DCHAT_MAX_CLIENTS=4096
check config_request_smaller_than_a_frame_fails_to_compile config_rejects CHAT_MAX_REQUEST \
    -DCHAT_MAX_REQUEST=1024
check config_feed_smaller_than_four_frames_fails_to_compile config_rejects CHAT_FEED_BYTES \
    -DCHAT_FEED_BYTES=4096
check config_history_default_over_max_fails_to_compile config_rejects CHAT_HISTORY_DEFAULT \
    -DCHAT_HISTORY_DEFAULT=300
check config_no_replay_fails_to_compile config_rejects CHAT_REPLAY_MAX -DCHAT_REPLAY_MAX=0
check config_search_query_under_16_bytes_fails_to_compile config_rejects CHAT_SEARCH_QUERY_MAX \
    -DCHAT_SEARCH_QUERY_MAX=8
check config_more_nickname_sessions_than_sessions_fails_to_compile config_rejects \
    CHAT_NICK_SESSIONS -DCHAT_MAX_SESSIONS=16 -DCHAT_NICK_SESSIONS=17
check config_no_io_thread_fails_to_compile config_rejects CHAT_IO_THREADS -DCHAT_IO_THREADS=0
check config_no_http_thread_fails_to_compile config_rejects CHAT_HTTP_THREADS -DCHAT_HTTP_THREADS=0
check config_feature_switch_of_2_fails_to_compile config_rejects CHAT_WITH -DCHAT_WITH_TLS=2
check config_no_mqtt_publish_in_flight_fails_to_compile config_rejects CHAT_MQTT_INFLIGHT \
    -DCHAT_MQTT_INFLIGHT=0
check config_mqtt_reconnect_min_over_max_fails_to_compile config_rejects CHAT_MQTT_INFLIGHT \
    -DCHAT_MQTT_RECONNECT_MIN_S=60 -DCHAT_MQTT_RECONNECT_MAX_S=30
check config_bans_list_outgrowing_the_request_block_fails_to_compile config_rejects \
    CHAT_MAX_BANS -DCHAT_MAX_BANS=1000
check config_rooms_list_with_topics_outgrowing_the_request_block_fails_to_compile \
    config_rejects CHAT_TOPIC_MAX -DCHAT_TOPIC_MAX=4000
check_summary flags
