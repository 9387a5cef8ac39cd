/*
 * hub - rooms, connected clients, presence, rate limits and fan-out. No I/O:
 * it turns events into JSON frames and puts references to them on bounded
 * per-client queues, which ws.c's sender threads drain onto sockets.
 * Calls pool, store (room list at boot), json, log, metrics.
 * Thread rules: every function may be called from any thread; one mutex
 * (the hub lock) guards rooms, clients and queues. Fan-out runs on the store
 * writer thread (hooks), so frames leave in commit order.
 */
#ifndef LANCHAT_HUB_H
#define LANCHAT_HUB_H

#include "chat_error.h"
#include "config.h"
#include "json.h"
#include "store.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct hub_frame {
    atomic_int refs;
    int room;   /* room index for message frames, -1 otherwise */
    int64_t id; /* message id for message frames, 0 otherwise */
    size_t len;
    char text[CHAT_FRAME_SIZE];
};

struct hub_room {
    int64_t id; /* database id */
    char name[CHAT_NAME_MAX + 1];
};

enum hub_entry_kind { HUB_HELLO, HUB_FRAME, HUB_REPLAY, HUB_CLOSE };

/* The hello frame lists every room and every user online, so it can be larger
 * than a message frame; each client keeps its own. */
#define HUB_HELLO_MAX                                                                              \
    (96 + CHAT_MAX_ROOMS * (CHAT_NAME_MAX + 12) + CHAT_MAX_CLIENTS * (CHAT_NAME_MAX + 3))

/* What a sender thread takes off a client's queue. */
struct hub_entry {
    enum hub_entry_kind kind;
    struct hub_frame *frame; /* HUB_FRAME: a reference the sender must drop */
    int room;                /* HUB_REPLAY: room index and the id to start after */
    int64_t since;
    int close_code; /* HUB_CLOSE */
};

struct hub_client {
    bool active; /* handshake done: frames may be sent */
    bool closing;
    bool sender_busy;
    int close_code;
    void *conn; /* ws.c's connection, opaque here */
    void *io;   /* ws.c's buffers for this client, opaque here */
    int fd;     /* the socket, for shutdown(2) when the peer must be cut off */
    char user[CHAT_NAME_MAX + 1];
    unsigned char token_hash[32];
    uint64_t rooms;                /* bit i: joined room index i */
    int64_t floor[CHAT_MAX_ROOMS]; /* newest message id already sent, per room */
    struct hub_entry queue[CHAT_CLIENT_QUEUE];
    size_t head, count;
    size_t hello_len;
    char hello[HUB_HELLO_MAX]; /* HUB_HELLO: written once, at activation */
};

int hub_start(void); /* loads rooms from the store */
void hub_stop(void); /* wakes every sender so it can exit */
/* Waits, at most timeout_ms, until every client's queue is written out. */
bool hub_flush(int timeout_ms);

/* Rooms. */
int hub_room_find(const char *name);            /* index or -1 */
int hub_room_index(int64_t room_id);            /* index or -1 */
int hub_room_add(int64_t id, const char *name); /* index, or -1 when the pool is full */
int hub_room_count(void);
int64_t hub_room_id(int index); /* database id, or -1 */
bool hub_room_full(void);
void hub_room_name(int index, char out[CHAT_NAME_MAX + 1]);
void hub_write_rooms(struct jw *w); /* [{"name":...},...] */

/* Clients. */
struct hub_client *hub_client_reserve(const char *user, const unsigned char token_hash[32]);
void hub_client_activate(struct hub_client *c, void *conn, int fd); /* hello + presence */
void hub_client_release(struct hub_client *c); /* waits for its sender, then frees */
size_t hub_client_slot(const struct hub_client *c);
/* Sender side: blocks for the next entry of slot; false when the hub stops. */
bool hub_client_next(size_t slot, struct hub_client **client, struct hub_entry *entry);
void hub_client_done(size_t slot);
bool hub_client_skip(struct hub_client *c, int room, int64_t id); /* already sent? */
void hub_client_sent(struct hub_client *c, int room, int64_t id);
/* Reader side. */
int hub_join(struct hub_client *c, int room, int64_t since); /* 0, -1 queue full */
bool hub_send(struct hub_client *c, const char *json);       /* a frame to one client */
void hub_close(struct hub_client *c, int code);              /* ask the sender to close */
void hub_close_session(const unsigned char token_hash[32], int code);
bool hub_client_closing(struct hub_client *c);
void hub_write_online(struct jw *w); /* ["alice",...] sorted */

/* Fan-out, from the store writer thread (store_hooks). */
void hub_message_added(const struct store_message *m);
void hub_message_deleted(int64_t room_id, int64_t id);

/* The API's answer to a write the store could not do (STORE_BUSY: a full
 * write queue; STORE_ERROR: disk full, read-only, I/O error): 503 both. */
struct chat_error hub_storage_error(enum store_result r);

/* Validates and stores a message from `user` (REST and WebSocket alike):
 * room by name, body, cid, rate limit, then the durable append. *repeated is
 * set when (user, cid) was already stored: out is the original. */
struct chat_error hub_post_message(const char *user, const char *room, const char *body,
                                   const char *cid, struct store_message *out, bool *repeated);

/* Per-user token bucket; rate <= 0 disables. */
void hub_set_rate(double per_second, double burst);
bool hub_rate_allow(const char *user);

/* The API's message object; with as_frame it carries "type":"message". */
void hub_write_message(struct jw *w, const struct store_message *m, const char *room,
                       bool as_frame);

/* Frames. */
void hub_frame_unref(struct hub_frame *f);

#endif
