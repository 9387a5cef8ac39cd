/*
 * auth - users, passwords (argon2id) and login sessions. Tokens are 32
 * random bytes sent as base64url; only their BLAKE2b hash is kept, in memory
 * (a pool of live sessions) and in the database (store).
 * Calls store, pool, libsodium, log.
 * Thread rules: any thread; one mutex guards the session table and is never
 * held across a database write or a password hash.
 */
#ifndef LANCHAT_AUTH_H
#define LANCHAT_AUTH_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#define AUTH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

struct auth_session {
    bool ready; /* false while its database row is being written */
    bool registered;
    unsigned char token_hash[32];
    char name[CHAT_NAME_MAX + 1];
    int64_t created;   /* seconds since epoch */
    int64_t last_seen; /* seconds since epoch */
    int64_t saved_seen;
    int websockets; /* open WebSockets: the session is not idle while > 0 */
};

struct auth_identity {
    bool registered;
    char name[CHAT_NAME_MAX + 1];
    unsigned char token_hash[32];
};

enum auth_result {
    AUTH_OK,
    AUTH_NAME_TAKEN,
    AUTH_BAD_CREDENTIALS,
    AUTH_WEAK_PASSWORD,
    AUTH_FULL, /* session pool exhausted */
    AUTH_ERROR,
};

int auth_start(int64_t idle_seconds, int64_t max_age_seconds); /* sodium + sessions from store */
void auth_stop(void);                                          /* saves last-seen times */

enum auth_result auth_login(const char *name, const char *password, char token[AUTH_TOKEN_LEN + 1],
                            struct auth_identity *who);
enum auth_result auth_register(const char *name, const char *password);
/* A live session for the token (touching it), else false. */
bool auth_check(const char *token, struct auth_identity *who);
void auth_logout(const unsigned char token_hash[32]);
void auth_websocket_opened(const unsigned char token_hash[32]);
void auth_websocket_closed(const unsigned char token_hash[32]);

#endif
