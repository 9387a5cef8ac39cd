/*
 * hist.c - the log-linear latency histogram of hist.h: bucket index from
 * the top set bit and the 7 bits below it, quantiles by a walk over the
 * buckets, reported as the middle of the bucket (the exact maximum caps it).
 */
#include "hist.h"

#include <math.h>
#include <string.h>

static unsigned bucket_of(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = top - HIST_SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) - HIST_SUB;
    return HIST_SUB + shift * HIST_SUB + sub;
}

/* The middle of a bucket's range of values. */
static uint64_t middle_of(unsigned bucket)
{
    if (bucket < HIST_SUB)
        return bucket;
    unsigned shift = (bucket - HIST_SUB) / HIST_SUB;
    uint64_t low = (uint64_t)(HIST_SUB + (bucket - HIST_SUB) % HIST_SUB) << shift;
    return low + ((1ull << shift) >> 1);
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
}

void hist_add(struct hist *h, uint64_t value)
{
    h->buckets[bucket_of(value)]++;
    h->count++;
    if (value > h->max)
        h->max = value;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = middle_of(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}
