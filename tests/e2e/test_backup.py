"""End-to-end: `keywarden backup` (an online copy while requests are being
written, never the master key) and `keywarden restore` (checks before it
replaces anything, keeps the old store aside, refuses beside a server)."""
import fcntl
import glob
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, Server, make_person, run_bin, token_for
from harness import sqlite_store


def head_of(path):
    """(seq, hash) of the last audit event in the database file path."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute("SELECT seq, hash FROM audit_events "
                          "ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()


@sqlite_store
class Backup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kw-backup-")
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def backup(self, data_dir, to):
        r = run_bin("backup", "--data-dir", data_dir, "--to", to)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def new_dir_with_key(self, src_dir, name):
        d = self.path(name)
        os.mkdir(d, 0o700)
        shutil.copy2(os.path.join(src_dir, "master.key"),
                     os.path.join(d, "master.key"))
        return d

    def test_online_backup_under_load_then_restore_verifies(self):
        with Server() as s:
            make_person(s, "m@example.com")
            make_person(s, "r@example.com", manager="m@example.com")
            tok = token_for(s, "r@example.com")
            st, _, _ = s.request("POST", "/v1/instances", {
                "name": "global", "url": "https://g.example.com",
                "issuance": "manual"})
            self.assertEqual(st, 201)
            made, errors, stop = [], [], threading.Event()

            def writer():
                i = 0
                while not stop.is_set():
                    st, r, _ = s.request("POST", "/v1/requests", {
                        "instance": "global", "kind": "api_token",
                        "justification": "load %d" % i, "use_case": "u",
                        "scopes": ["read"], "lifetime_days": 5}, token=tok)
                    i += 1
                    if st == 201:
                        made.append(r["id"])
                    else:
                        errors.append((st, r))
            t = threading.Thread(target=writer)
            t.start()
            try:
                deadline = time.monotonic() + 30
                while len(made) < 20 and time.monotonic() < deadline:
                    time.sleep(0.05)
                before = len(made)
                # the writer keeps filing requests meanwhile
                out = self.backup(s.data_dir, self.path("kw.db"))
                after = len(made)
                deadline = time.monotonic() + 30
                while len(made) < after + 10 and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                stop.set()
                t.join(30)
            self.assertEqual(errors, [])
            self.assertGreaterEqual(len(made), after + 10)
            key = open(os.path.join(s.data_dir, "master.key"), "rb").read()
            admin_token = s.admin_token
            data_dir = s.data_dir
            live_head = head_of(os.path.join(data_dir, "keywarden.db"))

            # the copy: one file, mode 0600, no master key, a consistent
            # snapshot whose head is the one printed
            b = self.path("kw.db")
            self.assertEqual(stat.S_IMODE(os.stat(b).st_mode), 0o600)
            self.assertFalse(os.path.exists(b + "-wal"))
            raw = open(b, "rb").read()
            self.assertEqual(len(key), 32)
            self.assertNotIn(key, raw)
            self.assertNotIn(key.hex().encode(), raw)
            self.assertEqual(head_of(b), (out["seq"], out["hash"]))
            self.assertLess(out["seq"], live_head[0])
            db = sqlite3.connect("file:%s?mode=ro" % b, uri=True)
            n_req = db.execute("SELECT count(*) FROM requests").fetchone()[0]
            n_ev = db.execute("SELECT count(*) FROM audit_events WHERE "
                              "action = 'request.create'").fetchone()[0]
            db.close()
            self.assertEqual(n_req, n_ev)
            self.assertGreaterEqual(n_req, before)
            self.assertLess(n_req, len(made))

            # restored into a new data directory with the same master key
            new = self.new_dir_with_key(data_dir, "restored")
            r = run_bin("restore", "--data-dir", new, "--from", b)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(out["hash"], r.stdout)
            r = run_bin("audit", "verify", "--data-dir", new,
                        "--expect-head", out["hash"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("head %s" % out["hash"], r.stdout)
            self.assertEqual(
                stat.S_IMODE(os.stat(os.path.join(new, "keywarden.db"))
                             .st_mode), 0o600)
        # the restored store serves the backed-up requests to the same token
        with Server(data_dir=new, admin_token=admin_token) as s2:
            st, page, _ = s2.request("GET", "/v1/requests?limit=500")
            self.assertEqual(st, 200)
            self.assertEqual(len(page["items"]), n_req)
            st, v, _ = s2.request("GET", "/v1/audit/verify")
            self.assertTrue(v["ok"], v)

    def test_backup_never_overwrites_and_needs_its_flags(self):
        with Server() as s:
            b = self.path("kw.db")
            self.backup(s.data_dir, b)
            mtime = os.stat(b).st_mtime_ns
            r = run_bin("backup", "--data-dir", s.data_dir, "--to", b)
            self.assertEqual(r.returncode, 1)
            self.assertIn("exists", r.stderr)
            self.assertEqual(os.stat(b).st_mtime_ns, mtime)
            r = run_bin("backup", "--data-dir", s.data_dir)
            self.assertEqual(r.returncode, 2)
            r = run_bin("backup", "--data-dir", self.path("nothing"),
                        "--to", self.path("x.db"))
            self.assertEqual(r.returncode, 1)
            self.assertFalse(os.path.exists(self.path("x.db")))

    def test_restore_refuses_while_a_server_runs(self):
        with Server() as s:
            b = self.path("kw.db")
            self.backup(s.data_dir, b)
            s.request("POST", "/v1/people", {"email": "x@example.com",
                                             "name": "X"})
            before = sorted(os.listdir(s.data_dir))
            live = head_of(os.path.join(s.data_dir, "keywarden.db"))
            r = run_bin("restore", "--data-dir", s.data_dir, "--from", b)
            self.assertEqual(r.returncode, 1)
            self.assertIn("stop it first", r.stderr)
            self.assertEqual(sorted(os.listdir(s.data_dir)), before)
            self.assertEqual(
                head_of(os.path.join(s.data_dir, "keywarden.db")), live)

    def test_serve_refuses_to_start_during_a_restore(self):
        with Server() as s:
            s.stop()
            fd = os.open(s.data_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                r = subprocess.run(
                    [BIN, "serve", "--data-dir", s.data_dir, "--listen",
                     "127.0.0.1:0", "--check"], capture_output=True,
                    text=True, timeout=30)
            finally:
                os.close(fd)
            self.assertEqual(r.returncode, 1)
            self.assertIn("restore is in progress", r.stderr)

    def test_restore_checks_the_file_and_keeps_the_old_store(self):
        d = self.path("data")
        with Server(data_dir=d) as s:
            b = self.path("kw.db")
            out = self.backup(d, b)
            make_person(s, "late@example.com")
        old_head = head_of(os.path.join(d, "keywarden.db"))
        self.assertGreater(old_head[0], out["seq"])

        def refused(src, needle, *extra):
            listing = sorted(os.listdir(d))
            r = run_bin("restore", "--data-dir", d, "--from", src, *extra)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn(needle, r.stderr)
            self.assertEqual(sorted(os.listdir(d)), listing)
            self.assertEqual(head_of(os.path.join(d, "keywarden.db")),
                             old_head)

        # not a database; a database but not keywarden's
        with open(self.path("text"), "w") as f:
            f.write("hello\n" * 100)
        refused(self.path("text"), "not a keywarden store")
        other = sqlite3.connect(self.path("other.db"))
        other.execute("CREATE TABLE t (x)")
        other.commit()
        other.close()
        refused(self.path("other.db"), "not a keywarden store")
        # a chain that does not verify, a head it does not hold
        bad = self.path("tampered.db")
        shutil.copy(b, bad)
        t = sqlite3.connect(bad)
        t.execute("UPDATE audit_events SET actor = 'mallory@example.com' "
                  "WHERE seq = 2")
        t.commit()
        t.close()
        refused(bad, "BROKEN at event 2")
        refused(b, "BROKEN", "--expect-head", "ab" * 32)
        refused(self.path("missing.db"), "cannot copy")
        # no master key in the directory: nothing to restore next to
        empty = self.path("empty")
        os.mkdir(empty, 0o700)
        r = run_bin("restore", "--data-dir", empty, "--from", b)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no master.key", r.stderr)
        self.assertEqual(os.listdir(empty), [])

        # a good one replaces the store; the old one is kept aside, whole
        r = run_bin("restore", "--data-dir", d, "--from", b,
                    "--expect-head", out["hash"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(head_of(os.path.join(d, "keywarden.db")),
                         (out["seq"], out["hash"]))
        # (the server was killed: its WAL, holding the late commits, goes
        # aside with the database)
        aside = [p for p in glob.glob(os.path.join(
            d, "keywarden.db.pre-restore-*")) if not p.endswith(("-wal",
                                                                "-shm"))]
        self.assertEqual(len(aside), 1, os.listdir(d))
        self.assertIn("kept as %s\n" % aside[0], r.stdout)
        self.assertEqual(head_of(aside[0]), old_head)
        self.assertFalse(os.path.exists(os.path.join(d, ".restore-staged")))
        # the backup file itself is left as it was
        self.assertEqual(head_of(b), (out["seq"], out["hash"]))


if __name__ == "__main__":
    unittest.main()
