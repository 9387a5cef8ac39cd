/*
 * text - the API's rules for names, client ids and message bodies.
 * Owns no state. Calls only libc. Thread rules: any thread.
 */
#ifndef LANCHAT_TEXT_H
#define LANCHAT_TEXT_H

#include "chat_error.h"

#include <stdbool.h>
#include <stddef.h>

/* 1..CHAT_NAME_MAX chars of [A-Za-z0-9_.-] (user and room names). */
bool text_valid_name(const char *name);
/* 1..CHAT_CID_MAX chars of [A-Za-z0-9._:-]. */
bool text_valid_cid(const char *cid);

enum text_body_verdict {
    TEXT_BODY_OK,
    TEXT_BODY_EMPTY, /* empty or only white space (Unicode's, and invisible characters: text.c) */
    TEXT_BODY_TOO_LONG, /* more than CHAT_MAX_BODY bytes */
    TEXT_BODY_BAD_UTF8, /* not valid UTF-8 (overlongs, surrogates included) */
    TEXT_BODY_CONTROL,  /* a control character other than \t \n \r */
};
enum text_body_verdict text_check_body(const char *body, size_t len);
const char *text_body_problem(enum text_body_verdict verdict);
/* The body's verdict as the chat's error: TOO_LARGE, BAD_REQUEST or OK. */
struct chat_error text_body_error(const char *body, size_t len);
/* How many bytes at the start of s are whole, valid UTF-8 sequences (RFC
 * 3629: no overlongs, surrogates or code points past U+10FFFF). It stops
 * at the first sequence that is invalid (*invalid set) or that the end of s
 * cuts short while it may still become valid (*invalid clear): for text
 * that arrives in parts. */
size_t text_utf8_span(const char *s, size_t len, bool *invalid);
/* Case-insensitive ASCII comparison of names. */
bool text_same_name(const char *a, const char *b);
/* Copies src into dst of cap bytes, cut to fit and NUL-terminated (for
 * fields whose length the caller has checked: names, cids, bodies). */
void text_copy(char *dst, size_t cap, const char *src);

#endif
