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

#include "config.h"
#include "json.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

/* A client's I/O buffers, from the wsbuf pool: the reader thread reassembles
 * fragments and parses in the first two, the sender formats replays in the
 * last. */
struct ws_buffers {
    size_t assembled;
    bool assembling;
    char assembly[CHAT_MAX_REQUEST + 1];
    struct json_arena arena;
    char scratch[CHAT_FRAME_SIZE];
};

int ws_start(struct mg_context *ctx);
void ws_stop(void); /* after mg_stop: ends the sender threads */

#endif
