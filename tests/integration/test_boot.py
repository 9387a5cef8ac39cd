"""The boot ladder (main.c): when a step fails, the process says which one, stops
the steps below it in reverse, each once, and exits with status 1, without a
crash or a sanitizer report; a step that never started is never stopped. On
SIGTERM every step is stopped in reverse, each once. --debug logs each step
started and stopped, which is what these tests read."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

from harness import SANITIZER_LINE, Server, binary, has, server_env

STEP_RE = re.compile(r" debug main: (started|stopped) (\S+)$")
# The steps that have a stop (main.c's table); the others log only their start.
STOPPABLE = {"civetweb", "pools", "store", "sessions", "hub", "gate", "http", "delivery", "open", "mqtt"}


def _run(args, tmp, timeout=60):
    """Runs lanchat until it exits by itself; (status, output lines)."""
    argv = [binary(), "--listen", "127.0.0.1", "--debug"] + args
    if has("tls") and "--tls-port" not in args:
        argv += ["--tls-port", "0"]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, cwd=tmp, env=server_env(), timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace").splitlines()


def _steps(lines):
    started = [m.group(2) for m in map(STEP_RE.search, lines) if m and m.group(1) == "started"]
    stopped = [m.group(2) for m in map(STEP_RE.search, lines) if m and m.group(1) == "stopped"]
    return started, stopped


def _check_unwound(status, lines, failed_step, reason):
    text = "\n".join(lines)
    assert not any(SANITIZER_LINE.search(line) for line in lines), text
    assert status == 1, "exit status %r, expected 1:\n%s" % (status, text)
    assert any(re.search(reason, line) and " error " in line for line in lines), \
        "no error line matching %r:\n%s" % (reason, text)
    assert any(re.search(r" error main: cannot start %s;" % failed_step, line)
               for line in lines), text
    started, stopped = _steps(lines)
    assert failed_step not in started, text
    # every step that started and has a stop is stopped once, in reverse order;
    # nothing that never started is stopped
    assert stopped == [s for s in reversed(started) if s in STOPPABLE], (started, stopped, text)
    assert stopped[-1] == "civetweb", text  # civetweb's library: last down
    assert lines[-1].endswith("error main: not started"), text
    return started, stopped


def test_boot_failing_late_at_a_port_in_use_stops_every_earlier_step_in_reverse():
    tmp = tempfile.mkdtemp(prefix="lanchat-boot-")
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, lines = _run(["--port", str(port), "--db", os.path.join(tmp, "chat.db")], tmp)
        started, stopped = _check_unwound(status, lines, "http", r"cannot listen on")
        assert {"store", "sessions", "hub", "gate", "delivery"} <= set(stopped), stopped
        assert "open" not in stopped, stopped
    finally:
        taken.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_boot_failing_at_a_database_directory_it_cannot_make_stops_only_what_started():
    tmp = tempfile.mkdtemp(prefix="lanchat-boot-")
    try:
        blocker = os.path.join(tmp, "file")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        db = os.path.join(blocker, "sub", "chat.db")
        status, lines = _run(["--port", "0", "--db", db], tmp)
        started, stopped = _check_unwound(status, lines, "store",
                                          r"cannot create the database directory")
        assert stopped == ["pools", "civetweb"], stopped
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_boot_refuses_a_listen_address_civetweb_cannot_bind_before_any_step():
    # Debian's CivetWeb has no IPv6 and resolves no names: these failed at the
    # http step, after the store had made its file, as "invalid port spec"
    tmp = tempfile.mkdtemp(prefix="lanchat-boot-")
    try:
        db = os.path.join(tmp, "chat.db")
        for address in ("[::]", "::1", "localhost"):
            status, lines = _run(["--listen", address, "--port", "0", "--db", db], tmp)
            text = "\n".join(lines)
            assert status == 2, "exit status %r for %s:\n%s" % (status, address, text)
            assert lines[0] == "lanchat: bad value for --listen: %s (give an IPv4 address of " \
                "this machine, such as 127.0.0.1, or 0.0.0.0 for every interface: the CivetWeb " \
                "library has no IPv6 and resolves no host names)" % address, text
            assert _steps(lines) == ([], []), text
            assert not os.path.exists(db), text
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_boot_makes_a_missing_database_directory():
    with Server(["--db", "PLACEHOLDER"], start=False) as srv:
        db = os.path.join(srv.tmpdir, "new", "chat.db")
        srv.extra_args[srv.extra_args.index("PLACEHOLDER")] = db
        srv.start()
        assert srv.get("/healthz").status == 200
        assert os.path.isfile(db)


def test_boot_failing_at_an_unreadable_tls_certificate_stops_what_started():
    if not has("tls"):
        return
    tmp = tempfile.mkdtemp(prefix="lanchat-boot-")
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            tls_port = s.getsockname()[1]
        cert = os.path.join(tmp, "missing.crt")
        status, lines = _run(["--port", "0", "--db", os.path.join(tmp, "chat.db"),
                              "--tls-port", str(tls_port), "--tls-cert", cert,
                              "--tls-key", cert], tmp)
        started, stopped = _check_unwound(status, lines, "tls", r"missing\.crt")
        assert "writer" in started and "gate" not in stopped, (started, stopped)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_boot_ladder_on_sigterm_stops_every_step_once_in_reverse():
    with Server(["--debug"], label="boot --debug") as srv:
        assert srv.get("/healthz").status == 200
        assert srv.stop() == 0
        lines = list(srv.lines)
    started, stopped = _steps(lines)
    assert started[-1] == "open" and started[0] == "civetweb", started
    assert stopped == [s for s in reversed(started) if s in STOPPABLE], (started, stopped)
    assert lines[-1].endswith("info main: stopped"), lines[-5:]


DEBUG_LINE = re.compile(r"^\S+ debug ")
FRAME_IN = re.compile(r" debug ws: frame in from (\S+): send, \d+ bytes$")
FRAME_OUT = re.compile(r" debug deliver: frame out to (\S+): ack, \d+ bytes$")
COMMIT = re.compile(r" debug store: committed a batch of \d+ job\(s\), 1 message\(s\), in [\d.]+ ms$")


def _chat_once(srv, secret):
    """A WebSocket send and a REST post, each acknowledged."""
    from harness import next_frame, uname
    token = srv.session(uname("dbg"))
    ws = srv.ws(token)
    ws.send_json({"type": "send", "room": "general", "body": secret, "cid": "d1"})
    while True:
        f = next_frame(ws)
        if f.get("type") == "ack":
            break
    srv.send(token, "general", secret + "2", cid="d2")
    ws.close()
    return token


def test_debug_logs_frames_and_commits_and_never_a_body_or_token():
    secret = "body-that-must-not-be-logged"
    with Server(["--debug"], label="debug") as srv:
        token = _chat_once(srv, secret)
        srv.wait_log(FRAME_IN)
        srv.wait_log(FRAME_OUT)
        srv.wait_log(COMMIT)
        lines = list(srv.lines)
    assert not any(secret in line or token in line for line in lines), \
        [line for line in lines if secret in line or token in line]


def test_without_debug_no_debug_line_is_written():
    with Server([], label="no debug") as srv:
        _chat_once(srv, "quiet")
        srv.wait_log(r"info deliver: WebSocket of \S+ closed")
        srv.stop()
        lines = list(srv.lines)
    assert not any(DEBUG_LINE.search(line) for line in lines), \
        [line for line in lines if DEBUG_LINE.search(line)][:5]
