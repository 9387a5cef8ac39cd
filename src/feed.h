/*
 * feed - a ring of encoded frames that many readers follow, each at its own
 * position: deliver keeps one per room and one for presence. A frame is
 * appended once, by its producer, and copied out by every reader that wants
 * it; the ring never waits for a reader. Positions count bytes since the
 * feed began, so a reader more than the ring's size behind has lost frames
 * and is told so.
 * Owns only the rings' bytes and heads. Calls libc (pthread).
 * Thread rules: any thread; one mutex per feed guards its head and bytes,
 * and copies happen under it (they are short: a few KiB at most).
 */
#ifndef LANCHAT_FEED_H
#define LANCHAT_FEED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feed {
    pthread_mutex_t lock;
    unsigned char *ring;
    size_t capacity;       /* bytes, a multiple of 8 */
    _Atomic uint64_t head; /* position of the next record; stored under the lock */
    int64_t last_id;       /* the newest message id appended (room feeds) */
};

/* What a reader copied: one entry per frame, in order. */
struct feed_mark {
    size_t end;     /* offset just past the frame in the reader's buffer */
    uint64_t after; /* the reader's position once this frame is taken */
};

enum feed_copy_result {
    FEED_COPIED, /* everything up to the head */
    FEED_MORE,   /* as much as buf and marks hold; more is waiting */
    FEED_LAPPED, /* the reader fell more than capacity behind: frames are lost */
};

/* storage: capacity bytes that the feed owns from now on; last_id: the
 * newest message already stored before the feed began. */
void feed_init(struct feed *f, void *storage, size_t capacity, int64_t last_id);
void feed_destroy(struct feed *f);
/* Appends one frame; except (nonzero) names the one reader that must not get
 * it; id (nonzero) becomes last_id. False when the frame is larger than a
 * quarter of the ring. */
bool feed_append(struct feed *f, const void *frame, size_t len, uint32_t except, int64_t id);
/* The head and last_id, read together: where a new reader starts. */
uint64_t feed_head(struct feed *f, int64_t *last_id);
/* Copies the frames from *pos on into buf (skipping those meant to miss
 * `reader`), at most cap bytes and max_marks frames, one mark each, and
 * advances *pos past what it copied or skipped. *used and *marks grow. */
enum feed_copy_result feed_copy(struct feed *f, uint64_t *pos, uint32_t reader, char *buf,
                                size_t cap, size_t *used, struct feed_mark *marks, size_t max_marks,
                                size_t *marks_used);
/* Whether anything was appended at or after pos, without the lock: a reader
 * that is caught up costs one load. */
static inline bool feed_has_news(struct feed *f, uint64_t pos)
{
    return atomic_load_explicit(&f->head, memory_order_acquire) != pos;
}

#endif
