"""End-to-end: delivery modes and the broker against the simulator —
short-lived access tokens for broker credentials, bound tokens, in-place
rotation, revocation, keywarden's own client_credentials bot, token-mode
expiry truth, and the secrets that must never leave."""
import json
import os
import sys
import time
import unittest

from harness import Server
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, RecordingProxy, ZendeskSim

from test_issuance import setup_world


class Base(unittest.TestCase):
    extra = ["--upstream-timeout", "2", "--upstream-attempts", "2"]
    instance = {"default_delivery": None}     # the server's default

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=self.extra).start()
        self.tok = setup_world(self.srv, self.sim, **self.instance)

    def tearDown(self):
        self.srv.close()
        self.sim.close()

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body,
                                token=self.tok.get(who, who))

    def issue(self, expect="issued", **over):
        """File, approve twice; the answer of the provisioner's approval."""
        body = {"instance": "global", "kind": "api_token",
                "justification": "export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        body.update(over)
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        st, r2, _ = self.as_("maria@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r2)
        st, r3, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r3)
        self.assertEqual(r3["state"], expect)
        return r3

    def cred(self, cid, who="rick@example.com"):
        st, c, _ = self.as_(who, "GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200, c)
        return c

    def access(self, cid, who="rick@example.com", expect=201, **body):
        st, a, h = self.as_(who, "POST",
                            "/v1/credentials/%s/access-token" % cid,
                            body if body else None)
        self.assertEqual(st, expect, a)
        return a, h

    def audit(self, action=None):
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200)
        return [e for e in page["items"]
                if action is None or e["action"] == action]

    def assert_nowhere(self, secret):
        """Not in the data dir, the log, the audit log or chat."""
        needle = secret.encode()
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    self.assertNotIn(needle, fh.read(), f)
        self.assertNotIn(secret, self.srv.log())
        self.assertNotIn(secret, json.dumps(self.audit()))


class Broker(Base):
    def test_default_is_broker_and_the_secret_is_never_revealed(self):
        r = self.issue()
        self.assertEqual(r["delivery"], "broker")
        cid = r["credential_id"]
        c = self.cred(cid)
        self.assertEqual(c["delivery"]["mode"], "broker")
        self.assertEqual(c["delivery"]["state"], "not_applicable")
        clients = [x for x in self.sim.state()["clients"]
                   if x["identifier"] == "keywarden-" + cid]
        self.assertEqual(len(clients), 1)
        self.assertEqual(clients[0]["kind"], "confidential")
        self.assertEqual(clients[0]["name"], r["link"])
        # no token was made with the token API for a broker credential
        self.assertEqual([t for t in self.sim.state()["tokens"]
                          if str(t["client_id"]) == str(clients[0]["id"])],
                         [])
        st, body, _ = self.as_("rick@example.com", "POST",
                               "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 409, body)
        self.assertIn("access-token", body["error"]["message"])

    def test_access_token_works_on_the_instance_and_is_audited(self):
        cid = self.issue()["credential_id"]
        a, _ = self.access(cid, ttl_seconds=600)
        self.assertEqual(a["token_type"], "Bearer")
        self.assertEqual(a["scopes"], ["tickets:read"])
        self.assertEqual(a["instance_url"], self.sim.url)
        self.assertEqual(a["provider"], "zendesk")
        self.assertTrue(a["expires_at"].endswith("Z"))
        tok = a["access_token"]
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 200)
        st, _, _ = self.sim.api("POST", "/api/v2/tickets",
                                {"ticket": {"subject": "x"}}, token=tok)
        self.assertEqual(st, 403)          # only the approved scopes
        [ev] = self.audit("credential.access_token")
        self.assertEqual(ev["subject"], cid)
        self.assertEqual(ev["details"]["expires_at"], a["expires_at"])
        self.assertTrue(ev["details"]["fingerprint"].startswith("fp_"))
        self.assertEqual(ev["details"]["via"], "owner")
        self.assert_nowhere(tok)
        # the token expires with Zendesk's clock
        self.sim.advance(601)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 401)

    def test_ttl_bounds(self):
        cid = self.issue()["credential_id"]
        for bad in (299, 3601, 172801, "600", True):
            st, body, _ = self.as_("rick@example.com", "POST",
                                   "/v1/credentials/%s/access-token" % cid,
                                   {"ttl_seconds": bad})
            self.assertEqual(st, 400, (bad, body))
            self.assertEqual(body["error"]["details"]["field"],
                             "ttl_seconds")
        self.access(cid, ttl_seconds=300)
        self.access(cid, ttl_seconds=3600)
        a, _ = self.access(cid)                 # default 1800
        # the instance may allow longer ones, up to Zendesk's 48 h
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"max_access_ttl_seconds": 172800})
        self.assertEqual(st, 200)
        self.access(cid, ttl_seconds=172800)
        st, body, _ = self.srv.request("PATCH", "/v1/instances/global",
                                       {"max_access_ttl_seconds": 172801})
        self.assertEqual(st, 400, body)
        self.assertEqual(len(self.audit("credential.access_token")), 4)

    def test_only_the_owner(self):
        cid = self.issue()["credential_id"]
        a, _ = self.access(cid, who="pat@example.com", expect=403)
        a, _ = self.access(cid, who="quinn@example.com", expect=403)
        self.access(cid, who="maria@example.com", expect=404)
        self.assertEqual(self.audit("credential.access_token"), [])

    def test_conflicts_send_nothing_to_the_instance(self):
        cid = self.issue()["credential_id"]
        before = self.sim.state()["requests"]["by_endpoint"].get(
            "POST /oauth/tokens", 0)
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 200)
        a, _ = self.access(cid, expect=401 if False else 409)
        # token mode and integrations are not broker credentials
        tcid = self.issue(delivery="token")["credential_id"]
        self.access(tcid, expect=409)
        after = self.sim.state()["requests"]["by_endpoint"].get(
            "POST /oauth/tokens", 0)
        self.assertEqual(before, after)

    def test_inactive_owner_is_409(self):
        cid = self.issue()["credential_id"]
        st, bt, _ = self.as_("rick@example.com", "POST",
                             "/v1/credentials/%s/bound-tokens" % cid,
                             {"label": "nightly"})
        self.assertEqual(st, 201, bt)
        st, _, _ = self.srv.request("PATCH", "/v1/people/rick@example.com",
                                    {"active": False})
        self.assertEqual(st, 200)
        before = self.sim.stats()["requests"]
        self.access(cid, who=bt["token"], expect=409)
        self.assertEqual(self.sim.stats()["requests"], before)

    def test_upstream_failure_is_502_and_nothing_recorded(self):
        cid = self.issue()["credential_id"]
        self.sim.fault(status=503, count=5, path_prefix="/oauth/tokens")
        a, _ = self.access(cid, expect=502)
        self.assertEqual(a["error"]["code"], "upstream_error")
        self.assertEqual(a["error"]["details"]["status"], 503)
        self.assertEqual(self.audit("credential.access_token"), [])

    def test_rate_limit_is_429_with_retry_after(self):
        cid = self.issue()["credential_id"]
        self.sim.fault(status=429, retry_after=17,
                       path_prefix="/oauth/tokens")
        a, h = self.access(cid, expect=429)
        self.assertEqual(a["error"]["code"], "rate_limited")
        self.assertEqual(h.get("retry-after"), "17")
        self.assertEqual(self.audit("credential.access_token"), [])
        self.access(cid)            # the next one goes through

    def test_revocation_deletes_the_client_and_kills_its_tokens(self):
        cid = self.issue()["credential_id"]
        tok = self.access(cid)[0]["access_token"]
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 200)
        self.assertEqual([x for x in self.sim.state()["clients"]
                          if x["identifier"] == "keywarden-" + cid], [])
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 401)

    def test_rotation_is_invisible_to_holders(self):
        cid = self.issue()["credential_id"]
        st, bt, _ = self.as_("rick@example.com", "POST",
                             "/v1/credentials/%s/bound-tokens" % cid,
                             {"label": "nightly"})
        self.assertEqual(st, 201)
        [client] = [x for x in self.sim.state()["clients"]
                    if x["identifier"] == "keywarden-" + cid]
        fp = self.cred(cid)["fingerprint"]
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/rotate" % cid, {})
        self.assertEqual(st, 201, c)
        self.assertEqual(c["id"], cid)
        self.assertEqual(c["state"], "active")
        self.assertNotEqual(c["fingerprint"], fp)
        self.assertIsNone(c["rotated_to"])
        # the same client, a new secret (the grant still works: keywarden
        # uses the new one), and the bound token keeps working
        self.assertEqual([x["id"] for x in self.sim.state()["clients"]
                          if x["identifier"] == "keywarden-" + cid],
                         [client["id"]])
        a, _ = self.access(cid, who=bt["token"])
        st, _, _ = self.sim.api("GET", "/api/v2/tickets",
                                token=a["access_token"])
        self.assertEqual(st, 200)
        [ev] = self.audit("credential.rotate")
        self.assertTrue(ev["details"]["in_place"])


class Reconciliation(Base):
    """The tokens the grants issue under a broker client are expected:
    reconciliation leaves them (and the client) alone."""
    extra = Base.extra + ["--reconcile-interval", "1"]

    def test_dispensed_tokens_survive_reconciliation(self):
        cid = self.issue()["credential_id"]
        tok = self.access(cid)[0]["access_token"]
        passes = self.srv.log().count('"event":"reconcile"')
        deadline = time.monotonic() + 15
        while self.srv.log().count('"event":"reconcile"') < passes + 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 200)
        self.assertEqual(self.cred(cid)["state"], "active")
        self.assertNotIn("reconcile.orphan", json.dumps(self.audit()))


class InstanceMoved(Base):
    def test_secret_goes_only_where_the_client_was_made(self):
        cid = self.issue()["credential_id"]
        proxy = RecordingProxy(self.sim)        # another address
        self.addCleanup(proxy.close)
        st, inst, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "url": proxy.url,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 200, inst)
        a, _ = self.access(cid, expect=409)
        self.assertIn("rotate", a["error"]["message"])
        self.assertEqual([x for x in proxy.answers()
                          if x[1].startswith("/oauth/tokens")], [])
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/rotate" % cid, {})
        self.assertEqual(st, 201, c)
        a, _ = self.access(cid)
        self.assertEqual(a["instance_url"], proxy.url)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets",
                                token=a["access_token"])
        self.assertEqual(st, 200)


class BoundTokens(Base):
    def setUp(self):
        super().setUp()
        self.cid = self.issue()["credential_id"]
        st, self.bt, _ = self.as_("rick@example.com", "POST",
                                  "/v1/credentials/%s/bound-tokens"
                                  % self.cid, {"label": "nightly export"})
        self.assertEqual(st, 201, self.bt)
        self.assertTrue(self.bt["token"].startswith("kw_"))

    def test_a_bound_token_does_exactly_one_thing(self):
        a, _ = self.access(self.cid, who=self.bt["token"])
        st, _, _ = self.sim.api("GET", "/api/v2/tickets",
                                token=a["access_token"])
        self.assertEqual(st, 200)
        [ev] = self.audit("credential.access_token")
        self.assertEqual(ev["details"]["via"], self.bt["id"])
        other = self.issue()["credential_id"]
        t = self.bt["token"]
        for method, path, body in (
                ("GET", "/v1/me", None),
                ("GET", "/v1/credentials/" + self.cid, None),
                ("GET", "/v1/credentials", None),
                ("POST", "/v1/credentials/%s/reveal" % self.cid, None),
                ("POST", "/v1/credentials/%s/revoke" % self.cid, {}),
                ("POST", "/v1/credentials/%s/rotate" % self.cid, {}),
                ("POST", "/v1/credentials/%s/bound-tokens" % self.cid,
                 {"label": "x"}),
                ("GET", "/v1/credentials/%s/bound-tokens" % self.cid, None),
                ("POST", "/v1/credentials/%s/access-token" % other, None),
                ("POST", "/v1/requests", {"instance": "global"}),
                ("GET", "/v1/audit", None)):
            st, body, _ = self.srv.request(method, path, body, token=t)
            self.assertEqual(st, 403, (method, path, body))
        self.assertEqual(self.cred(self.cid)["state"], "active")

    def test_a_bound_token_cannot_open_a_session(self):
        st, body, hd = self.srv.request("POST", "/v1/sessions",
                                        {"token": self.bt["token"]},
                                        token=None)
        self.assertEqual(st, 401, body)
        self.assertNotIn("set-cookie", hd)
        [ev] = [e for e in self.audit("auth.refused")
                if e["details"].get("method") == "token"]
        self.assertEqual(ev["details"]["reason"], "unknown_token")
        # and it still does its one thing
        self.access(self.cid, who=self.bt["token"])

    def test_list_and_delete(self):
        st, page, _ = self.as_("rick@example.com", "GET",
                               "/v1/credentials/%s/bound-tokens" % self.cid)
        self.assertEqual(st, 200)
        [item] = page["items"]
        self.assertEqual(item["label"], "nightly export")
        self.assertIsNone(item["last_used_at"])
        self.assertNotIn("token", item)
        self.assertNotIn(self.bt["token"], json.dumps(page))
        self.access(self.cid, who=self.bt["token"])
        st, page, _ = self.as_("rick@example.com", "GET",
                               "/v1/credentials/%s/bound-tokens" % self.cid)
        self.assertIsNotNone(page["items"][0]["last_used_at"])
        # who may see the credential sees them; only the owner manages them
        st, _, _ = self.as_("pat@example.com", "GET",
                            "/v1/credentials/%s/bound-tokens" % self.cid)
        self.assertEqual(st, 200)
        st, _, _ = self.as_("maria@example.com", "GET",
                            "/v1/credentials/%s/bound-tokens" % self.cid)
        self.assertEqual(st, 404)
        st, _, _ = self.as_("pat@example.com", "DELETE",
                            "/v1/credentials/%s/bound-tokens/%s"
                            % (self.cid, self.bt["id"]))
        self.assertEqual(st, 403)
        st, _, _ = self.as_("rick@example.com", "DELETE",
                            "/v1/credentials/%s/bound-tokens/%s"
                            % (self.cid, self.bt["id"]))
        self.assertEqual(st, 200)
        self.access(self.cid, who=self.bt["token"], expect=401)
        acts = [e["action"] for e in self.audit()]
        self.assertIn("credential.bound_token_create", acts)
        self.assertIn("credential.bound_token_revoke", acts)
        self.assert_nowhere(self.bt["token"])

    def test_they_die_with_the_credential(self):
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % self.cid, {})
        self.assertEqual(st, 200)
        self.access(self.cid, who=self.bt["token"], expect=401)

    def test_they_die_when_it_expires(self):
        r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                         "--now", "2099-01-01T00:00:00Z")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.cred(self.cid)["state"], "expired")
        self.access(self.cid, who=self.bt["token"], expect=401)

    def test_only_for_broker_credentials(self):
        tcid = self.issue(delivery="token")["credential_id"]
        st, body, _ = self.as_("rick@example.com", "POST",
                               "/v1/credentials/%s/bound-tokens" % tcid,
                               {"label": "x"})
        self.assertEqual(st, 409, body)


class Modes(Base):
    def test_client_secret_mode_reveals_identifier_and_secret_once(self):
        r = self.issue(delivery="client_secret")
        cid = r["credential_id"]
        self.assertEqual(self.cred(cid)["delivery"]["mode"], "client_secret")
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        self.assertEqual(sec["client_id"], "keywarden-" + cid)
        # the holder runs the grant itself
        st, g, _ = self.sim.request("POST", "/oauth/tokens", {
            "grant_type": "client_credentials", "client_id": sec["client_id"],
            "client_secret": sec["client_secret"], "scope": "tickets:read"})
        self.assertIn(st, (200, 201), g)
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410)
        self.access(cid, expect=409)
        self.assert_nowhere(sec["client_secret"])

    def test_token_mode_as_before(self):
        cid = self.issue(delivery="token")["credential_id"]
        c = self.cred(cid)
        self.assertEqual(c["delivery"]["mode"], "token")
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=sec["secret"])
        self.assertEqual(st, 200)

    def test_allowed_deliveries_and_default(self):
        st, inst, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "allowed_deliveries": ["token", "client_secret"],
            "default_delivery": "client_secret"})
        self.assertEqual(st, 200, inst)
        self.assertEqual(inst["allowed_deliveries"],
                         ["token", "client_secret"])
        r = self.issue()
        self.assertEqual(r["delivery"], "client_secret")
        st, body, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5,
            "delivery": "broker"})
        self.assertEqual(st, 422, body)
        st, body, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "default_delivery": "broker"})
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["details"]["field"],
                         "default_delivery")
        st, body, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5,
            "delivery": "carrier-pigeon"})
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["details"]["field"], "delivery")

    def test_support_ops_direct_credential_modes(self):
        body = {"instance": "global", "purpose": "automation",
                "link": "https://wiki.example.com/nightly",
                "scopes": ["tickets:read"], "lifetime_days": 10}
        st, c, _ = self.as_("sam@example.com", "POST", "/v1/credentials",
                            body)
        self.assertEqual(st, 201, c)
        self.assertEqual(c["delivery"]["mode"], "broker")
        a, _ = self.access(c["id"], who="sam@example.com")
        body["delivery"] = "token"
        st, c2, _ = self.as_("sam@example.com", "POST", "/v1/credentials",
                             body)
        self.assertEqual(st, 201, c2)
        self.assertEqual(c2["delivery"]["mode"], "token")

    def test_manual_instance_delivers_tokens(self):
        st, inst, _ = self.srv.request("POST", "/v1/instances", {
            "name": "manual", "url": "https://manual.example.com",
            "issuance": "manual", "provisioners": ["pat@example.com"]})
        self.assertEqual(st, 201, inst)
        self.assertEqual(inst["default_delivery"], "broker")
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "manual", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5})
        self.assertEqual(st, 201, r)
        self.assertEqual(r["delivery"], "token")
        st, body, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "manual", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5,
            "delivery": "broker"})
        self.assertEqual(st, 422, body)


class TokenModeTruth(Base):
    def test_zendesk_expiry_shortens_the_credential_and_is_told(self):
        self.sim.ctl("POST", "options", {"token_expires_in": 3600})
        r = self.issue(delivery="token", lifetime_days=30)
        c = self.cred(r["credential_id"])
        ext = c["external"]["expires_at"]
        self.assertEqual(c["expires_at"], ext)
        self.assertIn("instance_expires_at", c)
        self.assertEqual(c["instance_expires_at"], ext)
        # the answer tells the requester, and so does the history
        hist = [h for h in r["history"] if h["action"] == "issued"]
        self.assertIn("expires", hist[-1]["comment"])
        self.assertIn(ext, hist[-1]["comment"])

    def test_no_expiry_keeps_the_lifetime(self):
        r = self.issue(delivery="token", lifetime_days=30)
        c = self.cred(r["credential_id"])
        self.assertNotIn("expires_at", c["external"])
        self.assertIsNone(c.get("instance_expires_at"))


class MigrationReport(Base):
    """keywarden's own token-mode credentials Zendesk expires are listed
    per instance with the advice to move to broker."""
    now = "2026-03-02T10:00:00Z"      # before 2026-04-30: an old client

    def setUp(self):
        self.sim = ZendeskSim(now=self.now).start()
        self.srv = Server(extra_args=self.extra,
                          env={"KEYWARDEN_FAKE_NOW": self.now}).start()
        self.tok = setup_world(self.srv, self.sim, default_delivery=None)

    def report(self):
        st, rep, _ = self.srv.request("GET", "/v1/reports/migration")
        self.assertEqual(st, 200, rep)
        [sec] = [x for x in rep["instances"] if x["instance"] == "global"]
        return sec

    def test_expiring_token_mode_credentials_are_listed(self):
        broker = self.issue()["credential_id"]
        old = self.issue(delivery="token")["credential_id"]
        self.sim.ctl("POST", "options", {"token_expires_in": 7200})
        short = self.issue(delivery="token")["credential_id"]
        sec = self.report()
        got = {x["id"]: x for x in sec["expiring_tokens"]}
        self.assertEqual(set(got), {old, short})
        self.assertNotIn(broker, got)
        self.assertEqual(sec["summary"]["expiring_tokens"], 2)
        # created before 2026-04-30: the refresh flow is due 2027-04-01
        self.assertEqual(got[old]["refresh_deadline"], "2027-04-01")
        self.assertNotIn("instance_expires_at", got[old])
        self.assertEqual(got[short]["instance_expires_at"],
                         self.cred(short)["expires_at"])
        for x in got.values():
            self.assertEqual(x["delivery"], "token")
            self.assertIn("broker", x["advice"])
        # a legacy token replaced by a token-mode credential shows the
        # same deadline on its replacement
        self.sim.seed_legacy(description="old export")
        st, _, _ = self.srv.request("POST", "/v1/instances/global/sync", {})
        self.assertEqual(st, 200)
        st, lst, _ = self.srv.request(
            "GET", "/v1/credentials?kind=legacy_api_token")
        [legacy] = lst["items"]
        st, _, _ = self.srv.request(
            "POST", "/v1/credentials/%s/link-replacement" % legacy["id"],
            {"replacement_id": old})
        self.assertEqual(st, 200)
        [tok] = self.report()["tokens"]
        self.assertEqual(tok["replacement"]["delivery"], "token")
        self.assertEqual(tok["replacement"]["refresh_deadline"],
                         "2027-04-01")
        self.assertIn("deactivation_due", tok)


class GrantStatus(Base):
    def test_a_grant_answered_with_200_works_too(self):
        # Zendesk's reference lists 201; accept 200 as well
        self.sim.ctl("POST", "options", {"grant_status": 200})
        cid = self.issue()["credential_id"]
        a, _ = self.access(cid)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets",
                                token=a["access_token"])
        self.assertEqual(st, 200)

    def test_new_clients_tokens_expire_and_token_mode_tells(self):
        self.sim.ctl("POST", "options", {"new_client_tokens_expire": True})
        r = self.issue(delivery="token", lifetime_days=30)
        c = self.cred(r["credential_id"])
        self.assertIsNotNone(c["instance_expires_at"])
        self.assertEqual(c["expires_at"], c["instance_expires_at"])


class BotClientCredentials(unittest.TestCase):
    """keywarden's own access as a confidential client of the bot."""

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=["--upstream-timeout", "2",
                                      "--upstream-attempts", "2"]).start()
        st, c, _ = self.sim.api("POST", "/api/v2/oauth/clients", {"client": {
            "name": "keywarden bot", "identifier": "kw-bot",
            "kind": "confidential"}})
        self.assertEqual(st, 201, c)
        self.bot_secret = c["client"]["secret"]
        self.bot_client = c["client"]["id"]
        self.tok = setup_world(self.srv, self.sim, default_delivery=None,
                               bot={"email": ADMIN_EMAIL,
                                    "client_id": "kw-bot",
                                    "client_secret": self.bot_secret})

    def tearDown(self):
        self.srv.close()
        self.sim.close()

    def file(self):
        st, r, _ = self.srv.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5,
            "delivery": "token"}, token=self.tok["rick@example.com"])
        self.assertEqual(st, 201, r)
        for who in ("maria@example.com", "pat@example.com"):
            st, r2, _ = self.srv.request(
                "POST", "/v1/requests/%s/approve" % r["id"], {},
                token=self.tok[who])
            self.assertEqual(st, 200, r2)
        return r2

    def grants(self):
        return self.sim.state()["requests"]["by_endpoint"].get(
            "POST /oauth/tokens", 0)

    def test_instance_shows_the_mode_never_the_secret(self):
        st, inst, _ = self.srv.request("GET", "/v1/instances/global")
        self.assertEqual(inst["bot"]["mode"], "client_credentials")
        self.assertTrue(inst["bot"]["credential_set"])
        self.assertNotIn(self.bot_secret, json.dumps(inst))
        st, inst, _ = self.srv.request("POST", "/v1/instances", {
            "name": "static", "url": self.sim.url,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(inst["bot"]["mode"], "static_token")

    def test_issues_with_one_cached_token_and_renews_on_401(self):
        self.assertEqual(self.file()["state"], "issued")
        g1 = self.grants()      # 1, or 2 if the start-up reconciliation
        self.assertIn(g1, (1, 2))   # raced the first issuance for it
        self.assertEqual(self.file()["state"], "issued")
        self.assertEqual(self.grants(), g1)    # cached, in memory
        # the bot's token dies (its tokens are deleted on Zendesk):
        # keywarden renews once and carries on
        for t in self.sim.state()["tokens"]:
            if str(t["client_id"]) == str(self.bot_client):
                self.sim.api("DELETE", "/api/v2/oauth/tokens/%s" % t["id"])
        self.assertEqual(self.file()["state"], "issued")
        self.assertEqual(self.grants(), g1 + 1)
        log = self.srv.log()
        self.assertIn("renewing", log)
        self.assertNotIn(self.bot_secret, log)
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    self.assertNotIn(self.bot_secret.encode(), fh.read())

    def test_renews_before_expiry(self):
        self.assertEqual(self.file()["state"], "issued")
        g1 = self.grants()
        # past the bot token's life (3600 s) on Zendesk's clock: the
        # instance refuses it, keywarden renews
        self.sim.advance(3700)
        self.assertEqual(self.file()["state"], "issued")
        self.assertEqual(self.grants(), g1 + 1)

    def test_a_bad_bot_secret_fails_the_issuance_cleanly(self):
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global", {
            "bot": {"email": ADMIN_EMAIL, "client_id": "kw-bot",
                    "client_secret": "wrong"}})
        self.assertEqual(st, 200)
        st, r, _ = self.srv.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5},
            token=self.tok["rick@example.com"])
        self.srv.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                         token=self.tok["maria@example.com"])
        st, body, _ = self.srv.request(
            "POST", "/v1/requests/%s/approve" % r["id"], {},
            token=self.tok["pat@example.com"])
        self.assertEqual(st, 502, body)
        st, r, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(r["state"], "failed")


class BotStaticTokenExpiry(unittest.TestCase):
    """A static bot token that Zendesk expires shows bot.expires_at."""

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=["--reconcile-interval", "1"]).start()

    def tearDown(self):
        self.srv.close()
        self.sim.close()

    def test_expiring_static_token_is_shown(self):
        st, c, _ = self.sim.api("POST", "/api/v2/oauth/clients", {"client": {
            "name": "bot app", "identifier": "bot-app",
            "kind": "confidential"}})
        self.assertEqual(st, 201, c)
        pair = self.sim.ctl("POST", "authorizations", {
            "client_id": "bot-app", "scope": "read write",
            "expires_in": 7200})
        st, inst, _ = self.srv.request("POST", "/v1/instances", {
            "name": "global", "url": self.sim.url, "issuance": "automatic",
            "bot": {"email": ADMIN_EMAIL,
                    "oauth_token": pair["access_token"]}})
        self.assertEqual(st, 201, inst)
        self.assertEqual(inst["bot"]["mode"], "static_token")
        self.assertNotIn("expires_at", inst["bot"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            st, inst, _ = self.srv.request("GET", "/v1/instances/global")
            if "expires_at" in inst["bot"]:
                break
            time.sleep(0.3)
        self.assertIn("expires_at", inst["bot"], inst)
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertIn("instance.bot_expiry",
                      [e["action"] for e in page["items"]])
        self.assertNotIn(pair["access_token"], self.srv.log())
        self.assertNotIn(pair["access_token"], json.dumps(page))


class Cli(Base):
    def kw(self, *args, token=None, env=None):
        e = dict(env or {})
        e["KEYWARDEN_SERVER"] = self.srv.url
        e["KEYWARDEN_TOKEN"] = token or self.tok["rick@example.com"]
        return self.srv.cli(*args, env=e)

    def test_credential_token_prints_only_the_token(self):
        cid = self.issue()["credential_id"]
        r = self.kw("credential", "token", cid, "--ttl", "10m")
        self.assertEqual(r.returncode, 0, r.stderr)
        tok = r.stdout.strip()
        self.assertEqual(r.stdout, tok + "\n")
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 200)
        [ev] = self.audit("credential.access_token")
        self.assertEqual(ev["details"]["ttl_seconds"], 600)
        r = self.kw("credential", "token", cid, "--ttl", "1m")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ttl", r.stderr)

    def test_delivery_and_bot_options(self):
        r = self.kw("request", "create", "--instance", "global", "--kind",
                    "api_token", "--justification", "j", "--use-case", "u",
                    "--scope", "read", "--lifetime-days", "5", "--delivery",
                    "client_secret", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["delivery"], "client_secret")
        secret_file = os.path.join(self.srv.data_dir, "..", "bot-secret")
        with open(secret_file, "w") as f:
            f.write("s3cr3t-client\n")
        r = self.kw("instances", "update", "global", "--bot-email",
                    ADMIN_EMAIL, "--bot-client-id", "kw-bot",
                    "--bot-client-secret-file", secret_file,
                    "--default-delivery", "token", "--allowed-delivery",
                    "token", "--allowed-delivery", "broker",
                    "--max-access-ttl", "7200", "--json",
                    token=self.srv.admin_token)
        self.assertEqual(r.returncode, 0, r.stderr)
        inst = json.loads(r.stdout)
        self.assertEqual(inst["bot"]["mode"], "client_credentials")
        self.assertEqual(inst["default_delivery"], "token")
        self.assertEqual(inst["allowed_deliveries"], ["token", "broker"])
        self.assertEqual(inst["max_access_ttl_seconds"], 7200)
        self.assertNotIn("s3cr3t-client", r.stdout + r.stderr)

    def test_credential_exec_with_a_bound_token(self):
        cid = self.issue()["credential_id"]
        st, bt, _ = self.as_("rick@example.com", "POST",
                             "/v1/credentials/%s/bound-tokens" % cid,
                             {"label": "cli"})
        self.assertEqual(st, 201)
        script = ("import os, sys; print(os.environ['ZENDESK_URL']); "
                  "print(os.environ['ZENDESK_ACCESS_TOKEN']); sys.exit(7)")
        r = self.kw("credential", "exec", cid, "--", sys.executable, "-c",
                    script, token=bt["token"])
        self.assertEqual(r.returncode, 7, r.stderr)
        url, tok = r.stdout.split()
        self.assertEqual(url, self.sim.url)
        st, _, _ = self.sim.api("GET", "/api/v2/tickets", token=tok)
        self.assertEqual(st, 200)
        r = self.kw("credential", "token", cid, token=bt["token"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.kw("credential", "exec", cid, "--", "/no/such/program",
                    token=bt["token"])
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
