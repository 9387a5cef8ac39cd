#include "json.h"

#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* cJSON allocates every node and string. During a parse its allocations go
 * to the caller's arena (a bump allocator): bounded memory, no heap, and
 * nothing to free. Only json_parse allocates; reading a document does not. */
static _Thread_local struct json_arena *current;

static void *arena_alloc(size_t size)
{
    size_t aligned = (size + 15u) & ~(size_t)15u;
    if (!current || aligned > sizeof current->bytes - current->used)
        return NULL;
    void *p = current->bytes + current->used;
    current->used += aligned;
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* released all at once by the next json_parse */
}

void json_init(void)
{
    cJSON_Hooks hooks = {.malloc_fn = arena_alloc, .free_fn = arena_free};
    cJSON_InitHooks(&hooks);
}

/* True when the text holds the escape \u0000 (an escaped backslash followed
 * by "u0000" is text, not a NUL). */
static bool has_escaped_nul(const char *text, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && len - i >= 6 && memcmp(text + i + 2, "0000", 4) == 0)
            return true;
        i++; /* skip the escaped character, a backslash included */
    }
    return false;
}

const cJSON *json_parse(struct json_arena *arena, const char *text, size_t len)
{
    arena->used = 0;
    /* A NUL, raw or escaped, would silently cut a string short in cJSON:
     * refuse the document instead of losing text. */
    if (memchr(text, '\0', len) != NULL || has_escaped_nul(text, len))
        return NULL;
    current = arena;
    /* Trailing bytes after the document make it malformed, not ignored. */
    const cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
    current = NULL;
    return doc;
}

const char *json_get_string(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int json_get_int(const cJSON *object, const char *key, int64_t *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (v < -9007199254740991.0 || v > 9007199254740991.0 || v != (double)(int64_t)v)
        return -1;
    *out = (int64_t)v;
    return 1;
}

void jw_init(struct jw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = cap == 0;
    if (cap)
        buf[0] = '\0';
}

static void put(struct jw *w, const char *p, size_t n)
{
    if (w->overflow)
        return;
    if (n >= w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void jw_raw(struct jw *w, const char *text)
{
    put(w, text, strlen(text));
}

void jw_str(struct jw *w, const char *text)
{
    put(w, "\"", 1);
    const char *run = text;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '\0' && c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, run, (size_t)(p - run));
        run = p + 1;
        if (c == '\0')
            break;
        char esc[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, "\"", 1);
}

/* Every message frame has two (id, ts): by hand, not through printf. */
void jw_int(struct jw *w, int64_t value)
{
    char num[24];
    char *end = num + sizeof num, *p = end;
    uint64_t v = value < 0 ? -(uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (value < 0)
        *--p = '-';
    put(w, p, (size_t)(end - p));
}

void jw_key(struct jw *w, const char *key)
{
    jw_str(w, key);
    put(w, ":", 1);
}

const char *jw_finish(struct jw *w)
{
    return w->overflow ? NULL : w->buf;
}
