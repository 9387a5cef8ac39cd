/*
 * config.h - every compile-time option of lanchat, with its default.
 *
 * A board profile (board/<name>/board.mk) overrides any of these with -D;
 * nothing else in the tree defines a size or a feature switch. Costs are
 * measured on x86-64 (gcc 12, -Os) unless stated; RAM is what the option
 * reserves at boot, touched or not.
 */
#ifndef LANCHAT_CONFIG_H
#define LANCHAT_CONFIG_H

#define CHAT_VERSION "0.1.0"

/* ---- Feature switches (1 = built in, 0 = code removed) ---------------- */

/* Registered accounts with argon2id passwords (POST /api/v1/users).
 * Off: everyone is a nickname user; libsodium is still used for tokens. */
#ifndef CHAT_WITH_ACCOUNTS
#define CHAT_WITH_ACCOUNTS 1
#endif

/* More rooms than "general" (POST /api/v1/rooms). Off: one room. */
#ifndef CHAT_WITH_ROOMS
#define CHAT_WITH_ROOMS 1
#endif

/* GET /metrics in Prometheus text format. Counters are kept either way
 * (they are a few words); only the exporter is removed. */
#ifndef CHAT_WITH_METRICS
#define CHAT_WITH_METRICS 1
#endif

/* Web client compiled into the binary, gzip-compressed at build time
 * (web/ through tools/embed.c): costs the compressed size of web/ in the
 * binary (22 KB for the client of 2026-11), no RAM beyond it. Off: the
 * client is served from --web-root (default ./web), uncompressed. */
#ifndef CHAT_WITH_EMBEDDED_WEB
#define CHAT_WITH_EMBEDDED_WEB 1
#endif

/* HTTPS listener. Reserved for a later release: must stay 0. */
#ifndef CHAT_WITH_TLS
#define CHAT_WITH_TLS 0
#endif
#if CHAT_WITH_TLS
#error "CHAT_WITH_TLS is not implemented yet"
#endif

/* ---- Pool and buffer sizes (all reserved once, at boot) --------------- */

/* Simultaneous WebSocket clients. Each costs one civetweb worker thread,
 * one sender thread (CHAT_SENDER_STACK of address space, a few KiB touched)
 * and one struct hub_client (about CHAT_MAX_FRAME + CHAT_FRAME_SIZE bytes). */
#ifndef CHAT_MAX_CLIENTS
#define CHAT_MAX_CLIENTS 64
#endif

/* Civetweb worker threads for plain HTTP requests, on top of one per client. */
#ifndef CHAT_HTTP_THREADS
#define CHAT_HTTP_THREADS 8
#endif

/* Rooms, "general" included. Without CHAT_WITH_ROOMS only one is used.
 * At most 64 (a client's joined rooms are a 64-bit mask). */
#ifndef CHAT_MAX_ROOMS
#if CHAT_WITH_ROOMS
#define CHAT_MAX_ROOMS 32
#else
#define CHAT_MAX_ROOMS 1
#endif
#endif
#if CHAT_MAX_ROOMS < 1 || CHAT_MAX_ROOMS > 64
#error "CHAT_MAX_ROOMS must be 1..64"
#endif

/* Largest message body in bytes of UTF-8. */
#ifndef CHAT_MAX_BODY
#define CHAT_MAX_BODY 2000
#endif

/* Outgoing frames (messages, presence, acks) shared by reference during
 * fan-out. Each costs CHAT_FRAME_SIZE + 32 bytes. */
#ifndef CHAT_MSG_POOL
#define CHAT_MSG_POOL 512
#endif

/* Frames a client may have queued before it counts as a slow consumer and
 * is disconnected (close 1008). */
#ifndef CHAT_CLIENT_QUEUE
#define CHAT_CLIENT_QUEUE 128
#endif

/* Live sessions (nickname and registered) held in memory; each ~160 B. */
#ifndef CHAT_MAX_SESSIONS
#define CHAT_MAX_SESSIONS 256
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

/* SQLite's heap limit in bytes (sqlite3_hard_heap_limit64). */
#ifndef CHAT_SQLITE_HEAP_LIMIT
#define CHAT_SQLITE_HEAP_LIMIT (8 * 1024 * 1024)
#endif

/* Stack of each sender thread. */
#ifndef CHAT_SENDER_STACK
#define CHAT_SENDER_STACK (128 * 1024)
#endif

/* Stack of the store's writer thread (SQLite's deepest paths, a batch of
 * jobs: about 40 KiB used). */
#ifndef CHAT_WRITER_STACK
#define CHAT_WRITER_STACK (256 * 1024)
#endif

/* Arena for parsing one JSON request or frame (cJSON's nodes and strings);
 * a request pool block or a client slot holds one. */
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

/* Milliseconds a blocked socket write may take before the peer is dropped
 * (civetweb's request_timeout_ms; also bounds reading a request). */
#ifndef CHAT_SEND_TIMEOUT_MS
#define CHAT_SEND_TIMEOUT_MS 5000
#endif

/* argon2id cost for account passwords (libsodium crypto_pwhash). */
#ifndef CHAT_PWHASH_OPSLIMIT
#define CHAT_PWHASH_OPSLIMIT 2
#endif
#ifndef CHAT_PWHASH_MEMLIMIT
#define CHAT_PWHASH_MEMLIMIT (32 * 1024 * 1024)
#endif

/* ---- Derived sizes (not options) -------------------------------------- */

#define CHAT_NAME_MAX 32 /* user and room names, API contract */
#define CHAT_CID_MAX 64  /* client message ids, API contract */
/* A message frame: body escaped (at most 2x: only \t \n \r " \ escape)
 * plus the envelope with names, ids and cid. */
#define CHAT_FRAME_SIZE (2 * CHAT_MAX_BODY + 4 * CHAT_NAME_MAX + 2 * CHAT_CID_MAX + 192)

#endif
