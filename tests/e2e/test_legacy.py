"""End-to-end: Zendesk's legacy API tokens.  `POST /v1/instances/{name}/sync`
reads them (metadata only) and the last use of keywarden's own OAuth
tokens; `GET /v1/reports/migration` shows when each legacy token is
deactivated and what replaces it; `POST /v1/credentials/{id}/link-replacement`
records the replacement.  keywarden and the simulator share one frozen
clock (NOW) unless a case moves the simulator's."""
import json
import os
import unittest

from harness import Server, make_person, token_for
from test_issuance import setup_world
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim, basic

NOW = "2026-11-01T00:00:00Z"
SHUTDOWN = "2027-04-30T00:00:00Z"


class Base(unittest.TestCase):
    extra = ["--upstream-timeout", "2", "--upstream-attempts", "3"]
    now = NOW

    def setUp(self):
        self.sim = ZendeskSim(now=self.now).start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=self.extra,
                          env={"KEYWARDEN_FAKE_NOW": self.now}).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)
        self.secrets = []

    def as_(self, who, method, path, body=None):
        if who == "admin":
            return self.srv.request(method, path, body)
        return self.srv.request(method, path, body, token=self.tok[who])

    def seed(self, description, created_at=None, last_used=None):
        t = self.sim.seed_legacy(description=description,
                                 created_at=created_at, last_used=last_used)
        self.secrets.append(t["token"])
        return t

    def sync(self, who="admin", expect=200, name="global"):
        st, out, _ = self.as_(who, "POST", "/v1/instances/%s/sync" % name, {})
        self.assertEqual(st, expect, out)
        return out

    def legacy(self, **q):
        q.setdefault("instance", "global")
        qs = "&".join("%s=%s" % kv for kv in sorted(q.items()))
        st, page, _ = self.srv.request("GET", "/v1/credentials?limit=500&"
                                       + qs)
        self.assertEqual(st, 200, page)
        return {c["external"]["api_token_id"]: c for c in page["items"]
                if c["kind"] == "legacy_api_token"}

    def report(self, who="admin", query="", expect=200):
        st, rep, _ = self.as_(who, "GET", "/v1/reports/migration" + query)
        self.assertEqual(st, expect, rep)
        return rep

    def section(self, rep, name="global"):
        [sec] = [s for s in rep["instances"] if s["instance"] == name]
        return sec

    def issue(self, scopes=("tickets:read",)):
        """A keywarden api_token for rick through the request flow."""
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "replaces the Zapier token",
            "use_case": "export", "scopes": list(scopes),
            "lifetime_days": 30})
        self.assertEqual(st, 201, r)
        for who in ("maria@example.com", "pat@example.com"):
            st, r, _ = self.as_(who, "POST",
                                "/v1/requests/%s/approve" % r["id"], {})
            self.assertEqual(st, 200, r)
        self.assertEqual(r["state"], "issued", r)
        return r["credential_id"]

    def assert_secrets_nowhere(self, *answers):
        blobs = [json.dumps(a) for a in answers]
        st, audit, _ = self.srv.request("GET", "/v1/audit?limit=500")
        blobs.append(json.dumps(audit))
        blobs.append(self.srv.log())
        for secret in self.secrets:
            for b in blobs:
                self.assertNotIn(secret, b)
            needle = secret.encode()
            for root, _, files in os.walk(self.srv.data_dir):
                for f in files:
                    with open(os.path.join(root, f), "rb") as fh:
                        self.assertNotIn(needle, fh.read(), f)


class Sync(Base):
    def test_sync_imports_legacy_tokens_as_metadata_only(self):
        a = self.seed("Zapier export", created_at="2026-03-01T10:00:00Z",
                      last_used="2026-10-20T08:30:00Z")
        b = self.seed("Never used", created_at="2026-10-15T00:00:00Z")
        out = self.sync()
        self.assertEqual(out, {"instance": "global", "legacy_tokens": 2,
                               "imported": 2, "updated": 0, "removed": 0,
                               "oauth_last_used_updated": 0})
        got = self.legacy()
        self.assertEqual(sorted(got), sorted([str(a["id"]), str(b["id"])]))
        ca = got[str(a["id"])]
        self.assertEqual(ca["name"], "Zapier export")
        self.assertEqual(ca["state"], "active")
        self.assertEqual(ca["purpose"], "legacy")
        self.assertEqual(ca["owner"], "admin@example.com")
        self.assertEqual(ca["created_at"], "2026-03-01T10:00:00Z")
        self.assertEqual(ca["last_used_at"], "2026-10-20T08:30:00Z")
        self.assertEqual(ca["external"], {
            "api_token_id": str(a["id"]), "active": True,
            "zendesk_created_at": "2026-03-01T10:00:00Z"})
        self.assertIsNone(ca["expires_at"])
        self.assertEqual(ca["scopes"], [])
        self.assertEqual(ca["delivery"]["state"], "not_applicable")
        self.assertIsNone(ca["fingerprint"])
        self.assertIsNone(got[str(b["id"])]["last_used_at"])
        # nothing to reveal: keywarden never had the value
        st, _, _ = self.srv.request("POST", "/v1/credentials/%s/reveal"
                                    % ca["id"], {})
        self.assertIn(st, (403, 410))
        st, audit, _ = self.srv.request("GET", "/v1/audit?limit=500")
        [ev] = [e for e in audit["items"] if e["action"] == "instance.sync"]
        self.assertEqual(ev["subject"], "global")
        self.assertEqual(ev["details"]["imported"], 2)
        self.assertEqual(ev["details"]["legacy_tokens"], 2)
        self.assert_secrets_nowhere(out, got, self.report())

    def test_resync_is_idempotent_and_follows_last_use(self):
        a = self.seed("CRM", created_at="2026-05-01T00:00:00Z",
                      last_used="2026-10-30T00:00:00Z")
        self.seed("Billing", created_at="2026-10-05T00:00:00Z")
        self.assertEqual(self.sync()["imported"], 2)
        first = self.legacy()
        out = self.sync()
        self.assertEqual((out["imported"], out["updated"], out["removed"]),
                         (0, 0, 0))
        self.assertEqual(self.legacy(), first)
        # the token is used on the instance: the next sync sees it
        self.sim.set_now("2026-11-01T06:00:00Z")
        st, _, _ = self.sim.request("GET", "/api/v2/users/me",
                                    auth=basic(ADMIN_EMAIL, a["token"]))
        self.assertEqual(st, 200)
        out = self.sync()
        self.assertEqual((out["legacy_tokens"], out["imported"],
                          out["updated"]), (2, 0, 1))
        got = self.legacy()
        self.assertEqual(len(got), 2)
        self.assertEqual(got[str(a["id"])]["last_used_at"],
                         "2026-11-01T06:00:00Z")
        self.assertEqual(got[str(a["id"])]["id"], first[str(a["id"])]["id"])

    def test_legacy_tokens_cannot_be_revoked_locally(self):
        t = self.seed("old", created_at="2026-09-01T00:00:00Z",
                      last_used="2026-10-30T00:00:00Z")
        self.sync()
        c = self.legacy()[str(t["id"])]
        st, err, _ = self.as_("admin", "POST",
                              "/v1/credentials/%s/revoke" % c["id"], {})
        self.assertEqual(st, 409)
        self.assertIn("legacy", err["error"]["message"])
        self.assertEqual(self.legacy()[str(t["id"])]["state"], "active")

    def test_jobs_warn_provisioners_once_per_threshold(self):
        # last used 20 days ago: deactivation due in 10 days (14-day mark)
        self.seed("soon", created_at="2026-09-01T00:00:00Z",
                  last_used="2026-10-12T00:00:00Z")
        self.seed("fresh", created_at="2026-09-01T00:00:00Z",
                  last_used="2026-10-31T00:00:00Z")
        self.sync()

        def jobs(now):
            r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                             "--now", now)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            return json.loads(r.stdout)
        self.assertEqual(jobs(NOW)["legacy_warnings"], 1)
        self.assertEqual(jobs(NOW)["legacy_warnings"], 0)
        # 3 days before deactivation: the next mark
        self.assertEqual(jobs("2026-11-08T00:00:00Z")["legacy_warnings"], 1)

    def test_deactivated_then_deleted_on_the_instance(self):
        # the instance deactivates a token unused for 30 days (from
        # 2026-07-28 on) and deletes it 60 days later
        self.sim.set_now("2026-08-01T00:00:00Z")
        old = self.seed("Old export", created_at="2026-04-01T00:00:00Z",
                        last_used="2026-05-01T00:00:00Z")
        live = self.seed("Live", created_at="2026-07-31T00:00:00Z")
        out = self.sync()
        self.assertEqual(out["imported"], 2)
        got = self.legacy()
        c = got[str(old["id"])]
        self.assertEqual((c["state"], c["revoke_reason"]),
                         ("expired", "deactivated by Zendesk"))
        self.assertFalse(c["external"]["active"])
        self.assertEqual(got[str(live["id"])]["state"], "active")
        self.sim.set_now("2026-10-01T00:00:00Z")
        [listed] = self.sim.state()["legacy_tokens"]
        self.assertEqual(listed["id"], live["id"])
        out = self.sync()
        self.assertEqual((out["legacy_tokens"], out["removed"],
                          out["updated"]), (1, 1, 1))
        got = self.legacy()
        c = got[str(old["id"])]
        self.assertEqual((c["state"], c["revoke_reason"]),
                         ("revoked", "no longer on the instance"))
        self.assertEqual(got[str(live["id"])]["state"], "expired")
        # gone for good: not counted again, and left out of the report
        out = self.sync()
        self.assertEqual((out["removed"], out["updated"]), (0, 0))
        sec = self.section(self.report())
        self.assertEqual([t["api_token_id"] for t in sec["tokens"]],
                         [str(live["id"])])

    def test_used_at_of_keywardens_tokens_is_recorded(self):
        cid = self.issue()
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        self.sim.set_now("2026-11-01T10:30:00Z")
        st, _, _ = self.sim.request("GET", "/api/v2/users/me",
                                    token=sec["secret"])
        self.assertEqual(st, 200)
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertIsNone(c["last_used_at"])
        out = self.sync(who="pat@example.com")
        self.assertEqual(out["oauth_last_used_updated"], 1)
        self.assertEqual(out["legacy_tokens"], 0)
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertEqual(c["last_used_at"], "2026-11-01T10:30:00Z")
        self.assertEqual(self.sync()["oauth_last_used_updated"], 0)
        self.secrets.append(sec["secret"])
        self.assert_secrets_nowhere(out)

    def test_upstream_failure_is_502_and_changes_nothing(self):
        self.seed("CRM", created_at="2026-05-01T00:00:00Z")
        self.sim.fault(status=503, count=100, path_prefix="/api/v2/api_tokens")
        st, err, _ = self.srv.request("POST", "/v1/instances/global/sync", {})
        self.assertEqual((st, err["error"]["code"]), (502, "upstream_error"))
        self.assertEqual(err["error"]["details"]["status"], 503)
        self.sim.clear_faults()
        self.assertEqual(self.legacy(), {})
        st, audit, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertNotIn("instance.sync",
                         [e["action"] for e in audit["items"]])

    def test_sync_needs_a_bot_and_a_known_instance(self):
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "nobot", "url": self.sim.url, "issuance": "manual"})
        self.assertEqual(st, 201, obj)
        st, err, _ = self.srv.request("POST", "/v1/instances/nobot/sync", {})
        self.assertEqual((st, err["error"]["code"]), (409, "conflict"))
        self.assertIn("Integration-bot", err["error"]["message"])
        st, err, _ = self.srv.request("POST", "/v1/instances/nope/sync", {})
        self.assertEqual(st, 404)
        st, err, _ = self.srv.request("POST", "/v1/instances/global/sync",
                                      {"force": True})
        self.assertEqual((st, err["error"]["details"]["field"]),
                         (400, "force"))
        st, out, _ = self.srv.request("POST", "/v1/instances/global/sync")
        self.assertEqual((st, out["legacy_tokens"]), (200, 0))

    def test_missing_listing_before_the_shutdown_is_an_error(self):
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "wrong", "url": self.sim.url + "/not-zendesk",
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, obj)
        st, err, _ = self.srv.request("POST", "/v1/instances/wrong/sync", {})
        self.assertEqual((st, err["error"]["code"]), (502, "upstream_error"))
        self.assertEqual(err["error"]["details"]["status"], 404)


class AfterShutdown(Base):
    """On 2027-04-30 Zendesk switches every legacy token off and retires
    their listing: a sync then records them all as gone."""

    now = "2027-05-01T00:00:00Z"

    def test_retired_listing_means_every_token_is_gone(self):
        self.sim.set_now("2027-04-20T00:00:00Z")
        t = self.seed("Last one", created_at="2027-04-10T00:00:00Z")
        self.assertEqual(self.sync()["imported"], 1)
        self.sim.set_now("2027-05-01T00:00:00Z")
        st, _, _ = self.sim.api("GET", "/api/v2/api_tokens")
        self.assertEqual(st, 404)
        out = self.sync()
        self.assertEqual((out["legacy_tokens"], out["removed"]), (0, 1))
        c = self.legacy()[str(t["id"])]
        self.assertEqual(c["state"], "revoked")
        self.assertIn("switched legacy API tokens off", c["revoke_reason"])
        self.assertEqual(self.section(self.report())["summary"]["total"], 0)


class Report(Base):
    def setUp(self):
        super().setUp()
        # NOW is 2026-11-01: due 2026-11-09 (soon), 2026-11-19,
        # 2026-11-30, and one deactivated on 2026-10-15
        self.a = self.seed("Zapier", created_at="2026-01-10T00:00:00Z",
                           last_used="2026-10-10T12:00:00Z")
        self.b = self.seed("Unused", created_at="2026-10-20T00:00:00Z")
        self.c = self.seed("Busy", created_at="2026-02-01T00:00:00Z",
                           last_used="2026-10-31T08:00:00Z")
        self.d = self.seed("Lapsed", created_at="2026-02-01T00:00:00Z",
                           last_used="2026-09-15T00:00:00Z")
        self.sync()
        self.ids = {k: self.legacy()[str(t["id"])]["id"]
                    for k, t in (("a", self.a), ("b", self.b),
                                 ("c", self.c), ("d", self.d))}

    def test_dates_and_summary(self):
        rep = self.report()
        self.assertEqual(rep["shutdown"], SHUTDOWN)
        self.assertEqual(rep["generated_at"], NOW)
        sec = self.section(rep)
        tokens = {t["api_token_id"]: t for t in sec["tokens"]}
        ta = tokens[str(self.a["id"])]
        self.assertEqual(ta, {
            "id": self.ids["a"], "name": "Zapier",
            "api_token_id": str(self.a["id"]), "active": True,
            "last_used_at": "2026-10-10T12:00:00Z",
            "deactivation_due": "2026-11-09T12:00:00Z",
            "shutdown": SHUTDOWN, "replacement": None})
        tb = tokens[str(self.b["id"])]
        self.assertIsNone(tb["last_used_at"])
        self.assertEqual(tb["deactivation_due"], "2026-11-19T00:00:00Z")
        self.assertEqual(tokens[str(self.c["id"])]["deactivation_due"],
                         "2026-11-30T08:00:00Z")
        td = tokens[str(self.d["id"])]
        self.assertFalse(td["active"])
        self.assertEqual(td["deactivation_due"], "2026-10-15T00:00:00Z")
        self.assertEqual(sec["summary"], {
            "total": 4, "active": 3, "replaced": 0, "unreplaced": 4,
            "deactivation_within_14_days": 1, "expiring_tokens": 0})

    def test_instance_filter(self):
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "eu", "url": self.sim.url,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, obj)
        self.assertEqual([s["instance"] for s in self.report()["instances"]],
                         ["global", "eu"])
        rep = self.report(query="?instance=global")
        self.assertEqual([s["instance"] for s in rep["instances"]],
                         ["global"])
        self.assertEqual(self.section(rep)["summary"]["total"], 4)
        rep = self.report(query="?instance=eu")
        self.assertEqual(rep["instances"], [{
            "instance": "eu", "tokens": [], "expiring_tokens": [],
            "summary": {
                "total": 0, "active": 0, "replaced": 0, "unreplaced": 0,
                "deactivation_within_14_days": 0, "expiring_tokens": 0}}])
        err = self.report(query="?instance=nope", expect=400)
        self.assertEqual(err["error"]["details"]["field"], "instance")

    def test_link_replacement_shows_as_replaced(self):
        cid = self.issue()
        st, c, _ = self.as_("pat@example.com", "POST",
                            "/v1/credentials/%s/link-replacement"
                            % self.ids["a"], {"replacement_id": cid})
        self.assertEqual(st, 200, c)
        self.assertEqual((c["id"], c["kind"], c["replacement_id"]),
                         (self.ids["a"], "legacy_api_token", cid))
        st, repl, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        sec = self.section(self.report())
        [ta] = [t for t in sec["tokens"] if t["id"] == self.ids["a"]]
        self.assertEqual(ta["replacement"], {
            "id": cid, "state": "active", "name": repl["name"],
            "delivery": "token"})
        self.assertEqual((sec["summary"]["replaced"],
                          sec["summary"]["unreplaced"]), (1, 3))
        st, audit, _ = self.srv.request("GET", "/v1/audit?limit=500")
        [ev] = [e for e in audit["items"]
                if e["action"] == "credential.link_replacement"]
        self.assertEqual((ev["subject"], ev["actor"],
                          ev["details"]["replacement_id"]),
                         (self.ids["a"], "pat@example.com", cid))
        # a re-sync keeps the link
        self.sync()
        [ta] = [t for t in self.section(self.report())["tokens"]
                if t["id"] == self.ids["a"]]
        self.assertEqual(ta["replacement"]["id"], cid)
        # null clears it
        st, c, _ = self.as_("admin", "POST",
                            "/v1/credentials/%s/link-replacement"
                            % self.ids["a"], {"replacement_id": None})
        self.assertEqual((st, c["replacement_id"]), (200, None))
        sec = self.section(self.report())
        self.assertEqual(sec["summary"]["replaced"], 0)

    def test_link_replacement_is_checked(self):
        cid = self.issue()
        link = "/v1/credentials/%s/link-replacement"
        # only a legacy token is replaced
        st, err, _ = self.as_("admin", "POST", link % cid,
                              {"replacement_id": self.ids["a"]})
        self.assertEqual((st, err["error"]["code"]), (409, "conflict"))
        # by a keywarden credential that exists, on the same instance
        for bad in (self.ids["b"], "cred_nonexistent"):
            st, err, _ = self.as_("admin", "POST", link % self.ids["a"],
                                  {"replacement_id": bad})
            self.assertEqual((st, err["error"]["code"],
                              err["error"]["details"]["field"]),
                             (400, "validation_failed", "replacement_id"))
        st, err, _ = self.as_("admin", "POST", link % self.ids["a"], {})
        self.assertEqual((st, err["error"]["details"]["field"]),
                         (400, "replacement_id"))
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "eu", "url": self.sim.url, "issuance": "automatic",
            "provisioners": ["pat@example.com"],
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, obj)
        st, r, _ = self.as_("sam@example.com", "POST", "/v1/credentials", {
            "instance": "eu", "purpose": "personal",
            "link": "https://gitlab.example.com/ops/issues/9",
            "scopes": ["read"], "lifetime_days": 10})
        self.assertEqual(st, 201, r)
        st, err, _ = self.as_("admin", "POST", link % self.ids["a"],
                              {"replacement_id": r["id"]})
        self.assertEqual((st, err["error"]["details"]["field"]),
                         (400, "replacement_id"))
        self.assertIn("eu", err["error"]["message"])
        # who may link: admin, the instance's provisioners
        st, _, _ = self.as_("rick@example.com", "POST", link % self.ids["a"],
                            {"replacement_id": cid})
        self.assertEqual(st, 404)
        auditor = make_person(self.srv, "audrey@example.com",
                              roles=["auditor"])
        self.tok["audrey@example.com"] = token_for(self.srv, auditor["id"])
        st, _, _ = self.as_("audrey@example.com", "POST",
                            link % self.ids["a"], {"replacement_id": cid})
        self.assertEqual(st, 403)
        st, _, _ = self.as_("quinn@example.com", "POST",
                            link % self.ids["a"], {"replacement_id": cid})
        self.assertEqual(st, 200)


class Permissions(Base):
    def setUp(self):
        super().setUp()
        self.seed("CRM", created_at="2026-05-01T00:00:00Z",
                  last_used="2026-10-25T00:00:00Z")
        # sam provisions another instance only
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "eu", "url": self.sim.url,
            "provisioners": ["sam@example.com"],
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, obj)
        auditor = make_person(self.srv, "audrey@example.com",
                              roles=["auditor"])
        self.tok["audrey@example.com"] = token_for(self.srv, auditor["id"])

    def test_who_may_sync(self):
        for who in ("rick@example.com", "sam@example.com",
                    "audrey@example.com"):
            err = self.sync(who=who, expect=403)
            self.assertEqual(err["error"]["code"], "forbidden")
        self.assertEqual(self.legacy(), {})
        self.assertEqual(self.sync(who="pat@example.com")["imported"], 1)
        self.assertEqual(self.sync(who="sam@example.com", name="eu")
                         ["legacy_tokens"], 1)

    def test_who_may_read_the_report(self):
        self.sync()
        self.report(who="rick@example.com", expect=403)
        rep = self.report(who="audrey@example.com")
        self.assertEqual(self.section(rep)["summary"]["total"], 1)
        rep = self.report(who="pat@example.com")
        self.assertEqual([s["instance"] for s in rep["instances"]],
                         ["global"])
        rep = self.report(who="sam@example.com")
        self.assertEqual([s["instance"] for s in rep["instances"]], ["eu"])
        self.report(who="sam@example.com", query="?instance=global",
                    expect=403)


class Cli(Base):
    def kw(self, *args, token=None):
        r = self.srv.cli(*(list(args) + ["--server", self.srv.url]), env={
            "KEYWARDEN_TOKEN": token or self.srv.admin_token})
        return r

    def test_sync_report_and_link_from_the_cli(self):
        a = self.seed("Zapier export", created_at="2026-01-10T00:00:00Z",
                      last_used="2026-10-10T12:00:00Z")
        self.seed("Unused", created_at="2026-10-20T00:00:00Z")
        r = self.kw("instances", "sync", "global")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 legacy API tokens listed", r.stdout)
        self.assertIn("2 imported", r.stdout)
        legacy_id = self.legacy()[str(a["id"])]["id"]
        cid = self.issue()
        r = self.kw("credential", "link-replacement", legacy_id,
                    "--replacement", cid, token=self.tok["pat@example.com"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(cid, r.stdout)
        r = self.kw("report", "migration")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("instance global", lines)
        [head] = [ln for ln in lines if ln.startswith("NAME")]
        for col in ("API TOKEN ID", "ACTIVE", "LAST USED",
                    "DEACTIVATION DUE", "REPLACEMENT"):
            self.assertIn(col, head)
        [row] = [ln for ln in lines if ln.startswith("Zapier export")]
        for cell in (str(a["id"]), "true", "2026-10-10T12:00:00Z",
                     "2026-11-09T12:00:00Z", cid + " (active)"):
            self.assertIn(cell, row)
        [row] = [ln for ln in lines if ln.startswith("Unused")]
        self.assertIn("2026-11-19T00:00:00Z", row)
        self.assertIn("summary: 2 total, 2 active, 1 replaced, 1 unreplaced,"
                      " 1 deactivating within 14 days", lines)
        r = self.kw("report", "migration", "--instance", "global", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), self.report(
            query="?instance=global"))
        r = self.kw("report", "migration", token=self.tok["rick@example.com"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("403 forbidden", r.stderr)
        r = self.kw("credential", "link-replacement", legacy_id,
                    "--replacement", "none")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no replacement", r.stdout)
        r = self.kw("credential", "link-replacement", legacy_id)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
