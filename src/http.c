#include "http.h"

#include "gate.h"
#include "json.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <strings.h>

/* The security headers of every API reply (http_reply, http_error,
 * http_start_chunked, http_refuse); the web's assets name their own. */
#define COMMON_HEADERS                                                                             \
    {"X-Content-Type-Options", "nosniff"},                                                         \
    {                                                                                              \
        "Referrer-Policy", "no-referrer"                                                           \
    }
static const struct http_header common_headers[] = {COMMON_HEADERS};

void http_send_head(struct mg_connection *conn, int status, const struct http_header *headers,
                    size_t count, size_t len)
{
    char length[24];
    snprintf(length, sizeof length, "%zu", len);
    mg_response_header_start(conn, status);
    for (size_t i = 0; i < count; i++)
        if (headers[i].name)
            mg_response_header_add(conn, headers[i].name, headers[i].value, -1);
    if (status != 304)
        mg_response_header_add(conn, "Content-Length", length, -1);
    mg_response_header_send(conn);
}

bool http_is_head(const struct mg_connection *conn)
{
    return strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
}

void http_send(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, const void *body, size_t len)
{
    /* A body after the headers of a HEAD reply would be read as the next reply. */
    http_send_head(conn, status, headers, count, len);
    if (len > 0 && !http_is_head(conn) && status != 304)
        mg_write(conn, body, len);
}

void http_reply(struct mg_connection *conn, int status, const char *content_type, const void *body,
                size_t len, const char *extra_header_name, const char *extra_header_value)
{
    const struct http_header headers[] = {
        COMMON_HEADERS,
        {"Content-Type", content_type},
        {extra_header_name, extra_header_value},
    };
    http_send(conn, status, headers, sizeof headers / sizeof headers[0], body, len);
}

void http_start_chunked(struct mg_connection *conn, int status, const char *content_type)
{
    mg_response_header_start(conn, status);
    for (size_t i = 0; i < sizeof common_headers / sizeof common_headers[0]; i++)
        mg_response_header_add(conn, common_headers[i].name, common_headers[i].value, -1);
    mg_response_header_add(conn, "Content-Type", content_type, -1);
    mg_response_header_add(conn, "Transfer-Encoding", "chunked", -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_send(conn);
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
    int status = http_status_of(e.kind);
    bool head = http_is_head(conn);
    bool retry = e.kind == CHAT_E_UNAVAILABLE || e.kind == CHAT_E_RATE_LIMITED;
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
              "Cache-Control: no-store\r\n%s"
              "Connection: close\r\n\r\n%s",
              status, mg_get_response_code_text(conn, status), len,
              retry ? "Retry-After: 1\r\n" : "", head ? "" : json);
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
    atomic_fetch_add(&in_flight, 1); /* count first, then look: see http_drain */
    if (!atomic_load(&draining))
        return true;
    atomic_fetch_sub(&in_flight, 1);
    return false;
}

void http_leave(void)
{
    atomic_fetch_sub(&in_flight, 1);
}

bool http_drain(int timeout_ms)
{
    atomic_store(&draining, true);
    struct timespec tick = {0, 5 * 1000 * 1000};
    for (int waited = 0; atomic_load(&in_flight) > 0 && waited < timeout_ms; waited += 5)
        nanosleep(&tick, NULL);
    return atomic_load(&in_flight) == 0;
}
