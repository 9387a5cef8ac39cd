"""The gate in front of civetweb's workers: /healthz is 200 only once every handler is
registered, and every refusal before a handler, an upgrade to another path included, is a
whole HTTP response with its status line."""

import json
import socket
import subprocess
import tempfile
import time
import os
import shutil

from harness import binary, has, server_env

UPGRADE = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _exchange(port, raw, timeout=5.0):
    """Sends raw bytes on a fresh connection; everything read until the server closes
    or the head and Content-Length bytes of the body arrived."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw.encode())
        data = b""
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if not length or len(body) >= length[0]:
                    return data
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


def _status(reply):
    line = reply.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), "no status line: %r" % (reply[:200],)
    return int(line.split()[1])


def _get(port, path):
    return _exchange(port, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Encoding: gzip\r\n"
                           "Connection: close\r\n\r\n" % (path, port))


# Widens the moment between civetweb listening and the last handler registered (the
# WebSocket's, then the page's) from microseconds to 300 ms, so that a /healthz answered
# 200 before it cannot slip through: civetweb's own function, delayed, nothing of ours.
SLOW_REGISTRATION = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
typedef void (*set_ws_fn)(void *, const char *, void *, void *, void *, void *, void *);
void mg_set_websocket_handler(void *ctx, const char *uri, void *a, void *b, void *c, void *d,
                              void *e)
{
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    ((set_ws_fn)dlsym(RTLD_NEXT, "mg_set_websocket_handler"))(ctx, uri, a, b, c, d, e);
}
"""


def _slow_registration_library(tmp):
    src = os.path.join(tmp, "slow_registration.c")
    lib = os.path.join(tmp, "slow_registration.so")
    with open(src, "w") as f:
        f.write(SLOW_REGISTRATION)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src, "-ldl"], check=True)
    return lib


def test_healthz_is_200_only_once_every_route_works():
    """Polls /healthz from the moment the process starts; the first 200 means the page,
    the API and the WebSocket endpoint answer as they will from then on."""
    for _ in range(1):
        port = _free_port()
        tmp = tempfile.mkdtemp(prefix="lanchat-gate-")
        env = dict(server_env() or os.environ, LD_PRELOAD=_slow_registration_library(tmp))
        tls = ["--tls-port", "0"] if has("tls") else []
        proc = subprocess.Popen([binary(), "--listen", "127.0.0.1", "--port", str(port),
                                 "--db", os.path.join(tmp, "chat.db")] + tls, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                assert time.monotonic() < deadline, "no 200 from /healthz within 10 s"
                assert proc.poll() is None, "server exited: %r" % proc.returncode
                try:
                    reply = _get(port, "/healthz")
                except OSError:
                    continue  # not listening yet
                status = _status(reply)
                assert status in (200, 503), reply
                if status == 200:
                    break
            page = _get(port, "/")
            assert _status(page) == 200 and b"text/html" in page.split(b"\r\n\r\n")[0], page[:300]
            ws = _exchange(port, UPGRADE % ("/api/v1/ws", port))
            assert _status(ws) == 401, ws[:300]  # the WebSocket handler's refusal
            api = _exchange(port, "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 2\r\n"
                                  "Connection: close\r\n\r\n{}" % port)
            assert _status(api) == 400, api[:300]
        finally:
            proc.terminate()
            proc.wait(10)
            shutil.rmtree(tmp, ignore_errors=True)


def test_upgrade_to_another_path_is_a_well_formed_404():
    from harness import shared
    srv = shared()
    for path in ("/", "/index.html", "/nope", "/api/v1/rooms", "/healthz"):
        reply = _exchange(srv.port, UPGRADE % (path, srv.port))
        assert _status(reply) == 404, (path, reply[:300])
        head, _, body = reply.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower(), (path, head)
        assert json.loads(body)["error"]["code"] == "not_found", (path, body)
    # the server goes on serving
    assert _status(_get(srv.port, "/healthz")) == 200


def test_one_session_cannot_hold_every_websocket_slot():
    """Past its cap (CHAT_WS_PER_SESSION, 8 by default) a session's next handshake is a
    429 with the API's JSON error; another session still gets in, and the capped one
    gets in again once one of its WebSockets closed."""
    from harness import HandshakeError, Server, uname
    with Server(label="ws-caps") as srv:
        token = srv.session(uname("greedy"))
        held = []
        try:
            refused = None
            for _ in range(64):
                try:
                    held.append(srv.ws(token))
                except HandshakeError as e:
                    refused = e
                    break
            assert refused is not None, "one session opened %d WebSockets" % len(held)
            assert 1 <= len(held) < 64, len(held)
            assert refused.status == 429, refused
            assert json.loads(refused.body)["error"]["code"] == "rate_limited", refused.body
            other = srv.ws(srv.session(uname("other")))
            held.append(other)
            held.pop(0).close()
            deadline = time.monotonic() + 10
            while True:  # the server notices the close on its I/O thread
                try:
                    held.append(srv.ws(token))
                    break
                except HandshakeError as e:
                    assert e.status == 429 and time.monotonic() < deadline, e
                    time.sleep(0.05)
        finally:
            for ws in held:
                ws.close(wait=1.0)


def test_permessage_deflate_of_cve_2026_29035_is_never_negotiated():
    """CVE-2026-29035: civetweb's permessage-deflate inflater writes out of bounds. Debian's
    libcivetweb is built without zlib (no MG_FEATURES_COMPRESSION), so the offer with the
    published trigger parameters is ignored, and a compressed (RSV1) frame, which no
    extension allows, closes the WebSocket with 1002. The server lives on."""
    import ctypes
    import struct
    import zlib
    from harness import Server, uname
    from wsclient import WSClient
    lib = ctypes.CDLL("libcivetweb.so.1")
    assert lib.mg_check_feature(0x200) == 0, "this libcivetweb has zlib: permessage-deflate"
    with Server(label="deflate") as srv:
        token = srv.session(uname("zip"))
        offer = ("permessage-deflate; client_max_window_bits=8; server_max_window_bits=8; "
                 "client_no_context_takeover, permessage-deflate")
        ws = WSClient.connect("127.0.0.1", srv.port, "/api/v1/ws",
                              headers={"Cookie": "session=" + token,
                                       "Sec-WebSocket-Extensions": offer})
        try:
            assert "sec-websocket-extensions" not in ws.handshake_headers, ws.handshake_headers
            assert ws.recv_json()["type"] == "hello"
            deflate = zlib.compressobj(wbits=-9)  # a 512-byte window, as bits=8 gets
            payload = deflate.compress(b'{"type":"join","room":"general"}' * 64)
            payload += deflate.flush(zlib.Z_SYNC_FLUSH)[:-4]
            mask = b"\x11\x22\x33\x44"
            head = struct.pack("!BBH", 0x80 | 0x40 | 0x1, 0x80 | 126, len(payload))
            ws.sock.sendall(head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload)))
            kind, code = ws.read_until_closed(timeout=10)
            assert (kind, code) == ("close", 1002), (kind, code)
        finally:
            ws.close(wait=1.0)
        assert srv.get("/healthz").status == 200
        assert srv.running()
