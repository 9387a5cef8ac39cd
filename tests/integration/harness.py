"""Harness for lanchat's black-box integration tests (stdlib only).

Starts the real binary (LANCHAT_BIN, default build/desktop/lanchat of the
repository this file is in) on 127.0.0.1 with an ephemeral port and a database in a fresh temp dir,
learns the port from the "listening on http://127.0.0.1:PORT" log line,
and gives tests small HTTP and WebSocket helpers.

Servers shared by the tests of one module come from shared(); the runner
stops them after the module (stop_shared()). Tests that need special flags
use `with Server(["--flag", "value"]) as srv:`.
"""

import atexit
import functools
import http.client
import json
import os
import resource
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

from wsclient import WSClient, HandshakeError, ConnectionClosed  # noqa: E402

DEFAULT_BIN = os.path.join(REPO, "build", "desktop", "lanchat")
READY_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
TLS_READY_RE = re.compile(r"listening on https://127\.0\.0\.1:(\d+)")
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def binary():
    return os.environ.get("LANCHAT_BIN", DEFAULT_BIN)


LOADGEN = os.path.join(REPO, "build", "loadgen")


def run_loadgen(srv, *args, timeout=180):
    """Runs the load generator (build/loadgen, made by `make`) against srv;
    returns (exit status, its JSON report)."""
    argv = [LOADGEN, "--url", "http://127.0.0.1:%d" % srv.port, "--pid", str(srv.proc.pid),
            "--json-only"] + [str(a) for a in args]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    out = done.stdout.decode("utf-8", "replace").strip().splitlines()
    assert out, "loadgen printed nothing (exit %d): %s" % (done.returncode,
                                                          done.stderr.decode()[-2000:])
    return done.returncode, json.loads(out[-1])


# ---------------------------------------------------------------- features
_features = None
_version_text = None


def free_port():
    """A TCP port nobody listens on now (for a second listener: HTTPS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def features():
    """Set of feature names from `<bin> --version` ("features: ..." line); run once."""
    global _features, _version_text
    if _features is None:
        out = subprocess.run([binary(), "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=10)
        text = out.stdout.decode("utf-8", "replace")
        _version_text = text
        feats = None
        for line in text.splitlines():
            m = re.match(r"\s*features:\s*(.*)$", line)
            if m:
                words = m.group(1).split()
                feats = set() if words == ["none"] else set(words)
        if feats is None:
            raise RuntimeError("%s --version printed no 'features:' line:\n%s" % (binary(), text))
        _features = feats
    return _features


def has(feature):
    return feature in features()


# ---------------------------------------------------------------- sanitizers
# `make test-asan` / `make test-tsan` run this suite against a binary built
# with AddressSanitizer + UndefinedBehaviorSanitizer or ThreadSanitizer. The
# servers then write every report into SANITIZER_DIR (one file per process,
# <tool>.<pid>) and stop at the first one; the runner fails the test during
# which a report appeared (sanitizer_reports()).
_sanitizer = []
SANITIZER_DIR = None
SUPPRESSIONS = os.path.normpath(os.path.join(HERE, "..", "tsan.supp"))


def sanitizer():
    """"address" (ASan + UBSan), "thread" (TSan) or None: what the binary was built with."""
    if not _sanitizer:
        kind = None
        try:
            with open(binary(), "rb") as f:
                image = f.read()
            if b"__asan_init" in image:
                kind = "address"
            elif b"__tsan_init" in image:
                kind = "thread"
        except OSError:
            pass
        _sanitizer.append(kind)
    return _sanitizer[0]


def server_env():
    global SANITIZER_DIR
    kind = sanitizer()
    if kind is None:
        return None
    if SANITIZER_DIR is None:
        SANITIZER_DIR = tempfile.mkdtemp(prefix="lanchat-san-")
        atexit.register(shutil.rmtree, SANITIZER_DIR, True)
    env = dict(os.environ)
    common = "halt_on_error=1:exitcode=86:log_path=%s/%%s" % SANITIZER_DIR
    if kind == "address":
        # LeakSanitizer runs at exit too: a server that leaks fails its test.
        # verify_asan_link_order=0: tests that LD_PRELOAD a shim of their own
        # (tests/vfs/powerloss.c, test_gate's) put it before libasan.
        env["ASAN_OPTIONS"] = (common % "asan") + ":detect_leaks=1:abort_on_error=0" \
            ":verify_asan_link_order=0"
        env["UBSAN_OPTIONS"] = (common % "ubsan") + ":print_stacktrace=1"
    else:
        env["TSAN_OPTIONS"] = (common % "tsan") + ":second_deadlock_stack=1:suppressions=" \
            + SUPPRESSIONS
    return env


# Starting and stopping a sanitizer build take several times longer: TSan
# maps shadow memory for every pool at start, which took 20 s on the 2-core
# machine under load (1 s for the plain build). Only these two bounds grow;
# no test's own expectation changes.
def emulated():
    """Whether the binary is a board's build run under qemu-user (make
    integration-emulated): its start-up, six schema steps each committed with
    fsync included, is several times slower than a native one."""
    return os.sep + "emulated" + os.sep in binary()


def ready_timeout():
    return READY_TIMEOUT * (6 if sanitizer() else 3 if emulated() else 1)


def stop_timeout():
    return STOP_TIMEOUT * (3 if sanitizer() else 1)


_reports_seen = set()
_server_labels = {}  # pid -> label, to name the server in a report
# Reports that reach the server's output instead (UBSan's, under ASan, do).
SANITIZER_LINE = re.compile(r"runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                            r"WARNING: ThreadSanitizer|ERROR: ThreadSanitizer")
_output_reports = []


def sanitizer_reports():
    """Reports written since the last call, as text (empty when none)."""
    if SANITIZER_DIR is None:
        return ""
    with _lock:
        out = ["---- sanitizer report in the output of server %s ----\n%s" % r
               for r in _output_reports]
        _output_reports.clear()
    for fname in sorted(os.listdir(SANITIZER_DIR)):
        if fname in _reports_seen:
            continue
        _reports_seen.add(fname)
        pid = fname.rsplit(".", 1)[-1]
        label = _server_labels.get(int(pid) if pid.isdigit() else -1, "?")
        with open(os.path.join(SANITIZER_DIR, fname), errors="replace") as f:
            text = f.read()
        out.append("---- sanitizer report %s (server %s) ----\n%s" % (fname, label, text))
    return "\n".join(out)


# ---------------------------------------------------------------- bookkeeping
_live_servers = []       # Server objects currently running
_recent_tails = []       # (label, tail text) of servers stopped during the current test
_open_ws = []            # WSClients opened during the current test
_name_counter = [0]
_all_servers = []        # every Server created, closed at exit at the latest
_reapers = []            # threads finishing asynchronous close()s
unclean_stops = []       # servers that needed SIGKILL after SIGTERM
_lock = threading.RLock()


def wait_reapers():
    """Wait until every asynchronously closed server has exited and been cleaned up."""
    while _reapers:
        _reapers.pop().join(stop_timeout() + 10)


@atexit.register
def _close_all_servers():
    for srv in list(_all_servers):
        try:
            srv.close(wait=True)
        except Exception:
            pass
    wait_reapers()


def uname(prefix="u"):
    """A user/room name unique within this run (valid: [A-Za-z0-9_.-], <= 32 chars)."""
    _name_counter[0] += 1
    name = "%s%d_%d" % (prefix, os.getpid() % 10000, _name_counter[0])
    assert len(name) <= 32, name
    return name


def begin_test():
    with _lock:
        _recent_tails.clear()
    _open_ws.clear()


def end_test():
    for ws in list(_open_ws):
        if not ws.closed:
            ws.close(wait=0.5)
        else:
            ws.abort()
    _open_ws.clear()


def failure_logs(lines=30):
    """Tails of the logs of servers running now or stopped during the current test."""
    out = []
    for label, tail in _recent_tails:
        out.append("---- server log tail (%s, stopped) ----\n%s" % (label, tail))
    with _lock:
        live = [srv for srv in _live_servers if not srv._closed]
    for srv in live:
        out.append("---- server log tail (%s) ----\n%s" % (srv.label, srv.log_tail(lines)))
    for broker in list(_all_brokers):
        out.append("---- mosquitto log tail (port %d) ----\n%s" % (broker.port,
                                                                  broker.log_tail(lines)))
    return "\n".join(out)


# ---------------------------------------------------------------- HTTP
class Response:
    def __init__(self, status, headers, raw, request=None):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.raw = raw
        self.request = request          # "METHOD path body..." for messages

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.raw.decode("utf-8"))
        except ValueError as e:
            raise AssertionError("response body is not JSON (status %d): %r"
                                 % (self.status, self.raw[:300])) from e

    def __repr__(self):
        text = "<HTTP %d %r>" % (self.status, self.raw[:300])
        if self.request:
            text += " in answer to " + self.request
        return text


def expect(resp, status):
    """Assert the status and a JSON content type; return the parsed body."""
    assert resp.status == status, "expected HTTP %d, got %r" % (status, resp)
    ctype = resp.header("Content-Type") or ""
    assert ctype.lower().startswith("application/json"), \
        "expected a JSON Content-Type, got %r (%r)" % (ctype, resp)
    return resp.json()


def expect_error(resp, status, code):
    """Assert {"error":{"code":code,"message":<non-empty str>}} with the given status."""
    body = expect(resp, status)
    assert isinstance(body, dict) and set(body) == {"error"}, "bad error shape: %r" % (body,)
    err = body["error"]
    assert isinstance(err, dict) and set(err) == {"code", "message"}, "bad error shape: %r" % (body,)
    assert err["code"] == code, "expected error code %r, got %r (HTTP %d)" % (code, err["code"],
                                                                            resp.status)
    assert isinstance(err["message"], str) and err["message"], "empty error message: %r" % (body,)
    return err


MESSAGE_KEYS = {"id", "room", "author", "body", "ts", "cid"}


def session_answer(name, admin=False):
    """What GET /api/v1/session answers (and the login, with its token): the
    user, and with feature "moderation" whether the account is an admin."""
    user = {"name": name}
    if has("moderation"):
        user["admin"] = admin
    return {"user": user}


def check_message(m, room=None, author=None, body=None, cid=None, cid_given=True):
    """Assert the exact message shape (and the given values)."""
    assert isinstance(m, dict) and set(m) == MESSAGE_KEYS, "bad message shape: %r" % (m,)
    assert isinstance(m["id"], int) and not isinstance(m["id"], bool) and m["id"] > 0, m
    assert isinstance(m["ts"], int) and not isinstance(m["ts"], bool), m
    now = time.time() * 1000
    assert abs(m["ts"] - now) < 10 * 60 * 1000, "ts %r is not ms since epoch (now %d)" % (m["ts"],
                                                                                          now)
    assert isinstance(m["room"], str) and isinstance(m["author"], str), m
    assert isinstance(m["body"], str), m
    assert m["cid"] is None or isinstance(m["cid"], str), m
    if room is not None:
        assert m["room"] == room, "room %r != %r" % (m["room"], room)
    if author is not None:
        assert m["author"] == author, "author %r != %r" % (m["author"], author)
    if body is not None:
        assert m["body"] == body, "body %r != %r" % (m["body"][:80], body[:80])
    if cid_given:
        assert m["cid"] == cid, "cid %r != %r" % (m["cid"], cid)
    return m


# ---------------------------------------------------------------- server
class Server:
    """One lanchat process with its own temp dir and database."""

    def __init__(self, extra_args=(), label=None, preexec_fn=None, start=True, tls=False,
                 env=None, tmpdir=None):
        """tls: HTTPS on a free port (self.tls_port, material in self.tls_dir);
        otherwise a build with TLS runs with --tls-port 0 (off)."""
        self.extra_args = list(extra_args)
        self.env = env  # variables added to this process's environment for the server
        self.tls = tls
        self.tls_port = None
        self.label = label or ("lanchat " + " ".join(self.extra_args)).strip()
        self.preexec_fn = preexec_fn
        self.tmpdir = tempfile.mkdtemp(prefix="lanchat-it-", dir=tmpdir)
        self.db = os.path.join(self.tmpdir, "chat.db")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self.proc = None
        self.port = None
        self.lines = []
        self._cond = threading.Condition()
        self._reader = None
        self._closed = False
        self._record_tail = True   # False once closed asynchronously (test is over)
        self.starts = 0
        with _lock:
            _all_servers.append(self)
        if start:
            try:
                self.start()
            except BaseException:
                self.close()
                raise

    # -- process control
    def _env(self):
        """The server's environment: the sanitizer's settings, then the test's own."""
        env = server_env()
        if self.env:
            env = dict(env or os.environ, **self.env)
        return env

    def argv(self):
        defaults = [("--listen", "127.0.0.1"), ("--port", "0"), ("--db", self.db),
                    ("--rate-limit", "0"), ("--sessions-per-address", "0")]
        if has("tls") and not self.tls:
            defaults.append(("--tls-port", "0"))
        elif self.tls:
            if self.tls_port is None:
                self.tls_port = free_port()
            defaults.append(("--tls-port", str(self.tls_port)))
        args = [binary()]
        for opt, val in defaults:
            if opt not in self.extra_args:
                args += [opt, val]
        return args + self.extra_args

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("==== start #%d: %s\n" % (self.starts, " ".join(self.argv()))).encode())
        log.flush()
        with self._cond:
            self.lines = []
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=self.tmpdir, preexec_fn=self.preexec_fn,
                                     env=self._env())
        _server_labels[self.proc.pid] = self.label
        self._reader = threading.Thread(target=self._read_output, args=(self.proc, log),
                                        daemon=True)
        self._reader.start()
        with _lock:
            _live_servers.append(self)
        try:
            m = self.wait_log(READY_RE, timeout=ready_timeout())
        except AssertionError:
            self._terminate()
            raise AssertionError("server did not print 'listening on http://127.0.0.1:PORT' "
                                 "within %.0f s; exit=%r; log:\n%s"
                                 % (ready_timeout(), self.proc.poll(), self.log_tail(40)))
        self.port = int(m.group(1))
        assert self.port > 0, "server reported port 0"
        if self.tls:
            self.wait_log(TLS_READY_RE, timeout=READY_TIMEOUT)
        return self

    # -- TLS
    @property
    def tls_dir(self):
        return os.path.join(self.tmpdir, "tls")

    def ssl_context(self):
        """Verifies the server against the CA it made (tls/ca.crt), nothing else."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.tls_dir, "ca.crt"))
        return ctx

    def https(self, method, path, body=None, headers=None, host="localhost", timeout=10.0):
        """One request over HTTPS to 127.0.0.1, verified as `host`."""
        conn = http.client.HTTPSConnection(host, self.tls_port, timeout=timeout,
                                           context=self.ssl_context())
        try:
            hdrs = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode("utf-8")
                hdrs["Content-Type"] = "application/json"
            raw_sock = socket.create_connection(("127.0.0.1", self.tls_port), timeout)
            conn.sock = self.ssl_context().wrap_socket(raw_sock, server_hostname=host)
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
            return Response(r.status, r.getheaders(), raw, "%s https:%s" % (method, path))
        finally:
            conn.close()

    def wss(self, token, host="localhost", timeout=10.0):
        """Opens /api/v1/ws over TLS (cookie auth) and reads the hello."""
        ws = WSClient.connect("127.0.0.1", self.tls_port, "/api/v1/ws",
                              headers={"Cookie": "session=" + token,
                                       "Host": "%s:%d" % (host, self.tls_port)},
                              timeout=timeout, ssl_context=self.ssl_context(),
                              server_hostname=host)
        _open_ws.append(ws)
        f = ws.recv_json(timeout)
        assert f.get("type") == "hello", "first frame is not hello: %r" % (f,)
        ws.hello = f
        return ws

    def _read_output(self, proc, log):
        try:
            for line in iter(proc.stdout.readline, b""):
                log.write(line)
                log.flush()
                text = line.decode("utf-8", "replace").rstrip("\n")
                with self._cond:
                    self.lines.append(text)
                    self._cond.notify_all()
                if SANITIZER_DIR is not None and SANITIZER_LINE.search(text):
                    with _lock:
                        _output_reports.append((self.label, text))
        finally:
            log.close()
            with self._cond:
                self._cond.notify_all()

    def wait_log(self, regex, timeout=10.0, start=0):
        """Wait for a log line (since the last start, from index `start`) matching regex."""
        if isinstance(regex, str):
            regex = re.compile(regex)
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.lines):
                    m = regex.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no log line matching %r within %.1f s"
                                         % (regex.pattern, timeout))
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError("server exited (status %r) before logging %r"
                                         % (self.proc.returncode, regex.pattern))
                self._cond.wait(min(left, 0.5))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _terminate(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(stop_timeout())
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self._after_exit()
                return "killed"
        self._after_exit()
        return self.proc.returncode

    def _after_exit(self):
        if self._reader is not None:
            self._reader.join(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        with _lock:
            if self in _live_servers:
                _live_servers.remove(self)
                if self._record_tail:
                    _recent_tails.append((self.label, self.log_tail(30)))

    def stop(self):
        """SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status or "killed"."""
        return self._terminate()

    def kill9(self):
        assert self.running(), "server is not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._after_exit()
        return self.proc.returncode

    def wait_exit(self, timeout):
        """Wait for the server to end by itself (it was told to); returns its status."""
        self.proc.wait(timeout)
        self._after_exit()
        return self.proc.returncode

    def restart(self):
        """SIGTERM and start again on the same database; returns the exit status."""
        rc = self.stop()
        self.start()
        return rc

    def close(self, wait=False):
        """Stop (SIGTERM, up to 10 s, then SIGKILL) and remove the temp dir. With
        wait=False the SIGTERM is sent now and the waiting and cleanup go on in a
        reaper thread (the server takes a while to exit); wait_reapers() joins them."""
        if self._closed:
            return
        self._closed = True
        if wait:
            self._reap()
            return
        with _lock:
            if self._record_tail and self in _live_servers:
                _recent_tails.append((self.label, self.log_tail(30)))
            self._record_tail = False
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        t = threading.Thread(target=self._reap, daemon=True)
        t.start()
        _reapers.append(t)

    def _reap(self):
        try:
            rc = self._terminate()
            if rc == "killed":
                unclean_stops.append("%s: did not exit within %.0f s of SIGTERM (killed)"
                                     % (self.label, stop_timeout()))
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            with _lock:
                if self in _all_servers:
                    _all_servers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log_tail(self, n=30):
        with self._cond:
            lines = list(self.lines[-n:])
        return "\n".join(lines)

    # -- HTTP
    def request(self, method, path, body=None, token=None, cookie=None, headers=None,
                ctype="application/json", timeout=10.0, source=None):
        """One request on a fresh connection. body: dict/list (JSON), str, bytes or None.
        token -> Authorization: Bearer; cookie -> Cookie: session=<cookie>."""
        hdrs = {}
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = body
            if ctype is not None:
                hdrs["Content-Type"] = ctype
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if cookie is not None:
            hdrs["Cookie"] = "session=" + cookie
        for k, v in (headers or {}).items():
            hdrs[k] = v
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
            req = "%s %s" % (method, path)
            if data is not None:
                req += " %r" % (data[:100] + (b"..." if len(data) > 100 else b""),)
                if ctype != "application/json":
                    req += " (Content-Type %r)" % (ctype,)
            return Response(r.status, r.getheaders(), raw, req)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- API shortcuts
    def session(self, name, password=None):
        """POST /api/v1/session; asserts 201; returns the token."""
        body = {"name": name}
        if password is not None:
            body["password"] = password
        r = self.post("/api/v1/session", body)
        data = expect(r, 201)
        assert data.get("user", {}).get("name") == name, data
        assert data == dict(session_answer(name, data["user"].get("admin", False)),
                            token=data["token"]), data
        return data["token"]

    def register(self, name, password):
        r = self.post("/api/v1/users", {"name": name, "password": password})
        data = expect(r, 201)
        assert data == {"user": {"name": name}}, data

    def create_room(self, token, name):
        r = self.post("/api/v1/rooms", {"name": name}, token=token)
        data = expect(r, 201)
        assert data == {"name": name}, data
        return name

    def send(self, token, room, body, cid=None, status=201):
        payload = {"body": body}
        if cid is not None:
            payload["cid"] = cid
        r = self.post("/api/v1/rooms/%s/messages" % room, payload, token=token)
        return expect(r, status)

    def history(self, token, room, **params):
        qs = "&".join("%s=%s" % (k, v) for k, v in params.items())
        r = self.get("/api/v1/rooms/%s/messages%s" % (room, "?" + qs if qs else ""), token=token)
        data = expect(r, 200)
        assert isinstance(data, dict) and set(data) == {"messages", "has_more"}, data
        assert isinstance(data["has_more"], bool), data
        assert isinstance(data["messages"], list), data
        return data

    def all_history(self, token, room):
        """Every stored message of a room, ascending, via after= paging."""
        out = []
        after = 0
        for _ in range(10000):
            page = self.history(token, room, after=after, limit=200)
            out += page["messages"]
            if not page["has_more"]:
                return out
            assert page["messages"], "has_more true with an empty page"
            after = page["messages"][-1]["id"]
        raise AssertionError("history paging did not end")

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.text)

    # -- WebSocket
    def ws(self, token=None, bearer=False, headers=None, rcvbuf=None, read_hello=True,
           timeout=10.0, source=None):
        """Open /api/v1/ws (cookie auth unless bearer=True); reads and checks the hello."""
        h = {}
        if token is not None:
            if bearer:
                h["Authorization"] = "Bearer " + token
            else:
                h["Cookie"] = "session=" + token
        h.update(headers or {})
        ws = WSClient.connect("127.0.0.1", self.port, "/api/v1/ws", headers=h, rcvbuf=rcvbuf,
                              timeout=timeout, source=source)
        _open_ws.append(ws)
        ws.hello = None
        if read_hello:
            f = ws.recv_json(timeout)
            assert f.get("type") == "hello", "first frame is not hello: %r" % (f,)
            assert set(f) == {"type", "user", "rooms", "online"}, "bad hello shape: %r" % (f,)
            ws.hello = f
        return ws


# ---------------------------------------------------------------- shared servers
_shared = {}


def shared(*extra_args, tls=False):
    """A server with these extra args (and HTTPS if tls), shared until the runner's
    stop_shared()."""
    key = tuple(extra_args) + (("tls",) if tls else ())
    srv = _shared.get(key)
    if srv is None or not srv.running():
        if srv is not None:
            srv.close()
        srv = Server(list(extra_args), label="shared " + (" ".join(key) or "default"), tls=tls)
        _shared[key] = srv
    return srv


def stop_shared():
    for srv in list(_shared.values()):
        srv.close()
    _shared.clear()


# ---------------------------------------------------------------- feature gating
FEATURE_ROUTES = {
    # feature: (method, path, body, needs_auth)
    "accounts": ("POST", "/api/v1/users", {"name": "probe404", "password": "longenough1"}, False),
    "rooms": ("POST", "/api/v1/rooms", {"name": "probe404"}, True),
    "metrics": ("GET", "/metrics", None, False),
    "embedded-web": ("GET", "/", None, False),
    "tls": ("GET", "/api/v1/trust", None, False),
    "search": ("GET", "/api/v1/search?q=probe", None, False),
    "moderation": ("GET", "/api/v1/admin/audit", None, True),
    "direct": ("POST", "/api/v1/direct", {"name": "probe404"}, True),
}


def _typing_absent():
    """Without typing, a typing frame is an unknown frame type: an error frame,
    and the connection stays open (a join still works on it)."""
    srv = shared()
    ws = srv.ws(srv.session(uname("probe")))
    try:
        ws.send_json({"type": "typing", "room": "general"})
        f = next_frame(ws)
        assert f.get("type") == "error" and f.get("code") == "bad_request" \
            and "unknown frame type" in f.get("message", ""), f
        join(ws, "general")
    finally:
        ws.close()


def _backups_absent():
    """Without backups, `lanchat backup` and `lanchat restore` say so (exit 2)
    and an admin's download route is a 404."""
    for command in ("backup", "restore"):
        p = subprocess.run([binary(), command, "/nonexistent/x.db"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           env=server_env())
        out = p.stdout.decode(errors="replace")
        assert p.returncode == 2 and "this build has no backups" in out, (command, p.returncode, out)
    srv = shared()
    r = srv.request("GET", "/api/v1/admin/backup", token=srv.session(uname("probe")))
    expect_error(r, 404, "not_found")


# feature: what a build without it must do, for features without a route of their own
FEATURE_PROBES = {
    "typing": _typing_absent,
    "backups": _backups_absent,
}


def assert_feature_route_404(feature):
    method, path, body, auth = FEATURE_ROUTES[feature]
    srv = shared()
    token = srv.session(uname("probe")) if auth else None
    r = srv.request(method, path, body=body, token=token)
    assert r.status == 404, "feature %r is disabled, %s %s should be 404, got %r" % (
        feature, method, path, r)
    if feature != "embedded-web":
        expect_error(r, 404, "not_found")


def requires(feature):
    """Run the test when the binary has the feature; otherwise assert its route is 404
    (or what FEATURE_PROBES says a build without it does)."""
    assert feature in FEATURE_ROUTES or feature in FEATURE_PROBES, feature

    def deco(fn):
        @functools.wraps(fn)
        def wrapper():
            if has(feature):
                return fn()
            if feature in FEATURE_PROBES:
                return FEATURE_PROBES[feature]()
            return assert_feature_route_404(feature)
        return wrapper
    return deco


class isolated_room:
    """Context manager yielding (srv, token, room) where nobody else posts to room:
    a fresh room on the shared server with feature rooms, else a private server's general."""

    def __init__(self, user_prefix="iso", extra_args=()):
        self.user_prefix = user_prefix
        self.extra_args = extra_args
        self.own = None

    def __enter__(self):
        if has("rooms"):
            srv = shared(*self.extra_args)
            token = srv.session(uname(self.user_prefix))
            room = srv.create_room(token, uname("r"))
        else:
            self.own = srv = Server(list(self.extra_args), label="isolated")
            token = srv.session(uname(self.user_prefix))
            room = "general"
        return srv, token, room

    def __exit__(self, *exc):
        if self.own is not None:
            self.own.close()


# ---------------------------------------------------------------- client addresses
# Linux routes all of 127.0.0.0/8 to lo: tests bind their clients to several
# loopback addresses, as clients of a LAN, so that the server's per-address
# limits (gate, sessions per address) apply to each as they would there. The
# same 250 addresses as the load generator's (tools/loadgen, http_bind_source).
LOOPBACK_SOURCES = ["127.0.0.%d" % n for n in range(2, 252)]


def loopback_source(k, spread=len(LOOPBACK_SOURCES)):
    """The source address of the k-th client, cycling over the first `spread`
    addresses of LOOPBACK_SOURCES."""
    return LOOPBACK_SOURCES[k % min(spread, len(LOOPBACK_SOURCES))]


# ---------------------------------------------------------------- bulk posting


def bulk_post(srv, token, room, bodies, threads=8, cid_prefix=None):
    """POST many messages concurrently (so commits can batch); returns the created
    messages in the order of `bodies`. Every POST must answer 201."""
    cid_prefix = cid_prefix or uname("bulk")

    def one(i):
        payload = {"body": bodies[i], "cid": "%s-%d" % (cid_prefix, i)}
        # each thread from its own loopback address, as posters on a LAN: one
        # address may hold only part of a small board's workers (gate)
        r = srv.post("/api/v1/rooms/%s/messages" % room, payload, token=token,
                     source=loopback_source(i % threads))
        assert r.status == 201, "bulk post %d: %r" % (i, r)
        return r.json()

    with ThreadPoolExecutor(max_workers=threads) as ex:
        return list(ex.map(one, range(len(bodies))))


# ---------------------------------------------------------------- WebSocket frames
def next_frame(ws, timeout=5.0, skip=("presence", "rooms")):
    """Next JSON frame whose type is not in skip (by default presence, and the
    hint that the rooms changed, which any test's room creation sends)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no frame within %.1f s" % timeout)
        try:
            f = ws.recv_json(left)
        except socket.timeout:
            raise AssertionError("no frame within %.1f s" % timeout)
        if f.get("type") in skip:
            continue
        return f


def wait_frame(ws, timeout=5.0, max_frames=100000, **match):
    """Skip frames until one matches all key=value pairs; return it (and keep the skipped
    ones in ws.skipped)."""
    deadline = time.monotonic() + timeout
    ws.skipped = []
    for _ in range(max_frames):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            f = ws.recv_json(left)
        except socket.timeout:
            break
        if all(f.get(k) == v for k, v in match.items()):
            return f
        ws.skipped.append(f)
    raise AssertionError("no frame matching %r within %.1f s; skipped: %r"
                         % (match, timeout, ws.skipped[-5:]))


def join(ws, room, since=None, timeout=10.0):
    """Send join; return the frames received before "joined" (presence frames skipped)."""
    msg = {"type": "join", "room": room}
    if since is not None:
        msg["since"] = since
    ws.send_json(msg)
    got = []
    deadline = time.monotonic() + timeout
    for _ in range(100000):
        left = deadline - time.monotonic()
        assert left > 0, "no 'joined' for %r within %.1f s (got %d frames)" % (room, timeout,
                                                                               len(got))
        f = next_frame(ws, left)
        if f.get("type") == "joined":
            assert f == {"type": "joined", "room": room}, f
            return got
        assert f.get("type") in ("message", "gap"), "unexpected frame while joining: %r" % (f,)
        got.append(f)
    raise AssertionError("join did not end")


def parse_metrics(text):
    """{'name{labels}': float} from Prometheus text (comments skipped)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)", line)
        if m:
            try:
                out[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return out


FSIZE_LIMIT = 1024 * 1024


def _limit_file_size():
    # Runs in the child before exec: writes past 1 MiB fail with EFBIG instead of
    # killing the process with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


def disk_limited_server(label):
    """A server whose files may not grow past 1 MiB (RLIMIT_FSIZE): a full disk."""
    return Server(label=label, preexec_fn=_limit_file_size)


def post_until_the_disk_is_full(srv, token, tag):
    """Posts 2000-byte messages until one is refused; returns that response."""
    body = tag[0] * 2000
    last = None
    deadline = time.monotonic() + 25
    for i in range(2000):
        assert time.monotonic() < deadline, "still accepting after %d posts" % i
        last = srv.post("/api/v1/rooms/general/messages", {"body": body, "cid": "%s%d" % (tag, i)},
                        token=token)
        if last.status != 201:
            break
    assert last is not None and last.status != 201, \
        "2000 messages of 2000 bytes fit in a 1 MiB file size limit?"
    return last


# ---------------------------------------------------------------- MQTT broker
# Issue 12: appliances bridged through a real broker, Debian's mosquitto
# (tools/deps.sh test), each test's own: a private config, a free port on
# 127.0.0.1, its persistence in a temp dir, stopped by PID.
MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PUB = "mosquitto_pub"
BROKER_READY_TIMEOUT = 10.0


class Broker:
    """One mosquitto process with a private config and persistence dir.

    stop() ends it by PID (SIGTERM: it saves its sessions and queued QoS 1
    messages); start() runs it again on the same port and the same
    persistence, as a broker that restarts does. Used as a context manager it
    is always stopped and its dir removed at the end."""

    def __init__(self, start=True, users=None, tls=None):
        """users: {name: password} the broker wants (mosquitto_passwd); none: anonymous.
        tls: (certfile, keyfile) for an mqtts:// listener."""
        self.tmpdir = tempfile.mkdtemp(prefix="lanchat-mqtt-")
        self.port = free_port()
        self.conf = os.path.join(self.tmpdir, "mosquitto.conf")
        self.log_path = os.path.join(self.tmpdir, "mosquitto.log")
        self.proc = None
        self.starts = 0
        # As root mosquitto would switch to the user "mosquitto", who may not
        # write our temp dir; "user root" keeps it (as another user it is ignored).
        try:
            import pwd
            user = pwd.getpwuid(os.getuid()).pw_name
        except (ImportError, KeyError):
            user = "root"
        access = "allow_anonymous true\n"
        if users:
            passwd = os.path.join(self.tmpdir, "passwd")
            for k, (name, password) in enumerate(sorted(users.items())):
                subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if k == 0 else []) +
                               [passwd, name, password], check=True, timeout=30,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            access = "allow_anonymous false\npassword_file %s\n" % passwd
        self.tls = tls is not None
        if tls:
            access += "certfile %s\nkeyfile %s\n" % tls
        with open(self.conf, "w") as f:
            f.write("# written by tests/integration/harness.py (Broker)\n"
                    "listener %d 127.0.0.1\n"
                    "%s"
                    "user %s\n"
                    # sessions and their queued QoS 1 messages survive a restart
                    "persistence true\n"
                    "persistence_location %s/\n"
                    "autosave_interval 0\n"
                    # the default 1000 would drop messages queued for an
                    # appliance that is down for a while
                    "max_queued_messages 100000\n"
                    "max_queued_bytes 0\n"
                    "log_dest file %s\n"
                    "log_type error\nlog_type warning\nlog_type notice\n"
                    "log_type information\nlog_type subscribe\n"
                    "connection_messages true\n"
                    "log_timestamp_format %%H:%%M:%%S\n"
                    % (self.port, access, user, self.tmpdir, self.log_path))
        with _lock:
            _all_brokers.append(self)
        if start:
            try:
                self.start()
            except BaseException:
                self.close()
                raise

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("mqtts" if self.tls else "mqtt", self.port)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Runs mosquitto and returns once its listener accepts a connection."""
        assert not self.running(), "broker already running"
        self.starts += 1
        with open(self.log_path, "a") as f:
            f.write("==== start #%d\n" % self.starts)
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=self.tmpdir)
        deadline = time.monotonic() + BROKER_READY_TIMEOUT
        for _ in range(100000):
            if self.proc.poll() is not None:
                raise AssertionError("mosquitto exited (status %r) at start; log:\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)  # polling the listener, an observable state
        self.stop()
        raise AssertionError("mosquitto did not accept connections on port %d within %.0f s; "
                             "log:\n%s" % (self.port, BROKER_READY_TIMEOUT, self.log_tail()))

    def stop(self):
        """SIGTERM by PID and wait (SIGKILL after 10 s); returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return "killed"

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            with _lock:
                if self in _all_brokers:
                    _all_brokers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            with _lock:
                _recent_tails.append(("mosquitto :%d" % self.port, self.log_tail(30)))
        self.close()

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def publish(self, topic, payload, qos=1, retain=False, timeout=10.0, user=None,
                password=None):
        """mosquitto_pub: payload (bytes or str) sent as is, whatever bytes it holds;
        returns once the broker took it (QoS 1: its PUBACK)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        # -s (stdin) refuses an empty input: -n sends the empty message
        argv = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(self.port), "-q", str(qos),
                "-t", topic, "-s" if payload else "-n"]
        if retain:
            argv.append("-r")
        if user is not None:
            argv += ["-u", user, "-P", password]
        done = subprocess.run(argv, input=payload, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
        assert done.returncode == 0, "mosquitto_pub -t %s failed (%d): %s" % (
            topic, done.returncode, done.stdout.decode("utf-8", "replace"))


_all_brokers = []


@atexit.register
def _close_all_brokers():
    for broker in list(_all_brokers):
        try:
            broker.close()
        except Exception:
            pass


def mqtt_server(broker, node, extra_args=(), db=None, label=None):
    """A lanchat bridged to broker as --node node (its own temp dir; db: reuse
    that database file, as an appliance restarted on its disk)."""
    args = ["--mqtt", broker.url, "--node", node] + list(extra_args)
    if db is not None:
        args = ["--db", db] + args
    return Server(args, label=label or "mqtt node %s" % node)


def wait_until(what, probe, timeout=30.0, interval=0.05):
    """Calls probe() until it returns a true value (returned); bounded in time and
    count. For observable states (a history, a metric), never a fixed sleep."""
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / interval) + 100):
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise AssertionError("%s: not within %.0f s (last: %r)" % (what, timeout, last))


def wait_metrics(srv, what, predicate, timeout=30.0):
    """Polls /metrics until predicate(metrics) is true; returns those metrics."""
    seen = [None]

    def probe():
        seen[0] = srv.metrics()
        return seen[0] if predicate(seen[0]) else None

    try:
        return wait_until(what, probe, timeout)
    except AssertionError:
        mqtt = {k: v for k, v in (seen[0] or {}).items() if k.startswith("lanchat_mqtt")}
        raise AssertionError("%s on %s: not within %.0f s; mqtt metrics: %r"
                             % (what, srv.label, timeout, mqtt))


class Bridge:
    """A broker and two appliances bridged through it, nodes "a" and "b";
    returns once each has seen a message of the other (both subscribed)."""

    def __init__(self, extra_args=(), label="bridge"):
        self.broker = Broker()
        self.a = self.b = None
        try:
            self.a = mqtt_server(self.broker, "a", extra_args, label="%s a" % label)
            self.b = mqtt_server(self.broker, "b", extra_args, label="%s b" % label)
            self.handshake()
        except BaseException:
            self.close()
            raise

    def servers(self):
        return [self.a, self.b]

    def handshake(self, timeout=30.0):
        """Both connected and subscribed: a message posted on each reaches the other."""
        for srv in self.servers():
            wait_metrics(srv, "lanchat_mqtt_connected 1",
                         lambda m: m.get("lanchat_mqtt_connected") == 1, timeout)
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            tag = uname("hs")
            src.send(src.session(uname("hs")), "general", tag)
            reader = dst.session(uname("hsr"))
            wait_until("handshake %s reaches %s" % (src.label, dst.label),
                       lambda: any(m["body"] == tag for m in
                                   dst.history(reader, "general", limit=200)["messages"]),
                       timeout)

    def running(self):
        return self.broker.running() and all(s is not None and s.running()
                                             for s in self.servers())

    def close(self):
        for srv in self.servers():
            if srv is not None:
                srv.close()
        self.broker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            with _lock:
                _recent_tails.append(("mosquitto :%d" % self.broker.port,
                                      self.broker.log_tail(30)))
        self.close()


def shared_bridge():
    """A Bridge shared by the tests of one module (stopped by stop_shared())."""
    key = ("mqtt bridge",)
    bridge = _shared.get(key)
    if bridge is None or not bridge.running():
        if bridge is not None:
            bridge.close()
        bridge = Bridge(label="shared bridge")
        _shared[key] = bridge
    return bridge
