#!/usr/bin/env python3
"""Search on a big database: fills one with N messages (default 1,000,000)
through the sqlite3 CLI (the FTS5 index kept by the schema's triggers, as the
server's inserts keep it), then measures with the real binary:

- the migration that builds the index for a database made before it (the
  index and triggers dropped, user_version one back; the server's start-up);
- the index's size on disk (dbstat, the messages_fts shadow tables);
- GET /api/v1/search for a rare word, a common word, a prefix, a phrase and
  a common word in one room: the median of --runs requests each.

    python3 tests/bench/search.py --bin build/desktop/lanchat [--messages 1000000] [--runs 5]

Bodies are 8 words drawn from a vocabulary of 20,000 (w0..w19999, w0 the
most frequent: the index of word k is floor(20000 * r^3), r uniform), in 16
rooms. Prints one line per measure.
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Server, uname  # noqa: E402

ROOMS = 16


def sqlite(db, sql):
    return subprocess.run(["sqlite3", db], input=sql, text=True, check=True,
                          capture_output=True).stdout


def fill(db, n):
    word = "'w' || CAST(20000 * (abs(random()) / 9223372036854775807.0) *" \
           " (abs(random()) / 9223372036854775807.0) * (abs(random()) / 9223372036854775807.0)" \
           " AS INTEGER)"
    rooms = "".join("INSERT OR IGNORE INTO rooms (name, created) VALUES ('room%d', 0);" % i
                    for i in range(1, ROOMS)) + \
        "INSERT OR IGNORE INTO rooms (name, created) VALUES ('quiet', 0);"
    sqlite(db, "PRAGMA journal_mode=WAL;" + rooms +
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
           " INSERT INTO messages (room_id, author, body, ts)"
           " SELECT 1 + i %% %d, 'bench', %s, 1700000000000 + i FROM n;"
           % (n, ROOMS, " || ' ' || ".join([word] * 8)))
    # the server's writer indexes what it adds (schema step 9); rows added
    # behind its back are indexed as migration 4 does
    sqlite(db, "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');")


def index_bytes(db):
    out = sqlite(db, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%';"
                     "SELECT sum(pgsize) FROM dbstat;")
    fts, total = (int(x) for x in out.split())
    return fts, total


def timed_search(srv, token, runs, **params):
    path = "/api/v1/search?" + urllib.parse.urlencode(params)
    times, body = [], None
    for _ in range(runs):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        raw = r.read()
        times.append(time.perf_counter() - t0)
        conn.close()
        body = json.loads(raw)
        if r.status != 200:
            return statistics.median(times), r.status, body["error"]["message"]
    return statistics.median(times), len(body["messages"]), body["has_more"]


def posts_during_broad_searches(srv, token, searches=10):
    """Whether a search that outgrows SQLite's heap (shared by every
    connection) makes the writer's commits fail meanwhile."""
    stop = threading.Event()
    results = []

    def poster():
        i = 0
        while not stop.is_set():
            r = srv.post("/api/v1/rooms/general/messages", {"body": "during %d" % i}, token=token)
            results.append(r.status)
            i += 1

    thread = threading.Thread(target=poster)
    thread.start()
    statuses = [timed_search(srv, token, 1, q="w1*")[1] for _ in range(searches)]
    stop.set()
    thread.join()
    refused = sum(1 for s in results if s != 201)
    print("writes during %d too-broad searches (HTTP %s): %d posts, %d refused"
          % (searches, sorted(set(statuses)), len(results), refused))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/desktop/lanchat")
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ["LANCHAT_BIN"] = os.path.abspath(args.bin)
    harness.READY_TIMEOUT = 600.0  # the start that migrates builds the whole index

    srv = Server(label="bench-search")
    try:
        srv.stop()
        t0 = time.perf_counter()
        fill(srv.db, args.messages)
        print("fill: %d messages and their index in %.1f s"
              % (args.messages, time.perf_counter() - t0))
        sqlite(srv.db, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        fts, total = index_bytes(srv.db)
        print("size: index %.1f MiB of a %.1f MiB database (%.0f bytes a message)"
              % (fts / 2 ** 20, total / 2 ** 20, fts / args.messages))

        # what migration 4 does to an existing database: the whole index
        # built again from the rows (the server's start waits for it)
        sqlite(srv.db, "INSERT INTO messages_fts(messages_fts) VALUES ('delete-all'); VACUUM;")
        t0 = time.perf_counter()
        sqlite(srv.db, "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');")
        print("migration: building the index of %d messages took %.1f s (migration 4's rebuild)"
              % (args.messages, time.perf_counter() - t0))
        srv.start()
        sqlite(srv.db, "PRAGMA wal_checkpoint(TRUNCATE);")
        fts2, _ = index_bytes(srv.db)
        print("size after the migration: index %.1f MiB" % (fts2 / 2 ** 20))

        token = srv.session(uname("bench"))
        cases = [("rare word", {"q": "w9000"}), ("common word", {"q": "w0"}),
                 ("common word, limit 200", {"q": "w0", "limit": 200}),
                 ("prefix w1999*", {"q": "w1999*"}), ("prefix w1*", {"q": "w1*"}),
                 ("phrase of two common words", {"q": '"w0 w1"'}),
                 ("two words", {"q": "w5 w7"}),
                 ("common word in one room", {"q": "w0", "room": "room3"}),
                 ("rare word in one room", {"q": "w9000", "room": "room3"}),
                 ("common word, room without it", {"q": "w0", "room": "quiet"}),
                 ("absent word", {"q": "nosuchword"})]
        for label, params in cases:
            median, count, more = timed_search(srv, token, args.runs, **params)
            if isinstance(more, str):
                print("query %-28s %8.1f ms  (HTTP %d: %s)" % (label + ":", median * 1000, count,
                                                               more))
                continue
            print("query %-28s %8.1f ms  (%d messages, has_more %s; median of %d)"
                  % (label + ":", median * 1000, count, more, args.runs))
        posts_during_broad_searches(srv, token)
    finally:
        srv.close()


if __name__ == "__main__":
    sys.exit(main())
