#include "store.h"

#define LOG_MODULE "store"
#include "log.h"
#include "text.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Forward migrations: schema version N is reached by running migrations[N-1].
 * Never edit a released step; append a new one. */
static const char *const migrations[] = {
    "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  room_id INTEGER NOT NULL REFERENCES rooms(id), author TEXT NOT NULL,"
    "  body TEXT NOT NULL, ts INTEGER NOT NULL, cid TEXT);"
    "CREATE INDEX messages_by_room ON messages(room_id, id);"
    "CREATE UNIQUE INDEX messages_by_cid ON messages(author, cid) WHERE cid IS NOT NULL;"
    "CREATE TABLE users (name TEXT PRIMARY KEY COLLATE NOCASE, password_hash TEXT NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE sessions (token_hash BLOB PRIMARY KEY, name TEXT NOT NULL,"
    "  registered INTEGER NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER);"
    "INSERT INTO rooms (name, created) VALUES ('general', strftime('%s','now'));",
    /* 2: the client address of a session, for the per-address cap */
    "ALTER TABLE sessions ADD COLUMN addr TEXT NOT NULL DEFAULT '';",
    /* 3: messages mirrored from other appliances (MQTT), kept once by their
     * origin; a client id is unique among local messages only; the outbox
     * of what waits to be published, in commit order */
    "ALTER TABLE messages ADD COLUMN origin_node TEXT;"
    "ALTER TABLE messages ADD COLUMN origin_id INTEGER;"
    "CREATE UNIQUE INDEX messages_by_origin ON messages(origin_node, origin_id)"
    "  WHERE origin_node IS NOT NULL;"
    "DROP INDEX messages_by_cid;"
    "CREATE UNIQUE INDEX messages_by_cid ON messages(author, cid)"
    "  WHERE cid IS NOT NULL AND origin_node IS NULL;"
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL,"
    "  room TEXT NOT NULL, origin_id INTEGER NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL,"
    "  ts INTEGER NOT NULL, cid TEXT);",
    /* 4: full-text search (CHAT_WITH_SEARCH): an FTS5 index of the bodies
     * over messages itself (external content, rowid = messages.id), built
     * from the rows there are and kept in step by triggers, so an insert, a
     * deletion and a retention trim change it in their own transaction and
     * a deleted message cannot be found. Made in every build: a database
     * moves between builds, and an index left behind would go stale. */
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id');"
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    "  END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    "  INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END;",
    /* 5 (moderation): accounts marked admin from the box (lanchat admin),
     * and the audit log of what admins and the console did */
    "ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 6 (moderation): mutes outlive a restart; until in ms since the epoch */
    "CREATE TABLE mutes (name TEXT PRIMARY KEY COLLATE NOCASE, until INTEGER NOT NULL);",
    /* 7 (direct messages): a direct conversation is a room named "@<id>"
     * whose two members are its only readers, member_a before member_b
     * without case; a pair has one room. A normal room has NULL members. */
    "ALTER TABLE rooms ADD COLUMN member_a TEXT COLLATE NOCASE;"
    "ALTER TABLE rooms ADD COLUMN member_b TEXT COLLATE NOCASE;"
    "CREATE UNIQUE INDEX rooms_by_members ON rooms(member_a, member_b)"
    "  WHERE member_a IS NOT NULL;",
    /* 8 (moderation): bans of a name or a client address, and reserved
     * names ('name', 'address', 'reserved'); ts in ms since the epoch, by:
     * the admin who set it */
    "CREATE TABLE bans (kind TEXT NOT NULL, value TEXT NOT NULL COLLATE NOCASE,"
    "  ts INTEGER NOT NULL, by TEXT NOT NULL, PRIMARY KEY (kind, value));"
    /* and read-only rooms (only admins post) and room topics (NULL: none) */
    "ALTER TABLE rooms ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rooms ADD COLUMN topic TEXT;",
    /* 9 (search): new messages are indexed by the writer, once a
     * transaction (fts_catch_up), not by a trigger once a message: FTS5
     * writes its pending terms out at every statement's savepoint, so the
     * trigger cost a segment a message (about 218,000 instructions of the
     * 290,000 a stored message took, make bench-instr). Deletions and
     * updates keep their triggers: the writer indexes what it added before
     * anything of the transaction deletes a message. */
    "DROP TRIGGER IF EXISTS messages_fts_insert;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

enum job_kind {
    JOB_APPEND,
    JOB_DELETE_MESSAGE,
    JOB_DELETE_MIRRORED,
    JOB_ADD_ROOM,
    JOB_ADD_DIRECT,
    JOB_ADD_USER,
    JOB_ADD_SESSION,
    JOB_DROP_SESSION,
    JOB_TOUCH_SESSION,
    JOB_CHECK,
    JOB_OUTBOX_REMOVE,
    JOB_AUDIT,
    JOB_MUTE,
    JOB_BAN,
    JOB_ROOM_SETTINGS,
};

/* What a blocking caller waits on, on its own stack. */
struct waiter {
    enum store_result result;
    int64_t id;
    int64_t value;
    bool done;
};

/* A write request, copied into the writer's queue. The data it points to
 * stays with its caller: a blocking caller waits for `waiter`; an
 * asynchronous append (`async`) is handed back to its done(). */
struct job {
    enum job_kind kind;
    struct store_message *message;
    const struct store_session *session;
    const unsigned char *token_hash;
    const char *name;
    const char *text;
    const char *ban_kind; /* BAN: "name", "address" or "reserved"; target: its value */
    const char *target;
    const char *detail; /* ROOM_SETTINGS: the audit row's */
    int64_t id;
    int64_t value;
    struct waiter *waiter;
    struct store_job *async;
    enum store_result result; /* the writer's own, for the batch */
    bool added;               /* a new message row or a deletion to announce */
    bool announce;            /* ADD_ROOM: a room of ours, for the outbox */
    bool moderator;           /* DELETE_MESSAGE: anyone's, audited when not the actor's */
    bool queued;              /* it added a row to the outbox */
};

enum statement {
    ST_FIND_CID,
    ST_INSERT_MESSAGE,
    ST_TRIM_ROOM,
    ST_FIND_AUTHOR,
    ST_DELETE_MESSAGE,
    ST_FIND_MIRRORED,
    ST_INSERT_OUTBOX,
    ST_REMOVE_OUTBOX,
    ST_INSERT_ROOM,
    ST_INSERT_DIRECT,
    ST_NAME_DIRECT,
    ST_INSERT_USER,
    ST_INSERT_SESSION,
    ST_DELETE_SESSION,
    ST_TOUCH_SESSION,
    ST_HEALTH,
    ST_INSERT_AUDIT,
    ST_SET_MUTE,
    ST_LIFT_MUTE,
    ST_SET_BAN,
    ST_LIFT_BAN,
    ST_ROOM_SETTINGS,
    ST_FTS_INDEX,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_WRITER_COUNT
};

static const char *const writer_sql[ST_WRITER_COUNT] = {
    [ST_FIND_CID] = "SELECT id, room_id, ts, body FROM messages WHERE author = ?1 AND cid = ?2"
                    " AND origin_node IS NULL",
    [ST_INSERT_MESSAGE] = "INSERT INTO messages (room_id, author, body, ts, cid, origin_node,"
                          " origin_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_TRIM_ROOM] = "DELETE FROM messages WHERE room_id = ?1 AND id <= (SELECT id FROM messages "
                     "WHERE room_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [ST_FIND_AUTHOR] = "SELECT author, room_id, origin_node FROM messages WHERE id = ?1",
    [ST_DELETE_MESSAGE] = "DELETE FROM messages WHERE id = ?1",
    [ST_FIND_MIRRORED] = "SELECT id, room_id FROM messages WHERE origin_node = ?1"
                         " AND origin_id = ?2",
    [ST_INSERT_OUTBOX] = "INSERT INTO outbox (kind, room, origin_id, author, body, ts, cid)"
                         " SELECT ?1, name, ?3, ?4, ?5, ?6, ?7 FROM rooms WHERE id = ?2"
                         " AND member_a IS NULL", /* a direct room stays here */
    [ST_REMOVE_OUTBOX] = "DELETE FROM outbox WHERE seq <= ?1",
    [ST_INSERT_ROOM] = "INSERT INTO rooms (name, created) VALUES (?1, ?2)",
    /* a unique name for the moment, "@<id>" by the next statement */
    [ST_INSERT_DIRECT] = "INSERT INTO rooms (name, created, member_a, member_b) VALUES"
                         " ('@new:' || ?1 || '+' || ?2, ?3, ?1, ?2)",
    [ST_NAME_DIRECT] = "UPDATE rooms SET name = '@' || id WHERE id = ?1",
    [ST_INSERT_USER] = "INSERT INTO users (name, password_hash, created) VALUES (?1, ?2, ?3)",
    [ST_INSERT_SESSION] = "INSERT INTO sessions (token_hash, name, registered, created, last_seen,"
                          " addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DELETE_SESSION] = "DELETE FROM sessions WHERE token_hash = ?1",
    [ST_TOUCH_SESSION] = "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
    [ST_HEALTH] = "INSERT OR REPLACE INTO meta (key, value) VALUES ('health_check', ?1)",
    [ST_INSERT_AUDIT] = "INSERT INTO audit (ts, actor, action, target, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_SET_MUTE] = "INSERT INTO mutes (name, until) VALUES (?1, ?2)"
                    " ON CONFLICT(name) DO UPDATE SET name = excluded.name, until = excluded.until",
    [ST_LIFT_MUTE] = "DELETE FROM mutes WHERE name = ?1",
    [ST_SET_BAN] = "INSERT INTO bans (kind, value, ts, by) VALUES (?1, ?2, ?3, ?4)",
    [ST_LIFT_BAN] = "DELETE FROM bans WHERE kind = ?1 AND value = ?2",
    [ST_ROOM_SETTINGS] = "UPDATE rooms SET read_only = CASE WHEN ?2 < 0 THEN read_only ELSE ?2 END,"
                         " topic = CASE WHEN ?3 IS NULL THEN topic WHEN ?3 = '' THEN NULL"
                         " ELSE ?3 END WHERE id = ?1",
    [ST_FTS_INDEX] = "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages"
                     " WHERE id >= ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
};

#define MESSAGE_COLUMNS "id, room_id, ts, author, cid, body, origin_node, origin_id"

enum reader_statement {
    RD_MESSAGE,
    RD_PAGE,
    RD_NEWEST_ID,
    RD_PASSWORD_HASH,
    RD_ACCOUNT,
    RD_OUTBOX,
#if CHAT_WITH_SEARCH
    RD_SEARCH,
#endif
    RD_ADMIN,
    RD_AUDIT,
    RD_MUTES,
    RD_BANNED,
    RD_BANS,
    RD_COUNT
};

/* Prepared once at open and kept: history pages and replays run these many
 * times a second. */
static const char *const reader_sql[RD_COUNT] = {
    [RD_MESSAGE] = "SELECT " MESSAGE_COLUMNS " FROM messages WHERE id = ?1",
    [RD_PAGE] = "SELECT " MESSAGE_COLUMNS " FROM messages WHERE room_id = ?1 AND id > ?2"
                " AND id < ?3 ORDER BY id LIMIT ?4",
    [RD_NEWEST_ID] = "SELECT id FROM messages WHERE room_id = ?1 AND id < ?2"
                     " ORDER BY id DESC LIMIT 1 OFFSET ?3",
    [RD_PASSWORD_HASH] = "SELECT password_hash FROM users WHERE name = ?1",
    [RD_ACCOUNT] = "SELECT name FROM users WHERE name = ?1",
    [RD_OUTBOX] = "SELECT seq, kind, room, origin_id, author, body, ts, cid FROM outbox"
                  " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
#if CHAT_WITH_SEARCH
    /* The index drives: its rowid order and range, the room checked per hit. */
    [RD_SEARCH] = "SELECT m.id, m.room_id, m.ts, m.author, m.cid, m.body, m.origin_node,"
                  " m.origin_id, r.name FROM messages_fts f JOIN messages m ON m.id = f.rowid"
                  " JOIN rooms r ON r.id = m.room_id WHERE messages_fts MATCH ?1"
                  " AND f.rowid < ?2 AND (?3 = 0 OR m.room_id = ?3)"
                  " AND (r.member_a IS NULL OR r.member_a = ?5 OR r.member_b = ?5)"
                  " ORDER BY f.rowid DESC LIMIT ?4",
#endif
    [RD_ADMIN] = "SELECT admin FROM users WHERE name = ?1",
    [RD_MUTES] = "SELECT name, until FROM mutes WHERE until > ?1",
    [RD_BANNED] = "SELECT 1 FROM bans WHERE kind = ?1 AND value = ?2",
    [RD_BANS] = "SELECT value, ts, by FROM bans WHERE kind = ?1 ORDER BY ts, value",
    [RD_AUDIT] = "SELECT id, ts, actor, action, target, detail FROM audit WHERE id < ?1"
                 " ORDER BY id DESC LIMIT ?2",
};

static struct {
    sqlite3 *writer_db;
    sqlite3 *reader_db;
    sqlite3_stmt *writer_stmt[ST_WRITER_COUNT];
    int64_t max_per_room;
    struct store_hooks hooks;
    char path[600]; /* the database file store_open was given; "" when longer */

    pthread_t writer;
    bool writer_running;
    bool stopping;
    pthread_mutex_t lock; /* queue, waiters' done flags, stats, full */
    pthread_cond_t queued;
    pthread_cond_t finished;
    struct job queue[CHAT_WRITE_QUEUE];
    size_t head, count;
    struct store_stats stats;
    bool full;                 /* the last batch failed for want of disk space */
    bool saw_full;             /* the writer's, for the batch it runs */
    bool outbox;               /* local changes are queued for the broker (store_set_outbox) */
    bool outbox_grew;          /* the writer's: this batch added outbox rows */
    int64_t fts_from;          /* the writer's: the first message of the transaction not
                                  in messages_fts yet; 0: none (fts_catch_up) */
    atomic_llong outbox_depth; /* rows in the outbox */

    /* Checkpoints: a helper thread copies most of the WAL into the file in
     * parallel (PASSIVE, its own connection, never waiting for the writer);
     * under writes that never pause it cannot get every frame, so the writer
     * itself finishes what is left between two batches, which bounds the WAL.
     * SQLite's own checkpoint would run inside a COMMIT, before its acks. */
    bool checkpoint_due; /* the writer's: the WAL is twice the threshold */
    sqlite3 *helper_db;
    pthread_t helper;
    bool helper_running;
    pthread_mutex_t checkpointing; /* held by whoever checkpoints */
    pthread_mutex_t helper_lock;   /* the three flags below */
    pthread_cond_t helper_wanted;
    bool helper_due, helper_stopping;
    bool writer_finishing; /* the helper starts no pass: the writer's turn */

    pthread_mutex_t reader_lock; /* the reader connection and its statements */
    sqlite3_stmt *reader_stmt[RD_COUNT];
} S = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .queued = PTHREAD_COND_INITIALIZER,
    .finished = PTHREAD_COND_INITIALIZER,
    .reader_lock = PTHREAD_MUTEX_INITIALIZER,
    .checkpointing = PTHREAD_MUTEX_INITIALIZER,
    .helper_lock = PTHREAD_MUTEX_INITIALIZER,
    .helper_wanted = PTHREAD_COND_INITIALIZER,
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("%s: %s", sql, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* Milliseconds a connection waits for a lock another holds (the writer, the
 * checkpoint helper, a reader opening its snapshot) before SQLITE_BUSY. */
#define BUSY_TIMEOUT_MS 5000

static int open_connection(const char *path, sqlite3 **db)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        log_error("cannot open %s: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(*db, 1);
    return exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

static int migrate(sqlite3 *db)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > SCHEMA_VERSION) {
        log_error("database schema %d is newer than this lanchat (%d)", version, SCHEMA_VERSION);
        return -1;
    }
    for (; version < SCHEMA_VERSION; version++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", version + 1);
        if (exec(db, "BEGIN IMMEDIATE") != 0)
            return -1;
        if (exec(db, migrations[version]) != 0 || exec(db, bump) != 0) {
            exec(db, "ROLLBACK");
            return -1;
        }
        if (exec(db, "COMMIT") != 0)
            return -1;
        log_info("schema migrated to version %d", version + 1);
    }
    return 0;
}

/* The database's directory, made when it is missing (one level, as an
 * appliance's /var/lib/lanchat would be): SQLite would only say it cannot
 * open the file. */
static int make_directory_of(const char *path)
{
    char dir[512];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        log_error("database path too long: %s", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        log_error("cannot create the database directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int store_open(const char *path, int64_t heap_limit, int64_t max_messages_per_room)
{
    if (make_directory_of(path) != 0)
        return -1;
    if (heap_limit > 0)
        sqlite3_hard_heap_limit64(heap_limit);
    S.max_per_room = max_messages_per_room;
    if (strlen(path) < sizeof S.path)
        memcpy(S.path, path, strlen(path) + 1);
    if (open_connection(path, &S.writer_db) != 0 || migrate(S.writer_db) != 0 ||
        open_connection(path, &S.reader_db) != 0 || open_connection(path, &S.helper_db) != 0 ||
        exec(S.helper_db, "PRAGMA cache_size=16") != 0) {
        store_close();
        return -1;
    }
    for (int i = 0; i < ST_WRITER_COUNT; i++) {
        if (sqlite3_prepare_v3(S.writer_db, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &S.writer_stmt[i], NULL) != SQLITE_OK) {
            log_error("prepare failed: %s", sqlite3_errmsg(S.writer_db));
            store_close();
            return -1;
        }
    }
    for (int i = 0; i < RD_COUNT; i++) {
        if (sqlite3_prepare_v3(S.reader_db, reader_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &S.reader_stmt[i], NULL) != SQLITE_OK) {
            log_error("prepare failed: %s", sqlite3_errmsg(S.reader_db));
            store_close();
            return -1;
        }
    }
    sqlite3_stmt *count = NULL;
    if (sqlite3_prepare_v2(S.writer_db, "SELECT count(*) FROM outbox", -1, &count, NULL) !=
            SQLITE_OK ||
        sqlite3_step(count) != SQLITE_ROW) {
        log_error("cannot count the outbox: %s", sqlite3_errmsg(S.writer_db));
        sqlite3_finalize(count);
        store_close();
        return -1;
    }
    atomic_store(&S.outbox_depth, sqlite3_column_int64(count, 0));
    sqlite3_finalize(count);
    log_info("opened %s (schema %d, WAL, synchronous=FULL)", path, SCHEMA_VERSION);
    return 0;
}

/* ---- writer thread ------------------------------------------------------ */

static sqlite3_stmt *writer_statement(enum statement which)
{
    sqlite3_stmt *st = S.writer_stmt[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    text_copy(dst, cap, src ? (const char *)src : "");
}

/* Queues a change of ours for the broker, in the job's transaction. */
static enum store_result add_to_outbox(struct job *job, enum store_outbox_kind kind,
                                       int64_t room_id, const struct store_message *m)
{
    sqlite3_stmt *st = writer_statement(ST_INSERT_OUTBOX);
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_int64(st, 2, room_id);
    sqlite3_bind_int64(st, 3, m ? m->id : 0);
    sqlite3_bind_text(st, 4, m ? m->author : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, m && kind == STORE_OUTBOX_MESSAGE ? m->body : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, m ? m->ts : 0);
    if (m && m->cid[0])
        sqlite3_bind_text(st, 7, m->cid, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return STORE_ERROR;
    job->queued = sqlite3_changes(S.writer_db) == 1; /* none for a direct room */
    return STORE_OK;
}

static enum store_result run_append(struct job *job)
{
    struct store_message *m = job->message;
    bool mirrored = m->node[0] != '\0';
    if (!mirrored) /* a mirrored message keeps its origin's time */
        m->ts = now_ms();
    sqlite3_stmt *st = writer_statement(ST_INSERT_MESSAGE);
    sqlite3_bind_int64(st, 1, m->room_id);
    sqlite3_bind_text(st, 2, m->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->ts);
    if (m->cid[0])
        sqlite3_bind_text(st, 5, m->cid, -1, SQLITE_STATIC);
    if (mirrored) {
        sqlite3_bind_text(st, 6, m->node, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, m->origin_id);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE && mirrored)
        return STORE_DUPLICATE; /* stored once already, by its (origin node, origin id) */
    if (rc == SQLITE_CONSTRAINT_UNIQUE && m->cid[0]) {
        /* Most sends are new: the unique (author, cid) index is asked by the
         * insert itself, and only a repeat looks the original up. */
        st = writer_statement(ST_FIND_CID);
        sqlite3_bind_text(st, 1, m->author, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->cid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            return STORE_ERROR;
        m->id = sqlite3_column_int64(st, 0);
        m->room_id = sqlite3_column_int64(st, 1);
        m->ts = sqlite3_column_int64(st, 2);
        copy_text(m->body, sizeof m->body, sqlite3_column_text(st, 3));
        return STORE_DUPLICATE;
    }
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    m->id = sqlite3_last_insert_rowid(S.writer_db);
    if (!S.fts_from) /* ids only grow: every later message of the batch is >= */
        S.fts_from = m->id;
    job->added = true;
    if (S.outbox && !mirrored &&
        add_to_outbox(job, STORE_OUTBOX_MESSAGE, m->room_id, m) != STORE_OK)
        return STORE_ERROR;
    if (S.max_per_room > 0) {
        st = writer_statement(ST_TRIM_ROOM);
        sqlite3_bind_int64(st, 1, m->room_id);
        sqlite3_bind_int64(st, 2, S.max_per_room);
        if (sqlite3_step(st) != SQLITE_DONE)
            return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_result delete_row(struct job *job, bool to_outbox);

/* One row of the audit log, in the job's transaction. */
static enum store_result add_audit(const char *actor, const char *action, const char *target,
                                   const char *detail)
{
    sqlite3_stmt *st = writer_statement(ST_INSERT_AUDIT);
    sqlite3_bind_int64(st, 1, now_ms());
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static enum store_result run_delete(struct job *job)
{
    sqlite3_stmt *st = writer_statement(ST_FIND_AUTHOR);
    sqlite3_bind_int64(st, 1, job->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return STORE_ERROR;
    /* a mirrored message is deleted on its origin only, whoever its author */
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        return STORE_FORBIDDEN;
    char author[CHAT_NAME_MAX + 1];
    copy_text(author, sizeof author, sqlite3_column_text(st, 0));
    bool own = text_same_name(author, job->name);
    if (!own && !job->moderator)
        return STORE_FORBIDDEN;
    job->value = sqlite3_column_int64(st, 1);
    enum store_result r = delete_row(job, S.outbox);
    if (r == STORE_OK && !own) {
        char detail[32];
        snprintf(detail, sizeof detail, "message %lld", (long long)job->id);
        r = add_audit(job->name, "delete", author, detail);
    }
    return r;
}

/* Deletes message job->id of room job->value; announced when it goes. */
static enum store_result delete_row(struct job *job, bool to_outbox)
{
    sqlite3_stmt *st = writer_statement(ST_DELETE_MESSAGE);
    sqlite3_bind_int64(st, 1, job->id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return STORE_ERROR;
    if (to_outbox) {
        struct store_message gone = {.id = job->id};
        if (add_to_outbox(job, STORE_OUTBOX_DELETED, job->value, &gone) != STORE_OK)
            return STORE_ERROR;
    }
    job->added = true;
    return STORE_OK;
}

/* A deletion on another appliance: the message it stored as (node, id). */
static enum store_result run_delete_mirrored(struct job *job)
{
    sqlite3_stmt *st = writer_statement(ST_FIND_MIRRORED);
    sqlite3_bind_text(st, 1, job->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, job->value);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return STORE_ERROR;
    job->id = sqlite3_column_int64(st, 0);
    job->value = sqlite3_column_int64(st, 1);
    return delete_row(job, false);
}

/* Runs one simple INSERT/UPDATE/DELETE; a UNIQUE violation is STORE_DUPLICATE,
 * an UPDATE/DELETE that matched nothing is STORE_NOT_FOUND. */
static enum store_result step_change(sqlite3_stmt *st, bool must_change)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return STORE_DUPLICATE;
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    if (must_change && sqlite3_changes(S.writer_db) == 0)
        return STORE_NOT_FOUND;
    return STORE_OK;
}

static enum store_result run_job(struct job *job)
{
    sqlite3_stmt *st;
    enum store_result r;
    switch (job->kind) {
    case JOB_APPEND:
        return run_append(job);
    case JOB_DELETE_MESSAGE:
        return run_delete(job);
    case JOB_DELETE_MIRRORED:
        return run_delete_mirrored(job);
    case JOB_ADD_ROOM:
        st = writer_statement(ST_INSERT_ROOM);
        sqlite3_bind_text(st, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms() / 1000);
        r = step_change(st, false);
        if (r == STORE_OK)
            job->id = sqlite3_last_insert_rowid(S.writer_db);
        if (r == STORE_OK && S.outbox && job->announce)
            r = add_to_outbox(job, STORE_OUTBOX_ROOM, job->id, NULL);
        return r;
    case JOB_ADD_DIRECT: /* never in the outbox: the other appliances cannot keep it private */
        st = writer_statement(ST_INSERT_DIRECT);
        sqlite3_bind_text(st, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, job->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms() / 1000);
        r = step_change(st, false);
        if (r != STORE_OK)
            return r;
        job->id = sqlite3_last_insert_rowid(S.writer_db);
        st = writer_statement(ST_NAME_DIRECT);
        sqlite3_bind_int64(st, 1, job->id);
        return step_change(st, true);
    case JOB_OUTBOX_REMOVE:
        st = writer_statement(ST_REMOVE_OUTBOX);
        sqlite3_bind_int64(st, 1, job->value);
        r = step_change(st, false);
        if (r == STORE_OK)
            job->id = sqlite3_changes(S.writer_db);
        return r;
    case JOB_ADD_USER:
        st = writer_statement(ST_INSERT_USER);
        sqlite3_bind_text(st, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, job->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms() / 1000);
        return step_change(st, false);
    case JOB_ADD_SESSION:
        st = writer_statement(ST_INSERT_SESSION);
        sqlite3_bind_blob(st, 1, job->session->token_hash, CHAT_TOKEN_HASH_SIZE, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, job->session->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, job->session->registered);
        sqlite3_bind_int64(st, 4, job->session->created);
        sqlite3_bind_int64(st, 5, job->session->last_seen);
        sqlite3_bind_text(st, 6, job->session->addr, -1, SQLITE_STATIC);
        return step_change(st, false);
    case JOB_DROP_SESSION:
        st = writer_statement(ST_DELETE_SESSION);
        sqlite3_bind_blob(st, 1, job->token_hash, CHAT_TOKEN_HASH_SIZE, SQLITE_STATIC);
        return step_change(st, true);
    case JOB_TOUCH_SESSION:
        st = writer_statement(ST_TOUCH_SESSION);
        sqlite3_bind_blob(st, 1, job->token_hash, CHAT_TOKEN_HASH_SIZE, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, job->value);
        return step_change(st, true);
    case JOB_AUDIT: /* name: actor, text: action, session->name: target, message->body: detail */
        return add_audit(job->name, job->text, job->session->name, job->message->body);
    case JOB_MUTE: /* as JOB_AUDIT, and value: until (ms), 0 lifts the mute */
        st = writer_statement(job->value ? ST_SET_MUTE : ST_LIFT_MUTE);
        sqlite3_bind_text(st, 1, job->session->name, -1, SQLITE_STATIC);
        if (job->value)
            sqlite3_bind_int64(st, 2, job->value);
        r = step_change(st, false);
        if (r == STORE_OK)
            r = add_audit(job->name, job->text, job->session->name, job->message->body);
        return r;
    case JOB_BAN: /* as JOB_MUTE: value 1 sets, 0 lifts (STORE_NOT_FOUND: none) */
        st = writer_statement(job->value ? ST_SET_BAN : ST_LIFT_BAN);
        sqlite3_bind_text(st, 1, job->ban_kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, job->target, -1, SQLITE_STATIC);
        if (job->value) {
            sqlite3_bind_int64(st, 3, now_ms());
            sqlite3_bind_text(st, 4, job->name, -1, SQLITE_STATIC);
        }
        r = step_change(st, !job->value);
        if (r == STORE_OK)
            r = add_audit(job->name, job->text, job->target, job->ban_kind);
        return r;
    case JOB_ROOM_SETTINGS: /* id: room, value: read_only (-1 keeps), text: topic */
        st = writer_statement(ST_ROOM_SETTINGS);
        sqlite3_bind_int64(st, 1, job->id);
        sqlite3_bind_int64(st, 2, job->value);
        if (job->text)
            sqlite3_bind_text(st, 3, job->text, -1, SQLITE_STATIC);
        r = step_change(st, true);
        if (r == STORE_OK)
            r = add_audit(job->name, "room", job->target, job->detail);
        return r;
    case JOB_CHECK:
        st = writer_statement(ST_HEALTH);
        sqlite3_bind_int64(st, 1, now_ms());
        return step_change(st, false);
    }
    return STORE_ERROR;
}

/* Hands each job's outcome to its caller: asynchronous appends go to their
 * done() first, then blocking callers are woken together. So when a blocking
 * write returns, every earlier write was handed back. */
static void finish_batch(struct job *batch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct store_job *async = batch[i].async;
        if (async) {
            async->result = batch[i].result;
            async->done(async);
        }
    }
    if (S.hooks.batch_done)
        S.hooks.batch_done();
    pthread_mutex_lock(&S.lock);
    for (size_t i = 0; i < n; i++) {
        struct waiter *w = batch[i].waiter;
        if (!w)
            continue;
        w->result = batch[i].result;
        w->id = batch[i].id;
        w->value = batch[i].value;
        w->done = true;
    }
    pthread_cond_broadcast(&S.finished);
    pthread_mutex_unlock(&S.lock);
}

/* One transaction for the whole batch: this is the group commit. Each job
 * runs inside its own savepoint so a failing one does not undo the others,
 * unless SQLite itself ended the transaction (disk full, I/O error): then the
 * whole batch fails and nobody is told their write is stored. */
/* Runs one of the prepared transaction statements; false on failure. */
static bool step_control(enum statement which)
{
    /* A job's SELECT left on a row would keep the connection's read snapshot
     * past its COMMIT; the next BEGIN IMMEDIATE from that stale snapshot is
     * SQLITE_BUSY_SNAPSHOT for good once another process (lanchat admin)
     * committed in between. Every statement ends with the transaction. */
    if (which == ST_COMMIT || which == ST_ROLLBACK)
        for (int i = 0; i < ST_BEGIN; i++)
            sqlite3_reset(S.writer_stmt[i]);
    sqlite3_stmt *st = writer_statement(which);
    if (sqlite3_step(st) == SQLITE_DONE)
        return true;
    if ((sqlite3_errcode(S.writer_db) & 0xff) == SQLITE_FULL)
        S.saw_full = true;
    log_error("%s: %s", writer_sql[which], sqlite3_errmsg(S.writer_db));
    return false;
}

/* A job that changes the database with more than one statement runs in a
 * savepoint, so a failure half-way undoes it alone; a single statement is
 * undone by SQLite itself when it fails. */
static bool needs_savepoint(const struct job *job)
{
    switch (job->kind) {
    case JOB_APPEND: /* the insert, then the outbox or the trim */
        return S.max_per_room > 0 || (S.outbox && !job->message->node[0]);
    case JOB_DELETE_MESSAGE: /* the delete, then the outbox or the audit row */
        return S.outbox || job->moderator;
    case JOB_ADD_ROOM:
        return S.outbox && job->announce;
    case JOB_ADD_DIRECT: /* the insert, then its name */
        return true;
    case JOB_MUTE: /* the mute, then its audit row */
    case JOB_BAN:
    case JOB_ROOM_SETTINGS:
        return true;
    default:
        return false;
    }
}

/* Indexes the messages the transaction added (schema step 9): before its
 * COMMIT, and before a job that may delete a message, whose trigger takes
 * it out of the index and so must find it there. Outside any job's
 * savepoint, so that no ROLLBACK TO undoes it. */
static bool fts_catch_up(void)
{
    if (!S.fts_from)
        return true;
    sqlite3_stmt *st = writer_statement(ST_FTS_INDEX);
    sqlite3_bind_int64(st, 1, S.fts_from);
    if (sqlite3_step(st) != SQLITE_DONE) {
        log_error("%s: %s", writer_sql[ST_FTS_INDEX], sqlite3_errmsg(S.writer_db));
        return false;
    }
    S.fts_from = 0;
    return true;
}

static bool may_delete_messages(const struct job *job)
{
    return job->kind == JOB_DELETE_MESSAGE || job->kind == JOB_DELETE_MIRRORED ||
           (job->kind == JOB_APPEND && S.max_per_room > 0); /* its retention trim */
}

static void commit_batch(struct job *batch, size_t n)
{
    uint64_t started = monotonic_ns();
    S.saw_full = false;
    bool ok = step_control(ST_BEGIN);
    for (size_t i = 0; i < n && ok; i++) {
        struct job *job = &batch[i];
        bool guarded = needs_savepoint(job);
        job->added = job->queued = false;
        if (may_delete_messages(job) && !(ok = fts_catch_up()))
            break;
        if (guarded && !(ok = step_control(ST_SAVEPOINT)))
            break;
        job->result = run_job(job);
        if (job->result == STORE_ERROR) {
            if ((sqlite3_errcode(S.writer_db) & 0xff) == SQLITE_FULL)
                S.saw_full = true;
            log_error("write failed: %s", sqlite3_errmsg(S.writer_db));
            job->added = false;
            if (sqlite3_get_autocommit(S.writer_db)) {
                ok = false; /* SQLite rolled the whole transaction back */
                break;
            }
            if (guarded)
                step_control(ST_ROLLBACK_TO);
        }
        if (guarded)
            ok = step_control(ST_RELEASE);
    }
    if (ok && !(fts_catch_up() && step_control(ST_COMMIT)))
        ok = false;
    if (!ok && !sqlite3_get_autocommit(S.writer_db))
        step_control(ST_ROLLBACK);
    S.fts_from = 0; /* committed, or rolled back with the rows it named */
    uint64_t took = monotonic_ns() - started;
    size_t messages = 0;
    bool outbox_grew = false;
    for (size_t i = 0; i < n; i++) {
        struct job *job = &batch[i];
        if (!ok) {
            job->result = STORE_ERROR;
            continue;
        }
        if (job->kind == JOB_OUTBOX_REMOVE && job->result == STORE_OK)
            atomic_fetch_sub(&S.outbox_depth, job->id);
        if (job->queued && job->result == STORE_OK) {
            atomic_fetch_add(&S.outbox_depth, 1);
            outbox_grew = true;
        }
        if (!job->added)
            continue;
        if (job->kind == JOB_APPEND) {
            messages++;
            if (S.hooks.message_added)
                S.hooks.message_added(job->message);
        } else if ((job->kind == JOB_DELETE_MESSAGE || job->kind == JOB_DELETE_MIRRORED) &&
                   S.hooks.message_deleted) {
            S.hooks.message_deleted(job->value, job->id,
                                    job->kind == JOB_DELETE_MESSAGE ? job->name : "");
        }
    }
    pthread_mutex_lock(&S.lock);
    if (S.full != S.saw_full)
        log_warn("%s", S.saw_full ? "the disk is full: writes are refused"
                                  : "the disk took a write again: writes go on");
    S.full = S.saw_full; /* before the callers hear of the batch */
    pthread_mutex_unlock(&S.lock);
    if (log_enabled(LOG_DEBUG))
        log_debug("%s a batch of %zu job(s), %zu message(s), in %.1f ms",
                  ok ? "committed" : "rolled back", n, messages, (double)took / 1e6);
    if (ok) {
        pthread_mutex_lock(&S.lock);
        S.stats.commits++;
        S.stats.committed_messages += messages;
        S.stats.commit_ns_total += took;
        if (took > S.stats.commit_ns_max)
            S.stats.commit_ns_max = took;
        pthread_mutex_unlock(&S.lock);
    }
    if (outbox_grew && S.hooks.outbox_added)
        S.hooks.outbox_added();
    finish_batch(batch, n);
}

/* sqlite3_wal_hook of the writer, after each commit (it replaces SQLite's
 * own checkpoint): wakes the helper, and past twice the threshold asks the
 * writer to finish the checkpoint once the batch is handed back. */
static int wal_committed(void *ctx, sqlite3 *db, const char *name, int pages)
{
    (void)ctx;
    (void)db;
    (void)name;
    bool finish = pages >= 2 * CHAT_CHECKPOINT_PAGES;
    if (pages >= CHAT_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&S.helper_lock);
        S.helper_due = true;
        S.writer_finishing = finish;
        pthread_cond_signal(&S.helper_wanted);
        pthread_mutex_unlock(&S.helper_lock);
    }
    S.checkpoint_due = finish;
    return SQLITE_OK;
}

static void *helper_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lanchat-ckpt");
    pthread_mutex_lock(&S.helper_lock);
    for (;;) {
        while ((!S.helper_due || S.writer_finishing) && !S.helper_stopping)
            pthread_cond_wait(&S.helper_wanted, &S.helper_lock);
        if (S.helper_stopping)
            break;
        S.helper_due = false;
        pthread_mutex_unlock(&S.helper_lock);
        pthread_mutex_lock(&S.checkpointing);
        int rc =
            sqlite3_wal_checkpoint_v2(S.helper_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(&S.checkpointing);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("checkpoint failed: %s", sqlite3_errmsg(S.helper_db));
        pthread_mutex_lock(&S.helper_lock);
    }
    pthread_mutex_unlock(&S.helper_lock);
    return NULL;
}

/* No other writer can append meanwhile, so the checkpoint gets every frame
 * (most were copied by the helper already) and the next transaction starts
 * the WAL again from its beginning. */
static void checkpoint_if_due(void)
{
    if (!S.checkpoint_due || pthread_mutex_trylock(&S.checkpointing) != 0)
        return; /* the helper's last pass still runs: after the next batch */
    S.checkpoint_due = false;
    int rc = sqlite3_wal_checkpoint_v2(S.writer_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_unlock(&S.checkpointing);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_warn("checkpoint failed: %s", sqlite3_errmsg(S.writer_db));
    pthread_mutex_lock(&S.helper_lock);
    S.writer_finishing = false;
    pthread_mutex_unlock(&S.helper_lock);
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct job batch[CHAT_WRITE_BATCH];
    pthread_setname_np(pthread_self(), "lanchat-writer");
    for (;;) {
        pthread_mutex_lock(&S.lock);
        while (S.count == 0 && !S.stopping)
            pthread_cond_wait(&S.queued, &S.lock);
        if (S.count == 0 && S.stopping) {
            pthread_mutex_unlock(&S.lock);
            break;
        }
        size_t n = 0;
        while (S.count > 0 && n < CHAT_WRITE_BATCH) {
            batch[n++] = S.queue[S.head];
            S.head = (S.head + 1) % CHAT_WRITE_QUEUE;
            S.count--;
        }
        pthread_mutex_unlock(&S.lock);
        commit_batch(batch, n);
        checkpoint_if_due();
    }
    return NULL;
}

/* Queues the job; with a waiter, blocks until its batch is decided. */
static enum store_result submit(struct job job)
{
    pthread_mutex_lock(&S.lock);
    if (!S.writer_running || S.stopping || S.count == CHAT_WRITE_QUEUE) {
        pthread_mutex_unlock(&S.lock);
        return STORE_BUSY;
    }
    S.queue[(S.head + S.count) % CHAT_WRITE_QUEUE] = job;
    S.count++;
    pthread_cond_signal(&S.queued);
    enum store_result r = STORE_OK;
    if (job.waiter) {
        while (!job.waiter->done)
            pthread_cond_wait(&S.finished, &S.lock);
        r = job.waiter->result;
    }
    pthread_mutex_unlock(&S.lock);
    return r;
}

static enum store_result submit_and_wait(struct job job, struct waiter *w)
{
    *w = (struct waiter){0};
    job.waiter = w;
    return submit(job);
}

int store_start(const struct store_hooks *hooks)
{
    S.hooks = *hooks;
    S.stopping = false;
    S.checkpoint_due = false;
    S.helper_due = S.helper_stopping = S.writer_finishing = false;
    sqlite3_wal_hook(S.writer_db, wal_committed, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CHAT_WRITER_STACK);
    int failed = pthread_create(&S.helper, &attr, helper_main, NULL);
    S.helper_running = !failed;
    if (!failed)
        failed = pthread_create(&S.writer, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    if (failed) {
        log_error("cannot start the writer thread");
        return -1;
    }
    S.writer_running = true;
    return 0;
}

void store_close(void)
{
    if (S.writer_running) {
        pthread_mutex_lock(&S.lock);
        S.stopping = true;
        pthread_cond_signal(&S.queued);
        pthread_mutex_unlock(&S.lock);
        pthread_join(S.writer, NULL);
        S.writer_running = false;
    }
    if (S.helper_running) {
        pthread_mutex_lock(&S.helper_lock);
        S.helper_stopping = true;
        pthread_cond_signal(&S.helper_wanted);
        pthread_mutex_unlock(&S.helper_lock);
        pthread_join(S.helper, NULL);
        S.helper_running = false;
    }
    if (S.helper_db)
        sqlite3_close(S.helper_db);
    S.helper_db = NULL;

    for (int i = 0; i < ST_WRITER_COUNT; i++) {
        sqlite3_finalize(S.writer_stmt[i]);
        S.writer_stmt[i] = NULL;
    }
    for (int i = 0; i < RD_COUNT; i++) {
        sqlite3_finalize(S.reader_stmt[i]);
        S.reader_stmt[i] = NULL;
    }
    if (S.reader_db)
        sqlite3_close(S.reader_db);
    S.reader_db = NULL;
    if (S.writer_db) {
        if (sqlite3_wal_checkpoint_v2(S.writer_db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
            SQLITE_OK)
            log_warn("checkpoint failed: %s", sqlite3_errmsg(S.writer_db));
        sqlite3_close(S.writer_db);
        log_info("closed");
    }
    S.writer_db = NULL;
}

enum store_result store_append_message(struct store_message *message)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_APPEND, .message = message}, &w);
}

enum store_result store_append_async(struct store_job *job)
{
    return submit((struct job){.kind = JOB_APPEND, .message = &job->message, .async = job});
}

bool store_write_queue_full(void)
{
    pthread_mutex_lock(&S.lock);
    bool full = S.count == CHAT_WRITE_QUEUE;
    pthread_mutex_unlock(&S.lock);
    return full;
}

enum store_result store_delete_message(int64_t id, const char *actor, bool moderator,
                                       int64_t *room_id)
{
    struct waiter w;
    enum store_result r = submit_and_wait(
        (struct job){.kind = JOB_DELETE_MESSAGE, .id = id, .name = actor, .moderator = moderator},
        &w);
    if (r == STORE_OK && room_id)
        *room_id = w.value;
    return r;
}

enum store_result store_add_room(const char *name, bool announce, int64_t *room_id)
{
    struct waiter w;
    enum store_result r =
        submit_and_wait((struct job){.kind = JOB_ADD_ROOM, .name = name, .announce = announce}, &w);
    if (r == STORE_OK)
        *room_id = w.id;
    return r;
}

#if CHAT_WITH_DIRECT
enum store_result store_add_direct(const char *member_a, const char *member_b, int64_t *room_id)
{
    struct waiter w;
    enum store_result r = submit_and_wait(
        (struct job){.kind = JOB_ADD_DIRECT, .name = member_a, .text = member_b}, &w);
    if (r == STORE_OK)
        *room_id = w.id;
    return r;
}
#endif

enum store_result store_delete_mirrored(const char *node, int64_t origin_id, int64_t *room_id,
                                        int64_t *id)
{
    struct waiter w;
    enum store_result r = submit_and_wait(
        (struct job){.kind = JOB_DELETE_MIRRORED, .name = node, .value = origin_id}, &w);
    if (r == STORE_OK) {
        *room_id = w.value;
        *id = w.id;
    }
    return r;
}

void store_set_outbox(bool on)
{
    S.outbox = on;
}

enum store_result store_outbox_remove(int64_t upto_seq)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_OUTBOX_REMOVE, .value = upto_seq}, &w);
}

int64_t store_outbox_depth(void)
{
    return atomic_load(&S.outbox_depth);
}

enum store_result store_add_user(const char *name, const char *password_hash)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_ADD_USER, .name = name, .text = password_hash},
                           &w);
}

enum store_result store_add_session(const struct store_session *session)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_ADD_SESSION, .session = session}, &w);
}

enum store_result store_drop_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE])
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_DROP_SESSION, .token_hash = token_hash}, &w);
}

enum store_result store_touch_session(const unsigned char token_hash[CHAT_TOKEN_HASH_SIZE],
                                      int64_t last_seen)
{
    struct waiter w;
    return submit_and_wait(
        (struct job){.kind = JOB_TOUCH_SESSION, .token_hash = token_hash, .value = last_seen}, &w);
}

enum store_result store_check_writable(void)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_CHECK}, &w);
}

bool store_full(void)
{
    pthread_mutex_lock(&S.lock);
    bool full = S.full;
    pthread_mutex_unlock(&S.lock);
    return full;
}

void store_get_stats(struct store_stats *out)
{
    pthread_mutex_lock(&S.lock);
    *out = S.stats;
    pthread_mutex_unlock(&S.lock);
}

/* ---- reads ---------------------------------------------------------------- */

/* The prepared statement, reset, under reader_lock (the caller unlocks with
 * reader_done); NULL when the store is closed. */
static sqlite3_stmt *reader_statement(enum reader_statement which)
{
    pthread_mutex_lock(&S.reader_lock);
    sqlite3_stmt *st = S.reader_stmt[which];
    if (!st) {
        log_error("read on a closed store");
        pthread_mutex_unlock(&S.reader_lock);
        return NULL;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static enum store_result reader_done(sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st); /* ends the read transaction: the WAL can be checkpointed */
    pthread_mutex_unlock(&S.reader_lock);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

/* A one-off statement (boot only), under reader_lock. */
static sqlite3_stmt *reader_prepare(const char *sql)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&S.reader_lock);
    if (!S.reader_db || sqlite3_prepare_v2(S.reader_db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("read prepare failed: %s", S.reader_db ? sqlite3_errmsg(S.reader_db) : "closed");
        pthread_mutex_unlock(&S.reader_lock);
        return NULL;
    }
    return st;
}

static enum store_result reader_finalize(sqlite3_stmt *st, int rc)
{
    sqlite3_finalize(st);
    pthread_mutex_unlock(&S.reader_lock);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static void read_message_row(sqlite3_stmt *st, struct store_message *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->room_id = sqlite3_column_int64(st, 1);
    out->ts = sqlite3_column_int64(st, 2);
    copy_text(out->author, sizeof out->author, sqlite3_column_text(st, 3));
    copy_text(out->cid, sizeof out->cid, sqlite3_column_text(st, 4));
    copy_text(out->body, sizeof out->body, sqlite3_column_text(st, 5));
    copy_text(out->node, sizeof out->node, sqlite3_column_text(st, 6));
    out->origin_id = sqlite3_column_int64(st, 7);
}

enum store_result store_get_message(int64_t id, struct store_message *out)
{
    sqlite3_stmt *st = reader_statement(RD_MESSAGE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_message_row(st, out);
    return reader_done(st, rc);
}

enum store_result store_history(int64_t room_id, int64_t after, int64_t below, int64_t limit,
                                store_row_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_statement(RD_PAGE);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, below);
    sqlite3_bind_int64(st, 4, limit);
    int rc;
    struct store_message m;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_message_row(st, &m);
        if (!fn(ctx, &m)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    return reader_done(st, rc == SQLITE_DONE ? SQLITE_ROW : rc);
}

#if CHAT_WITH_SEARCH
enum store_result store_search(const char *query, int64_t room_id, const char *viewer,
                               int64_t below, int64_t limit, store_search_fn *fn, void *ctx,
                               char *why, size_t why_cap)
{
    sqlite3_stmt *st = reader_statement(RD_SEARCH);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, below);
    sqlite3_bind_int64(st, 3, room_id);
    sqlite3_bind_int64(st, 4, limit);
    sqlite3_bind_text(st, 5, viewer, -1, SQLITE_STATIC);
    int rc;
    struct store_message m;
    char room[CHAT_NAME_MAX + 1];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_message_row(st, &m);
        copy_text(room, sizeof room, sqlite3_column_text(st, 8));
        if (!fn(ctx, &m, room)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    /* The query's own fault: FTS5 syntax, an unknown column; or so broad (a
     * short prefix of a big index) that its doclists outgrow SQLite's heap. */
    if (rc == SQLITE_ERROR || rc == SQLITE_NOMEM) {
        if (rc == SQLITE_NOMEM)
            log_warn("a search needed more than SQLite's heap limit (refused)");
        snprintf(why, why_cap, "%s",
                 rc == SQLITE_NOMEM ? "too broad for this server's memory; use longer words"
                                      " or fewer prefixes*"
                                    : sqlite3_errmsg(S.reader_db));
        sqlite3_reset(st);
        pthread_mutex_unlock(&S.reader_lock);
        return STORE_INVALID;
    }
    if (rc != SQLITE_DONE)
        log_error("search failed: %s", sqlite3_errmsg(S.reader_db));
    return reader_done(st, rc == SQLITE_DONE ? SQLITE_ROW : rc);
}
#endif

enum store_result store_outbox_read(int64_t after_seq, int64_t limit, store_outbox_fn *fn,
                                    void *ctx)
{
    sqlite3_stmt *st = reader_statement(RD_OUTBOX);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, limit);
    int rc;
    struct store_outbox_entry e;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e.message.room_id = e.message.origin_id = 0;
        e.message.node[0] = '\0';
        e.seq = sqlite3_column_int64(st, 0);
        e.kind = (enum store_outbox_kind)sqlite3_column_int(st, 1);
        copy_text(e.room, sizeof e.room, sqlite3_column_text(st, 2));
        e.message.id = sqlite3_column_int64(st, 3);
        copy_text(e.message.author, sizeof e.message.author, sqlite3_column_text(st, 4));
        copy_text(e.message.body, sizeof e.message.body, sqlite3_column_text(st, 5));
        e.message.ts = sqlite3_column_int64(st, 6);
        copy_text(e.message.cid, sizeof e.message.cid, sqlite3_column_text(st, 7));
        if (!fn(ctx, &e)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    return reader_done(st, rc == SQLITE_DONE ? SQLITE_ROW : rc);
}

enum store_result store_newest_id(int64_t room_id, int64_t below, int64_t skip, int64_t *id)
{
    sqlite3_stmt *st = reader_statement(RD_NEWEST_ID);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, below);
    sqlite3_bind_int64(st, 3, skip);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    return reader_done(st, rc);
}

static enum store_result read_user_text(enum reader_statement which, const char *name, char *out,
                                        size_t cap)
{
    sqlite3_stmt *st = reader_statement(which);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_text(out, cap, sqlite3_column_text(st, 0));
    return reader_done(st, rc);
}

enum store_result store_get_account(const char *name, char spelled[CHAT_NAME_MAX + 1])
{
    return read_user_text(RD_ACCOUNT, name, spelled, CHAT_NAME_MAX + 1);
}

enum store_result store_get_password_hash(const char *name, char *out, size_t cap)
{
    return read_user_text(RD_PASSWORD_HASH, name, out, cap);
}

enum store_result store_each_room(void (*fn)(void *ctx, int64_t id, const char *name), void *ctx)
{
    sqlite3_stmt *st =
        reader_prepare("SELECT id, name FROM rooms WHERE member_a IS NULL ORDER BY id");
    if (!st)
        return STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
    return reader_finalize(st, rc);
}

#if CHAT_WITH_DIRECT
enum store_result store_each_direct(store_direct_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_prepare("SELECT id, name, member_a, member_b FROM rooms"
                                      " WHERE member_a IS NOT NULL ORDER BY id");
    if (!st)
        return STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
    return reader_finalize(st, rc);
}
#endif

enum store_result store_each_session(void (*fn)(void *ctx, const struct store_session *s),
                                     void *ctx)
{
    sqlite3_stmt *st = reader_prepare(
        "SELECT token_hash, name, registered, created, last_seen, addr FROM sessions");
    if (!st)
        return STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_session s = {0};
        if (sqlite3_column_bytes(st, 0) != CHAT_TOKEN_HASH_SIZE)
            continue;
        memcpy(s.token_hash, sqlite3_column_blob(st, 0), CHAT_TOKEN_HASH_SIZE);
        copy_text(s.name, sizeof s.name, sqlite3_column_text(st, 1));
        s.registered = sqlite3_column_int(st, 2) != 0;
        s.created = sqlite3_column_int64(st, 3);
        s.last_seen = sqlite3_column_int64(st, 4);
        copy_text(s.addr, sizeof s.addr, sqlite3_column_text(st, 5));
        fn(ctx, &s);
    }
    return reader_finalize(st, rc);
}

enum store_result store_load_sessions(bool (*keep)(void *ctx, const struct store_session *s),
                                      void *ctx)
{
    sqlite3_stmt *st =
        reader_prepare("SELECT token_hash, name, registered, created, last_seen, addr"
                       " FROM sessions ORDER BY registered DESC, created DESC");
    if (!st)
        return STORE_ERROR;
    /* At boot the writer connection is free: one transaction deletes the
     * refused rows while the reader's snapshot goes on (WAL). Once the writer
     * thread runs (a test restarting auth alone), each goes through it. */
    bool direct = !S.writer_running;
    bool ok = !direct || step_control(ST_BEGIN);
    size_t refused = 0;
    int rc = SQLITE_ERROR;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_session s = {0};
        if (sqlite3_column_bytes(st, 0) != CHAT_TOKEN_HASH_SIZE)
            continue;
        memcpy(s.token_hash, sqlite3_column_blob(st, 0), CHAT_TOKEN_HASH_SIZE);
        copy_text(s.name, sizeof s.name, sqlite3_column_text(st, 1));
        s.registered = sqlite3_column_int(st, 2) != 0;
        s.created = sqlite3_column_int64(st, 3);
        s.last_seen = sqlite3_column_int64(st, 4);
        copy_text(s.addr, sizeof s.addr, sqlite3_column_text(st, 5));
        if (keep(ctx, &s))
            continue;
        refused++;
        if (!direct) {
            ok = store_drop_session(s.token_hash) != STORE_ERROR;
            continue;
        }
        sqlite3_stmt *drop = writer_statement(ST_DELETE_SESSION);
        sqlite3_bind_blob(drop, 1, s.token_hash, CHAT_TOKEN_HASH_SIZE, SQLITE_STATIC);
        ok = sqlite3_step(drop) == SQLITE_DONE;
    }
    if (!ok)
        log_error("cannot delete surplus sessions: %s", sqlite3_errmsg(S.writer_db));
    if (direct && ok && !step_control(ST_COMMIT))
        ok = false;
    if (direct && !sqlite3_get_autocommit(S.writer_db))
        step_control(ST_ROLLBACK);
    if (!ok)
        rc = SQLITE_ERROR;
    else if (refused)
        log_info("%zu session row(s) deleted at load", refused);
    return reader_finalize(st, rc);
}

/* ---- moderation --------------------------------------------------------------- */

bool store_is_admin(const char *name)
{
    sqlite3_stmt *st = reader_statement(RD_ADMIN);
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool admin = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    reader_done(st, rc);
    return admin;
}

enum store_result store_audit_read(int64_t before, int64_t limit, store_audit_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_statement(RD_AUDIT);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int64(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_audit a;
        a.id = sqlite3_column_int64(st, 0);
        a.ts = sqlite3_column_int64(st, 1);
        copy_text(a.actor, sizeof a.actor, sqlite3_column_text(st, 2));
        copy_text(a.action, sizeof a.action, sqlite3_column_text(st, 3));
        copy_text(a.target, sizeof a.target, sqlite3_column_text(st, 4));
        copy_text(a.detail, sizeof a.detail, sqlite3_column_text(st, 5));
        if (!fn(ctx, &a))
            break;
    }
    enum store_result r = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
    reader_done(st, SQLITE_ROW);
    return r;
}

enum store_result store_audit_add(const char *actor, const char *action, const char *target,
                                  const char *detail)
{
    struct store_session who = {0};
    struct store_message what = {0};
    snprintf(who.name, sizeof who.name, "%s", target);
    snprintf(what.body, sizeof what.body, "%s", detail ? detail : "");
    struct waiter w;
    return submit_and_wait(
        (struct job){
            .kind = JOB_AUDIT, .name = actor, .text = action, .session = &who, .message = &what},
        &w);
}

enum store_result store_mute(const char *actor, const char *action, const char *target,
                             int64_t until_ms, const char *detail)
{
    struct store_session who = {0};
    struct store_message what = {0};
    snprintf(who.name, sizeof who.name, "%s", target);
    snprintf(what.body, sizeof what.body, "%s", detail ? detail : "");
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_MUTE,
                                        .name = actor,
                                        .text = action,
                                        .session = &who,
                                        .message = &what,
                                        .value = until_ms},
                           &w);
}

enum store_result store_each_mute(int64_t now_ms_utc, store_mute_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_statement(RD_MUTES);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, now_ms_utc);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
    return reader_done(st, rc == SQLITE_DONE ? SQLITE_ROW : rc);
}

enum store_result store_ban(const char *actor, const char *action, const char *kind,
                            const char *value, bool set)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_BAN,
                                        .name = actor,
                                        .text = action,
                                        .ban_kind = kind,
                                        .target = value,
                                        .value = set},
                           &w);
}

enum store_result store_room_settings(const char *actor, int64_t room_id, const char *room,
                                      int read_only, const char *topic, const char *detail)
{
    struct waiter w;
    return submit_and_wait((struct job){.kind = JOB_ROOM_SETTINGS,
                                        .name = actor,
                                        .id = room_id,
                                        .value = read_only,
                                        .text = topic,
                                        .target = room,
                                        .detail = detail},
                           &w);
}

enum store_result store_each_room_settings(store_room_settings_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_prepare("SELECT id, read_only, topic FROM rooms"
                                      " WHERE read_only != 0 OR topic IS NOT NULL ORDER BY id");
    if (!st)
        return STORE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1) != 0,
           (const char *)sqlite3_column_text(st, 2));
    return reader_finalize(st, rc);
}

enum store_result store_is_banned(const char *kind, const char *value)
{
    sqlite3_stmt *st = reader_statement(RD_BANNED);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return reader_done(st, sqlite3_step(st));
}

enum store_result store_each_ban(const char *kind, store_ban_fn *fn, void *ctx)
{
    sqlite3_stmt *st = reader_statement(RD_BANS);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (!fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                (const char *)sqlite3_column_text(st, 2)))
            break;
    return reader_done(st, rc == SQLITE_DONE ? SQLITE_ROW : rc);
}

/* ---- the console (lanchat admin): its own connection, beside a running server */

/* An existing database (never made here), migrated like store_open's. */
static sqlite3 *console_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("cannot open the database %s: %s", path,
                  db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") != 0 || migrate(db) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

enum store_result store_console_set_admin(const char *path, const char *name, bool admin,
                                          char spelled[CHAT_NAME_MAX + 1])
{
    sqlite3 *db = console_open(path);
    if (!db)
        return STORE_ERROR;
    enum store_result r = STORE_ERROR;
    sqlite3_stmt *find = NULL, *set = NULL, *audit = NULL;
    if (exec(db, "BEGIN IMMEDIATE") != 0)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT name, admin FROM users WHERE name = ?1", -1, &find, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE users SET admin = ?2 WHERE name = ?1", -1, &set, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO audit (ts, actor, action, target, detail)"
                           " VALUES (?1, 'console', ?2, ?3, '')",
                           -1, &audit, NULL) != SQLITE_OK) {
        log_error("%s", sqlite3_errmsg(db));
        goto rollback;
    }
    sqlite3_bind_text(find, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(find);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
        goto rollback;
    }
    copy_text(spelled, CHAT_NAME_MAX + 1, sqlite3_column_text(find, 0));
    if ((sqlite3_column_int(find, 1) != 0) == admin) {
        r = STORE_DUPLICATE; /* already so: nothing written */
        goto rollback;
    }
    sqlite3_bind_text(set, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(set, 2, admin);
    sqlite3_bind_int64(audit, 1, now_ms());
    sqlite3_bind_text(audit, 2, admin ? "admin_add" : "admin_remove", -1, SQLITE_STATIC);
    sqlite3_bind_text(audit, 3, spelled, -1, SQLITE_STATIC);
    if (sqlite3_step(set) != SQLITE_DONE || sqlite3_step(audit) != SQLITE_DONE ||
        exec(db, "COMMIT") != 0) {
        log_error("cannot store the change: %s", sqlite3_errmsg(db));
        goto rollback;
    }
    r = STORE_OK;
    goto out;
rollback:
    exec(db, "ROLLBACK");
out:
    sqlite3_finalize(find);
    sqlite3_finalize(set);
    sqlite3_finalize(audit);
    sqlite3_close(db);
    return r;
}

enum store_result store_console_each_admin(const char *path,
                                           void (*fn)(void *ctx, const char *name), void *ctx)
{
    sqlite3 *db = console_open(path);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_ERROR;
    if (sqlite3_prepare_v2(db, "SELECT name FROM users WHERE admin != 0 ORDER BY name", -1, &st,
                           NULL) == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            fn(ctx, (const char *)sqlite3_column_text(st, 0));
    if (rc != SQLITE_DONE)
        log_error("cannot list the admins: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

enum store_result store_console_each_ban(const char *path,
                                         void (*fn)(void *ctx, const char *kind, const char *value),
                                         void *ctx)
{
    sqlite3 *db = console_open(path);
    if (!db)
        return STORE_ERROR;
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_ERROR;
    if (sqlite3_prepare_v2(db, "SELECT kind, value FROM bans ORDER BY kind, ts, value", -1, &st,
                           NULL) == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            fn(ctx, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1));
    if (rc != SQLITE_DONE)
        log_error("cannot list the bans: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/* ---- copies of the file (lanchat backup / restore) ---------------------- */

int store_schema_version(void)
{
    return SCHEMA_VERSION;
}

#if CHAT_WITH_BACKUPS
/* The single value of a one-row pragma, as text ("" when there is none). */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_text(out, cap, sqlite3_column_text(st, 0));
    /* integrity_check answers one row per problem: a second one is not ok */
    if (rc == SQLITE_ROW && sqlite3_step(st) == SQLITE_ROW)
        copy_text(out, cap, (const unsigned char *)"more than one problem");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* journal_mode=DELETE, then integrity_check: the copy is one file, and sound. */
static int settle_and_check(sqlite3 *db, const char *path)
{
    char answer[128];
    if (pragma_text(db, "PRAGMA journal_mode=DELETE", answer, sizeof answer) != 0 ||
        strcmp(answer, "delete") != 0) {
        log_error("%s: %s", path, answer[0] ? answer : sqlite3_errmsg(db));
        return -1;
    }
    if (pragma_text(db, "PRAGMA integrity_check", answer, sizeof answer) != 0) {
        log_error("%s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (strcmp(answer, "ok") != 0) {
        log_error("%s: integrity check failed: %s", path, answer);
        return -1;
    }
    return 0;
}

static int close_copy(sqlite3 *db, const char *path)
{
    if (sqlite3_close(db) != SQLITE_OK) {
        log_error("%s: cannot close: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* Tries a busy or locked step again this many times (the source's busy
 * timeout waits within each). */
#define BACKUP_RETRIES 20

const char *store_path(void)
{
    return S.path;
}

int store_backup(const char *src, const char *dst)
{
    sqlite3 *from = NULL, *to = NULL;
    /* READWRITE without CREATE: a missing database is an error, not a new one */
    if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("cannot open the database %s: %s", src,
                  from ? sqlite3_errmsg(from) : "out of memory");
        sqlite3_close(from);
        return -1;
    }
    sqlite3_busy_timeout(from, BUSY_TIMEOUT_MS);
    if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        log_error("cannot create %s: %s", dst, to ? sqlite3_errmsg(to) : "out of memory");
        sqlite3_close(to);
        sqlite3_close(from);
        return -1;
    }
    int rc = SQLITE_ERROR;
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (b) {
        /* every page in one step: one read transaction, one snapshot */
        for (int tries = 0; tries <= BACKUP_RETRIES; tries++) {
            rc = sqlite3_backup_step(b, -1);
            if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
                break;
        }
        sqlite3_backup_finish(b);
    }
    int ok = rc == SQLITE_DONE;
    if (!ok)
        log_error("cannot copy %s: %s", src,
                  sqlite3_errcode(to) != SQLITE_OK ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
    sqlite3_close(from);
    if (ok && settle_and_check(to, dst) != 0)
        ok = 0;
    if (close_copy(to, dst) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int store_check_copy(const char *path, int *version)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    char answer[128];
    int ok = settle_and_check(db, path) == 0;
    if (ok) {
        pragma_text(db,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                    "('rooms', 'messages', 'users', 'sessions', 'meta')",
                    answer, sizeof answer);
        if (strcmp(answer, "5") != 0) {
            log_error("%s is not a lanchat database (it lacks lanchat's tables)", path);
            ok = 0;
        }
    }
    if (ok) {
        pragma_text(db, "PRAGMA user_version", answer, sizeof answer);
        *version = atoi(answer);
        if (*version < 1 || *version > SCHEMA_VERSION) {
            log_error("%s has schema %d; this lanchat knows 1 to %d", path, *version,
                      SCHEMA_VERSION);
            ok = 0;
        }
    }
    if (close_copy(db, path) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

enum store_result store_quiesce(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? STORE_NOT_FOUND : STORE_ERROR;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        log_error("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return STORE_ERROR;
    }
    /* No busy timeout: a running server keeps a shared lock on the file as
     * long as it runs (WAL), so the exclusive lock fails at once. */
    char answer[32];
    enum store_result result = STORE_OK;
    if (pragma_text(db, "PRAGMA locking_mode=EXCLUSIVE", answer, sizeof answer) != 0 ||
        pragma_text(db, "PRAGMA journal_mode=DELETE", answer, sizeof answer) != 0) {
        int code = sqlite3_errcode(db);
        result = code == SQLITE_BUSY || code == SQLITE_LOCKED ? STORE_BUSY : STORE_ERROR;
        if (result == STORE_ERROR)
            log_error("%s: %s", path, sqlite3_errmsg(db));
    } else if (strcmp(answer, "delete") != 0) {
        log_error("%s: cannot leave WAL mode (%s)", path, answer);
        result = STORE_ERROR;
    }
    if (close_copy(db, path) != 0 && result == STORE_OK)
        result = STORE_ERROR;
    return result;
}
#endif
