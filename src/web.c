#include "web.h"

#include "config.h"
#include "http.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Sent with every page of the client, from memory or from disk: scripts,
 * styles and fetches only from this server; no framing, no referrer. */
#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "              \
    "frame-ancestors 'none'"

/* Civetweb serves the client from disk (its own ETags, Last-Modified and
 * Range): no directory listings, CGI or server-side includes (empty
 * patterns match nothing), the content types embed.c gives, the
 * security headers (additional_header takes lines separated by CRLF), and
 * no caching, so an edited file shows on the next reload. */
void web_settings(const char *root, const char **settings)
{
    if (CHAT_WITH_EMBEDDED_WEB && !root[0]) {
        settings[0] = NULL;
        return;
    }
    /* clang-format off */ /* name, value pairs */
    const char *disk[WEB_SETTINGS_MAX] = {
        "document_root", root[0] ? root : "web",
        "enable_directory_listing", "no",
        "cgi_pattern", "",
        "ssi_pattern", "",
        "static_file_max_age", "0",
        "extra_mime_types", ".html=text/html; charset=utf-8,"
                            ".css=text/css; charset=utf-8,"
                            ".webmanifest=application/manifest+json,"
                            ".webp=image/webp,"
                            ".woff2=font/woff2,"
                            ".js=text/javascript; charset=utf-8,"
                            ".mjs=text/javascript; charset=utf-8",
        "additional_header", "Content-Security-Policy: " CSP "\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "Referrer-Policy: no-referrer",
        NULL,
    };
    /* clang-format on */
    memcpy(settings, disk, sizeof disk);
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

/* The API's JSON error, with one more header. */
static void refuse(struct mg_connection *conn, struct chat_error e, const char *name,
                   const char *value)
{
    char json[256];
    size_t len = http_error_json(e, json, sizeof json);
    http_reply(conn, http_status_of(e.kind), "application/json", json, len, name, value);
}

static int serve_asset(struct mg_connection *conn, void *data)
{
    (void)data;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        refuse(conn, CHAT_ERROR(METHOD_NOT_ALLOWED, "method not allowed"), "Allow", "GET, HEAD");
        return 1;
    }
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
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
    };
    http_send(conn, status, headers, sizeof headers / sizeof headers[0], a->data, a->size);
    return 1;
}

#endif

/* From disk civetweb knows files only: /trust is sent on to its file. */
static int trust_to_file(struct mg_connection *conn, void *data)
{
    (void)data;
    http_send(conn, 302, &(struct http_header){"Location", "/trust.html"}, 1, NULL, 0);
    return 1;
}

int web_start(struct mg_context *ctx, const char *root)
{
#if CHAT_WITH_EMBEDDED_WEB
    if (!root[0]) {
        mg_set_request_handler(ctx, "/", serve_asset, NULL);
        return 0;
    }
#endif
    (void)root; /* civetweb's document_root serves it (web_settings) */
    mg_set_request_handler(ctx, "/trust$", trust_to_file, NULL);
    return 0;
}
