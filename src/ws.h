/*
 * ws - the WebSocket endpoint /api/v1/ws. On a civetweb worker: the handshake
 * (a live session, a same-host Origin), then the socket is taken over from
 * civetweb, so no thread waits on an idle WebSocket. On the connection's I/O
 * thread: RFC 6455 framing of what the client sends (masking, fragments,
 * control frames, the close handshake and its codes, UTF-8 of text) and the
 * chat frames join and send. Every reply goes out through deliver; frame
 * writes them.
 * Calls deliver, hub, auth, http, json, frame, text, store, tls (a WSS
 * connection's SSL), civetweb, log.
 * Thread rules: ws_start at boot; the civetweb callbacks on its workers;
 * ws_received on the connection's own I/O thread.
 */
#ifndef LANCHAT_WS_H
#define LANCHAT_WS_H

#include <civetweb.h>

struct deliver_conn;

#define WS_PATH "/api/v1/ws" /* the only path that upgrades */

int ws_start(struct mg_context *ctx);
/* Handles the whole frames among c's received bytes; keeps a partial one.
 * Stops at a send that must wait for a job (deliver_send_wait). */
void ws_received(struct deliver_conn *c);
/* Tries the waiting send again, then the bytes received after it. */
void ws_resume(struct deliver_conn *c);

#endif
