"""RFC 6455 conformance of /api/v1/ws, as a checklist: framing (7-, 16- and
64-bit lengths, minimal encoding), masking, reserved bits, opcodes,
fragmentation, control frames, the close handshake and its codes (section 7.4
and IANA's registry), UTF-8 of text messages and close reasons (section 8.1),
binary messages; then the bounds on memory and time that any frame meets
(docs/SECURITY.md, "WebSocket input").

Frames are built by hand (a client that could only send valid frames would
prove nothing). Each case is its own test function, made from a table, so
the runner counts and names every case.
"""

import json
import os
import re
import socket
import struct
import threading
import time

import harness
from harness import loopback_source, shared, uname
from wsclient import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ConnectionClosed,
                      _mask_fast)

FRAME_TIMEOUT_S = 2  # --ws-frame-timeout of the servers of the deadline tests


def _limit(name):
    """A figure of the binary's `--version` "limits:" line."""
    harness.features()
    m = re.search(r"\b%s=(\d+)" % re.escape(name), harness._version_text or "")
    assert m, "no %s= in --version: %r" % (name, harness._version_text)
    return int(m.group(1))


# ------------------------------------------------------------------ frames by hand
def frame(op, payload=b"", fin=True, rsv=0, masked=True, length=None, form=None):
    """One client frame. length: the length announced (default: the payload's);
    form: 7, 16 or 64, the length's encoding (default: the minimal one)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    mbit = 0x80 if masked else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        head = bytes([b0, mbit | n])
    elif form == 16:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + _mask_fast(payload, mask)


def join_text(size=None, extra=""):
    """A join of "general" as UTF-8 bytes, padded to exactly `size` bytes."""
    text = '{"type":"join","room":"general","pad":"%s"}' % extra
    raw = text.encode("utf-8")
    if size is not None:
        assert size >= len(raw), size
        raw = raw[:-2] + b"x" * (size - len(raw)) + b'"}'
    return raw


def join_with(raw_bytes):
    """A join whose "pad" string holds raw_bytes (valid UTF-8 or not)."""
    return b'{"type":"join","room":"general","pad":"' + raw_bytes + b'"}'


# ------------------------------------------------------------------ reading the answers
_token = [None]


def _open(srv=None):
    srv = srv or shared()
    if srv is shared() and _token[0] is None:
        _token[0] = srv.session(uname("rfc"))
    token = _token[0] if srv is shared() else srv.session(uname("rfc"))
    return srv.ws(token)


def _next(ws, timeout):
    """The next frame but presence: (opcode, payload, fin); ("eof",) at EOF."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fin, op, payload = ws.recv_frame(max(0.01, deadline - time.monotonic()))
        except ConnectionClosed:
            return ("eof", b"", True)
        except socket.timeout:
            raise AssertionError("no frame within %.1f s" % timeout)
        if op == OP_TEXT and fin and b'"type":"presence"' in payload:
            continue
        return (op, payload, fin)


def expect_close(ws, code, timeout=10.0):
    """The server's next frame is a close with this code, and then the TCP
    connection ends with no frame after it."""
    op, payload, _ = _next(ws, timeout)
    assert op == OP_CLOSE, "expected close %s, got opcode %r %r" % (code, op, payload[:200])
    got = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    ws.closed = True
    assert got == code, "expected close %s, got %s %r" % (code, got, payload[2:])
    try:
        ws.sock.sendall(frame(OP_CLOSE, payload[:2]))
    except OSError:
        pass
    op, payload, _ = _next(ws, timeout)
    assert op == "eof", "a frame after the server's close: %r %r" % (op, payload[:200])
    return payload


def expect_pong(ws, data, timeout=10.0):
    op, payload, fin = _next(ws, timeout)
    assert (op, payload, fin) == (OP_PONG, data, True), \
        "expected a pong of %r, got %r %r" % (data[:40], op, payload[:200])


def expect_text(ws, timeout=10.0):
    op, payload, fin = _next(ws, timeout)
    assert op == OP_TEXT and fin, "expected a text frame, got %r %r" % (op, payload[:200])
    return json.loads(payload.decode("utf-8"))


def expect_joined(ws):
    f = expect_text(ws)
    assert f == {"type": "joined", "room": "general"}, "expected joined, got %r" % (f,)


def expect_open(ws):
    """The connection still serves: a ping is answered."""
    ws.sock.sendall(frame(OP_PING, b"still open?"))
    expect_pong(ws, b"still open?")


def _case(name, send, check):
    """Adds test_rfc6455_<name>: open a WebSocket, send these bytes, check."""
    def test():
        ws = _open()
        ws.sock.sendall(b"".join(send) if isinstance(send, list) else send)
        check(ws)
    test.__name__ = "test_rfc6455_" + name
    globals()[test.__name__] = test


def closes(code):
    return lambda ws: expect_close(ws, code)


def closes_after_replies(code, replies):
    """The replies (text frames, parsed) to the frames before the bad one may come
    or not (a close drops a join's pending replay); then the close."""
    def check(ws):
        while True:
            op, payload, _ = _next(ws, 10)
            if op != OP_TEXT:
                break
            assert json.loads(payload) in replies, "unexpected frame %r" % payload[:200]
        ws._buf[0:0] = _raw(op, payload)
        expect_close(ws, code)
    return check


def _raw(op, payload):
    """An unmasked server frame again, to put back in the client's buffer."""
    return frame(op, payload, masked=False)


def pong_and_joined(data):
    """A pong of data and "joined", in either order: the pong goes out at once,
    "joined" when the join's replay is done."""
    def check(ws):
        got = {_next(ws, 10)[:2], _next(ws, 10)[:2]}
        assert got == {(OP_PONG, data), (OP_TEXT, b'{"type":"joined","room":"general"}')}, got
        expect_open(ws)
    return check


def binary_error(ws):
    f = expect_text(ws)
    assert f.get("type") == "error" and f.get("code") == "bad_request", \
        "a binary message gets an error frame, got %r" % (f,)


def joins(ws):
    expect_joined(ws)
    expect_open(ws)


MAX = _limit("request")  # CHAT_MAX_REQUEST: the largest message

# ------------------------------------------------------------------ framing (5.2)
_case("7_bit_length_of_125_is_read", frame(OP_TEXT, join_text(125)), joins)
_case("16_bit_length_of_126_is_read", frame(OP_TEXT, join_text(126)), joins)
_case("16_bit_length_of_the_largest_message_is_read", frame(OP_TEXT, join_text(MAX)), joins)
_case("16_bit_length_for_125_bytes_is_not_minimal_1002",
      frame(OP_TEXT, join_text(125), form=16), closes(1002))
_case("64_bit_length_for_126_bytes_is_not_minimal_1002",
      frame(OP_TEXT, join_text(126), form=64), closes(1002))
_case("64_bit_length_for_100_bytes_is_not_minimal_1002",
      frame(OP_TEXT, join_text(100), form=64), closes(1002))
_case("64_bit_length_of_65536_is_over_the_limit_1009_from_the_header",
      frame(OP_TEXT, b"", length=65536), closes(1009))
_case("64_bit_length_with_its_most_significant_bit_set_1002",
      frame(OP_TEXT, b"", length=1 << 63, form=64), closes(1002))
_case("64_bit_length_of_2_to_the_64_minus_1_1002",
      frame(OP_TEXT, b"", length=(1 << 64) - 1, form=64), closes(1002))
_case("length_one_over_the_largest_message_is_1009_from_the_header",
      frame(OP_TEXT, b"", length=MAX + 1), closes(1009))
_case("two_frames_in_one_write_are_both_read",
      [frame(OP_TEXT, join_text()), frame(OP_PING, b"p2")], pong_and_joined(b"p2"))


def test_rfc6455_a_frame_one_byte_per_write_is_read():
    ws = _open()
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in frame(OP_TEXT, join_text()):
        ws.sock.sendall(bytes([b]))
    joins(ws)


# ------------------------------------------------------------------ masking (5.1, 5.3)
_case("unmasked_text_frame_1002", frame(OP_TEXT, join_text(), masked=False), closes(1002))
_case("unmasked_ping_1002", frame(OP_PING, b"x", masked=False), closes(1002))
_case("unmasked_close_1002", frame(OP_CLOSE, struct.pack("!H", 1000), masked=False),
      closes(1002))
_case("unmasked_continuation_1002",
      [frame(OP_TEXT, b'{"type":', fin=False), frame(OP_CONT, b'"join"}', masked=False)],
      closes(1002))

# ------------------------------------------------------------------ reserved bits (5.2)
for _rsv in (1, 2, 4):
    _n = {4: 1, 2: 2, 1: 3}[_rsv]
    _case("rsv%d_on_a_text_frame_without_extension_1002" % _n,
          frame(OP_TEXT, join_text(), rsv=_rsv), closes(1002))
    _case("rsv%d_on_a_ping_1002" % _n, frame(OP_PING, b"x", rsv=_rsv), closes(1002))
_case("rsv1_on_a_continuation_1002",
      [frame(OP_TEXT, b'{"type":', fin=False), frame(OP_CONT, b'"join"}', rsv=4)],
      closes(1002))

# ------------------------------------------------------------------ opcodes (5.2)
for _op in (3, 4, 5, 6, 7):
    _case("reserved_data_opcode_%d_1002" % _op, frame(_op, b"x"), closes(1002))
for _op in (11, 12, 13, 14, 15):
    _case("reserved_control_opcode_%d_1002" % _op, frame(_op, b"x"), closes(1002))
_case("reserved_opcode_inside_a_fragmented_message_1002",
      [frame(OP_TEXT, b'{"type":', fin=False), frame(3, b"x")], closes(1002))

# ------------------------------------------------------------------ fragmentation (5.4)
_J = join_text()
_case("text_in_three_fragments_is_one_message",
      [frame(OP_TEXT, _J[:5], fin=False), frame(OP_CONT, _J[5:20], fin=False),
       frame(OP_CONT, _J[20:])], joins)
_case("text_in_fragments_with_empty_first_and_last_is_one_message",
      [frame(OP_TEXT, b"", fin=False), frame(OP_CONT, _J, fin=False), frame(OP_CONT, b"")],
      joins)
_case("ping_between_fragments_is_answered_at_once",
      [frame(OP_TEXT, _J[:5], fin=False), frame(OP_PING, b"mid"), frame(OP_CONT, _J[5:])],
      pong_and_joined(b"mid"))
_case("pong_between_fragments_is_allowed",
      [frame(OP_TEXT, _J[:5], fin=False), frame(OP_PONG, b"mid"), frame(OP_CONT, _J[5:])],
      joins)
_case("continuation_without_a_message_1002", frame(OP_CONT, _J), closes(1002))
_case("continuation_after_a_finished_message_1002",
      [frame(OP_TEXT, _J), frame(OP_CONT, _J)],
      closes_after_replies(1002, [{"type": "joined", "room": "general"}]))
_case("text_frame_inside_a_fragmented_text_message_1002",
      [frame(OP_TEXT, _J[:5], fin=False), frame(OP_TEXT, _J)], closes(1002))
_case("binary_frame_inside_a_fragmented_text_message_1002",
      [frame(OP_TEXT, _J[:5], fin=False), frame(OP_BINARY, b"x")], closes(1002))
_case("text_frame_inside_a_fragmented_binary_message_1002",
      [frame(OP_BINARY, b"ab", fin=False), frame(OP_TEXT, _J)],
      lambda ws: (binary_error(ws), expect_close(ws, 1002)))
_case("fragmented_text_over_the_limit_1009",
      [frame(OP_TEXT, b"x" * (MAX // 2 + 1), fin=False),
       frame(OP_CONT, b"x" * (MAX // 2 + 1))], closes(1009))
_case("fragmented_binary_over_the_limit_1009",
      [frame(OP_BINARY, b"x" * (MAX // 2 + 1), fin=False),
       frame(OP_CONT, b"x" * (MAX // 2 + 1))],
      lambda ws: (binary_error(ws), expect_close(ws, 1009)))
_case("fragmented_text_of_exactly_the_limit_is_one_message",
      [frame(OP_TEXT, join_text(MAX)[:MAX // 2], fin=False),
       frame(OP_CONT, join_text(MAX)[MAX // 2:])], joins)

# ------------------------------------------------------------------ control frames (5.5)
def _ping(size):
    data = bytes((i * 7 + 1) & 0xFF for i in range(size))

    def check(ws):
        expect_pong(ws, data)
        expect_open(ws)
    _case("ping_of_%d_bytes_gets_a_pong_with_the_same_payload" % size, frame(OP_PING, data),
          check)


for _size in (0, 1, 125):
    _ping(_size)
_case("unsolicited_pong_is_ignored", frame(OP_PONG, b"unasked"), expect_open)
_case("empty_unsolicited_pong_is_ignored", frame(OP_PONG, b""), expect_open)
_case("ping_of_126_bytes_1002", frame(OP_PING, b"x" * 126), closes(1002))
_case("pong_of_126_bytes_1002", frame(OP_PONG, b"x" * 126), closes(1002))
_case("close_of_126_bytes_1002", frame(OP_CLOSE, struct.pack("!H", 1000) + b"x" * 124),
      closes(1002))
_case("fragmented_ping_1002",
      [frame(OP_PING, b"ab", fin=False), frame(OP_CONT, b"cd")], closes(1002))
_case("fragmented_close_1002",
      [frame(OP_CLOSE, struct.pack("!H", 1000), fin=False), frame(OP_CONT, b"")],
      closes(1002))


# ------------------------------------------------------------------ closing (5.5.1, 7.4)
def _close_echo(code):
    def check(ws):
        payload = expect_close(ws, code)
        assert payload == b"", "close reply carries a reason: %r" % payload
    return check


def _empty_close(ws):
    op, payload, _ = _next(ws, 10)
    assert op == OP_CLOSE, (op, payload)
    assert payload in (b"", struct.pack("!H", 1000)), \
        "an empty close is answered empty or 1000, got %r" % payload
    ws.closed = True
    op, payload, _ = _next(ws, 10)
    assert op == "eof", "a frame after the server's close: %r %r" % (op, payload)


_case("empty_close_is_answered_and_the_connection_ends", frame(OP_CLOSE, b""), _empty_close)
_case("close_with_a_one_byte_payload_1002", frame(OP_CLOSE, b"\x03"), closes(1002))
# Valid to receive: 7.4.1's codes an endpoint may send, IANA's 1012-1014
# (service restart, try again later, bad gateway: lanchat itself sends
# 1013), and the ranges for libraries (3000-3999) and applications (4000-4999).
for _code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
              3000, 3999, 4000, 4999):
    _case("close_code_%d_is_echoed" % _code,
          frame(OP_CLOSE, struct.pack("!H", _code)), _close_echo(_code))
# Not valid: below 1000, 1004 (reserved), 1005, 1006 and 1015 (never sent in
# a frame), 1016-2999 (reserved, unassigned), 5000 and above.
for _code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
    _case("close_code_%d_is_a_protocol_error_1002" % _code,
          frame(OP_CLOSE, struct.pack("!H", _code)), closes(1002))
_case("close_with_a_utf8_reason_is_echoed",
      frame(OP_CLOSE, struct.pack("!H", 1000) + "bye \u2014 \U0001F44B".encode("utf-8")),
      _close_echo(1000))
_case("close_reason_of_invalid_utf8_1007",
      frame(OP_CLOSE, struct.pack("!H", 1000) + b"bye \xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80"),
      closes(1007))
_case("close_reason_cut_inside_a_code_point_1007",
      frame(OP_CLOSE, struct.pack("!H", 1000) + b"bye \xe2\x82"), closes(1007))


def test_rfc6455_nothing_is_read_after_the_clients_close():
    srv = shared()
    ws = _open()
    body = uname("after_close")
    send = json.dumps({"type": "send", "room": "general", "body": body, "cid": body})
    ws.sock.sendall(frame(OP_CLOSE, struct.pack("!H", 1000)) + frame(OP_TEXT, send) +
                    frame(OP_PING, b"after"))
    _close_echo(1000)(ws)
    history = srv.history(_token[0], "general", limit=200)["messages"]
    assert body not in [m["body"] for m in history], "a frame after the close was handled"


# ------------------------------------------------------------------ UTF-8 (5.6, 8.1)
_VALID = [
    ("ascii", b"plain"),
    ("two_byte", "\u00e9\u00df".encode()),
    ("three_byte", "\u20ac\uffff".encode()),
    ("four_byte", "\U0001D11E\U0010FFFF".encode()),
    ("greek_kosme", "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()),
]
for _name, _bytes in _VALID:
    _case("text_of_valid_utf8_%s_is_read" % _name, frame(OP_TEXT, join_with(_bytes)), joins)

_INVALID = [
    ("lone_continuation_byte", b"\x80"),
    ("two_byte_overlong_of_slash", b"\xc0\xaf"),
    ("two_byte_overlong_c1", b"\xc1\xbf"),
    ("three_byte_overlong", b"\xe0\x80\xaf"),
    ("four_byte_overlong", b"\xf0\x80\x80\xaf"),
    ("surrogate_d800", b"\xed\xa0\x80"),
    ("surrogate_dfff", b"\xed\xbf\xbf"),
    ("surrogate_pair_in_cesu8", b"\xed\xa0\xbd\xed\xb2\xa9"),
    ("above_10ffff", b"\xf4\x90\x80\x80"),
    ("lead_byte_f5", b"\xf5\x80\x80\x80"),
    ("byte_fe", b"\xfe"),
    ("byte_ff", b"\xff"),
    ("lead_byte_without_continuation", b"\xc3A"),
    ("three_byte_sequence_missing_its_last_byte", b"\xe2\x82A"),
]
for _name, _bytes in _INVALID:
    _case("text_with_%s_1007" % _name, frame(OP_TEXT, join_with(_bytes)), closes(1007))
_case("text_ending_inside_a_code_point_1007",
      frame(OP_TEXT, b'{"type":"join","room":"general"}\xe2\x82'), closes(1007))

_EURO = join_with("\u20ac".encode())  # E2 82 AC
_at = _EURO.index(b"\xe2")
_case("code_point_split_across_two_fragments_is_valid",
      [frame(OP_TEXT, _EURO[:_at + 2], fin=False), frame(OP_CONT, _EURO[_at + 2:])], joins)
_CLEF = join_with("\U0001D11E".encode())  # F0 9D 84 9E
_at = _CLEF.index(b"\xf0")
_case("code_point_split_across_four_fragments_is_valid",
      [frame(OP_TEXT, _CLEF[:_at + 1], fin=False),
       frame(OP_CONT, _CLEF[_at + 1:_at + 2], fin=False),
       frame(OP_CONT, _CLEF[_at + 2:_at + 3], fin=False), frame(OP_CONT, _CLEF[_at + 3:])],
      joins)
_case("code_point_split_across_fragments_with_a_ping_between_is_valid",
      [frame(OP_TEXT, _EURO[:_at + 1], fin=False), frame(OP_PING, b"x"),
       frame(OP_CONT, _EURO[_at + 1:])],
      pong_and_joined(b"x"))
_case("fragments_that_join_into_invalid_utf8_1007",
      [frame(OP_TEXT, _EURO[:_at + 2], fin=False), frame(OP_CONT, b"A" + _EURO[_at + 3:])],
      closes(1007))
_case("fragmented_text_ending_inside_a_code_point_1007",
      [frame(OP_TEXT, b'{"type":"join","room":"general"}', fin=False),
       frame(OP_CONT, b"\xf0\x9d\x84")], closes(1007))
# Invalid UTF-8 fails the connection when it arrives, not at the message's end.
_case("invalid_utf8_in_a_first_fragment_1007_before_the_message_ends",
      frame(OP_TEXT, b'{"type":"join","pad":"\xc0\xaf', fin=False), closes(1007))


# ------------------------------------------------------------------ binary messages
def _binary_refused(ws):
    binary_error(ws)
    expect_open(ws)
    ws.sock.sendall(frame(OP_TEXT, _J))
    joins(ws)


_case("binary_message_is_refused_with_an_error_frame_and_the_connection_stays",
      frame(OP_BINARY, b"\x00\x01\x02\xff"), _binary_refused)
_case("fragmented_binary_message_gets_one_error_frame_and_the_connection_stays",
      [frame(OP_BINARY, b"\x00\x01", fin=False), frame(OP_PING, b"between"),
       frame(OP_CONT, b"\x02", fin=False), frame(OP_CONT, b"\xff")],
      lambda ws: (binary_error(ws), expect_pong(ws, b"between"), expect_open(ws)))


# ------------------------------------------------------------------ bounds on memory and time
# docs/SECURITY.md, "WebSocket input": a frame is refused from its header when
# it announces more than the limit, read into the connection's fixed buffers
# otherwise, and a message must be complete within --ws-frame-timeout.
IN_BYTES = MAX + 15         # DELIVER_IN_MAX: one frame of the largest message
CONN_INPUT_BYTES = IN_BYTES + MAX + 1  # the in and assembly buffers of a connection
SLACK_BYTES = 4 << 20       # malloc arenas, stacks and page tables that may grow meanwhile


def _status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def _sanitized(pid):
    """A sanitizer's runtime is loaded: its shadow memory (ThreadSanitizer's is
    several times what the program touches) is not the program's to bound."""
    with open("/proc/%d/maps" % pid) as f:
        return any(lib in f.read() for lib in ("libasan", "libtsan", "libubsan"))


def _reset_peak(pid):
    """From here on VmHWM is the peak RSS (proc(5), clear_refs "5")."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    return _status_kib(pid, "VmHWM")


def _bounds_server():
    return shared("--ws-frame-timeout", str(FRAME_TIMEOUT_S))


def _ws_on(srv, source=None):
    return srv.ws(srv.session(uname("bnd")), source=source)


def test_rfc6455_frame_announcing_1GiB_streamed_fast_is_closed_1009_and_rss_stays_bounded():
    srv = _bounds_server()
    pid = srv.proc.pid
    ws = _ws_on(srv)
    base = _reset_peak(pid)
    ws.sock.sendall(frame(OP_TEXT, b"", length=1 << 30))
    chunk = bytes(1 << 20)
    sent = [0]

    out = ws.sock.dup()  # its own timeout, apart from the reader's

    def stream():  # as fast as the server takes it, up to the GiB announced
        try:
            out.settimeout(30)
            while sent[0] < 1 << 30:
                out.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass  # the server ended the connection
        finally:
            out.close()

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    expect_close(ws, 1009, timeout=30)  # the payload goes on behind the close, read and dropped
    sender.join(60)
    assert not sender.is_alive(), "still sending after 60 s"
    grown = (_status_kib(pid, "VmHWM") - base) * 1024
    assert _sanitized(pid) or grown <= CONN_INPUT_BYTES + SLACK_BYTES, \
        "peak RSS grew %d KiB while a GiB frame was streamed (%d MiB sent)" % (
            grown // 1024, sent[0] >> 20)
    assert srv.get("/healthz").status == 200


def test_rfc6455_frame_announcing_1GiB_then_nothing_is_closed_1009_from_its_header():
    srv = _bounds_server()
    ws = _ws_on(srv)
    ws.sock.sendall(frame(OP_TEXT, b"", length=1 << 30))
    expect_close(ws, 1009)  # a timeout would close 1008


def _drip(ws, data, gap, stop):
    """Sends data a byte at a time, one every `gap` seconds, until stop is set."""
    def run():
        try:
            for b in data:
                if stop.wait(gap):
                    return
                ws.sock.sendall(bytes([b]))
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_rfc6455_messages_stuck_or_dripped_are_closed_1008_after_the_frame_timeout():
    srv = _bounds_server()
    stuck = {
        "half a payload": frame(OP_TEXT, join_text(1000))[:500],
        "one byte of a header": frame(OP_TEXT, _J)[:1],
        "a header without its mask": frame(OP_TEXT, _J)[:2],
        "a fragmented message without its end": frame(OP_TEXT, _J[:5], fin=False),
        "a ping cut short": frame(OP_PING, b"0123456789")[:8],
    }
    dripped = {
        "a frame a byte at a time": frame(OP_TEXT, join_text(1000)),
        "fragments a byte each": b"".join(
            [frame(OP_TEXT, _J[:1], fin=False)] +
            [frame(OP_CONT, _J[i:i + 1], fin=False) for i in range(1, len(_J))]),
    }
    idle = _ws_on(srv)
    conns = {}
    stop = threading.Event()
    threads = []
    for what, data in stuck.items():
        ws = _ws_on(srv)
        ws.sock.sendall(data)
        conns[what] = (ws, time.monotonic())
    for what, data in dripped.items():
        ws = _ws_on(srv)
        ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ws.sock.sendall(data[:1])
        conns[what] = (ws, time.monotonic())
        threads.append(_drip(ws, data[1:], 0.1, stop))
    try:
        for what, (ws, began) in conns.items():
            try:
                expect_close(ws, 1008, timeout=FRAME_TIMEOUT_S + 15)
            except AssertionError as e:
                raise AssertionError("%s: %s" % (what, e))
            took = time.monotonic() - began
            assert took >= FRAME_TIMEOUT_S - 0.1, "%s: closed after %.2f s, before the " \
                "%d s frame timeout" % (what, took, FRAME_TIMEOUT_S)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    expect_open(idle)  # a connection that sends nothing is not timed
    idle.sock.sendall(frame(OP_TEXT, _J))
    joins(idle)


def test_rfc6455_a_message_sent_slowly_within_the_frame_timeout_is_read():
    srv = _bounds_server()
    ws = _ws_on(srv)
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = frame(OP_TEXT, _J)
    pieces = [data[:1], data[1:2], data[2:6], data[6:20], data[20:]]
    for piece in pieces:  # in a quarter of the timeout, at the pace of a slow client
        ws.sock.sendall(piece)
        time.sleep(FRAME_TIMEOUT_S / 4 / len(pieces))
    joins(ws)


def test_rfc6455_fifty_connections_mid_message_stay_within_the_memory_bound():
    srv = _bounds_server()
    pid = srv.proc.pid
    count = 50
    # from several loopback addresses, as clients of a LAN: one address may
    # hold only a share of a small board's WebSocket slots
    conns = [_ws_on(srv, loopback_source(i, spread=10)) for i in range(count)]
    base = _reset_peak(pid)
    half = MAX // 2 - 100
    # a fragment in the assembly buffer, and most of the next one in the in buffer
    data = frame(OP_TEXT, b"x" * half, fin=False) + frame(OP_CONT, b"y" * half)[:-100]
    for ws in conns:
        ws.sock.sendall(data)
    for ws in conns:
        expect_close(ws, 1008, timeout=FRAME_TIMEOUT_S + 20)
    grown = (_status_kib(pid, "VmHWM") - base) * 1024
    bound = count * CONN_INPUT_BYTES + SLACK_BYTES
    assert _sanitized(pid) or grown <= bound, "peak RSS grew %d KiB with %d connections mid-message (bound %d " \
        "KiB)" % (grown // 1024, count, bound // 1024)
