/*
 * metrics - process-wide event counters, bumped with relaxed atomics from
 * any thread and read by the /metrics exporter (api.c) and --version.
 * Owns only these counters; calls nothing.
 */
#ifndef LANCHAT_METRICS_H
#define LANCHAT_METRICS_H

#include <stdatomic.h>

struct metrics {
    atomic_ullong messages;       /* messages committed by this process */
    atomic_ullong deliveries;     /* frames written to WebSocket clients */
    atomic_ullong ws_writes;      /* sendmsg calls that wrote them: frames per write */
    atomic_ullong slow_consumers; /* clients cut off: a feed behind, or no progress */
    atomic_ullong refused;        /* requests refused for an exhausted pool or queue */
    atomic_ullong http_requests;
    atomic_int ws_connections;
    /* MQTT (docs/MQTT.md) */
    atomic_int mqtt_connected;    /* 1 while the broker accepted us */
    atomic_ullong mqtt_published; /* outbox rows the broker acknowledged */
    atomic_ullong mqtt_received;  /* mirrored messages, deletions, rooms stored */
    atomic_ullong mqtt_posts;     /* device posts stored */
    atomic_ullong mqtt_posts_refused;
    atomic_ullong mqtt_refused; /* mirrored input refused: malformed, unknown room */
};

extern struct metrics metrics;

#define metrics_add(field, n) atomic_fetch_add_explicit(&metrics.field, (n), memory_order_relaxed)
#define metrics_get(field) atomic_load_explicit(&metrics.field, memory_order_relaxed)

#endif
