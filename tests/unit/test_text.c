/*
 * test_text - the API's rules for user/room names, client message ids and
 * message bodies (length, UTF-8, white space, control characters).
 */
#include "text.h"

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static enum text_body_verdict check(const char *body)
{
    return text_check_body(body, strlen(body));
}

/* ---- names ---------------------------------------------------------------- */

static void test_name_accepts_letters_digits_underscore_dot_and_dash(void **state)
{
    assert_true(text_valid_name("a"));
    assert_true(text_valid_name("Alice_99.bob-Z"));
    assert_true(text_valid_name("..."));
    assert_true(text_valid_name("-_-"));
}

static void test_name_of_exactly_32_chars_is_valid_and_33_is_not(void **state)
{
    char name[CHAT_NAME_MAX + 2];
    memset(name, 'n', CHAT_NAME_MAX);
    name[CHAT_NAME_MAX] = '\0';
    assert_true(text_valid_name(name));
    name[CHAT_NAME_MAX] = 'n';
    name[CHAT_NAME_MAX + 1] = '\0';
    assert_false(text_valid_name(name));
}

static void test_name_rejects_empty_null_and_other_characters(void **state)
{
    assert_false(text_valid_name(NULL));
    assert_false(text_valid_name(""));
    assert_false(text_valid_name("al ice"));
    assert_false(text_valid_name("alice:1"));
    assert_false(text_valid_name("a/b"));
    assert_false(text_valid_name("bob@home"));
    assert_false(text_valid_name("\xC3\xA9mile")); /* émile */
    assert_false(text_valid_name("tab\t"));
}

/* ---- client ids ------------------------------------------------------------ */

static void test_cid_accepts_letters_digits_dot_underscore_colon_and_dash(void **state)
{
    assert_true(text_valid_cid("x"));
    assert_true(text_valid_cid("client-1:msg_42.a"));
    assert_true(text_valid_cid("550e8400-e29b-41d4-a716-446655440000"));
}

static void test_cid_of_exactly_64_chars_is_valid_and_65_is_not(void **state)
{
    char cid[CHAT_CID_MAX + 2];
    memset(cid, 'c', CHAT_CID_MAX);
    cid[CHAT_CID_MAX] = '\0';
    assert_true(text_valid_cid(cid));
    cid[CHAT_CID_MAX] = ':';
    cid[CHAT_CID_MAX + 1] = '\0';
    assert_false(text_valid_cid(cid));
}

static void test_cid_rejects_empty_null_and_other_characters(void **state)
{
    assert_false(text_valid_cid(NULL));
    assert_false(text_valid_cid(""));
    assert_false(text_valid_cid("a b"));
    assert_false(text_valid_cid("a/b"));
    assert_false(text_valid_cid("{id}"));
    assert_false(text_valid_cid("a\"b"));
}

static void test_colon_is_allowed_in_cids_but_not_in_names(void **state)
{
    assert_true(text_valid_cid("a:b"));
    assert_false(text_valid_name("a:b"));
}

/* ---- same name ----------------------------------------------------------- */

static void test_same_name_ignores_ascii_case_only(void **state)
{
    assert_true(text_same_name("Alice", "aLICE"));
    assert_true(text_same_name("general", "GENERAL"));
    assert_false(text_same_name("alice", "alicia"));
    assert_false(text_same_name("alice", "alice_"));
    assert_false(text_same_name("a.b", "a-b"));
}

/* ---- bodies ---------------------------------------------------------------- */

static void test_body_with_text_is_ok(void **state)
{
    assert_int_equal(check("hello"), TEXT_BODY_OK);
    assert_int_equal(check("  line one\n\tline two\r\n"), TEXT_BODY_OK);
    assert_int_equal(check("x"), TEXT_BODY_OK);
}

static void test_body_that_is_empty_or_only_white_space_is_empty(void **state)
{
    assert_int_equal(text_check_body("", 0), TEXT_BODY_EMPTY);
    assert_int_equal(check(" "), TEXT_BODY_EMPTY);
    assert_int_equal(check(" \t\r\n  \n"), TEXT_BODY_EMPTY);
}

static void test_body_of_only_unicode_spaces_or_invisible_characters_is_empty(void **state)
{
    /* U+00A0, U+2003, U+3000, U+2028, U+2029, U+FEFF, U+200B, U+202F, U+1680 */
    assert_int_equal(check("\xc2\xa0"), TEXT_BODY_EMPTY);
    assert_int_equal(check("\xe2\x80\x83 \xe3\x80\x80"), TEXT_BODY_EMPTY);
    assert_int_equal(check("\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xe2\x80\x8b"), TEXT_BODY_EMPTY);
    assert_int_equal(check("\xe2\x80\xaf\xe1\x9a\x80\n"), TEXT_BODY_EMPTY);
    /* one visible character among them is a message: U+00E9, U+4E00 */
    assert_int_equal(check("\xc2\xa0\xc3\xa9\xc2\xa0"), TEXT_BODY_OK);
    assert_int_equal(check("\xe3\x80\x80\xe4\xb8\x80"), TEXT_BODY_OK);
}

static void test_body_length_counts_bytes_up_to_the_limit(void **state)
{
    char body[CHAT_MAX_BODY + 1];
    memset(body, 'b', sizeof body);
    assert_int_equal(text_check_body(body, CHAT_MAX_BODY), TEXT_BODY_OK);
    assert_int_equal(text_check_body(body, CHAT_MAX_BODY + 1), TEXT_BODY_TOO_LONG);
}

static void test_body_of_multibyte_characters_is_measured_in_bytes(void **state)
{
    /* 3-byte euro signs: CHAT_MAX_BODY / 3 of them fit, one more does not. */
    static char body[CHAT_MAX_BODY + 4];
    size_t n = 0;
    while (n + 3 <= CHAT_MAX_BODY) {
        memcpy(body + n, "\xE2\x82\xAC", 3);
        n += 3;
    }
    assert_int_equal(text_check_body(body, n), TEXT_BODY_OK);
    memcpy(body + n, "\xE2\x82\xAC", 3);
    assert_int_equal(text_check_body(body, n + 3), TEXT_BODY_TOO_LONG);
}

static void test_body_too_long_wins_over_other_problems(void **state)
{
    static char body[CHAT_MAX_BODY + 1];
    memset(body, ' ', sizeof body);
    assert_int_equal(text_check_body(body, sizeof body), TEXT_BODY_TOO_LONG);
}

static void test_body_accepts_valid_utf8_of_every_length(void **state)
{
    assert_int_equal(check("caf\xC3\xA9"), TEXT_BODY_OK);      /* U+00E9 */
    assert_int_equal(check("\xE2\x82\xAC 5"), TEXT_BODY_OK);   /* U+20AC */
    assert_int_equal(check("\xF0\x9F\x98\x80"), TEXT_BODY_OK); /* U+1F600 */
    assert_int_equal(check("\xF4\x8F\xBF\xBF"), TEXT_BODY_OK); /* U+10FFFF */
    assert_int_equal(check("\xEF\xBF\xBD"), TEXT_BODY_OK);     /* U+FFFD */
    assert_int_equal(check("\xED\x9F\xBF"), TEXT_BODY_OK);     /* U+D7FF */
    assert_int_equal(check("\xEE\x80\x80"), TEXT_BODY_OK);     /* U+E000 */
}

static void test_body_rejects_overlong_encodings(void **state)
{
    assert_int_equal(check("\xC0\xAF"), TEXT_BODY_BAD_UTF8); /* '/' in 2 bytes */
    assert_int_equal(check("\xC1\xBF"), TEXT_BODY_BAD_UTF8);
    assert_int_equal(check("\xE0\x80\xAF"), TEXT_BODY_BAD_UTF8);     /* '/' in 3 bytes */
    assert_int_equal(check("\xE0\x9F\xBF"), TEXT_BODY_BAD_UTF8);     /* U+07FF in 3 bytes */
    assert_int_equal(check("\xF0\x80\x80\xAF"), TEXT_BODY_BAD_UTF8); /* '/' in 4 bytes */
    assert_int_equal(check("\xF0\x8F\xBF\xBF"), TEXT_BODY_BAD_UTF8); /* U+FFFF in 4 bytes */
}

static void test_body_rejects_utf16_surrogates(void **state)
{
    assert_int_equal(check("\xED\xA0\x80"), TEXT_BODY_BAD_UTF8);             /* U+D800 */
    assert_int_equal(check("\xED\xBF\xBF"), TEXT_BODY_BAD_UTF8);             /* U+DFFF */
    assert_int_equal(check("\xED\xA0\xBD\xED\xB8\x80"), TEXT_BODY_BAD_UTF8); /* CESU pair */
}

static size_t span(const char *s, bool *invalid)
{
    return text_utf8_span(s, strlen(s), invalid);
}

static void test_utf8_span_covers_whole_valid_sequences(void **state)
{
    bool invalid = true;
    assert_int_equal(span("caf\xC3\xA9 \xF0\x9F\x98\x80", &invalid), 10);
    assert_false(invalid);
    assert_int_equal(span("", &invalid), 0);
    assert_false(invalid);
}

/* Text that arrives in parts: a sequence the end cuts short is not an error
 * as long as what came of it may still become valid. */
static void test_utf8_span_stops_before_a_sequence_cut_short(void **state)
{
    bool invalid = true;
    assert_int_equal(span("ab\xE2\x82", &invalid), 2); /* U+20AC without its last byte */
    assert_false(invalid);
    assert_int_equal(span("ab\xF0\x9D\x84", &invalid), 2); /* U+1D11E, three of four */
    assert_false(invalid);
    assert_int_equal(span("\xF4\x8F", &invalid), 0); /* may become U+10FFFF */
    assert_false(invalid);
}

static void test_utf8_span_refuses_a_bad_sequence_from_its_first_bytes(void **state)
{
    bool invalid = false;
    assert_int_equal(span("ab\xED\xA0", &invalid), 2); /* a surrogate, whatever follows */
    assert_true(invalid);
    assert_int_equal(span("\xE0\x80", &invalid), 0); /* an overlong */
    assert_true(invalid);
    assert_int_equal(span("\xF4\x90", &invalid), 0); /* past U+10FFFF */
    assert_true(invalid);
    assert_int_equal(span("\xC3"
                          "A",
                          &invalid),
                     0); /* no continuation */
    assert_true(invalid);
    assert_int_equal(span("x\x80", &invalid), 1); /* a lone continuation byte */
    assert_true(invalid);
    assert_int_equal(span("\xF5", &invalid), 0);
    assert_true(invalid);
    assert_int_equal(span("\xE2\x82\xAC\xE2\x82\xE2", &invalid), 3); /* cut, then more */
    assert_true(invalid);
}

static void test_body_rejects_code_points_above_u10ffff(void **state)
{
    assert_int_equal(check("\xF4\x90\x80\x80"), TEXT_BODY_BAD_UTF8); /* U+110000 */
    assert_int_equal(check("\xF5\x80\x80\x80"), TEXT_BODY_BAD_UTF8);
    assert_int_equal(check("\xFF"), TEXT_BODY_BAD_UTF8);
    assert_int_equal(check("\xFE"), TEXT_BODY_BAD_UTF8);
}

static void test_body_rejects_stray_and_truncated_sequences(void **state)
{
    assert_int_equal(check("a\x80"), TEXT_BODY_BAD_UTF8);        /* lone continuation */
    assert_int_equal(check("\xC3"), TEXT_BODY_BAD_UTF8);         /* cut after the lead */
    assert_int_equal(check("\xE2\x82"), TEXT_BODY_BAD_UTF8);     /* 2 of 3 bytes */
    assert_int_equal(check("\xF0\x9F\x98"), TEXT_BODY_BAD_UTF8); /* 3 of 4 bytes */
    assert_int_equal(check("\xE2\x28\xA1"), TEXT_BODY_BAD_UTF8); /* bad second byte */
    assert_int_equal(check("\xC3\xA9\xA9"), TEXT_BODY_BAD_UTF8); /* one continuation too many */
}

static void test_body_sequence_cut_by_the_length_is_bad_utf8(void **state)
{
    /* The bytes after len are not part of the body. */
    assert_int_equal(text_check_body("ok\xE2\x82\xAC", 4), TEXT_BODY_BAD_UTF8);
    assert_int_equal(text_check_body("ok\xE2\x82\xAC", 5), TEXT_BODY_OK);
}

static void test_body_rejects_c0_control_characters_except_tab_cr_lf(void **state)
{
    assert_int_equal(check("bell\a"), TEXT_BODY_CONTROL);
    assert_int_equal(check("esc\x1b[31m"), TEXT_BODY_CONTROL);
    assert_int_equal(check("\x01"), TEXT_BODY_CONTROL);
    assert_int_equal(check("a\x1f"), TEXT_BODY_CONTROL);
    assert_int_equal(check("back\bspace"), TEXT_BODY_CONTROL);
    assert_int_equal(check("form\ffeed"), TEXT_BODY_CONTROL);
    assert_int_equal(check("v\vtab"), TEXT_BODY_CONTROL);
}

static void test_body_with_a_nul_byte_is_a_control_character(void **state)
{
    assert_int_equal(text_check_body("a\0b", 3), TEXT_BODY_CONTROL);
}

static void test_body_rejects_the_delete_control_character(void **state)
{
    /* 0x7F (DEL) is an ASCII control character (iscntrl() is true for it). */
    assert_int_equal(check("rub\x7fout"), TEXT_BODY_CONTROL);
}

static void test_body_problem_names_each_verdict(void **state)
{
    assert_string_equal(text_body_problem(TEXT_BODY_OK), "ok");
    assert_string_equal(text_body_problem(TEXT_BODY_EMPTY), "message body is empty");
    assert_string_equal(text_body_problem(TEXT_BODY_TOO_LONG),
                        "message body is longer than the limit");
    assert_string_equal(text_body_problem(TEXT_BODY_BAD_UTF8), "message body is not valid UTF-8");
    assert_string_equal(text_body_problem(TEXT_BODY_CONTROL),
                        "message body contains a control character");
}

int main(void)
{
    const struct CMUnitTest text[] = {
        cmocka_unit_test(test_name_accepts_letters_digits_underscore_dot_and_dash),
        cmocka_unit_test(test_name_of_exactly_32_chars_is_valid_and_33_is_not),
        cmocka_unit_test(test_name_rejects_empty_null_and_other_characters),
        cmocka_unit_test(test_cid_accepts_letters_digits_dot_underscore_colon_and_dash),
        cmocka_unit_test(test_cid_of_exactly_64_chars_is_valid_and_65_is_not),
        cmocka_unit_test(test_cid_rejects_empty_null_and_other_characters),
        cmocka_unit_test(test_colon_is_allowed_in_cids_but_not_in_names),
        cmocka_unit_test(test_same_name_ignores_ascii_case_only),
        cmocka_unit_test(test_body_with_text_is_ok),
        cmocka_unit_test(test_body_that_is_empty_or_only_white_space_is_empty),
        cmocka_unit_test(test_body_of_only_unicode_spaces_or_invisible_characters_is_empty),
        cmocka_unit_test(test_body_length_counts_bytes_up_to_the_limit),
        cmocka_unit_test(test_body_of_multibyte_characters_is_measured_in_bytes),
        cmocka_unit_test(test_body_too_long_wins_over_other_problems),
        cmocka_unit_test(test_body_accepts_valid_utf8_of_every_length),
        cmocka_unit_test(test_body_rejects_overlong_encodings),
        cmocka_unit_test(test_body_rejects_utf16_surrogates),
        cmocka_unit_test(test_body_rejects_code_points_above_u10ffff),
        cmocka_unit_test(test_body_rejects_stray_and_truncated_sequences),
        cmocka_unit_test(test_body_sequence_cut_by_the_length_is_bad_utf8),
        cmocka_unit_test(test_body_rejects_c0_control_characters_except_tab_cr_lf),
        cmocka_unit_test(test_body_with_a_nul_byte_is_a_control_character),
        cmocka_unit_test(test_body_rejects_the_delete_control_character),
        cmocka_unit_test(test_body_problem_names_each_verdict),
        cmocka_unit_test(test_utf8_span_covers_whole_valid_sequences),
        cmocka_unit_test(test_utf8_span_stops_before_a_sequence_cut_short),
        cmocka_unit_test(test_utf8_span_refuses_a_bad_sequence_from_its_first_bytes),
    };
    return cmocka_run_group_tests(text, NULL, NULL);
}
