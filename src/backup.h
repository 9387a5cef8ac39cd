/*
 * backup - the `lanchat backup FILE` and `lanchat restore FILE` commands:
 * their words, the temporary file beside the target, fsync and rename (a
 * failed run never leaves a half-written FILE or database), the refusals.
 * Calls options (--db, --config), store (the SQLite side: snapshot, checks,
 * taking a database off-line), log and libc.
 * Thread rules: main's thread only, instead of the server (main.c
 * dispatches before anything starts).
 */
#ifndef LANCHAT_BACKUP_H
#define LANCHAT_BACKUP_H

/* argv[0] is the command's name ("backup", "restore"). Exit status: 0 done,
 * 1 failed or refused, 2 usage (and, without CHAT_WITH_BACKUPS, always: the
 * build has none). */
int backup_main(int argc, char **argv);
int backup_restore_main(int argc, char **argv);

#endif
