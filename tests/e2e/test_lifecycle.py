"""End-to-end: the lifecycle jobs driven with `keywarden jobs run --now`,
and rotation with a grace period."""
import datetime
import json
import subprocess
import unittest

from harness import Server, base_env
from test_issuance import setup_world
from zendesk_sim import ZendeskSim


def at(days=0, hours=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.sim = ZendeskSim().start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=["--upstream-timeout", "2"]).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def issue(self, lifetime=30, who="rick@example.com"):
        st, r, _ = self.as_(who, "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": lifetime})
        self.assertEqual(st, 201, r)
        self.as_("maria@example.com", "POST",
                 "/v1/requests/%s/approve" % r["id"], {})
        st, r, _ = self.as_("pat@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(r["state"], "issued", r)
        return r["credential_id"]

    def reveal(self, cid, who="rick@example.com"):
        st, sec, _ = self.as_(who, "POST", "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        return sec

    def jobs(self, now):
        r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                         "--now", now, "--upstream-timeout", "2")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def cred(self, cid):
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200)
        return c

    def on_instance(self):
        return {c["identifier"][len("keywarden-"):]
                for c in self.sim.state()["clients"]
                if c["identifier"].startswith("keywarden-")}

    def test_one_digest_per_person_and_no_repeat_per_threshold(self):
        ids = [self.issue(30) for _ in range(3)] + [self.issue(90)]
        for cid in ids:
            self.reveal(cid)
        s = self.jobs(at(days=20))      # 10 days left: the 14-day mark
        self.assertEqual(s["warnings"], {"digests": 1, "credentials": 3})
        s = self.jobs(at(days=20, hours=1))
        self.assertEqual(s["warnings"], {"digests": 0, "credentials": 0})
        s = self.jobs(at(days=24))      # 6 days left: the 7-day mark
        self.assertEqual(s["warnings"], {"digests": 1, "credentials": 3})
        self.assertEqual(s["errors"], [])

    def test_expiry_revokes_on_the_instance(self):
        cid = self.issue(5)
        self.reveal(cid)
        self.assertIn(cid, self.on_instance())
        s = self.jobs(at(days=6))
        self.assertEqual(s["expiry"], {"expired": 1})
        c = self.cred(cid)
        self.assertEqual(c["state"], "expired")
        self.assertNotIn(cid, self.on_instance())
        self.assertEqual(self.jobs(at(days=7))["expiry"], {})

    def test_undelivered_secret_is_destroyed_and_revoked(self):
        cid = self.issue(30)
        s = self.jobs(at(hours=25))
        self.assertEqual(s["undelivered"],
                         {"secrets_destroyed": 1, "revoked": 1})
        c = self.cred(cid)
        self.assertEqual((c["state"], c["delivery"]["state"]),
                         ("revoked", "expired"))
        self.assertNotIn(cid, self.on_instance())
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410)

    def test_rotation_with_grace(self):
        old = self.issue(30)
        self.reveal(old)
        st, new, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/rotate" % old, {})
        self.assertEqual(st, 201, new)
        self.assertEqual(new["rotated_from"], old)
        self.assertEqual(new["state"], "active")
        self.assertEqual(new["scopes"], ["read"])
        self.assertEqual(new["owner"], "rick@example.com")
        self.assertEqual(new["name"], self.cred(old)["name"])
        self.assertEqual(self.cred(old)["rotated_to"], new["id"])
        self.assertEqual(self.on_instance(), {old, new["id"]})
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/rotate" % old, {})
        self.assertEqual(st, 409)
        self.reveal(new["id"])
        s = self.jobs(at(days=3))       # within the 7-day grace
        self.assertEqual(s["rotation_grace"], {})
        s = self.jobs(at(days=8))
        self.assertEqual(s["rotation_grace"], {"revoked": 1})
        self.assertEqual(self.cred(old)["state"], "revoked")
        self.assertEqual(self.cred(new["id"])["state"], "active")
        self.assertEqual(self.on_instance(), {new["id"]})

    def test_stale_requests_expire(self):
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 5})
        self.assertEqual(self.jobs(at(days=13))["stale_requests"], {})
        s = self.jobs(at(days=15))
        self.assertEqual(s["stale_requests"], {"expired": 1})
        st, got, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(got["state"], "expired")
        self.assertEqual(got["history"][-1]["action"], "expired")
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 409)

    def test_two_job_runs_at_once_warn_once(self):
        for _ in range(4):
            self.reveal(self.issue(30))
        cmd = [self.srv.bin, "jobs", "run", "--data-dir", self.srv.data_dir,
               "--now", at(days=20)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env=base_env(self.srv.env))
                 for _ in range(2)]
        outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
        self.assertEqual(sum(o["warnings"]["credentials"] for o in outs), 4)
        self.assertEqual(sum(o["warnings"]["digests"] for o in outs), 1)

    def test_rotation_due_is_flagged_once_in_the_digest(self):
        self.reveal(self.issue(365))     # the instance rotates every 90 days
        s = self.jobs(at(days=91))
        self.assertEqual(s["warnings"], {"digests": 1, "credentials": 1})
        s = self.jobs(at(days=92))
        self.assertEqual(s["warnings"], {"digests": 0, "credentials": 0})

    def test_killed_mid_digest_warns_once_after_restart(self):
        for _ in range(2):
            self.reveal(self.issue(30))
        r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                         "--now", at(days=20),
                         env={"KEYWARDEN_CRASH_AT": "digest_before_commit"})
        self.assertEqual(r.returncode, 86)      # died mid-transaction
        s = self.jobs(at(days=20))
        self.assertEqual(s["warnings"], {"digests": 1, "credentials": 2})
        s = self.jobs(at(days=20))
        self.assertEqual(s["warnings"], {"digests": 0, "credentials": 0})

    def test_jobs_summary_with_nothing_due(self):
        s = self.jobs(at())
        for job in ("stale_requests", "undelivered", "expiry",
                    "rotation_grace"):
            self.assertEqual(s[job], {}, job)
        self.assertEqual(s["errors"], [])


if __name__ == "__main__":
    unittest.main()
