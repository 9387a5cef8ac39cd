/*
 * mirror - what appliances say to each other through the MQTT broker, as
 * bytes: the topics (<prefix>/rooms/<room>/messages|deleted|created|post)
 * and their JSON payloads, written and read. Every check of what a broker
 * hands us is here (docs/MQTT.md): a refusal is a chat_error, and nothing is
 * kept. No state, no sockets, no storage.
 * Calls json (the parse arena, the writer) and text (the name, cid and body
 * rules).
 * Thread rules: any thread; a parse uses its caller's arena.
 */
#ifndef LANCHAT_MIRROR_H
#define LANCHAT_MIRROR_H

#include "chat_error.h"
#include "config.h"
#include "json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIRROR_PREFIX_MAX 64
/* <prefix>/rooms/<room>/messages, and a NUL. */
#define MIRROR_TOPIC_MAX (MIRROR_PREFIX_MAX + CHAT_NAME_MAX + 24)
/* The largest payload read or written: a message whose every body byte is
 * escaped (\u00XX is six bytes for one), its names, cid and keys. */
#define MIRROR_PAYLOAD_MAX (6 * CHAT_MAX_BODY + 4 * CHAT_NAME_MAX + 2 * CHAT_CID_MAX + 160)
/* What a device's author is stored with: ':' is no name character, so no
 * person's name can look like it. */
#define MIRROR_DEVICE_MARK "device:"
#define MIRROR_DEVICE_NAME_MAX (CHAT_NAME_MAX - (int)(sizeof MIRROR_DEVICE_MARK - 1))

enum mirror_kind {
    MIRROR_MESSAGES, /* a message committed on its origin */
    MIRROR_DELETED,  /* a message deleted on its origin */
    MIRROR_CREATED,  /* a room created (retained) */
    MIRROR_POST,     /* a device posts into a room */
};

/* A mirrored message, as its origin stored it. */
struct mirror_message {
    char node[CHAT_NAME_MAX + 1];
    int64_t id; /* the origin's id */
    int64_t ts; /* ms since epoch, UTC */
    char author[CHAT_NAME_MAX + 1];
    char cid[CHAT_CID_MAX + 1]; /* "" when none */
    char body[CHAT_MAX_BODY + 1];
};

/* A device's post, before the chat's rules (hub) judge its body. */
struct mirror_post {
    char author[CHAT_NAME_MAX + 1]; /* device:<name> */
    char cid[CHAT_CID_MAX + 1];     /* "" when none */
    const char *body;               /* NUL-terminated, in the caller's buffer or arena */
};

/* 1..MIRROR_PREFIX_MAX - 1 bytes of topic levels: no wildcard, no empty
 * level, no leading '$'. */
bool mirror_valid_prefix(const char *prefix);
/* Writes <prefix>/rooms/<room>/<kind>; false when it does not fit. */
bool mirror_topic(char *buf, size_t cap, const char *prefix, const char *room,
                  enum mirror_kind kind);
/* Reads <prefix>/rooms/<room>/<kind>: NOT_FOUND for another topic,
 * BAD_REQUEST for a room name that breaks the name rules. */
struct chat_error mirror_parse_topic(const char *prefix, const char *topic,
                                     char room[CHAT_NAME_MAX + 1], enum mirror_kind *kind);

/* Payloads, written into buf: their length, or 0 when cap is too small. */
size_t mirror_encode_message(char *buf, size_t cap, const struct mirror_message *m);
size_t mirror_encode_deleted(char *buf, size_t cap, const char *node, int64_t id);
size_t mirror_encode_created(char *buf, size_t cap, const char *node);

/* Readers of len bytes; payload[len] must be '\0' (libmosquitto ends every
 * payload so) and a NUL before it is refused. TOO_LARGE past
 * MIRROR_PAYLOAD_MAX, BAD_REQUEST for anything else wrong. */
struct chat_error mirror_parse_message(const char *payload, size_t len, struct json_arena *arena,
                                       struct mirror_message *out);
struct chat_error mirror_parse_deleted(const char *payload, size_t len, struct json_arena *arena,
                                       char node[CHAT_NAME_MAX + 1], int64_t *id);
struct chat_error mirror_parse_created(const char *payload, size_t len, struct json_arena *arena,
                                       char node[CHAT_NAME_MAX + 1]);
/* Plain UTF-8 text, or JSON {"body", "author"?, "cid"?} when its first
 * non-blank byte is '{'. The body's rules are the hub's (hub_post_prepare). */
struct chat_error mirror_parse_post(const char *payload, size_t len, struct json_arena *arena,
                                    struct mirror_post *out);

#endif
