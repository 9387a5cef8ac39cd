/*
 * pool - fixed-size block pools declared in pools.def, reserved at boot.
 * Owns the storage of every pool and its use/peak/exhaustion counters; the
 * blocks' types belong to their owners, who declare each element's size
 * beside the type (POOL_ELEMENT), so this module includes no owner's header.
 * Calls only libc and log.
 * Thread rules: pool_take/pool_give/pool_at are safe from any thread (one
 * mutex per pool); callers protect the contents of a block themselves.
 */
#ifndef LANCHAT_POOL_H
#define LANCHAT_POOL_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

enum pool_id {
#define POOL(id, count, description) POOL_##id,
#include "pools.def"
    POOL_COUNT
};

/* The size of one block of each pool, defined by the pool's owner. */
#define POOL(id, count, description) extern const size_t pool_element_size_##id;
#include "pools.def"
#define POOL_ELEMENT(id, type) const size_t pool_element_size_##id = sizeof(type)

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
