"""No CORS: a preflight from another origin gets no Access-Control-* header
(405 with Allow), nor does any other reply; and every API reply, the
hand-written ones included, carries the common security headers."""

from harness import expect, expect_error, shared, uname

FOREIGN = "http://attacker.example:8000"
PREFLIGHT = {"Origin": FOREIGN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type, authorization"}


def cors_headers(r):
    return [(k, v) for k, v in r.headers if k.lower().startswith("access-control-")]


def test_preflight_from_a_foreign_origin_gets_no_cors_headers_on_any_route():
    srv = shared()
    paths = ["/api/v1/session", "/api/v1/users", "/api/v1/rooms", "/api/v1/rooms/general/messages",
             "/api/v1/messages/1", "/api/v1/presence", "/api/v1/server", "/api/v1/ws", "/healthz",
             "/metrics", "/", "/index.html", "/no/such/thing"]
    for path in paths:
        for method in ("POST", "DELETE", "PUT"):
            headers = dict(PREFLIGHT, **{"Access-Control-Request-Method": method})
            r = srv.request("OPTIONS", path, headers=headers)
            assert not cors_headers(r), "OPTIONS %s: %r" % (path, cors_headers(r))
            assert r.status in (204, 404, 405), "OPTIONS %s: %r" % (path, r)
            if r.status == 405:
                allow = r.header("Allow")
                assert allow and "OPTIONS" not in allow, "OPTIONS %s: Allow %r" % (path, allow)


def test_api_405_names_the_allowed_methods():
    srv = shared()
    r = srv.request("OPTIONS", "/api/v1/session", headers=PREFLIGHT)
    expect_error(r, 405, "method_not_allowed")
    assert sorted(m.strip() for m in r.header("Allow").split(",")) == ["DELETE", "GET", "POST"]
    r = srv.request("PUT", "/api/v1/rooms/general/messages", body={})
    expect_error(r, 405, "method_not_allowed")
    assert sorted(m.strip() for m in r.header("Allow").split(",")) == ["GET", "POST"]


def test_requests_with_a_foreign_origin_get_no_cors_headers():
    srv = shared()
    origin = {"Origin": FOREIGN}
    name = uname("co")
    r = srv.post("/api/v1/session", {"name": name}, headers=origin)
    token = expect(r, 201)["token"]
    replies = [r, srv.get("/", headers=origin), srv.get("/healthz", headers=origin),
               srv.get("/api/v1/rooms/general/messages", token=token, headers=origin),
               srv.post("/api/v1/rooms/general/messages", {"body": "x"}, token=token,
                        headers=origin),
               srv.delete("/api/v1/session", token=token, headers=origin)]
    for r in replies:
        assert not cors_headers(r), "%r: %r" % (r, cors_headers(r))


def test_history_and_logout_replies_carry_the_security_headers():
    srv = shared()
    token = srv.session(uname("hd"))
    replies = {"history": srv.get("/api/v1/rooms/general/messages", token=token),
               "logout": srv.delete("/api/v1/session", token=token),
               "error": srv.get("/api/v1/session", token=token)}
    assert replies["history"].status == 200 and replies["logout"].status == 204, replies
    for what, r in replies.items():
        assert r.header("X-Content-Type-Options") == "nosniff", "%s: %r" % (what, r.headers)
        assert r.header("Referrer-Policy") == "no-referrer", "%s: %r" % (what, r.headers)
        assert len(r.header_all("X-Content-Type-Options")) == 1, what


def test_body_of_only_unicode_spaces_is_refused_as_empty():
    srv = shared()
    token = srv.session(uname("sp"))
    for body in ("\u00a0", "\u2003 \u3000", "\u2028\u2029", "\ufeff\u200b", " \u202f\n"):
        r = srv.post("/api/v1/rooms/general/messages", {"body": body}, token=token)
        err = expect_error(r, 400, "bad_request")
        assert "empty" in err["message"], err
    srv.send(token, "general", "\u00a0caf\u00e9\u00a0")
