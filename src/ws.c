#include "ws.h"

#include "auth.h"
#include "hub.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

POOL_ELEMENT(wsbuf, struct ws_buffers);

enum { OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* One sender thread per client slot, indexed like the client pool. */
static struct {
    pthread_t thread;
    bool started;
} senders[CHAT_MAX_CLIENTS];

static struct ws_buffers *buffers(const struct hub_client *c)
{
    return c->io;
}

/* Marks a connection refused after its handshake (closed with 1013 or 1000). */
static char refused_marker;

static void write_close(struct mg_connection *conn, int code, const char *reason)
{
    char payload[64];
    size_t n = strlen(reason);
    if (n > sizeof payload - 2)
        n = sizeof payload - 2;
    payload[0] = (char)((code >> 8) & 0xff);
    payload[1] = (char)(code & 0xff);
    memcpy(payload + 2, reason, n);
    mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload, n + 2);
}

/* civetweb does not expose a connection's socket; find ours by its peer
 * address. Done once per connection, on its own reader thread, while the
 * socket is certainly open. Needed to shut a stalled peer down. */
static int find_socket(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct in_addr peer;
    if (inet_pton(AF_INET, ri->remote_addr, &peer) != 1)
        return -1;
    struct rlimit lim;
    int max_fd =
        getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (int)lim.rlim_cur : 65536;
    for (int fd = 0; fd < max_fd; fd++) {
        struct sockaddr_in remote, local;
        socklen_t len = sizeof remote;
        if (getpeername(fd, (struct sockaddr *)&remote, &len) != 0 || remote.sin_family != AF_INET)
            continue;
        len = sizeof local;
        if (getsockname(fd, (struct sockaddr *)&local, &len) != 0)
            continue;
        if (remote.sin_addr.s_addr == peer.s_addr && ntohs(remote.sin_port) == ri->remote_port &&
            ntohs(local.sin_port) == ri->server_port)
            return fd;
    }
    return -1;
}

/* Ends a connection whatever the peer does: the reader sees end of file, a
 * blocked writer gets an error. civetweb still owns and closes the socket. */
static void cut(struct hub_client *c)
{
    hub_close(c, 0);
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
}

/* ---- sender threads ----------------------------------------------------------- */

static bool send_text(struct hub_client *c, const char *text, size_t len)
{
    if (mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_TEXT, text, len) <= 0) {
        cut(c);
        return false;
    }
    metrics_add(deliveries, 1);
    return true;
}

struct replay {
    struct hub_client *client;
    int room;
    const char *name;
    int64_t last;
    bool failed;
};

static bool replay_row(void *ctx, const struct store_message *m)
{
    struct replay *rp = ctx;
    rp->last = m->id;
    if (hub_client_skip(rp->client, rp->room, m->id))
        return true;
    char *buf = buffers(rp->client)->scratch;
    struct jw w;
    jw_init(&w, buf, CHAT_FRAME_SIZE);
    hub_write_message(&w, m, rp->name, true);
    if (!jw_finish(&w) || !send_text(rp->client, buf, w.len)) {
        rp->failed = true;
        return false;
    }
    hub_client_sent(rp->client, rp->room, m->id);
    return true;
}

/* Sends the room's stored messages newer than `since` (the newest
 * CHAT_REPLAY_MAX, after a gap frame when there are more), then "joined".
 * Live frames of the room wait on the queue meanwhile and are skipped when
 * the replay already sent them. */
static void replay(struct hub_client *c, int room, int64_t since)
{
    char name[CHAT_NAME_MAX + 1];
    char *buf = buffers(c)->scratch;
    struct jw w;
    hub_room_name(room, name);
    if (since >= 0) {
        int64_t room_id = hub_room_id(room);
        int64_t top = 0, cut_id = 0;
        int64_t below = store_newest_id(room_id, INT64_MAX, 0, &top) == STORE_OK ? top + 1 : 0;
        int64_t start = since;
        if (store_newest_id(room_id, INT64_MAX, CHAT_REPLAY_MAX, &cut_id) == STORE_OK &&
            cut_id > since) {
            jw_init(&w, buf, CHAT_FRAME_SIZE);
            jw_raw(&w, "{\"type\":\"gap\",\"room\":");
            jw_str(&w, name);
            jw_raw(&w, "}");
            if (!send_text(c, buf, w.len))
                return;
            start = cut_id;
        }
        struct replay rp = {.client = c, .room = room, .name = name, .last = start};
        if (store_history(room_id, start, below, CHAT_REPLAY_MAX + 1, replay_row, &rp) !=
                STORE_OK ||
            rp.failed)
            return;
    }
    jw_init(&w, buf, CHAT_FRAME_SIZE);
    jw_raw(&w, "{\"type\":\"joined\",\"room\":");
    jw_str(&w, name);
    jw_raw(&w, "}");
    send_text(c, buf, w.len);
}

static void *sender_main(void *arg)
{
    size_t slot = (size_t)(uintptr_t)arg;
    struct hub_client *c;
    struct hub_entry e;
    while (hub_client_next(slot, &c, &e)) {
        switch (e.kind) {
        case HUB_HELLO:
            send_text(c, c->hello, c->hello_len);
            break;
        case HUB_FRAME:
            if (!hub_client_skip(c, e.frame->room, e.frame->id) &&
                send_text(c, e.frame->text, e.frame->len))
                hub_client_sent(c, e.frame->room, e.frame->id);
            hub_frame_unref(e.frame);
            break;
        case HUB_REPLAY:
            replay(c, e.room, e.since);
            break;
        case HUB_CLOSE:
            write_close(c->conn, e.close_code,
                        e.close_code == 1008   ? "slow consumer"
                        : e.close_code == 1013 ? "try again later"
                                               : "session ended");
            cut(c);
            break;
        }
        hub_client_done(slot);
    }
    return NULL;
}

/* ---- civetweb callbacks (reader threads) ---------------------------------- */

/* civetweb's response-header functions refuse a connection that asked for
 * an upgrade, so the refusal is written by hand. */
static void refuse_handshake(struct mg_connection *conn, struct chat_error e)
{
    char json[256];
    size_t len = http_error_json(e, json, sizeof json);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n%s",
              http_status_of(e.kind), e.kind == CHAT_E_UNAUTHORIZED ? "Unauthorized" : "Forbidden",
              len, json);
}

/* The handshake: refused (401/403) unless the request may open a WebSocket.
 * Nothing is reserved yet, so a handshake that fails later leaks nothing. */
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
    return 0;
}

/* Handshake done: take a client slot and its buffers, or close with 1013. */
static void on_ready(struct mg_connection *conn, void *data)
{
    (void)data;
    char token[128];
    struct auth_identity who;
    if (!http_token(conn, token, sizeof token) || !auth_check(token, &who)) {
        mg_set_user_connection_data(conn, &refused_marker); /* logged out meanwhile */
        write_close(conn, 1000, "session ended");
        return;
    }
    struct hub_client *c = hub_client_reserve(who.name, who.token_hash);
    struct ws_buffers *b = c ? pool_take_raw(POOL_wsbuf) : NULL;
    if (!b) {
        log_warn("ws: client pool exhausted; refusing %s", who.name);
        if (c)
            hub_client_release(c);
        mg_set_user_connection_data(conn, &refused_marker);
        write_close(conn, 1013, "server full");
        return;
    }
    b->assembled = 0;
    b->assembling = false;
    c->io = b;
    auth_websocket_opened(who.token_hash);
    mg_set_user_connection_data(conn, c);
    hub_client_activate(c, conn, find_socket(conn));
    log_info("ws: %s connected (slot %zu)", c->user, hub_client_slot(c));
}

static void send_error(struct hub_client *c, struct chat_error e, const char *cid)
{
    char json[512];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"type\":\"error\",\"code\":");
    jw_str(&w, http_error_name(e.kind));
    jw_raw(&w, ",\"message\":");
    jw_str(&w, e.message);
    jw_raw(&w, ",\"cid\":");
    if (cid && text_valid_cid(cid))
        jw_str(&w, cid);
    else
        jw_raw(&w, "null");
    jw_raw(&w, "}");
    hub_send(c, json);
}

static void handle_send(struct hub_client *c, const cJSON *frame)
{
    const char *cid = json_get_string(frame, "cid");
    struct store_message m;
    bool repeated;
    struct chat_error e = hub_post_message(c->user, json_get_string(frame, "room"),
                                           json_get_string(frame, "body"), cid, &m, &repeated);
    if (e.kind) {
        send_error(c, e, cid);
        return;
    }
    char json[256];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"type\":\"ack\",\"cid\":");
    if (m.cid[0])
        jw_str(&w, m.cid);
    else
        jw_raw(&w, "null");
    jw_raw(&w, ",\"id\":");
    jw_int(&w, m.id);
    jw_raw(&w, ",\"ts\":");
    jw_int(&w, m.ts);
    jw_raw(&w, "}");
    hub_send(c, json);
}

static void handle_join(struct hub_client *c, const cJSON *frame)
{
    const char *room = json_get_string(frame, "room");
    if (!room) {
        send_error(c, CHAT_ERROR(BAD_REQUEST, "\"room\" must be a string"), NULL);
        return;
    }
    int index = hub_room_find(room);
    if (index < 0) {
        send_error(c, CHAT_ERROR(NOT_FOUND, "no such room"), NULL);
        return;
    }
    int64_t since = -1;
    int has = json_get_int(frame, "since", &since);
    if (has < 0 || (has == 1 && since < 0)) {
        send_error(c, CHAT_ERROR(BAD_REQUEST, "\"since\" must be a message id"), NULL);
        return;
    }
    hub_join(c, index, has == 1 ? since : -1);
}

static void handle_frame(struct hub_client *c, const char *text, size_t len)
{
    const cJSON *frame = json_parse(&buffers(c)->arena, text, len);
    const char *type = frame ? json_get_string(frame, "type") : NULL;
    if (!frame || !cJSON_IsObject(frame)) {
        send_error(c, CHAT_ERROR(BAD_REQUEST, "frame is not a JSON object"), NULL);
    } else if (type && strcmp(type, "send") == 0) {
        handle_send(c, frame);
    } else if (type && strcmp(type, "join") == 0) {
        handle_join(c, frame);
    } else {
        send_error(c, CHAT_ERROR(BAD_REQUEST, "unknown frame type"), json_get_string(frame, "cid"));
    }
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    (void)cbdata;
    void *user = mg_get_user_connection_data(conn);
    int opcode = bits & 0x0f;
    bool fin = (bits & 0x80) != 0;
    if (user == &refused_marker || !user)
        return 0; /* our close frame went out in on_ready */
    struct hub_client *c = user;
    if (hub_client_closing(c))
        return 0;             /* the sender is closing it */
    if (opcode == OP_CLOSE) { /* the peer closes: answer with its code */
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len >= 2 ? 2 : 0);
        return 0;
    }
    if (opcode == OP_PING) {
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_PONG, data, len);
        return 1;
    }
    if (opcode == OP_PONG)
        return 1;
    struct ws_buffers *b = buffers(c);
    if (opcode == OP_TEXT || opcode == OP_BINARY) {
        b->assembled = 0;
        b->assembling = opcode == OP_TEXT;
        if (opcode == OP_BINARY) {
            send_error(c, CHAT_ERROR(BAD_REQUEST, "frames are JSON text"), NULL);
            return 1;
        }
    } else if (opcode != OP_CONTINUATION || !b->assembling) {
        return 1; /* continuation of a refused binary message, or an unknown opcode */
    }
    if (len > CHAT_MAX_REQUEST - b->assembled) {
        log_warn("ws: %s sent a message over %d bytes; closing 1009", c->user, CHAT_MAX_REQUEST);
        write_close(conn, 1009, "message too big");
        return 0;
    }
    memcpy(b->assembly + b->assembled, data, len);
    b->assembled += len;
    if (!fin)
        return 1;
    b->assembling = false;
    b->assembly[b->assembled] = '\0';
    if (!http_enter()) {
        send_error(c, CHAT_ERROR(UNAVAILABLE, "the server is shutting down"), NULL);
        return 1;
    }
    handle_frame(c, b->assembly, b->assembled);
    http_leave();
    return 1;
}

static void on_close(const struct mg_connection *conn, void *data)
{
    (void)data;
    void *user = mg_get_user_connection_data(conn);
    if (!user || user == &refused_marker)
        return;
    struct hub_client *c = user;
    unsigned char token_hash[32];
    char name[CHAT_NAME_MAX + 1];
    memcpy(token_hash, c->token_hash, 32);
    snprintf(name, sizeof name, "%s", c->user);
    struct ws_buffers *b = c->io;
    hub_client_release(c); /* waits for the sender: then nobody uses b */
    pool_give(POOL_wsbuf, b);
    auth_websocket_closed(token_hash);
    log_info("ws: %s disconnected", name);
}

int ws_start(struct mg_context *ctx)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CHAT_SENDER_STACK);
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        if (pthread_create(&senders[i].thread, &attr, sender_main, (void *)(uintptr_t)i) != 0) {
            log_error("ws: cannot start sender thread %zu", i);
            pthread_attr_destroy(&attr);
            return -1;
        }
        senders[i].started = true;
    }
    pthread_attr_destroy(&attr);
    mg_set_websocket_handler(ctx, "/api/v1/ws", on_connect, on_ready, on_data, on_close, NULL);
    return 0;
}

void ws_stop(void)
{
    hub_stop();
    for (size_t i = 0; i < CHAT_MAX_CLIENTS; i++) {
        if (senders[i].started)
            pthread_join(senders[i].thread, NULL);
        senders[i].started = false;
    }
}
