#include "auth.h"

#define LOG_MODULE "auth"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "text.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

POOL_ELEMENT(session, struct auth_session);

/* Seconds between database updates of a session's last-seen time. */
#define SAVE_SEEN_EVERY 60

/* Slots of a throttle table a key may take, from the one its hash names. */
#define THROTTLE_PROBE 8

/* Expired sessions one login removes at most (the rest go with the next). */
#define SWEEP_MAX 8

/* Failed logins of one address or one name (a slot of a throttle table). */
struct attempts {
    uint64_t key; /* keyed hash of the address or the lower-cased name */
    unsigned failures;
    bool hashing;      /* addresses: a password hash of this address runs */
    int64_t last_fail; /* ms, monotonic */
    int64_t until;     /* ms, monotonic: no attempt before */
};

static struct {
    pthread_mutex_t lock;
    pthread_mutex_t hashing; /* one argon2id at a time bounds its memory */
    int64_t idle, max_age;
    int64_t per_addr; /* 0: no cap */
    uint64_t ticks;   /* the last auth_session.touch given */
    unsigned char key[crypto_shorthash_KEYBYTES];
    struct attempts by_addr[CHAT_LOGIN_TABLE], by_name[CHAT_LOGIN_TABLE];
} A = {.lock = PTHREAD_MUTEX_INITIALIZER, .hashing = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void hash_token(const char *token, unsigned char out[CHAT_TOKEN_HASH_SIZE])
{
    crypto_generichash(out, CHAT_TOKEN_HASH_SIZE, (const unsigned char *)token, strlen(token), NULL,
                       0);
}

static bool expired(const struct auth_session *s, int64_t now)
{
    if (s->registered)
        return now - s->created > A.max_age;
    return s->websockets == 0 && now - s->last_seen > A.idle;
}

static struct auth_session *session_at(size_t i)
{
    return pool_at(POOL_session, i);
}

/* A session that authenticates: its row is written and not being deleted. */
static bool usable(const struct auth_session *s)
{
    return s && s->ready && !s->leaving;
}

/* Removes expired sessions from memory; their hashes go to `dead` for the
 * caller to delete from the database once the lock is released. */
static size_t sweep_locked(int64_t now, unsigned char dead[][CHAT_TOKEN_HASH_SIZE], size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < CHAT_MAX_SESSIONS && n < cap; i++) {
        struct auth_session *s = session_at(i);
        if (usable(s) && expired(s, now)) {
            memcpy(dead[n++], s->token_hash, CHAT_TOKEN_HASH_SIZE);
            log_info("session of %s expired", s->name);
            pool_give(POOL_session, s);
        }
    }
    return n;
}

static void forget(unsigned char dead[][CHAT_TOKEN_HASH_SIZE], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (store_drop_session(dead[i]) == STORE_ERROR)
            log_warn("could not delete an expired session from the database");
}

static struct auth_session *find_token_locked(const unsigned char hash[CHAT_TOKEN_HASH_SIZE])
{
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        struct auth_session *s = session_at(i);
        if (s && sodium_memcmp(s->token_hash, hash, CHAT_TOKEN_HASH_SIZE) == 0)
            return s;
    }
    return NULL;
}

/* A live nickname session holds the name (an expired one no longer does,
 * swept or not). */
static bool name_held_locked(const char *name, int64_t now)
{
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        struct auth_session *s = session_at(i);
        if (s && !s->registered && !(s->ready && expired(s, now)) && text_same_name(s->name, name))
            return true;
    }
    return false;
}

/* ---- limits: who gives way to a new session ------------------------------------- */

struct newcomer {
    const char *name;
    const char *addr;
    bool registered;
};

/* Times are seconds: within one, the order of logins (for the oldest) or of
 * use (for the least recently used) in this process decides. */
static bool older(const struct auth_session *a, const struct auth_session *b)
{
    return !b || a->created < b->created || (a->created == b->created && a->born < b->born);
}

static bool less_recent(const struct auth_session *a, const struct auth_session *b)
{
    return !b || a->last_seen < b->last_seen ||
           (a->last_seen == b->last_seen && a->touch < b->touch);
}

/* The session that must give way before `c` may have one: NULL when none
 * needs to (*refuse false) or when none may (*refuse true). Counts every
 * session in the pool but those already leaving; only written ones give way.
 * The rules, in order: sessions per account (its oldest goes), per address
 * (its least recently used goes), the nickname share (the least recently
 * used nickname session without WebSocket goes), the pool (for an account:
 * a nickname session first, idle ones first, else the least recently used
 * account session; for a nickname: as for the share). */
static struct auth_session *must_give_way_locked(const struct newcomer *c, bool *refuse)
{
    size_t user = 0, addr = 0, nicks = 0, total = 0;
    struct auth_session *user_oldest = NULL, *addr_lru = NULL, *nick_idle_lru = NULL,
                        *nick_lru = NULL, *account_lru = NULL;
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        struct auth_session *s = session_at(i);
        if (!s || s->leaving)
            continue;
        total++;
        bool same_user = c->registered && s->registered && text_same_name(s->name, c->name);
        bool same_addr = strcmp(s->addr, c->addr) == 0;
        user += same_user;
        addr += same_addr;
        nicks += !s->registered;
        if (!s->ready)
            continue;
        if (same_user && older(s, user_oldest))
            user_oldest = s;
        if (same_addr && less_recent(s, addr_lru))
            addr_lru = s;
        if (!s->registered && less_recent(s, nick_lru))
            nick_lru = s;
        if (!s->registered && s->websockets == 0 && less_recent(s, nick_idle_lru))
            nick_idle_lru = s;
        if (s->registered && less_recent(s, account_lru))
            account_lru = s;
    }
    struct auth_session *out = NULL;
    bool needed = true;
    if (c->registered && user >= CHAT_SESSIONS_PER_USER)
        out = user_oldest;
    else if (A.per_addr > 0 && addr >= (size_t)A.per_addr)
        out = addr_lru;
    else if (!c->registered && nicks >= CHAT_NICK_SESSIONS)
        out = nick_idle_lru;
    else if (total >= CHAT_MAX_SESSIONS)
        out = !c->registered  ? nick_idle_lru
              : nick_idle_lru ? nick_idle_lru
              : nick_lru      ? nick_lru
                              : account_lru;
    else
        needed = false;
    *refuse = needed && !out;
    return out;
}

/* Marks the sessions that give way to `c` as leaving; false (none marked)
 * when the new session may not be had. */
static bool make_room_locked(const struct newcomer *c, struct auth_session *out[AUTH_EVICT_MAX],
                             size_t *n)
{
    bool refuse = false;
    struct auth_session *s;
    *n = 0;
    while ((s = must_give_way_locked(c, &refuse)) != NULL && *n < AUTH_EVICT_MAX) {
        s->leaving = true;
        out[(*n)++] = s;
    }
    if (!refuse && !s)
        return true;
    for (size_t i = 0; i < *n; i++)
        out[i]->leaving = false;
    *n = 0;
    return false;
}

/* ---- login throttle ---------------------------------------------------------------- */

/* A key with no failure to remember (none, or the last one forgotten) and no
 * password hash in progress: its slot may be reset or given to another. */
static bool attempts_quiet(const struct attempts *e, int64_t now)
{
    return !e->hashing && (e->failures == 0 || now - e->last_fail > CHAT_LOGIN_FORGET_S * 1000);
}

static struct attempts *attempts_of(struct attempts *table, const char *text, bool fold,
                                    int64_t now)
{
    char folded[AUTH_ADDR_MAX + CHAT_NAME_MAX + 2];
    size_t n = 0;
    for (; n < sizeof folded - 1 && text[n]; n++)
        folded[n] =
            fold && text[n] >= 'A' && text[n] <= 'Z' ? (char)(text[n] - 'A' + 'a') : text[n];
    unsigned char digest[crypto_shorthash_BYTES];
    crypto_shorthash(digest, (const unsigned char *)folded, n, A.key);
    uint64_t key;
    memcpy(&key, digest, sizeof key);
    /* Its own slot among THROTTLE_PROBE from the hashed one, else the first
     * a quiet or expired key can give up: a name or address that meets
     * another's backoff in the table does not inherit it (a collision, 1 in
     * CHAT_LOGIN_TABLE, throttled a correct login of the test). Only when
     * every slot of the window is under backoff is one shared: the backoff
     * is never erased. */
    size_t home = (size_t)(key % CHAT_LOGIN_TABLE);
    struct attempts *a = NULL, *spare = NULL;
    for (size_t i = 0; i < THROTTLE_PROBE && !a; i++) {
        struct attempts *e = &table[(home + i) % CHAT_LOGIN_TABLE];
        if (e->key == key)
            a = e;
        else if (!spare && !e->hashing && (attempts_quiet(e, now) || now >= e->until))
            spare = e;
    }
    if (!a && spare) {
        *spare = (struct attempts){.key = key};
        return spare;
    }
    if (!a)
        return &table[home];
    if (attempts_quiet(a, now))
        a->failures = 0, a->until = 0;
    return a;
}

/* Whether an attempt may hash a password now; else the seconds to wait. */
static bool throttle_enter(const char *addr, const char *name, int *retry_after)
{
    int64_t now = now_ms();
    pthread_mutex_lock(&A.lock);
    struct attempts *a = attempts_of(A.by_addr, addr, false, now);
    int64_t until = a->until;
    if (name) {
        struct attempts *n = attempts_of(A.by_name, name, true, now);
        if (n->until > until)
            until = n->until;
    }
    bool go = until <= now && !a->hashing;
    if (go)
        a->hashing = true;
    pthread_mutex_unlock(&A.lock);
    *retry_after = until > now ? (int)((until - now + 999) / 1000) : 1;
    return go;
}

static void count_failure(struct attempts *a, int64_t now)
{
    a->failures++;
    a->last_fail = now;
    if (a->failures >= CHAT_LOGIN_FREE_FAILURES) {
        unsigned shift = a->failures - CHAT_LOGIN_FREE_FAILURES;
        int64_t wait = shift >= 6 ? CHAT_LOGIN_BACKOFF_MAX_S : (int64_t)1 << shift;
        a->until = now + (wait < CHAT_LOGIN_BACKOFF_MAX_S ? wait : CHAT_LOGIN_BACKOFF_MAX_S) * 1000;
    }
}

static void throttle_leave(const char *addr, const char *name, bool failed)
{
    int64_t now = now_ms();
    pthread_mutex_lock(&A.lock);
    struct attempts *a = attempts_of(A.by_addr, addr, false, now);
    a->hashing = false;
    struct attempts *n = name ? attempts_of(A.by_name, name, true, now) : NULL;
    if (failed) {
        count_failure(a, now);
        if (n)
            count_failure(n, now);
    } else {
        a->failures = 0, a->until = 0;
        if (n)
            n->failures = 0, n->until = 0;
    }
    pthread_mutex_unlock(&A.lock);
}

/* ---- start, stop ------------------------------------------------------------------- */

/* Rows come registered first, newest first: refusing a row is evicting the
 * oldest, as a login would. */
static bool load_session(void *ctx, const struct store_session *row)
{
    size_t *kept = ctx;
    struct auth_session probe = {
        .registered = row->registered, .created = row->created, .last_seen = row->last_seen};
    if (expired(&probe, now_seconds()))
        return false;
    struct newcomer c = {.name = row->name, .addr = row->addr, .registered = row->registered};
    bool refuse = false;
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = NULL;
    if (!must_give_way_locked(&c, &refuse) && !refuse)
        s = pool_take(POOL_session);
    if (s) {
        *s = probe;
        s->ready = true;
        s->saved_seen = row->last_seen;
        memcpy(s->token_hash, row->token_hash, CHAT_TOKEN_HASH_SIZE);
        snprintf(s->name, sizeof s->name, "%s", row->name);
        snprintf(s->addr, sizeof s->addr, "%s", row->addr);
        (*kept)++;
    }
    pthread_mutex_unlock(&A.lock);
    return s != NULL;
}

int auth_start(int64_t idle_seconds, int64_t max_age_seconds, int64_t per_addr)
{
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        return -1;
    }
    A.idle = idle_seconds;
    A.max_age = max_age_seconds;
    A.per_addr = per_addr;
    crypto_shorthash_keygen(A.key);
    memset(A.by_addr, 0, sizeof A.by_addr);
    memset(A.by_name, 0, sizeof A.by_name);
    size_t kept = 0;
    if (store_load_sessions(load_session, &kept) != STORE_OK)
        return -1;
    log_info("%zu session(s) restored", kept);
    return 0;
}

void auth_stop(void)
{
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        struct auth_session *s = session_at(i);
        if (!s)
            continue;
        if (s->ready && s->last_seen != s->saved_seen)
            store_touch_session(s->token_hash, s->last_seen);
        pool_give(POOL_session, s);
    }
}

static enum auth_result verify_password(struct auth_attempt *from, const char *name,
                                        const char *password, bool *registered)
{
    if (password && !throttle_enter(from->addr, name, &from->retry_after))
        return AUTH_THROTTLED;
    char stored[crypto_pwhash_STRBYTES];
    enum store_result r = store_get_password_hash(name, stored, sizeof stored);
    enum auth_result verdict;
    *registered = r == STORE_OK;
    if (r == STORE_ERROR) {
        verdict = AUTH_ERROR;
    } else if (!*registered) {
        verdict = password ? AUTH_BAD_CREDENTIALS : AUTH_OK;
    } else if (!password) {
        verdict = AUTH_BAD_CREDENTIALS;
    } else {
        pthread_mutex_lock(&A.hashing);
        int bad = crypto_pwhash_str_verify(stored, password, strlen(password));
        pthread_mutex_unlock(&A.hashing);
        verdict = bad ? AUTH_BAD_CREDENTIALS : AUTH_OK;
    }
    if (password)
        throttle_leave(from->addr, name, verdict == AUTH_BAD_CREDENTIALS);
    return verdict;
}

/* Deletes the rows of the sessions that give way; those whose row is gone
 * leave the pool (reported in `from`), the others stay valid. False when one
 * could not be deleted. */
static bool evict(struct auth_attempt *from, struct auth_session *out[], size_t n)
{
    bool dropped[AUTH_EVICT_MAX] = {false};
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        enum store_result r = store_drop_session(out[i]->token_hash);
        dropped[i] = r == STORE_OK || r == STORE_NOT_FOUND;
        all = all && dropped[i];
    }
    pthread_mutex_lock(&A.lock);
    for (size_t i = 0; i < n; i++) {
        if (!dropped[i]) {
            out[i]->leaving = false;
            continue;
        }
        log_info("session of %s evicted (limits)", out[i]->name);
        memcpy(from->evicted_hash[from->evicted++], out[i]->token_hash, CHAT_TOKEN_HASH_SIZE);
        pool_give(POOL_session, out[i]);
    }
    pthread_mutex_unlock(&A.lock);
    return all;
}

/* A new session, not ready until its row is written; NULL when the pool is
 * full. */
static struct auth_session *take_session_locked(bool registered, const char *name, const char *addr,
                                                const char *token, int64_t now)
{
    struct auth_session *s = pool_take(POOL_session);
    if (!s)
        return NULL;
    *s = (struct auth_session){.registered = registered, .touch = ++A.ticks};
    s->born = s->touch;
    s->created = s->last_seen = s->saved_seen = now;
    hash_token(token, s->token_hash);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    return s;
}

enum auth_result auth_login(struct auth_attempt *from, const char *name, const char *password,
                            char token[AUTH_TOKEN_LEN + 1], struct auth_identity *who)
{
    from->evicted = 0;
    from->retry_after = 0;
    bool registered = false;
    enum auth_result verdict = verify_password(from, name, password, &registered);
    if (verdict != AUTH_OK)
        return verdict;
    char spelled[CHAT_NAME_MAX + 1]; /* an account is named as it was registered */
    if (!registered || store_get_account(name, spelled) != STORE_OK)
        snprintf(spelled, sizeof spelled, "%s", name);
    name = spelled;

    unsigned char raw[AUTH_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);

    unsigned char dead[SWEEP_MAX][CHAT_TOKEN_HASH_SIZE];
    int64_t now = now_seconds();
    struct newcomer c = {.name = name, .addr = from->addr, .registered = registered};
    struct auth_session *out[AUTH_EVICT_MAX];
    size_t n_out = 0;
    struct auth_session *s = NULL;
    pthread_mutex_lock(&A.lock);
    size_t n_dead = sweep_locked(now, dead, SWEEP_MAX);
    if (!registered && name_held_locked(name, now))
        verdict = AUTH_NAME_TAKEN;
    else if (!make_room_locked(&c, out, &n_out))
        verdict = AUTH_FULL;
    else /* counted from now on by every other login's limits */
        s = take_session_locked(registered, name, from->addr, token, now);
    pthread_mutex_unlock(&A.lock);
    forget(dead, n_dead);
    if (verdict != AUTH_OK)
        return verdict;
    /* The rows of the sessions that give way are gone before the new one is
     * answered: a restart cannot bring them back. */
    if (!evict(from, out, n_out)) {
        if (s) {
            pthread_mutex_lock(&A.lock);
            pool_give(POOL_session, s);
            pthread_mutex_unlock(&A.lock);
        }
        return AUTH_ERROR;
    }
    if (!s) { /* the pool was full: a slot given way is ours */
        pthread_mutex_lock(&A.lock);
        s = take_session_locked(registered, name, from->addr, token, now);
        pthread_mutex_unlock(&A.lock);
        if (!s)
            return AUTH_FULL; /* taken meanwhile by another login */
    }

    struct store_session row = {.registered = registered, .created = now, .last_seen = now};
    memcpy(row.token_hash, s->token_hash, CHAT_TOKEN_HASH_SIZE);
    snprintf(row.name, sizeof row.name, "%s", name);
    snprintf(row.addr, sizeof row.addr, "%s", from->addr);
    if (store_add_session(&row) != STORE_OK) {
        pthread_mutex_lock(&A.lock);
        pool_give(POOL_session, s);
        pthread_mutex_unlock(&A.lock);
        return AUTH_ERROR;
    }
    pthread_mutex_lock(&A.lock);
    s->ready = true;
    pthread_mutex_unlock(&A.lock);
    snprintf(who->name, sizeof who->name, "%s", name);
    memcpy(who->token_hash, row.token_hash, CHAT_TOKEN_HASH_SIZE);
    who->registered = registered;
    log_info("%s logged in (%s)", name, registered ? "account" : "nickname");
    return AUTH_OK;
}

enum auth_result auth_register(struct auth_attempt *from, const char *name, const char *password)
{
    from->evicted = 0;
    from->retry_after = 0;
#if CHAT_WITH_ACCOUNTS
    if (strlen(password) < CHAT_PASSWORD_MIN)
        return AUTH_WEAK_PASSWORD;
    pthread_mutex_lock(&A.lock);
    bool held = name_held_locked(name, now_seconds());
    pthread_mutex_unlock(&A.lock);
    if (held)
        return AUTH_NAME_TAKEN;
    if (!throttle_enter(from->addr, NULL, &from->retry_after))
        return AUTH_THROTTLED;
    char hash[crypto_pwhash_STRBYTES];
    pthread_mutex_lock(&A.hashing);
    int failed = crypto_pwhash_str(hash, password, strlen(password), CHAT_PWHASH_OPSLIMIT,
                                   CHAT_PWHASH_MEMLIMIT);
    pthread_mutex_unlock(&A.hashing);
    /* the address may hash again; a registration is no failed login */
    pthread_mutex_lock(&A.lock);
    attempts_of(A.by_addr, from->addr, false, now_ms())->hashing = false;
    pthread_mutex_unlock(&A.lock);
    if (failed) {
        log_error("password hashing failed (out of memory?)");
        return AUTH_ERROR;
    }
    switch (store_add_user(name, hash)) {
    case STORE_OK:
        log_info("account %s registered", name);
        return AUTH_OK;
    case STORE_DUPLICATE:
        return AUTH_NAME_TAKEN;
    default:
        return AUTH_ERROR;
    }
#else
    (void)from;
    (void)name;
    (void)password;
    return AUTH_ERROR;
#endif
}

bool auth_check(const char *token, struct auth_identity *who)
{
    if (!token || strlen(token) != AUTH_TOKEN_LEN)
        return false;
    unsigned char hash[CHAT_TOKEN_HASH_SIZE];
    hash_token(token, hash);
    int64_t now = now_seconds();
    bool live = false, dead = false, save = false;
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(hash);
    if (usable(s)) {
        if (expired(s, now)) {
            pool_give(POOL_session, s);
            dead = true;
        } else {
            live = true;
            s->last_seen = now;
            s->touch = ++A.ticks;
            save = now - s->saved_seen >= SAVE_SEEN_EVERY;
            if (save)
                s->saved_seen = now;
            snprintf(who->name, sizeof who->name, "%s", s->name);
            memcpy(who->token_hash, hash, CHAT_TOKEN_HASH_SIZE);
            who->registered = s->registered;
        }
    }
    pthread_mutex_unlock(&A.lock);
    if (dead)
        store_drop_session(hash);
    if (save)
        store_touch_session(hash, now);
    return live;
}

enum auth_result auth_logout(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE])
{
    /* The session stays usable until its row is gone: a logout that fails
     * leaves it exactly as it was. */
    enum store_result r = store_drop_session(token_hash);
    if (r != STORE_OK && r != STORE_NOT_FOUND) {
        log_warn("could not delete a session from the database: logout refused");
        return AUTH_ERROR;
    }
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(token_hash); /* evicted meanwhile: gone */
    if (s && !s->leaving)
        pool_give(POOL_session, s);
    pthread_mutex_unlock(&A.lock);
    return AUTH_OK;
}

/* The token hashes of the live sessions of user name, or (by_addr) from
 * client address value; at most cap. */
static size_t sessions_of(bool by_addr, const char *value,
                          unsigned char hashes[][CHAT_TOKEN_HASH_SIZE], size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&A.lock);
    for (size_t i = 0; i < CHAT_MAX_SESSIONS && n < cap; i++) {
        struct auth_session *s = session_at(i);
        if (usable(s) && (by_addr ? strcmp(s->addr, value) == 0 : text_same_name(s->name, value)))
            memcpy(hashes[n++], s->token_hash, CHAT_TOKEN_HASH_SIZE);
    }
    pthread_mutex_unlock(&A.lock);
    return n;
}

size_t auth_user_sessions(const char *name, unsigned char hashes[][CHAT_TOKEN_HASH_SIZE],
                          size_t cap)
{
    return sessions_of(false, name, hashes, cap);
}

size_t auth_addr_sessions(const char *addr, unsigned char hashes[][CHAT_TOKEN_HASH_SIZE],
                          size_t cap)
{
    return sessions_of(true, addr, hashes, cap);
}

static void count_websocket(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE], int delta)
{
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(token_hash);
    if (s) {
        s->websockets += delta;
        s->last_seen = now_seconds();
        s->touch = ++A.ticks;
    }
    pthread_mutex_unlock(&A.lock);
}

void auth_websocket_opened(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE])
{
    count_websocket(token_hash, 1);
}

void auth_websocket_closed(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE])
{
    count_websocket(token_hash, -1);
}
