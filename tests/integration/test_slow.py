"""Connection-level availability (gate.c): slow or idle connections from one address
cannot keep other addresses from /healthz and from logging in. The attacker runs from
127.0.0.1 (slowhttptest, or python sockets), the victim from 127.0.0.2; both reach the
server on 127.0.0.1. Bounds are availability bounds (seconds), not benchmarks."""

import http.client
import json
import resource
import shutil
import socket
import subprocess
import time

from harness import Server, expect, join, uname, wait_frame

VICTIM = "127.0.0.2"
BOUND_S = 5.0          # a victim's request, from connect to its whole reply
READ_DEADLINE_S = 10.0  # CHAT_REQUEST_READ_MS


def _victim(srv, method, path, body=None, source=VICTIM):
    """One request from `source`; (status, body, seconds). A timeout fails the test."""
    start = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=BOUND_S,
                                   source_address=(source, 0))
    try:
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        raw = r.read()
        return r.status, raw, time.monotonic() - start
    except OSError as e:
        raise AssertionError("%s %s from %s: no reply within %.0f s (%s)"
                             % (method, path, source, BOUND_S, e))
    finally:
        c.close()


def _victim_gets_in(srv):
    """/healthz and a fresh nickname login from the victim's address, each within BOUND_S."""
    status, raw, took = _victim(srv, "GET", "/healthz")
    assert status == 200, (status, raw)
    status, raw, took2 = _victim(srv, "POST", "/api/v1/session", {"name": uname("v")})
    assert status == 201, (status, raw)
    assert took < BOUND_S and took2 < BOUND_S, (took, took2)


def _probe_during(srv, attack, seconds):
    """The victim gets in again and again while the attack runs (at least `seconds`)."""
    end = time.monotonic() + seconds
    probes = 0
    while time.monotonic() < end or probes < 2:
        _victim_gets_in(srv)
        probes += 1
        if attack is not None and attack.poll() is not None and probes >= 2:
            break
        time.sleep(0.5)  # pacing of the probes, not a wait for an event
    return probes


def _slowhttptest(srv, mode, extra=()):
    exe = shutil.which("slowhttptest")
    assert exe, "slowhttptest is not installed (tools/deps.sh test)"
    argv = [exe, mode, "-c", "500", "-r", "250", "-i", "2", "-l", "8", "-p", "2",
            "-u", "http://127.0.0.1:%d/api/v1/session" % srv.port] + list(extra)
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _run_attack(srv, attack):
    try:
        time.sleep(1.0)  # let the attack open its first connections (it ramps at 250/s)
        _probe_during(srv, attack, 5.0)
    finally:
        attack.kill()
        attack.wait()
    _victim_gets_in(srv)


def test_the_server_tells_addresses_apart():
    """The victim's requests really come from 127.0.0.2: with 127.0.0.1 at its limit of
    connections, 127.0.0.1 is refused with a well-formed 503 and 127.0.0.2 is served."""
    with Server() as srv:
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(40)]
        try:
            status, raw, _ = _victim(srv, "GET", "/healthz", source="127.0.0.1")
            assert status == 503, (status, raw)
            assert json.loads(raw)["error"]["code"] == "unavailable", raw
            status, raw, _ = _victim(srv, "GET", "/healthz")
            assert status == 200, (status, raw)
        finally:
            for s in idle:
                s.close()


def test_idle_connections_from_one_address_do_not_starve_others():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 3000 + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    count = min(3000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
    with Server() as srv:
        token = srv.session(uname("w"))
        ws = srv.ws(token)
        join(ws, "general")
        idle = []
        try:
            for _ in range(count):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", srv.port))
                idle.append(s)
            _probe_during(srv, None, 3.0)
            # the chat over an existing WebSocket goes on
            ws.send_json({"type": "send", "room": "general", "body": "still here", "cid": "c1"})
            wait_frame(ws, type="ack", cid="c1")
        finally:
            for s in idle:
                s.close()
            ws.close()


def test_slowloris_from_one_address_does_not_starve_others():
    with Server() as srv:
        _run_attack(srv, _slowhttptest(srv, "-H"))


def test_slow_body_flood_from_one_address_does_not_starve_others():
    with Server() as srv:
        _run_attack(srv, _slowhttptest(srv, "-B", ["-s", "8192"]))


def test_a_body_trickled_in_is_cut_at_the_read_deadline():
    """One byte a second keeps civetweb's per-read timeout from firing; the total deadline
    for a request's headers and body still ends the connection."""
    with Server() as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=1.0)
        s.sendall(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < READ_DEADLINE_S + 6:
            try:
                s.sendall(b" ")
                if s.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue  # one byte a second
            except OSError:
                closed = True
                break
        took = time.monotonic() - start
        s.close()
        assert closed, "a body trickled in for %.0f s was still being read" % took
        assert took >= READ_DEADLINE_S - 1, "cut after %.1f s, before the deadline" % took
        _victim_gets_in(srv)
