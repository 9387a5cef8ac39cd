/*
 * jscan.c - a one-pass walk over the top-level members of a JSON object
 * (jscan.h): strings are skipped escape by escape, nested values by depth.
 */
#include "jscan.h"

#include <string.h>

/* At s[*i] == '"': moves *i past the closing quote. */
static int skip_string(const char *s, size_t len, size_t *i)
{
    for (size_t j = *i + 1; j < len; j++) {
        if (s[j] == '\\')
            j++;
        else if (s[j] == '"') {
            *i = j + 1;
            return 0;
        }
    }
    return -1;
}

static int skip_nested(const char *s, size_t len, size_t *i)
{
    int depth = 0;
    size_t j = *i;
    while (j < len) {
        char ch = s[j];
        if (ch == '"') {
            if (skip_string(s, len, &j) < 0)
                return -1;
            continue;
        }
        if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth == 0) {
            *i = j + 1;
            return 0;
        }
        j++;
    }
    return -1;
}

static int skip_value(const char *s, size_t len, size_t *i)
{
    if (*i >= len)
        return -1;
    if (s[*i] == '"')
        return skip_string(s, len, i);
    if (s[*i] == '{' || s[*i] == '[')
        return skip_nested(s, len, i);
    size_t j = *i;
    while (j < len && s[j] != ',' && s[j] != '}' && s[j] != ']')
        j++;
    if (j == *i)
        return -1;
    *i = j;
    return 0;
}

static bool record(const char *key, size_t klen, const char *v, size_t vlen,
                   const struct jscan_key *keys, size_t n, struct jscan_span *out)
{
    for (size_t k = 0; k < n; k++) {
        if (out[k].p || keys[k].len != klen || memcmp(keys[k].name, key, klen) != 0)
            continue;
        bool str = v[0] == '"';
        out[k] = (struct jscan_span){str ? v + 1 : v, str ? vlen - 2 : vlen, str};
        return true;
    }
    return false;
}

int jscan_fields(const char *json, size_t len, const struct jscan_key *keys, size_t n,
                 struct jscan_span *out)
{
    memset(out, 0, n * sizeof *out);
    if (len < 2 || json[0] != '{')
        return -1;
    size_t found = 0, i = 1;
    while (i < len && json[i] != '}') {
        if (json[i] == ',') {
            i++;
            continue;
        }
        size_t key = i;
        if (json[i] != '"' || skip_string(json, len, &i) < 0 || i >= len || json[i] != ':')
            return -1;
        size_t value = ++i;
        if (skip_value(json, len, &i) < 0)
            return -1;
        if (record(json + key + 1, value - key - 3, json + value, i - value, keys, n, out) &&
            ++found == n)
            return 0;
    }
    return i < len ? 0 : -1;
}

bool jscan_is(const struct jscan_span *v, const char *s, size_t len)
{
    return v->p && v->len == len && memcmp(v->p, s, len) == 0;
}
