#include "auth.h"

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

static struct {
    pthread_mutex_t lock;
    pthread_mutex_t hashing; /* one argon2id at a time bounds its memory */
    int64_t idle, max_age;
} A = {.lock = PTHREAD_MUTEX_INITIALIZER, .hashing = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

static void hash_token(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
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

/* Removes expired sessions from memory; their hashes go to `dead` for the
 * caller to delete from the database once the lock is released. */
static size_t sweep_locked(int64_t now, unsigned char dead[][32], size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < CHAT_MAX_SESSIONS && n < cap; i++) {
        struct auth_session *s = session_at(i);
        if (s && s->ready && expired(s, now)) {
            memcpy(dead[n++], s->token_hash, 32);
            log_info("auth: session of %s expired", s->name);
            pool_give(POOL_session, s);
        }
    }
    return n;
}

static void forget(unsigned char dead[][32], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (store_drop_session(dead[i]) == STORE_ERROR)
            log_warn("auth: could not delete an expired session from the database");
}

static struct auth_session *find_token_locked(const unsigned char hash[32])
{
    for (size_t i = 0; i < CHAT_MAX_SESSIONS; i++) {
        struct auth_session *s = session_at(i);
        if (s && sodium_memcmp(s->token_hash, hash, 32) == 0)
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

static void load_session(void *ctx, const struct store_session *row)
{
    size_t *dropped = ctx;
    int64_t now = now_seconds();
    struct auth_session probe = {
        .registered = row->registered, .created = row->created, .last_seen = row->last_seen};
    struct auth_session *s = expired(&probe, now) ? NULL : pool_take(POOL_session);
    if (!s) {
        (*dropped)++;
        return;
    }
    *s = probe;
    s->ready = true;
    s->saved_seen = row->last_seen;
    memcpy(s->token_hash, row->token_hash, 32);
    snprintf(s->name, sizeof s->name, "%s", row->name);
}

int auth_start(int64_t idle_seconds, int64_t max_age_seconds)
{
    if (sodium_init() < 0) {
        log_error("auth: libsodium failed to initialise");
        return -1;
    }
    A.idle = idle_seconds;
    A.max_age = max_age_seconds;
    size_t dropped = 0;
    if (store_each_session(load_session, &dropped) != STORE_OK)
        return -1;
    if (dropped)
        log_info("auth: %zu expired or surplus session(s) not restored", dropped);
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

static enum auth_result verify_password(const char *name, const char *password, bool *registered)
{
    char stored[crypto_pwhash_STRBYTES];
    enum store_result r = store_get_password_hash(name, stored, sizeof stored);
    if (r == STORE_ERROR)
        return AUTH_ERROR;
    *registered = r == STORE_OK;
    if (!*registered)
        return password ? AUTH_BAD_CREDENTIALS : AUTH_OK;
    if (!password)
        return AUTH_BAD_CREDENTIALS;
    pthread_mutex_lock(&A.hashing);
    int bad = crypto_pwhash_str_verify(stored, password, strlen(password));
    pthread_mutex_unlock(&A.hashing);
    return bad ? AUTH_BAD_CREDENTIALS : AUTH_OK;
}

enum auth_result auth_login(const char *name, const char *password, char token[AUTH_TOKEN_LEN + 1],
                            struct auth_identity *who)
{
    bool registered = false;
    enum auth_result verdict = verify_password(name, password, &registered);
    if (verdict != AUTH_OK)
        return verdict;
    char spelled[CHAT_NAME_MAX + 1]; /* an account is named as it was registered */
    if (!registered || store_get_account(name, spelled) != STORE_OK)
        snprintf(spelled, sizeof spelled, "%s", name);
    name = spelled;

    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);

    unsigned char dead[8][32];
    int64_t now = now_seconds();
    pthread_mutex_lock(&A.lock);
    size_t n_dead = sweep_locked(now, dead, 8);
    struct auth_session *s = NULL;
    if (!registered && name_held_locked(name, now))
        verdict = AUTH_NAME_TAKEN;
    else if (!(s = pool_take(POOL_session)))
        verdict = AUTH_FULL;
    if (s) {
        s->registered = registered;
        s->created = s->last_seen = s->saved_seen = now;
        hash_token(token, s->token_hash);
        snprintf(s->name, sizeof s->name, "%s", name);
    }
    pthread_mutex_unlock(&A.lock);
    forget(dead, n_dead);
    if (!s)
        return verdict;

    struct store_session row = {.registered = registered, .created = now, .last_seen = now};
    memcpy(row.token_hash, s->token_hash, 32);
    snprintf(row.name, sizeof row.name, "%s", name);
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
    memcpy(who->token_hash, row.token_hash, 32);
    who->registered = registered;
    log_info("auth: %s logged in (%s)", name, registered ? "account" : "nickname");
    return AUTH_OK;
}

enum auth_result auth_register(const char *name, const char *password)
{
#if CHAT_WITH_ACCOUNTS
    if (strlen(password) < 8)
        return AUTH_WEAK_PASSWORD;
    pthread_mutex_lock(&A.lock);
    bool held = name_held_locked(name, now_seconds());
    pthread_mutex_unlock(&A.lock);
    if (held)
        return AUTH_NAME_TAKEN;
    char hash[crypto_pwhash_STRBYTES];
    pthread_mutex_lock(&A.hashing);
    int failed = crypto_pwhash_str(hash, password, strlen(password), CHAT_PWHASH_OPSLIMIT,
                                   CHAT_PWHASH_MEMLIMIT);
    pthread_mutex_unlock(&A.hashing);
    if (failed) {
        log_error("auth: password hashing failed (out of memory?)");
        return AUTH_ERROR;
    }
    switch (store_add_user(name, hash)) {
    case STORE_OK:
        log_info("auth: account %s registered", name);
        return AUTH_OK;
    case STORE_DUPLICATE:
        return AUTH_NAME_TAKEN;
    default:
        return AUTH_ERROR;
    }
#else
    (void)name;
    (void)password;
    return AUTH_ERROR;
#endif
}

bool auth_check(const char *token, struct auth_identity *who)
{
    if (!token || strlen(token) != AUTH_TOKEN_LEN)
        return false;
    unsigned char hash[32];
    hash_token(token, hash);
    int64_t now = now_seconds();
    bool live = false, dead = false, save = false;
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(hash);
    if (s && s->ready) {
        if (expired(s, now)) {
            pool_give(POOL_session, s);
            dead = true;
        } else {
            live = true;
            s->last_seen = now;
            save = now - s->saved_seen >= SAVE_SEEN_EVERY;
            if (save)
                s->saved_seen = now;
            snprintf(who->name, sizeof who->name, "%s", s->name);
            memcpy(who->token_hash, hash, 32);
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

void auth_logout(const unsigned char token_hash[32])
{
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(token_hash);
    if (s)
        pool_give(POOL_session, s);
    pthread_mutex_unlock(&A.lock);
    if (store_drop_session(token_hash) == STORE_ERROR)
        log_warn("auth: could not delete a session from the database");
}

static void count_websocket(const unsigned char token_hash[32], int delta)
{
    pthread_mutex_lock(&A.lock);
    struct auth_session *s = find_token_locked(token_hash);
    if (s) {
        s->websockets += delta;
        s->last_seen = now_seconds();
    }
    pthread_mutex_unlock(&A.lock);
}

void auth_websocket_opened(const unsigned char token_hash[32])
{
    count_websocket(token_hash, 1);
}

void auth_websocket_closed(const unsigned char token_hash[32])
{
    count_websocket(token_hash, -1);
}
