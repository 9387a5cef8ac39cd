/*
 * ws - the WebSocket endpoint /api/v1/ws: handshake (auth, Origin), reading
 * and reassembling client frames on civetweb's per-connection thread, and
 * one sender thread per client slot that drains the hub's queue onto the
 * socket, so a stalled reader only ever blocks its own sender.
 * Calls hub, auth, http, json, store (replay reads), civetweb, log.
 * Thread rules: ws_start/ws_stop at boot and shutdown only.
 */
#ifndef LANCHAT_WS_H
#define LANCHAT_WS_H

#include <civetweb.h>

int ws_start(struct mg_context *ctx);
void ws_stop(void); /* after mg_stop: ends the sender threads */

#endif
