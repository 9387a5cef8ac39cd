/*
 * http - small helpers over civetweb for the API, the web client and the
 * WebSocket handshake: responses with their headers, the API's error shape,
 * reading a bounded request body, finding the session token (Bearer header
 * or cookie) and checking Origin.
 * Owns the table from error kinds to HTTP statuses and wire names.
 * Calls civetweb, json, gate (a body read to its end). Thread rules: any civetweb worker thread, on
 * its own connection; the table from any thread.
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

/* Every API reply goes through http_reply or http_start_chunked, which add
 * the common security headers (nosniff, no referrer); nothing in api.c
 * starts a reply by hand. */
/* Status line, the headers (those named NULL skipped) and Content-Length:
 * len (none on a 304), then the body, unless the request is HEAD or the
 * status 304. Civetweb keeps the connection alive only for replies with a
 * Content-Length. */
void http_send(struct mg_connection *conn, int status, const struct http_header *headers,
               size_t count, const void *body, size_t len);
/* http_send's status line and headers only, for a body of len bytes the
 * caller writes (none for HEAD: http_is_head). */
void http_send_head(struct mg_connection *conn, int status, const struct http_header *headers,
                    size_t count, size_t len);
bool http_is_head(const struct mg_connection *conn);
/* http_send with the common headers, Content-Type and one more header (name
 * NULL: none). */
void http_reply(struct mg_connection *conn, int status, const char *content_type, const void *body,
                size_t len, const char *extra_header_name, const char *extra_header_value);
void http_json(struct mg_connection *conn, int status, const char *json);
/* Headers of a chunked reply (not stored by caches); the body follows with
 * mg_send_chunk, ended by an empty chunk. */
void http_start_chunked(struct mg_connection *conn, int status, const char *content_type);
/* The only table of error kinds: the HTTP status of each and its wire name
 * (the "code" of REST error bodies and WebSocket error frames). */
int http_status_of(enum chat_errc kind);
const char *http_error_name(enum chat_errc kind);
void http_error(struct mg_connection *conn, struct chat_error e);
/* The error reply with one header of the caller's (Retry-After, Allow). */
void http_error_with(struct mg_connection *conn, struct chat_error e, const char *header_name,
                     const char *header_value);
/* The API's error as a whole response written by hand, with its status
 * line and Connection: close: for requests civetweb's response functions
 * refuse (an upgrade) or before a handler was chosen (gate). */
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
 * after; http_enter is false once draining started (refuse the request).
 * http_drain stops new work and waits, at most timeout_ms, for the work in
 * flight: civetweb drops every write once mg_stop begins. */
bool http_enter(void);
void http_leave(void);
bool http_drain(int timeout_ms); /* true when nothing was left in flight */

#endif
