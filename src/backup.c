#include "backup.h"

#include "options.h"
#include "store.h"
#define LOG_MODULE "backup"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if CHAT_WITH_BACKUPS
#define PATH_CAP 600
#define USAGE "usage: lanchat %s FILE [--force] [--db PATH | --config FILE] [--debug]\n"

/* The command's own words (FILE first, --force anywhere), and the rest for
 * options_parse with argv[0] in front, so --db and --config work as they do
 * for the server. */
struct command {
    const char *file;
    bool force;
    struct options opts;
};

static int parse(const char *name, int argc, char **argv, struct command *c)
{
    static char *rest[64];
    int n = 0;
    rest[n++] = argv[0];
    c->file = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    c->force = false;
    for (int i = c->file ? 2 : 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            c->force = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE, name);
            return -1;
        } else if (n < (int)(sizeof rest / sizeof rest[0]) - 1) {
            rest[n++] = argv[i];
        } else {
            fprintf(stderr, "lanchat %s: too many arguments\n", name);
            return 2;
        }
    }
    rest[n] = NULL;
    options_defaults(&c->opts);
    switch (options_parse(&c->opts, n, rest)) {
    case OPTIONS_EXIT_OK:
        return -1;
    case OPTIONS_EXIT_ERROR:
        return 2;
    case OPTIONS_RUN:
        break;
    }
    if (!c->file || !c->file[0]) {
        fprintf(stderr, USAGE, name);
        return 2;
    }
    log_set_level(c->opts.debug ? LOG_DEBUG : LOG_INFO);
    return 0;
}

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* path + suffix into out; false when it does not fit. */
static bool suffixed(char *out, const char *path, const char *suffix)
{
    int n = snprintf(out, PATH_CAP, "%s%s", path, suffix);
    if (n < 0 || n >= PATH_CAP) {
        log_error("path too long: %s", path);
        return false;
    }
    return true;
}

static int fsync_path(const char *path, bool directory)
{
    int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDWR);
    if (fd < 0 || fsync(fd) != 0) {
        log_error("cannot fsync %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd);
}

/* The directory of path, synced so a rename in it is on disk. */
static int fsync_directory_of(const char *path)
{
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return fsync_path(dir, true);
}

/* Makes tmp the file path: synced, renamed, the rename synced. */
static int commit_file(const char *tmp, const char *path)
{
    if (fsync_path(tmp, false) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        return -1;
    }
    return fsync_directory_of(path);
}

int backup_main(int argc, char **argv)
{
    struct command c;
    int rc = parse("backup", argc, argv, &c);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    char tmp[PATH_CAP];
    if (!suffixed(tmp, c.file, ".tmp"))
        return 1;
    if (!c.force && exists(c.file)) {
        log_error("%s exists; lanchat backup --force replaces it", c.file);
        return 1;
    }
    /* A .tmp is a failed run's, ours to replace; the copy is written anew. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        log_error("cannot remove %s: %s", tmp, strerror(errno));
        return 1;
    }
    /* Made here, empty (SQLite takes an empty file as an empty database), so
     * that the copy of password and token hashes is the user's alone: SQLite
     * would make it 0644. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || close(fd) != 0) {
        log_error("cannot create %s: %s", tmp, strerror(errno));
        return 1;
    }
    if (store_backup(c.opts.db, tmp) != 0 || commit_file(tmp, c.file) != 0) {
        unlink(tmp);
        log_error("backup failed: %s not written", c.file);
        return 1;
    }
    log_info("backed up %s to %s", c.opts.db, c.file);
    return 0;
}

/* Copies from into a new file to, byte for byte. */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0) {
        log_error("cannot open %s: %s", from, strerror(errno));
        return -1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (out < 0) {
        log_error("cannot create %s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    char buf[16384];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("cannot read %s: %s", from, strerror(errno));
            rc = -1;
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                log_error("cannot write %s: %s", to, strerror(errno));
                rc = -1;
                break;
            }
            done += w;
        }
        if (rc != 0)
            break;
    }
    close(in);
    if (close(out) != 0 && rc == 0) {
        log_error("cannot write %s: %s", to, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* The old database's leftovers: after store_quiesce no -wal holds data, and
 * a -shm or -wal left beside the restored file would be read as its own. */
static int remove_companions(const char *db)
{
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[PATH_CAP];
        if (!suffixed(path, db, suffixes[i]))
            return -1;
        if (unlink(path) != 0 && errno != ENOENT) {
            log_error("cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int backup_restore_main(int argc, char **argv)
{
    struct command c;
    int rc = parse("restore", argc, argv, &c);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    const char *db = c.opts.db;
    char tmp[PATH_CAP], before[PATH_CAP];
    if (!suffixed(tmp, db, ".restore-tmp") || !suffixed(before, db, ".before-restore"))
        return 1;
    if (!exists(c.file)) {
        log_error("%s: %s", c.file, strerror(ENOENT));
        return 1;
    }
    char file_wal[PATH_CAP];
    if (!suffixed(file_wal, c.file, "-wal"))
        return 1;
    if (exists(file_wal)) {
        /* its newest commits may be in the -wal only, which a copy of the
         * file alone would lose */
        log_error("%s has a -wal beside it: a database in use, not a backup "
                  "(take one with lanchat backup)",
                  c.file);
        return 1;
    }
    if (!c.force && exists(before)) {
        log_error("%s exists (an earlier restore's); move it away, or --force replaces it", before);
        return 1;
    }
    /* First: no server may hold the database, and its WAL goes into it. */
    enum store_result held = store_quiesce(db);
    if (held == STORE_BUSY) {
        log_error("%s is in use (is lanchat running?); stop the server first", db);
        return 1;
    }
    if (held == STORE_ERROR)
        return 1;
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s", db);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            log_error("cannot create %s: %s", dir, strerror(errno));
            return 1;
        }
    }
    int version = 0;
    if (unlink(tmp) != 0 && errno != ENOENT) {
        log_error("cannot remove %s: %s", tmp, strerror(errno));
        return 1;
    }
    if (copy_file(c.file, tmp) != 0 || store_check_copy(tmp, &version) != 0 ||
        fsync_path(tmp, false) != 0) {
        unlink(tmp);
        log_error("restore failed: %s is unchanged", db);
        return 1;
    }
    if (held == STORE_OK) {
        if (rename(db, before) != 0) {
            log_error("cannot rename %s to %s: %s", db, before, strerror(errno));
            unlink(tmp);
            return 1;
        }
        log_info("the old database is kept as %s", before);
    }
    if (remove_companions(db) != 0 || commit_file(tmp, db) != 0) {
        log_error("restore failed: %s is not in place (the old one is %s)", db,
                  held == STORE_OK ? before : "none");
        return 1;
    }
    log_info("restored %s from %s (schema %d; this lanchat migrates to %d at start)", db, c.file,
             version, store_schema_version());
    return 0;
}
#else
/* A build without backups: the commands exist to say so. */
static int absent(const char *name)
{
    fprintf(stderr,
            "lanchat %s: this build has no backups (CHAT_WITH_BACKUPS=0); copy the "
            "database file while the server is stopped instead\n",
            name);
    return 2;
}

int backup_main(int argc, char **argv)
{
    (void)argc;
    return absent(argv[0]);
}

int backup_restore_main(int argc, char **argv)
{
    (void)argc;
    return absent(argv[0]);
}
#endif
