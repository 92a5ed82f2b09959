"""End-to-end: findings of the security review (issue 9).

- a request is authorised again when its body is in (and inside its
  transaction): a caller offboarded, or whose token was revoked, while the
  body was arriving gets 401 and changes nothing;
- a request body must arrive within the body deadline, however slowly it
  trickles in;
- the server refuses to start on a damaged audit log or a wrong master key;
- every line of the server's log is JSON, whatever bytes the paths hold.
"""
import http.client
import json
import os
import select
import socket
import sqlite3
import time
import unittest

from harness import Server, free_port, make_person, run_bin, token_for
from harness import sqlite_store

# src/limits.h KW_BODY_DEADLINE_S
BODY_DEADLINE_S = 10


class HeldRequest:
    """A request whose headers and all of its body but the last byte are
    sent; finish() sends the rest and reads the answer."""

    def __init__(self, port, method, path, token, body):
        data = json.dumps(body).encode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n"
                % (method, path, token, len(data))).encode()
        self.sock.sendall(head + data[:-1])
        self.rest = data[-1:]
        time.sleep(0.5)     # the server has the headers and authorised

    def finish(self):
        try:
            self.sock.sendall(self.rest)
            resp = http.client.HTTPResponse(self.sock)
            resp.begin()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
        finally:
            self.sock.close()


class AuthorisedWhenHandled(unittest.TestCase):
    """Authorisation is decided when the handler runs, not only when the
    headers arrive."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        s = cls.srv
        make_person(s, "maria@example.com", name="Maria")
        make_person(s, "rick@example.com", manager="maria@example.com")
        make_person(s, "pat@example.com")
        st, _, _ = s.request("POST", "/v1/instances", {
            "name": "global", "url": "https://global.example.com",
            "provisioners": ["pat@example.com"], "issuance": "manual",
            "max_lifetime_days": 365})
        assert st == 201

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def audit_since(self, seq):
        st, obj, _ = self.srv.request("GET", "/v1/audit?after_seq=%d&limit=500"
                                      % seq)
        self.assertEqual(st, 200, obj)
        return obj["items"]

    def audit_head_seq(self):
        items, after = [], 0
        while True:
            page = self.audit_since(after)
            if not page:
                return after
            after = page[-1]["seq"]

    def test_offboarded_admin_cannot_reactivate_themselves(self):
        s = self.srv
        who = make_person(s, "eve.admin@example.com", roles=["admin"])
        tok = token_for(s, who["email"])
        held = HeldRequest(s.port, "PATCH", "/v1/people/" + who["id"], tok,
                           {"active": True, "name": "Eve is back"})
        st, obj, _ = s.request("POST", "/v1/people/%s/offboard" % who["id"],
                               {})
        self.assertEqual(st, 200, obj)
        seq = self.audit_head_seq()
        st, obj = held.finish()
        self.assertEqual(st, 401, obj)
        self.assertEqual(obj["error"]["code"], "unauthenticated")
        st, p, _ = s.request("GET", "/v1/people/" + who["id"])
        self.assertEqual(st, 200)
        self.assertFalse(p["active"])
        self.assertNotEqual(p["name"], "Eve is back")
        self.assertEqual(self.audit_since(seq), [])

    def test_offboarded_admin_cannot_mint_a_token(self):
        s = self.srv
        who = make_person(s, "mallory.admin@example.com", roles=["admin"])
        tok = token_for(s, who["email"])
        target = make_person(s, "victim@example.com")
        held = HeldRequest(s.port, "POST", "/v1/people/%s/tokens"
                           % target["id"], tok, {})
        st, obj, _ = s.request("POST", "/v1/people/%s/offboard" % who["id"],
                               {})
        self.assertEqual(st, 200, obj)
        seq = self.audit_head_seq()
        st, obj = held.finish()
        self.assertEqual(st, 401, obj)
        self.assertNotIn("token", obj)
        st, toks, _ = s.request("GET", "/v1/people/%s/tokens" % target["id"])
        self.assertEqual(st, 200)
        self.assertEqual(toks["items"], [])
        self.assertEqual(self.audit_since(seq), [])

    def test_revoked_token_cannot_finish_its_request(self):
        s = self.srv
        who = make_person(s, "trent@example.com")
        st, minted, _ = s.request("POST", "/v1/people/%s/tokens" % who["id"],
                                  {})
        self.assertEqual(st, 201, minted)
        held = HeldRequest(s.port, "POST", "/v1/people/%s/tokens" % who["id"],
                           minted["token"], {})
        st, obj, _ = s.request("DELETE", "/v1/people/%s/tokens/%s"
                               % (who["id"], minted["id"]))
        self.assertEqual(st, 200, obj)
        seq = self.audit_head_seq()
        st, obj = held.finish()
        self.assertEqual(st, 401, obj)
        st, toks, _ = s.request("GET", "/v1/people/%s/tokens" % who["id"])
        self.assertEqual([t["id"] for t in toks["items"]], [minted["id"]])
        self.assertFalse(toks["items"][0]["active"])
        self.assertEqual(self.audit_since(seq), [])

    def test_manager_offboarded_mid_request_does_not_approve(self):
        s = self.srv
        mtok = token_for(s, "maria@example.com")
        rtok = token_for(s, "rick@example.com")
        st, req, _ = s.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "export", "use_case": "reads tickets",
            "scopes": ["tickets:read"], "lifetime_days": 30}, token=rtok)
        self.assertEqual(st, 201, req)
        held = HeldRequest(s.port, "POST", "/v1/requests/%s/approve"
                           % req["id"], mtok, {"comment": "fine by me"})
        st, obj, _ = s.request("POST", "/v1/people/maria@example.com/offboard",
                               {})
        self.assertEqual(st, 200, obj)
        seq = self.audit_head_seq()
        st, obj = held.finish()
        self.assertEqual(st, 401, obj)
        st, r, _ = s.request("GET", "/v1/requests/" + req["id"], token=rtok)
        self.assertEqual(st, 200, r)
        self.assertEqual(r["state"], "pending_manager")
        self.assertNotIn("approved", [h["action"] for h in r["history"]])
        self.assertEqual(self.audit_since(seq), [])

    def test_demoted_admin_is_refused_when_the_body_is_in(self):
        s = self.srv
        who = make_person(s, "dave.admin@example.com", roles=["admin"])
        tok = token_for(s, who["email"])
        held = HeldRequest(s.port, "POST", "/v1/people", tok,
                           {"email": "ghost@example.com", "name": "Ghost"})
        st, obj, _ = s.request("PATCH", "/v1/people/" + who["id"],
                               {"roles": []})
        self.assertEqual(st, 200, obj)
        st, obj = held.finish()
        self.assertEqual(st, 403, obj)
        st, _, _ = s.request("GET", "/v1/people/ghost@example.com")
        self.assertEqual(st, 404)


class BodyDeadline(unittest.TestCase):
    """A body trickling in a byte at a time is cut off at the deadline,
    not kept alive by each byte resetting the idle timeout."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=["--connection-timeout", "2"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_slow_drip_body_is_cut_off(self):
        s = self.srv
        body = json.dumps({"email": "drip@example.com", "name": "D" * 200})
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        head = ("POST /v1/people HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (s.admin_token, len(body)))
        t0 = time.monotonic()
        closed_at = None
        try:
            sock.sendall(head.encode())
            for ch in body.encode():
                try:
                    sock.sendall(bytes([ch]))
                except OSError:
                    closed_at = time.monotonic() - t0
                    break
                r, _, _ = select.select([sock], [], [], 1.5)
                if r:
                    try:
                        data = sock.recv(4096)
                    except OSError:
                        data = b""
                    closed_at = time.monotonic() - t0
                    self.assertFalse(data.startswith(b"HTTP/1.1 2"), data)
                    break
                if time.monotonic() - t0 > BODY_DEADLINE_S + 6:
                    break
        finally:
            sock.close()
        self.assertIsNotNone(closed_at, "still connected %.0f s after the "
                             "headers" % (time.monotonic() - t0))
        self.assertLess(closed_at, BODY_DEADLINE_S + 3)
        self.assertGreater(closed_at, BODY_DEADLINE_S - 1)
        st, _, _ = s.request("GET", "/v1/people/drip@example.com")
        self.assertEqual(st, 404)
        self.assertIn("did not arrive within", s.log())

    def test_quiet_client_is_cut_off_at_the_deadline(self):
        """Headers, then nothing: with a long idle timeout the body deadline
        still closes the connection."""
        with Server(extra_args=["--connection-timeout", "60"]) as s:
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
            t0 = time.monotonic()
            try:
                sock.sendall(("POST /v1/people HTTP/1.1\r\nHost: x\r\n"
                              "Authorization: Bearer %s\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 40\r\n\r\n{"
                              % s.admin_token).encode())
                try:
                    sock.recv(4096)
                except OSError:
                    pass
                closed_at = time.monotonic() - t0
            finally:
                sock.close()
            self.assertLess(closed_at, BODY_DEADLINE_S + 3)

    def test_slow_but_timely_body_and_keep_alive_still_work(self):
        s = self.srv
        body = json.dumps({"email": "slowpoke@example.com",
                           "name": "Slow"}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        try:
            conn.putrequest("POST", "/v1/people")
            conn.putheader("Authorization", "Bearer " + s.admin_token)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            third = len(body) // 3
            # 2.4 s in all, each pause within the idle timeout (2 s)
            conn.send(body[:third])
            time.sleep(1.2)
            conn.send(body[third:2 * third])
            time.sleep(1.2)
            conn.send(body[2 * third:])
            resp = conn.getresponse()
            self.assertEqual(resp.status, 201, resp.read())
            resp.read()
            time.sleep(1.0)     # within the idle timeout (2 s)
            conn.request("GET", "/v1/me",
                         headers={"Authorization": "Bearer " + s.admin_token})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        finally:
            conn.close()



def serve_once(data_dir, timeout=30):
    """Run `keywarden serve` on data_dir; it is expected to refuse and
    exit.  Returns (CompletedProcess, port it was given)."""
    port = free_port()
    r = run_bin("serve", "--data-dir", data_dir, "--listen",
                "127.0.0.1:%d" % port, timeout=timeout)
    return r, port


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@sqlite_store
class StartupChecks(unittest.TestCase):
    """serve refuses a damaged audit log and a wrong master key, with a
    message that names the file, and accepts nothing."""

    def setUp(self):
        self.srv = Server().start()
        self.addCleanup(self.srv.close)
        make_person(self.srv, "someone@example.com")
        self.srv.stop()
        self.db = os.path.join(self.srv.data_dir, "keywarden.db")
        self.key = os.path.join(self.srv.data_dir, "master.key")

    def sql(self, statement, *args):
        db = sqlite3.connect(self.db)
        try:
            rows = db.execute(statement, args).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    def expect_refusal(self, *words, table="audit_events"):
        before = self.sql("SELECT count(*) FROM " + table)
        r, port = serve_once(self.srv.data_dir)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertFalse(listening(port))
        self.assertEqual(self.sql("SELECT count(*) FROM " + table), before)
        return r.stderr

    def test_changed_details_of_the_last_event_refused(self):
        self.sql("UPDATE audit_events SET details = '{\"id\":\"forged\"}'"
                 " WHERE seq = (SELECT max(seq) FROM audit_events)")
        err = self.expect_refusal("audit log", "keywarden.db",
                                  "audit verify")
        self.assertIn("hash does not match", err)

    def test_changed_hash_of_the_last_event_refused(self):
        self.sql("UPDATE audit_events SET hash = '%s'"
                 " WHERE seq = (SELECT max(seq) FROM audit_events)" % ("0" * 64))
        self.expect_refusal("audit log", "keywarden.db")

    def test_deleted_next_to_last_event_refused(self):
        self.sql("DELETE FROM audit_events WHERE seq = "
                 "(SELECT max(seq) - 1 FROM audit_events)")
        self.expect_refusal("audit log", "keywarden.db")

    def test_missing_audit_table_refused(self):
        self.sql("ALTER TABLE audit_events RENAME TO old_events")
        self.expect_refusal("keywarden.db", "schema", table="old_events")

    def test_damaged_page_refused(self):
        self.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        (root,), = self.sql("SELECT rootpage FROM sqlite_master WHERE name ="
                            " 'tokens_person'")
        (size,), = self.sql("PRAGMA page_size")
        with open(self.db, "r+b") as f:
            f.seek((root - 1) * size)
            f.write(b"\xff" * size)
        err = self.expect_refusal("keywarden.db", "store is damaged",
                                  "integrity check", table="people")
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_unreadable_audit_log_says_so_at_run_time(self):
        self.srv.start()
        self.sql("ALTER TABLE audit_events RENAME TO hidden_events")
        try:
            for path in ("/v1/audit", "/v1/audit/verify"):
                st, obj, _ = self.srv.request("GET", path)
                self.assertEqual(st, 503, obj)
                self.assertIn("audit log cannot be read",
                              obj["error"]["message"])
            # and no change is accepted without its audit event
            st, obj, _ = self.srv.request("POST", "/v1/people", {
                "email": "late@example.com", "name": "Late"})
            self.assertEqual(st, 503, obj)
        finally:
            self.sql("ALTER TABLE hidden_events RENAME TO audit_events")
        st, _, _ = self.srv.request("GET", "/v1/people/late@example.com")
        self.assertEqual(st, 404)

    def test_intact_store_starts(self):
        self.srv.start()
        st, _, _ = self.srv.request("GET", "/v1/me")
        self.assertEqual(st, 200)

    def swap_key(self):
        with open(self.key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(self.key, 0o600)

    def test_wrong_master_key_refused(self):
        self.swap_key()
        err = self.expect_refusal(self.key, "not the master key")
        self.assertNotIn("audit log", err)
        r = run_bin("issue-token", "--data-dir", self.srv.data_dir,
                    "--email", "someone@example.com")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not the master key", r.stderr)
        self.assertNotIn("kw_", r.stdout)

    def test_store_without_key_check_gets_one_at_first_start(self):
        """A store made before key checks: the first start proves the key
        on what is sealed (nothing here) and keeps a check; from then on
        a wrong key is refused."""
        self.sql("DELETE FROM settings WHERE key = 'master_key_check'")
        self.srv.start()
        self.srv.stop()
        self.assertIn("master key check created", self.srv.log())
        self.assertEqual(len(self.sql("SELECT 1 FROM settings WHERE key ="
                                      " 'master_key_check'")), 1)
        self.assertEqual(self.sql("SELECT action FROM audit_events ORDER BY"
                                  " seq DESC LIMIT 1"), [("store.key_check",)])
        self.swap_key()
        self.expect_refusal(self.key, "not the master key")

    def test_store_without_key_check_and_a_sealed_bot_token(self):
        """No check yet, but an instance's bot token is sealed: a wrong
        key does not open it, so the start is refused (and no check is
        made under the wrong key)."""
        self.srv.start()
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "global", "url": "http://127.0.0.1:9",
            "provisioners": ["someone@example.com"], "issuance": "manual",
            "bot": {"email": "bot@example.com", "oauth_token": "zd-secret"}})
        self.assertEqual(st, 201, obj)
        self.srv.stop()
        self.sql("DELETE FROM settings WHERE key = 'master_key_check'")
        self.swap_key()
        self.expect_refusal(self.key, "bot token of instance 'global'")
        self.assertEqual(self.sql("SELECT 1 FROM settings WHERE key ="
                                  " 'master_key_check'"), [])


def strict_json(line):
    """json.loads, then refuse what Python lets through: lone surrogates
    (from \\uD800 escapes) are not Unicode text."""
    obj = json.loads(line)
    json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return obj


class LogLinesAreJson(unittest.TestCase):
    """Paths are logged (and audited, for refusals) whatever bytes they
    hold: every log line is JSON of valid Unicode."""

    PATHS = [b"/v1/people/\xff\xfe", b"/v1/people/%ED%A0%80",
             b"/v1/people/%ED%B0%80x", b"/%C0%AF", b"/%F8%88%80%80%80",
             b"/v1/people/caf%C3", b"/v1/people/%E2%82", b"/%80abc",
             b"/v1/people/ok%F0%9F%98%80", b"/v1/people/%ED%A0%80/offboard"]

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server().start()
        person = make_person(s, "plain@example.com")
        tok = token_for(s, person["email"])
        for path in cls.PATHS:
            for token in (None, tok):
                sock = socket.create_connection(("127.0.0.1", s.port),
                                                timeout=10)
                try:
                    req = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                    if token:
                        req += b"Authorization: Bearer " + token.encode() + \
                            b"\r\n"
                    sock.sendall(req + b"Content-Length: 0\r\n\r\n")
                    resp = http.client.HTTPResponse(sock)
                    resp.begin()
                    resp.read()
                finally:
                    sock.close()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_every_log_line_parses_whatever_the_path(self):
        with open(self.srv.log_path, "rb") as f:
            raw = f.read()
        lines = raw.decode("utf-8").splitlines()   # strict: must decode
        paths = []
        for line in lines:
            obj = strict_json(line)
            if obj.get("event") == "access":
                paths.append(obj["path"])
        self.assertGreaterEqual(len(paths), 2 * len(self.PATHS))
        self.assertIn("/v1/people/\ufffd\ufffd\ufffd", paths)
        self.assertIn("/v1/people/ok\U0001f600", paths)

    def test_refusals_with_such_paths_are_listed_and_verify(self):
        # the plain person's refusals (admin routes) are audited with the
        # path as subject
        st, v, _ = self.srv.request("GET", "/v1/audit/verify")
        self.assertEqual(st, 200)
        self.assertTrue(v["ok"], v)
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200)
        self.assertEqual(len(page["items"]), v["events"])
        denied = [e["subject"] for e in page["items"]
                  if e["action"] == "authz.denied"]
        self.assertIn("/v1/people/???/offboard", denied)


if __name__ == "__main__":
    unittest.main()
