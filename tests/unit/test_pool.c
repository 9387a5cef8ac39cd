/*
 * test_pool - the fixed block pools of pools.def: sizes as declared, zeroed
 * blocks, exhaustion counting, index/at lookups, statistics, and take/give
 * from several threads at once. Every test starts from a fresh pool_init().
 */
#include "pool.h"

#include "auth.h"
#include "config.h"
#include "deliver.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static int fresh_pools(void **state)
{
    return pool_init();
}

static int release_pools(void **state)
{
    pool_shutdown();
    return 0;
}

static void expect_stats(enum pool_id id, const char *name, size_t capacity, size_t element_size,
                         const char *description)
{
    struct pool_stats s;
    pool_get_stats(id, &s);
    assert_string_equal(s.name, name);
    assert_string_equal(s.description, description);
    assert_int_equal(s.capacity, capacity);
    assert_int_equal(s.element_size, element_size);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.peak, 0);
    assert_int_equal(s.exhausted, 0);
}

static void test_every_pool_has_the_count_and_description_declared_in_pools_def(void **state)
{
    int checked = 0;
#define POOL(id, count, description)                                                               \
    expect_stats(POOL_##id, #id, (count), pool_element_size_##id, (description));                  \
    checked++;
#include "pools.def"
    assert_int_equal(checked, POOL_COUNT);
}

static void test_pools_are_sized_from_config_h(void **state)
{
    struct pool_stats s;
    pool_get_stats(POOL_conn, &s);
    assert_int_equal(s.capacity, CHAT_MAX_CLIENTS);
    pool_get_stats(POOL_job, &s);
    assert_int_equal(s.capacity, CHAT_WRITE_QUEUE);
    pool_get_stats(POOL_feed, &s);
    assert_int_equal(s.capacity, CHAT_MAX_ROOMS + 1);
    pool_get_stats(POOL_client, &s);
    assert_int_equal(s.capacity, CHAT_MAX_CLIENTS);
    pool_get_stats(POOL_request, &s);
    assert_int_equal(s.capacity, CHAT_HTTP_THREADS);
    pool_get_stats(POOL_session, &s);
    assert_int_equal(s.capacity, CHAT_MAX_SESSIONS);
    assert_int_equal(s.element_size, sizeof(struct auth_session));
    pool_get_stats(POOL_room, &s);
    assert_int_equal(s.capacity, CHAT_MAX_ROOMS);
}

static void test_take_hands_out_block_zero_first(void **state)
{
    void *block = pool_take(POOL_session);
    assert_non_null(block);
    assert_int_equal(pool_index(POOL_session, block), 0);
    void *next = pool_take(POOL_session);
    assert_int_equal(pool_index(POOL_session, next), 1);
    assert_int_equal((unsigned char *)next - (unsigned char *)block, sizeof(struct auth_session));
}

static void test_take_returns_a_zeroed_block_even_when_reused(void **state)
{
    struct auth_session *s = pool_take(POOL_session);
    assert_non_null(s);
    memset(s, 0xAB, sizeof *s);
    pool_give(POOL_session, s);

    struct auth_session *again = pool_take(POOL_session);
    assert_ptr_equal(again, s); /* the block just given back is the next one out */
    static const struct auth_session zero;
    assert_memory_equal(again, &zero, sizeof zero);
}

static void test_take_raw_leaves_the_contents_and_counts_like_take(void **state)
{
    struct deliver_buffers *b = pool_take_raw(POOL_connbuf);
    assert_non_null(b);
    memset(b->out, 0x5A, sizeof b->out);
    pool_give(POOL_connbuf, b);
    struct deliver_buffers *again = pool_take_raw(POOL_connbuf);
    assert_ptr_equal(again, b);
    assert_int_equal((unsigned char)again->out[0], 0x5A); /* not zeroed */
    struct pool_stats s;
    pool_get_stats(POOL_connbuf, &s);
    assert_int_equal(s.in_use, 1);
    assert_int_equal(s.peak, 1);
}

static void test_take_returns_null_and_counts_when_exhausted(void **state)
{
    void *blocks[CHAT_MAX_ROOMS];
    for (size_t i = 0; i < CHAT_MAX_ROOMS; i++) {
        blocks[i] = pool_take(POOL_room);
        assert_non_null(blocks[i]);
        assert_int_equal(pool_index(POOL_room, blocks[i]), i);
    }
    assert_null(pool_take(POOL_room));
    assert_null(pool_take(POOL_room));

    struct pool_stats s;
    pool_get_stats(POOL_room, &s);
    assert_int_equal(s.in_use, CHAT_MAX_ROOMS);
    assert_int_equal(s.peak, CHAT_MAX_ROOMS);
    assert_int_equal(s.exhausted, 2);

    pool_give(POOL_room, blocks[0]);
    assert_ptr_equal(pool_take(POOL_room), blocks[0]);
    pool_get_stats(POOL_room, &s);
    assert_int_equal(s.exhausted, 2);
}

static void test_stats_track_in_use_and_keep_the_peak(void **state)
{
    void *a = pool_take(POOL_job);
    void *b = pool_take(POOL_job);
    void *c = pool_take(POOL_job);
    pool_give(POOL_job, b);
    pool_give(POOL_job, a);

    struct pool_stats s;
    pool_get_stats(POOL_job, &s);
    assert_int_equal(s.in_use, 1);
    assert_int_equal(s.peak, 3);
    assert_int_equal(s.exhausted, 0);

    pool_give(POOL_job, c);
    pool_get_stats(POOL_job, &s);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.peak, 3);
}

static void test_pools_are_independent_of_each_other(void **state)
{
    void *room = pool_take(POOL_room);
    assert_non_null(room);
    struct pool_stats s;
    pool_get_stats(POOL_session, &s);
    assert_int_equal(s.in_use, 0);
    pool_get_stats(POOL_room, &s);
    assert_int_equal(s.in_use, 1);
}

static void test_at_finds_blocks_in_use_only(void **state)
{
    void *a = pool_take(POOL_client);
    void *b = pool_take(POOL_client);
    assert_ptr_equal(pool_at(POOL_client, 0), a);
    assert_ptr_equal(pool_at(POOL_client, 1), b);
    assert_null(pool_at(POOL_client, 2));

    pool_give(POOL_client, a);
    assert_null(pool_at(POOL_client, 0));
    assert_ptr_equal(pool_at(POOL_client, 1), b);
}

static void test_at_returns_null_for_an_index_past_the_capacity(void **state)
{
    assert_null(pool_at(POOL_room, CHAT_MAX_ROOMS));
    assert_null(pool_at(POOL_room, SIZE_MAX));
}

static void test_giving_a_block_back_twice_is_ignored(void **state)
{
    void *a = pool_take(POOL_session);
    void *b = pool_take(POOL_session);
    pool_give(POOL_session, a);
    pool_give(POOL_session, a); /* logged and refused */

    struct pool_stats s;
    pool_get_stats(POOL_session, &s);
    assert_int_equal(s.in_use, 1);
    /* The free list holds block 0 once: two takes give two different blocks. */
    void *c = pool_take(POOL_session);
    void *d = pool_take(POOL_session);
    assert_ptr_equal(c, a);
    assert_ptr_not_equal(d, a);
    assert_ptr_not_equal(d, b);
}

static void test_giving_null_changes_nothing(void **state)
{
    void *a = pool_take(POOL_room);
    pool_give(POOL_room, NULL);
    struct pool_stats s;
    pool_get_stats(POOL_room, &s);
    assert_int_equal(s.in_use, 1);
    assert_ptr_equal(pool_at(POOL_room, 0), a);
}

#define WORKERS 4
#define ROUNDS 20000

static void *churn(void *arg)
{
    unsigned char mark = (unsigned char)(uintptr_t)arg;
    uintptr_t collisions = 0;
    for (int i = 0; i < ROUNDS; i++) {
        unsigned char *block = pool_take(POOL_session);
        if (!block)
            continue;
        memset(block, mark, sizeof(struct auth_session));
        for (size_t k = 0; k < sizeof(struct auth_session); k++)
            if (block[k] != mark)
                collisions++;
        pool_give(POOL_session, block);
    }
    return (void *)collisions;
}

static void test_concurrent_take_and_give_never_share_a_block(void **state)
{
    pthread_t threads[WORKERS];
    for (uintptr_t t = 0; t < WORKERS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, churn, (void *)(t + 1)), 0);
    for (int t = 0; t < WORKERS; t++) {
        void *collisions;
        pthread_join(threads[t], &collisions);
        assert_int_equal((uintptr_t)collisions, 0);
    }
    struct pool_stats s;
    pool_get_stats(POOL_session, &s);
    assert_int_equal(s.in_use, 0);
    assert_in_range(s.peak, 1, WORKERS);
    assert_int_equal(s.exhausted, 0);
}

int main(void)
{
    const struct CMUnitTest pool[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fresh_pools, release_pools)
        T(test_every_pool_has_the_count_and_description_declared_in_pools_def),
        T(test_pools_are_sized_from_config_h),
        T(test_take_hands_out_block_zero_first),
        T(test_take_returns_a_zeroed_block_even_when_reused),
        T(test_take_raw_leaves_the_contents_and_counts_like_take),
        T(test_take_returns_null_and_counts_when_exhausted),
        T(test_stats_track_in_use_and_keep_the_peak),
        T(test_pools_are_independent_of_each_other),
        T(test_at_finds_blocks_in_use_only),
        T(test_at_returns_null_for_an_index_past_the_capacity),
        T(test_giving_a_block_back_twice_is_ignored),
        T(test_giving_null_changes_nothing),
        T(test_concurrent_take_and_give_never_share_a_block),
#undef T
    };
    return cmocka_run_group_tests(pool, NULL, NULL);
}
