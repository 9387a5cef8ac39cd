/*
 * report.h - what one run of loadgen found, and its two renderings: a table
 * for people and one line of JSON with stable keys for scripts. Also the
 * verdict that becomes the exit status. Called by main only.
 */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include "engine.h"
#include "proc.h"

#include <stdbool.h>
#include <stdio.h>

struct report {
    const char *mode; /* window, rate, burst, idle */
    const char *url, *room;
    int clients, senders, messages, window, body_bytes, threads, pid;
    double rate, hold_s;
    const char *end; /* complete, idle_timeout, timeout, hold */
    double elapsed_s;
    const struct engine_totals *t;
    bool server; /* --pid given and both samples read */
    struct proc_sample s0, s1;
    double loadgen_cpu_ms;
};

/* 0 lost, 0 duplicated, every ack, no error frame, no disconnect, no
 * failed login or handshake. */
bool report_passed(const struct report *r);
void report_table(FILE *out, const struct report *r);
void report_json(FILE *out, const struct report *r);
/* One line per kind of set-up failure, for a run that could not start. */
void report_failures(FILE *out, const struct engine_totals *t);

#endif
