/*
 * test_json - parsing request JSON inside a fixed arena (malformed input,
 * NUL bytes, arena exhaustion, member getters) and the fixed-buffer writer
 * (escaping, integers, overflow).
 */
#include "json.h"

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static struct json_arena arena; /* 32 KiB: kept off the stack */

static int install_arena_allocator(void **state)
{
    json_init();
    return 0;
}

static const cJSON *parse(const char *text)
{
    return json_parse(&arena, text, strlen(text));
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_reads_strings_and_integers_of_an_object(void **state)
{
    const cJSON *doc = parse("{\"body\":\"hi \\\"you\\\" \\u20ac\",\"since\":42,\"neg\":-7}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "body"), "hi \"you\" \xE2\x82\xAC");
    int64_t v = 0;
    assert_int_equal(json_get_int(doc, "since", &v), 1);
    assert_int_equal(v, 42);
    assert_int_equal(json_get_int(doc, "neg", &v), 1);
    assert_int_equal(v, -7);
}

static void test_parse_uses_the_arena_and_no_more(void **state)
{
    assert_non_null(parse("{\"a\":\"b\"}"));
    assert_true(arena.used > 0);
    assert_true(arena.used <= CHAT_JSON_ARENA);
}

static void test_parse_refuses_malformed_documents(void **state)
{
    assert_null(parse(""));
    assert_null(parse("{"));
    assert_null(parse("{\"a\":}"));
    assert_null(parse("{\"a\" 1}"));
    assert_null(parse("{'a':1}"));
    assert_null(parse("[1,2,]x"));
    assert_null(parse("\"unterminated"));
    assert_null(parse("{\"a\":\"\\x41\"}")); /* not a JSON escape */
}

static void test_parse_refuses_trailing_garbage_after_the_document(void **state)
{
    assert_null(parse("{\"body\":\"hi\"} trailing"));
    assert_null(parse("{\"a\":1}}"));
}

static void test_parse_reads_len_bytes_and_nothing_after_the_terminating_nul(void **state)
{
    static const char text[] = "{\"a\":1}\0{\"a\":2}";
    const cJSON *doc = json_parse(&arena, text, 7);
    assert_non_null(doc);
    int64_t v = 0;
    assert_int_equal(json_get_int(doc, "a", &v), 1);
    assert_int_equal(v, 1);
}

static void test_parse_refuses_a_raw_nul_byte(void **state)
{
    static const char text[] = "{\"body\":\"a\0b\"}";
    assert_null(json_parse(&arena, text, sizeof text - 1));
    static const char after[] = "{\"body\":\"ab\"}\0";
    assert_null(json_parse(&arena, after, sizeof after - 1));
}

static void test_parse_refuses_the_escaped_nul_character(void **state)
{
    assert_null(parse("{\"body\":\"a\\u0000b\"}"));
    assert_null(parse("{\"\\u0000\":1}"));
    /* an escaped backslash, then the escape \u0000 */
    assert_null(parse("{\"body\":\"a\\\\\\u0000\"}"));
}

static void test_parse_keeps_an_escaped_backslash_followed_by_u0000(void **state)
{
    /* JSON "\\u0000" is a backslash then the five characters u0000: no NUL. */
    const cJSON *doc = parse("{\"body\":\"see \\\\u0000 here\"}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "body"), "see \\u0000 here");
    /* two escaped backslashes, then text */
    doc = parse("{\"body\":\"\\\\\\\\u0000\"}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "body"), "\\\\u0000");
}

static void test_parse_accepts_other_escaped_control_characters(void **state)
{
    const cJSON *doc = parse("{\"body\":\"a\\u0001\\n\\t\"}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "body"), "a\x01\n\t");
}

static void test_parse_refuses_a_document_that_does_not_fit_the_arena(void **state)
{
    /* Each array element is a cJSON node (tens of bytes): 4000 of them need
     * far more than the arena although the text is only about 8 KiB. */
    static char text[4 * 4000 + 8];
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < 4000; i++) {
        text[n++] = '1';
        text[n++] = ',';
    }
    text[n - 1] = ']';
    assert_null(json_parse(&arena, text, n));
}

static void test_parse_works_again_after_an_arena_overflow(void **state)
{
    static char big[2 * 4000 + 2];
    size_t n = 0;
    big[n++] = '[';
    for (int i = 0; i < 4000; i++) {
        big[n++] = '0';
        big[n++] = ',';
    }
    big[n - 1] = ']';
    assert_null(json_parse(&arena, big, n));

    const cJSON *doc = parse("{\"room\":\"general\"}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "room"), "general");
}

static void test_parse_accepts_a_body_of_the_largest_size(void **state)
{
    static char text[CHAT_MAX_BODY + 32];
    int n = snprintf(text, sizeof text, "{\"body\":\"");
    memset(text + n, 'x', CHAT_MAX_BODY);
    n += CHAT_MAX_BODY;
    n += snprintf(text + n, sizeof text - (size_t)n, "\"}");
    const cJSON *doc = json_parse(&arena, text, (size_t)n);
    assert_non_null(doc);
    assert_int_equal(strlen(json_get_string(doc, "body")), CHAT_MAX_BODY);
}

/* ---- getters ------------------------------------------------------------ */

static void test_get_string_is_null_when_absent_or_not_a_string(void **state)
{
    const cJSON *doc = parse("{\"n\":1,\"t\":true,\"z\":null,\"o\":{},\"a\":[\"x\"],\"s\":\"\"}");
    assert_non_null(doc);
    assert_null(json_get_string(doc, "missing"));
    assert_null(json_get_string(doc, "n"));
    assert_null(json_get_string(doc, "t"));
    assert_null(json_get_string(doc, "z"));
    assert_null(json_get_string(doc, "o"));
    assert_null(json_get_string(doc, "a"));
    assert_string_equal(json_get_string(doc, "s"), "");
}

static void test_get_string_matches_keys_case_sensitively(void **state)
{
    const cJSON *doc = parse("{\"Body\":\"upper\",\"body\":\"lower\"}");
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "body"), "lower");
    assert_string_equal(json_get_string(doc, "Body"), "upper");
    assert_null(json_get_string(doc, "BODY"));
}

static void test_get_int_is_zero_when_absent_or_null(void **state)
{
    const cJSON *doc = parse("{\"z\":null}");
    assert_non_null(doc);
    int64_t v = 99;
    assert_int_equal(json_get_int(doc, "missing", &v), 0);
    assert_int_equal(json_get_int(doc, "z", &v), 0);
    assert_int_equal(v, 99);
}

static void test_get_int_is_minus_one_for_non_integers(void **state)
{
    const cJSON *doc = parse("{\"s\":\"5\",\"f\":1.5,\"b\":true,\"a\":[1],\"o\":{}}");
    assert_non_null(doc);
    int64_t v = 99;
    assert_int_equal(json_get_int(doc, "s", &v), -1);
    assert_int_equal(json_get_int(doc, "f", &v), -1);
    assert_int_equal(json_get_int(doc, "b", &v), -1);
    assert_int_equal(json_get_int(doc, "a", &v), -1);
    assert_int_equal(json_get_int(doc, "o", &v), -1);
    assert_int_equal(v, 99);
}

static void test_get_int_accepts_exact_integers_up_to_2_pow_53_minus_1(void **state)
{
    const cJSON *doc = parse("{\"max\":9007199254740991,\"min\":-9007199254740991,"
                             "\"over\":9007199254740992,\"under\":-9007199254740992,"
                             "\"exp\":1e3,\"zero\":-0,\"huge\":1e300}");
    assert_non_null(doc);
    int64_t v = 0;
    assert_int_equal(json_get_int(doc, "max", &v), 1);
    assert_int_equal(v, INT64_C(9007199254740991));
    assert_int_equal(json_get_int(doc, "min", &v), 1);
    assert_int_equal(v, -INT64_C(9007199254740991));
    assert_int_equal(json_get_int(doc, "exp", &v), 1);
    assert_int_equal(v, 1000);
    assert_int_equal(json_get_int(doc, "zero", &v), 1);
    assert_int_equal(v, 0);
    v = 5;
    assert_int_equal(json_get_int(doc, "over", &v), -1);
    assert_int_equal(json_get_int(doc, "under", &v), -1);
    assert_int_equal(json_get_int(doc, "huge", &v), -1);
    assert_int_equal(v, 5);
}

/* ---- writer ------------------------------------------------------------- */

static void test_writer_builds_an_object_from_keys_strings_and_ints(void **state)
{
    char buf[128];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_raw(&w, "{");
    jw_key(&w, "id");
    jw_int(&w, 17);
    jw_raw(&w, ",");
    jw_key(&w, "room");
    jw_str(&w, "general");
    jw_raw(&w, "}");
    assert_string_equal(jw_finish(&w), "{\"id\":17,\"room\":\"general\"}");
    assert_int_equal(w.len, strlen("{\"id\":17,\"room\":\"general\"}"));
    assert_false(w.overflow);
}

static void test_writer_escapes_quotes_backslashes_and_control_characters(void **state)
{
    char buf[128];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_str(&w, "q\"b\\n\nt\tr\r\x01\x1f end");
    assert_string_equal(jw_finish(&w), "\"q\\\"b\\\\n\\nt\\tr\\r\\u0001\\u001f end\"");
}

static void test_writer_passes_utf8_and_slash_through_unchanged(void **state)
{
    char buf[64];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_str(&w, "caf\xC3\xA9 \xF0\x9F\x98\x80 a/b");
    assert_string_equal(jw_finish(&w), "\"caf\xC3\xA9 \xF0\x9F\x98\x80 a/b\"");
}

static void test_writer_output_parses_back_to_the_same_string(void **state)
{
    const char *original = "x\"\\\n\r\t\x02\x7f\xE2\x82\xAC";
    char buf[128];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_raw(&w, "{");
    jw_key(&w, "k");
    jw_str(&w, original);
    jw_raw(&w, "}");
    const char *text = jw_finish(&w);
    assert_non_null(text);
    const cJSON *doc = parse(text);
    assert_non_null(doc);
    assert_string_equal(json_get_string(doc, "k"), original);
}

static void test_writer_prints_the_extreme_int64_values(void **state)
{
    char buf[64];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_int(&w, INT64_MIN);
    jw_raw(&w, " ");
    jw_int(&w, INT64_MAX);
    jw_raw(&w, " ");
    jw_int(&w, 0);
    assert_string_equal(jw_finish(&w), "-9223372036854775808 9223372036854775807 0");
}

static void test_writer_fills_the_buffer_up_to_one_byte_for_the_nul(void **state)
{
    char buf[6];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_raw(&w, "abcde");
    assert_false(w.overflow);
    assert_string_equal(jw_finish(&w), "abcde");
}

static void test_writer_overflow_returns_null_and_stops_output(void **state)
{
    char buf[6];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_raw(&w, "abc");
    jw_raw(&w, "def"); /* 6 chars + NUL do not fit in 6 */
    assert_true(w.overflow);
    assert_null(jw_finish(&w));
    assert_int_equal(w.len, 3);
    assert_string_equal(buf, "abc");

    jw_raw(&w, "x"); /* would fit, but output has stopped */
    assert_int_equal(w.len, 3);
    assert_null(jw_finish(&w));
}

static void test_writer_overflow_inside_an_escaped_string_stops_output(void **state)
{
    char buf[8];
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    jw_str(&w, "ab\"cdefgh");
    assert_true(w.overflow);
    assert_null(jw_finish(&w));
    assert_true(w.len < sizeof buf);
    assert_int_equal(buf[w.len], '\0');
}

static void test_writer_with_zero_capacity_overflows_at_once(void **state)
{
    char buf[1] = {'!'};
    struct jw w;
    jw_init(&w, buf, 0);
    assert_true(w.overflow);
    jw_raw(&w, "");
    assert_null(jw_finish(&w));
    assert_int_equal(buf[0], '!');
}

static void test_writer_of_nothing_is_the_empty_string(void **state)
{
    char buf[4] = "zzz";
    struct jw w;
    jw_init(&w, buf, sizeof buf);
    assert_string_equal(jw_finish(&w), "");
}

int main(void)
{
    const struct CMUnitTest json[] = {
        cmocka_unit_test(test_parse_reads_strings_and_integers_of_an_object),
        cmocka_unit_test(test_parse_uses_the_arena_and_no_more),
        cmocka_unit_test(test_parse_refuses_malformed_documents),
        cmocka_unit_test(test_parse_refuses_trailing_garbage_after_the_document),
        cmocka_unit_test(test_parse_reads_len_bytes_and_nothing_after_the_terminating_nul),
        cmocka_unit_test(test_parse_refuses_a_raw_nul_byte),
        cmocka_unit_test(test_parse_refuses_the_escaped_nul_character),
        cmocka_unit_test(test_parse_keeps_an_escaped_backslash_followed_by_u0000),
        cmocka_unit_test(test_parse_accepts_other_escaped_control_characters),
        cmocka_unit_test(test_parse_refuses_a_document_that_does_not_fit_the_arena),
        cmocka_unit_test(test_parse_works_again_after_an_arena_overflow),
        cmocka_unit_test(test_parse_accepts_a_body_of_the_largest_size),
        cmocka_unit_test(test_get_string_is_null_when_absent_or_not_a_string),
        cmocka_unit_test(test_get_string_matches_keys_case_sensitively),
        cmocka_unit_test(test_get_int_is_zero_when_absent_or_null),
        cmocka_unit_test(test_get_int_is_minus_one_for_non_integers),
        cmocka_unit_test(test_get_int_accepts_exact_integers_up_to_2_pow_53_minus_1),
        cmocka_unit_test(test_writer_builds_an_object_from_keys_strings_and_ints),
        cmocka_unit_test(test_writer_escapes_quotes_backslashes_and_control_characters),
        cmocka_unit_test(test_writer_passes_utf8_and_slash_through_unchanged),
        cmocka_unit_test(test_writer_output_parses_back_to_the_same_string),
        cmocka_unit_test(test_writer_prints_the_extreme_int64_values),
        cmocka_unit_test(test_writer_fills_the_buffer_up_to_one_byte_for_the_nul),
        cmocka_unit_test(test_writer_overflow_returns_null_and_stops_output),
        cmocka_unit_test(test_writer_overflow_inside_an_escaped_string_stops_output),
        cmocka_unit_test(test_writer_with_zero_capacity_overflows_at_once),
        cmocka_unit_test(test_writer_of_nothing_is_the_empty_string),
    };
    return cmocka_run_group_tests(json, install_arena_allocator, NULL);
}
