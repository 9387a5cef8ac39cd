#include "mirror.h"

#include "text.h"

#include <string.h>

static const char *const kind_names[] = {
    [MIRROR_MESSAGES] = "messages",
    [MIRROR_DELETED] = "deleted",
    [MIRROR_CREATED] = "created",
    [MIRROR_POST] = "post",
};
#define KIND_COUNT (sizeof kind_names / sizeof kind_names[0])

bool mirror_valid_prefix(const char *prefix)
{
    size_t len = strlen(prefix);
    if (len == 0 || len >= MIRROR_PREFIX_MAX || prefix[0] == '$' || prefix[0] == '/' ||
        prefix[len - 1] == '/' || strstr(prefix, "//"))
        return false;
    for (const char *p = prefix; *p; p++)
        if (*p == '+' || *p == '#' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

bool mirror_topic(char *buf, size_t cap, const char *prefix, const char *room,
                  enum mirror_kind kind)
{
    struct jw w; /* the writer's overflow rule, without quoting */
    jw_init(&w, buf, cap);
    jw_raw(&w, prefix);
    jw_raw(&w, "/rooms/");
    jw_raw(&w, room);
    jw_raw(&w, "/");
    jw_raw(&w, kind_names[kind]);
    return jw_finish(&w) != NULL;
}

struct chat_error mirror_parse_topic(const char *prefix, const char *topic,
                                     char room[CHAT_NAME_MAX + 1], enum mirror_kind *kind)
{
    size_t plen = strlen(prefix);
    if (strncmp(topic, prefix, plen) != 0 || strncmp(topic + plen, "/rooms/", 7) != 0)
        return CHAT_ERROR(NOT_FOUND, "not a topic of ours");
    const char *name = topic + plen + 7;
    const char *slash = strchr(name, '/');
    if (!slash)
        return CHAT_ERROR(NOT_FOUND, "not a topic of ours");
    size_t nlen = (size_t)(slash - name);
    for (size_t k = 0; k < KIND_COUNT; k++) {
        if (strcmp(slash + 1, kind_names[k]) != 0)
            continue;
        if (nlen == 0 || nlen > CHAT_NAME_MAX)
            return CHAT_ERROR(BAD_REQUEST, "the room in the topic breaks the name rules");
        memcpy(room, name, nlen);
        room[nlen] = '\0';
        if (!text_valid_name(room))
            return CHAT_ERROR(BAD_REQUEST, "the room in the topic breaks the name rules");
        *kind = (enum mirror_kind)k;
        return CHAT_OK;
    }
    return CHAT_ERROR(NOT_FOUND, "not a topic of ours");
}

/* ---- writing ------------------------------------------------------------ */

static size_t finish(struct jw *w)
{
    return jw_finish(w) ? w->len : 0;
}

size_t mirror_encode_message(char *buf, size_t cap, const struct mirror_message *m)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_raw(&w, "{\"node\":");
    jw_str(&w, m->node);
    jw_raw(&w, ",\"id\":");
    jw_int(&w, m->id);
    jw_raw(&w, ",\"author\":");
    jw_str(&w, m->author);
    jw_raw(&w, ",\"body\":");
    jw_str(&w, m->body);
    jw_raw(&w, ",\"ts\":");
    jw_int(&w, m->ts);
    jw_raw(&w, ",\"cid\":");
    if (m->cid[0])
        jw_str(&w, m->cid);
    else
        jw_raw(&w, "null");
    jw_raw(&w, "}");
    return finish(&w);
}

size_t mirror_encode_deleted(char *buf, size_t cap, const char *node, int64_t id)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_raw(&w, "{\"node\":");
    jw_str(&w, node);
    jw_raw(&w, ",\"id\":");
    jw_int(&w, id);
    jw_raw(&w, "}");
    return finish(&w);
}

size_t mirror_encode_created(char *buf, size_t cap, const char *node)
{
    struct jw w;
    jw_init(&w, buf, cap);
    jw_raw(&w, "{\"node\":");
    jw_str(&w, node);
    jw_raw(&w, "}");
    return finish(&w);
}

/* ---- reading ------------------------------------------------------------ */

static struct chat_error parse_object(const char *payload, size_t len, struct json_arena *arena,
                                      const cJSON **out)
{
    if (len > MIRROR_PAYLOAD_MAX)
        return CHAT_ERROR(TOO_LARGE, "the payload is larger than any message");
    if (strlen(payload) != len)
        return CHAT_ERROR(BAD_REQUEST, "the payload holds a NUL byte");
    const cJSON *doc = json_parse(arena, payload, len);
    if (!doc || !cJSON_IsObject(doc))
        return CHAT_ERROR(BAD_REQUEST, "the payload is not a JSON object");
    *out = doc;
    return CHAT_OK;
}

/* A person's name on its node, or a device's: device:<name>. */
static bool valid_author(const char *author)
{
    size_t mark = sizeof MIRROR_DEVICE_MARK - 1;
    if (strncmp(author, MIRROR_DEVICE_MARK, mark) == 0)
        return strlen(author) <= CHAT_NAME_MAX && text_valid_name(author + mark);
    return text_valid_name(author);
}

static struct chat_error read_node(const cJSON *doc, char node[CHAT_NAME_MAX + 1])
{
    const char *s = json_get_string(doc, "node");
    if (!s || !text_valid_name(s))
        return CHAT_ERROR(BAD_REQUEST, "\"node\" must be a name");
    text_copy(node, CHAT_NAME_MAX + 1, s);
    return CHAT_OK;
}

static struct chat_error read_id(const cJSON *doc, int64_t *id)
{
    if (json_get_int(doc, "id", id) != 1 || *id < 1)
        return CHAT_ERROR(BAD_REQUEST, "\"id\" must be a positive integer");
    return CHAT_OK;
}

/* An optional cid: absent or null is "". */
static struct chat_error read_cid(const cJSON *doc, char cid[CHAT_CID_MAX + 1])
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "cid");
    cid[0] = '\0';
    if (!item || cJSON_IsNull(item))
        return CHAT_OK;
    if (!cJSON_IsString(item) || !text_valid_cid(item->valuestring))
        return CHAT_ERROR(BAD_REQUEST, "\"cid\" must be 1-64 characters of A-Z a-z 0-9 . _ : -");
    text_copy(cid, CHAT_CID_MAX + 1, item->valuestring);
    return CHAT_OK;
}

struct chat_error mirror_parse_message(const char *payload, size_t len, struct json_arena *arena,
                                       struct mirror_message *out)
{
    const cJSON *doc;
    struct chat_error e = parse_object(payload, len, arena, &doc);
    if (!e.kind)
        e = read_node(doc, out->node);
    if (!e.kind)
        e = read_id(doc, &out->id);
    if (!e.kind)
        e = read_cid(doc, out->cid);
    if (e.kind)
        return e;
    const char *author = json_get_string(doc, "author");
    if (!author || !valid_author(author))
        return CHAT_ERROR(BAD_REQUEST, "\"author\" must be a name");
    text_copy(out->author, sizeof out->author, author);
    if (json_get_int(doc, "ts", &out->ts) != 1 || out->ts < 0)
        return CHAT_ERROR(BAD_REQUEST, "\"ts\" must be a time in ms");
    const char *body = json_get_string(doc, "body");
    if (!body)
        return CHAT_ERROR(BAD_REQUEST, "\"body\" must be a string");
    size_t blen = strlen(body);
    e = text_body_error(body, blen);
    if (e.kind)
        return e;
    memcpy(out->body, body, blen + 1);
    return CHAT_OK;
}

struct chat_error mirror_parse_deleted(const char *payload, size_t len, struct json_arena *arena,
                                       char node[CHAT_NAME_MAX + 1], int64_t *id)
{
    const cJSON *doc;
    struct chat_error e = parse_object(payload, len, arena, &doc);
    if (!e.kind)
        e = read_node(doc, node);
    if (!e.kind)
        e = read_id(doc, id);
    return e;
}

struct chat_error mirror_parse_created(const char *payload, size_t len, struct json_arena *arena,
                                       char node[CHAT_NAME_MAX + 1])
{
    const cJSON *doc;
    struct chat_error e = parse_object(payload, len, arena, &doc);
    return e.kind ? e : read_node(doc, node);
}

static void device_author(char out[CHAT_NAME_MAX + 1], const char *name)
{
    memcpy(out, MIRROR_DEVICE_MARK, sizeof MIRROR_DEVICE_MARK - 1);
    text_copy(out + sizeof MIRROR_DEVICE_MARK - 1, CHAT_NAME_MAX + 2 - sizeof MIRROR_DEVICE_MARK,
              name);
}

struct chat_error mirror_parse_post(const char *payload, size_t len, struct json_arena *arena,
                                    struct mirror_post *out)
{
    size_t lead = 0;
    while (lead < len && (payload[lead] == ' ' || payload[lead] == '\t' || payload[lead] == '\n' ||
                          payload[lead] == '\r'))
        lead++;
    out->cid[0] = '\0';
    if (lead == len || payload[lead] != '{') { /* plain text */
        if (len > CHAT_MAX_BODY)
            return CHAT_ERROR(TOO_LARGE, text_body_problem(TEXT_BODY_TOO_LONG));
        if (strlen(payload) != len)
            return CHAT_ERROR(BAD_REQUEST, "the payload holds a NUL byte");
        device_author(out->author, "device");
        out->body = payload;
        return CHAT_OK;
    }
    const cJSON *doc;
    struct chat_error e = parse_object(payload, len, arena, &doc);
    if (!e.kind)
        e = read_cid(doc, out->cid);
    if (e.kind)
        return e;
    out->body = json_get_string(doc, "body");
    if (!out->body)
        return CHAT_ERROR(BAD_REQUEST, "\"body\" must be a string");
    const cJSON *author = cJSON_GetObjectItemCaseSensitive(doc, "author");
    if (!author || cJSON_IsNull(author)) {
        device_author(out->author, "device");
        return CHAT_OK;
    }
    if (!cJSON_IsString(author) || !text_valid_name(author->valuestring) ||
        strlen(author->valuestring) > (size_t)MIRROR_DEVICE_NAME_MAX)
        return CHAT_ERROR(BAD_REQUEST, "\"author\" must be 1-25 characters of the name rules");
    device_author(out->author, author->valuestring);
    return CHAT_OK;
}
