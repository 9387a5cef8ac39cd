/*
 * ws.h - the client side of RFC 6455 for loadgen: the handshake key and the
 * Sec-WebSocket-Accept the server must answer it with, the header of a
 * server frame, and masked client frames. Pure functions on the caller's
 * buffers: no I/O, no allocation, callable from any thread.
 */
#ifndef LOADGEN_WS_H
#define LOADGEN_WS_H

#include <stddef.h>
#include <stdint.h>

enum {
    WS_OP_CONTINUATION = 0,
    WS_OP_TEXT = 1,
    WS_OP_BINARY = 2,
    WS_OP_CLOSE = 8,
    WS_OP_PING = 9,
    WS_OP_PONG = 10
};

#define WS_KEY_LEN 24    /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */
#define WS_MAX_HEADER 14 /* 2 + 8 length bytes + 4 mask bytes */

struct ws_frame {
    int opcode;
    int fin;
    int masked;
    unsigned char mask[4];
    size_t header_len;
    uint64_t payload_len;
};

void ws_key(const unsigned char random[16], char out[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept value that answers `key`. */
void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);
/* 1: a whole header is in p[0..avail) and described in f; 0: more bytes
 * are needed; -1: reserved bits set or a malformed control frame. */
int ws_parse_header(const unsigned char *p, size_t avail, struct ws_frame *f);
void ws_unmask(unsigned char *p, size_t len, const unsigned char mask[4]);
/* Appends one final, masked frame of `len` payload bytes to out; returns
 * the bytes written, or 0 when they would not fit in cap. */
size_t ws_encode(unsigned char *out, size_t cap, int opcode, const void *payload, size_t len,
                 uint32_t mask);

#endif
