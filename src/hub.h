/*
 * hub - the chat's decisions, whatever the protocol: rooms (a creation
 * reserves its slot first, so two creates at the last free slot cannot both
 * commit), the connected clients and which room a join may enter, who is online
 * (a user's first and last connection), per-user rate limits, and posting
 * (validation, then the durable append). Errors are chat_error values; no
 * HTTP, no frames, no sockets. It keeps its own registry of clients and
 * rooms; the pools only hold their storage.
 * Calls pool, store, text, log, metrics, and the announce function it is
 * given (under the hub lock).
 * Thread rules: any thread. The hub lock guards rooms, clients and the online
 * table and is never held across a database write; a second lock guards the
 * rate buckets.
 */
#ifndef LANCHAT_HUB_H
#define LANCHAT_HUB_H

#include "chat_error.h"
#include "config.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub_room {
    int64_t id; /* database id */
    bool ready; /* false while its creation is being stored */
    char name[CHAT_NAME_MAX + 1];
    /* A direct conversation's two members (member[0] before member[1]
     * without case), its only readers; "" for a room everyone may read. */
    char member[2][CHAT_NAME_MAX + 1];
    bool read_only;                 /* only admins may post (moderation) */
    char topic[CHAT_TOPIC_MAX + 1]; /* "" when none */
};

/* A connected client, as the hub sees it. */
struct hub_client {
    char user[CHAT_NAME_MAX + 1];
    unsigned char token_hash[CHAT_TOKEN_HASH_SIZE];
    uint32_t handle; /* the delivery module's name for the connection */
    size_t registry; /* position in the hub's list of clients */
};

/* Called under the hub lock when a user's first connection opens or last one
 * closes, with the client that caused it: presence is announced in the same
 * order as the online table changes. */
typedef void hub_announce_fn(void *ctx, const struct hub_client *client, bool online);

int hub_start(void); /* loads the rooms from the store */
void hub_stop(void); /* forgets rooms and clients (their blocks go back) */

/* Rooms; an index is stable for the life of the process. */
int hub_room_find(const char *name); /* index or -1, whoever may read it */
/* The room as user may see it: -1 for a direct room user is not a member of. */
int hub_room_find_for(const char *name, const char *user);
bool hub_room_visible(int index, const char *user); /* false for no room too */
bool hub_room_direct(int index);
int hub_room_index(int64_t room_id); /* index or -1 */
int64_t hub_room_id(int index);      /* database id, or -1 */
void hub_room_name(int index, char out[CHAT_NAME_MAX + 1]);
/* The rooms user may read, in index order; direct is the other member of a
 * direct room, else NULL; topic "" when none (read_only and topic are
 * moderation's). */
void hub_each_room(const char *user,
                   void (*fn)(void *ctx, const char *name, const char *direct, bool read_only,
                              const char *topic),
                   void *ctx);
/* Sets the room's flag (read_only 0/1; -1 keeps it) and topic (NULL keeps
 * it, "" clears it) in memory, once store_room_settings stored them. */
void hub_room_configure(int index, int read_only, const char *topic);
/* Creates and stores a room: CONFLICT when it exists (or is being created),
 * UNAVAILABLE when every slot is taken or the store refused. */
struct chat_error hub_room_create(const char *name, int *index);
/* A room another appliance created (mirrored): made here too, unless it
 * exists; not announced again. */
struct chat_error hub_room_adopt(const char *name);
#if CHAT_WITH_DIRECT
/* The direct conversation of user and other (made and stored when new,
 * *created then): BAD_REQUEST to oneself, UNAVAILABLE when every room slot is
 * taken (direct rooms share CHAT_MAX_ROOMS) or the store refused. The caller
 * has checked that other exists. */
struct chat_error hub_direct_open(const char *user, const char *other, int *index, bool *created);
#endif

/* Clients. NULL when CHAT_MAX_CLIENTS are connected. */
struct hub_client *hub_client_open(const char *user,
                                   const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE],
                                   uint32_t handle, hub_announce_fn *announce, void *ctx);
void hub_client_close(struct hub_client *c, hub_announce_fn *announce, void *ctx);
/* Whether user's join may enter the room by name: NOT_FOUND (also a direct
 * room of others), BAD_REQUEST (no name) or OK with *index; the connection
 * keeps what it joined (deliver). */
struct chat_error hub_join(const char *room, const char *user, int *index);
/* The handles of the session's connections, at most cap; their count. */
size_t hub_session_clients(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE], uint32_t *handles,
                           size_t cap);
/* Users with at least one connection, sorted, each once. */
void hub_each_online(void (*fn)(void *ctx, const char *user), void *ctx);

/* Posting. Validates a message from `user` (REST and WebSocket alike): room
 * by name (NOT_FOUND for a direct room of others), body, cid, rate limit; fills out for the store.
 */
struct chat_error hub_post_prepare(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out);
/* Prepares and stores it, blocking until committed. *repeated is set when
 * (user, cid) was already stored: out is the original. */
struct chat_error hub_post_message(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out, bool *repeated);
/* The answer to a write the store could not do (STORE_BUSY: a full write
 * queue; STORE_ERROR: disk full, read-only, I/O error): UNAVAILABLE both. */
struct chat_error hub_storage_error(enum store_result r);

#if CHAT_WITH_MODERATION
/* Mutes (held here; stored by the caller with store_mute first, and loaded from the store by
 * hub_start): the user's posts are FORBIDDEN for seconds from now (0 lifts it); false when
 * CHAT_MAX_MUTES users are muted already. Checked by hub_post_prepare, so REST, WebSocket and
 * device posts alike. */
bool hub_mute(const char *user, int64_t seconds);
bool hub_muted(const char *user);
/* Whether hub_mute(user, …) would find an entry now (checked before the
 * mute is stored, so a stored mute is one the hub can hold). */
bool hub_mute_fits(const char *user);
#endif

/* Per-user token bucket; rate <= 0 disables. */
void hub_set_rate(double per_second, double burst);
bool hub_rate_allow(const char *user);

#endif
