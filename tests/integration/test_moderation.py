"""Moderation (feature "moderation", issue 13): accounts marked admin from the
box with `lanchat admin add|remove|list` (run here as a subprocess on the
running server's database), "admin" in the session, an admin's delete of
anyone's message (its "deleted" frame names who), the audit log, mutes (posts
refused over REST and WebSocket), kicks (sessions ended, WebSockets
closed), bans of a name or an address and reserved names (logins and
registrations refused), read-only rooms and topics, each told to every
client in a "moderation" frame and each stored before it is answered. Refusals:
403 for members who are not admins and for nickname users. Without the
feature the audit route is 404 and `lanchat admin` is no subcommand."""

import subprocess

from harness import (Server, binary, disk_limited_server, expect, expect_error, has, next_frame,
                     post_until_the_disk_is_full, requires, session_answer, shared, uname,
                     wait_frame)

PW = "correct horse"
AUDIT = "/api/v1/admin/audit"


def admin_cli(srv, *args, db=None):
    """`lanchat admin ARGS --db <the server's db>`: (exit code, stdout, stderr)."""
    p = subprocess.run([binary(), "admin", *args, "--db", db or srv.db],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def make_admin(srv, prefix="adm"):
    name = uname(prefix)
    srv.register(name, PW)
    rc, out, err = admin_cli(srv, "add", name)
    assert rc == 0, (rc, out, err)
    return name, srv.session(name, PW)


@requires("moderation")
def test_moderation_cli_add_list_remove_on_a_running_server():
    srv = shared()
    name = uname("cli")
    srv.register(name, PW)
    token = srv.session(name, PW)
    assert expect(srv.get("/api/v1/session", token=token), 200) == session_answer(name, False)

    rc, out, err = admin_cli(srv, "add", name)
    assert rc == 0 and out == "%s is an admin now\n" % name, (rc, out, err)
    # the running server reads the flag at each check: the same session is an admin now
    assert expect(srv.get("/api/v1/session", token=token), 200) == session_answer(name, True)
    rc, out, err = admin_cli(srv, "list")
    assert rc == 0 and name in out.split("\n"), (rc, out, err)
    rc, out, err = admin_cli(srv, "add", name)
    assert rc == 0 and "already" in out, (rc, out, err)

    rc, out, err = admin_cli(srv, "remove", name)
    assert rc == 0 and out == "%s is no longer an admin\n" % name, (rc, out, err)
    assert expect(srv.get("/api/v1/session", token=token), 200) == session_answer(name, False)
    expect_error(srv.get(AUDIT, token=token), 403, "forbidden")
    rc, out, err = admin_cli(srv, "list")
    assert rc == 0 and name not in out.split("\n"), (rc, out, err)


@requires("moderation")
def test_moderation_cli_refuses_unknown_accounts_and_bad_usage():
    srv = shared()
    nick = uname("nick")
    srv.session(nick)  # a nickname user is no account
    for who in (nick, uname("ghost")):
        rc, out, err = admin_cli(srv, "add", who)
        assert rc == 1 and "is not a registered account" in err and out == "", (rc, out, err)
    rc, _, err = admin_cli(srv, "promote", "x")
    assert rc == 2 and "usage: lanchat admin" in err, (rc, err)
    rc, _, err = admin_cli(srv, "add")
    assert rc == 2 and "usage: lanchat admin" in err, (rc, err)
    rc, _, err = admin_cli(srv, "list", db=srv.tmpdir + "/missing.db")
    assert rc == 1 and "cannot open the database" in err, (rc, err)


@requires("moderation")
def test_moderation_login_answer_says_admin():
    srv = shared()
    name, _ = make_admin(srv, "lg")
    r = srv.post("/api/v1/session", {"name": name, "password": PW})
    data = expect(r, 201)
    assert data["user"] == {"name": name, "admin": True}, data
    nick = uname("lgn")
    r = srv.post("/api/v1/session", {"name": nick})
    assert expect(r, 201)["user"] == {"name": nick, "admin": False}


@requires("moderation")
def test_moderation_admin_deletes_anyones_message_and_members_see_by():
    srv = shared()
    admin, admin_token = make_admin(srv, "del")
    author = uname("auth")
    author_token = srv.session(author)
    m = srv.send(author_token, "general", "spam spam")
    watcher = srv.ws(author_token)
    watcher.send_json({"type": "join", "room": "general"})
    wait_frame(watcher, type="joined", room="general")

    # another member who is not an admin keeps the 403
    other = uname("oth")
    srv.register(other, PW)
    other_token = srv.session(other, PW)
    expect_error(srv.delete("/api/v1/messages/%d" % m["id"], token=other_token), 403, "forbidden")

    r = srv.delete("/api/v1/messages/%d" % m["id"], token=admin_token)
    assert r.status == 204, r
    f = wait_frame(watcher, type="deleted", id=m["id"])
    assert f == {"type": "deleted", "room": "general", "id": m["id"], "by": admin}, f
    expect_error(srv.get("/api/v1/messages/%d" % m["id"], token=author_token), 404, "not_found")

    # a console change after the delete: the server's next writes still commit
    # (a SELECT of the delete once kept a stale snapshot: SQLITE_BUSY_SNAPSHOT)
    rc, out, err = admin_cli(srv, "add", other)
    assert rc == 0, (rc, out, err)
    srv.send(other_token, "general", "the writer still writes")

    # the author's own delete names the author
    m2 = srv.send(author_token, "general", "mine")
    assert srv.delete("/api/v1/messages/%d" % m2["id"], token=author_token).status == 204
    f = wait_frame(watcher, type="deleted", id=m2["id"])
    assert f["by"] == author, f

    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    hit = [e for e in entries if e["action"] == "delete" and e["actor"] == admin]
    assert hit and hit[0]["target"] == author and hit[0]["detail"] == "message %d" % m["id"], \
        entries


@requires("moderation")
def test_moderation_audit_is_admins_only_newest_first_and_pages():
    srv = Server()
    try:
        names = []
        for i in range(3):
            n = uname("pg%d" % i)
            srv.register(n, PW)
            assert admin_cli(srv, "add", n)[0] == 0
            names.append(n)
        token = srv.session(names[0], PW)
        page = expect(srv.get(AUDIT + "?limit=2", token=token), 200)
        assert set(page) == {"entries", "has_more"} and page["has_more"] is True, page
        assert [e["target"] for e in page["entries"]] == [names[2], names[1]], page
        e = page["entries"][0]
        assert set(e) == {"id", "ts", "actor", "action", "target", "detail"}, e
        assert e["actor"] == "console" and e["action"] == "admin_add", e
        assert e["ts"] > 1.6e12, e  # ms since the epoch
        rest = expect(srv.get(AUDIT + "?limit=2&before=%d" % page["entries"][-1]["id"],
                              token=token), 200)
        assert [e["target"] for e in rest["entries"]] == [names[0]], rest
        assert rest["has_more"] is False, rest
        expect_error(srv.get(AUDIT + "?limit=x", token=token), 400, "bad_request")

        member = uname("mem")
        srv.register(member, PW)
        expect_error(srv.get(AUDIT, token=srv.session(member, PW)), 403, "forbidden")
        expect_error(srv.get(AUDIT, token=srv.session(uname("nk"))), 403, "forbidden")
        expect_error(srv.get(AUDIT), 401, "unauthorized")
    finally:
        srv.close()


def test_moderation_absent_build_has_no_admin_subcommand():
    if has("moderation"):
        return
    srv = shared()
    rc, _, _ = admin_cli(srv, "list")
    assert rc == 2, rc  # taken as an unknown argument of the server


MUTES = "/api/v1/admin/mutes"
KICKS = "/api/v1/admin/kicks"


@requires("moderation")
def test_moderation_mute_refuses_posts_over_rest_and_websocket_until_lifted():
    srv = shared()
    admin, admin_token = make_admin(srv, "mu")
    target = uname("mut")
    target_token = srv.session(target)
    watcher = srv.ws(admin_token)
    ws = srv.ws(target_token)

    # not for a member who is not an admin, nor for a nickname
    member = uname("mm")
    srv.register(member, PW)
    for token in (srv.session(member, PW), target_token):
        expect_error(srv.post(MUTES, {"name": admin, "seconds": 60}, token=token), 403,
                     "forbidden")
    expect_error(srv.post(MUTES, {"name": target, "seconds": -1}, token=admin_token), 400,
                 "bad_request")
    expect_error(srv.post(MUTES, {"name": target}, token=admin_token), 400, "bad_request")
    expect_error(srv.post(MUTES, {"name": admin, "seconds": 5}, token=admin_token), 400,
                 "bad_request")

    assert srv.post(MUTES, {"name": target, "seconds": 600}, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation")
    assert f == {"type": "moderation", "action": "mute", "user": target, "by": admin,
                 "seconds": 600}, f
    wait_frame(ws, type="moderation", user=target)

    r = srv.post("/api/v1/rooms/general/messages", {"body": "hear me"}, token=target_token)
    expect_error(r, 403, "forbidden")
    assert "muted" in r.json()["error"]["message"], r
    ws.send_json({"type": "send", "room": "general", "body": "hear me", "cid": "m-1"})
    f = wait_frame(ws, type="error")
    assert f["code"] == "forbidden" and "muted" in f["message"] and f["cid"] == "m-1", f

    assert srv.post(MUTES, {"name": target, "seconds": 0}, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="unmute")
    assert f["user"] == target and f["seconds"] == 0, f
    srv.send(target_token, "general", "free again")

    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    acts = [(e["action"], e["target"], e["detail"]) for e in entries if e["actor"] == admin]
    assert acts[:2] == [("unmute", target, "0 s"), ("mute", target, "600 s")], acts


@requires("moderation")
def test_moderation_mute_is_stored_and_outlives_a_restart_as_does_its_lifting():
    with Server(label="mute-restart") as srv:
        admin, admin_token = make_admin(srv, "mr")
        kept, lifted = uname("mrk"), uname("mrl")
        srv.register(kept, PW)
        srv.register(lifted, PW)
        for name in (kept, lifted):
            assert srv.post(MUTES, {"name": name, "seconds": 600},
                            token=admin_token).status == 204
        assert srv.post(MUTES, {"name": lifted, "seconds": 0}, token=admin_token).status == 204
        srv.stop()
        srv.start()
        srv.wait_log(r"1 mute\(s\) in force")
        r = srv.post("/api/v1/rooms/general/messages", {"body": "after restart"},
                     token=srv.session(kept, PW))
        expect_error(r, 403, "forbidden")
        srv.send(srv.session(lifted, PW), "general", "not muted after restart")
        admin_token = srv.session(admin, PW)
        assert srv.post(MUTES, {"name": kept, "seconds": 0}, token=admin_token).status == 204
        srv.stop()
        srv.start()
        srv.send(srv.session(kept, PW), "general", "lifted for good")


@requires("moderation")
def test_moderation_kick_ends_every_session_and_closes_websockets():
    srv = shared()
    admin, admin_token = make_admin(srv, "kk")
    target = uname("kt")
    srv.register(target, PW)
    t1, t2 = srv.session(target, PW), srv.session(target, PW)
    w1, w2 = srv.ws(t1), srv.ws(t2)
    watcher = srv.ws(admin_token)

    expect_error(srv.post(KICKS, {"name": admin}, token=t1), 403, "forbidden")
    expect_error(srv.post(KICKS, {"name": uname("nobody")}, token=admin_token), 404, "not_found")

    assert srv.post(KICKS, {"name": target}, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation")
    assert f == {"type": "moderation", "action": "kick", "user": target, "by": admin}, f
    for w in (w1, w2):
        assert w.read_until_closed(timeout=10) == ("close", 1000)
    for t in (t1, t2):
        expect_error(srv.get("/api/v1/session", token=t), 401, "unauthorized")
    # they may log in again: a kick is no ban
    srv.session(target, PW)
    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    assert (entries[0]["action"], entries[0]["target"], entries[0]["detail"]) == \
        ("kick", target, "2 session(s)"), entries


BANS = "/api/v1/admin/bans"
RESERVED = "/api/v1/admin/reserved"
# a second loopback address (all of 127/8 is the loopback on Linux): the
# client that an address ban shuts out, while the admin stays on 127.0.0.1
OTHER = "127.0.0.2"


def login_from(srv, source, name, password=None):
    body = {"name": name} if password is None else {"name": name, "password": password}
    return srv.post("/api/v1/session", body, source=source)


@requires("moderation")
def test_moderation_routes_of_bans_and_reserved_names_are_admins_only_and_check_input():
    srv = shared()
    admin, admin_token = make_admin(srv, "bi")
    member = uname("bim")
    srv.register(member, PW)
    for token in (srv.session(member, PW), srv.session(uname("bin"))):
        for method, path, body in (("POST", BANS, {"kind": "name", "value": admin}),
                                   ("GET", BANS, None), ("DELETE", BANS + "/name/x", None),
                                   ("DELETE", BANS + "/address/192.0.2.7", None),
                                   ("POST", RESERVED, {"name": "x"}), ("GET", RESERVED, None),
                                   ("DELETE", RESERVED + "/x", None)):
            expect_error(srv.request(method, path, body, token=token), 403, "forbidden")
    for body in ({"kind": "name"}, {"kind": "name", "value": "no spaces"},
                 {"kind": "nick", "value": "x"}, {"value": "x"},
                 {"kind": "address", "value": "192.0.2.300"},
                 {"kind": "address", "value": "host.example"},
                 {"kind": "name", "value": admin},  # not themselves
                 {"kind": "address", "value": "127.0.0.1"}):  # nor their own address
        expect_error(srv.post(BANS, body, token=admin_token), 400, "bad_request")
    for body in ({}, {"name": ""}, {"name": admin}):
        expect_error(srv.post(RESERVED, body, token=admin_token), 400, "bad_request")
    expect_error(srv.delete(BANS + "/name/" + uname("nob"), token=admin_token), 404, "not_found")
    expect_error(srv.delete(BANS + "/address/not-an-address", token=admin_token), 400,
                 "bad_request")
    expect_error(srv.delete(RESERVED + "/" + uname("nor"), token=admin_token), 404, "not_found")


@requires("moderation")
def test_moderation_name_ban_ends_sessions_refuses_login_and_registration_until_lifted():
    srv = shared()
    admin, admin_token = make_admin(srv, "bn")
    target, nick = uname("bnt"), uname("bnn")
    srv.register(target, PW)
    t1 = srv.session(target, PW)
    w1 = srv.ws(t1)
    nick_token = srv.session(nick)
    watcher = srv.ws(admin_token)

    assert srv.post(BANS, {"kind": "name", "value": target}, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="ban")
    assert f == {"type": "moderation", "action": "ban", "user": target, "by": admin}, f
    assert w1.read_until_closed(timeout=10) == ("close", 1000)
    expect_error(srv.get("/api/v1/session", token=t1), 401, "unauthorized")
    r = srv.post("/api/v1/session", {"name": target, "password": PW})
    expect_error(r, 403, "forbidden")
    assert "banned" in r.json()["error"]["message"], r
    # names match without case, for logins and registrations alike
    expect_error(srv.post("/api/v1/session", {"name": target.upper(), "password": PW}), 403,
                 "forbidden")
    # a banned nickname cannot be registered either
    assert srv.post(BANS, {"kind": "name", "value": nick}, token=admin_token).status == 204
    expect_error(srv.get("/api/v1/session", token=nick_token), 401, "unauthorized")
    expect_error(srv.post("/api/v1/users", {"name": nick, "password": PW}), 403, "forbidden")
    expect_error(srv.post("/api/v1/session", {"name": nick}), 403, "forbidden")
    # banning again changes nothing
    assert srv.post(BANS, {"kind": "name", "value": nick}, token=admin_token).status == 204

    bans = expect(srv.get(BANS, token=admin_token), 200)["bans"]
    mine = [b for b in bans if b["by"] == admin]
    assert [(b["kind"], b["value"]) for b in mine] == [("name", target), ("name", nick)], bans
    assert all(isinstance(b["ts"], int) and b["ts"] > 0 for b in mine), bans

    assert srv.delete(BANS + "/name/" + target, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="unban")
    assert f["user"] == target and f["by"] == admin, f
    srv.session(target, PW)
    assert srv.delete(BANS + "/name/" + nick, token=admin_token).status == 204
    srv.session(nick)
    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    acts = [(e["action"], e["target"], e["detail"]) for e in entries if e["actor"] == admin]
    assert acts[:4] == [("unban", nick, "name"), ("unban", target, "name"),
                        ("ban", nick, "name"), ("ban", target, "name")], acts


@requires("moderation")
def test_moderation_address_ban_ends_its_sessions_and_refuses_logins_from_it():
    with Server(label="ban-address") as srv:
        admin, admin_token = make_admin(srv, "ba")
        member = uname("bam")
        srv.register(member, PW)
        there = expect(login_from(srv, OTHER, uname("ban")), 201)["token"]
        here = srv.session(member, PW)  # from 127.0.0.1: untouched
        watcher = srv.ws(admin_token)

        assert srv.post(BANS, {"kind": "address", "value": OTHER},
                        token=admin_token).status == 204
        f = wait_frame(watcher, type="moderation", action="ban")
        assert f == {"type": "moderation", "action": "ban", "user": OTHER, "by": admin}, f
        expect_error(srv.get("/api/v1/session", token=there), 401, "unauthorized")
        expect(srv.get("/api/v1/session", token=here), 200)
        r = login_from(srv, OTHER, member, PW)
        expect_error(r, 403, "forbidden")
        assert "address" in r.json()["error"]["message"], r
        expect_error(login_from(srv, OTHER, uname("ban")), 403, "forbidden")
        expect_error(srv.post("/api/v1/users", {"name": uname("bar"), "password": PW},
                              source=OTHER), 403, "forbidden")
        [ban] = expect(srv.get(BANS, token=admin_token), 200)["bans"]
        assert set(ban) == {"kind", "value", "ts", "by"} and isinstance(ban["ts"], int), ban
        assert (ban["kind"], ban["value"], ban["by"]) == ("address", OTHER, admin), ban
        assert srv.delete(BANS + "/address/" + OTHER, token=admin_token).status == 204
        expect(login_from(srv, OTHER, member, PW), 201)


@requires("moderation")
def test_moderation_bans_and_reserved_names_are_stored_and_outlive_a_restart():
    with Server(label="ban-restart") as srv:
        admin, admin_token = make_admin(srv, "br")
        banned, lifted, kept = uname("brb"), uname("brl"), uname("brk")
        srv.register(banned, PW)
        srv.register(lifted, PW)
        for name in (banned, lifted):
            assert srv.post(BANS, {"kind": "name", "value": name},
                            token=admin_token).status == 204
        assert srv.post(BANS, {"kind": "address", "value": OTHER},
                        token=admin_token).status == 204
        assert srv.delete(BANS + "/name/" + lifted, token=admin_token).status == 204
        assert srv.post(RESERVED, {"name": kept}, token=admin_token).status == 204
        srv.stop()
        srv.start()
        expect_error(srv.post("/api/v1/session", {"name": banned, "password": PW}), 403,
                     "forbidden")
        expect_error(login_from(srv, OTHER, uname("brn")), 403, "forbidden")
        srv.session(lifted, PW)
        expect_error(srv.post("/api/v1/session", {"name": kept}), 409, "name_taken")
        admin_token = srv.session(admin, PW)
        assert [(b["kind"], b["value"]) for b in
                expect(srv.get(BANS, token=admin_token), 200)["bans"]] == \
            [("name", banned), ("address", OTHER)]
        assert [e["name"] for e in
                expect(srv.get(RESERVED, token=admin_token), 200)["reserved"]] == [kept]
        # and the console lists them, from its own process, by kind
        rc, out, err = admin_cli(srv, "bans")
        assert rc == 0 and out == "address %s\nname %s\nreserved %s\n" % (OTHER, banned, kept), \
            (rc, out, err)


@requires("moderation")
def test_moderation_reserved_name_cannot_be_a_nickname_or_registered_but_its_account_logs_in():
    srv = shared()
    admin, admin_token = make_admin(srv, "rs")
    free, owned = uname("rsf"), uname("rso")
    srv.register(owned, PW)
    watcher = srv.ws(admin_token)
    for name in (free, owned):
        assert srv.post(RESERVED, {"name": name}, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="reserve")
    assert f == {"type": "moderation", "action": "reserve", "user": free, "by": admin}, f
    r = srv.post("/api/v1/session", {"name": free.upper()})
    expect_error(r, 409, "name_taken")
    assert "reserved" in r.json()["error"]["message"], r
    expect_error(srv.post("/api/v1/users", {"name": free, "password": PW}), 409, "name_taken")
    # an account of a reserved name is untouched: it logs in with its password
    srv.session(owned, PW)
    listed = expect(srv.get(RESERVED, token=admin_token), 200)["reserved"]
    assert [e["name"] for e in listed if e["by"] == admin] == [free, owned], listed
    assert srv.delete(RESERVED + "/" + free, token=admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="unreserve")
    assert f["user"] == free, f
    srv.session(free)
    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    acts = [(e["action"], e["target"], e["detail"]) for e in entries if e["actor"] == admin]
    assert acts[:3] == [("unreserve", free, "reserved"), ("reserve", owned, "reserved"),
                        ("reserve", free, "reserved")], acts


def patch_room(srv, room, body, token):
    return srv.request("PATCH", "/api/v1/rooms/" + room, body, token=token)


def room_entry(srv, token, room):
    [entry] = [e for e in expect(srv.get("/api/v1/rooms", token=token), 200)["rooms"]
               if e["name"] == room]
    return entry


@requires("moderation")
def test_moderation_read_only_room_refuses_members_posts_over_rest_and_websocket_not_admins():
    srv = shared()
    admin, admin_token = make_admin(srv, "ro")
    member = uname("rom")
    srv.register(member, PW)
    member_token = srv.session(member, PW)
    nick_token = srv.session(uname("ron"))
    room = srv.create_room(admin_token, uname("room"))
    watcher = srv.ws(admin_token)

    for token in (member_token, nick_token):
        expect_error(patch_room(srv, room, {"read_only": True}, token), 403, "forbidden")
    for body in ({}, {"read_only": "yes"}, {"topic": 5}, {"topic": "x" * 201},
                 {"topic": "   "}, {"topic": "bell\u0007"}):
        expect_error(patch_room(srv, room, body, admin_token), 400, "bad_request")
    expect_error(patch_room(srv, uname("noroom"), {"read_only": True}, admin_token), 404,
                 "not_found")
    assert room_entry(srv, member_token, room) == {"name": room}

    assert patch_room(srv, room, {"read_only": True, "topic": "Tests — quiet please"},
                      admin_token).status == 204
    f = wait_frame(watcher, type="moderation", action="room")
    assert f == {"type": "moderation", "action": "room", "user": room, "by": admin}, f
    assert room_entry(srv, member_token, room) == {"name": room, "read_only": True,
                                                   "topic": "Tests — quiet please"}
    ws = srv.ws(member_token)
    [entry] = [e for e in ws.hello["rooms"] if e["name"] == room]
    assert entry == {"name": room, "read_only": True, "topic": "Tests — quiet please"}, entry

    r = srv.post("/api/v1/rooms/%s/messages" % room, {"body": "hi"}, token=member_token)
    expect_error(r, 403, "forbidden")
    assert r.json()["error"]["message"] == "this room is read-only", r
    ws.send_json({"type": "send", "room": room, "body": "hi", "cid": "ro-1"})
    f = wait_frame(ws, type="error")
    assert f["code"] == "forbidden" and "read-only" in f["message"] and f["cid"] == "ro-1", f
    srv.send(admin_token, room, "admins may still post")
    # other rooms are untouched
    srv.send(member_token, "general", "general is open")

    # the topic alone changes; then the flag goes and the topic is cleared
    assert patch_room(srv, room, {"topic": "new"}, admin_token).status == 204
    assert room_entry(srv, member_token, room) == {"name": room, "read_only": True,
                                                   "topic": "new"}
    assert patch_room(srv, room, {"read_only": False, "topic": ""}, admin_token).status == 204
    assert room_entry(srv, member_token, room) == {"name": room}
    srv.send(member_token, room, "open again")
    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    acts = [(e["action"], e["target"], e["detail"]) for e in entries if e["actor"] == admin]
    assert acts[:3] == [("room", room, "read_only off, topic cleared"),
                        ("room", room, "topic set"),
                        ("room", room, "read_only on, topic set")], acts


@requires("moderation")
def test_moderation_read_only_flag_and_topic_outlive_a_restart():
    with Server(label="room-restart") as srv:
        admin, admin_token = make_admin(srv, "rr")
        member = uname("rrm")
        srv.register(member, PW)
        room = srv.create_room(admin_token, uname("rroom"))
        assert patch_room(srv, room, {"read_only": True, "topic": "kept"},
                          admin_token).status == 204
        assert patch_room(srv, "general", {"topic": "hello all"}, admin_token).status == 204
        srv.stop()
        srv.start()
        token = srv.session(member, PW)
        assert room_entry(srv, token, room) == {"name": room, "read_only": True, "topic": "kept"}
        assert room_entry(srv, token, "general") == {"name": "general", "topic": "hello all"}
        expect_error(srv.post("/api/v1/rooms/%s/messages" % room, {"body": "x"}, token=token),
                     403, "forbidden")


@requires("moderation")
def test_moderation_ban_and_reservation_on_a_full_disk_are_503_and_not_in_force():
    with disk_limited_server("ban-full") as srv:
        admin, admin_token = make_admin(srv, "bf")
        target = uname("bft")
        target_token = srv.session(target)
        post_until_the_disk_is_full(srv, admin_token, "b")
        for method, path, body in (("POST", BANS, {"kind": "name", "value": target}),
                                   ("POST", BANS, {"kind": "address", "value": OTHER}),
                                   ("POST", RESERVED, {"name": uname("bfr")})):
            expect_error(srv.request(method, path, body, token=admin_token), 503, "unavailable")
        assert expect(srv.get(BANS, token=admin_token), 200) == {"bans": []}
        assert expect(srv.get(RESERVED, token=admin_token), 200) == {"reserved": []}
        expect(srv.get("/api/v1/session", token=target_token), 200)


BACKUP = "/api/v1/admin/backup"


@requires("backups")
@requires("moderation")
def test_moderation_backup_download_is_admins_only_a_checked_db_and_leaves_no_file():
    import datetime
    import os
    import sqlite3
    import tempfile
    srv = shared()
    admin, admin_token = make_admin(srv, "bk")
    member = uname("bkm")
    srv.register(member, PW)
    member_token = srv.session(member, PW)
    expect_error(srv.get(BACKUP, token=member_token), 403, "forbidden")
    expect_error(srv.get(BACKUP, token=srv.session(uname("bkn"))), 403, "forbidden")
    expect_error(srv.get(BACKUP), 401, "unauthorized")
    body = "backed up " + uname("b")
    srv.send(member_token, "general", body)
    directory = os.path.dirname(os.path.abspath(srv.db))
    before = set(os.listdir(directory))

    r = srv.get(BACKUP, token=admin_token)
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/vnd.sqlite3", r.headers
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert r.header("Content-Disposition") in (
        'attachment; filename="lanchat-%s.db"' % day,
        'attachment; filename="lanchat-%s.db"' % (datetime.datetime.now(
            datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%d")), \
        r.headers
    assert int(r.header("Content-Length")) == len(r.raw), r.headers
    assert r.raw.startswith(b"SQLite format 3\0"), r.raw[:32]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "copy.db")
        with open(path, "wb") as f:
            f.write(r.raw)
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("SELECT count(*) FROM messages WHERE body = ?",
                              (body,)).fetchone()[0] == 1
            # the copy holds the audit row of its own download
            assert db.execute("SELECT count(*) FROM audit WHERE actor = ? AND action = 'backup'",
                              (admin,)).fetchone()[0] == 1
        finally:
            db.close()
    # the temporary copy beside the database is gone
    left = [n for n in set(os.listdir(directory)) - before if ".download-" in n]
    assert left == [], left
    entries = expect(srv.get(AUDIT, token=admin_token), 200)["entries"]
    assert any(e["actor"] == admin and e["action"] == "backup" for e in entries), entries
