"""History paging: GET /api/v1/rooms/{room}/messages?limit=&before=&after=."""

from harness import bulk_post, check_message, expect_error, isolated_room, uname


def _ids(page):
    return [m["id"] for m in page["messages"]]


def test_history_of_empty_room_is_empty_without_more():
    with isolated_room("hempty") as (srv, token, room):
        assert srv.history(token, room) == {"messages": [], "has_more": False}
        assert srv.history(token, room, after=0) == {"messages": [], "has_more": False}
        assert srv.history(token, room, before=10 ** 9) == {"messages": [], "has_more": False}


def test_history_messages_have_full_shape_in_ascending_order():
    with isolated_room("hshape") as (srv, token, room):
        name = srv.get("/api/v1/session", token=token).json()["user"]["name"]
        posted = [srv.send(token, room, "m%d" % i, cid="c%d" % i if i % 2 else None)
                  for i in range(4)]
        page = srv.history(token, room)
        assert page["has_more"] is False
        assert page["messages"] == posted, (page["messages"], posted)
        for i, m in enumerate(page["messages"]):
            check_message(m, room=room, author=name, body="m%d" % i,
                          cid="c%d" % i if i % 2 else None)


def test_history_limit_returns_newest_and_has_more_when_older_exist():
    with isolated_room("hlim") as (srv, token, room):
        ids = [m["id"] for m in bulk_post(srv, token, room, ["m%d" % i for i in range(7)],
                                          threads=1)]
        page = srv.history(token, room, limit=3)
        assert _ids(page) == ids[4:], (_ids(page), ids)
        assert page["has_more"] is True
        page = srv.history(token, room, limit=7)
        assert _ids(page) == ids and page["has_more"] is False, page
        page = srv.history(token, room, limit=8)
        assert _ids(page) == ids and page["has_more"] is False, page


def test_history_before_pages_backwards():
    with isolated_room("hbef") as (srv, token, room):
        ids = [m["id"] for m in bulk_post(srv, token, room, ["m%d" % i for i in range(7)],
                                          threads=1)]
        page = srv.history(token, room, before=ids[4], limit=3)
        assert _ids(page) == ids[1:4] and page["has_more"] is True, (page, ids)
        page = srv.history(token, room, before=ids[1], limit=3)
        assert _ids(page) == ids[:1] and page["has_more"] is False, (page, ids)
        page = srv.history(token, room, before=ids[3], limit=3)
        assert _ids(page) == ids[:3] and page["has_more"] is False, (page, ids)
        page = srv.history(token, room, before=ids[0])
        assert page == {"messages": [], "has_more": False}, page
        page = srv.history(token, room, before=ids[6] + 1000)
        assert _ids(page) == ids and page["has_more"] is False, page


def test_history_after_pages_forwards():
    with isolated_room("haft") as (srv, token, room):
        ids = [m["id"] for m in bulk_post(srv, token, room, ["m%d" % i for i in range(7)],
                                          threads=1)]
        page = srv.history(token, room, after=ids[0], limit=3)
        assert _ids(page) == ids[1:4] and page["has_more"] is True, (page, ids)
        page = srv.history(token, room, after=ids[3], limit=3)
        assert _ids(page) == ids[4:7] and page["has_more"] is False, (page, ids)
        page = srv.history(token, room, after=ids[2], limit=3)
        assert _ids(page) == ids[3:6] and page["has_more"] is True, (page, ids)
        page = srv.history(token, room, after=ids[6])
        assert page == {"messages": [], "has_more": False}, page
        page = srv.history(token, room, after=0)
        assert _ids(page) == ids and page["has_more"] is False, page


def test_history_default_limit_is_50_and_limit_is_clamped_to_200():
    with isolated_room("hbig") as (srv, token, room):
        msgs = bulk_post(srv, token, room, ["b%d" % i for i in range(205)])
        ids = sorted(m["id"] for m in msgs)
        page = srv.history(token, room)
        assert len(page["messages"]) == 50, len(page["messages"])
        assert _ids(page) == ids[-50:] and page["has_more"] is True
        page = srv.history(token, room, limit=200)
        assert _ids(page) == ids[-200:] and page["has_more"] is True
        page = srv.history(token, room, limit=1000)
        assert len(page["messages"]) == 200, len(page["messages"])
        assert _ids(page) == ids[-200:] and page["has_more"] is True
        page = srv.history(token, room, after=0, limit=500)
        assert _ids(page) == ids[:200] and page["has_more"] is True
        page = srv.history(token, room, after=ids[4], limit=500)
        assert _ids(page) == ids[5:] and page["has_more"] is False
        page = srv.history(token, room, before=ids[-1], limit=1000)
        assert _ids(page) == ids[-201:-1] and page["has_more"] is True
        page = srv.history(token, room, after=0)
        assert _ids(page) == ids[:50] and page["has_more"] is True


def test_history_bad_limit_is_400():
    with isolated_room("hbad") as (srv, token, room):
        srv.send(token, room, "x")
        for bad in ["0", "-1", "-50", "abc", "1x"]:
            r = srv.get("/api/v1/rooms/%s/messages?limit=%s" % (room, bad), token=token)
            expect_error(r, 400, "bad_request")


def test_history_of_unknown_room_is_404():
    with isolated_room("h404") as (srv, token, room):
        r = srv.get("/api/v1/rooms/%s/messages" % uname("nothere"), token=token)
        expect_error(r, 404, "not_found")
