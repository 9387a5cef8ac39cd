#include "pool.h"

#define LOG_MODULE "pool"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer (make test-asan, make fuzz) a block that is not
 * taken is poisoned, so that a use after pool_give is reported as a use
 * after free would be; nothing changes in other builds. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(POOL_ASAN)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(block, size) ASAN_POISON_MEMORY_REGION(block, size)
#define POOL_UNPOISON(block, size) ASAN_UNPOISON_MEMORY_REGION(block, size)
#else
#define POOL_POISON(block, size) ((void)(block), (void)(size))
#define POOL_UNPOISON(block, size) ((void)(block), (void)(size))
#endif

struct pool {
    const char *name;
    const char *description;
    size_t capacity;
    size_t element_size;
    unsigned char *storage;
    unsigned char *used; /* one flag per block */
    size_t *free_stack;  /* indexes of free blocks */
    size_t free_count;
    size_t peak;
    uint64_t exhausted;
    pthread_mutex_t lock;
};

static struct pool pools[POOL_COUNT] = {
#define POOL(id, count, text)                                                                      \
    [POOL_##id] = {                                                                                \
        .name = #id, .description = text, .capacity = (count), .lock = PTHREAD_MUTEX_INITIALIZER},
#include "pools.def"
};

/* Address constants, so the sizes are known before pool_init (--version). */
static const size_t *const element_sizes[POOL_COUNT] = {
#define POOL(id, count, text) [POOL_##id] = &pool_element_size_##id,
#include "pools.def"
};

int pool_init(void)
{
    for (int i = 0; i < POOL_COUNT; i++)
        pools[i].element_size = *element_sizes[i];
    for (int i = 0; i < POOL_COUNT; i++) {
        struct pool *p = &pools[i];
        p->storage = calloc(p->capacity, p->element_size);
        p->used = calloc(p->capacity, 1);
        p->free_stack = calloc(p->capacity, sizeof(size_t));
        if (!p->storage || !p->used || !p->free_stack) {
            log_error("%s: cannot reserve %zu x %zu bytes", p->name, p->capacity, p->element_size);
            pool_shutdown();
            return -1;
        }
        for (size_t k = 0; k < p->capacity; k++)
            p->free_stack[k] = p->capacity - 1 - k; /* block 0 is taken first */
        POOL_POISON(p->storage, p->capacity * p->element_size);
        p->free_count = p->capacity;
        p->peak = 0;
        p->exhausted = 0;
    }
    return 0;
}

void pool_shutdown(void)
{
    for (int i = 0; i < POOL_COUNT; i++) {
        if (pools[i].storage)
            POOL_UNPOISON(pools[i].storage, pools[i].capacity * pools[i].element_size);
        free(pools[i].storage);
        free(pools[i].used);
        free(pools[i].free_stack);
        pools[i].storage = NULL;
        pools[i].used = NULL;
        pools[i].free_stack = NULL;
    }
}

void *pool_take_raw(enum pool_id id)
{
    struct pool *p = &pools[id];
    void *block = NULL;
    size_t in_use = 0;
    pthread_mutex_lock(&p->lock);
    if (p->free_count == 0) {
        p->exhausted++;
    } else {
        size_t index = p->free_stack[--p->free_count];
        p->used[index] = 1;
        block = p->storage + index * p->element_size;
        POOL_UNPOISON(block, p->element_size);
        in_use = p->capacity - p->free_count;
        if (in_use > p->peak)
            p->peak = in_use;
    }
    pthread_mutex_unlock(&p->lock);
    /* --debug: the take that fills three quarters of a pool, the one that
     * fills it, and every take it refuses */
    if (log_enabled(LOG_DEBUG)) {
        if (!block)
            log_debug("%s: exhausted, a take refused (%zu in use)", p->name, p->capacity);
        else if (in_use == p->capacity || in_use == (p->capacity * 3 + 3) / 4)
            log_debug("%s: %zu of %zu in use", p->name, in_use, p->capacity);
    }
    return block;
}

void *pool_take(enum pool_id id)
{
    void *block = pool_take_raw(id);
    if (block)
        memset(block, 0, pools[id].element_size);
    return block;
}

size_t pool_index(enum pool_id id, const void *block)
{
    const struct pool *p = &pools[id];
    return (size_t)((const unsigned char *)block - p->storage) / p->element_size;
}

void pool_give(enum pool_id id, void *block)
{
    struct pool *p = &pools[id];
    if (!block)
        return;
    size_t index = pool_index(id, block);
    pthread_mutex_lock(&p->lock);
    if (index < p->capacity && p->used[index]) {
        p->used[index] = 0;
        p->free_stack[p->free_count++] = index;
        POOL_POISON(block, p->element_size);
    } else {
        log_error("%s: block %zu given back twice or foreign", p->name, index);
    }
    pthread_mutex_unlock(&p->lock);
}

void *pool_at(enum pool_id id, size_t index)
{
    struct pool *p = &pools[id];
    void *block = NULL;
    pthread_mutex_lock(&p->lock);
    if (index < p->capacity && p->used[index])
        block = p->storage + index * p->element_size;
    pthread_mutex_unlock(&p->lock);
    return block;
}

void pool_get_stats(enum pool_id id, struct pool_stats *out)
{
    struct pool *p = &pools[id];
    pthread_mutex_lock(&p->lock);
    out->name = p->name;
    out->description = p->description;
    out->capacity = p->capacity;
    out->element_size = *element_sizes[id];
    out->in_use = p->capacity - p->free_count;
    out->peak = p->peak;
    out->exhausted = p->exhausted;
    pthread_mutex_unlock(&p->lock);
}
