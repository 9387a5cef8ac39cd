/*
 * powerloss - a test SQLite VFS that makes kill -9 lose what a power cut
 * loses: every write not yet made durable by a sync. Loaded into the real
 * binary with LD_PRELOAD (build/powerloss.so); its constructor registers it
 * as the default VFS, a shim over "unix". Production code is not changed.
 * Writes to a file go into an overlay in this process's memory, shared by
 * every handle of that path (as the page cache is); reads see the overlay;
 * xSync writes the overlay to the real file in order, then syncs it. Files
 * created and not yet made durable by a sync of their directory are listed
 * in $LANCHAT_POWERLOSS_STATE, for the test to remove after the kill.
 * With $LANCHAT_POWERLOSS_AFTER_SYNCS=N the process kills itself (SIGKILL)
 * on entering its N-th sync: a cut between a write and its sync.
 * Another process sees only what was synced, which SQLite does not expect of
 * a file system: read the files only while the shimmed process is down.
 * Calls sqlite3 and libc. Thread rules: any thread; one mutex guards it all.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct op {
    sqlite3_int64 offset; /* a write at offset, or a truncate to offset */
    int length;           /* -1: a truncate */
    unsigned char *data;
};

/* The volatile state of one path, like its pages in the page cache. */
struct node {
    char path[PATH_MAX];
    sqlite3_int64 size; /* as readers see it */
    struct op *ops;
    size_t count, capacity;
    struct node *next;
};

struct pl_file {
    sqlite3_file base;
    struct node *node; /* NULL: a temporary file, passed through */
    sqlite3_file *real;
};

#define MAX_NEW 64
static struct {
    pthread_mutex_t lock;
    sqlite3_vfs vfs;
    sqlite3_vfs *unix_vfs;
    struct node *nodes;
    char new_files[MAX_NEW][PATH_MAX]; /* created, their directory not yet synced */
    int new_count;
    long syncs, crash_at;
    int (*open_directory)(const char *, int *);
} P = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void save_new_files(void)
{
    const char *state = getenv("LANCHAT_POWERLOSS_STATE");
    if (!state)
        return;
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", state);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    for (int i = 0; i < P.new_count; i++)
        fprintf(f, "%s\n", P.new_files[i]);
    if (fclose(f) == 0)
        rename(tmp, state);
}

static struct node *node_for(const char *path)
{
    for (struct node *n = P.nodes; n; n = n->next)
        if (strcmp(n->path, path) == 0)
            return n;
    return NULL;
}

static void drop_ops(struct node *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->ops[i].data);
    n->count = 0;
}

static int add_op(struct node *n, sqlite3_int64 offset, int length, const void *data)
{
    if (n->count == n->capacity) {
        size_t cap = n->capacity ? 2 * n->capacity : 64;
        struct op *ops = realloc(n->ops, cap * sizeof *ops);
        if (!ops)
            return SQLITE_NOMEM;
        n->ops = ops;
        n->capacity = cap;
    }
    struct op *op = &n->ops[n->count];
    op->offset = offset;
    op->length = length;
    op->data = NULL;
    if (length > 0) {
        if (!(op->data = malloc((size_t)length)))
            return SQLITE_NOMEM;
        memcpy(op->data, data, (size_t)length);
    }
    n->count++;
    return SQLITE_OK;
}

#define REAL(f) (((struct pl_file *)(f))->real)
#define NODE(f) (((struct pl_file *)(f))->node)

static int pl_close(sqlite3_file *f)
{
    /* The node stays: what was written and not synced outlives the handle. */
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    free(REAL(f));
    return rc;
}

static int pl_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset)
{
    struct node *n = NODE(f);
    if (!n)
        return REAL(f)->pMethods->xRead(REAL(f), buf, amount, offset);
    pthread_mutex_lock(&P.lock);
    int rc = REAL(f)->pMethods->xRead(REAL(f), buf, amount, offset);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
        pthread_mutex_unlock(&P.lock);
        return rc;
    }
    unsigned char *b = buf;
    sqlite3_int64 end = offset + amount;
    for (size_t i = 0; i < n->count; i++) {
        const struct op *op = &n->ops[i];
        if (op->length < 0) {
            if (op->offset < end)
                memset(b + (op->offset > offset ? op->offset - offset : 0), 0,
                       (size_t)(end - (op->offset > offset ? op->offset : offset)));
            continue;
        }
        sqlite3_int64 from = op->offset > offset ? op->offset : offset;
        sqlite3_int64 to = op->offset + op->length < end ? op->offset + op->length : end;
        if (from < to)
            memcpy(b + (from - offset), op->data + (from - op->offset), (size_t)(to - from));
    }
    rc = SQLITE_OK;
    if (end > n->size) {
        sqlite3_int64 from = n->size > offset ? n->size : offset;
        memset(b + (from - offset), 0, (size_t)(end - from));
        rc = SQLITE_IOERR_SHORT_READ;
    }
    pthread_mutex_unlock(&P.lock);
    return rc;
}

static int pl_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset)
{
    struct node *n = NODE(f);
    if (!n)
        return REAL(f)->pMethods->xWrite(REAL(f), buf, amount, offset);
    pthread_mutex_lock(&P.lock);
    int rc = add_op(n, offset, amount, buf);
    if (rc == SQLITE_OK && offset + amount > n->size)
        n->size = offset + amount;
    pthread_mutex_unlock(&P.lock);
    return rc;
}

static int pl_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct node *n = NODE(f);
    if (!n)
        return REAL(f)->pMethods->xTruncate(REAL(f), size);
    pthread_mutex_lock(&P.lock);
    int rc = add_op(n, size, -1, NULL);
    if (rc == SQLITE_OK)
        n->size = size;
    pthread_mutex_unlock(&P.lock);
    return rc;
}

static int pl_sync(sqlite3_file *f, int flags)
{
    struct node *n = NODE(f);
    if (!n)
        return REAL(f)->pMethods->xSync(REAL(f), flags);
    pthread_mutex_lock(&P.lock);
    if (P.crash_at > 0 && ++P.syncs >= P.crash_at)
        raise(SIGKILL); /* the chosen point: this sync never happens */
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n->count && rc == SQLITE_OK; i++) {
        const struct op *op = &n->ops[i];
        rc = op->length < 0 ? REAL(f)->pMethods->xTruncate(REAL(f), op->offset)
                            : REAL(f)->pMethods->xWrite(REAL(f), op->data, op->length, op->offset);
    }
    if (rc == SQLITE_OK)
        drop_ops(n);
    pthread_mutex_unlock(&P.lock);
    /* Outside the lock: unix syncs the directory through pl_open_directory. */
    return rc == SQLITE_OK ? REAL(f)->pMethods->xSync(REAL(f), flags) : rc;
}

static int pl_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    struct node *n = NODE(f);
    if (!n)
        return REAL(f)->pMethods->xFileSize(REAL(f), size);
    pthread_mutex_lock(&P.lock);
    *size = n->size;
    pthread_mutex_unlock(&P.lock);
    return SQLITE_OK;
}

static int pl_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int pl_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int pl_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int pl_file_control(sqlite3_file *f, int op, void *arg)
{
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        *(sqlite3_int64 *)arg = 0; /* every read goes through the overlay */
        return SQLITE_OK;
    }
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int pl_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int pl_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* The wal-index (-shm) is memory shared between connections, rebuilt from the
 * WAL after a crash: it is not the overlay's business. */
static int pl_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, p);
}

static int pl_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void pl_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int pl_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int pl_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **p)
{
    (void)f;
    (void)offset;
    (void)amount;
    *p = NULL; /* no memory map: reads go through xRead */
    return SQLITE_OK;
}

static int pl_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *p)
{
    (void)f;
    (void)offset;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods pl_methods = {
    3,
    pl_close,
    pl_read,
    pl_write,
    pl_truncate,
    pl_sync,
    pl_file_size,
    pl_lock,
    pl_unlock,
    pl_check_reserved,
    pl_file_control,
    pl_sector_size,
    pl_device,
    pl_shm_map,
    pl_shm_lock,
    pl_shm_barrier,
    pl_shm_unmap,
    pl_fetch,
    pl_unfetch,
};

static int pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    struct pl_file *pf = (struct pl_file *)f;
    pf->base.pMethods = NULL;
    pf->node = NULL;
    pf->real = calloc(1, (size_t)P.unix_vfs->szOsFile);
    if (!pf->real)
        return SQLITE_NOMEM;
    int existed = name && access(name, F_OK) == 0;
    int rc = P.unix_vfs->xOpen(P.unix_vfs, name, pf->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        free(pf->real);
        pf->real = NULL;
        return rc;
    }
    pf->base.pMethods = &pl_methods;
    if (!name)
        return SQLITE_OK;
    pthread_mutex_lock(&P.lock);
    struct node *n = node_for(name);
    if (!n && (n = calloc(1, sizeof *n)) != NULL) {
        snprintf(n->path, sizeof n->path, "%s", name);
        rc = pf->real->pMethods->xFileSize(pf->real, &n->size);
        n->next = P.nodes;
        P.nodes = n;
    }
    if (!existed && P.new_count < MAX_NEW) {
        snprintf(P.new_files[P.new_count++], PATH_MAX, "%s", name);
        save_new_files();
    }
    pthread_mutex_unlock(&P.lock);
    pf->node = n;
    if (!n || rc != SQLITE_OK) {
        pl_close(f);
        pf->base.pMethods = NULL;
        return n ? rc : SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

static int pl_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    pthread_mutex_lock(&P.lock);
    for (struct node **p = &P.nodes; *p; p = &(*p)->next) {
        if (strcmp((*p)->path, name) == 0) {
            struct node *n = *p;
            *p = n->next;
            drop_ops(n);
            free(n->ops);
            free(n);
            break;
        }
    }
    pthread_mutex_unlock(&P.lock);
    return P.unix_vfs->xDelete(P.unix_vfs, name, sync_dir);
}

/* unix syncs a directory by opening it with this system call, then fsync:
 * every file created in it is durable from then on. */
static int pl_open_directory(const char *file, int *fd)
{
    int rc = P.open_directory(file, fd);
    if (rc != SQLITE_OK)
        return rc;
    const char *slash = strrchr(file, '/');
    size_t dir_len = slash ? (size_t)(slash - file) : 0;
    pthread_mutex_lock(&P.lock);
    int kept = 0;
    for (int i = 0; i < P.new_count; i++) {
        const char *other = strrchr(P.new_files[i], '/');
        size_t len = other ? (size_t)(other - P.new_files[i]) : 0;
        if (len != dir_len || strncmp(P.new_files[i], file, len) != 0)
            memmove(P.new_files[kept++], P.new_files[i], PATH_MAX);
    }
    P.new_count = kept;
    save_new_files();
    pthread_mutex_unlock(&P.lock);
    return rc;
}

#define PASS(name, ...) return P.unix_vfs->name(P.unix_vfs, __VA_ARGS__)
static int pl_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    (void)v;
    PASS(xAccess, n, flags, out);
}
static int pl_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out)
{
    (void)v;
    PASS(xFullPathname, n, size, out);
}
static void *pl_dl_open(sqlite3_vfs *v, const char *n)
{
    (void)v;
    PASS(xDlOpen, n);
}
static void pl_dl_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    P.unix_vfs->xDlError(P.unix_vfs, n, out);
}
static void (*pl_dl_sym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    (void)v;
    PASS(xDlSym, h, s);
}
static void pl_dl_close(sqlite3_vfs *v, void *h)
{
    (void)v;
    P.unix_vfs->xDlClose(P.unix_vfs, h);
}
static int pl_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    PASS(xRandomness, n, out);
}
static int pl_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    PASS(xSleep, us);
}
static int pl_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    PASS(xCurrentTime, out);
}
static int pl_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    PASS(xGetLastError, n, out);
}
static int pl_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    PASS(xCurrentTimeInt64, out);
}

__attribute__((constructor)) static void powerloss_register(void)
{
    P.unix_vfs = sqlite3_vfs_find("unix");
    if (!P.unix_vfs) {
        fprintf(stderr, "powerloss: no unix VFS\n");
        abort();
    }
    const char *after = getenv("LANCHAT_POWERLOSS_AFTER_SYNCS");
    P.crash_at = after ? atol(after) : 0;
    P.open_directory =
        (int (*)(const char *, int *))P.unix_vfs->xGetSystemCall(P.unix_vfs, "openDirectory");
    if (!P.open_directory ||
        P.unix_vfs->xSetSystemCall(P.unix_vfs, "openDirectory",
                                   (sqlite3_syscall_ptr)pl_open_directory) != SQLITE_OK) {
        fprintf(stderr, "powerloss: cannot hook openDirectory\n");
        abort();
    }
    P.vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct pl_file),
        .mxPathname = P.unix_vfs->mxPathname,
        .zName = "powerloss",
        .xOpen = pl_open,
        .xDelete = pl_delete,
        .xAccess = pl_access,
        .xFullPathname = pl_full_pathname,
        .xDlOpen = pl_dl_open,
        .xDlError = pl_dl_error,
        .xDlSym = pl_dl_sym,
        .xDlClose = pl_dl_close,
        .xRandomness = pl_randomness,
        .xSleep = pl_sleep,
        .xCurrentTime = pl_current_time,
        .xGetLastError = pl_last_error,
        .xCurrentTimeInt64 = pl_current_time64,
    };
    save_new_files();
    if (sqlite3_vfs_register(&P.vfs, 1) != SQLITE_OK) {
        fprintf(stderr, "powerloss: cannot register the VFS\n");
        abort();
    }
    fprintf(stderr, "powerloss: the default SQLite VFS loses unsynced writes at a kill%s\n",
            P.crash_at > 0 ? " (and kills at a chosen sync)" : "");
}
