/*
 * engine.h - the worker threads that log the clients in, open and join
 * their WebSockets, send and receive during the measured phase, and close
 * and log out. main (loadgen.c) creates the engine, moves it from phase to
 * phase and polls its progress; the workers own every client and socket.
 * Tokens may be read once the login phase is done, totals once stopped.
 */
#ifndef LOADGEN_ENGINE_H
#define LOADGEN_ENGINE_H

#include "hist.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define ENGINE_RUN_ID_LEN 6   /* random suffix of names and tag of bodies */
#define ENGINE_MAX_BODY 15000 /* a send frame stays below the server's 16 KiB */
#define ENGINE_CLOSE_CODES 5000
#define ENGINE_SETUP_CONCURRENCY 64 /* logins or handshakes in flight, all workers */

enum engine_mode { ENGINE_WINDOW, ENGINE_RATE, ENGINE_BURST, ENGINE_IDLE };

enum engine_phase {
    ENGINE_BOOT,
    ENGINE_LOGIN,    /* POST /api/v1/session for every client */
    ENGINE_CONNECT,  /* WebSocket handshake, hello, join, joined */
    ENGINE_MEASURE,  /* the sends (none in idle mode) and their deliveries */
    ENGINE_TEARDOWN, /* close every WebSocket, DELETE /api/v1/session */
    ENGINE_EXIT
};

/* Error frames by code; "protocol" counts what loadgen itself refused
 * (a malformed frame or handshake), "other" any code not listed. */
enum engine_error {
    ENGINE_ERR_BAD_REQUEST,
    ENGINE_ERR_UNAUTHORIZED,
    ENGINE_ERR_FORBIDDEN,
    ENGINE_ERR_NOT_FOUND,
    ENGINE_ERR_TOO_LARGE,
    ENGINE_ERR_RATE_LIMITED,
    ENGINE_ERR_UNAVAILABLE,
    ENGINE_ERR_OTHER,
    ENGINE_ERR_PROTOCOL,
    ENGINE_ERRORS
};
extern const char *const engine_error_names[ENGINE_ERRORS];

/* Set-up failures by step and cause: an HTTP status (0-599) or one of these. */
enum engine_stage { ENGINE_STAGE_LOGIN, ENGINE_STAGE_WS, ENGINE_STAGE_LOGOUT, ENGINE_STAGES };
enum {
    ENGINE_FAIL_IO = 600, /* connect refused, reset, early end of file */
    ENGINE_FAIL_TIMEOUT,  /* not done by the phase's deadline */
    ENGINE_FAIL_PROTOCOL, /* malformed response, wrong accept key, no token */
    ENGINE_FAIL_CLOSED,   /* the server closed the WebSocket before joined */
    ENGINE_FAIL_SLOTS
};
extern const char *const engine_stage_names[ENGINE_STAGES];

struct engine_params {
    struct sockaddr_in addr;
    char host[280]; /* Host header: name:port */
    char room[40];
    char run_id[ENGINE_RUN_ID_LEN + 1];
    enum engine_mode mode;
    int clients, senders, messages, window, body_bytes, threads;
    bool join;                /* clients join the room and receive; false: senders only */
    double rate;              /* messages/s per sender, ENGINE_RATE */
    int64_t setup_timeout_ns; /* per set-up phase */
};

struct engine_progress {
    bool phase_done;      /* every worker finished the set-up phase in force */
    bool sends_resolved;  /* every send acked or refused, or its sender closed */
    bool sending_done;    /* every send written */
    bool complete;        /* resolved, and each open receiver has every message */
    uint64_t acked;       /* once resolved: sends acknowledged */
    uint64_t unconfirmed; /* once resolved: sends of closed senders, neither acked nor refused */
    int64_t last_progress_ns; /* newest message, ack or error frame */
    int64_t last_send_ns;     /* newest send written */
};

struct engine_totals {
    uint64_t clients_joined;
    uint64_t sends_written, acks_expected, acks_received, acks_duplicated;
    uint64_t deliveries_expected, deliveries_received, duplicated, lost;
    uint64_t unconfirmed; /* sends of a closed sender: no ack, no error, received by nobody */
    uint64_t unexpected;  /* deliveries of messages that were refused or never sent */
    uint64_t foreign;     /* message frames not written by this run */
    uint64_t errors[ENGINE_ERRORS];
    uint64_t closes[ENGINE_CLOSE_CODES];
    uint64_t failures[ENGINE_STAGES][ENGINE_FAIL_SLOTS];
    struct hist latency; /* ns, first delivery of each (receiver, message) */
};

struct engine;

/* 0, or -1 with errno (ENOMEM, or what epoll/eventfd said). */
int engine_create(struct engine **out, const struct engine_params *p);
int engine_start(struct engine *e);
/* Moves the workers on; returns the CLOCK_MONOTONIC time of the switch. */
int64_t engine_set_phase(struct engine *e, enum engine_phase phase);
/* Tells the workers how many messages every receiver must get: the acked
 * ones, when no send is unconfirmed. */
void engine_set_target(struct engine *e, uint64_t messages);
void engine_progress(struct engine *e, struct engine_progress *out);
/* The session token of a client ("" when its login failed). */
const char *engine_token(const struct engine *e, int client);
/* Sets ENGINE_EXIT and joins the workers. */
void engine_stop(struct engine *e);
/* 0, or -1 when memory for the tally ran out. */
int engine_totals(const struct engine *e, struct engine_totals *out);
void engine_destroy(struct engine *e);
int64_t engine_now_ns(void);

#endif
