#include "http.h"

#include "config.h"
#include "gate.h"
#include "json.h"
#define LOG_MODULE "http"
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the one writer of status lines and headers ---------------------------- */

/* On every reply, whoever answers: no type sniffing, no referrer. */
static const struct http_header security_headers[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
};
#define SECURITY_COUNT (sizeof security_headers / sizeof security_headers[0])
/* The security headers, the caller's, the framing one and Connection. */
#define HEAD_MAX 24

/* Every line of a head, in order: the one place that decides what a reply
 * carries. length holds the Content-Length's text. */
static size_t head_lines(struct http_header *out, char length[24], int status,
                         const struct http_header *headers, size_t count, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < SECURITY_COUNT; i++)
        out[n++] = security_headers[i];
    /* A 204 has no body: no Content-Length (RFC 9110 8.6: a server must not
     * send one), and no Content-Type of the body it lacks. */
    bool bodiless = status == 204;
    for (size_t i = 0; i < count && n < HEAD_MAX - 1; i++)
        if (headers[i].name && !(bodiless && strcasecmp(headers[i].name, "Content-Type") == 0))
            out[n++] = headers[i];
    if (len == HTTP_CHUNKED) {
        out[n++] = (struct http_header){"Transfer-Encoding", "chunked"};
    } else if (status != 304 && !bodiless) {
        snprintf(length, 24, "%zu", len);
        out[n++] = (struct http_header){"Content-Length", length};
    }
    return n;
}

static bool names_connection(const struct http_header *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(lines[i].name, "Connection") == 0)
            return true;
    return false;
}

size_t http_head_text(char *buf, size_t cap, int status, const struct http_header *headers,
                      size_t count, size_t len)
{
    struct http_header lines[HEAD_MAX];
    char length[24];
    size_t n = head_lines(lines, length, status, headers, count, len);
    int used =
        snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", status, mg_get_response_code_text(NULL, status));
    for (size_t i = 0; i < n && used >= 0 && (size_t)used < cap; i++)
        used +=
            snprintf(buf + used, cap - (size_t)used, "%s: %s\r\n", lines[i].name, lines[i].value);
    if (used >= 0 && (size_t)used < cap)
        used += snprintf(buf + used, cap - (size_t)used, "%s\r\n",
                         names_connection(lines, n) ? "" : "Connection: close\r\n");
    return used >= 0 && (size_t)used < cap ? (size_t)used : 0;
}

void http_head(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, size_t len)
{
    if (mg_response_header_start(conn, status) != 0) {
        /* civetweb writes no head for a request that asked for an upgrade */
        char text[2048];
        size_t n = http_head_text(text, sizeof text, status, headers, count, len);
        if (n > 0)
            mg_write(conn, text, n);
        return;
    }
    struct http_header lines[HEAD_MAX];
    char length[24];
    size_t n = head_lines(lines, length, status, headers, count, len);
    for (size_t i = 0; i < n; i++)
        mg_response_header_add(conn, lines[i].name, lines[i].value, -1);
    mg_response_header_send(conn);
}

bool http_is_head(const struct mg_connection *conn)
{
    const char *method = mg_get_request_info(conn)->request_method;
    return method && strcmp(method, "HEAD") == 0;
}

void http_send(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, const void *body, size_t len)
{
    /* A body after the headers of a HEAD reply would be read as the next reply. */
    http_head(conn, status, headers, count, len);
    if (len > 0 && !http_is_head(conn) && status != 304)
        mg_write(conn, body, len);
}

void http_reply(struct mg_connection *conn, int status, const char *content_type, const void *body,
                size_t len, const char *extra_header_name, const char *extra_header_value)
{
    const struct http_header headers[] = {
        {"Content-Type", content_type},
        {extra_header_name, extra_header_value},
    };
    http_send(conn, status, headers, sizeof headers / sizeof headers[0], body, len);
}

void http_start_chunked(struct mg_connection *conn, int status, const char *content_type)
{
    const struct http_header headers[] = {
        {"Content-Type", content_type},
        {"Cache-Control", "no-store"},
    };
    http_head(conn, status, headers, sizeof headers / sizeof headers[0], HTTP_CHUNKED);
}

void http_json(struct mg_connection *conn, int status, const char *json)
{
    http_reply(conn, status, "application/json", json, strlen(json), "Cache-Control", "no-store");
}

static const struct {
    int status;
    const char *name;
} error_kinds[CHAT_E_COUNT] = {
    [CHAT_E_NONE] = {200, "ok"},
    [CHAT_E_BAD_REQUEST] = {400, "bad_request"},
    [CHAT_E_UNAUTHORIZED] = {401, "unauthorized"},
    [CHAT_E_FORBIDDEN] = {403, "forbidden"},
    [CHAT_E_NOT_FOUND] = {404, "not_found"},
    [CHAT_E_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
    [CHAT_E_NOT_ACCEPTABLE] = {406, "not_acceptable"},
    [CHAT_E_NAME_TAKEN] = {409, "name_taken"},
    [CHAT_E_CONFLICT] = {409, "conflict"},
    [CHAT_E_TOO_LARGE] = {413, "too_large"},
    [CHAT_E_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type"},
    [CHAT_E_RATE_LIMITED] = {429, "rate_limited"},
    [CHAT_E_UNAVAILABLE] = {503, "unavailable"},
    [CHAT_E_INTERNAL] = {500, "internal"},
};

int http_status_of(enum chat_errc kind)
{
    return kind < CHAT_E_COUNT ? error_kinds[kind].status : 500;
}

const char *http_error_name(enum chat_errc kind)
{
    return kind < CHAT_E_COUNT ? error_kinds[kind].name : "internal";
}

size_t http_error_json(struct chat_error e, char *buf, size_t cap)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_raw(&w, "{\"error\":{\"code\":");
    jw_str(&w, http_error_name(e.kind));
    jw_raw(&w, ",\"message\":");
    jw_str(&w, e.message);
    jw_raw(&w, "}}");
    return jw_finish(&w) ? w.len : 0;
}

void http_refuse(struct mg_connection *conn, struct chat_error e)
{
    char json[256];
    size_t len = http_error_json(e, json, sizeof json);
    bool retry = e.kind == CHAT_E_UNAVAILABLE || e.kind == CHAT_E_RATE_LIMITED;
    const struct http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Cache-Control", "no-store"},
        {retry ? "Retry-After" : NULL, "1"},
        {"Connection", "close"},
    };
    http_send(conn, http_status_of(e.kind), headers, sizeof headers / sizeof headers[0], json, len);
}

void http_error_with(struct mg_connection *conn, struct chat_error e, const char *header_name,
                     const char *header_value)
{
    char json[512];
    size_t len = http_error_json(e, json, sizeof json);
    http_reply(conn, http_status_of(e.kind), "application/json", json, len, header_name,
               header_value);
}

void http_error(struct mg_connection *conn, struct chat_error e)
{
    const char *name = NULL, *value = NULL;
    if (e.kind == CHAT_E_UNAVAILABLE || e.kind == CHAT_E_RATE_LIMITED)
        name = "Retry-After", value = "1";
    else if (e.kind == CHAT_E_TOO_LARGE)
        name = "Connection", value = "close"; /* the unread body cannot be skipped */
    http_error_with(conn, e, name, value);
}

static bool is_json_type(const char *type)
{
    if (!type)
        return false;
    size_t n = strlen("application/json");
    return strncasecmp(type, "application/json", n) == 0 && (type[n] == '\0' || type[n] == ';');
}

bool http_body_is_foreign(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    bool has_body = ri->content_length > 0 || mg_get_header(conn, "Transfer-Encoding") != NULL;
    return has_body && !is_json_type(mg_get_header(conn, "Content-Type"));
}

struct chat_error http_read_json_body(struct mg_connection *conn, char *buf, size_t cap,
                                      size_t *len)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->content_length > (long long)(cap - 1))
        return CHAT_ERROR(TOO_LARGE, "request body is too large");
    if (!is_json_type(mg_get_header(conn, "Content-Type")))
        return CHAT_ERROR(UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    size_t got = 0;
    for (;;) {
        int n = mg_read(conn, buf + got, cap - got);
        if (n < 0)
            return CHAT_ERROR(BAD_REQUEST, "request body could not be read");
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == cap)
            return CHAT_ERROR(TOO_LARGE, "request body is too large");
    }
    if (ri->content_length >= 0 && got != (size_t)ri->content_length)
        return CHAT_ERROR(BAD_REQUEST, "request body is shorter than its Content-Length");
    buf[got] = '\0';
    *len = got;
    gate_body_read(conn);
    return CHAT_OK;
}

bool http_token(const struct mg_connection *conn, char *out, size_t cap)
{
    const char *authorization = mg_get_header(conn, "Authorization");
    if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        if (strlen(token) >= cap)
            return false;
        snprintf(out, cap, "%s", token);
        return true;
    }
    const char *cookie = mg_get_header(conn, "Cookie");
    return cookie && mg_get_cookie(cookie, "session", out, cap) > 0;
}

bool http_origin_allowed(const struct mg_connection *conn)
{
    const char *origin = mg_get_header(conn, "Origin");
    if (!origin)
        return true;
    const char *host = mg_get_header(conn, "Host");
    const char *sep = strstr(origin, "://");
    if (!host || !sep)
        return false;
    return strcasecmp(sep + 3, host) == 0;
}

static atomic_int in_flight;
static atomic_bool draining;

bool http_enter(void)
{
    atomic_fetch_add(&in_flight, 1); /* count first, then look: see http_close */
    if (!atomic_load(&draining))
        return true;
    atomic_fetch_sub(&in_flight, 1);
    return false;
}

void http_leave(void)
{
    atomic_fetch_sub(&in_flight, 1);
}

/* ---- civetweb: start, settings, ordered shutdown ----------------------------- */

/* A refused WebSocket only (ws.c's refuse_open): civetweb waits this long
 * for its close reply; a taken-over one never reads there. */
#define WS_REFUSED_TIMEOUT_MS "30000"

static struct {
    struct mg_context *ctx;
    bool (*flush)(int timeout_ms);
    char listen[64];
} server;

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("civetweb: %s", message);
    return 1;
}

/* Civetweb's own refusals (a request it could not parse, headers too
 * large, an HTTP version it does not speak) as the API's errors, through
 * http_head like every other reply. */
static int civetweb_error(struct mg_connection *conn, int status, const char *message)
{
    enum chat_errc kind = status >= 500 ? CHAT_E_INTERNAL : CHAT_E_BAD_REQUEST;
    for (int k = 0; k < CHAT_E_COUNT; k++)
        if (error_kinds[k].status == status) {
            kind = (enum chat_errc)k;
            break;
        }
    char json[384];
    size_t len = http_error_json((struct chat_error){kind, message}, json, sizeof json);
    const struct http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Cache-Control", "no-store"},
        {"Connection", "close"},
    };
    http_send(conn, status, headers, sizeof headers / sizeof headers[0], json, len);
    return 0;
}

int http_init(void)
{
    mg_init_library(0);
    return 0;
}

void http_exit(void)
{
    mg_exit_library();
}

int http_start(const struct http_settings *s)
{
    char ports[192], threads[16], timeout[16], keep_alive[16], queue[16];
    const char *colon = s->listen[0] ? ":" : "";
    int used = snprintf(ports, sizeof ports, "%s%s%d", s->listen, colon, s->port);
    if (s->tls_port && used > 0 && (size_t)used < sizeof ports)
        snprintf(ports + used, sizeof ports - (size_t)used, ",%s%s%ds", s->listen, colon,
                 s->tls_port);
    snprintf(threads, sizeof threads, "%d", CHAT_HTTP_THREADS);
    snprintf(timeout, sizeof timeout, "%d", CHAT_SEND_TIMEOUT_MS);
    snprintf(keep_alive, sizeof keep_alive, "%d", CHAT_KEEP_ALIVE_MS);
    snprintf(queue, sizeof queue, "%d", CHAT_CONN_TOTAL);
    snprintf(server.listen, sizeof server.listen, "%s", s->listen[0] ? s->listen : "0.0.0.0");
    /* clang-format off */ /* name, value pairs; no document_root: web.c serves files */
    const char *settings[] = {
        "listening_ports", ports,
        "num_threads", threads,
        "request_timeout_ms", timeout,
        "websocket_timeout_ms", WS_REFUSED_TIMEOUT_MS,
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
    struct mg_callbacks callbacks = {.log_message = log_civetweb, .http_error = civetweb_error};
    if (s->tls_port)
        callbacks.init_ssl = s->init_ssl;
    /* 503 for every request until http_open; then gate's limits, then the
     * redirect to HTTPS */
    gate_callbacks(&callbacks, s->tls_port ? s->redirect : NULL);
    server.flush = s->flush;
    server.ctx = mg_start(&callbacks, NULL, settings);
    if (!server.ctx) {
        log_error("cannot listen on %s", ports);
        return -1;
    }
    if (s->handlers(server.ctx) != 0) {
        http_stop();
        return -1;
    }
    return 0;
}

int http_open(void)
{
    gate_ready(server.ctx);
    struct mg_server_port bound[4];
    int n = mg_get_server_ports(server.ctx, 4, bound);
    for (int i = 0; i < n; i++)
        log_info("listening on %s://%s:%d", bound[i].is_ssl ? "https" : "http", server.listen,
                 bound[i].port);
    return 0;
}

void http_close(void)
{
    atomic_store(&draining, true);
    struct timespec tick = {0, 5 * 1000 * 1000};
    for (int waited = 0; atomic_load(&in_flight) > 0 && waited < CHAT_SEND_TIMEOUT_MS; waited += 5)
        nanosleep(&tick, NULL);
    if (atomic_load(&in_flight) > 0)
        log_warn("requests still in flight at shutdown after %d ms", CHAT_SEND_TIMEOUT_MS);
    if (server.flush && !server.flush(CHAT_DRAIN_MS))
        log_warn("at shutdown, some answers were not written out within %d ms", CHAT_DRAIN_MS);
}

void http_stop(void)
{
    if (server.ctx)
        mg_stop(server.ctx); /* no more requests; every acked write has committed */
    server.ctx = NULL;
}
