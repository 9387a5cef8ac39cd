"""Every reply carries the security headers (X-Content-Type-Options: nosniff,
Referrer-Policy: no-referrer), exactly once, whoever writes it: every route of
api.c's table, the pages of web.c (embedded and from --web-root, the /trust
redirect), tls.c's 308 redirect and /ca.crt, the refusals of gate and ws (a
WebSocket upgrade to another path, a handshake without a session, one over a
session's cap), 401/404/405/413/415/429, and civetweb's own refusals (a request
line it cannot parse, an HTTP version it does not speak, headers too large)."""

import os
import shutil
import socket
import tempfile

from harness import HandshakeError, Server, has, shared, uname

GZIP = {"Accept-Encoding": "gzip"}
UPGRADE = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n")


def _check(what, status, headers, want_status=None):
    """headers: list of (name, value)."""
    if want_status is not None:
        assert status == want_status, "%s: status %d, expected %d" % (what, status, want_status)
    got = {}
    for name, value in headers:
        got.setdefault(name.lower(), []).append(value.strip())
    assert got.get("x-content-type-options") == ["nosniff"], \
        "%s (HTTP %d): X-Content-Type-Options %r in %r" % (what, status,
                                                         got.get("x-content-type-options"),
                                                         headers)
    assert got.get("referrer-policy") == ["no-referrer"], \
        "%s (HTTP %d): Referrer-Policy %r in %r" % (what, status, got.get("referrer-policy"),
                                                  headers)


def _check_response(r, want_status=None):
    _check(r.request, r.status, r.headers, want_status)


def _raw(port, text, timeout=5.0):
    """Sends raw bytes on a fresh connection; the head of the reply, parsed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(text.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    assert lines[0].startswith("HTTP/"), "no status line in %r (sent %r)" % (data[:300],
                                                                               text[:80])
    status = int(lines[0].split()[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]
               if ":" in line]
    return status, headers


def test_every_api_route_and_error_carries_the_security_headers():
    srv = shared()
    name = uname("hd")
    r = srv.post("/api/v1/session", {"name": name})
    _check_response(r, 201)
    token = r.json()["token"]
    posted = srv.post("/api/v1/rooms/general/messages", {"body": "hi", "cid": "h1"}, token=token)
    _check_response(posted, 201)
    mid = posted.json()["id"]
    requests = [
        ("GET", "/api/v1/session", None, token, 200),
        ("GET", "/api/v1/rooms", None, token, 200),
        ("POST", "/api/v1/rooms", {"name": uname("hr")}, token, 201 if has("rooms") else 404),
        ("POST", "/api/v1/users", {"name": uname("hu"), "password": "longenough1"}, None,
         201 if has("accounts") else 404),
        ("GET", "/api/v1/rooms/general/messages", None, token, 200),  # chunked
        ("GET", "/api/v1/rooms/general/messages?limit=1", None, token, 200),
        ("HEAD", "/api/v1/rooms/general/messages", None, token, 405),
        ("GET", "/api/v1/messages/%d" % mid, None, token, 200),
        ("GET", "/api/v1/presence", None, token, 200),
        ("GET", "/api/v1/server", None, None, 200),
        ("GET", "/healthz", None, None, 200),
        ("HEAD", "/healthz", None, None, 405),
        ("GET", "/metrics", None, None, 200 if has("metrics") else 404),
        ("GET", "/api/v1/trust", None, None, 404),  # HTTPS is off here
        ("GET", "/ca.crt", None, None, 404),
        ("DELETE", "/api/v1/messages/%d" % mid, None, token, 204),
        ("GET", "/api/v1/messages/%d" % mid, None, token, 404),
        ("GET", "/api/v1/rooms", None, None, 401),
        ("GET", "/api/v1/nope", None, token, 404),
        ("PUT", "/api/v1/session", None, token, 405),
        ("POST", "/api/v1/rooms/general/messages", {"body": "x" * 70000}, token, 413),
        ("POST", "/api/v1/rooms/general/messages", "body=x", token, 415),
        ("OPTIONS", "/api/v1/session", None, None, None),
        ("DELETE", "/api/v1/session", None, token, 204),
    ]
    for method, path, body, tok, status in requests:
        ctype = "text/plain" if isinstance(body, str) else "application/json"
        r = srv.request(method, path, body=body, token=tok, ctype=ctype)
        _check_response(r, status)
    r = srv.post("/api/v1/rooms/general/messages", "{", token=srv.session(uname("hb")))
    _check_response(r, 400)


def test_the_pages_and_their_refusals_carry_the_security_headers():
    srv = shared()
    # without an embedded client: pages from ./web, which the test's server has not
    # (404), and /trust sent on to /trust.html
    want = 200 if has("embedded-web") else 404
    for path in ("/", "/index.html", "/trust", "/trust.html", "/app.css", "/js/main.js",
                 "/manifest.webmanifest", "/sw.js", "/sw-files.js"):
        r = srv.get(path, headers=GZIP)
        # /sw-files.js is made by the server (an empty list without a web root)
        expected = 200 if path == "/sw-files.js" else want
        _check_response(r, 302 if want == 404 and path == "/trust" else expected)
        if want == 200 and r.header("ETag"):
            _check_response(srv.get(path, headers=dict(GZIP, **{"If-None-Match": r.header(
                "ETag")})), 304)
    _check_response(srv.request("HEAD", "/", headers=GZIP), want)
    _check_response(srv.get("/no-such-page", headers=GZIP), 404)
    _check_response(srv.post("/index.html", {"x": 1}), 405)
    if want == 200:
        _check_response(srv.get("/", headers={"Accept-Encoding": "identity"}), 406)


def test_refusals_before_any_handler_carry_the_security_headers():
    srv = shared()
    port = srv.port
    # gate: an upgrade to a path without a WebSocket (written by hand: civetweb refuses
    # to write a head for an upgrade)
    _check("upgrade to /", *_raw(port, UPGRADE % ("/", port, "")), want_status=404)
    # ws: a handshake without a session
    _check("handshake without a session", *_raw(port, UPGRADE % ("/api/v1/ws", port, "")),
           want_status=401)
    # civetweb's own: a request line it cannot parse, a version it does not speak,
    # headers larger than its buffer
    status, headers = _raw(port, "GARBAGE\r\n\r\n")
    _check("unparsable request", status, headers, want_status=400)
    status, headers = _raw(port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    _check("HTTP/2.0 request line", status, headers)
    assert status >= 400, status
    status, headers = _raw(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % ("a" * 20000))
    _check("oversized headers", status, headers)
    assert status >= 400, status


def test_a_websocket_over_the_session_cap_is_refused_with_the_security_headers():
    srv = shared()
    token = srv.session(uname("wc"))
    held = []
    try:
        status = 101
        for _ in range(64):
            try:
                held.append(srv.ws(token))
            except HandshakeError:
                status, headers = _raw(srv.port, UPGRADE % ("/api/v1/ws", srv.port,
                                                            "Cookie: session=%s\r\n" % token))
                break
        _check("handshake over the session's cap", status, headers, want_status=429)
    finally:
        for ws in held:
            ws.close(wait=1.0)


def test_rate_limited_posts_carry_the_security_headers():
    with Server(["--rate-limit", "1"], label="rate 1") as srv:
        token = srv.session(uname("rl"))
        for i in range(10):
            r = srv.post("/api/v1/rooms/general/messages", {"body": "b%d" % i, "cid": "r%d" % i},
                         token=token)
            _check_response(r)
            if r.status == 429:
                break
        assert r.status == 429, r


def test_tls_redirect_ca_and_trust_carry_the_security_headers():
    if not has("tls"):
        return
    srv = shared(tls=True)
    r = srv.get("/api/v1/rooms", headers={"Host": "chat.example:80"})
    _check_response(r, 308)
    for path in ("/ca.crt", "/api/v1/trust", "/healthz"):
        _check_response(srv.get(path), 200)
    page = 200 if has("embedded-web") else 404
    for path, status in (("/", page), ("/healthz", 200), ("/api/v1/nope", 404)):
        r = srv.https("GET", path, headers=GZIP)
        _check(r.request, r.status, r.headers, status)


def test_pages_from_web_root_and_its_trust_redirect_carry_the_security_headers():
    root = tempfile.mkdtemp(prefix="lanchat-hdr-")
    try:
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>t</title>\n")
        with open(os.path.join(root, "trust.html"), "wb") as f:
            f.write(b"<!doctype html><title>trust</title>\n")
        with Server(["--web-root", root], label="web-root headers") as srv:
            _check_response(srv.get("/"), 200)
            _check_response(srv.request("HEAD", "/index.html"), 200)
            _check_response(srv.get("/trust"), 302)
            _check_response(srv.get("/missing.html"), 404)
            _check_response(srv.request("DELETE", "/index.html"), 405)
    finally:
        shutil.rmtree(root, ignore_errors=True)
