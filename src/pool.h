/*
 * pool - fixed-size block pools declared in pools.def, reserved at boot.
 * Owns the storage of frames, clients, sessions and rooms, and their
 * use/peak/exhaustion counters. Calls only libc and log.
 * Thread rules: pool_take/pool_give/pool_at are safe from any thread (one
 * mutex per pool); callers protect the contents of a block themselves.
 */
#ifndef LANCHAT_POOL_H
#define LANCHAT_POOL_H

#include <stddef.h>
#include <stdint.h>

enum pool_id {
#define POOL(id, count, type, description) POOL_##id,
#include "pools.def"
#undef POOL
    POOL_COUNT
};

struct pool_stats {
    const char *name;
    const char *description;
    size_t capacity;
    size_t element_size;
    size_t in_use;
    size_t peak;
    uint64_t exhausted; /* pool_take calls that found the pool empty */
};

int pool_init(void); /* 0 or -1 (out of memory at boot) */
void pool_shutdown(void);
void *pool_take(enum pool_id id); /* zeroed block, or NULL when exhausted */
/* The same without zeroing, for large I/O buffers whose owner sets what it
 * reads: zeroing would make every page of them resident. */
void *pool_take_raw(enum pool_id id);
void pool_give(enum pool_id id, void *block);
void *pool_at(enum pool_id id, size_t index); /* block in use at index, else NULL */
size_t pool_index(enum pool_id id, const void *block);
void pool_get_stats(enum pool_id id, struct pool_stats *out);

#endif
