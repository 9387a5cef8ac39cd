"""Session idle expiry with --session-idle 2 (wall-clock time is what is tested here,
so this is the one place that sleeps)."""

import time

from harness import Server, expect, expect_error, has, session_answer, uname

IDLE = 2
WAIT = 3.5  # comfortably past IDLE seconds


def test_only_idle_nickname_sessions_without_websocket_expire():
    with Server(["--session-idle", str(IDLE)], label="idle") as srv:
        idle_name, busy_name, ws_name = uname("idle"), uname("busy"), uname("wsheld")
        registered = None
        if has("accounts"):
            # First: two password hashes take a second or more under a
            # sanitizer or on a loaded machine, longer than busy may stay silent.
            reg_name = uname("regidle")
            srv.register(reg_name, "password1")
            registered = srv.session(reg_name, "password1")
        idle = srv.session(idle_name)
        busy = srv.session(busy_name)
        held = srv.session(ws_name)
        ws = srv.ws(held)

        # busy makes a request every 0.7 s; the others stay silent
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            time.sleep(0.7)
            assert expect(srv.get("/api/v1/session", token=busy), 200) == session_answer(busy_name)

        # the idle nickname session is gone and its name is free again
        expect_error(srv.get("/api/v1/session", token=idle), 401, "unauthorized")
        expect_error(srv.get("/api/v1/rooms", token=idle), 401, "unauthorized")
        fresh = srv.session(idle_name)
        assert fresh != idle
        # activity and an open WebSocket keep a session alive
        assert expect(srv.get("/api/v1/session", token=busy), 200)["user"]["name"] == busy_name
        assert expect(srv.get("/api/v1/session", token=held), 200)["user"]["name"] == ws_name
        expect_error(srv.post("/api/v1/session", {"name": ws_name}), 409, "name_taken")
        # the WebSocket itself still works
        ws.send_json({"type": "send", "room": "general", "body": "still here", "cid": "sh"})
        f = ws.recv_json(5)
        while f.get("type") == "presence":
            f = ws.recv_json(5)
        assert f["type"] == "ack" and f["cid"] == "sh", f
        # registered users' sessions are not subject to the nickname idle limit
        if registered is not None:
            assert expect(srv.get("/api/v1/session", token=registered), 200) == session_answer(
                reg_name)
