#include "hub.h"

#define LOG_MODULE "hub"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

POOL_ELEMENT(client, struct hub_client);
POOL_ELEMENT(room, struct hub_room);

/* A user with open connections: the online table is kept sorted by name. */
struct online {
    char name[CHAT_NAME_MAX + 1];
    int connections;
};

struct bucket {
    char user[CHAT_NAME_MAX + 1];
    double tokens;
    double stamp; /* monotonic seconds of the last refill; 0 = free */
};

/* Open addressing over twice as many buckets as sessions. */
#define BUCKETS (2 * CHAT_MAX_SESSIONS)

static struct {
    pthread_mutex_t lock;
    struct hub_room *rooms[CHAT_MAX_ROOMS]; /* by index; NULL = free slot */
    struct hub_client *clients[CHAT_MAX_CLIENTS];
    size_t client_count;
    struct online online[CHAT_MAX_CLIENTS];
    size_t online_count;

    pthread_mutex_t rate_lock; /* and the mutes */
    double rate, burst;
    struct bucket buckets[BUCKETS];
#if CHAT_WITH_MODERATION
    struct mute {
        char user[CHAT_NAME_MAX + 1]; /* "" = a free entry */
        double until;                 /* monotonic seconds */
    } mutes[CHAT_MAX_MUTES];
#endif
} H = {.lock = PTHREAD_MUTEX_INITIALIZER, .rate_lock = PTHREAD_MUTEX_INITIALIZER};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rooms ----------------------------------------------------------------- */

/* The room at index, or NULL; reserved rooms only when `reserved` too. */
static struct hub_room *room_locked(int index, bool reserved)
{
    if (index < 0 || index >= CHAT_MAX_ROOMS || !H.rooms[index])
        return NULL;
    return H.rooms[index]->ready || reserved ? H.rooms[index] : NULL;
}

static int room_find_locked(const char *name, bool reserved)
{
    for (int i = 0; i < CHAT_MAX_ROOMS; i++) {
        struct hub_room *r = room_locked(i, reserved);
        if (r && text_same_name(r->name, name))
            return i;
    }
    return -1;
}

/* A free slot with the name, not yet ready; -1 when none is free. */
static int room_reserve_locked(const char *name)
{
    struct hub_room *r = pool_take(POOL_room);
    if (!r)
        return -1;
    int index = (int)pool_index(POOL_room, r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->member[0][0] = r->member[1][0] = '\0';
    r->read_only = false;
    r->topic[0] = '\0';
    H.rooms[index] = r;
    return index;
}

static bool visible(const struct hub_room *r, const char *user)
{
    return !r->member[0][0] ||
           (user && (text_same_name(r->member[0], user) || text_same_name(r->member[1], user)));
}

int hub_room_find_for(const char *name, const char *user)
{
    pthread_mutex_lock(&H.lock);
    int index = room_find_locked(name, false);
    if (index >= 0 && !visible(H.rooms[index], user))
        index = -1;
    pthread_mutex_unlock(&H.lock);
    return index;
}

bool hub_room_visible(int index, const char *user)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    bool yes = r && visible(r, user);
    pthread_mutex_unlock(&H.lock);
    return yes;
}

bool hub_room_direct(int index)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    bool yes = r && r->member[0][0];
    pthread_mutex_unlock(&H.lock);
    return yes;
}

int hub_room_find(const char *name)
{
    pthread_mutex_lock(&H.lock);
    int index = room_find_locked(name, false);
    pthread_mutex_unlock(&H.lock);
    return index;
}

int hub_room_index(int64_t room_id)
{
    int index = -1;
    pthread_mutex_lock(&H.lock);
    for (int i = 0; i < CHAT_MAX_ROOMS && index < 0; i++) {
        struct hub_room *r = room_locked(i, false);
        if (r && r->id == room_id)
            index = i;
    }
    pthread_mutex_unlock(&H.lock);
    return index;
}

int64_t hub_room_id(int index)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    int64_t id = r ? r->id : -1;
    pthread_mutex_unlock(&H.lock);
    return id;
}

void hub_room_name(int index, char out[CHAT_NAME_MAX + 1])
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    text_copy(out, CHAT_NAME_MAX + 1, r ? r->name : "");
    pthread_mutex_unlock(&H.lock);
}

void hub_each_room(const char *user,
                   void (*fn)(void *ctx, const char *name, const char *direct, bool read_only,
                              const char *topic),
                   void *ctx)
{
    pthread_mutex_lock(&H.lock);
    for (int i = 0; i < CHAT_MAX_ROOMS; i++) {
        struct hub_room *r = room_locked(i, false);
        if (r && visible(r, user))
            fn(ctx, r->name,
               !r->member[0][0]                     ? NULL
               : text_same_name(r->member[0], user) ? r->member[1]
                                                    : r->member[0],
               r->read_only, r->topic);
    }
    pthread_mutex_unlock(&H.lock);
}

void hub_room_configure(int index, int read_only, const char *topic)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    if (r && read_only >= 0)
        r->read_only = read_only != 0;
    if (r && topic)
        text_copy(r->topic, sizeof r->topic, topic);
    pthread_mutex_unlock(&H.lock);
}

#if CHAT_WITH_MODERATION
static bool room_read_only(int index)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = room_locked(index, false);
    bool read_only = r && r->read_only;
    pthread_mutex_unlock(&H.lock);
    return read_only;
}
#endif

/* A reserved slot once the store answered: ready under its id (a direct
 * room named "@<id>" then), or given back. */
static void room_settle(int slot, enum store_result stored, int64_t id, bool direct)
{
    pthread_mutex_lock(&H.lock);
    struct hub_room *r = H.rooms[slot];
    if (stored == STORE_OK) {
        r->id = id;
        if (direct)
            snprintf(r->name, sizeof r->name, "@%lld", (long long)id);
        r->ready = true;
    } else {
        H.rooms[slot] = NULL;
        pool_give(POOL_room, r);
    }
    pthread_mutex_unlock(&H.lock);
}

static struct chat_error create_room(const char *name, bool announce, int *index)
{
    pthread_mutex_lock(&H.lock);
    bool exists = room_find_locked(name, true) >= 0;
    int slot = exists ? -1 : room_reserve_locked(name);
    pthread_mutex_unlock(&H.lock);
    if (exists)
        return CHAT_ERROR(CONFLICT, "that room exists");
    if (slot < 0) {
        metrics_add(refused, 1);
        return CHAT_ERROR(UNAVAILABLE, "no more rooms can be made on this server");
    }
    int64_t id = 0;
    enum store_result stored = store_add_room(name, announce, &id);
    room_settle(slot, stored, id, false);
    if (stored == STORE_DUPLICATE) /* made by an earlier process under another spelling */
        return CHAT_ERROR(CONFLICT, "that room exists");
    if (stored != STORE_OK)
        return hub_storage_error(stored);
    *index = slot;
    return CHAT_OK;
}

struct chat_error hub_room_create(const char *name, int *index)
{
    return create_room(name, true, index);
}

struct chat_error hub_room_adopt(const char *name)
{
    if (!CHAT_WITH_ROOMS)
        return CHAT_ERROR(NOT_FOUND, "this build has one room");
    if (!text_valid_name(name))
        return CHAT_ERROR(BAD_REQUEST, "a room name breaks the name rules");
    int index;
    struct chat_error e = create_room(name, false, &index);
    return e.kind == CHAT_E_CONFLICT ? CHAT_OK : e;
}

#if CHAT_WITH_DIRECT
/* The direct room of the pair (in order), reserved ones too; -1 when none. */
static int direct_find_locked(const char *a, const char *b)
{
    for (int i = 0; i < CHAT_MAX_ROOMS; i++) {
        struct hub_room *r = room_locked(i, true);
        if (r && r->member[0][0] && text_same_name(r->member[0], a) &&
            text_same_name(r->member[1], b))
            return i;
    }
    return -1;
}

/* A slot for the pair's direct room, named "" until it is stored. */
static int direct_reserve_locked(const char *a, const char *b)
{
    int index = room_reserve_locked("");
    if (index >= 0) {
        text_copy(H.rooms[index]->member[0], CHAT_NAME_MAX + 1, a);
        text_copy(H.rooms[index]->member[1], CHAT_NAME_MAX + 1, b);
    }
    return index;
}

struct chat_error hub_direct_open(const char *user, const char *other, int *index, bool *created)
{
    *created = false;
    if (text_same_name(user, other))
        return CHAT_ERROR(BAD_REQUEST, "a direct conversation needs someone else");
    bool first = strcasecmp(user, other) < 0;
    const char *a = first ? user : other, *b = first ? other : user;
    pthread_mutex_lock(&H.lock);
    int found = direct_find_locked(a, b);
    bool ready = found >= 0 && H.rooms[found]->ready;
    int slot = found >= 0 ? -1 : direct_reserve_locked(a, b);
    pthread_mutex_unlock(&H.lock);
    if (ready) {
        *index = found;
        return CHAT_OK;
    }
    if (found >= 0)
        return CHAT_ERROR(UNAVAILABLE, "that conversation is being made; try again");
    if (slot < 0) {
        metrics_add(refused, 1);
        return CHAT_ERROR(UNAVAILABLE, "no more rooms can be made on this server");
    }
    int64_t id = 0;
    enum store_result stored = store_add_direct(a, b, &id);
    room_settle(slot, stored, id, true);
    if (stored == STORE_DUPLICATE) /* stored but not loaded: CHAT_MAX_ROOMS was reached at boot */
        return CHAT_ERROR(UNAVAILABLE, "no more rooms can be held on this server");
    if (stored != STORE_OK)
        return hub_storage_error(stored);
    *index = slot;
    *created = true;
    return CHAT_OK;
}

static void load_direct(void *ctx, int64_t id, const char *name, const char *a, const char *b)
{
    int *loaded = ctx;
    pthread_mutex_lock(&H.lock);
    int index = direct_reserve_locked(a, b);
    if (index >= 0) {
        text_copy(H.rooms[index]->name, CHAT_NAME_MAX + 1, name);
        H.rooms[index]->id = id;
        H.rooms[index]->ready = true;
        (*loaded)++;
    }
    pthread_mutex_unlock(&H.lock);
    if (index < 0)
        log_warn("direct room %s not loaded: CHAT_MAX_ROOMS (%d) reached", name, CHAT_MAX_ROOMS);
}
#endif

static void load_room(void *ctx, int64_t id, const char *name)
{
    int *loaded = ctx;
    pthread_mutex_lock(&H.lock);
    int index = room_reserve_locked(name);
    if (index >= 0) {
        H.rooms[index]->id = id;
        H.rooms[index]->ready = true;
        (*loaded)++;
    }
    pthread_mutex_unlock(&H.lock);
    if (index < 0)
        log_warn("room %s not loaded: CHAT_MAX_ROOMS (%d) reached", name, CHAT_MAX_ROOMS);
}

#if CHAT_WITH_MODERATION
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A room's stored flag and topic, again in force. */
static void load_room_settings(void *ctx, int64_t id, bool read_only, const char *topic)
{
    (void)ctx;
    hub_room_configure(hub_room_index(id), read_only, topic ? topic : "");
}

/* A stored mute, again in force: its seconds left, rounded up. */
static void load_mute(void *ctx, const char *name, int64_t until_ms)
{
    int64_t left = (until_ms - wall_ms() + 999) / 1000;
    if (left > 0 && hub_mute(name, left))
        ++*(int *)ctx;
    else if (left > 0)
        log_error("mute of %s not restored: CHAT_MAX_MUTES (%d) in force", name, CHAT_MAX_MUTES);
}
#endif

int hub_start(void)
{
    int loaded = 0;
    if (store_each_room(load_room, &loaded) != STORE_OK)
        return -1;
    if (hub_room_find("general") != 0) {
        log_error("room general is missing");
        return -1;
    }
    int direct = 0;
#if CHAT_WITH_DIRECT
    if (store_each_direct(load_direct, &direct) != STORE_OK)
        return -1;
#endif
#if CHAT_WITH_MODERATION
    if (store_each_room_settings(load_room_settings, NULL) != STORE_OK) {
        log_error("cannot read the rooms' settings");
        return -1;
    }
    int muted = 0;
    enum store_result r = store_each_mute(wall_ms(), load_mute, &muted);
    if (r != STORE_OK && r != STORE_NOT_FOUND) {
        log_error("cannot read the mutes");
        return -1;
    }
    if (muted)
        log_info("%d mute(s) in force", muted);
#endif
    log_info("%d room(s), %d direct, %d client slots", loaded, direct, CHAT_MAX_CLIENTS);
    return 0;
}

void hub_stop(void)
{
    pthread_mutex_lock(&H.lock);
    for (int i = 0; i < CHAT_MAX_ROOMS; i++) {
        pool_give(POOL_room, H.rooms[i]);
        H.rooms[i] = NULL;
    }
    for (size_t i = 0; i < H.client_count; i++)
        pool_give(POOL_client, H.clients[i]);
    H.client_count = H.online_count = 0;
    pthread_mutex_unlock(&H.lock);
}

/* ---- clients and who is online ---------------------------------------------- */

/* Where name is in the sorted online table, or where it would go. */
static size_t online_search_locked(const char *name, bool *found)
{
    size_t lo = 0, hi = H.online_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(H.online[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Counts a connection of user; true when it is the first. */
static bool online_add_locked(const char *user)
{
    bool found;
    size_t at = online_search_locked(user, &found);
    if (!found) {
        memmove(&H.online[at + 1], &H.online[at], (H.online_count - at) * sizeof H.online[0]);
        snprintf(H.online[at].name, sizeof H.online[at].name, "%s", user);
        H.online[at].connections = 0;
        H.online_count++;
    }
    H.online[at].connections++;
    return !found;
}

/* Uncounts a connection of user; true when it was the last. */
static bool online_remove_locked(const char *user)
{
    bool found;
    size_t at = online_search_locked(user, &found);
    if (!found || --H.online[at].connections > 0)
        return false;
    H.online_count--;
    memmove(&H.online[at], &H.online[at + 1], (H.online_count - at) * sizeof H.online[0]);
    return true;
}

struct hub_client *hub_client_open(const char *user,
                                   const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE],
                                   uint32_t handle, hub_announce_fn *announce, void *ctx)
{
    pthread_mutex_lock(&H.lock);
    struct hub_client *c = pool_take(POOL_client);
    if (c) {
        snprintf(c->user, sizeof c->user, "%s", user);
        memcpy(c->token_hash, token_hash, CHAT_TOKEN_HASH_SIZE);
        c->handle = handle;
        c->registry = H.client_count;
        H.clients[H.client_count++] = c;
        if (online_add_locked(user))
            announce(ctx, c, true);
    }
    pthread_mutex_unlock(&H.lock);
    return c;
}

void hub_client_close(struct hub_client *c, hub_announce_fn *announce, void *ctx)
{
    pthread_mutex_lock(&H.lock);
    struct hub_client *last = H.clients[--H.client_count];
    H.clients[c->registry] = last;
    last->registry = c->registry;
    if (online_remove_locked(c->user))
        announce(ctx, c, false);
    pool_give(POOL_client, c);
    pthread_mutex_unlock(&H.lock);
}

struct chat_error hub_join(const char *room, const char *user, int *index)
{
    if (!room)
        return CHAT_ERROR(BAD_REQUEST, "\"room\" must be a string");
    int found = hub_room_find_for(room, user);
    if (found < 0)
        return CHAT_ERROR(NOT_FOUND, "no such room");
    *index = found;
    return CHAT_OK;
}

size_t hub_session_clients(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE], uint32_t *handles,
                           size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&H.lock);
    for (size_t i = 0; i < H.client_count && n < cap; i++)
        if (memcmp(H.clients[i]->token_hash, token_hash, CHAT_TOKEN_HASH_SIZE) == 0)
            handles[n++] = H.clients[i]->handle;
    pthread_mutex_unlock(&H.lock);
    return n;
}

void hub_each_online(void (*fn)(void *ctx, const char *user), void *ctx)
{
    pthread_mutex_lock(&H.lock);
    for (size_t i = 0; i < H.online_count; i++)
        fn(ctx, H.online[i].name);
    pthread_mutex_unlock(&H.lock);
}

/* ---- rate limit --------------------------------------------------------------- */

void hub_set_rate(double per_second, double burst)
{
    pthread_mutex_lock(&H.rate_lock);
    H.rate = per_second;
    H.burst = burst >= 1 ? burst : 1;
    pthread_mutex_unlock(&H.rate_lock);
}

static size_t name_hash(const char *name)
{
    size_t h = 2166136261u; /* FNV-1a of the lower-cased name */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 16777619u;
    return h;
}

/* The user's bucket, or a new full one. A probe chain ends at a free
 * bucket; one idle long enough to be full again may be given to another
 * user (nothing is lost: it would be full either way), and when the table is
 * full of busy users the least recently used one is recycled. */
static struct bucket *bucket_locked(const char *user, double now)
{
    size_t start = name_hash(user) % BUCKETS;
    struct bucket *spare = NULL, *oldest = &H.buckets[start];
    double refill = H.burst / H.rate;
    for (size_t k = 0; k < BUCKETS; k++) {
        struct bucket *b = &H.buckets[(start + k) % BUCKETS];
        if (b->stamp == 0) {
            if (!spare)
                spare = b;
            break;
        }
        if (text_same_name(b->user, user))
            return b;
        if (!spare && now - b->stamp >= refill)
            spare = b;
        if (b->stamp < oldest->stamp)
            oldest = b;
    }
    struct bucket *b = spare ? spare : oldest;
    snprintf(b->user, sizeof b->user, "%s", user);
    b->tokens = H.burst;
    b->stamp = now;
    return b;
}

bool hub_rate_allow(const char *user)
{
    pthread_mutex_lock(&H.rate_lock);
    if (H.rate <= 0) {
        pthread_mutex_unlock(&H.rate_lock);
        return true;
    }
    double now = monotonic_seconds();
    struct bucket *b = bucket_locked(user, now);
    b->tokens += (now - b->stamp) * H.rate;
    if (b->tokens > H.burst)
        b->tokens = H.burst;
    b->stamp = now;
    bool allowed = b->tokens >= 1.0;
    if (allowed)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&H.rate_lock);
    return allowed;
}

#if CHAT_WITH_MODERATION
/* ---- mutes ------------------------------------------------------------------------ */

bool hub_mute(const char *user, int64_t seconds)
{
    pthread_mutex_lock(&H.rate_lock);
    double now = monotonic_seconds();
    struct mute *free_entry = NULL, *found = NULL;
    for (size_t i = 0; i < CHAT_MAX_MUTES && !found; i++) {
        struct mute *m = &H.mutes[i];
        if (m->user[0] && text_same_name(m->user, user))
            found = m;
        else if (!free_entry && (!m->user[0] || m->until <= now))
            free_entry = m;
    }
    struct mute *m = found ? found : free_entry;
    if (m) {
        text_copy(m->user, sizeof m->user, user);
        m->until = now + (double)seconds;
        if (seconds == 0)
            m->user[0] = '\0'; /* unmuted */
    }
    pthread_mutex_unlock(&H.rate_lock);
    return m != NULL || seconds == 0;
}

bool hub_mute_fits(const char *user)
{
    pthread_mutex_lock(&H.rate_lock);
    double now = monotonic_seconds();
    bool fits = false;
    for (size_t i = 0; i < CHAT_MAX_MUTES && !fits; i++) {
        const struct mute *m = &H.mutes[i];
        fits = !m->user[0] || m->until <= now || text_same_name(m->user, user);
    }
    pthread_mutex_unlock(&H.rate_lock);
    return fits;
}

bool hub_muted(const char *user)
{
    pthread_mutex_lock(&H.rate_lock);
    double now = monotonic_seconds();
    bool muted = false;
    for (size_t i = 0; i < CHAT_MAX_MUTES && !muted; i++)
        muted =
            H.mutes[i].user[0] && H.mutes[i].until > now && text_same_name(H.mutes[i].user, user);
    pthread_mutex_unlock(&H.rate_lock);
    return muted;
}
#endif

/* ---- posting -------------------------------------------------------------------- */

struct chat_error hub_storage_error(enum store_result r)
{
    if (r == STORE_BUSY) {
        metrics_add(refused, 1);
        return CHAT_ERROR(UNAVAILABLE, "the server is busy; try again");
    }
    /* logged by the store */
    if (store_full())
        return CHAT_ERROR(UNAVAILABLE, "the storage is full; the change was not stored");
    return CHAT_ERROR(UNAVAILABLE, "the change could not be stored; try again later");
}

struct chat_error hub_post_prepare(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out)
{
    if (!room)
        return CHAT_ERROR(BAD_REQUEST, "\"room\" must be a string");
    int index = hub_room_find_for(room, user);
    if (index < 0)
        return CHAT_ERROR(NOT_FOUND, "no such room");
    if (!body)
        return CHAT_ERROR(BAD_REQUEST, "\"body\" must be a string");
    size_t len = strlen(body);
    struct chat_error verdict = text_body_error(body, len);
    if (verdict.kind)
        return verdict;
    if (cid && !text_valid_cid(cid))
        return CHAT_ERROR(BAD_REQUEST, "\"cid\" must be 1-64 characters of A-Z a-z 0-9 . _ : -");
#if CHAT_WITH_MODERATION
    if (hub_muted(user))
        return CHAT_ERROR(FORBIDDEN, "you are muted by an admin for a while; try again later");
    /* the admin flag is read only for a read-only room's posts */
    if (room_read_only(index) && !store_is_admin(user))
        return CHAT_ERROR(FORBIDDEN, "this room is read-only");
#endif
    if (!hub_rate_allow(user))
        return CHAT_ERROR(RATE_LIMITED, "too many messages; slow down");
    out->id = 0;
    out->ts = 0;
    out->room_id = hub_room_id(index);
    text_copy(out->author, sizeof out->author, user);
    text_copy(out->cid, sizeof out->cid, cid ? cid : "");
    out->node[0] = '\0'; /* ours */
    out->origin_id = 0;
    memcpy(out->body, body, len + 1);
    return CHAT_OK;
}

struct chat_error hub_post_message(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out, bool *repeated)
{
    *repeated = false;
    struct chat_error e = hub_post_prepare(user, room, body, cid, out);
    if (e.kind)
        return e;
    enum store_result stored = store_append_message(out);
    if (stored == STORE_OK || stored == STORE_DUPLICATE) {
        *repeated = stored == STORE_DUPLICATE;
        return CHAT_OK;
    }
    return hub_storage_error(stored);
}
