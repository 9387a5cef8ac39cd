"""Registered accounts (feature "accounts"): POST /api/v1/users and password sessions.
Without the feature every test here asserts POST /api/v1/users answers 404."""

from harness import expect, expect_error, requires, session_answer, shared, uname

USERS = "/api/v1/users"
SESSION = "/api/v1/session"
PW = "correct horse"


@requires("accounts")
def test_register_user_returns_201_with_user():
    srv = shared()
    name = uname("reg")
    r = srv.post(USERS, {"name": name, "password": PW})
    assert expect(r, 201) == {"user": {"name": name}}


@requires("accounts")
def test_registered_name_without_password_is_401():
    srv = shared()
    name = uname("regnp")
    srv.register(name, PW)
    expect_error(srv.post(SESSION, {"name": name}), 401, "unauthorized")


@requires("accounts")
def test_registered_name_with_wrong_password_is_401():
    srv = shared()
    name = uname("regwp")
    srv.register(name, PW)
    expect_error(srv.post(SESSION, {"name": name, "password": PW + "x"}), 401, "unauthorized")
    expect_error(srv.post(SESSION, {"name": name, "password": ""}), 401, "unauthorized")


@requires("accounts")
def test_registered_name_with_right_password_gets_session():
    srv = shared()
    name = uname("regok")
    srv.register(name, PW)
    r = srv.post(SESSION, {"name": name, "password": PW})
    body = expect(r, 201)
    assert set(body) == {"user", "token"} and body["user"] == session_answer(name)["user"], body
    assert len(body["token"]) >= 43
    assert expect(srv.get(SESSION, token=body["token"]), 200) == session_answer(name)


@requires("accounts")
def test_registered_name_in_other_case_still_needs_the_password():
    srv = shared()
    name = uname("RegCase")
    srv.register(name, PW)
    expect_error(srv.post(SESSION, {"name": name.lower()}), 401, "unauthorized")
    expect_error(srv.post(SESSION, {"name": name.upper()}), 401, "unauthorized")


@requires("accounts")
def test_registered_user_may_hold_several_sessions():
    srv = shared()
    name = uname("regmulti")
    srv.register(name, PW)
    t1 = srv.session(name, PW)
    t2 = srv.session(name, PW)
    t3 = srv.session(name, PW)
    assert len({t1, t2, t3}) == 3
    for t in (t1, t2, t3):
        assert expect(srv.get(SESSION, token=t), 200) == session_answer(name)


@requires("accounts")
def test_deleting_one_session_of_registered_user_keeps_the_others():
    srv = shared()
    name = uname("regdel")
    srv.register(name, PW)
    t1 = srv.session(name, PW)
    t2 = srv.session(name, PW)
    assert srv.delete(SESSION, token=t1).status == 204
    expect_error(srv.get(SESSION, token=t1), 401, "unauthorized")
    assert expect(srv.get(SESSION, token=t2), 200) == session_answer(name)


@requires("accounts")
def test_password_for_unregistered_name_is_401():
    srv = shared()
    name = uname("unreg")
    expect_error(srv.post(SESSION, {"name": name, "password": PW}), 401, "unauthorized")
    # and the name was not taken by that attempt
    srv.session(name)


@requires("accounts")
def test_register_password_shorter_than_8_bytes_is_400():
    srv = shared()
    expect_error(srv.post(USERS, {"name": uname("short"), "password": "1234567"}), 400,
                 "bad_request")
    expect_error(srv.post(USERS, {"name": uname("short"), "password": ""}), 400, "bad_request")
    # 3 x 2-byte chars + 1 = 7 bytes although 4 characters
    expect_error(srv.post(USERS, {"name": uname("short"), "password": "\u00e9\u00e9\u00e9a"}),
                 400, "bad_request")


@requires("accounts")
def test_register_password_of_exactly_8_bytes_is_accepted():
    srv = shared()
    srv.register(uname("eight"), "12345678")
    name = uname("eightu")
    srv.register(name, "\u00e9\u00e9\u00e9\u00e9")  # 4 chars, 8 bytes
    srv.session(name, "\u00e9\u00e9\u00e9\u00e9")


@requires("accounts")
def test_register_missing_or_non_string_fields_is_400():
    srv = shared()
    expect_error(srv.post(USERS, {"name": uname("nopw")}), 400, "bad_request")
    expect_error(srv.post(USERS, {"password": PW}), 400, "bad_request")
    expect_error(srv.post(USERS, {"name": uname("nopw"), "password": 12345678}), 400,
                 "bad_request")
    expect_error(srv.post(USERS, b"{nope"), 400, "bad_request")


@requires("accounts")
def test_register_invalid_name_is_400():
    srv = shared()
    for bad in ["", "x" * 33, "two words", "\u00fcml"]:
        expect_error(srv.post(USERS, {"name": bad, "password": PW}), 400, "bad_request")


@requires("accounts")
def test_register_existing_name_is_409_name_taken():
    srv = shared()
    name = uname("dupreg")
    srv.register(name, PW)
    expect_error(srv.post(USERS, {"name": name, "password": PW}), 409, "name_taken")
    expect_error(srv.post(USERS, {"name": name.upper(), "password": PW}), 409, "name_taken")


@requires("accounts")
def test_register_name_held_by_live_nickname_session_is_409_name_taken():
    srv = shared()
    name = uname("nick")
    srv.session(name)
    expect_error(srv.post(USERS, {"name": name, "password": PW}), 409, "name_taken")


@requires("accounts")
def test_register_with_text_plain_is_415():
    srv = shared()
    r = srv.post(USERS, {"name": uname("r415"), "password": PW}, ctype="text/plain")
    expect_error(r, 415, "unsupported_media_type")
