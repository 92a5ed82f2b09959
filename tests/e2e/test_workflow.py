"""End-to-end: the access-request workflow, its policy, manual fulfilment,
one-time delivery, the support-ops exception and the audit log."""
import os
import sqlite3
import threading
import unittest

from harness import Server, make_person, token_for
from harness import sqlite_store

SECRET = "zd-SECRET-0123456789abcdefXYZ"


class Workflow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        s = cls.srv
        cls.manager = make_person(s, "maria@example.com", name="Maria")
        cls.requester = make_person(s, "rick@example.com", name="Rick",
                                    manager="maria@example.com")
        cls.prov1 = make_person(s, "pat@example.com", name="Pat")
        cls.prov2 = make_person(s, "quinn@example.com", name="Quinn")
        cls.auditor = make_person(s, "ada@example.com", roles=["auditor"])
        cls.ops = make_person(s, "sam@example.com", teams=["support-ops"],
                              manager="maria@example.com")
        cls.other = make_person(s, "olga@example.com",
                                manager="pat@example.com")
        cls.lonely = make_person(s, "lone@example.com")
        cls.tok = {p["email"]: token_for(s, p["email"]) for p in (
            cls.manager, cls.requester, cls.prov1, cls.prov2, cls.auditor,
            cls.ops, cls.other, cls.lonely)}
        st, _, _ = s.request("POST", "/v1/instances", {
            "name": "global", "url": "https://global.example.com",
            "provisioners": ["pat@example.com", "quinn@example.com",
                             "maria@example.com"],
            "allow_integrations": True, "issuance": "manual",
            "max_lifetime_days": 365})
        assert st == 201
        st, _, _ = s.request("POST", "/v1/instances", {
            "name": "usgov", "url": "https://usgov.example.com",
            "provisioners": ["pat@example.com"], "allow_integrations": False,
            "allowed_scopes": ["read", "tickets:read"],
            "max_lifetime_days": 90, "issuance": "manual"})
        assert st == 201

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    # -- helpers -----------------------------------------------------------

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def file(self, who="rick@example.com", **over):
        body = {"instance": "global", "kind": "api_token",
                "justification": "nightly ticket export",
                "use_case": "reads tickets for reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        body.update(over)
        st, obj, _ = self.as_(who, "POST", "/v1/requests", body)
        self.assertEqual(st, 201, obj)
        return obj

    def act(self, who, rid, action, body=None, expect=200):
        st, obj, _ = self.as_(who, "POST", "/v1/requests/%s/%s" %
                              (rid, action), body if body is not None else {})
        self.assertEqual(st, expect, obj)
        return obj

    def to_fulfilment(self, **over):
        r = self.file(**over)
        self.act("maria@example.com", r["id"], "approve", {"comment": "ok"})
        ack = {"acknowledge_risk": True} if over.get("kind") == \
            "integration" else {}
        return self.act("pat@example.com", r["id"], "approve", ack)

    # -- the whole flow ----------------------------------------------------

    def test_full_flow_manual_fulfilment_and_one_time_reveal(self):
        r = self.file()
        self.assertEqual(r["state"], "pending_manager")
        self.assertEqual(r["requester"], "rick@example.com")
        self.assertEqual(r["manager"], "maria@example.com")
        self.assertEqual(r["link"], "%s/requests/%s" % (self.srv.url,
                                                       r["id"]))
        r = self.act("maria@example.com", r["id"], "approve",
                     {"comment": "fine"})
        self.assertEqual(r["state"], "pending_provisioner")
        r = self.act("pat@example.com", r["id"], "approve")
        self.assertEqual(r["state"], "awaiting_fulfilment")
        self.assertEqual(r["fulfilment"]["name"], r["link"])
        self.assertTrue(r["credential_id"])
        r = self.act("pat@example.com", r["id"], "fulfil",
                     {"secret": SECRET, "external_id": "9001"})
        self.assertEqual(r["state"], "issued")
        self.assertEqual([h["action"] for h in r["history"]],
                         ["created", "approved", "approved", "fulfilled"])
        self.assertEqual([h["actor"] for h in r["history"]],
                         ["rick@example.com", "maria@example.com",
                          "pat@example.com", "pat@example.com"])
        cid = r["credential_id"]
        st, c, _ = self.as_("rick@example.com", "GET",
                            "/v1/credentials/" + cid)
        self.assertEqual(st, 200)
        self.assertEqual(c["state"], "active")
        self.assertEqual(c["name"], r["link"])
        self.assertEqual(c["delivery"]["state"], "pending")
        self.assertTrue(c["fingerprint"].startswith("fp_"))
        self.assertNotIn(SECRET, self.srv.last_raw.decode())
        st, _, _ = self.as_("pat@example.com", "POST",
                            "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 403)
        st, obj, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual((st, obj), (200, {"secret": SECRET}))
        st, obj, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410)
        self.assertEqual(obj["error"]["code"], "gone")
        st, c, _ = self.as_("rick@example.com", "GET",
                            "/v1/credentials/" + cid)
        self.assertEqual(c["delivery"]["state"], "delivered")
        # the secret is nowhere at rest or in the log
        self.assert_secret_absent(SECRET)

    def assert_secret_absent(self, secret):
        needle = secret.encode()
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    self.assertNotIn(needle, fh.read(), f)
        self.assertNotIn(secret, self.srv.log())

    def test_access_request_url_names_the_credential(self):
        url = "https://tracker.example.com/access/42"
        r = self.file(access_request_url=url)
        self.assertEqual(r["link"], url)
        st, obj, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5,
            "access_request_url": "http://tracker.example.com/1"})
        self.assertEqual((st, obj["error"]["details"]["field"]),
                         (400, "access_request_url"))

    # -- who may act ---------------------------------------------------------

    def test_only_the_manager_decides_the_first_stage(self):
        r = self.file()
        for who in ("pat@example.com", "rick@example.com", "ada@example.com"):
            st, obj, _ = self.as_(who, "POST", "/v1/requests/%s/approve"
                                  % r["id"], {})
            self.assertEqual(st, 403, who)
        # olga cannot even see it
        st, _, _ = self.as_("olga@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 404)
        st, _, _ = self.as_("olga@example.com", "GET",
                            "/v1/requests/" + r["id"])
        self.assertEqual(st, 404)
        st, obj, _ = self.as_("maria@example.com", "GET",
                              "/v1/requests/" + r["id"])
        self.assertEqual((st, obj["state"]), (200, "pending_manager"))

    def test_manager_approver_cannot_also_review(self):
        r = self.file()
        self.act("maria@example.com", r["id"], "approve")
        # maria is a provisioner too, but gave the manager approval
        st, obj, _ = self.as_("maria@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 403)
        self.assertIn("manager who approved", obj["error"]["message"])
        r = self.act("quinn@example.com", r["id"], "approve")
        self.assertEqual(r["state"], "awaiting_fulfilment")

    def test_provisioner_cannot_review_own_request(self):
        st, _, _ = self.srv.request("PATCH", "/v1/people/pat@example.com",
                                    {"manager": "maria@example.com"})
        self.assertEqual(st, 200)
        r = self.file(who="pat@example.com")
        self.act("maria@example.com", r["id"], "approve")
        st, _, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 403)

    def test_deny_needs_a_comment_and_is_final(self):
        r = self.file()
        st, obj, _ = self.as_("maria@example.com", "POST",
                              "/v1/requests/%s/deny" % r["id"], {})
        self.assertEqual((st, obj["error"]["details"]["field"]),
                         (400, "comment"))
        r = self.act("maria@example.com", r["id"], "deny",
                     {"comment": "use the reporting API instead"})
        self.assertEqual(r["state"], "denied")
        self.assertEqual(r["history"][-1]["comment"],
                         "use the reporting API instead")
        st, obj, _ = self.as_("maria@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, obj["error"]["code"]), (409, "conflict"))

    def test_no_deny_after_approval(self):
        r = self.to_fulfilment()
        st, _, _ = self.as_("quinn@example.com", "POST",
                            "/v1/requests/%s/deny" % r["id"],
                            {"comment": "changed my mind"})
        self.assertEqual(st, 409)

    def test_withdraw(self):
        r = self.file()
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/withdraw" % r["id"], {})
        self.assertEqual(st, 403)
        r = self.act("rick@example.com", r["id"], "withdraw")
        self.assertEqual(r["state"], "withdrawn")
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/requests/%s/withdraw" % r["id"], {})
        self.assertEqual(st, 409)

    def test_integration_needs_acknowledged_risk(self):
        integ = {"name": "Reporting app",
                 "redirect_uris": ["https://app.example.com/cb"],
                 "client_kind": "confidential"}
        r = self.file(kind="integration", scopes=[], integration=integ)
        self.act("maria@example.com", r["id"], "approve")
        st, obj, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, obj["error"]["details"]["field"]),
                         (400, "acknowledge_risk"))
        r = self.act("pat@example.com", r["id"], "approve",
                     {"acknowledge_risk": True})
        self.assertEqual(r["state"], "awaiting_fulfilment")
        st, obj, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/fulfil" % r["id"],
                              {"secret": "s3cr3t-client"})
        self.assertEqual((st, obj["error"]["details"]["field"]),
                         (400, "external_id"))
        r = self.act("pat@example.com", r["id"], "fulfil",
                     {"secret": "s3cr3t-client", "external_id": "rep-app"})
        st, obj, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal"
                              % r["credential_id"])
        self.assertEqual((st, obj), (200, {"client_id": "rep-app",
                                           "client_secret": "s3cr3t-client"}))

    # -- instance policy ---------------------------------------------------

    def refused(self, body, needle):
        base = {"instance": "usgov", "kind": "api_token",
                "justification": "j", "use_case": "u",
                "scopes": ["read"], "lifetime_days": 30}
        base.update(body)
        st, obj, _ = self.as_("rick@example.com", "POST", "/v1/requests",
                              base)
        self.assertEqual((st, obj["error"]["code"]),
                         (422, "policy_violation"), obj)
        self.assertIn(needle, obj["error"]["message"])

    def test_policy_rules(self):
        self.refused({"kind": "integration", "scopes": [], "integration": {
            "name": "x", "redirect_uris": []}}, "does not allow integrations")
        self.refused({"scopes": ["tickets:write"]}, "tickets:write")
        self.refused({"scopes": ["tickets:delete"]}, "not a Zendesk scope")
        self.refused({"lifetime_days": 91}, "maximum of 90 days")
        st, obj, _ = self.as_("lone@example.com", "POST", "/v1/requests", {
            "instance": "usgov", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 30})
        self.assertEqual(st, 422)
        self.assertIn("no manager", obj["error"]["message"])

    def test_bad_requests_change_nothing(self):
        before = self.count_requests()
        for body, field in (
                ({"kind": "api_token"}, "instance"),
                ({"instance": "global", "kind": "token"}, "kind"),
                ({"instance": "nope", "kind": "api_token",
                  "justification": "j", "use_case": "u", "scopes": ["read"],
                  "lifetime_days": 1}, "instance"),
                ({"instance": "global", "kind": "api_token",
                  "justification": "j", "use_case": "u", "scopes": [],
                  "lifetime_days": 1}, "scopes"),
                ({"instance": "global", "kind": "api_token",
                  "justification": "j", "use_case": "u", "scopes": ["read"],
                  "lifetime_days": "30"}, "lifetime_days")):
            st, obj, _ = self.as_("rick@example.com", "POST",
                                  "/v1/requests", body)
            self.assertEqual(st, 400, body)
            self.assertEqual(obj["error"]["details"]["field"], field)
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/requests/req_nope/approve", {})
        self.assertEqual(st, 404)
        self.assertEqual(self.count_requests(), before)

    def count_requests(self):
        st, obj, _ = self.srv.request("GET", "/v1/requests?limit=500")
        self.assertEqual(st, 200)
        return len(obj["items"])

    # -- listing -------------------------------------------------------------

    def test_listing_shows_each_person_what_they_may_see(self):
        mine = self.file(who="olga@example.com")      # managed by pat
        ids = lambda who, q="": [r["id"] for r in self.as_(
            who, "GET", "/v1/requests" + q)[1]["items"]]
        self.assertIn(mine["id"], ids("olga@example.com"))
        self.assertNotIn(mine["id"], ids("rick@example.com"))
        self.assertIn(mine["id"], ids("pat@example.com"))      # manager
        self.assertIn(mine["id"], ids("ada@example.com"))      # auditor
        self.assertIn(mine["id"], ids("quinn@example.com"))    # provisioner
        self.assertIn(mine["id"],
                      ids("pat@example.com", "?actionable=true"))
        self.assertNotIn(mine["id"],
                         ids("quinn@example.com", "?actionable=true"))
        self.act("pat@example.com", mine["id"], "approve")
        # pat approved as manager: the review waits for someone else
        self.assertNotIn(mine["id"],
                         ids("pat@example.com", "?actionable=true"))
        self.assertIn(mine["id"],
                      ids("quinn@example.com", "?actionable=true"))
        self.assertTrue(all(r["state"] == "pending_provisioner" for r in
                            self.as_("ada@example.com", "GET",
                                     "/v1/requests?state=pending_provisioner"
                                     )[1]["items"]))
        st, obj, _ = self.as_("ada@example.com", "GET",
                              "/v1/requests?state=bogus")
        self.assertEqual(st, 400)

    # -- support-ops exception ---------------------------------------------

    def test_support_ops_direct_credential(self):
        body = {"instance": "global", "purpose": "automation",
                "link": "https://gitlab.example.com/ops/scripts/7",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        st, obj, _ = self.as_("rick@example.com", "POST", "/v1/credentials",
                              body)
        self.assertEqual(st, 403)
        st, c, _ = self.as_("sam@example.com", "POST", "/v1/credentials",
                            body)
        self.assertEqual(st, 201, c)
        self.assertEqual((c["purpose"], c["name"], c["owner"]),
                         ("automation", body["link"], "sam@example.com"))
        # manual instance: the member fulfils it themselves
        r = self.act("sam@example.com", c["request_id"], "fulfil",
                     {"secret": "ops-secret-123"})
        self.assertEqual(r["state"], "issued")
        st, obj, _ = self.as_("sam@example.com", "POST",
                              "/v1/credentials/%s/reveal" % c["id"])
        self.assertEqual((st, obj), (200, {"secret": "ops-secret-123"}))

    # -- revocation (manual instance) --------------------------------------

    def test_owner_gives_back_and_revoke_is_final(self):
        r = self.to_fulfilment()
        r = self.act("pat@example.com", r["id"], "fulfil", {"secret": "abc"})
        cid = r["credential_id"]
        st, _, _ = self.as_("olga@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 404)
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid,
                            {"reason": "no longer needed"})
        self.assertEqual((st, c["state"], c["revoke_reason"]),
                         (200, "revoked", "no longer needed"))
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 409)
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410)

    def test_fulfilling_a_withdrawn_request_is_refused(self):
        r = self.to_fulfilment()
        self.act("rick@example.com", r["id"], "withdraw")
        st, c, _ = self.as_("rick@example.com", "GET",
                            "/v1/credentials/" + r["credential_id"])
        self.assertEqual(c["state"], "revoked")        # the intent dropped
        st, obj, _ = self.as_("pat@example.com", "POST",
                              "/v1/requests/%s/fulfil" % r["id"],
                              {"secret": "late"})
        self.assertEqual(st, 409)

    # -- audit ---------------------------------------------------------------

    def test_audit_log_records_and_verifies(self):
        r = self.file()
        self.as_("pat@example.com", "POST", "/v1/requests/%s/approve"
                 % r["id"], {})                        # refused: 403
        st, _, _ = self.as_("rick@example.com", "GET", "/v1/audit")
        self.assertEqual(st, 403)
        events, after = [], 0
        while True:
            st, page, _ = self.as_("ada@example.com", "GET",
                                   "/v1/audit?limit=100&after_seq=%d" % after)
            self.assertEqual(st, 200)
            events += page["items"]
            if not page["next_cursor"]:
                break
            after = page["items"][-1]["seq"]
        self.assertEqual([e["seq"] for e in events],
                         list(range(1, len(events) + 1)))
        actions = [(e["action"], e["subject"]) for e in events]
        self.assertIn(("request.create", r["id"]), actions)
        self.assertIn(("request.refused", r["id"]), actions)
        for e in events[1:]:
            self.assertEqual(e["prev_hash"],
                             events[e["seq"] - 2]["hash"])
        st, v, _ = self.as_("ada@example.com", "GET", "/v1/audit/verify")
        self.assertEqual((st, v["ok"]), (200, True))
        self.assertGreaterEqual(v["events"], len(events))
        env = {"KEYWARDEN_TOKEN": self.tok["ada@example.com"]}
        ok = self.srv.cli("audit", "verify", "--expect-head",
                          events[-1]["hash"], "--server", self.srv.url,
                          env=env)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        bad = self.srv.cli("audit", "verify", "--expect-head", "0" * 64,
                           "--server", self.srv.url, env=env)
        # a head this log never had: not a broken chain, its own code
        self.assertEqual(bad.returncode, 3, bad.stdout + bad.stderr)
        self.assertIn("NOT IN THIS LOG", bad.stdout)
        self.assertNotIn("BROKEN", bad.stdout)


class Concurrency(unittest.TestCase):
    def test_two_reviewers_at_once_make_one_transition(self):
        with Server() as s:
            make_person(s, "m@example.com")
            make_person(s, "r@example.com", manager="m@example.com")
            for p in ("p1@example.com", "p2@example.com"):
                make_person(s, p)
            tok = {e: token_for(s, e) for e in ("m@example.com",
                   "r@example.com", "p1@example.com", "p2@example.com")}
            s.request("POST", "/v1/instances", {
                "name": "global", "url": "https://g.example.com",
                "provisioners": ["p1@example.com", "p2@example.com"],
                "issuance": "manual"})
            for _ in range(10):
                st, r, _ = s.request("POST", "/v1/requests", {
                    "instance": "global", "kind": "api_token",
                    "justification": "j", "use_case": "u",
                    "scopes": ["read"], "lifetime_days": 3},
                    token=tok["r@example.com"])
                s.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                          token=tok["m@example.com"])
                results = []

                def review(who, action):
                    body = {"comment": "no"} if action == "deny" else {}
                    results.append(s.request(
                        "POST", "/v1/requests/%s/%s" % (r["id"], action),
                        body, token=tok[who])[0])
                ts = [threading.Thread(target=review, args=a) for a in
                      (("p1@example.com", "approve"),
                       ("p2@example.com", "deny"))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(30)
                self.assertEqual(sorted(results), [200, 409])
                st, got, _ = s.request("GET", "/v1/requests/" + r["id"])
                self.assertIn(got["state"], ("awaiting_fulfilment", "denied"))
                self.assertEqual(len(got["history"]), 3)


class GroupCommit(unittest.TestCase):
    """Many writers at once: every answered change is there, in one
    unbroken audit chain, and refused changes leave nothing."""

    def test_concurrent_writes_all_land_with_their_audit_events(self):
        with Server() as s:
            make_person(s, "m@example.com")
            make_person(s, "r@example.com", manager="m@example.com")
            tok = token_for(s, "r@example.com")
            s.request("POST", "/v1/instances", {
                "name": "global", "url": "https://g.example.com",
                "issuance": "manual"})
            made, refused, errors = [], [], []

            def writer(n):
                for i in range(10):
                    # some refused inside the group: over the max (365)
                    lifetime = 5 if (n + i) % 4 else 400
                    st, r, _ = s.request("POST", "/v1/requests", {
                        "instance": "global", "kind": "api_token",
                        "justification": "j%d-%d" % (n, i), "use_case": "u",
                        "scopes": ["read"], "lifetime_days": lifetime},
                        token=tok)
                    if st == 201:
                        made.append(r["id"])
                    elif st == 422:
                        refused.append(n)
                    else:
                        errors.append((st, r))
            ts = [threading.Thread(target=writer, args=(n,))
                  for n in range(24)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertEqual(errors, [])
            self.assertEqual(len(made) + len(refused), 240)
            self.assertGreater(len(refused), 0)
            st, page, _ = s.request("GET", "/v1/requests?limit=500")
            self.assertEqual(sorted(r["id"] for r in page["items"]),
                             sorted(made))
            st, v, _ = s.request("GET", "/v1/audit/verify")
            self.assertTrue(v["ok"], v)
            events, after = [], 0
            while True:
                st, pg, _ = s.request("GET", "/v1/audit?limit=500"
                                      "&after_seq=%d" % after)
                events += pg["items"]
                if not pg["next_cursor"]:
                    break
                after = pg["items"][-1]["seq"]
            created = [e["subject"] for e in events
                       if e["action"] == "request.create"]
            self.assertEqual(sorted(created), sorted(made))


@sqlite_store
class AuditTampering(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        for i in range(5):
            make_person(cls.srv, "p%d@example.com" % i)
        cls.head = cls.srv.request("GET", "/v1/audit/verify")[1]["head"]
        cls.srv.stop()
        cls.db = os.path.join(cls.srv.data_dir, "keywarden.db")
        with open(cls.db, "rb") as f:
            cls.pristine = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def setUp(self):
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.unlink(self.db + suffix)
        with open(self.db, "wb") as f:
            f.write(self.pristine)

    def verify(self, *extra):
        return self.srv.cli("audit", "verify", "--data-dir",
                            self.srv.data_dir, *extra)

    def tamper(self, sql):
        c = sqlite3.connect(self.db)
        c.executescript(sql)
        c.commit()
        c.close()

    def test_intact(self):
        r = self.verify("--expect-head", self.head)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("intact", r.stdout)

    def test_modified_event(self):
        self.tamper("UPDATE audit_events SET details = '{\"id\":\"x\"}' "
                    "WHERE seq = 3")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("event 3", r.stdout)

    def test_deleted_event(self):
        self.tamper("DELETE FROM audit_events WHERE seq = 4")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("event 4", r.stdout)

    def test_inserted_event(self):
        self.tamper("UPDATE audit_events SET seq = -seq WHERE seq >= 3;"
                    "UPDATE audit_events SET seq = 1 - seq WHERE seq < 0;"
                    "INSERT INTO audit_events SELECT 3, at, actor, action, "
                    "subject, details, prev_hash, hash FROM audit_events "
                    "WHERE seq = 2")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("event 3", r.stdout)

    def test_reordered_events(self):
        self.tamper("UPDATE audit_events SET seq = -1 WHERE seq = 2;"
                    "UPDATE audit_events SET seq = 2 WHERE seq = 3;"
                    "UPDATE audit_events SET seq = 3 WHERE seq = -1")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("event 2", r.stdout)

    def test_an_older_head_still_verifies_after_the_log_grew(self):
        self.srv.start()
        make_person(self.srv, "later@example.com")
        self.srv.stop()
        r = self.verify("--expect-head", self.head)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_truncated_tail_caught_by_expected_head(self):
        self.tamper("DELETE FROM audit_events WHERE seq = "
                    "(SELECT max(seq) FROM audit_events)")
        self.assertEqual(self.verify().returncode, 0)   # chain still links
        r = self.verify("--expect-head", self.head)
        self.assertEqual(r.returncode, 3)
        self.assertIn("NOT IN THIS LOG", r.stdout)
        self.assertIn("events after it were removed", r.stdout)

    def test_a_head_not_in_the_log_is_not_called_broken(self):
        r = self.verify("--expect-head", "deadbeef")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("64", r.stderr)
        r = self.verify("--expect-head", "ab" * 32)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("NOT IN THIS LOG", r.stdout)
        self.assertNotIn("BROKEN", r.stdout)


@sqlite_store
class AuditUnavailable(unittest.TestCase):
    def test_change_fails_with_503_when_audit_cannot_be_written(self):
        with Server() as s:
            db = sqlite3.connect(os.path.join(s.data_dir, "keywarden.db"),
                                 timeout=10)
            db.executescript("CREATE TRIGGER no_audit BEFORE INSERT ON "
                             "audit_events BEGIN SELECT RAISE(ABORT, "
                             "'audit disk gone'); END;")
            st, obj, _ = s.request("POST", "/v1/people",
                                   {"email": "x@example.com", "name": "X"})
            self.assertEqual((st, obj["error"]["code"]), (503, "unavailable"))
            st, _, _ = s.request("GET", "/v1/people/x@example.com")
            self.assertEqual(st, 404)
            db.executescript("DROP TRIGGER no_audit;")
            db.close()
            st, _, _ = s.request("POST", "/v1/people",
                                 {"email": "x@example.com", "name": "X"})
            self.assertEqual(st, 201)


if __name__ == "__main__":
    unittest.main()
