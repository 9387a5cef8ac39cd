/*
 * fuzz_mirror - what an MQTT broker hands an appliance (src/mirror.c): each
 * input is read as every payload (a mirrored message, delete, room, a
 * device's post) and as a topic. Whatever is accepted must keep the rules:
 * names, ids, cids and bodies valid, a device's author marked device:, a
 * message and a topic written back and read again the same, the parse
 * inside its arena.
 */
#include "config.h"
#include "json.h"
#include "mirror.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "lanchat"

static struct json_arena arena;

static void check(bool ok)
{
    if (!ok)
        abort();
}

static bool valid_author(const char *author)
{
    size_t mark = strlen(MIRROR_DEVICE_MARK);
    if (strncmp(author, MIRROR_DEVICE_MARK, mark) == 0)
        return text_valid_name(author + mark);
    return text_valid_name(author);
}

/* An accepted message keeps every rule, and reads back the same once written. */
static void check_message(const struct mirror_message *m)
{
    static char out[MIRROR_PAYLOAD_MAX + 1];
    static struct mirror_message back;
    check(text_valid_name(m->node) && m->id > 0 && m->ts >= 0 && valid_author(m->author));
    check(m->cid[0] == '\0' || text_valid_cid(m->cid));
    check(text_check_body(m->body, strlen(m->body)) == TEXT_BODY_OK);
    size_t len = mirror_encode_message(out, sizeof out, m);
    check(len > 0 && len <= MIRROR_PAYLOAD_MAX && strlen(out) == len);
    check(mirror_parse_message(out, len, &arena, &back).kind == CHAT_E_NONE);
    check(strcmp(back.node, m->node) == 0 && back.id == m->id && back.ts == m->ts &&
          strcmp(back.author, m->author) == 0 && strcmp(back.cid, m->cid) == 0 &&
          strcmp(back.body, m->body) == 0);
}

static void check_topic(const char *topic)
{
    char room[CHAT_NAME_MAX + 1];
    enum mirror_kind kind;
    struct chat_error e = mirror_parse_topic(PREFIX, topic, room, &kind);
    check(e.kind == CHAT_E_NONE || e.kind == CHAT_E_NOT_FOUND || e.kind == CHAT_E_BAD_REQUEST);
    if (e.kind != CHAT_E_NONE)
        return;
    char again[MIRROR_TOPIC_MAX];
    check(text_valid_name(room));
    check(mirror_topic(again, sizeof again, PREFIX, room, kind) && strcmp(again, topic) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    json_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char payload[MIRROR_PAYLOAD_MAX + 2];
    static struct mirror_message m;
    if (size > MIRROR_PAYLOAD_MAX + 1)
        return -1; /* one byte past the limit shows the refusal; more adds nothing */
    /* NUL-terminated after its size, as libmosquitto hands a payload over */
    memcpy(payload, data, size);
    payload[size] = '\0';

    struct chat_error e = mirror_parse_message(payload, size, &arena, &m);
    check(arena.used <= sizeof arena.bytes);
    if (size > MIRROR_PAYLOAD_MAX)
        check(e.kind == CHAT_E_TOO_LARGE);
    if (e.kind == CHAT_E_NONE)
        check_message(&m);

    char node[CHAT_NAME_MAX + 1];
    int64_t id;
    if (mirror_parse_deleted(payload, size, &arena, node, &id).kind == CHAT_E_NONE)
        check(text_valid_name(node) && id > 0);
    if (mirror_parse_created(payload, size, &arena, node).kind == CHAT_E_NONE)
        check(text_valid_name(node));

    struct mirror_post post;
    if (mirror_parse_post(payload, size, &arena, &post).kind == CHAT_E_NONE) {
        check(strncmp(post.author, MIRROR_DEVICE_MARK, strlen(MIRROR_DEVICE_MARK)) == 0);
        check(strlen(post.author) <= CHAT_NAME_MAX &&
              text_valid_name(post.author + strlen(MIRROR_DEVICE_MARK)));
        check(post.cid[0] == '\0' || text_valid_cid(post.cid));
        check(post.body != NULL && strlen(post.body) <= size);
    }

    if (strlen(payload) == size && size < MIRROR_TOPIC_MAX * 2)
        check_topic(payload);
    return 0;
}
