/*
 * proc.c - reads /proc/PID/status and /proc/PID/stat for proc_sample(),
 * and getrusage(RUSAGE_SELF) for loadgen's own CPU time (proc.h).
 */
#include "proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int read_status(int pid, struct proc_sample *out)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    out->rss_kib = out->peak_kib = out->threads = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            out->rss_kib = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            out->peak_kib = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "Threads:", 8) == 0)
            out->threads = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return 0;
}

/* utime and stime are fields 14 and 15; the command name (field 2) may
 * hold spaces and parentheses, so count from the last ')'. */
static int read_stat(int pid, struct proc_sample *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) {
        errno = EPROTO;
        return -1;
    }
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2) {
        errno = EPROTO;
        return -1;
    }
    out->cpu_ms = (double)(utime + stime) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

int proc_sample(int pid, struct proc_sample *out)
{
    if (read_status(pid, out) != 0 || read_stat(pid, out) != 0)
        return -1;
    return 0;
}

double proc_self_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}
