"""End-to-end: hardening of the request/credential workflow (security
review, issue 9): what a provisioner types cannot rewrite a credential's
instance ids, offboarding during an issuance leaves nothing active, and a
rotation follows today's policy and never extends access."""
import threading
import time
import unittest

from harness import Server
from test_issuance import setup_world
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim


class World(unittest.TestCase):
    UPSTREAM_TIMEOUT = 2    # seconds

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=["--upstream-timeout",
                                      self.UPSTREAM_TIMEOUT,
                                      "--upstream-attempts", "2"]).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def file(self, instance="global", who="rick@example.com", **over):
        body = {"instance": instance, "kind": "api_token",
                "justification": "j", "use_case": "u", "scopes": ["read"],
                "lifetime_days": 30}
        body.update(over)
        st, r, _ = self.as_(who, "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        st, r, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r)
        return r

    def issue(self, **over):
        r = self.file(**over)
        body = {"acknowledge_risk": True} if \
            over.get("kind") == "integration" else {}
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], body)
        self.assertEqual((st, r["state"]), (200, "issued"), r)
        return r["credential_id"]

    def cred(self, cid):
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200, c)
        return c

    def client_ids(self):
        return {str(c["id"]) for c in self.sim.state()["clients"]}

    def on_instance(self):
        return {c["identifier"][len("keywarden-"):]
                for c in self.sim.state()["clients"]
                if c["identifier"].startswith("keywarden-")}

    def audit(self, subject):
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200, page)
        return [(e["action"], e["actor"], e["details"])
                for e in page["items"] if e["subject"] == subject]


class FulfilmentExternalId(World):
    """Finding 3: `external_id` at manual fulfilment is stored as a JSON
    string, whatever it holds; it cannot add keys (such as the client id
    revocation deletes on the instance)."""

    def fulfil_with(self, external_id):
        st, _, _ = self.srv.request("POST", "/v1/instances", {
            "name": "byhand", "url": self.sim.url, "issuance": "manual",
            "provisioners": ["pat@example.com"],
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201)
        r = self.file(instance="byhand")
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(r["state"], "awaiting_fulfilment", r)
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/fulfil" % r["id"],
                            {"secret": "s3cret-by-hand",
                             "external_id": external_id})
        self.assertEqual((st, r["state"]), (200, "issued"), r)
        return r["credential_id"]

    def test_injected_client_id_is_a_string_and_revocation_spares_it(self):
        victim = self.issue(who="sam@example.com")     # someone else's
        victim_client = self.cred(victim)["external"]["client_id"]
        evil = '1","client_id":"%s' % victim_client
        cid = self.fulfil_with(evil)
        self.assertEqual(self.cred(cid)["external"], {"external_id": evil})
        # the instance turns automatic: revocation now calls it
        st, _, _ = self.srv.request("PATCH", "/v1/instances/byhand",
                                    {"issuance": "automatic"})
        self.assertEqual(st, 200)
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual((st, c["state"]), (200, "revoked"), c)
        self.assertIn(victim_client, self.client_ids())
        self.assertEqual(self.cred(victim)["state"], "active")

    def test_quotes_and_backslashes_are_kept_exactly(self):
        odd = 'a"b\\c\\"}{,"d":[1]\\u0041 \u00e9'
        cid = self.fulfil_with(odd)
        self.assertEqual(self.cred(cid)["external"], {"external_id": odd})
        st, events, _ = self.srv.request("GET", "/v1/audit/verify")
        self.assertTrue(events["ok"], events)


class OffboardWhileMinting(World):
    """Finding 4: a credential that goes live after its owner was
    offboarded (the offboarding saw it still `issuing`) is revoked at
    once, on the instance too, with its audit events."""
    UPSTREAM_TIMEOUT = 10

    def test_credential_minted_after_offboarding_is_revoked(self):
        r = self.file()
        # the token call hangs 4 s (under the upstream timeout): a window
        # wide enough to see `issuing` on a loaded machine
        self.sim.fault(status=0, hang_ms=4000, count=1,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        done = {}

        def approve():
            done["answer"] = self.as_("pat@example.com", "POST",
                                      "/v1/requests/%s/approve" % r["id"],
                                      {})
        t = threading.Thread(target=approve)
        t.start()
        deadline = time.monotonic() + 10
        state = None
        while time.monotonic() < deadline:
            st, got, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
            state = got["state"]
            if state != "pending_provisioner":
                break
            time.sleep(0.02)
        self.assertEqual(state, "issuing")
        st, out, _ = self.srv.request(
            "POST", "/v1/people/rick@example.com/offboard", {})
        self.assertEqual(st, 200, out)
        self.assertEqual(out["requests_withdrawn"], [])   # not withdrawable
        self.assertEqual(out["credentials_revoked"], [])  # still pending
        t.join(20)
        self.assertFalse(t.is_alive())
        st, answer, _ = done["answer"]
        self.assertEqual((st, answer["state"]), (200, "issued"), answer)
        cid = answer["credential_id"]
        c = self.cred(cid)
        self.assertEqual((c["state"], c["revoke_reason"]),
                         ("revoked", "owner offboarded during issuance"))
        self.assertEqual(c["delivery"]["state"], "expired")
        self.assertNotIn(cid, self.on_instance())
        self.assertEqual(self.sim.state()["tokens"], [])
        events = self.audit(cid)
        self.assertEqual([a for a, _, _ in events],
                         ["credential.issue", "credential.revoke_begin",
                          "credential.revoke"])
        self.assertIs(events[0][2]["owner_active"], False)
        self.assertEqual(events[2][1], "keywarden")
        self.assertEqual(events[2][2]["reason"],
                         "owner offboarded during issuance")
        st, creds, _ = self.srv.request(
            "GET", "/v1/credentials?owner=rick@example.com&state=active")
        self.assertEqual(creds["items"], [])


class OffboardDuringIssuance(World):
    """Finding 4: a credential that goes live after its owner was
    offboarded (the offboarding saw it still `issuing`) is revoked at
    once, on the instance too, with its audit events."""

    def test_instance_unreachable_then_the_jobs_revoke_it(self):
        r = self.file()
        # token call hangs; then every call refused: the revocation fails
        self.sim.fault(status=0, hang_ms=1500, count=1,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        self.sim.fault(status=503, count=100, method="DELETE")
        done = {}

        def approve():
            done["answer"] = self.as_("pat@example.com", "POST",
                                      "/v1/requests/%s/approve" % r["id"],
                                      {})
        t = threading.Thread(target=approve)
        t.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            st, got, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
            if got["state"] != "pending_provisioner":
                break
            time.sleep(0.02)
        st, out, _ = self.srv.request(
            "POST", "/v1/people/rick@example.com/offboard", {})
        self.assertEqual(st, 200, out)
        t.join(20)
        cid = done["answer"][1]["credential_id"]
        c = self.cred(cid)
        self.assertEqual(c["state"], "active")      # the instance refused
        self.assertIn(cid, self.on_instance())
        self.sim.clear_faults()
        # nobody can collect it: its secret was destroyed when keywarden
        # committed to revoking it, and that intent is finished by the next
        # reconciliation (here, the one a restart runs)
        self.assertEqual(c["delivery"]["state"], "expired")
        self.srv.stop()
        self.srv.start()
        deadline = time.monotonic() + 30
        while self.cred(cid)["state"] == "active":
            self.assertLess(time.monotonic(), deadline,
                            "the revocation intent was never finished")
            time.sleep(0.1)
        c = self.cred(cid)
        self.assertEqual((c["state"], c["delivery"]["state"]),
                         ("revoked", "expired"))
        self.assertNotIn(cid, self.on_instance())


    def test_fulfilment_for_an_inactive_owner_is_refused(self):
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"issuance": "manual"})
        self.assertEqual(st, 200)
        r = self.file()
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(r["state"], "awaiting_fulfilment", r)
        # deactivated (not offboarded, which would withdraw the request)
        st, _, _ = self.srv.request("PATCH", "/v1/people/rick@example.com",
                                    {"active": False})
        self.assertEqual(st, 200)
        st, err, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/fulfil" % r["id"],
                              {"secret": "made-by-hand"})
        self.assertEqual((st, err["error"]["code"]), (409, "conflict"), err)
        self.assertIn("no longer active", err["error"]["message"])
        self.assertEqual(self.cred(r["credential_id"])["state"], "pending")


class RotationPolicy(World):
    """Finding 9: rotation applies today's instance policy, needs an
    active owner and keeps the predecessor's expiry."""

    def rotate(self, cid, who="rick@example.com", expect=201):
        st, body, _ = self.as_(who, "POST", "/v1/credentials/%s/rotate" % cid,
                               {}) if who != "admin" else \
            self.srv.request("POST", "/v1/credentials/%s/rotate" % cid, {})
        self.assertEqual(st, expect, body)
        return body

    def test_successor_keeps_the_predecessors_expiry(self):
        old = self.issue()
        time.sleep(1.1)         # a fresh lifetime would end later
        new = self.rotate(old)
        self.assertEqual(new["state"], "active")
        self.assertEqual(new["expires_at"], self.cred(old)["expires_at"])
        # and again: the chain never gains a second
        time.sleep(1.1)
        newer = self.rotate(new["id"])
        self.assertEqual(newer["expires_at"], self.cred(old)["expires_at"])

    def test_successor_on_a_manual_instance_keeps_the_expiry_too(self):
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"issuance": "manual"})
        self.assertEqual(st, 200)
        r = self.file()
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/fulfil" % r["id"],
                            {"secret": "first"})
        old = r["credential_id"]
        time.sleep(1.1)
        new = self.rotate(old)
        self.assertEqual(new["state"], "pending")
        time.sleep(1.1)
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/fulfil" % new["request_id"],
                            {"secret": "second"})
        self.assertEqual(st, 200, r)
        self.assertEqual(self.cred(new["id"])["expires_at"],
                         self.cred(old)["expires_at"])

    def test_a_lower_maximum_lifetime_caps_the_successor(self):
        old = self.issue(lifetime_days=300)
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"max_lifetime_days": 10})
        self.assertEqual(st, 200)
        new = self.rotate(old)
        left = (time.mktime(time.strptime(new["expires_at"],
                                          "%Y-%m-%dT%H:%M:%SZ")) -
                time.mktime(time.gmtime()))
        self.assertLessEqual(left, 10 * 86400 + 5)
        self.assertGreater(left, 10 * 86400 - 60)

    def test_a_scope_no_longer_allowed_is_refused(self):
        old = self.issue(scopes=["read", "tickets:write"])
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"allowed_scopes": ["read"]})
        self.assertEqual(st, 200)
        before = self.on_instance()
        err = self.rotate(old, expect=422)
        self.assertEqual(err["error"]["code"], "policy_violation")
        self.assertIn("tickets:write", err["error"]["message"])
        self.assertEqual(self.cred(old)["rotated_to"], None)
        self.assertEqual(self.on_instance(), before)

    def test_integrations_no_longer_allowed_are_refused(self):
        old = self.issue(kind="integration", scopes=[], integration={
            "name": "Export bot",
            "redirect_uris": ["https://app.example.com/cb"],
            "client_kind": "confidential"})
        st, _, _ = self.srv.request("PATCH", "/v1/instances/global",
                                    {"allow_integrations": False})
        self.assertEqual(st, 200)
        err = self.rotate(old, who="admin", expect=422)
        self.assertEqual(err["error"]["code"], "policy_violation")

    def test_an_inactive_owner_gets_no_successor(self):
        old = self.issue()
        # deactivated (not offboarded): the credential is still active
        st, _, _ = self.srv.request("PATCH", "/v1/people/rick@example.com",
                                    {"active": False})
        self.assertEqual(st, 200)
        before = self.on_instance()
        for who in ("admin", "pat@example.com"):
            err = self.rotate(old, who=who, expect=409)
            self.assertIn("no longer active", err["error"]["message"])
        self.assertEqual(self.cred(old)["rotated_to"], None)
        self.assertEqual(self.on_instance(), before)


if __name__ == "__main__":
    unittest.main()
