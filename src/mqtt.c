#include "mqtt.h"

#include "config.h"

#if CHAT_WITH_MQTT

#include "hub.h"
#include "json.h"
#define LOG_MODULE "mqtt"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "store.h"
#include "text.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A publish of the outbox waiting for its PUBACK. */
struct inflight {
    int mid;
    int64_t seq;
    bool acked;
};

/* Two connections to the broker. The mirror's has a session the broker
 * keeps while we are away (clean_session false, client id lanchat-<node>):
 * what others publish meanwhile waits for us, and we publish the outbox on
 * it. The posts' is a clean session (lanchat-<node>-posts) holding the
 * shared subscription to device posts: the broker gives each post to one
 * appliance connected now, never to the kept session of one that is away
 * (or gone for good). */
enum link_id { LINK_MIRROR, LINK_POSTS, LINK_COUNT };

struct link {
    struct mosquitto *client;
    char id[CHAT_NAME_MAX + 16];
    bool connected; /* CONNACK accepted */
    bool asked;     /* tried once: reconnect from now on */
    bool warned;    /* this outage was logged */
    int backoff_s;
    struct timespec next_attempt;
};

static struct {
    struct link links[LINK_COUNT];
    char host[256];
    int port;
    char prefix[MIRROR_PREFIX_MAX];
    char node[CHAT_NAME_MAX + 1];
    char password[256];
    bool tls; /* mqtts:// */
    int wake; /* eventfd: the outbox grew, or stop */
    atomic_bool stopping;
    pthread_t thread;
    bool running;
    bool lib_ready;

    /* The thread's alone. */
    bool pending;    /* the outbox may hold rows past `cursor` */
    int64_t cursor;  /* the newest seq published on this connection */
    int64_t removed; /* rows up to here are gone from the outbox */
    struct inflight window[CHAT_MQTT_INFLIGHT];
    size_t first, count; /* the window, oldest first */
    int64_t acked;       /* every row up to here was acknowledged */
} M = {.wake = -1};

#define MIRROR_LINK (&M.links[LINK_MIRROR])

static struct link *link_of(const struct mosquitto *client)
{
    return client == M.links[LINK_POSTS].client ? &M.links[LINK_POSTS] : MIRROR_LINK;
}

/* The thread's buffers: in bss, apart from M's initialised words. */
static struct {
    struct json_arena arena;
    char payload[MIRROR_PAYLOAD_MAX];
    char topic[MIRROR_TOPIC_MAX];
} B;

/* ---- receiving ---------------------------------------------------------- */

static void refuse(bool post, const char *topic, const char *why)
{
    if (post)
        metrics_add(mqtt_posts_refused, 1);
    else
        metrics_add(mqtt_refused, 1);
    log_warn("refused %s on %s: %s", post ? "a post" : "a message", topic, why);
}

/* Stores a mirrored message; a full write queue is waited out (the broker
 * then waits for our PUBACK: libmosquitto sends it after this returns). */
static enum store_result append_waiting(struct store_message *m)
{
    enum store_result r;
    for (int tries = 0; (r = store_append_message(m)) == STORE_BUSY && tries < 100; tries++) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return r;
}

/* What one read of the mirror's socket brought: each message is handed to
 * the writer at once (store_append_async), so they share its commits, and
 * settle() waits for them all before libmosquitto may write their PUBACKs. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t done;
    int outstanding; /* handed to the writer, not yet back */
    int queued;      /* jobs[0..queued) of this read; the thread's */
    struct store_job jobs[CHAT_MQTT_RECEIVE_BATCH];
} R = {.lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void received(struct store_job *job) /* the store writer's */
{
    (void)job;
    pthread_mutex_lock(&R.lock);
    R.outstanding--;
    pthread_cond_signal(&R.done);
    pthread_mutex_unlock(&R.lock);
}

static void count_stored(const struct store_message *m, enum store_result r)
{
    if (r == STORE_OK) {
        metrics_add(mqtt_received, 1);
        if (log_enabled(LOG_DEBUG))
            log_debug("stored %s's message %lld as %lld", m->node, (long long)m->origin_id,
                      (long long)m->id);
    } else if (r != STORE_DUPLICATE) {
        log_error("could not store %s's message %lld: it is lost here", m->node,
                  (long long)m->origin_id);
    }
}

/* Waits until every message of this read is committed (or refused). */
static void settle(void)
{
    pthread_mutex_lock(&R.lock);
    while (R.outstanding > 0)
        pthread_cond_wait(&R.done, &R.lock);
    pthread_mutex_unlock(&R.lock);
    for (int i = 0; i < R.queued; i++)
        count_stored(&R.jobs[i].message, R.jobs[i].result);
    R.queued = 0;
}

static void receive_message(const char *topic, const char *room, const char *payload, size_t len)
{
    static struct mirror_message in;
    struct chat_error e = mirror_parse_message(payload, len, &B.arena, &in);
    if (e.kind) {
        refuse(false, topic, e.message);
        return;
    }
    if (text_same_name(in.node, M.node))
        return; /* our own, back from the broker */
    int index = hub_room_find(room);
    if (index < 0 || hub_room_direct(index)) { /* a direct room is never mirrored */
        refuse(false, topic, "no such room");
        return;
    }
    if (R.queued == CHAT_MQTT_RECEIVE_BATCH)
        settle();
    struct store_job *job = &R.jobs[R.queued];
    struct store_message *m = &job->message;
    m->room_id = hub_room_id(index);
    m->ts = in.ts;
    m->origin_id = in.id;
    text_copy(m->node, sizeof m->node, in.node);
    text_copy(m->author, sizeof m->author, in.author);
    text_copy(m->cid, sizeof m->cid, in.cid);
    memcpy(m->body, in.body, strlen(in.body) + 1);
    job->done = received;
    pthread_mutex_lock(&R.lock);
    R.outstanding++;
    pthread_mutex_unlock(&R.lock);
    if (store_append_async(job) == STORE_OK) {
        R.queued++;
        return;
    }
    pthread_mutex_lock(&R.lock); /* a full write queue: this one waits it out */
    R.outstanding--;
    pthread_mutex_unlock(&R.lock);
    settle();
    count_stored(m, append_waiting(m));
}

static void receive_deleted(const char *topic, const char *payload, size_t len)
{
    char node[CHAT_NAME_MAX + 1];
    int64_t origin_id, room_id, id;
    struct chat_error e = mirror_parse_deleted(payload, len, &B.arena, node, &origin_id);
    if (e.kind) {
        refuse(false, topic, e.message);
        return;
    }
    if (text_same_name(node, M.node))
        return;
    enum store_result r = store_delete_mirrored(node, origin_id, &room_id, &id);
    if (r == STORE_OK)
        metrics_add(mqtt_received, 1);
    else if (r != STORE_NOT_FOUND)
        log_error("could not delete %s's message %lld", node, (long long)origin_id);
}

static void receive_created(const char *topic, const char *room, const char *payload, size_t len)
{
    char node[CHAT_NAME_MAX + 1];
    struct chat_error e = mirror_parse_created(payload, len, &B.arena, node);
    if (!e.kind && text_same_name(node, M.node))
        return;
    if (!e.kind && hub_room_find(room) >= 0)
        return; /* known: most retained announcements, at each connection */
    if (!e.kind)
        e = hub_room_adopt(room);
    if (e.kind) {
        refuse(false, topic, e.message);
        return;
    }
    metrics_add(mqtt_received, 1);
    log_info("room %s was created on %s", room, node);
}

static void receive_post(const char *topic, const char *room, const char *payload, size_t len)
{
    struct mirror_post post;
    struct chat_error e = mirror_parse_post(payload, len, &B.arena, &post);
    static struct store_message m;
    bool repeated;
    if (!e.kind && hub_room_direct(hub_room_find(room)))
        e = CHAT_ERROR(NOT_FOUND, "no such room"); /* a device cannot post into a direct room */
    if (!e.kind)
        e = hub_post_message(post.author, room, post.body, post.cid[0] ? post.cid : NULL, &m,
                             &repeated);
    if (e.kind) {
        refuse(true, topic, e.message);
        return;
    }
    metrics_add(mqtt_posts, 1);
}

static void on_message(struct mosquitto *client, void *ctx, const struct mosquitto_message *msg)
{
    (void)client, (void)ctx;
    char room[CHAT_NAME_MAX + 1];
    enum mirror_kind kind;
    struct chat_error e = mirror_parse_topic(M.prefix, msg->topic, room, &kind);
    if (e.kind == CHAT_E_NOT_FOUND)
        return; /* not ours */
    bool post = e.kind == CHAT_E_NONE && kind == MIRROR_POST;
    if (e.kind || !msg->payload) {
        refuse(post, msg->topic, e.kind ? e.message : "an empty payload");
        return;
    }
    const char *payload = msg->payload; /* libmosquitto ends it with a NUL */
    size_t len = (size_t)msg->payloadlen;
    B.arena.used = 0;
    switch (kind) {
    case MIRROR_MESSAGES:
        receive_message(msg->topic, room, payload, len);
        break;
    case MIRROR_DELETED:
        receive_deleted(msg->topic, payload, len);
        break;
    case MIRROR_CREATED:
        receive_created(msg->topic, room, payload, len);
        break;
    case MIRROR_POST:
        receive_post(msg->topic, room, payload, len);
        break;
    }
}

/* ---- the connection ----------------------------------------------------- */

static void subscribe(struct link *l, const char *filter)
{
    int rc = mosquitto_subscribe(l->client, NULL, filter, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        log_error("cannot subscribe to %s: %s", filter, mosquitto_strerror(rc));
}

static void on_connect(struct mosquitto *client, void *ctx, int rc)
{
    (void)ctx;
    struct link *l = link_of(client);
    if (rc != 0) {
        log_warn("the broker refused %s: %s", l->id, mosquitto_connack_string(rc));
        return;
    }
    char filter[MIRROR_TOPIC_MAX + 32];
    if (l == MIRROR_LINK) {
        static const char *const kinds[] = {"messages", "deleted", "created"};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            snprintf(filter, sizeof filter, "%s/rooms/+/%s", M.prefix, kinds[i]);
            subscribe(l, filter);
        }
        M.first = M.count = 0;
        M.cursor = M.acked; /* what was not acknowledged is published again */
        M.pending = true;
        atomic_store_explicit(&metrics.mqtt_connected, 1, memory_order_relaxed);
    } else { /* one appliance takes each post, and mirrors it to the others */
        snprintf(filter, sizeof filter, "$share/lanchat/%s/rooms/+/post", M.prefix);
        subscribe(l, filter);
    }
    l->connected = true;
    l->warned = false;
    l->backoff_s = CHAT_MQTT_RECONNECT_MIN_S;
    log_info("connected to the broker %s:%d as %s (outbox: %lld)", M.host, M.port, l->id,
             (long long)store_outbox_depth());
}

static void on_disconnect(struct mosquitto *client, void *ctx, int rc)
{
    (void)ctx;
    struct link *l = link_of(client);
    if (l->connected && !atomic_load(&M.stopping))
        log_warn("%s lost the broker %s:%d: %s", l->id, M.host, M.port, mosquitto_strerror(rc));
    l->connected = false;
    if (l == MIRROR_LINK) {
        M.count = 0;
        atomic_store_explicit(&metrics.mqtt_connected, 0, memory_order_relaxed);
    }
}

static void on_publish(struct mosquitto *client, void *ctx, int mid)
{
    (void)ctx;
    if (link_of(client) != MIRROR_LINK)
        return;
    for (size_t i = 0; i < M.count; i++) {
        struct inflight *f = &M.window[(M.first + i) % CHAT_MQTT_INFLIGHT];
        if (f->mid == mid && !f->acked) {
            f->acked = true;
            metrics_add(mqtt_published, 1);
            break;
        }
    }
    while (M.count > 0 && M.window[M.first].acked) {
        M.acked = M.window[M.first].seq;
        M.first = (M.first + 1) % CHAT_MQTT_INFLIGHT;
        M.count--;
    }
}

/* ---- the outbox --------------------------------------------------------- */

static bool publish_entry(void *ctx, const struct store_outbox_entry *e)
{
    (void)ctx;
    enum mirror_kind kind = MIRROR_MESSAGES;
    size_t len = 0;
    if (e->kind == STORE_OUTBOX_MESSAGE) {
        static struct mirror_message out;
        text_copy(out.node, sizeof out.node, M.node);
        out.id = e->message.id;
        out.ts = e->message.ts;
        text_copy(out.author, sizeof out.author, e->message.author);
        text_copy(out.cid, sizeof out.cid, e->message.cid);
        memcpy(out.body, e->message.body, strlen(e->message.body) + 1);
        len = mirror_encode_message(B.payload, sizeof B.payload, &out);
    } else if (e->kind == STORE_OUTBOX_DELETED) {
        kind = MIRROR_DELETED;
        len = mirror_encode_deleted(B.payload, sizeof B.payload, M.node, e->message.id);
    } else {
        kind = MIRROR_CREATED;
        len = mirror_encode_created(B.payload, sizeof B.payload, M.node);
    }
    if (len == 0 || !mirror_topic(B.topic, sizeof B.topic, M.prefix, e->room, kind)) {
        log_error("outbox row %lld does not fit a payload: skipped", (long long)e->seq);
        M.cursor = e->seq; /* acknowledged with the next one */
        return true;
    }
    int mid = 0;
    int rc = mosquitto_publish(MIRROR_LINK->client, &mid, B.topic, (int)len, B.payload, 1,
                               kind == MIRROR_CREATED);
    if (rc != MOSQ_ERR_SUCCESS) {
        log_warn("publish failed: %s", mosquitto_strerror(rc));
        return false;
    }
    struct inflight *f = &M.window[(M.first + M.count) % CHAT_MQTT_INFLIGHT];
    *f = (struct inflight){.mid = mid, .seq = e->seq};
    M.count++;
    M.cursor = e->seq;
    return M.count < CHAT_MQTT_INFLIGHT;
}

static void serve_outbox(void)
{
    /* Acknowledged rows go in batches (half a window, or all once nothing is
     * in flight): one commit for many. A crash before that publishes them
     * again, and the others keep each once. */
    bool batch = M.acked - M.removed >= CHAT_MQTT_INFLIGHT / 2 || M.count == 0;
    if (M.acked > M.removed && batch) {
        if (store_outbox_remove(M.acked) == STORE_OK)
            M.removed = M.acked;
    }
    if (!MIRROR_LINK->connected || !M.pending || M.count >= CHAT_MQTT_INFLIGHT)
        return;
    int64_t room = CHAT_MQTT_INFLIGHT - (int64_t)M.count;
    size_t before = M.count;
    int64_t was = M.cursor;
    if (store_outbox_read(M.cursor, room, publish_entry, NULL) != STORE_OK)
        return;
    /* fewer rows than room: the outbox is published up to its end */
    if ((int64_t)(M.count - before) < room && M.cursor >= was)
        M.pending = false;
}

/* ---- the thread --------------------------------------------------------- */

static struct timespec now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static int ms_until(struct timespec t)
{
    struct timespec n = now();
    long long ms = (t.tv_sec - n.tv_sec) * 1000LL + (t.tv_nsec - n.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

/* A connection that failed before the broker accepted it: said once per
 * outage (libmosquitto's own error lines, through log_line, say more). */
static void attempt_failed(struct link *l, int rc, int err)
{
    if (l->warned)
        return;
    l->warned = true;
    log_warn("%s cannot connect to the broker %s:%d (trying again, every %d s at most): %s", l->id,
             M.host, M.port, CHAT_MQTT_RECONNECT_MAX_S,
             rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc));
}

static void log_line(struct mosquitto *client, void *ctx, int level, const char *text)
{
    (void)ctx;
    bool said = link_of(client)->warned; /* libmosquitto's errors: once per outage */
    if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) && !said)
        log_warn("libmosquitto: %s", text);
    else if (log_enabled(LOG_DEBUG))
        log_debug("libmosquitto: %s", text);
}

static void try_connect(struct link *l)
{
    if (ms_until(l->next_attempt) > 0)
        return;
    int rc = l->asked ? mosquitto_reconnect_async(l->client)
                      : mosquitto_connect_async(l->client, M.host, M.port, CHAT_MQTT_KEEPALIVE_S);
    l->asked = true;
    if (rc != MOSQ_ERR_SUCCESS)
        attempt_failed(l, rc, errno);
    l->next_attempt = now();
    l->next_attempt.tv_sec += l->backoff_s;
    l->backoff_s =
        l->backoff_s * 2 > CHAT_MQTT_RECONNECT_MAX_S ? CHAT_MQTT_RECONNECT_MAX_S : l->backoff_s * 2;
}

/* What poll said of a link's socket: read, write, keepalive. On an error
 * libmosquitto closed the socket and said so (on_disconnect); the next turn
 * connects again. */
static void serve_link(struct link *l, short revents)
{
    int rc = MOSQ_ERR_SUCCESS;
    /* What has come, up to a batch: libmosquitto reads one packet a call
     * (its max_packets counts QoS 2 in flight), so ask again while the
     * socket has more. */
    for (int k = 0; k < CHAT_MQTT_RECEIVE_BATCH && (revents & (POLLIN | POLLERR | POLLHUP)); k++) {
        rc = mosquitto_loop_read(l->client, 1);
        struct pollfd more = {.fd = mosquitto_socket(l->client), .events = POLLIN};
        if (rc != MOSQ_ERR_SUCCESS || more.fd < 0 || poll(&more, 1, 0) != 1)
            break;
    }
    settle(); /* before any PUBACK is written */
    if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT))
        rc = mosquitto_loop_write(l->client, 1);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_misc(l->client);
    if (rc != MOSQ_ERR_SUCCESS && l->connected)
        on_disconnect(l->client, NULL, rc);
    else if (rc != MOSQ_ERR_SUCCESS)
        attempt_failed(l, rc, errno);
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lanchat-mqtt");
    while (!atomic_load(&M.stopping)) {
        struct pollfd fds[1 + LINK_COUNT] = {{.fd = M.wake, .events = POLLIN}};
        int timeout = 1000; /* keepalives are sent from here */
        for (int i = 0; i < LINK_COUNT; i++) {
            struct link *l = &M.links[i];
            if (mosquitto_socket(l->client) < 0)
                try_connect(l);
            int sock = mosquitto_socket(l->client);
            fds[1 + i] = (struct pollfd){.fd = sock, .events = POLLIN}; /* < 0: ignored */
            if (sock >= 0 && mosquitto_want_write(l->client))
                fds[1 + i].events |= POLLOUT;
            if (sock < 0) {
                int wait = ms_until(l->next_attempt);
                timeout = wait < timeout ? (wait > 0 ? wait : 1) : timeout;
            }
        }
        if (poll(fds, 1 + LINK_COUNT, timeout) < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            break;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t n;
            if (read(M.wake, &n, sizeof n) < 0 && errno != EAGAIN)
                log_warn("wake: %s", strerror(errno));
            M.pending = true;
        }
        for (int i = 0; i < LINK_COUNT; i++)
            if (fds[1 + i].fd >= 0)
                serve_link(&M.links[i], fds[1 + i].revents);
        serve_outbox();
    }
    for (int i = 0; i < LINK_COUNT; i++) { /* a clean goodbye; the mirror's session stays */
        if (M.links[i].connected) {
            mosquitto_disconnect(M.links[i].client);
            mosquitto_loop_write(M.links[i].client, 1);
        }
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

static int parse_url(const char *url)
{
    const char *rest;
    if (strncmp(url, "mqtt://", 7) == 0) {
        rest = url + 7;
        M.tls = false;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        rest = url + 8;
        M.tls = true;
    } else {
        log_error("--mqtt %s: give mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", url);
        return -1;
    }
    const char *colon = strrchr(rest, ':');
    size_t hlen = colon ? (size_t)(colon - rest) : strlen(rest);
    M.port = M.tls ? 8883 : 1883;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || (*end && strcmp(end, "/") != 0) || port < 1 || port > 65535) {
            log_error("--mqtt %s: the port must be 1-65535", url);
            return -1;
        }
        M.port = (int)port;
    } else if (hlen > 0 && rest[hlen - 1] == '/') {
        hlen--;
    }
    if (hlen == 0 || hlen >= sizeof M.host || memchr(rest, '/', hlen)) {
        log_error("--mqtt %s: give mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", url);
        return -1;
    }
    memcpy(M.host, rest, hlen);
    M.host[hlen] = '\0';
    return 0;
}

static int read_password(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("cannot read the MQTT password file %s: %s", path, strerror(errno));
        return -1;
    }
    bool got = fgets(M.password, sizeof M.password, f) != NULL;
    fclose(f);
    M.password[strcspn(M.password, "\r\n")] = '\0';
    if (!got || !M.password[0]) {
        log_error("the MQTT password file %s is empty", path);
        return -1;
    }
    return 0;
}

static int settings(const struct mqtt_config *c)
{
    if (parse_url(c->url) != 0)
        return -1;
    if (!mirror_valid_prefix(c->prefix)) {
        log_error("--mqtt-prefix %s: topic levels without + # or a leading $, at most %d bytes",
                  c->prefix, MIRROR_PREFIX_MAX - 1);
        return -1;
    }
    snprintf(M.prefix, sizeof M.prefix, "%s", c->prefix);
    char host[256];
    if (c->node[0]) {
        text_copy(M.node, sizeof M.node, c->node);
    } else if (gethostname(host, sizeof host) != 0 || strlen(host) > CHAT_NAME_MAX) {
        log_error("the host name is no node name (1-%d of A-Z a-z 0-9 _ . -): give --node",
                  CHAT_NAME_MAX);
        return -1;
    } else {
        text_copy(M.node, sizeof M.node, host);
    }
    if (!text_valid_name(M.node)) {
        log_error("node name %s breaks the name rules (1-%d of A-Z a-z 0-9 _ . -): give --node",
                  M.node, CHAT_NAME_MAX);
        return -1;
    }
    snprintf(M.links[LINK_MIRROR].id, sizeof M.links[LINK_MIRROR].id, "lanchat-%s", M.node);
    snprintf(M.links[LINK_POSTS].id, sizeof M.links[LINK_POSTS].id, "lanchat-%s-posts", M.node);
    M.password[0] = '\0';
    if (c->password_file[0] && read_password(c->password_file) != 0)
        return -1;
    return 0;
}

/* mqtts://: the broker's certificate must chain to --mqtt-ca, or to the
 * system's CAs, and name the host. */
static int start_tls(struct mosquitto *client, const char *ca)
{
    int rc = mosquitto_tls_set(client, ca[0] ? ca : NULL, ca[0] ? NULL : "/etc/ssl/certs", NULL,
                               NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_opts_set(client, 1 /* SSL_VERIFY_PEER */, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        log_error("cannot set up TLS to the broker (--mqtt-ca %s): %s", ca[0] ? ca : "-",
                  mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

static int make_link(struct link *l, bool kept_session, const struct mqtt_config *config)
{
    l->client = mosquitto_new(l->id, !kept_session, NULL);
    if (!l->client) {
        log_error("cannot make the MQTT client %s: %s", l->id, strerror(errno));
        return -1;
    }
    if (config->user[0] &&
        mosquitto_username_pw_set(l->client, config->user, M.password[0] ? M.password : NULL) !=
            MOSQ_ERR_SUCCESS) {
        log_error("cannot set the MQTT user");
        return -1;
    }
    if (M.tls && start_tls(l->client, config->ca) != 0)
        return -1;
    mosquitto_connect_callback_set(l->client, on_connect);
    mosquitto_disconnect_callback_set(l->client, on_disconnect);
    mosquitto_publish_callback_set(l->client, on_publish);
    mosquitto_message_callback_set(l->client, on_message);
    mosquitto_log_callback_set(l->client, log_line);
    mosquitto_max_inflight_messages_set(l->client, CHAT_MQTT_INFLIGHT);
    /* "Threaded": packets are queued and written by our loop's next
     * mosquitto_loop_write, never at once. So the PUBACK of a message leaves
     * after on_message returned, once it is committed here: a crash before
     * that, and the broker sends the message again. */
    mosquitto_threaded_set(l->client, true);
    l->backoff_s = CHAT_MQTT_RECONNECT_MIN_S;
    l->next_attempt = now();
    return 0;
}

int mqtt_start(const struct mqtt_config *config)
{
    if (settings(config) != 0)
        return -1;
    mosquitto_lib_init();
    M.lib_ready = true;
    M.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (M.wake < 0 || make_link(&M.links[LINK_MIRROR], true, config) != 0 ||
        make_link(&M.links[LINK_POSTS], false, config) != 0) {
        if (M.wake < 0)
            log_error("cannot make the MQTT thread's eventfd: %s", strerror(errno));
        mqtt_stop();
        return -1;
    }
    M.pending = true;
    atomic_store(&M.stopping, false);
    if (pthread_create(&M.thread, NULL, thread_main, NULL) != 0) {
        log_error("cannot start the MQTT thread");
        mqtt_stop();
        return -1;
    }
    M.running = true;
    log_info("node %s mirrors rooms through %s:%d, topics %s/rooms/...", M.node, M.host, M.port,
             M.prefix);
    return 0;
}

void mqtt_stop(void)
{
    if (M.running) {
        atomic_store(&M.stopping, true);
        uint64_t one = 1;
        if (write(M.wake, &one, sizeof one) < 0)
            log_warn("wake: %s", strerror(errno));
        pthread_join(M.thread, NULL);
        M.running = false;
    }
    for (int i = 0; i < LINK_COUNT; i++) {
        if (M.links[i].client)
            mosquitto_destroy(M.links[i].client);
        M.links[i] = (struct link){0};
    }
    if (M.lib_ready)
        mosquitto_lib_cleanup();
    M.lib_ready = false;
    if (M.wake >= 0)
        close(M.wake);
    M.wake = -1;
    memset(M.password, 0, sizeof M.password);
}

void mqtt_outbox_added(void)
{
    uint64_t one = 1;
    if (M.wake >= 0 && write(M.wake, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("wake: %s", strerror(errno));
}

#else /* !CHAT_WITH_MQTT */

int mqtt_start(const struct mqtt_config *config)
{
    (void)config;
    return 0;
}

void mqtt_stop(void) {}

void mqtt_outbox_added(void) {}

#endif
