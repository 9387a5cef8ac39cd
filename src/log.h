/*
 * log - one line per event on stderr: "<UTC time> <level> <module>: <message>".
 * The module is a parameter: each .c that logs defines LOG_MODULE (its own
 * name) before including this header, and the macros pass it; a message
 * never spells its module. Owns nothing but the level threshold. Calls only
 * libc.
 * Thread rules: any thread; each line is written with one write(2).
 */
#ifndef LANCHAT_LOG_H
#define LANCHAT_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Whether lines of `level` are written (to skip building a debug line): one
 * load and one comparison, so a debug line costs one branch when it is off. */
extern enum log_level log_threshold;
static inline int log_enabled(enum log_level level)
{
    return level >= log_threshold;
}
void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_write(LOG_DEBUG, LOG_MODULE, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, LOG_MODULE, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, LOG_MODULE, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, LOG_MODULE, __VA_ARGS__)

#endif
