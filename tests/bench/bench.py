#!/usr/bin/env python3
"""lanchat benchmarks: binary size, memory, commit throughput, fan-out.

Runs the real binary on 127.0.0.1 with a temporary database (through the
integration harness) and prints one line per figure; `make bench` calls it and
keeps a copy in build/bench.txt. Every load loop is bounded in count and time.

    python3 tests/bench/bench.py --bin build/desktop/lanchat \
        [--minimal build/desktop-minimal/lanchat] [--quick]
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Server, uname  # noqa: E402

results = []


def report(name, value, unit, note=""):
    line = "%-44s %12s %-6s %s" % (name, value, unit, note)
    results.append(line)
    print(line, flush=True)


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s for pid %d" % (field, pid))


def stripped_size(path):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "stripped")
        subprocess.run(["strip", "-o", out, path], check=True)
        return os.path.getsize(out)


def code_size(path):
    """text + data + bss of the binary, from size(1)."""
    out = subprocess.run(["size", path], check=True, stdout=subprocess.PIPE, text=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return text, data, bss


def bench_size(args):
    for label, path in (("full", args.bin), ("minimal", args.minimal)):
        if not path:
            continue
        text, data, bss = code_size(path)
        report("binary file, stripped (%s)" % label, stripped_size(path), "bytes", path)
        report("code text+data (%s)" % label, text + data, "bytes", "bss %d" % bss)


def bench_memory(args, clients):
    with Server(label="bench-memory") as srv:
        pid = srv.proc.pid
        assert srv.get("/healthz").status == 200
        report("RSS idle (after first request)", status_kib(pid, "VmRSS"), "KiB")
        tokens = [srv.session(uname("mem")) for _ in range(clients)]
        sockets = [srv.ws(t) for t in tokens]  # each waits for its hello
        report("RSS with %d idle WebSockets" % clients, status_kib(pid, "VmRSS"), "KiB")
        report("threads with %d idle WebSockets" % clients, status_kib(pid, "Threads"),
               "")
        for ws in sockets:
            ws.close(wait=0)


def post_loop(port, token, room, count, latencies, errors, deadline):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    for i in range(count):
        if time.monotonic() > deadline:
            errors.append("deadline")
            break
        body = json.dumps({"body": "benchmark message %d " % i + "x" * 100})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/rooms/%s/messages" % room, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        latencies.append(time.perf_counter() - t0)
        if r.status != 201:
            errors.append(r.status)
    conn.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def bench_commit(args, senders, per_sender):
    with Server(label="bench-commit") as srv:
        tokens = [srv.session(uname("w")) for _ in range(senders)]
        before = srv.metrics()
        latencies, errors = [], []
        deadline = time.monotonic() + 120
        threads = [threading.Thread(target=post_loop,
                                    args=(srv.port, t, "general", per_sender, latencies,
                                          errors, deadline)) for t in tokens]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        after = srv.metrics()
        assert not errors, errors[:5]
        n = senders * per_sender
        commits = after["lanchat_commit_seconds_count"] - before["lanchat_commit_seconds_count"]
        csum = after["lanchat_commit_seconds_sum"] - before["lanchat_commit_seconds_sum"]
        tag = "%d senders" % senders
        report("durable messages/s over REST (%s)" % tag, "%.0f" % (n / elapsed), "msg/s",
               "%d messages in %.2f s" % (n, elapsed))
        report("messages per commit (%s)" % tag, "%.1f" % (n / max(commits, 1)), "",
               "%d commits" % commits)
        report("mean commit time (%s)" % tag, "%.2f" % (1000 * csum / max(commits, 1)), "ms")
        report("POST latency p50 (%s)" % tag, "%.2f" % (1000 * percentile(latencies, 0.5)),
               "ms")
        report("POST latency p99 (%s)" % tag, "%.2f" % (1000 * percentile(latencies, 0.99)),
               "ms")


def bench_fanout(args, readers, messages):
    with Server(label="bench-fanout") as srv:
        sockets = []
        for _ in range(readers):
            ws = srv.ws(srv.session(uname("r")))
            ws.send_json({"type": "join", "room": "general"})
            f = ws.recv_json(10)
            assert f == {"type": "joined", "room": "general"}, f
            sockets.append(ws)
        token = srv.session(uname("s"))
        received = [0] * readers

        def drain(i, ws):
            deadline = time.monotonic() + 120
            while received[i] < messages and time.monotonic() < deadline:
                f = ws.recv_json(30)
                if f.get("type") == "message":
                    received[i] += 1

        threads = [threading.Thread(target=drain, args=(i, ws)) for i, ws in enumerate(sockets)]
        for t in threads:
            t.start()
        latencies, errors = [], []
        t0 = time.perf_counter()
        post_loop(srv.port, token, "general", messages, latencies, errors,
                  time.monotonic() + 120)
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        assert not errors, errors[:5]
        assert all(r == messages for r in received), received
        report("fan-out deliveries/s (%d readers)" % readers,
               "%.0f" % (readers * messages / elapsed), "frames/s",
               "%d messages x %d readers in %.2f s" % (messages, readers, elapsed))
        for ws in sockets:
            ws.close(wait=0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--minimal")
    ap.add_argument("--quick", action="store_true", help="smaller loads")
    ap.add_argument("--out", default="build/bench.txt")
    args = ap.parse_args()
    os.environ["LANCHAT_BIN"] = os.path.abspath(args.bin)
    scale = 0.2 if args.quick else 1.0
    print("lanchat benchmarks, %s, %s" % (args.bin, time.strftime("%Y-%m-%d %H:%M:%S")))
    bench_size(args)
    bench_memory(args, 100)
    bench_commit(args, 1, int(300 * scale))
    bench_commit(args, 16, int(200 * scale))
    bench_fanout(args, 50, int(400 * scale))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(results) + "\n")


if __name__ == "__main__":
    main()
