/*
 * test_mirror - the MQTT topics and payloads appliances exchange (src/mirror.c):
 * topics written and read back, foreign topics and bad room names told apart;
 * message, delete and room payloads written and read back, the largest one
 * within MIRROR_PAYLOAD_MAX; every malformed field refused; device posts as
 * plain text or JSON, with their device: author.
 */
#include "mirror.h"

#include "config.h"
#include "json.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static struct json_arena arena; /* kept off the stack */
static char buf[MIRROR_PAYLOAD_MAX + 64];
static struct mirror_message msg;

static int install_arena_allocator(void **state)
{
    json_init();
    return 0;
}

static enum chat_errc parse_message(const char *payload)
{
    memset(&msg, 0, sizeof msg);
    return mirror_parse_message(payload, strlen(payload), &arena, &msg).kind;
}

static enum chat_errc parse_post(const char *payload, struct mirror_post *post)
{
    return mirror_parse_post(payload, strlen(payload), &arena, post).kind;
}

static void sample(struct mirror_message *m)
{
    memset(m, 0, sizeof *m);
    strcpy(m->node, "hall-2");
    m->id = 12;
    m->ts = 1764000000000;
    strcpy(m->author, "alice");
    strcpy(m->body, "hi \"you\" \\ \xE2\x82\xAC\n\ttab");
}

static void assert_same_message(const struct mirror_message *a, const struct mirror_message *b)
{
    assert_string_equal(a->node, b->node);
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->ts, b->ts);
    assert_string_equal(a->author, b->author);
    assert_string_equal(a->cid, b->cid);
    assert_string_equal(a->body, b->body);
}

/* ---- topics ------------------------------------------------------------- */

static void test_topic_of_each_kind_reads_back_as_its_room_and_kind(void **state)
{
    static const struct {
        enum mirror_kind kind;
        const char *topic;
    } cases[] = {
        {MIRROR_MESSAGES, "lanchat/rooms/general/messages"},
        {MIRROR_DELETED, "lanchat/rooms/general/deleted"},
        {MIRROR_CREATED, "lanchat/rooms/general/created"},
        {MIRROR_POST, "lanchat/rooms/general/post"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char topic[MIRROR_TOPIC_MAX];
        assert_true(mirror_topic(topic, sizeof topic, "lanchat", "general", cases[i].kind));
        assert_string_equal(topic, cases[i].topic);
        char room[CHAT_NAME_MAX + 1] = "";
        /* anything but the kind expected, so that a parse that sets none fails */
        enum mirror_kind kind = cases[i].kind == MIRROR_POST ? MIRROR_MESSAGES : MIRROR_POST;
        assert_int_equal(mirror_parse_topic("lanchat", topic, room, &kind).kind, CHAT_E_NONE);
        assert_string_equal(room, "general");
        assert_int_equal(kind, cases[i].kind);
    }
}

static void test_topic_with_a_prefix_of_several_levels_and_a_32_char_room(void **state)
{
    static const char room32[] = "R._-0123456789abcdefghijklmnopqr";
    assert_int_equal(strlen(room32), CHAT_NAME_MAX);
    char topic[MIRROR_TOPIC_MAX];
    assert_true(mirror_topic(topic, sizeof topic, "site/b-3", room32, MIRROR_MESSAGES));
    assert_string_equal(topic, "site/b-3/rooms/R._-0123456789abcdefghijklmnopqr/messages");
    char room[CHAT_NAME_MAX + 1];
    enum mirror_kind kind;
    assert_int_equal(mirror_parse_topic("site/b-3", topic, room, &kind).kind, CHAT_E_NONE);
    assert_string_equal(room, room32);
    assert_int_equal(kind, MIRROR_MESSAGES);
}

static void test_topic_that_does_not_fit_its_buffer_is_refused(void **state)
{
    char topic[MIRROR_TOPIC_MAX];
    const char *want = "lanchat/rooms/general/post";
    size_t need = strlen(want) + 1;
    assert_true(mirror_topic(topic, need, "lanchat", "general", MIRROR_POST));
    assert_string_equal(topic, want);
    assert_false(mirror_topic(topic, need - 1, "lanchat", "general", MIRROR_POST));
    assert_false(mirror_topic(topic, 0, "lanchat", "general", MIRROR_POST));
}

static void test_the_longest_prefix_and_room_fit_mirror_topic_max(void **state)
{
    char prefix[MIRROR_PREFIX_MAX];
    memset(prefix, 'p', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    assert_true(mirror_valid_prefix(prefix));
    char room[CHAT_NAME_MAX + 1];
    memset(room, 'r', CHAT_NAME_MAX);
    room[CHAT_NAME_MAX] = '\0';
    char topic[MIRROR_TOPIC_MAX];
    for (int kind = MIRROR_MESSAGES; kind <= MIRROR_POST; kind++)
        assert_true(mirror_topic(topic, sizeof topic, prefix, room, (enum mirror_kind)kind));
}

static void test_topics_of_others_are_not_found(void **state)
{
    static const char *const others[] = {
        "other/rooms/general/messages",
        "lanchat2/rooms/general/messages",
        "lanchat/room/general/messages",
        "lanchat/rooms/general/message",
        "lanchat/rooms/general/messages/x",
        "lanchat/rooms/general",
        "lanchat/rooms/general/",
        "lanchat/rooms",
        "lanchat",
        "",
        "lanchat/presence/a",
        "$SYS/broker/uptime",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char room[CHAT_NAME_MAX + 1];
        enum mirror_kind kind;
        assert_int_equal(mirror_parse_topic("lanchat", others[i], room, &kind).kind,
                         CHAT_E_NOT_FOUND);
    }
}

static void test_topic_of_ours_with_a_room_breaking_the_name_rules_is_bad_request(void **state)
{
    static const char *const bad[] = {
        "lanchat/rooms//messages",
        "lanchat/rooms/with space/messages",
        "lanchat/rooms/\xC3\xA4rger/post",
        "lanchat/rooms/R0123456789abcdefghijklmnopqrstuv/created", /* 33 chars */
        "lanchat/rooms/a+b/deleted",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char room[CHAT_NAME_MAX + 1];
        enum mirror_kind kind;
        assert_int_equal(mirror_parse_topic("lanchat", bad[i], room, &kind).kind,
                         CHAT_E_BAD_REQUEST);
    }
}

static void test_prefix_rules(void **state)
{
    assert_true(mirror_valid_prefix("lanchat"));
    assert_true(mirror_valid_prefix("school/building-2"));
    assert_false(mirror_valid_prefix(""));
    assert_false(mirror_valid_prefix("$SYS"));
    assert_false(mirror_valid_prefix("/lanchat"));
    assert_false(mirror_valid_prefix("lanchat/"));
    assert_false(mirror_valid_prefix("a//b"));
    assert_false(mirror_valid_prefix("a/+/b"));
    assert_false(mirror_valid_prefix("a/#"));
    char long_prefix[MIRROR_PREFIX_MAX + 1];
    memset(long_prefix, 'p', MIRROR_PREFIX_MAX);
    long_prefix[MIRROR_PREFIX_MAX] = '\0';
    assert_false(mirror_valid_prefix(long_prefix));
}

/* ---- messages ----------------------------------------------------------- */

static void test_message_written_reads_back_the_same(void **state)
{
    struct mirror_message m;
    sample(&m);
    size_t len = mirror_encode_message(buf, sizeof buf, &m);
    assert_true(len > 0);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(parse_message(buf), CHAT_E_NONE);
    assert_same_message(&msg, &m);
    /* a message of a device keeps its author */
    strcpy(m.author, "device:door");
    strcpy(m.cid, "c-1:x");
    assert_true(mirror_encode_message(buf, sizeof buf, &m) > 0);
    assert_int_equal(parse_message(buf), CHAT_E_NONE);
    assert_string_equal(msg.author, "device:door");
    assert_string_equal(msg.cid, "c-1:x");
}

static void test_message_without_cid_is_written_with_cid_null(void **state)
{
    struct mirror_message m;
    sample(&m);
    strcpy(m.body, "hi");
    assert_true(mirror_encode_message(buf, sizeof buf, &m) > 0);
    assert_string_equal(buf, "{\"node\":\"hall-2\",\"id\":12,\"author\":\"alice\",\"body\":\"hi\","
                             "\"ts\":1764000000000,\"cid\":null}");
    assert_int_equal(parse_message("{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\","
                                   "\"ts\":0}"),
                     CHAT_E_NONE);
    assert_string_equal(msg.cid, "");
}

static void test_the_largest_message_fits_mirror_payload_max(void **state)
{
    struct mirror_message m;
    memset(&m, 0, sizeof m);
    memset(m.node, 'n', CHAT_NAME_MAX);
    memset(m.author, 'a', CHAT_NAME_MAX);
    memset(m.cid, 'c', CHAT_CID_MAX);
    memset(m.body, '"', CHAT_MAX_BODY); /* each escaped to two bytes */
    m.id = 9007199254740991; /* 2^53 - 1: the largest integer JSON readers keep exactly */
    m.ts = 9007199254740991;
    size_t len = mirror_encode_message(buf, MIRROR_PAYLOAD_MAX + 1, &m);
    assert_true(len > 0);
    assert_true(len <= MIRROR_PAYLOAD_MAX);
    assert_int_equal(parse_message(buf), CHAT_E_NONE);
    assert_same_message(&msg, &m);
}

static void test_message_that_does_not_fit_its_buffer_is_length_0(void **state)
{
    struct mirror_message m;
    sample(&m);
    size_t len = mirror_encode_message(buf, sizeof buf, &m);
    assert_true(len > 0);
    assert_int_equal(mirror_encode_message(buf, len + 1, &m), len);
    assert_int_equal(mirror_encode_message(buf, len, &m), 0);
    assert_int_equal(mirror_encode_message(buf, 0, &m), 0);
}

static void test_message_with_a_field_missing_or_wrong_is_bad_request(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "\"a string\"",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1", /* cut */
        "{\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",               /* no node */
        "{\"node\":\"a\",\"author\":\"x\",\"body\":\"b\",\"ts\":1}",         /* no id */
        "{\"node\":\"a\",\"id\":1,\"body\":\"b\",\"ts\":1}",                 /* no author */
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"ts\":1}",               /* no body */
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\"}",         /* no ts */
        "{\"node\":\"two words\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":7,\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":0,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":-3,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":\"1\",\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1.5,\"author\":\"x\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"a b\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"device:\",\"body\":\"b\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":7,\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"  \",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"bell \\u0007\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"\xFF\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"\\ud800\",\"ts\":1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":-1}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":\"now\"}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1,\"cid\":7}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1,\"cid\":\"\"}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1,\"cid\":\"a b\"}",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\",\"ts\":1} trailing",
        "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"body\":\"b\\u0000c\",\"ts\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum chat_errc got = parse_message(bad[i]);
        if (got != CHAT_E_BAD_REQUEST)
            fail_msg("case %zu (%s): kind %d, not BAD_REQUEST", i, bad[i], (int)got);
    }
}

static void test_message_with_a_body_over_the_limit_is_too_large(void **state)
{
    static char payload[CHAT_MAX_BODY + 128];
    int n = snprintf(payload, sizeof payload,
                     "{\"node\":\"a\",\"id\":1,\"author\":\"x\",\"ts\":1,\"body\":\"");
    memset(payload + n, 'x', CHAT_MAX_BODY + 1);
    strcpy(payload + n + CHAT_MAX_BODY + 1, "\"}");
    assert_int_equal(parse_message(payload), CHAT_E_TOO_LARGE);
    /* one byte less is a message */
    memmove(payload + n + CHAT_MAX_BODY, payload + n + CHAT_MAX_BODY + 1, 3);
    assert_int_equal(parse_message(payload), CHAT_E_NONE);
    assert_int_equal(strlen(msg.body), CHAT_MAX_BODY);
}

static void test_payload_over_mirror_payload_max_is_too_large_unread(void **state)
{
    static char payload[MIRROR_PAYLOAD_MAX + 2];
    memset(payload, ' ', MIRROR_PAYLOAD_MAX + 1); /* blanks: valid JSON around an object */
    memcpy(payload, "{\"node\":\"a\"}", 12);
    payload[MIRROR_PAYLOAD_MAX + 1] = '\0';
    char node[CHAT_NAME_MAX + 1];
    int64_t id;
    assert_int_equal(mirror_parse_message(payload, MIRROR_PAYLOAD_MAX + 1, &arena, &msg).kind,
                     CHAT_E_TOO_LARGE);
    assert_int_equal(mirror_parse_deleted(payload, MIRROR_PAYLOAD_MAX + 1, &arena, node, &id).kind,
                     CHAT_E_TOO_LARGE);
    assert_int_equal(mirror_parse_created(payload, MIRROR_PAYLOAD_MAX + 1, &arena, node).kind,
                     CHAT_E_TOO_LARGE);
}

static void test_payload_with_a_raw_nul_inside_is_refused(void **state)
{
    static const char payload[] = "{\"node\":\"a\"}\0{\"node\":\"b\"}";
    char node[CHAT_NAME_MAX + 1];
    assert_int_not_equal(mirror_parse_created(payload, sizeof payload - 1, &arena, node).kind,
                         CHAT_E_NONE);
    struct mirror_post post;
    static const char text[] = "door\0open";
    assert_int_not_equal(mirror_parse_post(text, sizeof text - 1, &arena, &post).kind, CHAT_E_NONE);
}

/* ---- deletes and rooms -------------------------------------------------- */

static void test_delete_and_room_written_read_back_the_same(void **state)
{
    char node[CHAT_NAME_MAX + 1];
    int64_t id = 0;
    size_t len = mirror_encode_deleted(buf, sizeof buf, "hall-2", 42);
    assert_string_equal(buf, "{\"node\":\"hall-2\",\"id\":42}");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(mirror_parse_deleted(buf, len, &arena, node, &id).kind, CHAT_E_NONE);
    assert_string_equal(node, "hall-2");
    assert_int_equal(id, 42);
    len = mirror_encode_created(buf, sizeof buf, "b");
    assert_string_equal(buf, "{\"node\":\"b\"}");
    assert_int_equal(mirror_parse_created(buf, len, &arena, node).kind, CHAT_E_NONE);
    assert_string_equal(node, "b");
    assert_int_equal(mirror_encode_deleted(buf, 5, "hall-2", 42), 0);
    assert_int_equal(mirror_encode_created(buf, 5, "b"), 0);
}

static void test_malformed_delete_or_room_is_bad_request(void **state)
{
    static const char *const deletes[] = {
        "",
        "{",
        "[]",
        "{\"node\":\"a\"}",
        "{\"id\":3}",
        "{\"node\":\"a\",\"id\":0}",
        "{\"node\":\"a\",\"id\":\"3\"}",
        "{\"node\":\"a b\",\"id\":3}",
    };
    static const char *const rooms[] = {
        "", "{{", "[\"a\"]", "{}", "{\"node\":3}", "{\"node\":\"\"}", "{\"node\":\"a/b\"}"};
    char node[CHAT_NAME_MAX + 1];
    int64_t id;
    for (size_t i = 0; i < sizeof deletes / sizeof deletes[0]; i++)
        if (mirror_parse_deleted(deletes[i], strlen(deletes[i]), &arena, node, &id).kind !=
            CHAT_E_BAD_REQUEST)
            fail_msg("delete %s was not refused as bad request", deletes[i]);
    for (size_t i = 0; i < sizeof rooms / sizeof rooms[0]; i++)
        if (mirror_parse_created(rooms[i], strlen(rooms[i]), &arena, node).kind !=
            CHAT_E_BAD_REQUEST)
            fail_msg("room announcement %s was not refused as bad request", rooms[i]);
}

/* ---- device posts ------------------------------------------------------- */

static void test_post_of_plain_text_is_its_body_by_device_device(void **state)
{
    static const char text[] = "door open";
    struct mirror_post post;
    assert_int_equal(parse_post(text, &post), CHAT_E_NONE);
    assert_string_equal(post.author, "device:device");
    assert_string_equal(post.body, "door open");
    assert_string_equal(post.cid, "");
}

static void test_post_whose_first_non_blank_byte_is_a_brace_is_json(void **state)
{
    struct mirror_post post;
    assert_int_equal(
        parse_post(" \t\r\n{\"body\":\"open\",\"author\":\"door\",\"cid\":\"d-1\"}", &post),
        CHAT_E_NONE);
    assert_string_equal(post.author, "device:door");
    assert_string_equal(post.body, "open");
    assert_string_equal(post.cid, "d-1");
    assert_int_equal(parse_post("{\"body\":\"open\"}", &post), CHAT_E_NONE);
    assert_string_equal(post.author, "device:device");
    assert_string_equal(post.cid, "");
    /* text that merely holds a brace later is text */
    assert_int_equal(parse_post("x {\"body\":\"open\"}", &post), CHAT_E_NONE);
    assert_string_equal(post.body, "x {\"body\":\"open\"}");
}

static void test_post_author_is_a_name_of_at_most_25_chars(void **state)
{
    struct mirror_post post;
    char payload[128];
    char name[MIRROR_DEVICE_NAME_MAX + 2];
    memset(name, 'd', sizeof name - 1);
    name[MIRROR_DEVICE_NAME_MAX] = '\0'; /* 25 chars */
    snprintf(payload, sizeof payload, "{\"body\":\"x\",\"author\":\"%s\"}", name);
    assert_int_equal(parse_post(payload, &post), CHAT_E_NONE);
    assert_int_equal(strlen(post.author), CHAT_NAME_MAX);
    assert_memory_equal(post.author, "device:", 7);
    name[MIRROR_DEVICE_NAME_MAX] = 'd';
    name[MIRROR_DEVICE_NAME_MAX + 1] = '\0'; /* 26 */
    snprintf(payload, sizeof payload, "{\"body\":\"x\",\"author\":\"%s\"}", name);
    assert_int_equal(parse_post(payload, &post), CHAT_E_BAD_REQUEST);
    static const char *const bad[] = {
        "{\"body\":\"x\",\"author\":\"\"}",
        "{\"body\":\"x\",\"author\":\"two words\"}",
        "{\"body\":\"x\",\"author\":\"device:door\"}", /* ':' is no name character */
        "{\"body\":\"x\",\"author\":7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_post(bad[i], &post) != CHAT_E_BAD_REQUEST)
            fail_msg("post %s was not refused as bad request", bad[i]);
}

static void test_malformed_json_post_is_bad_request(void **state)
{
    static const char *const bad[] = {
        "{",
        "{\"body\":\"x\"",
        "{\"author\":\"door\"}",
        "{\"body\":7}",
        "{\"body\":null}",
        "{\"body\":\"x\",\"cid\":\"a b\"}",
        "{\"body\":\"x\"} tail",
        " {'body':'x'}",
    };
    struct mirror_post post;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_post(bad[i], &post) != CHAT_E_BAD_REQUEST)
            fail_msg("post %s was not refused as bad request", bad[i]);
}

static void test_plain_post_over_the_body_limit_is_too_large(void **state)
{
    static char text[CHAT_MAX_BODY + 2];
    memset(text, 'x', CHAT_MAX_BODY + 1);
    text[CHAT_MAX_BODY + 1] = '\0';
    struct mirror_post post;
    assert_int_equal(parse_post(text, &post), CHAT_E_TOO_LARGE);
    text[CHAT_MAX_BODY] = '\0';
    assert_int_equal(parse_post(text, &post), CHAT_E_NONE);
    assert_int_equal(strlen(post.body), CHAT_MAX_BODY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_of_each_kind_reads_back_as_its_room_and_kind),
        cmocka_unit_test(test_topic_with_a_prefix_of_several_levels_and_a_32_char_room),
        cmocka_unit_test(test_topic_that_does_not_fit_its_buffer_is_refused),
        cmocka_unit_test(test_the_longest_prefix_and_room_fit_mirror_topic_max),
        cmocka_unit_test(test_topics_of_others_are_not_found),
        cmocka_unit_test(test_topic_of_ours_with_a_room_breaking_the_name_rules_is_bad_request),
        cmocka_unit_test(test_prefix_rules),
        cmocka_unit_test(test_message_written_reads_back_the_same),
        cmocka_unit_test(test_message_without_cid_is_written_with_cid_null),
        cmocka_unit_test(test_the_largest_message_fits_mirror_payload_max),
        cmocka_unit_test(test_message_that_does_not_fit_its_buffer_is_length_0),
        cmocka_unit_test(test_message_with_a_field_missing_or_wrong_is_bad_request),
        cmocka_unit_test(test_message_with_a_body_over_the_limit_is_too_large),
        cmocka_unit_test(test_payload_over_mirror_payload_max_is_too_large_unread),
        cmocka_unit_test(test_payload_with_a_raw_nul_inside_is_refused),
        cmocka_unit_test(test_delete_and_room_written_read_back_the_same),
        cmocka_unit_test(test_malformed_delete_or_room_is_bad_request),
        cmocka_unit_test(test_post_of_plain_text_is_its_body_by_device_device),
        cmocka_unit_test(test_post_whose_first_non_blank_byte_is_a_brace_is_json),
        cmocka_unit_test(test_post_author_is_a_name_of_at_most_25_chars),
        cmocka_unit_test(test_malformed_json_post_is_bad_request),
        cmocka_unit_test(test_plain_post_over_the_body_limit_is_too_large),
    };
    return cmocka_run_group_tests(tests, install_arena_allocator, NULL);
}
