#!/usr/bin/env python3
"""make bench: the delivery scenarios of docs/PERFORMANCE.md, S1 to S10.

Each run of a scenario starts the real binary on 127.0.0.1 with a fresh
temporary database (through the integration harness) and drives it with the C
load generator (build/loadgen), wrk (history pages) or a stalled WebSocket
client; S10 runs two servers and a mosquitto (tests/bench/bridged.py), and is
skipped for a binary without the feature mqtt. Every scenario runs --runs times and the median is reported. Results
go to build/bench/results.json (every run) and build/bench/results.md (the
table). Every load is bounded in count and time.

    python3 tests/bench/bench.py --bin build/desktop/lanchat --loadgen build/loadgen \
        [--runs 3] [--only S1,S4] [--out build/bench]
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Server, run_loadgen, uname  # noqa: E402
from bridged import s10  # noqa: E402


def status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s for pid %d" % (field, pid))


def loadgen(srv, *args, timeout=600):
    code, report = run_loadgen(srv, *args, timeout=timeout)
    report["exit"] = code
    return report


def cut(report):
    return sum(report["closes"].values())


def perf_counting(pid, events):
    """perf stat on pid for the given tracepoints; stop() returns {event: count}."""
    out = tempfile.NamedTemporaryFile(prefix="lanchat-perf-", suffix=".txt", delete=False)
    out.close()
    argv = ["perf", "stat", "-x,", "-o", out.name, "-p", str(pid)]
    for e in events:
        argv += ["-e", e]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # perf attaches; nothing to await but its start

    def stop():
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        counts = {}
        with open(out.name) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) > 2 and parts[0].replace(".", "").isdigit():
                    counts[parts[2]] = int(float(parts[0]))
        os.unlink(out.name)
        return counts

    return stop


# ---- the scenarios: each returns a dict of figures for one run ------------------------

def s1(args):
    with Server(label="S1") as srv:
        r = loadgen(srv, "--clients", 100, "--senders", 10, "--messages", 2000, "--window", 16,
                    "--body-bytes", 64)
    return {"deliveries_per_s": r["deliveries_per_s"], "lost": r["lost"], "cut": cut(r),
            "server_cpu_ms_per_10k": r["server"]["cpu_ms_per_10k"],
            "loadgen_cpu_ms_per_10k": r["loadgen_cpu_ms_per_10k"], "report": r}


def s2(args):
    with Server(label="S2") as srv:
        r = loadgen(srv, "--clients", 1000, "--senders", 10, "--messages", 200)
    return {"deliveries_per_s": r["deliveries_per_s"], "lost": r["lost"], "cut": cut(r),
            "server_cpu_ms_per_10k": r["server"]["cpu_ms_per_10k"],
            "loadgen_cpu_ms_per_10k": r["loadgen_cpu_ms_per_10k"], "report": r}


def s3(args):
    with Server(label="S3") as srv:
        assert srv.get("/healthz").status == 200
        before = status(srv.proc.pid, "VmRSS")
        r = loadgen(srv, "--clients", 1000, "--idle", "--hold", 10)
    per = (r["server"]["rss_kib"] - before) / 1000.0
    return {"rss_per_connection_kib": per, "rss_before_kib": before,
            "rss_with_1000_kib": r["server"]["rss_kib"], "threads": r["server"]["threads"],
            "idle_cpu_ms_per_s": r["server"]["cpu_ms"] / r["elapsed_s"], "cut": cut(r),
            "report": r}


def s4(args):
    with Server(label="S4") as srv:
        r = loadgen(srv, "--clients", 100, "--senders", 10, "--rate", 50, "--messages", 1000)
    return {"p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"],
            "p999_ms": r["latency_ms"]["p999"], "max_ms": r["latency_ms"]["max"],
            "lost": r["lost"], "cut": cut(r),
            "server_cpu_ms_per_10k": r["server"]["cpu_ms_per_10k"], "report": r}


def s5(args):
    with Server(label="S5") as srv:
        before = srv.metrics()
        stop = perf_counting(srv.proc.pid, ["syscalls:sys_enter_fdatasync",
                                            "syscalls:sys_enter_fsync"])
        r = loadgen(srv, "--clients", 100, "--senders", 100, "--window", 1, "--messages", 500,
                    "--no-join")
        syncs = stop()
        after = srv.metrics()
    messages = after["lanchat_messages_total"] - before["lanchat_messages_total"]
    commits = after["lanchat_commit_seconds_count"] - before["lanchat_commit_seconds_count"]
    fsyncs = sum(syncs.values())
    return {"acked_per_s": r["acks_received"] / r["elapsed_s"], "messages": messages,
            "commits": commits, "messages_per_commit": messages / max(commits, 1),
            "fsyncs": fsyncs, "messages_per_fsync": messages / max(fsyncs, 1),
            "lost": r["acks_expected"] - r["acks_received"], "report": r}


S6_MESSAGES = 1000000
S6_ROOMS = 10


def s6_database(workdir):
    """A database with S6_MESSAGES messages in S6_ROOMS rooms, made once: the
    server creates the schema and the rooms, then the rows go in directly."""
    path = os.path.join(workdir, "s6.db")
    if os.path.exists(path):
        return path
    srv = Server(["--db", path], label="S6 setup")
    try:
        token = srv.session(uname("s6"))
        for i in range(1, S6_ROOMS):
            srv.create_room(token, "r%d" % i)
    finally:
        srv.close(wait=True)
    db = sqlite3.connect(path)
    rooms = [row[0] for row in db.execute("SELECT id FROM rooms ORDER BY id")]
    body = "history " + "x" * 100
    db.execute("BEGIN")
    db.executemany("INSERT INTO messages (room_id, author, body, ts, cid) VALUES (?,?,?,?,NULL)",
                   ((rooms[i % len(rooms)], "u%d" % (i % 50), body, 1796000000000 + i)
                    for i in range(S6_MESSAGES)))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


WRK_DEEP = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/rooms/r3/messages?limit=50&before=" ..
                    math.random(%d, %d))
end
"""


def wrk(srv, token, path, script=None, seconds=5):
    argv = ["wrk", "-t1", "-c1", "-d%ds" % seconds, "--latency", "-H",
            "Authorization: Bearer " + token]
    if script:
        argv += ["-s", script]
    argv.append("http://127.0.0.1:%d%s" % (srv.port, path))
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True,
                         timeout=seconds + 30).stdout
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50_ms": lat["50"], "p99_ms": lat["99"], "requests_per_s": rps,
            "errors": int(non2xx.group(1)) if non2xx else 0}


def s6(args):
    path = s6_database(args.workdir)
    with Server(["--db", path], label="S6") as srv:
        token = srv.session(uname("s6r"))
        newest = wrk(srv, token, "/api/v1/rooms/r3/messages?limit=50")
        ids = sqlite3.connect(path).execute(
            "SELECT min(id), max(id) FROM messages WHERE room_id = "
            "(SELECT id FROM rooms WHERE name = 'r3')").fetchone()
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(WRK_DEEP % (ids[0] + 1000, ids[1]))
        try:
            deep = wrk(srv, token, "/api/v1/rooms/r3/messages", script=f.name)
        finally:
            os.unlink(f.name)
    return {"newest_p50_ms": newest["p50_ms"], "newest_p99_ms": newest["p99_ms"],
            "deep_p50_ms": deep["p50_ms"], "deep_p99_ms": deep["p99_ms"],
            "newest_per_s": newest["requests_per_s"], "deep_per_s": deep["requests_per_s"],
            "errors": newest["errors"] + deep["errors"]}


def s7(args):
    tmp = tempfile.mkdtemp(prefix="lanchat-s7-")
    db = os.path.join(tmp, "chat.db")
    port = 18000 + os.getpid() % 1000
    t0 = time.perf_counter()
    # HTTPS off (a build with it would listen on 8443 and redirect plain HTTP)
    tls_off = ["--tls-port", "0"] if " tls" in subprocess.run(
        [args.bin, "--version"], capture_output=True, text=True).stdout else []
    proc = subprocess.Popen([args.bin, "--listen", "127.0.0.1", "--port", str(port), "--db", db]
                            + tls_off,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = None
        while ready is None and time.perf_counter() - t0 < 10:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
                    if r.status == 200:
                        ready = time.perf_counter() - t0
            except OSError:
                time.sleep(0.001)  # polling a port that is not open yet: bounded by 10 s
        time.sleep(0.5)  # idle: let the first request's work settle
        rss, anon, files = (status(proc.pid, k) for k in ("VmRSS", "RssAnon", "RssFile"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        subprocess.run(["rm", "-rf", tmp])
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "stripped")
        subprocess.run(["strip", "-o", out, args.bin], check=True)
        stripped = os.path.getsize(out)
    return {"start_to_healthz_ms": ready * 1000.0, "idle_rss_kib": rss,
            "idle_rss_anon_kib": anon, "idle_rss_file_kib": files,
            "stripped_binary_bytes": stripped}


STALLED = r"""
import sys, time, json, urllib.request
sys.path.insert(0, sys.argv[2])
from wsclient import WSClient
port = int(sys.argv[1])
req = urllib.request.Request("http://127.0.0.1:%d/api/v1/session" % port,
                             data=json.dumps({"name": "stalled"}).encode(),
                             headers={"Content-Type": "application/json"})
token = json.loads(urllib.request.urlopen(req).read())["token"]
ws = WSClient.connect("127.0.0.1", port, "/api/v1/ws",
                      headers={"Authorization": "Bearer " + token})
ws.recv_json(10)
ws.send_json({"type": "join", "room": "general"})
while ws.recv_json(10).get("type") != "joined":
    pass
print("joined", flush=True)
while True:
    time.sleep(3600)
"""


def s8(args):
    with Server(label="S8") as srv:
        stalled = subprocess.Popen([sys.executable, "-c", STALLED, str(srv.port),
                                    os.path.join(HERE, "..", "integration")],
                                   stdout=subprocess.PIPE, text=True)
        try:
            assert stalled.stdout.readline().strip() == "joined"
            stalled.send_signal(signal.SIGSTOP)
            stopped_at = time.time()
            r = loadgen(srv, "--clients", 99, "--senders", 10, "--rate", 50, "--messages", 1000)
            srv.wait_log(r"deliver: stalled is a slow consumer", timeout=60)
            line = [l for l in srv.lines if "stalled is a slow consumer" in l][0]
            stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            why = re.search(r"\((.*)\)", line).group(1)
        finally:
            stalled.kill()
            stalled.wait()
    return {"p99_ms": r["latency_ms"]["p99"], "p999_ms": r["latency_ms"]["p999"],
            "lost": r["lost"], "cut_others": cut(r), "cut_after_s": stamp - stopped_at,
            "cut_because": why, "rss_peak_kib": r["server"]["rss_peak_kib"], "report": r}


def s9(args):
    with Server(label="S9") as srv:
        r = loadgen(srv, "--clients", 300, "--burst", "--messages", 3)
    return {"cut": cut(r), "lost": r["lost"],
            "acks_missing": r["acks_expected"] - r["acks_received"],
            "deliveries_per_s": r["deliveries_per_s"], "p99_ms": r["latency_ms"]["p99"],
            "report": r}


SCENARIOS = [
    ("S1", "100 clients in one room, 10 senders x 2,000 msgs, window 16, 64-byte bodies",
     "0 lost, 0 cut; >= 250,000 deliveries/s (aim 1,000,000)", s1, "deliveries_per_s"),
    ("S2", "1,000 clients in one room, 10 senders x 200 msgs", "0 lost, 0 cut; >= 150,000 "
     "deliveries/s", s2, "deliveries_per_s"),
    ("S3", "1,000 idle authenticated WebSockets", "<= 24 KiB server RSS per connection, thread "
     "stacks included; idle CPU ~ 0", s3, "rss_per_connection_kib"),
    ("S4", "100 clients, 10 senders at 50 msg/s each for 20 s", "p99 <= 2 ms, p999 <= 10 ms end "
     "to end", s4, "p99_ms"),
    ("S5", "100 senders each waiting for its ack (window 1), durable", ">= 20,000 acked msgs/s; "
     "messages per fsync", s5, "acked_per_s"),
    ("S6", "1,000,000 stored messages in 10 rooms: newest page and deep before= pages",
     "server time p99 <= 1 ms", s6, "deep_p99_ms"),
    ("S7", "start to first 200 on /healthz; idle RSS; stripped binary with the embedded web "
     "client", "<= 100 ms; <= 4 MiB; <= 400 KiB", s7, "start_to_healthz_ms"),
    ("S8", "one client SIGSTOPped while 99 others receive S4's load", "the 99 keep S4's p99; the "
     "stalled one is cut within the documented bound; RSS bounded", s8, "p99_ms"),
    ("S9", "burst: 300 clients each send 3 messages at the same moment", "0 cut, 0 lost, every "
     "ack received", s9, "cut"),
    ("S10", "two appliances (--node a, b) and one mosquitto: 10 senders x 2,000 msgs to A, "
     "window 16, until all are stored on B", "every message mirrored once; messages/s; CPU "
     "per mirrored message", s10, "mirrored_per_s"),
]


def median_of(runs):
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def fmt(v):
    if isinstance(v, float):
        return "%.3f" % v if abs(v) < 10 else "{:,.0f}".format(v)
    return "{:,}".format(v) if isinstance(v, int) else str(v)


def markdown(results, machine):
    lines = ["| id | scenario | target | median of %d runs |" % results["runs"], "|---|---|---|---|"]
    for sid, name, target, _, _ in SCENARIOS:
        if sid not in results["scenarios"]:
            continue
        med = results["scenarios"][sid]["median"]
        shown = ", ".join("%s %s" % (k, fmt(v)) for k, v in med.items())
        lines.append("| %s | %s | %s | %s |" % (sid, name, target, shown))
    lines.append("")
    lines.append("Machine: %s. Binary: %s." % (machine, results["binary"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--loadgen", default=harness.LOADGEN)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", help="comma-separated scenario ids")
    ap.add_argument("--out", default="build/bench")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    os.environ["LANCHAT_BIN"] = args.bin
    harness.LOADGEN = os.path.abspath(args.loadgen)
    os.makedirs(args.out, exist_ok=True)
    args.workdir = os.path.abspath(args.out)
    only = set(args.only.split(",")) if args.only else None
    machine = "%s, %d cores, %s" % (platform.machine(), os.cpu_count(),
                                    platform.platform(terse=True))
    results = {"binary": args.bin, "machine": machine, "runs": args.runs,
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "scenarios": {}}
    for sid, name, target, fn, headline in SCENARIOS:
        if only and sid not in only:
            continue
        if getattr(fn, "needs", None) and not harness.has(fn.needs):
            print("%s skipped: %s has no feature %s" % (sid, args.bin, fn.needs), flush=True)
            continue
        runs = []
        for i in range(args.runs):
            figures = fn(args)
            runs.append(figures)
            print("%s run %d: %s %s" % (sid, i + 1, headline, fmt(figures[headline])),
                  flush=True)
        med = median_of(runs)
        results["scenarios"][sid] = {"name": name, "target": target, "median": med,
                                     "runs": runs}
        print("%s median: %s" % (sid, ", ".join("%s %s" % (k, fmt(v)) for k, v in med.items())),
              flush=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    table = markdown(results, machine)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
