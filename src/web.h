/*
 * web - the browser client. With CHAT_WITH_EMBEDDED_WEB its files are
 * compiled in (generated from web/ by tools/embed.c into build/) and served
 * from memory; otherwise civetweb serves them from --web-root.
 * Calls civetweb and http. Thread rules: handlers on civetweb workers.
 */
#ifndef LANCHAT_WEB_H
#define LANCHAT_WEB_H

#include <civetweb.h>
#include <stddef.h>

struct web_asset {
    const char *path; /* "/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t size;
};

int web_start(struct mg_context *ctx);

#endif
