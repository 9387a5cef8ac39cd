#include "frame.h"

#include "http.h"
#include "hub.h"
#include "text.h"

#include <string.h>

/* The JSON goes after room for the longest header; wrap() moves it next to
 * the header it needs. */
#define HEADER_MAX 10

static void begin(struct jw *w, char *buf, size_t cap)
{
    if (cap < HEADER_MAX) {
        jw_init(w, buf, 0);
        w->overflow = true;
        return;
    }
    jw_init(w, buf + HEADER_MAX, cap - HEADER_MAX);
}

/* The RFC 6455 header for a final, unmasked frame of `op` around the payload
 * at buf + HEADER_MAX; the frame's length, 0 on overflow. */
static size_t wrap(struct jw *w, char *buf, enum frame_opcode op)
{
    if (!jw_finish(w))
        return 0;
    size_t n = w->len, header;
    unsigned char *b = (unsigned char *)buf;
    b[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        header = 2;
        b[1] = (unsigned char)n;
    } else if (n <= 0xffff) {
        header = 4;
        b[1] = 126;
        b[2] = (unsigned char)(n >> 8);
        b[3] = (unsigned char)n;
    } else {
        header = 10;
        b[1] = 127;
        for (int i = 0; i < 8; i++)
            b[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    memmove(buf + header, buf + HEADER_MAX, n);
    return header + n;
}

void frame_message_json(struct jw *w, const struct store_message *m, const char *room,
                        bool as_frame)
{
    jw_raw(w, as_frame ? "{\"type\":\"message\",\"id\":" : "{\"id\":");
    jw_int(w, m->id);
    jw_raw(w, ",\"room\":");
    jw_str(w, room);
    jw_raw(w, ",\"author\":");
    jw_str(w, m->author);
    jw_raw(w, ",\"body\":");
    jw_str(w, m->body);
    jw_raw(w, ",\"ts\":");
    jw_int(w, m->ts);
    jw_raw(w, ",\"cid\":");
    if (m->cid[0])
        jw_str(w, m->cid);
    else
        jw_raw(w, "null");
    if (m->node[0]) { /* mirrored from another appliance */
        jw_raw(w, ",\"node\":");
        jw_str(w, m->node);
    }
    jw_raw(w, "}");
}

size_t frame_message(char *buf, size_t cap, const struct store_message *m, const char *room)
{
    struct jw w;
    begin(&w, buf, cap);
    frame_message_json(&w, m, room, true);
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_deleted(char *buf, size_t cap, const char *room, int64_t id, const char *by)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"deleted\",\"room\":");
    jw_str(&w, room);
    jw_raw(&w, ",\"id\":");
    jw_int(&w, id);
    if (by && by[0]) {
        jw_raw(&w, ",\"by\":");
        jw_str(&w, by);
    }
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_presence(char *buf, size_t cap, const char *user, bool online)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"presence\",\"user\":");
    jw_str(&w, user);
    jw_raw(&w, online ? ",\"online\":true}" : ",\"online\":false}");
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_moderation(char *buf, size_t cap, const char *action, const char *user, const char *by,
                        int64_t seconds)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"moderation\",\"action\":");
    jw_str(&w, action);
    jw_raw(&w, ",\"user\":");
    jw_str(&w, user);
    jw_raw(&w, ",\"by\":");
    jw_str(&w, by);
    if (seconds >= 0) {
        jw_raw(&w, ",\"seconds\":");
        jw_int(&w, seconds);
    }
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_rooms(char *buf, size_t cap)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"rooms\"}");
    return wrap(&w, buf, FRAME_TEXT);
}

#if CHAT_WITH_TYPING
size_t frame_typing(char *buf, size_t cap, const char *room, const char *user)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"typing\",\"room\":");
    jw_str(&w, room);
    jw_raw(&w, ",\"user\":");
    jw_str(&w, user);
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}
#endif

struct list {
    struct jw *w;
    bool first;
};

static void add_room(void *ctx, const char *name, const char *direct, bool read_only,
                     const char *topic)
{
    struct list *l = ctx;
    jw_raw(l->w, l->first ? "{\"name\":" : ",{\"name\":");
    jw_str(l->w, name);
    if (direct) {
        jw_raw(l->w, ",\"direct\":");
        jw_str(l->w, direct);
    }
    if (read_only)
        jw_raw(l->w, ",\"read_only\":true");
    if (topic[0]) {
        jw_raw(l->w, ",\"topic\":");
        jw_str(l->w, topic);
    }
    jw_raw(l->w, "}");
    l->first = false;
}

static void add_user(void *ctx, const char *name)
{
    struct list *l = ctx;
    if (!l->first)
        jw_raw(l->w, ",");
    jw_str(l->w, name);
    l->first = false;
}

void frame_rooms_json(struct jw *w, const char *user)
{
    struct list rooms = {w, true};
    jw_raw(w, "[");
    hub_each_room(user, add_room, &rooms);
    jw_raw(w, "]");
}

void frame_online_json(struct jw *w)
{
    struct list users = {w, true};
    jw_raw(w, "[");
    hub_each_online(add_user, &users);
    jw_raw(w, "]");
}

size_t frame_hello(char *buf, size_t cap, const char *user)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"hello\",\"user\":");
    jw_str(&w, user);
    jw_raw(&w, ",\"rooms\":");
    frame_rooms_json(&w, user);
    jw_raw(&w, ",\"online\":");
    frame_online_json(&w);
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

static size_t room_event(char *buf, size_t cap, const char *type, const char *room)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"");
    jw_raw(&w, type);
    jw_raw(&w, "\",\"room\":");
    jw_str(&w, room);
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_joined(char *buf, size_t cap, const char *room)
{
    return room_event(buf, cap, "joined", room);
}

size_t frame_gap(char *buf, size_t cap, const char *room)
{
    return room_event(buf, cap, "gap", room);
}

static void cid_or_null(struct jw *w, const char *cid)
{
    if (cid && cid[0] && text_valid_cid(cid))
        jw_str(w, cid);
    else
        jw_raw(w, "null");
}

size_t frame_ack(char *buf, size_t cap, const char *cid, int64_t id, int64_t ts)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"ack\",\"cid\":");
    cid_or_null(&w, cid);
    jw_raw(&w, ",\"id\":");
    jw_int(&w, id);
    jw_raw(&w, ",\"ts\":");
    jw_int(&w, ts);
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

size_t frame_error(char *buf, size_t cap, struct chat_error e, const char *cid)
{
    struct jw w;
    begin(&w, buf, cap);
    jw_raw(&w, "{\"type\":\"error\",\"code\":");
    jw_str(&w, http_error_name(e.kind));
    jw_raw(&w, ",\"message\":");
    jw_str(&w, e.message);
    jw_raw(&w, ",\"cid\":");
    cid_or_null(&w, cid);
    jw_raw(&w, "}");
    return wrap(&w, buf, FRAME_TEXT);
}

/* Control frames carry raw bytes, not JSON: written straight after a
 * two-byte header (RFC 6455 caps their payload at FRAME_CONTROL_MAX). */
static size_t control(char *buf, size_t cap, enum frame_opcode op, const void *a, size_t a_len,
                      const void *b, size_t b_len)
{
    size_t n = a_len + b_len;
    if (n > FRAME_CONTROL_MAX || cap < 2 + n)
        return 0;
    buf[0] = (char)(0x80 | op);
    buf[1] = (char)n;
    if (a_len)
        memcpy(buf + 2, a, a_len);
    if (b_len)
        memcpy(buf + 2 + a_len, b, b_len);
    return 2 + n;
}

size_t frame_control(char *buf, size_t cap, enum frame_opcode op, const void *payload, size_t len)
{
    return control(buf, cap, op, payload, len, NULL, 0);
}

size_t frame_close(char *buf, size_t cap, int code, const char *reason)
{
    unsigned char be[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    size_t n = strlen(reason);
    return control(buf, cap, FRAME_CLOSE, be, 2, reason,
                   n > FRAME_CLOSE_REASON_MAX ? FRAME_CLOSE_REASON_MAX : n);
}
