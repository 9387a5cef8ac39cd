"""HTTPS and WSS (CHAT_WITH_TLS): the generated local CA and server certificate,
verified by curl and Python against tls/ca.crt alone; WSS chat served by the I/O
threads beside plain WebSockets; the plain-HTTP redirect and its exemptions; the
trust endpoints; Secure cookies; key files, restarts and renewal; a refused
--tls-cert; an oversized WSS frame refused from its header."""

import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile

from harness import Server, binary, bulk_post, join, next_frame, requires, shared, uname

NO_REDIRECT = ["--http-redirect", "off"]
GZIP = {"Accept-Encoding": "gzip"}


def _ca_path(srv):
    return os.path.join(srv.tls_dir, "ca.crt")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _sans(pem_path):
    out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-ext",
                          "subjectAltName"], capture_output=True, text=True, check=True).stdout
    return {n.strip() for n in out.splitlines()[1].split(",")}


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _local_name():
    return socket.gethostname().split(".")[0].lower() + ".local"


@requires("tls")
def test_tls_https_is_verified_by_curl_and_python_against_the_generated_ca():
    srv = shared(*NO_REDIRECT, tls=True)
    out = subprocess.run(["curl", "-sS", "--cacert", _ca_path(srv), "--resolve",
                          "localhost:%d:127.0.0.1" % srv.tls_port,
                          "https://localhost:%d/healthz" % srv.tls_port],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and json.loads(out.stdout) == {"status": "ok"}, out
    for name in ("localhost", _local_name(), socket.gethostname()):
        r = srv.https("GET", "/healthz", host=name)
        assert r.status == 200, (name, r)
    # an address is a name of the certificate too
    ctx = srv.ssl_context()
    with socket.create_connection(("127.0.0.1", srv.tls_port), 10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3"), s.version()
    # a name it does not cover fails verification
    try:
        srv.https("GET", "/healthz", host="not-this-box.invalid")
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise AssertionError("a certificate for a foreign name was accepted")


@requires("tls")
def test_tls_wss_chat_is_served_by_the_io_threads_and_fans_out_to_plain_websockets():
    srv = shared(*NO_REDIRECT, tls=True)
    alice, bob = uname("wa"), uname("wb")
    wss = srv.wss(srv.session(alice))
    plain = srv.ws(srv.session(bob))
    join(wss, "general")
    join(plain, "general")
    wss.send_json({"type": "send", "room": "general", "body": "over TLS", "cid": "t1"})
    ack = next_frame(wss)
    assert ack["type"] == "ack" and ack["cid"] == "t1", ack
    got = next_frame(plain)
    assert (got["type"], got["body"], got["author"]) == ("message", "over TLS", alice), got
    mine = next_frame(wss)
    assert mine["type"] == "message" and mine["id"] == ack["id"], mine
    plain.send_json({"type": "send", "room": "general", "body": "b" * 1900, "cid": "p1"})
    got = next_frame(wss)
    assert got["type"] == "message" and got["body"] == "b" * 1900, got
    # More WSS connections than civetweb has workers: none of them holds one.
    threads = int(subprocess.run([binary(), "--version"], capture_output=True,
                                 text=True).stdout.split("threads: http=")[1].split()[0])
    extra = [srv.wss(srv.session(uname("wx"))) for _ in range(threads + 4)]
    assert srv.https("GET", "/healthz").status == 200
    wss.send_json({"type": "send", "room": "general", "body": "still", "cid": "t2"})
    assert next_frame(wss)["cid"] == "t2"
    for ws in extra + [wss, plain]:
        ws.close()


@requires("tls")
def test_tls_plain_http_redirects_to_https_except_the_trust_paths():
    srv = shared(tls=True)
    r = srv.get("/api/v1/rooms?limit=5&x=%C3%A9", headers={"Host": "chat.example:80"})
    assert r.status == 308, r
    assert r.header("Location") == "https://chat.example:%d/api/v1/rooms?limit=5&x=%%C3%%A9" \
        % srv.tls_port, r.header("Location")
    assert srv.post("/api/v1/session", {"name": uname("r")}).status == 308
    for path in ("/healthz", "/ca.crt", "/api/v1/trust"):
        assert srv.get(path).status == 200, path
    for path in ("/trust", "/trust.html", "/js/trust.js", "/js/qr.js", "/app.css"):
        assert srv.get(path).status != 308, path
    assert srv.https("GET", "/", headers=GZIP).status == 200


@requires("tls")
def test_tls_plain_http_to_localhost_is_not_redirected():
    """make run's http://localhost:8080 is a secure context already: served, not
    sent to a certificate the browser does not trust yet."""
    srv = shared(tls=True)
    for host in ("localhost", "LOCALHOST:80", "chat.localhost"):
        r = srv.get("/", headers=dict(GZIP, Host=host))
        assert r.status == 200, (host, r)
    assert srv.get("/", headers=dict(GZIP, Host="localhost.example")).status == 308


@requires("tls")
def test_tls_http_redirect_off_serves_plain_http_beside_https():
    srv = shared(*NO_REDIRECT, tls=True)
    assert srv.get("/", headers=GZIP).status == 200
    srv.session(uname("nr"))
    assert srv.https("GET", "/", headers=GZIP).status == 200


@requires("tls")
def test_tls_session_cookie_is_secure_over_https_and_not_over_http():
    srv = shared(*NO_REDIRECT, tls=True)
    r = srv.https("POST", "/api/v1/session", {"name": uname("c")})
    assert r.status == 201, r
    assert "; Secure" in r.header("Set-Cookie"), r.header("Set-Cookie")
    r = srv.post("/api/v1/session", {"name": uname("c")})
    assert "Secure" not in r.header("Set-Cookie"), r.header("Set-Cookie")


@requires("tls")
def test_tls_trust_endpoints_give_the_ca_and_its_fingerprint_over_plain_http():
    srv = shared(tls=True)
    r = srv.get("/ca.crt")
    assert r.status == 200
    assert r.header("Content-Type") == "application/x-x509-ca-cert"
    assert r.header("Content-Disposition") == 'attachment; filename="lanchat-ca.crt"'
    assert r.raw == _read(_ca_path(srv))
    der = ssl.PEM_cert_to_DER_cert(r.raw.decode())
    want = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
    t = srv.get("/api/v1/trust", headers={"Host": "localhost:%d" % srv.port})
    assert t.status == 200
    assert t.json() == {"fingerprint": want, "ca_url": "/ca.crt",
                        "https_url": "https://localhost:%d/" % srv.tls_port}, t.json()
    t = srv.get("/api/v1/trust", headers={"Host": "elsewhere.invalid"})
    assert t.json()["https_url"] == "https://%s:%d/" % (_local_name(), srv.tls_port)


@requires("tls")
def test_tls_keys_are_0600_and_the_ca_stays_across_restarts():
    with Server(NO_REDIRECT, tls=True, label="tls-files") as srv:
        for name in ("ca.key", "server.key"):
            mode = os.stat(os.path.join(srv.tls_dir, name)).st_mode & 0o777
            assert mode == 0o600, (name, oct(mode))
        assert os.stat(srv.tls_dir).st_mode & 0o077 == 0
        ca, cert = _read(_ca_path(srv)), _read(os.path.join(srv.tls_dir, "server.crt"))
        srv.restart()
        assert _read(_ca_path(srv)) == ca
        assert _read(os.path.join(srv.tls_dir, "server.crt")) == cert, "remade for nothing"
        assert srv.https("GET", "/healthz").status == 200
        assert not [n for n in os.listdir(srv.tls_dir) if n.endswith(".tmp")]


@requires("tls")
def test_tls_server_certificate_is_remade_when_a_name_is_missing_and_the_ca_kept():
    with Server(NO_REDIRECT, tls=True, label="tls-renew") as srv:
        d = srv.tls_dir
        ca = _read(_ca_path(srv))
        srv.stop()
        with tempfile.NamedTemporaryFile("w", suffix=".ext") as ext:
            ext.write("subjectAltName=DNS:localhost\n")
            ext.flush()
            csr = subprocess.run(["openssl", "req", "-new", "-key", d + "/server.key",
                                  "-subj", "/CN=old"], capture_output=True, check=True).stdout
            subprocess.run(["openssl", "x509", "-req", "-CA", d + "/ca.crt", "-CAkey",
                            d + "/ca.key", "-days", "100", "-extfile", ext.name,
                            "-out", d + "/server.crt"], input=csr, check=True,
                           capture_output=True)
        assert _sans(d + "/server.crt") == {"DNS:localhost"}
        srv.start()
        srv.wait_log(r"making the server certificate \(the box's names changed\)")
        assert _read(_ca_path(srv)) == ca, "the CA must never be made again"
        sans = _sans(d + "/server.crt")
        assert {"DNS:localhost", "DNS:" + _local_name(), "IP Address:127.0.0.1"} <= sans, sans
        assert srv.https("GET", "/healthz", host=_local_name()).status == 200


@requires("tls")
def test_tls_a_bad_tls_cert_is_refused_at_start_with_a_clear_error():
    srv = Server(tls=True, start=False, label="tls-bad")
    try:
        bad = os.path.join(srv.tmpdir, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        argv = srv.argv() + ["--tls-cert", bad, "--tls-key", bad]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
        assert out.returncode != 0, out
        assert "--tls-cert %s is not a readable PEM certificate" % bad in out.stderr, out.stderr
        assert "listening" not in out.stderr
    finally:
        srv.close()


@requires("tls")
def test_tls_wss_frame_announcing_1GiB_is_closed_1009_from_its_header_without_growth():
    srv = shared(*NO_REDIRECT, tls=True)
    ws = srv.wss(srv.session(uname("big")))
    before = _rss_kb(srv.proc.pid)
    head = struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 30) + os.urandom(4)
    ws.sock.sendall(head + b"x" * 65536)
    kind, code = ws.read_until_closed(timeout=10)
    assert (kind, code) == ("close", 1009), (kind, code)
    grown = _rss_kb(srv.proc.pid) - before
    assert grown < 4096, "RSS grew by %d KiB" % grown


@requires("tls")
def test_tls_wss_reader_that_stalls_gets_every_message_once_in_order_after_partial_records():
    # 100 messages of 1.9 KB against a 4 KiB receive window: OpenSSL's writes
    # stop in the middle of records many times (the retried-record path), and
    # the reader stays within a feed (256 KiB on rpi-zero) of the newest.
    srv = shared(*NO_REDIRECT, tls=True)
    writer = srv.session(uname("ws"))
    token = srv.session(uname("wr"))
    ws = harness_wss_small_window(srv, token)
    join(ws, "general")
    bodies = ["%03d " % i + "z" * 1900 for i in range(100)]
    posted = bulk_post(srv, writer, "general", bodies, threads=4)
    want = sorted(m["id"] for m in posted)
    got = []
    while len(got) < len(want):
        f = next_frame(ws, 20)
        if f["type"] == "message":
            got.append(f["id"])
    assert got == want, "missing, duplicated or out of order"
    ws.close()


def harness_wss_small_window(srv, token):
    from wsclient import WSClient
    ws = WSClient.connect("127.0.0.1", srv.tls_port, "/api/v1/ws",
                          headers={"Cookie": "session=" + token,
                                   "Host": "localhost:%d" % srv.tls_port},
                          rcvbuf=4096, ssl_context=srv.ssl_context(),
                          server_hostname="localhost")
    f = ws.recv_json(10)
    assert f["type"] == "hello", f
    return ws
