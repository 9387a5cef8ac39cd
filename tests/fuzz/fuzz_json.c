/*
 * fuzz_json - request JSON as the API and the WebSocket read it: json_parse
 * into a fixed arena, the members every handler asks for, and the writer
 * (jw_str) whose output must parse back to the same string.
 */
#include "json.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"name", "password", "body", "cid", "type", "room", "since"};

/* jw_str of s parsed back by json_parse is s again. */
static void check_round_trip(const char *s)
{
    static char out[4 * CHAT_MAX_REQUEST + 8];
    static struct json_arena arena;
    struct jw w;
    jw_init(&w, out, sizeof out);
    jw_str(&w, s);
    const char *text = jw_finish(&w);
    if (!text)
        return; /* longer than any request */
    const cJSON *back = json_parse(&arena, text, w.len);
    if (!back || !cJSON_IsString(back) || strcmp(back->valuestring, s) != 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    json_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[CHAT_MAX_REQUEST + 1];
    static struct json_arena arena;
    if (size > CHAT_MAX_REQUEST)
        return -1; /* the API refuses a larger body before parsing */
    memcpy(text, data, size);
    text[size] = '\0';
    const cJSON *doc = json_parse(&arena, text, size);
    if (!doc)
        return 0;
    if (arena.used > sizeof arena.bytes)
        abort();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s = json_get_string(doc, keys[i]);
        int64_t n;
        if (json_get_int(doc, keys[i], &n) == 1 && (n > 9007199254740991 || n < -9007199254740991))
            abort();
        if (!s)
            continue;
        (void)text_valid_name(s);
        (void)text_valid_cid(s);
        (void)text_check_body(s, strlen(s));
        check_round_trip(s);
    }
    if (cJSON_IsString(doc))
        check_round_trip(doc->valuestring);
    return 0;
}
