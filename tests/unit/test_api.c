/*
 * test_api - the text of GET /metrics is never cut silently: api_metrics_text
 * reports the whole length it needs whatever its buffer, so metrics_export
 * can refuse (500) a text that outgrows the request block instead of sending
 * a part; and today's text fits that block with room to spare.
 */
#include "api.h"

#include "config.h"
#include "pool.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#if CHAT_WITH_METRICS
static int fresh_pools(void **state)
{
    return pool_init();
}

static int release_pools(void **state)
{
    pool_shutdown();
    return 0;
}

static char whole[CHAT_MAX_REQUEST + 1];

static void test_metrics_text_too_large_for_its_buffer_reports_the_length_it_needs(void **state)
{
    size_t needed = api_metrics_text(whole, sizeof whole);
    assert_true(needed < sizeof whole);
    char part[64];
    memset(part, 'x', sizeof part);
    assert_int_equal(api_metrics_text(part, sizeof part), needed);
    assert_int_equal(strlen(part), sizeof part - 1); /* NUL-terminated, not overrun */
    assert_memory_equal(part, whole, sizeof part - 1);
    char none[1] = {'x'};
    assert_int_equal(api_metrics_text(none, 0), needed);
    assert_int_equal(none[0], 'x'); /* a zero capacity writes nothing */
}

static void test_metrics_text_fits_the_request_block_and_lists_every_pool(void **state)
{
    size_t n = api_metrics_text(whole, sizeof whole);
    assert_true(n < sizeof((struct api_request *)0)->body);
    assert_int_equal(strlen(whole), n);
    assert_int_equal(whole[n - 1], '\n');
    for (int i = 0; i < POOL_COUNT; i++) {
        struct pool_stats ps;
        pool_get_stats((enum pool_id)i, &ps);
        char line[96];
        snprintf(line, sizeof line, "lanchat_pool_exhausted_total{pool=\"%s\"} ", ps.name);
        assert_non_null(strstr(whole, line));
    }
}
#else
static void test_metrics_text_is_not_built_without_the_metrics_feature(void **state)
{
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest api[] = {
#if CHAT_WITH_METRICS
#define T(name) cmocka_unit_test_setup_teardown(name, fresh_pools, release_pools)
        T(test_metrics_text_too_large_for_its_buffer_reports_the_length_it_needs),
        T(test_metrics_text_fits_the_request_block_and_lists_every_pool),
#undef T
#else
        cmocka_unit_test(test_metrics_text_is_not_built_without_the_metrics_feature),
#endif
    };
    return cmocka_run_group_tests(api, NULL, NULL);
}
