"""Minimal RFC 6455 WebSocket client over a plain TCP socket (stdlib only).

Client frames are always masked; server frames may use 7-, 16- or 64-bit
lengths, may be fragmented (continuations are reassembled) and may be
interleaved with control frames. Pings are answered with pongs.

    ws = WSClient.connect("127.0.0.1", port, "/api/v1/ws",
                          headers={"Cookie": "session=..."})
    ws.send_json({"type": "join", "room": "general"})
    frame = ws.recv_json(timeout=5)

recv() returns ("text", str), ("binary", bytes) or ("close", code, reason);
it raises ConnectionClosed on EOF / reset and socket.timeout on timeout.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class ConnectionClosed(Exception):
    """The peer ended the TCP connection (EOF or reset)."""


class HandshakeError(Exception):
    """The server answered the upgrade request with something other than 101."""

    def __init__(self, status, headers, body):
        if status is None:
            msg = "response to the upgrade request has no HTTP status line: %r" % (body[:200],)
        else:
            msg = "websocket handshake refused: HTTP %s %r" % (status, body[:200])
        super().__init__(msg)
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def _read_http_head(sock, deadline):
    """Read up to the blank line; return (status, headers dict lower-case, rest bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out reading the handshake response")
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            if buf and not buf.startswith(b"HTTP/"):
                raise HandshakeError(None, {}, buf)
            raise ConnectionClosed("EOF during handshake (got %r)" % buf[:200])
        buf += chunk
        if len(buf) > 65536:
            raise HandshakeError(0, {}, buf)
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            v = v.strip()
            headers[k] = headers[k] + ", " + v if k in headers else v
    return status, headers, rest


class WSClient:
    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self._buf = bytearray(leftover)
        self.closed = False          # we saw a close frame or EOF
        self.close_code = None
        self.close_reason = None
        self.handshake_headers = {}

    # ------------------------------------------------------------ connect
    @classmethod
    def connect(cls, host, port, path="/", headers=None, rcvbuf=None, timeout=10.0,
                host_header=None, ssl_context=None, server_hostname=None, source=None):
        """ssl_context: WSS (the handshake verifies against it); source: the
        address to connect from."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source is not None:
            sock.bind((source, 0))  # e.g. another loopback address: another client host
        if rcvbuf is not None:
            # Must be set before connect() to affect the advertised window.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            hdrs = {
                "Host": host_header or "%s:%d" % (host, port),
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": key,
                "Sec-WebSocket-Version": "13",
            }
            for k, v in (headers or {}).items():
                hdrs[k] = v
            req = "GET %s HTTP/1.1\r\n" % path
            req += "".join("%s: %s\r\n" % (k, v) for k, v in hdrs.items() if v is not None)
            req += "\r\n"
            sock.sendall(req.encode("iso-8859-1"))
            deadline = time.monotonic() + timeout
            status, rh, rest = _read_http_head(sock, deadline)
            if status != 101:
                body = rest
                n = int(rh.get("content-length", "-1"))
                try:
                    while (n < 0 or len(body) < n) and time.monotonic() < deadline:
                        sock.settimeout(max(0.01, deadline - time.monotonic()))
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                except (socket.timeout, OSError):
                    pass
                sock.close()
                raise HandshakeError(status, rh, body)
            expect = base64.b64encode(
                hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")
            if rh.get("sec-websocket-accept") != expect:
                sock.close()
                raise HandshakeError(status, rh, b"bad Sec-WebSocket-Accept: %r"
                                     % rh.get("sec-websocket-accept"))
            if rh.get("upgrade", "").lower() != "websocket":
                sock.close()
                raise HandshakeError(status, rh, b"missing Upgrade: websocket")
        except BaseException:
            sock.close()
            raise
        ws = cls(sock, rest)
        ws.handshake_headers = rh
        return ws

    # ------------------------------------------------------------ sending
    def send_frame(self, opcode, payload=b"", fin=True):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload)) if n < 4096 \
            else _mask_fast(payload, mask)
        self.sock.settimeout(10.0)
        self.sock.sendall(head + mask + body)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_json(self, obj):
        self.send_frame(OP_TEXT, json.dumps(obj))

    def close(self, code=1000, wait=2.0):
        """Send a close frame (if still open), wait briefly for the echo, close the socket."""
        try:
            if not self.closed:
                self.send_frame(OP_CLOSE, struct.pack("!H", code))
                deadline = time.monotonic() + wait
                while not self.closed and time.monotonic() < deadline:
                    try:
                        self.recv(timeout=max(0.01, deadline - time.monotonic()))
                    except (socket.timeout, ConnectionClosed, OSError):
                        break
        except OSError:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            self.closed = True

    def abort(self):
        """Drop the TCP connection without a closing handshake."""
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # ------------------------------------------------------------ receiving
    def _fill(self, n, deadline):
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a websocket frame")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except ConnectionResetError as e:
                self.closed = True
                raise ConnectionClosed("connection reset") from e
            if not chunk:
                self.closed = True
                raise ConnectionClosed("EOF")
            self._buf += chunk

    def _take(self, n):
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def recv_frame(self, timeout=10.0):
        """One raw frame: (fin, opcode, payload). Raises socket.timeout, ConnectionClosed."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self._buf[0], self._buf[1]
        fin = bool(b0 & 0x80)
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        n = b1 & 0x7F
        hl = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", bytes(self._buf[2:4]))[0]
            hl = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", bytes(self._buf[2:10]))[0]
            hl = 10
        if masked:
            hl += 4
        self._fill(hl + n, deadline)
        head = self._take(hl)
        payload = self._take(n)
        if masked:  # servers must not mask, but be lenient when reading
            payload = _mask_fast(payload, head[-4:])
        return fin, opcode, payload

    def recv(self, timeout=10.0):
        """Next data message or close: ("text", str) / ("binary", bytes) / ("close", code, reason)."""
        deadline = time.monotonic() + timeout
        parts = []
        first_op = None
        while True:
            fin, op, payload = self.recv_frame(max(0.001, deadline - time.monotonic()))
            if op == OP_PING:
                try:
                    self.send_frame(OP_PONG, payload)
                except OSError:
                    pass
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                if not self.closed:
                    self.closed = True
                    self.close_code, self.close_reason = code, reason
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                return ("close", code, reason)
            if op in (OP_TEXT, OP_BINARY):
                first_op = op
                parts = [payload]
            elif op == OP_CONT:
                if first_op is None:
                    raise AssertionError("continuation frame without a start frame")
                parts.append(payload)
            else:
                raise AssertionError("unexpected opcode %#x" % op)
            if fin:
                data = b"".join(parts)
                if first_op == OP_TEXT:
                    return ("text", data.decode("utf-8"))
                return ("binary", data)

    def recv_json(self, timeout=10.0):
        """Next text message parsed as JSON; AssertionError on a close frame or binary."""
        msg = self.recv(timeout)
        if msg[0] != "text":
            raise AssertionError("expected a JSON text frame, got %r" % (msg,))
        return json.loads(msg[1])

    def read_until_closed(self, timeout=20.0, max_frames=1000000):
        """Read and discard until a close frame or EOF. Returns ("close", code) or ("eof", None).
        Raises socket.timeout if the connection stays open past the timeout."""
        deadline = time.monotonic() + timeout
        for _ in range(max_frames):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msg = self.recv(left)
            except ConnectionClosed:
                return ("eof", None)
            if msg[0] == "close":
                return ("close", msg[1])
        raise socket.timeout("connection still open after %.1f s" % timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(wait=0.5)


def _mask_fast(data, mask):
    """XOR data with the 4-byte mask using big-integer arithmetic (fast enough for KiBs)."""
    n = len(data)
    if n == 0:
        return b""
    reps = (mask * (n // 4 + 1))[:n]
    a = int.from_bytes(data, "big")
    b = int.from_bytes(reps, "big")
    return (a ^ b).to_bytes(n, "big")
