"""WebSocket typing indicators: {"type":"typing","room"} is relayed to the room's
other readers as {"type":"typing","room","user"}, never stored, at most one per
connection and room in CHAT_TYPING_INTERVAL_MS (2 s), the rest dropped without an
answer; an unknown room is an error frame."""

from harness import isolated_room, join, next_frame, requires, uname


def _pair(srv, room):
    """Two users' WebSockets, both in room: (typist name, typist ws, reader ws)."""
    name = uname("typist")
    typist = srv.ws(srv.session(name))
    reader = srv.ws(srv.session(uname("reader")))
    join(typist, room)
    join(reader, room)
    return name, typist, reader


def _marker(srv, ws, room):
    """A message sent on ws, acked and echoed: every frame ws sent before it is
    handled, and ws itself got nothing else meanwhile (no typing of its own)."""
    cid = uname("mark")
    ws.send_json({"type": "send", "room": room, "body": "marker", "cid": cid})
    got = set()
    while got != {"ack", "message"}:
        f = next_frame(ws)
        assert f.get("type") in ("ack", "message") and f.get("cid") == cid, \
            "sender got %r" % (f,)
        got.add(f["type"])
    return cid


def _next_message(ws, cid):
    """The next frame other than presence, which must be the message of cid."""
    f = next_frame(ws)
    assert f.get("type") == "message" and f.get("cid") == cid, \
        "expected the marker message, got %r" % (f,)


@requires("typing")
def test_typing_is_relayed_to_other_members_and_not_to_the_sender():
    with isolated_room("ty") as (srv, token, room):
        name, typist, reader = _pair(srv, room)
        typist.send_json({"type": "typing", "room": room})
        f = next_frame(reader)
        assert f == {"type": "typing", "room": room, "user": name}, f
        cid = _marker(srv, typist, room)  # the typist got no typing of its own
        _next_message(reader, cid)


@requires("typing")
def test_typing_is_not_stored():
    with isolated_room("ts") as (srv, token, room):
        name, typist, reader = _pair(srv, room)
        before = srv.all_history(token, room)
        typist.send_json({"type": "typing", "room": room})
        assert next_frame(reader).get("type") == "typing"
        cid = _marker(srv, typist, room)
        _next_message(reader, cid)
        after = srv.all_history(token, room)
        assert [m["cid"] for m in after] == [m["cid"] for m in before] + [cid], after


@requires("typing")
def test_typing_twice_within_the_interval_is_relayed_once_without_error():
    with isolated_room("tr") as (srv, token, room):
        name, typist, reader = _pair(srv, room)
        typist.send_json({"type": "typing", "room": room})
        assert next_frame(reader) == {"type": "typing", "room": room, "user": name}
        typist.send_json({"type": "typing", "room": room})  # within 2 s: dropped
        cid = _marker(srv, typist, room)  # the sender's next frame is the ack, no error
        _next_message(reader, cid)  # the reader's next frame is the marker, no typing


@requires("typing")
def test_typing_in_unknown_room_is_error_not_found():
    with isolated_room("tu") as (srv, token, room):
        ws = srv.ws(token)
        ws.send_json({"type": "typing", "room": uname("nosuch")})
        f = next_frame(ws)
        assert f.get("type") == "error" and f.get("code") == "not_found", f
        ws.send_json({"type": "typing"})
        f = next_frame(ws)
        assert f.get("type") == "error" and f.get("code") == "bad_request", f
        assert join(ws, room) == []
