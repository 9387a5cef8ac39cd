#!/bin/sh
# Soak: a bounded churn against a fresh server, reporting the server's RSS,
# open file descriptors and threads at the start, every minute and at the end.
#   tests/soak.sh [SECONDS] [BINARY]      default 600 s, build/desktop/lanchat
# WORKERS (default 4) client threads each loop: take a session (a fixed set,
# plus one login and logout of a fresh nickname every 10th turn), open a
# WebSocket, join, send 3 messages and wait for their acks, read a history
# page, then vanish without a close frame: a reset (SO_LINGER 0), a plain
# FIN, or a reset in the middle of a frame. Not part of `make test`.
set -eu
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-600}
BIN=${2:-build/desktop/lanchat}
WORKERS=${WORKERS:-4}
dir=$(mktemp -d /tmp/lanchat-soak.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
# Plain HTTP only: with HTTPS (on by default) it would redirect the churn.
tls=""
if "$BIN" --version | grep -q ' tls'; then tls="--tls-port 0"; fi
# shellcheck disable=SC2086
"$BIN" --listen 127.0.0.1 --port 0 --db "$dir/chat.db" --rate-limit 0 $tls >"$dir/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.log")
    [ -n "$port" ] && break
    kill -0 "$pid" || break
    sleep 0.1
done
if [ -z "$port" ]; then
    cat "$dir/server.log"
    echo "soak: the server did not start"
    exit 1
fi
echo "soak: $BIN pid $pid port $port, $SECONDS_TOTAL s, $WORKERS workers"
python3 - "$port" "$pid" "$SECONDS_TOTAL" "$WORKERS" <<'EOF'
import http.client, json, os, socket, struct, sys, threading, time
sys.path.insert(0, "tests/integration")
from wsclient import WSClient

port, pid, total, workers = (int(a) for a in sys.argv[1:5])

def request(method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            hdrs["Authorization"] = "Bearer " + token
        conn.request(method, path, json.dumps(body) if body is not None else None, hdrs)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()

def sample():
    status = open("/proc/%d/status" % pid).read()
    field = lambda k: int(next(l.split()[1] for l in status.splitlines() if l.startswith(k)))
    st, raw = request("GET", "/metrics")
    ws = next((l.split()[1] for l in raw.decode().splitlines()
               if l.startswith("lanchat_ws_connections ")), "?")
    return {"rss_kib": field("VmRSS:"), "fds": len(os.listdir("/proc/%d/fd" % pid)),
            "threads": field("Threads:"), "ws": ws}

def show(label, t0):
    s = sample()
    print("soak: %-6s t=%4.0f s  rss %6d KiB  fds %4d  threads %3d  ws %s"
          % (label, time.monotonic() - t0, s["rss_kib"], s["fds"], s["threads"], s["ws"]),
          flush=True)
    return s

tokens = []
# 8, and at most one fresh login per worker: within the 16 sessions of one address
for i in range(8):
    st, raw = request("POST", "/api/v1/session", {"name": "soak%d" % i})
    assert st == 201, (st, raw)
    tokens.append(json.loads(raw)["token"])

counts = {"cycles": 0, "sent": 0, "acked": 0, "errors": 0, "logins": 0}
lock = threading.Lock()
stop = threading.Event()

def vanish(ws, how):
    if how == 0:    # reset
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif how == 2:  # reset in the middle of a frame
        ws.sock.sendall(b"\x81\xfe\x10\x00" + os.urandom(4) + b"x" * 100)
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.sock.close()     # how == 1: a FIN and no close frame

def worker(w):
    turn = 0
    while not stop.is_set():
        turn += 1
        fresh = None
        try:
            token = tokens[(w + turn) % len(tokens)]
            if turn % 10 == 0:
                st, raw = request("POST", "/api/v1/session", {"name": "soakn%d_%d" % (w, turn)})
                assert st == 201, (st, raw)
                fresh = token = json.loads(raw)["token"]
            ws = WSClient.connect("127.0.0.1", port, "/api/v1/ws",
                                  headers={"Authorization": "Bearer " + token}, timeout=20)
            ws.recv_json(20)  # hello
            ws.send_json({"type": "join", "room": "general"})
            sent = acked = 0
            for k in range(3):
                ws.send_json({"type": "send", "room": "general", "cid": "s%d-%d-%d" % (w, turn, k),
                              "body": "soak %d %d %d" % (w, turn, k)})
                sent += 1
            deadline = time.monotonic() + 20
            while acked < sent and time.monotonic() < deadline:
                f = ws.recv_json(max(0.01, deadline - time.monotonic()))
                if f.get("type") == "ack":
                    acked += 1
            request("GET", "/api/v1/rooms/general/messages?limit=20", token=token)
            vanish(ws, turn % 3)
            if fresh:
                st, _ = request("DELETE", "/api/v1/session", token=fresh)
                assert st == 204, st
            with lock:
                counts["cycles"] += 1
                counts["sent"] += sent
                counts["acked"] += acked
                counts["logins"] += 1 if fresh else 0
        except Exception as e:  # counted, the churn goes on
            with lock:
                counts["errors"] += 1
                if counts["errors"] <= 5:
                    print("soak: worker %d: %r" % (w, e), flush=True)
        stop.wait(0.2)  # pacing: keeps the churn moderate on a shared machine

t0 = time.monotonic()
first = show("start", t0)
threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
for t in threads:
    t.start()
end = t0 + total
next_sample = t0 + 60
while time.monotonic() < end:
    time.sleep(max(0, min(next_sample, end) - time.monotonic()))
    if time.monotonic() >= next_sample and time.monotonic() < end:
        show("sample", t0)
        next_sample += 60
last = show("end", t0)
stop.set()
for t in threads:
    t.join(30)
# The server closes the dropped connections as it notices them: wait until
# the descriptor count stops changing (bounded) for the final figure.
prev, steady = None, 0
for _ in range(60):
    s = sample()
    steady = steady + 1 if prev is not None and s["fds"] == prev["fds"] else 0
    prev = s
    if steady >= 4:
        break
    time.sleep(0.5)
final = show("idle", t0)
print("soak: %(cycles)d cycles, %(sent)d sent, %(acked)d acked, %(logins)d fresh logins, "
      "%(errors)d errors" % counts)
print("soak: rss %+d KiB, fds %+d, threads %+d (idle after the churn vs start)"
      % (final["rss_kib"] - first["rss_kib"], final["fds"] - first["fds"],
         final["threads"] - first["threads"]))
sys.exit(1 if counts["errors"] else 0)
EOF
