/*
 * fuzz_boot - the server's modules that a fuzz target runs against, started
 * in main.c's order on a temporary SQLite file (in memory when there is
 * /dev/shm: every stored message is synced), with the store's hooks into
 * deliver, no rate limit, and stopped in reverse at exit. Included by one
 * fuzz target each (static functions), never by the server.
 */
#ifndef LANCHAT_FUZZ_BOOT_H
#define LANCHAT_FUZZ_BOOT_H

#include "auth.h"
#include "config.h"
#include "deliver.h"
#include "hub.h"
#include "json.h"
#include "pool.h"
#include "store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[64];
static const char *fuzz_name;
static bool fuzz_auth;

static void fuzz_stop(void)
{
    store_close();
    deliver_stop();
    if (fuzz_auth)
        auth_stop();
    hub_stop();
    pool_shutdown();
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: could not remove %s\n", fuzz_name, fuzz_dir);
}

/* Opens the store and starts pools, auth (with_auth), hub, deliver and the
 * store's writer; aborts when a step fails. name: the target's ("fuzz_ws"),
 * for messages and its directory (lanchat-fuzz_ws-XXXXXX). */
static void fuzz_boot(const char *name, bool with_auth)
{
    fuzz_name = name;
    fuzz_auth = with_auth;
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/lanchat-%s-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
    if (!mkdtemp(fuzz_dir))
        abort();
    char path[96];
    snprintf(path, sizeof path, "%s/chat.db", fuzz_dir);
    static const struct store_hooks hooks = {.message_added = deliver_message_added,
                                             .message_deleted = deliver_message_deleted,
                                             .batch_done = deliver_batch_done};
    json_init();
    hub_set_rate(0, 0);
    if (store_open(path, CHAT_SQLITE_HEAP_LIMIT, 0) != 0 || pool_init() != 0 ||
        (with_auth && auth_start(3600, 86400, 0) != 0) || hub_start() != 0 ||
        deliver_start(0) != 0 || store_start(&hooks) != 0)
        abort();
    atexit(fuzz_stop);
}

#endif
