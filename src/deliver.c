#include "deliver.h"

#include "feed.h"
#include "frame.h"
#include "hub.h"
#define LOG_MODULE "deliver"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "ws.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A feed's storage; every room has one, and presence the last. */
struct feed_storage {
    unsigned char bytes[CHAT_FEED_BYTES];
};

POOL_ELEMENT(conn, struct deliver_conn);
POOL_ELEMENT(connbuf, struct deliver_buffers);
POOL_ELEMENT(job, struct store_job);
POOL_ELEMENT(feed, struct feed_storage);

#define LOBBY CHAT_MAX_ROOMS /* the presence feed's index */
#define MAX_THREADS 16       /* a handle keeps the thread in 4 bits */
#define MAX_MARKS 1024
#define TICK_MS 1000         /* timers (pings, stalls, slow messages) run once a tick */
#define EPOLL_BATCH 256      /* events one epoll_wait returns at most */
#define CLOSES_PER_ROUND 64  /* close requests of other threads handled per inbox round */
#define SESSION_CLOSE_MAX 64 /* WebSockets one logout finds and closes */
#define DRAIN_POLL_MS 5      /* deliver_drain looks again after this */
_Static_assert(DELIVER_CLOSE_ROOM >= 2 + FRAME_CONTROL_MAX, "a close frame fits its room");
_Static_assert(CHAT_WS_PER_SESSION <= SESSION_CLOSE_MAX, "a logout closes every WebSocket");

_Static_assert(CHAT_MAX_CLIENTS <= 65536, "a handle keeps a slot in 16 bits");
_Static_assert(CHAT_IO_THREADS >= 1 && CHAT_IO_THREADS <= MAX_THREADS, "1..16 I/O threads");
_Static_assert(CHAT_IO_BUFFER >= DELIVER_ITEM_MAX, "a hello or a message fits a flush");
_Static_assert(CHAT_FEED_BYTES / 4 >= FRAME_MESSAGE_MAX + 8, "a message fits a feed");

/* What a flush put into its buffer, one entry per frame, in order; each is
 * done (its state moves on) only once the socket took its first byte. */
enum mark_kind { MARK_FEED, MARK_HELLO, MARK_GAP, MARK_ROW, MARK_JOINED };

struct mark {
    size_t end; /* offset just past the frame */
    enum mark_kind kind;
    int feed;       /* MARK_FEED: room index or LOBBY */
    uint64_t after; /* MARK_FEED: the feed position past the frame */
    int64_t id;     /* MARK_GAP: where the replay continues; MARK_ROW: the row */
};

struct io_thread {
    int index;
    pthread_t thread;
    bool started;
    int epoll;
    int wake;
    atomic_bool wake_requested;
    atomic_uint_fast64_t pending_rooms; /* feeds with new frames, by room bit */
    atomic_bool pending_lobby;
    atomic_int load; /* connections, for placing new ones */

    pthread_mutex_t inbox_lock; /* the three lists below */
    struct deliver_conn *attach[CHAT_MAX_CLIENTS];
    size_t attach_count;
    struct store_job *done_head, *done_tail;
    struct {
        uint32_t handle;
        int code;
    } close[CHAT_MAX_CLIENTS];
    size_t close_count;

    /* the thread's own */
    int64_t now;
    int64_t next_tick;
    struct deliver_conn *conns[CHAT_MAX_CLIENTS];
    size_t conn_count;
    struct deliver_conn *members[CHAT_MAX_ROOMS][CHAT_MAX_CLIENTS]; /* per joined room */
    uint16_t member_count[CHAT_MAX_ROOMS];
    struct deliver_conn *dirty, *dirty_tail;     /* flushed first in, first out */
    struct deliver_conn *dead[CHAT_MAX_CLIENTS]; /* freed at the end of the iteration */
    size_t dead_count;
    struct deliver_conn *waiting[CHAT_MAX_CLIENTS]; /* a send waits for a job */
    size_t waiting_count;
    atomic_bool retry_sends; /* a job was handed back: try the waiting sends */
    atomic_uint iterations;
    struct json_arena arena;
    struct mark marks[MAX_MARKS];
    struct feed_mark feed_marks[MAX_MARKS];
    uint64_t tail[CHAT_MAX_ROOMS + 1]; /* a flush's: each feed's position after its copy */
    _Alignas(16) char out[CHAT_IO_BUFFER];
};

static struct {
    int thread_count; /* started, or 1 for deliver_pump */
    atomic_uint next_thread;
    atomic_bool stopping;
    atomic_int in_hooks; /* the store writer inside a hook (hook_enter) */
    struct feed feeds[CHAT_MAX_ROOMS + 1];
    uint16_t generations[CHAT_MAX_CLIENTS];
    atomic_uint_fast64_t owned_fds[1024]; /* bit per fd below 65536 */
    atomic_int inflight;                  /* sends in flight, all connections */
    atomic_int send_waiters;              /* connections whose send waits for a job */
    atomic_int unwritten;                 /* connections with bytes waiting */
    int64_t frame_ms;                     /* deliver_set_frame_timeout */
    char writer_frame[FRAME_MESSAGE_MAX]; /* the store writer's */
} D;

static struct io_thread threads[CHAT_IO_THREADS];

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- handles and owned sockets ------------------------------------------------- */

/* Slot (16 bits), thread (4), generation (11): the top bit stays free. */
static uint32_t make_handle(size_t slot, int thread)
{
    uint32_t gen = ++D.generations[slot] & 0x7ff;
    return (uint32_t)slot | (uint32_t)thread << 16 | gen << 20;
}

static size_t handle_slot(uint32_t h)
{
    return h & 0xffff;
}

static int handle_thread(uint32_t h)
{
    return (int)(h >> 16 & 0xf);
}

static void own_fd(int fd, bool owned)
{
    if (fd < 0 || fd >= 65536)
        return;
    uint_fast64_t bit = (uint_fast64_t)1 << (fd % 64);
    if (owned)
        atomic_fetch_or(&D.owned_fds[fd / 64], bit);
    else
        atomic_fetch_and(&D.owned_fds[fd / 64], ~bit);
}

bool deliver_owns_fd(int fd)
{
    if (fd < 0 || fd >= 65536)
        return false;
    return (atomic_load(&D.owned_fds[fd / 64]) >> (fd % 64)) & 1;
}

/* ---- waking threads ------------------------------------------------------------- */

static void wake(struct io_thread *t)
{
    if (t->wake < 0 || atomic_exchange(&t->wake_requested, true))
        return; /* no thread (tests), or it will look anyway */
    uint64_t one = 1;
    if (write(t->wake, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("cannot wake I/O thread %d: %s", t->index, strerror(errno));
}

static void feed_changed(int feed)
{
    for (int i = 0; i < D.thread_count; i++) {
        if (feed == LOBBY)
            atomic_store(&threads[i].pending_lobby, true);
        else
            atomic_fetch_or(&threads[i].pending_rooms, (uint_fast64_t)1 << feed);
    }
}

static void wake_all(void)
{
    for (int i = 0; i < D.thread_count; i++)
        wake(&threads[i]);
}

/* ---- presence -------------------------------------------------------------------- */

/* hub_announce_fn: under the hub lock, so presence frames are in the order
 * of the online table's changes. */
static void announce(void *ctx, const struct hub_client *client, bool online)
{
    (void)ctx;
    char frame[128];
    size_t n = frame_presence(frame, sizeof frame, client->user, online);
    if (n && feed_append(&D.feeds[LOBBY], frame, n, client->handle, 0))
        feed_changed(LOBBY);
}

/* ---- the thread's lists ------------------------------------------------------------ */

static void mark_dirty(struct io_thread *t, struct deliver_conn *c)
{
    if (c->dirty || c->state == CONN_DEAD)
        return;
    c->dirty = true;
    c->next_dirty = NULL;
    if (t->dirty_tail)
        t->dirty_tail->next_dirty = c;
    else
        t->dirty = c;
    t->dirty_tail = c;
}

static void member_add(struct io_thread *t, struct deliver_conn *c, int room)
{
    c->member_pos[room] = t->member_count[room];
    t->members[room][t->member_count[room]++] = c;
}

static void member_remove(struct io_thread *t, struct deliver_conn *c, int room)
{
    struct deliver_conn *last = t->members[room][--t->member_count[room]];
    uint16_t pos = c->member_pos[room];
    t->members[room][pos] = last;
    last->member_pos[room] = pos;
}

static struct io_thread *thread_of(const struct deliver_conn *c)
{
    return &threads[c->thread];
}

/* ---- socket state ------------------------------------------------------------------- */

static void check_buffered(struct deliver_conn *c);

static void watch(struct deliver_conn *c)
{
    struct io_thread *t = thread_of(c);
    if (t->epoll < 0 || c->fd < 0)
        return;
    struct epoll_event ev = {.data.ptr = c};
    bool reading = !c->read_paused && !c->send_waiting;
    ev.events = (reading ? EPOLLIN | EPOLLRDHUP : 0) | (c->want_out ? EPOLLOUT : 0);
    if (epoll_ctl(t->epoll, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        log_warn("epoll_ctl: %s", strerror(errno));
    if (reading)
        check_buffered(c);
}

static void set_want_out(struct deliver_conn *c, bool want)
{
    if (c->want_out == want)
        return;
    c->want_out = want;
    atomic_fetch_add(&D.unwritten, want ? 1 : -1);
    watch(c);
}

static ssize_t socket_write(int fd, const struct iovec *iov, int count)
{
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)count};
    return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static ssize_t conn_write(struct deliver_conn *c, const struct iovec *iov, int count)
{
    if (c->io.write)
        return c->io.write(c->io.ctx, c->fd, iov, count, &c->io_held);
    return count > 0 ? c->write(c->fd, iov, count) : 0;
}

static ssize_t conn_read(struct deliver_conn *c, void *buf, size_t len)
{
    if (c->io.read)
        return c->io.read(c->io.ctx, c->fd, buf, len);
    return recv(c->fd, buf, len, MSG_DONTWAIT);
}

/* Bytes the transport read from the socket but has not handed out: epoll
 * will not wake for them, so the dirty list reads again. */
static void check_buffered(struct deliver_conn *c)
{
    if (c->io.buffered && c->state == CONN_OPEN && !c->read_paused && !c->send_waiting &&
        c->in_len < DELIVER_IN_MAX - 1 && c->io.buffered(c->io.ctx)) {
        c->read_more = true;
        mark_dirty(thread_of(c), c);
    }
}

/* ---- closing ---------------------------------------------------------------------------- */

static void conn_free(struct deliver_conn *c)
{
    pool_give(POOL_connbuf, c->buf);
    pool_give(POOL_conn, c);
}

/* Freed at the end of the loop's iteration, never under a caller's feet. */
static void bury(struct io_thread *t, struct deliver_conn *c)
{
    t->dead[t->dead_count++] = c;
}

static void reap(struct io_thread *t)
{
    for (size_t i = 0; i < t->dead_count; i++)
        conn_free(t->dead[i]);
    t->dead_count = 0;
}

/* The socket is done with: closed, and the slot freed once no send is in
 * flight (their acks are dropped). */
static void finalize(struct deliver_conn *c)
{
    struct io_thread *t = thread_of(c);
    if (c->state == CONN_DEAD)
        return;
    set_want_out(c, false);
    if (c->fd >= 0) {
        if (t->epoll >= 0)
            epoll_ctl(t->epoll, EPOLL_CTL_DEL, c->fd, NULL);
        own_fd(c->fd, false);
        close(c->fd);
        c->fd = -1;
        if (c->io.done)
            c->io.done(c->io.ctx);
        c->io = (struct deliver_io){0};
    }
    struct deliver_conn *last = t->conns[--t->conn_count];
    t->conns[c->thread_pos] = last;
    last->thread_pos = c->thread_pos;
    atomic_fetch_sub(&t->load, 1);
    c->state = CONN_DEAD;
    if (c->inflight == 0)
        bury(t, c);
}

static void stop_waiting(struct io_thread *t, struct deliver_conn *c)
{
    for (size_t i = 0; i < t->waiting_count; i++) {
        if (t->waiting[i] == c) {
            t->waiting[i] = t->waiting[--t->waiting_count];
            break;
        }
    }
    c->send_waiting = false;
    atomic_fetch_sub(&D.send_waiters, 1);
}

/* Leaves the chat: the hub forgets it (presence), its feeds stop. */
static void leave(struct deliver_conn *c)
{
    struct io_thread *t = thread_of(c);
    if (c->send_waiting)
        stop_waiting(t, c);
    for (int r = 0; r < CHAT_MAX_ROOMS; r++)
        if (c->joined & (UINT64_C(1) << r))
            member_remove(t, c, r);
    c->joined = c->paused = 0;
    c->replay_count = 0;
    c->hello_pending = false;
    if (c->client) {
        hub_client_close(c->client, announce, NULL);
        c->client = NULL;
        metrics_add(ws_connections, -1);
        auth_websocket_closed(c->token_hash);
        log_info("WebSocket of %s closed", c->user);
        wake_all(); /* presence may have changed */
    }
}

static void flush(struct io_thread *t, struct deliver_conn *c);

/* Queues a close frame behind what the private queue holds and ends the
 * connection once it is written (or at once when cut). */
static void conn_close(struct deliver_conn *c, int code, const char *reason, bool cut)
{
    if (c->state != CONN_OPEN)
        return;
    leave(c);
    c->state = CONN_CLOSING;
    struct io_thread *t = thread_of(c);
    c->linger_until = t->now + CHAT_WS_LINGER_MS;
    char frame[DELIVER_CLOSE_ROOM];
    size_t n = code ? frame_close(frame, sizeof frame, code, reason) : 0;
    if (n && DELIVER_OUT_MAX - c->out_end >= n) {
        memcpy(c->buf->out + c->out_end, frame, n);
        c->out_end += n;
    }
    if (cut) { /* one try; a stalled socket takes nothing */
        flush(t, c);
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
        finalize(c);
        return;
    }
    mark_dirty(t, c);
}

static void slow_consumer(struct deliver_conn *c, const char *why)
{
    metrics_add(slow_consumers, 1);
    log_warn("%s is a slow consumer (%s); disconnecting", c->user, why);
    conn_close(c, FRAME_CLOSE_POLICY, "slow consumer", true);
}

void deliver_close(struct deliver_conn *c, int code, const char *reason)
{
    conn_close(c, code, reason, false);
}

/* ---- the private queue -------------------------------------------------------------------- */

/* For --debug: what a frame is, from its first bytes: the opcode of a
 * control frame, the "type" of a chat frame (frame.c writes it first); never
 * its body. */
static void frame_kind(const char *frame, size_t len, char *out, size_t cap)
{
    static const char *const control[] = {"close", "ping", "pong"};
    unsigned op = len > 1 ? (unsigned char)frame[0] & 0x0f : 0;
    if (op >= 8 && op <= 10) {
        snprintf(out, cap, "%s", control[op - 8]);
        return;
    }
    unsigned short_len = len > 1 ? (unsigned char)frame[1] & 0x7f : 0;
    size_t at = short_len == 126 ? 4 : short_len == 127 ? 10 : 2;
    static const char prefix[] = "{\"type\":\"";
    size_t n = 0;
    if (len > at + sizeof prefix - 1 && memcmp(frame + at, prefix, sizeof prefix - 1) == 0)
        for (at += sizeof prefix - 1; at + n < len && frame[at + n] != '"' && n + 1 < cap; n++)
            out[n] = frame[at + n];
    snprintf(out + n, cap - n, "%s", n ? "" : "text");
}

bool deliver_reply(struct deliver_conn *c, const char *frame, size_t len)
{
    if (log_enabled(LOG_DEBUG)) {
        char kind[16];
        frame_kind(frame, len, kind, sizeof kind);
        log_debug("frame out to %s: %s, %zu bytes", c->user, kind, len);
    }
    if (c->state != CONN_OPEN)
        return false;
    if (DELIVER_OUT_MAX - c->out_end < len + DELIVER_CLOSE_ROOM) {
        memmove(c->buf->out, c->buf->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    if (DELIVER_OUT_MAX - c->out_end < len + DELIVER_CLOSE_ROOM) {
        slow_consumer(c, "its reply queue is full");
        return false;
    }
    memcpy(c->buf->out + c->out_end, frame, len);
    c->out_end += len;
    mark_dirty(thread_of(c), c);
    return true;
}

/* ---- filling a flush ------------------------------------------------------------------------ */

/* What one flush assembles in the thread's buffer. */
struct fill {
    struct io_thread *t;
    struct deliver_conn *c;
    size_t used;
    size_t marks;
    uint64_t paused;       /* as it will be once what is filled is sent */
    int replay;            /* replays filled so far */
    uint64_t rooms_copied; /* feeds copied from (their tail is in t->tail) */
    bool lobby_copied;
    bool full;
};

static bool add_mark(struct fill *f, enum mark_kind kind, int64_t id)
{
    if (f->marks == MAX_MARKS)
        return false;
    f->t->marks[f->marks++] = (struct mark){.end = f->used, .kind = kind, .id = id};
    return true;
}

/* Writes one frame made by `make` at the end of the buffer. */
#define FILL_FRAME(f, kind, id, make)                                                              \
    do {                                                                                           \
        size_t n_ = (make);                                                                        \
        if (n_ == 0 || (f)->marks == MAX_MARKS) {                                                  \
            (f)->full = true;                                                                      \
        } else {                                                                                   \
            (f)->used += n_;                                                                       \
            add_mark((f), (kind), (id));                                                           \
        }                                                                                          \
    } while (0)

struct replay_fill {
    struct fill *f;
    const char *room;
};

static bool replay_row(void *ctx, const struct store_message *m)
{
    struct replay_fill *rf = ctx;
    struct fill *f = rf->f;
    FILL_FRAME(f, MARK_ROW, m->id,
               frame_message(f->t->out + f->used, sizeof f->t->out - f->used, m, rf->room));
    return !f->full;
}

/* One replay, as far as the buffer takes it: the gap check, the rows, then
 * "joined". False when the buffer filled before its end. */
static bool fill_replay(struct fill *f, const struct deliver_replay *rp)
{
    char name[CHAT_NAME_MAX + 1];
    hub_room_name(rp->room, name);
    int64_t room_id = hub_room_id(rp->room);
    int64_t after = rp->after;
    if (rp->has_since && !rp->started) {
        int64_t cut = 0;
        if (store_newest_id(room_id, rp->upto + 1, CHAT_REPLAY_MAX, &cut) == STORE_OK &&
            cut > after) {
            FILL_FRAME(f, MARK_GAP, cut,
                       frame_gap(f->t->out + f->used, sizeof f->t->out - f->used, name));
            if (f->full)
                return false;
            after = cut;
        } /* else nothing to send: the check is made again until a row goes out */
    }
    if (rp->has_since) {
        struct replay_fill rf = {f, name};
        if (store_history(room_id, after, rp->upto + 1, CHAT_REPLAY_MAX + 1, replay_row, &rf) !=
                STORE_OK ||
            f->full)
            return false;
    }
    FILL_FRAME(f, MARK_JOINED, rp->room,
               frame_joined(f->t->out + f->used, sizeof f->t->out - f->used, name));
    if (f->full)
        return false;
    f->paused &= ~(UINT64_C(1) << rp->room);
    return true;
}

static bool fill_feed(struct fill *f, int feed, uint64_t cursor)
{
    struct io_thread *t = f->t;
    if (!feed_has_news(&D.feeds[feed], cursor))
        return true; /* caught up: no lock taken */
    size_t copied = 0;
    uint64_t pos = cursor;
    enum feed_copy_result r = feed_copy(&D.feeds[feed], &pos, f->c->handle, t->out, sizeof t->out,
                                        &f->used, t->feed_marks, MAX_MARKS - f->marks, &copied);
    if (r == FEED_LAPPED)
        return false;
    for (size_t i = 0; i < copied; i++)
        t->marks[f->marks++] = (struct mark){.end = t->feed_marks[i].end,
                                             .kind = MARK_FEED,
                                             .feed = feed,
                                             .after = t->feed_marks[i].after};
    t->tail[feed] = pos;
    if (feed == LOBBY)
        f->lobby_copied = true;
    else
        f->rooms_copied |= UINT64_C(1) << feed;
    if (r == FEED_MORE)
        f->full = true; /* the buffer or the marks are used up */
    return true;
}

/* Fills the buffer for c: hello, replays, then the feeds; false when c fell
 * behind a feed by more than its size. */
static bool fill(struct fill *f)
{
    struct deliver_conn *c = f->c;
    if (c->hello_pending) {
        FILL_FRAME(f, MARK_HELLO, 0,
                   frame_hello(f->t->out + f->used, sizeof f->t->out - f->used, c->user));
        if (f->full)
            return true;
    }
    for (; f->replay < c->replay_count; f->replay++) {
        const struct deliver_replay *rp =
            &c->replays[(c->replay_head + f->replay) % CHAT_MAX_ROOMS];
        if (!fill_replay(f, rp))
            return true;
    }
    if (!fill_feed(f, LOBBY, c->lobby))
        return false;
    for (uint64_t rooms = c->joined & ~f->paused; rooms && !f->full; rooms &= rooms - 1) {
        int r = __builtin_ctzll(rooms);
        if (!fill_feed(f, r, c->cursor[r]))
            return false;
    }
    return true;
}

/* ---- after a write: what was taken moves on ---------------------------------------------- */

static void replay_done(struct deliver_conn *c, const struct mark *m)
{
    struct deliver_replay *rp = &c->replays[c->replay_head];
    switch (m->kind) {
    case MARK_GAP:
        rp->started = true;
        rp->after = m->id;
        break;
    case MARK_ROW:
        rp->started = true;
        rp->after = m->id;
        break;
    case MARK_JOINED:
        c->paused &= ~(UINT64_C(1) << rp->room);
        c->replay_head = (c->replay_head + 1) % CHAT_MAX_ROOMS;
        c->replay_count--;
        break;
    default:
        break;
    }
}

/* Applies the marks the socket took (the first `sent` bytes of the buffer);
 * the frame it took a part of moves on too, and its rest waits in the
 * private queue. Feeds of which every frame went out move to their tail. */
static void take(struct fill *f, size_t sent)
{
    struct deliver_conn *c = f->c;
    struct mark *marks = f->t->marks;
    uint64_t rooms_cut = 0; /* feeds with a frame not sent at all */
    bool lobby_cut = false;
    size_t start = 0;
    uint64_t frames = 0;
    for (size_t i = 0; i < f->marks; i++) {
        struct mark *m = &marks[i];
        if (start >= sent) { /* not sent at all */
            if (m->kind == MARK_FEED && m->feed == LOBBY)
                lobby_cut = true;
            else if (m->kind == MARK_FEED)
                rooms_cut |= UINT64_C(1) << m->feed;
            start = m->end;
            continue;
        }
        if (m->end > sent) { /* a part: the rest waits in the private queue */
            memcpy(c->buf->out, f->t->out + sent, m->end - sent);
            c->out_start = 0;
            c->out_end = m->end - sent;
        }
        if (m->end > start)
            frames++;
        switch (m->kind) {
        case MARK_FEED:
            if (m->feed == LOBBY)
                c->lobby = m->after;
            else
                c->cursor[m->feed] = m->after;
            break;
        case MARK_HELLO:
            c->hello_pending = false;
            break;
        default:
            replay_done(c, m);
        }
        start = m->end;
    }
    const uint64_t *tail = f->t->tail;
    if (f->lobby_copied && !lobby_cut)
        c->lobby = tail[LOBBY];
    for (uint64_t rooms = f->rooms_copied & ~rooms_cut; rooms; rooms &= rooms - 1) {
        int r = __builtin_ctzll(rooms);
        c->cursor[r] = tail[r];
    }
    metrics_add(deliveries, frames);
}

/* ---- flushing
 * ------------------------------------------------------------------------------------ */

/* Writes what waits for c in as few sendmsg calls as the socket allows. */
static void flush(struct io_thread *t, struct deliver_conn *c)
{
    bool more = false;
    for (int round = 0; round < 8 && c->state != CONN_DEAD; round++) {
        struct fill f = {.t = t, .c = c, .paused = c->paused};
        if (c->state == CONN_OPEN && !fill(&f)) {
            slow_consumer(c, "more than a feed behind");
            return;
        }
        size_t queued = c->out_end - c->out_start;
        if (queued == 0 && f.used == 0 && !c->io_held) {
            c->stalled_since = 0;
            set_want_out(c, false);
            break;
        }
        struct iovec iov[2] = {{c->buf->out + c->out_start, queued}, {t->out, f.used}};
        int count = (queued ? 1 : 0) + (f.used ? 1 : 0);
        ssize_t n = conn_write(c, queued ? iov : iov + 1, count);
        metrics_add(ws_writes, 1);
        if (log_enabled(LOG_DEBUG)) /* frames of the feeds (messages, presence) and replies */
            log_debug("wrote %zd of %zu bytes to %s (%zu of replies, %zu from feeds)", n,
                      queued + f.used, c->user, queued, f.used);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(c, 0, "", true); /* the peer is gone */
            return;
        }
        size_t sent = n > 0 ? (size_t)n : 0;
        if (sent < queued) {
            c->out_start += sent;
        } else {
            c->out_start = c->out_end = 0;
            take(&f, sent - queued);
        }
        if (sent > 0)
            c->stalled_since = 0;
        if (sent < queued + f.used || c->io_held) { /* the socket is full: wait for EPOLLOUT */
            if (c->stalled_since == 0)
                c->stalled_since = t->now ? t->now : 1;
            set_want_out(c, true);
            return;
        }
        more = f.full;
        if (!more)
            break;
    }
    if (more)
        mark_dirty(t, c); /* behind the others: one connection cannot hog the thread */
    if (c->state == CONN_CLOSING && c->out_start == c->out_end) {
        c->state = CONN_LINGER; /* the close frame is out: wait for the peer's FIN */
        shutdown(c->fd, SHUT_WR);
    }
}

/* ---- joining
 * ------------------------------------------------------------------------------------------ */

void deliver_join(struct deliver_conn *c, int room, int64_t since)
{
    uint64_t bit = UINT64_C(1) << room;
    struct io_thread *t = thread_of(c);
    if (c->replay_count == CHAT_MAX_ROOMS) {
        char frame[256];
        size_t n = frame_error(frame, sizeof frame,
                               CHAT_ERROR(UNAVAILABLE, "too many joins at once; try again"), NULL);
        deliver_reply(c, frame, n);
        return;
    }
    struct deliver_replay rp = {.room = room, .has_since = since >= 0, .after = since};
    if (!(c->joined & bit)) {
        /* Live frames from here on; the replay reads the rest up to upto. */
        c->cursor[room] = feed_head(&D.feeds[room], &rp.upto);
        c->joined |= bit;
        member_add(t, c, room);
    } else {
        rp.has_since = false; /* joined already: what is newer comes from the feed */
    }
    c->paused |= bit;
    c->replays[(c->replay_head + c->replay_count) % CHAT_MAX_ROOMS] = rp;
    c->replay_count++;
    mark_dirty(t, c);
}

/* ---- typing
 * ------------------------------------------------------------------------------------------ */

#if CHAT_WITH_TYPING
/* Ephemeral: a record of the room's feed like a deletion (id 0, so the feed's
 * last_id and the replays do not see it), skipped by the sender's own
 * connection. The interval bounds what it takes of the feed, and so of the
 * readers' slow-consumer budget: one record per connection and room at most
 * every CHAT_TYPING_INTERVAL_MS. No lock but the feed's. */
bool deliver_typing(struct deliver_conn *c, int room)
{
    int64_t now = deliver_now(c);
    if (c->typing_at[room] && now - c->typing_at[room] < CHAT_TYPING_INTERVAL_MS)
        return false;
    char name[CHAT_NAME_MAX + 1];
    char frame[32 + 12 * CHAT_NAME_MAX]; /* two names, each escaped at worst as \uXXXX */
    hub_room_name(room, name);
    size_t n = frame_typing(frame, sizeof frame, name, c->user);
    if (!n || !feed_append(&D.feeds[room], frame, n, c->handle, 0))
        return false;
    c->typing_at[room] = now;
    feed_changed(room);
    wake_all();
    return true;
}
#endif

/* ---- sends
 * ---------------------------------------------------------------------------------------------- */

int64_t deliver_now(const struct deliver_conn *c)
{
    int64_t now = thread_of(c)->now;
    return now ? now : 1;
}

struct json_arena *deliver_arena(struct deliver_conn *c)
{
    return &thread_of(c)->arena;
}

struct store_job *deliver_send_job(struct deliver_conn *c)
{
    struct store_job *job = pool_take_raw(POOL_job);
    if (job) {
        job->owner = c;
        job->done = deliver_send_done;
        job->next = NULL;
    }
    return job;
}

void deliver_send_queued(struct deliver_conn *c, struct store_job *job, bool queued)
{
    if (!queued) {
        pool_give(POOL_job, job);
        return;
    }
    c->inflight++;
    atomic_fetch_add(&D.inflight, 1);
    if (c->inflight >= CHAT_CLIENT_INFLIGHT && !c->read_paused) {
        c->read_paused = true; /* TCP pushes back on the sender until acks catch up */
        watch(c);
    }
}

void deliver_send_wait(struct deliver_conn *c)
{
    struct io_thread *t = thread_of(c);
    if (c->send_waiting)
        return;
    c->send_waiting = true;
    t->waiting[t->waiting_count++] = c;
    atomic_fetch_add(&D.send_waiters, 1);
    watch(c);
}

/* A job was handed back somewhere: each thread tries its waiting sends. */
static void jobs_freed(void)
{
    if (atomic_load(&D.send_waiters) == 0)
        return;
    for (int i = 0; i < D.thread_count; i++)
        atomic_store(&threads[i].retry_sends, true);
    wake_all();
}

static void retry_waiting(struct io_thread *t)
{
    struct deliver_conn *waiting[CHAT_MAX_CLIENTS];
    size_t n = t->waiting_count;
    memcpy(waiting, t->waiting, n * sizeof waiting[0]);
    for (size_t i = 0; i < n; i++) {
        struct deliver_conn *c = waiting[i];
        if (!c->send_waiting)
            continue; /* closed meanwhile */
        stop_waiting(t, c);
        ws_resume(c); /* may wait again */
        watch(c);
    }
}

/* The writer keeps committing until store_close, after deliver_stop (a REST
 * post still in flight): a hook then does nothing, and deliver_stop waits
 * for one already running before it tears the feeds and threads down.
 * Counted first, then the flag read, as http_enter does. */
static bool hook_enter(void)
{
    atomic_fetch_add(&D.in_hooks, 1);
    if (!atomic_load(&D.stopping))
        return true;
    atomic_fetch_sub(&D.in_hooks, 1);
    return false;
}

static void hook_leave(void)
{
    atomic_fetch_sub(&D.in_hooks, 1);
}

void deliver_send_done(struct store_job *job)
{
    if (!hook_enter())
        return; /* its thread is gone; the job goes with the pool */
    struct deliver_conn *c = job->owner;
    struct io_thread *t = thread_of(c);
    job->next = NULL;
    pthread_mutex_lock(&t->inbox_lock);
    if (t->done_tail)
        t->done_tail->next = job;
    else
        t->done_head = job;
    t->done_tail = job;
    pthread_mutex_unlock(&t->inbox_lock);
    hook_leave();
    /* woken by deliver_batch_done, once per batch */
}

static void send_completed(struct io_thread *t, struct store_job *job)
{
    struct deliver_conn *c = job->owner;
    c->inflight--;
    atomic_fetch_sub(&D.inflight, 1);
    if (c->state == CONN_OPEN) {
        char frame[256];
        size_t n;
        if (job->result == STORE_OK || job->result == STORE_DUPLICATE)
            n = frame_ack(frame, sizeof frame, job->message.cid, job->message.id, job->message.ts);
        else
            n = frame_error(frame, sizeof frame, hub_storage_error(job->result), job->message.cid);
        deliver_reply(c, frame, n);
        if (c->read_paused && c->inflight <= CHAT_CLIENT_INFLIGHT / 2) {
            c->read_paused = false;
            watch(c);
        }
    }
    pool_give(POOL_job, job);
    jobs_freed();
    if (c->state == CONN_DEAD && c->inflight == 0)
        bury(t, c);
}

/* ---- the store writer's fan-out
 * ------------------------------------------------------------------------ */

void deliver_message_added(const struct store_message *m)
{
    metrics_add(messages, 1);
    int room = hub_room_index(m->room_id);
    if (room < 0 || !hook_enter())
        return;
    char name[CHAT_NAME_MAX + 1];
    hub_room_name(room, name);
    size_t n = frame_message(D.writer_frame, sizeof D.writer_frame, m, name);
    if (n && feed_append(&D.feeds[room], D.writer_frame, n, 0, m->id))
        feed_changed(room);
    else
        log_error("message %lld does not fit a frame", (long long)m->id);
    hook_leave();
}

void deliver_message_deleted(int64_t room_id, int64_t id, const char *by)
{
    int room = hub_room_index(room_id);
    if (room < 0 || !hook_enter())
        return;
    char name[CHAT_NAME_MAX + 1];
    hub_room_name(room, name);
    size_t n = frame_deleted(D.writer_frame, sizeof D.writer_frame, name, id, by);
    if (n && feed_append(&D.feeds[room], D.writer_frame, n, 0, 0))
        feed_changed(room);
    hook_leave();
}

/* A frame for every open WebSocket, joined rooms or not: presence's feed.
 * Inside hook_enter. */
static void tell_everyone(const char *frame, size_t n)
{
    if (n && feed_append(&D.feeds[LOBBY], frame, n, 0, 0)) {
        feed_changed(LOBBY);
        wake_all();
    }
}

void deliver_moderation(const char *action, const char *user, const char *by, int64_t seconds)
{
    if (!hook_enter())
        return;
    char frame[4 * CHAT_NAME_MAX + 96];
    tell_everyone(frame, frame_moderation(frame, sizeof frame, action, user, by, seconds));
    hook_leave();
}

void deliver_rooms_changed(void)
{
    if (!hook_enter())
        return;
    char frame[32];
    tell_everyone(frame, frame_rooms(frame, sizeof frame));
    hook_leave();
}

void deliver_batch_done(void)
{
    if (!hook_enter())
        return;
    wake_all();
    hook_leave();
}

/* ---- opening
 * ---------------------------------------------------------------------------------------------- */

/* Serialises reservations, so that two handshakes of one session cannot
 * both pass its cap. Guards nothing else: a slot's session and address are
 * written under it, before the slot is anybody else's. */
static pthread_mutex_t reserve_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under reserve_lock: one pass over the slots in use (closing ones too). */
static struct chat_error over_cap(const struct auth_identity *who, const char *addr)
{
    int session = 0, address = 0;
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        const struct deliver_conn *c = pool_at(POOL_conn, i);
        if (!c)
            continue;
        session += memcmp(c->token_hash, who->token_hash, CHAT_TOKEN_HASH_SIZE) == 0;
        address += strcmp(c->addr, addr) == 0;
    }
    if (session >= CHAT_WS_PER_SESSION)
        return CHAT_ERROR(RATE_LIMITED, "too many WebSockets for this session");
    if (address >= CHAT_WS_PER_ADDR)
        return CHAT_ERROR(RATE_LIMITED, "too many WebSockets from this address");
    return CHAT_OK;
}

struct chat_error deliver_may_open(const struct auth_identity *who, const char *addr)
{
    pthread_mutex_lock(&reserve_lock);
    struct chat_error e = over_cap(who, addr);
    pthread_mutex_unlock(&reserve_lock);
    return e;
}

struct deliver_conn *deliver_reserve(const struct auth_identity *who, const char *addr,
                                     struct chat_error *why)
{
    if (atomic_load(&D.stopping))
        return NULL;
    pthread_mutex_lock(&reserve_lock);
    struct chat_error e = over_cap(who, addr);
    struct deliver_conn *c = e.kind ? NULL : pool_take(POOL_conn);
    struct deliver_buffers *b = c ? pool_take_raw(POOL_connbuf) : NULL;
    if (c && b) {
        c->buf = b;
        c->fd = -1;
        snprintf(c->user, sizeof c->user, "%s", who->name);
        snprintf(c->addr, sizeof c->addr, "%s", addr);
        memcpy(c->token_hash, who->token_hash, CHAT_TOKEN_HASH_SIZE);
    }
    pthread_mutex_unlock(&reserve_lock);
    if (e.kind) {
        if (why)
            *why = e;
        metrics_add(refused, 1);
        return NULL;
    }
    if (!b) {
        if (c)
            pool_give(POOL_conn, c);
        metrics_add(refused, 1);
        return NULL;
    }
    return c;
}

void deliver_unreserve(struct deliver_conn *c)
{
    conn_free(c);
}

/* The least loaded thread. */
static int place(void)
{
    int best = (int)(atomic_fetch_add(&D.next_thread, 1) % (unsigned)D.thread_count);
    for (int i = 0; i < D.thread_count; i++)
        if (atomic_load(&threads[i].load) < atomic_load(&threads[best].load))
            best = i;
    return best;
}

uint32_t deliver_attach_io(struct deliver_conn *c, int fd, const struct deliver_io *io)
{
    c->io = *io;
    return deliver_attach(c, fd, NULL);
}

uint32_t deliver_attach(struct deliver_conn *c, int fd, deliver_write_fn *write)
{
    c->fd = fd;
    c->write = write ? write : socket_write;
    c->thread = place();
    c->handle = make_handle(pool_index(POOL_conn, c), c->thread);
    own_fd(fd, true);
    struct io_thread *t = &threads[c->thread];
    atomic_fetch_add(&t->load, 1);
    pthread_mutex_lock(&t->inbox_lock);
    uint32_t handle = c->handle; /* c is the thread's from here on */
    t->attach[t->attach_count++] = c;
    pthread_mutex_unlock(&t->inbox_lock);
    wake(t);
    return handle;
}

/* On the connection's thread: into the chat (hello, presence) and the loop. */
static void opened(struct io_thread *t, struct deliver_conn *c)
{
    c->thread_pos = t->conn_count;
    t->conns[t->conn_count++] = c;
    c->last_rx = t->now;
    c->state = CONN_OPEN;
    if (c->fd >= 0 && t->epoll >= 0) {
        int sndbuf = CHAT_SOCKET_SNDBUF;
        if (sndbuf > 0)
            setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(t->epoll, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            log_error("epoll_ctl add: %s", strerror(errno));
            finalize(c);
            return;
        }
    }
    /* Presence frames from here on; the hello lists who is online now. */
    c->lobby = feed_head(&D.feeds[LOBBY], NULL);
    c->client = hub_client_open(c->user, c->token_hash, c->handle, announce, NULL);
    if (!c->client) { /* cannot happen: a connection slot was free */
        conn_close(c, FRAME_CLOSE_TRY_LATER, "server full", true);
        return;
    }
    metrics_add(ws_connections, 1);
    auth_websocket_opened(c->token_hash);
    c->hello_pending = true;
    log_info("WebSocket of %s open (slot %zu)", c->user, handle_slot(c->handle));
    mark_dirty(t, c);
    wake_all(); /* presence may have changed */
}

/* ---- closing a session from elsewhere
 * --------------------------------------------------------------------- */

void deliver_close_handle(uint32_t handle, int code)
{
    int thread = handle_thread(handle);
    if (thread >= D.thread_count)
        return;
    struct io_thread *t = &threads[thread];
    pthread_mutex_lock(&t->inbox_lock);
    if (t->close_count < CHAT_MAX_CLIENTS) {
        t->close[t->close_count].handle = handle;
        t->close[t->close_count].code = code;
        t->close_count++;
    }
    pthread_mutex_unlock(&t->inbox_lock);
    wake(t);
}

void deliver_close_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE], int code)
{
    uint32_t handles[SESSION_CLOSE_MAX];
    size_t n = hub_session_clients(token_hash, handles, SESSION_CLOSE_MAX);
    for (size_t i = 0; i < n; i++)
        deliver_close_handle(handles[i], code);
}

/* One of this thread's connections (a close request may be late). */
static struct deliver_conn *by_handle(struct io_thread *t, uint32_t handle)
{
    for (size_t i = 0; i < t->conn_count; i++)
        if (t->conns[i]->handle == handle)
            return t->conns[i];
    return NULL;
}

/* ---- the I/O loop
 * ------------------------------------------------------------------------------------------- */

/* Everything other threads left for this one. */
static void run_inbox(struct io_thread *t)
{
    struct deliver_conn *attach[CHAT_MAX_CLIENTS];
    struct {
        uint32_t handle;
        int code;
    } closes[CLOSES_PER_ROUND];
    for (;;) {
        pthread_mutex_lock(&t->inbox_lock);
        size_t n_attach = t->attach_count;
        memcpy(attach, t->attach, n_attach * sizeof attach[0]);
        t->attach_count = 0;
        struct store_job *done = t->done_head;
        t->done_head = t->done_tail = NULL;
        size_t n_close = t->close_count < CLOSES_PER_ROUND ? t->close_count : CLOSES_PER_ROUND;
        memcpy(closes, t->close, n_close * sizeof closes[0]);
        memmove(t->close, t->close + n_close, (t->close_count - n_close) * sizeof t->close[0]);
        t->close_count -= n_close;
        pthread_mutex_unlock(&t->inbox_lock);
        if (!n_attach && !done && !n_close)
            break;
        for (size_t i = 0; i < n_attach; i++)
            opened(t, attach[i]);
        while (done) {
            struct store_job *next = done->next;
            send_completed(t, done);
            done = next;
        }
        for (size_t i = 0; i < n_close; i++) {
            struct deliver_conn *c = by_handle(t, closes[i].handle);
            if (c)
                deliver_close(c, closes[i].code,
                              closes[i].code == FRAME_CLOSE_PROTOCOL ? "protocol error"
                                                                     : "session ended");
        }
    }
    uint_fast64_t rooms = atomic_exchange(&t->pending_rooms, 0);
    for (int r = 0; rooms; r++, rooms >>= 1) {
        if (!(rooms & 1))
            continue;
        for (uint16_t i = 0; i < t->member_count[r]; i++)
            mark_dirty(t, t->members[r][i]);
    }
    if (atomic_exchange(&t->pending_lobby, false))
        for (size_t i = 0; i < t->conn_count; i++)
            mark_dirty(t, t->conns[i]);
    if (atomic_exchange(&t->retry_sends, false))
        retry_waiting(t);
}

static void readable(struct io_thread *t, struct deliver_conn *c);

static void flush_dirty(struct io_thread *t)
{
    while (t->dirty) {
        struct deliver_conn *c = t->dirty;
        t->dirty = c->next_dirty;
        if (!t->dirty)
            t->dirty_tail = NULL;
        c->dirty = false;
        if (c->read_more && c->state != CONN_DEAD) {
            c->read_more = false;
            readable(t, c);
        }
        if (c->state != CONN_DEAD)
            flush(t, c);
    }
}

/* Reads what the socket has and hands it to ws. */
static void read_some(struct io_thread *t, struct deliver_conn *c)
{
    for (int reads = 0; reads < 4 && c->fd >= 0; reads++) {
        if (c->state == CONN_LINGER || c->state == CONN_CLOSING) {
            char discard[4096];
            ssize_t n = conn_read(c, discard, sizeof discard);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                finalize(c);
            if (n <= 0)
                return;
            continue;
        }
        size_t space = DELIVER_IN_MAX - 1 - c->in_len;
        if (c->send_waiting || space == 0)
            return; /* not read until its send gets a job */
        ssize_t n = conn_read(c, c->buf->in + c->in_len, space);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c, 0, "", true); /* the peer left without a close frame */
            return;
        }
        if (n < 0)
            return;
        c->in_len += (size_t)n;
        c->last_rx = t->now;
        ws_received(c);
        if (c->state != CONN_OPEN || c->read_paused || c->send_waiting || (size_t)n < space)
            return;
    }
}

static void readable(struct io_thread *t, struct deliver_conn *c)
{
    read_some(t, c);
    if (c->fd >= 0)
        check_buffered(c);
}

/* Once a second: pings, the stall rule, idle peers and lingering closes;
 * waiting sends try again (the write queue may have room without a job
 * having been handed back: REST posts share it). */
static void tick(struct io_thread *t)
{
    retry_waiting(t);
    for (size_t i = 0; i < t->conn_count; i++) {
        struct deliver_conn *c = t->conns[i];
        if (c->state == CONN_LINGER || c->state == CONN_CLOSING) {
            if (t->now >= c->linger_until) {
                finalize(c);
                i--; /* finalize moved the last connection here */
            }
            continue;
        }
        if (c->stalled_since && t->now - c->stalled_since > CHAT_STALL_MS) {
            slow_consumer(c, "it took nothing for too long");
            i--;
            continue;
        }
        if (c->partial_since && (c->send_waiting || c->read_paused)) {
            c->partial_since = t->now; /* the server is not reading: not the client's time */
        } else if (c->partial_since && t->now - c->partial_since > D.frame_ms) {
            log_warn("%s took over %lld ms for one message; closing %d", c->user,
                     (long long)D.frame_ms, FRAME_CLOSE_POLICY);
            deliver_close(c, FRAME_CLOSE_POLICY, "message too slow");
            continue;
        }
        if (t->now - c->last_rx > CHAT_WS_IDLE_MS) {
            log_info("%s answered no ping; dropping it", c->user);
            conn_close(c, FRAME_CLOSE_GOING_AWAY, "no answer to pings", true);
            i--;
            continue;
        }
        if (t->now - c->last_rx >= CHAT_WS_PING_MS && t->now - c->last_ping >= CHAT_WS_PING_MS) {
            char frame[8];
            c->last_ping = t->now;
            deliver_reply(c, frame, frame_control(frame, sizeof frame, FRAME_PING, NULL, 0));
        }
    }
}

static void run_once(struct io_thread *t, struct epoll_event *events, int n)
{
    for (int i = 0; i < n; i++) {
        struct deliver_conn *c = events[i].data.ptr;
        if (!c) { /* the wake eventfd */
            /* Read first, then clear: clearing first would let this read
             * swallow the count of a producer that saw the flag clear, and
             * leave the flag set with nothing to wake the thread. */
            uint64_t count;
            if (read(t->wake, &count, sizeof count) < 0 && errno != EAGAIN)
                log_warn("wake read: %s", strerror(errno));
            atomic_store(&t->wake_requested, false);
            continue;
        }
        if (c->state == CONN_DEAD)
            continue;
        if (events[i].events & EPOLLOUT)
            mark_dirty(t, c);
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            readable(t, c);
    }
    run_inbox(t);
    flush_dirty(t);
    if (t->now >= t->next_tick) {
        tick(t);
        flush_dirty(t);
        t->next_tick = t->now + TICK_MS;
    }
    reap(t);
    atomic_fetch_add(&t->iterations, 1);
}

static void *io_main(void *arg)
{
    struct io_thread *t = arg;
    struct epoll_event events[EPOLL_BATCH];
    char name[16];
    snprintf(name, sizeof name, "lanchat-io%d", t->index);
    pthread_setname_np(pthread_self(), name);
    while (!atomic_load(&D.stopping)) {
        int n = epoll_wait(t->epoll, events, EPOLL_BATCH, TICK_MS);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            break;
        }
        t->now = monotonic_ms();
        run_once(t, events, n > 0 ? n : 0);
    }
    /* Shutting down: a close frame to everyone still here, one try each. */
    t->now = monotonic_ms();
    run_inbox(t);
    while (t->conn_count > 0) {
        struct deliver_conn *c = t->conns[t->conn_count - 1];
        if (c->state == CONN_OPEN)
            conn_close(c, FRAME_CLOSE_GOING_AWAY, "server shutting down", true);
        else
            finalize(c);
    }
    reap(t);
    return NULL;
}

void deliver_pump(int64_t now_ms)
{
    struct io_thread *t = &threads[0];
    t->now = now_ms;
    for (size_t i = 0; i < t->conn_count; i++) /* as if EPOLLOUT fired on every full socket */
        if (t->conns[i]->want_out)
            mark_dirty(t, t->conns[i]);
    run_once(t, NULL, 0);
}

/* ---- start and stop
 * ------------------------------------------------------------------------------------------- */

/* Sets what a thread starts from; its large arrays (members, buffers,
 * marks) are written before they are read, and zeroing them would make
 * hundreds of KiB resident for nothing. */
static int thread_init(struct io_thread *t, int index, bool loop)
{
    t->index = index;
    t->started = false;
    atomic_store(&t->wake_requested, false);
    atomic_store(&t->pending_rooms, 0);
    atomic_store(&t->pending_lobby, false);
    atomic_store(&t->load, 0);
    t->attach_count = t->close_count = t->conn_count = t->dead_count = t->waiting_count = 0;
    atomic_store(&t->retry_sends, false);
    t->done_head = t->done_tail = NULL;
    t->dirty = t->dirty_tail = NULL;
    memset(t->member_count, 0, sizeof t->member_count);
    t->now = t->next_tick = 0;
    t->epoll = t->wake = -1;
    pthread_mutex_init(&t->inbox_lock, NULL);
    if (!loop)
        return 0;
    t->epoll = epoll_create1(EPOLL_CLOEXEC);
    t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (t->epoll < 0 || t->wake < 0 || epoll_ctl(t->epoll, EPOLL_CTL_ADD, t->wake, &ev) != 0) {
        log_error("cannot make an epoll loop: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void deliver_set_frame_timeout(int64_t ms)
{
    D.frame_ms = ms;
}

int deliver_start(int count)
{
    if (D.frame_ms <= 0)
        D.frame_ms = CHAT_WS_FRAME_MS;
    atomic_store(&D.stopping, false);
    for (int i = 0; i <= CHAT_MAX_ROOMS; i++) {
        void *storage = pool_take_raw(POOL_feed);
        /* What is stored already is the replays' to read: a join's replay
         * reads up to the newest message the feed knows of. */
        int64_t room_id = i < CHAT_MAX_ROOMS ? hub_room_id(i) : -1, newest = 0;
        if (!storage ||
            (room_id > 0 && store_newest_id(room_id, INT64_MAX, 0, &newest) == STORE_ERROR)) {
            log_error("cannot start feed %d", i);
            return -1;
        }
        feed_init(&D.feeds[i], storage, CHAT_FEED_BYTES, newest);
    }
    if (count > CHAT_IO_THREADS)
        count = CHAT_IO_THREADS;
    D.thread_count = count > 0 ? count : 1;
    for (int i = 0; i < D.thread_count; i++)
        if (thread_init(&threads[i], i, count > 0) != 0)
            return -1;
    if (count == 0)
        return 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CHAT_IO_STACK);
    for (int i = 0; i < count; i++) {
        if (pthread_create(&threads[i].thread, &attr, io_main, &threads[i]) != 0) {
            log_error("cannot start I/O thread %d", i);
            pthread_attr_destroy(&attr);
            deliver_stop();
            return -1;
        }
        threads[i].started = true;
    }
    pthread_attr_destroy(&attr);
    log_info("%d I/O thread(s), feeds of %d KiB, client queue %d bytes", count,
             CHAT_FEED_BYTES / 1024, DELIVER_OUT_MAX);
    return 0;
}

/* Idle: no send in flight, and every thread went once round its loop since,
 * so what the last commits left in the feeds was written (or waits for a
 * socket that is full). */
bool deliver_drain(int timeout_ms)
{
    struct timespec tick = {0, DRAIN_POLL_MS * 1000 * 1000};
    unsigned seen[CHAT_IO_THREADS];
    bool counting = false;
    for (int waited = 0; waited < timeout_ms; waited += DRAIN_POLL_MS) {
        if (atomic_load(&D.inflight) > 0) {
            counting = false;
        } else if (!counting) {
            for (int i = 0; i < D.thread_count; i++)
                seen[i] = atomic_load(&threads[i].iterations);
            counting = true;
            wake_all();
        } else {
            bool round = true;
            for (int i = 0; i < D.thread_count && round; i++)
                round = atomic_load(&threads[i].iterations) != seen[i];
            if (round && atomic_load(&D.unwritten) == 0)
                return true;
        }
        nanosleep(&tick, NULL);
    }
    return false;
}

void deliver_stop(void)
{
    atomic_store(&D.stopping, true);
    struct timespec tick = {0, 1000 * 1000};
    while (atomic_load(&D.in_hooks) > 0) /* a hook is short and never blocks */
        nanosleep(&tick, NULL);
    /* Every thread ends before any is torn down: one that is still closing
     * its connections wakes the others (presence), and would write to an
     * eventfd already closed, or to whatever socket took its number. */
    for (int i = 0; i < D.thread_count; i++) {
        struct io_thread *t = &threads[i];
        if (t->started) {
            atomic_store(&t->wake_requested, false);
            wake(t);
        }
    }
    for (int i = 0; i < D.thread_count; i++) {
        struct io_thread *t = &threads[i];
        if (t->started) {
            pthread_join(t->thread, NULL);
            t->started = false;
        }
    }
    for (int i = 0; i < D.thread_count; i++) {
        struct io_thread *t = &threads[i];
        if (t->epoll >= 0)
            close(t->epoll);
        if (t->wake >= 0)
            close(t->wake);
        t->epoll = t->wake = -1;
        pthread_mutex_destroy(&t->inbox_lock);
    }
    for (int i = 0; i <= CHAT_MAX_ROOMS; i++) {
        if (D.feeds[i].ring)
            pool_give(POOL_feed, D.feeds[i].ring);
        feed_destroy(&D.feeds[i]);
    }
    D.thread_count = 0;
}
