"""WebSocket /api/v1/ws: handshake auth and Origin, hello, join/replay/gap, send/ack,
broadcast, idempotency, presence, deletions, error frames, size limit, logout."""

import json
import threading
import time

from harness import (HandshakeError, bulk_post, check_message, expect, expect_error,
                     isolated_room, join, next_frame, shared, uname, wait_frame)

WS_MESSAGE_KEYS = {"type", "id", "room", "author", "body", "ts", "cid"}


def _as_frame(m):
    f = dict(m)
    f["type"] = "message"
    return f


def _refused(srv, status, code, **kw):
    try:
        ws = srv.ws(**kw)
    except HandshakeError as e:
        assert e.status == status, "expected HTTP %d, got %d %r" % (status, e.status, e.body)
        body = e.json()
        assert body["error"]["code"] == code, body
        return
    ws.close()
    raise AssertionError("websocket upgrade was accepted, expected HTTP %d" % status)


def _collect(ws, count, timeout=5.0):
    """The next `count` frames other than presence."""
    deadline = time.monotonic() + timeout
    out = []
    while len(out) < count:
        out.append(next_frame(ws, max(0.01, deadline - time.monotonic())))
    return out


def _check_ws_message(f, **kw):
    assert isinstance(f, dict) and f.get("type") == "message", f
    assert set(f) == WS_MESSAGE_KEYS, "bad message frame shape: %r" % (f,)
    m = dict(f)
    del m["type"]
    check_message(m, **kw)
    return f


def _check_error(f, code, cid=None, check_cid=True):
    assert isinstance(f, dict) and f.get("type") == "error", "expected an error frame, got %r" % (f,)
    assert set(f) == {"type", "code", "message", "cid"}, "bad error frame shape: %r" % (f,)
    assert f["code"] == code, "expected error code %r, got %r" % (code, f)
    assert isinstance(f["message"], str) and f["message"], f
    if check_cid:
        assert f["cid"] == cid, "error cid %r != %r" % (f["cid"], cid)


# ------------------------------------------------------------------ handshake
def test_ws_without_credentials_is_http_401_without_upgrade():
    _refused(shared(), 401, "unauthorized", token=None)


def test_ws_with_unknown_token_is_http_401_by_cookie_and_bearer():
    srv = shared()
    _refused(srv, 401, "unauthorized", token="D" * 43)
    _refused(srv, 401, "unauthorized", token="D" * 43, bearer=True)


def test_ws_with_foreign_origin_is_http_403():
    srv = shared()
    token = srv.session(uname("orig"))
    for origin in ["http://evil.example", "http://evil.example:%d" % srv.port,
                   "http://127.0.0.1:1", "http://localhost:%d" % srv.port]:
        _refused(srv, 403, "forbidden", token=token, headers={"Origin": origin})


def test_ws_with_same_origin_is_accepted():
    srv = shared()
    name = uname("same")
    token = srv.session(name)
    ws = srv.ws(token, headers={"Origin": "http://127.0.0.1:%d" % srv.port})
    assert ws.hello["user"] == name
    ws.close()


def test_ws_without_origin_is_accepted_with_bearer():
    srv = shared()
    name = uname("bws")
    token = srv.session(name)
    ws = srv.ws(token, bearer=True)
    assert ws.hello["user"] == name
    ws.close()


def test_ws_hello_lists_user_rooms_and_sorted_online_users():
    srv = shared()
    a_name = uname("hA")
    b_name = uname("hB")
    a = srv.ws(srv.session(a_name))
    b = srv.ws(srv.session(b_name))
    h = b.hello
    assert h["type"] == "hello" and h["user"] == b_name, h
    assert isinstance(h["rooms"], list) and {"name": "general"} in h["rooms"], h
    for room in h["rooms"]:
        assert isinstance(room, dict) and set(room) == {"name"}, h
    assert isinstance(h["online"], list) and h["online"] == sorted(h["online"]), h
    assert a_name in h["online"] and b_name in h["online"], h
    assert len(h["online"]) == len(set(h["online"])), h
    a.close()
    b.close()


def test_ws_with_dead_session_token_is_401():
    srv = shared()
    token = srv.session(uname("dead"))
    assert srv.delete("/api/v1/session", token=token).status == 204
    _refused(srv, 401, "unauthorized", token=token)


# ------------------------------------------------------------------ join / replay
def test_ws_join_without_since_sends_joined_then_only_live_messages():
    with isolated_room("jn") as (srv, token, room):
        old = srv.send(token, room, "before join")
        ws = srv.ws(token)
        assert join(ws, room) == [], "join without since must not replay"
        live = srv.send(token, room, "after join", cid="live-1")
        f = next_frame(ws)
        assert f == _as_frame(live), (f, live)
        assert f["id"] > old["id"]
        _check_ws_message(f, room=room, body="after join", cid="live-1")


def test_ws_join_with_since_replays_newer_messages_in_order():
    with isolated_room("js") as (srv, token, room):
        posted = bulk_post(srv, token, room, ["r%d" % i for i in range(6)], threads=1)
        ws = srv.ws(token)
        got = join(ws, room, since=posted[1]["id"])
        assert got == [_as_frame(m) for m in posted[2:]], got
        ws2 = srv.ws(token)
        got = join(ws2, room, since=0)
        assert got == [_as_frame(m) for m in posted], got
        ws3 = srv.ws(token)
        assert join(ws3, room, since=posted[-1]["id"]) == []
        # then live messages follow on all three
        live = srv.send(token, room, "live")
        for w in (ws, ws2, ws3):
            assert next_frame(w) == _as_frame(live)


def test_ws_join_unknown_room_is_error_not_found_and_connection_stays_open():
    srv = shared()
    token = srv.session(uname("jx"))
    ws = srv.ws(token)
    ws.send_json({"type": "join", "room": uname("nosuch")})
    _check_error(next_frame(ws), "not_found", None)
    assert join(ws, "general") == []


def test_ws_replay_of_more_than_500_sends_gap_then_newest_500():
    with isolated_room("gap") as (srv, token, room):
        posted = bulk_post(srv, token, room, ["g%d" % i for i in range(520)])
        posted.sort(key=lambda m: m["id"])
        ws = srv.ws(token)
        got = join(ws, room, since=0, timeout=15)
        assert got[0] == {"type": "gap", "room": room}, got[:1]
        assert len(got) == 501, len(got)
        assert got[1:] == [_as_frame(m) for m in posted[-500:]], "replay is not the newest 500"
        # 501 newer than since: still a gap
        ws2 = srv.ws(token)
        got = join(ws2, room, since=posted[18]["id"], timeout=15)
        assert got[0] == {"type": "gap", "room": room} and len(got) == 501, got[:1]
        assert [f["id"] for f in got[1:]] == [m["id"] for m in posted[-500:]]
        ws2.close()
        # exactly 500 newer: no gap
        ws3 = srv.ws(token)
        got = join(ws3, room, since=posted[19]["id"], timeout=15)
        assert len(got) == 500 and got[0].get("type") == "message", (len(got), got[:1])
        assert [f["id"] for f in got] == [m["id"] for m in posted[20:]]


def test_ws_join_during_traffic_has_no_gap_and_no_duplicate():
    with isolated_room("jt") as (srv, token, room):
        poster = srv.session(uname("jtp"))
        n = 300
        results = []
        errors = []
        started = threading.Event()

        def run():
            try:
                for i in range(n):
                    results.append(srv.send(poster, room, "t%d" % i))
                    if i == 30:
                        started.set()
            except BaseException as e:  # reported below
                errors.append(e)
            finally:
                started.set()

        th = threading.Thread(target=run, daemon=True)
        th.start()
        assert started.wait(15)
        ws = srv.ws(token)
        got = join(ws, room, since=0)
        assert all(f["type"] == "message" for f in got), got[:3]
        replayed = len(got)
        th.join(60)
        assert not th.is_alive(), "poster did not finish"
        assert not errors, errors
        want = [m["id"] for m in results]
        seen = [f["id"] for f in got]
        deadline = time.monotonic() + 15
        while (not seen or seen[-1] < want[-1]) and time.monotonic() < deadline:
            f = next_frame(ws, max(0.01, deadline - time.monotonic()))
            assert f["type"] == "message" and f["room"] == room, f
            seen.append(f["id"])
        assert seen == want, ("replayed %d; first difference at %r" % (
            replayed, next((i for i, (a, b) in enumerate(zip(seen, want)) if a != b),
                           min(len(seen), len(want)))), len(seen), len(want))


# ------------------------------------------------------------------ send / ack / broadcast
def test_ws_send_is_acked_and_broadcast_to_every_joined_connection_including_senders():
    with isolated_room("sa") as (srv, token, room):
        a_name = uname("sendA")
        a_tok = srv.session(a_name)
        b_tok = srv.session(uname("sendB"))
        a1, a2, b = srv.ws(a_tok), srv.ws(a_tok), srv.ws(b_tok)
        for w in (a1, a2, b):
            join(w, room)
        cid = uname("c")
        a1.send_json({"type": "send", "room": room, "body": "hi all", "cid": cid})
        frames = _collect(a1, 2)
        acks = [f for f in frames if f["type"] == "ack"]
        msgs = [f for f in frames if f["type"] == "message"]
        assert len(acks) == 1 and len(msgs) == 1, frames
        ack = acks[0]
        assert set(ack) == {"type", "cid", "id", "ts"}, "bad ack shape: %r" % (ack,)
        assert ack["cid"] == cid and isinstance(ack["id"], int) and isinstance(ack["ts"], int)
        m = _check_ws_message(msgs[0], room=room, author=a_name, body="hi all", cid=cid)
        assert m["id"] == ack["id"] and m["ts"] == ack["ts"], (m, ack)
        assert next_frame(a2) == m
        assert next_frame(b) == m
        stored = expect(srv.get("/api/v1/messages/%d" % ack["id"], token=b_tok), 200)
        assert _as_frame(stored) == m
        assert [x["id"] for x in srv.history(b_tok, room)["messages"]] == [ack["id"]]


def test_ws_send_without_cid_is_acked_with_null_cid():
    with isolated_room("nc") as (srv, token, room):
        ws = srv.ws(token)
        ws.send_json({"type": "send", "room": room, "body": "anonymous"})
        ack = wait_frame(ws, type="ack")
        assert set(ack) == {"type", "cid", "id", "ts"} and ack["cid"] is None, ack
        got = expect(srv.get("/api/v1/messages/%d" % ack["id"], token=token), 200)
        assert got["cid"] is None and got["body"] == "anonymous", got


def test_ws_duplicate_cid_is_acked_with_same_id_and_broadcast_once():
    with isolated_room("dc") as (srv, token, room):
        a_tok = srv.session(uname("dupA"))
        b = srv.ws(token)
        join(b, room)
        a = srv.ws(a_tok)
        cid = uname("dupcid")
        for _ in range(2):
            a.send_json({"type": "send", "room": room, "body": "only once", "cid": cid})
        a.send_json({"type": "send", "room": room, "body": "sentinel", "cid": cid + "s"})
        acks = _collect(a, 3)
        assert [f["type"] for f in acks] == ["ack"] * 3, acks
        assert [f["cid"] for f in acks] == [cid, cid, cid + "s"], acks
        assert acks[0]["id"] == acks[1]["id"] and acks[0]["ts"] == acks[1]["ts"], acks
        assert acks[2]["id"] != acks[0]["id"]
        got = _collect(b, 2)
        assert [f["id"] for f in got] == [acks[0]["id"], acks[2]["id"]], got
        # idempotent across transports too: REST repeat of that cid gives the same message
        r = srv.post("/api/v1/rooms/%s/messages" % room, {"body": "only once", "cid": cid},
                     token=a_tok)
        assert expect(r, 200)["id"] == acks[0]["id"]
        ids = [m["id"] for m in srv.history(token, room)["messages"]]
        assert ids == [acks[0]["id"], acks[2]["id"]], ids


def test_ws_send_to_room_not_joined_is_allowed():
    with isolated_room("nj") as (srv, token, room):
        sender_tok = srv.session(uname("njA"))
        sender = srv.ws(sender_tok)
        member = srv.ws(token)
        join(member, room)
        sender.send_json({"type": "send", "room": room, "body": "from outside", "cid": "out1"})
        ack = next_frame(sender)
        assert ack["type"] == "ack" and ack["cid"] == "out1", ack
        assert next_frame(member)["id"] == ack["id"]
        # the sender, not joined, must not have received the message: the next thing it
        # gets after joining another room is just "joined"
        assert join(sender, "general") == []


def test_ws_receives_message_posted_over_rest():
    with isolated_room("rr") as (srv, token, room):
        ws = srv.ws(token)
        join(ws, room)
        other = srv.session(uname("rrB"))
        m = srv.send(other, room, "over rest", cid="rest-1")
        assert next_frame(ws) == _as_frame(m)


def test_ws_deleted_event_is_sent_to_room_members_on_rest_delete():
    with isolated_room("de") as (srv, token, room):
        other = srv.session(uname("deB"))
        wa, wb = srv.ws(token), srv.ws(other)
        join(wa, room)
        join(wb, room)
        m = srv.send(token, room, "to be deleted")
        for w in (wa, wb):
            assert next_frame(w)["id"] == m["id"]
        assert srv.delete("/api/v1/messages/%d" % m["id"], token=token).status == 204
        for w in (wa, wb):
            f = next_frame(w)
            # "by": who deleted it, here its author
            assert f == {"type": "deleted", "room": room, "id": m["id"], "by": m["author"]}, f


# ------------------------------------------------------------------ errors
def test_ws_bad_frames_get_error_frames_and_connection_stays_open():
    srv = shared()
    token = srv.session(uname("bad"))
    ws = srv.ws(token)
    cases = [
        ("not json at all", "bad_request", None),
        ('{"type":"dance"}', "bad_request", None),
        ("[1,2,3]", "bad_request", None),
        ('{"room":"general"}', "bad_request", None),
        ('{"type":"join"}', "bad_request", None),
        (json.dumps({"type": "send", "room": "general", "body": "", "cid": "e1"}),
         "bad_request", "e1"),
        (json.dumps({"type": "send", "room": "general", "body": " \n\t", "cid": "e2"}),
         "bad_request", "e2"),
        (json.dumps({"type": "send", "room": "general", "cid": "e3"}), "bad_request", "e3"),
        (json.dumps({"type": "send", "room": "general", "body": 42, "cid": "e4"}),
         "bad_request", "e4"),
        (json.dumps({"type": "send", "room": "general", "body": "a\u0001b", "cid": "e5"}),
         "bad_request", "e5"),
        (json.dumps({"type": "send", "room": "general", "body": "x" * 2001, "cid": "e6"}),
         "too_large", "e6"),
        (json.dumps({"type": "send", "room": "general", "body": "\u00e9" * 1001, "cid": "e7"}),
         "too_large", "e7"),
        (json.dumps({"type": "send", "room": uname("noroom"), "body": "x", "cid": "e8"}),
         "not_found", "e8"),
    ]
    for text, code, cid in cases:
        ws.send_text(text)
        f = next_frame(ws)
        try:
            _check_error(f, code, cid)
        except AssertionError as e:
            raise AssertionError("frame %r: %s" % (text[:60], e))
    ws.send_json({"type": "send", "room": "general", "body": "x", "cid": "bad cid"})
    _check_error(next_frame(ws), "bad_request", check_cid=False)
    # still open and working
    ws.send_json({"type": "send", "room": "general", "body": "still here", "cid": "ok1"})
    ack = next_frame(ws)
    assert ack["type"] == "ack" and ack["cid"] == "ok1", ack
    assert join(ws, "general") == []


def test_ws_frame_over_16KiB_is_closed_with_1009():
    srv = shared()
    token = srv.session(uname("bigf"))
    ws = srv.ws(token)
    ws.send_json({"type": "send", "room": "general", "body": "y" * 17000, "cid": "big"})
    kind, code = ws.read_until_closed(timeout=10)
    assert (kind, code) == ("close", 1009), "expected close 1009, got %r" % ((kind, code),)


def test_ws_frame_of_10KiB_with_long_body_is_error_too_large_not_close():
    srv = shared()
    token = srv.session(uname("midf"))
    ws = srv.ws(token)
    ws.send_json({"type": "send", "room": "general", "body": "y" * 10000, "cid": "mid"})
    _check_error(next_frame(ws), "too_large", "mid")
    ws.send_json({"type": "send", "room": "general", "body": "fine", "cid": "mid2"})
    assert next_frame(ws)["type"] == "ack"


# ------------------------------------------------------------------ presence
def test_ws_presence_events_on_first_open_and_last_close_only():
    srv = shared()
    obs = srv.ws(srv.session(uname("obs")))
    p_name, q_name = uname("presP"), uname("presQ")
    p_tok, q_tok = srv.session(p_name), srv.session(q_name)
    events = []

    def wait_presence(user, online):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            f = obs.recv_json(max(0.01, deadline - time.monotonic()))
            if f.get("type") != "presence":
                raise AssertionError("unexpected frame %r" % (f,))
            assert set(f) == {"type", "user", "online"}, "bad presence shape: %r" % (f,)
            if f["user"] in (p_name, q_name):
                events.append((f["user"], f["online"]))
                if (f["user"], f["online"]) == (user, online):
                    return
        raise AssertionError("no presence %s=%s; saw %r" % (user, online, events))

    p1 = srv.ws(p_tok)
    wait_presence(p_name, True)
    p2 = srv.ws(p_tok)          # second connection: no event
    q = srv.ws(q_tok)           # sentinel
    wait_presence(q_name, True)
    assert q.hello["online"] == sorted(q.hello["online"])
    assert p_name in q.hello["online"] and q_name in q.hello["online"], q.hello
    p1.close()                  # not the last one: no event
    p2.close()
    wait_presence(p_name, False)
    q.close()
    wait_presence(q_name, False)
    assert events == [(p_name, True), (q_name, True), (p_name, False), (q_name, False)], events


def test_presence_endpoint_lists_users_with_open_websocket():
    srv = shared()
    obs = srv.ws(srv.session(uname("pobs")))
    u_name, v_name = uname("pU"), uname("pV")
    u_tok, v_tok = srv.session(u_name), srv.session(v_name)
    u = srv.ws(u_tok)
    body = expect(srv.get("/api/v1/presence", token=v_tok), 200)
    assert set(body) == {"online"} and isinstance(body["online"], list), body
    assert body["online"] == sorted(body["online"]), body
    assert u_name in body["online"] and v_name not in body["online"], body
    u.close()
    wait_frame(obs, type="presence", user=u_name, online=False)
    body = expect(srv.get("/api/v1/presence", cookie=v_tok), 200)
    assert u_name not in body["online"], body
    expect_error(srv.get("/api/v1/presence"), 401, "unauthorized")


# ------------------------------------------------------------------ logout
def test_session_delete_closes_that_sessions_websockets_only():
    srv = shared()
    a_name = uname("outA")
    a_tok = srv.session(a_name)
    b_tok = srv.session(uname("outB"))
    a1, a2, b = srv.ws(a_tok), srv.ws(a_tok), srv.ws(b_tok)
    assert srv.delete("/api/v1/session", token=a_tok).status == 204
    for w in (a1, a2):
        kind, _ = w.read_until_closed(timeout=5)
        assert kind in ("close", "eof"), kind
    wait_frame(b, type="presence", user=a_name, online=False)
    b.send_json({"type": "send", "room": "general", "body": "b is fine", "cid": "bf"})
    assert wait_frame(b, type="ack")["cid"] == "bf"
