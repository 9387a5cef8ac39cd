#include "ws.h"

#include "auth.h"
#include "deliver.h"
#include "frame.h"
#include "http.h"
#include "hub.h"
#include "json.h"
#define LOG_MODULE "ws"
#include "log.h"
#include "text.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* Marks a connection refused after its handshake (closed with 1013 or 1000).
 * One whose socket lanchat took over carries its handle, tagged. */
static char refused_marker;
#define TAKEN_TAG ((uintptr_t)1 << 31)

/* ---- the handshake, on a civetweb worker ------------------------------------------- */

/* civetweb's response-header functions refuse a connection that asked for
 * an upgrade, so the refusal is written by hand. */
static void refuse_handshake(struct mg_connection *conn, struct chat_error e)
{
    http_refuse(conn, e);
}

/* Refused once the handshake is done: a close frame through civetweb, whose
 * read loop then ends the connection. */
static void refuse_open(struct mg_connection *conn, int code, const char *reason)
{
    char frame[128];
    size_t n = frame_close(frame, sizeof frame, code, reason);
    mg_set_user_connection_data(conn, &refused_marker);
    mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, frame + 2, n - 2);
}

/* The handshake: refused (401/403) unless the request may open a WebSocket. */
static int on_connect(const struct mg_connection *const_conn, void *data)
{
    (void)data;
    struct mg_connection *conn = (struct mg_connection *)const_conn; /* civetweb's own idiom */
    char token[128];
    struct auth_identity who;
    if (!http_origin_allowed(conn)) {
        refuse_handshake(conn, CHAT_ERROR(FORBIDDEN, "cross-origin WebSocket refused"));
        return 1;
    }
    if (!http_token(conn, token, sizeof token) || !auth_check(token, &who)) {
        refuse_handshake(conn, CHAT_ERROR(UNAUTHORIZED, "log in first"));
        return 1;
    }
    struct chat_error e = deliver_may_open(&who, mg_get_request_info(conn)->remote_addr);
    if (e.kind) {
        log_warn("%s refused (%s)", who.name, e.message);
        refuse_handshake(conn, e);
        return 1;
    }
    return 0;
}

/* The first descriptor below max_fd that is our connection, looking no
 * further than `run` unused numbers in a row. */
static int match_socket(const struct mg_request_info *ri, int max_fd, int run)
{
    for (int fd = 0, unused = 0; fd < max_fd && unused < run; fd++) {
        if (deliver_owns_fd(fd)) {
            unused = 0;
            continue;
        }
        struct sockaddr_storage remote, local;
        socklen_t len = sizeof remote;
        if (getpeername(fd, (struct sockaddr *)&remote, &len) != 0) {
            unused = errno == EBADF ? unused + 1 : 0;
            continue;
        }
        unused = 0;
        len = sizeof local;
        if (getsockname(fd, (struct sockaddr *)&local, &len) != 0)
            continue;
        char addr[INET6_ADDRSTRLEN];
        int remote_port, local_port;
        if (remote.ss_family == AF_INET) {
            const struct sockaddr_in *r4 = (const struct sockaddr_in *)&remote;
            inet_ntop(AF_INET, &r4->sin_addr, addr, sizeof addr);
            remote_port = ntohs(r4->sin_port);
            local_port = ntohs(((const struct sockaddr_in *)&local)->sin_port);
        } else if (remote.ss_family == AF_INET6) {
            const struct sockaddr_in6 *r6 = (const struct sockaddr_in6 *)&remote;
            inet_ntop(AF_INET6, &r6->sin6_addr, addr, sizeof addr);
            remote_port = ntohs(r6->sin6_port);
            local_port = ntohs(((const struct sockaddr_in6 *)&local)->sin6_port);
        } else {
            continue;
        }
        if (remote_port == ri->remote_port && local_port == ri->server_port &&
            strcmp(addr, ri->remote_addr) == 0)
            return fd;
    }
    return -1;
}

/* A descriptor number past this many unused ones in a row: a new socket
 * takes the lowest free number, so the first pass stops there. */
#define UNUSED_RUN 256

/* civetweb does not expose a connection's socket: find ours by its peer and
 * local port, skipping the sockets deliver already owns. Done on the
 * connection's own worker, while the socket is certainly open. The first
 * pass stops after UNUSED_RUN unused numbers; should descriptors have been
 * closed below ours meanwhile, the second one goes to the limit. */
static int find_socket(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct rlimit lim;
    int max_fd =
        getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (int)lim.rlim_cur : 65536;
    for (int pass = 0; pass < 2; pass++) {
        int fd = match_socket(ri, max_fd, pass == 0 ? UNUSED_RUN : max_fd);
        if (fd >= 0)
            return fd;
    }
    return -1;
}

/* Takes the socket from civetweb: a copy of it becomes deliver's, and
 * civetweb's descriptor is pointed at an unconnected socket, so its read loop
 * ends at once and its close touches only that. Returns our descriptor. */
static int take_over(int fd)
{
    int ours = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int dummy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ours < 0 || dummy < 0 || dup2(dummy, fd) < 0) {
        log_error("cannot take the socket over: %s", strerror(errno));
        if (ours >= 0)
            close(ours);
        if (dummy >= 0)
            close(dummy);
        return -1;
    }
    close(dummy);
    return ours;
}

/* Handshake done: a connection slot, then the socket, or a close frame. */
static void on_ready(struct mg_connection *conn, void *data)
{
    (void)data;
    char token[128];
    struct auth_identity who;
    if (!http_token(conn, token, sizeof token) || !auth_check(token, &who)) {
        refuse_open(conn, FRAME_CLOSE_NORMAL, "session ended"); /* logged out meanwhile */
        return;
    }
    struct chat_error over = CHAT_OK;
    struct deliver_conn *c = deliver_reserve(&who, mg_get_request_info(conn)->remote_addr, &over);
    if (!c && over.kind) { /* a handshake of the same session got in meanwhile */
        log_warn("%s refused (%s)", who.name, over.message);
        refuse_open(conn, FRAME_CLOSE_POLICY, "too many WebSockets");
        return;
    }
    if (!c) {
        log_warn("client pool exhausted; refusing %s", who.name);
        refuse_open(conn, FRAME_CLOSE_TRY_LATER, "server full");
        return;
    }
    int fd = find_socket(conn);
    int ours = fd >= 0 ? take_over(fd) : -1;
    bool tls = mg_get_request_info(conn)->is_ssl;
    struct deliver_io io = {0};
#if CHAT_WITH_TLS
    /* civetweb's SSL comes along, pointed at our descriptor */
    if (ours >= 0 && tls && !tls_take(fd, ours, &io)) {
        close(ours);
        ours = -1;
    }
#endif
    if (ours < 0) {
        log_error("no socket for %s", who.name);
        deliver_unreserve(c);
        refuse_open(conn, FRAME_CLOSE_INTERNAL, "internal error");
        return;
    }
    uint32_t handle = tls ? deliver_attach_io(c, ours, &io) : deliver_attach(c, ours, NULL);
    mg_set_user_connection_data(conn, (void *)(TAKEN_TAG | handle));
}

/* civetweb's read loop calls this only for a refused connection, or with
 * bytes it read ahead of the handshake's end, which a client must not send
 * (RFC 6455 4.1): rather than lose them, that connection is closed (1002). */
static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    (void)bits;
    (void)data;
    (void)len;
    (void)cbdata;
    uintptr_t user = (uintptr_t)mg_get_user_connection_data(conn);
    if (user & TAKEN_TAG)
        deliver_close_handle((uint32_t)(user & ~TAKEN_TAG), FRAME_CLOSE_PROTOCOL);
    return 0;
}

static void on_close(const struct mg_connection *conn, void *data)
{
    (void)conn;
    (void)data; /* nothing of ours: the socket, if taken, lives on in deliver */
}

int ws_start(struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, WS_PATH, on_connect, on_ready, on_data, on_close, NULL);
    return 0;
}

/* ---- the chat frames, on the I/O thread -------------------------------------------- */

static void send_error(struct deliver_conn *c, struct chat_error e, const char *cid)
{
    char frame[512];
    size_t n = frame_error(frame, sizeof frame, e, cid);
    deliver_reply(c, frame, n);
}

/* False when the send must wait: no job is free, or the write queue is
 * full. Nothing was done then (the rate limit was not asked), and the same
 * message is tried again once a job is handed back. */
static bool handle_send(struct deliver_conn *c, const cJSON *doc)
{
    const char *cid = json_get_string(doc, "cid");
    struct store_job *job = store_write_queue_full() ? NULL : deliver_send_job(c);
    if (!job)
        return false;
    struct chat_error e = hub_post_prepare(c->user, json_get_string(doc, "room"),
                                           json_get_string(doc, "body"), cid, &job->message);
    enum store_result queued = e.kind ? STORE_ERROR : store_append_async(job);
    deliver_send_queued(c, job, queued == STORE_OK);
    if (e.kind)
        send_error(c, e, cid);
    else if (queued != STORE_OK) /* REST posts filled the queue since: rare */
        send_error(c, hub_storage_error(queued), cid);
    return true;
}

static void handle_join(struct deliver_conn *c, const cJSON *doc)
{
    int index;
    struct chat_error e = hub_join(json_get_string(doc, "room"), c->user, &index);
    if (e.kind) {
        send_error(c, e, NULL);
        return;
    }
    int64_t since = -1;
    int has = json_get_int(doc, "since", &since);
    if (has < 0 || (has == 1 && since < 0)) {
        send_error(c, CHAT_ERROR(BAD_REQUEST, "\"since\" must be a message id"), NULL);
        return;
    }
    deliver_join(c, index, has == 1 ? since : -1);
}

#if CHAT_WITH_TYPING
/* Relayed to the room's other readers, or silently dropped over the rate
 * (docs/API.md, "typing"); an unknown room is an error frame. */
static void handle_typing(struct deliver_conn *c, const cJSON *doc)
{
    int index;
    struct chat_error e = hub_join(json_get_string(doc, "room"), c->user, &index);
    if (e.kind)
        send_error(c, e, NULL);
    else
        deliver_typing(c, index);
}
#endif

/* A whole message. text[len] must be writable: it is set to NUL for the
 * parser. A send that must wait is kept in the assembly buffer. */
static void handle_text(struct deliver_conn *c, char *text, size_t len)
{
    char saved = text[len];
    text[len] = '\0';
    bool done = true;
    if (!http_enter()) {
        send_error(c, CHAT_ERROR(UNAVAILABLE, "the server is shutting down"), NULL);
    } else {
        const cJSON *doc = json_parse(deliver_arena(c), text, len);
        const char *type = doc ? json_get_string(doc, "type") : NULL;
        if (log_enabled(LOG_DEBUG)) /* the type and length only: never the body */
            log_debug("frame in from %s: %.16s, %zu bytes", c->user, type ? type : "(none)", len);
        if (!doc || !cJSON_IsObject(doc))
            send_error(c, CHAT_ERROR(BAD_REQUEST, "frame is not a JSON object"), NULL);
        else if (type && strcmp(type, "send") == 0)
            done = handle_send(c, doc);
        else if (type && strcmp(type, "join") == 0)
            handle_join(c, doc);
#if CHAT_WITH_TYPING
        else if (type && strcmp(type, "typing") == 0)
            handle_typing(c, doc);
#endif
        else
            send_error(c, CHAT_ERROR(BAD_REQUEST, "unknown frame type"),
                       json_get_string(doc, "cid"));
        http_leave();
    }
    text[len] = saved;
    if (done)
        return;
    if (text != c->buf->assembly) {
        memcpy(c->buf->assembly, text, len);
        c->assembled = len;
    }
    deliver_send_wait(c);
}

/* ---- RFC 6455 framing of what the client sends ------------------------------------- */

struct header {
    bool fin;
    int rsv;
    int opcode;
    bool masked;
    unsigned char mask[4];
    uint64_t length;
    size_t size; /* of the header itself */
};

/* 1 parsed, 0 more bytes needed, -1 a length RFC 6455 5.2 forbids: not in
 * the fewest bytes, or 64 bits with the most significant one set. */
static int parse_header(const unsigned char *b, size_t len, struct header *h)
{
    if (len < 2)
        return 0;
    h->fin = b[0] & 0x80;
    h->rsv = (b[0] >> 4) & 7;
    h->opcode = b[0] & 0x0f;
    h->masked = b[1] & 0x80;
    size_t at = 2;
    uint64_t n = b[1] & 0x7f;
    if (n == 126) {
        if (len < 4)
            return 0;
        n = (uint64_t)b[2] << 8 | b[3];
        at = 4;
        if (n < 126)
            return -1;
    } else if (n == 127) {
        if (len < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | b[2 + i];
        at = 10;
        if (n < 65536 || n >> 63)
            return -1;
    }
    if (h->masked) {
        if (len < at + 4)
            return 0;
        memcpy(h->mask, b + at, 4);
        at += 4;
    }
    h->length = n;
    h->size = at;
    return 1;
}

static void protocol_error(struct deliver_conn *c, const char *why)
{
    log_warn("%s broke the protocol (%s); closing %d", c->user, why, FRAME_CLOSE_PROTOCOL);
    deliver_close(c, FRAME_CLOSE_PROTOCOL, why);
}

static void too_big(struct deliver_conn *c)
{
    log_warn("%s sent a message over %d bytes; closing %d", c->user, CHAT_MAX_REQUEST,
             FRAME_CLOSE_TOO_BIG);
    deliver_close(c, FRAME_CLOSE_TOO_BIG, "message too big");
}

static void bad_utf8(struct deliver_conn *c)
{
    log_warn("%s sent text that is not UTF-8; closing %d", c->user, FRAME_CLOSE_BAD_DATA);
    deliver_close(c, FRAME_CLOSE_BAD_DATA, "invalid UTF-8");
}

/* Close codes a peer may send (RFC 6455 7.4.1, 7.4.2 and IANA's registry,
 * which added 1012-1014); 1004 is reserved, 1005, 1006 and 1015 never
 * travel in a frame, 1016-2999 are unassigned. */
static bool valid_close_code(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* The peer's close: answered with its code (1000 when it gave none). */
static void peer_closed(struct deliver_conn *c, const unsigned char *payload, size_t len)
{
    int code = len >= 2 ? payload[0] << 8 | payload[1] : FRAME_CLOSE_NORMAL;
    bool invalid = false;
    if (len == 1 || !valid_close_code(code)) {
        protocol_error(c, "an invalid close code");
    } else if (len > 2 &&
               (text_utf8_span((const char *)payload + 2, len - 2, &invalid) != len - 2)) {
        bad_utf8(c);
    } else {
        deliver_close(c, code, "");
    }
}

static void control_frame(struct deliver_conn *c, const struct header *h, unsigned char *payload)
{
    char frame[2 + FRAME_CONTROL_MAX];
    size_t len = (size_t)h->length;
    if (log_enabled(LOG_DEBUG))
        log_debug("frame in from %s: %s, %zu bytes", c->user,
                  h->opcode == OP_PING    ? "ping"
                  : h->opcode == OP_CLOSE ? "close"
                                          : "pong",
                  len);
    if (h->opcode == OP_PING)
        deliver_reply(c, frame, frame_control(frame, sizeof frame, FRAME_PONG, payload, len));
    else if (h->opcode == OP_CLOSE)
        peer_closed(c, payload, len);
    /* a pong only shows the peer is there: c->last_rx was set on reading */
}

/* A data frame: whole messages go to the chat, fragments are assembled and
 * their UTF-8 checked as they come (a code point may straddle two). A binary
 * message is answered with an error and skipped; it counts against the size
 * limit all the same. */
static void data_frame(struct deliver_conn *c, const struct header *h, char *payload)
{
    size_t len = (size_t)h->length;
    struct deliver_buffers *b = c->buf;
    bool invalid;
    if (h->opcode != OP_CONTINUATION) {
        if (c->assembling || c->discarding) {
            protocol_error(c, "a new message inside a fragmented one");
            return;
        }
        if (h->opcode == OP_BINARY) {
            send_error(c, CHAT_ERROR(BAD_REQUEST, "frames are JSON text"), NULL);
        } else if (h->fin) {
            if (text_utf8_span(payload, len, &invalid) != len)
                bad_utf8(c);
            else
                handle_text(c, payload, len);
            return;
        }
        if (h->fin)
            return;
        c->assembling = h->opcode == OP_TEXT;
        c->discarding = h->opcode == OP_BINARY;
        c->assembled = c->checked = 0;
    } else if (!c->assembling && !c->discarding) {
        protocol_error(c, "a continuation without a message");
        return;
    }
    if (len > CHAT_MAX_REQUEST - c->assembled) {
        too_big(c);
        return;
    }
    if (c->discarding) {
        c->assembled += len;
        c->discarding = !h->fin;
        return;
    }
    memcpy(b->assembly + c->assembled, payload, len);
    c->assembled += len;
    c->checked += text_utf8_span(b->assembly + c->checked, c->assembled - c->checked, &invalid);
    if (invalid || (h->fin && c->checked != c->assembled)) {
        bad_utf8(c);
        return;
    }
    if (h->fin) {
        c->assembling = false;
        handle_text(c, b->assembly, c->assembled);
    }
}

/* Handles one frame at the start of bytes; how many bytes it took (0: the
 * frame is not complete yet). */
static size_t one_frame(struct deliver_conn *c, unsigned char *bytes, size_t len)
{
    struct header h;
    int parsed = parse_header(bytes, len, &h);
    if (parsed == 0)
        return 0;
    if (parsed < 0) {
        protocol_error(c, "a malformed payload length");
        return len;
    }
    bool control = h.opcode >= 8;
    if (h.rsv) {
        protocol_error(c, "reserved bits set");
        return len;
    }
    if (!h.masked) {
        protocol_error(c, "an unmasked client frame");
        return len;
    }
    if ((h.opcode > OP_BINARY && h.opcode < OP_CLOSE) || h.opcode > OP_PONG) {
        protocol_error(c, "an unknown opcode");
        return len;
    }
    if (control && (!h.fin || h.length > FRAME_CONTROL_MAX)) {
        protocol_error(c, "a fragmented or long control frame");
        return len;
    }
    if (h.length > CHAT_MAX_REQUEST) { /* refused from its header: never read */
        too_big(c);
        return len;
    }
    if (len - h.size < h.length)
        return 0;
    unsigned char *payload = bytes + h.size;
    for (size_t i = 0; i < (size_t)h.length; i++)
        payload[i] ^= h.mask[i & 3];
    if (control)
        control_frame(c, &h, payload);
    else
        data_frame(c, &h, (char *)payload);
    if (!c->assembling && !c->discarding)
        c->partial_since = 0; /* a message (or a control frame) is complete */
    return h.size + (size_t)h.length;
}

/* Whatever is left over, a frame begun or a fragmented message, is timed
 * from here (deliver's tick enforces the deadline). */
void ws_received(struct deliver_conn *c)
{
    unsigned char *in = (unsigned char *)c->buf->in;
    size_t at = 0;
    while (c->state == CONN_OPEN && !c->send_waiting && at < c->in_len) {
        size_t used = one_frame(c, in + at, c->in_len - at);
        if (used == 0)
            break;
        at += used;
    }
    if (c->state != CONN_OPEN)
        at = c->in_len; /* nothing more is read from a closing connection */
    memmove(in, in + at, c->in_len - at);
    c->in_len -= at;
    bool partial = c->in_len > 0 || c->assembling || c->discarding;
    if (c->state == CONN_OPEN && partial && !c->partial_since)
        c->partial_since = deliver_now(c);
}

void ws_resume(struct deliver_conn *c)
{
    if (c->state != CONN_OPEN)
        return;
    handle_text(c, c->buf->assembly, c->assembled);
    if (!c->send_waiting)
        ws_received(c);
}
