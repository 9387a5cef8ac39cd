"""Persistence: messages survive a SIGTERM restart, and every acknowledged message
(HTTP 201 or WebSocket ack) survives kill -9."""

import time

from harness import Server, bulk_post, join, next_frame, uname


def test_restart_after_sigterm_keeps_messages():
    with Server(label="restart") as srv:
        name = uname("keep")
        token = srv.session(name)
        posted = [srv.send(token, "general", "persist %d \u00e9" % i, cid="p%d" % i)
                  for i in range(5)]
        rc = srv.stop()
        assert rc == 0, "SIGTERM should end the server cleanly with status 0, got %r" % (rc,)
        srv.start()
        reader = srv.session(uname("after"))
        page = srv.history(reader, "general")
        assert page["messages"] == posted, (page["messages"], posted)
        assert page["has_more"] is False


def test_ids_keep_increasing_after_restart():
    with Server(label="restart-ids") as srv:
        token = srv.session(uname("ids"))
        before = srv.send(token, "general", "before")
        srv.restart()
        token = srv.session(uname("ids2"))
        after = srv.send(token, "general", "after")
        assert after["id"] > before["id"], (before, after)
        ids = [m["id"] for m in srv.history(token, "general")["messages"]]
        assert ids == [before["id"], after["id"]], ids


def test_kill9_after_http_201_keeps_every_acknowledged_message():
    with Server(label="kill9-rest") as srv:
        token = srv.session(uname("k9"))
        posted = bulk_post(srv, token, "general", ["durable %d" % i for i in range(60)],
                           threads=8)
        srv.kill9()  # right after the last 201
        srv.start()
        reader = srv.session(uname("k9r"))
        stored = srv.all_history(reader, "general")
        by_id = {m["id"]: m for m in stored}
        missing = [m for m in posted if by_id.get(m["id"]) != m]
        assert not missing, "%d acknowledged messages lost or changed after kill -9, e.g. %r" % (
            len(missing), missing[:2])
        assert len(stored) == 60, len(stored)


def test_kill9_after_ws_acks_keeps_every_acknowledged_message():
    with Server(label="kill9-ws") as srv:
        name = uname("k9w")
        token = srv.session(name)
        ws = srv.ws(token)
        n = 80
        for i in range(n):
            ws.send_json({"type": "send", "room": "general", "body": "acked %d" % i,
                          "cid": "a%d" % i})
        acks = {}
        deadline = time.monotonic() + 15
        while len(acks) < n:
            assert time.monotonic() < deadline, "only %d of %d acks" % (len(acks), n)
            f = next_frame(ws, max(0.01, deadline - time.monotonic()))
            assert f["type"] == "ack", f
            acks[f["cid"]] = f
        srv.kill9()  # right after the last ack
        ws.abort()
        srv.start()
        reader = srv.session(uname("k9wr"))
        stored = {m["id"]: m for m in srv.all_history(reader, "general")}
        for i in range(n):
            ack = acks["a%d" % i]
            m = stored.get(ack["id"])
            assert m is not None, "acked message a%d (id %d) lost after kill -9" % (i, ack["id"])
            assert (m["author"], m["body"], m["cid"], m["ts"]) == (
                name, "acked %d" % i, "a%d" % i, ack["ts"]), m
        ws2 = srv.ws(reader)
        replay = join(ws2, "general", since=0)
        assert [f["id"] for f in replay] == sorted(stored), "replay after restart differs"
