/*
 * chat_error - the API's error value, shared by REST (status + JSON body)
 * and WebSocket (error frame with the same code). No code, no state.
 */
#ifndef LANCHAT_CHAT_ERROR_H
#define LANCHAT_CHAT_ERROR_H

struct chat_error {
    int status; /* HTTP status; 0 means no error */
    const char *code;
    const char *message;
};

#define CHAT_ERROR(status, code, message) ((struct chat_error){(status), (code), (message)})
#define CHAT_OK CHAT_ERROR(0, NULL, NULL)

#endif
