/*
 * main - the boot sequence of the appliance, and nothing else:
 * options -> log -> limits -> storage -> pools -> sessions -> hub ->
 * delivery -> writer -> HTTP, then wait for SIGINT/SIGTERM and stop in
 * reverse order.
 */
#include "api.h"
#include "auth.h"
#include "config.h"
#include "deliver.h"
#include "gate.h"
#include "http.h"
#include "hub.h"
#include "json.h"
#define LOG_MODULE "main"
#include "log.h"
#include "options.h"
#include "pool.h"
#include "store.h"
#include "tls.h"
#include "web.h"
#include "ws.h"

#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("civetweb: %s", message);
    return 1;
}

/* Creates the directory of the database file when it is missing. */
static void make_parent_directory(const char *path)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        log_warn("cannot create %s: %s", dir, strerror(errno));
}

/* Every WebSocket is a descriptor: the soft limit (often 1024) goes up to
 * what CHAT_MAX_CLIENTS needs, within the hard limit. Thread stacks that
 * nobody sizes get CHAT_THREAD_STACK instead of glibc's 8 MiB. */
static void set_limits(void)
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
}

#if CHAT_WITH_TLS
/* HTTPS: the certificate ready before civetweb starts; its tls/ directory
 * beside the database unless --tls-dir says otherwise. */
static int prepare_tls(const struct options *o)
{
    if (o->tls_port == 0)
        return 0;
    char dir[600];
    if (o->tls_dir[0]) {
        snprintf(dir, sizeof dir, "%s", o->tls_dir);
    } else {
        const char *slash = strrchr(o->db, '/');
        snprintf(dir, sizeof dir, "%.*stls", slash ? (int)(slash - o->db + 1) : 0, o->db);
    }
    struct tls_settings s = {.port = o->tls_port,
                             .cert = o->tls_cert[0] ? o->tls_cert : NULL,
                             .key = o->tls_key[0] ? o->tls_key : NULL,
                             .dir = dir,
                             .redirect = o->http_redirect};
    return tls_setup(&s);
}
#endif

static struct mg_context *start_http(const struct options *o)
{
    char ports[192], threads[16], timeout[16], keep_alive[16], queue[16];
    int used_ports =
        snprintf(ports, sizeof ports, "%s%s%d", o->listen, o->listen[0] ? ":" : "", o->port);
#if CHAT_WITH_TLS
    if (o->tls_port)
        snprintf(ports + used_ports, sizeof ports - (size_t)used_ports, ",%s%s%ds", o->listen,
                 o->listen[0] ? ":" : "", o->tls_port);
#else
    (void)used_ports;
#endif
    snprintf(threads, sizeof threads, "%d", CHAT_HTTP_THREADS);
    snprintf(timeout, sizeof timeout, "%d", CHAT_SEND_TIMEOUT_MS);
    snprintf(keep_alive, sizeof keep_alive, "%d", CHAT_KEEP_ALIVE_MS);
    snprintf(queue, sizeof queue, "%d", CHAT_CONN_TOTAL);
    /* clang-format off */ /* name, value pairs; no document_root: web.c serves files */
    const char *settings[] = {
        "listening_ports", ports,
        "num_threads", threads,
        "request_timeout_ms", timeout,
        /* for a refused WebSocket only: a taken-over one never reads here */
        "websocket_timeout_ms", "30000",
        "enable_websocket_ping_pong", "yes",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", keep_alive,
        /* responses are written in pieces: no 40 ms delayed-ACK stalls */
        "tcp_nodelay", "1",
        /* No CORS: civetweb would answer every preflight (OPTIONS with Origin
         * and Access-Control-Request-Method) itself, before any handler, with
         * Access-Control-Allow-Origin: * and the method and headers asked
         * for; empty values turn that off and OPTIONS reaches our handlers. */
        "access_control_allow_origin", "",
        "access_control_allow_methods", "",
        "access_control_allow_headers", "",
        /* gate admits no more: the master thread never waits for a worker */
        "connection_queue", queue,
        NULL,
    };
    /* clang-format on */
    struct mg_callbacks callbacks = {.log_message = log_civetweb,
                                     .http_error = http_civetweb_error};
    int (*redirect)(struct mg_connection *) = NULL;
#if CHAT_WITH_TLS
    if (o->tls_port) {
        callbacks.init_ssl = tls_init_ssl;
        redirect = tls_begin_request;
    }
#endif
    /* 503 for every request until gate_ready; then gate's limits, then the
     * redirect to HTTPS */
    gate_callbacks(&callbacks, redirect);
    struct mg_context *ctx = mg_start(&callbacks, NULL, settings);
    if (!ctx) {
        log_error("cannot listen on %s", ports);
        return NULL;
    }
    if (api_start(ctx, o->session_max_age) != 0 || ws_start(ctx) != 0 ||
        web_start(ctx, o->web_root) != 0) {
        mg_stop(ctx);
        return NULL;
    }
    gate_ready(ctx);
    struct mg_server_port bound[4];
    int n = mg_get_server_ports(ctx, 4, bound);
    for (int i = 0; i < n; i++)
        log_info("listening on %s://%s:%d", bound[i].is_ssl ? "https" : "http",
                 o->listen[0] ? o->listen : "0.0.0.0", bound[i].port);
    return ctx;
}

int main(int argc, char **argv)
{
    struct options o;
    options_defaults(&o);
    switch (options_parse(&o, argc, argv)) {
    case OPTIONS_EXIT_OK:
        return 0;
    case OPTIONS_EXIT_ERROR:
        return 2;
    case OPTIONS_RUN:
        break;
    }
    log_set_level(o.debug ? LOG_DEBUG : LOG_INFO);
    log_info("lanchat %s starting", CHAT_VERSION);

    /* Signals are taken by sigwait below, never by a worker thread. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    json_init();
    set_limits();
    make_parent_directory(o.db);
    if (store_open(o.db, CHAT_SQLITE_HEAP_LIMIT, o.max_messages_per_room) != 0)
        return 1;
    if (pool_init() != 0) {
        store_close();
        return 1;
    }
    hub_set_rate(o.rate, o.burst);
    struct store_hooks hooks = {.message_added = deliver_message_added,
                                .message_deleted = deliver_message_deleted,
                                .batch_done = deliver_batch_done};
    if (auth_start(o.session_idle, o.session_max_age, o.sessions_per_addr) != 0 ||
        hub_start() != 0) {
        store_close();
        pool_shutdown();
        return 1;
    }
    deliver_set_frame_timeout(o.ws_frame_ms);
    if (deliver_start(CHAT_IO_THREADS) != 0 || store_start(&hooks) != 0) {
        deliver_stop();
        store_close();
        pool_shutdown();
        return 1;
    }
#if CHAT_WITH_TLS
    if (prepare_tls(&o) != 0) {
        deliver_stop();
        store_close();
        pool_shutdown();
        return 1;
    }
#endif
    mg_init_library(0);
    struct mg_context *ctx = gate_start() == 0 ? start_http(&o) : NULL;
    if (!ctx) {
        gate_stop();
        deliver_stop();
        store_close();
        pool_shutdown();
        return 1;
    }

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("signal %d: shutting down", sig);

    /* Let requests and frames in flight finish and their answers go out:
     * once mg_stop begins, civetweb drops every write. */
    if (!http_drain(CHAT_SEND_TIMEOUT_MS))
        log_warn("requests still in flight at shutdown after %d ms", CHAT_SEND_TIMEOUT_MS);
    if (!deliver_drain(1000))
        log_warn("at shutdown, some WebSocket queues were not written out");
    deliver_stop(); /* a close frame to every WebSocket; the I/O threads end */
    mg_stop(ctx);   /* no more requests; every acked write has committed */
    gate_stop();
    auth_stop();
    hub_stop();
    store_close(); /* writer drained, WAL checkpointed */
    pool_shutdown();
    mg_exit_library();
    log_info("stopped");
    return 0;
}
