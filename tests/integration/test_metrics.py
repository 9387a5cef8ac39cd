"""GET /metrics (feature "metrics"); without the feature it must answer 404.
The web client is tested in test_web.py."""

import time

from harness import Server, join, next_frame, requires, shared, uname

REQUIRED = [
    "lanchat_messages_total",
    "lanchat_deliveries_total",
    "lanchat_ws_connections",
    "lanchat_ws_slow_consumers_total",
    'lanchat_pool_in_use{pool="conn"}',
    'lanchat_pool_capacity{pool="conn"}',
    'lanchat_pool_exhausted_total{pool="conn"}',
    "lanchat_commit_seconds_count",
]


@requires("metrics")
def test_metrics_exposes_required_series_without_auth():
    srv = shared()
    r = srv.get("/metrics")
    assert r.status == 200, r
    ctype = r.header("Content-Type") or ""
    assert ctype.startswith("text/plain"), ctype
    values = srv.metrics()
    missing = [name for name in REQUIRED if name not in values]
    assert not missing, "missing series %r in:\n%s" % (missing, r.text[:2000])
    assert values['lanchat_pool_capacity{pool="conn"}'] > 0
    assert 0 <= values['lanchat_pool_in_use{pool="conn"}'] <= values[
        'lanchat_pool_capacity{pool="conn"}']
    for name in REQUIRED:
        assert values[name] >= 0, (name, values[name])


@requires("metrics")
def test_metrics_count_messages_commits_and_deliveries():
    srv = shared()
    token = srv.session(uname("met"))
    ws = srv.ws(token)
    join(ws, "general")
    before = srv.metrics()
    m1 = srv.send(token, "general", "count me", cid="mc1")
    m2 = srv.send(token, "general", "and me")
    again = srv.post("/api/v1/rooms/general/messages", {"body": "count me", "cid": "mc1"},
                     token=token)
    assert again.status == 200, again
    assert next_frame(ws)["id"] == m1["id"]
    assert next_frame(ws)["id"] == m2["id"]
    after = srv.metrics()
    assert after["lanchat_messages_total"] - before["lanchat_messages_total"] == 2, (before,
                                                                                      after)
    assert after["lanchat_commit_seconds_count"] >= before["lanchat_commit_seconds_count"] + 2
    assert after["lanchat_deliveries_total"] >= before["lanchat_deliveries_total"] + 2


@requires("metrics")
def test_metrics_gauge_ws_connections_follows_open_sockets():
    with Server(label="gauge") as srv:
        _gauge(srv)


def _gauge(srv):
    base = srv.metrics()["lanchat_ws_connections"]
    assert base == 0, base
    token = srv.session(uname("gauge"))
    a = srv.ws(token)
    b = srv.ws(token)
    assert srv.metrics()["lanchat_ws_connections"] == base + 2
    a.close()
    b.close()
    deadline = time.monotonic() + 5
    value = None
    while time.monotonic() < deadline:
        value = srv.metrics()["lanchat_ws_connections"]
        if value == base:
            break
        time.sleep(0.05)  # polling an exporter, bounded
    assert value == base, "ws_connections %r, expected %r after closing" % (value, base)

