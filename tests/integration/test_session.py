"""Sessions: POST/GET/DELETE /api/v1/session, auth by cookie or Bearer, name rules,
content types, unknown routes and /healthz."""

from harness import expect, expect_error, session_answer, shared, uname

SESSION = "/api/v1/session"


def _cookie_attrs(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    first, attrs = parts[0], parts[1:]
    return first, {a.lower() for a in attrs if a}


def test_session_create_returns_201_with_user_token_and_cookie():
    srv = shared()
    name = uname("alice")
    r = srv.post(SESSION, {"name": name})
    body = expect(r, 201)
    assert set(body) == {"user", "token"}, body
    assert body["user"] == session_answer(name)["user"], body
    token = body["token"]
    assert isinstance(token, str) and len(token) >= 43, "token too short: %r" % (token,)
    cookies = r.header_all("Set-Cookie")
    assert len(cookies) == 1, "expected one Set-Cookie, got %r" % (cookies,)
    first, attrs = _cookie_attrs(cookies[0])
    assert first == "session=" + token, "cookie %r does not carry the token" % (cookies[0],)
    for want in ("httponly", "samesite=strict", "path=/"):
        assert want in attrs, "Set-Cookie %r lacks %s" % (cookies[0], want)


def test_two_sessions_get_distinct_tokens():
    srv = shared()
    t1 = srv.session(uname("d1"))
    t2 = srv.session(uname("d2"))
    assert t1 != t2


def test_session_get_with_cookie_returns_user():
    srv = shared()
    name = uname("cook")
    token = srv.session(name)
    assert expect(srv.get(SESSION, cookie=token), 200) == session_answer(name)


def test_session_get_with_bearer_returns_user():
    srv = shared()
    name = uname("bear")
    token = srv.session(name)
    assert expect(srv.get(SESSION, token=token), 200) == session_answer(name)


def test_session_cookie_is_found_among_other_cookies():
    srv = shared()
    name = uname("multi")
    token = srv.session(name)
    r = srv.get(SESSION, headers={"Cookie": "theme=dark; session=%s; lang=en" % token})
    assert expect(r, 200) == session_answer(name)


def test_session_get_without_credentials_is_401_unauthorized():
    srv = shared()
    expect_error(srv.get(SESSION), 401, "unauthorized")


def test_session_get_with_unknown_token_is_401_by_bearer_and_cookie():
    srv = shared()
    bogus = "A" * 43
    expect_error(srv.get(SESSION, token=bogus), 401, "unauthorized")
    expect_error(srv.get(SESSION, cookie=bogus), 401, "unauthorized")
    expect_error(srv.get(SESSION, headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401,
                 "unauthorized")


def test_session_invalid_names_are_400_bad_request():
    srv = shared()
    for bad in ["", "a" * 33, "has space", "sl/ash", "caf\u00e9", "semi;colon", "quote\"",
                "tab\t", "at@home"]:
        r = srv.post(SESSION, {"name": bad})
        expect_error(r, 400, "bad_request")


def test_session_name_of_32_chars_with_all_allowed_symbols_is_accepted():
    srv = shared()
    base = uname("N")
    name = (base + "_.-" + "z" * 32)[:32]
    assert len(name) == 32
    srv.session(name)
    srv.session("Z")  # one character is the minimum (no other test uses 1-char names)


def test_session_missing_or_non_string_name_is_400():
    srv = shared()
    expect_error(srv.post(SESSION, {}), 400, "bad_request")
    expect_error(srv.post(SESSION, {"name": 42}), 400, "bad_request")
    expect_error(srv.post(SESSION, {"name": None}), 400, "bad_request")
    expect_error(srv.post(SESSION, {"name": ["x"]}), 400, "bad_request")


def test_session_malformed_json_is_400():
    srv = shared()
    expect_error(srv.post(SESSION, b'{"name": "abc"'), 400, "bad_request")
    expect_error(srv.post(SESSION, b'not json'), 400, "bad_request")
    expect_error(srv.post(SESSION, b'["abc"]'), 400, "bad_request")


def test_session_name_held_by_live_session_is_409_name_taken():
    srv = shared()
    name = uname("held")
    srv.session(name)
    expect_error(srv.post(SESSION, {"name": name}), 409, "name_taken")


def test_session_names_compare_case_insensitively():
    srv = shared()
    name = uname("casey")
    srv.session(name.lower())
    expect_error(srv.post(SESSION, {"name": name.upper()}), 409, "name_taken")
    expect_error(srv.post(SESSION, {"name": name.capitalize()}), 409, "name_taken")


def test_session_delete_returns_204_and_token_is_dead():
    srv = shared()
    token = srv.session(uname("del"))
    r = srv.delete(SESSION, token=token)
    assert r.status == 204, r
    assert r.raw == b"", "204 must have no body: %r" % (r.raw,)
    expect_error(srv.get(SESSION, token=token), 401, "unauthorized")
    expect_error(srv.get(SESSION, cookie=token), 401, "unauthorized")
    expect_error(srv.delete(SESSION, token=token), 401, "unauthorized")


def test_session_delete_by_cookie_works():
    srv = shared()
    token = srv.session(uname("delc"))
    assert srv.delete(SESSION, cookie=token).status == 204
    expect_error(srv.get(SESSION, token=token), 401, "unauthorized")


def test_session_delete_frees_the_name():
    srv = shared()
    name = uname("free")
    token = srv.session(name)
    assert srv.delete(SESSION, token=token).status == 204
    token2 = srv.session(name)
    assert token2 != token
    assert expect(srv.get(SESSION, token=token2), 200) == session_answer(name)


def test_session_delete_without_credentials_is_401():
    srv = shared()
    expect_error(srv.delete(SESSION), 401, "unauthorized")


def test_post_with_text_plain_content_type_is_415_unsupported_media_type():
    srv = shared()
    name = uname("ct")
    r = srv.post(SESSION, {"name": name}, ctype="text/plain")
    expect_error(r, 415, "unsupported_media_type")
    r = srv.post(SESSION, {"name": name}, ctype="application/x-www-form-urlencoded")
    expect_error(r, 415, "unsupported_media_type")
    # nothing was created: the name is still free
    srv.session(name)


def test_post_without_content_type_is_415():
    srv = shared()
    r = srv.post(SESSION, {"name": uname("noct")}, ctype=None)
    expect_error(r, 415, "unsupported_media_type")


def test_post_with_json_charset_content_type_is_accepted():
    srv = shared()
    name = uname("cs")
    r = srv.post(SESSION, {"name": name}, ctype="application/json; charset=utf-8")
    assert expect(r, 201)["user"] == session_answer(name)["user"]


def test_delete_with_non_json_body_is_415_and_session_survives():
    srv = shared()
    token = srv.session(uname("d415"))
    r = srv.request("DELETE", SESSION, body=b"bye", token=token, ctype="text/plain")
    expect_error(r, 415, "unsupported_media_type")
    assert srv.get(SESSION, token=token).status == 200


def test_unknown_route_is_404_json_error():
    srv = shared()
    expect_error(srv.get("/api/v1/nope"), 404, "not_found")
    expect_error(srv.get("/api/v2/session"), 404, "not_found")
    token = srv.session(uname("nr"))
    expect_error(srv.get("/api/v1/rooms/general/nothing", token=token), 404, "not_found")


def test_healthz_returns_status_ok():
    srv = shared()
    assert expect(srv.get("/healthz"), 200) == {"status": "ok"}
