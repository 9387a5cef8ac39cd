"""End-to-end: two HTTP clients and two WebSocket clients chat in "general"."""

from harness import Server, expect, join, next_frame, uname


def test_two_http_and_two_ws_clients_chat_in_general():
    with Server(label="chat") as srv:
        h1n, h2n, w1n, w2n = uname("http1"), uname("http2"), uname("ws1"), uname("ws2")
        h1, h2, t1, t2 = (srv.session(n) for n in (h1n, h2n, w1n, w2n))
        w1 = srv.ws(t1)
        w2 = srv.ws(t2)
        # w1 sees w2 arrive
        f = next_frame(w1, skip=())
        assert f == {"type": "presence", "user": w2n, "online": True}, f
        assert w2.hello["online"] == sorted([w1n, w2n]), w2.hello
        assert join(w1, "general", since=0) == []
        assert join(w2, "general") == []

        presence = expect(srv.get("/api/v1/presence", token=h1), 200)
        assert presence == {"online": sorted([w1n, w2n])}, presence

        # HTTP client 1 talks; both WS clients hear it
        m1 = srv.send(h1, "general", "hello from http1", cid="h1-1")
        for w in (w1, w2):
            f = next_frame(w)
            assert f == dict(m1, type="message"), f

        # WS client 1 answers; it gets its ack and its own message, w2 gets the message
        w1.send_json({"type": "send", "room": "general", "body": "hi http1, ws1 here",
                      "cid": "w1-1"})
        frames = [next_frame(w1), next_frame(w1)]
        ack = [f for f in frames if f["type"] == "ack"]
        echo = [f for f in frames if f["type"] == "message"]
        assert len(ack) == 1 and len(echo) == 1, frames
        assert ack[0]["cid"] == "w1-1" and echo[0]["id"] == ack[0]["id"], frames
        m2 = next_frame(w2)
        assert m2 == echo[0], (m2, echo)
        assert m2["author"] == w1n and m2["body"] == "hi http1, ws1 here"

        # WS client 2 answers
        w2.send_json({"type": "send", "room": "general", "body": "ws2 too", "cid": "w2-1"})
        frames = [next_frame(w2), next_frame(w2)]
        ack2 = [f for f in frames if f["type"] == "ack"][0]
        m3 = next_frame(w1)
        assert m3["id"] == ack2["id"] and m3["author"] == w2n, m3

        # HTTP client 2 reads the history: all three, in order, exact shapes
        page = srv.history(h2, "general")
        assert page["has_more"] is False
        assert [(m["author"], m["body"], m["cid"]) for m in page["messages"]] == [
            (h1n, "hello from http1", "h1-1"),
            (w1n, "hi http1, ws1 here", "w1-1"),
            (w2n, "ws2 too", "w2-1"),
        ], page
        assert page["messages"][0] == m1
        ids = [m["id"] for m in page["messages"]]
        assert ids == sorted(ids) and ids[1] == ack[0]["id"] and ids[2] == ack2["id"]

        # HTTP client 2 replies; w1 and w2 both get it; h1 pages with after=
        m4 = srv.send(h2, "general", "http2 says bye")
        for w in (w1, w2):
            assert next_frame(w) == dict(m4, type="message")
        page = srv.history(h1, "general", after=ids[-1])
        assert page == {"messages": [m4], "has_more": False}, page

        # w2 leaves: w1 is told, presence shrinks
        w2.close()
        f = next_frame(w1, skip=())
        assert f == {"type": "presence", "user": w2n, "online": False}, f
        assert expect(srv.get("/api/v1/presence", token=h2), 200) == {"online": [w1n]}
