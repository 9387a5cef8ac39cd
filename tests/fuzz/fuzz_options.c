/*
 * fuzz_options - the run-time options: a --config file (lines
 * "name = value"), or, when the input starts with "--", a command line of
 * one argument per line. Whatever the outcome, every parsed value is within
 * its documented range.
 */
#include "options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/tmp/lanchat-fuzz-options-%d.conf", (int)getpid());
    atexit(remove_file);
    return 0;
}

static void check(const struct options *o)
{
    if (o->port < 0 || o->port > 65535 || o->session_idle < 1 || o->session_max_age < 1 ||
        o->rate < 0 || o->burst < 1 || o->max_messages_per_room < 0 ||
        memchr(o->listen, '\0', sizeof o->listen) == NULL ||
        memchr(o->db, '\0', sizeof o->db) == NULL ||
        memchr(o->web_root, '\0', sizeof o->web_root) == NULL)
        abort();
}

static void command_line(const uint8_t *data, size_t size)
{
    static char text[4096];
    char *argv[64] = {"lanchat"};
    int argc = 1;
    if (size >= sizeof text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    /* A --config here could name any file (/dev/zero never ends); the file
     * reader is fuzzed on its own below. */
    if (strstr(text, "config"))
        return;
    for (char *line = strtok(text, "\n"); line && argc < 63; line = strtok(NULL, "\n"))
        argv[argc++] = line;
    argv[argc] = NULL;
    struct options o;
    options_defaults(&o);
    if (options_parse(&o, argc, argv) == OPTIONS_RUN)
        check(&o);
}

static void config_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    char *argv[] = {"lanchat", "--config", path, NULL};
    struct options o;
    options_defaults(&o);
    if (options_parse(&o, 3, argv) == OPTIONS_RUN)
        check(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return -1;
    if (size >= 2 && data[0] == '-' && data[1] == '-')
        command_line(data, size);
    else
        config_file(data, size);
    return 0;
}
