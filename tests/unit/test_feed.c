/*
 * test_feed - the ring of encoded frames that many readers follow: frames come
 * out in order, each whole and with its mark; a frame meant to miss one reader
 * misses only that one; frames never wrap; a reader a whole ring behind is told
 * it lost frames; a full buffer or mark list stops a copy where the next one
 * resumes. Links feed alone.
 */
#include "feed.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define RING 256 /* bytes: frames up to 56 bytes fit (a quarter, less a header) */

static _Alignas(8) unsigned char storage[RING];
static struct feed feed;

static int fresh_feed(void **state)
{
    memset(storage, 0xEE, sizeof storage);
    feed_init(&feed, storage, sizeof storage, 41);
    return 0;
}

static int drop_feed(void **state)
{
    feed_destroy(&feed);
    return 0;
}

struct copy {
    enum feed_copy_result result;
    char buf[RING];
    size_t used;
    struct feed_mark marks[16];
    size_t n;
};

static struct copy *copy_from(uint64_t *pos, uint32_t reader, size_t cap, size_t max_marks)
{
    static struct copy c;
    memset(&c, 0, sizeof c);
    c.result = feed_copy(&feed, pos, reader, c.buf, cap, &c.used, c.marks, max_marks, &c.n);
    return &c;
}

static void append(const char *frame, uint32_t except)
{
    assert_true(feed_append(&feed, frame, strlen(frame), except, 0));
}

static void test_frames_come_out_in_order_each_with_its_mark(void **state)
{
    uint64_t pos = feed_head(&feed, NULL);
    append("one", 0);
    append("second", 0);
    append("3", 0);
    struct copy *c = copy_from(&pos, 7, sizeof c->buf, 16);
    assert_int_equal(c->result, FEED_COPIED);
    assert_int_equal(c->used, 10);
    assert_memory_equal(c->buf, "onesecond3", 10);
    assert_int_equal(c->n, 3);
    assert_int_equal(c->marks[0].end, 3);
    assert_int_equal(c->marks[1].end, 9);
    assert_int_equal(c->marks[2].end, 10);
    /* Each mark is where the reader stands once it took that frame; the last
     * is the head. */
    assert_true(c->marks[0].after < c->marks[1].after);
    assert_true(c->marks[1].after < c->marks[2].after);
    assert_int_equal(c->marks[2].after, pos);
    assert_int_equal(pos, feed_head(&feed, NULL));
    assert_false(feed_has_news(&feed, pos));
}

static void test_a_caught_up_reader_copies_nothing_until_an_append(void **state)
{
    append("old", 0);
    uint64_t pos = feed_head(&feed, NULL);
    struct copy *c = copy_from(&pos, 1, sizeof c->buf, 16);
    assert_int_equal(c->result, FEED_COPIED);
    assert_int_equal(c->n, 0);
    assert_false(feed_has_news(&feed, pos));
    append("new", 0);
    assert_true(feed_has_news(&feed, pos));
    c = copy_from(&pos, 1, sizeof c->buf, 16);
    assert_int_equal(c->n, 1);
    assert_memory_equal(c->buf, "new", 3);
}

static void test_a_frame_meant_to_miss_one_reader_misses_only_that_one(void **state)
{
    uint64_t start = feed_head(&feed, NULL), a = start, b = start;
    append("for all", 0);
    append("not for 5", 5);
    append("again all", 0);
    struct copy *c = copy_from(&a, 5, sizeof c->buf, 16);
    assert_int_equal(c->n, 2);
    assert_memory_equal(c->buf, "for allagain all", 16);
    c = copy_from(&b, 6, sizeof c->buf, 16);
    assert_int_equal(c->n, 3);
    assert_memory_equal(c->buf, "for allnot for 5again all", 25);
    assert_int_equal(a, b); /* both are past all three */
}

static void test_a_frame_over_a_quarter_of_the_ring_is_refused(void **state)
{
    char big[RING];
    memset(big, 'x', sizeof big);
    assert_true(feed_append(&feed, big, RING / 4 - 8, 0, 0));
    assert_false(feed_append(&feed, big, RING / 4 - 7, 0, 0));
    assert_false(feed_append(&feed, big, RING, 0, 0));
}

/* A frame that does not fit before the ring's end starts again at its
 * beginning, whole: every reader gets it as one contiguous copy. */
static void test_frames_never_wrap_around_the_ring_end(void **state)
{
    char frame[48];
    uint64_t pos = feed_head(&feed, NULL);
    for (int i = 0; i < 12; i++) { /* 56-byte records: the fifth does not fit in 256 */
        memset(frame, 'a' + i, sizeof frame);
        assert_true(feed_append(&feed, frame, sizeof frame, 0, 0));
        struct copy *c = copy_from(&pos, 1, sizeof c->buf, 16);
        assert_int_equal(c->result, FEED_COPIED);
        assert_int_equal(c->n, 1);
        assert_int_equal(c->used, sizeof frame);
        for (size_t k = 0; k < sizeof frame; k++)
            assert_int_equal(c->buf[k], 'a' + i);
    }
    assert_true(pos > 2 * RING);
}

static void test_a_reader_a_whole_ring_behind_has_lost_frames(void **state)
{
    char frame[40];
    memset(frame, 'z', sizeof frame);
    uint64_t slow = feed_head(&feed, NULL);
    for (int i = 0; i < 5; i++) /* 5 * 48 bytes: not yet a ring */
        assert_true(feed_append(&feed, frame, sizeof frame, 0, 0));
    uint64_t kept = slow;
    struct copy *c = copy_from(&kept, 1, sizeof c->buf, 16);
    assert_int_equal(c->result, FEED_COPIED);
    assert_int_equal(c->n, 5);
    for (int i = 0; i < 2; i++) /* now the first record was written over */
        assert_true(feed_append(&feed, frame, sizeof frame, 0, 0));
    c = copy_from(&slow, 1, sizeof c->buf, 16);
    assert_int_equal(c->result, FEED_LAPPED);
    assert_int_equal(c->n, 0);
}

static void test_a_full_buffer_stops_the_copy_and_the_next_resumes(void **state)
{
    uint64_t pos = feed_head(&feed, NULL);
    append("aaaa", 0);
    append("bbbb", 0);
    append("cccc", 0);
    struct copy *c = copy_from(&pos, 1, 9, 16); /* room for two frames */
    assert_int_equal(c->result, FEED_MORE);
    assert_int_equal(c->n, 2);
    assert_memory_equal(c->buf, "aaaabbbb", 8);
    assert_int_equal(pos, c->marks[1].after);
    c = copy_from(&pos, 1, sizeof c->buf, 16);
    assert_int_equal(c->result, FEED_COPIED);
    assert_int_equal(c->n, 1);
    assert_memory_equal(c->buf, "cccc", 4);
}

static void test_out_of_marks_stops_the_copy_and_the_next_resumes(void **state)
{
    uint64_t pos = feed_head(&feed, NULL);
    append("1", 0);
    append("2", 0);
    append("3", 0);
    struct copy *c = copy_from(&pos, 1, sizeof c->buf, 2);
    assert_int_equal(c->result, FEED_MORE);
    assert_int_equal(c->n, 2);
    assert_memory_equal(c->buf, "12", 2);
    c = copy_from(&pos, 1, sizeof c->buf, 2);
    assert_int_equal(c->result, FEED_COPIED);
    assert_int_equal(c->n, 1);
    assert_memory_equal(c->buf, "3", 1);
}

static void test_the_head_comes_with_the_newest_message_id(void **state)
{
    int64_t last = 0;
    uint64_t start = feed_head(&feed, &last);
    assert_int_equal(start, 0);
    assert_int_equal(last, 41); /* what feed_init was given */
    assert_true(feed_append(&feed, "m", 1, 0, 42));
    assert_true(feed_append(&feed, "presence", 8, 0, 0)); /* no id: last_id stays */
    uint64_t head = feed_head(&feed, &last);
    assert_int_equal(last, 42);
    assert_true(head > start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fresh_feed, drop_feed)
        T(test_frames_come_out_in_order_each_with_its_mark),
        T(test_a_caught_up_reader_copies_nothing_until_an_append),
        T(test_a_frame_meant_to_miss_one_reader_misses_only_that_one),
        T(test_a_frame_over_a_quarter_of_the_ring_is_refused),
        T(test_frames_never_wrap_around_the_ring_end),
        T(test_a_reader_a_whole_ring_behind_has_lost_frames),
        T(test_a_full_buffer_stops_the_copy_and_the_next_resumes),
        T(test_out_of_marks_stops_the_copy_and_the_next_resumes),
        T(test_the_head_comes_with_the_newest_message_id),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
