"""End-to-end: several keywarden nodes on one PostgreSQL database.

The module runs its own throwaway PostgreSQL cluster (scripts/pg-cluster),
so it runs with or without KEYWARDEN_TEST_STORE and can stop and start
that server.  Each test gets a fresh database.  Nodes share the store and
the master key file (copied into each node's data directory, as an
operator would)."""
import os
import re
import shutil
import tempfile
import threading
import time
import unittest

from harness import (PgCluster, Server, make_person, pg_create_database,
                     pg_drop_database, pg_psql, run_bin, token_for)
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

CLUSTER = None


def setUpModule():
    global CLUSTER
    CLUSTER = PgCluster()
    try:
        CLUSTER.start()
    except BaseException:
        CLUSTER.close()
        raise


def tearDownModule():
    CLUSTER.close()


class Nodes(unittest.TestCase):
    """n nodes on one fresh database."""

    def nodes(self, n, extra=(), env=None, first_env=None):
        self.store = pg_create_database(base=CLUSTER.url)
        self.addCleanup(pg_drop_database, self.store)
        base = {"KEYWARDEN_STORE": self.store}
        base.update(env or {})
        e = dict(base)
        e.update(first_env or {})
        first = Server(extra_args=list(extra), env=e).start()
        self.addCleanup(first.close)
        out = [first]
        for _ in range(n - 1):
            out.append(self.node_like(first, extra, base))
        return out

    def node_like(self, first, extra=(), env=None):
        """Another node on first's store, with a copy of its master key."""
        d = tempfile.mkdtemp(prefix="kw-node-")
        self.addCleanup(shutil.rmtree, d, True)
        data = os.path.join(d, "data")
        os.mkdir(data, 0o700)
        shutil.copy2(os.path.join(first.data_dir, "master.key"), data)
        e = {"KEYWARDEN_STORE": first.store_url}
        e.update(env or {})
        s = Server(extra_args=list(extra), env=e, data_dir=data,
                   admin_token=first.admin_token).start()
        self.addCleanup(s.close)
        return s

    def world(self, a, provisioners=("p1@example.com", "p2@example.com"),
              instance=None):
        make_person(a, "m@example.com")
        make_person(a, "r@example.com", manager="m@example.com")
        for p in provisioners:
            make_person(a, p)
        who = ("m@example.com", "r@example.com") + tuple(provisioners)
        tok = {e: token_for(a, e) for e in who}
        body = instance or {"name": "global", "url": "https://g.example.com",
                            "provisioners": list(provisioners),
                            "issuance": "manual"}
        st, obj, _ = a.request("POST", "/v1/instances", body)
        self.assertEqual(st, 201, obj)
        return tok

    def create(self, node, tok, n=0):
        return node.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "j%d" % n, "use_case": "u",
            "scopes": ["read"], "lifetime_days": 3}, token=tok)

    def soon(self, want, call, within=0.5):
        """call() until it answers want, for up to `within` seconds: a
        node's authentication cache forgets another node's change when
        the store's notification of it arrives (docs/SECURITY.md), so a
        read may see the change a few milliseconds late."""
        deadline = time.monotonic() + within
        while True:
            got = call()
            if got == want or time.monotonic() >= deadline:
                self.assertEqual(got, want)
                return
            time.sleep(0.01)

    def all_audit(self, node):
        events, after = [], 0
        while True:
            st, pg, _ = node.request("GET", "/v1/audit?limit=500"
                                     "&after_seq=%d" % after)
            self.assertEqual(st, 200, pg)
            events += pg["items"]
            if not pg["next_cursor"]:
                return events
            after = pg["items"][-1]["seq"]


class SharedStore(Nodes):
    def test_a_change_on_one_node_holds_on_the_other_at_once(self):
        a, b = self.nodes(2)
        make_person(a, "x@example.com")
        st, p, _ = b.request("GET", "/v1/people/x@example.com")
        self.assertEqual((st, p["email"]), (200, "x@example.com"))
        tok = token_for(b, "x@example.com")
        # authenticated (and cached) on both, then revoked on b: a write
        # on a is refused at once (it checks the caller again inside its
        # transaction), a read within the notification's delivery
        for n in (a, b, a, b, a):
            self.assertEqual(n.request("GET", "/v1/me", token=tok)[0], 200)
        st, toks, _ = b.request("GET", "/v1/people/x@example.com/tokens")
        for t in toks["items"]:
            b.request("DELETE", "/v1/people/x@example.com/tokens/" + t["id"])
        st, body, _ = a.request("POST", "/v1/requests", {
            "instance": "nowhere", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 3},
            token=tok)
        self.assertEqual(st, 401, body)
        self.soon(401, lambda: a.request("GET", "/v1/me", token=tok)[0])
        # a role taken away on a: b no longer lets them list people
        make_person(a, "aud@example.com", roles=["auditor"])
        at = token_for(a, "aud@example.com")
        for _ in range(3):
            self.assertEqual(b.request("GET", "/v1/people", token=at)[0],
                             200)
        st, _, _ = a.request("PATCH", "/v1/people/aud@example.com",
                             {"roles": []})
        self.assertEqual(st, 200)
        self.soon(403, lambda: b.request("GET", "/v1/people", token=at)[0])
        # and, cached on b again, an offboarding on a ends reads on b too
        for _ in range(3):
            self.assertEqual(b.request("GET", "/v1/me", token=at)[0], 200)
        st, _, _ = a.request("PATCH", "/v1/people/aud@example.com",
                             {"active": False})
        self.assertEqual(st, 200)
        self.soon(401, lambda: b.request("GET", "/v1/me", token=at)[0])

    def test_a_session_ended_on_one_node_is_refused_on_the_other(self):
        a, b = self.nodes(2)
        make_person(a, "s@example.com")
        tok = token_for(a, "s@example.com")
        st, body, hd = b.request("POST", "/v1/sessions", {"token": tok},
                                 token=None)
        self.assertEqual(st, 201, body)
        ck = {"Cookie": hd["set-cookie"].split(";")[0]}
        for n in (a, b, a):
            self.assertEqual(n.request("GET", "/v1/me", token=None,
                                       headers=ck)[0], 200)
        h = dict(ck, **{"X-CSRF-Token": body["csrf_token"]})
        st, _, _ = b.request("DELETE", "/v1/sessions/current", token=None,
                             headers=h)
        self.assertEqual(st, 204)
        self.soon(401, lambda: a.request("GET", "/v1/me", token=None,
                                         headers=ck)[0])

    def test_init_against_an_initialised_store_refuses(self):
        a, = self.nodes(1)
        d = tempfile.mkdtemp(prefix="kw-init-")
        self.addCleanup(shutil.rmtree, d, True)
        r = run_bin("init", "--data-dir", os.path.join(d, "data"),
                    "--admin-email", "other@example.com",
                    env={"KEYWARDEN_STORE": a.store_url})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("already initialised", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "data",
                                                     "master.key")))
        # the store is unchanged: still one admin
        st, page, _ = a.request("GET", "/v1/people")
        self.assertEqual([p["email"] for p in page["items"]],
                         ["admin@example.com"])

    def test_migrate_and_audit_verify_take_the_store_url(self):
        a, = self.nodes(1)
        r = run_bin("migrate", "--store", a.store_url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("at schema", r.stdout)
        r = run_bin("audit", "verify", "--store", a.store_url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("audit log intact", r.stdout)
        # keywarden backup is SQLite's: it says what to use instead
        r = a.cli("backup", "--data-dir", a.data_dir, "--to",
                  os.path.join(a.tmp, "b.db"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("pg_dump", r.stderr)


class Concurrency(Nodes):
    def test_approvals_split_across_nodes_make_one_transition(self):
        a, b = self.nodes(2)
        tok = self.world(a)
        for _ in range(8):
            st, r, _ = self.create(a, tok["r@example.com"])
            self.assertEqual(st, 201, r)
            path = "/v1/requests/%s/" % r["id"]
            for stage in (("m@example.com", "m@example.com", "approve",
                           "approve"),
                          ("p1@example.com", "p2@example.com", "approve",
                           "deny")):
                results = []

                def act(node, who, action):
                    body = {"comment": "no"} if action == "deny" else {}
                    results.append(node.request("POST", path + action, body,
                                                token=tok[who])[0])
                ts = [threading.Thread(target=act, args=x) for x in
                      ((a, stage[0], stage[2]), (b, stage[1], stage[3]))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(30)
                # one wins; the other finds the stage decided (409), or
                # itself no longer entitled at the next stage (403)
                self.assertEqual(results.count(200), 1, (stage, results))
                self.assertIn(max(results), (403, 409), (stage, results))
            st, got, _ = b.request("GET", "/v1/requests/" + r["id"])
            self.assertIn(got["state"], ("awaiting_fulfilment", "denied"))
            self.assertEqual(len(got["history"]), 3)

    def test_hundreds_of_creations_on_three_nodes_keep_one_chain(self):
        nodes = self.nodes(3)
        tok = self.world(nodes[0])["r@example.com"]
        made, errors = [], []

        def writer(k):
            node = nodes[k % 3]
            for i in range(12):
                st, r, _ = self.create(node, tok, k * 100 + i)
                if st == 201:
                    made.append(r["id"])
                else:
                    errors.append((st, r))
        ts = [threading.Thread(target=writer, args=(k,)) for k in range(24)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(made), 288)
        for n in nodes:
            st, v, _ = n.request("GET", "/v1/audit/verify")
            self.assertTrue(v["ok"], v)
        events = self.all_audit(nodes[1])
        self.assertEqual([e["seq"] for e in events],
                         list(range(1, len(events) + 1)))   # no gaps
        created = [e["subject"] for e in events
                   if e["action"] == "request.create"]
        self.assertEqual(sorted(created), sorted(made))


class Jobs(Nodes):
    FAST = ["--jobs-interval", "1", "--reconcile-interval", "1"]

    def runs(self, node):
        return node.log().count('"event":"jobs"')

    def test_a_node_dying_with_the_jobs_lock_does_not_stop_the_jobs(self):
        a, b = self.nodes(2, extra=self.FAST)
        # a jobs run killed while it holds the jobs lock: the next one
        # does not wait for it
        r = a.cli("jobs", "run", "--data-dir", a.data_dir,
                  env={"KEYWARDEN_CRASH_AT": "jobs_locked"})
        self.assertEqual(r.returncode, 86, r.stderr)
        t0 = time.monotonic()
        r = a.cli("jobs", "run", "--data-dir", a.data_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stale_requests", r.stdout)
        self.assertLess(time.monotonic() - t0, 20)
        # jobs keep running on the nodes, one at a time, and a node
        # killed -9 leaves the other running them
        a.kill()
        before = self.runs(b)
        deadline = time.monotonic() + 20
        while self.runs(b) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertGreaterEqual(self.runs(b), before + 3, b.log()[-2000:])
        # `jobs run` beside a serving node takes its turn and runs
        r = b.cli("jobs", "run", "--data-dir", b.data_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stale_requests", r.stdout)

    def test_a_node_killed_mid_issuance_is_reconciled_by_a_survivor(self):
        sim = ZendeskSim().start()
        self.addCleanup(sim.close)
        inst = {"name": "global", "url": sim.url, "issuance": "automatic",
                "provisioners": ["p1@example.com"],
                "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}}
        # the survivor starts first (it holds the jobs lock); the node
        # that will crash reconciles only once, at its start
        survivor, = self.nodes(1, extra=self.FAST + ["--upstream-timeout",
                                                     "2"])
        tok = self.world(survivor, provisioners=("p1@example.com",),
                         instance=inst)
        victim = self.node_like(survivor, ["--upstream-timeout", "2"],
                                {"KEYWARDEN_CRASH_AT": "after_client_create"})
        st, r, _ = self.create(victim, tok["r@example.com"])
        victim.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                       token=tok["m@example.com"])
        try:
            victim.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                           token=tok["p1@example.com"], timeout=5)
        except Exception:
            pass                            # it died mid-request
        victim.proc.wait(10)
        self.assertEqual(victim.proc.returncode, 86)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st, got, _ = survivor.request("GET", "/v1/requests/" + r["id"])
            if got["state"] == "issued":
                break
            time.sleep(0.2)
        self.assertEqual(got["state"], "issued", survivor.log()[-3000:])
        clients = [c for c in sim.state()["clients"]
                   if c["identifier"].startswith("keywarden-")]
        self.assertEqual(len(clients), 1)
        self.assertEqual(clients[0]["identifier"],
                         "keywarden-" + got["credential_id"])


class StoreCopy(Nodes):
    def test_an_installation_moves_from_sqlite_with_the_same_chain(self):
        old = Server(env={"KEYWARDEN_STORE": "sqlite"}).start()
        self.addCleanup(old.close)
        # a report created before their manager, set afterwards
        make_person(old, "r@example.com")
        make_person(old, "m@example.com")
        old.request("PATCH", "/v1/people/r@example.com",
                    {"manager": "m@example.com"})
        make_person(old, "p1@example.com")
        tok = {e: token_for(old, e) for e in ("r@example.com",
               "m@example.com", "p1@example.com")}
        # a session, a SCIM token and a labelled, expiring personal token
        st, ses, hd = old.request("POST", "/v1/sessions",
                                  {"token": tok["r@example.com"]}, token=None)
        self.assertEqual(st, 201, ses)
        ck = {"Cookie": hd["set-cookie"].split(";")[0]}
        st, scim, _ = old.request("POST", "/v1/scim-tokens",
                                  {"label": "Okta"})
        self.assertEqual(st, 201, scim)
        st, _, _ = old.request("GET", "/scim/v2/Users", token=scim["token"])
        self.assertEqual(st, 200)
        st, toks_before, _ = old.request("GET", "/v1/people/r@example.com/"
                                         "tokens")
        old.request("POST", "/v1/instances", {
            "name": "global", "url": "https://g.example.com",
            "provisioners": ["p1@example.com"], "issuance": "manual"})
        st, r, _ = self.create(old, tok["r@example.com"])
        old.request("POST", "/v1/requests/%s/approve" % r["id"], {},
                    token=tok["m@example.com"])
        st, before, _ = old.request("GET", "/v1/audit/verify")
        st, req_before, _ = old.request("GET", "/v1/requests/" + r["id"])
        old.stop()
        target = pg_create_database(base=CLUSTER.url)
        self.addCleanup(pg_drop_database, target)
        out = run_bin("store", "copy", "--from", "sqlite:" + old.data_dir,
                      "--to", target)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(before["head"], out.stdout)
        # a second copy into the same database refuses, changing nothing
        again = run_bin("store", "copy", "--from", "sqlite:" + old.data_dir,
                        "--to", target)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already", again.stderr)
        new = Server(env={"KEYWARDEN_STORE": target}, data_dir=old.data_dir,
                     admin_token=old.admin_token).start()
        self.addCleanup(new.close)
        st, v, _ = new.request("GET", "/v1/audit/verify")
        self.assertEqual((v["ok"], v["head"]), (True, before["head"]))
        st, req_after, _ = new.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(req_after, req_before)
        st, me, _ = new.request("GET", "/v1/me", token=tok["r@example.com"])
        self.assertEqual((st, me["manager"]), (200, "m@example.com"))
        st, me, _ = new.request("GET", "/v1/me", token=None, headers=ck)
        self.assertEqual((st, me["email"]), (200, "r@example.com"))
        self.assertEqual(new.request("GET", "/scim/v2/Users",
                                     token=scim["token"])[0], 200)
        st, toks_after, _ = new.request("GET", "/v1/people/r@example.com/"
                                        "tokens")
        keep = ("id", "label", "expires_at", "created_at")
        self.assertEqual([{k: t.get(k) for k in keep}
                          for t in toks_after["items"]],
                         [{k: t.get(k) for k in keep}
                          for t in toks_before["items"]])
        self.assertTrue(all(t.get("expires_at")
                            for t in toks_after["items"]))
        # and it goes on: new rows after the copied ones
        st, r2, _ = self.create(new, tok["r@example.com"])
        self.assertEqual(st, 201, r2)
        st, page, _ = new.request("GET", "/v1/requests")
        self.assertEqual([x["id"] for x in page["items"]],
                         [r["id"], r2["id"]])
        st, v, _ = new.request("GET", "/v1/audit/verify")
        self.assertTrue(v["ok"], v)


class DatabaseRestart(Nodes):
    def test_a_database_restart_under_load_is_503_then_service_resumes(self):
        a, b = self.nodes(2)
        tok = self.world(a)["r@example.com"]
        made, statuses, stop = [], [], threading.Event()

        def writer(k):
            node = (a, b)[k % 2]
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    st, r, _ = self.create(node, tok, k * 10000 + i)
                except OSError:
                    st, r = "conn", None
                statuses.append(st)
                if st == 201:
                    made.append(r["id"])
                time.sleep(0.01)
        ts = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        time.sleep(1)
        CLUSTER.down()
        time.sleep(2)
        down = list(statuses)
        CLUSTER.up()
        # service resumes by itself, on both nodes
        deadline = time.monotonic() + 30
        ok = set()
        while time.monotonic() < deadline and len(ok) < 2:
            for n in (a, b):
                if self.create(n, tok)[0] == 201:
                    ok.add(n.port)
            time.sleep(0.2)
        stop.set()
        for t in ts:
            t.join(30)
        self.assertEqual(len(ok), 2, [a.log()[-2000:], b.log()[-2000:]])
        self.assertIn(503, down)
        self.assertEqual(set(statuses) - {201, 503}, set())
        # nothing half-written: every answered creation is there with its
        # audit event, and the chain is whole
        st, v, _ = b.request("GET", "/v1/audit/verify")
        self.assertTrue(v["ok"], v)
        created = {e["subject"] for e in self.all_audit(a)
                   if e["action"] == "request.create"}
        self.assertTrue(set(made) <= created)
        rows = pg_psql("SELECT id FROM requests", db=re.sub(
            r".*/", "", a.store_url), base=CLUSTER.url).split()
        self.assertEqual(set(rows), created)


if __name__ == "__main__":
    unittest.main()
