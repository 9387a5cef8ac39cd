#include "web.h"

#include "config.h"
#include "http.h"

#include <string.h>

#if CHAT_WITH_EMBEDDED_WEB
/* Generated into build/<board>/web_assets.c. */
extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

static int serve_asset(struct mg_connection *conn, void *data)
{
    (void)data;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *path = strcmp(ri->local_uri, "/") == 0 ? "/index.html" : ri->local_uri;
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        http_error(conn, CHAT_ERROR(405, "method_not_allowed", "method not allowed"));
        return 1;
    }
    for (size_t i = 0; i < web_asset_count; i++) {
        if (strcmp(web_assets[i].path, path) == 0) {
            bool head = strcmp(ri->request_method, "HEAD") == 0;
            http_reply(conn, 200, web_assets[i].content_type, web_assets[i].data,
                       head ? 0 : web_assets[i].size, "Cache-Control", "no-cache");
            return 1;
        }
    }
    http_error(conn, CHAT_ERROR(404, "not_found", "no such page"));
    return 1;
}

int web_start(struct mg_context *ctx)
{
    mg_set_request_handler(ctx, "/", serve_asset, NULL);
    return 0;
}
#else
int web_start(struct mg_context *ctx)
{
    (void)ctx; /* civetweb's document_root serves --web-root */
    return 0;
}
#endif
