/*
 * admin - the console's `lanchat admin add|remove|list`, run on the box
 * beside a running server: marks registered accounts admin (an audit row
 * with actor "console") on the database file itself. Calls options (--db
 * and --config as the server reads them), store (its console functions) and
 * log. Thread rules: main's thread, before anything else is started.
 */
#ifndef LANCHAT_ADMIN_H
#define LANCHAT_ADMIN_H

/* argv[0] is "admin". Returns the process's exit code: 0 done, 1 refused or
 * failed (no such account, database unreadable), 2 a usage error. */
int admin_main(int argc, char **argv);

#endif
