/*
 * api - the REST API v1 (docs/API.md), /healthz, /metrics and /ca.crt: one
 * route table, each route a small handler named after it. Calls auth, hub,
 * store, deliver (a logout closes the session's WebSockets), frame (the
 * message object and lists), tls (the CA and the HTTPS address), http, json,
 * text, pool, metrics, log.
 * Thread rules: handlers run on civetweb worker threads; api_start at boot.
 */
#ifndef LANCHAT_API_H
#define LANCHAT_API_H

#include "auth.h"
#include "config.h"
#include "json.h"

#include <civetweb.h>
#include <stddef.h>
#include <stdint.h>

/* One request's buffers, from the request pool while a handler runs. */
struct api_request {
    struct mg_connection *conn;
    const char *param; /* the path segment matched by a star */
    struct auth_identity who;
    char body[CHAT_MAX_REQUEST + 1];
    size_t body_len;
    struct json_arena arena;
};

int api_start(struct mg_context *ctx, int64_t session_max_age);

#if CHAT_WITH_METRICS
/* The text of GET /metrics, as snprintf does: at most cap bytes, NUL
 * included, into text; returns the length the whole text needs. */
size_t api_metrics_text(char *text, size_t cap);
#endif

#endif
