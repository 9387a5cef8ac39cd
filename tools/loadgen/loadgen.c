/*
 * loadgen.c - a WebSocket load generator for lanchat: main and the run's
 * sequence. Parse options, raise RLIMIT_NOFILE, create the engine, then
 * phase by phase: log in, create the room, connect and join, measure (or
 * hold), close and log out; stop the engine, print the report, and exit 0
 * when nothing was lost, 1 when something was, 2 on a usage or set-up error.
 */
#include "engine.h"
#include "http.h"
#include "proc.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define IDLE_END_NS (5 * 1000000000ll) /* no frame and no send for this long: the end */
#define POLL_NS (5 * 1000000)          /* main's look at the workers' progress */

struct options {
    const char *url;
    char room[40];
    int clients, senders, messages, window, body_bytes, threads, pid;
    double rate, hold_s, timeout_s;
    bool burst, idle, json_only, no_join, sync;
};

static const char usage[] =
    "usage: loadgen [--url http://HOST:PORT] [--clients N] [--senders S] [--messages M]\n"
    "               [--rate R | --window W | --burst | --idle [--hold SECONDS]]\n"
    "               [--body-bytes B] [--room NAME] [--pid PID] [--timeout SECONDS]\n"
    "               [--threads T] [--json-only] [--no-join] [--sync] [--help]\n"
    "  --url URL         server, plain http only (default http://127.0.0.1:8080)\n"
    "  --clients N       WebSocket clients, all joined to the room (default 10)\n"
    "  --senders S       the first S clients send (default 1)\n"
    "  --messages M      messages per sender (default 100)\n"
    "  --rate R          R messages/s per sender, open loop (default 0: use the window)\n"
    "  --window W        at most W unacknowledged sends per sender (default 16)\n"
    "  --burst           every client sends its M messages at once, without waiting\n"
    "  --idle            connect and join, send nothing, hold for --hold seconds\n"
    "  --hold SECONDS    idle hold (default 10)\n"
    "  --body-bytes B    message body size in bytes (default 64)\n"
    "  --room NAME       room to join and send to, created if missing (default general)\n"
    "  --pid PID         the server's pid: report its RSS, threads and CPU time\n"
    "  --timeout SECONDS measured phase limit, and limit of each set-up phase (default 60)\n"
    "  --threads T       worker threads, 1..online CPUs (default: online CPUs)\n"
    "  --json-only       print only the JSON line\n"
    "  --no-join         clients do not join the room: senders get acks and no\n"
    "                    deliveries (durable throughput without the fan-out)\n"
    "  --sync            print \"ready\" on stderr before the measured phase and\n"
    "                    \"measured\" after it, each time waiting for a line on\n"
    "                    stdin (to count the server's work in between alone)\n"
    "exit status: 0 all delivered and acked, no disconnects; 1 otherwise; 2 usage or set-up\n";

/* ---- options ------------------------------------------------------------------------ */

static int parse_long(const char *name, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "loadgen: %s wants an integer in %ld..%ld, not \"%s\"\n", name, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_real(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: %s wants a number in %g..%g, not \"%s\"\n", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_room(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32 || n >= cap ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789_.-") != n) {
        fprintf(stderr, "loadgen: --room wants 1-32 characters of A-Z a-z 0-9 _ . -\n");
        return -1;
    }
    memcpy(out, s, n + 1);
    return 0;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static const struct option long_options[] = {{"url", required_argument, NULL, 'u'},
                                             {"clients", required_argument, NULL, 'c'},
                                             {"senders", required_argument, NULL, 's'},
                                             {"messages", required_argument, NULL, 'm'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"window", required_argument, NULL, 'w'},
                                             {"body-bytes", required_argument, NULL, 'b'},
                                             {"room", required_argument, NULL, 'R'},
                                             {"pid", required_argument, NULL, 'p'},
                                             {"burst", no_argument, NULL, 'B'},
                                             {"idle", no_argument, NULL, 'I'},
                                             {"hold", required_argument, NULL, 'H'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"threads", required_argument, NULL, 'T'},
                                             {"json-only", no_argument, NULL, 'j'},
                                             {"no-join", no_argument, NULL, 'J'},
                                             {"sync", no_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

/* 0: parsed; 1: --help was printed; -1: a usage error was printed. */
static int parse_option(int opt, const char *arg, struct options *o)
{
    switch (opt) {
    case 'u':
        o->url = arg;
        return 0;
    case 'c':
        return parse_long("--clients", arg, 1, 100000, &o->clients);
    case 's':
        return parse_long("--senders", arg, 1, 100000, &o->senders);
    case 'm':
        return parse_long("--messages", arg, 1, 10000000, &o->messages);
    case 'r':
        return parse_real("--rate", arg, 0, 1e6, &o->rate);
    case 'w':
        return parse_long("--window", arg, 1, 1000000, &o->window);
    case 'b':
        return parse_long("--body-bytes", arg, 1, ENGINE_MAX_BODY, &o->body_bytes);
    case 'R':
        return parse_room(arg, o->room, sizeof o->room);
    case 'p':
        return parse_long("--pid", arg, 1, 1 << 30, &o->pid);
    case 'B':
        o->burst = true;
        return 0;
    case 'I':
        o->idle = true;
        return 0;
    case 'H':
        return parse_real("--hold", arg, 0, 86400, &o->hold_s);
    case 't':
        return parse_real("--timeout", arg, 0.1, 86400, &o->timeout_s);
    case 'T':
        return parse_long("--threads", arg, 1, online_cpus(), &o->threads);
    case 'j':
        o->json_only = true;
        return 0;
    case 'J':
        o->no_join = true;
        return 0;
    case 'S':
        o->sync = true;
        return 0;
    case 'h':
        fputs(usage, stdout);
        return 1;
    default:
        fputs(usage, stderr);
        return -1;
    }
}

static int digits(long v)
{
    int n = 1;
    while (v >= 10)
        v /= 10, n++;
    return n;
}

/* The body starts "RUNID:sender:seq:ns:"; ns is given 20 digits. */
static int min_body(const struct options *o)
{
    int senders = o->burst ? o->clients : o->senders;
    return ENGINE_RUN_ID_LEN + 1 + digits(senders - 1) + 1 + digits(o->messages - 1) + 1 + 20 + 1;
}

static int check_options(const struct options *o)
{
    if (o->burst + o->idle + (o->rate > 0) > 1) {
        fprintf(stderr, "loadgen: --rate, --burst and --idle exclude each other\n");
        return -1;
    }
    if (!o->burst && !o->idle && o->senders > o->clients) {
        fprintf(stderr, "loadgen: --senders %d exceeds --clients %d\n", o->senders, o->clients);
        return -1;
    }
    if (!o->idle && o->body_bytes < min_body(o)) {
        fprintf(stderr, "loadgen: --body-bytes must be at least %d here (the header)\n",
                min_body(o));
        return -1;
    }
    double bits = (double)o->clients * (o->burst ? o->clients : o->senders) *
                  ((o->messages + 63) / 64) * 64.0;
    if (!o->idle && bits / 8 > 4.0 * 1024 * 1024 * 1024) {
        fprintf(stderr, "loadgen: clients x senders x messages needs over 4 GiB of bitmaps\n");
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.url = "http://127.0.0.1:8080",
                          .room = "general",
                          .clients = 10,
                          .senders = 1,
                          .messages = 100,
                          .window = 16,
                          .body_bytes = 64,
                          .threads = online_cpus(),
                          .hold_s = 10,
                          .timeout_s = 60};
    int opt;
    while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        int rc = parse_option(opt, optarg, o);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "loadgen: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return -1;
    }
    return check_options(o);
}

/* ---- the engine's parameters ----------------------------------------------------------- */

/* http://HOST[:PORT][/], HOST a name or IPv4 address. */
static int parse_url(const char *url, struct engine_params *p)
{
    char hostport[256], name[256];
    const char *rest = url + 7;
    size_t n = strcspn(rest, "/");
    if (strncmp(url, "http://", 7) != 0 || n == 0 || n >= sizeof hostport ||
        (rest[n] && strcmp(rest + n, "/") != 0) || strcspn(rest, "\"\\ ") < n) {
        fprintf(stderr, "loadgen: --url wants http://HOST:PORT (plain http), not \"%s\"\n", url);
        return -1;
    }
    memcpy(hostport, rest, n);
    hostport[n] = '\0';
    char *colon = strrchr(hostport, ':');
    const char *port = colon ? colon + 1 : "80";
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - hostport) : (int)n, hostport);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "loadgen: cannot resolve %s: %s\n", hostport, gai_strerror(rc));
        return -1;
    }
    memcpy(&p->addr, res->ai_addr, sizeof p->addr);
    freeaddrinfo(res);
    snprintf(p->host, sizeof p->host, "%s", hostport);
    return 0;
}

static int make_run_id(char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[ENGINE_RUN_ID_LEN];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        perror("loadgen: getrandom");
        return -1;
    }
    for (int i = 0; i < ENGINE_RUN_ID_LEN; i++)
        out[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    out[ENGINE_RUN_ID_LEN] = '\0';
    return 0;
}

static int make_params(const struct options *o, struct engine_params *p)
{
    memset(p, 0, sizeof *p);
    if (parse_url(o->url, p) != 0 || make_run_id(p->run_id) != 0)
        return -1;
    snprintf(p->room, sizeof p->room, "%s", o->room);
    p->mode = o->idle    ? ENGINE_IDLE
              : o->burst ? ENGINE_BURST
              : o->rate  ? ENGINE_RATE
                         : ENGINE_WINDOW;
    p->clients = o->clients;
    p->senders = o->senders;
    p->messages = o->messages;
    p->window = o->window;
    p->body_bytes = o->body_bytes;
    p->threads = o->threads;
    p->join = !o->no_join;
    p->rate = o->rate;
    p->setup_timeout_ns = (int64_t)(o->timeout_s * 1e9);
    return 0;
}

/* One descriptor per WebSocket, one per set-up request in flight, a few more. */
static int raise_nofile(int clients)
{
    rlim_t need = (rlim_t)clients + ENGINE_SETUP_CONCURRENCY + 64;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        perror("loadgen: getrlimit");
        return -1;
    }
    if (lim.rlim_cur >= need)
        return 0;
    struct rlimit want = {need, lim.rlim_max >= need ? lim.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    fprintf(stderr, "loadgen: %d clients need %llu file descriptors; the hard limit is %llu\n",
            clients, (unsigned long long)need, (unsigned long long)lim.rlim_max);
    return -1;
}

/* ---- the run ------------------------------------------------------------------------- */

static void pause_ns(long ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Starts a set-up phase and waits for every worker to finish it. */
static int run_phase(struct engine *e, enum engine_phase phase, const char *name, double limit_s)
{
    int64_t start = engine_set_phase(e, phase);
    int64_t limit = start + (int64_t)((limit_s + 5) * 1e9);
    struct engine_progress pg;
    for (;;) {
        engine_progress(e, &pg);
        if (pg.phase_done)
            return 0;
        if (engine_now_ns() > limit) {
            fprintf(stderr, "loadgen: the %s phase did not end within %.0f s\n", name, limit_s + 5);
            return -1;
        }
        pause_ns(POLL_NS);
    }
}

static const char *first_token(const struct engine *e, int clients)
{
    for (int i = 0; i < clients; i++)
        if (engine_token(e, i)[0])
            return engine_token(e, i);
    return NULL;
}

/* POST /api/v1/rooms once; 201 made it, 409 it was there. */
static int ensure_room(const struct engine *e, const struct options *o,
                       const struct engine_params *p)
{
    if (strcasecmp(o->room, "general") == 0)
        return 0;
    char json[64], req[1024], resp[4096];
    struct http_response r;
    snprintf(json, sizeof json, "{\"name\":\"%s\"}", o->room);
    int n = http_format(req, sizeof req, "POST", "/api/v1/rooms", p->host,
                        first_token(e, o->clients), "Connection: close\r\n", json);
    if (n < 0 || http_roundtrip(&p->addr, req, (size_t)n, resp, sizeof resp,
                                (int)(o->timeout_s * 1000), &r) != 0) {
        fprintf(stderr, "loadgen: creating room %s: %s\n", o->room, strerror(errno));
        return -1;
    }
    if (r.status == 201 || r.status == 409)
        return 0;
    fprintf(stderr, "loadgen: creating room %s: HTTP %d %.*s\n", o->room, r.status, (int)r.body_len,
            r.body);
    return -1;
}

static bool sample(int pid, struct proc_sample *s)
{
    if (!pid)
        return false;
    if (proc_sample(pid, s) == 0)
        return true;
    fprintf(stderr, "loadgen: cannot read /proc/%d: %s\n", pid, strerror(errno));
    return false;
}

/* Waits until every delivery and ack is in, the traffic stops, or the time is up. */
static const char *watch(struct engine *e, int64_t t0, double timeout_s, int64_t *last)
{
    struct engine_progress pg;
    bool targeted = false;
    for (;;) {
        pause_ns(POLL_NS);
        engine_progress(e, &pg);
        int64_t now = engine_now_ns();
        *last = pg.last_progress_ns > t0 ? pg.last_progress_ns : now;
        if (pg.sends_resolved && pg.unconfirmed == 0 && !targeted) {
            engine_set_target(e, pg.acked);
            targeted = true;
        }
        if (pg.complete)
            return "complete";
        int64_t quiet =
            pg.last_progress_ns > pg.last_send_ns ? pg.last_progress_ns : pg.last_send_ns;
        if (now - (quiet > t0 ? quiet : t0) > IDLE_END_NS)
            return "idle_timeout";
        if (now - t0 > (int64_t)(timeout_s * 1e9)) {
            *last = now;
            return "timeout";
        }
    }
}

static void measure(struct engine *e, const struct options *o, struct report *r)
{
    bool s0 = sample(o->pid, &r->s0);
    double cpu0 = proc_self_cpu_ms();
    int64_t t0 = engine_set_phase(e, ENGINE_MEASURE), end = t0;
    if (o->idle) {
        pause_ns((long)(o->hold_s * 1e9));
        r->end = "hold";
        end = engine_now_ns();
    } else {
        r->end = watch(e, t0, o->timeout_s, &end);
    }
    r->elapsed_s = (double)(end - t0) / 1e9;
    r->server = sample(o->pid, &r->s1) && s0;
    r->loadgen_cpu_ms = proc_self_cpu_ms() - cpu0;
}

/* --sync: tells the caller where the run is and waits for its go-ahead. */
static void handshake(const struct options *o, const char *where)
{
    if (!o->sync)
        return;
    fprintf(stderr, "%s\n", where);
    fflush(stderr);
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') {
    }
}

/* 0: measured; -1: could not get as far (the reason is printed). */
static int run(struct engine *e, const struct options *o, const struct engine_params *p,
               struct report *r)
{
    if (run_phase(e, ENGINE_LOGIN, "login", o->timeout_s) != 0)
        return -1;
    if (!first_token(e, o->clients)) {
        fprintf(stderr, "loadgen: no client could log in\n");
        return -1;
    }
    if (ensure_room(e, o, p) != 0 || run_phase(e, ENGINE_CONNECT, "connect", o->timeout_s) != 0)
        return -1;
    handshake(o, "ready");
    measure(e, o, r);
    handshake(o, "measured");
    if (run_phase(e, ENGINE_TEARDOWN, "logout", o->timeout_s) != 0)
        fprintf(stderr, "loadgen: some sessions may still be logged in\n");
    return 0;
}

static void fill_report(struct report *r, const struct options *o, const struct engine_totals *t)
{
    static const char *const modes[] = {"window", "rate", "burst", "idle"};
    r->mode = modes[o->idle ? 3 : o->burst ? 2 : o->rate > 0 ? 1 : 0];
    r->url = o->url;
    r->room = o->room;
    r->clients = o->clients;
    r->senders = o->idle ? 0 : o->burst ? o->clients : o->senders;
    r->messages = o->idle ? 0 : o->messages;
    r->window = o->window;
    r->body_bytes = o->body_bytes;
    r->threads = o->threads < o->clients ? o->threads : o->clients;
    r->pid = o->pid;
    r->rate = o->rate;
    r->hold_s = o->idle ? o->hold_s : 0;
    r->t = t;
}

static int finish(const struct options *o, struct report *r, const struct engine_totals *t)
{
    fill_report(r, o, t);
    if (!o->json_only)
        report_table(stdout, r);
    report_json(stdout, r);
    fflush(stdout);
    return report_passed(r) ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct options o;
    struct engine_params p;
    struct engine *e = NULL;
    struct report r = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (make_params(&o, &p) != 0 || raise_nofile(o.clients) != 0)
        return 2;
    struct engine_totals *t = calloc(1, sizeof *t);
    int status = 2;
    if (!t || engine_create(&e, &p) != 0 || engine_start(e) != 0) {
        perror("loadgen: starting the workers");
        goto out;
    }
    int ran = run(e, &o, &p, &r);
    engine_stop(e);
    if (engine_totals(e, t) != 0) {
        perror("loadgen: tallying");
        goto out;
    }
    if (ran == 0)
        status = finish(&o, &r, t);
    else
        report_failures(stderr, t);
out:
    if (e)
        engine_stop(e);
    engine_destroy(e);
    free(t);
    return status;
}
