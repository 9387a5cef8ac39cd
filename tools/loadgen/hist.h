/*
 * hist.h - latency histogram with log-linear buckets: exact below 128 ns,
 * then 128 buckets per power of two, so any reported value is within
 * 1/256 (0.4 %) of the samples it stands for. Fixed size, no allocation;
 * a histogram belongs to one thread, merged by main after the workers stop.
 */
#ifndef LOADGEN_HIST_H
#define LOADGEN_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t value);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q (0 < q <= 1), or 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
