"""Full-text search: GET /api/v1/search?q=&room=&before=&limit= (CHAT_WITH_SEARCH)."""

import os
import sqlite3
import urllib.parse

from harness import (Server, bulk_post, check_message, expect, expect_error, has, isolated_room,
                     requires, shared, shared_bridge, uname, wait_until)


def word():
    """A token nobody else posts (FTS5's unicode61 splits at '_', so letters and digits)."""
    return "w" + os.urandom(6).hex()


def search(srv, token, q, status=200, **params):
    params = dict(params, q=q)
    r = srv.get("/api/v1/search?" + urllib.parse.urlencode(params), token=token)
    if status != 200:
        return r
    data = expect(r, 200)
    assert isinstance(data, dict) and set(data) == {"messages", "has_more"}, data
    assert isinstance(data["has_more"], bool), data
    return data


def _ids(page):
    return [m["id"] for m in page["messages"]]


@requires("search")
def test_search_finds_matching_messages_newest_first_with_their_room():
    with isolated_room("sfind") as (srv, token, room):
        w = word()
        name = srv.get("/api/v1/session", token=token).json()["user"]["name"]
        posted = [srv.send(token, room, "%s number %d" % (w, i)) for i in range(3)]
        srv.send(token, room, "nothing to see here")
        page = search(srv, token, w)
        assert page["has_more"] is False, page
        assert page["messages"] == posted[::-1], (page, posted)
        for i, m in enumerate(reversed(page["messages"])):
            check_message(m, room=room, author=name, body="%s number %d" % (w, i), cid=None)
        page = search(srv, token, "%s AND number" % w)
        assert _ids(page) == [m["id"] for m in posted[::-1]], page
        assert search(srv, token, word())["messages"] == []


@requires("search")
def test_search_matches_words_without_case_and_by_prefix():
    with isolated_room("scase") as (srv, token, room):
        w = word()
        m = srv.send(token, room, "Hello %s, café" % w.upper())
        assert _ids(search(srv, token, w)) == [m["id"]]
        assert _ids(search(srv, token, w[:8] + "*")) == [m["id"]]
        assert _ids(search(srv, token, '"hello %s"' % w)) == [m["id"]]


@requires("search")
def test_search_room_filter_keeps_one_room():
    with isolated_room("sroom") as (srv, token, room):
        w = word()
        here = srv.send(token, room, "%s here" % w)
        if has("rooms"):
            other = srv.create_room(token, uname("r"))
            there = srv.send(token, other, "%s there" % w)
            assert _ids(search(srv, token, w)) == [there["id"], here["id"]]
            assert _ids(search(srv, token, w, room=other)) == [there["id"]]
        assert _ids(search(srv, token, w, room=room)) == [here["id"]]
        expect_error(search(srv, token, w, status=404, room="nosuchroom" + w), 404, "not_found")


@requires("search")
def test_search_pages_back_with_before_and_has_more():
    with isolated_room("spage") as (srv, token, room):
        w = word()
        ids = sorted(m["id"] for m in bulk_post(srv, token, room,
                                                ["%s %d" % (w, i) for i in range(7)]))
        newest = ids[::-1]
        page = search(srv, token, w, limit=3)
        assert _ids(page) == newest[:3] and page["has_more"] is True, (page, ids)
        page = search(srv, token, w, limit=3, before=page["messages"][-1]["id"])
        assert _ids(page) == newest[3:6] and page["has_more"] is True, (page, ids)
        page = search(srv, token, w, limit=3, before=page["messages"][-1]["id"])
        assert _ids(page) == newest[6:] and page["has_more"] is False, (page, ids)
        page = search(srv, token, w, limit=7)
        assert _ids(page) == newest and page["has_more"] is False, page
        page = search(srv, token, w, before=ids[0])
        assert page == {"messages": [], "has_more": False}, page


@requires("search")
def test_search_default_limit_is_50_and_limit_is_clamped_to_200():
    with isolated_room("sbig") as (srv, token, room):
        w = word()
        msgs = bulk_post(srv, token, room, ["%s %d %s" % (w, i, "x" * 300) for i in range(205)])
        ids = sorted((m["id"] for m in msgs), reverse=True)
        page = search(srv, token, w)
        assert _ids(page) == ids[:50] and page["has_more"] is True
        page = search(srv, token, w, limit=1000)
        assert _ids(page) == ids[:200] and page["has_more"] is True
        page = search(srv, token, w, limit=1000, before=ids[199])
        assert _ids(page) == ids[200:] and page["has_more"] is False


@requires("search")
def test_search_does_not_return_deleted_messages():
    with isolated_room("sdel") as (srv, token, room):
        w = word()
        keep = srv.send(token, room, "%s keep" % w)
        gone = srv.send(token, room, "%s gone" % w)
        assert _ids(search(srv, token, w)) == [gone["id"], keep["id"]]
        assert srv.delete("/api/v1/messages/%d" % gone["id"], token=token).status == 204
        assert _ids(search(srv, token, w)) == [keep["id"]]
        assert search(srv, token, "gone AND " + w)["messages"] == []


@requires("search")
def test_search_does_not_return_messages_trimmed_by_retention():
    with Server(["--max-messages-per-room", "3"], label="search-retention") as srv:
        token = srv.session(uname("sret"))
        w = word()
        ids = [srv.send(token, "general", "%s %d" % (w, i))["id"] for i in range(5)]
        kept = [m["id"] for m in srv.all_history(token, "general")]
        assert kept == ids[-3:], (kept, ids)
        assert _ids(search(srv, token, w)) == kept[::-1]


@requires("search")
def test_search_with_bad_query_syntax_is_400_not_500():
    srv = shared()
    token = srv.session(uname("ssyn"))
    for q in ['"', "AND", "a AND", "(x", "nosuchcolumn: x", "NEAR(a b"]:
        err = expect_error(search(srv, token, q, status=400), 400, "bad_request")
        assert "search" in err["message"], (q, err)
    for params in ({"q": ""}, {"q": "   "}, {}):
        r = srv.get("/api/v1/search?" + urllib.parse.urlencode(params), token=token)
        expect_error(r, 400, "bad_request")
    expect_error(search(srv, token, "x" * 300, status=400), 400, "bad_request")
    for bad in ({"limit": "0"}, {"limit": "x"}, {"before": "-1"}):
        expect_error(search(srv, token, "x", status=400, **bad), 400, "bad_request")
    assert srv.get("/healthz").status == 200


@requires("search")
def test_search_without_session_is_401():
    srv = shared()
    r = srv.get("/api/v1/search?q=x")
    expect_error(r, 401, "unauthorized")


@requires("search")
def test_server_features_name_search():
    body = expect(shared().get("/api/v1/server"), 200)
    assert body["features"]["search"] is True, body


def _schema_version(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


@requires("search")
def test_search_index_is_built_by_migration_for_an_older_database():
    with Server(label="search-migrate") as srv:
        token = srv.session(uname("smig"))
        w = word()
        old = [srv.send(token, "general", "%s old %d" % (w, i))["id"] for i in range(3)]
        srv.stop()
        version = _schema_version(srv.db)
        # the database as schema 3 (before the index, step 4) left it: the
        # later steps' tables and columns go too, so every step from 4 runs
        con = sqlite3.connect(srv.db)
        con.executescript("DROP TRIGGER IF EXISTS messages_fts_insert; DROP TRIGGER messages_fts_delete;"
                          "DROP TRIGGER messages_fts_update; DROP TABLE messages_fts;"
                          "DROP TABLE IF EXISTS audit; DROP TABLE IF EXISTS mutes;"
                          "DROP TABLE IF EXISTS bans;")
        if "admin" in [row[1] for row in con.execute("PRAGMA table_info(users)")]:
            con.execute("ALTER TABLE users DROP COLUMN admin")
        con.execute("DROP INDEX IF EXISTS rooms_by_members")  # the direct rooms' step
        for column in ("member_a", "member_b", "read_only", "topic"):
            if column in [row[1] for row in con.execute("PRAGMA table_info(rooms)")]:
                con.execute("ALTER TABLE rooms DROP COLUMN " + column)
        con.execute("PRAGMA user_version=3")
        con.commit()
        con.close()
        srv.start()
        srv.wait_log(r"schema migrated to version 4")
        srv.wait_log(r"schema migrated to version %d" % version)
        assert _schema_version(srv.db) == version
        token = srv.session(uname("smig2"))
        assert _ids(search(srv, token, w)) == old[::-1]
        new = srv.send(token, "general", "%s new" % w)["id"]
        assert _ids(search(srv, token, w)) == [new] + old[::-1]
        # step 9: the writer indexes new messages, no trigger does
        con = sqlite3.connect(srv.db)
        try:
            triggers = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        finally:
            con.close()
        assert triggers == {"messages_fts_delete", "messages_fts_update"}, triggers


@requires("search")
def test_search_finds_mirrored_messages_until_their_origin_deletes_them():
    if not has("mqtt"):
        return  # test_mqtt.py checks that --mqtt is refused
    bridge = shared_bridge()
    a, b = bridge.a, bridge.b
    ta, tb = a.session(uname("smqa")), b.session(uname("smqb"))
    w = word()
    doomed = a.send(ta, "general", "%s doomed" % w)
    kept = a.send(ta, "general", "%s kept" % w)
    wait_until("both copies found on b", lambda: len(search(b, tb, w)["messages"]) == 2)
    hits = search(b, tb, w)["messages"]
    assert [m["body"] for m in hits] == [kept["body"], doomed["body"]], hits
    assert all(m.get("node") == "a" and m["room"] == "general" for m in hits), hits
    assert a.delete("/api/v1/messages/%d" % doomed["id"], token=ta).status == 204
    wait_until("the deleted copy no longer found on b",
               lambda: [m["body"] for m in search(b, tb, w)["messages"]] == [kept["body"]])
