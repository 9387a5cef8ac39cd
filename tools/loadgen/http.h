/*
 * http.h - the HTTP/1.1 loadgen speaks: formatting a request and parsing a
 * response (status, Content-Length body, Sec-WebSocket-Accept) out of the
 * caller's buffer, plus one blocking round trip for set-up calls made by
 * main. No allocation; callable from any thread.
 */
#ifndef LOADGEN_HTTP_H
#define LOADGEN_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

enum http_parse { HTTP_INCOMPLETE, HTTP_COMPLETE, HTTP_MALFORMED };

struct http_response {
    int status;
    size_t head_len; /* bytes up to and including the empty line */
    const char *body;
    size_t body_len;
    const char *accept; /* Sec-WebSocket-Accept value, or NULL */
    size_t accept_len;
};

/* Formats a request; `token`, `extra` (more header lines, each ending in
 * CRLF) and `json` may be NULL. Returns its length, or -1 when it does not
 * fit in cap. */
int http_format(char *out, size_t cap, const char *method, const char *path, const char *host,
                const char *token, const char *extra, const char *json);
/* A 1xx/204/304 response is complete at its empty line; others need their
 * Content-Length, or end of file (at_eof) when they have none. */
enum http_parse http_parse(const char *buf, size_t len, bool at_eof, struct http_response *r);
/* Connects, sends req, reads one response into resp; 0, or -1 on a
 * socket error, timeout or malformed answer (errno says which). */
/* Against a loopback server, binds fd to the loopback address 127.0.0.(2 +
 * k % 250): the server sees clients from many addresses, as on a LAN, and
 * its per-address limits apply to each as they would there. */
int http_bind_source(int fd, const struct sockaddr_in *target, unsigned k);
int http_roundtrip(const struct sockaddr_in *addr, const char *req, size_t req_len, char *resp,
                   size_t cap, int timeout_ms, struct http_response *r);

#endif
