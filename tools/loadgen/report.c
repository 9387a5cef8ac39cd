/*
 * report.c - renders a struct report (report.h) as a table and as one line
 * of JSON, and decides whether the run passed.
 */
#include "report.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

static uint64_t sum(const uint64_t *v, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

static uint64_t setup_failures(const struct engine_totals *t)
{
    return sum(t->failures[ENGINE_STAGE_LOGIN], ENGINE_FAIL_SLOTS) +
           sum(t->failures[ENGINE_STAGE_WS], ENGINE_FAIL_SLOTS);
}

bool report_passed(const struct report *r)
{
    const struct engine_totals *t = r->t;
    return t->lost == 0 && t->duplicated == 0 && t->unexpected == 0 &&
           t->acks_received == t->acks_expected && sum(t->errors, ENGINE_ERRORS) == 0 &&
           sum(t->closes, ENGINE_CLOSE_CODES) == 0 && setup_failures(t) == 0;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double per_s(const struct report *r)
{
    return r->elapsed_s > 0 ? (double)r->t->deliveries_received / r->elapsed_s : 0;
}

static double server_cpu(const struct report *r)
{
    return r->s1.cpu_ms - r->s0.cpu_ms;
}

/* CPU ms per 10,000 deliveries received, or -1 when there were none. */
static double per_10k(double cpu_ms, uint64_t deliveries)
{
    return deliveries ? cpu_ms * 10000.0 / (double)deliveries : -1;
}

static const char *failure_cause(int slot, char *buf, size_t cap)
{
    static const char *const names[] = {"io", "timeout", "protocol", "closed"};
    if (slot >= ENGINE_FAIL_IO)
        return names[slot - ENGINE_FAIL_IO];
    snprintf(buf, cap, "%d", slot);
    return buf;
}

/* ---- table ----------------------------------------------------------------- */

static void table_counts(FILE *out, const char *label, const uint64_t *v, int n,
                         const char *const *names)
{
    fprintf(out, "  %-12s", label);
    int shown = 0;
    for (int i = 0; i < n; i++) {
        if (!v[i])
            continue;
        if (names)
            fprintf(out, "%s%s %" PRIu64, shown ? ", " : "", names[i], v[i]);
        else
            fprintf(out, "%s%d: %" PRIu64, shown ? ", " : "", i, v[i]);
        shown++;
    }
    fprintf(out, "%s\n", shown ? "" : "none");
}

static void table_failures(FILE *out, const struct engine_totals *t)
{
    char buf[16];
    int shown = 0;
    fprintf(out, "  %-12s", "setup fails");
    for (int s = 0; s < ENGINE_STAGES; s++)
        for (int i = 0; i < ENGINE_FAIL_SLOTS; i++)
            if (t->failures[s][i])
                fprintf(out, "%s%s %s %" PRIu64, shown++ ? ", " : "", engine_stage_names[s],
                        failure_cause(i, buf, sizeof buf), t->failures[s][i]);
    fprintf(out, "%s\n", shown ? "" : "none");
}

static void table_server(FILE *out, const struct report *r)
{
    if (!r->server) {
        fprintf(out, "  %-12s(no --pid)\n", "server");
        return;
    }
    double per = per_10k(server_cpu(r), r->t->deliveries_received);
    fprintf(out, "  %-12srss %ld KiB (at start %ld, peak %ld), threads %ld, cpu %.0f ms", "server",
            r->s1.rss_kib, r->s0.rss_kib, r->s1.peak_kib, r->s1.threads, server_cpu(r));
    if (per >= 0)
        fprintf(out, " (%.1f ms per 10k deliveries)", per);
    fprintf(out, "\n");
}

static void table_traffic(FILE *out, const struct report *r)
{
    const struct engine_totals *t = r->t;
    fprintf(out,
            "  %-12sexpected %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64
            ", duplicated %" PRIu64 " (unexpected %" PRIu64 ", foreign %" PRIu64 ")\n",
            "deliveries", t->deliveries_expected, t->deliveries_received, t->lost, t->duplicated,
            t->unexpected, t->foreign);
    if (t->unconfirmed)
        fprintf(out, "  %-12s%" PRIu64 " sends of cut senders: no ack, received by no one\n",
                "unconfirmed", t->unconfirmed);
    fprintf(out,
            "  %-12sexpected %" PRIu64 ", received %" PRIu64 " (duplicated %" PRIu64
            ", sends written %" PRIu64 ")\n",
            "acks", t->acks_expected, t->acks_received, t->acks_duplicated, t->sends_written);
    fprintf(out, "  %-12s%.0f deliveries/s over %.3f s\n", "throughput", per_s(r), r->elapsed_s);
    if (t->latency.count)
        fprintf(out, "  %-12sp50 %.3f, p99 %.3f, p999 %.3f, max %.3f ms\n", "latency",
                ms(hist_quantile(&t->latency, 0.50)), ms(hist_quantile(&t->latency, 0.99)),
                ms(hist_quantile(&t->latency, 0.999)), ms(t->latency.max));
    else
        fprintf(out, "  %-12snone measured\n", "latency");
}

void report_table(FILE *out, const struct report *r)
{
    const struct engine_totals *t = r->t;
    fprintf(out, "lanchat loadgen: %s mode against %s, room %s\n", r->mode, r->url, r->room);
    fprintf(out, "  %-12s%d (joined %" PRIu64 "), senders %d, messages %d each", "clients",
            r->clients, t->clients_joined, r->senders, r->messages);
    if (!strcmp(r->mode, "window"))
        fprintf(out, ", window %d", r->window);
    if (!strcmp(r->mode, "rate"))
        fprintf(out, ", %.1f msgs/s per sender", r->rate);
    fprintf(out, ", body %d B, threads %d\n", r->body_bytes, r->threads);
    fprintf(out, "  %-12s%s after %.3f s\n", "ended", r->end, r->elapsed_s);
    if (strcmp(r->mode, "idle"))
        table_traffic(out, r);
    table_counts(out, "errors", t->errors, ENGINE_ERRORS, engine_error_names);
    table_counts(out, "disconnects", t->closes, ENGINE_CLOSE_CODES, NULL);
    table_failures(out, t);
    table_server(out, r);
    double lg = per_10k(r->loadgen_cpu_ms, t->deliveries_received);
    fprintf(out, "  %-12scpu %.0f ms", "loadgen", r->loadgen_cpu_ms);
    if (lg >= 0)
        fprintf(out, " (%.1f ms per 10k deliveries)", lg);
    fprintf(out, "\n  %-12s%s\n", "result", report_passed(r) ? "PASS" : "FAIL");
}

void report_failures(FILE *out, const struct engine_totals *t)
{
    static const char *const why[] = {"connect failed, reset or early end of file",
                                      "no answer within --timeout",
                                      "malformed answer (or wrong Sec-WebSocket-Accept, no token)",
                                      "the server closed the WebSocket before joined"};
    for (int s = 0; s < ENGINE_STAGES; s++)
        for (int i = 0; i < ENGINE_FAIL_SLOTS; i++)
            if (t->failures[s][i] && i < ENGINE_FAIL_IO)
                fprintf(out, "loadgen: %s failed for %" PRIu64 " client(s): HTTP %d\n",
                        engine_stage_names[s], t->failures[s][i], i);
            else if (t->failures[s][i])
                fprintf(out, "loadgen: %s failed for %" PRIu64 " client(s): %s\n",
                        engine_stage_names[s], t->failures[s][i], why[i - ENGINE_FAIL_IO]);
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_number(FILE *out, const char *key, double v, bool known)
{
    if (known)
        fprintf(out, "\"%s\":%.3f", key, v);
    else
        fprintf(out, "\"%s\":null", key);
}

static void json_integer(FILE *out, const char *key, long v, bool known)
{
    if (known)
        fprintf(out, "\"%s\":%ld", key, v);
    else
        fprintf(out, "\"%s\":null", key);
}

static void json_errors(FILE *out, const struct engine_totals *t)
{
    fprintf(out, "\"errors\":{");
    for (int i = 0; i < ENGINE_ERRORS; i++)
        fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", engine_error_names[i], t->errors[i]);
    fprintf(out, "},\"closes\":{");
    int shown = 0;
    for (int i = 0; i < ENGINE_CLOSE_CODES; i++)
        if (t->closes[i])
            fprintf(out, "%s\"%d\":%" PRIu64, shown++ ? "," : "", i, t->closes[i]);
    fprintf(out, "},\"setup_failures\":{");
    shown = 0;
    char buf[16];
    for (int s = 0; s < ENGINE_STAGES; s++)
        for (int i = 0; i < ENGINE_FAIL_SLOTS; i++)
            if (t->failures[s][i])
                fprintf(out, "%s\"%s_%s\":%" PRIu64, shown++ ? "," : "", engine_stage_names[s],
                        failure_cause(i, buf, sizeof buf), t->failures[s][i]);
    fprintf(out, "}");
}

static void json_latency(FILE *out, const struct hist *h)
{
    bool any = h->count > 0;
    fprintf(out, "\"latency_ms\":{");
    json_number(out, "p50", ms(hist_quantile(h, 0.50)), any);
    fputc(',', out);
    json_number(out, "p99", ms(hist_quantile(h, 0.99)), any);
    fputc(',', out);
    json_number(out, "p999", ms(hist_quantile(h, 0.999)), any);
    fputc(',', out);
    json_number(out, "max", ms(h->max), any);
    fputc('}', out);
}

static void json_server(FILE *out, const struct report *r)
{
    double per = per_10k(server_cpu(r), r->t->deliveries_received);
    fprintf(out, "\"server\":{");
    if (r->pid)
        fprintf(out, "\"pid\":%d,", r->pid);
    else
        fprintf(out, "\"pid\":null,");
    json_integer(out, "rss_start_kib", r->s0.rss_kib, r->server);
    fputc(',', out);
    json_integer(out, "rss_kib", r->s1.rss_kib, r->server);
    fputc(',', out);
    json_integer(out, "rss_peak_kib", r->s1.peak_kib, r->server);
    fputc(',', out);
    json_integer(out, "threads", r->s1.threads, r->server);
    fputc(',', out);
    json_number(out, "cpu_ms", server_cpu(r), r->server);
    fputc(',', out);
    json_number(out, "cpu_ms_per_10k", per, r->server && per >= 0);
    fputc('}', out);
}

void report_json(FILE *out, const struct report *r)
{
    const struct engine_totals *t = r->t;
    double lg = per_10k(r->loadgen_cpu_ms, t->deliveries_received);
    fprintf(out,
            "{\"mode\":\"%s\",\"url\":\"%s\",\"room\":\"%s\",\"clients\":%d,\"senders\":%d,"
            "\"messages\":%d,\"window\":%d,\"rate\":%.3f,\"body_bytes\":%d,\"threads\":%d,"
            "\"hold_s\":%.3f,\"clients_joined\":%" PRIu64 ",\"sends_written\":%" PRIu64 ",",
            r->mode, r->url, r->room, r->clients, r->senders, r->messages, r->window, r->rate,
            r->body_bytes, r->threads, r->hold_s, t->clients_joined, t->sends_written);
    fprintf(out,
            "\"deliveries_expected\":%" PRIu64 ",\"deliveries_received\":%" PRIu64
            ",\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"unexpected\":%" PRIu64
            ",\"foreign\":%" PRIu64 ",\"unconfirmed_sends\":%" PRIu64 ",\"acks_expected\":%" PRIu64
            ",\"acks_received\":%" PRIu64 ",\"acks_duplicated\":%" PRIu64 ",",
            t->deliveries_expected, t->deliveries_received, t->lost, t->duplicated, t->unexpected,
            t->foreign, t->unconfirmed, t->acks_expected, t->acks_received, t->acks_duplicated);
    json_errors(out, t);
    fprintf(out, ",\"end\":\"%s\",\"elapsed_s\":%.3f,\"deliveries_per_s\":%.1f,", r->end,
            r->elapsed_s, per_s(r));
    json_latency(out, &t->latency);
    fputc(',', out);
    json_server(out, r);
    fprintf(out, ",\"loadgen_cpu_ms\":%.3f,", r->loadgen_cpu_ms);
    json_number(out, "loadgen_cpu_ms_per_10k", lg, lg >= 0);
    fprintf(out, ",\"passed\":%s}\n", report_passed(r) ? "true" : "false");
}
