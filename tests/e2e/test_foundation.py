"""test_foundation.py — bootstrap, people, tokens, instances, bad input,
throttling, access log, shutdown, the `serve --check` CLI and configuration
precedence, against the real daemon on loopback (see API.md)."""

import itertools
import json
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import time
import unittest
import urllib.parse

from harness import (ADMIN_EMAIL, Server, make_person, parse_json_output,
                     run_bin, token_for)

TOKEN_RE = re.compile(r"^kw_[A-Za-z0-9_-]{43,}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PERSON_FIELDS = {"id", "email", "name", "manager", "roles", "teams",
                 "slack_user_id", "active", "created_at"}

_seq = itertools.count(1)


def uniq(local):
    """A fresh email address: local-<n>@example.com."""
    return "%s-%d@example.com" % (local, next(_seq))


def q(x):
    return urllib.parse.quote(str(x), safe="@")


def files_containing(top, needle):
    """Paths of the files under ``top`` whose bytes contain ``needle``."""
    hits = []
    for root, _, files in os.walk(top):
        for fn in files:
            path = os.path.join(root, fn)
            try:
                with open(path, "rb") as f:
                    if needle in f.read():
                        hits.append(path)
            except OSError:
                pass
    return hits


def raw_http(port, data, timeout=5.0):
    """Send raw bytes to 127.0.0.1:port; return what comes back before the
    server closes or ``timeout`` passes (b"" if nothing)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, OSError):
                break
            if not chunk:
                break
            out += chunk
    return out


class KwTestCase(unittest.TestCase):
    """Starts one server per class (cls.srv); assertion helpers."""

    server_args = None
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=cls.server_args)
        try:
            cls.srv.start()
            cls.prepare()
        except BaseException:
            cls.srv.close()
            raise

    @classmethod
    def prepare(cls):
        """Class fixtures on the running cls.srv (override)."""

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.close()

    def assertError(self, resp, status, code, field=None):
        """resp is (status, body, headers): the structured error of API.md."""
        st, body, hdrs = resp
        self.assertEqual(st, status, "body: %r" % (body,))
        self.assertIsInstance(body, dict, "error body is not a JSON object")
        self.assertIn("error", body, body)
        err = body["error"]
        self.assertIsInstance(err, dict, body)
        self.assertEqual(err.get("code"), code, body)
        self.assertIsInstance(err.get("message"), str, body)
        self.assertTrue(err["message"].strip(), "empty error message")
        self.assertTrue(hdrs.get("Content-Type", "").startswith(
            "application/json"), hdrs.get("Content-Type"))
        if field is not None:
            details = err.get("details")
            self.assertIsInstance(details, dict,
                                  "details missing; want field %r: %r"
                                  % (field, body))
            self.assertEqual(details.get("field"), field, body)

    def assertOk(self, resp, status=200):
        st, body, _ = resp
        self.assertEqual(st, status, "body: %r" % (body,))
        return body

    def assertStillServing(self):
        st, body, _ = self.srv.request("GET", "/healthz", token=None)
        self.assertEqual((st, body), (200, {"status": "ok"}))

    def person(self, x):
        return self.assertOk(self.srv.request("GET", "/v1/people/%s" % q(x)))

    def all_people(self):
        body = self.assertOk(self.srv.request("GET", "/v1/people?limit=500"))
        self.assertIsNone(body["next_cursor"])
        return body["items"]


# ---------------------------------------------------------------------------
class BootstrapTests(KwTestCase):

    def test_init_prints_admin_token(self):
        out = self.srv.init_output
        self.assertIsInstance(out, dict)
        tok = out["admin_token"]
        self.assertTrue(tok.startswith("kw_"), tok)
        self.assertGreaterEqual(len(tok), 46)
        self.assertRegex(tok, TOKEN_RE)

    def test_master_key_is_32_bytes_mode_0600(self):
        path = os.path.join(self.srv.data_dir, "master.key")
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                         "master.key mode %o" % stat.S_IMODE(st.st_mode))
        self.assertEqual(st.st_size, 32)

    def test_init_again_refuses_and_changes_nothing(self):
        key = os.path.join(self.srv.data_dir, "master.key")
        with open(key, "rb") as f:
            before = f.read()
        r = run_bin("init", "--data-dir", self.srv.data_dir,
                    "--admin-email", "other@example.com",
                    "--admin-name", "Other")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue((r.stderr + r.stdout).strip(), "no message")
        self.assertNotIn("admin_token", r.stdout)
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before, "master.key changed")
        me = self.assertOk(self.srv.request("GET", "/v1/me"))
        self.assertEqual(me["email"], ADMIN_EMAIL)
        st, _, _ = self.srv.request("GET", "/v1/people/other@example.com")
        self.assertEqual(st, 404, "second init created a person")

    def test_healthz_without_auth(self):
        st, body, hdrs = self.srv.request("GET", "/healthz", token=None)
        self.assertEqual(st, 200)
        self.assertEqual(body, {"status": "ok"})
        self.assertTrue(hdrs.get("Content-Type", "").startswith(
            "application/json"))

    def test_me_is_the_admin(self):
        me = self.assertOk(self.srv.request("GET", "/v1/me"))
        self.assertEqual(me["email"], ADMIN_EMAIL)
        self.assertEqual(me["name"], "Admin")
        self.assertIn("admin", me["roles"])
        self.assertIs(me["active"], True)
        self.assertTrue(PERSON_FIELDS <= set(me), set(me))


# ---------------------------------------------------------------------------
class PeopleTests(KwTestCase):

    def test_create_person_returns_full_object(self):
        boss = make_person(self.srv, uniq("boss"), name="Boss")
        email = uniq("alice")
        st, p, _ = self.srv.request("POST", "/v1/people", {
            "email": email, "name": "Alice Example", "manager": boss["email"],
            "roles": ["auditor"], "teams": ["support-ops"],
            "slack_user_id": "U0ALICE"})
        self.assertEqual(st, 201, p)
        self.assertTrue(PERSON_FIELDS <= set(p), set(p))
        self.assertIsInstance(p["id"], str)
        self.assertTrue(p["id"])
        self.assertEqual(p["email"], email)
        self.assertEqual(p["name"], "Alice Example")
        self.assertEqual(p["manager"], boss["email"])
        self.assertEqual(p["roles"], ["auditor"])
        self.assertEqual(p["teams"], ["support-ops"])
        self.assertEqual(p["slack_user_id"], "U0ALICE")
        self.assertIs(p["active"], True)
        self.assertRegex(p["created_at"], TIME_RE)
        self.assertEqual(self.person(p["id"]), p)

    def test_create_minimal_person_defaults(self):
        email = uniq("min")
        p = self.assertOk(self.srv.request(
            "POST", "/v1/people", {"email": email, "name": "Min"}), 201)
        self.assertIsNone(p["manager"])
        self.assertEqual(p["roles"], [])
        self.assertEqual(p["teams"], [])
        self.assertIsNone(p["slack_user_id"])
        self.assertIs(p["active"], True)

    def test_manager_given_by_id_is_returned_as_email(self):
        boss = make_person(self.srv, uniq("boss"))
        p = make_person(self.srv, uniq("report"), manager=boss["id"])
        self.assertEqual(p["manager"], boss["email"])
        self.assertEqual(self.person(p["email"])["manager"], boss["email"])

    def test_list_has_items_and_next_cursor(self):
        make_person(self.srv, uniq("listed"))
        body = self.assertOk(self.srv.request("GET", "/v1/people"))
        self.assertIsInstance(body["items"], list)
        self.assertIn("next_cursor", body)
        emails = [p["email"] for p in body["items"]]
        self.assertIn(ADMIN_EMAIL, emails)
        for p in body["items"]:
            self.assertTrue(PERSON_FIELDS <= set(p), set(p))

    def test_pagination_walks_everyone_exactly_once(self):
        for _ in range(5):
            make_person(self.srv, uniq("page"))
        everyone = sorted(p["id"] for p in self.all_people())
        self.assertGreaterEqual(len(everyone), 6)
        seen, cursor, pages = [], None, 0
        while True:
            path = "/v1/people?limit=2"
            if cursor is not None:
                path += "&cursor=" + urllib.parse.quote(cursor, safe="")
            body = self.assertOk(self.srv.request("GET", path))
            self.assertLessEqual(len(body["items"]), 2)
            seen += [p["id"] for p in body["items"]]
            cursor = body["next_cursor"]
            pages += 1
            self.assertLess(pages, 100, "pagination does not end")
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
        self.assertEqual(len(seen), len(set(seen)), "someone seen twice")
        self.assertEqual(sorted(seen), everyone)
        self.assertGreaterEqual(pages, 3)

    def test_get_by_id_and_by_email(self):
        p = make_person(self.srv, uniq("getme"))
        self.assertEqual(self.person(p["id"]), p)
        self.assertEqual(self.person(p["email"]), p)

    def test_get_unknown_person_is_404(self):
        self.assertError(self.srv.request(
            "GET", "/v1/people/nobody@example.com"), 404, "not_found")

    def patch(self, who, body):
        return self.assertOk(self.srv.request(
            "PATCH", "/v1/people/%s" % q(who), body))

    def test_patch_name(self):
        p = make_person(self.srv, uniq("rename"), name="Old Name")
        self.assertEqual(self.patch(p["id"], {"name": "New Name"})["name"],
                         "New Name")
        got = self.person(p["id"])
        self.assertEqual(got["name"], "New Name")
        self.assertEqual(got["email"], p["email"])

    def test_patch_manager_set_and_clear(self):
        boss = make_person(self.srv, uniq("boss"))
        p = make_person(self.srv, uniq("managed"))
        self.assertEqual(self.patch(p["email"], {"manager": boss["email"]})
                         ["manager"], boss["email"])
        self.assertEqual(self.person(p["id"])["manager"], boss["email"])
        self.assertIsNone(self.patch(p["id"], {"manager": None})["manager"])
        self.assertIsNone(self.person(p["id"])["manager"])

    def test_patch_roles(self):
        p = make_person(self.srv, uniq("roles"))
        self.assertEqual(self.patch(p["id"], {"roles": ["auditor"]})["roles"],
                         ["auditor"])
        self.assertEqual(self.person(p["id"])["roles"], ["auditor"])
        self.patch(p["id"], {"roles": []})
        self.assertEqual(self.person(p["id"])["roles"], [])

    def test_patch_teams(self):
        p = make_person(self.srv, uniq("teams"))
        self.patch(p["id"], {"teams": ["support-ops", "billing"]})
        self.assertEqual(sorted(self.person(p["id"])["teams"]),
                         ["billing", "support-ops"])

    def test_patch_slack_user_id(self):
        p = make_person(self.srv, uniq("slack"))
        self.patch(p["id"], {"slack_user_id": "U0SLACK1"})
        self.assertEqual(self.person(p["id"])["slack_user_id"], "U0SLACK1")
        self.patch(p["id"], {"slack_user_id": None})
        self.assertIsNone(self.person(p["id"])["slack_user_id"])

    def test_patch_active(self):
        p = make_person(self.srv, uniq("active"))
        self.assertIs(self.patch(p["id"], {"active": False})["active"], False)
        self.assertIs(self.person(p["id"])["active"], False)
        self.patch(p["id"], {"active": True})
        self.assertIs(self.person(p["id"])["active"], True)

    def test_patch_leaves_other_fields_alone(self):
        boss = make_person(self.srv, uniq("boss"))
        p = make_person(self.srv, uniq("keep"), manager=boss["email"],
                        teams=["support-ops"], slack_user_id="U0KEEP")
        self.patch(p["id"], {"name": "Kept"})
        got = self.person(p["id"])
        for k in ("email", "manager", "roles", "teams", "slack_user_id",
                  "active", "created_at", "id"):
            self.assertEqual(got[k], p[k], k)

    def test_duplicate_email_is_conflict(self):
        email = uniq("dup")
        make_person(self.srv, email)
        n = len(self.all_people())
        self.assertError(self.srv.request(
            "POST", "/v1/people", {"email": email, "name": "Again"}),
            409, "conflict")
        self.assertEqual(len(self.all_people()), n)

    def test_unknown_manager_is_validation_failed(self):
        self.assertError(self.srv.request("POST", "/v1/people", {
            "email": uniq("orphan"), "name": "Orphan",
            "manager": "ghost@example.com"}),
            400, "validation_failed", field="manager")

    def test_non_admin_cannot_create_person(self):
        tok = token_for(self.srv, make_person(self.srv, uniq("plain"))["id"])
        self.assertError(self.srv.request(
            "POST", "/v1/people", {"email": uniq("x"), "name": "X"},
            token=tok), 403, "forbidden")

    def test_auditor_reads_people_but_cannot_write(self):
        aud = make_person(self.srv, uniq("auditor"), roles=["auditor"])
        tok = token_for(self.srv, aud["email"])
        self.assertOk(self.srv.request("GET", "/v1/people", token=tok))
        self.assertOk(self.srv.request(
            "GET", "/v1/people/%s" % q(ADMIN_EMAIL), token=tok))
        self.assertError(self.srv.request(
            "POST", "/v1/people", {"email": uniq("y"), "name": "Y"},
            token=tok), 403, "forbidden")
        victim = make_person(self.srv, uniq("victim"), name="Victim")
        self.assertError(self.srv.request(
            "PATCH", "/v1/people/%s" % victim["id"], {"name": "Changed"},
            token=tok), 403, "forbidden")
        self.assertEqual(self.person(victim["id"])["name"], "Victim")

    def test_plain_person_cannot_list_people_but_can_see_self(self):
        p = make_person(self.srv, uniq("plain"))
        tok = token_for(self.srv, p["email"])
        self.assertError(self.srv.request("GET", "/v1/people", token=tok),
                         403, "forbidden")
        me = self.assertOk(self.srv.request("GET", "/v1/me", token=tok))
        self.assertEqual(me["email"], p["email"])
        self.assertEqual(me["id"], p["id"])


# ---------------------------------------------------------------------------
class TokenTests(KwTestCase):

    def test_admin_issues_token_that_authenticates_as_the_person(self):
        p = make_person(self.srv, uniq("tok"))
        st, body, _ = self.srv.request(
            "POST", "/v1/people/%s/tokens" % q(p["email"]), {})
        self.assertEqual(st, 201, body)
        self.assertIsInstance(body["id"], str)
        self.assertRegex(body["token"], TOKEN_RE)
        me = self.assertOk(self.srv.request("GET", "/v1/me",
                                            token=body["token"]))
        self.assertEqual(me["email"], p["email"])

    def test_tokens_are_distinct(self):
        p = make_person(self.srv, uniq("twice"))
        a, b = token_for(self.srv, p["id"]), token_for(self.srv, p["id"])
        self.assertNotEqual(a, b)
        for t in (a, b):
            self.assertEqual(self.assertOk(self.srv.request(
                "GET", "/v1/me", token=t))["email"], p["email"])

    def test_person_issues_token_for_themselves(self):
        p = make_person(self.srv, uniq("self"))
        tok = token_for(self.srv, p["id"])
        st, body, _ = self.srv.request(
            "POST", "/v1/people/%s/tokens" % q(p["email"]), {}, token=tok)
        self.assertEqual(st, 201, body)
        me = self.assertOk(self.srv.request("GET", "/v1/me",
                                            token=body["token"]))
        self.assertEqual(me["email"], p["email"])

    def test_person_cannot_issue_token_for_someone_else(self):
        p = make_person(self.srv, uniq("mallory"))
        other = make_person(self.srv, uniq("target"))
        tok = token_for(self.srv, p["id"])
        self.assertError(self.srv.request(
            "POST", "/v1/people/%s/tokens" % q(other["email"]), {},
            token=tok), 403, "forbidden")
        self.assertError(self.srv.request(
            "POST", "/v1/people/%s/tokens" % q(ADMIN_EMAIL), {},
            token=tok), 403, "forbidden")

    def test_offboard_deactivates_and_kills_tokens(self):
        p = make_person(self.srv, uniq("leaver"))
        t1, t2 = token_for(self.srv, p["id"]), token_for(self.srv, p["email"])
        self.assertOk(self.srv.request("GET", "/v1/me", token=t1))
        st, summary, _ = self.srv.request(
            "POST", "/v1/people/%s/offboard" % q(p["email"]), {})
        self.assertEqual(st, 200, summary)
        self.assertIsInstance(summary, dict)
        self.assertIs(self.person(p["id"])["active"], False)
        for t in (t1, t2):
            self.assertError(self.srv.request("GET", "/v1/me", token=t),
                             401, "unauthenticated")

    def test_tokens_are_not_stored_in_plaintext(self):
        p = make_person(self.srv, uniq("hashed"))
        tok = token_for(self.srv, p["id"])
        for t in (tok, self.srv.admin_token):
            self.assertEqual(files_containing(self.srv.data_dir, t.encode()),
                             [], "token in plaintext in the data dir")
            self.assertEqual(files_containing(
                self.srv.data_dir, t[3:].encode()), [])

    def test_only_admin_offboards(self):
        p = make_person(self.srv, uniq("stayer"))
        other = make_person(self.srv, uniq("plotter"))
        tok = token_for(self.srv, other["id"])
        self.assertError(self.srv.request(
            "POST", "/v1/people/%s/offboard" % p["id"], {}, token=tok),
            403, "forbidden")
        self.assertIs(self.person(p["id"])["active"], True)


# ---------------------------------------------------------------------------
class InstanceTests(KwTestCase):

    @classmethod
    def prepare(cls):
        cls.prov = make_person(cls.srv, uniq("prov"), name="Provisioner")
        cls.prov2 = make_person(cls.srv, uniq("prov2"), name="Provisioner 2")
        cls.plain = make_person(cls.srv, uniq("reader"))
        cls.plain_tok = token_for(cls.srv, cls.plain["id"])

    def body(self, name, **over):
        b = {"name": name, "display_name": "Zendesk " + name,
             "provider": "zendesk", "url": "https://example.zendesk.com",
             "provisioners": [self.prov["email"]],
             "allow_integrations": True, "issuance": "automatic",
             "allowed_scopes": ["read", "tickets:read"],
             "max_lifetime_days": 365, "rotation_days": 90,
             "bot": {"email": "bot@example.com",
                     "oauth_token": "oauth-secret-" + name}}
        b.update(over)
        return b

    def create(self, name, **over):
        return self.assertOk(self.srv.request(
            "POST", "/v1/instances", self.body(name, **over)), 201)

    def get(self, name):
        return self.assertOk(self.srv.request(
            "GET", "/v1/instances/%s" % name))

    def test_create_instance_never_returns_or_stores_bot_secret(self):
        secret = "zd-oauth-SECRET-9c1f2e7a5b"
        b = self.body("global", bot={"email": "bot@example.com",
                                     "oauth_token": secret})
        st, inst, _ = self.srv.request("POST", "/v1/instances", b)
        raw = self.srv.last_raw
        self.assertEqual(st, 201, inst)
        self.assertNotIn(secret.encode(), raw)
        self.assertNotIn(b"oauth_token", raw)
        for k in ("name", "display_name", "provider", "url",
                  "allow_integrations", "issuance", "allowed_scopes",
                  "max_lifetime_days", "rotation_days", "provisioners"):
            self.assertEqual(inst[k], b[k], k)
        if "bot" in inst:
            self.assertEqual(inst["bot"].get("email"), "bot@example.com")
        self.assertEqual(self.get("global"), inst)
        for path in ("/v1/instances", "/v1/instances/global"):
            st, _, _ = self.srv.request("GET", path)
            self.assertEqual(st, 200)
            self.assertNotIn(secret.encode(), self.srv.last_raw, path)
            self.assertNotIn(b"oauth_token", self.srv.last_raw, path)
        self.assertNotIn(secret, self.srv.log(), "secret in server log")
        self.assertEqual(files_containing(self.srv.data_dir, secret.encode()), [],
                         "secret in plaintext in the data dir")

    def test_provisioner_given_by_id_is_returned_as_email(self):
        inst = self.create("byid", provisioners=[self.prov["id"]])
        self.assertEqual(inst["provisioners"], [self.prov["email"]])

    def test_duplicate_name_is_conflict(self):
        self.create("dupe")
        self.assertError(self.srv.request(
            "POST", "/v1/instances", self.body("dupe")), 409, "conflict")

    def test_any_person_reads_instances(self):
        self.create("readable")
        body = self.assertOk(self.srv.request("GET", "/v1/instances",
                                              token=self.plain_tok))
        self.assertIn("readable", [i["name"] for i in body["items"]])
        self.assertIn("next_cursor", body)
        inst = self.assertOk(self.srv.request(
            "GET", "/v1/instances/readable", token=self.plain_tok))
        self.assertEqual(inst["name"], "readable")
        self.assertNotIn(b"oauth-secret-readable", self.srv.last_raw)

    def test_reading_instances_needs_authentication(self):
        self.assertError(self.srv.request("GET", "/v1/instances", token=None),
                         401, "unauthenticated")

    def patch(self, name, body):
        return self.assertOk(self.srv.request(
            "PATCH", "/v1/instances/%s" % name, body))

    def test_patch_display_name(self):
        self.create("p-display")
        self.assertEqual(self.patch("p-display", {"display_name": "Renamed"})
                         ["display_name"], "Renamed")
        self.assertEqual(self.get("p-display")["display_name"], "Renamed")

    def test_patch_provisioners(self):
        self.create("p-prov")
        self.patch("p-prov", {"provisioners": [self.prov2["email"],
                                               self.prov["id"]]})
        self.assertEqual(sorted(self.get("p-prov")["provisioners"]),
                         sorted([self.prov["email"], self.prov2["email"]]))

    def test_patch_allow_integrations(self):
        self.create("p-integ")
        self.patch("p-integ", {"allow_integrations": False})
        self.assertIs(self.get("p-integ")["allow_integrations"], False)

    def test_patch_allowed_scopes(self):
        self.create("p-scopes")
        self.patch("p-scopes", {"allowed_scopes": ["read"]})
        self.assertEqual(self.get("p-scopes")["allowed_scopes"], ["read"])
        self.patch("p-scopes", {"allowed_scopes": None})
        self.assertIsNone(self.get("p-scopes")["allowed_scopes"])

    def test_patch_max_lifetime_days(self):
        self.create("p-life")
        self.patch("p-life", {"max_lifetime_days": 30})
        self.assertEqual(self.get("p-life")["max_lifetime_days"], 30)

    def test_patch_issuance(self):
        self.create("p-issue")
        self.patch("p-issue", {"issuance": "manual"})
        self.assertEqual(self.get("p-issue")["issuance"], "manual")

    def test_patch_leaves_other_fields_alone(self):
        before = self.create("p-keep")
        self.patch("p-keep", {"display_name": "Kept"})
        after = self.get("p-keep")
        for k in ("name", "provider", "url", "provisioners",
                  "allow_integrations", "issuance", "allowed_scopes",
                  "max_lifetime_days", "rotation_days"):
            self.assertEqual(after[k], before[k], k)

    def test_non_admin_cannot_write_instances(self):
        self.create("guarded")
        self.assertError(self.srv.request(
            "POST", "/v1/instances", self.body("sneaky"),
            token=self.plain_tok), 403, "forbidden")
        self.assertError(self.srv.request(
            "PATCH", "/v1/instances/guarded", {"display_name": "Hacked"},
            token=self.plain_tok), 403, "forbidden")
        self.assertEqual(self.get("guarded")["display_name"],
                         "Zendesk guarded")
        self.assertError(self.srv.request("GET", "/v1/instances/sneaky"),
                         404, "not_found")

    def test_unknown_provisioner_is_validation_failed(self):
        self.assertError(self.srv.request("POST", "/v1/instances", self.body(
            "noprov", provisioners=["ghost@example.com"])),
            400, "validation_failed", field="provisioners")
        self.assertError(self.srv.request("GET", "/v1/instances/noprov"),
                         404, "not_found")

    def test_plain_http_url_is_rejected(self):
        self.assertError(self.srv.request("POST", "/v1/instances", self.body(
            "plainhttp", url="http://example.com")),
            400, "validation_failed", field="url")

    def test_http_to_loopback_is_accepted(self):
        inst = self.create("loopback", url="http://127.0.0.1:9999")
        self.assertEqual(inst["url"], "http://127.0.0.1:9999")

    def test_unknown_issuance_is_validation_failed(self):
        self.assertError(self.srv.request("POST", "/v1/instances", self.body(
            "badissue", issuance="sometimes")),
            400, "validation_failed", field="issuance")

    def test_unknown_instance_is_404(self):
        self.assertError(self.srv.request("GET", "/v1/instances/nowhere"),
                         404, "not_found")

    def test_patch_unknown_instance_is_404(self):
        self.assertError(self.srv.request(
            "PATCH", "/v1/instances/nowhere", {"display_name": "X"}),
            404, "not_found")

    def test_out_of_range_lifetime_is_validation_failed(self):
        for bad in (0, -1, 3651, "365", 1.5):
            with self.subTest(max_lifetime_days=bad):
                self.assertError(self.srv.request(
                    "POST", "/v1/instances",
                    self.body("badlife", max_lifetime_days=bad)),
                    400, "validation_failed", field="max_lifetime_days")

    def test_wrong_scope_list_is_validation_failed(self):
        self.assertError(self.srv.request("POST", "/v1/instances", self.body(
            "badscopes", allowed_scopes=["read", 7])),
            400, "validation_failed", field="allowed_scopes")

    def test_unknown_field_in_instance_is_validation_failed(self):
        self.assertError(self.srv.request("POST", "/v1/instances", self.body(
            "extra", colour="blue")),
            400, "validation_failed", field="colour")

    def test_bot_without_secret_is_validation_failed(self):
        st, body, _ = self.srv.request("POST", "/v1/instances", self.body(
            "nobotsecret", bot={"email": "bot@example.com"}))
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["code"], "validation_failed")
        self.assertTrue(str(body["error"].get("details", {}).get("field", ""))
                        .startswith("bot"), body)

    def test_patch_bot_keeps_new_secret_hidden(self):
        self.create("p-bot")
        secret = "rotated-bot-SECRET-41d0c3"
        inst = self.patch("p-bot", {"bot": {"email": "newbot@example.com",
                                            "oauth_token": secret}})
        self.assertNotIn(secret.encode(), self.srv.last_raw)
        got = self.get("p-bot")
        self.assertNotIn(secret.encode(), self.srv.last_raw)
        if "bot" in got:
            self.assertEqual(got["bot"].get("email"), "newbot@example.com")
            self.assertEqual(inst["bot"].get("email"), "newbot@example.com")
        self.assertNotIn(secret, self.srv.log())
        self.assertEqual(files_containing(self.srv.data_dir,
                                          secret.encode()), [])


# ---------------------------------------------------------------------------
class BadInputTests(KwTestCase):

    def tearDown(self):
        self.assertStillServing()

    def post_people(self, **kw):
        return self.srv.request("POST", "/v1/people", **kw)

    def test_malformed_json(self):
        self.assertError(self.post_people(raw=b'{"email": "a@example.com",'),
                         400, "invalid_json")

    def test_json_array_body(self):
        self.assertError(self.post_people(raw=b'[{"email": "a@example.com"}]'),
                         400, "invalid_json")

    def test_json_scalar_body(self):
        self.assertError(self.post_people(raw=b'"hello"'), 400, "invalid_json")

    def test_empty_body(self):
        self.assertError(self.post_people(raw=b''), 400, "invalid_json")

    def test_invalid_utf8(self):
        self.assertError(self.post_people(
            raw=b'{"email": "u@example.com", "name": "\xff\xfe"}'),
            400, "invalid_json")

    def test_deeply_nested_json(self):
        self.assertError(self.post_people(raw=b'[' * 5000 + b']' * 5000),
                         400, "invalid_json")

    def test_wrong_type(self):
        self.assertError(self.post_people(
            body={"email": uniq("t"), "name": 5}),
            400, "validation_failed", field="name")

    def test_missing_required_field(self):
        self.assertError(self.post_people(body={"name": "No Email"}),
                         400, "validation_failed", field="email")

    def test_unknown_role(self):
        self.assertError(self.post_people(
            body={"email": uniq("w"), "name": "W", "roles": ["wizard"]}),
            400, "validation_failed", field="roles")

    def test_name_of_200_chars_is_accepted(self):
        p = make_person(self.srv, uniq("long"), name="n" * 200)
        self.assertEqual(p["name"], "n" * 200)

    def test_name_of_201_chars_is_rejected(self):
        self.assertError(self.post_people(
            body={"email": uniq("long"), "name": "n" * 201}),
            400, "validation_failed", field="name")

    def test_email_over_254_chars_is_rejected(self):
        email = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "example.com"
        self.assertGreater(len(email), 254)
        self.assertError(self.post_people(body={"email": email, "name": "L"}),
                         400, "validation_failed", field="email")

    def test_invalid_email(self):
        for bad in ("not-an-email", "@example.com", "a@", "a b@example.com"):
            with self.subTest(email=bad):
                self.assertError(self.post_people(
                    body={"email": bad, "name": "Bad"}),
                    400, "validation_failed", field="email")

    def test_unknown_top_level_field(self):
        self.assertError(self.post_people(
            body={"email": uniq("u"), "name": "U", "favourite_colour": "red"}),
            400, "validation_failed", field="favourite_colour")

    def test_unknown_field_in_patch(self):
        p = make_person(self.srv, uniq("patched"))
        self.assertError(self.srv.request(
            "PATCH", "/v1/people/%s" % p["id"], {"shoe_size": 44}),
            400, "validation_failed", field="shoe_size")

    def test_body_over_64k(self):
        body = json.dumps({"email": uniq("big"),
                           "name": "x" * (65 * 1024)}).encode()
        self.assertError(self.post_people(raw=body), 413, "payload_too_large")

    def test_wrong_content_type(self):
        self.assertError(self.post_people(
            body={"email": uniq("ct"), "name": "CT"},
            content_type="text/plain"), 415, "unsupported_media_type")

    def test_missing_content_type(self):
        self.assertError(self.post_people(
            body={"email": uniq("ct"), "name": "CT"}, content_type=None),
            415, "unsupported_media_type")

    def test_no_authorization(self):
        self.assertError(self.srv.request("GET", "/v1/me", token=None),
                         401, "unauthenticated")
        self.assertError(self.srv.request("GET", "/v1/people", token=None),
                         401, "unauthenticated")

    def test_basic_auth_is_rejected(self):
        self.assertError(self.srv.request(
            "GET", "/v1/me", token=None, headers={"Authorization": "Basic x"}),
            401, "unauthenticated")

    def test_garbled_bearer_is_rejected(self):
        for h in ("Bearer", "Bearer ", "Bearer !!!***", "Bearer kw_",
                  "Bearer " + "kw_" + "A" * 500):
            with self.subTest(header=h[:40]):
                self.assertError(self.srv.request(
                    "GET", "/v1/me", token=None,
                    headers={"Authorization": h}), 401, "unauthenticated")

    def test_unknown_token_is_rejected(self):
        self.assertError(self.srv.request(
            "GET", "/v1/me", token="kw_" + "Q" * 43), 401, "unauthenticated")

    def test_failed_write_leaves_nothing_behind(self):
        before = self.assertOk(self.srv.request("GET", "/v1/people?limit=500"))
        email = uniq("ghost")
        self.assertError(self.post_people(body={
            "email": email, "name": "Ghost", "roles": ["admin", "wizard"]}),
            400, "validation_failed", field="roles")
        self.assertError(self.post_people(body={
            "email": email, "name": "Ghost", "manager": "nobody@example.com"}),
            400, "validation_failed", field="manager")
        after = self.assertOk(self.srv.request("GET", "/v1/people?limit=500"))
        self.assertEqual(len(after["items"]), len(before["items"]))
        self.assertError(self.srv.request("GET", "/v1/people/%s" % email),
                         404, "not_found")

    def test_failed_patch_changes_nothing(self):
        p = make_person(self.srv, uniq("stable"), name="Stable")
        self.assertError(self.srv.request(
            "PATCH", "/v1/people/%s" % p["id"],
            {"name": "Changed", "roles": ["wizard"]}),
            400, "validation_failed", field="roles")
        self.assertEqual(self.person(p["id"]), p)

    def test_unknown_route_is_404(self):
        self.assertError(self.srv.request("GET", "/v1/no-such-thing"),
                         404, "not_found")

    def test_json_content_type_with_charset_is_accepted(self):
        self.assertOk(self.post_people(
            body={"email": uniq("charset"), "name": "Charset"},
            content_type="application/json; charset=utf-8"), 201)

    def test_body_just_under_64k_is_parsed_not_refused(self):
        body = json.dumps({"email": uniq("almost"),
                           "name": "x" * (63 * 1024)}).encode()
        self.assertLess(len(body), 64 * 1024)
        self.assertError(self.post_people(raw=body),
                         400, "validation_failed", field="name")

    def test_nul_in_string_is_rejected(self):
        st, body, _ = self.post_people(
            raw=b'{"email": "nul@example.com", "name": "a\\u0000b"}')
        self.assertEqual(st, 400, body)
        self.assertIn(body["error"]["code"],
                      ("invalid_json", "validation_failed"))
        self.assertError(self.srv.request("GET", "/v1/people/nul@example.com"),
                         404, "not_found")

    def test_too_many_and_too_long_teams(self):
        self.assertError(self.post_people(body={
            "email": uniq("teams"), "name": "T",
            "teams": ["t%d" % i for i in range(33)]}),
            400, "validation_failed", field="teams")
        self.assertError(self.post_people(body={
            "email": uniq("teams"), "name": "T", "teams": ["t" * 65]}),
            400, "validation_failed", field="teams")

    def test_bad_list_limit(self):
        for bad in ("0", "501", "abc", "-1"):
            with self.subTest(limit=bad):
                self.assertError(self.srv.request(
                    "GET", "/v1/people?limit=" + bad),
                    400, "validation_failed", field="limit")

    def test_garbled_cursor(self):
        for bad in ("garbage!!", "%ff", "per_zzzz"):
            with self.subTest(cursor=bad):
                self.assertError(self.srv.request(
                    "GET", "/v1/people?cursor=" + bad),
                    400, "validation_failed", field="cursor")

    def test_nul_in_query_value_is_not_truncated(self):
        # "%00garbage" is not a cursor the server issued; reading it as the
        # empty string (no cursor) would silently restart the listing.
        self.assertError(self.srv.request(
            "GET", "/v1/people?cursor=%00garbage"),
            400, "validation_failed", field="cursor")

    def test_patch_unknown_person_is_404(self):
        self.assertError(self.srv.request(
            "PATCH", "/v1/people/nobody@example.com", {"name": "N"}),
            404, "not_found")

    def test_malformed_http_does_not_hurt_the_server(self):
        port = self.srv.port
        for data in (b"GARBAGE\r\n\r\n",
                     b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /v1/me HTTP/1.1\r\nHost: x\r\n" +
                     b"X-Long: " + b"a" * 100000 + b"\r\n\r\n",
                     b"POST /v1/people HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: 50\r\n\r\n{\"email\"",
                     b"POST /v1/people HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: -5\r\n\r\n",
                     b"\x00\x01\x02\xff" * 100):
            with self.subTest(data=data[:40]):
                raw_http(port, data, timeout=3)
                self.assertStillServing()

    def test_huge_declared_length_is_refused_early(self):
        reply = raw_http(self.srv.port,
                         b"POST /v1/people HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Bearer " +
                         self.srv.admin_token.encode() + b"\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: 100000000\r\n\r\n{",
                         timeout=5)
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        self.assertIn(b"payload_too_large", reply)


# ---------------------------------------------------------------------------
class ThrottleTests(KwTestCase):
    server_args = ["--auth-fail-limit", "5"]

    def test_failed_authentications_are_throttled(self):
        for i in range(5):
            with self.subTest(attempt=i + 1):
                self.assertError(self.srv.request(
                    "GET", "/v1/me", token="kw_" + chr(65 + i) * 43),
                    401, "unauthenticated")
        resp = self.srv.request("GET", "/v1/me", token="kw_" + "Z" * 43)
        self.assertError(resp, 429, "rate_limited")
        retry = resp[2].get("Retry-After")
        self.assertIsNotNone(retry, "no Retry-After header")
        self.assertRegex(retry, r"^\d+$")
        self.assertGreater(int(retry), 0)
        self.assertStillServing()


# ---------------------------------------------------------------------------
class AccessLogTests(KwTestCase):

    REQUEST_ID_KEYS = ("request_id", "req_id", "rid", "id")

    def entries(self):
        out = []
        for line in self.srv.log().splitlines():
            s = line.strip()
            if s.startswith("{"):
                try:
                    out.append(json.loads(s))
                except ValueError:
                    self.fail("log line looks like JSON but is not: %r" % s)
        return out

    def access_entry(self, method, path, status):
        for e in self.entries():
            if (isinstance(e, dict) and e.get("method") == method
                    and e.get("path") == path
                    and str(e.get("status")) == str(status)):
                return e
        return None

    def test_one_json_line_per_request_without_secrets(self):
        marker = "Zebulon Bodymarker 7f3a"
        p = make_person(self.srv, uniq("logged"), name=marker)
        tok = token_for(self.srv, p["id"])
        bogus = "kw_" + "L" * 43
        made = [
            ("GET", "/v1/me", self.srv.request("GET", "/v1/me", token=tok)[0]),
            ("GET", "/v1/me",
             self.srv.request("GET", "/v1/me", token=bogus)[0]),
            ("GET", "/v1/people/%s" % p["id"],
             self.srv.request("GET", "/v1/people/%s" % p["id"])[0]),
            ("GET", "/v1/instances/none",
             self.srv.request("GET", "/v1/instances/none")[0]),
            ("POST", "/v1/people", self.srv.request(
                "POST", "/v1/people",
                {"email": uniq("rejected"), "name": "Quixotic Rejectmarker",
                 "roles": ["wizard"]})[0]),
        ]
        self.assertEqual([m[2] for m in made], [200, 401, 200, 404, 400])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if all(self.access_entry(*m) for m in made):
                break
            time.sleep(0.1)
        for m in made:
            with self.subTest(request=m):
                e = self.access_entry(*m)
                self.assertIsNotNone(e, "no access log line for %r\nlog:\n%s"
                                     % (m, self.srv.log()[-3000:]))
                self.assertTrue(any(k.startswith("duration") for k in e),
                                "no duration in %r" % e)
                self.assertTrue(any(k in e and e[k] for k in
                                    self.REQUEST_ID_KEYS),
                                "no request id in %r" % e)
        ids = [next(e[k] for k in self.REQUEST_ID_KEYS if k in e)
               for e in (self.access_entry(*m) for m in made)]
        self.assertEqual(len(set(map(str, ids))), len(ids),
                         "request ids are not distinct")
        log = self.srv.log()
        for secret in (self.srv.admin_token, tok, bogus):
            self.assertNotIn(secret, log)
            self.assertNotIn(secret[3:], log)
        self.assertNotIn(marker, log)
        self.assertNotIn("Quixotic Rejectmarker", log)


# ---------------------------------------------------------------------------
class ShutdownTests(unittest.TestCase):

    def test_sigterm_exits_0_and_data_persists(self):
        with Server() as srv:
            p = make_person(srv, uniq("persist"), name="Persistent")
            tok = token_for(srv, p["id"])
            t0 = time.monotonic()
            rc = srv.stop(signal.SIGTERM, timeout=10)
            self.assertFalse(srv.stop_timed_out, "did not stop within 10 s")
            self.assertEqual(rc, 0, "log:\n" + srv.log()[-3000:])
            self.assertLess(time.monotonic() - t0, 10)
            srv.start()
            st, got, _ = srv.request("GET", "/v1/people/%s" % q(p["email"]))
            self.assertEqual(st, 200, got)
            self.assertEqual(got, p)
            me = srv.request("GET", "/v1/me", token=tok)
            self.assertEqual(me[0], 200)
            self.assertEqual(me[1]["email"], p["email"])
            self.assertEqual(srv.stop(), 0)


# ---------------------------------------------------------------------------
class InitializedDirs:
    """Mixin: cls.tmp with initialised data dirs made by cls.make_dir()."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kw-e2e-cli-")
        try:
            cls.prepare()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def prepare(cls):
        """Make the class's data dirs (override)."""

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def make_dir(cls, name):
        d = os.path.join(cls.tmp, name)
        os.mkdir(d, 0o700)
        r = run_bin("init", "--data-dir", d, "--admin-email", ADMIN_EMAIL,
                    "--admin-name", "Admin")
        if r.returncode != 0:
            raise AssertionError("init %s failed: %s" % (d, r.stderr))
        return d


class CommandLineTests(InitializedDirs, unittest.TestCase):

    @classmethod
    def prepare(cls):
        cls.data = cls.make_dir("data")

    def test_serve_check_valid_config(self):
        r = run_bin("serve", "--check", "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_serve_check_bad_listen(self):
        r = run_bin("serve", "--check", "--data-dir", self.data,
                    "--listen", "nonsense")
        self.assertNotEqual(r.returncode, 0)
        msg = (r.stderr + r.stdout).lower()
        self.assertTrue(msg.strip(), "no message")
        self.assertTrue("listen" in msg or "nonsense" in msg, msg)

    def test_serve_check_missing_data_dir(self):
        r = run_bin("serve", "--check", "--data-dir",
                    os.path.join(self.tmp, "does-not-exist"))
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue((r.stderr + r.stdout).strip(), "no message")

    def test_version(self):
        r = run_bin("version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\d+\.\d+")

    def test_help(self):
        r = run_bin("help")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout + r.stderr
        self.assertIn("serve", text)
        self.assertIn("init", text)

    def test_unknown_command(self):
        r = run_bin("frobnicate")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip(), "no message")


class ConfigPrecedenceTests(InitializedDirs, unittest.TestCase):

    @classmethod
    def prepare(cls):
        cls.d_env = cls.make_dir("env")
        cls.d_file = cls.make_dir("file")
        cls.d_flag = cls.make_dir("flag")
        cls.conf = os.path.join(cls.tmp, "keywarden.ini")
        with open(cls.conf, "w") as f:
            f.write("# test configuration\n[server]\n"
                    "listen = 127.0.0.1:9302\n"
                    "public_url = https://file.example.com\n"
                    "data_dir = %s\n"
                    "auth_fail_limit = 7\n" % cls.d_file)

    ENV = {"KEYWARDEN_LISTEN": "127.0.0.1:9301",
           "KEYWARDEN_PUBLIC_URL": "https://env.example.com"}

    def print_config(self, *args, env=None):
        r = run_bin("serve", "--check", "--print-config", *args, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        cfg = parse_json_output(r.stdout)
        for k in ("listen", "public_url", "data_dir", "auth_fail_limit"):
            self.assertIn(k, cfg)
        return cfg

    def assertSameDir(self, a, b):
        self.assertEqual(os.path.realpath(a), os.path.realpath(b))

    def test_defaults(self):
        cfg = self.print_config("--data-dir", self.d_flag)
        self.assertEqual(cfg["listen"], "127.0.0.1:8200")
        self.assertEqual(cfg["public_url"], "http://127.0.0.1:8200")
        self.assertEqual(cfg["auth_fail_limit"], 20)
        self.assertSameDir(cfg["data_dir"], self.d_flag)

    def test_public_url_defaults_to_listen(self):
        cfg = self.print_config("--data-dir", self.d_flag,
                                "--listen", "127.0.0.1:9309")
        self.assertEqual(cfg["public_url"], "http://127.0.0.1:9309")

    def test_env_alone(self):
        env = dict(self.ENV, KEYWARDEN_DATA_DIR=self.d_env)
        cfg = self.print_config(env=env)
        self.assertEqual(cfg["listen"], "127.0.0.1:9301")
        self.assertEqual(cfg["public_url"], "https://env.example.com")
        self.assertSameDir(cfg["data_dir"], self.d_env)

    def test_config_file(self):
        cfg = self.print_config("--config", self.conf)
        self.assertEqual(cfg["listen"], "127.0.0.1:9302")
        self.assertEqual(cfg["public_url"], "https://file.example.com")
        self.assertEqual(cfg["auth_fail_limit"], 7)
        self.assertSameDir(cfg["data_dir"], self.d_file)

    def test_config_file_overrides_env(self):
        env = dict(self.ENV, KEYWARDEN_DATA_DIR=self.d_env)
        cfg = self.print_config("--config", self.conf, env=env)
        self.assertEqual(cfg["listen"], "127.0.0.1:9302")
        self.assertEqual(cfg["public_url"], "https://file.example.com")
        self.assertSameDir(cfg["data_dir"], self.d_file)

    def test_flags_override_config_file_and_env(self):
        env = dict(self.ENV, KEYWARDEN_DATA_DIR=self.d_env)
        cfg = self.print_config(
            "--config", self.conf, "--listen", "127.0.0.1:9303",
            "--public-url", "https://flag.example.com",
            "--data-dir", self.d_flag, "--auth-fail-limit", "9", env=env)
        self.assertEqual(cfg["listen"], "127.0.0.1:9303")
        self.assertEqual(cfg["public_url"], "https://flag.example.com")
        self.assertEqual(cfg["auth_fail_limit"], 9)
        self.assertSameDir(cfg["data_dir"], self.d_flag)

    def test_env_fills_what_config_file_omits(self):
        partial = os.path.join(self.tmp, "partial.ini")
        with open(partial, "w") as f:
            f.write("[server]\ndata_dir = %s\n" % self.d_file)
        cfg = self.print_config("--config", partial, env=self.ENV)
        self.assertEqual(cfg["listen"], "127.0.0.1:9301")
        self.assertEqual(cfg["public_url"], "https://env.example.com")
        self.assertSameDir(cfg["data_dir"], self.d_file)

    def test_bad_config_file_is_reported(self):
        bad = os.path.join(self.tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write("[server]\nauth_fail_limit = lots\n")
        r = run_bin("serve", "--check", "--config", bad,
                    "--data-dir", self.d_flag)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip(), "no message")

    def test_missing_config_file_is_reported(self):
        r = run_bin("serve", "--check", "--data-dir", self.d_flag,
                    "--config", os.path.join(self.tmp, "nope.ini"))
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip(), "no message")


if __name__ == "__main__":
    unittest.main()
