/*
 * test_deliver - the hub and the delivery pipeline without sockets: real
 * store (a temporary SQLite file, its writer thread), real hub, feeds and
 * flushes, with each connection's socket replaced by a capture whose
 * appetite the test sets (everything, a few bytes, or nothing). Client
 * frames go in through ws_received as masked RFC 6455 frames. Time is the
 * test's: deliver_pump(now) runs the I/O thread's work at that moment.
 */
#include "deliver.h"

#include "config.h"
#include "frame.h"
#include "hub.h"
#include "json.h"
#include "metrics.h"
#include "pool.h"
#include "store.h"
#include "ws.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- sockets that are not: captures with an appetite ------------------------------ */

#define PEERS 8
#define CAPTURE (4 * 1024 * 1024)
#define FAKE_FD 60000 /* beyond any descriptor of this process */

enum appetite { TAKES_ALL, TAKES_SOME, TAKES_NOTHING };

static struct peer {
    enum appetite appetite;
    size_t budget; /* TAKES_SOME: bytes per pump */
    size_t left;
    unsigned char *bytes; /* what the server wrote */
    size_t len, parsed;
    int writes;
    struct deliver_conn *conn;
    unsigned char token_hash[32];
} peers[PEERS];

static ssize_t capture(int fd, const struct iovec *iov, int count)
{
    struct peer *p = &peers[fd - FAKE_FD];
    size_t room = p->appetite == TAKES_ALL ? SIZE_MAX : p->appetite == TAKES_SOME ? p->left : 0;
    size_t taken = 0;
    for (int i = 0; i < count && room > 0; i++) {
        size_t n = iov[i].iov_len < room ? iov[i].iov_len : room;
        assert_true(p->len + n <= CAPTURE);
        memcpy(p->bytes + p->len, iov[i].iov_base, n);
        p->len += n;
        room -= n;
        taken += n;
    }
    if (p->appetite == TAKES_SOME)
        p->left -= taken;
    if (taken == 0) {
        errno = EAGAIN;
        return -1;
    }
    p->writes++;
    return (ssize_t)taken;
}

static int64_t now = 1000000;

static void pump(void)
{
    for (int i = 0; i < PEERS; i++)
        peers[i].left = peers[i].budget;
    deliver_pump(now);
}

/* Opens connection i for user on session `session` (a byte of its hash). */
static struct peer *open_peer(int i, const char *user, int session)
{
    struct peer *p = &peers[i];
    struct auth_identity who = {0};
    snprintf(who.name, sizeof who.name, "%s", user);
    memset(who.token_hash, session, 32);
    memcpy(p->token_hash, who.token_hash, 32);
    p->conn = deliver_reserve(&who, "127.0.0.1", NULL);
    assert_non_null(p->conn);
    deliver_attach(p->conn, FAKE_FD + i, capture);
    pump();
    return p;
}

/* The peer's connection is closed and its slot back in the pool (whose
 * block must not be read any more: under ASan it is poisoned). */
static bool closed_and_freed(const struct peer *p)
{
    return !deliver_owns_fd(FAKE_FD + (int)(p - peers));
}

/* ---- reading what the server wrote ---------------------------------------------------- */

struct frame {
    int opcode;
    char text[8192];
    size_t len;
};

/* The next complete frame the peer was sent, or false. */
static bool next_frame(struct peer *p, struct frame *f)
{
    const unsigned char *b = p->bytes + p->parsed;
    size_t avail = p->len - p->parsed, header = 2, n;
    if (avail < 2)
        return false;
    assert_int_equal(b[0] & 0x80, 0x80); /* the server never fragments */
    assert_int_equal(b[1] & 0x80, 0);    /* nor masks */
    n = b[1] & 0x7f;
    if (n == 126) {
        if (avail < 4)
            return false;
        n = (size_t)b[2] << 8 | b[3];
        header = 4;
    } else if (n == 127) {
        if (avail < 10)
            return false;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | b[2 + i];
        header = 10;
    }
    if (avail < header + n)
        return false;
    assert_true(n < sizeof f->text);
    f->opcode = b[0] & 0x0f;
    memcpy(f->text, b + header, n);
    f->text[n] = '\0';
    f->len = n;
    p->parsed += header + n;
    return true;
}

/* The next text frame's "type" is type (and the frame is left in f). */
static void expect_type(struct peer *p, const char *type, struct frame *f)
{
    assert_true(next_frame(p, f));
    assert_int_equal(f->opcode, FRAME_TEXT);
    char want[64];
    snprintf(want, sizeof want, "{\"type\":\"%s\"", type);
    if (strncmp(f->text, want, strlen(want)) != 0)
        fail_msg("expected a %s frame, got %s", type, f->text);
}

static bool nothing_more(struct peer *p)
{
    return p->parsed == p->len;
}

static int64_t id_of(const struct frame *f)
{
    const char *at = strstr(f->text, "\"id\":");
    assert_non_null(at);
    return strtoll(at + 5, NULL, 10);
}

/* ---- what the client sends -------------------------------------------------------------- */

static void client_frame(struct peer *p, int opcode, bool fin, bool masked, const void *payload,
                         size_t len)
{
    struct deliver_conn *c = p->conn;
    unsigned char *b = (unsigned char *)c->buf->in + c->in_len;
    size_t at = 2;
    b[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        b[1] = (unsigned char)len;
    } else if (len <= 0xffff) {
        b[1] = 126;
        b[2] = (unsigned char)(len >> 8);
        b[3] = (unsigned char)len;
        at = 4;
    } else {
        b[1] = 127;
        for (int i = 0; i < 8; i++)
            b[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        at = 10;
    }
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) {
        b[1] |= 0x80;
        memcpy(b + at, mask, 4);
        at += 4;
    }
    size_t copy = len < DELIVER_IN_MAX - 1 - c->in_len - at ? len : 0; /* headers only if huge */
    for (size_t i = 0; i < copy; i++)
        b[at + i] = ((const unsigned char *)payload)[i] ^ (masked ? mask[i & 3] : 0);
    c->in_len += at + copy;
    ws_received(c);
}

static void client_text(struct peer *p, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    client_frame(p, 1, true, true, text, (size_t)n);
}

/* Waits for the writer: a blocking write returns after every earlier one
 * was handed back (store.h); then the I/O thread's work runs. */
static void settle(void)
{
    assert_int_equal(store_check_writable(), STORE_OK);
    pump();
}

static int64_t store_one(const char *author, const char *body)
{
    struct store_message m = {.room_id = 1};
    snprintf(m.author, sizeof m.author, "%s", author);
    snprintf(m.body, sizeof m.body, "%s", body);
    assert_int_equal(store_append_message(&m), STORE_OK);
    return m.id;
}

/* ---- fixture ------------------------------------------------------------------------------ */

static char dir[64];

static int start_all(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/lanchat-deliver-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char path[96];
    snprintf(path, sizeof path, "%s/chat.db", dir);
    static const struct store_hooks hooks = {.message_added = deliver_message_added,
                                             .message_deleted = deliver_message_deleted,
                                             .batch_done = deliver_batch_done};
    memset(peers, 0, sizeof peers);
    for (int i = 0; i < PEERS; i++) {
        peers[i].bytes = malloc(CAPTURE);
        if (!peers[i].bytes)
            return -1;
    }
    hub_set_rate(0, 0);
    json_init(); /* parses go to the I/O thread's arena, as in main */
    if (store_open(path, CHAT_SQLITE_HEAP_LIMIT, 0) != 0 || pool_init() != 0 || hub_start() != 0 ||
        deliver_start(0) != 0 || store_start(&hooks) != 0)
        return -1;
    return 0;
}

static int stop_all(void **state)
{
    store_close(); /* the writer first: its hooks use the feeds */
    deliver_stop();
    hub_stop();
    pool_shutdown();
    for (int i = 0; i < PEERS; i++)
        free(peers[i].bytes);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_hello_first_and_presence_only_on_a_users_first_and_last_connection(void **state)
{
    struct frame f;
    struct peer *alice = open_peer(0, "alice", 1);
    expect_type(alice, "hello", &f);
    assert_non_null(strstr(f.text, "\"online\":[\"alice\"]"));

    struct peer *bob = open_peer(1, "bob", 2);
    expect_type(bob, "hello", &f);
    assert_non_null(strstr(f.text, "\"online\":[\"alice\",\"bob\"]"));
    pump();
    assert_true(nothing_more(bob)); /* not told of its own arrival */
    expect_type(alice, "presence", &f);
    assert_string_equal(f.text, "{\"type\":\"presence\",\"user\":\"bob\",\"online\":true}");

    struct peer *bob2 = open_peer(2, "bob", 3);
    expect_type(bob2, "hello", &f);
    pump();
    assert_true(nothing_more(alice)); /* bob was online already */

    deliver_close(bob->conn, 1000, "bye");
    pump();
    assert_true(nothing_more(alice)); /* bob is still online on his second connection */
    assert_true(next_frame(bob, &f));
    assert_int_equal(f.opcode, FRAME_CLOSE);
    assert_int_equal((unsigned char)f.text[0] << 8 | (unsigned char)f.text[1], 1000);
}

static void test_a_user_leaving_with_the_last_connection_is_announced_once(void **state)
{
    struct frame f;
    struct peer *alice = open_peer(0, "alice", 1);
    struct peer *bob = open_peer(1, "bob", 2);
    struct peer *bob2 = open_peer(2, "bob", 3);
    pump();
    while (next_frame(alice, &f)) /* hello, bob online */
        ;
    deliver_close(bob->conn, 1000, "bye");
    pump();
    assert_true(next_frame(bob, &f) && f.opcode == FRAME_TEXT); /* its hello */
    assert_true(next_frame(bob, &f));
    assert_int_equal(f.opcode, FRAME_CLOSE);
    assert_true(nothing_more(alice));
    deliver_close(bob2->conn, 1000, "bye");
    pump();
    expect_type(alice, "presence", &f);
    assert_string_equal(f.text, "{\"type\":\"presence\",\"user\":\"bob\",\"online\":false}");
    assert_true(nothing_more(alice));
}

static void test_a_send_is_acked_after_its_commit_and_reaches_every_member_once(void **state)
{
    struct frame f;
    struct peer *a = open_peer(0, "alice", 1), *b = open_peer(1, "bob", 2);
    struct peer *outsider = open_peer(2, "carol", 3);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\"}");
    client_text(b, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    while (next_frame(a, &f) && !strstr(f.text, "joined"))
        ;
    while (next_frame(b, &f) && !strstr(f.text, "joined"))
        ;
    while (next_frame(outsider, &f))
        ;
    client_text(a, "{\"type\":\"send\",\"room\":\"general\",\"body\":\"hi\",\"cid\":\"c1\"}");
    assert_int_equal(a->conn->inflight, 1);
    settle();
    assert_int_equal(a->conn->inflight, 0);
    struct frame first, second;
    assert_true(next_frame(a, &first) && next_frame(a, &second));
    const struct frame *ack = strstr(first.text, "\"ack\"") ? &first : &second;
    const struct frame *msg = ack == &first ? &second : &first;
    assert_non_null(strstr(ack->text, "\"cid\":\"c1\""));
    int64_t id = id_of(ack);
    struct store_message stored;
    assert_int_equal(store_get_message(id, &stored), STORE_OK); /* durable before the ack */
    assert_int_equal(id_of(msg), id);
    expect_type(b, "message", &f);
    assert_string_equal(f.text, msg->text);
    assert_true(nothing_more(a) && nothing_more(b));
    assert_true(nothing_more(outsider)); /* not a member */
}

#if CHAT_WITH_TYPING
static bool count_row(void *ctx, const struct store_message *m)
{
    (void)m;
    ++*(int64_t *)ctx;
    return true;
}

static void test_typing_reaches_the_other_members_once_per_interval_and_is_not_stored(void **state)
{
    struct frame f;
    struct peer *a = open_peer(0, "alice", 1), *b = open_peer(1, "bob", 2);
    struct peer *outsider = open_peer(2, "carol", 3);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\"}");
    client_text(b, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    while (next_frame(a, &f))
        ;
    while (next_frame(b, &f))
        ;
    while (next_frame(outsider, &f))
        ;
    int64_t rows = 0;
    assert_int_equal(store_history(hub_room_id(0), 0, INT64_MAX, 1000, count_row, &rows), STORE_OK);
    client_text(a, "{\"type\":\"typing\",\"room\":\"general\"}");
    pump();
    expect_type(b, "typing", &f);
    assert_string_equal(f.text, "{\"type\":\"typing\",\"room\":\"general\",\"user\":\"alice\"}");
    assert_true(nothing_more(a));        /* not to the sender, and no answer */
    assert_true(nothing_more(outsider)); /* not a member */

    now += CHAT_TYPING_INTERVAL_MS - 1; /* within the interval: dropped, silently */
    pump();                             /* the thread's time of the wake that reads it */
    client_text(a, "{\"type\":\"typing\",\"room\":\"general\"}");
    pump();
    assert_true(nothing_more(a) && nothing_more(b));
    now += 1; /* the interval is over */
    pump();
    client_text(a, "{\"type\":\"typing\",\"room\":\"general\"}");
    pump();
    expect_type(b, "typing", &f);
    assert_true(nothing_more(a) && nothing_more(b));

    int64_t rows_after = 0;
    assert_int_equal(store_history(hub_room_id(0), 0, INT64_MAX, 1000, count_row, &rows_after),
                     STORE_OK);
    assert_int_equal(rows_after, rows); /* nothing stored */
    client_text(a, "{\"type\":\"typing\",\"room\":\"nosuch\"}");
    pump();
    expect_type(a, "error", &f);
    assert_non_null(strstr(f.text, "\"not_found\""));
}
#else
/* Without CHAT_WITH_TYPING a typing frame is an unknown type: an error frame
 * to the sender, nothing to the others. */
static void test_typing_is_an_unknown_frame_type_without_the_feature(void **state)
{
    struct frame f;
    struct peer *a = open_peer(0, "alice", 1), *b = open_peer(1, "bob", 2);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\"}");
    client_text(b, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    while (next_frame(a, &f))
        ;
    while (next_frame(b, &f))
        ;
    client_text(a, "{\"type\":\"typing\",\"room\":\"general\"}");
    pump();
    expect_type(a, "error", &f);
    assert_non_null(strstr(f.text, "unknown frame type"));
    assert_true(nothing_more(b));
}
#endif

static void test_frames_waiting_together_leave_in_one_write(void **state)
{
    struct frame f;
    struct peer *a = open_peer(0, "alice", 1);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    while (next_frame(a, &f))
        ;
    int before = a->writes;
    for (int i = 0; i < 10; i++)
        client_text(a, "{\"type\":\"send\",\"room\":\"general\",\"body\":\"m%d\",\"cid\":\"k%d\"}",
                    i, i);
    settle();
    assert_int_equal(a->writes - before, 1); /* 10 acks and 10 messages, one sendmsg */
    int acks = 0, messages = 0;
    while (next_frame(a, &f)) {
        acks += strstr(f.text, "\"ack\"") != NULL;
        messages += strstr(f.text, "\"message\"") != NULL;
    }
    assert_int_equal(acks, 10);
    assert_int_equal(messages, 10);
}

/* The replay and the live frames meet without a gap or a duplicate, though
 * the socket takes only a few hundred bytes per wake and messages keep being
 * committed while the replay is written. */
static void test_join_replays_then_goes_live_without_gap_or_duplicate(void **state)
{
    int64_t first = 0;
    for (int i = 0; i < 30; i++) {
        int64_t id = store_one("bob", "stored before the join");
        if (i == 9)
            first = id;
    }
    struct peer *a = open_peer(0, "alice", 1);
    a->appetite = TAKES_SOME;
    a->budget = 300;
    client_text(a, "{\"type\":\"join\",\"room\":\"general\",\"since\":%lld}", (long long)first);
    for (int round = 0; round < 40; round++) {
        if (round % 4 == 0)
            store_one("bob", "committed during the replay");
        settle();
    }
    a->appetite = TAKES_ALL;
    settle();
    struct frame f;
    expect_type(a, "hello", &f);
    int64_t want = first + 1, last_replayed = 0;
    bool joined = false;
    while (next_frame(a, &f)) {
        if (strstr(f.text, "\"joined\"")) {
            assert_false(joined);
            joined = true;
            last_replayed = want - 1;
            continue;
        }
        assert_non_null(strstr(f.text, "\"message\""));
        assert_int_equal(id_of(&f), want); /* in order, none missing, none twice */
        want++;
    }
    assert_true(joined);
    assert_true(last_replayed >= first + 20);    /* the 20 stored before the join came first */
    assert_int_equal(want - 1, first + 20 + 10); /* and all 10 committed meanwhile */
    assert_true(a->writes > 10);                 /* it did take many wakes */
}

static void test_a_join_missing_more_than_the_replay_limit_starts_with_a_gap(void **state)
{
    for (int i = 0; i < CHAT_REPLAY_MAX + 10; i++)
        store_one("bob", "old");
    struct peer *a = open_peer(0, "alice", 1);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\",\"since\":0}");
    for (int i = 0; i < 20; i++)
        pump();
    struct frame f;
    expect_type(a, "hello", &f);
    expect_type(a, "gap", &f);
    int64_t prev = 0;
    for (int i = 0; i < CHAT_REPLAY_MAX; i++) {
        expect_type(a, "message", &f);
        assert_true(id_of(&f) > prev);
        prev = id_of(&f);
    }
    assert_int_equal(prev, CHAT_REPLAY_MAX + 10);
    expect_type(a, "joined", &f);
}

/* Bytes: a client that takes nothing falls a feed behind and is cut; one that
 * takes everything, in the same room, misses nothing. */
static void test_a_client_a_whole_feed_behind_is_a_slow_consumer(void **state)
{
    struct peer *stalled = open_peer(0, "alice", 1), *healthy = open_peer(1, "bob", 2);
    client_text(stalled, "{\"type\":\"join\",\"room\":\"general\"}");
    client_text(healthy, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    stalled->appetite = TAKES_NOTHING;
    unsigned long long slow_before = metrics_get(slow_consumers);
    char body[CHAT_MAX_BODY + 1];
    memset(body, 'x', CHAT_MAX_BODY);
    body[CHAT_MAX_BODY] = '\0';
    int n = (int)(CHAT_FEED_BYTES / CHAT_MAX_BODY) + 8;
    for (int i = 0; i < n; i++) {
        store_one("carol", body);
        pump();
    }
    assert_true(closed_and_freed(stalled));
    assert_int_equal(metrics_get(slow_consumers), slow_before + 1);
    struct frame f;
    int messages = 0;
    while (next_frame(healthy, &f))
        messages += strstr(f.text, "\"message\"") != NULL;
    assert_int_equal(messages, n);
    assert_int_equal(healthy->conn->state, CONN_OPEN);
}

/* Time: frames wait and the socket takes nothing for CHAT_STALL_MS. */
static void test_a_client_that_takes_nothing_for_the_stall_time_is_a_slow_consumer(void **state)
{
    struct peer *stalled = open_peer(0, "alice", 1), *idle = open_peer(1, "bob", 2);
    client_text(stalled, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    stalled->appetite = TAKES_NOTHING;
    store_one("carol", "for alice, who does not read");
    settle();
    now += CHAT_STALL_MS - 500;
    pump();
    assert_int_equal(stalled->conn->state, CONN_OPEN); /* not yet */
    now += 2000;
    pump();
    assert_true(closed_and_freed(stalled));
    assert_int_equal(idle->conn->state, CONN_OPEN); /* nothing waited for it */
}

/* A burst larger than the socket takes at once, read slowly but steadily:
 * never cut, nothing lost. */
static void test_a_burst_to_a_slow_reader_cuts_nobody(void **state)
{
    struct peer *a = open_peer(0, "alice", 1);
    client_text(a, "{\"type\":\"join\",\"room\":\"general\"}");
    pump();
    struct frame f;
    while (next_frame(a, &f))
        ;
    a->appetite = TAKES_SOME;
    a->budget = 2048;
    int64_t first = 0;
    for (int i = 0; i < 300; i++) {
        int64_t id = store_one("bob", "a class answering a question, all at once");
        if (i == 0)
            first = id;
    }
    int64_t want = first;
    for (int round = 0; round < 1000 && want < first + 300; round++) {
        now += CHAT_STALL_MS / 4; /* slow, but it takes bytes at every wake */
        pump();
        assert_int_equal(a->conn->state, CONN_OPEN);
        while (next_frame(a, &f)) {
            if (f.opcode == FRAME_PING) /* it sent nothing for a while: a ping is due */
                continue;
            assert_int_equal(id_of(&f), want);
            want++;
        }
    }
    assert_int_equal(want, first + 300);
}

/* Replies pile up for a client that reads nothing: bounded, then cut. */
static void test_replies_to_a_client_that_reads_nothing_are_bounded(void **state)
{
    struct peer *a = open_peer(0, "alice", 1);
    a->appetite = TAKES_NOTHING;
    unsigned long long slow_before = metrics_get(slow_consumers);
    char payload[125];
    memset(payload, 'p', sizeof payload);
    int pings = 0;
    while (a->conn->state == CONN_OPEN && pings < 10000) {
        client_frame(a, 9, true, true, payload, sizeof payload); /* each wants a pong */
        pings++;
    }
    assert_true(a->conn->state != CONN_OPEN);
    assert_true(pings * 127 > CHAT_CLIENT_QUEUE_BYTES); /* not before the bound */
    assert_int_equal(metrics_get(slow_consumers), slow_before + 1);
}

static void test_every_connection_slot_taken_refuses_the_next_and_counts_it(void **state)
{
    struct auth_identity who = {.name = "many"};
    static struct deliver_conn *held[CHAT_MAX_CLIENTS];
    char addr[48];
    for (int i = 0; i < CHAT_MAX_CLIENTS; i++) { /* each its own session and address */
        memcpy(who.token_hash, &i, sizeof i);
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 250, i % 250);
        held[i] = deliver_reserve(&who, addr, NULL);
        assert_non_null(held[i]);
    }
    struct pool_stats before, after;
    pool_get_stats(POOL_conn, &before);
    struct chat_error why = CHAT_OK;
    who.token_hash[31] = 0xff;                            /* a new session, from a new address */
    assert_null(deliver_reserve(&who, "10.1.0.0", &why)); /* ws.c then closes it with 1013 */
    assert_int_equal(why.kind, CHAT_E_NONE);
    pool_get_stats(POOL_conn, &after);
    assert_int_equal(after.exhausted, before.exhausted + 1);
    for (int i = 0; i < CHAT_MAX_CLIENTS; i++)
        deliver_unreserve(held[i]);
    assert_non_null(held[0] = deliver_reserve(&who, "10.1.0.0", NULL)); /* free again */
    deliver_unreserve(held[0]);
}

static void test_one_session_or_address_holds_at_most_its_share_of_slots(void **state)
{
    (void)state;
    struct auth_identity who = {.name = "greedy"};
    static struct deliver_conn *held[CHAT_MAX_CLIENTS];
    char addr[48];
    int n = 0;
    for (; n < CHAT_WS_PER_SESSION; n++) {
        snprintf(addr, sizeof addr, "10.2.0.%d", n);
        assert_int_equal(deliver_may_open(&who, addr).kind, CHAT_E_NONE);
        assert_non_null(held[n] = deliver_reserve(&who, addr, NULL));
    }
    struct chat_error why = CHAT_OK;
    assert_int_equal(deliver_may_open(&who, "10.2.1.0").kind, CHAT_E_RATE_LIMITED);
    assert_null(deliver_reserve(&who, "10.2.1.0", &why));
    assert_int_equal(why.kind, CHAT_E_RATE_LIMITED);
    /* other sessions from one address: up to CHAT_WS_PER_ADDR */
    for (int i = 0; i < CHAT_WS_PER_ADDR; i++) {
        memset(who.token_hash, 0, 32);
        memcpy(who.token_hash, &i, sizeof i);
        who.token_hash[31] = 1;
        assert_non_null(held[n++] = deliver_reserve(&who, "10.3.0.1", NULL));
    }
    who.token_hash[31] = 2;
    assert_int_equal(deliver_may_open(&who, "10.3.0.1").kind, CHAT_E_RATE_LIMITED);
    assert_int_equal(deliver_may_open(&who, "10.3.0.2").kind, CHAT_E_NONE);
    while (n > 0)
        deliver_unreserve(held[--n]);
}

/* No job free: the send waits in its connection, which is not read, and goes
 * through once a job is back. Slowed down, not refused. */
static void test_a_send_without_a_free_job_waits_for_one(void **state)
{
    struct peer *a = open_peer(0, "alice", 1);
    struct frame f;
    while (next_frame(a, &f))
        ;
    static void *jobs[CHAT_WRITE_QUEUE];
    int taken = 0;
    while (taken < CHAT_WRITE_QUEUE && (jobs[taken] = pool_take_raw(POOL_job)))
        taken++;
    client_text(a, "{\"type\":\"send\",\"room\":\"general\",\"body\":\"hi\",\"cid\":\"j1\"}");
    client_text(a, "{\"type\":\"send\",\"room\":\"general\",\"body\":\"hi\",\"cid\":\"j2\"}");
    pump();
    assert_true(nothing_more(a)); /* no error, no ack */
    assert_true(a->conn->send_waiting);
    assert_int_equal(a->conn->inflight, 0);
    for (int i = 0; i < taken; i++)
        pool_give(POOL_job, jobs[i]);
    now += 1000; /* the I/O thread looks again at its next tick */
    pump();
    assert_false(a->conn->send_waiting);
    settle();
    expect_type(a, "ack", &f);
    assert_non_null(strstr(f.text, "\"cid\":\"j1\""));
    expect_type(a, "ack", &f); /* and the frame behind it, read after it */
    assert_non_null(strstr(f.text, "\"cid\":\"j2\""));
}

/* A burst from one connection larger than every job: all stored, all acked,
 * the jobs handed back wake the sends that wait. */
static void test_a_burst_larger_than_the_job_pool_is_slowed_not_refused(void **state)
{
    struct peer *a = open_peer(0, "alice", 1);
    struct frame f;
    while (next_frame(a, &f))
        ;
    static void *jobs[CHAT_WRITE_QUEUE];
    int taken = 0; /* leave 2 jobs free */
    while (taken < CHAT_WRITE_QUEUE - 2 && (jobs[taken] = pool_take_raw(POOL_job)))
        taken++;
    for (int i = 0; i < 20; i++)
        client_text(a, "{\"type\":\"send\",\"room\":\"general\",\"body\":\"b\",\"cid\":\"b%d\"}",
                    i);
    int acks = 0;
    for (int round = 0; round < 100 && acks < 20; round++) {
        settle();
        while (next_frame(a, &f)) {
            assert_null(strstr(f.text, "\"error\""));
            acks += strstr(f.text, "\"ack\"") != NULL;
        }
    }
    assert_int_equal(acks, 20);
    for (int i = 0; i < taken; i++)
        pool_give(POOL_job, jobs[i]);
}

static void test_client_frames_follow_rfc_6455(void **state)
{
    struct frame f;
    struct peer *a = open_peer(0, "alice", 1);
    while (next_frame(a, &f))
        ;
    /* a ping is answered with its payload */
    client_frame(a, 9, true, true, "abc", 3);
    pump();
    assert_true(next_frame(a, &f));
    assert_int_equal(f.opcode, FRAME_PONG);
    assert_string_equal(f.text, "abc");
    /* a message in three fragments, a ping between them */
    const char *parts[] = {"{\"type\":\"join\",", "\"room\":", "\"general\"}"};
    client_frame(a, 1, false, true, parts[0], strlen(parts[0]));
    client_frame(a, 0, false, true, parts[1], strlen(parts[1]));
    client_frame(a, 9, true, true, "x", 1);
    client_frame(a, 0, true, true, parts[2], strlen(parts[2]));
    pump();
    assert_true(next_frame(a, &f) && f.opcode == FRAME_PONG);
    expect_type(a, "joined", &f);
    /* an unmasked frame breaks the protocol */
    client_frame(a, 1, true, false, "{}", 2);
    pump();
    assert_true(next_frame(a, &f));
    assert_int_equal(f.opcode, FRAME_CLOSE);
    assert_int_equal((unsigned char)f.text[0] << 8 | (unsigned char)f.text[1], 1002);

    /* a frame over the limit is refused from its header, unread */
    struct peer *b = open_peer(1, "bob", 2);
    while (next_frame(b, &f))
        ;
    client_frame(b, 1, true, true, NULL, (size_t)1 << 30);
    pump();
    assert_true(next_frame(b, &f));
    assert_int_equal(f.opcode, FRAME_CLOSE);
    assert_int_equal((unsigned char)f.text[0] << 8 | (unsigned char)f.text[1], 1009);
}

/* The close code of the next close frame the peer was sent, or 0. */
static int close_code(struct peer *p)
{
    struct frame f;
    while (next_frame(p, &f))
        if (f.opcode == FRAME_CLOSE)
            return (unsigned char)f.text[0] << 8 | (unsigned char)f.text[1];
    return 0;
}

/* Time: a message begun has CHAT_WS_FRAME_MS to be complete, whatever else
 * comes meanwhile; a connection that sends nothing is not timed. */
static void test_a_message_not_complete_within_the_frame_time_is_closed_1008(void **state)
{
    struct peer *slow = open_peer(0, "alice", 1), *idle = open_peer(1, "bob", 2);
    struct peer *cut = open_peer(2, "carol", 3);
    pump();
    client_frame(slow, 1, false, true, "{\"type\":", 8); /* a first fragment, no end */
    memcpy(cut->conn->buf->in, "\x81\x8f\x12", 3);       /* a masked header, cut in its mask */
    cut->conn->in_len = 3;
    ws_received(cut->conn);
    now += CHAT_WS_FRAME_MS - 500;
    pump();
    client_frame(slow, 9, true, true, "x", 1); /* a ping between fragments restarts nothing */
    pump();
    assert_int_equal(slow->conn->state, CONN_OPEN);
    assert_int_equal(cut->conn->state, CONN_OPEN);
    now += 1500;
    pump();
    assert_int_equal(close_code(slow), 1008);
    assert_int_equal(close_code(cut), 1008);
    assert_int_equal(idle->conn->state, CONN_OPEN);
    assert_int_equal(close_code(idle), 0);
}

static void test_logging_out_closes_that_sessions_connections_only(void **state)
{
    struct frame f;
    struct peer *a1 = open_peer(0, "alice", 1), *a2 = open_peer(1, "alice", 1);
    struct peer *other = open_peer(2, "alice", 9); /* another session of hers */
    deliver_close_session(a1->token_hash, 1000);
    pump();
    for (int i = 0; i < 2; i++) {
        struct peer *p = i ? a2 : a1;
        expect_type(p, "hello", &f);
        assert_true(next_frame(p, &f));
        assert_int_equal(f.opcode, FRAME_CLOSE);
    }
    assert_int_equal(other->conn->state, CONN_OPEN);
}

struct creator {
    char name[16];
    struct chat_error e;
};

static void *create_room(void *arg)
{
    struct creator *c = arg;
    int index;
    c->e = hub_room_create(c->name, &index);
    return NULL;
}

/* The last free room slot goes to exactly one of two creates at once. */
static void test_two_creates_at_the_last_free_room_slot_commit_one_room(void **state)
{
    if (CHAT_MAX_ROOMS < 2) {
        skip(); /* a build with only "general" creates no room */
        return;
    }
    for (int i = 1; i < CHAT_MAX_ROOMS - 1; i++) {
        char name[16];
        int index;
        snprintf(name, sizeof name, "room%d", i);
        assert_int_equal(hub_room_create(name, &index).kind, CHAT_E_NONE);
    }
    struct creator racers[2] = {{.name = "last-a"}, {.name = "last-b"}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, create_room, &racers[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int made = (racers[0].e.kind == CHAT_E_NONE) + (racers[1].e.kind == CHAT_E_NONE);
    assert_int_equal(made, 1);
    struct creator *lost = racers[0].e.kind ? &racers[0] : &racers[1];
    assert_int_equal(lost->e.kind, CHAT_E_UNAVAILABLE);
    assert_true(hub_room_find(racers[0].e.kind ? "last-b" : "last-a") >= 0);
    assert_true(hub_room_find(lost->name) < 0);
    int index;
    assert_int_equal(hub_room_create("room1", &index).kind, CHAT_E_CONFLICT);
}

/* Found by ThreadSanitizer under `make test-tsan`: at shutdown deliver_stop
 * tore down the feeds and threads while the store writer could still be in
 * a hook (a REST post that committed late, the end of a batch). Hooks after
 * the stop now do nothing; before, this appended to a freed feed. */
static void test_store_hooks_after_deliver_stop_touch_nothing(void **state)
{
    deliver_stop();
    struct store_message m = {.room_id = 1, .id = 99, .ts = 1};
    snprintf(m.author, sizeof m.author, "late");
    snprintf(m.body, sizeof m.body, "committed after the stop");
    deliver_message_added(&m);
    deliver_message_deleted(1, 99, "late");
    deliver_batch_done();
    assert_int_equal(deliver_start(0), 0); /* as stop_all expects */
}

/* Each owner declares its pools' element beside its type (POOL_ELEMENT): the
 * sizes pool.c reserves are the types' (test_pool links none of the owners). */
static void test_deliver_and_hub_pool_blocks_have_the_size_of_their_types(void **state)
{
    assert_int_equal(pool_element_size_conn, sizeof(struct deliver_conn));
    assert_int_equal(pool_element_size_connbuf, sizeof(struct deliver_buffers));
    assert_int_equal(pool_element_size_job, sizeof(struct store_job));
    assert_int_equal(pool_element_size_feed, CHAT_FEED_BYTES);
    assert_int_equal(pool_element_size_client, sizeof(struct hub_client));
    assert_int_equal(pool_element_size_room, sizeof(struct hub_room));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, start_all, stop_all)
        T(test_hello_first_and_presence_only_on_a_users_first_and_last_connection),
        T(test_a_user_leaving_with_the_last_connection_is_announced_once),
        T(test_a_send_is_acked_after_its_commit_and_reaches_every_member_once),
#if CHAT_WITH_TYPING
        T(test_typing_reaches_the_other_members_once_per_interval_and_is_not_stored),
#else
        T(test_typing_is_an_unknown_frame_type_without_the_feature),
#endif
        T(test_frames_waiting_together_leave_in_one_write),
        T(test_join_replays_then_goes_live_without_gap_or_duplicate),
        T(test_a_join_missing_more_than_the_replay_limit_starts_with_a_gap),
        T(test_a_client_a_whole_feed_behind_is_a_slow_consumer),
        T(test_a_client_that_takes_nothing_for_the_stall_time_is_a_slow_consumer),
        T(test_a_burst_to_a_slow_reader_cuts_nobody),
        T(test_replies_to_a_client_that_reads_nothing_are_bounded),
        T(test_every_connection_slot_taken_refuses_the_next_and_counts_it),
        T(test_one_session_or_address_holds_at_most_its_share_of_slots),
        T(test_a_send_without_a_free_job_waits_for_one),
        T(test_a_burst_larger_than_the_job_pool_is_slowed_not_refused),
        T(test_client_frames_follow_rfc_6455),
        T(test_a_message_not_complete_within_the_frame_time_is_closed_1008),
        T(test_logging_out_closes_that_sessions_connections_only),
        T(test_two_creates_at_the_last_free_room_slot_commit_one_room),
        T(test_store_hooks_after_deliver_stop_touch_nothing),
        T(test_deliver_and_hub_pool_blocks_have_the_size_of_their_types),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
