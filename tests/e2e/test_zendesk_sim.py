"""test_zendesk_sim.py — the Zendesk simulator behaves like ZENDESK.md says.

One case per behaviour; each runs its own zendesk-sim on a free loopback
port and checks that SIGTERM stops it with exit code 0.

    ZENDESK_SIM_BIN=build/test/zendesk-sim /usr/bin/python3 tests/e2e/run.py zendesk_sim
"""

import json
import threading
import time
import unittest
import urllib.parse

from zendesk_sim import ADMIN_EMAIL, ZendeskSim, basic

CLIENTS = "/api/v2/oauth/clients"
TOKENS = "/api/v2/oauth/tokens"
FORBIDDEN = "Forbidden"


def client_body(identifier, **kw):
    c = {"name": "https://kw.example/r/1", "identifier": identifier,
         "kind": "confidential", "redirect_uri": [],
         "description": "requested by a@example.com, approved by b"}
    c.update(kw)
    return {"client": c}


class SimCase(unittest.TestCase):
    """Starts a simulator per test; asserts a clean exit afterwards."""

    sim_kwargs = {}

    def setUp(self):
        self.zd = ZendeskSim(**self.sim_kwargs)
        self.zd.start()
        self.addCleanup(self.zd.close)

    def tearDown(self):
        code = self.zd.stop()
        self.assertEqual(code, 0, "zendesk-sim exit code\n" + self.zd.log())

    # helpers ----------------------------------------------------------------

    def new_client(self, identifier="keywarden-cred1", **kw):
        st, body, _ = self.zd.api("POST", CLIENTS,
                                  client_body(identifier, **kw))
        self.assertEqual(st, 201, self.zd.last_raw)
        return body["client"]

    def new_token(self, client_id, scopes=("read",), token=None):
        st, body, _ = self.zd.api("POST", TOKENS, {"token": {
            "client_id": client_id, "scopes": list(scopes)}}, token=token)
        self.assertEqual(st, 201, self.zd.last_raw)
        return body["token"]

    def assert_error(self, st, body, status, error):
        self.assertEqual(st, status, self.zd.last_raw)
        self.assertIsInstance(body, dict, self.zd.last_raw)
        self.assertEqual(body.get("error"), error, body)

    def assert_forbidden(self, st, body):
        self.assert_error(st, body, 403, FORBIDDEN)
        self.assertIsInstance(body.get("description"), str)

    def assert_invalid_token(self, st, body):
        self.assertEqual(st, 401, self.zd.last_raw)
        self.assertEqual(body["error"], "invalid_token")
        self.assertIsInstance(body["error_description"], str)

    def assert_basic_refused(self, st, body):
        self.assertEqual(st, 401, self.zd.last_raw)
        self.assertEqual(body, {"error": "Couldn't authenticate you"})


class Lifecycle(SimCase):
    def test_listening_line_names_the_loopback_url(self):
        self.assertEqual(self.zd.listening["event"], "listening")
        self.assertEqual(self.zd.url, "http://127.0.0.1:%d" % self.zd.port)
        st, body, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        self.assertEqual(body["user"]["email"], ADMIN_EMAIL)
        self.assertEqual(body["user"]["role"], "admin")

    def test_refuses_non_loopback_listen(self):
        import subprocess
        r = subprocess.run([self.zd.bin, "--listen", "0.0.0.0:1"],
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loopback", r.stderr)


class Clients(SimCase):
    def test_secret_is_shown_only_on_create(self):
        c = self.new_client()
        secret = c["secret"]
        self.assertEqual(len(secret), 64)
        for k in ("id", "name", "identifier", "kind", "redirect_uri",
                  "description", "company", "logo_url", "user_id", "url",
                  "created_at", "updated_at"):
            self.assertIn(k, c)
        self.assertIsInstance(c["id"], int)
        self.assertTrue(c["url"].startswith(self.zd.url + CLIENTS))
        st, shown, _ = self.zd.api("GET", "%s/%d" % (CLIENTS, c["id"]))
        self.assertEqual(st, 200)
        self.assertNotEqual(shown["client"]["secret"], secret)
        self.assertEqual(shown["client"]["secret"], secret[:6] + "...")
        st, followed, _ = self.zd.api("GET", c["url"])     # ".../ID.json"
        self.assertEqual((st, followed), (200, shown))
        st, listed, _ = self.zd.api("GET", CLIENTS)
        self.assertEqual(st, 200)
        self.assertNotIn(secret, json.dumps(listed))
        self.assertEqual([x["id"] for x in listed["clients"]], [c["id"]])

    def test_duplicate_identifier_is_422(self):
        self.new_client("keywarden-dup")
        st, body, _ = self.zd.api("POST", CLIENTS,
                                  client_body("keywarden-dup"))
        self.assertEqual(st, 422)
        self.assertEqual(body, {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"identifier": [{
                "description": "Identifier: has already been taken",
                "error": "DuplicateValue"}]}})

    def test_validation(self):
        for bad, field in ((client_body("x", name=None), "name"),
                           ({"client": {"name": "n"}}, "identifier"),
                           (client_body("x", kind="secretive"), "kind"),
                           (client_body("x", name="n" * 256), "name"),
                           (client_body("x", description="d" * 256),
                            "description"),
                           (client_body("x", redirect_uri="https://a"),
                            "redirect_uri")):
            st, body, _ = self.zd.api("POST", CLIENTS, bad)
            self.assert_error(st, body, 422, "RecordInvalid")
            self.assertIn(field, body["details"], body)
        self.new_client("x", name="é" * 255)       # 255 characters is fine
        st, body, _ = self.zd.api("POST", CLIENTS, {"name": "unwrapped"})
        self.assert_error(st, body, 400, "ParameterMissing")
        st, _, _ = self.zd.api("POST", CLIENTS, None)
        self.assertEqual(st, 400)
        st, _, _ = self.zd.request("POST", CLIENTS, raw="[1]",
                                   token=self.zd.admin_token)
        self.assertEqual(st, 400)

    def test_update_and_generate_secret(self):
        c = self.new_client()
        st, body, _ = self.zd.api("PUT", "%s/%d" % (CLIENTS, c["id"]),
                                  {"client": {"name": "renamed"}})
        self.assertEqual(st, 200, self.zd.last_raw)
        self.assertEqual(body["client"]["name"], "renamed")
        self.assertNotEqual(body["client"]["secret"], c["secret"])
        st, body, _ = self.zd.api(
            "PUT", "%s/%d/generate_secret" % (CLIENTS, c["id"]))
        self.assertEqual(st, 200)
        fresh = body["client"]["secret"]
        self.assertEqual(len(fresh), 64)
        self.assertNotEqual(fresh, c["secret"])
        grant = {"grant_type": "client_credentials",
                 "client_id": c["identifier"], "scope": "read"}
        st, body, _ = self.zd.request("POST", "/oauth/tokens",
                                      dict(grant, client_secret=c["secret"]))
        self.assertEqual((st, body["error"]), (401, "invalid_client"))
        st, body, _ = self.zd.request("POST", "/oauth/tokens",
                                      dict(grant, client_secret=fresh))
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertEqual(body["token_type"], "bearer")

    def test_identifier_changes_keep_uniqueness(self):
        a = self.new_client("keywarden-a")
        self.new_client("keywarden-b")
        st, body, _ = self.zd.api("PUT", "%s/%d" % (CLIENTS, a["id"]),
                                  {"client": {"identifier": "keywarden-b"}})
        self.assert_error(st, body, 422, "RecordInvalid")
        self.assertEqual(body["details"]["identifier"][0]["error"],
                         "DuplicateValue")
        st, body, _ = self.zd.api("PUT", "%s/%d" % (CLIENTS, a["id"]),
                                  {"client": {"identifier": "keywarden-c"}})
        self.assertEqual(st, 200, self.zd.last_raw)
        self.new_client("keywarden-a")       # the old identifier is free
        st, body, _ = self.zd.api("POST", CLIENTS,
                                  client_body("keywarden-c"))
        self.assert_error(st, body, 422, "RecordInvalid")

    def test_delete_is_204_then_404(self):
        c = self.new_client()
        st, body, hdrs = self.zd.api("DELETE", "%s/%d" % (CLIENTS, c["id"]))
        self.assertEqual(st, 204)
        self.assertEqual(self.zd.last_raw, b"")
        for method in ("GET", "DELETE"):
            st, body, _ = self.zd.api(method, "%s/%d" % (CLIENTS, c["id"]))
            self.assertEqual(st, 404)
            self.assertEqual(body, {"error": "RecordNotFound",
                                    "description": "Not found"})

    def test_minted_token_cannot_manage_clients(self):
        c = self.new_client()
        t = self.new_token(c["id"], ["read", "write"])
        st, body, _ = self.zd.api("GET", CLIENTS, token=t["full_token"])
        self.assert_forbidden(st, body)


class Tokens(SimCase):
    def test_full_token_only_on_create(self):
        c = self.new_client()
        t = self.new_token(c["id"], ["tickets:read"])
        full = t["full_token"]
        self.assertEqual(len(full), 64)
        self.assertEqual(t["token"], full[:10])
        self.assertEqual(t["client_id"], c["id"])
        self.assertIsNone(t["refresh_token"])
        self.assertIsNone(t["expires_at"])
        self.assertIsNone(t["used_at"])
        self.assertEqual(t["scopes"], ["tickets:read"])
        st, body, _ = self.zd.api("GET", TOKENS + "?all=true")
        self.assertEqual(st, 200)
        self.assertEqual(len(body["tokens"]), 1)
        listed = body["tokens"][0]
        self.assertEqual(listed["token"], full[:10])
        self.assertNotIn("full_token", listed)
        self.assertNotIn(full, json.dumps(body))
        st, body, _ = self.zd.api("GET", "%s/%d" % (TOKENS, t["id"]))
        self.assertEqual(st, 200)
        self.assertNotIn("full_token", body["token"])
        self.assertEqual(body["token"]["token"], full[:10])

    def test_used_at_is_set_when_the_token_authenticates(self):
        self.zd.set_now("2026-11-02T10:00:00Z")
        c = self.new_client()
        t = self.new_token(c["id"], ["read"])
        self.zd.set_now("2026-11-03T08:30:00Z")
        st, me, _ = self.zd.api("GET", "/api/v2/users/me",
                                token=t["full_token"])
        self.assertEqual(st, 200, self.zd.last_raw)
        self.assertEqual(me["user"]["id"], t["user_id"])
        st, body, _ = self.zd.api("GET", "%s/%d" % (TOKENS, t["id"]))
        self.assertEqual(body["token"]["used_at"], "2026-11-03T08:30:00Z")
        self.assertEqual(body["token"]["created_at"], "2026-11-02T10:00:00Z")

    def test_scopes_are_enforced(self):
        c = self.new_client()
        reader = self.new_token(c["id"], ["tickets:read"])["full_token"]
        writer = self.new_token(c["id"], ["tickets:write"])["full_token"]
        st, body, _ = self.zd.api("GET", "/api/v2/tickets", token=reader)
        self.assertEqual(st, 200, self.zd.last_raw)
        self.assertEqual(body["tickets"], [])
        st, body, _ = self.zd.api("POST", "/api/v2/tickets",
                                  {"ticket": {"subject": "s"}}, token=reader)
        self.assert_forbidden(st, body)
        st, body, _ = self.zd.api("POST", "/api/v2/tickets",
                                  {"ticket": {"subject": "s"}}, token=writer)
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertEqual(body["ticket"]["subject"], "s")
        st, body, _ = self.zd.api("GET", "/api/v2/tickets", token=writer)
        self.assert_forbidden(st, body)
        st, body, _ = self.zd.api("GET", "/api/v2/users/me", token=writer)
        self.assertEqual(st, 200)

    def test_invalid_scope_is_accepted_then_forbidden_everywhere(self):
        c = self.new_client()
        t = self.new_token(c["id"], ["read", "tickets:destroy"])
        for method, path in (("GET", "/api/v2/users/me"),
                             ("GET", "/api/v2/tickets"),
                             ("POST", "/api/v2/tickets")):
            body = {"ticket": {}} if method == "POST" else None
            st, ans, _ = self.zd.api(method, path, body,
                                     token=t["full_token"])
            self.assert_forbidden(st, ans)
        state = self.zd.state()
        self.assertFalse(state["tokens"][0]["scopes_valid"])

    def test_creation_validation(self):
        c = self.new_client()
        for token, field in (({"client_id": c["id"], "scopes": []},
                              "scopes"),
                             ({"client_id": c["id"], "scopes": "read"},
                              "scopes"),
                             ({"client_id": c["id"]}, "scopes"),
                             ({"client_id": 999, "scopes": ["read"]},
                              "client_id"),
                             ({"client_id": c["identifier"],
                               "scopes": ["read"]}, "client_id")):
            st, body, _ = self.zd.api("POST", TOKENS, {"token": token})
            self.assert_error(st, body, 422, "RecordInvalid")
            self.assertIn(field, body["details"], body)

    def test_deleted_token_gets_401(self):
        c = self.new_client()
        t = self.new_token(c["id"])
        st, _, _ = self.zd.api("GET", "/api/v2/users/me",
                               token=t["full_token"])
        self.assertEqual(st, 200)
        st, _, _ = self.zd.api("DELETE", "%s/%d" % (TOKENS, t["id"]))
        self.assertEqual(st, 204)
        self.assertEqual(self.zd.last_raw, b"")
        st, body, _ = self.zd.api("GET", "/api/v2/users/me",
                                  token=t["full_token"])
        self.assert_invalid_token(st, body)
        st, body, _ = self.zd.api("DELETE", "%s/%d" % (TOKENS, t["id"]))
        self.assertEqual(st, 404)

    def test_deleting_a_client_kills_its_tokens(self):
        doomed = self.new_client("keywarden-doomed")
        kept = self.new_client("keywarden-kept")
        t1 = self.new_token(doomed["id"])
        t2 = self.new_token(doomed["id"], ["tickets:read"])
        t3 = self.new_token(kept["id"])
        st, _, _ = self.zd.api("DELETE", "%s/%d" % (CLIENTS, doomed["id"]))
        self.assertEqual(st, 204)
        for t in (t1, t2):
            st, body, _ = self.zd.api("GET", "/api/v2/users/me",
                                      token=t["full_token"])
            self.assert_invalid_token(st, body)
            st, _, _ = self.zd.api("GET", "%s/%d" % (TOKENS, t["id"]))
            self.assertEqual(st, 404)
        st, _, _ = self.zd.api("GET", "/api/v2/users/me",
                               token=t3["full_token"])
        self.assertEqual(st, 200)
        st, body, _ = self.zd.api(
            "GET", "%s?all=true&client_id=%d" % (TOKENS, doomed["id"]))
        self.assertEqual((st, body["tokens"]), (200, []))

    def test_list_is_per_user_unless_all(self):
        other = self.zd.add_admin("second-admin-token", "two@example.com")
        c = self.new_client()
        mine = self.new_token(c["id"])
        theirs = self.new_token(c["id"], token="second-admin-token")
        self.assertEqual(theirs["user_id"], other["user_id"])
        st, body, _ = self.zd.api("GET", TOKENS)
        self.assertEqual([t["id"] for t in body["tokens"]], [mine["id"]])
        st, body, _ = self.zd.api("GET", TOKENS + "?all=true")
        self.assertEqual([t["id"] for t in body["tokens"]],
                         [mine["id"], theirs["id"]])

    def test_expiry_from_options(self):
        self.zd.set_now("2026-11-02T10:00:00Z")
        self.zd.ctl("POST", "options", {"token_expires_in": 60})
        c = self.new_client()
        t = self.new_token(c["id"])
        self.assertEqual(t["expires_at"], "2026-11-02T10:01:00Z")
        self.zd.advance(59)
        st, _, _ = self.zd.api("GET", "/api/v2/users/me",
                               token=t["full_token"])
        self.assertEqual(st, 200)
        self.zd.advance(1)
        st, body, _ = self.zd.api("GET", "/api/v2/users/me",
                                  token=t["full_token"])
        self.assert_invalid_token(st, body)

    def test_client_credentials_grant(self):
        self.zd.set_now("2026-11-02T10:00:00Z")
        pub = self.new_client("pub", kind="public")
        conf = self.new_client("conf")
        st, body, _ = self.zd.request("POST", "/oauth/tokens", {
            "grant_type": "client_credentials", "client_id": "pub",
            "client_secret": pub["secret"], "scope": "read"})
        self.assertEqual((st, body["error"]), (400, "unauthorized_client"))
        st, body, _ = self.zd.request("POST", "/oauth/tokens", {
            "grant_type": "client_credentials", "client_id": "conf",
            "client_secret": conf["secret"], "scope": "read tickets:write",
            "expires_in": 300})
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertEqual(body, {"access_token": body["access_token"],
                                "token_type": "bearer",
                                "scope": "read tickets:write",
                                "expires_in": 300})
        access = body["access_token"]
        st, _, _ = self.zd.api("GET", "/api/v2/tickets", token=access)
        self.assertEqual(st, 200)
        st, body, _ = self.zd.api("GET", TOKENS + "?all=true")
        self.assertEqual(body["tokens"][0]["expires_at"],
                         "2026-11-02T10:05:00Z")
        self.zd.advance(300)
        st, body, _ = self.zd.api("GET", "/api/v2/tickets", token=access)
        self.assert_invalid_token(st, body)


class Pagination(SimCase):
    def walk(self, first):
        seen, pages, url = [], 0, first
        while url:
            st, body, _ = self.zd.api("GET", url)
            self.assertEqual(st, 200, self.zd.last_raw)
            pages += 1
            key = "clients" if "clients" in body else "tokens"
            seen += [x["id"] for x in body[key]]
            meta, links = body["meta"], body["links"]
            self.assertIsNone(meta["before_cursor"])
            self.assertIsNone(links["prev"])
            if meta["has_more"]:
                self.assertTrue(links["next"].startswith(self.zd.url + "/"))
                self.assertIsInstance(meta["after_cursor"], str)
            else:
                self.assertIsNone(links["next"])
            url = links["next"]
            self.assertLess(pages, 50)
        return seen, pages

    def test_page_size_2_walks_every_client_once(self):
        ids = [self.new_client("keywarden-p%d" % i)["id"] for i in range(5)]
        seen, pages = self.walk(CLIENTS + "?page[size]=2")
        self.assertEqual(seen, ids)
        self.assertEqual(pages, 3)
        seen, pages = self.walk(CLIENTS + "?page%5Bsize%5D=5")
        self.assertEqual((seen, pages), (ids, 1))

    def test_next_links_keep_the_token_filters(self):
        a, b = self.new_client("a"), self.new_client("b")
        want = []
        for i in range(5):
            want.append(self.new_token(a["id"])["id"])
            self.new_token(b["id"])
        seen, pages = self.walk(
            "%s?all=true&client_id=%d&page[size]=2" % (TOKENS, a["id"]))
        self.assertEqual((seen, pages), (want, 3))

    def test_deleting_during_a_walk_skips_nothing_left(self):
        ids = [self.new_client("keywarden-d%d" % i)["id"] for i in range(4)]
        st, body, _ = self.zd.api("GET", CLIENTS + "?page[size]=2")
        self.zd.api("DELETE", "%s/%d" % (CLIENTS, ids[0]))
        st, body, _ = self.zd.api("GET", body["links"]["next"])
        self.assertEqual([x["id"] for x in body["clients"]], ids[2:])

    def test_bad_page_parameters_are_400(self):
        for q in ("page[size]=101", "page[size]=0", "page[size]=x",
                  "page[after]=!!notacursor"):
            st, body, _ = self.zd.api("GET", CLIENTS + "?" +
                                      urllib.parse.quote(q, safe="=[]!"))
            self.assert_error(st, body, 400, "InvalidPaginationParameter")
        st, _, _ = self.zd.api("GET", CLIENTS + "?page[size]=100")
        self.assertEqual(st, 200)


class Faults(SimCase):
    def test_429_with_retry_after_then_success(self):
        self.zd.fault(status=429, retry_after=7, count=1,
                      path_prefix="/api/v2/oauth/clients")
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")   # not matched
        self.assertEqual(st, 200)
        st, body, hdrs = self.zd.api("GET", CLIENTS)
        self.assertEqual(st, 429)
        self.assertEqual(hdrs.get("retry-after"), "7")
        self.assertIsNone(body)                 # not JSON: do not parse it
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        self.assertIn(b"Too Many Requests", self.zd.last_raw)
        st, _, _ = self.zd.api("GET", CLIENTS)
        self.assertEqual(st, 200)

    def test_503_for_count_calls_and_method_filter(self):
        self.zd.fault(status=503, count=2, method="POST")
        st, _, _ = self.zd.api("GET", CLIENTS)
        self.assertEqual(st, 200)
        for _ in range(2):
            st, body, _ = self.zd.api("POST", CLIENTS, client_body("c"))
            self.assert_error(st, body, 503, "ServiceUnavailable")
        self.new_client("c")
        self.assertEqual(self.zd.state()["faults"], [])

    def test_5xx_statuses(self):
        for status, name in ((500, "InternalServerError"),
                             (502, "BadGateway")):
            self.zd.fault(status=status)
            st, body, _ = self.zd.api("GET", "/api/v2/users/me")
            self.assert_error(st, body, status, name)

    def test_hang_delays_the_answer(self):
        self.zd.fault(hang_ms=600)
        t0 = time.monotonic()
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.55)
        self.zd.fault(status=500, hang_ms=300)
        t0 = time.monotonic()
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 500)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        t0 = time.monotonic()
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        self.assertLess(time.monotonic() - t0, 0.25)

    def test_hang_does_not_block_the_control_plane(self):
        self.zd.fault(hang_ms=1500)
        done = []
        th = threading.Thread(target=lambda: done.append(
            self.zd.api("GET", "/api/v2/users/me")[0]))
        th.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        self.zd.stats()
        self.assertLess(time.monotonic() - t0, 1.0)
        th.join(10)
        self.assertEqual(done, [200])

    def test_clear_and_validation(self):
        self.zd.fault(status=500, count=5)
        self.zd.clear_faults()
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        for bad in ({"status": 404}, {"status": 0}, {"hang_ms": 10 ** 7},
                    {"status": 500, "count": 0}):
            st, body, _ = self.zd.request("POST", "/_sim/faults", bad)
            self.assertEqual(st, 400, bad)


class LegacyTokens(SimCase):
    def test_list_and_creation_cutoff(self):
        self.zd.set_now("2026-10-26T12:00:00Z")
        st, body, _ = self.zd.api("POST", "/api/v2/api_tokens",
                                  {"api_token": {"description": "ci"}})
        self.assertEqual(st, 201, self.zd.last_raw)
        tok = body["api_token"]["token"]
        self.assertEqual(len(tok), 40)
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        self.assertEqual(st, 200)
        self.assertNotIn("meta", body)
        [listed] = body["api_tokens"]
        self.assertEqual(set(listed), {"id", "description", "active",
                                       "created_at", "updated_at",
                                       "last_used", "user_id",
                                       "visible_token"})
        self.assertTrue(listed["active"])
        self.assertIsNone(listed["last_used"])
        self.assertEqual(listed["visible_token"], tok[-4:])
        self.assertNotIn(tok, json.dumps(body))
        st, me, _ = self.zd.request("GET", "/api/v2/users/me",
                                    auth=basic(ADMIN_EMAIL, tok))
        self.assertEqual(st, 200, self.zd.last_raw)
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        self.assertEqual(body["api_tokens"][0]["last_used"],
                         "2026-10-26T12:00:00Z")
        self.zd.set_now("2026-10-27T00:00:00Z")
        st, body, _ = self.zd.api("POST", "/api/v2/api_tokens",
                                  {"api_token": {"description": "late"}})
        self.assert_forbidden(st, body)
        self.assertIn("no longer available", body["description"])

    def test_unused_30_days_is_inactive_from_2026_07_28(self):
        # Before the cut-over an old token still works, and using it
        # counts: it is then good for 30 more days.
        self.zd.set_now("2026-07-27T23:59:59Z")
        used = self.zd.seed_legacy("used", created_at="2026-05-01T00:00:00Z",
                                   last_used="2026-06-01T00:00:00Z")
        st, _, _ = self.zd.request("GET", "/api/v2/users/me",
                                   auth=basic(ADMIN_EMAIL, used["token"]))
        self.assertEqual(st, 200)
        self.zd.set_now("2026-07-28T00:00:00Z")
        st, _, _ = self.zd.request("GET", "/api/v2/users/me",
                                   auth=basic(ADMIN_EMAIL, used["token"]))
        self.assertEqual(st, 200)
        self.zd.reset()
        self.zd.set_now("2026-07-28T00:00:00Z")
        stale = self.zd.seed_legacy("stale", created_at="2026-05-01T00:00:00Z",
                                    last_used="2026-06-01T00:00:00Z")
        fresh = self.zd.seed_legacy("fresh", created_at="2026-05-01T00:00:00Z",
                                    last_used="2026-07-20T00:00:00Z")
        never = self.zd.seed_legacy("never", created_at="2026-07-10T00:00:00Z")
        st, body, _ = self.zd.request("GET", "/api/v2/users/me",
                                      auth=basic(ADMIN_EMAIL, stale["token"]))
        self.assert_basic_refused(st, body)
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        active = {t["description"]: t["active"] for t in body["api_tokens"]}
        self.assertEqual(active, {"stale": False, "fresh": True,
                                  "never": True})
        self.zd.set_now("2026-08-09T00:00:00Z")     # never: 07-10 + 30 days
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        active = {t["description"]: t["active"] for t in body["api_tokens"]}
        self.assertEqual(active, {"stale": False, "fresh": True,
                                  "never": False})
        st, _, _ = self.zd.request("GET", "/api/v2/users/me",
                                   auth=basic(ADMIN_EMAIL, fresh["token"]))
        self.assertEqual(st, 200)
        # deactivated tokens are deleted 60 days after deactivation
        self.zd.set_now("2026-09-26T00:00:00Z")
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        self.assertEqual(sorted(t["description"] for t in body["api_tokens"]),
                         ["fresh", "never"])
        self.assertNotIn(never["token"], json.dumps(body))

    def test_everything_off_from_2027_04_30(self):
        self.zd.set_now("2027-04-29T12:00:00Z")
        t = self.zd.seed_legacy("busy", last_used="2027-04-29T11:00:00Z")
        st, _, _ = self.zd.request("GET", "/api/v2/users/me",
                                   auth=basic(ADMIN_EMAIL, t["token"]))
        self.assertEqual(st, 200)
        self.zd.set_now("2027-04-30T00:00:00Z")
        st, body, _ = self.zd.request("GET", "/api/v2/users/me",
                                      auth=basic(ADMIN_EMAIL, t["token"]))
        self.assert_basic_refused(st, body)
        st, body, _ = self.zd.api("GET", "/api/v2/api_tokens")
        self.assert_error(st, body, 404, "InvalidEndpoint")
        st, body, _ = self.zd.api("POST", "/api/v2/api_tokens",
                                  {"api_token": {"description": "x"}})
        self.assertEqual(st, 404)

    def test_at_most_256(self):
        self.zd.set_now("2026-01-01T00:00:00Z")
        for i in range(256):
            self.zd.seed_legacy("t%d" % i)
        st, body, _ = self.zd.api("POST", "/api/v2/api_tokens",
                                  {"api_token": {"description": "one more"}})
        self.assert_error(st, body, 422, "RecordInvalid")


class Authentication(SimCase):
    def test_401_shapes(self):
        st, body, _ = self.zd.request("GET", "/api/v2/users/me",
                                      token="not-a-token")
        self.assert_invalid_token(st, body)
        st, body, _ = self.zd.request("GET", "/api/v2/users/me")
        self.assert_basic_refused(st, body)
        self.zd.set_now("2026-05-01T00:00:00Z")
        t = self.zd.seed_legacy("x")
        for auth in (basic(ADMIN_EMAIL, "wrong"),
                     basic("stranger@example.com", t["token"]),
                     "Basic " + "bm90LWEtdG9rZW4=",     # no "/token:"
                     "Basic !!!"):
            st, body, _ = self.zd.request("GET", "/api/v2/users/me",
                                          auth=auth)
            self.assert_basic_refused(st, body)
        st, _, _ = self.zd.request("GET", "/api/v2/users/me",
                                   auth=basic(ADMIN_EMAIL, t["token"]))
        self.assertEqual(st, 200)

    def test_unknown_endpoint_is_zendesk_404(self):
        st, body, _ = self.zd.api("GET", "/api/v2/no/such/thing")
        self.assertEqual((st, body), (404, {"error": "InvalidEndpoint",
                                            "description": "Not found"}))

    def test_control_plane_admin(self):
        added = self.zd.add_admin("another-bot", "other@example.com")
        st, me, _ = self.zd.request("GET", "/api/v2/users/me",
                                    token="another-bot")
        self.assertEqual(st, 200)
        self.assertEqual(me["user"]["id"], added["user_id"])
        st, _, _ = self.zd.request("POST", "/_sim/admins",
                                   {"token": "another-bot",
                                    "email": "third@example.com"})
        self.assertEqual(st, 409)


class ControlPlane(SimCase):
    sim_kwargs = {"now": "2026-11-02T10:00:00Z"}

    def test_clock(self):
        self.assertEqual(self.zd.ctl("GET", "clock"),
                         {"now": "2026-11-02T10:00:00Z", "frozen": True})
        self.assertEqual(self.zd.advance(90)["now"], "2026-11-02T10:01:30Z")
        real = self.zd.ctl("POST", "clock", {"now": None})
        self.assertFalse(real["frozen"])
        for bad in ({}, {"now": "yesterday"}, {"advance_seconds": "x"}):
            st, _, _ = self.zd.request("POST", "/_sim/clock", bad)
            self.assertEqual(st, 400)

    def test_state_never_contains_a_secret(self):
        self.zd.set_now("2026-10-01T09:00:00Z")    # API tokens still made
        c = self.new_client()
        secrets = [c["secret"]]
        st, body, _ = self.zd.api(
            "PUT", "%s/%d/generate_secret" % (CLIENTS, c["id"]))
        secrets.append(body["client"]["secret"])
        secrets.append(self.new_token(c["id"])["full_token"])
        st, body, _ = self.zd.request("POST", "/oauth/tokens", {
            "grant_type": "client_credentials", "client_id": c["identifier"],
            "client_secret": secrets[1], "scope": "read"})
        secrets.append(body["access_token"])
        st, body, _ = self.zd.api("POST", "/api/v2/api_tokens",
                                  {"api_token": {"description": "d"}})
        secrets.append(body["api_token"]["token"])
        secrets.append(self.zd.seed_legacy("seeded")["token"])
        secrets.append(self.zd.admin_token)
        st, _, _ = self.zd.api("GET", "/api/v2/users/me", token=secrets[2])
        self.assertEqual(st, 200)
        self.zd.fault(status=500, count=3)
        state = self.zd.state()
        text = json.dumps(state)
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(s, json.dumps(self.zd.stats()))
        self.assertEqual(len(state["clients"]), 1)
        self.assertNotIn("secret", state["clients"][0])
        self.assertEqual(len(state["tokens"]), 2)
        for t in state["tokens"]:
            self.assertNotIn("full_token", t)
            self.assertEqual(len(t["token_prefix"]), 10)
        self.assertEqual(state["tokens"][0]["used_at"],
                         "2026-10-01T09:00:00Z")
        self.assertEqual(len(state["legacy_tokens"]), 2)
        self.assertEqual(state["faults"][0]["count"], 3)
        self.assertEqual(state["requests"]["by_endpoint"]
                         ["POST /api/v2/oauth/clients"], 1)
        self.assertEqual(state["admins"][0]["email"], ADMIN_EMAIL)

    def test_stats_count_api_calls(self):
        before = self.zd.stats()["requests"]
        for _ in range(3):
            self.zd.api("GET", "/api/v2/users/me")
        self.zd.request("GET", "/api/v2/users/me", token="bad")
        self.assertEqual(self.zd.stats()["requests"], before + 4)

    def test_reset_keeps_admins(self):
        c = self.new_client()
        self.new_token(c["id"])
        self.zd.seed_legacy("x")
        self.zd.reset()
        state = self.zd.state()
        self.assertEqual((state["clients"], state["tokens"],
                          state["legacy_tokens"]), ([], [], []))
        self.assertEqual(state["requests"]["total"], 0)
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        self.new_client()                   # the identifier is free again

    def test_concurrent_issuance(self):
        errors = []

        def work(n):
            try:
                for i in range(10):
                    c = self.new_client("keywarden-%d-%d" % (n, i))
                    t = self.new_token(c["id"], ["tickets:read"])
                    st, _, _ = self.zd.api("GET", "/api/v2/tickets",
                                           token=t["full_token"])
                    if st != 200:
                        errors.append(st)
                    if i % 2:
                        self.zd.api("DELETE", "%s/%d" % (CLIENTS, c["id"]))
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        self.assertEqual(errors, [])
        stats = self.zd.stats()
        self.assertEqual((stats["clients"], stats["tokens"]), (40, 40))


def grant(zd, body, form=False):
    """POST /oauth/tokens with body as JSON, or as a form."""
    if form:
        return zd.request("POST", "/oauth/tokens",
                          raw=urllib.parse.urlencode(body),
                          headers={"Content-Type":
                                   "application/x-www-form-urlencoded"})
    return zd.request("POST", "/oauth/tokens", body)


class JsonSuffix(SimCase):
    """Zendesk's own examples and clients such as node-zendesk add .json."""

    def test_every_endpoint_answers_with_the_suffix(self):
        st, body, _ = self.zd.api("POST", CLIENTS + ".json",
                                  client_body("keywarden-json"))
        self.assertEqual(st, 201, self.zd.last_raw)
        cid = body["client"]["id"]
        one = "%s/%d.json" % (CLIENTS, cid)
        calls = [("GET", CLIENTS + ".json", None, 200),
                 ("GET", one, None, 200),
                 ("PUT", one, {"client": {"name": "renamed"}}, 200),
                 ("PUT", "%s/%d/generate_secret.json" % (CLIENTS, cid),
                  None, 200),
                 ("GET", "/api/v2/users/me.json", None, 200),
                 ("GET", "/api/v2/tickets.json", None, 200),
                 ("POST", "/api/v2/tickets.json",
                  {"ticket": {"subject": "s"}}, 201),
                 ("GET", "/api/v2/api_tokens.json", None, 200)]
        for method, path, body, want in calls:
            st, _, _ = self.zd.api(method, path, body)
            self.assertEqual(st, want, "%s %s: %r" % (method, path,
                                                      self.zd.last_raw))
        st, body, _ = self.zd.api("POST", TOKENS + ".json", {"token": {
            "client_id": cid, "scopes": ["read"]}})
        self.assertEqual(st, 201, self.zd.last_raw)
        tid = body["token"]["id"]
        for path in (TOKENS + ".json?all=true", "%s/%d.json" % (TOKENS, tid),
                     TOKENS + "/current.json"):
            st, _, _ = self.zd.api("GET", path)
            self.assertEqual(st, 200, path)
        st, _, _ = self.zd.api("DELETE", "%s/%d.json" % (TOKENS, tid))
        self.assertEqual(st, 204)
        st, _, _ = self.zd.api("DELETE", one)
        self.assertEqual(st, 204)
        st, _, _ = self.zd.api("GET", one)
        self.assertEqual(st, 404)
        # counted under the endpoint, whichever spelling was used
        by = self.zd.state()["requests"]["by_endpoint"]
        self.assertEqual(by["GET /api/v2/oauth/clients/{}"], 2)
        self.assertEqual(by["POST /api/v2/oauth/clients"], 1)
        self.assertNotIn("GET /api/v2/users/me.json", by)

    def test_next_link_keeps_the_suffix_and_unknown_paths_stay_404(self):
        for i in range(3):
            self.new_client("keywarden-s%d" % i)
        st, body, _ = self.zd.api("GET", CLIENTS + ".json?page[size]=2")
        self.assertEqual(st, 200)
        nxt = body["links"]["next"]
        self.assertTrue(nxt.startswith(self.zd.url + CLIENTS + ".json?"), nxt)
        st, body, _ = self.zd.api("GET", nxt)
        self.assertEqual((st, len(body["clients"])), (200, 1))
        st, body, _ = self.zd.api("GET", "/api/v2/no/such.json")
        self.assertEqual((st, body["error"]), (404, "InvalidEndpoint"))


class CurrentToken(SimCase):
    sim_kwargs = {"now": "2026-11-02T10:00:00Z"}

    def test_a_minted_token_reads_its_own_record(self):
        c = self.new_client()
        t = self.new_token(c["id"], ["tickets:read"])
        st, body, _ = self.zd.api("GET", TOKENS + "/current",
                                  token=t["full_token"])
        self.assertEqual(st, 200, self.zd.last_raw)
        cur = body["token"]
        self.assertEqual((cur["id"], cur["client_id"], cur["scopes"]),
                         (t["id"], c["id"], ["tickets:read"]))
        self.assertEqual(cur["token"], t["full_token"][:10])
        self.assertEqual(cur["used_at"], "2026-11-02T10:00:00Z")
        self.assertNotIn("full_token", cur)
        self.assertNotIn(t["full_token"], self.zd.last_raw.decode())
        self.zd.api("DELETE", "%s/%d" % (TOKENS, t["id"]))
        st, body, _ = self.zd.api("GET", TOKENS + "/current",
                                  token=t["full_token"])
        self.assert_invalid_token(st, body)

    def test_a_grant_token_shows_its_expiry(self):
        c = self.new_client()
        st, g, _ = grant(self.zd, {
            "grant_type": "client_credentials", "client_id": c["identifier"],
            "client_secret": c["secret"], "scope": "read"})
        self.assertEqual(st, 201)
        st, body, _ = self.zd.api("GET", TOKENS + "/current",
                                  token=g["access_token"])
        self.assertEqual(st, 200)
        self.assertEqual(body["token"]["expires_at"], "2026-11-02T10:30:00Z")
        self.assertEqual(body["token"]["client_id"], c["id"])

    def test_admin_token_and_basic_credentials(self):
        st, body, _ = self.zd.api("GET", TOKENS + "/current")
        self.assertEqual(st, 200, self.zd.last_raw)
        me = self.zd.state()["admins"][0]["user_id"]
        self.assertEqual(body["token"]["user_id"], me)
        self.assertEqual(body["token"]["token"], self.zd.admin_token[:10])
        self.assertIsNone(body["token"]["expires_at"])
        st, _, _ = self.zd.api("GET", "%s/%d" % (TOKENS, body["token"]["id"]))
        self.assertEqual(st, 404)       # not a token the API manages
        t = self.zd.seed_legacy("x")
        st, body, _ = self.zd.request("GET", TOKENS + "/current",
                                      auth=basic(ADMIN_EMAIL, t["token"]))
        self.assert_error(st, body, 404, "RecordNotFound")


class Grants(SimCase):
    sim_kwargs = {"now": "2026-11-02T10:00:00Z"}

    def cc(self, c, form=False, **kw):
        body = {"grant_type": "client_credentials",
                "client_id": c["identifier"], "client_secret": c["secret"],
                "scope": "read"}
        body.update(kw)
        return grant(self.zd, body, form)

    def test_form_body_is_accepted(self):
        c = self.new_client()
        st, body, _ = self.cc(c, form=True, scope="tickets:read read",
                              expires_in="600")
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertEqual((body["scope"], body["expires_in"]),
                         ("tickets:read read", 600))
        st, _, _ = self.zd.api("GET", "/api/v2/tickets",
                               token=body["access_token"])
        self.assertEqual(st, 200)
        st, body, _ = self.cc(c, form=True, client_secret="wrong")
        self.assertEqual((st, body["error"]), (401, "invalid_client"))
        st, body, _ = self.zd.request(
            "POST", "/oauth/tokens", raw="grant_type=%zz",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, body["error"]), (400, "invalid_request"))

    def test_errors(self):
        c = self.new_client()
        cases = [({"client_secret": "wrong"}, 401, "invalid_client"),
                 ({"client_id": "nobody"}, 401, "invalid_client"),
                 ({"client_secret": None}, 401, "invalid_client"),
                 ({"grant_type": "password"}, 400, "unsupported_grant_type"),
                 ({"grant_type": "authorization_code"}, 400,
                  "unsupported_grant_type"),
                 ({"expires_in": 299}, 400, "invalid_request"),
                 ({"expires_in": 172801}, 400, "invalid_request"),
                 ({"expires_in": "soon"}, 400, "invalid_request"),
                 ({"scope": ""}, 400, "invalid_scope"),
                 ({"scope": None}, 400, "invalid_scope")]
        for change, status, error in cases:
            body = {"grant_type": "client_credentials",
                    "client_id": c["identifier"],
                    "client_secret": c["secret"], "scope": "read"}
            body.update(change)
            body = {k: v for k, v in body.items() if v is not None}
            st, answer, _ = grant(self.zd, body)
            self.assertEqual((st, answer["error"]), (status, error), change)
            self.assertIsInstance(answer["error_description"], str)
        self.assertEqual(self.zd.state()["tokens"], [])
        st, body, _ = self.cc(c, expires_in=172800)
        self.assertEqual((st, body["expires_in"]), (201, 172800))

    def test_grant_status_can_be_200(self):
        c = self.new_client()
        st, _, _ = self.cc(c)
        self.assertEqual(st, 201)           # what Zendesk's reference lists
        self.zd.ctl("POST", "options", {"grant_status": 200})
        st, _, _ = self.cc(c)
        self.assertEqual(st, 200)

    def test_grant_tokens_die_with_their_client(self):
        c = self.new_client()
        st, g, _ = self.cc(c)
        st, _, _ = self.zd.api("GET", "/api/v2/users/me",
                               token=g["access_token"])
        self.assertEqual(st, 200)
        self.zd.api("DELETE", "%s/%d" % (CLIENTS, c["id"]))
        st, body, _ = self.zd.api("GET", "/api/v2/users/me",
                                  token=g["access_token"])
        self.assert_invalid_token(st, body)

    def authorize(self, c, scope="read tickets:write", **kw):
        body = {"client_id": c["identifier"], "scope": scope}
        body.update(kw)
        return self.zd.ctl("POST", "authorizations", body)

    def refresh(self, c, rt, form=False, **kw):
        body = {"grant_type": "refresh_token", "refresh_token": rt,
                "client_id": c["identifier"], "client_secret": c["secret"]}
        body.update(kw)
        return grant(self.zd, body, form)

    def test_refresh_returns_a_new_pair_and_deletes_the_old(self):
        c = self.new_client()
        pair = self.authorize(c)
        self.assertEqual((pair["expires_in"], pair["refresh_token_expires_in"],
                          pair["token_type"]), (1800, 2592000, "bearer"))
        tokens = self.zd.state()["tokens"]
        self.assertEqual(tokens[0]["refresh_token"], pair["refresh_token"][:10])
        self.assertEqual(tokens[0]["refresh_token_expires_at"],
                         "2026-12-02T10:00:00Z")
        st, new, _ = self.refresh(c, pair["refresh_token"], form=True,
                                  expires_in="3600",
                                  refresh_token_expires_in="604800")
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertEqual((new["expires_in"], new["refresh_token_expires_in"],
                          new["scope"]), (3600, 604800, "read tickets:write"))
        self.assertNotEqual(new["access_token"], pair["access_token"])
        st, body, _ = self.zd.api("GET", "/api/v2/users/me",
                                  token=pair["access_token"])
        self.assert_invalid_token(st, body)         # the old pair is gone
        st, body, _ = self.refresh(c, pair["refresh_token"])
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))
        st, _, _ = self.zd.api("GET", "/api/v2/users/me",
                               token=new["access_token"])
        self.assertEqual(st, 200)
        self.assertEqual(len(self.zd.state()["tokens"]), 1)
        # narrowing the scope is fine, widening it is not
        st, body, _ = self.refresh(c, new["refresh_token"], scope="write")
        self.assertEqual((st, body["error"]), (400, "invalid_scope"))
        st, narrow, _ = self.refresh(c, new["refresh_token"],
                                     scope="tickets:write")
        self.assertEqual((st, narrow["scope"]), (201, "tickets:write"))
        st, body, _ = self.zd.api("GET", "/api/v2/tickets",
                                  token=narrow["access_token"])
        self.assert_forbidden(st, body)

    def test_refresh_errors_and_expiry(self):
        c = self.new_client()
        other = self.new_client("keywarden-other")
        pair = self.authorize(c)
        for kw, status, error in (
                ({"client_secret": "wrong"}, 401, "invalid_client"),
                ({"client_id": other["identifier"],
                  "client_secret": other["secret"]}, 400, "invalid_grant"),
                ({"refresh_token_expires_in": 604799}, 400, "invalid_request"),
                ({"refresh_token_expires_in": 7776001}, 400,
                 "invalid_request"),
                ({"expires_in": 172801}, 400, "invalid_request")):
            st, body, _ = self.refresh(c, pair["refresh_token"], **kw)
            self.assertEqual((st, body["error"]), (status, error), kw)
        st, body, _ = self.refresh(c, "not-a-refresh-token")
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))
        st, body, _ = grant(self.zd, {"grant_type": "refresh_token",
                                      "client_id": c["identifier"],
                                      "client_secret": c["secret"]})
        self.assertEqual((st, body["error"]), (400, "invalid_request"))
        self.zd.advance(30 * 86400)                 # the refresh token's TTL
        st, body, _ = self.refresh(c, pair["refresh_token"])
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))

    def test_public_clients_refresh_without_a_secret(self):
        pub = self.new_client("keywarden-pub", kind="public")
        pair = self.authorize(pub, scope="read")
        st, body, _ = grant(self.zd, {"grant_type": "refresh_token",
                                      "client_id": pub["identifier"],
                                      "refresh_token": pair["refresh_token"]})
        self.assertEqual(st, 201, self.zd.last_raw)
        self.assertIn("refresh_token", body)


class TokenLifetimes(SimCase):
    """Clients created from 2026-04-30 (by the simulator's clock) get the
    enforced TTLs; older ones keep tokens that do not expire."""

    sim_kwargs = {"now": "2026-04-29T23:59:59Z"}

    def cc(self, c, **kw):
        body = {"grant_type": "client_credentials",
                "client_id": c["identifier"], "client_secret": c["secret"],
                "scope": "read"}
        body.update(kw)
        st, g, _ = grant(self.zd, body)
        self.assertEqual(st, 201, self.zd.last_raw)
        return g

    def me(self, token):
        return self.zd.api("GET", "/api/v2/users/me", token=token)

    def test_new_clients_default_to_30_minutes_and_30_days(self):
        old = self.new_client("keywarden-old")
        self.zd.advance(1)                          # 2026-04-30T00:00:00Z
        new = self.new_client("keywarden-new")
        g = self.cc(new)
        self.assertEqual(g["expires_in"], 1800)
        pair = self.zd.ctl("POST", "authorizations", {
            "client_id": new["identifier"], "scope": "read"})
        self.assertEqual((pair["expires_in"], pair["refresh_token_expires_in"]),
                         (1800, 30 * 86400))
        g_old = self.cc(old)
        self.assertNotIn("expires_in", g_old)       # does not expire
        pair_old = self.zd.ctl("POST", "authorizations", {
            "client_id": old["identifier"], "scope": "read"})
        self.assertNotIn("refresh_token_expires_in", pair_old)
        self.zd.advance(1799)
        self.assertEqual(self.me(g["access_token"])[0], 200)
        self.zd.advance(1)
        st, body, _ = self.me(g["access_token"])
        self.assert_invalid_token(st, body)
        self.zd.advance(400 * 86400)
        self.assertEqual(self.me(g_old["access_token"])[0], 200)
        self.assertEqual(self.me(pair_old["access_token"])[0], 200)
        # an older client may still ask for a lifetime, within the bounds
        g_old = self.cc(old, expires_in=300)
        self.assertEqual(g_old["expires_in"], 300)
        self.zd.advance(300)
        st, body, _ = self.me(g_old["access_token"])
        self.assert_invalid_token(st, body)

    def test_api_tokens_have_no_expires_at_by_default(self):
        self.zd.advance(86400)
        c = self.new_client()
        t = self.new_token(c["id"])
        self.assertIsNone(t["expires_at"])
        self.assertIsNone(t["refresh_token"])
        self.zd.advance(400 * 86400)
        self.assertEqual(self.me(t["full_token"])[0], 200)
        self.assertFalse(self.zd.state()["options"]
                         ["new_client_tokens_expire"])

    def test_api_tokens_expire_for_new_clients_when_switched_on(self):
        old = self.new_client("keywarden-old")
        self.zd.advance(1)
        new = self.new_client("keywarden-new")
        opts = self.zd.ctl("POST", "options",
                           {"new_client_tokens_expire": True})
        self.assertTrue(opts["new_client_tokens_expire"])
        t_new = self.new_token(new["id"])
        t_old = self.new_token(old["id"])
        self.assertEqual(t_new["expires_at"], "2026-04-30T00:30:00Z")
        self.assertIsNone(t_old["expires_at"])
        self.zd.advance(1799)
        self.assertEqual(self.me(t_new["full_token"])[0], 200)
        self.zd.advance(1)
        st, body, _ = self.me(t_new["full_token"])
        self.assert_invalid_token(st, body)
        self.assertEqual(self.me(t_old["full_token"])[0], 200)
        self.zd.reset()                     # options go back to defaults
        self.assertFalse(self.zd.state()["options"]
                         ["new_client_tokens_expire"])


class RateLimits(SimCase):
    def test_headers_on_every_api_answer(self):
        for token, path, status in (
                (self.zd.admin_token, "/api/v2/users/me", 200),
                ("bad", "/api/v2/users/me", 401),
                (self.zd.admin_token, "/api/v2/no/such", 404)):
            st, _, hdrs = self.zd.request("GET", path, token=token)
            self.assertEqual(st, status)
            self.assertEqual(hdrs.get("x-rate-limit"), "100000000")
            self.assertIn("x-rate-limit-remaining", hdrs)
        st, _, hdrs = self.zd.request("POST", "/oauth/tokens", {})
        self.assertEqual(st, 400)
        self.assertIn("x-rate-limit", hdrs)
        self.assertNotIn("retry-after", hdrs)

    def test_over_the_limit_is_429_with_a_plain_text_body(self):
        self.zd.ctl("POST", "options", {"rate_limit": 3})
        remaining = []
        for _ in range(3):
            st, _, hdrs = self.zd.api("GET", "/api/v2/users/me")
            self.assertEqual(st, 200)
            self.assertEqual(hdrs["x-rate-limit"], "3")
            remaining.append(hdrs["x-rate-limit-remaining"])
        self.assertEqual(remaining, ["2", "1", "0"])
        st, body, hdrs = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 429)
        self.assertIsNone(body)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        self.assertTrue(self.zd.last_raw)
        self.assertTrue(1 <= int(hdrs["retry-after"]) <= 60, hdrs)
        self.assertEqual(hdrs["x-rate-limit-remaining"], "0")
        self.zd.state()                     # the control plane is not limited
        self.zd.ctl("POST", "options", {"rate_limit": 1000})
        st, _, _ = self.zd.api("GET", "/api/v2/users/me")
        self.assertEqual(st, 200)
        for bad in ({"rate_limit": 0}, {"rate_limit": "x"},
                    {"grant_status": 204},
                    {"new_client_tokens_expire": "yes"}):
            st, _, _ = self.zd.request("POST", "/_sim/options", bad)
            self.assertEqual(st, 400, bad)


class Tickets(SimCase):
    def test_seeded_tickets_page_with_cursor_and_scopes(self):
        self.assertEqual(self.zd.ctl("POST", "tickets", {"count": 5}),
                         {"tickets": 5})
        c = self.new_client()
        reader = self.new_token(c["id"], ["tickets:read"])["full_token"]
        url, ids, pages = "/api/v2/tickets.json?page[size]=2", [], 0
        while url:
            st, body, _ = self.zd.api("GET", url, token=reader)
            self.assertEqual(st, 200, self.zd.last_raw)
            ids += [t["id"] for t in body["tickets"]]
            pages += 1
            self.assertEqual(body["meta"]["has_more"],
                             body["links"]["next"] is not None)
            self.assertIsInstance(body["meta"]["after_cursor"], str)
            url = body["links"]["next"]
        self.assertEqual((ids, pages), ([1, 2, 3, 4, 5], 3))
        users = self.new_token(c["id"], ["users:read"])["full_token"]
        st, body, _ = self.zd.api("GET", "/api/v2/tickets.json", token=users)
        self.assert_forbidden(st, body)
        for bad in ({}, {"count": 0}, {"count": 1001}, {"count": "2"}):
            st, _, _ = self.zd.request("POST", "/_sim/tickets", bad)
            self.assertEqual(st, 400, bad)


if __name__ == "__main__":
    unittest.main()
