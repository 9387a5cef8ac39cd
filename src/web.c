#include "web.h"

#include "config.h"
#include "http.h"

#define LOG_MODULE "web"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sent with every page of the client, from memory or from disk: scripts,
 * styles and fetches only from this server; no framing (http_head adds
 * nosniff and no referrer to every reply). */
#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "              \
    "frame-ancestors 'none'"

/* The API's JSON error, with one more header. */
static void refuse(struct mg_connection *conn, struct chat_error e, const char *name,
                   const char *value)
{
    char json[256];
    size_t len = http_error_json(e, json, sizeof json);
    http_reply(conn, http_status_of(e.kind), "application/json", json, len, name, value);
}

static bool method_allowed(struct mg_connection *conn)
{
    const char *method = mg_get_request_info(conn)->request_method;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return true;
    refuse(conn, CHAT_ERROR(METHOD_NOT_ALLOWED, "method not allowed"), "Allow", "GET, HEAD");
    return false;
}

/* ---- the client from disk: --web-root, or a build without an embedded one ---- */

/* Our own file server, not civetweb's (which is given no document_root, so
 * its directory redirects, listings, CGI and PUT are never reached): a
 * fixed set of types, plain names only, nothing outside the root. */
static char root_path[PATH_MAX]; /* realpath of the root; "" for "/" */
static size_t root_len;
static bool root_ok;

/* The types embed.c gives the compiled-in client (web.def); any other
 * name is 404. */
static const char *disk_type(const char *path)
{
    static const char *const types[][2] = {
#define WEB_TYPE(ext, type) {ext, type},
#include "web.def"
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/* "/a/b.js": segments of letters, digits, '_', '-' and '.', none empty (no
 * trailing slash: no directory) nor starting with '.' (no dotfile, no ".."). */
static bool plain_path(const char *uri)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789_-.";
    if (uri[0] != '/' || strlen(uri) > 255)
        return false;
    for (const char *seg = uri + 1;; seg++) {
        size_t len = strspn(seg, allowed);
        if (len == 0 || seg[0] == '.')
            return false;
        seg += len;
        if (*seg == '\0')
            return true;
        if (*seg != '/')
            return false;
    }
}

/* The regular file at uri under the root, opened, symlinks resolved and
 * refused when they lead outside it; -1 when there is none. */
static int open_under_root(const char *uri, struct stat *st)
{
    char path[PATH_MAX], real[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s%s", root_path, uri);
    if (!root_ok || n < 0 || (size_t)n >= sizeof path || !realpath(path, real) ||
        strncmp(real, root_path, root_len) != 0 || real[root_len] != '/')
        return -1;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int serve_file(struct mg_connection *conn, void *data)
{
    (void)data;
    if (!method_allowed(conn))
        return 1;
    const char *uri = mg_get_request_info(conn)->local_uri;
    if (strcmp(uri, "/") == 0)
        uri = "/index.html";
    const char *type = plain_path(uri) ? disk_type(uri) : NULL;
    struct stat st;
    int fd = type ? open_under_root(uri, &st) : -1;
    if (fd < 0) {
        http_error(conn, CHAT_ERROR(NOT_FOUND, "no such page"));
        return 1;
    }
    const struct http_header headers[] = {
        {"Content-Type", type},
        {"Cache-Control", "no-cache"}, /* an edited file shows on the next reload */
        {"Content-Security-Policy", CSP},
    };
    http_head(conn, 200, headers, sizeof headers / sizeof headers[0], (size_t)st.st_size);
    /* in pieces through one buffer on the worker's stack: no file is held
     * in memory, whatever its size */
    char chunk[4096];
    for (off_t left = http_is_head(conn) ? 0 : st.st_size; left > 0;) {
        ssize_t got = read(fd, chunk, left < (off_t)sizeof chunk ? (size_t)left : sizeof chunk);
        if (got <= 0 || mg_write(conn, chunk, (size_t)got) <= 0) {
            log_warn("%s cut short", uri); /* the client sees a short body */
            break;
        }
        left -= got;
    }
    close(fd);
    return 1;
}

static int start_disk(struct mg_context *ctx, const char *root)
{
    if (!realpath(root, root_path)) {
        log_warn("no web root %s: every page is 404", root);
    } else {
        root_len = strcmp(root_path, "/") == 0 ? 0 : strlen(root_path);
        root_path[root_len] = '\0';
        root_ok = true;
        log_info("serving %s", root_path);
    }
    mg_set_request_handler(ctx, "/", serve_file, NULL);
    return 0;
}

/* ---- the service worker's list: /sw-files.js ---------------------------------------- */

/* A script web/sw.js imports: every file of the client and a version, a
 * hash of all their contents, which names the worker's cache. A change to
 * any file changes the script, so the browser installs the worker again,
 * which fetches the new list into a new cache and deletes the old one.
 * Made on every request from what this server serves: the compiled-in
 * table (generated from web/ at build time) or the files under the root. */
#define SW_FILES_URI "/sw-files.js"
#define SW_FILES_BYTES 8192 /* the script at most: about 30 bytes a file */
#define SW_WALK_DEPTH 8     /* directories below the root, at most */

struct sw_list {
    char text[SW_FILES_BYTES];
    size_t len;
    bool full;   /* a file did not fit: the list would be wrong */
    bool unread; /* a directory could not be read to its end: the same */
    int files;
    uint64_t version;
};

#define FNV_START 0xcbf29ce484222325u

static uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ p[i]) * 0x100000001b3u;
    return hash;
}

static void sw_put(struct sw_list *l, const char *fmt, const char *arg)
{
    size_t room = sizeof l->text - l->len;
    int n = snprintf(l->text + l->len, room, fmt, arg);
    if (n < 0 || (size_t)n >= room)
        l->full = true;
    else
        l->len += (size_t)n;
}

/* One file: its path into the list; the hash of its path and contents
 * (content_hash) added to the version, so the order of the files does
 * not matter. */
static void sw_add(struct sw_list *l, const char *path, uint64_t content_hash)
{
    sw_put(l, l->files++ ? ",\"%s\"" : "\"%s\"", path);
    uint64_t h = fnv1a(FNV_START, path, strlen(path) + 1);
    l->version += fnv1a(h, &content_hash, sizeof content_hash);
}

static void sw_reply(struct mg_connection *conn, struct sw_list *l)
{
    char version[17];
    snprintf(version, sizeof version, "%016llx", (unsigned long long)l->version);
    sw_put(l, "];\nself.LANCHAT_VERSION = \"%s\";\n", version);
    if (l->full) {
        log_warn("%s: more files than %d bytes can list", SW_FILES_URI, SW_FILES_BYTES);
        http_error(conn, CHAT_ERROR(UNAVAILABLE, "the list of files does not fit"));
        return;
    }
    if (l->unread) {
        http_error(conn, CHAT_ERROR(UNAVAILABLE, "the web root could not be read"));
        return;
    }
    const struct http_header headers[] = {
        {"Content-Type", "text/javascript; charset=utf-8"},
        {"Cache-Control", "no-cache"},
        {"Content-Security-Policy", CSP},
    };
    http_send(conn, 200, headers, sizeof headers / sizeof headers[0], l->text, l->len);
}

static void sw_begin(struct sw_list *l)
{
    l->len = 0;
    l->full = false;
    l->unread = false;
    l->files = 0;
    l->version = 0;
    sw_put(l, "%s",
           "// Generated by lanchat (src/web.c): the files of the client, for sw.js.\n"
           "self.LANCHAT_FILES = [");
}

/* FNV-1a 64 of the file's bytes, through a buffer kept out of sw_walk's
 * recursion. */
static int hash_file(int fd, uint64_t *hash)
{
    char chunk[4096];
    ssize_t got;
    *hash = FNV_START;
    while ((got = read(fd, chunk, sizeof chunk)) > 0)
        *hash = fnv1a(*hash, chunk, (size_t)got);
    return got == 0 ? 0 : -1;
}

/* Every file the disk handler would serve, below the open directory at
 * (whose address is uri, "" for the root; closed on return): the same
 * names, types and realpath rule (open_under_root). */
static void sw_walk(struct sw_list *l, int at, char *uri, size_t len, int depth)
{
    DIR *dir = fdopendir(at);
    if (!dir) {
        close(at);
        return;
    }
    const struct dirent *e;
    for (;;) {
        errno = 0;
        if (l->full || (e = readdir(dir)) == NULL)
            break;
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || e->d_name[n - 1] == '~' || len + 1 + n > 255)
            continue;
        uri[len] = '/';
        memcpy(uri + len + 1, e->d_name, n + 1);
        int fd = openat(at, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            if (depth < SW_WALK_DEPTH)
                sw_walk(l, fd, uri, len + 1 + n, depth + 1);
            else
                close(fd);
            continue;
        }
        struct stat st;
        if (!plain_path(uri) || !disk_type(uri) || (fd = open_under_root(uri, &st)) < 0)
            continue;
        uint64_t hash;
        if (hash_file(fd, &hash) == 0) {
            sw_add(l, uri, hash);
        } else {
            log_warn("%s: cannot read %s: %s", SW_FILES_URI, uri, strerror(errno));
            l->unread = true;
        }
        close(fd);
    }
    if (errno != 0) {
        log_warn("%s: cannot read the directory %s/: %s", SW_FILES_URI, uri, strerror(errno));
        l->unread = true;
    }
    uri[len] = '\0';
    closedir(dir);
}

static int serve_sw_files_disk(struct mg_connection *conn, void *data)
{
    (void)data;
    if (!method_allowed(conn))
        return 1;
    struct sw_list l;
    sw_begin(&l);
    char uri[256] = "";
    int fd = root_ok ? open(root_len ? root_path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0)
        sw_walk(&l, fd, uri, 0, 0);
    sw_reply(conn, &l);
    return 1;
}

/* From disk only files have names: /trust is sent on to its file. */
static int trust_to_file(struct mg_connection *conn, void *data)
{
    (void)data;
    http_send(conn, 302, &(struct http_header){"Location", "/trust.html"}, 1, NULL, 0);
    return 1;
}

static int serve_disk(struct mg_context *ctx, const char *root)
{
    if (start_disk(ctx, root) != 0)
        return -1;
    mg_set_request_handler(ctx, "/trust", trust_to_file, NULL); /* exact match first */
    mg_set_request_handler(ctx, SW_FILES_URI, serve_sw_files_disk, NULL);
    return 0;
}

#if CHAT_WITH_EMBEDDED_WEB
/* Generated into build/<board>/web_assets.c. */
extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

/* The q value of one Accept-Encoding element (its parameters, up to the
 * next comma) is above zero; no q means 1. */
static bool q_above_zero(const char *params, const char *end)
{
    for (const char *p = params; (p = memchr(p, ';', (size_t)(end - p))) != NULL;) {
        p += 1 + strspn(p + 1, " \t");
        if (end - p < 2 || (*p != 'q' && *p != 'Q') || p[1] != '=')
            continue;
        for (p += 2; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++)
            if (*p != '0' && *p != '.')
                return true;
        return false;
    }
    return true;
}

/* The client accepts gzip (RFC 9110, 12.5.3): no Accept-Encoding means any
 * coding; otherwise gzip (or x-gzip) with q > 0, or, when gzip is not
 * named, "*" with q > 0. An empty header asks for identity only. */
static bool accepts_gzip(const char *header)
{
    if (!header)
        return true;
    int gzip = -1, any = -1; /* -1 not named, 0 refused, 1 accepted */
    const char *p = header;
    while (*(p += strspn(p, " \t,"))) {
        size_t name = strcspn(p, " \t;,");
        const char *end = p + name + strcspn(p + name, ",");
        int ok = q_above_zero(p + name, end);
        if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (name == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip = ok;
        else if (name == 1 && *p == '*')
            any = ok;
        p = end;
    }
    return gzip >= 0 ? gzip == 1 : any == 1;
}

/* If-None-Match names the asset's ETag (weak comparison, RFC 9110 13.1.2:
 * a W/ prefix still matches) or is "*". */
static bool etag_matches(const char *header, const char *etag)
{
    if (!header)
        return false;
    size_t n = strlen(etag);
    const char *p = header;
    while (*(p += strspn(p, " \t,"))) {
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && strchr(" \t,", p[n]))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* Addresses that name a page without its file name. */
static const char *page_of(const char *uri)
{
    if (strcmp(uri, "/") == 0)
        return "/index.html";
    if (strcmp(uri, "/trust") == 0)
        return "/trust.html";
    return uri;
}

static const struct web_asset *find_asset(const char *uri)
{
    const char *path = page_of(uri);
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].path, path) == 0)
            return &web_assets[i];
    return NULL;
}

static int serve_asset(struct mg_connection *conn, void *data)
{
    (void)data;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!method_allowed(conn))
        return 1;
    const struct web_asset *a = find_asset(ri->local_uri);
    if (!a) {
        http_error(conn, CHAT_ERROR(NOT_FOUND, "no such page"));
        return 1;
    }
    if (!accepts_gzip(mg_get_header(conn, "Accept-Encoding"))) {
        refuse(conn,
               CHAT_ERROR(NOT_ACCEPTABLE,
                          "this page is stored gzip-compressed; ask with Accept-Encoding: gzip"),
               "Vary", "Accept-Encoding");
        return 1;
    }
    int status = etag_matches(mg_get_header(conn, "If-None-Match"), a->etag) ? 304 : 200;
    const struct http_header headers[] = {
        {status == 200 ? "Content-Type" : NULL, a->content_type},
        {status == 200 ? "Content-Encoding" : NULL, "gzip"},
        {"ETag", a->etag},
        {"Cache-Control", a->cache_control},
        {"Vary", "Accept-Encoding"},
        {"Content-Security-Policy", CSP},
    };
    http_send(conn, status, headers, sizeof headers / sizeof headers[0], a->data, a->size);
    return 1;
}

/* The compiled-in files; each one's ETag (a hash of its gzip bytes, which
 * gzip -n makes the same for the same contents) stands for its contents. */
static int serve_sw_files(struct mg_connection *conn, void *data)
{
    (void)data;
    if (!method_allowed(conn))
        return 1;
    struct sw_list l;
    sw_begin(&l);
    for (size_t i = 0; i < web_asset_count; i++)
        sw_add(&l, web_assets[i].path,
               fnv1a(FNV_START, web_assets[i].etag, strlen(web_assets[i].etag)));
    sw_reply(conn, &l);
    return 1;
}

int web_start(struct mg_context *ctx, const char *root)
{
    if (root[0])
        return serve_disk(ctx, root);
    mg_set_request_handler(ctx, "/", serve_asset, NULL);
    mg_set_request_handler(ctx, SW_FILES_URI, serve_sw_files, NULL);
    return 0;
}
#else
int web_start(struct mg_context *ctx, const char *root)
{
    return serve_disk(ctx, root[0] ? root : "web");
}
#endif
