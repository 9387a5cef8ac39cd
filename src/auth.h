/*
 * auth - users, passwords (argon2id) and login sessions. Tokens are 32
 * random bytes sent as base64url; only their BLAKE2b hash is kept, in memory
 * (a pool of live sessions) and in the database (store).
 * Owns the limits that keep anyone from locking others out: sessions per
 * account and per client address, the nickname share of the pool, and the
 * login throttle (failures per address and per name, one password hash at a
 * time per address).
 * Calls store, pool, text, libsodium, log.
 * Thread rules: any thread; one mutex guards the session table and the
 * throttle tables and is never held across a database write or a password
 * hash.
 */
#ifndef LANCHAT_AUTH_H
#define LANCHAT_AUTH_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_BYTES 32 /* random bytes of a session token */
#define AUTH_TOKEN_LEN 43   /* base64url of AUTH_TOKEN_BYTES, no padding */
#define AUTH_ADDR_MAX 47    /* a client address as text (civetweb's remote_addr) */
#define AUTH_EVICT_MAX 4    /* sessions one login may push out */

struct auth_session {
    bool ready;   /* false while its database row is being written */
    bool leaving; /* evicted or logged out: its row is being deleted */
    bool registered;
    unsigned char token_hash[CHAT_TOKEN_HASH_SIZE];
    char name[CHAT_NAME_MAX + 1];
    char addr[AUTH_ADDR_MAX + 1]; /* the client address it logged in from */
    int64_t created;              /* seconds since epoch */
    int64_t last_seen;            /* seconds since epoch */
    int64_t saved_seen;
    int websockets; /* open WebSockets: the session is not idle while > 0 */
    uint64_t touch; /* order of last use in this process (0: not since boot) */
    uint64_t born;  /* order of login in this process (0: restored at boot) */
};

struct auth_identity {
    bool registered;
    char name[CHAT_NAME_MAX + 1];
    unsigned char token_hash[CHAT_TOKEN_HASH_SIZE];
};

enum auth_result {
    AUTH_OK,
    AUTH_NAME_TAKEN,
    AUTH_BAD_CREDENTIALS,
    AUTH_WEAK_PASSWORD,
    AUTH_FULL,      /* no room for a nickname session */
    AUTH_THROTTLED, /* too many failed logins: retry_after seconds */
    AUTH_ERROR,     /* the database could not be written (or hashing failed) */
};

/* Where a login or registration comes from, and what it did to others. */
struct auth_attempt {
    const char *addr; /* in: the client address */
    int retry_after;  /* out, AUTH_THROTTLED: seconds */
    size_t evicted;   /* out: sessions pushed out (their rows deleted) */
    unsigned char evicted_hash[AUTH_EVICT_MAX][CHAT_TOKEN_HASH_SIZE];
};

/* sodium, and the sessions of the store within the limits (per_addr 0: no
 * cap per address). */
int auth_start(int64_t idle_seconds, int64_t max_age_seconds, int64_t per_addr);
void auth_stop(void); /* saves last-seen times */

/* A new session; the caller closes the WebSockets of the evicted ones. */
enum auth_result auth_login(struct auth_attempt *from, const char *name, const char *password,
                            char token[AUTH_TOKEN_LEN + 1], struct auth_identity *who);
enum auth_result auth_register(struct auth_attempt *from, const char *name, const char *password);
/* A live session for the token (touching it), else false. */
bool auth_check(const char *token, struct auth_identity *who);
/* Ends the session once its row is deleted: AUTH_OK, or AUTH_ERROR (the
 * database could not be written) with the session still valid. */
enum auth_result auth_logout(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE]);
/* The token hashes of the user's live sessions, at most cap; their count
 * (a kick ends each with auth_logout). */
size_t auth_user_sessions(const char *name, unsigned char hashes[][CHAT_TOKEN_HASH_SIZE],
                          size_t cap);
/* The same for the sessions that logged in from the address (a ban of it
 * ends them), at most cap. */
size_t auth_addr_sessions(const char *addr, unsigned char hashes[][CHAT_TOKEN_HASH_SIZE],
                          size_t cap);
void auth_websocket_opened(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE]);
void auth_websocket_closed(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE]);

#endif
