"""A full disk, for real: the database on a small tmpfs that the test mounts.
Reads, /healthz and WebSockets go on, writes are refused with 503 unavailable
and lose nothing, and once space is freed the server takes writes again by
itself."""

import os
import sqlite3
import subprocess
import tempfile
import time

from harness import Server, expect, expect_error, join, uname, wait_frame

MOUNT_BYTES = 2 * 1024 * 1024


class tmpfs:
    """A tmpfs of MOUNT_BYTES on a fresh directory. The test needs root (it
    has it in CI): a mount that fails is a failure, never a skip."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lanchat-full-")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % MOUNT_BYTES,
                               "lanchat-test", self.path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30)
        if done.returncode != 0:
            os.rmdir(self.path)
            raise AssertionError("cannot mount a tmpfs (the disk-full test needs root): %s"
                                 % done.stdout.decode(errors="replace"))
        return self.path

    def __exit__(self, *exc):
        # Lazily: a server left running by a failed check must not hide the failure.
        subprocess.run(["umount", "-l", self.path], timeout=30)
        os.rmdir(self.path)


def health(srv):
    r = srv.get("/healthz")
    return r.status, expect(r, r.status)


def test_full_disk_refuses_writes_keeps_reads_and_recovers_when_space_is_freed():
    with tmpfs() as mount:
        db = os.path.join(mount, "chat.db")
        with Server(["--db", db], label="tmpfs") as srv:
            name = uname("full")
            token = srv.session(name)
            ws = srv.ws(token)
            join(ws, "general")
            assert health(srv) == (200, {"status": "ok"})
            # Ballast takes most of what is left, so the messages fill the rest quickly.
            ballast = os.path.join(mount, "ballast")
            st = os.statvfs(mount)
            with open(ballast, "wb") as f:
                f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 256 * 1024))
            acked, refused = [], None
            body = "x" * 2000
            for i in range(1000):
                r = srv.post("/api/v1/rooms/general/messages", {"body": body, "cid": "f%d" % i},
                             token=token)
                if r.status != 201:
                    refused = (i, r)
                    break
                acked.append(r.json())
            assert refused is not None, "1000 messages of 2000 bytes fit in 256 KiB?"
            err = expect_error(refused[1], 503, "unavailable")
            assert refused[1].header("Retry-After") == "1", refused[1]
            assert "storage is full" in err["message"], err

            # Full: /healthz says so, reads and WebSockets go on, writes are refused.
            # The probe's own write is one small page: what the refused message left may
            # still take a probe or two; then the disk is full for it too.
            probes = [health(srv) for _ in range(8)]
            full = (503, {"status": "unavailable", "storage": "full"})
            assert full in probes, probes
            assert all(p in ((200, {"status": "ok"}), full) for p in probes), probes
            assert health(srv) == full
            stored = srv.all_history(token, "general")
            assert stored == acked, "history differs from what was acked (%d vs %d)" % (
                len(stored), len(acked))
            ws.send_json({"type": "send", "room": "general", "body": "ws while full",
                          "cid": "wsfull"})
            f = wait_frame(ws, 10, type="error", cid="wsfull")
            assert f.get("code") == "unavailable" and "storage is full" in f["message"], f
            ws2 = srv.ws(token)  # a new WebSocket needs no write
            replay = join(ws2, "general", since=acked[-1]["id"] - 1)
            assert [m["id"] for m in replay] == [acked[-1]["id"]], replay
            assert srv.get("/api/v1/rooms/general/messages?limit=1", token=token).status == 200

            # Space freed: the server writes again by itself, nothing refused was stored.
            os.unlink(ballast)
            deadline = time.monotonic() + 20
            while health(srv)[0] != 200:
                assert time.monotonic() < deadline, "still unavailable 20 s after space was freed"
                time.sleep(0.1)  # polling the probe: bounded by the deadline
            assert health(srv) == (200, {"status": "ok"})
            i = refused[0]
            again = srv.send(token, "general", body, cid="f%d" % i)
            assert again["id"] > acked[-1]["id"], again
            ws.send_json({"type": "send", "room": "general", "body": "ws after", "cid": "wsafter"})
            wait_frame(ws, 10, type="ack", cid="wsafter")
            stored = srv.all_history(token, "general")
            assert [m["cid"] for m in stored] == [m["cid"] for m in acked] + ["f%d" % i,
                                                                              "wsafter"]
            assert srv.stop() == 0
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert con.execute("SELECT count(*) FROM messages").fetchone() == (len(acked) + 2,)
        finally:
            con.close()
