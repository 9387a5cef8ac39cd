/*
 * jscan.h - finds the few top-level fields loadgen needs in one JSON object
 * as lanchat writes it: no white space, strings escaping only \t \n \r "
 * \\ and \u00XX. Spans point into the caller's text and are not unescaped.
 * Not a validator, no allocation, callable from any thread.
 */
#ifndef LOADGEN_JSCAN_H
#define LOADGEN_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct jscan_key {
    const char *name;
    size_t len;
};
#define JSCAN_KEY(s)                                                                               \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }

struct jscan_span {
    const char *p; /* NULL: the key is absent */
    size_t len;
    bool is_string; /* p/len are the string's contents, quotes excluded */
};

/* Fills out[i] for keys[i], i < n, stopping once all are found. Returns 0,
 * or -1 when the text is not an object it can walk. */
int jscan_fields(const char *json, size_t len, const struct jscan_key *keys, size_t n,
                 struct jscan_span *out);
/* Whether a span is the string `s`. */
bool jscan_is(const struct jscan_span *v, const char *s, size_t len);

#endif
