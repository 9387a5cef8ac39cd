/*
 * http.c - HTTP/1.1 request formatting and response parsing for loadgen
 * (http.h), and the blocking round trip main uses to create the room.
 */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int http_format(char *out, size_t cap, const char *method, const char *path, const char *host,
                const char *token, const char *extra, const char *json)
{
    char auth[128] = "";
    char body_headers[96] = "";
    if (token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
    if (json)
        snprintf(body_headers, sizeof body_headers,
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(json));
    int n = snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n%s", method, path, host,
                     auth, body_headers, extra ? extra : "", json ? json : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* The value of header `name` (with its colon) in the head, or NULL. */
static const char *header_value(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = memchr(head, '\n', len);
    while (p && (size_t)(p + 1 - head) + nlen < len) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', len - (size_t)(line - head));
        if (!eol)
            return NULL;
        if (strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = eol;
            while (e > v && (e[-1] == '\r' || e[-1] == ' '))
                e--;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

static bool bodiless(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

enum http_parse http_parse(const char *buf, size_t len, bool at_eof, struct http_response *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return at_eof ? HTTP_MALFORMED : HTTP_INCOMPLETE;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return HTTP_MALFORMED;
    memset(r, 0, sizeof *r);
    r->head_len = (size_t)(end - buf) + 4;
    r->status = atoi(buf + 9);
    r->accept = header_value(buf, r->head_len, "sec-websocket-accept:", &r->accept_len);
    r->body = buf + r->head_len;
    if (bodiless(r->status))
        return HTTP_COMPLETE;
    size_t clen_len = 0;
    const char *clen = header_value(buf, r->head_len, "content-length:", &clen_len);
    size_t have = len - r->head_len;
    if (!clen) {
        r->body_len = have;
        return at_eof ? HTTP_COMPLETE : HTTP_INCOMPLETE;
    }
    r->body_len = (size_t)strtoul(clen, NULL, 10);
    if (have >= r->body_len)
        return HTTP_COMPLETE;
    return at_eof ? HTTP_MALFORMED : HTTP_INCOMPLETE;
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the absolute deadline; 0 or -1 (ETIMEDOUT). */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - ms_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int http_bind_source(int fd, const struct sockaddr_in *target, unsigned k)
{
    if ((ntohl(target->sin_addr.s_addr) >> 24) != 127)
        return 0;
    struct sockaddr_in src = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(0x7f000002u + k % 250)};
    return bind(fd, (const struct sockaddr *)&src, sizeof src);
}

static int connect_within(int fd, const struct sockaddr_in *addr, long long deadline)
{
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0)
        return 0;
    if (errno != EINPROGRESS || wait_for(fd, POLLOUT, deadline) != 0)
        return -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -1;
    errno = err;
    return err ? -1 : 0;
}

static int exchange(int fd, const char *req, size_t req_len, char *resp, size_t cap,
                    long long deadline, struct http_response *r)
{
    for (size_t off = 0; off < req_len;) {
        ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        else if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline) != 0)
            return -1;
    }
    size_t len = 0;
    for (;;) {
        if (wait_for(fd, POLLIN, deadline) != 0)
            return -1;
        ssize_t n = recv(fd, resp + len, cap - 1 - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            return -1;
        len += (size_t)n;
        resp[len] = '\0';
        enum http_parse p = http_parse(resp, len, n == 0 || len == cap - 1, r);
        if (p == HTTP_COMPLETE)
            return 0;
        if (p == HTTP_MALFORMED) {
            errno = EPROTO;
            return -1;
        }
    }
}

int http_roundtrip(const struct sockaddr_in *addr, const char *req, size_t req_len, char *resp,
                   size_t cap, int timeout_ms, struct http_response *r)
{
    long long deadline = ms_now() + timeout_ms;
    static atomic_uint next_source;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = http_bind_source(fd, addr, atomic_fetch_add(&next_source, 1));
    if (rc == 0)
        rc = connect_within(fd, addr, deadline);
    if (rc == 0)
        rc = exchange(fd, req, req_len, resp, cap, deadline, r);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
