"""Scenario S10 of make bench: two appliances bridged through one broker.

A real mosquitto (Debian's package) on a free 127.0.0.1 port with a private
config and persistence in a temp dir, two lanchat with --mqtt and --node a /
--node b. The load generator sends N messages to A (10 senders, window 16,
not joined: no fan-out on A); the clock runs until B has stored all N
(lanchat_mqtt_received_total on B's /metrics, polled every 50 ms). CPU of each
process (utime + stime from /proc/PID/stat) per mirrored message, and the same
load on a server without --mqtt for comparison; the commits of A and B
(lanchat_commit_seconds_count). Idle RSS of an appliance with
--mqtt (connected) and without. Every wait is bounded.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import Server, free_port, run_loadgen, uname  # noqa: F401

SENDERS = 10
PER_SENDER = 2000  # N = 20,000 messages per run
POLL_S = 0.05
MIRROR_TIMEOUT_S = 300


def cpu_times(pid):
    """(utime, stime) of a process, in seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid):
    return sum(cpu_times(pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


class Broker:
    """One mosquitto on a free 127.0.0.1 port, its config and database in a
    temp dir; stopped by its PID."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lanchat-bench-mqtt-")
        self.port = free_port()
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            # user: mosquitto started as root would switch to the user
            # "mosquitto", which may not write this temp dir
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    "persistence_location %s/\nmax_queued_messages 0\n"
                    "log_dest file %s/mosquitto.log\nuser %s\n"
                    % (self.port, self.dir, self.dir, pwd.getpwuid(os.getuid()).pw_name))
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, "mosquitto exited %s" % self.proc.returncode
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not listen within 10 s"
                time.sleep(0.01)  # a port that is not open yet: bounded by 10 s

    def check(self):
        assert self.proc.poll() is None, "mosquitto (pid %d) ended with %s: %s" % (
            self.proc.pid, self.proc.returncode, self.log_tail())

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "mosquitto.log")) as f:
                return "".join(f.readlines()[-3:])
        except OSError:
            return ""

    @property
    def url(self):
        return "mqtt://127.0.0.1:%d" % self.port

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def metric(srv, name):
    return srv.metrics().get(name, 0)


def wait_metric(srv, name, at_least, timeout, broker=None):
    """Polls srv's /metrics every POLL_S until name >= at_least; returns the
    time it was first seen so, or raises after timeout (at once if the
    broker is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        if broker:
            broker.check()
        value = metric(srv, name)
        if value >= at_least:
            return time.perf_counter(), value
        if time.monotonic() > deadline:
            raise AssertionError("%s: %s is %s after %d s, waiting for %s"
                                 % (srv.label, name, value, timeout, at_least))
        time.sleep(POLL_S)  # polling a counter: bounded by timeout


def idle_rss(srv):
    """RSS once the server answered /healthz and /metrics and sat idle half a
    second, as S7 measures it."""
    assert srv.get("/healthz").status == 200
    srv.metrics()
    time.sleep(0.5)  # idle: let the first requests' work settle
    return rss_kib(srv.proc.pid)


def load(srv):
    code, report = run_loadgen(srv, "--clients", SENDERS, "--senders", SENDERS,
                               "--messages", PER_SENDER, "--window", 16, "--no-join",
                               timeout=MIRROR_TIMEOUT_S)
    report["exit"] = code
    return report


def s10(args):
    n = SENDERS * PER_SENDER
    # The same load on an appliance without --mqtt: what the sender costs anyway.
    with Server(label="S10 plain") as plain:
        rss_plain = idle_rss(plain)
        before = cpu_seconds(plain.proc.pid)
        r = load(plain)
        assert r["acks_received"] == n, r
        plain_cpu = cpu_seconds(plain.proc.pid) - before
    with Broker() as broker, \
            Server(["--mqtt", broker.url, "--node", "a"], label="S10 a") as a, \
            Server(["--mqtt", broker.url, "--node", "b"], label="S10 b") as b:
        for srv in (a, b):
            wait_metric(srv, "lanchat_mqtt_connected", 1, 30, broker)
        rss_mqtt = idle_rss(a)
        # One message end to end first: B's subscription is in place.
        token = a.session(uname("s10"))
        a.send(token, "general", "warm-up")
        wait_metric(b, "lanchat_mqtt_received_total", 1, 30, broker)
        base = metric(b, "lanchat_mqtt_received_total")
        procs = (("a", a.proc), ("b", b.proc), ("broker", broker.proc))
        cpu0 = {k: cpu_times(p.pid) for k, p in procs}
        commits0 = {k: metric(s, "lanchat_commit_seconds_count") for k, s in (("a", a), ("b", b))}
        t0 = time.perf_counter()
        r = load(a)
        local_s = time.perf_counter() - t0
        assert r["acks_received"] == n, r
        t1, got = wait_metric(b, "lanchat_mqtt_received_total", base + n, MIRROR_TIMEOUT_S,
                              broker)
        wait_metric_zero(a, "lanchat_mqtt_outbox", 30)
        cpu = {k: [t - t0 for t, t0 in zip(cpu_times(p.pid), cpu0[k])] for k, p in procs}
        stored_b = got - base
        commits = {k: metric(s, "lanchat_commit_seconds_count") - commits0[k]
                   for k, s in (("a", a), ("b", b))}
    return {"mirrored_per_s": n / (t1 - t0), "mirrored": stored_b,
            "local_acked_per_s": n / local_s,
            "cpu_us_per_msg_a": sum(cpu["a"]) * 1e6 / n,
            "sys_us_per_msg_a": cpu["a"][1] * 1e6 / n,
            "cpu_us_per_msg_b": sum(cpu["b"]) * 1e6 / n,
            "sys_us_per_msg_b": cpu["b"][1] * 1e6 / n,
            "cpu_us_per_msg_broker": sum(cpu["broker"]) * 1e6 / n,
            "cpu_us_per_msg_plain": plain_cpu * 1e6 / n,
            "commits_a": commits["a"], "commits_b": commits["b"],
            "idle_rss_kib_mqtt": rss_mqtt, "idle_rss_kib_plain": rss_plain}


def wait_metric_zero(srv, name, timeout):
    deadline = time.monotonic() + timeout
    while metric(srv, name) != 0:
        assert time.monotonic() < deadline, "%s: %s not 0 after %d s" % (srv.label, name,
                                                                        timeout)
        time.sleep(POLL_S)  # polling a gauge: bounded by timeout


s10.needs = "mqtt"
