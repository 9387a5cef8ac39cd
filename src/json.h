/*
 * json - reading request JSON (cJSON, parsed inside a fixed per-thread
 * arena so no heap is touched) and writing response JSON into a caller's
 * fixed buffer (struct jw). Calls cJSON and libc only.
 * Thread rules: any thread; a parsed document lives in its caller's arena.
 */
#ifndef LANCHAT_JSON_H
#define LANCHAT_JSON_H

#include "config.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Storage for one parsed document; callers keep it on their stack. */
struct json_arena {
    size_t used;
    _Alignas(16) unsigned char bytes[CHAT_JSON_ARENA];
};

void json_init(void); /* installs the arena allocator into cJSON; once, at boot */
/* Parses len bytes (text[len] must be '\0') into arena; NULL when malformed, has a NUL, or does not
 * fit the arena. The document lives as long as the arena. */
const cJSON *json_parse(struct json_arena *arena, const char *text, size_t len);
/* The string member `key`, or NULL when absent or not a string. */
const char *json_get_string(const cJSON *object, const char *key);
/* Integer member: 1 found (stored in *out), 0 absent, -1 present but not an integer. */
int json_get_int(const cJSON *object, const char *key, int64_t *out);

/* Writer: appends into buf; `overflow` is set (and output stops) when full. */
struct jw {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

void jw_init(struct jw *w, char *buf, size_t cap);
void jw_raw(struct jw *w, const char *text);
void jw_str(struct jw *w, const char *text); /* quoted and escaped */
void jw_int(struct jw *w, int64_t value);
void jw_key(struct jw *w, const char *key); /* "key": */
const char *jw_finish(struct jw *w);        /* NUL-terminated text or NULL on overflow */

#endif
