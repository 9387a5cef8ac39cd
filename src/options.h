/*
 * options - run-time options from the command line and --config FILE (lines
 * "name = value", the long option names without dashes). Defaults come from
 * config.h. Calls libc and pool (the pool table --version prints). Thread
 * rules: boot only (main.c).
 */
#ifndef LANCHAT_OPTIONS_H
#define LANCHAT_OPTIONS_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

struct options {
    char listen[64]; /* address to bind, "" = all */
    int port;
    char db[512];
    char web_root[512];      /* --web-root, "" = not given */
    int64_t session_idle;    /* seconds */
    int64_t session_max_age; /* seconds */
    double rate, burst;      /* messages per second per user; 0 = off */
    int64_t max_messages_per_room;
    int64_t ws_frame_ms;       /* --ws-frame-timeout SECONDS, in ms */
    int64_t sessions_per_addr; /* 0 = no cap */
    bool debug;
    int tls_port;       /* 0: no HTTPS */
    char tls_cert[512]; /* "" = generated */
    char tls_key[512];
    char tls_dir[512]; /* "" = tls/ beside the database */
    bool http_redirect;
    char mqtt[256]; /* --mqtt URL, "" = no broker */
    char mqtt_user[64];
    char mqtt_password_file[512];
    char mqtt_prefix[64];
    char mqtt_ca[512];
    char node[CHAT_NAME_MAX + 1]; /* "" = the host name */
};

enum options_outcome { OPTIONS_RUN, OPTIONS_EXIT_OK, OPTIONS_EXIT_ERROR };

void options_defaults(struct options *o);
enum options_outcome options_parse(struct options *o, int argc, char **argv);
void options_print_version(void); /* version, features, pool sizes */

#endif
