/*
 * fuzz_http - HTTP requests to the REST API, /healthz, /metrics and the
 * embedded web client, through the handlers api_start and web_start
 * register, with the real auth, hub and store (a temporary SQLite file):
 * routes and path parameters, query strings (limit, before, after), the
 * session token in a Bearer header or a cookie, Content-Type, the JSON
 * bodies of every handler, Accept-Encoding and If-None-Match.
 *
 * civetweb itself is replaced by the functions below (same names, so the
 * program's own definitions win over libcivetweb's): the request comes from
 * the input, the answer is checked and dropped. mg_get_var and mg_get_cookie
 * stay civetweb's. Every handled request must get exactly one status line
 * with a valid status, and no header may hold a CR or LF. An input is
 *   METHOD SP URI LF (Name: value LF)* LF body
 * and "$TOKEN" in a header stands for a live session's token.
 */
#include "api.h"
#include "auth.h"
#include "config.h"
#include "pool.h"
#include "store.h"
#include "web.h"

#include "fuzz_boot.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- the request, and civetweb's side of it ------------------------------------------- */

struct mg_connection {
    int unused;
};

static struct mg_connection the_conn;
static struct mg_request_info ri;
static const char *body;
static size_t body_left;
static int statuses; /* status lines sent for this request */
static char token[AUTH_TOKEN_LEN + 1];
static void *user_data;
static bool trace;

#define HANDLERS 8
static struct {
    char uri[64];
    mg_request_handler handler;
    void *cbdata;
} handlers[HANDLERS];
static int handler_count;

const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn)
{
    (void)conn;
    return &ri;
}

const char *mg_get_header(const struct mg_connection *conn, const char *name)
{
    (void)conn;
    for (int i = 0; i < ri.num_headers; i++)
        if (strcasecmp(ri.http_headers[i].name, name) == 0)
            return ri.http_headers[i].value;
    return NULL;
}

int mg_read(struct mg_connection *conn, void *buf, size_t len)
{
    (void)conn;
    size_t n = len < body_left ? len : body_left;
    memcpy(buf, body, n);
    body += n;
    body_left -= n;
    return (int)n;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len)
{
    (void)conn, (void)buf;
    if (statuses != 1)
        abort(); /* a body without its status line */
    return (int)len;
}

int mg_printf(struct mg_connection *conn, const char *fmt, ...)
{
    char out[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof out, fmt, ap);
    va_end(ap);
    return mg_write(conn, out, n > 0 ? (size_t)n : 0);
}

int mg_send_chunk(struct mg_connection *conn, const char *chunk, unsigned int chunk_len)
{
    return mg_write(conn, chunk, chunk_len);
}

int mg_response_header_start(struct mg_connection *conn, int status)
{
    (void)conn;
    if (status < 100 || status > 599 || ++statuses != 1)
        abort();
    if (trace) /* FUZZ_HTTP_TRACE=1: what each input is answered, to check seeds */
        fprintf(stderr, "fuzz_http: %s %s -> %d\n", ri.request_method, ri.local_uri, status);
    return 0;
}

int mg_response_header_add(struct mg_connection *conn, const char *header, const char *value,
                           int value_len)
{
    (void)conn;
    size_t n = value_len < 0 ? strlen(value) : (size_t)value_len;
    if (statuses != 1 || !*header || strpbrk(header, "\r\n:") || memchr(value, '\r', n) ||
        memchr(value, '\n', n))
        abort(); /* a header outside a response, or one that would split it */
    return 0;
}

int mg_response_header_send(struct mg_connection *conn)
{
    (void)conn;
    return statuses == 1 ? 0 : -1;
}

void mg_set_request_handler(struct mg_context *ctx, const char *uri, mg_request_handler handler,
                            void *cbdata)
{
    (void)ctx;
    if (handler_count == HANDLERS)
        abort();
    snprintf(handlers[handler_count].uri, sizeof handlers[0].uri, "%s", uri);
    handlers[handler_count].handler = handler;
    handlers[handler_count].cbdata = cbdata;
    handler_count++;
}

void mg_set_user_connection_data(const struct mg_connection *conn, void *data)
{
    (void)conn;
    user_data = data;
}

void *mg_get_user_connection_data(const struct mg_connection *conn)
{
    (void)conn;
    return user_data;
}

/* civetweb's choice among handlers: the longest pattern that matches; a
 * pattern ending in $ matches the whole path, any other one the path and
 * everything below it. */
static int find_handler(const char *path)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < handler_count; i++) {
        const char *u = handlers[i].uri;
        size_t n = strlen(u);
        bool exact = n > 0 && u[n - 1] == '$';
        bool ok;
        if (exact)
            ok = strlen(path) == n - 1 && strncmp(path, u, n - 1) == 0;
        else
            ok = strncmp(path, u, n) == 0 &&
                 (path[n] == '\0' || path[n] == '/' || (n > 0 && u[n - 1] == '/'));
        if (ok && (best < 0 || n > best_len))
            best = i, best_len = n;
    }
    return best;
}

/* ---- the server's modules ------------------------------------------------------------ */

static void log_in(void)
{
    struct auth_identity who;
    struct auth_attempt from = {.addr = "127.0.0.1"};
    if (auth_login(&from, "fuzzer", NULL, token, &who) != AUTH_OK)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_boot("fuzz_http", true);
    if (api_start(NULL, 86400) != 0 || web_start(NULL, "") != 0)
        abort();
    log_in();
    trace = getenv("FUZZ_HTTP_TRACE") != NULL;
    return 0;
}

/* ---- one request ---------------------------------------------------------------------- */

/* The next line of the input (LF or CRLF ended), NUL-terminated in place. */
static char *next_line(char **at, char *end)
{
    if (*at >= end)
        return NULL;
    char *line = *at, *lf = memchr(line, '\n', (size_t)(end - line));
    if (!lf)
        lf = end;
    *at = lf < end ? lf + 1 : end;
    *lf = '\0';
    if (lf > line && lf[-1] == '\r')
        lf[-1] = '\0';
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[2 * CHAT_MAX_REQUEST];
    static char values[MG_MAX_HEADERS][256];
    if (size >= sizeof text)
        return -1;
    memcpy(text, data, size);
    text[size] = '\0';
    char *at = text, *end = text + size;

    memset(&ri, 0, sizeof ri);
    char *line = next_line(&at, end);
    char *uri = line ? strchr(line, ' ') : NULL;
    if (!uri)
        return -1;
    *uri++ = '\0';
    ri.request_method = line;
    ri.request_uri = uri;
    ri.http_version = "1.1";
    snprintf(ri.remote_addr, sizeof ri.remote_addr, "127.0.0.1");
    char *query = strchr(uri, '?');
    if (query)
        *query++ = '\0';
    ri.local_uri = ri.local_uri_raw = uri;
    ri.query_string = query;
    ri.content_length = -1;
    while ((line = next_line(&at, end)) && *line && ri.num_headers < MG_MAX_HEADERS) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *value = colon + 1 + strspn(colon + 1, " \t");
        char *slot = values[ri.num_headers];
        const char *mark = strstr(value, "$TOKEN");
        if (mark)
            snprintf(slot, sizeof values[0], "%.*s%s%s", (int)(mark - value), value, token,
                     mark + 6);
        else
            snprintf(slot, sizeof values[0], "%s", value);
        ri.http_headers[ri.num_headers].name = line;
        ri.http_headers[ri.num_headers].value = slot;
        ri.num_headers++;
        if (strcasecmp(line, "Content-Length") == 0)
            ri.content_length = strtoll(slot, NULL, 10);
    }
    body = at;
    body_left = (size_t)(end - at);
    statuses = 0;
    user_data = NULL;

    int h = find_handler(ri.local_uri);
    if (h >= 0 && handlers[h].handler(&the_conn, handlers[h].cbdata) != 0 && statuses != 1)
        abort(); /* handled, yet not exactly one answer */
    struct pool_stats ps;
    pool_get_stats(POOL_request, &ps);
    if (ps.in_use != 0)
        abort(); /* a request block not given back */
    struct auth_identity who;
    if (!auth_check(token, &who))
        log_in(); /* the input logged the session out */
    return 0;
}
