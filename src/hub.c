#include "hub.h"

#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

POOL_ELEMENT(msg, struct hub_frame);
POOL_ELEMENT(client, struct hub_client);
POOL_ELEMENT(room, struct hub_room);

struct bucket {
    char user[CHAT_NAME_MAX + 1];
    double tokens;
    double stamp; /* monotonic seconds of the last refill */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake[CHAT_MAX_CLIENTS]; /* one per client slot: its sender waits here */
    pthread_cond_t sender_idle;
    bool stopping;
    int room_count;
    double rate, burst;
    struct bucket buckets[CHAT_MAX_SESSIONS];
} H = {.lock = PTHREAD_MUTEX_INITIALIZER, .sender_idle = PTHREAD_COND_INITIALIZER};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- frames -------------------------------------------------------------- */

static struct hub_frame *frame_make(const char *json, int room, int64_t id)
{
    size_t len = strlen(json);
    if (len >= CHAT_FRAME_SIZE)
        return NULL;
    struct hub_frame *f = pool_take(POOL_msg);
    if (!f) {
        metrics_add(refused, 1);
        return NULL;
    }
    atomic_init(&f->refs, 1);
    f->room = room;
    f->id = id;
    f->len = len;
    memcpy(f->text, json, len + 1);
    return f;
}

void hub_frame_unref(struct hub_frame *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        pool_give(POOL_msg, f);
}

/* ---- rooms --------------------------------------------------------------- */

static struct hub_room *room_at(int index)
{
    return index >= 0 ? pool_at(POOL_room, (size_t)index) : NULL;
}

int hub_room_add(int64_t id, const char *name)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = pool_take(POOL_room);
    int index = -1;
    if (r) {
        r->id = id;
        snprintf(r->name, sizeof r->name, "%s", name);
        index = (int)pool_index(POOL_room, r);
        H.room_count++;
    }
    pthread_mutex_unlock(&H.lock);
    return index;
}

static int room_find_locked(const char *name)
{
    for (int i = 0; i < H.room_count; i++) {
        struct hub_room *r = room_at(i);
        if (r && text_same_name(r->name, name))
            return i;
    }
    return -1;
}

int hub_room_find(const char *name)
{
    pthread_mutex_lock(&H.lock);
    int index = room_find_locked(name);
    pthread_mutex_unlock(&H.lock);
    return index;
}

int hub_room_index(int64_t room_id)
{
    int index = -1;
    pthread_mutex_lock(&H.lock);
    for (int i = 0; i < H.room_count && index < 0; i++) {
        struct hub_room *r = room_at(i);
        if (r && r->id == room_id)
            index = i;
    }
    pthread_mutex_unlock(&H.lock);
    return index;
}

int hub_room_count(void)
{
    pthread_mutex_lock(&H.lock);
    int n = H.room_count;
    pthread_mutex_unlock(&H.lock);
    return n;
}

int64_t hub_room_id(int index)
{
    struct hub_room *r = room_at(index);
    return r ? r->id : -1;
}

bool hub_room_full(void)
{
    return hub_room_count() >= CHAT_MAX_ROOMS;
}

void hub_room_name(int index, char out[CHAT_NAME_MAX + 1])
{
    struct hub_room *r = room_at(index);
    snprintf(out, CHAT_NAME_MAX + 1, "%s", r ? r->name : "");
}

static void write_rooms_locked(struct jw *w)
{
    jw_raw(w, "[");
    for (int i = 0; i < H.room_count; i++) {
        jw_raw(w, i ? ",{\"name\":" : "{\"name\":");
        jw_str(w, room_at(i)->name);
        jw_raw(w, "}");
    }
    jw_raw(w, "]");
}

void hub_write_rooms(struct jw *w)
{
    pthread_mutex_lock(&H.lock);
    write_rooms_locked(w);
    pthread_mutex_unlock(&H.lock);
}

static void load_room(void *ctx, int64_t id, const char *name)
{
    int *failed = ctx;
    if (hub_room_add(id, name) < 0) {
        log_warn("hub: room %s not loaded: CHAT_MAX_ROOMS (%d) reached", name, CHAT_MAX_ROOMS);
        *failed = 1;
    }
}

int hub_start(void)
{
    for (int i = 0; i < CHAT_MAX_CLIENTS; i++)
        pthread_cond_init(&H.wake[i], NULL);
    H.stopping = false;
    int failed = 0;
    if (store_each_room(load_room, &failed) != STORE_OK)
        return -1;
    if (hub_room_find("general") != 0) {
        log_error("hub: room general is missing");
        return -1;
    }
    log_info("hub: %d room(s), %d client slots, queue %d frames", H.room_count, CHAT_MAX_CLIENTS,
             CHAT_CLIENT_QUEUE);
    return 0;
}

void hub_stop(void)
{
    pthread_mutex_lock(&H.lock);
    H.stopping = true;
    for (int i = 0; i < CHAT_MAX_CLIENTS; i++)
        pthread_cond_broadcast(&H.wake[i]);
    pthread_mutex_unlock(&H.lock);
}

/* ---- message JSON ------------------------------------------------------- */

void hub_write_message(struct jw *w, const struct store_message *m, const char *room, bool as_frame)
{
    jw_raw(w, as_frame ? "{\"type\":\"message\",\"id\":" : "{\"id\":");
    jw_int(w, m->id);
    jw_raw(w, ",\"room\":");
    jw_str(w, room);
    jw_raw(w, ",\"author\":");
    jw_str(w, m->author);
    jw_raw(w, ",\"body\":");
    jw_str(w, m->body);
    jw_raw(w, ",\"ts\":");
    jw_int(w, m->ts);
    jw_raw(w, ",\"cid\":");
    if (m->cid[0])
        jw_str(w, m->cid);
    else
        jw_raw(w, "null");
    jw_raw(w, "}");
}

/* ---- client queues (hub lock held) ---------------------------------------- */

static struct hub_client *client_at(size_t slot)
{
    return pool_at(POOL_client, slot);
}

static void drop_queue_locked(struct hub_client *c)
{
    while (c->count > 0) {
        struct hub_entry *e = &c->queue[c->head];
        if (e->kind == HUB_FRAME)
            hub_frame_unref(e->frame);
        c->head = (c->head + 1) % CHAT_CLIENT_QUEUE;
        c->count--;
    }
}

static void close_locked(struct hub_client *c, int code)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    drop_queue_locked(c);
    pthread_cond_broadcast(&H.wake[hub_client_slot(c)]);
}

/* Puts an entry on the client's queue; a full queue makes it a slow consumer. */
static bool push_locked(struct hub_client *c, struct hub_entry entry)
{
    if (c->closing)
        return false;
    if (c->count == CHAT_CLIENT_QUEUE) {
        metrics_add(slow_consumers, 1);
        log_warn("hub: %s is a slow consumer (queue of %d full); disconnecting", c->user,
                 CHAT_CLIENT_QUEUE);
        close_locked(c, 1008);
        return false;
    }
    if (entry.kind == HUB_FRAME)
        atomic_fetch_add(&entry.frame->refs, 1);
    c->queue[(c->head + c->count) % CHAT_CLIENT_QUEUE] = entry;
    c->count++;
    pthread_cond_signal(&H.wake[hub_client_slot(c)]);
    return true;
}

/* Sends a frame to every active client, but `except`; the room, when >= 0,
 * selects its members. A frame that cannot be made is a gap for members:
 * they are closed with 1013 and replay the room on reconnect. */
static void broadcast_locked(const char *json, int room, int64_t id,
                             const struct hub_client *except)
{
    struct hub_frame *f = frame_make(json, room, id);
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        struct hub_client *c = client_at(i);
        if (!c || !c->active || c == except)
            continue;
        if (room >= 0 && !(c->rooms & (UINT64_C(1) << room)))
            continue;
        if (f) {
            push_locked(c, (struct hub_entry){.kind = HUB_FRAME, .frame = f});
        } else {
            metrics_add(resyncs, 1);
            close_locked(c, 1013);
        }
    }
    hub_frame_unref(f);
}

static bool user_online_locked(const char *user, const struct hub_client *except)
{
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        struct hub_client *c = client_at(i);
        if (c && c->active && c != except && text_same_name(c->user, user))
            return true;
    }
    return false;
}

static void announce_presence_locked(const struct hub_client *c, bool online)
{
    char json[128];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"type\":\"presence\",\"user\":");
    jw_str(&w, c->user);
    jw_raw(&w, online ? ",\"online\":true}" : ",\"online\":false}");
    broadcast_locked(json, -1, 0, c);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_online_locked(struct jw *w)
{
    const char *names[CHAT_MAX_CLIENTS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        struct hub_client *c = client_at(i);
        if (!c || !c->active)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = text_same_name(names[k], c->user);
        if (!seen)
            names[n++] = c->user;
    }
    qsort(names, n, sizeof names[0], compare_names);
    jw_raw(w, "[");
    for (size_t k = 0; k < n; k++) {
        if (k)
            jw_raw(w, ",");
        jw_str(w, names[k]);
    }
    jw_raw(w, "]");
}

void hub_write_online(struct jw *w)
{
    pthread_mutex_lock(&H.lock);
    write_online_locked(w);
    pthread_mutex_unlock(&H.lock);
}

static bool queues_empty_locked(void)
{
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        struct hub_client *c = client_at(i);
        if (c && c->active && !c->closing && (c->count > 0 || c->sender_busy))
            return false;
    }
    return true;
}

bool hub_flush(int timeout_ms)
{
    struct timespec tick = {0, 5 * 1000 * 1000};
    for (int waited = 0;; waited += 5) {
        pthread_mutex_lock(&H.lock);
        bool empty = queues_empty_locked();
        pthread_mutex_unlock(&H.lock);
        if (empty || waited >= timeout_ms)
            return empty;
        nanosleep(&tick, NULL);
    }
}

/* ---- client life ---------------------------------------------------------- */

size_t hub_client_slot(const struct hub_client *c)
{
    return pool_index(POOL_client, c);
}

struct hub_client *hub_client_reserve(const char *user, const unsigned char token_hash[32])
{
    pthread_mutex_lock(&H.lock);
    struct hub_client *c = H.stopping ? NULL : pool_take(POOL_client);
    if (c) {
        snprintf(c->user, sizeof c->user, "%s", user);
        memcpy(c->token_hash, token_hash, 32);
        c->fd = -1;
    }
    pthread_mutex_unlock(&H.lock);
    if (!c)
        metrics_add(refused, 1);
    return c;
}

void hub_client_activate(struct hub_client *c, void *conn, int fd)
{
    struct jw w;
    pthread_mutex_lock(&H.lock);
    c->conn = conn;
    c->fd = fd;
    bool first = !user_online_locked(c->user, c);
    c->active = true;
    metrics_add(ws_connections, 1);
    /* All under the lock, so the hello is the first entry of the queue. */
    jw_init(&w, c->hello, sizeof c->hello);
    jw_raw(&w, "{\"type\":\"hello\",\"user\":");
    jw_str(&w, c->user);
    jw_raw(&w, ",\"rooms\":");
    write_rooms_locked(&w);
    jw_raw(&w, ",\"online\":");
    write_online_locked(&w);
    jw_raw(&w, "}");
    c->hello_len = w.len;
    if (jw_finish(&w))
        push_locked(c, (struct hub_entry){.kind = HUB_HELLO});
    else
        close_locked(c, 1013); /* cannot happen: HUB_HELLO_MAX covers every room and client */
    if (first)
        announce_presence_locked(c, true);
    pthread_mutex_unlock(&H.lock);
}

void hub_client_release(struct hub_client *c)
{
    size_t slot = hub_client_slot(c);
    pthread_mutex_lock(&H.lock);
    bool was_active = c->active;
    c->closing = true;
    drop_queue_locked(c);
    pthread_cond_broadcast(&H.wake[slot]);
    while (c->sender_busy)
        pthread_cond_wait(&H.sender_idle, &H.lock);
    c->active = false;
    if (was_active) {
        metrics_add(ws_connections, -1);
        if (!user_online_locked(c->user, c))
            announce_presence_locked(c, false);
    }
    c->conn = NULL;
    c->fd = -1;
    pool_give(POOL_client, c);
    pthread_mutex_unlock(&H.lock);
}

bool hub_client_next(size_t slot, struct hub_client **client, struct hub_entry *entry)
{
    pthread_mutex_lock(&H.lock);
    for (;;) {
        if (H.stopping) {
            pthread_mutex_unlock(&H.lock);
            return false;
        }
        struct hub_client *c = client_at(slot);
        if (c && c->active && c->closing && c->close_code != 0) {
            *entry = (struct hub_entry){.kind = HUB_CLOSE, .close_code = c->close_code};
            c->close_code = 0; /* asked once */
            c->sender_busy = true;
            *client = c;
            break;
        }
        if (c && c->active && !c->closing && c->count > 0) {
            *entry = c->queue[c->head];
            c->head = (c->head + 1) % CHAT_CLIENT_QUEUE;
            c->count--;
            c->sender_busy = true;
            *client = c;
            break;
        }
        pthread_cond_wait(&H.wake[slot], &H.lock);
    }
    pthread_mutex_unlock(&H.lock);
    return true;
}

void hub_client_done(size_t slot)
{
    pthread_mutex_lock(&H.lock);
    struct hub_client *c = client_at(slot);
    if (c)
        c->sender_busy = false;
    pthread_cond_broadcast(&H.sender_idle);
    pthread_mutex_unlock(&H.lock);
}

bool hub_client_skip(struct hub_client *c, int room, int64_t id)
{
    pthread_mutex_lock(&H.lock);
    bool skip = room >= 0 && id > 0 && id <= c->floor[room];
    pthread_mutex_unlock(&H.lock);
    return skip;
}

void hub_client_sent(struct hub_client *c, int room, int64_t id)
{
    pthread_mutex_lock(&H.lock);
    if (room >= 0 && id > c->floor[room])
        c->floor[room] = id;
    pthread_mutex_unlock(&H.lock);
}

int hub_join(struct hub_client *c, int room, int64_t since)
{
    pthread_mutex_lock(&H.lock);
    c->rooms |= UINT64_C(1) << room;
    bool ok = push_locked(c, (struct hub_entry){.kind = HUB_REPLAY, .room = room, .since = since});
    pthread_mutex_unlock(&H.lock);
    return ok ? 0 : -1;
}

bool hub_send(struct hub_client *c, const char *json)
{
    pthread_mutex_lock(&H.lock);
    struct hub_frame *f = frame_make(json, -1, 0);
    bool ok = f && push_locked(c, (struct hub_entry){.kind = HUB_FRAME, .frame = f});
    if (!f)
        close_locked(c, 1013);
    hub_frame_unref(f);
    pthread_mutex_unlock(&H.lock);
    return ok;
}

void hub_close(struct hub_client *c, int code)
{
    pthread_mutex_lock(&H.lock);
    close_locked(c, code);
    pthread_mutex_unlock(&H.lock);
}

bool hub_client_closing(struct hub_client *c)
{
    pthread_mutex_lock(&H.lock);
    bool closing = c->closing;
    pthread_mutex_unlock(&H.lock);
    return closing;
}

void hub_close_session(const unsigned char token_hash[32], int code)
{
    pthread_mutex_lock(&H.lock);
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        struct hub_client *c = client_at(i);
        if (c && memcmp(c->token_hash, token_hash, 32) == 0)
            close_locked(c, code);
    }
    pthread_mutex_unlock(&H.lock);
}

/* ---- fan-out ------------------------------------------------------------------ */

void hub_message_added(const struct store_message *m)
{
    metrics_add(messages, 1);
    int room = hub_room_index(m->room_id);
    if (room < 0)
        return;
    char json[CHAT_FRAME_SIZE];
    char name[CHAT_NAME_MAX + 1];
    struct jw w;
    hub_room_name(room, name);
    jw_init(&w, json, sizeof json);
    hub_write_message(&w, m, name, true);
    if (!jw_finish(&w)) {
        log_error("hub: message %lld does not fit a frame", (long long)m->id);
        return;
    }
    pthread_mutex_lock(&H.lock);
    broadcast_locked(json, room, m->id, NULL);
    pthread_mutex_unlock(&H.lock);
}

void hub_message_deleted(int64_t room_id, int64_t id)
{
    int room = hub_room_index(room_id);
    if (room < 0)
        return;
    char json[160];
    char name[CHAT_NAME_MAX + 1];
    struct jw w;
    hub_room_name(room, name);
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"type\":\"deleted\",\"room\":");
    jw_str(&w, name);
    jw_raw(&w, ",\"id\":");
    jw_int(&w, id);
    jw_raw(&w, "}");
    pthread_mutex_lock(&H.lock);
    broadcast_locked(json, room, 0, NULL);
    pthread_mutex_unlock(&H.lock);
}

/* ---- rate limit --------------------------------------------------------------- */

void hub_set_rate(double per_second, double burst)
{
    pthread_mutex_lock(&H.lock);
    H.rate = per_second;
    H.burst = burst >= 1 ? burst : 1;
    pthread_mutex_unlock(&H.lock);
}

bool hub_rate_allow(const char *user)
{
    pthread_mutex_lock(&H.lock);
    if (H.rate <= 0) {
        pthread_mutex_unlock(&H.lock);
        return true;
    }
    double now = monotonic_seconds();
    struct bucket *b = NULL, *oldest = &H.buckets[0];
    for (size_t i = 0; i < CHAT_MAX_SESSIONS && !b; i++) {
        if (text_same_name(H.buckets[i].user, user))
            b = &H.buckets[i];
        else if (H.buckets[i].stamp < oldest->stamp)
            oldest = &H.buckets[i];
    }
    if (!b) { /* the least recently used bucket is recycled, full */
        b = oldest;
        snprintf(b->user, sizeof b->user, "%s", user);
        b->tokens = H.burst;
        b->stamp = now;
    }
    b->tokens += (now - b->stamp) * H.rate;
    if (b->tokens > H.burst)
        b->tokens = H.burst;
    b->stamp = now;
    bool allowed = b->tokens >= 1.0;
    if (allowed)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&H.lock);
    return allowed;
}

struct chat_error hub_storage_error(enum store_result r)
{
    if (r == STORE_BUSY) {
        metrics_add(refused, 1);
        return CHAT_ERROR(UNAVAILABLE, "the server is busy; try again");
    }
    /* logged by the store */
    return CHAT_ERROR(UNAVAILABLE, "the change could not be stored; try again later");
}

/* ---- posting -------------------------------------------------------------------- */

struct chat_error hub_post_message(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out, bool *repeated)
{
    *repeated = false;
    if (!room)
        return CHAT_ERROR(BAD_REQUEST, "\"room\" must be a string");
    int index = hub_room_find(room);
    if (index < 0)
        return CHAT_ERROR(NOT_FOUND, "no such room");
    if (!body)
        return CHAT_ERROR(BAD_REQUEST, "\"body\" must be a string");
    enum text_body_verdict verdict = text_check_body(body, strlen(body));
    if (verdict == TEXT_BODY_TOO_LONG)
        return CHAT_ERROR(TOO_LARGE, text_body_problem(verdict));
    if (verdict != TEXT_BODY_OK)
        return CHAT_ERROR(BAD_REQUEST, text_body_problem(verdict));
    if (cid && !text_valid_cid(cid))
        return CHAT_ERROR(BAD_REQUEST, "\"cid\" must be 1-64 characters of A-Z a-z 0-9 . _ : -");
    if (!hub_rate_allow(user))
        return CHAT_ERROR(RATE_LIMITED, "too many messages; slow down");
    memset(out, 0, sizeof *out);
    out->room_id = room_at(index)->id;
    snprintf(out->author, sizeof out->author, "%s", user);
    snprintf(out->cid, sizeof out->cid, "%s", cid ? cid : "");
    memcpy(out->body, body, strlen(body) + 1);
    enum store_result stored = store_append_message(out);
    if (stored == STORE_OK || stored == STORE_DUPLICATE) {
        *repeated = stored == STORE_DUPLICATE;
        return CHAT_OK;
    }
    return hub_storage_error(stored);
}
