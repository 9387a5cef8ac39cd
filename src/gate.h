/*
 * gate - admission of HTTP connections to civetweb's workers, for every
 * listener (plain and TLS): at most CHAT_CONN_PER_ADDR connections of one
 * address held by civetweb and CHAT_CONN_TOTAL in all (more are answered 503
 * at accept, or closed on a TLS port; the per-address limits once half the
 * workers are held), at most CHAT_REQUESTS_PER_ADDR requests of one address
 * in progress, a total deadline (CHAT_REQUEST_READ_MS) for
 * reading a request's headers and body, and nothing but 503 before
 * gate_ready. It owns the table of admitted connections, filled by our
 * accept(2), which libcivetweb's call binds to (the executable's definition
 * comes first), and emptied by civetweb's connection_close callback.
 * Calls libc, civetweb, http, log, ws (its path). Thread rules: gate_start,
 * gate_stop at boot and shutdown (main.c's ladder), gate_callbacks and
 * gate_ready from http_start and http_open;
 * accept on civetweb's master thread; the callbacks and gate_body_read on
 * its workers; the table under one mutex, also taken by the watchdog thread
 * gate owns.
 */
#ifndef LANCHAT_GATE_H
#define LANCHAT_GATE_H

#include <civetweb.h>

/* Starts the watchdog; accept admits nothing but counts from now on. */
int gate_start(void);
/* Sets civetweb's begin_request, end_request and connection_close; then
 * (NULL: none) sees every request gate admitted, as begin_request would
 * (the redirect to HTTPS). */
void gate_callbacks(struct mg_callbacks *callbacks, int (*then)(struct mg_connection *conn));
/* Every handler is registered: requests are served from now on. Learns
 * which listening ports are plain HTTP (a refusal there is a 503). */
void gate_ready(struct mg_context *ctx);
void gate_stop(void);
/* The request's body is read: its connection's read deadline ends. */
void gate_body_read(const struct mg_connection *conn);

#endif
