#include "admin.h"

#include "config.h"
#define LOG_MODULE "admin"
#include "log.h"
#include "options.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *to)
{
    fprintf(to, "usage: lanchat admin add NAME [--db PATH | --config FILE]\n"
                "       lanchat admin remove NAME [--db PATH | --config FILE]\n"
                "       lanchat admin list [--db PATH | --config FILE]\n"
                "       lanchat admin bans [--db PATH | --config FILE]\n");
}

static void print_name(void *ctx, const char *name)
{
    (void)ctx;
    printf("%s\n", name);
}

static void print_ban(void *ctx, const char *kind, const char *value)
{
    (void)ctx;
    printf("%s %s\n", kind, value);
}

int admin_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    bool add = strcmp(verb, "add") == 0, remove = strcmp(verb, "remove") == 0;
    bool bans = strcmp(verb, "bans") == 0;
    bool list = bans || strcmp(verb, "list") == 0;
    int words = list ? 2 : 3; /* admin VERB [NAME] */
    if ((!add && !remove && !list) || argc < words || (!list && argv[2][0] == '-')) {
        usage(stderr);
        return 2;
    }
    /* The rest are the server's own options: argv[0] stands for the program. */
    struct options opts;
    options_defaults(&opts);
    char *rest[64];
    int n = 0;
    rest[n++] = argv[0];
    for (int i = words; i < argc && n < (int)(sizeof rest / sizeof rest[0]) - 1; i++)
        rest[n++] = argv[i];
    rest[n] = NULL;
    switch (options_parse(&opts, n, rest)) {
    case OPTIONS_RUN:
        break;
    case OPTIONS_EXIT_OK:
        return 0;
    case OPTIONS_EXIT_ERROR:
        return 2;
    }
    if (bans)
        return store_console_each_ban(opts.db, print_ban, NULL) == STORE_OK ? 0 : 1;
    if (list)
        return store_console_each_admin(opts.db, print_name, NULL) == STORE_OK ? 0 : 1;

    const char *name = argv[2];
    char spelled[CHAT_NAME_MAX + 1] = "";
    switch (store_console_set_admin(opts.db, name, add, spelled)) {
    case STORE_OK:
        printf("%s is %s\n", spelled, add ? "an admin now" : "no longer an admin");
        return 0;
    case STORE_DUPLICATE:
        printf("%s %s\n", spelled, add ? "is an admin already" : "was not an admin");
        return 0;
    case STORE_NOT_FOUND:
        fprintf(stderr, "lanchat admin: %s is not a registered account in %s\n", name, opts.db);
        return 1;
    default:
        fprintf(stderr, "lanchat admin: the database %s could not be changed (see above)\n",
                opts.db);
        return 1;
    }
}
