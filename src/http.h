/*
 * http - small helpers over civetweb for the API, the web client and the
 * WebSocket handshake: the one writer of a reply's status line and headers
 * (http_head), which always adds the security headers, the API's error
 * shape, reading a bounded request body, finding the session token (Bearer
 * header or cookie) and checking Origin.
 * Owns the table from error kinds to HTTP statuses and wire names.
 * Calls civetweb, json, gate (a body read to its end). Thread rules: any
 * civetweb worker thread, on its own connection; the table from any thread.
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
 * after; http_enter is false once draining started (refuse the request). */
bool http_enter(void);
void http_leave(void);

/* http_drain stops new work and waits, at most timeout_ms, for the work in
 * flight: civetweb drops every write once mg_stop begins. */
bool http_drain(int timeout_ms); /* true when nothing was left in flight */
/* Civetweb's own refusals (its http_error callback) as the API's errors. */
int http_civetweb_error(struct mg_connection *conn, int status, const char *message);

#endif
