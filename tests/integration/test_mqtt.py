"""The MQTT bridge (issue 12, docs/MQTT.md) against a real broker: Debian's
mosquitto on a free 127.0.0.1 port with a private config (harness.Broker).
Two appliances with different --node share rooms: messages (REST and
WebSocket), deletes and rooms travel both ways, stored once, in order per
origin, foreign ones marked with "node"; nothing is lost or stored twice across
a broker restart or an appliance's kill -9; devices post with mosquitto_pub;
refused posts and malformed mirrored input are counted and never stored.
A build without the feature "mqtt" (FLAGS=minimal) refuses --mqtt instead:
each test then checks only that."""

import collections
import functools
import itertools
import json
import os
import random
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

from harness import (MESSAGE_KEYS, Bridge, Broker, Server, binary, expect, expect_error, has,
                     join, mqtt_server, server_env, shared_bridge, uname, wait_metrics,
                     wait_until)

# Generous: a reconnect after the broker is back waits for the client's backoff,
# and the emulated boards run the appliances under qemu.
TIMEOUT = 30.0
POST = "lanchat/rooms/%s/post"
MESSAGES = "lanchat/rooms/%s/messages"
FOREIGN_KEYS = MESSAGE_KEYS | {"node"}
_origin_ids = itertools.count(random.SystemRandom().randrange(1, 1 << 40))
_refusal = []


# ---------------------------------------------------------------- gating
def _mqtt_option_is_refused():
    """A build without "mqtt" exits at once, naming --mqtt, and serves nothing."""
    if not _refusal:
        tmp = tempfile.mkdtemp(prefix="lanchat-nomqtt-")
        try:
            done = subprocess.run([binary(), "--listen", "127.0.0.1", "--port", "0", "--db",
                                   os.path.join(tmp, "chat.db"), "--mqtt",
                                   "mqtt://127.0.0.1:1"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp,
                                  env=server_env(), timeout=30)
        finally:
            subprocess.run(["rm", "-rf", tmp])
        _refusal.append((done.returncode, done.stdout.decode("utf-8", "replace")))
    status, text = _refusal[0]
    assert status not in (0, None) and "mqtt" in text, \
        "a build without the feature mqtt should refuse --mqtt; status %r:\n%s" % (status, text)


def requires_mqtt(fn):
    """Runs the test when the binary has "mqtt"; otherwise asserts --mqtt is refused."""
    @functools.wraps(fn)
    def wrapper():
        if has("mqtt"):
            return fn()
        return _mqtt_option_is_refused()
    return wrapper


# ---------------------------------------------------------------- helpers
def _tagged(srv, token, tag, room="general"):
    return [m for m in srv.all_history(token, room) if tag in m["body"]]


def _wait_tagged(srv, token, tag, count, room="general", timeout=TIMEOUT):
    """Waits until srv stores at least count messages whose body holds tag; returns them."""
    got = []

    def probe():
        got[:] = _tagged(srv, token, tag, room)
        return len(got) >= count

    try:
        wait_until("%d messages tagged %s" % (count, tag), probe, timeout)
    except AssertionError:
        raise AssertionError("%s stores %d of %d messages tagged %s in %s after %.0f s: %r"
                             % (srv.label, len(got), count, tag, room, timeout,
                                [m["body"][:40] for m in got]))
    return got


def _once(msgs, bodies, where):
    """Every body in bodies is stored exactly once, and nothing else."""
    counts = collections.Counter(m["body"] for m in msgs)
    twice = {b: n for b, n in counts.items() if n > 1}
    missing = [b for b in bodies if b not in counts]
    extra = [b for b in counts if b not in set(bodies)]
    assert not twice and not missing and not extra, \
        "%s: stored twice %r, missing %r, unexpected %r" % (where, twice, missing[:5], extra[:5])


def _check_mirrored(origin_msgs, node, there):
    """origin_msgs as their origin (node) stores them, against the copies of
    another appliance (there: its messages): the same author, body, cid and ts,
    marked with node, in the origin's order."""
    mine = sorted(origin_msgs, key=lambda m: m["id"])
    copies = sorted((m for m in there if m.get("node") == node), key=lambda m: m["id"])
    assert [m["body"] for m in copies] == [m["body"] for m in mine], \
        "the copies of node %s's messages are not in its order: %r vs %r" % (
            node, [m["body"] for m in copies][:8], [m["body"] for m in mine][:8])
    for orig, copy in zip(mine, copies):
        assert set(copy) == FOREIGN_KEYS, "bad shape of a foreign message: %r" % (copy,)
        assert set(orig) == MESSAGE_KEYS, "a local message carries more keys: %r" % (orig,)
        assert (copy["room"], copy["author"], copy["body"], copy["cid"], copy["ts"]) == \
            (orig["room"], orig["author"], orig["body"], orig["cid"], orig["ts"]), (orig, copy)


def _metric(srv, name):
    return srv.metrics().get(name, 0)


def _wait_connected(servers, up, timeout=TIMEOUT):
    want = 1 if up else 0
    for srv in servers:
        wait_metrics(srv, "lanchat_mqtt_connected %d" % want,
                     lambda m: m.get("lanchat_mqtt_connected") == want, timeout)


def _wait_drained(servers, timeout=TIMEOUT):
    for srv in servers:
        wait_metrics(srv, "connected with an empty outbox",
                     lambda m: m.get("lanchat_mqtt_connected") == 1
                     and m.get("lanchat_mqtt_outbox") == 0, timeout)


class _Frames:
    """Every frame a WebSocket receives (presence aside), read on demand."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []

    def until(self, what, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            if predicate(self.frames):
                return self.frames
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                f = self.ws.recv_json(left)
            except socket.timeout:
                break
            if f.get("type") != "presence":
                self.frames.append(f)
        if predicate(self.frames):
            return self.frames
        raise AssertionError("%s: not within %.0f s; last frames: %r"
                             % (what, timeout, self.frames[-5:]))

    def messages(self, tag):
        return [f for f in self.frames if f.get("type") == "message" and tag in f["body"]]

    def send(self, room, body, cid):
        """A send over the WebSocket; returns its ack."""
        self.ws.send_json({"type": "send", "room": room, "body": body, "cid": cid})
        self.until("ack of %s" % cid, lambda fs: any(
            f.get("type") == "ack" and f.get("cid") == cid for f in fs))
        return [f for f in self.frames if f.get("type") == "ack" and f.get("cid") == cid][0]


class _Poster(threading.Thread):
    """Posts n tagged messages over REST, one after another; all must be 201."""

    def __init__(self, srv, tag, n):
        super().__init__(daemon=True)
        self.srv, self.tag, self.n = srv, tag, n
        self.token = srv.session(uname("poster"))
        self.posted = []
        self.problem = None
        self.progress = threading.Condition()

    def run(self):
        try:
            for i in range(self.n):
                m = self.srv.send(self.token, "general", "%s %d" % (self.tag, i),
                                  cid="%s-%d" % (self.tag.replace(" ", "-"), i))
                with self.progress:
                    self.posted.append(m)
                    self.progress.notify_all()
        except BaseException as e:  # noqa: B902 - reported by the test
            self.problem = e
            with self.progress:
                self.progress.notify_all()

    def wait_posted(self, count, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.progress:
            while len(self.posted) < count and self.problem is None:
                left = deadline - time.monotonic()
                assert left > 0, "%s posted %d of %d within %.0f s" % (
                    self.srv.label, len(self.posted), count, timeout)
                self.progress.wait(left)
        assert self.problem is None, "posting on %s: %r" % (self.srv.label, self.problem)

    def finish(self):
        self.join(TIMEOUT * 2)
        assert not self.is_alive(), "%s still posting" % self.srv.label
        assert self.problem is None, "posting on %s: %r" % (self.srv.label, self.problem)
        return self.posted


def _foreign_payload(tag, room="general", **changes):
    m = {"node": "z", "id": next(_origin_ids), "author": "zed", "body": tag,
         "ts": int(time.time() * 1000), "cid": None}
    m.update(changes)
    return json.dumps(m).encode()


def _everything_once_in_origin_order(bridge, by_origin, timeout=TIMEOUT):
    """by_origin: {node: messages as their origin answered them}. Both appliances
    store all of them exactly once; the foreign ones as _check_mirrored says."""
    bodies = [m["body"] for msgs in by_origin.values() for m in msgs]
    tag = os.path.commonprefix(bodies)
    assert len(tag) >= 6, "the bodies share no tag: %r" % (bodies[:4],)
    for srv, node in ((bridge.a, "a"), (bridge.b, "b")):
        reader = srv.session(uname("check"))
        got = _wait_tagged(srv, reader, tag, len(bodies), timeout=timeout)
        _once(got, bodies, srv.label)
        local = [m for m in got if "node" not in m]
        assert sorted(m["id"] for m in local) == sorted(m["id"] for m in by_origin[node]), \
            "%s: its own messages changed" % srv.label
        for other, msgs in by_origin.items():
            if other != node:
                _check_mirrored(msgs, other, got)


# ---------------------------------------------------------------- the fixture itself
def test_mqtt_broker_fixture_keeps_queued_qos1_messages_across_its_restart():
    """What the other tests rely on: the private mosquitto keeps sessions and
    their queued QoS 1 messages across stop() and start() on the same port."""
    with Broker() as broker:
        sub = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-i", uname("fx"),
               "-c", "-q", "1", "-t", "fixture/t"]
        done = subprocess.run(sub + ["-E"], capture_output=True, timeout=TIMEOUT)
        assert done.returncode == 0, done
        payloads = [b"one", b"two \xff\xfe", b"x" * 70000]
        for p in payloads:
            broker.publish("fixture/t", p)
        port = broker.port
        assert broker.stop() == 0, broker.log_tail()
        broker.start()
        assert broker.port == port
        done = subprocess.run(sub + ["-C", "3", "-W", "10", "-N"], capture_output=True,
                              timeout=TIMEOUT)
        assert done.returncode == 0, done
        assert done.stdout == b"".join(payloads), done.stdout[:100]


# ---------------------------------------------------------------- two appliances
@requires_mqtt
def test_mqtt_messages_posted_on_either_appliance_appear_once_on_both_over_rest_and_websocket():
    bridge = shared_bridge()
    a, b = bridge.a, bridge.b
    tag = uname("both")
    before = {s: s.metrics() for s in (a, b)}
    ta, tb = a.session(uname("alice")), b.session(uname("bob"))
    fa, fb = _Frames(a.ws(ta)), _Frames(b.ws(tb))
    join(fa.ws, "general")
    join(fb.ws, "general")
    posted = {"a": [], "b": []}
    for i in range(4):
        for node, srv, token, frames in (("a", a, ta, fa), ("b", b, tb, fb)):
            posted[node].append(srv.send(token, "general", "%s %s rest %d" % (tag, node, i),
                                         cid="%s-rest-%d" % (node, i)))
            body = "%s %s ws %d \u00e9\U0001f600" % (tag, node, i)
            ack = frames.send("general", body, "%s-ws-%d" % (node, i))
            posted[node].append(srv.get("/api/v1/messages/%d" % ack["id"], token=token).json())
    _everything_once_in_origin_order(bridge, posted)
    # a join with since replays them in b's own id order, foreign ones marked
    stored = sorted(_tagged(b, tb, tag), key=lambda m: m["id"])
    replay = join(_Frames(b.ws(tb)).ws, "general", since=stored[0]["id"] - 1)
    assert [{k: v for k, v in f.items() if k != "type"} for f in replay
            if tag in f.get("body", "")] == stored, replay
    # Each side's last message, after all the others in its origin's order: once
    # both have come in on both sockets, every earlier frame has too.
    ends = [a.send(ta, "general", tag + " a end"), b.send(tb, "general", tag + " b end")]
    for frames, srv in ((fa, a), (fb, b)):
        frames.until("both ends on %s's socket" % srv.label, lambda fs: {
            f["body"] for f in fs if f.get("type") == "message"} >= {m["body"] for m in ends})
        got = frames.messages(tag)
        _once(got, [m["body"] for msgs in posted.values() for m in msgs] +
              [m["body"] for m in ends], srv.label + "'s WebSocket")
        token = ta if srv is a else tb
        stored = {m["id"]: m for m in _tagged(srv, token, tag)}
        for f in got:
            frame = {k: v for k, v in f.items() if k != "type"}
            assert frame == stored.get(f["id"]), "frame %r differs from REST %r" % (
                f, stored.get(f["id"]))
            origin = f["body"].split()[1]
            if srv is (a if origin == "a" else b):
                assert "node" not in f, f
            else:
                assert f.get("node") == origin, f
    for srv in (a, b):
        after = wait_metrics(srv, "9 foreign messages received",
                             lambda m: m.get("lanchat_mqtt_received_total", 0) -
                             before[srv].get("lanchat_mqtt_received_total", 0) >= 9)
        got = {k: after.get(k, 0) - before[srv].get(k, 0) for k in (
            "lanchat_mqtt_received_total", "lanchat_mqtt_published_total")}
        assert got == {"lanchat_mqtt_received_total": 9, "lanchat_mqtt_published_total": 9}, \
            (srv.label, got)


@requires_mqtt
def test_mqtt_broker_restart_while_both_post_loses_and_duplicates_nothing_and_the_outbox_drains():
    with Bridge(label="broker restart") as bridge:
        a, b = bridge.a, bridge.b
        tag = uname("brk")
        posters = {"a": _Poster(a, tag + " a", 40), "b": _Poster(b, tag + " b", 40)}
        for p in posters.values():
            p.start()
        for p in posters.values():
            p.wait_posted(10)
        assert bridge.broker.stop() == 0, bridge.broker.log_tail()
        posted = {node: p.finish() for node, p in posters.items()}
        _wait_connected([a, b], up=False)
        # local chat goes on while the broker is away; its messages wait
        for node, srv in (("a", a), ("b", b)):
            token = srv.session(uname("down"))
            for i in range(5):
                posted[node].append(srv.send(token, "general", "%s %s down %d" % (tag, node, i)))
            waiting = _metric(srv, "lanchat_mqtt_outbox")
            assert waiting >= 5, "%s: outbox %r with 5 messages posted offline" % (srv.label,
                                                                                  waiting)
        bridge.broker.start()
        _wait_connected([a, b], up=True)
        _wait_drained([a, b])
        _everything_once_in_origin_order(bridge, posted)


@requires_mqtt
def test_mqtt_appliance_kill9_with_a_full_outbox_resumes_from_it_after_restart():
    with Bridge(label="kill9 outbox") as bridge:
        a, b = bridge.a, bridge.b
        tag = uname("k9o")
        bridge.broker.stop()
        _wait_connected([a, b], up=False)
        posted = {"a": [], "b": []}
        for node, srv, n in (("a", a, 20), ("b", b, 5)):
            token = srv.session(uname("k9"))
            posted[node] = [srv.send(token, "general", "%s %s %d" % (tag, node, i),
                                     cid="k9-%d" % i) for i in range(n)]
        assert _metric(a, "lanchat_mqtt_outbox") == 20, a.metrics()
        a.kill9()
        a.start()  # the same --db and --node
        m = a.metrics()
        assert (m.get("lanchat_mqtt_outbox"), m.get("lanchat_mqtt_connected")) == (20, 0), \
            "after kill -9 and restart, broker down: %r" % (m,)
        bridge.broker.start()
        _wait_drained([a, b])
        _everything_once_in_origin_order(bridge, posted)


@requires_mqtt
def test_mqtt_appliance_kill9_right_after_posting_to_a_live_broker_loses_and_duplicates_nothing():
    with Bridge(label="kill9 live") as bridge:
        a, b = bridge.a, bridge.b
        tag = uname("k9l")
        token = a.session(uname("k9l"))
        posted = {"a": [], "b": []}
        for i in range(30):
            posted["a"].append(a.send(token, "general", "%s a %d" % (tag, i), cid="l-%d" % i))
        a.kill9()  # right after the last 201: publishes in flight, PUBACKs unseen
        a.start()
        _wait_drained([a, b])
        _everything_once_in_origin_order(bridge, posted)


# ---------------------------------------------------------------- devices
@requires_mqtt
def test_mqtt_device_posts_appear_once_on_both_appliances_with_a_device_author():
    bridge = shared_bridge()
    tag = uname("dev")
    before = sum(_metric(s, "lanchat_mqtt_posts_total") for s in bridge.servers())
    posts = [  # (payload, body, author, cid)
        ("door open " + tag, "door open " + tag, "device:device", None),
        (json.dumps({"body": tag + " json", "author": "door"}), tag + " json", "device:door",
         None),
        (json.dumps({"body": tag + " cid", "author": "door", "cid": "c1"}), tag + " cid",
         "device:door", "c1"),
        ("  " + json.dumps({"body": tag + " blank first"}), tag + " blank first",
         "device:device", None),
        (tag + " " + "x" * (2000 - len(tag) - 1), tag + " " + "x" * (2000 - len(tag) - 1),
         "device:device", None),
        ((tag + " \u00e9t\u00e9").encode("utf-8"), tag + " \u00e9t\u00e9", "device:device",
         None),
    ]
    for payload, _, _, _ in posts:
        bridge.broker.publish(POST % "general", payload)
    want = {body: (author, cid) for _, body, author, cid in posts}
    copies = {}
    for srv in bridge.servers():
        got = _wait_tagged(srv, srv.session(uname("devr")), tag, len(posts))
        _once(got, list(want), srv.label)
        for m in got:
            assert (m["author"], m["cid"]) == want[m["body"]], m
            assert set(m) in (MESSAGE_KEYS, FOREIGN_KEYS), m
            copies.setdefault(m["body"], []).append((srv, m))
    # exactly one appliance took each post (its own message there, no "node"),
    # and mirrored it to the other
    for body, held in copies.items():
        local = [srv for srv, m in held if "node" not in m]
        assert len(local) == 1, "post %r is local on %d appliances" % (body[:30], len(local))
        taker = "a" if local[0] is bridge.a else "b"
        assert [m.get("node") for srv, m in held if srv is not local[0]] == [taker], held
    after = sum(_metric(s, "lanchat_mqtt_posts_total") for s in bridge.servers())
    assert after - before == len(posts), (before, after)


@requires_mqtt
def test_mqtt_refused_device_posts_are_counted_and_never_stored():
    bridge = shared_bridge()
    tag = uname("ref")
    unknown = uname("noroom")

    def refused_total():
        return sum(_metric(s, "lanchat_mqtt_posts_refused_total") for s in bridge.servers())

    def posts_total():
        return sum(_metric(s, "lanchat_mqtt_posts_total") for s in bridge.servers())

    refused_before, posts_before = refused_total(), posts_total()
    bad = [
        (POST % "general", b"\xff\xfe " + tag.encode()),               # not UTF-8
        (POST % "general", tag + " " + "x" * 2001),                   # over 2000 bytes
        (POST % "general", (tag + " " + "\u00e9" * 1000)),            # 2000 + tag bytes
        (POST % unknown, tag + " nowhere"),                           # no such room
        (POST % "general", '{"body": "%s cut' % tag),                 # malformed JSON
        (POST % "general", json.dumps({"body": 7, "author": tag})),   # body not a string
        (POST % "general", json.dumps({"author": "door", "cid": tag})),  # no body
        (POST % "general", json.dumps({"body": tag + " x", "author": "two words"})),
        (POST % "general", tag + " bell \x07"),                       # a control character
        (POST % "general", b""),                                      # empty
        (POST % "general", "   "),                                    # blank
    ]
    for topic, payload in bad:
        bridge.broker.publish(topic, payload)
    wait_until("%d refused posts counted" % len(bad),
               lambda: refused_total() - refused_before >= len(bad))
    bridge.broker.publish(POST % "general", tag + " fine")
    for srv in bridge.servers():
        token = srv.session(uname("refr"))
        got = _wait_tagged(srv, token, tag, 1)
        assert [m["body"] for m in got] == [tag + " fine"], got
        rooms = expect(srv.get("/api/v1/rooms", token=token), 200)["rooms"]
        assert {"name": unknown} not in rooms, rooms
    assert refused_total() - refused_before == len(bad)
    assert posts_total() - posts_before == 1


@requires_mqtt
def test_mqtt_device_posts_keep_the_rate_limit_and_a_read_only_room():
    """REST's rules hold for device posts: a device author past its burst is
    refused and counted, stored nothing, and (moderation) so is a post into a
    read-only room. One appliance, so every post reaches the same rate limiter."""
    refused, posts = "lanchat_mqtt_posts_refused_total", "lanchat_mqtt_posts_total"
    # 0.01 a second: no token comes back within the test
    with Broker() as broker, mqtt_server(broker, "a", ("--rate-limit", "0.01:3"),
                                         label="mqtt rate") as srv:
        _wait_connected([srv], True)
        wait_until("the appliance subscribed to device posts",
                   lambda: "rooms/+/post" in broker.log_tail(200))
        tag = uname("rate")
        token = srv.session(uname("rater"))
        for i in range(5):
            broker.publish(POST % "general", json.dumps({"body": "%s %d" % (tag, i),
                                                         "author": "bell"}))
        wait_until("5 device posts taken", lambda: _metric(srv, refused) + _metric(srv, posts) >= 5)
        got = _tagged(srv, token, tag)
        assert [(m["body"], m["author"]) for m in got] == \
            [("%s %d" % (tag, i), "device:bell") for i in range(3)], got
        assert (_metric(srv, posts), _metric(srv, refused)) == (3, 2)
        if not has("moderation"):
            return
        admin = uname("ro")
        srv.register(admin, "correct horse")
        p = subprocess.run([binary(), "admin", "add", admin, "--db", srv.db],
                           capture_output=True, text=True, timeout=30, env=server_env())
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        r = srv.request("PATCH", "/api/v1/rooms/general", body={"read_only": True},
                        token=srv.session(admin, "correct horse"))
        assert r.status == 204, r
        broker.publish(POST % "general", json.dumps({"body": tag + " read-only", "author": "door"}))
        wait_until("the post into the read-only room refused", lambda: _metric(srv, refused) >= 3)
        assert _metric(srv, posts) == 3
        assert [m["body"] for m in _tagged(srv, token, tag)] == ["%s %d" % (tag, i) for i in range(3)]


# ---------------------------------------------------------------- rooms and deletes
@requires_mqtt
def test_mqtt_a_room_created_on_one_appliance_appears_on_the_other_and_carries_both_ways():
    bridge = shared_bridge()
    a, b = bridge.a, bridge.b
    ta, tb = a.session(uname("rca")), b.session(uname("rcb"))
    published = _metric(b, "lanchat_mqtt_published_total")
    room = a.create_room(ta, uname("hall"))
    wait_until("room %s on b" % room, lambda: {"name": room} in expect(
        b.get("/api/v1/rooms", token=tb), 200)["rooms"])
    # b does not announce it again: no row queued (the same transaction), none sent
    m = b.metrics()
    assert (m.get("lanchat_mqtt_outbox"), m.get("lanchat_mqtt_published_total")) == (
        0, published), m
    tag = uname("inroom")
    posted = {"a": [a.send(ta, room, tag + " from a")], "b": [b.send(tb, room, tag + " from b")]}
    for srv, token, node in ((a, ta, "a"), (b, tb, "b")):
        got = _wait_tagged(srv, token, tag, 2, room=room)
        _once(got, [tag + " from a", tag + " from b"], srv.label)
        _check_mirrored(posted["b" if node == "a" else "a"], "b" if node == "a" else "a", got)
    # created once on b: a second create there is a conflict, as for a local room
    expect_error(b.post("/api/v1/rooms", {"name": room}, token=tb), 409, "conflict")


@requires_mqtt
def test_mqtt_a_room_created_before_an_appliance_first_connects_reaches_it_too():
    with Broker() as broker:
        with mqtt_server(broker, "a", label="early a") as a:
            ta = a.session(uname("early"))
            _wait_connected([a], up=True)
            room = a.create_room(ta, uname("early"))
            _wait_drained([a])
            with mqtt_server(broker, "b", label="late b") as b:
                tb = b.session(uname("late"))
                wait_until("room %s on the late b" % room, lambda: {"name": room} in expect(
                    b.get("/api/v1/rooms", token=tb), 200)["rooms"])


@requires_mqtt
def test_mqtt_a_message_deleted_on_its_origin_disappears_on_the_other():
    bridge = shared_bridge()
    a, b = bridge.a, bridge.b
    ta, tb = a.session(uname("dela")), b.session(uname("delb"))
    fb = _Frames(b.ws(tb))
    join(fb.ws, "general")
    tag = uname("del")
    doomed = a.send(ta, "general", tag + " doomed")
    kept = a.send(ta, "general", tag + " kept")
    copies = _wait_tagged(b, tb, tag, 2)
    copy = [m for m in copies if m["body"] == doomed["body"]][0]
    r = a.delete("/api/v1/messages/%d" % doomed["id"], token=ta)
    assert r.status == 204, r
    wait_until("the copy gone from b's history",
               lambda: [m["body"] for m in _tagged(b, tb, tag)] == [kept["body"]])
    expect_error(b.get("/api/v1/messages/%d" % copy["id"], token=tb), 404, "not_found")
    # b's members are told, as of a local delete
    fb.until("deleted frame on b", lambda fs: {"type": "deleted", "room": "general",
                                               "id": copy["id"]} in fs)


# ---------------------------------------------------------------- bad input
@requires_mqtt
def test_mqtt_malformed_mirrored_input_is_refused_counted_and_stores_nothing():
    bridge = shared_bridge()
    tag = uname("bad")
    before = {s: s.metrics() for s in bridge.servers()}
    good = _foreign_payload(tag + " z")
    bad_room = uname("badroom")
    bad = [
        (MESSAGES % "general", b"not json " + tag.encode()),
        (MESSAGES % "general", good[:-9]),                                # cut short
        (MESSAGES % "general", json.dumps({"node": "z", "body": tag}).encode()),  # fields missing
        (MESSAGES % "general", _foreign_payload(tag, id="12")),           # id not a number
        (MESSAGES % "general", _foreign_payload(tag, id=0)),              # no such id
        (MESSAGES % "general", _foreign_payload(tag, node="two words")),  # not a node name
        (MESSAGES % "general", _foreign_payload(tag, author="")),         # no author
        (MESSAGES % "general", _foreign_payload(tag, body=7)),            # body not a string
        (MESSAGES % "general", _foreign_payload(tag + " \udcff").replace(  # not UTF-8
            b"\\udcff", b"\xff")),
        (MESSAGES % "general", _foreign_payload(tag + " " + "x" * 2001)),  # body too long
        (MESSAGES % "general", _foreign_payload(tag + " " + "x" * 70000)),  # oversized
        (MESSAGES % uname("noroom"), _foreign_payload(tag + " nowhere")),  # no such room
        (MESSAGES % "general", b'["node","z"]'),                          # not an object
        ("lanchat/rooms/general/deleted", b'{"node":"z","id":'),
        ("lanchat/rooms/general/deleted", b'{"node":"z"}'),
        ("lanchat/rooms/%s/created" % bad_room, b"{{"),
    ]
    for topic, payload in bad:
        bridge.broker.publish(topic, payload)
    for srv in bridge.servers():
        wait_metrics(srv, "%d refused" % len(bad), lambda m: m.get(
            "lanchat_mqtt_refused_total", 0) - before[srv].get("lanchat_mqtt_refused_total", 0)
            >= len(bad))
    # a well-formed one after them, twice: stored once, marked with its node
    bridge.broker.publish(MESSAGES % "general", good)
    bridge.broker.publish(MESSAGES % "general", good)
    bridge.broker.publish(MESSAGES % "general", _foreign_payload(tag + " z last"))
    for srv in bridge.servers():
        assert srv.running(), srv.label
        assert expect(srv.get("/healthz"), 200) == {"status": "ok"}
        token = srv.session(uname("badr"))
        got = _wait_tagged(srv, token, tag, 2)
        _once(got, [tag + " z", tag + " z last"], srv.label)
        rooms = expect(srv.get("/api/v1/rooms", token=token), 200)["rooms"]
        assert {"name": bad_room} not in rooms, rooms
        assert all(m["node"] == "z" and m["author"] == "zed" for m in got), got
        m = srv.metrics()
        delta = {k: m.get(k, 0) - before[srv].get(k, 0) for k in (
            "lanchat_mqtt_refused_total", "lanchat_mqtt_received_total")}
        assert delta == {"lanchat_mqtt_refused_total": len(bad),
                         "lanchat_mqtt_received_total": 2}, (srv.label, delta)


# ---------------------------------------------------------------- without --mqtt
@requires_mqtt
def test_mqtt_without_the_option_nothing_is_queued_or_connected():
    with Server(label="no --mqtt") as srv:
        token = srv.session(uname("plain"))
        m = srv.send(token, "general", "no broker here")
        assert set(m) == MESSAGE_KEYS, m
        metrics = srv.metrics()
        assert metrics.get("lanchat_mqtt_connected", 0) == 0, metrics
        assert metrics.get("lanchat_mqtt_outbox", 0) == 0, metrics
        # the message is committed (201): its outbox row would be too
        con = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True, timeout=10)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
            if "outbox" in tables:
                assert con.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        finally:
            con.close()


# ---------------------------------------------------------------- options
def _config_file(tmp, **options):
    path = os.path.join(tmp, "lanchat.conf")
    with open(path, "w") as f:
        f.write("# test_mqtt\n")
        for name, value in options.items():
            f.write("%s = %s\n" % (name.replace("_", "-"), value))
    return path


@requires_mqtt
def test_mqtt_user_password_file_and_prefix_from_a_config_file_join_a_broker_that_wants_them():
    password = "s3cret-" + uname("pw")
    with Broker(users={"hall": password, "door": "door-pw"}) as broker:
        tmp = tempfile.mkdtemp(prefix="lanchat-mqtt-conf-")
        try:
            with open(os.path.join(tmp, "pw"), "w") as f:
                f.write(password + "\n")
            with open(os.path.join(tmp, "wrong"), "w") as f:
                f.write("not-" + password + "\n")
            common = {"mqtt": broker.url, "mqtt_user": "hall", "mqtt_prefix": "school/b1"}
            good = _config_file(tmp, node="hall", mqtt_password_file=os.path.join(tmp, "pw"),
                                **common)
            os.mkdir(os.path.join(tmp, "bad"))
            bad = _config_file(os.path.join(tmp, "bad"), node="annex",
                               mqtt_password_file=os.path.join(tmp, "wrong"), **common)
            with Server(["--config", good], label="password hall") as hall, \
                    Server(["--config", bad], label="wrong password annex") as annex:
                _wait_connected([hall], up=True)
                annex.wait_log(r"warn mqtt: the broker refused lanchat-annex: .*not authori",
                              timeout=TIMEOUT)
                # local chat goes on, its message waits for a broker that takes us
                token = annex.session(uname("annex"))
                annex.send(token, "general", "kept for later")
                m = annex.metrics()
                assert (m.get("lanchat_mqtt_connected"), m.get("lanchat_mqtt_outbox")) == (0, 1), m
                # topics under the prefix only
                tag = uname("pfx")
                broker.publish("lanchat/rooms/general/post", tag + " default prefix",
                               user="door", password="door-pw")
                broker.publish("school/b1/rooms/general/post", tag + " school",
                               user="door", password="door-pw")
                got = _wait_tagged(hall, hall.session(uname("hallr")), tag, 1)
                assert [(m["body"], m["author"]) for m in got] == [
                    (tag + " school", "device:device")], got
                for srv in (hall, annex):
                    assert not any(password in line for line in srv.lines), \
                        "%s logged the password" % srv.label
        finally:
            subprocess.run(["rm", "-rf", tmp])


def test_mqtt_a_bad_url_node_prefix_or_password_file_stops_the_start_with_an_error():
    if not has("mqtt"):
        return _mqtt_option_is_refused()
    tmp = tempfile.mkdtemp(prefix="lanchat-mqtt-opts-")
    try:
        empty = os.path.join(tmp, "empty")
        open(empty, "w").close()
        cases = [  # (arguments, what the error line names)
            (["--mqtt", "http://127.0.0.1:1883"], "--mqtt"),
            (["--mqtt", "mqtt://"], "--mqtt"),
            (["--mqtt", "mqtt://127.0.0.1:70000"], "--mqtt"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--node", "two words"], "node"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--node", "n" * 33], "node"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-prefix", "a/#"], "--mqtt-prefix"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-prefix", "$SYS"], "--mqtt-prefix"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-user", "u", "--mqtt-password-file",
              os.path.join(tmp, "missing")], "password file"),
            (["--mqtt", "mqtt://127.0.0.1:1883", "--mqtt-user", "u", "--mqtt-password-file",
              empty], "password file"),
        ]
        for args, names in cases:
            argv = [binary(), "--listen", "127.0.0.1", "--port", "0", "--db",
                    os.path.join(tmp, "chat.db")] + args
            if has("tls"):
                argv += ["--tls-port", "0"]
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, cwd=tmp, env=server_env(),
                                  timeout=60)
            text = done.stdout.decode("utf-8", "replace")
            assert done.returncode > 0, "%r: exit status %r\n%s" % (args, done.returncode, text)
            assert "listening on" not in text, "%r: it served:\n%s" % (args, text)
            # an error line of the boot, or of the option's parser
            assert any(names in line and (" error " in line or line.startswith("lanchat: "))
                       for line in text.splitlines()), "%r: no error naming %r:\n%s" % (
                args, names, text)
    finally:
        subprocess.run(["rm", "-rf", tmp])


# ---------------------------------------------------------------- origin and TLS
@requires_mqtt
def test_mqtt_a_mirrored_message_is_deleted_on_its_origin_only_even_by_a_namesake():
    bridge = shared_bridge()
    a, b = bridge.a, bridge.b
    name = uname("same")
    ta, tb = a.session(name), b.session(name)  # two people, one name
    tag = uname("own")
    sent = a.send(ta, "general", tag + " from a")
    copy = _wait_tagged(b, tb, tag, 1)[0]
    assert copy["node"] == "a" and copy["author"] == name, copy
    expect_error(b.delete("/api/v1/messages/%d" % copy["id"], token=tb), 403, "forbidden")
    assert [m["body"] for m in _tagged(a, ta, tag)] == [sent["body"]]
    assert [m["body"] for m in _tagged(b, tb, tag)] == [sent["body"]]


def _make_ca(tmp, name):
    """A CA of its own (openssl CLI): (ca.pem, ca.key)."""
    ca, key = os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", ca, "-days", "2",
                    "-subj", "/CN=" + name], check=True, capture_output=True, timeout=30)
    return ca, key


def _make_broker_cert(tmp, ca, ca_key):
    """A broker certificate for 127.0.0.1 (IP SAN) signed by ca: (cert, key)."""
    cert, key, csr = (os.path.join(tmp, "broker" + x) for x in (".pem", ".key", ".csr"))
    ext = os.path.join(tmp, "ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=broker"], check=True,
                   capture_output=True, timeout=30)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext], check=True,
                   capture_output=True, timeout=30)
    return cert, key


@requires_mqtt
def test_mqtt_over_tls_mirrors_with_the_brokers_ca_and_refuses_a_broker_it_cannot_trust():
    tmp = tempfile.mkdtemp(prefix="lanchat-mqtts-")
    try:
        ca, ca_key = _make_ca(tmp, "broker-ca")
        other, _ = _make_ca(tmp, "other-ca")
        with Broker(tls=_make_broker_cert(tmp, ca, ca_key)) as broker:
            assert broker.url.startswith("mqtts://"), broker.url
            with mqtt_server(broker, "ta", ["--mqtt-ca", ca]) as a, \
                    mqtt_server(broker, "tb", ["--mqtt-ca", ca]) as b, \
                    mqtt_server(broker, "tc", ["--mqtt-ca", other]) as c:
                for srv in (a, b):
                    wait_metrics(srv, "connected over TLS",
                                 lambda m: m["lanchat_mqtt_connected"] == 1, TIMEOUT)
                ta, tb = a.session(uname("tls")), b.session(uname("tls"))
                tag = uname("tls")
                a.send(ta, "general", tag + " over TLS")
                assert _wait_tagged(b, tb, tag, 1)[0]["node"] == "ta"
                # the broker's certificate does not chain to tc's CA: said, not connected
                c.wait_log(r"certificate verify failed", timeout=TIMEOUT)
                c.wait_log(r"cannot connect to the broker", timeout=TIMEOUT)
                assert c.metrics()["lanchat_mqtt_connected"] == 0
                tc = c.session(uname("tls"))
                c.send(tc, "general", tag + " local only")  # local chat goes on
                assert c.metrics()["lanchat_mqtt_outbox"] >= 1
    finally:
        subprocess.run(["rm", "-rf", tmp])
