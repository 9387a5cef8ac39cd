/*
 * main - the boot sequence of the appliance, and nothing else. Boot is a
 * ladder: one table of steps, each a start and (or none) a stop, climbed in
 * order. When a step fails, the steps below it are stopped in reverse, each
 * once; a signal (SIGINT/SIGTERM) stops every step in reverse, each once.
 * Nothing else in main stops anything, so no path can disagree with another.
 * --debug logs each step started and stopped.
 */
#include "admin.h"
#include "api.h"
#include "auth.h"
#include "backup.h"
#include "config.h"
#include "deliver.h"
#include "gate.h"
#include "http.h"
#include "hub.h"
#include "json.h"
#define LOG_MODULE "main"
#include "log.h"
#include "mqtt.h"
#include "options.h"
#include "pool.h"
#include "store.h"
#include "tls.h"
#include "web.h"
#include "ws.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static struct options opts;

/* Every WebSocket is a descriptor: the soft limit (often 1024) goes up to
 * what CHAT_MAX_CLIENTS needs, within the hard limit. Thread stacks that
 * nobody sizes get CHAT_THREAD_STACK instead of glibc's 8 MiB. */
static int set_limits(void)
{
    struct rlimit lim;
    rlim_t need = (rlim_t)CHAT_MAX_CLIENTS + 2 * CHAT_HTTP_THREADS + 256;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < need) {
        lim.rlim_cur = lim.rlim_max < need ? lim.rlim_max : need;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur < need)
            log_warn("only %lu file descriptors: fewer than %d WebSockets will fit",
                     (unsigned long)lim.rlim_cur, CHAT_MAX_CLIENTS);
    }
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setstacksize(&attr, CHAT_THREAD_STACK);
        pthread_setattr_default_np(&attr);
        pthread_attr_destroy(&attr);
    }
    json_init();
    return 0;
}

static int open_store(void)
{
    store_set_outbox(opts.mqtt[0] != '\0'); /* rows for the broker only with --mqtt */
    return store_open(opts.db, CHAT_SQLITE_HEAP_LIMIT, opts.max_messages_per_room);
}

static int start_sessions(void)
{
    return auth_start(opts.session_idle, opts.session_max_age, opts.sessions_per_addr);
}

static int start_hub(void)
{
    hub_set_rate(opts.rate, opts.burst);
    return hub_start();
}

static int start_writer(void)
{
    static const struct store_hooks hooks = {.message_added = deliver_message_added,
                                             .message_deleted = deliver_message_deleted,
                                             .batch_done = deliver_batch_done,
                                             .outbox_added = mqtt_outbox_added};
    return store_start(&hooks);
}

#if CHAT_WITH_TLS
/* HTTPS: the certificate ready before civetweb starts; its tls/ directory
 * beside the database unless --tls-dir says otherwise. */
static int prepare_tls(void)
{
    if (opts.tls_port == 0)
        return 0;
    char dir[600];
    if (opts.tls_dir[0]) {
        snprintf(dir, sizeof dir, "%s", opts.tls_dir);
    } else {
        const char *slash = strrchr(opts.db, '/');
        snprintf(dir, sizeof dir, "%.*stls", slash ? (int)(slash - opts.db + 1) : 0, opts.db);
    }
    struct tls_settings s = {.port = opts.tls_port,
                             .cert = opts.tls_cert[0] ? opts.tls_cert : NULL,
                             .key = opts.tls_key[0] ? opts.tls_key : NULL,
                             .dir = dir,
                             .redirect = opts.http_redirect};
    return tls_setup(&s);
}
#endif

/* Every route: the REST API, the WebSocket endpoint, the pages. */
static int register_handlers(struct mg_context *ctx)
{
    if (api_start(ctx, opts.session_max_age) != 0 || ws_start(ctx) != 0 ||
        web_start(ctx, opts.web_root) != 0)
        return -1;
    return 0;
}

static int start_http(void)
{
    struct http_settings s = {.listen = opts.listen,
                              .port = opts.port,
                              .handlers = register_handlers,
                              .flush = deliver_drain};
#if CHAT_WITH_TLS
    s.tls_port = opts.tls_port;
    s.init_ssl = tls_init_ssl;
    s.redirect = tls_begin_request;
#endif
    return http_start(&s);
}

/* With --mqtt: the broker's client; without, nothing. */
static int start_mqtt(void)
{
    if (!opts.mqtt[0])
        return 0;
    struct mqtt_config c = {.url = opts.mqtt,
                            .user = opts.mqtt_user,
                            .password_file = opts.mqtt_password_file,
                            .prefix = opts.mqtt_prefix,
                            .node = opts.node,
                            .ca = opts.mqtt_ca};
    return mqtt_start(&c);
}

static int start_delivery(void)
{
    deliver_set_frame_timeout(opts.ws_frame_ms);
    return deliver_start(CHAT_IO_THREADS);
}

/* The ladder, bottom to top; stopped top to bottom. */
static const struct step {
    const char *name;
    int (*start)(void);
    void (*stop)(void); /* NULL: nothing to undo */
} steps[] = {
    /* civetweb's library: first up, last down */
    {"civetweb", http_init, http_exit},
    /* descriptors for every WebSocket, the default stack, cJSON's arena */
    {"limits", set_limits, NULL},
    {"pools", pool_init, pool_shutdown},
    /* open and migrate (the directory made when missing); its stop drains
     * the writer last, so every stop above can still write (auth's
     * last-seen times) */
    {"store", open_store, store_close},
    {"sessions", start_sessions, auth_stop},
    {"hub", start_hub, hub_stop},
    /* sessions are loaded before it starts; stopped by the store's stop */
    {"writer", start_writer, NULL},
#if CHAT_WITH_TLS
    {"tls", prepare_tls, NULL},
#endif
    {"gate", gate_start, gate_stop},
    /* its stop: a close frame to every WebSocket, the I/O threads end; after
     * civetweb's, so that a handshake civetweb finishes while it stops is
     * handed to I/O threads that still run */
    {"delivery", start_delivery, deliver_stop},
    /* stores what the broker brings and fans it out: after delivery; it
     * publishes the outbox the writer fills */
    {"mqtt", start_mqtt, mqtt_stop},
    /* listens, every handler registered; 503 until open (a short while:
     * everything else is up) */
    {"http", start_http, http_stop},
    /* requests served; its stop is the drain and the flush */
    {"open", http_open, http_close},
};
#define STEP_COUNT (sizeof steps / sizeof steps[0])

/* How many steps, from the bottom, started and are not stopped yet. */
static size_t climbed;

static int climb(void)
{
    while (climbed < STEP_COUNT) {
        const struct step *s = &steps[climbed];
        if (s->start() != 0) {
            log_error("cannot start %s; stopping the %zu step(s) started", s->name, climbed);
            return -1;
        }
        climbed++;
        log_debug("started %s", s->name);
    }
    return 0;
}

/* Each step is taken off the ladder before its stop runs: none is stopped
 * twice, whatever calls this. */
static void descend(void)
{
    while (climbed > 0) {
        const struct step *s = &steps[--climbed];
        if (s->stop) {
            s->stop();
            log_debug("stopped %s", s->name);
        }
    }
}

int main(int argc, char **argv)
{
#if CHAT_WITH_MODERATION
    /* the console's subcommand: its own words, then the server's options */
    if (argc > 1 && strcmp(argv[1], "admin") == 0)
        return admin_main(argc - 1, argv + 1);
#endif
    /* Commands that run instead of the server, on its database. */
    if (argc > 1 && strcmp(argv[1], "backup") == 0)
        return backup_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "restore") == 0)
        return backup_restore_main(argc - 1, argv + 1);
    options_defaults(&opts);
    switch (options_parse(&opts, argc, argv)) {
    case OPTIONS_EXIT_OK:
        return 0;
    case OPTIONS_EXIT_ERROR:
        return 2;
    case OPTIONS_RUN:
        break;
    }
    log_set_level(opts.debug ? LOG_DEBUG : LOG_INFO);
    log_info("lanchat %s starting", CHAT_VERSION);

    /* Signals are taken by sigwait below, never by a worker thread. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (climb() != 0) {
        descend();
        log_error("not started");
        return 1;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("signal %d: shutting down", sig);
    descend();
    log_info("stopped");
    return 0;
}
