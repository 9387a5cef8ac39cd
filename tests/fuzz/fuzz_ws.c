/*
 * fuzz_ws - what a client sends on an open WebSocket: RFC 6455 frames
 * (masking, fragments, control frames, close) and the chat frames inside
 * them (join, send), through ws_received on a real connection of deliver,
 * with the real hub and store (a temporary SQLite file and its writer), as
 * tests/unit/test_deliver.c drives them. The socket is a sink that takes
 * every byte. The input's first byte sets how many bytes arrive at a time,
 * so frames are cut at every place; the rest is what the client sent. At the
 * end the connection is closed, and must be freed within the linger time.
 */
#include "config.h"
#include "deliver.h"
#include "pool.h"
#include "store.h"
#include "ws.h"

#include "fuzz_boot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAKE_FD 60000 /* beyond any descriptor of this process */

static int64_t now = 1000000;

static ssize_t sink(int fd, const struct iovec *iov, int count)
{
    (void)fd;
    ssize_t taken = 0;
    for (int i = 0; i < count; i++)
        taken += (ssize_t)iov[i].iov_len;
    if (taken == 0) {
        errno = EAGAIN;
        return -1;
    }
    return taken;
}

/* The I/O work at now + advance_ms; first, when sends are in flight, the
 * writer has handed back every earlier write. */
static void settle(int64_t advance_ms, bool sending)
{
    if (sending && store_check_writable() != STORE_OK)
        abort();
    now += advance_ms;
    deliver_pump(now);
}

/* Connection slots, their buffers, hub clients and send jobs taken. */
static size_t in_use(void)
{
    static const enum pool_id ids[] = {POOL_conn, POOL_connbuf, POOL_client, POOL_job};
    size_t n = 0;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct pool_stats ps;
        pool_get_stats(ids[i], &ps);
        n += ps.in_use;
    }
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_boot("fuzz_ws", false);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * DELIVER_IN_MAX)
        return -1;
    size_t chunk = data[0] == 0 ? size : data[0];
    data++, size--;

    struct auth_identity who = {0};
    snprintf(who.name, sizeof who.name, "fuzz");
    memset(who.token_hash, 0x5a, sizeof who.token_hash);
    struct deliver_conn *c = deliver_reserve(&who, "127.0.0.1", NULL);
    if (!c)
        abort(); /* the last input's connection was not freed */
    uint32_t handle = deliver_attach(c, FAKE_FD, sink);
    settle(0, false); /* the hello */

    /* c stays valid while the connection owns its descriptor. */
    for (size_t at = 0, idle = 0; at < size && deliver_owns_fd(FAKE_FD) && c->state == CONN_OPEN;) {
        size_t space = DELIVER_IN_MAX - 1 - c->in_len;
        size_t n = size - at < chunk ? size - at : chunk;
        n = n < space ? n : space;
        if (n == 0 || c->send_waiting) {
            if (++idle > 100)
                abort(); /* a waiting send that never went out */
            settle(10, true);
            continue;
        }
        idle = 0;
        memcpy(c->buf->in + c->in_len, data + at, n);
        c->in_len += n;
        at += n;
        c->last_rx = now;
        ws_received(c);
        settle(1, c->inflight > 0);
    }
    deliver_close_handle(handle, 1000);
    for (int round = 0; round < 10 && (deliver_owns_fd(FAKE_FD) || in_use() > 0); round++)
        settle(CHAT_WS_LINGER_MS, true);
    if (in_use() > 0)
        abort(); /* closed, yet its slot or a job is still taken after ten linger times */
    return 0;
}
