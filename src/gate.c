#include "gate.h"

#include "config.h"
#include "http.h"
#define LOG_MODULE "gate"
#include "log.h"
#include "ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One connection civetweb holds, from our accept to its connection_close. */
struct entry {
    bool used;
    bool in_request; /* between begin_request and end_request */
    bool reading;    /* headers or body not read yet: the deadline runs */
    bool cut;        /* the watchdog shut it down */
    int fd;
    struct gate_key {
        unsigned char addr[16]; /* IPv4 in the first 4 bytes */
        int family;
        uint16_t port, local_port;
    } key;
    int64_t since_ms; /* accepted, or its last request ended */
};

static struct {
    pthread_mutex_t lock; /* guards entries, plain_ports */
    pthread_cond_t wake;
    struct entry entries[CHAT_CONN_TOTAL];
    int plain_ports[4];
    int plain_count;
    atomic_bool started, ready, stopping;
    pthread_t watchdog;
    atomic_ullong refused, cut;
    int (*then)(struct mg_connection *conn); /* after admission: the HTTPS redirect */
} G = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* Connections one accept call refuses at most before it lets the master
 * thread look at its other listeners. */
#define ACCEPT_BATCH 64

/* While fewer connections (requests) than this are held in all, an address
 * may go over its share: the limits bite only when workers get scarce, and
 * one address still holds at most max(limit, this), leaving the rest. */
#define SPARE_BELOW (CHAT_HTTP_THREADS / 2)

/* Milliseconds between the watchdog's passes over the table (a slow request
 * is cut at most this late), and between two log lines of refusals. */
#define WATCH_MS 250
#define REFUSAL_LOG_MS 1000
_Static_assert(WATCH_MS > 0 && WATCH_MS < 1000, "the watchdog adds WATCH_MS to tv_nsec");

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* An IPv4-mapped IPv6 address counts as its IPv4 address. */
static bool key_of_address(int family, const unsigned char *bin, uint16_t port, struct gate_key *k)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(k, 0, sizeof *k);
    k->port = port;
    if (family == AF_INET || (family == AF_INET6 && memcmp(bin, mapped, 12) == 0)) {
        k->family = AF_INET;
        memcpy(k->addr, family == AF_INET ? bin : bin + 12, 4);
    } else if (family == AF_INET6) {
        k->family = AF_INET6;
        memcpy(k->addr, bin, 16);
    } else {
        return false;
    }
    return true;
}

/* The sockaddr is copied out, not cast: a sockaddr_storage read through
 * another struct type is undefined, and the optimiser takes it at its word. */
static bool key_of(const struct sockaddr_storage *ss, struct gate_key *k)
{
    if (ss->ss_family == AF_INET) {
        struct sockaddr_in a;
        memcpy(&a, ss, sizeof a);
        return key_of_address(AF_INET, (const unsigned char *)&a.sin_addr, ntohs(a.sin_port), k);
    }
    if (ss->ss_family == AF_INET6) {
        struct sockaddr_in6 a;
        memcpy(&a, ss, sizeof a);
        return key_of_address(AF_INET6, a.sin6_addr.s6_addr, ntohs(a.sin6_port), k);
    }
    return false;
}

/* The key of a civetweb connection, from the address text civetweb made. */
static bool key_of_conn(const struct mg_connection *conn, struct gate_key *k)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    /* None for a connection that never became a request (a TLS handshake
     * that failed): the watchdog forgets its entry (its descriptor closed). */
    if (!ri)
        return false;
    unsigned char bin[16];
    int family = inet_pton(AF_INET, ri->remote_addr, bin) == 1    ? AF_INET
                 : inet_pton(AF_INET6, ri->remote_addr, bin) == 1 ? AF_INET6
                                                                  : AF_UNSPEC;
    if (!key_of_address(family, bin, (uint16_t)ri->remote_port, k))
        return false;
    k->local_port = (uint16_t)ri->server_port;
    return true;
}

static bool same_address(const struct gate_key *a, const struct gate_key *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

static bool same_key(const struct gate_key *a, const struct gate_key *b)
{
    return same_address(a, b) && a->port == b->port && a->local_port == b->local_port;
}

/* The entry's descriptor is still its connection: not closed, nor taken
 * over by ws (which leaves an unconnected socket in its place). */
static bool still_there(const struct entry *e)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    struct gate_key k;
    if (getpeername(e->fd, (struct sockaddr *)&ss, &len) != 0 || !key_of(&ss, &k))
        return false;
    return same_address(&k, &e->key) && k.port == e->key.port;
}

static struct entry *find(const struct gate_key *k)
{
    for (size_t i = 0; i < CHAT_CONN_TOTAL; i++)
        if (G.entries[i].used && same_key(&G.entries[i].key, k))
            return &G.entries[i];
    return NULL;
}

/* NULL when the connection is admitted (and entered), else why not. */
static const char *admit(int fd, const struct sockaddr_storage *peer)
{
    struct gate_key k;
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (!key_of(peer, &k) || getsockname(fd, (struct sockaddr *)&local, &len) != 0)
        return NULL; /* not TCP over IP: nothing to count by */
    struct gate_key lk;
    if (key_of(&local, &lk))
        k.local_port = lk.port;
    const char *why = NULL;
    pthread_mutex_lock(&G.lock);
    struct entry *free_entry = NULL;
    int same = 0, held = 0;
    for (size_t i = 0; i < CHAT_CONN_TOTAL; i++) {
        struct entry *e = &G.entries[i];
        if (e->used && same_address(&e->key, &k) && !still_there(e))
            e->used = false; /* taken over or gone: civetweb no longer holds it */
        if (!e->used)
            free_entry = free_entry ? free_entry : e;
        else
            held++, same += same_address(&e->key, &k);
    }
    if (same >= CHAT_CONN_PER_ADDR && held >= SPARE_BELOW)
        why = "too many connections from this address";
    else if (!free_entry)
        why = "too many connections";
    else
        *free_entry =
            (struct entry){.used = true, .reading = true, .fd = fd, .key = k, .since_ms = now_ms()};
    pthread_mutex_unlock(&G.lock);
    return why;
}

static bool plain_port(int port)
{
    pthread_mutex_lock(&G.lock);
    bool plain = false;
    for (int i = 0; i < G.plain_count; i++)
        plain = plain || G.plain_ports[i] == port;
    pthread_mutex_unlock(&G.lock);
    return plain;
}

/* On a plain HTTP port, a 503 the client can read (what it sent so far is
 * read first, so closing does not reset the connection over the reply); on
 * a TLS port, which speaks no HTTP before its handshake, only the close.
 * Nothing here waits: the socket is non-blocking and the reply small. */
/* One line a second at most, however many are refused: an attack must not
 * flood the log. Master thread only. */
static void log_refusal(const char *why)
{
    static int64_t last_ms;
    static unsigned long long logged;
    unsigned long long refused = atomic_load(&G.refused);
    int64_t now = now_ms();
    if (now - last_ms < REFUSAL_LOG_MS)
        return;
    log_warn("%llu connections refused since the last line (%s)", refused - logged, why);
    last_ms = now;
    logged = refused;
}

static void refuse(int fd, const char *why)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    struct gate_key lk;
    atomic_fetch_add(&G.refused, 1);
    log_refusal(why);
    if (getsockname(fd, (struct sockaddr *)&local, &len) == 0 && key_of(&local, &lk) &&
        plain_port(lk.port)) {
        char drain[2048], reply[768], json[256];
        for (int i = 0; i < 4 && recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0; i++)
            continue;
        size_t n = http_error_json((struct chat_error){CHAT_E_UNAVAILABLE, why}, json, sizeof json);
        const struct http_header headers[] = {
            {"Content-Type", "application/json"},
            {"Cache-Control", "no-store"},
            {"Retry-After", "1"},
        };
        size_t head = http_head_text(reply, sizeof reply, 503, headers,
                                     sizeof headers / sizeof headers[0], n);
        if (head > 0 && head + n <= sizeof reply) {
            memcpy(reply + head, json, n);
            if (send(fd, reply, head + n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                log_debug("refusal not sent: %s", strerror(errno));
        }
    }
    close(fd);
}

/* libcivetweb's master thread accepts through this definition rather than
 * libc's: the executable's symbols come first. The socket comes from libc's
 * accept4; a refused one is answered and closed here, and the next pending
 * one tried, so the master thread never queues a connection over a limit. */
int accept(int listener, struct sockaddr *addr, socklen_t *addr_len)
{
    if (!atomic_load(&G.started))
        return accept4(listener, addr, addr_len, 0);
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(listener, (struct sockaddr *)&peer, &len, 0);
        if (fd < 0)
            return -1;
        const char *why = admit(fd, &peer);
        if (!why) {
            if (addr && addr_len) {
                memcpy(addr, &peer, len < *addr_len ? len : *addr_len);
                *addr_len = len;
            }
            return fd;
        }
        refuse(fd, why);
    }
    errno = EAGAIN;
    return -1;
}

/* Cuts every connection whose headers and body took longer than the
 * deadline: shutting the socket down ends civetweb's read at once. Forgets
 * entries whose descriptor is no longer their connection, so that no path
 * that skips connection_close can leak a place in the table. */
static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&G.lock);
    while (!atomic_load(&G.stopping)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_MS * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&G.wake, &G.lock, &until);
        int64_t now = now_ms();
        for (size_t i = 0; i < CHAT_CONN_TOTAL; i++) {
            struct entry *e = &G.entries[i];
            if (!e->used || now - e->since_ms < CHAT_REQUEST_READ_MS)
                continue;
            if (!still_there(e)) { /* taken over, or closed without our callback */
                e->used = false;
                continue;
            }
            if (!e->reading || e->cut)
                continue;
            e->cut = true;
            if (shutdown(e->fd, SHUT_RDWR) == 0) {
                atomic_fetch_add(&G.cut, 1);
                log_debug("a request took over %d ms to arrive; connection cut",
                          CHAT_REQUEST_READ_MS);
            }
        }
    }
    pthread_mutex_unlock(&G.lock);
    return NULL;
}

static int begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!atomic_load(&G.ready)) {
        http_refuse(conn, CHAT_ERROR(UNAVAILABLE, "the server is starting"));
        return 503;
    }
    bool body = ri->content_length > 0 || mg_get_header(conn, "Transfer-Encoding") != NULL;
    struct gate_key k;
    bool over = false;
    if (key_of_conn(conn, &k)) {
        pthread_mutex_lock(&G.lock);
        struct entry *e = find(&k);
        int busy = 0, all = 0;
        for (size_t i = 0; e && i < CHAT_CONN_TOTAL; i++) {
            bool working = G.entries[i].used && G.entries[i].in_request;
            all += working;
            busy += working && same_address(&G.entries[i].key, &k);
        }
        over = busy >= CHAT_REQUESTS_PER_ADDR && all >= SPARE_BELOW;
        if (e && !over) {
            e->in_request = true;
            e->reading = body;
        }
        pthread_mutex_unlock(&G.lock);
    }
    if (over) {
        atomic_fetch_add(&G.refused, 1);
        http_refuse(conn, CHAT_ERROR(UNAVAILABLE, "too many requests from this address"));
        return 503;
    }
    /* civetweb answers an upgrade to a path without a WebSocket handler
     * with no status line at all */
    if (mg_get_header(conn, "Upgrade") && strcmp(ri->local_uri, WS_PATH) != 0) {
        http_refuse(conn, CHAT_ERROR(NOT_FOUND, "no WebSocket endpoint here"));
        return 404;
    }
    return G.then ? G.then(conn) : 0;
}

/* The entry of conn's connection, changed by change under the lock; nothing
 * when civetweb's connection is not (or no longer) in the table. */
static void update_entry(const struct mg_connection *conn, void (*change)(struct entry *e))
{
    struct gate_key k;
    if (!key_of_conn(conn, &k))
        return;
    pthread_mutex_lock(&G.lock);
    struct entry *e = find(&k);
    if (e)
        change(e);
    pthread_mutex_unlock(&G.lock);
}

static void request_ended(struct entry *e)
{
    e->in_request = false;
    e->reading = true; /* the next request's headers */
    e->since_ms = now_ms();
}

static void closed(struct entry *e)
{
    e->used = false;
}

static void body_read(struct entry *e)
{
    e->reading = false;
}

static void end_request(const struct mg_connection *conn, int status)
{
    (void)status;
    update_entry(conn, request_ended);
}

static void connection_close(const struct mg_connection *conn)
{
    update_entry(conn, closed);
}

void gate_body_read(const struct mg_connection *conn)
{
    update_entry(conn, body_read);
}

void gate_callbacks(struct mg_callbacks *callbacks, int (*then)(struct mg_connection *conn))
{
    G.then = then;
    callbacks->begin_request = begin_request;
    callbacks->end_request = end_request;
    callbacks->connection_close = connection_close;
}

int gate_start(void)
{
    if (pthread_create(&G.watchdog, NULL, watch, NULL) != 0) {
        log_error("cannot start the watchdog");
        return -1;
    }
    atomic_store(&G.started, true);
    return 0;
}

void gate_ready(struct mg_context *ctx)
{
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(ctx, 4, ports);
    pthread_mutex_lock(&G.lock);
    G.plain_count = 0;
    for (int i = 0; i < n; i++)
        if (!ports[i].is_ssl)
            G.plain_ports[G.plain_count++] = ports[i].port;
    pthread_mutex_unlock(&G.lock);
    atomic_store(&G.ready, true);
}

void gate_stop(void)
{
    if (!atomic_exchange(&G.started, false))
        return; /* never started, or stopped already: no watchdog to join */
    pthread_mutex_lock(&G.lock);
    atomic_store(&G.stopping, true);
    pthread_cond_signal(&G.wake);
    pthread_mutex_unlock(&G.lock);
    pthread_join(G.watchdog, NULL);
    log_info("%llu connections or requests refused, %llu cut at the read deadline",
             (unsigned long long)atomic_load(&G.refused), (unsigned long long)atomic_load(&G.cut));
}
