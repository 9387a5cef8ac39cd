/*
 * test_frame - the frames the server writes (docs/API.md, RFC 6455): each a
 * final, unmasked frame whose header has the payload's length in the shortest
 * of its three forms; the JSON of each type; a cid echoed only when valid;
 * error codes by their wire names; control frames capped at 125 bytes; and 0,
 * not a cut frame, when the buffer is too small.
 */
#include "frame.h"

#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char buf[80000];

/* The payload of the text frame at buf of length n, NUL-terminated. */
static const char *text_payload(size_t n)
{
    static char payload[sizeof buf];
    const unsigned char *b = (const unsigned char *)buf;
    assert_true(n >= 2);
    assert_int_equal(b[0], 0x81);     /* FIN, text */
    assert_int_equal(b[1] & 0x80, 0); /* never masked */
    size_t header = 2, len = b[1];
    if (len == 126) {
        header = 4;
        len = (size_t)b[2] << 8 | b[3];
    } else if (len == 127) {
        header = 10;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | b[2 + i];
    }
    assert_int_equal(header + len, n);
    memcpy(payload, buf + header, len);
    payload[len] = '\0';
    return payload;
}

static void test_a_presence_frame_is_one_text_frame_of_its_json(void **state)
{
    size_t n = frame_presence(buf, sizeof buf, "alice", true);
    assert_string_equal(text_payload(n),
                        "{\"type\":\"presence\",\"user\":\"alice\",\"online\":true}");
    n = frame_presence(buf, sizeof buf, "bob", false);
    assert_string_equal(text_payload(n),
                        "{\"type\":\"presence\",\"user\":\"bob\",\"online\":false}");
}

static void test_a_rooms_frame_names_no_room(void **state)
{
    size_t n = frame_rooms(buf, sizeof buf);
    assert_string_equal(text_payload(n), "{\"type\":\"rooms\"}");
}

#if CHAT_WITH_TYPING
static void test_a_typing_frame_names_its_room_and_user(void **state)
{
    size_t n = frame_typing(buf, sizeof buf, "general", "alice");
    assert_string_equal(text_payload(n),
                        "{\"type\":\"typing\",\"room\":\"general\",\"user\":\"alice\"}");
}
#endif

static void test_a_message_frame_carries_every_field_escaped(void **state)
{
    struct store_message m = {.id = 7, .ts = 1700000000123, .author = "carol", .cid = "c-1"};
    strcpy(m.body, "say \"hi\"\nthen\\go");
    size_t n = frame_message(buf, sizeof buf, &m, "general");
    assert_string_equal(
        text_payload(n),
        "{\"type\":\"message\",\"id\":7,\"room\":\"general\",\"author\":\"carol\","
        "\"body\":\"say \\\"hi\\\"\\nthen\\\\go\",\"ts\":1700000000123,\"cid\":\"c-1\"}");
    m.cid[0] = '\0';
    n = frame_message(buf, sizeof buf, &m, "general");
    assert_non_null(strstr(text_payload(n), ",\"cid\":null}"));
}

static void test_the_largest_message_fits_frame_message_max(void **state)
{
    static struct store_message m = {.id = INT64_MAX, .ts = INT64_MAX};
    memset(m.author, 'a', CHAT_NAME_MAX);
    memset(m.cid, 'c', CHAT_CID_MAX);
    memset(m.body, '"', CHAT_MAX_BODY); /* every byte escapes to two */
    char room[CHAT_NAME_MAX + 1];
    memset(room, 'r', CHAT_NAME_MAX);
    room[CHAT_NAME_MAX] = '\0';
    size_t n = frame_message(buf, FRAME_MESSAGE_MAX, &m, room);
    assert_true(n > 2 * CHAT_MAX_BODY);
    assert_true(n - 4 + 11 <= FRAME_MESSAGE_MAX); /* a 4-byte header, room for 11 */
    text_payload(n);
}

static void test_the_header_takes_the_shortest_length_form(void **state)
{
    static char room[70000];
    const size_t overhead = strlen("{\"type\":\"joined\",\"room\":\"\"}");
    struct {
        size_t payload, header;
    } cases[] = {{125, 2}, {126, 4}, {65535, 4}, {65536, 10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t name = cases[i].payload - overhead;
        memset(room, 'x', name);
        room[name] = '\0';
        size_t n = frame_joined(buf, sizeof buf, room);
        assert_int_equal(n, cases[i].header + cases[i].payload);
        text_payload(n);
    }
}

static void test_a_frame_that_does_not_fit_is_not_written_at_all(void **state)
{
    size_t whole = frame_gap(buf, sizeof buf, "general");
    assert_string_equal(text_payload(whole), "{\"type\":\"gap\",\"room\":\"general\"}");
    /* The JSON is written after room for the longest header, with its NUL
     * (frame.h). */
    size_t need = whole - 2 + 11;
    assert_int_equal(frame_gap(buf, need - 1, "general"), 0);
    assert_int_equal(frame_gap(buf, need, "general"), whole);
    assert_int_equal(frame_gap(buf, 3, "general"), 0);
    assert_int_equal(frame_close(buf, 3, 1000, "bye"), 0);
}

static void test_an_ack_echoes_a_valid_cid_and_nulls_another(void **state)
{
    size_t n = frame_ack(buf, sizeof buf, "k:1.a-b_c", 12, 99);
    assert_string_equal(text_payload(n),
                        "{\"type\":\"ack\",\"cid\":\"k:1.a-b_c\",\"id\":12,\"ts\":99}");
    n = frame_ack(buf, sizeof buf, "bad cid\"", 12, 99);
    assert_string_equal(text_payload(n), "{\"type\":\"ack\",\"cid\":null,\"id\":12,\"ts\":99}");
    n = frame_ack(buf, sizeof buf, NULL, 1, 2);
    assert_string_equal(text_payload(n), "{\"type\":\"ack\",\"cid\":null,\"id\":1,\"ts\":2}");
}

static void test_an_error_frame_names_its_kind_by_the_wire_name(void **state)
{
    size_t n = frame_error(buf, sizeof buf, CHAT_ERROR(RATE_LIMITED, "slow down"), "c1");
    assert_string_equal(text_payload(n), "{\"type\":\"error\",\"code\":\"rate_limited\","
                                         "\"message\":\"slow down\",\"cid\":\"c1\"}");
    n = frame_error(buf, sizeof buf, CHAT_ERROR(NOT_FOUND, "no such room"), NULL);
    assert_string_equal(text_payload(n), "{\"type\":\"error\",\"code\":\"not_found\","
                                         "\"message\":\"no such room\",\"cid\":null}");
}

static void test_a_deleted_frame_names_room_and_id(void **state)
{
    size_t n = frame_deleted(buf, sizeof buf, "general", 31, NULL);
    assert_string_equal(text_payload(n), "{\"type\":\"deleted\",\"room\":\"general\",\"id\":31}");
    n = frame_deleted(buf, sizeof buf, "general", 31, "ada");
    assert_string_equal(text_payload(n),
                        "{\"type\":\"deleted\",\"room\":\"general\",\"id\":31,\"by\":\"ada\"}");
}

static void test_a_moderation_frame_names_action_user_admin_and_seconds(void **state)
{
    size_t n = frame_moderation(buf, sizeof buf, "mute", "bob", "ada", 60);
    assert_string_equal(text_payload(n), "{\"type\":\"moderation\",\"action\":\"mute\","
                                         "\"user\":\"bob\",\"by\":\"ada\",\"seconds\":60}");
    n = frame_moderation(buf, sizeof buf, "kick", "bob", "ada", -1);
    assert_string_equal(text_payload(n), "{\"type\":\"moderation\",\"action\":\"kick\","
                                         "\"user\":\"bob\",\"by\":\"ada\"}");
}

static void test_a_pong_echoes_the_ping_payload(void **state)
{
    size_t n = frame_control(buf, sizeof buf, FRAME_PONG, "abc", 3);
    assert_int_equal(n, 5);
    assert_memory_equal(buf,
                        "\x8a\x03"
                        "abc",
                        5);
    n = frame_control(buf, sizeof buf, FRAME_PING, NULL, 0);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "\x89\x00", 2);
    char big[126] = {0};
    assert_int_equal(frame_control(buf, sizeof buf, FRAME_PING, big, 125), 127);
    assert_int_equal(frame_control(buf, sizeof buf, FRAME_PING, big, 126), 0);
}

static void test_a_close_frame_has_its_code_big_endian_and_a_capped_reason(void **state)
{
    size_t n = frame_close(buf, sizeof buf, 1008, "policy");
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "\x88\x08\x03\xf0policy", 10);
    char reason[200];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    n = frame_close(buf, sizeof buf, 1009, reason);
    assert_int_equal(n, 127); /* 2 + the code + 123 bytes of reason */
    assert_int_equal((unsigned char)buf[1], 125);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_presence_frame_is_one_text_frame_of_its_json),
        cmocka_unit_test(test_a_rooms_frame_names_no_room),
#if CHAT_WITH_TYPING
        cmocka_unit_test(test_a_typing_frame_names_its_room_and_user),
#endif
        cmocka_unit_test(test_a_message_frame_carries_every_field_escaped),
        cmocka_unit_test(test_the_largest_message_fits_frame_message_max),
        cmocka_unit_test(test_the_header_takes_the_shortest_length_form),
        cmocka_unit_test(test_a_frame_that_does_not_fit_is_not_written_at_all),
        cmocka_unit_test(test_an_ack_echoes_a_valid_cid_and_nulls_another),
        cmocka_unit_test(test_an_error_frame_names_its_kind_by_the_wire_name),
        cmocka_unit_test(test_a_deleted_frame_names_room_and_id),
        cmocka_unit_test(test_a_moderation_frame_names_action_user_admin_and_seconds),
        cmocka_unit_test(test_a_pong_echoes_the_ping_payload),
        cmocka_unit_test(test_a_close_frame_has_its_code_big_endian_and_a_capped_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
