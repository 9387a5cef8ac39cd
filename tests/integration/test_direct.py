"""Direct conversations: POST /api/v1/direct {"name"} opens the room of two users
("@<id>", "direct": the other one in each member's room list and hello), whose
messages only those two can read, over REST, WebSocket and search; a third
user and an admin get 404 on every route and no frame on WebSocket. The
conversation belongs to the names (without case) and outlives a restart."""

import sqlite3
import subprocess
import urllib.parse

from harness import (Server, binary, expect, expect_error, free_port, has, join, next_frame, requires,
                     uname, wait_frame)

PW = "correct horse"


def _server():
    return Server(label="direct")


def _open(srv, token, name, status=201):
    data = expect(srv.post("/api/v1/direct", {"name": name}, token=token), status)
    assert set(data) == {"name", "direct"} and data["name"].startswith("@"), data
    return data


def _rooms(srv, token):
    return expect(srv.get("/api/v1/rooms", token=token), 200)["rooms"]


def _trio(srv):
    """alice and bob (accounts) with their conversation, and carol (a nickname)."""
    a, b, c = uname("alice"), uname("bob"), uname("carol")
    srv.register(a, PW)
    srv.register(b, PW)
    ta, tb, tc = srv.session(a, PW), srv.session(b, PW), srv.session(c)
    room = _open(srv, ta, b)
    assert room["direct"] == b, room
    return (a, ta), (b, tb), (c, tc), room["name"]


@requires("direct")
def test_direct_room_is_in_both_lists_and_reopening_is_200():
    with _server() as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        assert {"name": room, "direct": b} in _rooms(srv, ta)
        assert {"name": room, "direct": a} in _rooms(srv, tb)
        assert all(r["name"] != room for r in _rooms(srv, tc))
        assert _open(srv, tb, a.upper(), 200) == {"name": room, "direct": a}
        assert _open(srv, ta, b, 200)["name"] == room
        ws = srv.ws(tb)
        assert {"name": room, "direct": a} in ws.hello["rooms"], ws.hello
        wc = srv.ws(tc)
        assert all(r["name"] != room for r in wc.hello["rooms"])
        # a new conversation: every WebSocket is told the rooms changed, with
        # no name in it; reopening one is no change
        join(ws, "general")
        join(wc, "general")
        assert _open(srv, ta, c)["direct"] == c
        for w in (ws, wc):
            assert next_frame(w, skip=("presence",)) == {"type": "rooms"}
        assert _open(srv, ta, c, 200)["direct"] == c
        mark = srv.send(ta, "general", "marker", cid=uname("mk"))
        for w in (ws, wc):
            f = next_frame(w, skip=("presence",))
            assert f.get("type") == "message" and f.get("id") == mark["id"], f


@requires("direct")
def test_direct_refusals_to_oneself_unknown_and_bad_names():
    with _server() as srv:
        me = uname("me")
        t = srv.session(me)
        expect_error(srv.post("/api/v1/direct", {"name": me.upper()}, token=t), 400,
                     "bad_request")
        expect_error(srv.post("/api/v1/direct", {"name": uname("nobody")}, token=t), 404,
                     "not_found")
        expect_error(srv.post("/api/v1/direct", {"name": "@1"}, token=t), 400, "bad_request")
        expect_error(srv.post("/api/v1/direct", {"name": "x"}), 401, "unauthorized")
        # a direct room's name is not one POST /api/v1/rooms can make
        expect_error(srv.post("/api/v1/rooms", {"name": "@9"}, token=t), 400, "bad_request")


@requires("direct")
def test_direct_members_post_and_read_over_rest_and_others_get_404():
    with _server() as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        admin, tadm = uname("adm"), None
        if has("moderation"):
            srv.register(admin, PW)
            p = subprocess.run([binary(), "admin", "add", admin, "--db", srv.db],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p
            tadm = srv.session(admin, PW)
        m1 = srv.send(ta, room, "hello bob")
        m2 = srv.send(tb, room, "hello alice")
        # the name may be percent-encoded in the path, as the page's encodeURIComponent does
        enc = srv.get("/api/v1/rooms/%s/messages" % urllib.parse.quote(room, safe=""), token=tb)
        assert [m["id"] for m in expect(enc, 200)["messages"]] == [m1["id"], m2["id"]], enc
        for t in (ta, tb):
            got = srv.history(t, room)["messages"]
            assert [m["id"] for m in got] == [m1["id"], m2["id"]], got
            assert expect(srv.get("/api/v1/messages/%d" % m1["id"], token=t), 200) == m1
        for t in [tc] + ([tadm] if tadm else []):
            path = "/api/v1/rooms/%s/messages" % room
            expect_error(srv.get(path, token=t), 404, "not_found")
            expect_error(srv.post(path, {"body": "let me in"}, token=t), 404, "not_found")
            expect_error(srv.get("/api/v1/messages/%d" % m1["id"], token=t), 404, "not_found")
            expect_error(srv.delete("/api/v1/messages/%d" % m1["id"], token=t), 404, "not_found")
        # the message is still there: the refusals deleted nothing
        assert expect(srv.get("/api/v1/messages/%d" % m1["id"], token=tb), 200) == m1
        r = srv.delete("/api/v1/messages/%d" % m1["id"], token=ta)
        assert r.status == 204, r


@requires("direct")
def test_direct_frames_reach_members_only_over_websocket():
    with _server() as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        wa, wb, wc = srv.ws(ta), srv.ws(tb), srv.ws(tc)
        join(wa, room)
        join(wb, room)
        join(wc, "general")
        join(wb, "general")
        wc.send_json({"type": "join", "room": room})
        f = next_frame(wc)
        assert f.get("type") == "error" and f.get("code") == "not_found", f
        wc.send_json({"type": "send", "room": room, "body": "sneak", "cid": "c1"})
        f = next_frame(wc)
        assert f.get("type") == "error" and f.get("code") == "not_found", f
        if has("typing"):
            wc.send_json({"type": "typing", "room": room})
            f = next_frame(wc)
            assert f.get("type") == "error" and f.get("code") == "not_found", f
            # typing, a message and its deletion in the conversation
            wa.send_json({"type": "typing", "room": room})
            assert next_frame(wb) == {"type": "typing", "room": room, "user": a}
        wa.send_json({"type": "send", "room": room, "body": "secret", "cid": "d1"})
        got = wait_frame(wb, type="message", room=room)
        assert got["body"] == "secret", got
        r = srv.delete("/api/v1/messages/%d" % got["id"], token=ta)
        assert r.status == 204, r
        assert wait_frame(wb, type="deleted", room=room)["id"] == got["id"]
        # then a marker in general: carol's next frame is the marker, nothing before it
        mark = srv.send(tb, "general", "marker", cid=uname("mk"))
        f = next_frame(wc)
        assert f.get("type") == "message" and f.get("id") == mark["id"], f


@requires("direct")
def test_direct_search_finds_it_for_members_only():
    if not has("search"):
        return
    with _server() as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        word = "w" + uname("s").replace("_", "").replace("-", "")
        m = srv.send(ta, room, "the %s plan" % word)
        q = "/api/v1/search?" + urllib.parse.urlencode({"q": word})
        for t in (ta, tb):
            assert [x["id"] for x in expect(srv.get(q, token=t), 200)["messages"]] == [m["id"]]
        assert expect(srv.get(q, token=tc), 200)["messages"] == []
        q += "&room=" + urllib.parse.quote(room)
        expect_error(srv.get(q, token=tc), 404, "not_found")
        assert len(expect(srv.get(q, token=tb), 200)["messages"]) == 1


@requires("direct")
def test_direct_outlives_a_restart():
    with _server() as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        m = srv.send(ta, room, "before the restart")
        srv.restart()  # the sessions are kept too
        assert {"name": room, "direct": b} in _rooms(srv, ta)
        assert [x["id"] for x in srv.history(tb, room)["messages"]] == [m["id"]]
        expect_error(srv.get("/api/v1/rooms/%s/messages" % room, token=tc), 404, "not_found")
        assert _open(srv, tb, a, 200)["name"] == room


@requires("direct")
def test_direct_with_a_nickname_belongs_to_the_name_without_case():
    with _server() as srv:
        nick, other = uname("Nick"), uname("oth")
        tn, to = srv.session(nick), srv.session(other)
        room = _open(srv, to, nick.lower())["name"]  # a nickname held now, any case
        srv.send(to, room, "for the name")
        assert len(srv.history(tn, room)["messages"]) == 1
        assert srv.delete("/api/v1/session", token=tn).status == 204
        # released: no one holds it, so no new conversation with it
        expect_error(srv.post("/api/v1/direct", {"name": nick}, token=to), 404, "not_found")
        # whoever holds the name again (any case) has the conversation
        t2 = srv.session(nick.upper())
        assert {"name": room, "direct": other} in _rooms(srv, t2)
        assert len(srv.history(t2, room)["messages"]) == 1


@requires("direct")
def test_direct_messages_never_enter_the_mqtt_outbox():
    if not has("mqtt"):
        return
    port = free_port()  # no broker there: what would be published waits in the outbox
    with Server(["--mqtt", "mqtt://127.0.0.1:%d" % port, "--node", "dm1"],
                label="direct mqtt") as srv:
        (a, ta), (b, tb), (c, tc), room = _trio(srv)
        dm = srv.send(ta, room, "not for the broker")
        assert srv.delete("/api/v1/messages/%d" % dm["id"], token=ta).status == 204
        srv.send(tb, room, "nor this")
        pub = srv.send(tc, "general", "for the broker")
        db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
        try:
            rows = db.execute("SELECT kind, room, origin_id FROM outbox ORDER BY seq").fetchall()
        finally:
            db.close()
        assert [r for r in rows if r[1] == room or r[1].startswith("@")] == [], rows
        assert any(r[1] == "general" and r[2] == pub["id"] for r in rows), rows
        assert srv.metrics().get("lanchat_mqtt_outbox") == len(rows), rows


@requires("direct")
def test_direct_messages_stay_on_their_appliance_and_the_broker_cannot_write_into_them():
    if not has("mqtt"):
        return
    from harness import Bridge, wait_metrics, wait_until
    from test_mqtt import MESSAGES, POST, _foreign_payload
    with Bridge(label="direct bridge") as bridge:
        a = bridge.a
        (x, tx), (y, ty), (z, tz), room = _trio(a)
        tag = "w" + uname("t").replace("_", "")
        dm = a.send(tx, room, tag + " secret")
        mark = a.send(tx, "general", tag + " marker")
        tb = bridge.b.session(uname("far"))
        # the marker, published after the direct message, reached b: the other did not
        wait_until("the marker on b", lambda: any(
            m["body"] == mark["body"] for m in bridge.b.history(tb, "general")["messages"]))
        assert all(not r["name"].startswith("@") for r in _rooms(bridge.b, tb))
        assert all("secret" not in m["body"] for m in bridge.b.history(tb, "general")["messages"])
        # what the broker sends for the direct room's name is refused
        before = a.metrics()
        bridge.broker.publish(MESSAGES % room, _foreign_payload(tag + " injected"))
        bridge.broker.publish(POST % room, tag + " device")
        # ("@" breaks the topic's name rules: both are refused as malformed input)
        wait_metrics(a, "both refused", lambda m: (
            m.get("lanchat_mqtt_refused_total", 0) + m.get("lanchat_mqtt_posts_refused_total", 0)
            >= before.get("lanchat_mqtt_refused_total", 0)
            + before.get("lanchat_mqtt_posts_refused_total", 0) + 2))
        assert [m["id"] for m in a.history(ty, room)["messages"]] == [dm["id"]]
