"""Limits: rate limiting (REST 429 / WS rate_limited), retention per room,
slow WebSocket consumers, and 503 when the database cannot be written."""

import threading
import time

from harness import (Server, disk_limited_server, post_until_the_disk_is_full, bulk_post, expect_error, has, join, next_frame, shared,
                     uname)

RATE = ("--rate-limit", "1:3")


def test_rest_rate_limit_refuses_the_fourth_immediate_post_with_429():
    srv = shared(*RATE)
    token = srv.session(uname("rl"))
    marker = uname("limited")
    for i in range(3):
        srv.send(token, "general", "%s-%d" % (marker, i))
    r = srv.post("/api/v1/rooms/general/messages", {"body": marker + "-3"}, token=token)
    expect_error(r, 429, "rate_limited")
    bodies = [m["body"] for m in srv.history(token, "general", limit=200)["messages"]]
    assert marker + "-3" not in bodies, "a refused message was stored"
    assert [b for b in bodies if b.startswith(marker)] == ["%s-%d" % (marker, i)
                                                           for i in range(3)]


def test_rate_limit_is_per_user():
    srv = shared(*RATE)
    a = srv.session(uname("rlA"))
    b = srv.session(uname("rlB"))
    for i in range(3):
        srv.send(a, "general", "a%d" % i)
    expect_error(srv.post("/api/v1/rooms/general/messages", {"body": "a3"}, token=a), 429,
                 "rate_limited")
    for i in range(3):
        srv.send(b, "general", "b%d" % i)


def test_ws_rate_limit_answers_error_rate_limited_and_refills():
    srv = shared(*RATE)
    token = srv.session(uname("rlw"))
    ws = srv.ws(token)
    for i in range(4):
        ws.send_json({"type": "send", "room": "general", "body": "w%d" % i, "cid": "k%d" % i})
    frames = [next_frame(ws) for _ in range(4)]
    acks = [f for f in frames if f["type"] == "ack"]
    errs = [f for f in frames if f["type"] == "error"]
    assert sorted(f["cid"] for f in acks) == ["k0", "k1", "k2"], frames
    assert len(errs) == 1, frames
    err = errs[0]
    assert set(err) == {"type", "code", "message", "cid"}, err
    assert err["code"] == "rate_limited" and err["cid"] == "k3", err
    # one token per second: after a wall-clock second the same connection may send again
    time.sleep(1.3)
    ws.send_json({"type": "send", "room": "general", "body": "w4", "cid": "k4"})
    f = next_frame(ws)
    assert f["type"] == "ack" and f["cid"] == "k4", f


def test_retention_keeps_only_newest_messages_per_room():
    with Server(["--max-messages-per-room", "5"], label="retention") as srv:
        token = srv.session(uname("ret"))
        posted = [srv.send(token, "general", "k%d" % i) for i in range(8)]
        page = srv.history(token, "general")
        assert page["messages"] == posted[-5:], [m["body"] for m in page["messages"]]
        assert page["has_more"] is False, page
        more = [srv.send(token, "general", "l%d" % i) for i in range(4)]
        page = srv.history(token, "general", limit=200)
        assert page["messages"] == (posted + more)[-5:], [m["body"] for m in page["messages"]]
        assert page["has_more"] is False
        ws = srv.ws(token)
        got = join(ws, "general", since=0)
        assert [f["id"] for f in got] == [m["id"] for m in (posted + more)[-5:]], got


def test_slow_consumer_is_disconnected_without_delaying_others():
    n = 3000
    with Server(label="slow-consumer") as srv:
        s_tok = srv.session(uname("slowS"))
        f_tok = srv.session(uname("fastF"))
        p_tok = srv.session(uname("postP"))
        slow = srv.ws(s_tok, rcvbuf=4096)
        join(slow, "general")           # from here on, slow never reads
        fast = srv.ws(f_tok)
        join(fast, "general")

        received = []
        problems = []

        def read_fast():
            deadline = time.monotonic() + 60
            try:
                while len(received) < n and time.monotonic() < deadline:
                    f = fast.recv_json(max(0.01, deadline - time.monotonic()))
                    if f.get("type") == "message":
                        received.append((f["id"], f["body"], time.monotonic()))
                    elif f.get("type") != "presence":
                        problems.append(f)
            except BaseException as e:
                problems.append(e)

        reader = threading.Thread(target=read_fast, daemon=True)
        reader.start()
        bodies = ["%05d:" % i + "x" * 1494 for i in range(n)]
        t0 = time.monotonic()
        posted = bulk_post(srv, p_tok, "general", bodies, threads=8)
        t_posted = time.monotonic() - t0
        reader.join(60)
        assert not reader.is_alive(), "fast reader still running"
        assert not problems, problems[:3]
        assert len(received) == n, "fast client got %d of %d messages" % (len(received), n)
        ids = [r[0] for r in received]
        assert ids == sorted(m["id"] for m in posted), "fast client: messages out of order"
        by_id = {m["id"]: m["body"] for m in posted}
        assert all(by_id[i] == b for i, b, _ in received), "fast client: wrong bodies"
        gaps = [b[2] - a[2] for a, b in zip(received, received[1:])]
        worst = max(gaps)
        assert worst < 2.5, ("fast client stalled %.2f s between two messages (posting took "
                             "%.2f s): the slow consumer delayed it" % (worst, t_posted))

        if has("metrics"):
            deadline = time.monotonic() + 20
            value = None
            while time.monotonic() < deadline:
                value = srv.metrics().get("lanchat_ws_slow_consumers_total")
                if value is not None and value >= 1:
                    break
                time.sleep(0.2)  # polling an exporter: bounded by the deadline
            assert value is not None and value >= 1, \
                "lanchat_ws_slow_consumers_total = %r after 20 s" % (value,)
        kind, code = slow.read_until_closed(timeout=20)
        assert kind in ("close", "eof"), kind
        # the fast client is still connected and served
        fast.send_json({"type": "send", "room": "general", "body": "after", "cid": "after"})
        deadline = time.monotonic() + 5
        acked = False
        while not acked and time.monotonic() < deadline:
            f = fast.recv_json(max(0.01, deadline - time.monotonic()))
            acked = f.get("type") == "ack" and f.get("cid") == "after"
        assert acked


def test_message_that_cannot_be_written_to_the_database_is_503_unavailable():
    with disk_limited_server("fsize-limited") as srv:
        token = srv.session(uname("full"))
        last = post_until_the_disk_is_full(srv, token, "f")
        expect_error(last, 503, "unavailable")
