/*
 * proc.h - what loadgen samples about processes: the server's memory,
 * threads and CPU time from /proc/PID, and loadgen's own CPU time from
 * getrusage. Called by main only.
 */
#ifndef LOADGEN_PROC_H
#define LOADGEN_PROC_H

struct proc_sample {
    long rss_kib;  /* VmRSS */
    long peak_kib; /* VmHWM */
    long threads;
    double cpu_ms; /* utime + stime since the process started */
};

/* 0, or -1 when /proc/PID cannot be read (errno says why). */
int proc_sample(int pid, struct proc_sample *out);
/* CPU time (user + system) of this process so far, all threads. */
double proc_self_cpu_ms(void);

#endif
