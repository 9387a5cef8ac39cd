/*
 * http - civetweb, and small helpers over it for the API, the web client and
 * the WebSocket handshake. Owns civetweb's start, its settings and log
 * callback, and its ordered shutdown (drain, flush, stop); the one writer
 * of a reply's status line and headers (http_head), which always adds the
 * security headers; the API's error shape; reading a bounded request body;
 * finding the session token (Bearer header or cookie) and checking Origin.
 * Owns the table from error kinds to HTTP statuses and wire names.
 * Calls civetweb, json, gate (admission, a body read to its end), log; what
 * it is given (handlers, TLS, the flush) it calls through pointers. Thread
 * rules: http_init/start/open/close/stop/exit from main at boot and
 * shutdown; the rest from any civetweb worker thread, on its own
 * connection; the table from any thread.
 */
#ifndef LANCHAT_HTTP_H
#define LANCHAT_HTTP_H

#include "chat_error.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

struct http_header {
    const char *name; /* NULL: skipped */
    const char *value;
};

/* Every reply's status line and headers are written by http_head, and by
 * nothing else in lanchat: it puts the security headers (nosniff, no
 * referrer) first, then the caller's (those named NULL skipped), then
 * Content-Length: len (none on a 304) or, for len HTTP_CHUNKED,
 * Transfer-Encoding: chunked (the body follows with mg_send_chunk, ended by
 * an empty chunk). Where civetweb's response functions refuse (a request
 * that asked for an upgrade), the same head is written as text, with
 * Connection: close. Civetweb keeps the connection alive only for replies
 * with a Content-Length. */
#define HTTP_CHUNKED ((size_t)-1)
void http_head(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, size_t len);
/* The same head as text, with Connection: close, into buf, for a socket
 * civetweb does not hold (gate's refusals at accept); its length, 0 when
 * it does not fit. */
size_t http_head_text(char *buf, size_t cap, int status, const struct http_header *headers,
                      size_t count, size_t len);
/* http_head, then the body, unless the request is HEAD or the status 304. */
void http_send(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, const void *body, size_t len);
bool http_is_head(const struct mg_connection *conn);
/* http_send with Content-Type and one more header (name NULL: none). */
void http_reply(struct mg_connection *conn, int status, const char *content_type, const void *body,
                size_t len, const char *extra_header_name, const char *extra_header_value);
void http_json(struct mg_connection *conn, int status, const char *json);
/* The head of a chunked reply (not stored by caches). */
void http_start_chunked(struct mg_connection *conn, int status, const char *content_type);
/* The only table of error kinds: the HTTP status of each and its wire name
 * (the "code" of REST error bodies and WebSocket error frames). */
int http_status_of(enum chat_errc kind);
const char *http_error_name(enum chat_errc kind);
void http_error(struct mg_connection *conn, struct chat_error e);
/* The error reply with one header of the caller's (Retry-After, Allow). */
void http_error_with(struct mg_connection *conn, struct chat_error e, const char *header_name,
                     const char *header_value);
/* The API's error with Connection: close: before a handler was chosen
 * (gate) or for a refused upgrade (ws). */
void http_refuse(struct mg_connection *conn, struct chat_error e);
/* The API's error body for e into buf; its length (0 when it does not fit). */
size_t http_error_json(struct chat_error e, char *buf, size_t cap);
/* Reads the whole body into buf (NUL-terminated); an error when it is larger
 * than cap-1 (413, not read), not JSON (415) or cut short (400). */
struct chat_error http_read_json_body(struct mg_connection *conn, char *buf, size_t cap,
                                      size_t *len);
/* The request carries a body that is not declared as JSON. */
bool http_body_is_foreign(const struct mg_connection *conn);
/* The session token of the request, or false. */
bool http_token(const struct mg_connection *conn, char *out, size_t cap);
/* No Origin header, or one naming the host the request was sent to. */
bool http_origin_allowed(const struct mg_connection *conn);

/* Shutdown gate. Handlers call http_enter before doing work and http_leave
 * after; http_enter is false once http_close began (refuse the request). */
bool http_enter(void);
void http_leave(void);

/* ---- civetweb itself, from main's boot ladder, in this order ---- */

/* What the server is to be; the modules above http are reached only
 * through these pointers, given by main. */
struct http_settings {
    const char *listen; /* address to bind, "" = all */
    int port;
    int tls_port;                                    /* 0: no HTTPS */
    int (*init_ssl)(void *ssl_ctx, void *user_data); /* with tls_port */
    int (*redirect)(struct mg_connection *conn);     /* after gate admitted; NULL: none */
    int (*handlers)(struct mg_context *ctx);         /* registers every route; 0 or -1 */
    bool (*flush)(int timeout_ms);                   /* answers in flight written out */
};
/* civetweb's library: the first thing started, the last stopped. */
int http_init(void);
void http_exit(void);
/* Listens with our settings and registers the handlers; every request is
 * answered 503 until http_open. */
int http_start(const struct http_settings *s);
/* Requests are served from now on; logs each listening address. */
int http_open(void);
/* The drain, then the flush: new requests and frames are refused, those in
 * flight finish (at most CHAT_SEND_TIMEOUT_MS), then the flush writes their
 * answers out (at most CHAT_DRAIN_MS): civetweb drops every write once
 * http_stop begins. */
void http_close(void);
/* Civetweb closes its connections and its threads end. */
void http_stop(void);

#endif
