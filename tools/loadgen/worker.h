/*
 * worker.h - private to engine.c and client.c: the state of the engine, of
 * each worker thread and of each client, and the client functions engine.c
 * calls. Every struct client and every field of a struct worker but `pub`
 * is touched by its own worker thread only; `pub` is written by the worker
 * and read by main; struct engine is written by main before the workers
 * start or before a phase switch (release), read by the workers.
 */
#ifndef LOADGEN_WORKER_H
#define LOADGEN_WORKER_H

#include "engine.h"
#include "hist.h"
#include "ws.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define READ_BUF (512 * 1024)  /* per worker: one recv() reads up to this */
#define MAX_FRAME (256 * 1024) /* largest server frame or HTTP response taken */
#define IN_INITIAL (8 * 1024)  /* per client: the unfinished frame of the last read */
#define OUT_SENDER (64 * 1024) /* per sender: frames not yet taken by the kernel */
#define OUT_OTHER (4 * 1024)   /* per receiver: requests, join, pongs, close */
#define EVENTS 256
#define TICK_MS 100           /* longest sleep while setting up: deadlines */
#define IDLE_TICK_MS 1000     /* longest sleep otherwise: phase and target changes wake it */
#define RATE_SLICE_NS 1000000 /* rate mode: due sends are gathered per millisecond */

enum state {
    S_IDLE,    /* no socket */
    S_HTTP,    /* a set-up request is on its way or being answered */
    S_HELLO,   /* WebSocket open, waiting for hello */
    S_JOINING, /* join sent, waiting for joined */
    S_READY,   /* joined: a receiver, and maybe a sender */
    S_CLOSED   /* closed by the server, or set-up failed */
};

struct client {
    int index, fd;
    enum state state;
    enum engine_stage stage; /* of the job in flight, when busy */
    bool busy, connecting;
    bool unsent;     /* a sender with messages still to write */
    bool unresolved; /* a sender with messages neither acked nor refused */
    bool settled;    /* no longer holds the measured phase open */
    int next_seq, resolved, refused_count;
    int64_t next_due_ns;
    uint64_t unique;
    uint64_t *seen;    /* [sender][word]: messages received */
    uint64_t *acked;   /* [word], senders only */
    uint64_t *refused; /* [word], senders only */
    unsigned char *in, *out, *frag;
    size_t in_len, in_cap, out_off, out_len, out_cap, frag_len, frag_cap;
    bool frag_on, frag_text;
    char token[64];
    char key[WS_KEY_LEN + 1];
};

struct counters {
    uint64_t sends_written, acks, acks_dup, duplicated, foreign, joined;
    uint64_t errors[ENGINE_ERRORS];
    uint64_t closes[ENGINE_CLOSE_CODES];
    uint64_t failures[ENGINE_STAGES][ENGINE_FAIL_SLOTS];
};

/* Written by its worker, read by main. */
struct published {
    atomic_int done_phase;
    atomic_bool resolved, sending_done;
    atomic_uint_fast64_t acked, unconfirmed;
    atomic_int_fast64_t last_progress_ns, last_send_ns;
    atomic_int_fast64_t target_seen;
    atomic_int pending;
};

struct worker {
    _Alignas(64) struct published pub;
    _Alignas(64) struct engine *eng;
    int id, ep, wake;
    pthread_t thread;
    bool started;
    struct client *clients;
    int n, local_senders;
    uint64_t *seen_block, *marks_block;
    unsigned char *rbuf;
    char *scratch; /* the JSON of one send */
    uint64_t rng;
    int phase;
    bool jobs_on;
    enum engine_stage job_stage;
    int job_next, job_busy, job_limit;
    int64_t job_deadline;
    int unsent, unresolved;
    int64_t next_due_ns, last_rate_scan;
    int64_t target;
    int pending;
    int64_t last_progress, last_send;
    struct counters c;
    struct hist hist;
};

struct engine {
    struct engine_params p;
    int senders;  /* S; N in burst mode; 0 idle */
    size_t words; /* 64-bit words holding one sender's messages */
    int nw;
    struct worker **w;
    char prefix[96]; /* {"type":"send","room":"ROOM","body":" */
    size_t prefix_len;
    int64_t t0; /* written before the phase switch to MEASURE */
    _Alignas(64) atomic_int phase;
    atomic_int_fast64_t target;
};

/* ---- client.c: one client's conversation with the server ---------------- */

/* Opens a connection and queues the set-up request of `stage`. */
void client_begin(struct worker *w, struct client *c, enum engine_stage stage);
/* Ends the set-up step in flight; slot: an HTTP status or ENGINE_FAIL_*. */
void client_fail(struct worker *w, struct client *c, int slot);
/* Everything epoll reported for the client's socket. */
void client_on_event(struct worker *w, struct client *c, uint32_t events);
/* Encodes the sends that are due and fit; client_flush writes them. */
void client_top_up(struct worker *w, struct client *c);
/* 0, or -1 when the connection failed and was dropped. */
int client_flush(struct worker *w, struct client *c);
/* Rate mode: when message `seq` of this sender is due. */
int64_t client_due_ns(const struct worker *w, const struct client *c, int seq);
/* Teardown: a close 1000 if a WebSocket is open, then the socket goes. */
void client_close(struct worker *w, struct client *c);
void client_drop(struct client *c);

#endif
