#include "options.h"

#include "config.h"
#include "pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void options_defaults(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->port = CHAT_DEFAULT_PORT;
    snprintf(o->db, sizeof o->db, "var/lanchat.db");
    o->session_idle = CHAT_SESSION_IDLE_S;
    o->session_max_age = CHAT_SESSION_MAX_AGE_S;
    o->rate = CHAT_RATE_PER_S;
    o->sessions_per_addr = CHAT_SESSIONS_PER_ADDR;
    o->burst = CHAT_RATE_BURST;
    o->max_messages_per_room = CHAT_MAX_MESSAGES_PER_ROOM;
    o->tls_port = CHAT_WITH_TLS ? CHAT_TLS_PORT : 0;
    o->http_redirect = true;
    o->ws_frame_ms = CHAT_WS_FRAME_MS;
    snprintf(o->mqtt_prefix, sizeof o->mqtt_prefix, "lanchat");
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: lanchat [--port N] [--listen ADDR] [--db PATH] [--web-root DIR]\n"
            "               [--config FILE] [--session-idle SECONDS] [--session-max-age SECONDS]\n"
            "               [--rate-limit MSGS_PER_S[:BURST]] [--max-messages-per-room N]\n"
            "               [--ws-frame-timeout SECONDS] [--sessions-per-address N]\n"
            "               [--tls-port N] [--tls-cert FILE --tls-key FILE] [--tls-dir DIR]\n"
            "               [--http-redirect on|off] [--mqtt URL] [--mqtt-user NAME]\n"
            "               [--mqtt-password-file FILE] [--mqtt-ca FILE] [--mqtt-prefix PREFIX]\n"
            "               [--node NAME]\n"
            "               [--debug] [--version] [--help]\n"
            "       lanchat backup|restore FILE [--force] [--db PATH | --config FILE]\n"
#if CHAT_WITH_MODERATION
            "       lanchat admin add|remove NAME | list [--db PATH | --config FILE]\n"
#endif
    );
}

static bool parse_count(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_rate(const char *text, struct options *o)
{
    char *end;
    errno = 0;
    double rate = strtod(text, &end);
    if (errno || end == text || rate < 0)
        return false;
    double burst = rate * 2 > 1 ? rate * 2 : 1;
    if (*end == ':') {
        const char *b = end + 1;
        burst = strtod(b, &end);
        if (end == b || burst < 1)
            return false;
    }
    if (*end)
        return false;
    o->rate = rate;
    o->burst = burst;
    return true;
}

static bool copy_path(char *dst, size_t cap, const char *value)
{
    if (!*value || strlen(value) >= cap)
        return false;
    memcpy(dst, value, strlen(value) + 1);
    return true;
}

static enum options_outcome load_file(struct options *o, const char *path);

/* Applies one option by name (without dashes); value may be NULL for flags. */
static bool apply(struct options *o, const char *name, const char *value, bool *used_value)
{
    int64_t n = 0;
    *used_value = true;
    if (strcmp(name, "debug") == 0) { /* a flag; "debug = yes|no" in a file */
        *used_value = value != NULL;
        if (!value || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0 ||
            strcmp(value, "true") == 0) {
            o->debug = true;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "no") == 0 ||
                   strcmp(value, "false") == 0) {
            o->debug = false;
        } else {
            fprintf(stderr, "lanchat: bad value for --debug: %s\n", value);
            return false;
        }
        return true;
    }
    if (!value) {
        fprintf(stderr, "lanchat: --%s needs a value\n", name);
        return false;
    }
    bool ok;
    if (strcmp(name, "port") == 0) {
        ok = parse_count(value, 0, 65535, &n);
        if (ok)
            o->port = (int)n;
    } else if (strcmp(name, "listen") == 0) {
        /* CivetWeb takes a numeric address, and Debian's is built without
         * IPv6 (mg_check_feature(8) is 0): "[::]" or a host name failed only
         * at the listen, after the store had started, as an "invalid port
         * spec" of civetweb's. */
        struct in_addr v4;
        if (strlen(value) >= sizeof o->listen || inet_pton(AF_INET, value, &v4) != 1) {
            fprintf(stderr,
                    "lanchat: bad value for --listen: %s (give an IPv4 address of this machine, "
                    "such as 127.0.0.1, or 0.0.0.0 for every interface: the CivetWeb library "
                    "has no IPv6 and resolves no host names)\n",
                    value);
            return false;
        }
        ok = true;
        snprintf(o->listen, sizeof o->listen, "%s", value);
    } else if (strcmp(name, "db") == 0) {
        ok = copy_path(o->db, sizeof o->db, value);
    } else if (strcmp(name, "web-root") == 0) {
        ok = copy_path(o->web_root, sizeof o->web_root, value);
    } else if (strcmp(name, "session-idle") == 0) {
        ok = parse_count(value, 1, INT32_MAX, &o->session_idle);
    } else if (strcmp(name, "session-max-age") == 0) {
        ok = parse_count(value, 1, INT32_MAX, &o->session_max_age);
    } else if (strcmp(name, "rate-limit") == 0) {
        ok = parse_rate(value, o);
    } else if (strcmp(name, "sessions-per-address") == 0) {
        ok = parse_count(value, 0, INT32_MAX, &o->sessions_per_addr);
    } else if (strcmp(name, "max-messages-per-room") == 0) {
        ok = parse_count(value, 0, INT64_MAX, &o->max_messages_per_room);
#if CHAT_WITH_TLS
    } else if (strcmp(name, "tls-port") == 0) {
        ok = parse_count(value, 0, 65535, &n);
        if (ok)
            o->tls_port = (int)n;
    } else if (strcmp(name, "tls-cert") == 0) {
        ok = copy_path(o->tls_cert, sizeof o->tls_cert, value);
    } else if (strcmp(name, "tls-key") == 0) {
        ok = copy_path(o->tls_key, sizeof o->tls_key, value);
    } else if (strcmp(name, "tls-dir") == 0) {
        ok = copy_path(o->tls_dir, sizeof o->tls_dir, value);
    } else if (strcmp(name, "http-redirect") == 0) {
        ok = strcmp(value, "on") == 0 || strcmp(value, "off") == 0;
        if (ok)
            o->http_redirect = strcmp(value, "on") == 0;
#endif
#if CHAT_WITH_MQTT
    } else if (strcmp(name, "mqtt") == 0) {
        ok = copy_path(o->mqtt, sizeof o->mqtt, value);
    } else if (strcmp(name, "mqtt-user") == 0) {
        ok = copy_path(o->mqtt_user, sizeof o->mqtt_user, value);
    } else if (strcmp(name, "mqtt-password-file") == 0) {
        ok = copy_path(o->mqtt_password_file, sizeof o->mqtt_password_file, value);
    } else if (strcmp(name, "mqtt-ca") == 0) {
        ok = copy_path(o->mqtt_ca, sizeof o->mqtt_ca, value);
    } else if (strcmp(name, "mqtt-prefix") == 0) {
        ok = copy_path(o->mqtt_prefix, sizeof o->mqtt_prefix, value);
    } else if (strcmp(name, "node") == 0) {
        ok = copy_path(o->node, sizeof o->node, value);
#endif
    } else if (strcmp(name, "ws-frame-timeout") == 0) {
        ok = parse_count(value, 1, 3600, &n);
        if (ok)
            o->ws_frame_ms = n * 1000;
    } else if (strcmp(name, "config") == 0) {
        ok = load_file(o, value) == OPTIONS_RUN;
        if (!ok)
            return false;
    } else {
        fprintf(stderr, "lanchat: unknown option --%s\n", name);
        usage(stderr);
        return false;
    }
    if (!ok)
        fprintf(stderr, "lanchat: bad value for --%s: %s\n", name, value);
    return ok;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static enum options_outcome load_file(struct options *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "lanchat: cannot read config %s: %s\n", path, strerror(errno));
        return OPTIONS_EXIT_ERROR;
    }
    char line[1024];
    int number = 0;
    enum options_outcome outcome = OPTIONS_RUN;
    while (outcome == OPTIONS_RUN && fgets(line, sizeof line, f)) {
        number++;
        bool whole = strchr(line, '\n') != NULL || feof(f);
        if (!whole) { /* longer than the buffer: skip the rest of the line */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (!whole) {
            fprintf(stderr, "lanchat: %s:%d: line too long\n", path, number);
            outcome = OPTIONS_EXIT_ERROR;
            break;
        }
        char *eq = strchr(s, '=');
        char *value = NULL;
        if (eq) {
            *eq = '\0';
            value = trim(eq + 1);
        }
        char *name = trim(s);
        bool used;
        if (strcmp(name, "config") == 0 || !apply(o, name, value, &used)) {
            fprintf(stderr, "lanchat: %s:%d: bad setting\n", path, number);
            outcome = OPTIONS_EXIT_ERROR;
        }
    }
    fclose(f);
    return outcome;
}

enum options_outcome options_parse(struct options *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return OPTIONS_EXIT_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            options_print_version();
            return OPTIONS_EXIT_OK;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "lanchat: unexpected argument %s\n", arg);
            usage(stderr);
            return OPTIONS_EXIT_ERROR;
        }
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof name) {
            fprintf(stderr, "lanchat: unknown option %s\n", arg);
            return OPTIONS_EXIT_ERROR;
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        if (!eq && strcmp(name, "debug") == 0)
            value = NULL; /* a bare flag never takes the next argument */
        bool used;
        if (!apply(o, name, value, &used))
            return OPTIONS_EXIT_ERROR;
        if (used && !eq)
            i++;
    }
    return OPTIONS_RUN;
}

void options_print_version(void)
{
    printf("lanchat %s\n", CHAT_VERSION);
    printf("features:%s%s%s%s%s%s%s%s%s%s%s%s\n", CHAT_WITH_ACCOUNTS ? " accounts" : "",
           CHAT_WITH_ROOMS ? " rooms" : "", CHAT_WITH_METRICS ? " metrics" : "",
           CHAT_WITH_EMBEDDED_WEB ? " embedded-web" : "", CHAT_WITH_TLS ? " tls" : "",
           CHAT_WITH_MQTT ? " mqtt" : "", CHAT_WITH_SEARCH ? " search" : "",
           CHAT_WITH_MODERATION ? " moderation" : "", CHAT_WITH_DIRECT ? " direct" : "",
           CHAT_WITH_TYPING ? " typing" : "", CHAT_WITH_BACKUPS ? " backups" : "",
           CHAT_WITH_ACCOUNTS || CHAT_WITH_ROOMS || CHAT_WITH_METRICS || CHAT_WITH_EMBEDDED_WEB ||
                   CHAT_WITH_TLS || CHAT_WITH_MQTT || CHAT_WITH_SEARCH || CHAT_WITH_MODERATION ||
                   CHAT_WITH_DIRECT || CHAT_WITH_TYPING || CHAT_WITH_BACKUPS
               ? ""
               : " none");
    printf("limits: body=%d request=%d clients=%d feed=%d client-queue=%d stall-ms=%d "
           "write-batch=%d sqlite-heap=%d\n",
           CHAT_MAX_BODY, CHAT_MAX_REQUEST, CHAT_MAX_CLIENTS, CHAT_FEED_BYTES,
           CHAT_CLIENT_QUEUE_BYTES, CHAT_STALL_MS, CHAT_WRITE_BATCH, CHAT_SQLITE_HEAP_LIMIT);
    /* A line of its own: other limits may join the one above. */
    printf("sessions: max=%d per-user=%d per-address=%d nicknames=%d login-free-failures=%d "
           "login-backoff-max-s=%d\n",
           CHAT_MAX_SESSIONS, CHAT_SESSIONS_PER_USER, CHAT_SESSIONS_PER_ADDR, CHAT_NICK_SESSIONS,
           CHAT_LOGIN_FREE_FAILURES, CHAT_LOGIN_BACKOFF_MAX_S);
    printf("threads: http=%d io=%d\n", CHAT_HTTP_THREADS, CHAT_IO_THREADS);
    printf("pools:\n");
    for (int i = 0; i < POOL_COUNT; i++) {
        struct pool_stats ps;
        pool_get_stats((enum pool_id)i, &ps);
        printf("  %-8s %6zu x %6zu bytes  %s\n", ps.name, ps.capacity, ps.element_size,
               ps.description);
    }
}
