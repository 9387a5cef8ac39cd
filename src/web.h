/*
 * web - the browser client. With CHAT_WITH_EMBEDDED_WEB its files are
 * compiled in, gzip-compressed (tools/embed.c generates the table from web/
 * into build/), and served from memory with ETags and security headers;
 * with --web-root DIR, or in a build without them, civetweb serves DIR.
 * Calls civetweb and http. Thread rules: web_settings and web_start at boot
 * (main.c); the handler runs on civetweb workers.
 */
#ifndef LANCHAT_WEB_H
#define LANCHAT_WEB_H

#include <civetweb.h>
#include <stddef.h>

/* One compiled-in file; data holds its gzip bytes (Content-Encoding: gzip). */
struct web_asset {
    const char *path; /* "/index.html" */
    const char *content_type;
    const char *cache_control;
    const char *etag; /* strong, quoted: "\"0123456789abcdef\"" */
    const unsigned char *data;
    size_t size;
};

/* Most strings web_settings adds (name, value pairs) and its NULL. */
#define WEB_SETTINGS_MAX 15

/* Appends to mg_start's settings what civetweb needs to serve the client
 * from disk: root is --web-root ("" when not given: the compiled-in client,
 * or ./web in a build without one). Ends the list with NULL. */
void web_settings(const char *root, const char **settings);
/* Serves the compiled-in client, unless the client comes from disk. */
int web_start(struct mg_context *ctx, const char *root);

#endif
