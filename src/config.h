/*
 * config.h - every compile-time option of lanchat, with its default.
 *
 * A board profile (board/<name>/board.mk) overrides any of these with -D;
 * nothing else in the tree defines a size or a feature switch (a constant
 * with one user may be named beside it). Costs are measured on x86-64
 * (gcc 12, -Os) unless stated; RAM is what the option reserves at boot,
 * touched or not. `make [BOARD=x] config` prints every value a build sees,
 * `make [BOARD=x] cost-table` what each feature switch costs in code, and
 * `lanchat --version` each pool's count and block size. The check block at
 * the end refuses combinations that cannot work.
 */
#ifndef LANCHAT_CONFIG_H
#define LANCHAT_CONFIG_H

#define CHAT_VERSION "0.1.0"

/* ---- Feature switches (1 = built in, 0 = code removed) ---------------- */
/* Each states its code: size(1) of the desktop binary with every feature
 * against the one with that switch alone off (`make cost-table`, gcc 12 -Os,
 * x86-64, 2026-12; armel, `make BOARD=rpi-zero cost-table`: accounts 1,124,
 * rooms 716, metrics 2,152, embedded web 33,317, TLS 14,909, MQTT 14,154
 * bytes of text; MQTT at its first commit, before the receive batch).
 * FLAGS=minimal turns every switch off. */

/* Registered accounts with argon2id passwords (POST /api/v1/users).
 * Off: everyone is a nickname user; libsodium is still used for tokens.
 * Costs 1,376 bytes of text and 8 of data; no RAM. */
#ifndef CHAT_WITH_ACCOUNTS
#define CHAT_WITH_ACCOUNTS 1
#endif

/* More rooms than "general" (POST /api/v1/rooms). Off: one room.
 * Costs 1,118 bytes of text; its RAM is CHAT_MAX_ROOMS' (off, that is 1):
 * 511,040 bytes of bss at desktop's profile, mostly each I/O thread's member
 * lists, and a feed (CHAT_FEED_BYTES of address space) per room. A board
 * that sets CHAT_MAX_ROOMS keeps them when the switch is off (rpi-zero: 16
 * rooms, +0 bss). */
#ifndef CHAT_WITH_ROOMS
#define CHAT_WITH_ROOMS 1
#endif

/* GET /metrics in Prometheus text format. Counters are kept either way
 * (they are a few words); only the exporter is removed. Costs 2,302 bytes
 * of text and 32 of data; its text is written into the request's pool
 * block, no RAM of its own. */
#ifndef CHAT_WITH_METRICS
#define CHAT_WITH_METRICS 1
#endif

/* Web client compiled into the binary, gzip-compressed at build time
 * (web/ through tools/embed.c): costs the compressed size of web/ and its
 * table in the binary: 34,880 bytes of text and 736 of data for the client
 * of 2026-12 (15 files, 42,965 bytes gzipped), no RAM beyond it. Off: the
 * client is served from --web-root (default ./web), uncompressed. */
#ifndef CHAT_WITH_EMBEDDED_WEB
#define CHAT_WITH_EMBEDDED_WEB 1
#endif

/* HTTPS and WSS (--tls-port, default CHAT_TLS_PORT; docs/SECURITY.md,
 * "HTTPS"): a local CA and a server certificate made at first start, the
 * plain-HTTP redirect, GET /ca.crt and /api/v1/trust. WSS connections are
 * served by the I/O threads like plain ones. Needs OpenSSL 3 (libssl3) and
 * lanchat's two small compatibility libraries (src/compat/). Off: no
 * OpenSSL at all. Measured (x86-64): 17,503 bytes of text, 1,016 of data,
 * 10,144 of bss (armel, rpi-zero: 14,909, 508 and 10,100); a tlsconn pool
 * block per client slot (16,400 bytes of address space, a page touched);
 * idle RSS +1.6 MB with TLS built in and +5.1 MB with HTTPS on; 23.7 KiB of
 * RSS per WSS connection against 2.2 KiB plain; 0.82 ms of server CPU per
 * full handshake (P-256). */
#ifndef CHAT_WITH_TLS
#define CHAT_WITH_TLS 1
#endif
/* Appliances that share rooms through an MQTT broker, and devices that post
 * into rooms (--mqtt URL; docs/MQTT.md): a libmosquitto client driven by one
 * thread of ours (lanchat-mqtt, two broker connections), the outbox table,
 * the mirrored messages' columns. Needs libmosquitto1. Without --mqtt at run
 * time nothing of it runs. Measured on 5672fb2 (size(1) against
 * FLAGS=no-mqtt, docs/MQTT.md "Cost"): 16,102 bytes of text, 1,936 of data,
 * 122,624 of bss (the thread's JSON arena, payload buffers and
 * CHAT_MQTT_RECEIVE_BATCH jobs, untouched without --mqtt); stripped binary
 * +13,920 B (x86-64), +18,008 B (armel, rpi-zero). Idle RSS: 7,144 KiB
 * without the feature, 7,280 KiB built in, 7,388 KiB with --mqtt connected.
 * On for every board, rpi-zero included: a quarter MB of its 512 MiB. */
#ifndef CHAT_WITH_MQTT
#define CHAT_WITH_MQTT 1
#endif
/* Moderation (docs/API.md "Moderation"): accounts marked admin from the box
 * (`lanchat admin add|remove|list`), who may delete anyone's message and
 * read the audit log (GET /api/v1/admin/audit). Needs CHAT_WITH_ACCOUNTS
 * (an admin is a registered account). Off: no admin routes, no "admin" in
 * the session, no `lanchat admin`; the schema (users.admin, audit, mutes,
 * bans, rooms.read_only and topic) is the same either way. Costs 18,619
 * bytes of text, 512 of data and 3,072 of bss (the mutes table,
 * CHAT_MAX_MUTES) on desktop; 16,856 of text, 244 of data and 3,072 of bss
 * on rpi-zero (armel) (`make [BOARD=rpi-zero] cost-table` on 7b02941:
 * size(1) against FLAGS=no-moderation, gcc 12 -Os; every board: README.md's
 * table under the boards'); the page's admin view is in every build. A room's topic and flag are in
 * its pool block either way (CHAT_TOPIC_MAX): with them and the direct members the room block grew
 * from 48 to 312 bytes, and the largest hello they allow grew each
 * connbuf block from 78,464 to 92,224 bytes (desktop, `lanchat --version`
 * of 03967dc against f309951: 14 MB more address space over 1024 slots,
 * touched only by a hello that large). On for every board. */
#ifndef CHAT_WITH_MODERATION
#define CHAT_WITH_MODERATION CHAT_WITH_ACCOUNTS
#endif
/* Users muted at once (POST /api/v1/admin/mutes, and those loaded at boot); each entry is
 * CHAT_NAME_MAX + 9 bytes of the hub's bss (64 entries: ~2.6 KB). */
#ifndef CHAT_MAX_MUTES
#define CHAT_MAX_MUTES 64
#endif
/* Longest mute, seconds (a day). */
#ifndef CHAT_MUTE_MAX_S
#define CHAT_MUTE_MAX_S 86400
#endif
/* Bans (of names and client addresses together, POST /api/v1/admin/bans)
 * and, apart, reserved names (POST /api/v1/admin/reserved) stored at most:
 * a new one beyond is refused 503. They live in the database (table bans)
 * and a login reads them there, so this bounds no RAM: it keeps each list
 * (at most ~128 bytes of JSON a row) inside one request block. */
#ifndef CHAT_MAX_BANS
#define CHAT_MAX_BANS 64
#endif
/* A room's topic at most, UTF-8 bytes (PATCH /api/v1/rooms/{room}): kept in
 * each room's pool block (CHAT_MAX_ROOMS of them), and it widens the hello
 * and the rooms list by up to twice as much per room (escaped), and so each
 * connbuf block: at 200 and the desktop profile, room blocks 48 -> 248 bytes
 * and connbuf blocks 78,464 -> 92,224 bytes of address space (`lanchat
 * --version` before and after), touched only by a hello that large. */
#ifndef CHAT_TOPIC_MAX
#define CHAT_TOPIC_MAX 200
#endif
/* Rows of the audit log per GET /api/v1/admin/audit page at most: each is
 * at most ~260 bytes of JSON, written into the request block (CHAT_MAX_REQUEST). */
#ifndef CHAT_AUDIT_PAGE_MAX
#define CHAT_AUDIT_PAGE_MAX 50
#endif
/* QoS 1 publishes of the outbox in flight at once (unacknowledged): more
 * keeps a distant broker busy, each is a payload libmosquitto keeps until
 * its PUBACK (at most MIRROR_PAYLOAD_MAX bytes; 12,5 KB). */
#ifndef CHAT_MQTT_INFLIGHT
#define CHAT_MQTT_INFLIGHT 32
#endif
/* Packets taken from the broker per read: their messages share the store's
 * commits, and their PUBACKs leave once all are committed. Each is a
 * store_job (2,208 bytes of bss on x86-64, touched only with --mqtt). */
#ifndef CHAT_MQTT_RECEIVE_BATCH
#define CHAT_MQTT_RECEIVE_BATCH 32
#endif
/* Seconds between MQTT keepalives: a broker gone is noticed after 1.5x. */
#ifndef CHAT_MQTT_KEEPALIVE_S
#define CHAT_MQTT_KEEPALIVE_S 30
#endif
/* Reconnection: first wait and the longest (doubling between them). */
#ifndef CHAT_MQTT_RECONNECT_MIN_S
#define CHAT_MQTT_RECONNECT_MIN_S 1
#endif
#ifndef CHAT_MQTT_RECONNECT_MAX_S
#define CHAT_MQTT_RECONNECT_MAX_S 30
#endif
/* Full-text search of message bodies (GET /api/v1/search; docs/API.md,
 * "Search"): SQLite FTS5 queries of the messages_fts index. The index itself
 * is schema (a migration builds it, triggers keep it), kept whether or not
 * the switch is on, so a database moves between builds unharmed; off, only
 * the route and its reader statement are removed. Needs an SQLite with FTS5
 * (Debian's has it). Costs 2,120 bytes of text, no data or bss on desktop,
 * 2,140 of text, 4 of data and 8 of bss on rpi-zero (armel) (`make
 * [BOARD=rpi-zero] cost-table` on 7b02941: size(1) against FLAGS=no-search;
 * every board: README.md's table under the boards');
 * no RAM of its own: the query is on the request's stack, its page in the
 * request's block. On disk the index is 42 bytes a message (39.9 MiB of a
 * 120.7 MiB database of 1,000,000 messages, `make bench-search`). Its
 * upkeep is the writer's, whatever the switch: a segment a transaction,
 * 222,610 instructions a stored message at one a commit against 72,248
 * without an index, 57,173 with 8 senders of window 8 (`make bench-instr`,
 * `tests/bench/instr.py --batched`; docs/PERFORMANCE.md). On for
 * every board. */
#ifndef CHAT_WITH_SEARCH
#define CHAT_WITH_SEARCH 1
#endif
/* Direct conversations (POST /api/v1/direct; docs/API.md, "Direct
 * messages"): a room `@<id>` of two members, its only readers, kept in the
 * room pool (CHAT_MAX_ROOMS). Needs CHAT_WITH_ROOMS (without it the pool
 * holds general alone). Off: the route is a 404, stored direct rooms are not
 * loaded (no one reads them; the schema's rooms.member_a/member_b stay), and
 * a room's block keeps its member names (always ""). Costs 2,264 bytes of
 * text, no data or bss on desktop; 1,888 of text and 24 of data on rpi-zero
 * (armel) (`make [BOARD=rpi-zero] cost-table` on 7b02941: size(1) against
 * FLAGS=no-direct; every board: README.md's table under the boards'); no pool
 * of its own. On for every board. */
#ifndef CHAT_WITH_DIRECT
#define CHAT_WITH_DIRECT CHAT_WITH_ROOMS
#endif
/* Typing indicators ({"type":"typing"} frames over the WebSocket; docs/API.md):
 * relayed through the room's feed, never stored, rate-limited by
 * CHAT_TYPING_INTERVAL_MS. Off: a typing frame is answered like any unknown
 * frame type (an error frame, the connection stays open) and each connection
 * slot drops its per-room timestamps (CHAT_MAX_ROOMS int64_t). Costs 602
 * bytes of text on desktop, 484 on rpi-zero (armel) (`make [BOARD=rpi-zero]
 * cost-table`, as CHAT_WITH_DIRECT's), and the timestamps: the conn block
 * 1,456 -> 1,712 bytes on desktop (32 rooms), 840 -> 968 on rpi-zero (16
 * rooms), 1,384 -> 1,640 on rpi3 (`lanchat --version` of FLAGS=no-typing and
 * the full build, the ARM ones under qemu-user; every board: README.md's
 * table under the boards'). On for every board. */
#ifndef CHAT_WITH_TYPING
#define CHAT_WITH_TYPING 1
#endif
/* Backups (README.md, "Backups"): `lanchat backup FILE`
 * and `lanchat restore FILE` from the box and, with CHAT_WITH_MODERATION, an
 * admin's GET /api/v1/admin/backup. Off: both commands say the build has no
 * backups (exit 2) and the route is a 404; a copy of the stopped server's
 * file is then the way. Costs 7,950 bytes of text, 112 of data and 512 of
 * bss on desktop; 7,699 of text, 52 of data and 256 of bss on rpi-zero
 * (armel) (`make [BOARD=rpi-zero] cost-table`, as CHAT_WITH_DIRECT's); no
 * RAM at run time but the copy's SQLite connections while one is made. On
 * for every board. */
#ifndef CHAT_WITH_BACKUPS
#define CHAT_WITH_BACKUPS 1
#endif
/* Longest search query in bytes (its q= parameter, decoded): a longer one
 * is a 400. */
#ifndef CHAT_SEARCH_QUERY_MAX
#define CHAT_SEARCH_QUERY_MAX 256
#endif

/* Default of --tls-port (the package sets 443 in /etc/lanchat.conf). */
#ifndef CHAT_TLS_PORT
#define CHAT_TLS_PORT 8443
#endif

/* ---- Pool and buffer sizes (all reserved once, at boot) --------------- */

/* Simultaneous WebSocket clients. No thread waits on a WebSocket: once its
 * handshake is done the socket belongs to an I/O thread. Each client
 * reserves a block of four pools (`lanchat --version`): a connection slot
 * (conn, struct deliver_conn), its buffers (connbuf, struct
 * deliver_buffers: DELIVER_IN_MAX + CHAT_MAX_REQUEST + 1 + DELIVER_OUT_MAX
 * bytes, of which a client that keeps up touches a few pages), a hub client
 * (client) and, with CHAT_WITH_TLS, a WSS block (tlsconn); and in each I/O
 * thread's static data its member lists and queues (CHAT_MAX_ROOMS + 5
 * pointers). It widens the largest hello (CHAT_HELLO_SIZE) by CHAT_NAME_MAX
 * + 3 bytes, and so each connbuf block too. Measured (x86-64, desktop
 * profile of 1024): conn 1,456 + connbuf 78,464 + client 80 + tlsconn
 * 16,400 = 96,400 bytes of address space per slot (80,000 without TLS),
 * plus 296 bytes in each I/O thread; 6.9 KiB of RSS per idle connection
 * (S3 of docs/PERFORMANCE.md). */
#ifndef CHAT_MAX_CLIENTS
#define CHAT_MAX_CLIENTS 64
#endif

/* WebSockets one session, and one client address, may hold open at once
 * (tabs and devices of one user; the devices behind one address); one more
 * is refused before its handshake with 429 (rate_limited). So one session
 * cannot take every slot of CHAT_MAX_CLIENTS. Costs one pass over the slots
 * per handshake and the client's address in each slot (AUTH_ADDR_MAX + 1 =
 * 48 bytes of struct deliver_conn, the conn block of `lanchat --version`). */
#ifndef CHAT_WS_PER_SESSION
#define CHAT_WS_PER_SESSION 8
#endif
#ifndef CHAT_WS_PER_ADDR
#define CHAT_WS_PER_ADDR (CHAT_MAX_CLIENTS / 8 > 16 ? CHAT_MAX_CLIENTS / 8 : 16)
#endif

/* Civetweb worker threads: they serve HTTP requests and WebSocket
 * handshakes, one connection at a time, and all start at boot. Each is a
 * 100 KiB stack (Debian's build of civetweb), 12.4 KiB resident when idle and
 * about 31 KiB once it has served requests, a glibc malloc arena of 12-16 KiB,
 * and a request pool block (49,264 bytes of address space: a body of
 * CHAT_MAX_REQUEST + 1 and a CHAT_JSON_ARENA, `lanchat --version`). */
#ifndef CHAT_HTTP_THREADS
#define CHAT_HTTP_THREADS 8
#endif

/* ---- Connections (gate.c): no address can hold the workers ------------ */
/* gate.c is 4,521 bytes of code (size(1) of gate.o, desktop), one watchdog
 * thread (CHAT_THREAD_STACK) and its table (CHAT_CONN_TOTAL below). */

/* Connections of one client address civetweb holds at once (in its queue
 * or on a worker: taken-over WebSockets do not count), once half of the
 * CHAT_HTTP_THREADS are held (below that an address may use the spare
 * workers). More are answered 503 at accept (closed, on the TLS port). A
 * browser opens at most 6 to one host. Must leave other addresses at least
 * 2 workers. Costs nothing: the table below is counted. */
#ifndef CHAT_CONN_PER_ADDR
#define CHAT_CONN_PER_ADDR 6
#endif

/* Connections civetweb holds at once from all addresses (its queue holds as
 * many, so accepting never waits for a worker); more are refused like the
 * above. A burst of 100 browsers logging in at once (S9) waits in the
 * queue. Each is a 40-byte entry in gate's table and a 40-byte slot of
 * civetweb's queue. */
#ifndef CHAT_CONN_TOTAL
#define CHAT_CONN_TOTAL (4 * CHAT_HTTP_THREADS + 64)
#endif

/* Requests of one address in progress at once (from their headers to their
 * reply), once half of the workers are in requests; more are answered 503
 * (Retry-After: 1). Bounds the workers one address keeps in
 * argon2id or in reading bodies. */
#ifndef CHAT_REQUESTS_PER_ADDR
#define CHAT_REQUESTS_PER_ADDR 4
#endif

/* Milliseconds a connection may take to deliver a whole request, headers
 * and body, counted from its accept (the TLS handshake included) or from
 * the end of its previous request; then it is shut down without a reply.
 * civetweb's own request_timeout_ms restarts with every read of a body. */
#ifndef CHAT_REQUEST_READ_MS
#define CHAT_REQUEST_READ_MS 10000
#endif

/* I/O threads: epoll loops that read, and write to, every WebSocket. One
 * is enough for a single-core board; more spread the delivery over cores.
 * Each is a CHAT_IO_STACK stack and, in static data, its assembly buffer
 * (CHAT_IO_BUFFER), a CHAT_JSON_ARENA, and member lists (CHAT_MAX_ROOMS x
 * CHAT_MAX_CLIENTS pointers), touched as they are used: 451,104 bytes at
 * desktop's profile (sizeof(struct io_thread), gdb). */
#ifndef CHAT_IO_THREADS
#define CHAT_IO_THREADS 2
#endif

/* Rooms, "general" included. Without CHAT_WITH_ROOMS only one is used.
 * At most 64 (a client's joined rooms are a 64-bit mask). Direct
 * conversations (POST /api/v1/direct) take slots of this same table: a room
 * slot costs its feed and a member list per I/O thread whatever it holds, and
 * the joined mask bounds both kinds together, so a budget of their own would
 * cost as much per slot and still be bound by 64. Without CHAT_WITH_ROOMS
 * (one slot) no direct conversation can be made. A slot's hub_room is 112
 * bytes with the two member names (48 without; sizeof at desktop's and
 * rpi-zero's profiles, gcc 12 x86-64), and each direct room widens the
 * largest hello (CHAT_HELLO_SIZE, so each client's queue DELIVER_OUT_MAX) by
 * CHAT_NAME_MAX + 12 bytes of "direct": +1,408 bytes per client slot at
 * desktop's profile, +704 at rpi-zero's (computed from the macros). Direct
 * conversations, the page's part included, cost 4,514 bytes of text and 64
 * of data, no bss (size(1) of build/desktop/lanchat against 2cad569's). */
#ifndef CHAT_MAX_ROOMS
#if CHAT_WITH_ROOMS
#define CHAT_MAX_ROOMS 32
#else
#define CHAT_MAX_ROOMS 1
#endif
#endif

/* Largest message body in bytes of UTF-8. */
#ifndef CHAT_MAX_BODY
#define CHAT_MAX_BODY 2000
#endif

/* Bytes of each feed: the ring of encoded frames (messages, deletions) of
 * one room, and of presence, that every member reads at its own pace. A
 * client more than this behind in a feed is a slow consumer (close 1008),
 * so it bounds both the burst a room absorbs (S9: 300 clients x 3 messages
 * of ~250 bytes = 225 KiB) and the memory a stalled client can hold: none
 * of its own. Costs (CHAT_MAX_ROOMS + 1) x CHAT_FEED_BYTES of address space,
 * reserved at boot; a feed's pages become resident as its room's traffic
 * fills them, so a busy room costs its whole feed of RAM, a quiet one
 * nearly nothing. */
#ifndef CHAT_FEED_BYTES
#define CHAT_FEED_BYTES (512 * 1024)
#endif

/* Bytes of replies (acks, errors, pongs) a client may have waiting behind
 * the rest of a frame its socket took a part of, before it counts as a slow
 * consumer. */
#ifndef CHAT_CLIENT_QUEUE_BYTES
#define CHAT_CLIENT_QUEUE_BYTES 8192
#endif

/* Sends a client may have waiting for their commit; beyond it lanchat stops
 * reading that socket until acks catch up (TCP pushes back on the sender). */
#ifndef CHAT_CLIENT_INFLIGHT
#define CHAT_CLIENT_INFLIGHT 32
#endif

/* Milliseconds a client may take no byte at all while frames wait for it
 * before it counts as a slow consumer (close 1008). A healthy client behind
 * a burst keeps taking bytes; one that stopped reading does not. */
#ifndef CHAT_STALL_MS
#define CHAT_STALL_MS 10000
#endif

/* SO_SNDBUF of each WebSocket (the kernel doubles it for its bookkeeping):
 * the kernel memory a stalled client can hold; 0 leaves the kernel's
 * autotuning (up to 4 MiB each on Linux). */
#ifndef CHAT_SOCKET_SNDBUF
#define CHAT_SOCKET_SNDBUF (32 * 1024)
#endif

/* Bytes an I/O thread assembles for one write to one socket (its buffer is
 * reserved once per thread); at least the largest hello. */
#ifndef CHAT_IO_BUFFER
#define CHAT_IO_BUFFER (64 * 1024)
#endif

/* Live sessions (nickname and registered) held in memory; each 168 B on
 * x86-64 (lanchat --version; 104 B before the limits below, which added its
 * client address and its order of use). */
#ifndef CHAT_MAX_SESSIONS
#define CHAT_MAX_SESSIONS 256
#endif

/* ---- Session and login limits (no lockout by exhaustion) -------------- */
/* See docs/SECURITY.md, "Limits". Their code is 2.7 KB (auth.o text 3,333
 * -> 6,011 bytes, gcc 12 -Os, x86-64; the whole binary 105,578 -> 110,725
 * with the CORS, header and text changes of the same issue); no memory of
 * their own but the throttle tables below and 64 B per session (its client
 * address, 48 B, and its orders of use and of login, 8 B each: gdb). */

/* Sessions one account may hold; its next login evicts its oldest (row
 * deleted, WebSockets closed). A nickname holds one session by nature. */
#ifndef CHAT_SESSIONS_PER_USER
#define CHAT_SESSIONS_PER_USER 8
#endif

/* Sessions created from one client address; the next login from it evicts
 * the least recently used of them. --sessions-per-address N overrides (0:
 * no cap, for load tests from one address or a proxy on the box). */
#ifndef CHAT_SESSIONS_PER_ADDR
#define CHAT_SESSIONS_PER_ADDR 16
#endif

/* Nickname sessions at most: the rest of the pool is for accounts. A
 * nickname login beyond it evicts the least recently used nickname session
 * with no WebSocket, or is refused (503); an account's login finds room
 * always (a nickname session gives way first). */
#ifndef CHAT_NICK_SESSIONS
#define CHAT_NICK_SESSIONS (CHAT_MAX_SESSIONS * 3 / 4)
#endif

/* Login throttle: failed logins are counted per client address and per
 * name, each in a table of this many entries (hashed with a key drawn at
 * boot; 32 B each, two tables: 16 KiB of static data at the default). After
 * CHAT_LOGIN_FREE_FAILURES failures in a row, each further attempt waits
 * 1, 2, 4 ... up to CHAT_LOGIN_BACKOFF_MAX_S seconds (answered 429 with
 * Retry-After before any password hashing); a success resets the count,
 * CHAT_LOGIN_FORGET_S without a failure forgets it. One password hash at a
 * time per address (more: 429). */
#ifndef CHAT_LOGIN_TABLE
#define CHAT_LOGIN_TABLE 256
#endif
#ifndef CHAT_LOGIN_FREE_FAILURES
#define CHAT_LOGIN_FREE_FAILURES 3
#endif
#ifndef CHAT_LOGIN_BACKOFF_MAX_S
#define CHAT_LOGIN_BACKOFF_MAX_S 60
#endif
#ifndef CHAT_LOGIN_FORGET_S
#define CHAT_LOGIN_FORGET_S (15 * 60)
#endif

/* Largest HTTP request body and largest incoming WebSocket message. */
#ifndef CHAT_MAX_REQUEST
#define CHAT_MAX_REQUEST 16384
#endif

/* Messages the writer thread commits in one transaction at most, and
 * write requests that may wait for it (more: 503 / error "unavailable"). */
#ifndef CHAT_WRITE_BATCH
#define CHAT_WRITE_BATCH 64
#endif
#ifndef CHAT_WRITE_QUEUE
#define CHAT_WRITE_QUEUE 256
#endif

/* WAL pages after which a helper thread copies them into the database file
 * beside the writer (SQLite's default point; SQLite itself would do it
 * inside a COMMIT, before its acks); at twice as many the writer finishes
 * the copy between two batches. */
#ifndef CHAT_CHECKPOINT_PAGES
#define CHAT_CHECKPOINT_PAGES 1000
#endif

/* SQLite's heap limit in bytes (sqlite3_hard_heap_limit64). */
#ifndef CHAT_SQLITE_HEAP_LIMIT
#define CHAT_SQLITE_HEAP_LIMIT (8 * 1024 * 1024)
#endif

/* Stacks of lanchat's own threads: the store writer and its checkpoint
 * helper (SQLite's deepest paths and a batch of jobs), each I/O thread
 * (replay reads through SQLite), and any other thread created without a size
 * (glibc's default is the 8 MiB of RLIMIT_STACK: on a 32-bit board, address
 * space). Address space, not RAM: each of these threads keeps 13-16 KiB of
 * its stack resident (measured under S3's 1000 connections). */
#ifndef CHAT_WRITER_STACK
#define CHAT_WRITER_STACK (256 * 1024)
#endif
#ifndef CHAT_IO_STACK
#define CHAT_IO_STACK (256 * 1024)
#endif
#ifndef CHAT_THREAD_STACK
#define CHAT_THREAD_STACK (256 * 1024)
#endif

/* Arena for parsing one JSON request or frame (cJSON's nodes and strings);
 * a request pool block or an I/O thread holds one. */
#ifndef CHAT_JSON_ARENA
#define CHAT_JSON_ARENA (32 * 1024)
#endif

/* ---- Behaviour defaults (run-time options override) ------------------- */

#ifndef CHAT_DEFAULT_PORT
#define CHAT_DEFAULT_PORT 8080
#endif

/* Messages per second per user and burst; 0 turns the limit off.
 * --rate-limit MSGS_PER_S[:BURST] overrides. */
#ifndef CHAT_RATE_PER_S
#define CHAT_RATE_PER_S 5
#endif
#ifndef CHAT_RATE_BURST
#define CHAT_RATE_BURST 20
#endif

/* Seconds a nickname session lives without requests or open WebSocket,
 * and seconds a registered user's session lives at most. */
#ifndef CHAT_SESSION_IDLE_S
#define CHAT_SESSION_IDLE_S (30 * 60)
#endif
#ifndef CHAT_SESSION_MAX_AGE_S
#define CHAT_SESSION_MAX_AGE_S (30 * 24 * 3600)
#endif

/* Retention: newest messages kept per room, 0 = keep all. */
#ifndef CHAT_MAX_MESSAGES_PER_ROOM
#define CHAT_MAX_MESSAGES_PER_ROOM 0
#endif

/* History paging and WebSocket replay limits (API contract). */
#ifndef CHAT_HISTORY_DEFAULT
#define CHAT_HISTORY_DEFAULT 50
#endif
#ifndef CHAT_HISTORY_MAX
#define CHAT_HISTORY_MAX 200
#endif
#ifndef CHAT_REPLAY_MAX
#define CHAT_REPLAY_MAX 500
#endif

/* Milliseconds a blocked socket write of an HTTP reply may take before the
 * peer is dropped (civetweb's request_timeout_ms; also bounds reading a
 * request). */
#ifndef CHAT_SEND_TIMEOUT_MS
#define CHAT_SEND_TIMEOUT_MS 5000
#endif

/* Milliseconds an idle keep-alive HTTP connection may hold a civetweb worker
 * waiting for its next request. A page load's requests follow each other
 * within a few milliseconds; longer only keeps workers from the next
 * browser (each worker serves one connection at a time). */
#ifndef CHAT_KEEP_ALIVE_MS
#define CHAT_KEEP_ALIVE_MS 1000
#endif

/* Milliseconds shutdown waits for the WebSocket queues to be written out
 * (after the HTTP requests in flight, before the close frames). */
#ifndef CHAT_DRAIN_MS
#define CHAT_DRAIN_MS 1000
#endif

/* WebSockets: a ping after this many milliseconds without a byte from the
 * client; dropped after CHAT_WS_IDLE_MS without one; after a close frame,
 * at most CHAT_WS_LINGER_MS for the client to close its side. */
#ifndef CHAT_WS_PING_MS
#define CHAT_WS_PING_MS 30000
#endif
#ifndef CHAT_WS_IDLE_MS
#define CHAT_WS_IDLE_MS 180000
#endif
#ifndef CHAT_WS_LINGER_MS
#define CHAT_WS_LINGER_MS 2000
#endif

/* WebSocket input: milliseconds a client has for one message, from the
 * first byte of its first frame to the last byte of its last (control frames
 * between fragments included); --ws-frame-timeout SECONDS overrides. Longer
 * is closed with 1008, checked once a second. A half-sent message holds only
 * its connection's fixed buffers, so this bounds time, not memory: the slot
 * that a client which sends half a frame and stops would hold until it is
 * idle for CHAT_WS_IDLE_MS, and one that sends a byte at a time for ever. A
 * browser sends a message in one write. Costs 405 bytes of code (deliver.o
 * +265, options.o +127, main.o +13: gcc 12 -Os, x86-64), 8 bytes per
 * connection slot and one comparison per connection a second. */
#ifndef CHAT_WS_FRAME_MS
#define CHAT_WS_FRAME_MS 10000
#endif

/* Typing indicators ({"type":"typing"} frames, docs/API.md): at most one
 * relayed per connection and room in this many milliseconds; the rest are
 * dropped without an answer. A relayed one is a record of the room's feed
 * (its frame, under 40 bytes and the two names, and the record's 8) and is
 * never stored. Each connection slot keeps an int64_t per room for it:
 * sizeof(struct deliver_conn) 1,456 -> 1,712 bytes at desktop's 32 rooms
 * (gcc 12, x86-64; a slot's block is zeroed, so touched, when it is taken). */
#ifndef CHAT_TYPING_INTERVAL_MS
#define CHAT_TYPING_INTERVAL_MS 2000
#endif

/* argon2id cost for account passwords (libsodium crypto_pwhash). */
#ifndef CHAT_PWHASH_OPSLIMIT
#define CHAT_PWHASH_OPSLIMIT 2
#endif
#ifndef CHAT_PWHASH_MEMLIMIT
#define CHAT_PWHASH_MEMLIMIT (32 * 1024 * 1024)
#endif

/* ---- Derived sizes (not options) -------------------------------------- */

#define CHAT_NAME_MAX 32    /* user and room names, API contract */
#define CHAT_CID_MAX 64     /* client message ids, API contract */
#define CHAT_PASSWORD_MIN 8 /* bytes of an account's password at least, API contract */
/* A session is known by the BLAKE2b hash of its token (never the token):
 * in memory, in the database and in every lookup. */
#define CHAT_TOKEN_HASH_SIZE 32
/* A message frame: body escaped (at most 2x: only \t \n \r " \ escape)
 * plus the envelope with names, ids and cid. */
#define CHAT_FRAME_SIZE (2 * CHAT_MAX_BODY + 4 * CHAT_NAME_MAX + 2 * CHAT_CID_MAX + 192)
/* The largest hello frame: every room (a direct one with its "direct" member)
 * and every user online. */
#define CHAT_HELLO_SIZE                                                                            \
    (112 + CHAT_MAX_ROOMS * (CHAT_NAME_MAX + 12 + CHAT_ROOM_EXTRA) +                               \
     CHAT_MAX_CLIENTS * (CHAT_NAME_MAX + 3))
/* What a room's entry in the hello and the rooms list may add:
 * ,"read_only":true,"topic":"..." with the topic escaped (at most 2x). */
#define CHAT_ROOM_EXTRA (2 * CHAT_TOPIC_MAX + 30)
/* A direct conversation's entry adds ,"direct":"<name>" instead, never a
 * topic (PATCH refuses direct rooms), so CHAT_ROOM_EXTRA bounds both while
 * it is the larger. */
#if CHAT_ROOM_EXTRA < CHAT_NAME_MAX + 12
#error "CHAT_ROOM_EXTRA must bound a direct room's entry too"
#endif

/* ---- Checks: combinations that cannot work fail to compile ------------ */
/* tests/build/test_flags.sh compiles wrong ones and expects these errors. */

#if (CHAT_WITH_ACCOUNTS != 0 && CHAT_WITH_ACCOUNTS != 1) ||                                        \
    (CHAT_WITH_ROOMS != 0 && CHAT_WITH_ROOMS != 1) ||                                              \
    (CHAT_WITH_METRICS != 0 && CHAT_WITH_METRICS != 1) ||                                          \
    (CHAT_WITH_EMBEDDED_WEB != 0 && CHAT_WITH_EMBEDDED_WEB != 1) ||                                \
    (CHAT_WITH_TLS != 0 && CHAT_WITH_TLS != 1) || (CHAT_WITH_MQTT != 0 && CHAT_WITH_MQTT != 1) ||  \
    (CHAT_WITH_SEARCH != 0 && CHAT_WITH_SEARCH != 1) ||                                            \
    (CHAT_WITH_MODERATION != 0 && CHAT_WITH_MODERATION != 1) ||                                    \
    (CHAT_WITH_DIRECT != 0 && CHAT_WITH_DIRECT != 1) ||                                            \
    (CHAT_WITH_TYPING != 0 && CHAT_WITH_TYPING != 1) ||                                            \
    (CHAT_WITH_BACKUPS != 0 && CHAT_WITH_BACKUPS != 1)
#error "a CHAT_WITH_* switch is 0 or 1"
#endif
#if CHAT_SEARCH_QUERY_MAX < 16 || CHAT_SEARCH_QUERY_MAX > 4096
#error "CHAT_SEARCH_QUERY_MAX must be 16..4096"
#endif
#if CHAT_TOPIC_MAX < 1 ||                                                                          \
    64 + CHAT_MAX_ROOMS * (CHAT_NAME_MAX + 16 + CHAT_ROOM_EXTRA) > CHAT_MAX_REQUEST + 1
#error "CHAT_TOPIC_MAX must be >= 1 and the rooms list (GET /api/v1/rooms) fit CHAT_MAX_REQUEST"
#endif
#if CHAT_MAX_BANS < 1 || CHAT_MAX_BANS * 128 + 64 > CHAT_MAX_REQUEST
#error "CHAT_MAX_BANS must be >= 1 and its list (128 bytes a row) fit CHAT_MAX_REQUEST"
#endif
#if CHAT_WITH_MODERATION && !CHAT_WITH_ACCOUNTS
#error "CHAT_WITH_MODERATION needs CHAT_WITH_ACCOUNTS: an admin is a registered account"
#endif
#if CHAT_WITH_DIRECT && !CHAT_WITH_ROOMS
#error "CHAT_WITH_DIRECT needs CHAT_WITH_ROOMS: a direct conversation is a room of the room pool"
#endif
#if CHAT_MQTT_INFLIGHT < 1 || CHAT_MQTT_INFLIGHT > 1000 || CHAT_MQTT_KEEPALIVE_S < 5 ||            \
    CHAT_MQTT_RECEIVE_BATCH < 1 || CHAT_MQTT_RECONNECT_MIN_S < 1 ||                                \
    CHAT_MQTT_RECONNECT_MAX_S < CHAT_MQTT_RECONNECT_MIN_S
#error                                                                                             \
    "CHAT_MQTT_INFLIGHT 1..1000, CHAT_MQTT_RECEIVE_BATCH >= 1, CHAT_MQTT_KEEPALIVE_S >= 5, 1 <= RECONNECT_MIN_S <= RECONNECT_MAX_S"
#endif
#if CHAT_HTTP_THREADS < 1 || CHAT_IO_THREADS < 1 || CHAT_IO_THREADS > 16
#error "CHAT_HTTP_THREADS at least 1; CHAT_IO_THREADS 1..16 (a handle keeps the thread in 4 bits)"
#endif
#if CHAT_CONN_PER_ADDR < 1 || CHAT_CONN_PER_ADDR + 2 > CHAT_HTTP_THREADS
#error "CHAT_CONN_PER_ADDR at least 1, and it must leave other addresses 2 of CHAT_HTTP_THREADS"
#endif
#if CHAT_REQUESTS_PER_ADDR < 1 || CHAT_CONN_TOTAL < CHAT_HTTP_THREADS
#error "CHAT_REQUESTS_PER_ADDR at least 1; CHAT_CONN_TOTAL at least CHAT_HTTP_THREADS"
#endif
#if CHAT_MAX_CLIENTS < 1 || CHAT_MAX_CLIENTS > 65536
#error "CHAT_MAX_CLIENTS must be 1..65536 (a handle keeps a slot in 16 bits)"
#endif
#if CHAT_WS_PER_SESSION < 1 || CHAT_WS_PER_SESSION > 64 || CHAT_WS_PER_ADDR < 1
#error "CHAT_WS_PER_SESSION must be 1..64 (a logout closes them all at once), CHAT_WS_PER_ADDR >= 1"
#endif
#if CHAT_MAX_ROOMS < 1 || CHAT_MAX_ROOMS > 64
#error "CHAT_MAX_ROOMS must be 1..64 (a client's joined rooms are a 64-bit mask)"
#endif
#if CHAT_MAX_SESSIONS < 1 || CHAT_SESSIONS_PER_USER < 1 || CHAT_SESSIONS_PER_ADDR < 1 ||           \
    CHAT_NICK_SESSIONS < 1 || CHAT_NICK_SESSIONS > CHAT_MAX_SESSIONS
#error "session limits must be at least 1, and CHAT_NICK_SESSIONS at most CHAT_MAX_SESSIONS"
#endif
#if CHAT_LOGIN_TABLE < 1 || CHAT_LOGIN_BACKOFF_MAX_S < 1
#error "CHAT_LOGIN_TABLE and CHAT_LOGIN_BACKOFF_MAX_S must be at least 1"
#endif
#if CHAT_WRITE_BATCH < 1 || CHAT_WRITE_BATCH > CHAT_WRITE_QUEUE
#error "CHAT_WRITE_BATCH must be 1..CHAT_WRITE_QUEUE: a batch is taken from the queue"
#endif
#if CHAT_CLIENT_INFLIGHT < 1
#error "CHAT_CLIENT_INFLIGHT must be at least 1"
#endif
#if CHAT_HISTORY_DEFAULT < 1 || CHAT_HISTORY_DEFAULT > CHAT_HISTORY_MAX || CHAT_REPLAY_MAX < 1
#error "CHAT_HISTORY_DEFAULT must be 1..CHAT_HISTORY_MAX, CHAT_REPLAY_MAX at least 1"
#endif
#if CHAT_MAX_MESSAGES_PER_ROOM < 0 || CHAT_RATE_PER_S < 0 || CHAT_RATE_BURST < 0
#error "retention and the rate limit are at least 0"
#endif
#if CHAT_WS_PING_MS < 1 || CHAT_WS_PING_MS >= CHAT_WS_IDLE_MS
#error "CHAT_WS_PING_MS must be shorter than CHAT_WS_IDLE_MS: an idle client gets a ping first"
#endif
#if CHAT_TYPING_INTERVAL_MS < 1
#error "CHAT_TYPING_INTERVAL_MS must be at least 1: typing frames are always rate-limited"
#endif
#if CHAT_MAX_BODY < 1
#error "CHAT_MAX_BODY must be at least 1"
#endif
/* Buffers that must hold a whole frame (4 bytes of WebSocket header for a
 * message; the hello's are counted in CHAT_HELLO_SIZE). */
_Static_assert(CHAT_MAX_REQUEST >= CHAT_FRAME_SIZE,
               "CHAT_MAX_REQUEST must hold a send frame of CHAT_MAX_BODY (CHAT_FRAME_SIZE)");
_Static_assert(CHAT_IO_BUFFER >= CHAT_FRAME_SIZE + 4 && CHAT_IO_BUFFER >= CHAT_HELLO_SIZE,
               "CHAT_IO_BUFFER must hold the largest message frame and the largest hello");
_Static_assert(CHAT_FEED_BYTES / 4 >= CHAT_FRAME_SIZE + 4 + 8,
               "CHAT_FEED_BYTES must hold four of the largest message frames and their lengths");

#endif
