/*
 * engine.c - loadgen's worker threads (engine.h). Client i belongs to worker
 * i % T, which alone touches its sockets, buffers and bitmaps (client.c
 * drives each one). A worker runs one edge-triggered epoll set, follows the
 * phase main sets, runs the set-up steps as jobs (at most
 * ENGINE_SETUP_CONCURRENCY in flight over all workers), paces rate-mode
 * sends, and publishes its progress in a cache line of its own. Main merges
 * the counters and bitmaps here after the workers have stopped.
 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

const char *const engine_error_names[ENGINE_ERRORS] = {
    "bad_request",  "unauthorized", "forbidden", "not_found", "too_large",
    "rate_limited", "unavailable",  "other",     "protocol"};
const char *const engine_stage_names[ENGINE_STAGES] = {"login", "ws", "logout"};

int64_t engine_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct client *client_of(const struct engine *e, int index)
{
    return &e->w[index % e->nw]->clients[index / e->nw];
}

/* ---- set-up jobs ------------------------------------------------------------- */

static bool job_wanted(const struct worker *w, const struct client *c)
{
    return w->job_stage == ENGINE_STAGE_LOGIN || c->token[0] != '\0';
}

/* The phase's deadline passed: what is in flight or not started fails. */
static void expire_jobs(struct worker *w)
{
    for (int i = 0; i < w->n; i++) {
        struct client *c = &w->clients[i];
        if (c->busy)
            client_fail(w, c, ENGINE_FAIL_TIMEOUT);
        else if (i >= w->job_next && job_wanted(w, c))
            w->c.failures[w->job_stage][ENGINE_FAIL_TIMEOUT]++;
    }
    w->job_next = w->n;
}

static void run_jobs(struct worker *w, int64_t now)
{
    if (now >= w->job_deadline)
        expire_jobs(w);
    while (w->job_busy < w->job_limit && w->job_next < w->n) {
        struct client *c = &w->clients[w->job_next++];
        if (job_wanted(w, c))
            client_begin(w, c, w->job_stage);
    }
    if (w->job_next == w->n && w->job_busy == 0) {
        w->jobs_on = false;
        atomic_store_explicit(&w->pub.done_phase, w->phase, memory_order_release);
    }
}

static void start_jobs(struct worker *w, enum engine_stage stage, int64_t now)
{
    w->jobs_on = true;
    w->job_stage = stage;
    w->job_next = 0;
    w->job_deadline = now + w->eng->p.setup_timeout_ns;
    run_jobs(w, now);
}

/* ---- rate mode: the sends due in this millisecond, all senders at once -------- */

static void rate_tick(struct worker *w, int64_t now)
{
    if (w->unsent == 0 || now < w->next_due_ns || now - w->last_rate_scan < RATE_SLICE_NS)
        return;
    w->last_rate_scan = now;
    int64_t next = INT64_MAX;
    for (int i = 0; i < w->local_senders; i++) {
        struct client *c = &w->clients[i];
        if (c->unsent && c->next_due_ns <= now) {
            client_top_up(w, c);
            client_flush(w, c);
        }
        if (c->unsent && c->next_due_ns < next)
            next = c->next_due_ns;
    }
    w->next_due_ns = next;
}

/* ---- phases ------------------------------------------------------------------------- */

static void start_measure(struct worker *w)
{
    const struct engine *e = w->eng;
    w->next_due_ns = INT64_MAX;
    for (int i = 0; i < w->local_senders; i++) {
        struct client *c = &w->clients[i];
        if (c->state != S_READY)
            continue;
        c->unsent = c->unresolved = true;
        w->unsent++;
        w->unresolved++;
        c->next_due_ns = e->p.mode == ENGINE_RATE ? client_due_ns(w, c, 0) : e->t0;
    }
    for (int i = 0; i < w->local_senders; i++) {
        struct client *c = &w->clients[i];
        if (c->unsent && (e->p.mode != ENGINE_RATE || c->next_due_ns <= e->t0)) {
            client_top_up(w, c);
            client_flush(w, c);
        }
        if (c->unsent && c->next_due_ns < w->next_due_ns)
            w->next_due_ns = c->next_due_ns;
    }
    atomic_store_explicit(&w->pub.done_phase, ENGINE_MEASURE, memory_order_release);
}

/* Teardown: the measured phase is over, so frames are no longer read. */
static void close_all(struct worker *w)
{
    for (int i = 0; i < w->n; i++)
        client_close(w, &w->clients[i]);
}

static void enter_phase(struct worker *w, int phase, int64_t now)
{
    w->phase = phase;
    if (phase == ENGINE_LOGIN)
        start_jobs(w, ENGINE_STAGE_LOGIN, now);
    else if (phase == ENGINE_CONNECT)
        start_jobs(w, ENGINE_STAGE_WS, now);
    else if (phase == ENGINE_MEASURE)
        start_measure(w);
    else if (phase == ENGINE_TEARDOWN) {
        close_all(w);
        start_jobs(w, ENGINE_STAGE_LOGOUT, now);
    }
}

static void follow_target(struct worker *w)
{
    int64_t t = atomic_load_explicit(&w->eng->target, memory_order_acquire);
    if (t == w->target)
        return;
    w->target = t;
    w->pending = 0;
    for (int i = 0; i < w->n; i++) {
        struct client *c = &w->clients[i];
        c->settled = c->state != S_READY || !w->eng->p.join || c->unique >= (uint64_t)t;
        w->pending += !c->settled;
    }
}

static void publish(struct worker *w)
{
    struct published *p = &w->pub;
    if (w->phase != ENGINE_MEASURE)
        return;
    atomic_store_explicit(&p->last_progress_ns, w->last_progress, memory_order_relaxed);
    atomic_store_explicit(&p->last_send_ns, w->last_send, memory_order_relaxed);
    atomic_store_explicit(&p->sending_done, w->unsent == 0, memory_order_relaxed);
    if (w->unresolved == 0 && !atomic_load_explicit(&p->resolved, memory_order_relaxed)) {
        uint64_t acked = 0, unconfirmed = 0;
        for (int i = 0; i < w->local_senders; i++) {
            const struct client *c = &w->clients[i];
            acked += (uint64_t)(c->resolved - c->refused_count);
            unconfirmed += (uint64_t)(c->next_seq - c->resolved);
        }
        atomic_store_explicit(&p->acked, acked, memory_order_relaxed);
        atomic_store_explicit(&p->unconfirmed, unconfirmed, memory_order_relaxed);
        atomic_store_explicit(&p->resolved, true, memory_order_release);
    }
    atomic_store_explicit(&p->pending, w->pending, memory_order_relaxed);
    atomic_store_explicit(&p->target_seen, w->target, memory_order_release);
}

static int wait_ms(const struct worker *w, int64_t now)
{
    if (w->jobs_on)
        return TICK_MS;
    if (w->phase != ENGINE_MEASURE || w->eng->p.mode != ENGINE_RATE || w->unsent == 0)
        return IDLE_TICK_MS;
    int64_t at = w->next_due_ns;
    if (at < w->last_rate_scan + RATE_SLICE_NS)
        at = w->last_rate_scan + RATE_SLICE_NS;
    if (at <= now)
        return 0;
    int64_t ms = (at - now + 999999) / 1000000;
    return ms < TICK_MS ? (int)ms : TICK_MS;
}

static void drain_wake(const struct worker *w)
{
    uint64_t v;
    if (read(w->wake, &v, sizeof v) < 0 && errno != EAGAIN) {
        /* nothing to do: the phase is read from memory, not from here */
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event ev[EVENTS];
    while (w->phase != ENGINE_EXIT) {
        int n = epoll_wait(w->ep, ev, EVENTS, wait_ms(w, engine_now_ns()));
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr)
                client_on_event(w, ev[i].data.ptr, ev[i].events);
            else
                drain_wake(w);
        }
        int64_t now = engine_now_ns();
        int phase = atomic_load_explicit(&w->eng->phase, memory_order_acquire);
        if (phase != w->phase)
            enter_phase(w, phase, now);
        if (w->jobs_on)
            run_jobs(w, now);
        if (w->phase == ENGINE_MEASURE) {
            follow_target(w);
            if (w->eng->p.mode == ENGINE_RATE)
                rate_tick(w, now);
        }
        publish(w);
    }
    return NULL;
}

/* ---- creation ------------------------------------------------------------------------ */

static int client_init(struct worker *w, struct client *c, int local)
{
    const struct engine *e = w->eng;
    c->index = w->id + local * e->nw;
    c->fd = -1;
    c->in_cap = IN_INITIAL;
    c->out_cap = c->index < e->senders ? OUT_SENDER : OUT_OTHER;
    c->in = malloc(c->in_cap);
    c->out = malloc(c->out_cap);
    if (w->seen_block)
        c->seen = w->seen_block + (size_t)local * (size_t)e->senders * e->words;
    if (local < w->local_senders) {
        c->acked = w->marks_block + (size_t)local * 2 * e->words;
        c->refused = c->acked + e->words;
    }
    return c->in && c->out ? 0 : -1;
}

static int worker_alloc(struct worker *w)
{
    const struct engine *e = w->eng;
    size_t seen_words = (size_t)w->n * (size_t)e->senders * e->words;
    size_t mark_words = (size_t)w->local_senders * 2 * e->words;
    w->clients = calloc((size_t)w->n, sizeof *w->clients);
    w->rbuf = malloc(READ_BUF);
    w->scratch = malloc(ENGINE_MAX_BODY + 256);
    w->seen_block = seen_words ? calloc(seen_words, sizeof(uint64_t)) : NULL;
    w->marks_block = mark_words ? calloc(mark_words, sizeof(uint64_t)) : NULL;
    if (!w->clients || !w->rbuf || !w->scratch || (seen_words && !w->seen_block) ||
        (mark_words && !w->marks_block))
        return -1;
    for (int i = 0; i < w->n; i++)
        w->clients[i].fd = -1;
    for (int i = 0; i < w->n; i++)
        if (client_init(w, &w->clients[i], i) != 0)
            return -1;
    return 0;
}

static int seed(struct worker *w)
{
    if (getrandom(&w->rng, sizeof w->rng, 0) != (ssize_t)sizeof w->rng)
        return -1;
    w->rng |= 1;
    return 0;
}

static int worker_create(struct engine *e, int id, struct worker **out)
{
    struct worker *w = aligned_alloc(64, sizeof *w);
    *out = w;
    if (!w)
        return -1;
    memset(w, 0, sizeof *w);
    w->eng = e;
    w->id = id;
    w->ep = w->wake = -1;
    w->target = -1;
    atomic_init(&w->pub.target_seen, -1);
    w->n = (e->p.clients - id + e->nw - 1) / e->nw;
    w->local_senders = (e->senders - id + e->nw - 1) / e->nw;
    if (w->local_senders < 0)
        w->local_senders = 0;
    w->job_limit = ENGINE_SETUP_CONCURRENCY / e->nw > 0 ? ENGINE_SETUP_CONCURRENCY / e->nw : 1;
    hist_init(&w->hist);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (w->ep < 0 || w->wake < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev) != 0 ||
        seed(w) != 0)
        return -1;
    return worker_alloc(w);
}

static void worker_destroy(struct worker *w)
{
    if (!w)
        return;
    for (int i = 0; w->clients && i < w->n; i++) {
        client_drop(&w->clients[i]);
        free(w->clients[i].in);
        free(w->clients[i].out);
        free(w->clients[i].frag);
    }
    if (w->ep >= 0)
        close(w->ep);
    if (w->wake >= 0)
        close(w->wake);
    free(w->clients);
    free(w->rbuf);
    free(w->scratch);
    free(w->seen_block);
    free(w->marks_block);
    free(w);
}

int engine_create(struct engine **out, const struct engine_params *p)
{
    struct engine *e = calloc(1, sizeof *e);
    *out = e;
    if (!e)
        return -1;
    e->p = *p;
    e->senders = p->mode == ENGINE_BURST ? p->clients : p->mode == ENGINE_IDLE ? 0 : p->senders;
    e->words = ((size_t)p->messages + 63) / 64;
    e->nw = p->threads < p->clients ? p->threads : p->clients;
    e->prefix_len = (size_t)snprintf(e->prefix, sizeof e->prefix,
                                     "{\"type\":\"send\",\"room\":\"%s\",\"body\":\"", p->room);
    atomic_init(&e->phase, ENGINE_BOOT);
    atomic_init(&e->target, -1);
    e->w = calloc((size_t)e->nw, sizeof *e->w);
    if (!e->w)
        return -1;
    for (int i = 0; i < e->nw; i++)
        if (worker_create(e, i, &e->w[i]) != 0)
            return -1;
    return 0;
}

/* ---- main's side ------------------------------------------------------------------------ */

int engine_start(struct engine *e)
{
    for (int i = 0; i < e->nw; i++) {
        int rc = pthread_create(&e->w[i]->thread, NULL, worker_main, e->w[i]);
        if (rc != 0) {
            errno = rc;
            return -1;
        }
        e->w[i]->started = true;
    }
    return 0;
}

static void wake_all(const struct engine *e)
{
    static const uint64_t one = 1;
    for (int i = 0; e->w && i < e->nw; i++)
        if (e->w[i] && write(e->w[i]->wake, &one, sizeof one) != (ssize_t)sizeof one) {
            /* the worker still looks within IDLE_TICK_MS */
        }
}

int64_t engine_set_phase(struct engine *e, enum engine_phase phase)
{
    int64_t now = engine_now_ns();
    if (phase == ENGINE_MEASURE)
        e->t0 = now;
    atomic_store_explicit(&e->phase, (int)phase, memory_order_release);
    wake_all(e);
    return now;
}

void engine_set_target(struct engine *e, uint64_t messages)
{
    atomic_store_explicit(&e->target, (int64_t)messages, memory_order_release);
    wake_all(e);
}

void engine_progress(struct engine *e, struct engine_progress *out)
{
    int phase = atomic_load_explicit(&e->phase, memory_order_relaxed);
    int64_t target = atomic_load_explicit(&e->target, memory_order_relaxed);
    *out = (struct engine_progress){true, true, true, true, 0, 0, 0, 0};
    for (int i = 0; i < e->nw; i++) {
        struct published *p = &e->w[i]->pub;
        bool in = atomic_load_explicit(&p->done_phase, memory_order_acquire) == phase;
        bool measuring = in && phase == ENGINE_MEASURE;
        bool resolved = measuring && atomic_load_explicit(&p->resolved, memory_order_acquire);
        int64_t seen = atomic_load_explicit(&p->target_seen, memory_order_acquire);
        int pending = atomic_load_explicit(&p->pending, memory_order_relaxed);
        int64_t last = atomic_load_explicit(&p->last_progress_ns, memory_order_relaxed);
        int64_t sent = atomic_load_explicit(&p->last_send_ns, memory_order_relaxed);
        out->phase_done &= in;
        out->sends_resolved &= resolved;
        out->sending_done &=
            measuring && atomic_load_explicit(&p->sending_done, memory_order_relaxed);
        out->complete &= resolved && target >= 0 && seen == target && pending == 0;
        if (resolved) {
            out->acked += atomic_load_explicit(&p->acked, memory_order_relaxed);
            out->unconfirmed += atomic_load_explicit(&p->unconfirmed, memory_order_relaxed);
        }
        out->last_progress_ns = last > out->last_progress_ns ? last : out->last_progress_ns;
        out->last_send_ns = sent > out->last_send_ns ? sent : out->last_send_ns;
    }
}

const char *engine_token(const struct engine *e, int client)
{
    return client_of(e, client)->token;
}

void engine_stop(struct engine *e)
{
    engine_set_phase(e, ENGINE_EXIT);
    for (int i = 0; e->w && i < e->nw; i++)
        if (e->w[i] && e->w[i]->started) {
            pthread_join(e->w[i]->thread, NULL);
            e->w[i]->started = false;
        }
}

void engine_destroy(struct engine *e)
{
    if (!e)
        return;
    for (int i = 0; e->w && i < e->nw; i++)
        worker_destroy(e->w[i]);
    free(e->w);
    free(e);
}

/* ---- totals ------------------------------------------------------------------------------ */

static void add_counters(struct engine_totals *t, const struct worker *w)
{
    const struct counters *c = &w->c;
    t->clients_joined += c->joined;
    t->sends_written += c->sends_written;
    t->acks_received += c->acks;
    t->acks_duplicated += c->acks_dup;
    t->duplicated += c->duplicated;
    t->foreign += c->foreign;
    for (int i = 0; i < ENGINE_ERRORS; i++)
        t->errors[i] += c->errors[i];
    for (int i = 0; i < ENGINE_CLOSE_CODES; i++)
        t->closes[i] += c->closes[i];
    for (int s = 0; s < ENGINE_STAGES; s++)
        for (int i = 0; i < ENGINE_FAIL_SLOTS; i++)
            t->failures[s][i] += c->failures[s][i];
    hist_merge(&t->latency, &w->hist);
}

/* valid[sender][word]: written and not refused. */
static void fill_valid(const struct engine *e, uint64_t *valid)
{
    for (int s = 0; s < e->senders; s++) {
        const struct client *c = client_of(e, s);
        uint64_t q = (uint64_t)c->next_seq;
        for (size_t i = 0; i < e->words; i++) {
            uint64_t first = i * 64;
            uint64_t written = q >= first + 64 ? ~0ull : q > first ? (1ull << (q - first)) - 1 : 0;
            valid[(size_t)s * e->words + i] = written & ~c->refused[i];
        }
    }
}

/* expect[sender][word]: valid, and acked or received by someone (a sender
 * cut before its ack may still have had the message stored). */
static uint64_t fill_expected(const struct engine *e, const uint64_t *valid, uint64_t *expect,
                              struct engine_totals *t)
{
    size_t n = (size_t)e->senders * e->words;
    for (int r = 0; r < e->p.clients; r++)
        for (size_t i = 0; i < n; i++)
            expect[i] |= client_of(e, r)->seen[i];
    uint64_t per_receiver = 0;
    for (int s = 0; s < e->senders; s++) {
        const uint64_t *acked = client_of(e, s)->acked;
        for (size_t i = 0; i < e->words; i++) {
            size_t k = (size_t)s * e->words + i;
            expect[k] = (expect[k] | acked[i]) & valid[k];
            per_receiver += (uint64_t)__builtin_popcountll(expect[k]);
            t->unconfirmed += (uint64_t)__builtin_popcountll(valid[k] & ~expect[k]);
        }
    }
    return per_receiver;
}

static void tally_receiver(const struct engine *e, const struct client *r, const uint64_t *valid,
                           const uint64_t *expect, struct engine_totals *t)
{
    size_t n = (size_t)e->senders * e->words;
    for (size_t i = 0; i < n; i++) {
        uint64_t seen = r->seen[i], want = expect[i];
        t->deliveries_received += (uint64_t)__builtin_popcountll(seen & want);
        t->lost += (uint64_t)__builtin_popcountll(want & ~seen);
        t->unexpected += (uint64_t)__builtin_popcountll(seen & ~valid[i]);
    }
}

int engine_totals(const struct engine *e, struct engine_totals *t)
{
    memset(t, 0, sizeof *t);
    hist_init(&t->latency);
    for (int i = 0; i < e->nw; i++)
        add_counters(t, e->w[i]);
    t->acks_expected = (uint64_t)e->senders * (uint64_t)e->p.messages;
    if (e->senders == 0)
        return 0;
    size_t n = (size_t)e->senders * e->words;
    uint64_t *valid = calloc(2 * n, sizeof *valid);
    if (!valid)
        return -1;
    uint64_t *expect = valid + n;
    fill_valid(e, valid);
    int receivers = e->p.join ? e->p.clients : 0;
    t->deliveries_expected = fill_expected(e, valid, expect, t) * (uint64_t)receivers;
    for (int r = 0; r < receivers; r++)
        tally_receiver(e, client_of(e, r), valid, expect, t);
    free(valid);
    return 0;
}
