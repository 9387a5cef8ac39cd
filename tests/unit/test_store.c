/*
 * test_store - the SQLite store against a real database file in a fresh
 * temporary directory: schema, messages (append, idempotent cid, reads,
 * delete, retention, search), rooms, users, sessions, hooks, statistics, reopening,
 * copies of the file (backup, checks, taking it off-line).
 * Every test gets its own directory and database, removed afterwards.
 */
#include "store.h"

#include "config.h"

#include <sqlite3.h>

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#define GENERAL 1 /* database id of the room "general" */

struct fixture {
    char dir[64];
    char path[96];
};

static struct {
    int added;
    int64_t added_id;
    int64_t added_room;
    char added_body[CHAT_MAX_BODY + 1];
    int deleted;
    int batches;
    int64_t deleted_room;
    int64_t deleted_id;
    char deleted_by[CHAT_NAME_MAX + 1];
} seen;

static void on_added(const struct store_message *m)
{
    seen.added++;
    seen.added_id = m->id;
    seen.added_room = m->room_id;
    snprintf(seen.added_body, sizeof seen.added_body, "%s", m->body);
}

static void on_deleted(int64_t room_id, int64_t id, const char *by)
{
    snprintf(seen.deleted_by, sizeof seen.deleted_by, "%s", by);
    seen.deleted++;
    seen.deleted_room = room_id;
    seen.deleted_id = id;
}

static void on_batch_done(void)
{
    seen.batches++;
}

static const struct store_hooks counting_hooks = {
    .message_added = on_added, .message_deleted = on_deleted, .batch_done = on_batch_done};

static int open_fresh_store(void **state)
{
    static struct fixture f;
    snprintf(f.dir, sizeof f.dir, "/tmp/lanchat-store-XXXXXX");
    if (!mkdtemp(f.dir))
        return -1;
    snprintf(f.path, sizeof f.path, "%s/chat.db", f.dir);
    memset(&seen, 0, sizeof seen);
    if (store_open(f.path, CHAT_SQLITE_HEAP_LIMIT, 0) != 0)
        return -1;
    if (store_start(&counting_hooks) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int close_and_remove_store(void **state)
{
    struct fixture *f = *state;
    store_close();
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[128];
        snprintf(file, sizeof file, "%s%s", f->path, suffixes[i]);
        unlink(file);
    }
    return rmdir(f->dir);
}

static void reopen(struct fixture *f, int64_t max_per_room)
{
    store_close();
    assert_int_equal(store_open(f->path, CHAT_SQLITE_HEAP_LIMIT, max_per_room), 0);
    assert_int_equal(store_start(&counting_hooks), 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct store_message draft(int64_t room, const char *author, const char *cid,
                                  const char *body)
{
    struct store_message m;
    memset(&m, 0, sizeof m);
    m.room_id = room;
    snprintf(m.author, sizeof m.author, "%s", author);
    snprintf(m.cid, sizeof m.cid, "%s", cid);
    snprintf(m.body, sizeof m.body, "%s", body);
    return m;
}

static int64_t post(int64_t room, const char *author, const char *body)
{
    struct store_message m = draft(room, author, "", body);
    assert_int_equal(store_append_message(&m), STORE_OK);
    return m.id;
}

struct room_list {
    int count;
    int64_t ids[8];
    char names[8][CHAT_NAME_MAX + 1];
};

static void collect_room(void *ctx, int64_t id, const char *name)
{
    struct room_list *list = ctx;
    if (list->count < 8) {
        list->ids[list->count] = id;
        snprintf(list->names[list->count], sizeof list->names[0], "%s", name);
    }
    list->count++;
}

struct session_list {
    int count;
    struct store_session rows[8];
};

static void collect_session(void *ctx, const struct store_session *s)
{
    struct session_list *list = ctx;
    if (list->count < 8)
        list->rows[list->count] = *s;
    list->count++;
}

/* ---- schema and rooms ---------------------------------------------------- */

static void test_new_database_has_only_the_room_general_with_id_1(void **state)
{
    struct room_list rooms = {0};
    assert_int_equal(store_each_room(collect_room, &rooms), STORE_OK);
    assert_int_equal(rooms.count, 1);
    assert_int_equal(rooms.ids[0], GENERAL);
    assert_string_equal(rooms.names[0], "general");
}

static void test_add_room_returns_the_next_id_and_lists_rooms_in_id_order(void **state)
{
    int64_t id = 0;
    assert_int_equal(store_add_room("random", true, &id), STORE_OK);
    assert_int_equal(id, 2);
    assert_int_equal(store_add_room("Dev.Ops", true, &id), STORE_OK);
    assert_int_equal(id, 3);

    struct room_list rooms = {0};
    assert_int_equal(store_each_room(collect_room, &rooms), STORE_OK);
    assert_int_equal(rooms.count, 3);
    assert_string_equal(rooms.names[0], "general");
    assert_int_equal(rooms.ids[1], 2);
    assert_string_equal(rooms.names[1], "random");
    assert_int_equal(rooms.ids[2], 3);
    assert_string_equal(rooms.names[2], "Dev.Ops");
}

static void test_add_room_with_an_existing_name_in_any_case_is_a_duplicate(void **state)
{
    int64_t id = -5;
    assert_int_equal(store_add_room("GENERAL", true, &id), STORE_DUPLICATE);
    assert_int_equal(id, -5);
    assert_int_equal(store_add_room("random", true, &id), STORE_OK);
    assert_int_equal(store_add_room("Random", true, &id), STORE_DUPLICATE);

    struct room_list rooms = {0};
    assert_int_equal(store_each_room(collect_room, &rooms), STORE_OK);
    assert_int_equal(rooms.count, 2);
}

static void test_reopening_keeps_the_data_and_does_not_migrate_again(void **state)
{
    int64_t room = 0;
    assert_int_equal(store_add_room("kept", true, &room), STORE_OK);
    int64_t id = post(room, "alice", "still here");
    reopen(*state, 0);

    struct room_list rooms = {0};
    assert_int_equal(store_each_room(collect_room, &rooms), STORE_OK);
    assert_int_equal(rooms.count, 2);
    assert_string_equal(rooms.names[0], "general");
    assert_string_equal(rooms.names[1], "kept");

    struct store_message m;
    assert_int_equal(store_get_message(id, &m), STORE_OK);
    assert_string_equal(m.body, "still here");
    assert_int_equal(m.room_id, room);
    /* ids keep counting up after a restart */
    assert_int_equal(post(GENERAL, "alice", "after restart"), id + 1);
}

static void test_open_refuses_a_database_from_a_newer_lanchat(void **state)
{
    struct fixture *f = *state;
    store_close();
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int current = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    assert_true(current >= 1);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", current + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(f->path, CHAT_SQLITE_HEAP_LIMIT, 0), -1);

    /* put the version back: the same file opens again */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", current);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    reopen(f, 0);
    struct room_list rooms = {0};
    assert_int_equal(store_each_room(collect_room, &rooms), STORE_OK);
    assert_int_equal(rooms.count, 1);
}

static void test_open_makes_a_missing_directory_of_the_database(void **state)
{
    struct fixture *f = *state;
    store_close();
    char dir[160], path[192];
    snprintf(dir, sizeof dir, "%s/missing", f->dir);
    snprintf(path, sizeof path, "%s/chat.db", dir);
    assert_int_equal(store_open(path, CHAT_SQLITE_HEAP_LIMIT, 0), 0);
    store_close();
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    reopen(f, 0);
}

static void test_open_fails_when_the_directory_cannot_be_made(void **state)
{
    struct fixture *f = *state;
    store_close();
    char file[160], path[192];
    snprintf(file, sizeof file, "%s/file", f->dir);
    FILE *blocker = fopen(file, "w");
    assert_non_null(blocker);
    fclose(blocker);
    snprintf(path, sizeof path, "%s/sub/chat.db", file);
    assert_int_equal(store_open(path, CHAT_SQLITE_HEAP_LIMIT, 0), -1);
    unlink(file);
    reopen(f, 0);
}

/* ---- appending and reading messages ---------------------------------------- */

static void test_append_assigns_an_id_and_a_timestamp_of_now(void **state)
{
    struct store_message m = draft(GENERAL, "alice", "", "hello");
    int64_t before = now_ms();
    assert_int_equal(store_append_message(&m), STORE_OK);
    int64_t after = now_ms();
    assert_int_equal(m.id, 1);
    assert_in_range(m.ts, before, after);

    struct store_message again = draft(GENERAL, "bob", "", "hi");
    assert_int_equal(store_append_message(&again), STORE_OK);
    assert_int_equal(again.id, 2);
}

static void test_get_message_returns_every_field_as_stored(void **state)
{
    struct store_message m = draft(GENERAL, "alice", "c-1:x", "caf\xC3\xA9 \"quoted\"\n\ttab");
    assert_int_equal(store_append_message(&m), STORE_OK);

    struct store_message out;
    memset(&out, 0x55, sizeof out);
    assert_int_equal(store_get_message(m.id, &out), STORE_OK);
    assert_int_equal(out.id, m.id);
    assert_int_equal(out.room_id, GENERAL);
    assert_int_equal(out.ts, m.ts);
    assert_string_equal(out.author, "alice");
    assert_string_equal(out.cid, "c-1:x");
    assert_string_equal(out.body, "caf\xC3\xA9 \"quoted\"\n\ttab");
}

static void test_message_without_cid_reads_back_with_an_empty_cid(void **state)
{
    int64_t id = post(GENERAL, "alice", "no cid");
    struct store_message out;
    memset(&out, 0x55, sizeof out);
    assert_int_equal(store_get_message(id, &out), STORE_OK);
    assert_string_equal(out.cid, "");
}

static void test_body_of_the_largest_size_round_trips(void **state)
{
    static struct store_message m, out;
    memset(&m, 0, sizeof m);
    m.room_id = GENERAL;
    snprintf(m.author, sizeof m.author, "alice");
    memset(m.body, 'z', CHAT_MAX_BODY);
    m.body[CHAT_MAX_BODY - 1] = '!';
    assert_int_equal(store_append_message(&m), STORE_OK);
    assert_int_equal(store_get_message(m.id, &out), STORE_OK);
    assert_int_equal(strlen(out.body), CHAT_MAX_BODY);
    assert_memory_equal(out.body, m.body, CHAT_MAX_BODY + 1);
}

static void test_get_message_of_an_unknown_id_is_not_found(void **state)
{
    struct store_message out;
    assert_int_equal(store_get_message(12345, &out), STORE_NOT_FOUND);
}

static void test_append_with_a_used_cid_returns_the_original_message(void **state)
{
    struct store_message first = draft(GENERAL, "alice", "abc", "first text");
    assert_int_equal(store_append_message(&first), STORE_OK);
    post(GENERAL, "bob", "in between");

    struct store_message repeat = draft(GENERAL, "alice", "abc", "second text");
    assert_int_equal(store_append_message(&repeat), STORE_DUPLICATE);
    assert_int_equal(repeat.id, first.id);
    assert_int_equal(repeat.ts, first.ts);
    assert_int_equal(repeat.room_id, GENERAL);
    assert_string_equal(repeat.body, "first text");

    /* nothing new was stored */
    int64_t newest = 0;
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 0, &newest), STORE_OK);
    assert_int_equal(newest, first.id + 1);
}

static void test_same_cid_from_another_author_is_a_new_message(void **state)
{
    struct store_message a = draft(GENERAL, "alice", "same", "from alice");
    struct store_message b = draft(GENERAL, "bob", "same", "from bob");
    assert_int_equal(store_append_message(&a), STORE_OK);
    assert_int_equal(store_append_message(&b), STORE_OK);
    assert_int_equal(b.id, a.id + 1);
    assert_string_equal(b.body, "from bob");
}

static void test_messages_without_cid_are_never_duplicates(void **state)
{
    int64_t a = post(GENERAL, "alice", "same text");
    int64_t b = post(GENERAL, "alice", "same text");
    assert_int_equal(b, a + 1);
}

static void test_append_to_a_room_that_does_not_exist_fails_alone(void **state)
{
    struct store_message bad = draft(99, "alice", "", "nowhere");
    assert_int_equal(store_append_message(&bad), STORE_ERROR);
    assert_int_equal(seen.added, 0);
    /* the writer carries on */
    int64_t id = post(GENERAL, "alice", "somewhere");
    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_OK);
    assert_string_equal(out.body, "somewhere");
}

/* Collects what store_history hands over; refuses rows past `take`. */
struct rows {
    int64_t ids[16];
    char bodies[16][8];
    int count, take;
};

static bool collect_row(void *ctx, const struct store_message *m)
{
    struct rows *r = ctx;
    if (r->count >= r->take)
        return false;
    r->ids[r->count] = m->id;
    snprintf(r->bodies[r->count], sizeof r->bodies[0], "%.7s", m->body);
    r->count++;
    return true;
}

static struct rows history(int64_t room, int64_t after, int64_t below, int64_t limit, int take)
{
    struct rows r = {.take = take};
    assert_int_equal(store_history(room, after, below, limit, collect_row, &r), STORE_OK);
    return r;
}

static void test_history_gives_the_room_between_after_and_below_in_id_order(void **state)
{
    int64_t other = 0;
    assert_int_equal(store_add_room("other", true, &other), STORE_OK);
    int64_t g1 = post(GENERAL, "a", "g1");
    int64_t o1 = post(other, "a", "o1");
    int64_t g2 = post(GENERAL, "a", "g2");
    int64_t g3 = post(GENERAL, "a", "g3");

    struct rows r = history(GENERAL, 0, INT64_MAX, 10, 16);
    assert_int_equal(r.count, 3); /* o1 belongs to the other room */
    assert_int_equal(r.ids[0], g1);
    assert_int_equal(r.ids[1], g2);
    assert_int_equal(r.ids[2], g3);
    assert_string_equal(r.bodies[1], "g2");
    r = history(GENERAL, g1, g3, 10, 16); /* both bounds exclusive */
    assert_int_equal(r.count, 1);
    assert_int_equal(r.ids[0], g2);
    assert_int_equal(history(GENERAL, g3, INT64_MAX, 10, 16).count, 0);
    r = history(other, 0, INT64_MAX, 10, 16);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.ids[0], o1);
}

static void test_history_stops_at_its_limit_and_where_the_callback_refuses(void **state)
{
    int64_t ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = post(GENERAL, "a", "m");
    struct rows r = history(GENERAL, 0, INT64_MAX, 2, 16);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.ids[1], ids[1]);
    r = history(GENERAL, ids[1], INT64_MAX, 10, 2); /* refuses the third row */
    assert_int_equal(r.count, 2);
    assert_int_equal(r.ids[0], ids[2]);
    assert_int_equal(r.ids[1], ids[3]);
    /* the refused row is still there for the next call */
    r = history(GENERAL, r.ids[1], INT64_MAX, 10, 16);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.ids[0], ids[4]);
}

static void test_newest_id_skips_the_newest_messages_below_a_bound(void **state)
{
    int64_t other = 0;
    assert_int_equal(store_add_room("other", true, &other), STORE_OK);
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        ids[i] = post(GENERAL, "a", "m");
        post(other, "a", "noise");
    }
    int64_t id = 0;
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 0, &id), STORE_OK);
    assert_int_equal(id, ids[4]);
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 2, &id), STORE_OK);
    assert_int_equal(id, ids[2]);
    assert_int_equal(store_newest_id(GENERAL, ids[3], 0, &id), STORE_OK); /* below is exclusive */
    assert_int_equal(id, ids[2]);
    assert_int_equal(store_newest_id(GENERAL, ids[3], 2, &id), STORE_OK);
    assert_int_equal(id, ids[0]);

    id = -7;
    assert_int_equal(store_newest_id(GENERAL, ids[3], 3, &id), STORE_NOT_FOUND);
    assert_int_equal(store_newest_id(GENERAL, ids[0], 0, &id), STORE_NOT_FOUND);
    assert_int_equal(id, -7);
}

static void test_newest_id_of_an_empty_room_is_not_found(void **state)
{
    int64_t id = -7;
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 0, &id), STORE_NOT_FOUND);
    assert_int_equal(id, -7);
}

/* ---- deleting messages ---------------------------------------------------- */

static void test_author_deletes_own_message_and_learns_its_room(void **state)
{
    int64_t room = 0;
    assert_int_equal(store_add_room("side", true, &room), STORE_OK);
    int64_t id = post(room, "alice", "oops");
    int64_t room_of_deleted = 0;
    assert_int_equal(store_delete_message(id, "alice", false, &room_of_deleted), STORE_OK);
    assert_int_equal(room_of_deleted, room);

    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_NOT_FOUND);
    assert_int_equal(store_delete_message(id, "alice", false, NULL), STORE_NOT_FOUND);
}

static void test_delete_of_someone_elses_message_is_forbidden_and_keeps_it(void **state)
{
    int64_t id = post(GENERAL, "alice", "mine");
    assert_int_equal(store_delete_message(id, "mallory", false, NULL), STORE_FORBIDDEN);
    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_OK);
    assert_int_equal(seen.deleted, 0);
}

struct audit_seen {
    int rows;
    struct store_audit first;
};

static bool count_audit(void *ctx, const struct store_audit *row)
{
    struct audit_seen *a = ctx;
    if (a->rows++ == 0)
        a->first = *row;
    return true;
}

static void test_a_moderators_delete_of_anyones_message_is_audited(void **state)
{
    int64_t id = post(GENERAL, "alice", "spam");
    assert_int_equal(store_delete_message(id, "ada", true, NULL), STORE_OK);
    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_NOT_FOUND);
    assert_int_equal(seen.deleted, 1);
    assert_string_equal(seen.deleted_by, "ada");
    struct audit_seen a = {0};
    assert_int_equal(store_audit_read(0, 10, count_audit, &a), STORE_OK);
    assert_int_equal(a.rows, 1);
    assert_string_equal(a.first.actor, "ada");
    assert_string_equal(a.first.action, "delete");
    assert_string_equal(a.first.target, "alice");
    /* a moderator's delete of their own message is no audit matter */
    id = post(GENERAL, "ada", "mine");
    assert_int_equal(store_delete_message(id, "ada", true, NULL), STORE_OK);
    a.rows = 0;
    assert_int_equal(store_audit_read(0, 10, count_audit, &a), STORE_OK);
    assert_int_equal(a.rows, 1);
}

static void test_author_deletes_own_message_whatever_the_case_of_the_name(void **state)
{
    /* docs/API.md: names compare without regard to case; only someone else
     * gets 403. "Alice" and "alice" are the same user. */
    int64_t id = post(GENERAL, "Alice", "mine");
    assert_int_equal(store_delete_message(id, "alice", false, NULL), STORE_OK);
    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_NOT_FOUND);
}

static void test_delete_of_an_unknown_message_is_not_found(void **state)
{
    assert_int_equal(store_delete_message(777, "alice", false, NULL), STORE_NOT_FOUND);
}

static void test_deleting_frees_the_cid_of_the_message(void **state)
{
    struct store_message m = draft(GENERAL, "alice", "k1", "first");
    assert_int_equal(store_append_message(&m), STORE_OK);
    assert_int_equal(store_delete_message(m.id, "alice", false, NULL), STORE_OK);
    struct store_message again = draft(GENERAL, "alice", "k1", "second");
    assert_int_equal(store_append_message(&again), STORE_OK);
    assert_int_equal(again.id, m.id + 1);
}

/* ---- hooks ------------------------------------------------------------------ */

static void test_message_added_hook_has_run_when_append_returns(void **state)
{
    int64_t id = post(GENERAL, "alice", "hooked");
    assert_int_equal(seen.added, 1);
    assert_int_equal(seen.added_id, id);
    assert_int_equal(seen.added_room, GENERAL);
    assert_string_equal(seen.added_body, "hooked");
}

static void test_hook_is_not_called_for_a_duplicate(void **state)
{
    struct store_message m = draft(GENERAL, "alice", "once", "x");
    assert_int_equal(store_append_message(&m), STORE_OK);
    struct store_message repeat = draft(GENERAL, "alice", "once", "x");
    assert_int_equal(store_append_message(&repeat), STORE_DUPLICATE);
    assert_int_equal(seen.added, 1);
}

static void test_message_deleted_hook_gets_the_room_and_id(void **state)
{
    int64_t room = 0;
    assert_int_equal(store_add_room("side", true, &room), STORE_OK);
    int64_t id = post(room, "alice", "to delete");
    assert_int_equal(store_delete_message(id, "alice", false, NULL), STORE_OK);
    assert_int_equal(seen.deleted, 1);
    assert_int_equal(seen.deleted_room, room);
    assert_int_equal(seen.deleted_id, id);
}

static void test_writer_without_hooks_still_commits(void **state)
{
    struct store_hooks none = {0};
    store_close();
    struct fixture *f = *state;
    assert_int_equal(store_open(f->path, CHAT_SQLITE_HEAP_LIMIT, 0), 0);
    assert_int_equal(store_start(&none), 0);
    int64_t id = post(GENERAL, "alice", "quiet");
    assert_int_equal(seen.added, 0);
    struct store_message out;
    assert_int_equal(store_get_message(id, &out), STORE_OK);
}

/* ---- retention ---------------------------------------------------------------- */

static void test_retention_keeps_the_newest_messages_of_each_room(void **state)
{
    reopen(*state, 3);
    int64_t other = 0;
    assert_int_equal(store_add_room("other", true, &other), STORE_OK);
    int64_t o1 = post(other, "a", "o1");
    int64_t o2 = post(other, "a", "o2");
    int64_t g[5];
    for (int i = 0; i < 5; i++)
        g[i] = post(GENERAL, "a", "g");

    struct store_message out;
    assert_int_equal(store_get_message(g[0], &out), STORE_NOT_FOUND);
    assert_int_equal(store_get_message(g[1], &out), STORE_NOT_FOUND);
    for (int i = 2; i < 5; i++)
        assert_int_equal(store_get_message(g[i], &out), STORE_OK);
    assert_int_equal(store_get_message(o1, &out), STORE_OK);
    assert_int_equal(store_get_message(o2, &out), STORE_OK);

    int64_t id = 0;
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 2, &id), STORE_OK);
    assert_int_equal(id, g[2]);
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 3, &id), STORE_NOT_FOUND);
}

static void test_zero_retention_keeps_every_message(void **state)
{
    int64_t first = post(GENERAL, "a", "first");
    for (int i = 0; i < 20; i++)
        post(GENERAL, "a", "more");
    struct store_message out;
    assert_int_equal(store_get_message(first, &out), STORE_OK);
}

/* ---- search ------------------------------------------------------------------ */

#if CHAT_WITH_SEARCH
struct hits {
    int64_t ids[16];
    char rooms[16][CHAT_NAME_MAX + 1];
    int count;
};

static bool collect_hit(void *ctx, const struct store_message *m, const char *room)
{
    struct hits *h = ctx;
    if (h->count >= 16)
        return false;
    h->ids[h->count] = m->id;
    snprintf(h->rooms[h->count], sizeof h->rooms[0], "%s", room);
    h->count++;
    return true;
}

static struct hits search(const char *q, int64_t room, int64_t below, int64_t limit)
{
    struct hits h = {.count = 0};
    char why[128];
    assert_int_equal(store_search(q, room, "", below, limit, collect_hit, &h, why, sizeof why),
                     STORE_OK);
    return h;
}

static void test_search_gives_matches_newest_first_with_their_room(void **state)
{
    (void)state;
    int64_t other = 0;
    assert_int_equal(store_add_room("other", true, &other), STORE_OK);
    int64_t a = post(GENERAL, "a", "the quick brown fox");
    post(GENERAL, "a", "a lazy dog");
    int64_t b = post(other, "a", "Quick thinking");
    int64_t c = post(GENERAL, "a", "quickly now");
    struct hits h = search("quick", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.ids[0], b);
    assert_string_equal(h.rooms[0], "other");
    assert_int_equal(h.ids[1], a);
    assert_string_equal(h.rooms[1], "general");
    h = search("quick*", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.ids[0], c);
    h = search("quick*", GENERAL, INT64_MAX, 10);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.ids[0], c);
    assert_int_equal(h.ids[1], a);
    h = search("quick*", 0, c, 1);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.ids[0], b);
}

static void test_search_never_finds_deleted_or_trimmed_messages(void **state)
{
    int64_t gone = post(GENERAL, "a", "needle one");
    int64_t kept = post(GENERAL, "a", "needle two");
    assert_int_equal(store_delete_message(gone, "a", false, NULL), STORE_OK);
    struct hits h = search("needle", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.ids[0], kept);

    reopen(*state, 2);
    int64_t last[2];
    last[0] = post(GENERAL, "a", "needle three");
    last[1] = post(GENERAL, "a", "needle four");
    h = search("needle", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 2);
    assert_int_equal(h.ids[0], last[1]);
    assert_int_equal(h.ids[1], last[0]);
}

static void test_search_finds_mirrored_messages_until_their_origin_deletes_them(void **state)
{
    (void)state;
    struct store_message m = draft(GENERAL, "bob", "", "mirrored hello");
    snprintf(m.node, sizeof m.node, "%s", "kitchen");
    m.origin_id = 42;
    assert_int_equal(store_append_message(&m), STORE_OK);
    struct hits h = search("mirrored", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.ids[0], m.id);
    int64_t room = 0, id = 0;
    assert_int_equal(store_delete_mirrored("kitchen", 42, &room, &id), STORE_OK);
    h = search("mirrored", 0, INT64_MAX, 10);
    assert_int_equal(h.count, 0);
}

static void test_search_with_a_query_sqlite_refuses_is_invalid_with_a_reason(void **state)
{
    (void)state;
    post(GENERAL, "a", "text");
    const char *bad[] = {"\"", "AND", "(text", "nosuchcolumn: text"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hits h = {.count = 0};
        char why[128] = "";
        assert_int_equal(
            store_search(bad[i], 0, "", INT64_MAX, 10, collect_hit, &h, why, sizeof why),
            STORE_INVALID);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(search("text", 0, INT64_MAX, 10).count, 1);
}
#endif

/* ---- users ------------------------------------------------------------------ */

static void test_user_password_hash_is_found_by_name_in_any_case(void **state)
{
    assert_int_equal(store_add_user("Alice", "$argon2id$v=19$fake"), STORE_OK);
    char hash[128];
    assert_int_equal(store_get_password_hash("Alice", hash, sizeof hash), STORE_OK);
    assert_string_equal(hash, "$argon2id$v=19$fake");
    memset(hash, 0, sizeof hash);
    assert_int_equal(store_get_password_hash("aLICE", hash, sizeof hash), STORE_OK);
    assert_string_equal(hash, "$argon2id$v=19$fake");
}

static void test_adding_a_user_twice_in_any_case_is_a_duplicate(void **state)
{
    assert_int_equal(store_add_user("bob", "h1"), STORE_OK);
    assert_int_equal(store_add_user("BOB", "h2"), STORE_DUPLICATE);
    char hash[16];
    assert_int_equal(store_get_password_hash("bob", hash, sizeof hash), STORE_OK);
    assert_string_equal(hash, "h1");
}

static void test_password_hash_of_an_unknown_user_is_not_found(void **state)
{
    char hash[16] = "untouched";
    assert_int_equal(store_get_password_hash("nobody", hash, sizeof hash), STORE_NOT_FOUND);
    assert_string_equal(hash, "untouched");
}

/* ---- sessions --------------------------------------------------------------- */

static struct store_session session_row(unsigned char seed, const char *name, bool registered)
{
    struct store_session s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 32; i++)
        s.token_hash[i] = (unsigned char)(seed + i);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.registered = registered;
    s.created = 1700000000;
    s.last_seen = 1700000100;
    return s;
}

static void test_sessions_are_stored_and_listed_with_every_field(void **state)
{
    struct store_session a = session_row(1, "alice", true);
    struct store_session b = session_row(100, "bob", false);
    b.token_hash[0] = 0; /* a hash may hold NUL bytes */
    assert_int_equal(store_add_session(&a), STORE_OK);
    assert_int_equal(store_add_session(&b), STORE_OK);

    struct session_list list = {0};
    assert_int_equal(store_each_session(collect_session, &list), STORE_OK);
    assert_int_equal(list.count, 2);
    const struct store_session *ra =
        strcmp(list.rows[0].name, "alice") == 0 ? &list.rows[0] : &list.rows[1];
    const struct store_session *rb = ra == &list.rows[0] ? &list.rows[1] : &list.rows[0];
    assert_memory_equal(ra->token_hash, a.token_hash, 32);
    assert_string_equal(ra->name, "alice");
    assert_true(ra->registered);
    assert_int_equal(ra->created, 1700000000);
    assert_int_equal(ra->last_seen, 1700000100);
    assert_memory_equal(rb->token_hash, b.token_hash, 32);
    assert_string_equal(rb->name, "bob");
    assert_false(rb->registered);
}

static void test_adding_the_same_token_hash_twice_is_a_duplicate(void **state)
{
    struct store_session a = session_row(7, "alice", false);
    assert_int_equal(store_add_session(&a), STORE_OK);
    struct store_session again = session_row(7, "mallory", false);
    assert_int_equal(store_add_session(&again), STORE_DUPLICATE);
}

static void test_touch_session_updates_last_seen_only(void **state)
{
    struct store_session a = session_row(9, "alice", false);
    assert_int_equal(store_add_session(&a), STORE_OK);
    assert_int_equal(store_touch_session(a.token_hash, 1800000000), STORE_OK);

    struct session_list list = {0};
    assert_int_equal(store_each_session(collect_session, &list), STORE_OK);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.rows[0].last_seen, 1800000000);
    assert_int_equal(list.rows[0].created, 1700000000);
}

static void test_touch_or_drop_of_an_unknown_session_is_not_found(void **state)
{
    struct store_session ghost = session_row(42, "ghost", false);
    assert_int_equal(store_touch_session(ghost.token_hash, 1), STORE_NOT_FOUND);
    assert_int_equal(store_drop_session(ghost.token_hash), STORE_NOT_FOUND);
}

static void test_drop_session_removes_only_that_session(void **state)
{
    struct store_session a = session_row(1, "alice", false);
    struct store_session b = session_row(2, "bob", false);
    assert_int_equal(store_add_session(&a), STORE_OK);
    assert_int_equal(store_add_session(&b), STORE_OK);
    assert_int_equal(store_drop_session(a.token_hash), STORE_OK);

    struct session_list list = {0};
    assert_int_equal(store_each_session(collect_session, &list), STORE_OK);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.rows[0].name, "bob");
    assert_int_equal(store_drop_session(a.token_hash), STORE_NOT_FOUND);
}

static void test_sessions_survive_reopening(void **state)
{
    struct store_session a = session_row(3, "alice", true);
    assert_int_equal(store_add_session(&a), STORE_OK);
    reopen(*state, 0);
    struct session_list list = {0};
    assert_int_equal(store_each_session(collect_session, &list), STORE_OK);
    assert_int_equal(list.count, 1);
    assert_memory_equal(list.rows[0].token_hash, a.token_hash, 32);
}

/* ---- writer state, health, statistics -------------------------------------- */

static void test_check_writable_succeeds_on_a_healthy_database(void **state)
{
    assert_int_equal(store_check_writable(), STORE_OK);
    assert_int_equal(store_check_writable(), STORE_OK);
}

static void test_writes_are_refused_busy_when_the_writer_is_not_running(void **state)
{
    struct fixture *f = *state;
    store_close();
    assert_int_equal(store_open(f->path, CHAT_SQLITE_HEAP_LIMIT, 0), 0);
    struct store_message m = draft(GENERAL, "alice", "", "too early");
    assert_int_equal(store_append_message(&m), STORE_BUSY);
    assert_int_equal(store_check_writable(), STORE_BUSY);
    /* reads work without the writer */
    int64_t id = 0;
    assert_int_equal(store_newest_id(GENERAL, INT64_MAX, 0, &id), STORE_NOT_FOUND);
    assert_int_equal(store_start(&counting_hooks), 0);
    assert_int_equal(store_append_message(&m), STORE_OK);
}

/* Asynchronous appends: done() runs on the writer once the commit is decided. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int done;
    int hooks_seen_at_done; /* message_added calls seen by the first done() */
} handed_back = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1};

static void async_done(struct store_job *job)
{
    pthread_mutex_lock(&handed_back.lock);
    if (handed_back.hooks_seen_at_done < 0)
        handed_back.hooks_seen_at_done = seen.added;
    handed_back.done++;
    job->owner = job; /* marks this job as handed back */
    pthread_cond_broadcast(&handed_back.changed);
    pthread_mutex_unlock(&handed_back.lock);
}

static void wait_handed_back(int n)
{
    pthread_mutex_lock(&handed_back.lock);
    while (handed_back.done < n)
        pthread_cond_wait(&handed_back.changed, &handed_back.lock);
    pthread_mutex_unlock(&handed_back.lock);
}

static void test_async_appends_are_handed_back_after_their_commit_in_order(void **state)
{
    static struct store_job jobs[8];
    handed_back.done = 0;
    handed_back.hooks_seen_at_done = -1;
    for (int i = 0; i < 8; i++) {
        jobs[i] = (struct store_job){.done = async_done};
        jobs[i].message = draft(GENERAL, "alice", "", "async");
        snprintf(jobs[i].message.cid, sizeof jobs[i].message.cid, "as-%d", i);
        assert_int_equal(store_append_async(&jobs[i]), STORE_OK);
    }
    wait_handed_back(8);
    for (int i = 0; i < 8; i++) {
        assert_ptr_equal(jobs[i].owner, &jobs[i]);
        assert_int_equal(jobs[i].result, STORE_OK);
        assert_true(jobs[i].message.ts > 0);
        if (i)
            assert_true(jobs[i].message.id > jobs[i - 1].message.id);
        struct store_message out;
        assert_int_equal(store_get_message(jobs[i].message.id, &out), STORE_OK); /* durable */
    }
    assert_true(handed_back.hooks_seen_at_done >= 1);   /* fan-out ran before the hand-back */
    assert_int_equal(store_check_writable(), STORE_OK); /* after every earlier batch_done */
    assert_true(seen.batches >= 1);

    /* a repeated cid is handed back as STORE_DUPLICATE with the original */
    static struct store_job again;
    again = (struct store_job){.done = async_done, .message = jobs[3].message};
    again.message.id = 0;
    assert_int_equal(store_append_async(&again), STORE_OK);
    wait_handed_back(9);
    assert_int_equal(again.result, STORE_DUPLICATE);
    assert_int_equal(again.message.id, jobs[3].message.id);
}

static void test_async_append_is_busy_without_the_writer_and_never_handed_back(void **state)
{
    struct fixture *f = *state;
    store_close();
    assert_int_equal(store_open(f->path, CHAT_SQLITE_HEAP_LIMIT, 0), 0);
    static struct store_job job;
    job = (struct store_job){.done = async_done};
    job.message = draft(GENERAL, "alice", "", "nobody writes");
    handed_back.done = 0;
    assert_int_equal(store_append_async(&job), STORE_BUSY);
    assert_int_equal(store_start(&counting_hooks), 0);
    assert_int_equal(store_check_writable(), STORE_OK); /* a full batch later */
    assert_int_equal(handed_back.done, 0);
    assert_null(job.owner);
}

static void test_stats_count_commits_and_committed_messages(void **state)
{
    struct store_stats before, after;
    store_get_stats(&before);
    post(GENERAL, "alice", "one");
    struct store_message m = draft(GENERAL, "alice", "dup", "two");
    assert_int_equal(store_append_message(&m), STORE_OK);
    assert_int_equal(store_append_message(&m), STORE_DUPLICATE);
    assert_int_equal(store_check_writable(), STORE_OK);
    store_get_stats(&after);
    assert_int_equal(after.commits - before.commits, 4);
    assert_int_equal(after.committed_messages - before.committed_messages, 2);
    assert_true(after.commit_ns_total > before.commit_ns_total);
    assert_true(after.commit_ns_max > 0);
    assert_true(after.commit_ns_max <= after.commit_ns_total);
}

#define WRITERS 8
#define EACH 25

static void *write_many(void *arg)
{
    const char *author = arg;
    uintptr_t failures = 0;
    for (int i = 0; i < EACH; i++) {
        struct store_message m = draft(GENERAL, author, "", "concurrent");
        snprintf(m.cid, sizeof m.cid, "c%d", i);
        if (store_append_message(&m) != STORE_OK)
            failures++;
    }
    return (void *)failures;
}

/* WRITERS threads, one an author, each appending EACH messages; none fails. */
static void write_at_once(const char *const authors[WRITERS])
{
    pthread_t threads[WRITERS];
    for (int t = 0; t < WRITERS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, write_many, (void *)authors[t]), 0);
    for (int t = 0; t < WRITERS; t++) {
        void *failures;
        pthread_join(threads[t], &failures);
        assert_int_equal((uintptr_t)failures, 0);
    }
}

static void test_concurrent_appends_all_commit_with_distinct_ids(void **state)
{
    static const char *authors[WRITERS] = {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"};
    struct store_stats before, after;
    store_get_stats(&before);
    write_at_once(authors);
    store_get_stats(&after);
    assert_int_equal(after.committed_messages - before.committed_messages, WRITERS * EACH);
    assert_int_equal(seen.added, WRITERS * EACH);

    /* ids 1..200 all exist, each exactly once, in the room */
    int64_t after_id = 0;
    int count = 0;
    for (struct rows r; (r = history(GENERAL, after_id, INT64_MAX, 16, 16)).count > 0;) {
        for (int i = 0; i < r.count; i++) {
            assert_int_equal(r.ids[i], after_id + 1);
            after_id = r.ids[i];
            count++;
        }
    }
    assert_int_equal(count, WRITERS * EACH);
}

/* The writer indexes a batch's messages once, before its COMMIT (schema
 * step 9), and before a trim or delete in it: many writers at once make
 * batches of many messages with retention trims inside them, then a
 * deletion; the FTS5 index must hold exactly the rows left (its
 * integrity-check against the content table, from another connection). */
static void test_the_search_index_keeps_in_step_with_batches_trims_and_deletes(void **state)
{
    struct fixture *f = *state;
    reopen(f, 3); /* fewer than a batch of the writers below holds: trims of its own rows */
    static const char *authors[WRITERS] = {"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7"};
    write_at_once(authors);
    struct rows r = history(GENERAL, 0, INT64_MAX, 16, 16);
    assert_int_equal(r.count, 3);
    assert_int_equal(store_delete_message(r.ids[0], authors[0], true, NULL), STORE_OK);
    int64_t last = post(GENERAL, "i0", "concurrent after");

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(
        db, "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)", NULL,
        NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("integrity-check: %s", err ? err : sqlite3_errstr(rc));
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), max(rowid) FROM messages_fts"
                                        " WHERE messages_fts MATCH 'concurrent'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 3); /* 2 of the writers' left, the last */
    assert_int_equal(sqlite3_column_int64(st, 1), last);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- copies of the file (backup, restore) ------------------------------- */

#if CHAT_WITH_BACKUPS
static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void test_backup_of_an_open_store_is_a_checked_single_file_copy(void **state)
{
    struct fixture *f = *state;
    int64_t id = post(GENERAL, "alice", "in the copy");
    char copy[128], wal[136];
    snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
    snprintf(wal, sizeof wal, "%s-wal", copy);
    assert_int_equal(store_backup(f->path, copy), 0);
    assert_false(file_exists(wal));
    int version = 0;
    assert_int_equal(store_check_copy(copy, &version), 0);
    assert_int_equal(version, store_schema_version());
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT body FROM messages WHERE id = ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "in the copy");
    sqlite3_finalize(st);
    sqlite3_close(db);
    unlink(copy);
}

static void test_quiesce_is_busy_while_the_store_holds_the_database(void **state)
{
    struct fixture *f = *state;
    post(GENERAL, "alice", "held");
    assert_int_equal(store_quiesce(f->path), STORE_BUSY);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none.db", f->dir);
    assert_int_equal(store_quiesce(missing), STORE_NOT_FOUND);
    assert_false(file_exists(missing));
}

static void test_quiesce_of_a_closed_database_leaves_one_file_the_store_reopens(void **state)
{
    struct fixture *f = *state;
    int64_t id = post(GENERAL, "alice", "folded");
    store_close();
    char wal[128];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(store_quiesce(f->path), STORE_OK);
    assert_false(file_exists(wal));
    int version = 0;
    assert_int_equal(store_check_copy(f->path, &version), 0);
    reopen(f, 0);
    struct store_message m;
    assert_int_equal(store_get_message(id, &m), STORE_OK);
    assert_string_equal(m.body, "folded");
}

static void test_check_copy_refuses_a_database_that_is_not_lanchat_s(void **state)
{
    struct fixture *f = *state;
    char other[128], junk[128];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    for (int i = 0; i < 100; i++)
        fputs("not a database at all ", fp);
    fclose(fp);
    int version = 0;
    assert_int_equal(store_check_copy(other, &version), -1);
    assert_int_equal(store_check_copy(junk, &version), -1);
    unlink(other);
    unlink(junk);
}
#endif

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, open_fresh_store, close_and_remove_store)
    const struct CMUnitTest store[] = {
        T(test_new_database_has_only_the_room_general_with_id_1),
        T(test_add_room_returns_the_next_id_and_lists_rooms_in_id_order),
        T(test_add_room_with_an_existing_name_in_any_case_is_a_duplicate),
        T(test_reopening_keeps_the_data_and_does_not_migrate_again),
        T(test_open_refuses_a_database_from_a_newer_lanchat),
        T(test_open_makes_a_missing_directory_of_the_database),
        T(test_open_fails_when_the_directory_cannot_be_made),
        T(test_append_assigns_an_id_and_a_timestamp_of_now),
        T(test_get_message_returns_every_field_as_stored),
        T(test_message_without_cid_reads_back_with_an_empty_cid),
        T(test_body_of_the_largest_size_round_trips),
        T(test_get_message_of_an_unknown_id_is_not_found),
        T(test_append_with_a_used_cid_returns_the_original_message),
        T(test_same_cid_from_another_author_is_a_new_message),
        T(test_messages_without_cid_are_never_duplicates),
        T(test_append_to_a_room_that_does_not_exist_fails_alone),
        T(test_history_gives_the_room_between_after_and_below_in_id_order),
        T(test_history_stops_at_its_limit_and_where_the_callback_refuses),
        T(test_newest_id_skips_the_newest_messages_below_a_bound),
        T(test_newest_id_of_an_empty_room_is_not_found),
        T(test_author_deletes_own_message_and_learns_its_room),
        T(test_delete_of_someone_elses_message_is_forbidden_and_keeps_it),
        T(test_author_deletes_own_message_whatever_the_case_of_the_name),
        T(test_delete_of_an_unknown_message_is_not_found),
        T(test_deleting_frees_the_cid_of_the_message),
        T(test_message_added_hook_has_run_when_append_returns),
        T(test_hook_is_not_called_for_a_duplicate),
        T(test_message_deleted_hook_gets_the_room_and_id),
        T(test_a_moderators_delete_of_anyones_message_is_audited),
        T(test_writer_without_hooks_still_commits),
        T(test_retention_keeps_the_newest_messages_of_each_room),
        T(test_zero_retention_keeps_every_message),
#if CHAT_WITH_SEARCH
        T(test_search_gives_matches_newest_first_with_their_room),
        T(test_search_never_finds_deleted_or_trimmed_messages),
        T(test_search_finds_mirrored_messages_until_their_origin_deletes_them),
        T(test_search_with_a_query_sqlite_refuses_is_invalid_with_a_reason),
#endif
        T(test_user_password_hash_is_found_by_name_in_any_case),
        T(test_adding_a_user_twice_in_any_case_is_a_duplicate),
        T(test_password_hash_of_an_unknown_user_is_not_found),
        T(test_sessions_are_stored_and_listed_with_every_field),
        T(test_adding_the_same_token_hash_twice_is_a_duplicate),
        T(test_touch_session_updates_last_seen_only),
        T(test_touch_or_drop_of_an_unknown_session_is_not_found),
        T(test_drop_session_removes_only_that_session),
        T(test_sessions_survive_reopening),
        T(test_check_writable_succeeds_on_a_healthy_database),
        T(test_writes_are_refused_busy_when_the_writer_is_not_running),
        T(test_async_appends_are_handed_back_after_their_commit_in_order),
        T(test_async_append_is_busy_without_the_writer_and_never_handed_back),
        T(test_stats_count_commits_and_committed_messages),
        T(test_concurrent_appends_all_commit_with_distinct_ids),
        T(test_the_search_index_keeps_in_step_with_batches_trims_and_deletes),
#if CHAT_WITH_BACKUPS
        T(test_backup_of_an_open_store_is_a_checked_single_file_copy),
        T(test_quiesce_is_busy_while_the_store_holds_the_database),
        T(test_quiesce_of_a_closed_database_leaves_one_file_the_store_reopens),
        T(test_check_copy_refuses_a_database_that_is_not_lanchat_s),
#endif
    };
#undef T
    return cmocka_run_group_tests(store, NULL, NULL);
}
