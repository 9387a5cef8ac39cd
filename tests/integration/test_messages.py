"""Messages over REST: POST /api/v1/rooms/{room}/messages (validation, idempotency,
size limits), GET and DELETE /api/v1/messages/{id}."""

import json
import socket
import time

from harness import (check_message, expect, expect_error, isolated_room, shared, uname)


def _post(srv, token, room, payload, **kw):
    return srv.post("/api/v1/rooms/%s/messages" % room, payload, token=token, **kw)


def test_post_message_returns_201_with_full_message():
    srv = shared()
    name = uname("poster")
    token = srv.session(name)
    cid = uname("cid")
    before = int(time.time() * 1000)
    m = expect(_post(srv, token, "general", {"body": "hello world", "cid": cid}), 201)
    after = int(time.time() * 1000)
    check_message(m, room="general", author=name, body="hello world", cid=cid)
    assert before - 2000 <= m["ts"] <= after + 2000, "ts %d not within [%d, %d]" % (m["ts"],
                                                                                    before, after)


def test_post_message_without_cid_has_null_cid():
    srv = shared()
    name = uname("nocid")
    token = srv.session(name)
    m = expect(_post(srv, token, "general", {"body": "no cid"}), 201)
    check_message(m, room="general", author=name, body="no cid", cid=None)


def test_post_message_by_cookie_auth():
    srv = shared()
    name = uname("cookiepost")
    token = srv.session(name)
    r = srv.post("/api/v1/rooms/general/messages", {"body": "via cookie"}, cookie=token)
    check_message(expect(r, 201), author=name, body="via cookie", cid=None)


def test_message_ids_increase():
    srv = shared()
    token = srv.session(uname("inc"))
    ids = [srv.send(token, "general", "n%d" % i)["id"] for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5, ids


def test_unicode_and_escapes_round_trip():
    srv = shared()
    token = srv.session(uname("uni"))
    body = "h\u00e9llo \U0001F30D \"quoted\" back\\slash tab\tnew\nline\r\n\u4e2d\u6587 </script>"
    m = srv.send(token, "general", body)
    assert m["body"] == body, m
    got = expect(srv.get("/api/v1/messages/%d" % m["id"], token=token), 200)
    assert got["body"] == body, got


def test_duplicate_cid_returns_200_with_same_message_and_is_stored_once():
    with isolated_room("dup") as (srv, token, room):
        cid = "dup:cid-1.x"
        first = expect(_post(srv, token, room, {"body": "once", "cid": cid}), 201)
        again = expect(_post(srv, token, room, {"body": "once", "cid": cid}), 200)
        assert again == first, "repeat returned %r, first was %r" % (again, first)
        third = expect(_post(srv, token, room, {"body": "once", "cid": cid}), 200)
        assert third == first
        msgs = srv.history(token, room)["messages"]
        assert [m["id"] for m in msgs] == [first["id"]], msgs


def test_same_cid_from_another_author_is_a_new_message():
    with isolated_room("cidA") as (srv, token, room):
        other_name = uname("cidB")
        other = srv.session(other_name)
        cid = "shared-cid"
        a = expect(_post(srv, token, room, {"body": "from a", "cid": cid}), 201)
        b = expect(_post(srv, other, room, {"body": "from b", "cid": cid}), 201)
        assert a["id"] != b["id"]
        check_message(b, author=other_name, body="from b", cid=cid)
        assert [m["id"] for m in srv.history(token, room)["messages"]] == [a["id"], b["id"]]


def test_cid_of_64_chars_is_accepted_and_invalid_cids_are_400():
    srv = shared()
    token = srv.session(uname("cidv"))
    ok = (uname("c") + "-" + "Az09._:-" * 8)[:64]
    assert len(ok) == 64 and "._:-" in ok
    m = expect(_post(srv, token, "general", {"body": "x", "cid": ok}), 201)
    assert m["cid"] == ok
    for bad in ["", "c" * 65, "has space", "sl/ash", "q?", "\u00e9", "a,b", "a+b"]:
        r = _post(srv, token, "general", {"body": "x", "cid": bad})
        expect_error(r, 400, "bad_request")
    for bad in [5, True, ["x"], {"a": 1}]:
        expect_error(_post(srv, token, "general", {"body": "x", "cid": bad}), 400, "bad_request")


def test_body_of_exactly_2000_utf8_bytes_is_accepted():
    srv = shared()
    token = srv.session(uname("b2000"))
    for body in ["\u00e9" * 1000, "\U0001F600" * 500, "a" * 2000]:
        assert len(body.encode("utf-8")) == 2000
        m = srv.send(token, "general", body)
        assert m["body"] == body


def test_body_over_2000_bytes_is_413_too_large():
    srv = shared()
    token = srv.session(uname("b2001"))
    for body in ["\u00e9" * 1000 + "a", "a" * 2001, "\U0001F600" * 501, "x" * 9000]:
        expect_error(_post(srv, token, "general", {"body": body}), 413, "too_large")


def test_body_empty_or_whitespace_only_is_400():
    srv = shared()
    token = srv.session(uname("empty"))
    for body in ["", " ", "   ", "\n", "\t\r\n  "]:
        expect_error(_post(srv, token, "general", {"body": body}), 400, "bad_request")


def test_body_with_invalid_utf8_is_400():
    srv = shared()
    token = srv.session(uname("utf"))
    for raw in [b'{"body":"abc\xff"}', b'{"body":"\xc0\xaf"}', b'{"body":"x\xed\xa0\x80y"}',
                b'{"body":"\xe2\x82"}', b'{"body":"\xf5\x80\x80\x80"}']:
        expect_error(_post(srv, token, "general", raw), 400, "bad_request")


def test_body_with_control_characters_is_400():
    srv = shared()
    token = srv.session(uname("ctl"))
    for body in ["a\u0001b", "bell\u0007", "esc\u001b[31m", "a\u0000b", "\u001f"]:
        expect_error(_post(srv, token, "general", {"body": body}), 400, "bad_request")


def test_body_keeps_tab_newline_and_carriage_return():
    srv = shared()
    token = srv.session(uname("tnr"))
    body = "col1\tcol2\nline2\r\nline3"
    assert srv.send(token, "general", body)["body"] == body


def test_body_missing_or_not_a_string_is_400():
    srv = shared()
    token = srv.session(uname("nobody"))
    for payload in [{}, {"cid": "x1"}, {"body": 5}, {"body": None}, {"body": ["a"]},
                    {"body": {"t": "a"}}, {"body": True}]:
        expect_error(_post(srv, token, "general", payload), 400, "bad_request")


def test_malformed_json_or_non_object_is_400():
    srv = shared()
    token = srv.session(uname("badjson"))
    for raw in [b'{"body":"x"', b'{body:"x"}', b"", b"null", b'"just a string"', b"[1,2]",
                b'{"body":"x"} trailing']:
        expect_error(_post(srv, token, "general", raw), 400, "bad_request")


def test_post_message_with_text_plain_is_415():
    srv = shared()
    token = srv.session(uname("m415"))
    r = _post(srv, token, "general", {"body": "x"}, ctype="text/plain")
    expect_error(r, 415, "unsupported_media_type")


def test_post_message_with_json_charset_is_accepted():
    srv = shared()
    token = srv.session(uname("mcs"))
    r = _post(srv, token, "general", {"body": "charset"}, ctype="application/json; charset=utf-8")
    assert expect(r, 201)["body"] == "charset"


def test_request_body_over_16KiB_is_413_too_large():
    srv = shared()
    token = srv.session(uname("big"))
    raw = json.dumps({"body": "y" * 17000}).encode()
    assert len(raw) > 16384
    expect_error(_post(srv, token, "general", raw), 413, "too_large")
    # padding outside the body field counts too
    raw = b'{"body":"small","pad":"' + b"p" * 20000 + b'"}'
    expect_error(_post(srv, token, "general", raw), 413, "too_large")
    # the server is still fine
    assert srv.send(token, "general", "after big")["body"] == "after big"


def test_huge_content_length_is_refused_413_without_reading_the_body():
    srv = shared()
    token = srv.session(uname("huge"))
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        head = ("POST /api/v1/rooms/general/messages HTTP/1.1\r\n"
                "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
                % (srv.port, token)).encode()
        s.sendall(head + b'{"body":"' + b"z" * 1000)
        # We never send the other 100 MB: a server that tries to read it all times out
        # here instead of answering.
        buf = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
        assert b"\r\n\r\n" in buf, "no response head within 5 s (got %r)" % (buf[:200],)
        status_line = buf.split(b"\r\n", 1)[0]
        assert status_line.split(b" ")[1] == b"413", "expected 413, got %r" % (status_line,)
    finally:
        s.close()
    assert expect(srv.get("/healthz"), 200) == {"status": "ok"}


def test_post_to_unknown_room_is_404():
    srv = shared()
    token = srv.session(uname("nr"))
    expect_error(_post(srv, token, "no-such-room-x", {"body": "x"}), 404, "not_found")
    r = srv.get("/api/v1/rooms/no-such-room-x/messages", token=token)
    expect_error(r, 404, "not_found")


def test_messages_require_auth_401():
    srv = shared()
    token = srv.session(uname("auth"))
    m = srv.send(token, "general", "secret")
    expect_error(_post(srv, None, "general", {"body": "x"}), 401, "unauthorized")
    expect_error(_post(srv, "C" * 43, "general", {"body": "x"}), 401, "unauthorized")
    expect_error(srv.get("/api/v1/rooms/general/messages"), 401, "unauthorized")
    expect_error(srv.get("/api/v1/messages/%d" % m["id"]), 401, "unauthorized")
    expect_error(srv.delete("/api/v1/messages/%d" % m["id"]), 401, "unauthorized")
    # still there
    assert expect(srv.get("/api/v1/messages/%d" % m["id"], token=token), 200) == m


def test_get_message_by_id_returns_the_message():
    srv = shared()
    name = uname("getter")
    token = srv.session(name)
    m = srv.send(token, "general", "fetch me", cid=uname("g"))
    other = srv.session(uname("reader"))
    got = expect(srv.get("/api/v1/messages/%d" % m["id"], token=other), 200)
    assert got == m, (got, m)


def test_get_unknown_message_is_404():
    srv = shared()
    token = srv.session(uname("g404"))
    expect_error(srv.get("/api/v1/messages/987654321", token=token), 404, "not_found")
    expect_error(srv.get("/api/v1/messages/0", token=token), 404, "not_found")


def test_delete_message_by_author_is_204_then_gone():
    with isolated_room("delauth") as (srv, token, room):
        keep = srv.send(token, room, "keep")
        gone = srv.send(token, room, "delete me", cid="del-1")
        r = srv.delete("/api/v1/messages/%d" % gone["id"], token=token)
        assert r.status == 204 and r.raw == b"", r
        expect_error(srv.get("/api/v1/messages/%d" % gone["id"], token=token), 404, "not_found")
        msgs = srv.history(token, room)["messages"]
        assert [m["id"] for m in msgs] == [keep["id"]], msgs
        expect_error(srv.delete("/api/v1/messages/%d" % gone["id"], token=token), 404,
                     "not_found")


def test_delete_message_of_another_user_is_403_forbidden():
    srv = shared()
    owner = srv.session(uname("owner"))
    thief = srv.session(uname("thief"))
    m = srv.send(owner, "general", "mine")
    expect_error(srv.delete("/api/v1/messages/%d" % m["id"], token=thief), 403, "forbidden")
    assert expect(srv.get("/api/v1/messages/%d" % m["id"], token=thief), 200) == m


def test_delete_unknown_message_is_404():
    srv = shared()
    token = srv.session(uname("d404"))
    expect_error(srv.delete("/api/v1/messages/987654321", token=token), 404, "not_found")
