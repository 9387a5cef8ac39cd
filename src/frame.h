/*
 * frame - every frame the server sends on a WebSocket, written in one place:
 * the JSON of each frame type of docs/API.md, wrapped in its RFC 6455 header
 * (FIN, text or control opcode, unmasked), ready to be copied to a socket;
 * and the message object REST answers with, which the message frame shares.
 * Owns no state. Calls json, hub (the rooms and users a hello lists), http
 * (the wire names of error kinds), text (a cid echoed only if valid) and
 * store (the message rows it writes out).
 * Thread rules: any thread; each call writes only into the caller's buffer.
 */
#ifndef LANCHAT_FRAME_H
#define LANCHAT_FRAME_H

#include "chat_error.h"
#include "json.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_opcode { FRAME_TEXT = 1, FRAME_CLOSE = 8, FRAME_PING = 9, FRAME_PONG = 10 };

/* The close codes lanchat sends (RFC 6455 7.4.1; 1013 from IANA's registry). */
enum frame_close_code {
    FRAME_CLOSE_NORMAL = 1000,     /* session ended: logout, eviction */
    FRAME_CLOSE_GOING_AWAY = 1001, /* server shutting down, no answer to pings */
    FRAME_CLOSE_PROTOCOL = 1002,   /* the peer broke RFC 6455 */
    FRAME_CLOSE_BAD_DATA = 1007,   /* text that is not UTF-8 */
    FRAME_CLOSE_POLICY = 1008,     /* slow consumer, too slow a message, too many WebSockets */
    FRAME_CLOSE_TOO_BIG = 1009,    /* a message over CHAT_MAX_REQUEST */
    FRAME_CLOSE_INTERNAL = 1011,   /* the server failed */
    FRAME_CLOSE_TRY_LATER = 1013,  /* server full */
};

/* A message frame's largest size: header, envelope and a body that doubles
 * when escaped (only \t \n \r " \ escape). */
#define FRAME_MESSAGE_MAX (4 + CHAT_FRAME_SIZE)

/* The message object of the API; with as_frame it carries "type":"message". */
void frame_message_json(struct jw *w, const struct store_message *m, const char *room,
                        bool as_frame);

/* The lists a hello carries, as REST answers them too. */
/* [{"name":...},...]: the rooms user may read, a direct one with
 * "direct":"<the other member>". */
void frame_rooms_json(struct jw *w, const char *user);
void frame_online_json(struct jw *w); /* ["alice",...], sorted */

/* Each writes one complete frame into buf and returns its length, or 0 when
 * it does not fit in cap. The JSON is written first, NUL-terminated, after
 * room for the longest header (10 bytes): cap must hold the payload and 11
 * bytes, whatever the frame's own header. */
size_t frame_message(char *buf, size_t cap, const struct store_message *m, const char *room);
/* by: who deleted it (the author or an admin); NULL or "" leaves it out
 * (a deletion mirrored from another appliance). */
size_t frame_deleted(char *buf, size_t cap, const char *room, int64_t id, const char *by);
/* An admin's act, told to every client: action "mute" (with seconds) or
 * "kick" (seconds < 0 leaves it out). */
size_t frame_moderation(char *buf, size_t cap, const char *action, const char *user, const char *by,
                        int64_t seconds);
size_t frame_presence(char *buf, size_t cap, const char *user, bool online);
/* {"type":"rooms"}: the list of rooms changed, read it again (no names: a
 * direct room's are its members' alone). */
size_t frame_rooms(char *buf, size_t cap);
#if CHAT_WITH_TYPING
size_t frame_typing(char *buf, size_t cap, const char *room, const char *user);
#endif
size_t frame_hello(char *buf, size_t cap, const char *user); /* rooms, users online */
size_t frame_joined(char *buf, size_t cap, const char *room);
size_t frame_gap(char *buf, size_t cap, const char *room);
size_t frame_ack(char *buf, size_t cap, const char *cid, int64_t id, int64_t ts);
size_t frame_error(char *buf, size_t cap, struct chat_error e, const char *cid);
/* RFC 6455 5.5: a control frame's payload is at most 125 bytes (its header
 * is 2); a close's is the 2-byte code and a reason. */
#define FRAME_CONTROL_MAX 125
#define FRAME_CLOSE_REASON_MAX (FRAME_CONTROL_MAX - 2)

/* A ping or pong echoing payload (at most FRAME_CONTROL_MAX bytes). */
size_t frame_control(char *buf, size_t cap, enum frame_opcode op, const void *payload, size_t len);
/* A close frame: the code and a reason, cut to FRAME_CLOSE_REASON_MAX. */
size_t frame_close(char *buf, size_t cap, int code, const char *reason);

#endif
