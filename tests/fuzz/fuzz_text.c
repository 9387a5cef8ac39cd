/*
 * fuzz_text - the API's rules for names, client ids and message bodies
 * (src/text.c), checked against a second, deliberately plain reading of
 * RFC 3629 and of the rules in docs/API.md.
 */
#include "config.h"
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Code point at s (length in *n), or -1 when not a shortest-form scalar value. */
static long decode(const unsigned char *s, size_t left, size_t *n)
{
    long cp;
    if (s[0] < 0x80)
        return *n = 1, s[0];
    if ((s[0] & 0xE0) == 0xC0)
        *n = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        *n = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        *n = 4, cp = s[0] & 0x07;
    else
        return -1;
    if (*n > left)
        return -1;
    for (size_t i = 1; i < *n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const long shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[*n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    return cp;
}

static enum text_body_verdict expected_verdict(const unsigned char *s, size_t len)
{
    if (len > CHAT_MAX_BODY)
        return TEXT_BODY_TOO_LONG;
    bool visible = false;
    for (size_t i = 0, n; i < len; i += n) {
        long cp = decode(s + i, len - i, &n);
        if (cp < 0)
            return TEXT_BODY_BAD_UTF8;
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f)
            return TEXT_BODY_CONTROL;
        if (cp != ' ' && cp != '\t' && cp != '\n' && cp != '\r')
            visible = true;
    }
    return visible ? TEXT_BODY_OK : TEXT_BODY_EMPTY;
}

static bool expected_token(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i])))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CHAT_MAX_BODY + 8)
        return -1;
    /* An exact-size heap copy, so that ASan sees any read past the end. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    /* Which white space makes a body "empty" may widen (Unicode spaces): a
     * body of ASCII white space only is empty, anything else may be. */
    enum text_body_verdict got = text_check_body(body, size), want = expected_verdict(data, size);
    if (got != want && !(want == TEXT_BODY_OK && got == TEXT_BODY_EMPTY))
        abort();
    free(body);

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (text_valid_name(s) != expected_token(s, CHAT_NAME_MAX, "_.-") ||
        text_valid_cid(s) != expected_token(s, CHAT_CID_MAX, "._:-"))
        abort();
    char copy[CHAT_NAME_MAX + 1];
    text_copy(copy, sizeof copy, s);
    if (strncmp(copy, s, CHAT_NAME_MAX) != 0 || strlen(copy) > CHAT_NAME_MAX)
        abort();
    if (!text_same_name(s, s))
        abort();
    free(s);
    return 0;
}
