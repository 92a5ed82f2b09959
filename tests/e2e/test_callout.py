"""End-to-end: a slow instance holds up only the requests that wait on
it.  Handlers that may wait (WAITS routes: those that call another
service, approve, revoke, the broker's access token, offboarding, ...,
and every write) run on call-out workers while their connection is
suspended, so the HTTP thread that read them keeps serving its other
connections.  The server runs with ONE
HTTP thread here: without the workers, every request below would wait
for the hanging instance."""
import http.client
import json
import os
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import Server, make_person, token_for
from test_issuance import setup_world
from zendesk_sim import ZendeskSim

HANG_MS = 5000          # the instance's token call hangs this long


class Hanging(unittest.TestCase):
    """A world on the simulator whose issuances can be made to hang; the
    server runs with `env`."""
    env = {}

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=["--upstream-timeout", "15",
                                      "--upstream-attempts", "1"],
                          env=dict(self.env)).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def pending_approval(self):
        """A request that waits for its provisioner's approval; its
        issuance will hang on the instance's token call."""
        body = {"instance": "global", "kind": "api_token",
                "justification": "j", "use_case": "u", "scopes": ["read"],
                "lifetime_days": 30}
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        st, r, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r)
        self.sim.fault(status=0, hang_ms=HANG_MS, count=1,
                       path_prefix="/api/v2/oauth/tokens", method="POST")
        return r["id"]

    def approve_in_background(self, rid):
        done = {}

        def approve():
            done["answer"] = self.as_("pat@example.com", "POST",
                                      "/v1/requests/%s/approve" % rid, {})
            done["at"] = time.monotonic()
        t = threading.Thread(target=approve)
        t.start()
        self.addCleanup(t.join, 30)
        return t, done

    def wait_issuing(self, rid):
        deadline = time.monotonic() + HANG_MS / 1000
        while time.monotonic() < deadline:
            st, got, _ = self.srv.request("GET", "/v1/requests/" + rid)
            self.assertEqual(st, 200, got)
            if got["state"] == "issuing":
                return
            time.sleep(0.02)
        self.fail("the request never showed `issuing`")


class SlowInstance(Hanging):
    env = {"KEYWARDEN_THREADS": "1"}

    def test_other_requests_are_served_while_an_issuance_hangs(self):
        rid = self.pending_approval()
        # a keep-alive connection opened before the approval: it belongs
        # to the one HTTP thread, as the approval's connection does
        kept = http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                          timeout=30)
        self.addCleanup(kept.close)
        t, done = self.approve_in_background(rid)
        self.wait_issuing(rid)          # a GET answered mid-issuance
        answered = []
        for i in range(5):
            kept.request("GET", "/v1/me", headers={
                "Authorization": "Bearer " + self.tok["sam@example.com"]})
            resp = kept.getresponse()
            body = json.loads(resp.read())
            self.assertEqual((resp.status, body["email"]),
                             (200, "sam@example.com"))
            st, me, _ = self.as_("quinn@example.com", "GET", "/v1/me")
            self.assertEqual(st, 200, me)
            answered.append(time.monotonic())
        # and a write that does not call out: filing another request
        st, other, _ = self.as_("sam@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 30})
        self.assertEqual(st, 201, other)
        answered.append(time.monotonic())
        self.assertTrue(t.is_alive(),
                        "the issuance ended before the other requests were "
                        "answered: the test proves nothing")
        t.join(30)
        self.assertFalse(t.is_alive())
        st, answer = done["answer"][0], done["answer"][1]
        self.assertEqual((st, answer["state"]), (200, "issued"), answer)
        self.assertLess(max(answered), done["at"])

    def test_stopping_waits_for_a_call_out_and_answers_it(self):
        rid = self.pending_approval()
        t, done = self.approve_in_background(rid)
        self.wait_issuing(rid)
        code = self.srv.stop(timeout=30)
        self.assertFalse(self.srv.stop_timed_out)
        self.assertEqual(code, 0)
        t.join(30)
        st, answer = done["answer"][0], done["answer"][1]
        self.assertEqual((st, answer["state"]), (200, "issued"), answer)
        # nothing was left half-made: the restarted server agrees
        self.srv.start()
        st, got, _ = self.srv.request("GET", "/v1/requests/" + rid)
        self.assertEqual((st, got["state"]), (200, "issued"), got)
        st, c, _ = self.srv.request("GET", "/v1/credentials/" +
                                    answer["credential_id"])
        self.assertEqual((st, c["state"]), (200, "active"), c)


QUEUE_PER_WORKER = 16   # limits.h: KW_CALLOUT_QUEUE_PER_WORKER


class Overload(Hanging):
    """One call-out worker, stuck on a hanging instance: the requests
    that would wait for it queue up to KW_CALLOUT_QUEUE_PER_WORKER; the
    rest are answered 503 with Retry-After at once, having changed
    nothing, and the queued ones go through once the worker is free."""
    env = {"KEYWARDEN_CALLOUT_WORKERS": "1"}

    def test_requests_beyond_the_queue_are_shed_with_retry_after(self):
        rid = self.pending_approval()
        t, done = self.approve_in_background(rid)
        self.wait_issuing(rid)          # the one worker hangs
        n = QUEUE_PER_WORKER + 4
        answers = [None] * n

        def file(i):
            answers[i] = self.as_("sam@example.com", "POST",
                                  "/v1/requests", {
                                      "instance": "global",
                                      "kind": "api_token",
                                      "justification": "j%d" % i,
                                      "use_case": "u", "scopes": ["read"],
                                      "lifetime_days": 30})
            answers[i] = answers[i] + (time.monotonic(),)
        fs = [threading.Thread(target=file, args=(i,)) for i in range(n)]
        for f in fs:
            f.start()
        for f in fs:
            f.join(30)
        t.join(30)
        self.assertEqual(done["answer"][0], 200, done["answer"])
        shed = [a for a in answers if a[0] == 503]
        filed = [a for a in answers if a[0] == 201]
        self.assertEqual((len(shed), len(filed)), (4, QUEUE_PER_WORKER),
                         [a[:2] for a in answers])
        for st, body, headers, at in shed:
            self.assertEqual(body["error"]["code"], "unavailable", body)
            self.assertEqual(headers.get("Retry-After"), "1")
            self.assertLess(at, done["at"])     # at once, not queued
        # counted for the operators
        st, _, _ = self.srv.request("GET", "/metrics", token=None)
        self.assertEqual(st, 200)
        self.assertIn("\nkeywarden_http_shed_total 4\n",
                      self.srv.last_raw.decode("utf-8"))
        # nothing half-done: exactly the queued ones were filed
        st, got, _ = self.srv.request("GET", "/v1/requests?limit=500")
        self.assertEqual(st, 200, got)
        self.assertEqual(sorted(r["id"] for r in got["items"]
                                if r["id"] != rid),
                         sorted(a[1]["id"] for a in filed))


HOLD_S = 3              # the store's write lock is held this long
LOCK_WRITE = 0x6b77000000000001     # store/postgres.c: the write lock


class SlowCommit(unittest.TestCase):
    """A write waits for the store's write lock (held here from outside,
    as a busy database or another node would); the HTTP thread that read
    it keeps serving its other connections meanwhile, and the write goes
    through once the lock is free."""

    def setUp(self):
        self.srv = Server(env={"KEYWARDEN_THREADS": "1"}).start()
        self.addCleanup(self.srv.close)
        make_person(self.srv, "maria@example.com", name="Maria")
        make_person(self.srv, "rick@example.com", name="Rick",
                    manager="maria@example.com")
        make_person(self.srv, "pat@example.com", name="Pat")
        self.rick = token_for(self.srv, "rick@example.com")
        st, r, _ = self.srv.request("POST", "/v1/instances", {
            "name": "manual", "url": "https://manual.zendesk.example.com",
            "issuance": "manual", "provisioners": ["pat@example.com"]})
        self.assertEqual(st, 201, r)

    def hold_write_lock(self):
        """Take the store's write lock; return what releases it."""
        if self.srv.store_url:
            p = subprocess.Popen(
                ["psql", "-X", "-q", "-d", self.srv.store_url, "-c",
                 "BEGIN", "-c", "SELECT pg_advisory_xact_lock(%d)" %
                 LOCK_WRITE, "-c", "SELECT pg_sleep(%d)" % HOLD_S, "-c",
                 "COMMIT"], stdout=subprocess.DEVNULL)
            self.addCleanup(p.wait, 30)
            # until psql holds it (a try from here fails)
            deadline = time.monotonic() + 10
            while subprocess.run(
                    ["psql", "-X", "-At", "-d", self.srv.store_url, "-c",
                     "SELECT pg_try_advisory_xact_lock(%d)" % LOCK_WRITE],
                    capture_output=True, text=True,
                    timeout=30).stdout.strip() != "f":
                self.assertLess(time.monotonic(), deadline,
                                "psql never took the write lock")
                time.sleep(0.05)
            return lambda: p.wait(30)
        db = sqlite3.connect(os.path.join(self.srv.data_dir,
                                          "keywarden.db"),
                             isolation_level=None, timeout=5,
                             check_same_thread=False)
        db.execute("BEGIN IMMEDIATE")
        t = threading.Timer(HOLD_S, db.rollback)
        t.start()
        self.addCleanup(db.close)
        self.addCleanup(t.join, 30)
        return lambda: t.join(30)

    def test_reads_are_served_while_a_write_waits_for_the_store(self):
        # a keep-alive connection opened first: it belongs to the one
        # HTTP thread, as the filing's connection does
        kept = http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                          timeout=30)
        self.addCleanup(kept.close)
        kept.request("GET", "/v1/me",
                     headers={"Authorization": "Bearer " + self.rick})
        resp = kept.getresponse()
        self.assertEqual(resp.status, 200)
        resp.read()
        released = self.hold_write_lock()
        held_at = time.monotonic()
        done = {}

        def file():
            done["answer"] = self.srv.request("POST", "/v1/requests", {
                "instance": "manual", "kind": "api_token",
                "justification": "j", "use_case": "u", "scopes": ["read"],
                "lifetime_days": 30}, token=self.rick)
            done["at"] = time.monotonic()
        t = threading.Thread(target=file)
        t.start()
        self.addCleanup(t.join, 30)
        time.sleep(0.3)                 # the filing waits on the lock
        answered = []
        for i in range(3):
            kept.request("GET", "/v1/me",
                         headers={"Authorization": "Bearer " + self.rick})
            resp = kept.getresponse()
            self.assertEqual((resp.status, json.loads(resp.read())["email"]),
                             (200, "rick@example.com"))
            st, got, _ = self.srv.request("GET", "/v1/instances/manual",
                                          token=self.rick)
            self.assertEqual(st, 200, got)
            answered.append(time.monotonic())
        self.assertTrue(t.is_alive(), "the filing ended before the reads "
                        "were answered: the test proves nothing")
        released()
        t.join(30)
        st, r = done["answer"][0], done["answer"][1]
        self.assertEqual((st, r["state"]), (201, "pending_manager"), r)
        self.assertLess(max(answered), done["at"])
        self.assertLess(max(answered) - held_at, HOLD_S - 1)


if __name__ == "__main__":
    unittest.main()
