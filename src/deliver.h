/*
 * deliver - the delivery pipeline, from the commit to the socket, and the
 * WebSocket connections it serves once their handshake is done. It owns:
 *  - the feeds: one ring of encoded frames per room and one for presence,
 *    each frame appended once (by the store writer, or by whoever changes
 *    presence) and copied out by every reader;
 *  - the I/O threads (CHAT_IO_THREADS epoll loops): each connection belongs to
 *    one of them, which alone reads its socket, writes it and frees it;
 *  - per connection: its place in each feed, a small private queue (acks,
 *    errors, replies), the replay of each join, its sends in flight, the
 *    slow-consumer rule (bytes behind a feed, time without progress) and the
 *    deadline of a message begun (CHAT_WS_FRAME_MS).
 * Whatever waits for a connection leaves in one sendmsg per wake.
 * Calls feed, frame, hub, store (replay reads), ws (bytes received), auth,
 * json (each connection's parse arena), pool, metrics, log.
 * Thread rules: deliver_set_frame_timeout, deliver_start/drain/stop from
 * main; deliver_reserve/attach from a civetweb worker;
 * deliver_message_added/deleted/batch_done and deliver_send_done from the
 * store writer; deliver_close_session from any thread; the rest (called by
 * ws) on the connection's own I/O thread. Each thread's inbox has a mutex;
 * nothing on the per-frame path takes a lock shared with other connections
 * but the feed being copied.
 */
#ifndef LANCHAT_DELIVER_H
#define LANCHAT_DELIVER_H

#include "auth.h"
#include "chat_error.h"
#include "config.h"
#include "frame.h"
#include "json.h"
#include "store.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The largest hello: every room and every user online (a client's own
 * copy only while its socket cannot take it whole). */
#define DELIVER_HELLO_MAX CHAT_HELLO_SIZE
/* The largest frame a connection may have to keep a part of. */
#define DELIVER_ITEM_MAX                                                                           \
    (DELIVER_HELLO_MAX > FRAME_MESSAGE_MAX ? DELIVER_HELLO_MAX : FRAME_MESSAGE_MAX)
/* A connection's private queue: the rest of a frame the socket took a part
 * of, then replies (acks, errors, pongs) and a close frame. */
#define DELIVER_CLOSE_ROOM 128 /* kept for a close frame: 2 + FRAME_CONTROL_MAX bytes */
#define DELIVER_OUT_MAX (DELIVER_ITEM_MAX + CHAT_CLIENT_QUEUE_BYTES + DELIVER_CLOSE_ROOM)
/* Received bytes not yet handled: at most one whole frame of the largest
 * message (14 bytes of header), and a byte for a terminating NUL. */
#define DELIVER_IN_MAX (CHAT_MAX_REQUEST + 14 + 1)

/* A connection's buffers, from the connbuf pool, taken without zeroing:
 * pages nobody wrote stay out of RSS, and each buffer starts again at its
 * beginning whenever it empties, so a client that keeps up touches only its
 * first pages. */
struct deliver_buffers {
    char in[DELIVER_IN_MAX];             /* ws: bytes received, not yet handled */
    char assembly[CHAT_MAX_REQUEST + 1]; /* ws: a fragmented message */
    char out[DELIVER_OUT_MAX];           /* the private queue */
};

enum deliver_state {
    CONN_OPEN,    /* serving */
    CONN_CLOSING, /* a close frame waits in the private queue */
    CONN_LINGER,  /* closed our side; reading until the peer closes */
    CONN_DEAD,    /* socket closed; waits for its sends in flight */
};

/* A join's replay, done by the flush as the socket takes it. */
struct deliver_replay {
    int room;
    bool has_since;
    bool started;  /* the gap check is done */
    int64_t after; /* the newest id sent (or since) */
    int64_t upto;  /* the room's newest id when the join was read */
};

/* For tests: writes instead of sendmsg (same contract: bytes taken, or -1
 * with errno EAGAIN when none). */
typedef ssize_t deliver_write_fn(int fd, const struct iovec *iov, int count);

/* A transport other than the plain socket (TLS: tls.c), called on the
 * connection's I/O thread only.
 * write: bytes taken, or -1 with errno (EAGAIN: none now). *held is set true
 *   while the transport keeps some bytes it took (the socket filled up in the
 *   middle of a record): deliver then waits for EPOLLOUT and calls write
 *   again, with nothing new (count 0) when nothing else waits.
 * read: bytes read, 0 at the peer's end, -1 with errno (EAGAIN: none now).
 * buffered: bytes already read from the socket that read has not returned
 *   (the socket may not wake epoll for them).
 * done: the socket was closed; the transport frees what it holds. */
struct deliver_io {
    ssize_t (*write)(void *ctx, int fd, const struct iovec *iov, int count, bool *held);
    ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
    bool (*buffered)(void *ctx);
    void (*done)(void *ctx);
    void *ctx;
};

struct deliver_conn {
    uint32_t handle; /* slot, thread and generation */
    int fd;
    int thread;
    enum deliver_state state;
    struct hub_client *client; /* while open */
    char user[CHAT_NAME_MAX + 1];
    unsigned char token_hash[CHAT_TOKEN_HASH_SIZE];
    char addr[AUTH_ADDR_MAX + 1]; /* the client's address, as civetweb writes it */
    struct deliver_buffers *buf;
    deliver_write_fn *write;
    struct deliver_io io; /* io.write NULL: the plain socket (or write) */
    bool io_held;         /* the transport holds bytes it took */
    bool read_more;       /* the transport holds bytes read: read again */

    /* ws's reading state */
    size_t in_len;
    size_t assembled;
    bool assembling; /* a fragmented text message is being read */
    bool discarding; /* a fragmented binary message is being skipped */
    size_t checked;  /* bytes of the assembly known to be whole UTF-8 sequences */
    /* Since when a frame or a fragmented message is begun and not complete
     * (ms, as deliver_now); 0: none. Set by ws, enforced by deliver's tick. */
    int64_t partial_since;

    /* what leaves */
    size_t out_start, out_end;
    bool hello_pending;
    uint64_t joined; /* rooms joined (bits) */
    uint64_t paused; /* rooms whose replay is not complete: their feed waits */
    uint64_t cursor[CHAT_MAX_ROOMS];
    uint64_t lobby; /* place in the presence feed */
#if CHAT_WITH_TYPING
    int64_t typing_at[CHAT_MAX_ROOMS]; /* the last typing frame relayed, per room (ms) */
#endif
    struct deliver_replay replays[CHAT_MAX_ROOMS];
    int replay_head, replay_count;

    /* timers, milliseconds of CLOCK_MONOTONIC */
    int64_t last_rx;
    int64_t last_ping;
    int64_t stalled_since; /* frames wait and the socket took nothing since; 0 = not */
    int64_t linger_until;
    bool want_out;     /* EPOLLOUT is armed */
    bool read_paused;  /* too many sends in flight: not reading */
    bool send_waiting; /* a send waits for a job or room in the write queue */
    int inflight;      /* sends waiting for their commit */

    /* the thread's lists */
    bool dirty;
    struct deliver_conn *next_dirty;
    size_t thread_pos;
    uint16_t member_pos[CHAT_MAX_ROOMS];
};

/* threads: I/O threads to start; 0 (unit tests) starts none, and
 * deliver_pump runs their work on the caller. */
int deliver_start(int threads);
/* Milliseconds a client has for a message once its first byte arrived
 * (default CHAT_WS_FRAME_MS); before deliver_start. */
void deliver_set_frame_timeout(int64_t ms);
/* Waits at most timeout_ms until no send is in flight and every connection
 * is written out; true when so. */
bool deliver_drain(int timeout_ms);
/* Closes every connection (1001) and ends the threads; the store writer's
 * hooks do nothing from then on (it commits until store_close). */
void deliver_stop(void);

/* Whether who, from addr, may open one more WebSocket: at most
 * CHAT_WS_PER_SESSION per session and CHAT_WS_PER_ADDR per address (429,
 * rate_limited), else CHAT_OK. Asked before the handshake; deliver_reserve
 * asks again, atomically with the reservation. */
struct chat_error deliver_may_open(const struct auth_identity *who, const char *addr);
/* A civetweb worker, after the handshake: reserve (NULL when the pool is
 * full, or why is set: over a cap), then attach the socket, which the
 * connection owns from then on. */
struct deliver_conn *deliver_reserve(const struct auth_identity *who, const char *addr,
                                     struct chat_error *why);
void deliver_unreserve(struct deliver_conn *c);
/* Returns the connection's handle (below 2^31); c is not the caller's any
 * more. */
uint32_t deliver_attach(struct deliver_conn *c, int fd, deliver_write_fn *write);
/* The same over another transport (copied). */
uint32_t deliver_attach_io(struct deliver_conn *c, int fd, const struct deliver_io *io);
bool deliver_owns_fd(int fd);

/* The store writer (store_hooks). */
void deliver_message_added(const struct store_message *m);
void deliver_message_deleted(int64_t room_id, int64_t id, const char *by);
/* An admin's mute or kick, to every open WebSocket (presence's feed); any
 * thread. */
void deliver_moderation(const char *action, const char *user, const char *by, int64_t seconds);
/* A room was made here (POST /api/v1/rooms, a new direct conversation):
 * {"type":"rooms"} to every open WebSocket, so clients read their list
 * again; any thread. */
void deliver_rooms_changed(void);
void deliver_batch_done(void);
/* A send's job handed back (store_job.done). */
void deliver_send_done(struct store_job *job);

/* Any thread: closes the session's connections, or one connection by its
 * handle, with code. */
void deliver_close_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE], int code);
void deliver_close_handle(uint32_t handle, int code);

/* The connection's own thread. */
bool deliver_reply(struct deliver_conn *c, const char *frame, size_t len);
void deliver_join(struct deliver_conn *c, int room, int64_t since);
#if CHAT_WITH_TYPING
/* "c's user is typing in room": into the room's feed for every other
 * connection that joined it, never stored; at most one per room in
 * CHAT_TYPING_INTERVAL_MS, the rest dropped (false). */
bool deliver_typing(struct deliver_conn *c, int room);
#endif
void deliver_close(struct deliver_conn *c, int code, const char *reason);
struct json_arena *deliver_arena(struct deliver_conn *c);
/* The thread's time (ms of CLOCK_MONOTONIC, never 0) of the wake that is
 * being handled. */
int64_t deliver_now(const struct deliver_conn *c);
/* A job for a send, or NULL when all are in use; submitted by ws. */
struct store_job *deliver_send_job(struct deliver_conn *c);
void deliver_send_queued(struct deliver_conn *c, struct store_job *job, bool queued);
/* No job, or no room in the write queue: the connection is not read until
 * one is handed back, then ws_resume(c) tries its send again. A burst is
 * slowed down, never refused. */
void deliver_send_wait(struct deliver_conn *c);

/* Tests: the work of the I/O threads, on the caller, at time now_ms, as if
 * every full socket could take bytes again. */
void deliver_pump(int64_t now_ms);

#endif
