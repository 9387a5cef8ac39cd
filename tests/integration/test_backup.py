"""`lanchat backup FILE` and `lanchat restore FILE`: a consistent copy taken while
the server writes, restored into a fresh state directory, and their refusals."""

import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading

from harness import Server, binary, expect, loopback_source, requires, server_env, uname


def lanchat(*args):
    """Runs the binary with a command; returns (exit status, its output)."""
    p = subprocess.run([binary()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       env=server_env())
    return p.returncode, p.stdout.decode(errors="replace")


def integrity(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchall()


@requires("backups")
def test_backup_under_load_restores_every_message_acknowledged_before_it():
    with Server(label="backup-load") as srv:
        token = srv.session(uname("bk"))
        before = [srv.send(token, "general", "before %d" % i, cid="b%d" % i) for i in range(40)]
        stop = threading.Event()
        during = []
        errors = []

        def poster(k):
            # a bounded load: at most 150 posts per thread, or until the backup ended
            for i in range(150):
                if stop.is_set():
                    return
                r = srv.post("/api/v1/rooms/general/messages",
                             {"body": "during %d %d" % (k, i), "cid": "d%d-%d" % (k, i)},
                             token=token, source=loopback_source(k))
                if r.status != 201:
                    errors.append(r)
                    return
                during.append(r.json())

        threads = [threading.Thread(target=poster, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        out = os.path.join(srv.tmpdir, "backup.db")
        try:
            rc, log = lanchat("backup", out, "--db", srv.db)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert rc == 0, log
        assert not errors, errors
        assert during, "no post ran during the backup"
        assert not os.path.exists(out + ".tmp"), os.listdir(srv.tmpdir)
        assert integrity(out) == [("ok",)]
        # password and token hashes: for the user who took the backup alone
        assert stat.S_IMODE(os.stat(out).st_mode) & 0o077 == 0, oct(os.stat(out).st_mode)
        # a single self-contained file: no WAL to carry along
        with sqlite3.connect(out) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)

        fresh = tempfile.mkdtemp(prefix="lanchat-it-restore-")
        state = os.path.join(fresh, "state", "chat.db")
        try:
            rc, log = lanchat("restore", out, "--db", state)
            assert rc == 0, log
            check_restored(state, before, during)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)


def check_restored(state, before, during):
    """A server started on the restored database has every message acknowledged
    before the backup began."""
    with Server(label="restored", extra_args=["--db", state]) as restored:
        reader = restored.session(uname("rd"))
        ids = {m["id"]: m for m in restored.all_history(reader, "general")}
        for m in before:
            assert ids.get(m["id"]) == m, (m, ids.get(m["id"]))
        # posts that ran alongside: the snapshot holds a prefix of the
        # commits (ids are given in commit order), each message whole
        newest = max(ids)
        for m in during:
            if m["id"] <= newest:
                assert ids.get(m["id"]) == m, (m, ids.get(m["id"]))


@requires("backups")
def test_backup_refuses_an_existing_file_without_force():
    with Server(label="backup-force") as srv:
        token = srv.session(uname("bf"))
        srv.send(token, "general", "one")
        out = os.path.join(srv.tmpdir, "b.db")
        with open(out, "w") as f:
            f.write("keep me")
        rc, log = lanchat("backup", out, "--db", srv.db)
        assert rc == 1 and "--force" in log, (rc, log)
        with open(out) as f:
            assert f.read() == "keep me"
        rc, log = lanchat("backup", out, "--db", srv.db, "--force")
        assert rc == 0, log
        assert integrity(out) == [("ok",)]


@requires("backups")
def test_backup_usage_errors_exit_2():
    rc, log = lanchat("backup")
    assert rc == 2 and "usage: lanchat backup FILE" in log, (rc, log)
    rc, log = lanchat("restore", "--bogus-option")
    assert rc == 2, (rc, log)


@requires("backups")
def test_a_failed_backup_leaves_no_file():
    d = tempfile.mkdtemp(prefix="lanchat-it-backup-")
    try:
        failed_backup_in(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def failed_backup_in(d):
    junk = os.path.join(d, "junk.db")
    with open(junk, "w") as f:
        f.write("this is not a database, but long enough to look like a header " * 20)
    out = os.path.join(d, "out.db")
    rc, log = lanchat("backup", out, "--db", junk)
    assert rc == 1 and "not written" in log, (rc, log)
    rc, log = lanchat("backup", out, "--db", os.path.join(d, "missing.db"))
    assert rc == 1, (rc, log)
    assert sorted(os.listdir(d)) == ["junk.db"], os.listdir(d)


@requires("backups")
def test_restore_refuses_a_missing_file():
    d = tempfile.mkdtemp(prefix="lanchat-it-restore-")
    try:
        rc, log = lanchat("restore", os.path.join(d, "nothing.db"), "--db",
                          os.path.join(d, "c.db"))
        assert rc == 1 and "nothing.db" in log, (rc, log)
        assert os.listdir(d) == []
    finally:
        shutil.rmtree(d, ignore_errors=True)


@requires("backups")
def test_restore_refuses_while_the_server_runs():
    with Server(label="restore-busy") as srv:
        token = srv.session(uname("rb"))
        kept = srv.send(token, "general", "still here")
        out = os.path.join(srv.tmpdir, "b.db")
        rc, log = lanchat("backup", out, "--db", srv.db)
        assert rc == 0, log
        rc, log = lanchat("restore", out, "--db", srv.db)
        assert rc == 1 and "stop the server" in log, (rc, log)
        assert not os.path.exists(srv.db + ".before-restore")
        # the server did not notice
        page = srv.history(token, "general")
        assert page["messages"][-1] == kept, page
        expect(srv.get("/healthz"), 200)


@requires("backups")
def test_restore_refuses_a_file_that_is_not_a_lanchat_database():
    with Server(label="restore-junk") as srv:
        token = srv.session(uname("rj"))
        kept = srv.send(token, "general", "the old one")
        srv.stop()
        junk = os.path.join(srv.tmpdir, "junk.db")
        with open(junk, "w") as f:
            f.write("SQLite format 3? no. " * 100)
        other = os.path.join(srv.tmpdir, "other.db")
        with sqlite3.connect(other) as db:  # a database, but not lanchat's
            db.execute("CREATE TABLE t (x)")
        for bad in (junk, other):
            rc, log = lanchat("restore", bad, "--db", srv.db)
            assert rc == 1 and "unchanged" in log, (bad, rc, log)
        assert not os.path.exists(srv.db + ".restore-tmp")
        assert not os.path.exists(srv.db + ".before-restore")
        srv.start()
        assert srv.history(srv.session(uname("rj2")), "general")["messages"][-1] == kept


@requires("backups")
def test_restore_keeps_the_old_database_and_drops_its_wal():
    with Server(label="restore-old") as srv:
        token = srv.session(uname("ro"))
        first = srv.send(token, "general", "in the backup")
        out = os.path.join(srv.tmpdir, "b.db")
        rc, log = lanchat("backup", out, "--db", srv.db)
        assert rc == 0, log
        later = srv.send(token, "general", "after the backup")
        srv.kill9()  # the newest commit may be in the WAL only
        rc, log = lanchat("restore", out, "--db", srv.db)
        assert rc == 0 and ".before-restore" in log, (rc, log)
        for suffix in ("-wal", "-shm"):
            assert not os.path.exists(srv.db + suffix), suffix
        old = sqlite3.connect(srv.db + ".before-restore")
        assert old.execute("SELECT body FROM messages WHERE id = ?",
                           (later["id"],)).fetchone() == ("after the backup",)
        old.close()
        srv.start()
        reader = srv.session(uname("ro2"))
        ids = [m["id"] for m in srv.all_history(reader, "general")]
        assert first["id"] in ids and later["id"] not in ids, ids
        # a second restore keeps the first one's old database unless told
        srv.stop()
        rc, log = lanchat("restore", out, "--db", srv.db)
        assert rc == 1 and "before-restore" in log, (rc, log)
        rc, log = lanchat("restore", out, "--db", srv.db, "--force")
        assert rc == 0, log


@requires("backups")
def test_restore_refuses_a_newer_schema_and_a_live_database():
    with Server(label="restore-schema") as srv:
        token = srv.session(uname("rs"))
        kept = srv.send(token, "general", "stays")
        out = os.path.join(srv.tmpdir, "b.db")
        rc, log = lanchat("backup", out, "--db", srv.db)
        assert rc == 0, log
        srv.stop()
        with sqlite3.connect(out) as db:
            db.execute("PRAGMA user_version = 9999")
        rc, log = lanchat("restore", out, "--db", srv.db)
        assert rc == 1 and "schema 9999" in log and "unchanged" in log, (rc, log)
        # a database in use (its -wal beside it) is no backup
        srv.start()
        rc, log = lanchat("restore", srv.db, "--db", os.path.join(srv.tmpdir, "x", "c.db"))
        assert rc == 1 and "-wal" in log, (rc, log)
        assert srv.history(token, "general")["messages"][-1] == kept


@requires("backups")
def test_backup_and_restore_take_the_database_from_config():
    with Server(label="backup-config") as srv:
        token = srv.session(uname("bc"))
        kept = srv.send(token, "general", "by config")
        conf = os.path.join(srv.tmpdir, "lanchat.conf")
        with open(conf, "w") as f:
            f.write("port = 80\ndb = %s\n" % srv.db)
        out = os.path.join(srv.tmpdir, "b.db")
        rc, log = lanchat("backup", out, "--config", conf)
        assert rc == 0 and srv.db in log, (rc, log)
        rc, log = lanchat("restore", out, "--config", conf)
        assert rc == 1 and "stop the server" in log, (rc, log)
        srv.stop()
        rc, log = lanchat("restore", out, "--config", conf)
        assert rc == 0, log
        srv.start()
        assert srv.history(token, "general")["messages"][-1] == kept
