"""Edge cases: WebSocket client pool exhaustion (1013), fragmented and binary frames,
ping/pong, invalid UTF-8 over WebSocket, history with before and after, SIGTERM under
traffic, /api/v1/ws without Upgrade, HTTP keep-alive, /healthz on a database that cannot
be written, and 413 from Content-Length alone."""

import http.client
import json
import socket
import threading
import time

from harness import (ConnectionClosed, HandshakeError, Server, disk_limited_server, session_answer,
                     post_until_the_disk_is_full, expect, expect_error,
                     isolated_room, join, loopback_source, next_frame, requires, shared, uname,
                     wait_frame)
from wsclient import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT

WS_MESSAGE_KEYS = {"type", "id", "room", "author", "body", "ts", "cid"}


def _check_error_frame(f, code, cids=(None,)):
    assert isinstance(f, dict) and f.get("type") == "error", \
        "expected an error frame, got %r" % (f,)
    assert set(f) == {"type", "code", "message", "cid"}, "bad error frame shape: %r" % (f,)
    assert f["code"] == code, "expected error code %r, got %r" % (code, f)
    assert isinstance(f["message"], str) and f["message"], f
    assert f["cid"] in cids, "error cid %r not one of %r" % (f["cid"], cids)


def _send_fragments(ws, pieces):
    """One text message as len(pieces) frames: TEXT (FIN=0), CONT (FIN=0)..., CONT (FIN=1)."""
    assert len(pieces) >= 2
    for i, piece in enumerate(pieces):
        ws.send_frame(OP_TEXT if i == 0 else OP_CONT, piece, fin=(i == len(pieces) - 1))


def _ack_and_message(ws, timeout=5.0):
    """The sender of a send to a joined room gets an ack and the message, in either order."""
    deadline = time.monotonic() + timeout
    frames = [next_frame(ws, timeout)]
    frames.append(next_frame(ws, max(0.01, deadline - time.monotonic())))
    types = sorted(f.get("type") for f in frames)
    assert types == ["ack", "message"], "expected an ack and a message, got %r" % (frames,)
    if frames[0]["type"] == "ack":
        return frames[0], frames[1]
    return frames[1], frames[0]


def _still_serves(ws, room, cid):
    """The connection is open and working: a send is acked."""
    ws.send_json({"type": "send", "room": room, "body": "still here", "cid": cid})
    ack = wait_frame(ws, type="ack", cid=cid)
    assert set(ack) == {"type", "cid", "id", "ts"}, ack
    return ack


def _wait_metric(srv, name, pred, timeout=5.0):
    """Poll /metrics until pred(value) holds; returns the last value."""
    deadline = time.monotonic() + timeout
    value = None
    for _ in range(100000):
        value = srv.metrics().get(name)
        if value is not None and pred(value):
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)  # polling an exporter, bounded by the deadline
    raise AssertionError("%s = %r after %.1f s" % (name, value, timeout))


# ------------------------------------------------------------------ client pool
@requires("metrics")
def test_ws_beyond_client_pool_capacity_gets_handshake_then_close_1013():
    with Server(label="client-pool") as srv:
        before = srv.metrics()
        cap_key = 'lanchat_pool_capacity{pool="conn"}'
        exh_key = 'lanchat_pool_exhausted_total{pool="conn"}'
        assert cap_key in before and exh_key in before, \
            "missing %s or %s in /metrics" % (cap_key, exh_key)
        cap = int(before[cap_key])
        assert 0 < cap <= 4096, cap
        # as many sessions and addresses as the per-session and per-address caps need
        tokens = [srv.session(uname("pool")) for _ in range((cap + 7) // 8)]
        name = uname("pool")
        token = srv.session(name)
        conns = []
        try:
            for i in range(cap):
                conns.append(srv.ws(tokens[i // 8], source=loopback_source(i)))
            full = srv.metrics()
            assert full["lanchat_ws_connections"] == cap, \
                "ws_connections %r with %d open" % (full["lanchat_ws_connections"], cap)
            try:
                extra = srv.ws(token, read_hello=False)
            except HandshakeError as e:
                raise AssertionError("connection %d (pool of %d full) must complete the "
                                     "handshake and then be closed with 1013; got %s"
                                     % (cap + 1, cap, e))
            kind, code = extra.read_until_closed(timeout=10)
            assert (kind, code) == ("close", 1013), \
                "connection beyond the client pool: expected close 1013, got %r" % ((kind,
                                                                                    code),)
            after = srv.metrics()
            assert after[exh_key] >= before[exh_key] + 1, \
                "%s did not rise: %r -> %r" % (exh_key, before[exh_key], after[exh_key])
            # the refused one took no slot; the first ones are all still served
            assert after["lanchat_ws_connections"] == cap, after["lanchat_ws_connections"]
            conns[0].send_json({"type": "send", "room": "general", "body": "full house",
                                "cid": "fh"})
            assert wait_frame(conns[0], type="ack", cid="fh")["cid"] == "fh"

            # free one slot; once the server has noticed, a new connection is served
            conns.pop().close()
            _wait_metric(srv, "lanchat_ws_connections", lambda v: v <= cap - 1)
            # the gauge drops when the close is seen, the slot returns a little
            # later (its I/O thread frees it): wait for the slot itself
            _wait_metric(srv, 'lanchat_pool_in_use{pool="conn"}', lambda v: v <= cap - 1,
                         timeout=30.0)
            again = srv.ws(token)
            conns.append(again)
            assert again.hello["user"] == name, again.hello
            assert _still_serves(again, "general", "again")["cid"] == "again"
        finally:
            for ws in conns:
                ws.close(wait=1.0)


# ------------------------------------------------------------------ fragments
def test_ws_text_message_in_three_fragments_is_reassembled_acked_and_broadcast():
    with isolated_room("frag") as (srv, token, room):
        name = srv.get("/api/v1/session", token=token).json()["user"]["name"]
        listener = srv.ws(srv.session(uname("fragL")))
        join(listener, room)
        ws = srv.ws(token)
        join(ws, room)
        raw = json.dumps({"type": "send", "room": room, "body": "three fragments make one",
                          "cid": "frag-1"}).encode()
        third = len(raw) // 3
        _send_fragments(ws, [raw[:third], raw[third:2 * third], raw[2 * third:]])
        ack, mine = _ack_and_message(ws)
        assert set(ack) == {"type", "cid", "id", "ts"} and ack["cid"] == "frag-1", ack
        for w, f in ((ws, mine), (listener, next_frame(listener))):
            assert set(f) == WS_MESSAGE_KEYS, f
            assert (f["id"], f["room"], f["author"], f["body"], f["cid"]) == (
                ack["id"], room, name, "three fragments make one", "frag-1"), f
        stored = srv.history(token, room)["messages"]
        assert [m["body"] for m in stored] == ["three fragments make one"], stored


def test_ws_fragment_boundary_inside_a_utf8_character_is_reassembled():
    with isolated_room("fragu") as (srv, token, room):
        ws = srv.ws(token)
        join(ws, room)
        body = "caf\u00e9 \u20ac \U0001F600 fin"
        raw = json.dumps({"type": "send", "room": room, "body": body, "cid": "fu"},
                         ensure_ascii=False).encode("utf-8")
        cut1 = raw.index("\u00e9".encode()) + 1        # between the two bytes of é
        cut2 = raw.index("\U0001F600".encode()) + 2     # inside the 4-byte emoji
        _send_fragments(ws, [raw[:cut1], raw[cut1:cut2], raw[cut2:]])
        ack, f = _ack_and_message(ws)
        assert ack["cid"] == "fu", ack
        assert f["id"] == ack["id"] and f["body"] == body, f


def test_ws_ping_between_fragments_is_answered_and_message_still_reassembled():
    with isolated_room("fragp") as (srv, token, room):
        ws = srv.ws(token)
        join(ws, room)
        raw = json.dumps({"type": "send", "room": room, "body": "pinged midway",
                          "cid": "fp"}).encode()
        half = len(raw) // 2
        ws.send_frame(OP_TEXT, raw[:half], fin=False)
        ws.send_frame(OP_PING, b"midway")
        ws.send_frame(OP_CONT, raw[half:], fin=True)
        pong = None
        ack = None
        deadline = time.monotonic() + 5
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0 or (pong is not None and ack is not None):
                break
            fin, op, payload = ws.recv_frame(left)
            if op == OP_PONG:
                pong = payload
            elif op == OP_TEXT and fin:
                f = json.loads(payload.decode("utf-8"))
                if f.get("type") == "ack":
                    ack = f
                elif f.get("type") == "error":
                    raise AssertionError("error frame %r" % (f,))
            elif op == 0x8:
                raise AssertionError("connection closed: %r" % (payload,))
        assert pong == b"midway", "pong payload %r" % (pong,)
        assert ack is not None and ack["cid"] == "fp", ack


def test_ws_fragments_totalling_over_16KiB_close_with_1009():
    srv = shared()
    token = srv.session(uname("fragbig"))
    ws = srv.ws(token)
    raw = json.dumps({"type": "send", "room": "general", "body": "z" * 17000,
                      "cid": "fb"}).encode()
    assert len(raw) > 16384
    pieces = [raw[:8000], raw[8000:16000], raw[16000:]]
    assert all(len(p) <= 8000 for p in pieces), "each fragment alone is well under 16 KiB"
    try:
        _send_fragments(ws, pieces)
    except OSError:
        pass  # the server may close before the last fragment; the close frame tells why
    kind, code = ws.read_until_closed(timeout=10)
    assert (kind, code) == ("close", 1009), \
        "fragments totalling %d bytes: expected close 1009, got %r" % (len(raw), (kind, code))
    assert expect(srv.get("/healthz"), 200) == {"status": "ok"}
    stored = [m["cid"] for m in srv.history(token, "general", limit=200)["messages"]
              if m["author"] == ws.hello["user"]]
    assert stored == [], "the oversized message was stored: %r" % (stored,)


# ------------------------------------------------------------------ binary / ping / utf-8
def test_ws_binary_frame_is_error_bad_request_and_connection_stays_open():
    srv = shared()
    token = srv.session(uname("bin"))
    ws = srv.ws(token)
    ws.send_frame(OP_BINARY, b"\x00\x01\x02\xff binary")
    _check_error_frame(next_frame(ws), "bad_request")
    # even a binary frame holding a valid send is refused, not stored
    ws.send_frame(OP_BINARY, json.dumps({"type": "send", "room": "general",
                                         "body": "as binary", "cid": "bn1"}).encode())
    _check_error_frame(next_frame(ws), "bad_request", cids=(None, "bn1"))
    _still_serves(ws, "general", "bin-ok")
    assert join(ws, "general") == []


def test_ws_ping_is_answered_with_pong_carrying_the_same_payload():
    srv = shared()
    ws = srv.ws(srv.session(uname("ping")))
    for payload in [b"lanchat-ping-\x00\xff", b"", bytes(range(125))]:
        ws.send_frame(OP_PING, payload)
        got = None
        deadline = time.monotonic() + 5
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            fin, op, data = ws.recv_frame(left)
            if op == OP_PONG:
                got = data
                break
            assert op == OP_TEXT, "unexpected frame opcode %#x %r" % (op, data[:100])
        assert got == payload, "ping %r answered with pong %r" % (payload[:20], got)
    _still_serves(ws, "general", "ping-ok")


def test_ws_send_with_invalid_utf8_body_closes_1007_and_stores_nothing():
    """RFC 6455 8.1: text that is not UTF-8 fails the connection (1007); a browser
    cannot send it. tests/integration/test_rfc6455.py has the full checklist."""
    with isolated_room("wsutf") as (srv, token, room):
        cases = [b'"ab\xffcd"', b'"\xc0\xaf"', b'"x\xed\xa0\x80y"', b'"\xe2\x82"',
                 b'"\xf5\x80\x80\x80"']
        for i, body in enumerate(cases):
            ws = srv.ws(token)
            cid = "iu%d" % i
            raw = (b'{"type":"send","room":"' + room.encode() + b'","body":' + body
                   + b',"cid":"' + cid.encode() + b'"}')
            ws.send_frame(OP_TEXT, raw)
            kind, code = ws.read_until_closed(timeout=10)
            assert (kind, code) == ("close", 1007), \
                "text frame %r: expected close 1007, got %r" % (raw, (kind, code))
            ws.close()
        ws = srv.ws(token)
        ack = _still_serves(ws, room, "utf-ok")
        stored = srv.history(token, room)["messages"]
        assert [m["id"] for m in stored] == [ack["id"]], \
            "a message with invalid UTF-8 was stored: %r" % (stored,)


# ------------------------------------------------------------------ history
def test_history_with_both_before_and_after_is_400():
    with isolated_room("hba") as (srv, token, room):
        m = srv.send(token, room, "pivot")
        for qs in ["before=%d&after=0" % (m["id"] + 1), "after=0&before=%d" % (m["id"] + 1),
                   "before=%d&after=%d&limit=10" % (m["id"] + 1, m["id"] - 1)]:
            r = srv.get("/api/v1/rooms/%s/messages?%s" % (room, qs), token=token)
            expect_error(r, 400, "bad_request")


# ------------------------------------------------------------------ shutdown
def test_sigterm_under_websocket_and_rest_traffic_exits_0_and_keeps_acked_messages():
    with Server(label="sigterm-traffic") as srv:
        lock = threading.Condition()
        acks = []      # (time received, id, author, body, cid)
        problems = []  # (time, what) seen by the traffic threads
        bad_acks = []  # (time, response, cid): a 201 that does not carry the message
        stop = threading.Event()
        clients = []
        for k in range(3):
            name = uname("term%d" % k)
            tok = srv.session(name)
            ws = srv.ws(tok)
            join(ws, "general")          # so every send also fans out to three sockets
            clients.append((name, ws))
        rest_name = uname("termR")
        rest_tok = srv.session(rest_name)

        def record(mid, author, body, cid):
            with lock:
                acks.append((time.monotonic(), mid, author, body, cid))
                lock.notify_all()

        def ws_traffic(name, ws, tag):
            deadline = time.monotonic() + 40
            for i in range(100000):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                cid = "%s-%d" % (tag, i)
                body = "traffic %s %d" % (tag, i)
                try:
                    ws.send_json({"type": "send", "room": "general", "body": body, "cid": cid})
                except OSError:
                    return
                for _ in range(100000):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    try:
                        msg = ws.recv(left)
                    except (ConnectionClosed, socket.timeout, OSError):
                        return
                    if msg[0] != "text":
                        return          # a close frame: the server is going away
                    f = json.loads(msg[1])
                    if f.get("type") == "ack" and f.get("cid") == cid:
                        record(f["id"], name, body, cid)
                        break
                    if f.get("type") == "error":
                        problems.append((time.monotonic(), f))
                        return
                else:
                    return

        def rest_traffic(tag):
            deadline = time.monotonic() + 40
            for i in range(100000):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                cid = "%s-%d" % (tag, i)
                body = "traffic %s %d" % (tag, i)
                try:
                    r = srv.post("/api/v1/rooms/general/messages", {"body": body, "cid": cid},
                                 token=rest_tok, timeout=5)
                except (OSError, http.client.HTTPException):
                    return
                if r.status != 201:
                    problems.append((time.monotonic(), r))
                    return
                try:
                    m = r.json()
                except AssertionError:
                    m = None
                if not (isinstance(m, dict) and isinstance(m.get("id"), int)
                        and (m.get("body"), m.get("cid")) == (body, cid)):
                    bad_acks.append((time.monotonic(), r, cid))
                    return
                record(m["id"], rest_name, body, cid)

        def guarded(fn, *args):
            def run():
                try:
                    fn(*args)
                except BaseException as e:  # reported by the main thread
                    problems.append((time.monotonic(), "%s: %r" % (fn.__name__, e)))
            return threading.Thread(target=run, daemon=True)

        threads = [guarded(ws_traffic, name, ws, "w%d" % k)
                   for k, (name, ws) in enumerate(clients)]
        threads += [guarded(rest_traffic, "r%d" % k) for k in range(3)]
        for t in threads:
            t.start()
        try:
            with lock:
                ok = lock.wait_for(lambda: len(acks) >= 100, timeout=20)
                acked_before = list(acks)
            assert ok, "only %d acks within 20 s; problems: %r" % (len(acked_before),
                                                                  problems[:3])
            t_sig = time.monotonic()
            rc = srv.stop()                 # SIGTERM while the threads keep sending
            took = time.monotonic() - t_sig
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        assert not any(t.is_alive() for t in threads), "traffic threads did not end"
        assert rc == 0, "SIGTERM with %d open WebSockets and traffic: exit status %r " \
            "(\"killed\" = still running after 10 s)" % (len(clients), rc)
        assert took < 10, "exit took %.1f s" % took
        early = [p for p in problems if p[0] < t_sig]
        assert not early, "errors before SIGTERM: %r" % (early[:3],)
        with lock:
            all_acks = list(acks)

        srv.start()
        reader = srv.session(uname("termRd"))
        stored = {m["id"]: m for m in srv.all_history(reader, "general")}
        lost_before = []
        lost_after = []
        for t, mid, author, body, cid in all_acks:
            m = stored.get(mid)
            if m is None or (m["author"], m["body"], m["cid"]) != (author, body, cid):
                (lost_before if t < t_sig else lost_after).append((mid, cid, m))
        assert not lost_before, "%d of %d messages acked before SIGTERM are missing or " \
            "changed after restart, e.g. %r" % (len(lost_before), len(acked_before),
                                                lost_before[:3])
        assert not lost_after, "%d messages acked after SIGTERM (during shutdown) are " \
            "missing after restart, e.g. %r" % (len(lost_after), lost_after[:3])
        if bad_acks:
            t, r, cid = bad_acks[0]
            kept = [m for m in stored.values() if (m["author"], m["cid"]) == (rest_name, cid)]
            raise AssertionError(
                "%d POST(s) answered 201 without the message (the client cannot learn the "
                "id of what it was told is stored), %.0f ms %s SIGTERM: %r, headers %r; "
                "after restart that message is %s"
                % (len(bad_acks), abs(t - t_sig) * 1000, "before" if t < t_sig else "after",
                   r, r.headers, "stored: %r" % (kept[0],) if kept else "NOT stored"))


# ------------------------------------------------------------------ plain HTTP edges
def test_ws_path_without_upgrade_headers_is_4xx_and_server_keeps_serving():
    srv = shared()
    token = srv.session(uname("noup"))
    for kw in [dict(token=token), dict(cookie=token), dict()]:
        r = srv.get("/api/v1/ws", **kw)
        assert 400 <= r.status < 500, "GET /api/v1/ws without Upgrade (%r): %r" % (
            sorted(kw), r)
    assert srv.running(), "server exited"
    assert expect(srv.get("/healthz"), 200) == {"status": "ok"}
    ws = srv.ws(token)                  # and real upgrades still work
    _still_serves(ws, "general", "noup-ok")


def test_http_keep_alive_serves_two_requests_on_one_connection():
    srv = shared()
    name = uname("keep")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("POST", "/api/v1/session", body=json.dumps({"name": name}),
                     headers={"Content-Type": "application/json"})
        r1 = conn.getresponse()
        raw1 = r1.read()
        assert r1.status == 201, (r1.status, raw1[:200])
        token = json.loads(raw1.decode())["token"]
        assert conn.sock is not None, \
            "the server ended the connection after the first response (Connection: %r)" % (
                r1.getheader("Connection"),)
        local = conn.sock.getsockname()
        try:
            conn.request("GET", "/api/v1/session",
                         headers={"Authorization": "Bearer " + token})
            r2 = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError) as e:
            raise AssertionError("second request on the kept-alive connection failed: %r"
                                 % (e,))
        raw2 = r2.read()
        assert r2.status == 200, (r2.status, raw2[:200])
        assert json.loads(raw2.decode()) == session_answer(name), raw2
        assert conn.sock is None or conn.sock.getsockname() == local, \
            "http.client had to reconnect"
    finally:
        conn.close()


def _read_response(sock, timeout):
    """(status, headers dict lower-case, body) of one HTTP response, within timeout."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no response head within %.1f s (got %r)" % (timeout,
                                                                               buf[:200]))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise AssertionError("connection closed before a response head (got %r)"
                                 % (buf[:200],))
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        body += chunk
    return status, headers, body


def test_a_204_carries_no_body_headers_and_the_connection_serves_on():
    # RFC 9110 8.6: no Content-Length in a 204; nor a Content-Type of no body
    srv = shared()
    token = srv.session(uname("nobody"))
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        sock.sendall(("DELETE /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Authorization: Bearer %s\r\n\r\n" % token).encode())
        status, headers, body = _read_response(sock, 10)
        assert status == 204 and body == b"", (status, headers, body)
        assert "content-length" not in headers and "content-type" not in headers, headers
        assert headers.get("x-content-type-options") == "nosniff", headers
        assert "set-cookie" in headers, headers  # the logout's cookie cleared
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = _read_response(sock, 10)
        assert status == 200 and json.loads(body) == {"status": "ok"}, (status, body)
    finally:
        sock.close()


def test_content_length_over_16KiB_is_413_from_the_headers_alone():
    srv = shared()
    token = srv.session(uname("cl413"))
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(("POST /api/v1/rooms/general/messages HTTP/1.1\r\n"
                   "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 16385\r\n\r\n"
                   % (srv.port, token)).encode())
        # no body at all: a server waiting for it would not answer within 5 s
        status, headers, body = _read_response(s, 5.0)
    finally:
        s.close()
    assert status == 413, "Content-Length 16385 without a body: HTTP %d %r" % (status,
                                                                              body[:200])
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body.decode("utf-8"))
    assert set(err) == {"error"} and err["error"].get("code") == "too_large", err
    assert expect(srv.get("/healthz"), 200) == {"status": "ok"}


# ------------------------------------------------------------------ health
def test_healthz_is_503_unavailable_once_the_database_cannot_be_written():
    with disk_limited_server("healthz-fsize") as srv:
        assert expect(srv.get("/healthz"), 200) == {"status": "ok"}
        token = srv.session(uname("hfull"))
        last = post_until_the_disk_is_full(srv, token, "h")
        expect_error(last, 503, "unavailable")
        # /healthz probes with a write of its own (one small page). That page may still fit
        # in what the failed message left, so a probe or two may answer 200 and use it up;
        # then the database cannot be written at all and /healthz must say so, and keep
        # saying so.
        probes = []
        for _ in range(8):
            r = srv.get("/healthz")
            probes.append(r.status)
            if r.status != 200:
                break
        assert r.status == 503, "the database is full (a post answered %r) but /healthz " \
            "answered %r to %d probes" % (last, probes, len(probes))
        assert expect(r, 503) == {"status": "unavailable"}, r
        for _ in range(3):
            r = srv.get("/healthz")
            assert expect(r, 503) == {"status": "unavailable"}, r
