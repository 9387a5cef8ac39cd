"""Rooms: GET /api/v1/rooms always; POST /api/v1/rooms with feature "rooms"
(without it, the gated tests assert POST /api/v1/rooms answers 404)."""

from harness import expect, expect_error, has, next_frame, requires, shared, uname

ROOMS = "/api/v1/rooms"


def _room_names(srv, token):
    body = expect(srv.get(ROOMS, token=token), 200)
    assert isinstance(body, dict) and set(body) == {"rooms"}, body
    assert isinstance(body["rooms"], list), body
    for room in body["rooms"]:
        assert isinstance(room, dict) and set(room) == {"name"}, "bad room shape: %r" % (room,)
    return [room["name"] for room in body["rooms"]]


def test_rooms_list_always_contains_general():
    srv = shared()
    token = srv.session(uname("rl"))
    names = _room_names(srv, token)
    assert "general" in names, names
    assert len(names) == len(set(names)), "duplicate rooms: %r" % (names,)
    if not has("rooms"):
        assert names == ["general"], names


def test_rooms_list_requires_auth_401():
    srv = shared()
    expect_error(srv.get(ROOMS), 401, "unauthorized")
    expect_error(srv.get(ROOMS, token="B" * 43), 401, "unauthorized")


@requires("rooms")
def test_create_room_returns_201_and_room_is_listed():
    srv = shared()
    token = srv.session(uname("rc"))
    watcher = srv.ws(srv.session(uname("rcw")))
    name = uname("kitchen")
    r = srv.post(ROOMS, {"name": name}, token=token)
    assert expect(r, 201) == {"name": name}
    # every WebSocket is told to read its list again
    assert next_frame(watcher, skip=("presence",)) == {"type": "rooms"}
    watcher.close()
    other = srv.session(uname("rc2"))
    assert name in _room_names(srv, other)
    # a new room is empty and usable
    page = srv.history(other, name)
    assert page == {"messages": [], "has_more": False}, page


@requires("rooms")
def test_create_duplicate_room_is_409_conflict():
    srv = shared()
    token = srv.session(uname("rd"))
    name = uname("dup")
    srv.create_room(token, name)
    expect_error(srv.post(ROOMS, {"name": name}, token=token), 409, "conflict")
    expect_error(srv.post(ROOMS, {"name": "general"}, token=token), 409, "conflict")


@requires("rooms")
def test_create_room_with_invalid_name_is_400():
    srv = shared()
    token = srv.session(uname("ri"))
    for bad in ["", "r" * 33, "with space", "sl/ash", "\u00e4rger", "q?x"]:
        expect_error(srv.post(ROOMS, {"name": bad}, token=token), 400, "bad_request")
    expect_error(srv.post(ROOMS, {}, token=token), 400, "bad_request")
    expect_error(srv.post(ROOMS, {"name": 7}, token=token), 400, "bad_request")
    expect_error(srv.post(ROOMS, b"{", token=token), 400, "bad_request")


@requires("rooms")
def test_create_room_with_32_char_name_is_accepted():
    srv = shared()
    token = srv.session(uname("r32"))
    name = (uname("R") + "._-" + "k" * 32)[:32]
    srv.create_room(token, name)


@requires("rooms")
def test_create_room_requires_auth_401():
    srv = shared()
    expect_error(srv.post(ROOMS, {"name": uname("noauth")}), 401, "unauthorized")


@requires("rooms")
def test_create_room_with_text_plain_is_415():
    srv = shared()
    token = srv.session(uname("r415"))
    r = srv.post(ROOMS, {"name": uname("ct")}, token=token, ctype="text/plain")
    expect_error(r, 415, "unsupported_media_type")


@requires("rooms")
def test_messages_stay_in_their_room():
    srv = shared()
    token = srv.session(uname("rm"))
    a = srv.create_room(token, uname("ra"))
    b = srv.create_room(token, uname("rb"))
    ma = srv.send(token, a, "only in a")
    assert ma["room"] == a, ma
    assert srv.history(token, b) == {"messages": [], "has_more": False}
    got = srv.history(token, a)["messages"]
    assert [m["id"] for m in got] == [ma["id"]], got
    general = srv.history(token, "general", limit=200)["messages"]
    assert ma["id"] not in [m["id"] for m in general]
