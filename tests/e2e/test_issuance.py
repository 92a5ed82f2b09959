"""End-to-end: issuance on Zendesk (the simulator), one-time delivery,
revocation, upstream trouble, crash safety and secret hygiene."""
import http.server
import json
import threading
import os
import time
import unittest

from harness import Server, make_person, token_for
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

PEOPLE = ("maria@example.com", "rick@example.com", "pat@example.com",
          "quinn@example.com", "sam@example.com")


def setup_world(srv, sim, name="global", **instance):
    """People, tokens and an automatic instance on the simulator."""
    make_person(srv, "maria@example.com", name="Maria")
    make_person(srv, "rick@example.com", name="Rick",
                manager="maria@example.com")
    make_person(srv, "pat@example.com", name="Pat")
    make_person(srv, "quinn@example.com", name="Quinn")
    make_person(srv, "sam@example.com", name="Sam", teams=["support-ops"],
                manager="maria@example.com")
    tok = {p: token_for(srv, p) for p in PEOPLE}
    body = {"name": name, "url": sim.url, "issuance": "automatic",
            "provisioners": ["pat@example.com", "quinn@example.com"],
            "allow_integrations": True,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN},
            # these suites test token delivery (revealed once); the
            # broker's suite passes default_delivery=None for the default
            "default_delivery": "token"}
    body.update(instance)
    body = {k: v for k, v in body.items() if v is not None}
    st, obj, _ = srv.request("POST", "/v1/instances", body)
    assert st == 201, obj
    return tok


class Base(unittest.TestCase):
    extra = ["--upstream-timeout", "2", "--upstream-attempts", "3"]

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=self.extra).start()
        self.tok = setup_world(self.srv, self.sim)

    def tearDown(self):
        self.srv.close()
        self.sim.close()

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def file(self, **over):
        body = {"instance": "global", "kind": "api_token",
                "justification": "export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        body.update(over)
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        st, r, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r)
        return r

    def approve(self, rid, expect=200, **body):
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % rid, body)
        self.assertEqual(st, expect, r)
        return r

    def clients(self):
        return [c for c in self.sim.state()["clients"]
                if c["identifier"].startswith("keywarden-")]


class Issuance(Base):
    def test_api_token_is_minted_named_and_revealed_once(self):
        r = self.approve(self.file()["id"])
        self.assertEqual(r["state"], "issued")
        cid = r["credential_id"]
        [client] = self.clients()
        self.assertEqual(client["name"], r["link"])
        self.assertEqual(client["identifier"], "keywarden-" + cid)
        self.assertEqual(client["kind"], "confidential")
        self.assertIn("rick@example.com", client["description"])
        [token] = [t for t in self.sim.state()["tokens"]
                   if str(t["client_id"]) == str(client["id"])]
        self.assertEqual(token["scopes"], ["tickets:read"])
        st, c, _ = self.as_("rick@example.com", "GET",
                            "/v1/credentials/" + cid)
        self.assertEqual((c["state"], c["delivery"]["state"]),
                         ("active", "pending"))
        self.assertEqual(c["external"]["client_id"], str(client["id"]))
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200)
        secret = sec["secret"]
        self.assertTrue(secret.startswith(token["token_prefix"]))
        # the token works on the instance, with its scopes only
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=secret)
        self.assertEqual(st, 200)
        st, _, _ = self.sim.api("POST", "/api/v2/tickets",
                                {"ticket": {"subject": "x"}}, token=secret)
        self.assertEqual(st, 403)
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410)
        self.assert_secret_nowhere(secret)

    def assert_secret_nowhere(self, secret):
        needle = secret.encode()
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    self.assertNotIn(needle, fh.read(), f)
        self.assertNotIn(secret, self.srv.log())
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertNotIn(secret, json.dumps(page))

    def test_integration_is_a_client_with_its_secret(self):
        r = self.file(kind="integration", scopes=[], integration={
            "name": "Reporting app", "client_kind": "confidential",
            "redirect_uris": ["https://app.example.com/cb"]})
        self.approve(r["id"], expect=400)
        r = self.approve(r["id"], acknowledge_risk=True)
        self.assertEqual(r["state"], "issued")
        [client] = self.clients()
        self.assertEqual(client["name"], "Reporting app")
        self.assertEqual(client["redirect_uri"],
                         ["https://app.example.com/cb"])
        self.assertIn(r["link"], client["description"])
        self.assertEqual(self.sim.state()["tokens"], [])
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal"
                              % r["credential_id"])
        self.assertEqual(sec["client_id"], client["identifier"])
        self.assertTrue(sec["client_secret"])
        self.assert_secret_nowhere(sec["client_secret"])

    def test_support_ops_direct_credential_is_minted_at_once(self):
        st, c, _ = self.as_("sam@example.com", "POST", "/v1/credentials", {
            "instance": "global", "purpose": "personal",
            "link": "https://gitlab.example.com/ops/issues/1",
            "scopes": ["read"], "lifetime_days": 10})
        self.assertEqual(st, 201, c)
        self.assertEqual((c["state"], c["delivery"]["state"]),
                         ("active", "pending"))
        [client] = self.clients()
        self.assertEqual(client["name"],
                         "https://gitlab.example.com/ops/issues/1")

    def test_revoke_deletes_on_the_instance(self):
        r = self.approve(self.file()["id"])
        cid = r["credential_id"]
        st, c, _ = self.as_("quinn@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid,
                            {"reason": "incident 7"})
        self.assertEqual((st, c["state"]), (200, "revoked"))
        self.assertEqual(self.clients(), [])
        self.assertEqual(self.sim.state()["tokens"], [])
        st, _, _ = self.as_("quinn@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 409)

    def test_revoke_when_already_gone_on_the_instance(self):
        r = self.approve(self.file()["id"])
        [client] = self.clients()
        self.sim.api("DELETE", "/api/v2/oauth/clients/%s" % client["id"],
                     token=ADMIN_TOKEN)
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke"
                            % r["credential_id"], {})
        self.assertEqual((st, c["state"]), (200, "revoked"))

    def test_offboarding_revokes_everything_held(self):
        for _ in range(2):
            self.approve(self.file()["id"])
        self.assertEqual(len(self.clients()), 2)
        st, out, _ = self.srv.request(
            "POST", "/v1/people/rick@example.com/offboard", {})
        self.assertEqual(st, 200, out)
        self.assertEqual([c["result"] for c in out["credentials_revoked"]],
                         ["revoked", "revoked"])
        self.assertEqual(self.clients(), [])

    def test_bulk_revoke_by_instance_from_the_cli(self):
        ids = [self.approve(self.file()["id"])["credential_id"]
               for _ in range(3)]
        r = self.srv.cli("revoke", "--instance", "global", "--reason",
                         "incident", "--server", self.srv.url,
                         env={"KEYWARDEN_TOKEN": self.srv.admin_token})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for cid in ids:
            self.assertIn(cid, r.stdout)
        self.assertEqual(self.clients(), [])


class UpstreamTrouble(Base):
    def test_429_then_success(self):
        r = self.file()
        self.sim.fault(status=429, retry_after=1, count=1,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        t0 = time.monotonic()
        r = self.approve(r["id"])
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(r["state"], "issued")
        self.assertEqual(len(self.clients()), 1)

    def test_persistent_5xx_fails_and_leaves_nothing(self):
        r = self.file()
        self.sim.fault(status=503, count=100,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        st, err, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, err["error"]["code"]), (502, "upstream_error"))
        self.assertEqual(err["error"]["details"]["status"], 503)
        self.sim.clear_faults()
        st, got, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(got["state"], "failed")
        self.assertIn("503", got["history"][-1]["comment"])
        self.assertEqual(self.clients(), [])

    def test_401_fails_at_once(self):
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "bot": {"email": ADMIN_EMAIL, "oauth_token": "wrong"}})
        self.assertEqual(st, 200)
        r = self.file()
        st, err, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, err["error"]["details"]["status"]), (502, 401))
        self.assertEqual(self.sim.stats()["requests"], 1)


    def test_slow_instance_fails_cleanly(self):
        r = self.file()
        # every token creation hangs past the 2 s upstream timeout
        self.sim.fault(status=0, hang_ms=3000, count=10,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        st, err, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, err["error"]["code"]), (502, "upstream_error"))
        self.sim.clear_faults()
        st, got, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(got["state"], "failed")
        self.assertIn("could not be reached", got["history"][-1]["comment"])
        self.assertEqual(self.clients(), [])       # the client was removed


class BrokenInstance(unittest.TestCase):
    """An instance that answers garbage or too much: issuance fails cleanly
    (502, request failed) and keywarden keeps serving."""

    def serve(self, body):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_DELETE = do_POST
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.shutdown)
        return "http://127.0.0.1:%d" % httpd.server_address[1]

    def attempt(self, body):
        url = self.serve(body)
        srv = Server(extra_args=["--upstream-timeout", "2",
                                 "--upstream-attempts", "2"]).start()
        self.addCleanup(srv.close)

        class FakeSim:
            pass
        fake = FakeSim()
        fake.url = url
        tok = setup_world(srv, fake)
        st, r, _ = srv.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 3},
            token=tok["rick@example.com"])
        srv.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                    token=tok["maria@example.com"])
        st, err, _ = srv.request("POST", "/v1/requests/%s/approve" % r["id"],
                                 {}, token=tok["pat@example.com"])
        self.assertEqual((st, err["error"]["code"]), (502, "upstream_error"))
        st, got, _ = srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(got["state"], "failed")
        self.assertEqual(srv.request("GET", "/healthz")[0], 200)
        return got["history"][-1]["comment"]

    def test_malformed_answer(self):
        self.assertIn("malformed", self.attempt(b"{not json"))

    def test_oversized_answer(self):
        self.attempt(b"[" + b"1," * (1024 * 1024) + b"1]")


class CrashSafety(unittest.TestCase):
    """Kill keywarden at each step of an issuance; after a restart,
    reconciliation leaves no orphan on the instance and no credential in
    the store that the instance lacks."""

    def crash_at(self, point):
        sim = ZendeskSim().start()
        self.addCleanup(sim.close)
        srv = Server(extra_args=["--upstream-timeout", "2"],
                     env={"KEYWARDEN_CRASH_AT": point}).start()
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
        # one reconcile line per start: wait for the restart's
        deadline = time.monotonic() + 20
        while srv.log().count('"event":"reconcile"') < 2 and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        st, got, _ = srv.request("GET", "/v1/requests/" + r["id"])
        clients = [c for c in sim.state()["clients"]
                   if c["identifier"].startswith("keywarden-")]
        st, creds, _ = srv.request("GET", "/v1/credentials?state=active")
        live = {c["id"] for c in creds["items"]}
        on_instance = {c["identifier"][len("keywarden-"):] for c in clients}
        self.assertEqual(live, on_instance)
        return got, clients

    def test_crash_after_client_creation(self):
        got, clients = self.crash_at("after_client_create")
        self.assertEqual(got["state"], "issued")       # adopted
        self.assertEqual(len(clients), 1)

    def test_crash_after_token_creation(self):
        got, clients = self.crash_at("after_token_create")
        self.assertEqual(got["state"], "issued")
        self.assertEqual(len(clients), 1)

    def test_crash_before_commit(self):
        got, clients = self.crash_at("before_commit")
        self.assertEqual(got["state"], "issued")
        self.assertEqual(len(clients), 1)

    def test_orphan_without_record_is_deleted(self):
        sim = ZendeskSim().start()
        self.addCleanup(sim.close)
        st, _, _ = sim.api("POST", "/api/v2/oauth/clients", {"client": {
            "name": "x", "identifier": "keywarden-cred_nonexistent",
            "kind": "confidential"}}, token=ADMIN_TOKEN)
        self.assertEqual(st, 201)
        with Server() as srv:
            setup_world(srv, sim)
            srv.stop()
            srv.start()
            deadline = time.monotonic() + 20
            while not [c for c in sim.state()["clients"]] == [] and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(sim.state()["clients"], [])


if __name__ == "__main__":
    unittest.main()
