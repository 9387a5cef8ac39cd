#include "api.h"

#include "auth.h"
#include "config.h"
#include "deliver.h"
#include "frame.h"
#include "http.h"
#include "hub.h"
#include "json.h"
#define LOG_MODULE "api"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "store.h"
#include "text.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

POOL_ELEMENT(request, struct api_request);

#define SPELLED(n) #n
#define SPELLED_VALUE(n) SPELLED(n)
/* What a 400 says of a user or room name (text_valid_name). */
#define NAME_RULE                                                                                  \
    "\"name\" must be 1-" SPELLED_VALUE(CHAT_NAME_MAX) " characters of A-Z a-z 0-9 _ . -"

typedef void (*handler_fn)(struct api_request *r);

/* The route table is the API's index: read it top to bottom. */
enum { PUBLIC = 0, AUTHENTICATED = 1 };

static void session_create(struct api_request *r);
static void session_get(struct api_request *r);
static void session_delete(struct api_request *r);
#if CHAT_WITH_ACCOUNTS
static void users_create(struct api_request *r);
#endif
static void rooms_list(struct api_request *r);
#if CHAT_WITH_ROOMS
static void rooms_create(struct api_request *r);
#endif
#if CHAT_WITH_DIRECT
static void direct_open(struct api_request *r);
#endif
static void messages_list(struct api_request *r);
static void messages_post(struct api_request *r);
static void message_get(struct api_request *r);
static void message_delete(struct api_request *r);
#if CHAT_WITH_SEARCH
static void search_get(struct api_request *r);
#endif
static void presence_get(struct api_request *r);
static void health_get(struct api_request *r);
static void server_get(struct api_request *r);
#if !CHAT_WITH_ACCOUNTS || !CHAT_WITH_ROOMS || !CHAT_WITH_SEARCH || !CHAT_WITH_DIRECT ||           \
    (CHAT_WITH_MODERATION && !CHAT_WITH_BACKUPS)
static void feature_absent(struct api_request *r);
#endif
#if CHAT_WITH_METRICS
static void metrics_export(struct api_request *r);
#endif
#if CHAT_WITH_MODERATION
static void audit_list(struct api_request *r);
static void mutes_create(struct api_request *r);
static void kicks_create(struct api_request *r);
static void room_patch(struct api_request *r);
static void bans_list(struct api_request *r);
static void bans_create(struct api_request *r);
static void bans_delete_name(struct api_request *r);
static void bans_delete_address(struct api_request *r);
static void reserved_list(struct api_request *r);
static void reserved_create(struct api_request *r);
static void reserved_delete(struct api_request *r);
static bool refuse_banned(struct api_request *r, const char *name, bool new_name);
#if CHAT_WITH_BACKUPS
static void backup_get(struct api_request *r);
#endif
#endif
#if CHAT_WITH_TLS
static void trust_get(struct api_request *r);
static void ca_get(struct api_request *r);
#endif

static const struct route {
    const char *method;
    const char *pattern;
    int access;
    handler_fn handler;
} routes[] = {
    {"POST", "/api/v1/session", PUBLIC, session_create},
    {"GET", "/api/v1/session", AUTHENTICATED, session_get},
    {"DELETE", "/api/v1/session", AUTHENTICATED, session_delete},
#if CHAT_WITH_ACCOUNTS
    {"POST", "/api/v1/users", PUBLIC, users_create},
#else
    {"POST", "/api/v1/users", PUBLIC, feature_absent},
#endif
    {"GET", "/api/v1/rooms", AUTHENTICATED, rooms_list},
#if CHAT_WITH_ROOMS
    {"POST", "/api/v1/rooms", AUTHENTICATED, rooms_create},
#else
    {"POST", "/api/v1/rooms", PUBLIC, feature_absent},
#endif
#if CHAT_WITH_DIRECT
    {"POST", "/api/v1/direct", AUTHENTICATED, direct_open},
#else
    {"POST", "/api/v1/direct", PUBLIC, feature_absent},
#endif
    {"GET", "/api/v1/rooms/*/messages", AUTHENTICATED, messages_list},
    {"POST", "/api/v1/rooms/*/messages", AUTHENTICATED, messages_post},
    {"GET", "/api/v1/messages/*", AUTHENTICATED, message_get},
    {"DELETE", "/api/v1/messages/*", AUTHENTICATED, message_delete},
#if CHAT_WITH_SEARCH
    {"GET", "/api/v1/search", AUTHENTICATED, search_get},
#else
    {"GET", "/api/v1/search", PUBLIC, feature_absent},
#endif
    {"GET", "/api/v1/presence", AUTHENTICATED, presence_get},
#if CHAT_WITH_MODERATION
    {"GET", "/api/v1/admin/audit", AUTHENTICATED, audit_list},
    {"POST", "/api/v1/admin/mutes", AUTHENTICATED, mutes_create},
    {"POST", "/api/v1/admin/kicks", AUTHENTICATED, kicks_create},
    {"PATCH", "/api/v1/rooms/*", AUTHENTICATED, room_patch},
    {"GET", "/api/v1/admin/bans", AUTHENTICATED, bans_list},
    {"POST", "/api/v1/admin/bans", AUTHENTICATED, bans_create},
    {"DELETE", "/api/v1/admin/bans/name/*", AUTHENTICATED, bans_delete_name},
    {"DELETE", "/api/v1/admin/bans/address/*", AUTHENTICATED, bans_delete_address},
    {"GET", "/api/v1/admin/reserved", AUTHENTICATED, reserved_list},
    {"POST", "/api/v1/admin/reserved", AUTHENTICATED, reserved_create},
    {"DELETE", "/api/v1/admin/reserved/*", AUTHENTICATED, reserved_delete},
#if CHAT_WITH_BACKUPS
    {"GET", "/api/v1/admin/backup", AUTHENTICATED, backup_get},
#else
    {"GET", "/api/v1/admin/backup", PUBLIC, feature_absent},
#endif
#endif
    {"GET", "/api/v1/server", PUBLIC, server_get},
    {"GET", "/healthz", PUBLIC, health_get},
#if CHAT_WITH_METRICS
    {"GET", "/metrics", PUBLIC, metrics_export},
#endif
#if CHAT_WITH_TLS
    {"GET", "/api/v1/trust", PUBLIC, trust_get},
    {"GET", "/ca.crt", PUBLIC, ca_get},
#endif
};

static int64_t cookie_max_age;

/* ---- helpers ---------------------------------------------------------------------- */

static void fail(struct api_request *r, enum chat_errc kind, const char *message)
{
    http_error(r->conn, (struct chat_error){kind, message});
}

/* 204: done, nothing to say. */
static void no_content(struct api_request *r)
{
    http_reply(r->conn, 204, "application/json", "", 0, NULL, NULL);
}

/* Reads and parses the JSON object body; on failure the reply is sent. */
static const cJSON *read_object(struct api_request *r)
{
    struct chat_error e = http_read_json_body(r->conn, r->body, sizeof r->body, &r->body_len);
    if (e.kind) {
        http_error(r->conn, e);
        return NULL;
    }
    const cJSON *doc = json_parse(&r->arena, r->body, r->body_len);
    if (!doc || !cJSON_IsObject(doc)) {
        fail(r, CHAT_E_BAD_REQUEST, "body must be a JSON object");
        return NULL;
    }
    return doc;
}

/* A member that is absent is NULL; present but not a string is an error. */
static bool optional_string(const cJSON *doc, const char *key, const char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, key);
    *out = cJSON_IsString(item) ? item->valuestring : NULL;
    return !item || cJSON_IsNull(item) || cJSON_IsString(item);
}

static bool parse_id(const char *text, int64_t *out)
{
    if (!text || !*text || strlen(text) > 18)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *out = strtoll(text, NULL, 10);
    return true;
}

static void reply_message(struct api_request *r, int status, const struct store_message *m)
{
    char json[CHAT_FRAME_SIZE], room[CHAT_NAME_MAX + 1];
    struct jw w;
    hub_room_name(hub_room_index(m->room_id), room);
    jw_init(&w, json, sizeof json);
    frame_message_json(&w, m, room, false);
    http_json(r->conn, status, jw_finish(&w) ? json : "{}");
}

/* Whether the account is an admin now: the flag is read from the database at
 * each check, so `lanchat admin add|remove` takes effect at once. */
static bool admin_now(bool registered, const char *name)
{
#if CHAT_WITH_MODERATION
    return registered && store_is_admin(name);
#else
    (void)registered;
    (void)name;
    return false;
#endif
}

/* with_admin: the session's answers (login, GET) say whether it is an admin. */
static void reply_user(struct api_request *r, int status, const char *name, const char *token,
                       bool registered, bool with_admin)
{
    char json[256], cookie[160];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"user\":{\"name\":");
    jw_str(&w, name);
#if CHAT_WITH_MODERATION
    if (with_admin)
        jw_raw(&w, admin_now(registered, name) ? ",\"admin\":true" : ",\"admin\":false");
#else
    (void)with_admin;
#endif
    jw_raw(&w, "}");
    if (token) {
        jw_raw(&w, ",\"token\":");
        jw_str(&w, token);
    }
    jw_raw(&w, "}");
    if (!token) {
        http_json(r->conn, status, json);
        return;
    }
    /* Under TLS the browser must never send it over plain HTTP. */
    const char *secure = mg_get_request_info(r->conn)->is_ssl ? "; Secure" : "";
    if (registered)
        snprintf(cookie, sizeof cookie,
                 "session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%" PRId64 "%s", token,
                 cookie_max_age, secure);
    else
        snprintf(cookie, sizeof cookie, "session=%s; HttpOnly; SameSite=Strict; Path=/%s", token,
                 secure);
    http_reply(r->conn, status, "application/json", json, strlen(json), "Set-Cookie", cookie);
}

/* ---- trusting the local CA (over plain HTTP too) ------------------------------ */

#if CHAT_WITH_TLS
static void trust_get(struct api_request *r)
{
    size_t len;
    if (!tls_ca_pem(&len)) {
        fail(r, CHAT_E_NOT_FOUND, "HTTPS is off, or its certificate is not from a local CA");
        return;
    }
    char url[160], json[512];
    tls_https_url(r->conn, url, sizeof url);
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"fingerprint\":");
    jw_str(&w, tls_ca_fingerprint());
    jw_raw(&w, ",\"https_url\":");
    jw_str(&w, url);
    jw_raw(&w, ",\"ca_url\":\"/ca.crt\"}");
    http_json(r->conn, 200, jw_finish(&w) ? json : "{}");
}

static void ca_get(struct api_request *r)
{
    size_t len;
    const char *pem = tls_ca_pem(&len);
    if (!pem) {
        fail(r, CHAT_E_NOT_FOUND, "HTTPS is off, or its certificate is not from a local CA");
        return;
    }
    const struct http_header headers[] = {
        {"Content-Type", "application/x-x509-ca-cert"},
        {"Content-Disposition", "attachment; filename=\"lanchat-ca.crt\""},
        {"Cache-Control", "no-cache"},
    };
    http_send(r->conn, 200, headers, sizeof headers / sizeof headers[0], pem, len);
}
#endif

/* ---- sessions and users --------------------------------------------------------- */

static struct auth_attempt attempt_of(struct api_request *r)
{
    return (struct auth_attempt){.addr = mg_get_request_info(r->conn)->remote_addr};
}

static void refuse_throttled(struct api_request *r, const struct auth_attempt *from)
{
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%d", from->retry_after);
    http_error_with(r->conn,
                    CHAT_ERROR(RATE_LIMITED, "too many failed logins; wait before trying again"),
                    "Retry-After", seconds);
}

static void session_create(struct api_request *r)
{
    const cJSON *doc = read_object(r);
    if (!doc)
        return;
    const char *name = json_get_string(doc, "name");
    const char *password;
    if (!text_valid_name(name)) {
        fail(r, CHAT_E_BAD_REQUEST, NAME_RULE);
        return;
    }
    if (!optional_string(doc, "password", &password)) {
        fail(r, CHAT_E_BAD_REQUEST, "\"password\" must be a string");
        return;
    }
#if CHAT_WITH_MODERATION
    if (refuse_banned(r, name, !password)) /* a nickname is a name taken anew */
        return;
#endif
    char token[AUTH_TOKEN_LEN + 1];
    struct auth_identity who;
    struct auth_attempt from = attempt_of(r);
    enum auth_result result = auth_login(&from, name, password, token, &who);
    for (size_t i = 0; i < from.evicted; i++)
        deliver_close_session(from.evicted_hash[i], FRAME_CLOSE_NORMAL);
    switch (result) {
    case AUTH_OK:
        reply_user(r, 201, who.name, token, who.registered, true);
        return;
    case AUTH_THROTTLED:
        refuse_throttled(r, &from);
        return;
    case AUTH_NAME_TAKEN:
        fail(r, CHAT_E_NAME_TAKEN, "that name is in use; pick another");
        return;
    case AUTH_BAD_CREDENTIALS:
        fail(r, CHAT_E_UNAUTHORIZED,
             password ? "wrong name or password" : "that name is registered; a password is needed");
        return;
    case AUTH_FULL:
        fail(r, CHAT_E_UNAVAILABLE, "too many sessions; try again later");
        return;
    default:
        fail(r, CHAT_E_UNAVAILABLE, "the session could not be stored; try again later");
        return;
    }
}

static void session_get(struct api_request *r)
{
    reply_user(r, 200, r->who.name, NULL, r->who.registered, true);
}

/* Answered 204 only once the session's row is deleted: otherwise a restart
 * would bring the session back. */
static void session_delete(struct api_request *r)
{
    if (auth_logout(r->who.token_hash) != AUTH_OK) {
        fail(r, CHAT_E_UNAVAILABLE, "the logout could not be stored; try again later");
        return;
    }
    deliver_close_session(r->who.token_hash, FRAME_CLOSE_NORMAL);
    http_reply(r->conn, 204, "application/json", "", 0, "Set-Cookie",
               mg_get_request_info(r->conn)->is_ssl
                   ? "session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
                   : "session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

#if CHAT_WITH_ACCOUNTS
static void users_create(struct api_request *r)
{
    const cJSON *doc = read_object(r);
    if (!doc)
        return;
    const char *name = json_get_string(doc, "name");
    const char *password = json_get_string(doc, "password");
    if (!text_valid_name(name)) {
        fail(r, CHAT_E_BAD_REQUEST, NAME_RULE);
        return;
    }
    if (!password) {
        fail(r, CHAT_E_BAD_REQUEST, "\"password\" must be a string");
        return;
    }
#if CHAT_WITH_MODERATION
    if (refuse_banned(r, name, true))
        return;
#endif
    struct auth_attempt from = attempt_of(r);
    switch (auth_register(&from, name, password)) {
    case AUTH_OK:
        reply_user(r, 201, name, NULL, true, false);
        return;
    case AUTH_THROTTLED:
        refuse_throttled(r, &from);
        return;
    case AUTH_NAME_TAKEN:
        fail(r, CHAT_E_NAME_TAKEN, "that name is taken");
        return;
    case AUTH_WEAK_PASSWORD:
        fail(r, CHAT_E_BAD_REQUEST, "password must be at least 8 bytes");
        return;
    default:
        fail(r, CHAT_E_UNAVAILABLE, "the account could not be stored; try again later");
        return;
    }
}
#endif

#if CHAT_WITH_ROOMS || CHAT_WITH_DIRECT || CHAT_WITH_MODERATION
/* The body's object and its "name", a valid user or room name; NULL with
 * the refusal sent. */
static const char *read_name(struct api_request *r, const cJSON **doc)
{
    *doc = read_object(r);
    if (!*doc)
        return NULL;
    const char *name = json_get_string(*doc, "name");
    if (!text_valid_name(name)) {
        fail(r, CHAT_E_BAD_REQUEST, NAME_RULE);
        return NULL;
    }
    return name;
}
#endif

/* ---- rooms ------------------------------------------------------------------------ */

/* Written into the request block's body buffer (a GET has no body), which
 * config.h checks holds every room with its topic. */
static void rooms_list(struct api_request *r)
{
    struct jw w;
    jw_init(&w, r->body, sizeof r->body);
    jw_raw(&w, "{\"rooms\":");
    frame_rooms_json(&w, r->who.name);
    jw_raw(&w, "}");
    http_json(r->conn, 200, jw_finish(&w) ? r->body : "{\"rooms\":[]}");
}

#if CHAT_WITH_ROOMS
static void rooms_create(struct api_request *r)
{
    const cJSON *doc;
    const char *name = read_name(r, &doc);
    if (!name)
        return;
    int index;
    struct chat_error e = hub_room_create(name, &index);
    if (e.kind) {
        http_error(r->conn, e);
        return;
    }
    log_info("room %s created by %s", name, r->who.name);
    deliver_rooms_changed();
    char json[96];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"name\":");
    jw_str(&w, name);
    jw_raw(&w, "}");
    http_json(r->conn, 201, json);
}
#endif

/* ---- direct conversations ------------------------------------------------------- */
#if CHAT_WITH_DIRECT

/* Whether name is someone to talk to: a registered account (its spelling in
 * spelled) or a nickname a live session holds now. */
static bool someone(const char *name, char spelled[CHAT_NAME_MAX + 1])
{
    if (store_get_account(name, spelled) == STORE_OK)
        return true;
    unsigned char hash[1][CHAT_TOKEN_HASH_SIZE];
    text_copy(spelled, CHAT_NAME_MAX + 1, name);
    return auth_user_sessions(name, hash, 1) > 0;
}

static void direct_open(struct api_request *r)
{
    const cJSON *doc;
    const char *name = read_name(r, &doc);
    if (!name)
        return;
    char other[CHAT_NAME_MAX + 1];
    if (text_same_name(name, r->who.name)) {
        fail(r, CHAT_E_BAD_REQUEST, "a direct conversation needs someone else");
        return;
    }
    if (!someone(name, other)) {
        fail(r, CHAT_E_NOT_FOUND, "no such user (an account, or a nickname in use now)");
        return;
    }
    int index;
    bool created;
    struct chat_error e = hub_direct_open(r->who.name, other, &index, &created);
    if (e.kind) {
        http_error(r->conn, e);
        return;
    }
    char room[CHAT_NAME_MAX + 1], json[160];
    hub_room_name(index, room);
    if (created) {
        log_info("direct room %s made", room); /* not who talks to whom */
        deliver_rooms_changed();               /* the other member's list has it now */
    }
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"name\":");
    jw_str(&w, room);
    jw_raw(&w, ",\"direct\":");
    jw_str(&w, other);
    jw_raw(&w, "}");
    http_json(r->conn, created ? 201 : 200, json);
}
#endif

/* ---- messages --------------------------------------------------------------------- */

/* 1 found, 0 absent, -1 malformed. */
static int query_id(const char *query, const char *key, int64_t *out)
{
    char value[32];
    if (!query)
        return 0;
    int n = mg_get_var(query, strlen(query), key, value, sizeof value);
    if (n == -1)
        return 0;
    return n >= 0 && parse_id(value, out) ? 1 : -1;
}

static void send_chunk_text(struct mg_connection *conn, const char *text)
{
    mg_send_chunk(conn, text, (unsigned)strlen(text));
}

/* A page of history is encoded into the request block's body buffer (a GET
 * has no body) and sent a chunk at a time, so no lock is held across a write. */
struct page {
    const char *room;
    char *buf;
    size_t cap, len;
    int64_t sent, last, limit;
    bool full, more;
};

/* The page asks for one row beyond its limit: that row, read by the same
 * statement, is what tells an after= page it has more, so a message committed
 * between two reads cannot make a page say "more" while it holds nothing. */
static bool page_row(void *ctx, const struct store_message *m)
{
    struct page *p = ctx;
    if (p->sent == p->limit) {
        p->more = true;
        return false;
    }
    struct jw w;
    jw_init(&w, p->buf + p->len, p->cap - p->len);
    if (p->sent)
        jw_raw(&w, ",");
    frame_message_json(&w, m, p->room, false);
    if (!jw_finish(&w)) {
        p->full = true;
        return false;
    }
    p->len += w.len;
    p->sent++;
    p->last = m->id;
    return true;
}

static void messages_list(struct api_request *r)
{
    int room = hub_room_find_for(r->param, r->who.name);
    if (room < 0) {
        fail(r, CHAT_E_NOT_FOUND, "no such room");
        return;
    }
    const char *query = mg_get_request_info(r->conn)->query_string;
    int64_t limit = CHAT_HISTORY_DEFAULT, before = 0, after = 0;
    int has_limit = query_id(query, "limit", &limit);
    int has_before = query_id(query, "before", &before);
    int has_after = query_id(query, "after", &after);
    if (has_limit < 0 || (has_limit && limit < 1) || has_before < 0 || has_after < 0) {
        fail(r, CHAT_E_BAD_REQUEST, "limit, before and after must be positive integers");
        return;
    }
    if (has_before && has_after) {
        fail(r, CHAT_E_BAD_REQUEST, "use before or after, not both");
        return;
    }
    if (limit > CHAT_HISTORY_MAX)
        limit = CHAT_HISTORY_MAX;
    int64_t room_id = hub_room_id(room);
    int64_t below = has_before ? before : INT64_MAX;
    int64_t start = has_after ? after : 0;
    bool has_more = false;
    int64_t first;
    if (!has_after && store_newest_id(room_id, below, limit - 1, &first) == STORE_OK) {
        start = first - 1;
        int64_t older;
        has_more = store_newest_id(room_id, first, 0, &older) == STORE_OK;
    }

    char name[CHAT_NAME_MAX + 1];
    hub_room_name(room, name);
    http_start_chunked(r->conn, 200, "application/json");
    send_chunk_text(r->conn, "{\"messages\":[");
    struct page p = {.room = name, .buf = r->body, .cap = sizeof r->body, .limit = limit};
    do {
        p.len = 0;
        p.full = false;
        if (store_history(room_id, start, below, limit - p.sent + 1, page_row, &p) != STORE_OK ||
            p.len == 0)
            break;
        mg_send_chunk(r->conn, p.buf, (unsigned)p.len);
        start = p.last;
    } while (p.full && p.sent < limit);
    if (has_after)
        has_more = p.more;
    send_chunk_text(r->conn, has_more ? "],\"has_more\":true}" : "],\"has_more\":false}");
    mg_send_chunk(r->conn, "", 0);
}

#if CHAT_WITH_SEARCH
/* Each hit names its own room. */
static bool search_row(void *ctx, const struct store_message *m, const char *room)
{
    struct page *p = ctx;
    p->room = room;
    return page_row(p, m);
}

/* Newest first, paged back with before=; has_more from one row beyond the
 * limit, as history's after= pages. The page is built in the request
 * block's body buffer, so the query's text lives on the stack. */
static void search_get(struct api_request *r)
{
    const char *query = mg_get_request_info(r->conn)->query_string;
    char q[CHAT_SEARCH_QUERY_MAX + 1];
    int n = query ? mg_get_var(query, strlen(query), "q", q, sizeof q) : -1;
    if (n == -2 || n == -3) {
        fail(r, CHAT_E_BAD_REQUEST,
             "\"q\" is longer than " SPELLED_VALUE(CHAT_SEARCH_QUERY_MAX) " bytes");
        return;
    }
    if (n < 0 || strspn(q, " \t\r\n") == (size_t)n) {
        fail(r, CHAT_E_BAD_REQUEST, "\"q\" (the search) is required");
        return;
    }
    int64_t limit = CHAT_HISTORY_DEFAULT, before = INT64_MAX;
    int has_limit = query_id(query, "limit", &limit);
    int has_before = query_id(query, "before", &before);
    if (has_limit < 0 || (has_limit && limit < 1) || has_before < 0) {
        fail(r, CHAT_E_BAD_REQUEST, "limit and before must be positive integers");
        return;
    }
    if (limit > CHAT_HISTORY_MAX)
        limit = CHAT_HISTORY_MAX;
    int64_t room_id = 0;
    char room[CHAT_NAME_MAX + 2];
    int has_room = mg_get_var(query, strlen(query), "room", room, sizeof room);
    if (has_room == -2 || has_room == -3 ||
        (has_room > 0 && (room_id = hub_room_id(hub_room_find_for(room, r->who.name))) < 0)) {
        fail(r, CHAT_E_NOT_FOUND, "no such room");
        return;
    }

    /* The first page is read before the reply starts: a query SQLite
     * refuses is still a 400. */
    struct page p = {.buf = r->body, .cap = sizeof r->body, .limit = limit};
    char why[128];
    enum store_result found =
        store_search(q, room_id, r->who.name, before, limit + 1, search_row, &p, why, sizeof why);
    if (found == STORE_INVALID) {
        char message[sizeof why + 64];
        snprintf(message, sizeof message, "\"q\" is not a valid search (%s)", why);
        fail(r, CHAT_E_BAD_REQUEST, message);
        return;
    }
    if (found != STORE_OK) { /* logged by the store */
        fail(r, CHAT_E_UNAVAILABLE, "the search could not be read; try again");
        return;
    }
    http_start_chunked(r->conn, 200, "application/json");
    send_chunk_text(r->conn, "{\"messages\":[");
    while (p.len) {
        mg_send_chunk(r->conn, p.buf, (unsigned)p.len);
        p.len = 0;
        if (!p.full || p.sent == limit)
            break;
        p.full = false;
        if (store_search(q, room_id, r->who.name, p.last, limit - p.sent + 1, search_row, &p, why,
                         sizeof why) != STORE_OK)
            break;
    }
    send_chunk_text(r->conn, p.more ? "],\"has_more\":true}" : "],\"has_more\":false}");
    mg_send_chunk(r->conn, "", 0);
}
#endif

static void messages_post(struct api_request *r)
{
    const cJSON *doc = read_object(r);
    if (!doc)
        return;
    const char *body, *cid;
    if (!optional_string(doc, "cid", &cid)) {
        fail(r, CHAT_E_BAD_REQUEST, "\"cid\" must be a string");
        return;
    }
    body = json_get_string(doc, "body");
    struct store_message m;
    bool repeated;
    struct chat_error e = hub_post_message(r->who.name, r->param, body, cid, &m, &repeated);
    if (e.kind) {
        http_error(r->conn, e);
        return;
    }
    reply_message(r, repeated ? 200 : 201, &m);
}

static void message_get(struct api_request *r)
{
    int64_t id;
    struct store_message m;
    if (!parse_id(r->param, &id) || store_get_message(id, &m) != STORE_OK ||
        !hub_room_visible(hub_room_index(m.room_id), r->who.name)) {
        fail(r, CHAT_E_NOT_FOUND, "no such message");
        return;
    }
    reply_message(r, 200, &m);
}

static void message_delete(struct api_request *r)
{
    int64_t id;
    struct store_message m;
    /* a direct room's messages are its members' alone, an admin's too */
    if (!parse_id(r->param, &id) || (store_get_message(id, &m) == STORE_OK &&
                                     !hub_room_visible(hub_room_index(m.room_id), r->who.name))) {
        fail(r, CHAT_E_NOT_FOUND, "no such message");
        return;
    }
    bool moderator = admin_now(r->who.registered, r->who.name);
    enum store_result deleted = store_delete_message(id, r->who.name, moderator, NULL);
    switch (deleted) {
    case STORE_OK:
        no_content(r);
        return;
    case STORE_NOT_FOUND:
        fail(r, CHAT_E_NOT_FOUND, "no such message");
        return;
    case STORE_FORBIDDEN:
        fail(r, CHAT_E_FORBIDDEN,
             moderator ? "a mirrored message is deleted on its origin only"
                       : "only the author may delete a message");
        return;
    default:
        http_error(r->conn, hub_storage_error(deleted));
        return;
    }
    if (moderator)
        log_info("%s deleted message %lld", r->who.name, (long long)id);
}

#if CHAT_WITH_MODERATION
/* ---- moderation --------------------------------------------------------------------- */

/* An audit page is written into the request block's body buffer (a GET has
 * no body); one row beyond the limit says has_more. */
struct audit_page {
    struct jw w;
    int64_t sent, limit;
    bool more;
};

static bool audit_row(void *ctx, const struct store_audit *a)
{
    struct audit_page *p = ctx;
    if (p->sent == p->limit) {
        p->more = true;
        return false;
    }
    struct jw *w = &p->w;
    jw_raw(w, p->sent++ ? ",{\"id\":" : "{\"id\":");
    jw_int(w, a->id);
    jw_raw(w, ",\"ts\":");
    jw_int(w, a->ts);
    jw_raw(w, ",\"actor\":");
    jw_str(w, a->actor);
    jw_raw(w, ",\"action\":");
    jw_str(w, a->action);
    jw_raw(w, ",\"target\":");
    jw_str(w, a->target);
    jw_raw(w, ",\"detail\":");
    jw_str(w, a->detail);
    jw_raw(w, "}");
    return true;
}

/* An admin's act on another user: the target's name from the body, or NULL
 * with the refusal sent. */
static const char *moderation_target(struct api_request *r, const cJSON **doc)
{
    if (!admin_now(r->who.registered, r->who.name)) {
        fail(r, CHAT_E_FORBIDDEN, "only an admin may do that");
        return NULL;
    }
    const char *name = read_name(r, doc);
    if (!name)
        return NULL;
    if (text_same_name(name, r->who.name)) {
        fail(r, CHAT_E_BAD_REQUEST, "an admin cannot do that to themselves");
        return NULL;
    }
    return name;
}

/* Audited first: an act that cannot be recorded is not done. */
static bool audited(struct api_request *r, const char *action, const char *target,
                    const char *detail)
{
    if (store_audit_add(r->who.name, action, target, detail) == STORE_OK)
        return true;
    fail(r, CHAT_E_UNAVAILABLE, "the audit log could not be written; try again later");
    return false;
}

static void mutes_create(struct api_request *r)
{
    const cJSON *doc;
    const char *name = moderation_target(r, &doc);
    if (!name)
        return;
    int64_t seconds;
    if (json_get_int(doc, "seconds", &seconds) != 1 || seconds < 0 || seconds > CHAT_MUTE_MAX_S) {
        fail(
            r, CHAT_E_BAD_REQUEST,
            "\"seconds\" must be an integer 0-" SPELLED_VALUE(CHAT_MUTE_MAX_S) " (0 lifts a mute)");
        return;
    }
    char detail[32];
    snprintf(detail, sizeof detail, "%lld s", (long long)seconds);
    if (seconds && !hub_mute_fits(name)) {
        fail(r, CHAT_E_UNAVAILABLE, "too many users are muted already");
        return;
    }
    /* stored with its audit row before it is answered: it outlives a restart */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t until_ms =
        seconds ? (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + seconds * 1000 : 0;
    enum store_result stored =
        store_mute(r->who.name, seconds ? "mute" : "unmute", name, until_ms, detail);
    if (stored != STORE_OK) {
        http_error(r->conn, hub_storage_error(stored));
        return;
    }
    if (!hub_mute(name, seconds))
        log_error("mute of %s stored but not in force: CHAT_MAX_MUTES filled meanwhile", name);
    log_info("%s muted %s for %lld s", r->who.name, name, (long long)seconds);
    deliver_moderation(seconds ? "mute" : "unmute", name, r->who.name, seconds);
    no_content(r);
}

/* Ends every session of the user, as their own logouts would, and closes
 * their WebSockets (1000). */
static void kicks_create(struct api_request *r)
{
    const cJSON *doc;
    const char *name = moderation_target(r, &doc);
    if (!name)
        return;
    unsigned char hashes[CHAT_SESSIONS_PER_USER][CHAT_TOKEN_HASH_SIZE];
    size_t n = auth_user_sessions(name, hashes, CHAT_SESSIONS_PER_USER);
    if (n == 0) {
        fail(r, CHAT_E_NOT_FOUND, "that user has no session");
        return;
    }
    char target[CHAT_NAME_MAX + 1];
    text_copy(target, sizeof target, name);
    char detail[32];
    snprintf(detail, sizeof detail, "%zu session(s)", n);
    if (!audited(r, "kick", target, detail))
        return;
    deliver_moderation("kick", target, r->who.name, -1);
    for (size_t i = 0; i < n; i++) {
        if (auth_logout(hashes[i]) != AUTH_OK) {
            fail(r, CHAT_E_UNAVAILABLE, "a session could not be ended; try again later");
            return;
        }
        deliver_close_session(hashes[i], FRAME_CLOSE_NORMAL);
    }
    log_info("%s kicked %s (%zu session(s))", r->who.name, target, n);
    no_content(r);
}

#if CHAT_WITH_BACKUPS
/* Sends the file fd holds (size bytes) as the body, through the request
 * block's buffer; false when it could not be read or the peer went away. */
static bool send_file(struct api_request *r, int fd, size_t size)
{
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = read(fd, r->body, sizeof r->body);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (mg_write(r->conn, r->body, (size_t)n) != (int)n)
            return false;
        sent += (size_t)n;
    }
    return true;
}

/* An admin's download of the whole database: a checked snapshot
 * (store_backup) into a temporary file beside it, made 0600 first (it holds
 * password and token hashes), sent with its length, then removed. */
static void backup_get(struct api_request *r)
{
    if (!admin_now(r->who.registered, r->who.name)) {
        fail(r, CHAT_E_FORBIDDEN, "only an admin may download a backup");
        return;
    }
    char tmp[640];
    int n = snprintf(tmp, sizeof tmp, "%s.download-XXXXXX", store_path());
    if (!store_path()[0] || n < 0 || (size_t)n >= sizeof tmp) {
        log_error("backup for %s: the database path is too long for its copy", r->who.name);
        fail(r, CHAT_E_INTERNAL, "the backup could not be made");
        return;
    }
    /* audited first: the copy holds its own audit row */
    if (!audited(r, "backup", "", "download"))
        return;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        log_error("backup for %s: cannot create %s: %s", r->who.name, tmp, strerror(errno));
        fail(r, CHAT_E_UNAVAILABLE, "the backup could not be made; try again later");
        return;
    }
    struct stat st;
    if (store_backup(store_path(), tmp) != 0 || fstat(fd, &st) != 0 ||
        lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        unlink(tmp);
        log_error("backup for %s failed: nothing sent", r->who.name);
        fail(r, CHAT_E_UNAVAILABLE, "the backup could not be made; try again later");
        return;
    }
    /* the file is ours through fd: its name can go now, whatever happens next */
    unlink(tmp);
    char disposition[64];
    struct tm day;
    time_t now = time(NULL);
    gmtime_r(&now, &day);
    strftime(disposition, sizeof disposition, "attachment; filename=\"lanchat-%Y-%m-%d.db\"", &day);
    const struct http_header headers[] = {
        {"Content-Type", "application/vnd.sqlite3"},
        {"Content-Disposition", disposition},
        {"Cache-Control", "no-store"},
    };
    size_t size = (size_t)st.st_size;
    http_head(r->conn, 200, headers, sizeof headers / sizeof headers[0], size);
    bool whole = send_file(r, fd, size);
    close(fd);
    if (whole)
        log_info("%s downloaded a backup (%zu bytes)", r->who.name, size);
    else
        log_error("backup for %s cut short (%zu bytes)", r->who.name, size);
}
#endif

static void audit_list(struct api_request *r)
{
    if (!admin_now(r->who.registered, r->who.name)) {
        fail(r, CHAT_E_FORBIDDEN, "only an admin may read the audit log");
        return;
    }
    const char *query = mg_get_request_info(r->conn)->query_string;
    int64_t limit = CHAT_AUDIT_PAGE_MAX, before = 0;
    int has_limit = query_id(query, "limit", &limit);
    int has_before = query_id(query, "before", &before);
    if (has_limit < 0 || (has_limit && limit < 1) || has_before < 0) {
        fail(r, CHAT_E_BAD_REQUEST, "limit and before must be positive integers");
        return;
    }
    if (limit > CHAT_AUDIT_PAGE_MAX)
        limit = CHAT_AUDIT_PAGE_MAX;
    struct audit_page p = {.limit = limit};
    jw_init(&p.w, r->body, sizeof r->body);
    jw_raw(&p.w, "{\"entries\":[");
    if (store_audit_read(before, limit + 1, audit_row, &p) != STORE_OK) {
        fail(r, CHAT_E_UNAVAILABLE, "the audit log could not be read; try again later");
        return;
    }
    jw_raw(&p.w, p.more ? "],\"has_more\":true}" : "],\"has_more\":false}");
    if (!jw_finish(&p.w)) {
        log_error("an audit page of %lld rows does not fit the request block", (long long)limit);
        fail(r, CHAT_E_INTERNAL, "the audit page is too large");
        return;
    }
    http_json(r->conn, 200, r->body);
}

/* ---- read-only rooms and topics ------------------------------------------------- */

static bool admin_only(struct api_request *r)
{
    if (admin_now(r->who.registered, r->who.name))
        return true;
    fail(r, CHAT_E_FORBIDDEN, "only an admin may do that");
    return false;
}

/* Either member or both; stored with its audit row before the 204, then in
 * force and told to every client (a moderation frame, action "room", whose
 * "user" is the room's name: clients read GET /api/v1/rooms again). */
static void room_patch(struct api_request *r)
{
    if (!admin_only(r))
        return;
    /* a direct conversation has no settings, and an admin no view of it */
    int index = hub_room_find(r->param);
    if (index < 0 || hub_room_direct(index)) {
        fail(r, CHAT_E_NOT_FOUND, "no such room");
        return;
    }
    const cJSON *doc = read_object(r);
    if (!doc)
        return;
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(doc, "read_only");
    const char *topic;
    if ((flag && !cJSON_IsBool(flag)) || !optional_string(doc, "topic", &topic)) {
        fail(r, CHAT_E_BAD_REQUEST, "\"read_only\" must be a boolean and \"topic\" a string");
        return;
    }
    if (!flag && !topic) {
        fail(r, CHAT_E_BAD_REQUEST, "give \"read_only\", \"topic\" or both");
        return;
    }
    size_t len = topic ? strlen(topic) : 0;
    if (len > CHAT_TOPIC_MAX) {
        fail(r, CHAT_E_BAD_REQUEST,
             "\"topic\" must be at most " SPELLED_VALUE(CHAT_TOPIC_MAX) " bytes of UTF-8");
        return;
    }
    if (len) {
        struct chat_error e = text_body_error(topic, len);
        if (e.kind) {
            fail(r, CHAT_E_BAD_REQUEST, e.message);
            return;
        }
    }
    int read_only = flag ? cJSON_IsTrue(flag) : -1;
    char room[CHAT_NAME_MAX + 1], detail[48];
    hub_room_name(index, room);
    snprintf(detail, sizeof detail, "%s%s%s",
             read_only < 0 ? ""
             : read_only   ? "read_only on"
                           : "read_only off",
             read_only >= 0 && topic ? ", " : "",
             topic ? (len ? "topic set" : "topic cleared") : "");
    enum store_result stored =
        store_room_settings(r->who.name, hub_room_id(index), room, read_only, topic, detail);
    if (stored != STORE_OK) {
        http_error(r->conn, hub_storage_error(stored));
        return;
    }
    hub_room_configure(index, read_only, topic);
    deliver_moderation("room", room, r->who.name, -1);
    log_info("%s changed room %s: %s", r->who.name, room, detail);
    no_content(r);
}

/* ---- bans and reserved names ----------------------------------------------------- */

/* The client address as the per-address caps see it (civetweb's remote_addr). */
static const char *client_addr(struct api_request *r)
{
    return mg_get_request_info(r->conn)->remote_addr;
}

/* Whether the login or registration is refused (the reply sent): a banned
 * address or name is 403; a reserved name (new_name: a nickname or a
 * registration, not an existing account's login) 409 name_taken. A ban that
 * cannot be read refuses the login (503): bans fail closed. */
static bool refuse_banned(struct api_request *r, const char *name, bool new_name)
{
    static const struct {
        const char *kind;
        bool of_address; /* else of the name */
        bool new_names_only;
        enum chat_errc code;
        const char *message;
    } checks[] = {
        {"address", true, false, CHAT_E_FORBIDDEN, "logins from this address are banned"},
        {"name", false, false, CHAT_E_FORBIDDEN, "that name is banned"},
        {"reserved", false, true, CHAT_E_NAME_TAKEN, "that name is reserved; pick another"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (checks[i].new_names_only && !new_name)
            continue;
        enum store_result found =
            store_is_banned(checks[i].kind, checks[i].of_address ? client_addr(r) : name);
        if (found == STORE_NOT_FOUND)
            continue;
        if (found == STORE_OK)
            fail(r, checks[i].code, checks[i].message);
        else
            fail(r, CHAT_E_UNAVAILABLE, "the bans could not be read; try again later");
        return true;
    }
    return false;
}

/* The value of a ban or reservation as it is stored (an address in
 * inet_ntop's spelling, as civetweb gives remote_addr) into out, or false
 * with the 400 sent. Nobody bans or reserves themselves, nor their address. */
static bool ban_value(struct api_request *r, const char *kind, const char *value, char *out,
                      size_t cap)
{
    if (strcmp(kind, "address") != 0) {
        if (!text_valid_name(value)) {
            fail(r, CHAT_E_BAD_REQUEST,
                 "the name must be 1-" SPELLED_VALUE(
                     CHAT_NAME_MAX) " characters of A-Z a-z 0-9 _ . -");
            return false;
        }
        text_copy(out, cap, value);
        return true;
    }
    unsigned char addr[16];
    int family = value && inet_pton(AF_INET, value, addr) == 1    ? AF_INET
                 : value && inet_pton(AF_INET6, value, addr) == 1 ? AF_INET6
                                                                  : 0;
    if (!family || !inet_ntop(family, addr, out, (socklen_t)cap)) {
        fail(r, CHAT_E_BAD_REQUEST, "the address must be an IPv4 or IPv6 address");
        return false;
    }
    return true;
}

static bool count_row(void *ctx, const char *value, int64_t ts, const char *by)
{
    (void)value;
    (void)ts;
    (void)by;
    ++*(int *)ctx;
    return true;
}

/* Stores a ban (kind name or address) or a reservation, audited, then tells
 * every client and, for a ban, ends the sessions it covers as a kick does. */
static void ban_set(struct api_request *r, const char *kind, const char *raw)
{
    char value[AUTH_ADDR_MAX + 1];
    if (!ban_value(r, kind, raw, value, sizeof value))
        return;
    bool address = strcmp(kind, "address") == 0, reserve = strcmp(kind, "reserved") == 0;
    if (address ? strcmp(value, client_addr(r)) == 0 : text_same_name(value, r->who.name)) {
        fail(r, CHAT_E_BAD_REQUEST, "an admin cannot do that to themselves");
        return;
    }
    int stored = 0;
    if (store_each_ban(reserve ? "reserved" : "name", count_row, &stored) != STORE_OK ||
        (!reserve && store_each_ban("address", count_row, &stored) != STORE_OK)) {
        fail(r, CHAT_E_UNAVAILABLE, "the bans could not be read; try again later");
        return;
    }
    if (stored >= CHAT_MAX_BANS) {
        fail(r, CHAT_E_UNAVAILABLE,
             reserve ? "too many names are reserved already" : "too many bans are stored already");
        return;
    }
    const char *action = reserve ? "reserve" : "ban";
    enum store_result done = store_ban(r->who.name, action, kind, value, true);
    if (done == STORE_DUPLICATE) { /* already so: nothing changes, nothing is told */
        no_content(r);
        return;
    }
    if (done != STORE_OK) {
        http_error(r->conn, hub_storage_error(done));
        return;
    }
    deliver_moderation(action, value, r->who.name, -1);
    size_t ended = 0;
    /* a few at a time, so the stack holds few hashes; each round ends them */
    for (int round = 0; !reserve && round <= CHAT_MAX_SESSIONS / CHAT_SESSIONS_PER_USER; round++) {
        unsigned char hashes[CHAT_SESSIONS_PER_USER][CHAT_TOKEN_HASH_SIZE];
        size_t n = address ? auth_addr_sessions(value, hashes, CHAT_SESSIONS_PER_USER)
                           : auth_user_sessions(value, hashes, CHAT_SESSIONS_PER_USER);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++, ended++) {
            if (auth_logout(hashes[i]) != AUTH_OK) {
                fail(r, CHAT_E_UNAVAILABLE, "a session could not be ended; try again later");
                return;
            }
            deliver_close_session(hashes[i], FRAME_CLOSE_NORMAL);
        }
    }
    log_info("%s %s %s %s (%zu session(s) ended)", r->who.name, reserve ? "reserved" : "banned",
             kind, value, ended);
    no_content(r);
}

static void ban_lift(struct api_request *r, const char *kind)
{
    if (!admin_only(r))
        return;
    char value[AUTH_ADDR_MAX + 1];
    if (!ban_value(r, kind, r->param, value, sizeof value))
        return;
    bool reserve = strcmp(kind, "reserved") == 0;
    const char *action = reserve ? "unreserve" : "unban";
    enum store_result done = store_ban(r->who.name, action, kind, value, false);
    if (done == STORE_NOT_FOUND) {
        fail(r, CHAT_E_NOT_FOUND, reserve ? "that name is not reserved" : "no such ban");
        return;
    }
    if (done != STORE_OK) {
        http_error(r->conn, hub_storage_error(done));
        return;
    }
    deliver_moderation(action, value, r->who.name, -1);
    log_info("%s lifted the %s %s of %s", r->who.name, kind, reserve ? "reservation" : "ban",
             value);
    no_content(r);
}

static void bans_create(struct api_request *r)
{
    if (!admin_only(r))
        return;
    const cJSON *doc = read_object(r);
    if (!doc)
        return;
    const char *kind = json_get_string(doc, "kind");
    if (!kind || (strcmp(kind, "name") != 0 && strcmp(kind, "address") != 0)) {
        fail(r, CHAT_E_BAD_REQUEST, "\"kind\" must be \"name\" or \"address\"");
        return;
    }
    ban_set(r, kind, json_get_string(doc, "value"));
}

static void bans_delete_name(struct api_request *r)
{
    ban_lift(r, "name");
}

static void bans_delete_address(struct api_request *r)
{
    ban_lift(r, "address");
}

static void reserved_create(struct api_request *r)
{
    if (!admin_only(r))
        return;
    const cJSON *doc = read_object(r);
    if (doc)
        ban_set(r, "reserved", json_get_string(doc, "name"));
}

static void reserved_delete(struct api_request *r)
{
    ban_lift(r, "reserved");
}

struct ban_page {
    struct jw w;
    const char *kind; /* NULL: a reserved name's row */
    int sent;
};

static bool ban_row(void *ctx, const char *value, int64_t ts, const char *by)
{
    struct ban_page *p = ctx;
    jw_raw(&p->w, p->sent++ ? "," : "");
    if (p->kind) {
        jw_raw(&p->w, "{\"kind\":");
        jw_str(&p->w, p->kind);
        jw_raw(&p->w, ",\"value\":");
    } else {
        jw_raw(&p->w, "{\"name\":");
    }
    jw_str(&p->w, value);
    jw_raw(&p->w, ",\"ts\":");
    jw_int(&p->w, ts);
    jw_raw(&p->w, ",\"by\":");
    jw_str(&p->w, by);
    jw_raw(&p->w, "}");
    return true;
}

/* Written into the request block's body buffer (a GET has no body); at most
 * CHAT_MAX_BANS rows, which config.h checks fit it. */
static void ban_list(struct api_request *r, bool reserved)
{
    if (!admin_only(r))
        return;
    struct ban_page p = {0};
    jw_init(&p.w, r->body, sizeof r->body);
    jw_raw(&p.w, reserved ? "{\"reserved\":[" : "{\"bans\":[");
    enum store_result read = STORE_OK;
    if (reserved) {
        read = store_each_ban("reserved", ban_row, &p);
    } else {
        p.kind = "name";
        read = store_each_ban("name", ban_row, &p);
        p.kind = "address";
        if (read == STORE_OK)
            read = store_each_ban("address", ban_row, &p);
    }
    jw_raw(&p.w, "]}");
    if (read != STORE_OK) {
        fail(r, CHAT_E_UNAVAILABLE, "the bans could not be read; try again later");
        return;
    }
    if (!jw_finish(&p.w)) {
        log_error("the list of %d bans does not fit the request block", p.sent);
        fail(r, CHAT_E_INTERNAL, "the list is too large");
        return;
    }
    http_json(r->conn, 200, r->body);
}

static void bans_list(struct api_request *r)
{
    ban_list(r, false);
}

static void reserved_list(struct api_request *r)
{
    ban_list(r, true);
}
#endif

#if !CHAT_WITH_ACCOUNTS || !CHAT_WITH_ROOMS || !CHAT_WITH_SEARCH || !CHAT_WITH_DIRECT ||           \
    (CHAT_WITH_MODERATION && !CHAT_WITH_BACKUPS)
/* A route of a feature this build left out: as if it did not exist. */
static void feature_absent(struct api_request *r)
{
    fail(r, CHAT_E_NOT_FOUND, "this feature is not built into this server");
}
#endif

/* ---- presence, health, server, metrics ------------------------------------------ */

static void presence_get(struct api_request *r)
{
    char json[32 + CHAT_MAX_CLIENTS * (CHAT_NAME_MAX + 4)];
    struct jw w;
    jw_init(&w, json, sizeof json);
    jw_raw(&w, "{\"online\":");
    frame_online_json(&w);
    jw_raw(&w, "}");
    http_json(r->conn, 200, json);
}

static void health_get(struct api_request *r)
{
    if (store_check_writable() == STORE_OK)
        http_json(r->conn, 200, "{\"status\":\"ok\"}");
    else if (store_full())
        http_json(r->conn, 503, "{\"status\":\"unavailable\",\"storage\":\"full\"}");
    else
        http_json(r->conn, 503, "{\"status\":\"unavailable\"}");
}

/* What a client needs to know before it logs in: which forms to offer and
 * the limits to check input against (docs/API.md). The name pattern is
 * text_valid_name's rule, as a regular expression the page can use. */
static void server_get(struct api_request *r)
{
    char json[448];
    snprintf(json, sizeof json,
             "{\"name\":\"lanchat\",\"version\":\"%s\","
             "\"features\":{\"accounts\":%s,\"rooms\":%s,\"search\":%s,\"moderation\":%s,"
             "\"direct\":%s,\"typing\":%s,\"backups\":%s},"
             "\"limits\":{\"body_bytes\":%d,\"name_chars\":%d,"
             "\"name_pattern\":\"^[A-Za-z0-9_.-]{1,%d}$\",\"password_min_bytes\":%d,"
             "\"page_messages\":%d,\"page_messages_max\":%d}}",
             CHAT_VERSION, CHAT_WITH_ACCOUNTS ? "true" : "false",
             CHAT_WITH_ROOMS ? "true" : "false", CHAT_WITH_SEARCH ? "true" : "false",
             CHAT_WITH_MODERATION ? "true" : "false", CHAT_WITH_DIRECT ? "true" : "false",
             CHAT_WITH_TYPING ? "true" : "false", CHAT_WITH_BACKUPS ? "true" : "false",
             CHAT_MAX_BODY, CHAT_NAME_MAX, CHAT_NAME_MAX, CHAT_PASSWORD_MIN, CHAT_HISTORY_DEFAULT,
             CHAT_HISTORY_MAX);
    http_json(r->conn, 200, json);
}

#if CHAT_WITH_METRICS
size_t api_metrics_text(char *text, size_t cap)
{
    size_t n = 0;
    struct store_stats st;
    store_get_stats(&st);
#define PUT(...) n += (size_t)snprintf(text + (n < cap ? n : 0), n < cap ? cap - n : 0, __VA_ARGS__)
    PUT("# TYPE lanchat_ws_connections gauge\nlanchat_ws_connections %d\n",
        metrics_get(ws_connections));
    PUT("# TYPE lanchat_http_requests_total counter\nlanchat_http_requests_total %llu\n",
        metrics_get(http_requests));
    PUT("# TYPE lanchat_messages_total counter\nlanchat_messages_total %llu\n",
        metrics_get(messages));
    PUT("# TYPE lanchat_deliveries_total counter\nlanchat_deliveries_total %llu\n",
        metrics_get(deliveries));
    PUT("# TYPE lanchat_ws_slow_consumers_total counter\nlanchat_ws_slow_consumers_total %llu\n",
        metrics_get(slow_consumers));
    PUT("# TYPE lanchat_ws_writes_total counter\nlanchat_ws_writes_total %llu\n",
        metrics_get(ws_writes));
    PUT("# TYPE lanchat_refused_total counter\nlanchat_refused_total %llu\n", metrics_get(refused));
#if CHAT_WITH_MQTT
    PUT("# TYPE lanchat_mqtt_connected gauge\nlanchat_mqtt_connected %d\n"
        "# TYPE lanchat_mqtt_outbox gauge\nlanchat_mqtt_outbox %lld\n"
        "# TYPE lanchat_mqtt_published_total counter\nlanchat_mqtt_published_total %llu\n"
        "# TYPE lanchat_mqtt_received_total counter\nlanchat_mqtt_received_total %llu\n"
        "# TYPE lanchat_mqtt_posts_total counter\nlanchat_mqtt_posts_total %llu\n"
        "# TYPE lanchat_mqtt_posts_refused_total counter\nlanchat_mqtt_posts_refused_total %llu\n"
        "# TYPE lanchat_mqtt_refused_total counter\nlanchat_mqtt_refused_total %llu\n",
        metrics_get(mqtt_connected), (long long)store_outbox_depth(), metrics_get(mqtt_published),
        metrics_get(mqtt_received), metrics_get(mqtt_posts), metrics_get(mqtt_posts_refused),
        metrics_get(mqtt_refused));
#endif
    PUT("# TYPE lanchat_commit_seconds summary\nlanchat_commit_seconds_sum %.6f\n"
        "lanchat_commit_seconds_count %llu\nlanchat_commit_seconds_max %.6f\n",
        (double)st.commit_ns_total / 1e9, (unsigned long long)st.commits,
        (double)st.commit_ns_max / 1e9);
    PUT("# TYPE lanchat_pool_in_use gauge\n# TYPE lanchat_pool_capacity gauge\n"
        "# TYPE lanchat_pool_peak gauge\n# TYPE lanchat_pool_exhausted_total counter\n");
    for (int i = 0; i < POOL_COUNT; i++) {
        struct pool_stats ps;
        pool_get_stats((enum pool_id)i, &ps);
        PUT("lanchat_pool_in_use{pool=\"%s\"} %zu\nlanchat_pool_capacity{pool=\"%s\"} %zu\n"
            "lanchat_pool_peak{pool=\"%s\"} %zu\nlanchat_pool_exhausted_total{pool=\"%s\"} %llu\n",
            ps.name, ps.in_use, ps.name, ps.capacity, ps.name, ps.peak, ps.name,
            (unsigned long long)ps.exhausted);
    }
#undef PUT
    return n;
}

/* Written into the request's own pool block (a GET has no body), never cut:
 * a text that outgrows it is a 500 and a log line. */
static void metrics_export(struct api_request *r)
{
    size_t n = api_metrics_text(r->body, sizeof r->body);
    if (n >= sizeof r->body) {
        log_error("/metrics needs %zu bytes, more than its %zu: not sent", n + 1, sizeof r->body);
        http_error(r->conn, CHAT_ERROR(INTERNAL, "metrics text too large"));
        return;
    }
    http_reply(r->conn, 200, "text/plain; version=0.0.4", r->body, n, "Cache-Control", "no-store");
}
#endif

/* ---- dispatch ---------------------------------------------------------------------- */

/* Matches a pattern against a path; a star takes one non-empty segment. */
static bool match(const char *pattern, const char *path, char *param, size_t cap)
{
    while (*pattern) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= cap)
                return false;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == '\0' || (path[0] == '/' && path[1] == '\0');
}

static void serve(struct mg_connection *conn, const struct route *found, char *param)
{
    if (http_body_is_foreign(conn)) {
        http_error(conn,
                   CHAT_ERROR(UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"));
        return;
    }
    /* Buffers for the body and its parse come from a pool: civetweb's worker
     * stacks are small (100 KiB in Debian's build). */
    struct api_request *r = pool_take_raw(POOL_request);
    if (!r) {
        metrics_add(refused, 1);
        http_error(conn, CHAT_ERROR(UNAVAILABLE, "the server is busy; try again"));
        return;
    }
    r->conn = conn;
    r->param = param;
    r->body_len = 0;
    memset(&r->who, 0, sizeof r->who);
    if (found->access == AUTHENTICATED) {
        char token[128];
        if (!http_token(conn, token, sizeof token) || !auth_check(token, &r->who)) {
            http_error(conn, CHAT_ERROR(UNAUTHORIZED, "log in first"));
            pool_give(POOL_request, r);
            return;
        }
    }
    found->handler(r);
    pool_give(POOL_request, r);
}

static int dispatch(struct mg_connection *conn, void *data)
{
    (void)data;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char param[64], allow[64] = "";
    const struct route *found = NULL;
    metrics_add(http_requests, 1);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !found; i++) {
        if (!match(routes[i].pattern, ri->local_uri, param, sizeof param))
            continue;
        if (strcmp(routes[i].method, ri->request_method) == 0)
            found = &routes[i];
        else if (strlen(allow) + strlen(routes[i].method) + 3 < sizeof allow)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", routes[i].method);
    }
    /* OPTIONS included: no CORS, so a preflight from another origin fails. */
    if (!found && allow[0]) {
        http_error_with(conn, CHAT_ERROR(METHOD_NOT_ALLOWED, "method not allowed"), "Allow", allow);
        return 1;
    }
    if (!found) {
        http_error(conn, CHAT_ERROR(NOT_FOUND, "no such resource"));
        return 1;
    }
    if (!http_enter()) {
        http_error(conn, CHAT_ERROR(UNAVAILABLE, "the server is shutting down"));
        return 1;
    }
    serve(conn, found, param);
    http_leave();
    return 1;
}

int api_start(struct mg_context *ctx, int64_t session_max_age)
{
    cookie_max_age = session_max_age;
    mg_set_request_handler(ctx, "/api", dispatch, NULL);
    mg_set_request_handler(ctx, "/healthz$", dispatch, NULL);
    mg_set_request_handler(ctx, "/metrics$", dispatch, NULL);
#if CHAT_WITH_TLS
    mg_set_request_handler(ctx, "/ca.crt$", dispatch, NULL);
#endif
    return 0;
}
