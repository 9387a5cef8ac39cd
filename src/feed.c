#include "feed.h"

#include <string.h>

/* A record is an 8-byte header and the frame, padded to 8 bytes. A header
 * with the length PADDING fills the ring's tail up to its end: records never
 * wrap, so each frame is one contiguous copy. */
struct record {
    uint32_t len;    /* frame bytes, or PADDING */
    uint32_t except; /* the reader that must not get it, 0 = none */
};

#define PADDING UINT32_MAX
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

void feed_init(struct feed *f, void *storage, size_t capacity, int64_t last_id)
{
    pthread_mutex_init(&f->lock, NULL);
    f->ring = storage;
    f->capacity = capacity & ~(size_t)7u;
    atomic_init(&f->head, 0);
    f->last_id = last_id;
}

void feed_destroy(struct feed *f)
{
    pthread_mutex_destroy(&f->lock);
    f->ring = NULL;
}

/* The largest frame that fits (a record must fit the ring four times). */
static size_t max_frame(const struct feed *f)
{
    return f->capacity / 4 - sizeof(struct record);
}

bool feed_append(struct feed *f, const void *frame, size_t len, uint32_t except, int64_t id)
{
    size_t need = sizeof(struct record) + ALIGN8(len);
    if (len > max_frame(f))
        return false;
    pthread_mutex_lock(&f->lock);
    uint64_t head = atomic_load_explicit(&f->head, memory_order_relaxed);
    size_t at = (size_t)(head % f->capacity);
    if (f->capacity - at < need) { /* pad to the end, start again at 0 */
        struct record pad = {.len = PADDING};
        memcpy(f->ring + at, &pad, sizeof pad);
        head += f->capacity - at;
        at = 0;
    }
    struct record r = {.len = (uint32_t)len, .except = except};
    memcpy(f->ring + at, &r, sizeof r);
    memcpy(f->ring + at + sizeof r, frame, len);
    atomic_store_explicit(&f->head, head + need, memory_order_release);
    if (id)
        f->last_id = id;
    pthread_mutex_unlock(&f->lock);
    return true;
}

uint64_t feed_head(struct feed *f, int64_t *last_id)
{
    pthread_mutex_lock(&f->lock);
    uint64_t head = atomic_load_explicit(&f->head, memory_order_relaxed);
    if (last_id)
        *last_id = f->last_id;
    pthread_mutex_unlock(&f->lock);
    return head;
}

enum feed_copy_result feed_copy(struct feed *f, uint64_t *pos, uint32_t reader, char *buf,
                                size_t cap, size_t *used, struct feed_mark *marks, size_t max_marks,
                                size_t *marks_used)
{
    enum feed_copy_result result = FEED_COPIED;
    pthread_mutex_lock(&f->lock);
    uint64_t p = *pos, head = atomic_load_explicit(&f->head, memory_order_relaxed);
    if (head > f->capacity && p < head - f->capacity)
        result = FEED_LAPPED; /* the bytes at p were written over */
    while (result == FEED_COPIED && p < head && *marks_used < max_marks) {
        size_t at = (size_t)(p % f->capacity);
        struct record r;
        memcpy(&r, f->ring + at, sizeof r);
        if (r.len == PADDING) {
            p += f->capacity - at;
            continue;
        }
        if (!(r.except && r.except == reader)) {
            if (cap - *used < r.len) {
                result = FEED_MORE;
                break;
            }
            memcpy(buf + *used, f->ring + at + sizeof r, r.len);
            *used += r.len;
            marks[*marks_used] =
                (struct feed_mark){.end = *used, .after = p + sizeof r + ALIGN8(r.len)};
            (*marks_used)++;
        }
        p += sizeof r + ALIGN8(r.len);
    }
    if (result == FEED_COPIED && p < head)
        result = FEED_MORE; /* out of marks */
    *pos = p;
    pthread_mutex_unlock(&f->lock);
    return result;
}
