#!/usr/bin/env python3
"""make bench-instr: instructions per stored message and per delivered frame,
counted by valgrind --tool=callgrind (user space, every thread of the
server), so the figure repeats on a noisy machine and can be tracked across
commits.

The scenario is fixed and serial, so batching does not depend on timing: one
sender with window 1 (one message per commit), 200 messages of 64 bytes, to a
room of 10 receivers, or of none (--no-join). Only the measured phase is
counted: loadgen --sync says when it starts and ends, and callgrind's
counters are zeroed there and dumped there (start-up, logins, handshakes and
presence, whose batching does depend on timing, are left out). 200 commits
stay below the WAL size that starts a checkpoint, which would come or not
with timing.
  per stored message  = I(no receivers) / 200
  per delivered frame = (I(10 receivers) - I(no receivers)) / 2000

    python3 tests/bench/instr.py --bin build/desktop/lanchat --loadgen build/loadgen

--batched: instead, 8 senders of window 8, 100 messages each, no receivers,
so that commits hold several messages (how many depends on timing): the
stored message's cost when the writer batches (docs/PERFORMANCE.md).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVERS = 10
MESSAGES = 200


def callgrind_control(pid, flag):
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, stdout=subprocess.DEVNULL)


def measured_instructions(binary, loadgen, receivers, senders=1, window=1, messages=MESSAGES):
    """Instructions of the server's threads during loadgen's measured phase."""
    tmp = tempfile.mkdtemp(prefix="lanchat-instr-")
    out = os.path.join(tmp, "callgrind.out")
    port = 19000 + (os.getpid() + receivers) % 900
    argv = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
            "--callgrind-out-file=" + out,
            binary, "--listen", "127.0.0.1", "--port", str(port),
            "--db", os.path.join(tmp, "chat.db"), "--rate-limit", "0",
            "--sessions-per-address", "0"]
    # HTTPS off (a build with it would listen on 8443 and redirect plain HTTP)
    if " tls" in subprocess.run([binary, "--version"], capture_output=True, text=True).stdout:
        argv += ["--tls-port", "0"]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:  # the server's log: wait until it listens
            if "listening on http://" in line:
                break
        else:
            raise RuntimeError("the server did not start under valgrind")
        lg = [loadgen, "--url", "http://127.0.0.1:%d" % port,
              "--clients", str(max(receivers, senders)), "--senders", str(senders),
              "--window", str(window), "--messages", str(messages), "--json-only", "--timeout", "600", "--sync"]
        if receivers == 0:
            lg.append("--no-join")
        gen = subprocess.Popen(lg, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        if gen.stderr.readline().strip() != "ready":
            raise RuntimeError("loadgen did not get ready: %s" % gen.stderr.read())
        callgrind_control(server.pid, "-z")
        gen.stdin.write("\n")
        gen.stdin.flush()
        if gen.stderr.readline().strip() != "measured":
            raise RuntimeError("loadgen did not measure: %s" % gen.stderr.read())
        callgrind_control(server.pid, "-d")
        gen.stdin.write("\n")
        gen.stdin.flush()
        report = json.loads(gen.communicate(timeout=600)[0].strip().splitlines()[-1])
        if not report["passed"]:
            raise RuntimeError("loadgen reported a failure: %r" % report)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=300)
    total = 0
    for name in os.listdir(tmp):  # one file per thread and dump: "measured" is dump 1
        if re.match(r"callgrind\.out\.1-\d+$", name):
            with open(os.path.join(tmp, name)) as f:
                total += int(re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M).group(1))
    subprocess.run(["rm", "-rf", tmp])
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--loadgen", default=os.path.join(HERE, "..", "..", "build", "loadgen"))
    ap.add_argument("--out", default="build/bench/instr.json")
    ap.add_argument("--batched", action="store_true",
                    help="8 senders of window 8, 100 messages each, no receivers")
    args = ap.parse_args()
    binary, loadgen = os.path.abspath(args.bin), os.path.abspath(args.loadgen)
    if args.batched:
        total = measured_instructions(binary, loadgen, 0, senders=8, window=8, messages=100)
        print("instructions per stored message, 8 senders x window 8: %d" % round(total / 800))
        return 0
    counts = {}
    for receivers in (0, RECEIVERS):
        counts[receivers] = measured_instructions(binary, loadgen, receivers)
        print("receivers %2d: %d instructions for %d messages" % (receivers, counts[receivers],
                                                                  MESSAGES), flush=True)
    store = counts[0] / MESSAGES
    per_frame = (counts[RECEIVERS] - counts[0]) / (MESSAGES * RECEIVERS)
    result = {"binary": binary, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "instructions_per_stored_message": round(store),
              "instructions_per_delivered_frame": round(per_frame),
              "counts": {"%d receivers" % k: v for k, v in counts.items()}}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print("instructions per stored message:  %d" % result["instructions_per_stored_message"])
    print("instructions per delivered frame: %d" % result["instructions_per_delivered_frame"])


if __name__ == "__main__":
    sys.exit(main())
