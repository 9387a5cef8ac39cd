/*
 * web - the browser client. With CHAT_WITH_EMBEDDED_WEB its files are
 * compiled in, gzip-compressed (tools/embed.c generates the table from web/
 * into build/), and served from memory with ETags and security headers;
 * with --web-root DIR, or in a build without them, from DIR by our own file
 * handler: a fixed set of types, no dotfiles, nothing outside DIR, no
 * listings, streamed through a fixed buffer. Either way it makes
 * /sw-files.js, the service worker's list of those files and their version.
 * Calls civetweb, http and log. Thread rules: web_start at boot
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

/* Serves the client: root is --web-root ("" when not given: the
 * compiled-in client, or ./web in a build without one). From disk it is
 * served by web's own handler; civetweb is given no document_root. */
int web_start(struct mg_context *ctx, const char *root);

#endif
