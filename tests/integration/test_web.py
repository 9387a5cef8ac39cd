"""The web client and GET /api/v1/server.

With feature "embedded-web" every file of web/ (walked now, as the Makefile
does: hidden files and editor backups left out) is served from memory,
gzip-compressed, with an ETag, Cache-Control and the security headers; a
client that does not take gzip gets 406. Without the feature the gated tests
assert GET / answers 404. `--web-root DIR` serves DIR from disk, uncompressed
and with the same security headers, in every build."""

import gzip
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import Server, binary, expect, expect_error, has, requires, shared

WEB = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web"))
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
CSP = ("default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
# src/web.def (embed.c and web.c); anything else is application/octet-stream.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
FIRST_VISIT_LIMIT = 40 * 1024


def web_files():
    """Paths of web/ relative to it ("js/api.js"), as the Makefile embeds them."""
    out = []
    for top, dirs, files in os.walk(WEB):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if not f.startswith(".") and not f.endswith("~"):
                out.append(os.path.relpath(os.path.join(top, f), WEB).replace(os.sep, "/"))
    assert "index.html" in out, "no web/index.html in %s" % WEB
    return sorted(out)


def read(path):
    with open(os.path.join(WEB, path), "rb") as f:
        return f.read()


def expected_type(path):
    return TYPES.get(os.path.splitext(path)[1], "application/octet-stream")


def check_security_headers(r):
    assert r.header("Content-Security-Policy") == CSP, r.headers
    assert r.header("X-Content-Type-Options") == "nosniff", r.headers
    assert r.header("Referrer-Policy") == "no-referrer", r.headers


def get_gzip(srv, path, headers=GZIP):
    """GET path as a browser asks for it; asserts a gzip 200 and returns (response, bytes)."""
    r = srv.get(path, headers=headers)
    assert r.status == 200, r
    assert r.header("Content-Encoding") == "gzip", (path, r.headers)
    assert r.header("Content-Length") == str(len(r.raw)), (path, r.headers)
    try:
        return r, gzip.decompress(r.raw)
    except OSError as e:
        raise AssertionError("%s: body is not gzip: %s" % (path, e))


def stale_hint(path):
    return ("%s differs from web/%s: was web/ edited after the build? (make)" % (path, path))


# ---------------------------------------------------------------- embedded client
@requires("embedded-web")
def test_every_web_file_is_served_gzip_with_its_type_and_exact_bytes():
    srv = shared()
    for path in web_files():
        r, body = get_gzip(srv, "/" + path)
        assert body == read(path), stale_hint(path)
        assert r.header("Content-Type") == expected_type(path), (path, r.headers)
        assert re.fullmatch(r'"[0-9a-f]{16}"', r.header("ETag") or ""), (path, r.headers)
        assert r.header("Cache-Control") in ("no-cache", "public, max-age=604800"), r.headers
        assert r.header("Vary") == "Accept-Encoding", (path, r.headers)
        check_security_headers(r)


@requires("embedded-web")
def test_root_is_index_html():
    srv = shared()
    root, body = get_gzip(srv, "/")
    index, _ = get_gzip(srv, "/index.html")
    assert body == read("index.html"), stale_hint("index.html")
    assert root.raw == index.raw
    assert root.header("ETag") == index.header("ETag")
    assert root.header("Content-Type") == "text/html; charset=utf-8", root.headers
    assert root.header("Cache-Control") == "no-cache", root.headers


@requires("embedded-web")
def test_index_html_carries_the_exact_content_security_policy():
    r, _ = get_gzip(shared(), "/index.html")
    assert r.header_all("Content-Security-Policy") == [CSP], r.headers
    check_security_headers(r)


@requires("embedded-web")
def test_if_none_match_with_the_etag_is_304_without_body():
    srv = shared()
    for path in ("/", "/index.html", "/" + web_files()[-1]):
        r, _ = get_gzip(srv, path)
        etag = r.header("ETag")
        for tag in (etag, "W/" + etag, '"0000000000000000", ' + etag, "*"):
            r304 = srv.get(path, headers=dict(GZIP, **{"If-None-Match": tag}))
            assert r304.status == 304, (path, tag, r304)
            assert r304.raw == b"", r304
            assert r304.header("ETag") == etag, r304.headers
            assert r304.header("Cache-Control") == r.header("Cache-Control"), r304.headers
        other = srv.get(path, headers=dict(GZIP, **{"If-None-Match": '"0000000000000000"'}))
        assert other.status == 200 and other.raw == r.raw, other


@requires("embedded-web")
def test_head_answers_the_headers_of_get_without_body():
    srv = shared()
    for path in ("/", "/" + web_files()[0]):
        got, _ = get_gzip(srv, path)
        r = srv.request("HEAD", path, headers=GZIP)
        assert r.status == 200, r
        assert r.raw == b"", r
        for name in ("Content-Length", "Content-Type", "Content-Encoding", "ETag",
                     "Cache-Control", "Content-Security-Policy"):
            assert r.header(name) == got.header(name), (path, name, r.headers)


def test_head_of_an_error_has_no_body_and_the_connection_goes_on():
    """A body after a HEAD reply's headers would be taken for the next reply."""
    srv = shared()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        for method, path in (("HEAD", "/nope.html"), ("HEAD", "/api/v1/nope"),
                             ("HEAD", "/healthz"), ("GET", "/healthz")):
            conn.request(method, path, headers=GZIP)
            r = conn.getresponse()
            raw = r.read()
            if method == "HEAD":
                assert r.status in (404, 405), (path, r.status)
                assert raw == b"", (path, raw)
            else:
                assert r.status == 200 and b'"ok"' in raw, (r.status, raw)
    finally:
        conn.close()


@requires("embedded-web")
def test_accept_encoding_without_gzip_is_406_not_acceptable():
    srv = shared()
    for value in ("identity", "gzip;q=0", "GZIP; q=0.000", "deflate, br", "*;q=0",
                  "gzip;q=0, *", ""):
        r = srv.get("/index.html", headers={"Accept-Encoding": value})
        expect_error(r, 406, "not_acceptable")
        assert r.header("Vary") == "Accept-Encoding", r.headers
    # http.client sends "Accept-Encoding: identity" unless told otherwise
    expect_error(srv.get("/"), 406, "not_acceptable")


@requires("embedded-web")
def test_accept_encoding_star_or_gzip_with_q_gets_gzip():
    srv = shared()
    for value in ("*", "identity;q=1, *;q=0.5", "x-gzip", "br;q=1.0, gzip;q=0.8", "GZip"):
        r, body = get_gzip(srv, "/", headers={"Accept-Encoding": value})
        assert body == read("index.html"), stale_hint("index.html")


@requires("embedded-web")
def test_no_accept_encoding_header_means_any_coding_gzip():
    srv = shared()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest("GET", "/index.html", skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        raw = r.read()
        assert r.status == 200, (r.status, raw[:200])
        assert r.getheader("Content-Encoding") == "gzip", r.getheaders()
        assert gzip.decompress(raw) == read("index.html"), stale_hint("index.html")
    finally:
        conn.close()


@requires("embedded-web")
def test_unknown_page_is_404_json():
    srv = shared()
    for path in ("/nope.html", "/js/nope.js", "/js/", "/index.html/x", "/INDEX.HTML"):
        expect_error(srv.get(path, headers=GZIP), 404, "not_found")


@requires("embedded-web")
def test_other_methods_are_405_with_allow():
    srv = shared()
    for method, path in (("POST", "/"), ("POST", "/index.html"), ("PUT", "/index.html"),
                         ("DELETE", "/index.html"), ("POST", "/nope.html")):
        r = srv.request(method, path, body={} if method != "DELETE" else None, headers=GZIP)
        expect_error(r, 405, "method_not_allowed")
        assert r.header("Allow") == "GET, HEAD", r.headers


# The trust page's own files: the chat page never fetches them.
TRUST_PAGE = ("trust.html", "js/trust.js", "js/qr.js")
# Fetched only when an admin opens the admin view, never by the service
# worker (tests/e2e/test_moderation.mjs checks both).
ON_DEMAND = ("js/admin.js",)


@requires("embedded-web")
def test_first_visit_is_at_most_40_kib_gzip():
    """Every file a first visit may fetch (all but the 512-pixel icons, which only
    an installed app asks for, the trust page's, and the admin view's, which an
    admin's click loads), counted as sent: gzip bytes."""
    srv = shared()
    total, counted = 0, []
    for path in web_files():
        if "512" in path or path in TRUST_PAGE or path in ON_DEMAND:
            continue
        r, _ = get_gzip(srv, "/" + path)
        total += int(r.header("Content-Length"))
        counted.append(path)
    print("first visit: %d bytes gzip (%d files: %s)" % (total, len(counted), " ".join(counted)))
    assert total <= FIRST_VISIT_LIMIT, "first visit %d bytes gzip > %d" % (total,
                                                                           FIRST_VISIT_LIMIT)


@requires("embedded-web")
def test_trust_is_the_trust_page_and_small():
    """/trust is trust.html, as / is index.html; with its script, the QR encoder
    and the stylesheet it is at most 16 KiB gzip."""
    srv = shared()
    trust, body = get_gzip(srv, "/trust")
    page, _ = get_gzip(srv, "/trust.html")
    assert body == read("trust.html"), stale_hint("trust.html")
    assert trust.raw == page.raw and trust.header("ETag") == page.header("ETag")
    assert trust.header("Content-Type") == "text/html; charset=utf-8", trust.headers
    check_security_headers(trust)
    total = sum(int(get_gzip(srv, "/" + p)[0].header("Content-Length"))
                for p in TRUST_PAGE + ("app.css",))
    print("trust page: %d bytes gzip (%s app.css)" % (total, " ".join(TRUST_PAGE)))
    assert total <= 16 * 1024, total


# ---------------------------------------------------------------- --web-root (every build)
class web_root_server:
    """A server with --web-root of a fresh directory holding `files` {path: bytes}."""

    def __init__(self, files):
        self.files = files
        self.root = None
        self.srv = None

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix="lanchat-web-")
        for path, data in self.files.items():
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
            if path.endswith(".cgi"):
                os.chmod(full, 0o755)
        self.srv = Server(["--web-root", self.root], label="web-root")
        return self.srv

    def __exit__(self, *exc):
        if self.srv is not None:
            self.srv.close()
        shutil.rmtree(self.root, ignore_errors=True)


def test_web_root_serves_its_files_uncompressed_with_the_security_headers():
    index = b"<!doctype html><title>from disk</title><p>from disk\n"
    files = {"index.html": index, "sub/a.txt": b"a file\n", "sub/b.js": b"export {};\n",
             "sub/f.woff2": b"wOF2", "sub/i.webp": b"RIFF", "m.webmanifest": b"{}",
             "s.css": b"p {}\n"}
    with web_root_server(files) as srv:
        for path in ("/", "/index.html"):
            r = srv.get(path, headers=GZIP)
            assert r.status == 200, r
            assert r.raw == index, r
            assert r.header("Content-Encoding") is None, r.headers
            assert (r.header("Content-Type") or "").startswith("text/html"), r.headers
            assert r.header_all("Content-Security-Policy") == [CSP], r.headers
            check_security_headers(r)
        r = srv.get("/sub/a.txt", headers=GZIP)
        assert r.status == 200 and r.raw == b"a file\n", r
        r = srv.get("/sub/b.js")  # no gzip needed from disk
        assert r.status == 200 and r.raw == b"export {};\n", r
        assert r.header("Content-Type") == "text/javascript; charset=utf-8", r.headers
        for path in ("sub/f.woff2", "sub/i.webp", "m.webmanifest", "s.css", "index.html"):
            r = srv.get("/" + path)
            assert r.status == 200 and r.raw == files[path], (path, r)
            assert r.header("Content-Type") == expected_type(path), (path, r.headers)
        assert srv.get("/nope.html").status == 404
        expect(srv.get("/api/v1/server"), 200)  # the API is still there


def test_web_root_lists_no_directory():
    files = {"index.html": b"<!doctype html>\n", "sub/secret-name.txt": b"x\n",
             "empty/.keep": b""}
    with web_root_server(files) as srv:
        for path in ("/sub/", "/sub", "/empty/"):
            r = srv.get(path)
            assert r.status in (301, 302, 403, 404), (path, r)
            assert b"secret-name" not in r.raw and b".keep" not in r.raw, (path, r)
            if r.status in (301, 302):
                r = srv.get(r.header("Location"))
                assert r.status in (403, 404), (path, r)
                assert b"secret-name" not in r.raw, (path, r)


def test_web_root_runs_no_cgi_or_server_side_includes():
    cgi = b"#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho CGI-RAN\n"
    ssi = b'<!--#exec "echo SSI-RAN" -->\n'
    files = {"index.html": b"<!doctype html>\n", "t.cgi": cgi, "t.shtml": ssi}
    with web_root_server(files) as srv:
        for path in ("/t.cgi", "/t.shtml"):  # not among the served types: never run either
            r = srv.get(path)
            assert r.status == 404, (path, r)
            assert b"RAN" not in r.raw, (path, r)


def test_web_root_serves_no_dotfile_nothing_outside_and_no_directory():
    """Our own file handler: dotfiles and hidden segments, '..', symlinks out of the root
    and directories are 404; a symlink that stays inside the root is served."""
    outside = tempfile.mkdtemp(prefix="lanchat-outside-")
    with open(os.path.join(outside, "secret.txt"), "wb") as f:
        f.write(b"OUTSIDE-SECRET\n")
    files = {"index.html": b"<!doctype html>\n", ".env": b"DOT-SECRET\n",
             ".git/config.txt": b"DOT-SECRET\n", "sub/.hidden.txt": b"DOT-SECRET\n",
             "sub/ok.txt": b"inside\n", "dir/inner/x.txt": b"x\n"}
    try:
        with web_root_server(files) as srv:
            root = os.path.dirname(srv.argv()[srv.argv().index("--web-root") + 1] + "/")
            os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "out.txt"))
            os.symlink(outside, os.path.join(root, "outdir"))
            os.symlink(os.path.join(root, "sub", "ok.txt"), os.path.join(root, "in.txt"))
            for path in ("/.env", "/.git/config.txt", "/sub/.hidden.txt", "/out.txt",
                         "/outdir/secret.txt", "/sub/../out.txt", "/%2e%2e/etc/passwd",
                         "/sub/%2e%2e/%2e%2e/etc/passwd", "/dir", "/dir/", "/dir/inner",
                         "/dir/inner/"):
                r = srv.get(path)
                assert r.status == 404, (path, r)
                assert b"SECRET" not in r.raw and b"x.txt" not in r.raw, (path, r)
                assert r.header("Location") is None, (path, r.headers)
            r = srv.get("/in.txt")
            assert r.status == 200 and r.raw == b"inside\n", r
            r = srv.request("HEAD", "/sub/ok.txt")
            assert r.status == 200 and r.raw == b"" and r.header("Content-Length") == "7", r
            check_security_headers(r)
            r = srv.post("/sub/ok.txt", {"x": 1})
            assert r.status == 405, r
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_web_root_streams_a_large_file_whole():
    big = bytes(range(256)) * 4096 + b"end"  # 1 MiB and 3 bytes: many chunks
    with web_root_server({"index.html": b"<!doctype html>\n", "big.txt": big}) as srv:
        r = srv.get("/big.txt")
        assert r.status == 200 and r.raw == big, (r.status, len(r.raw))
        assert r.header("Content-Length") == str(len(big)), r.headers


def test_civetweb_directory_redirect_of_cve_2025_55763_is_never_reached():
    """CVE-2025-55763: civetweb 1.15's redirect of a directory without its trailing slash
    overflows the heap for a crafted URI (published trigger: a long run of slashes). Our
    handler serves every path and civetweb has no document_root: a 404, no redirect."""
    files = {"index.html": b"<!doctype html>\n", "sub/a.txt": b"a\n"}
    with web_root_server(files) as srv:
        for path in ("/sub", "/sub?" + "q" * 2000, "/" * 3000 + "sub",
                     "/" * 3000 + "sub?" + "/" * 1000):
            r = srv.get(path)
            assert r.status in (400, 404, 414, 431), (path[:40], r)
            assert r.header("Location") is None, (path[:40], r.headers)
        expect(srv.get("/healthz"), 200)
        assert srv.running()


def test_web_root_sends_trust_on_to_trust_html():
    srv = shared("--web-root", WEB)
    r = srv.get("/trust")
    assert r.status == 302 and r.header("Location") == "/trust.html", (r, r.headers)
    r = srv.get("/trust.html")
    assert r.status == 200 and r.raw == read("trust.html"), r


def test_web_root_serves_every_web_file_with_the_types_of_the_embedded_client():
    srv = shared("--web-root", WEB)
    for path in web_files():
        r = srv.get("/" + path, headers=GZIP)
        assert r.status == 200, (path, r)
        assert r.header("Content-Encoding") is None, (path, r.headers)
        assert r.raw == read(path), path
        media = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        assert media == expected_type(path).split(";")[0], (path, r.headers)
        check_security_headers(r)


# ---------------------------------------------------------------- /sw-files.js
SW_FILES = re.compile(r'self\.LANCHAT_FILES = (\[[^\]]*\]);\nself\.LANCHAT_VERSION = "([0-9a-f]{16})";\n$')


def sw_files(srv):
    """GET /sw-files.js: (sorted list of paths, version)."""
    r = srv.get("/sw-files.js")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/javascript; charset=utf-8", r.headers
    assert r.header("Cache-Control") == "no-cache", r.headers
    check_security_headers(r)
    m = SW_FILES.search(r.raw.decode())
    assert m, r.raw
    files = json.loads(m.group(1))
    assert len(set(files)) == len(files), files
    return sorted(files), m.group(2)


def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def sw_version(files):
    """The version web.c gives {path: bytes that stand for its contents}."""
    total = 0
    for path, contents in files.items():
        h = fnv1a(path.encode() + b"\0")
        total += fnv1a(fnv1a(contents).to_bytes(8, "little"), h)
    return "%016x" % (total & 0xFFFFFFFFFFFFFFFF)


@requires("embedded-web")
def test_sw_files_lists_every_compiled_in_file_and_a_version_of_their_etags():
    srv = shared()
    files, version = sw_files(srv)
    assert files == ["/" + p for p in web_files()], (files, "was web/ changed after the build?")
    etags = {p: get_gzip(srv, p)[0].header("ETag").encode() for p in files}
    assert version == sw_version(etags), version


def test_sw_files_from_disk_list_every_served_file_and_change_with_any():
    files = {"index.html": b"<!doctype html>\n", "js/a.js": b"export {};\n", "s.css": b"p {}\n",
             "icons/i.svg": b"<svg/>", ".hidden.js": b"x", "backup.js~": b"x", "notes.exe": b"x",
             "deep/er/x.txt": b"x\n"}
    listed = {"/index.html", "/js/a.js", "/s.css", "/icons/i.svg", "/deep/er/x.txt"}
    web = web_root_server(files)
    with web as srv:
        root = web.root
        got, v1 = sw_files(srv)
        assert got == sorted(listed), got
        assert v1 == sw_version({p: files[p[1:]] for p in listed}), v1
        assert sw_files(srv) == (got, v1)  # the same bytes each time: no spurious update
        with open(os.path.join(root, "js", "a.js"), "wb") as f:
            f.write(b"export const a = 1;\n")
        got2, v2 = sw_files(srv)
        assert got2 == got and v2 != v1, (v1, v2)
        with open(os.path.join(root, "js", "b.js"), "wb") as f:
            f.write(b"export {};\n")
        got3, v3 = sw_files(srv)
        assert got3 == sorted(listed | {"/js/b.js"}) and v3 not in (v1, v2), (got3, v3)


def test_sw_files_of_web_from_disk_are_the_files_of_web():
    files, _ = sw_files(shared("--web-root", WEB))
    assert files == ["/" + p for p in web_files()], files


# ---------------------------------------------------------------- GET /api/v1/server
def _version_and_body_limit():
    out = subprocess.run([binary(), "--version"], stdout=subprocess.PIPE, timeout=10,
                         check=True).stdout.decode()
    version = re.match(r"lanchat (\S+)", out).group(1)
    body = int(re.search(r"\bbody=(\d+)", out).group(1))
    return version, body


def test_server_describes_version_features_and_limits_without_auth():
    srv = shared()
    r = srv.get("/api/v1/server")
    body = expect(r, 200)
    assert r.header("Cache-Control") == "no-store", r.headers
    version, body_bytes = _version_and_body_limit()
    assert body == {
        "name": "lanchat",
        "version": version,
        "features": {"accounts": has("accounts"), "rooms": has("rooms"),
                     "search": has("search"), "moderation": has("moderation"),
                     "direct": has("direct"), "typing": has("typing"), "backups": has("backups")},
        "limits": {"body_bytes": body_bytes, "name_chars": 32,
                   "name_pattern": "^[A-Za-z0-9_.-]{1,32}$", "password_min_bytes": 8,
                   "page_messages": 50, "page_messages_max": 200},
    }, body
    assert srv.get("/api/v1/server/").status == 200


def test_server_limits_are_the_rules_the_server_applies():
    """The page checks input with these figures before it sends: each one
    is the edge where the server starts refusing."""
    srv = shared()
    lim = expect(srv.get("/api/v1/server"), 200)["limits"]
    pattern = re.compile(lim["name_pattern"])
    base = "lim%06d" % (os.getpid() % 1000000)
    longest = (base + "_.-" + "z" * lim["name_chars"])[:lim["name_chars"]]
    for name in [longest, "Z" + base[-4:], base + ".x-y_z"]:
        assert pattern.fullmatch(name), name
        expect(srv.post("/api/v1/session", {"name": name}), 201)
    for name in [longest + "z", "", "has space", "caf\u00e9", "at@home"]:
        assert not pattern.fullmatch(name), name
        expect_error(srv.post("/api/v1/session", {"name": name}), 400, "bad_request")
    if has("accounts"):
        short = "p" * (lim["password_min_bytes"] - 1)
        expect_error(srv.post("/api/v1/users", {"name": base + "a", "password": short}), 400,
                     "bad_request")
        expect(srv.post("/api/v1/users", {"name": base + "b", "password": short + "p"}), 201)


def test_server_is_get_only():
    expect_error(shared().post("/api/v1/server", {}), 405, "method_not_allowed")
