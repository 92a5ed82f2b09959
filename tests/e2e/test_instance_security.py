"""End-to-end: what keywarden sends to an instance, and what it believes
from one (security review, issue 9).

- changing an instance's url needs the bot credential again, and is
  audited with the old and the new URL;
- reconciliation marks a credential revoked only after the instance
  itself answers 404 for its client, never from a listing alone;
- a links.next that leads off the instance is not followed;
- reconciliation deletes tokens keywarden has no record of on its
  token-mode clients (a token creation that landed after a crash);
- a revocation whose final commit fails says the instance changed, and
  leaves no revealable secret behind; the record is completed later.
"""
import http.server
import os
import socket
import sqlite3
import threading
import time
import unittest

from harness import Server
from harness import sqlite_store
from test_issuance import setup_world
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

RECONCILE = '"event":"reconcile"'


class Base(unittest.TestCase):
    extra = ["--upstream-timeout", "2", "--upstream-attempts", "2",
             "--reconcile-interval", "1"]

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=self.extra).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def issue(self):
        """An approved, issued api_token credential of rick's; its id."""
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "export", "use_case": "reporting",
            "scopes": ["tickets:read"], "lifetime_days": 30})
        self.assertEqual(st, 201, r)
        for who in ("maria@example.com", "pat@example.com"):
            st, r, _ = self.as_(who, "POST",
                                "/v1/requests/%s/approve" % r["id"], {})
            self.assertEqual(st, 200, r)
        self.assertEqual(r["state"], "issued")
        return r["credential_id"]

    def credential(self, cid):
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200, c)
        return c

    def audit(self, action):
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200)
        return [e for e in page["items"] if e["action"] == action]

    def reconciled(self, passes=2, timeout=30):
        """Wait until `passes` more reconciliation passes have run."""
        want = self.srv.log().count(RECONCILE) + passes
        deadline = time.monotonic() + timeout
        while self.srv.log().count(RECONCILE) < want:
            self.assertLess(time.monotonic(), deadline,
                            "no reconciliation pass ran")
            time.sleep(0.1)

    def tokens_of(self, client_id):
        return sorted(t["id"] for t in self.sim.state()["tokens"]
                      if str(t["client_id"]) == str(client_id))


class UrlChange(Base):
    def test_new_url_without_the_bot_is_refused_and_nothing_is_sent(self):
        other = ZendeskSim().start()
        self.addCleanup(other.close)
        st, err, _ = self.srv.request("PATCH", "/v1/instances/global",
                                      {"url": other.url})
        self.assertEqual(st, 400, err)
        self.assertEqual(err["error"]["code"], "validation_failed")
        self.assertEqual(err["error"]["details"]["field"], "bot")
        st, inst, _ = self.srv.request("GET", "/v1/instances/global")
        self.assertEqual(inst["url"], self.sim.url)
        # keywarden keeps working against the URL the credential was
        # given for; the other host never hears from it
        self.issue()
        self.reconciled()
        self.assertEqual(other.stats()["requests"], 0)
        self.assertEqual(self.audit("instance.update"), [])

    def test_new_url_with_the_bot_is_accepted_and_audited(self):
        other = ZendeskSim().start()
        self.addCleanup(other.close)
        st, inst, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "url": other.url,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 200, inst)
        self.assertEqual(inst["url"], other.url)
        [ev] = self.audit("instance.update")
        self.assertEqual(ev["details"]["url"],
                         {"old": self.sim.url, "new": other.url})
        self.assertNotIn(ADMIN_TOKEN, str(ev))
        self.issue()
        self.assertEqual(len(other.state()["clients"]), 1)

    def test_same_url_needs_no_bot(self):
        st, inst, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "url": self.sim.url + "/", "grace_days": 3})
        self.assertEqual(st, 200, inst)
        [ev] = self.audit("instance.update")
        self.assertNotIn("url", ev["details"])

    def test_dropping_the_bot_with_the_url_is_allowed(self):
        other = ZendeskSim().start()
        self.addCleanup(other.close)
        st, inst, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "url": other.url, "bot": None, "issuance": "manual"})
        self.assertEqual(st, 200, inst)
        self.reconciled()
        self.assertEqual(other.stats()["requests"], 0)


class Reconciliation(Base):
    def test_a_client_missing_from_the_listing_is_not_revoked(self):
        cid = self.issue()
        client_id = self.credential(cid)["external"]["client_id"]
        self.sim.hide_client(client_id)
        self.reconciled()
        c = self.credential(cid)
        self.assertEqual(c["state"], "active")
        self.assertEqual(self.audit("reconcile.missing"), [])
        self.assertIn("still has it", self.srv.log())
        # once the instance itself says 404, it is recorded as gone
        st, _, _ = self.sim.api("DELETE",
                                "/api/v2/oauth/clients/%s" % client_id)
        self.assertEqual(st, 204)
        self.reconciled()
        c = self.credential(cid)
        self.assertEqual(c["state"], "revoked")
        self.assertEqual(len(self.audit("reconcile.missing")), 1)

    def test_a_token_keywarden_did_not_record_is_deleted(self):
        cid = self.issue()
        ext = self.credential(cid)["external"]
        st, made, _ = self.sim.api("POST", "/api/v2/oauth/tokens", {
            "token": {"client_id": int(ext["client_id"]),
                      "scopes": ["read"]}})
        self.assertEqual(st, 201, made)
        stray = made["token"]["full_token"]
        self.assertEqual(len(self.tokens_of(ext["client_id"])), 2)
        self.reconciled()
        self.assertEqual(self.tokens_of(ext["client_id"]),
                         [int(ext["token_id"])])
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=stray)
        self.assertEqual(st, 401)
        [ev] = self.audit("reconcile.orphan_token_deleted")
        self.assertEqual(ev["subject"], cid)
        self.assertEqual(ev["details"]["token_id"],
                         str(made["token"]["id"]))
        self.assertEqual(self.credential(cid)["state"], "active")

    def test_an_integrations_own_tokens_are_left_alone(self):
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "integration",
            "justification": "app", "use_case": "sync", "scopes": [],
            "lifetime_days": 30, "integration": {
                "name": "App", "client_kind": "confidential",
                "redirect_uris": ["https://app.example.com/cb"]}})
        self.assertEqual(st, 201, r)
        self.as_("maria@example.com", "POST",
                 "/v1/requests/%s/approve" % r["id"], {})
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"],
                            {"acknowledge_risk": True})
        self.assertEqual(r["state"], "issued", r)
        client_id = self.credential(r["credential_id"])["external"][
            "client_id"]
        st, _, _ = self.sim.api("POST", "/api/v2/oauth/tokens", {
            "token": {"client_id": int(client_id), "scopes": ["read"]}})
        self.assertEqual(st, 201)
        self.reconciled()
        self.assertEqual(len(self.tokens_of(client_id)), 1)


class TokenAfterCrash(unittest.TestCase):
    """keywarden dies after creating the client; the token creation it had
    sent lands only after the restart and the adoption (here: made on the
    simulator directly).  Reconciliation deletes that token."""

    def test_late_token_on_an_adopted_client_is_deleted(self):
        sim = ZendeskSim().start()
        self.addCleanup(sim.close)
        srv = Server(extra_args=["--upstream-timeout", "2",
                                 "--reconcile-interval", "1"],
                     env={"KEYWARDEN_CRASH_AT": "after_client_create"})
        srv.start()
        self.addCleanup(srv.close)
        tok = setup_world(srv, sim)
        st, r, _ = srv.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 3},
            token=tok["rick@example.com"])
        srv.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                    token=tok["maria@example.com"])
        try:
            srv.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                        token=tok["pat@example.com"], timeout=5)
        except Exception:
            pass                        # the server died mid-request
        srv.proc.wait(10)
        self.assertEqual(srv.proc.returncode, 86)
        srv.env.pop("KEYWARDEN_CRASH_AT")
        srv.start()
        deadline = time.monotonic() + 30
        got = None
        while time.monotonic() < deadline:
            st, got, _ = srv.request("GET", "/v1/requests/" + r["id"])
            if got["state"] == "issued":
                break
            time.sleep(0.1)
        self.assertEqual(got["state"], "issued")
        st, c, _ = srv.request("GET", "/v1/credentials/" +
                               got["credential_id"])
        ext = c["external"]
        st, late, _ = sim.api("POST", "/api/v2/oauth/tokens", {
            "token": {"client_id": int(ext["client_id"]),
                      "scopes": ["read"]}})
        self.assertEqual(st, 201)
        want = srv.log().count(RECONCILE) + 2
        deadline = time.monotonic() + 30
        while srv.log().count(RECONCILE) < want and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        left = [t["id"] for t in sim.state()["tokens"]
                if str(t["client_id"]) == ext["client_id"]]
        self.assertEqual(left, [int(ext["token_id"])])
        self.assertNotIn(late["token"]["id"], left)


@sqlite_store
class RevokeUnderDiskFull(Base):
    def fail_final_revoke_audit(self):
        db = sqlite3.connect(os.path.join(self.srv.data_dir,
                                          "keywarden.db"), timeout=10)
        db.executescript("CREATE TRIGGER no_revoke_audit BEFORE INSERT ON "
                         "audit_events WHEN NEW.action = "
                         "'credential.revoke' BEGIN SELECT RAISE(ABORT, "
                         "'disk full'); END;")
        return db

    def test_the_answer_is_truthful_and_no_secret_stays_revealable(self):
        cid = self.issue()
        db = self.fail_final_revoke_audit()
        self.addCleanup(db.close)
        st, err, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 503, err)
        self.assertEqual(err["error"]["code"], "unavailable")
        self.assertIn("deleted on the instance", err["error"]["message"])
        self.assertNotIn("nothing was changed", err["error"]["message"])
        self.assertEqual([c for c in self.sim.state()["clients"]], [])
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410, sec)
        self.assertEqual(len(self.audit("credential.revoke_begin")), 1)
        # the disk comes back: reconciliation completes the record
        db.executescript("DROP TRIGGER no_revoke_audit;")
        deadline = time.monotonic() + 30
        while self.credential(cid)["state"] != "revoked":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        c = self.credential(cid)
        self.assertNotIn("revoking", c["external"])
        self.assertEqual(c["delivery"]["state"], "expired")
        [ev] = self.audit("credential.revoke")
        self.assertEqual(ev["subject"], cid)

    def test_a_retried_revocation_completes_the_record(self):
        self.srv.stop()         # no reconciliation pass in between
        self.srv.extra_args = ["--upstream-timeout", "2",
                               "--reconcile-interval", "3600"]
        self.srv.start()
        cid = self.issue()
        db = self.fail_final_revoke_audit()
        self.addCleanup(db.close)
        st, err, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 503, err)
        st, err, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 503, err)
        self.assertIn("deleted on the instance", err["error"]["message"])
        db.executescript("DROP TRIGGER no_revoke_audit;")
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual((st, c["state"]), (200, "revoked"), c)
        # the intent was committed once, however often it was retried
        self.assertEqual(len(self.audit("credential.revoke_begin")), 1)
        self.assertEqual(len(self.audit("credential.revoke")), 1)

    def test_crash_after_the_instance_call_is_finished_on_restart(self):
        self.srv.stop()
        self.srv.env["KEYWARDEN_CRASH_AT"] = "after_revoke_call"
        self.srv.start()
        cid = self.issue()
        try:
            self.as_("rick@example.com", "POST",
                     "/v1/credentials/%s/revoke" % cid, {})
        except Exception:
            pass                        # the server died mid-request
        self.srv.proc.wait(10)
        self.assertEqual(self.srv.proc.returncode, 86)
        self.srv.env.pop("KEYWARDEN_CRASH_AT")
        self.srv.start()
        deadline = time.monotonic() + 30
        while self.credential(cid)["state"] != "revoked":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual(self.sim.state()["clients"], [])


class OffInstancePagination(unittest.TestCase):
    """An instance whose links.next names another port of the same host
    (a string prefix of the instance URL): the bot token is not sent."""

    @staticmethod
    def listener(handler):
        """A server on 127.0.0.1:P with P*10+1 free too; (server, P)."""
        for port in range(3000, 6500, 37):
            try:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port * 10 + 1))
                httpd = http.server.ThreadingHTTPServer(
                    ("127.0.0.1", port), handler)
                return httpd, port
            except OSError:
                continue
        raise AssertionError("no free pair of loopback ports P, P*10+1")

    def test_links_next_to_another_origin_is_not_followed(self):
        seen = {"instance": [], "elsewhere": []}

        def make(name, answer):
            class Handler(http.server.BaseHTTPRequestHandler):
                def log_message(self, *a):
                    pass

                def do_GET(self):
                    seen[name].append((self.path,
                                       self.headers.get("Authorization")))
                    body = answer().encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
            return Handler

        port = {}
        inst, port["p"] = self.listener(make("instance", lambda: (
            '{"clients":[],"meta":{"has_more":true},"links":{"next":'
            '"http://127.0.0.1:%d1/api/v2/oauth/clients?page[after]=1"}}'
            % port["p"])))
        evil = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port["p"] * 10 + 1), make("elsewhere", lambda: (
                '{"clients":[],"meta":{"has_more":false},"links":{}}')))
        for h in (inst, evil):
            threading.Thread(target=h.serve_forever, daemon=True).start()
            self.addCleanup(h.server_close)
            self.addCleanup(h.shutdown)

        class Fake:
            url = "http://127.0.0.1:%d" % port["p"]
        with Server(extra_args=["--upstream-timeout", "2",
                                "--reconcile-interval", "1"]) as srv:
            setup_world(srv, Fake)
            want = srv.log().count(RECONCILE) + 2
            deadline = time.monotonic() + 30
            while srv.log().count(RECONCILE) < want and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertTrue(seen["instance"], srv.log()[-2000:])
            self.assertEqual(seen["elsewhere"], [])
            self.assertIn("leads off the instance", srv.log())


if __name__ == "__main__":
    unittest.main()
