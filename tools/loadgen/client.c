/*
 * client.c - one client's conversation with the server, driven by its
 * worker (worker.h): the non-blocking socket, the set-up requests (login,
 * WebSocket handshake, logout) and their answers, the frames of the
 * WebSocket, matching each message, ack and error to what was sent, and
 * writing sends. Runs on the client's worker thread only.
 */
#include "worker.h"

#include "http.h"
#include "jscan.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t next_random(struct worker *w)
{
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 0x2545f4914f6cdd1dull;
}

static size_t put_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

/* Reads decimal digits at p[*i] up to `end`, and moves *i past it. */
static int parse_u64(const char *p, size_t len, size_t *i, char end, uint64_t *out)
{
    uint64_t v = 0;
    size_t j = *i;
    while (j < len && j - *i < 19 && p[j] >= '0' && p[j] <= '9')
        v = v * 10 + (uint64_t)(p[j++] - '0');
    if (j == *i || j >= len || p[j] != end)
        return -1;
    *i = j + 1;
    *out = v;
    return 0;
}

static bool test_bit(const uint64_t *bits, uint64_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *bits, uint64_t i)
{
    bits[i / 64] |= 1ull << (i % 64);
}

/* ---- sockets ----------------------------------------------------------------- */

void client_drop(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->connecting = c->frag_on = false;
    c->in_len = c->out_off = c->out_len = 0;
}

static int open_conn(struct worker *w, struct client *c)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        http_bind_source(fd, &w->eng->p.addr, (unsigned)c->index) != 0 ||
        (connect(fd, (const struct sockaddr *)&w->eng->p.addr, sizeof w->eng->p.addr) != 0 &&
         errno != EINPROGRESS) ||
        epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->connecting = true;
    c->in_len = c->out_off = c->out_len = 0;
    return 0;
}

/* Writes what the kernel takes; the rest waits for the next EPOLLOUT edge. */
static int flush(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0)
            c->out_off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return n < 0 && errno == EAGAIN ? 0 : -1;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Makes `need` bytes free at the end of the output buffer. */
static int make_room(struct client *c, size_t need)
{
    if (c->out_cap - c->out_len >= need)
        return 0;
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    return c->out_cap - c->out_len >= need ? 0 : -1;
}

static int queue_frame(struct worker *w, struct client *c, int opcode, const void *p, size_t len)
{
    if (make_room(c, len + WS_MAX_HEADER) != 0)
        return -1;
    size_t n = ws_encode(c->out + c->out_len, c->out_cap - c->out_len, opcode, p, len,
                         (uint32_t)next_random(w));
    c->out_len += n;
    return n ? 0 : -1;
}

static int grow(unsigned char **buf, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : IN_INITIAL;
    while (cap2 < want)
        cap2 *= 2;
    if (cap2 > MAX_FRAME + WS_MAX_HEADER)
        cap2 = MAX_FRAME + WS_MAX_HEADER;
    if (cap2 < want)
        return -1;
    unsigned char *p = realloc(*buf, cap2);
    if (!p)
        return -1;
    *buf = p;
    *cap = cap2;
    return 0;
}

/* ---- set-up jobs ------------------------------------------------------------- */

static void job_end(struct worker *w, struct client *c)
{
    if (!c->busy)
        return;
    c->busy = false;
    w->job_busy--;
}

/* slot: an HTTP status or ENGINE_FAIL_*. */
void client_fail(struct worker *w, struct client *c, int slot)
{
    if (slot < 0 || slot >= ENGINE_FAIL_SLOTS)
        slot = ENGINE_FAIL_PROTOCOL;
    w->c.failures[c->stage][slot]++;
    client_drop(c);
    c->state = c->stage == ENGINE_STAGE_WS ? S_CLOSED : S_IDLE;
    if (c->stage == ENGINE_STAGE_LOGOUT)
        c->token[0] = '\0';
    job_end(w, c);
}

static int format_login(struct worker *w, struct client *c)
{
    char json[96];
    snprintf(json, sizeof json, "{\"name\":\"lg%04d-%s\"}", c->index, w->eng->p.run_id);
    return http_format((char *)c->out, c->out_cap, "POST", "/api/v1/session", w->eng->p.host, NULL,
                       "Connection: close\r\n", json);
}

static int format_upgrade(struct worker *w, struct client *c)
{
    unsigned char nonce[16];
    uint64_t r[2] = {next_random(w), next_random(w)};
    memcpy(nonce, r, sizeof nonce);
    ws_key(nonce, c->key);
    char extra[200];
    snprintf(extra, sizeof extra,
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
             "Sec-WebSocket-Version: 13\r\n",
             c->key);
    return http_format((char *)c->out, c->out_cap, "GET", "/api/v1/ws", w->eng->p.host, c->token,
                       extra, NULL);
}

static int format_logout(struct worker *w, struct client *c)
{
    return http_format((char *)c->out, c->out_cap, "DELETE", "/api/v1/session", w->eng->p.host,
                       c->token, "Connection: close\r\n", NULL);
}

void client_begin(struct worker *w, struct client *c, enum engine_stage stage)
{
    c->busy = true;
    c->stage = stage;
    w->job_busy++;
    if (open_conn(w, c) != 0) {
        client_fail(w, c, ENGINE_FAIL_IO);
        return;
    }
    int n = stage == ENGINE_STAGE_LOGIN ? format_login(w, c)
            : stage == ENGINE_STAGE_WS  ? format_upgrade(w, c)
                                        : format_logout(w, c);
    if (n < 0) {
        client_fail(w, c, ENGINE_FAIL_PROTOCOL);
        return;
    }
    c->out_len = (size_t)n;
    c->state = S_HTTP;
}

/* ---- the WebSocket is gone ---------------------------------------------------------- */

static void sender_gone(struct worker *w, struct client *c)
{
    if (c->unsent)
        w->unsent--;
    if (c->unresolved)
        w->unresolved--;
    c->unsent = c->unresolved = false;
}

static void receiver_gone(struct worker *w, struct client *c)
{
    if (w->target >= 0 && !c->settled)
        w->pending--;
    c->settled = true;
}

/* code: the server's close code, 1006 for an end without one, 0 when
 * loadgen dropped the connection on a protocol error. Returns -1. */
static int ws_gone(struct worker *w, struct client *c, int code)
{
    if (code == 0)
        w->c.errors[ENGINE_ERR_PROTOCOL]++;
    else if (w->phase < ENGINE_TEARDOWN)
        w->c.closes[code < ENGINE_CLOSE_CODES ? code : 0]++;
    bool was_ready = c->state == S_READY;
    client_drop(c);
    c->state = S_CLOSED;
    if (c->busy) {
        w->c.failures[c->stage][code ? ENGINE_FAIL_CLOSED : ENGINE_FAIL_PROTOCOL]++;
        job_end(w, c);
    }
    if (was_ready)
        receiver_gone(w, c);
    sender_gone(w, c);
    return -1;
}

int client_flush(struct worker *w, struct client *c)
{
    if (flush(c) == 0)
        return 0;
    if (c->state == S_HTTP) {
        client_fail(w, c, ENGINE_FAIL_IO);
        return -1;
    }
    return ws_gone(w, c, 1006);
}

/* ---- matching what the server sends ------------------------------------------------ */

struct tag {
    uint64_t sender, seq, sent_ns;
};

/* A body this run wrote begins "RUNID:sender:seq:ns:". */
static int parse_tag(const struct engine *e, const struct jscan_span *body, struct tag *t)
{
    size_t i = ENGINE_RUN_ID_LEN;
    const char *p = body->p;
    if (!body->is_string || body->len <= i || memcmp(p, e->p.run_id, i) != 0 || p[i] != ':')
        return -1;
    i++;
    if (parse_u64(p, body->len, &i, ':', &t->sender) != 0 ||
        parse_u64(p, body->len, &i, ':', &t->seq) != 0 ||
        parse_u64(p, body->len, &i, ':', &t->sent_ns) != 0)
        return -1;
    return t->sender < (uint64_t)e->senders && t->seq < (uint64_t)e->p.messages ? 0 : -1;
}

/* A cid of ours is "sender-seq", sent by this client and already written. */
static int parse_cid(const struct client *c, const struct jscan_span *cid, uint64_t *seq)
{
    uint64_t sender;
    size_t i = 0;
    if (!cid->is_string || parse_u64(cid->p, cid->len, &i, '-', &sender) != 0 ||
        sender != (uint64_t)c->index)
        return -1;
    uint64_t v = 0;
    if (i == cid->len || cid->len - i > 19)
        return -1;
    for (; i < cid->len; i++) {
        if (cid->p[i] < '0' || cid->p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(cid->p[i] - '0');
    }
    *seq = v;
    return v < (uint64_t)c->next_seq ? 0 : -1;
}

static void on_message(struct worker *w, struct client *c, const struct jscan_span *body,
                       int64_t now)
{
    struct tag t;
    if (parse_tag(w->eng, body, &t) != 0) {
        w->c.foreign++;
        return;
    }
    uint64_t *bits = c->seen + t.sender * w->eng->words;
    w->last_progress = now;
    if (test_bit(bits, t.seq)) {
        w->c.duplicated++;
        return;
    }
    set_bit(bits, t.seq);
    c->unique++;
    hist_add(&w->hist, (uint64_t)now > t.sent_ns ? (uint64_t)now - t.sent_ns : 0);
    if (w->target >= 0 && !c->settled && c->unique >= (uint64_t)w->target) {
        c->settled = true;
        w->pending--;
    }
}

static void resolve_one(struct worker *w, struct client *c)
{
    c->resolved++;
    if (c->unresolved && c->resolved == w->eng->p.messages) {
        c->unresolved = false;
        w->unresolved--;
    }
}

static void on_ack(struct worker *w, struct client *c, const struct jscan_span *cid, int64_t now)
{
    uint64_t seq;
    if (!c->acked || parse_cid(c, cid, &seq) != 0 || test_bit(c->refused, seq)) {
        w->c.errors[ENGINE_ERR_PROTOCOL]++;
        return;
    }
    w->last_progress = now;
    if (test_bit(c->acked, seq)) {
        w->c.acks_dup++;
        return;
    }
    set_bit(c->acked, seq);
    w->c.acks++;
    resolve_one(w, c);
}

static int error_index(const struct jscan_span *code)
{
    for (int i = 0; i < ENGINE_ERR_OTHER; i++)
        if (jscan_is(code, engine_error_names[i], strlen(engine_error_names[i])))
            return i;
    return ENGINE_ERR_OTHER;
}

static void on_error(struct worker *w, struct client *c, const struct jscan_span *code,
                     const struct jscan_span *cid, int64_t now)
{
    uint64_t seq;
    w->c.errors[error_index(code)]++;
    w->last_progress = now;
    if (!c->acked || !cid->p || parse_cid(c, cid, &seq) != 0 || test_bit(c->acked, seq) ||
        test_bit(c->refused, seq))
        return;
    set_bit(c->refused, seq);
    c->refused_count++;
    resolve_one(w, c);
}

static int on_hello(struct worker *w, struct client *c)
{
    if (c->state != S_HELLO)
        return 0;
    if (!w->eng->p.join) { /* a sender only: ready without a room */
        c->state = S_READY;
        w->c.joined++;
        job_end(w, c);
        return 0;
    }
    char json[80];
    int n = snprintf(json, sizeof json, "{\"type\":\"join\",\"room\":\"%s\"}", w->eng->p.room);
    if (queue_frame(w, c, WS_OP_TEXT, json, (size_t)n) != 0)
        return ws_gone(w, c, 0);
    c->state = S_JOINING;
    return client_flush(w, c);
}

static void on_joined(struct worker *w, struct client *c, const struct jscan_span *room)
{
    const char *want = w->eng->p.room;
    if (c->state != S_JOINING || !room->p || room->len != strlen(want) ||
        strncasecmp(room->p, want, room->len) != 0)
        return;
    c->state = S_READY;
    w->c.joined++;
    job_end(w, c);
}

enum { K_TYPE, K_CID, K_BODY, K_CODE, K_ROOM, K_COUNT };
static const struct jscan_key text_keys[K_COUNT] = {
    JSCAN_KEY("type"), JSCAN_KEY("cid"), JSCAN_KEY("body"), JSCAN_KEY("code"), JSCAN_KEY("room")};

static int on_text(struct worker *w, struct client *c, const char *json, size_t len, int64_t now)
{
    struct jscan_span v[K_COUNT];
    if (jscan_fields(json, len, text_keys, K_COUNT, v) != 0 || !v[K_TYPE].is_string) {
        w->c.errors[ENGINE_ERR_PROTOCOL]++;
        return 0;
    }
    const struct jscan_span *type = &v[K_TYPE];
    if (jscan_is(type, "message", 7))
        on_message(w, c, &v[K_BODY], now);
    else if (jscan_is(type, "ack", 3))
        on_ack(w, c, &v[K_CID], now);
    else if (jscan_is(type, "error", 5))
        on_error(w, c, &v[K_CODE], &v[K_CID], now);
    else if (jscan_is(type, "hello", 5))
        return on_hello(w, c);
    else if (jscan_is(type, "joined", 6))
        on_joined(w, c, &v[K_ROOM]);
    return 0;
}

/* ---- frames ------------------------------------------------------------------------ */

static int on_close_frame(struct worker *w, struct client *c, const unsigned char *p, size_t len)
{
    int code = len >= 2 ? p[0] << 8 | p[1] : 1005;
    unsigned char echo[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    if (queue_frame(w, c, WS_OP_CLOSE, echo, len >= 2 ? 2 : 0) == 0 && flush(c) != 0) {
        /* the answer is a courtesy: the connection ends either way */
    }
    return ws_gone(w, c, code ? code : 1005);
}

static int frag_append(struct worker *w, struct client *c, const unsigned char *p, size_t len)
{
    if (c->frag_len + len > MAX_FRAME || grow(&c->frag, &c->frag_cap, c->frag_len + len) != 0)
        return ws_gone(w, c, 0);
    memcpy(c->frag + c->frag_len, p, len);
    c->frag_len += len;
    return 0;
}

static int on_data_frame(struct worker *w, struct client *c, const struct ws_frame *f,
                         const unsigned char *p, size_t len, int64_t now)
{
    if (f->opcode != WS_OP_CONTINUATION) {
        if (c->frag_on)
            return ws_gone(w, c, 0);
        if (f->fin)
            return f->opcode == WS_OP_TEXT ? on_text(w, c, (const char *)p, len, now) : 0;
        c->frag_on = true;
        c->frag_text = f->opcode == WS_OP_TEXT;
        c->frag_len = 0;
        return frag_append(w, c, p, len);
    }
    if (!c->frag_on)
        return ws_gone(w, c, 0);
    if (frag_append(w, c, p, len) != 0)
        return -1;
    if (!f->fin)
        return 0;
    c->frag_on = false;
    return c->frag_text ? on_text(w, c, (const char *)c->frag, c->frag_len, now) : 0;
}

static int on_frame(struct worker *w, struct client *c, const struct ws_frame *f,
                    const unsigned char *p, int64_t now)
{
    size_t len = (size_t)f->payload_len;
    switch (f->opcode) {
    case WS_OP_TEXT:
    case WS_OP_BINARY:
    case WS_OP_CONTINUATION:
        return on_data_frame(w, c, f, p, len, now);
    case WS_OP_PING:
        if (queue_frame(w, c, WS_OP_PONG, p, len) != 0)
            return 0; /* no room: the next ping gets its answer */
        return 0;
    case WS_OP_PONG:
        return 0;
    case WS_OP_CLOSE:
        return on_close_frame(w, c, p, len);
    default:
        return ws_gone(w, c, 0);
    }
}

/* Handles every whole frame in buf[0..len) and keeps the unfinished tail
 * in c->in (buf may be c->in). Returns -1 when the client was closed. */
static int consume(struct worker *w, struct client *c, unsigned char *buf, size_t len, int64_t now)
{
    size_t off = 0;
    while (off < len) {
        struct ws_frame f;
        int h = ws_parse_header(buf + off, len - off, &f);
        if (h == 0)
            break;
        if (h < 0 || f.payload_len > MAX_FRAME)
            return ws_gone(w, c, 0);
        size_t total = f.header_len + (size_t)f.payload_len;
        if (len - off < total)
            break;
        unsigned char *payload = buf + off + f.header_len;
        if (f.masked)
            ws_unmask(payload, (size_t)f.payload_len, f.mask);
        off += total;
        if (on_frame(w, c, &f, payload, now) != 0)
            return -1;
    }
    if (grow(&c->in, &c->in_cap, len - off) != 0)
        return ws_gone(w, c, 0);
    memmove(c->in, buf + off, len - off);
    c->in_len = len - off;
    return 0;
}

static void read_ws(struct worker *w, struct client *c)
{
    for (;;) {
        size_t carry = c->in_len;
        if (carry)
            memcpy(w->rbuf, c->in, carry);
        size_t room = READ_BUF - carry;
        ssize_t n = recv(c->fd, w->rbuf + carry, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            ws_gone(w, c, 1006);
            return;
        }
        c->in_len = 0;
        if (consume(w, c, w->rbuf, carry + (size_t)n, engine_now_ns()) != 0)
            return;
        if ((size_t)n < room)
            return; /* a short read took all there was; more comes with a new edge */
    }
}

/* ---- HTTP responses ------------------------------------------------------------------ */

static void login_done(struct worker *w, struct client *c, const struct http_response *r)
{
    static const struct jscan_key key[1] = {JSCAN_KEY("token")};
    struct jscan_span v;
    if (r->status != 201) {
        client_fail(w, c, r->status);
        return;
    }
    if (jscan_fields(r->body, r->body_len, key, 1, &v) != 0 || !v.is_string || v.len == 0 ||
        v.len >= sizeof c->token) {
        client_fail(w, c, ENGINE_FAIL_PROTOCOL);
        return;
    }
    memcpy(c->token, v.p, v.len);
    c->token[v.len] = '\0';
    client_drop(c);
    c->state = S_IDLE;
    job_end(w, c);
}

/* 101 with the right accept key: what followed the head are frames. */
static void handshake_done(struct worker *w, struct client *c, const struct http_response *r)
{
    char want[WS_ACCEPT_LEN + 1];
    if (r->status != 101) {
        client_fail(w, c, r->status);
        return;
    }
    ws_accept(c->key, want);
    if (!r->accept || r->accept_len != WS_ACCEPT_LEN || memcmp(r->accept, want, WS_ACCEPT_LEN)) {
        client_fail(w, c, ENGINE_FAIL_PROTOCOL);
        return;
    }
    size_t rest = c->in_len - r->head_len;
    memmove(c->in, c->in + r->head_len, rest);
    c->in_len = 0;
    c->state = S_HELLO;
    if (consume(w, c, c->in, rest, engine_now_ns()) == 0)
        read_ws(w, c);
}

static void logout_done(struct worker *w, struct client *c, const struct http_response *r)
{
    if (r->status != 204) {
        client_fail(w, c, r->status);
        return;
    }
    client_drop(c);
    c->token[0] = '\0';
    c->state = S_IDLE;
    job_end(w, c);
}

static void read_http(struct worker *w, struct client *c)
{
    for (;;) {
        if (c->in_len == c->in_cap && grow(&c->in, &c->in_cap, c->in_cap + 1) != 0) {
            client_fail(w, c, ENGINE_FAIL_PROTOCOL);
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno != EAGAIN)
                client_fail(w, c, ENGINE_FAIL_IO);
            return;
        }
        c->in_len += (size_t)n;
        struct http_response r;
        enum http_parse p = http_parse((const char *)c->in, c->in_len, n == 0, &r);
        if (p == HTTP_COMPLETE) {
            if (c->stage == ENGINE_STAGE_LOGIN)
                login_done(w, c, &r);
            else if (c->stage == ENGINE_STAGE_WS)
                handshake_done(w, c, &r);
            else
                logout_done(w, c, &r);
            return;
        }
        if (p == HTTP_MALFORMED || n == 0) {
            client_fail(w, c, n == 0 ? ENGINE_FAIL_IO : ENGINE_FAIL_PROTOCOL);
            return;
        }
    }
}

/* ---- sending ----------------------------------------------------------------------- */

int64_t client_due_ns(const struct worker *w, const struct client *c, int seq)
{
    const struct engine *e = w->eng;
    double slot = (double)seq + (double)c->index / (double)e->senders;
    return e->t0 + (int64_t)(slot * 1e9 / e->p.rate);
}

/* How many of its messages a sender may have written by now. */
static int allowed(const struct worker *w, const struct client *c, int64_t now)
{
    const struct engine_params *p = &w->eng->p;
    int m = p->messages;
    if (p->mode == ENGINE_WINDOW)
        return c->resolved + p->window < m ? c->resolved + p->window : m;
    if (p->mode != ENGINE_RATE)
        return m;
    int upto = c->next_seq;
    while (upto < m && client_due_ns(w, c, upto) <= now)
        upto++;
    return upto;
}

static int encode_send(struct worker *w, struct client *c, int64_t now)
{
    const struct engine *e = w->eng;
    char *s = w->scratch;
    size_t n = e->prefix_len;
    memcpy(s, e->prefix, n);
    size_t body = n;
    memcpy(s + n, e->p.run_id, ENGINE_RUN_ID_LEN);
    n += ENGINE_RUN_ID_LEN;
    s[n++] = ':';
    n += put_u64(s + n, (uint64_t)c->index);
    s[n++] = ':';
    n += put_u64(s + n, (uint64_t)c->next_seq);
    s[n++] = ':';
    n += put_u64(s + n, (uint64_t)now);
    s[n++] = ':';
    memset(s + n, 'x', body + (size_t)e->p.body_bytes - n);
    n = body + (size_t)e->p.body_bytes;
    memcpy(s + n, "\",\"cid\":\"", 9);
    n += 9;
    n += put_u64(s + n, (uint64_t)c->index);
    s[n++] = '-';
    n += put_u64(s + n, (uint64_t)c->next_seq);
    memcpy(s + n, "\"}", 2);
    if (queue_frame(w, c, WS_OP_TEXT, s, n + 2) != 0)
        return -1;
    c->next_seq++;
    w->c.sends_written++;
    w->last_send = now;
    return 0;
}

/* Encodes the sends that are due and fit; the caller flushes. */
void client_top_up(struct worker *w, struct client *c)
{
    if (!c->unsent)
        return;
    int64_t now = engine_now_ns();
    int upto = allowed(w, c, now);
    while (c->next_seq < upto && encode_send(w, c, now) == 0) {
    }
    if (c->next_seq == w->eng->p.messages) {
        c->unsent = false;
        w->unsent--;
    } else if (w->eng->p.mode == ENGINE_RATE) {
        c->next_due_ns = client_due_ns(w, c, c->next_seq);
    }
}

/* ---- the worker loop ------------------------------------------------------------------- */

void client_on_event(struct worker *w, struct client *c, uint32_t events)
{
    if (c->fd < 0)
        return;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            client_fail(w, c, ENGINE_FAIL_IO);
            return;
        }
        c->connecting = false;
    }
    if ((events & EPOLLOUT) && client_flush(w, c) != 0)
        return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (c->state == S_HTTP)
            read_http(w, c);
        else
            read_ws(w, c);
    }
    if (c->fd >= 0 && c->unsent) {
        client_top_up(w, c);
        client_flush(w, c);
    }
}

void client_close(struct worker *w, struct client *c)
{
    static const unsigned char normal[2] = {1000 >> 8, 1000 & 0xff};
    if (c->fd >= 0 && c->state >= S_HELLO && c->state <= S_READY &&
        queue_frame(w, c, WS_OP_CLOSE, normal, 2) == 0 && flush(c) != 0) {
        /* it is going away anyway */
    }
    client_drop(c);
    if (c->state != S_IDLE)
        c->state = S_CLOSED;
}
