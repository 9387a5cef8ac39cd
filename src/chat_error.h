/*
 * chat_error - the chat's error value, shared by every module that refuses
 * something: a kind of our own and a message for people. REST answers it with
 * a status and the JSON error body, WebSocket with an error frame; http.c holds
 * the only table from kinds to HTTP statuses and wire names. No code, no state.
 */
#ifndef LANCHAT_CHAT_ERROR_H
#define LANCHAT_CHAT_ERROR_H

enum chat_errc {
    CHAT_E_NONE = 0,
    CHAT_E_BAD_REQUEST,
    CHAT_E_UNAUTHORIZED,
    CHAT_E_FORBIDDEN,
    CHAT_E_NOT_FOUND,
    CHAT_E_METHOD_NOT_ALLOWED,
    CHAT_E_NOT_ACCEPTABLE,
    CHAT_E_NAME_TAKEN,
    CHAT_E_CONFLICT,
    CHAT_E_TOO_LARGE,
    CHAT_E_UNSUPPORTED_MEDIA_TYPE,
    CHAT_E_RATE_LIMITED,
    CHAT_E_UNAVAILABLE,
    CHAT_E_INTERNAL,
    CHAT_E_COUNT
};

struct chat_error {
    enum chat_errc kind; /* CHAT_E_NONE means no error */
    const char *message;
};

#define CHAT_ERROR(kind, message) ((struct chat_error){CHAT_E_##kind, (message)})
#define CHAT_OK ((struct chat_error){CHAT_E_NONE, NULL})

#endif
