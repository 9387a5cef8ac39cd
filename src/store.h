/*
 * store - the SQLite database: schema and migrations, one writer thread that
 * group-commits every change (synchronous=FULL), a helper thread that
 * checkpoints the WAL beside it (the writer finishes between batches), and
 * a reader connection for queries with its statements prepared once. The
 * only module that says SQL.
 * Calls sqlite3, log, text (copies and compares names) and the hooks it is
 * given (from the writer thread, after a commit).
 * Thread rules: write functions may be called from any thread and block until
 * their transaction committed (or failed), but store_append_async, which
 * returns at once and hands the job back on the writer thread; read functions
 * from any thread (serialised on the one reader connection; a row callback
 * runs under that lock and must not block). store_open/store_close at boot.
 * The copies (store_backup, store_check_copy, store_quiesce) open their own
 * connections: for the backup and restore commands, which run no server,
 * and (store_backup, any thread) for an admin's download of a backup.
 */
#ifndef LANCHAT_STORE_H
#define LANCHAT_STORE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_result {
    STORE_OK = 0,
    STORE_DUPLICATE, /* idempotent repeat (same author+cid), or name exists */
    STORE_NOT_FOUND,
    STORE_FORBIDDEN, /* delete of someone else's message */
    STORE_BUSY,      /* write queue full */
    STORE_ERROR,     /* SQLite failed; logged */
    STORE_INVALID,   /* a search query SQLite refuses, or too broad for its heap */
};

struct store_message {
    int64_t id;
    int64_t room_id;
    int64_t ts; /* ms since epoch, UTC */
    char author[CHAT_NAME_MAX + 1];
    char cid[CHAT_CID_MAX + 1]; /* "" when the client gave none */
    /* A message mirrored from another appliance (MQTT) names its origin:
     * node and the id it has there; "" and 0 for our own. */
    char node[CHAT_NAME_MAX + 1];
    int64_t origin_id;
    char body[CHAT_MAX_BODY + 1];
};

/* What waits in the outbox for the broker, in commit order. */
enum store_outbox_kind {
    STORE_OUTBOX_MESSAGE = 0, /* message: id, author, body, ts, cid */
    STORE_OUTBOX_DELETED = 1, /* message.id */
    STORE_OUTBOX_ROOM = 2,    /* the room was created */
};
struct store_outbox_entry {
    int64_t seq;
    enum store_outbox_kind kind;
    char room[CHAT_NAME_MAX + 1];
    struct store_message message;
};

struct store_session {
    unsigned char token_hash[CHAT_TOKEN_HASH_SIZE];
    char name[CHAT_NAME_MAX + 1];
    bool registered;
    int64_t created; /* seconds since epoch */
    int64_t last_seen;
    char addr[48]; /* the client address of the login, as text */
};

/* Called on the writer thread right after the commit that made them, in
 * commit order; batch_done once per batch, after its hooks and after every
 * job of it was handed back. */
struct store_hooks {
    void (*message_added)(const struct store_message *message);
    /* by: who deleted it (its author or an admin); "" for a mirrored one */
    void (*message_deleted)(int64_t room_id, int64_t id, const char *by);
    void (*batch_done)(void);
    void (*outbox_added)(void); /* a batch queued rows in the outbox */
};

/* An append that does not block its caller. The caller owns the memory;
 * once the commit that holds it (or its failure) is decided, the writer
 * thread sets result (STORE_OK, STORE_DUPLICATE with the original in
 * message, STORE_ERROR) and calls done(job). A blocking write returns only
 * after every write queued before it was handed back. */
struct store_job {
    struct store_message message; /* in: room_id, author, cid, body; out: id, ts */
    enum store_result result;
    void (*done)(struct store_job *job);
    void *owner;            /* the caller's */
    struct store_job *next; /* the caller's, for its own lists */
};

/* Opens (and migrates) the database, making its directory when it is
 * missing: one level, with a clear error when that fails. */
int store_open(const char *path, int64_t heap_limit, int64_t max_messages_per_room);
int store_start(const struct store_hooks *hooks); /* starts the writer thread */
void store_close(void);                           /* drains, checkpoints, closes */

/* Writes (block until committed). */
/* In: room_id, author, cid, body. Out: id and ts, or, on STORE_DUPLICATE, the
 * stored original (same author and cid). */
enum store_result store_append_message(struct store_message *message);
/* Queues the append and returns: STORE_OK (done() will be called) or
 * STORE_BUSY (the write queue is full; done() will not be called). */
enum store_result store_append_async(struct store_job *job);
/* Whether the write queue is full now (a hint: it may change at once). */
bool store_write_queue_full(void);
/* The actor's own message; with moderator (an admin's delete), anyone's, and
 * then an audit row in the same transaction. A mirrored one: STORE_FORBIDDEN. */
enum store_result store_delete_message(int64_t id, const char *actor, bool moderator,
                                       int64_t *room_id);
/* announce: a room created here, queued in the outbox (store_set_outbox). */
enum store_result store_add_room(const char *name, bool announce, int64_t *room_id);
/* A direct conversation of the two (member_a before member_b without case),
 * named "@<room id>"; never in the outbox. STORE_DUPLICATE when the pair has one. */
#if CHAT_WITH_DIRECT
enum store_result store_add_direct(const char *member_a, const char *member_b, int64_t *room_id);
#endif
enum store_result store_add_user(const char *name, const char *password_hash);
enum store_result store_add_session(const struct store_session *session);
enum store_result store_drop_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE]);
enum store_result store_touch_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE],
                                      int64_t last_seen);
enum store_result store_check_writable(void);

/* Mirroring (mqtt). With the outbox on, each local message, deletion and
 * announced room adds an outbox row in its own transaction; a message with a
 * node is stored once by (node, origin_id), STORE_DUPLICATE after, and never
 * queued. Set before store_start. */
void store_set_outbox(bool on);
/* Deletes the message stored as (node, origin_id): its local id and room. */
enum store_result store_delete_mirrored(const char *node, int64_t origin_id, int64_t *room_id,
                                        int64_t *id);
/* Removes the outbox rows up to seq (published and acknowledged). */
enum store_result store_outbox_remove(int64_t upto_seq);
int64_t store_outbox_depth(void); /* rows waiting; any thread */
/* Whether a write of the last batch failed for want of disk space
 * (SQLITE_FULL); a batch with none clears it. Set before that batch's callers
 * are answered, so their refusal can say why. Any thread. */
bool store_full(void);

/* Reads. */
enum store_result store_get_message(int64_t id, struct store_message *out);
/* The history reader, shared by REST paging and WebSocket replay: calls fn
 * for each message of the room with after < id < below, in id order, at
 * most limit, while fn returns true (the row fn refused is not consumed).
 * One statement; fn runs under the reader lock. */
typedef bool store_row_fn(void *ctx, const struct store_message *message);
enum store_result store_history(int64_t room_id, int64_t after, int64_t below, int64_t limit,
                                store_row_fn *fn, void *ctx);
/* Id of the (skip+1)-th newest message of the room with id < below. */
enum store_result store_newest_id(int64_t room_id, int64_t below, int64_t skip, int64_t *id);
#if CHAT_WITH_SEARCH
/* Full-text search (FTS5 query syntax): calls fn for each message matching
 * query with id < below, in room_id (0: every room; a direct room only when
 * viewer is one of its members), newest first, at most
 * limit, while fn returns true; room is the message's room name. A query
 * SQLite refuses, or one that outgrows SQLite's heap limit (logged), is
 * STORE_INVALID with the reason in why. One
 * statement; fn runs under the reader lock. */
typedef bool store_search_fn(void *ctx, const struct store_message *message, const char *room);
enum store_result store_search(const char *query, int64_t room_id, const char *viewer,
                               int64_t below, int64_t limit, store_search_fn *fn, void *ctx,
                               char *why, size_t why_cap);
#endif
/* Calls fn for each outbox row with seq > after_seq, in order, at most limit,
 * while fn returns true; fn runs under the reader lock. */
typedef bool store_outbox_fn(void *ctx, const struct store_outbox_entry *entry);
enum store_result store_outbox_read(int64_t after_seq, int64_t limit, store_outbox_fn *fn,
                                    void *ctx);
enum store_result store_get_password_hash(const char *name, char *out, size_t cap);
/* The account's name as it was registered (names match without case). */
enum store_result store_get_account(const char *name, char spelled[CHAT_NAME_MAX + 1]);
/* The normal rooms; store_each_direct the direct ones with their members. */
enum store_result store_each_room(void (*fn)(void *ctx, int64_t id, const char *name), void *ctx);
typedef void store_direct_fn(void *ctx, int64_t id, const char *name, const char *member_a,
                             const char *member_b);
#if CHAT_WITH_DIRECT
enum store_result store_each_direct(store_direct_fn *fn, void *ctx);
#endif
enum store_result store_each_session(void (*fn)(void *ctx, const struct store_session *s),
                                     void *ctx);
/* At boot, before store_start: calls keep for each session, registered ones
 * first, newest first within each, and deletes (one transaction) the rows
 * it refuses. */
enum store_result store_load_sessions(bool (*keep)(void *ctx, const struct store_session *s),
                                      void *ctx);

/* Moderation (CHAT_WITH_MODERATION). */
struct store_audit {
    int64_t id;
    int64_t ts;                    /* ms since epoch, UTC */
    char actor[CHAT_NAME_MAX + 1]; /* an admin's name, or "console" */
    char action[24];
    char target[CHAT_NAME_MAX + 1];
    char detail[64];
};
/* Appends a row to the audit log (blocks until committed). */
enum store_result store_audit_add(const char *actor, const char *action, const char *target,
                                  const char *detail);
/* A mute (until_ms, ms since the epoch, UTC) or, with until_ms 0, its
 * lifting, stored with its audit row in one transaction (blocks until
 * committed), so it outlives a restart. */
enum store_result store_mute(const char *actor, const char *action, const char *target,
                             int64_t until_ms, const char *detail);
/* Calls fn for each mute that ends after now_ms_utc (the hub loads them at boot). */
typedef void store_mute_fn(void *ctx, const char *name, int64_t until_ms);
enum store_result store_each_mute(int64_t now_ms_utc, store_mute_fn *fn, void *ctx);
/* Bans and reserved names: kind "name", "address" or "reserved", value
 * the name (compared without case) or the address as text. With set, adds
 * it (STORE_DUPLICATE: it exists), else lifts it (STORE_NOT_FOUND: none);
 * an audit row (action, target value, detail kind) in the same transaction
 * (blocks until committed). */
enum store_result store_ban(const char *actor, const char *action, const char *kind,
                            const char *value, bool set);
/* A room's flag (read_only 0/1, -1 keeps it) and topic (NULL keeps it, ""
 * clears it), with an audit row (action "room", target the room's name,
 * detail) in one transaction (blocks until committed). */
enum store_result store_room_settings(const char *actor, int64_t room_id, const char *room,
                                      int read_only, const char *topic, const char *detail);
/* At boot: calls fn for each room that is read-only or has a topic (topic
 * NULL when none). */
typedef void store_room_settings_fn(void *ctx, int64_t room_id, bool read_only, const char *topic);
enum store_result store_each_room_settings(store_room_settings_fn *fn, void *ctx);
/* STORE_OK when value is banned (or reserved), STORE_NOT_FOUND when not,
 * STORE_ERROR when it cannot be read (a login then fails closed). */
enum store_result store_is_banned(const char *kind, const char *value);
/* Calls fn for each of the kind, oldest first, while fn returns true;
 * fn runs under the reader lock. */
typedef bool store_ban_fn(void *ctx, const char *value, int64_t ts, const char *by);
enum store_result store_each_ban(const char *kind, store_ban_fn *fn, void *ctx);
/* Whether the account is marked admin now (read at each check: the console
 * may change it while the server runs). */
bool store_is_admin(const char *name);
/* Calls fn for each audit row with id < before (0: no bound), newest first,
 * at most limit, while fn returns true; fn runs under the reader lock. */
typedef bool store_audit_fn(void *ctx, const struct store_audit *row);
enum store_result store_audit_read(int64_t before, int64_t limit, store_audit_fn *fn, void *ctx);
/* The console's (lanchat admin), from its own process beside a running
 * server: a connection of their own on the database file at path, which
 * must exist (WAL, the same busy timeout). Marks the account admin or not
 * and writes an audit row (actor "console"): STORE_OK, STORE_NOT_FOUND (no
 * such account), STORE_DUPLICATE (it already was so), STORE_ERROR (logged). */
enum store_result store_console_set_admin(const char *path, const char *name, bool admin,
                                          char spelled[CHAT_NAME_MAX + 1]);
enum store_result store_console_each_admin(const char *path,
                                           void (*fn)(void *ctx, const char *name), void *ctx);
/* The console's list of bans and reserved names (kind "address", "name",
 * "reserved"), by kind, oldest first. */
enum store_result store_console_each_ban(const char *path,
                                         void (*fn)(void *ctx, const char *kind, const char *value),
                                         void *ctx);
/* Copies of the database file, for `lanchat backup` and `lanchat restore`
 * (backup.c): each opens its own connection and needs none of the above. */
int store_schema_version(void); /* the newest schema this binary knows */
#if CHAT_WITH_BACKUPS
/* Writes one consistent snapshot of the database at src (a server may be
 * writing it) into the new file dst with SQLite's online backup, makes dst
 * a single self-contained file (journal_mode=DELETE) and checks it
 * (integrity_check). -1, logged, when any of it failed: dst is then the
 * caller's to remove. */
int store_backup(const char *src, const char *dst);
/* The database file store_open was given (for store_backup of the running
 * server's database); "" before store_open and for a path of 600 bytes
 * or more. */
const char *store_path(void);
/* Checks that path is a lanchat database this binary can open: SQLite's
 * integrity_check, lanchat's tables, schema 1..store_schema_version() (set
 * in *version); leaves it a single file (journal_mode=DELETE). -1 logged. */
int store_check_copy(const char *path, int *version);
/* Takes the database at path off-line: STORE_BUSY when another process
 * holds it (a server is running on it), STORE_NOT_FOUND when there is none,
 * otherwise folds its WAL into the file and leaves it a single file (no
 * -wal). STORE_ERROR logged. */
enum store_result store_quiesce(const char *path);
#endif

struct store_stats {
    uint64_t commits;
    uint64_t committed_messages;
    uint64_t commit_ns_total;
    uint64_t commit_ns_max;
};
void store_get_stats(struct store_stats *out);

#endif
