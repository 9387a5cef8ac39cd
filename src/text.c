#include "text.h"

#include "config.h"

#include <string.h>
#include <strings.h>

static bool valid_token(const char *s, size_t max, const char *extra)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(extra, c) != NULL;
        if (!ok || n >= max)
            return false;
    }
    return n > 0;
}

bool text_valid_name(const char *name)
{
    return name && valid_token(name, CHAT_NAME_MAX, "_.-");
}

bool text_valid_cid(const char *cid)
{
    return cid && valid_token(cid, CHAT_CID_MAX, "._:-");
}

void text_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool text_same_name(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* Length of the UTF-8 sequence at s (RFC 3629), 0 when invalid; its code
 * point in *out. */
static size_t utf8_sequence(const unsigned char *s, size_t left, unsigned *out)
{
    unsigned char c = s[0];
    size_t need;
    unsigned min;
    unsigned cp;
    *out = c;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2, min = 0x80, cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, min = 0x800, cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0;
    }
    if (need > left)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *out = cp;
    return need;
}

/* Characters that show nothing: Unicode's White_Space (tab to CR, space,
 * NEL, no-break, the Zs spaces, line and paragraph separators) and the
 * invisible ones a body of "only white space" is made of in practice: zero
 * widths and joiners, the BOM, the Mongolian vowel separator, the Hangul
 * fillers and the blank Braille pattern. */
static bool blank(unsigned cp)
{
    switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x115F:
    case 0x1160:
    case 0x1680:
    case 0x180E:
    case 0x202F:
    case 0x205F:
    case 0x2060:
    case 0x2800:
    case 0x3000:
    case 0x3164:
    case 0xFEFF:
    case 0xFFA0:
        return true;
    default:
        return (cp >= 0x2000 && cp <= 0x200D) || cp == 0x2028 || cp == 0x2029;
    }
}

enum text_body_verdict text_check_body(const char *body, size_t len)
{
    if (len > CHAT_MAX_BODY)
        return TEXT_BODY_TOO_LONG;
    const unsigned char *s = (const unsigned char *)body;
    bool visible = false;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_sequence(s + i, len - i, &cp);
        if (n == 0)
            return TEXT_BODY_BAD_UTF8;
        if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f) && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return TEXT_BODY_CONTROL;
        if (!blank(cp))
            visible = true;
        i += n;
    }
    return visible ? TEXT_BODY_OK : TEXT_BODY_EMPTY;
}

const char *text_body_problem(enum text_body_verdict verdict)
{
    switch (verdict) {
    case TEXT_BODY_OK:
        return "ok";
    case TEXT_BODY_EMPTY:
        return "message body is empty";
    case TEXT_BODY_TOO_LONG:
        return "message body is longer than the limit";
    case TEXT_BODY_BAD_UTF8:
        return "message body is not valid UTF-8";
    case TEXT_BODY_CONTROL:
        return "message body contains a control character";
    }
    return "invalid message body";
}

/* Whether the len < need bytes at s can still become a valid sequence: the
 * second byte's range depends on the first (RFC 3629's table), so that an
 * overlong, a surrogate or a code point past U+10FFFF is refused as soon as
 * its first two bytes are seen. */
static bool utf8_could_complete(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], low = 0x80, high = 0xBF;
    if (c == 0xE0)
        low = 0xA0;
    else if (c == 0xED)
        high = 0x9F;
    else if (c == 0xF0)
        low = 0x90;
    else if (c == 0xF4)
        high = 0x8F;
    else if (c < 0xC2 || c > 0xF4)
        return false;
    size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len >= need)
        return false;
    for (size_t i = 1; i < len; i++) {
        if (s[i] < (i == 1 ? low : 0x80) || s[i] > (i == 1 ? high : 0xBF))
            return false;
    }
    return true;
}

size_t text_utf8_span(const char *s, size_t len, bool *invalid)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    *invalid = false;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_sequence(u + i, len - i, &cp);
        if (n == 0) {
            *invalid = !utf8_could_complete(u + i, len - i);
            break;
        }
        i += n;
    }
    return i;
}

struct chat_error text_body_error(const char *body, size_t len)
{
    enum text_body_verdict verdict = text_check_body(body, len);
    if (verdict == TEXT_BODY_TOO_LONG)
        return CHAT_ERROR(TOO_LARGE, text_body_problem(verdict));
    if (verdict != TEXT_BODY_OK)
        return CHAT_ERROR(BAD_REQUEST, text_body_problem(verdict));
    return CHAT_OK;
}
