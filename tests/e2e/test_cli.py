"""test_cli.py — the keywarden client (`keywarden people ...`,
`keywarden instances ...`) run as a subprocess against the real daemon on
loopback.  Each case asserts an outcome: what the server holds afterwards
(read back over the API), what the client printed, and its exit code
(0 success, 1 refused or unreachable, 2 usage)."""

import itertools
import json
import os
import re
import tempfile
import unittest
import urllib.parse

from harness import ADMIN_EMAIL, Server, free_port, make_person, token_for

_seq = itertools.count(1)


def uniq(local):
    return "cli-%s-%d@example.com" % (local, next(_seq))


def q(x):
    return urllib.parse.quote(str(x), safe="@")


class CliTestCase(unittest.TestCase):
    """One server per class; self.kw() runs the client against it."""

    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
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

    def kw(self, *args, token=None, server=True, env=None, input=None):
        """Run `keywarden args... --server URL` with KEYWARDEN_TOKEN set to
        token (the admin's by default; "" for none)."""
        e = {"KEYWARDEN_TOKEN": self.srv.admin_token if token is None
             else token}
        if env:
            e.update(env)
        argv = list(args)
        if server:
            argv += ["--server", self.srv.url]
        return self.srv.cli(*argv, env=e, input=input)

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code,
                         "exit %d\nstdout: %s\nstderr: %s"
                         % (r.returncode, r.stdout, r.stderr))

    def api(self, method, path, body=None, token=None):
        kw = {} if token is None else {"token": token}
        st, obj, _ = self.srv.request(method, path, body, **kw)
        return st, obj

    def person(self, x):
        st, p = self.api("GET", "/v1/people/%s" % q(x))
        self.assertEqual(st, 200, p)
        return p

    def api_error(self, method, path, body=None, token=None):
        """The server's own error for a request: (status, code, message)."""
        if token is None:
            st, obj, _ = self.srv.request(method, path, body)
        else:
            st, obj, _ = self.srv.request(method, path, body,
                                          token=token or None)
        self.assertGreaterEqual(st, 400, obj)
        return st, obj["error"]["code"], obj["error"]["message"]

    def table(self, text):
        """Parse an aligned table: a list of dicts keyed by header, using
        the header's column positions."""
        lines = [l for l in text.splitlines() if l.strip()]
        self.assertTrue(lines, "no table printed")
        head = lines[0]
        # Columns are two or more spaces apart; a title may hold one.
        starts = [0] + [m.end() for m in re.finditer(r"  +", head)]
        names = [head[s:e].strip() for s, e in
                 zip(starts, starts[1:] + [None])]
        rows = []
        for l in lines[1:]:
            if l.startswith("next cursor:"):
                continue
            rows.append({n: l[s:e].strip() for n, s, e in
                         zip(names, starts, starts[1:] + [None])})
        return names, rows

    def kv(self, text):
        """Parse "key: value" lines into a dict."""
        out = {}
        for line in text.splitlines():
            k, sep, v = line.partition(":")
            if sep:
                out[k.strip()] = v.strip()
        return out


# ---------------------------------------------------------------------------
class PeopleCliTests(CliTestCase):

    @classmethod
    def prepare(cls):
        cls.boss = make_person(cls.srv, uniq("boss"), name="Boss Person")

    def test_create_is_visible_via_the_api(self):
        email = uniq("alice")
        r = self.kw("people", "create", "--email", email, "--name",
                    "Alice Example", "--manager", self.boss["email"],
                    "--role", "auditor", "--team", "support-ops",
                    "--team", "billing", "--slack", "U0ALICE")
        self.assertExit(r, 0)
        p = self.person(email)
        self.assertEqual(p["name"], "Alice Example")
        self.assertEqual(p["manager"], self.boss["email"])
        self.assertEqual(p["roles"], ["auditor"])
        self.assertEqual(p["teams"], ["support-ops", "billing"])
        self.assertEqual(p["slack_user_id"], "U0ALICE")
        shown = self.kv(r.stdout)
        self.assertEqual(shown.get("id"), p["id"])
        self.assertEqual(shown.get("email"), email)
        self.assertEqual(shown.get("teams"), "support-ops, billing")

    def test_list_table_contains_the_row(self):
        p = make_person(self.srv, uniq("listed"), name="Listed Person",
                        manager=self.boss["email"], roles=["auditor"],
                        teams=["support-ops"])
        r = self.kw("people", "list", "--limit", "500")
        self.assertExit(r, 0)
        names, rows = self.table(r.stdout)
        self.assertEqual(names, ["ID", "EMAIL", "NAME", "MANAGER", "ROLES",
                                 "TEAMS", "ACTIVE"])
        mine = [row for row in rows if row["EMAIL"] == p["email"]]
        self.assertEqual(len(mine), 1, r.stdout)
        self.assertEqual(mine[0], {
            "ID": p["id"], "EMAIL": p["email"], "NAME": "Listed Person",
            "MANAGER": self.boss["email"], "ROLES": "auditor",
            "TEAMS": "support-ops", "ACTIVE": "true"})
        self.assertIn(ADMIN_EMAIL, [row["EMAIL"] for row in rows])

    def test_list_pages_with_next_cursor(self):
        make_person(self.srv, uniq("page1"))
        make_person(self.srv, uniq("page2"))
        r = self.kw("people", "list", "--limit", "1")
        self.assertExit(r, 0)
        cursors = [l.split(":", 1)[1].strip() for l in r.stdout.splitlines()
                   if l.startswith("next cursor:")]
        self.assertEqual(len(cursors), 1, r.stdout)
        _, first = self.table(r.stdout)
        self.assertEqual(len(first), 1)
        r2 = self.kw("people", "list", "--limit", "1", "--cursor",
                     cursors[0])
        self.assertExit(r2, 0)
        _, second = self.table(r2.stdout)
        self.assertEqual(len(second), 1)
        self.assertNotEqual(first[0]["ID"], second[0]["ID"])

    def test_json_output_is_the_servers_answer(self):
        p = make_person(self.srv, uniq("json"), name="Json Person")
        r = self.kw("people", "--json", "show", p["email"])
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), self.person(p["id"]))
        r = self.kw("people", "list", "--json")
        self.assertExit(r, 0)
        body = json.loads(r.stdout)
        self.assertIn("items", body)
        self.assertIn("next_cursor", body)

    def test_show_by_id_and_email(self):
        p = make_person(self.srv, uniq("show+tag"), name="Show Person")
        for x in (p["id"], p["email"]):
            with self.subTest(x=x):
                r = self.kw("people", "show", x)
                self.assertExit(r, 0)
                shown = self.kv(r.stdout)
                self.assertEqual(shown["email"], p["email"])
                self.assertEqual(shown["name"], "Show Person")
                self.assertEqual(shown["manager"], "-")

    def test_me_with_a_persons_token(self):
        p = make_person(self.srv, uniq("me"), name="Me Person")
        tok = token_for(self.srv, p["id"])
        r = self.kw("people", "me", token=tok)
        self.assertExit(r, 0)
        self.assertEqual(self.kv(r.stdout)["email"], p["email"])

    def test_update_changes_only_what_is_given(self):
        p = make_person(self.srv, uniq("upd"), name="Before",
                        manager=self.boss["email"], roles=["auditor"],
                        teams=["a-team"], slack_user_id="U0UPD")
        r = self.kw("people", "update", p["email"], "--name", "After",
                    "--manager", "none", "--no-roles", "--active", "false")
        self.assertExit(r, 0)
        got = self.person(p["id"])
        self.assertEqual(got["name"], "After")
        self.assertIsNone(got["manager"])
        self.assertEqual(got["roles"], [])
        self.assertIs(got["active"], False)
        self.assertEqual(got["teams"], ["a-team"])
        self.assertEqual(got["slack_user_id"], "U0UPD")
        r = self.kw("people", "update", p["id"], "--team", "x", "--team",
                    "y", "--slack", "none", "--manager", self.boss["id"])
        self.assertExit(r, 0)
        got = self.person(p["id"])
        self.assertEqual(got["teams"], ["x", "y"])
        self.assertIsNone(got["slack_user_id"])
        self.assertEqual(got["manager"], self.boss["email"])

    def test_token_is_printed_once_and_works(self):
        p = make_person(self.srv, uniq("tok"))
        r = self.kw("people", "token", p["email"])
        self.assertExit(r, 0)
        lines = [l for l in r.stdout.splitlines() if l.startswith("token:")]
        self.assertEqual(len(lines), 1, r.stdout)
        tok = lines[0].split(":", 1)[1].strip()
        self.assertTrue(tok.startswith("kw_"), tok)
        self.assertIn("shown only once", r.stdout)
        st, me = self.api("GET", "/v1/me", token=tok)
        self.assertEqual(st, 200, me)
        self.assertEqual(me["email"], p["email"])

    def test_offboard_deactivates_and_kills_tokens(self):
        p = make_person(self.srv, uniq("off"))
        tok = token_for(self.srv, p["id"])
        r = self.kw("people", "offboard", p["email"])
        self.assertExit(r, 0)
        self.assertIs(self.person(p["id"])["active"], False)
        st, _ = self.api("GET", "/v1/me", token=tok)
        self.assertEqual(st, 401)

    def test_not_found_prints_the_servers_error(self):
        ghost = uniq("ghost")
        st, code, msg = self.api_error("GET", "/v1/people/%s" % q(ghost))
        r = self.kw("people", "show", ghost)
        self.assertExit(r, 1)
        self.assertEqual(r.stderr.strip(),
                         "keywarden: %d %s: %s" % (st, code, msg))
        self.assertEqual(r.stdout, "")

    def test_validation_error_names_the_field(self):
        r = self.kw("people", "create", "--email", "not-an-email",
                    "--name", "Bad")
        self.assertExit(r, 1)
        self.assertIn("keywarden: 400 validation_failed: ", r.stderr)
        self.assertIn("(field: email)", r.stderr)

    def test_duplicate_is_conflict(self):
        p = make_person(self.srv, uniq("dup"))
        r = self.kw("people", "create", "--email", p["email"], "--name", "D")
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith("keywarden: 409 conflict: "),
                        r.stderr)

    def test_non_admin_is_forbidden(self):
        p = make_person(self.srv, uniq("plain"))
        tok = token_for(self.srv, p["id"])
        email = uniq("never")
        r = self.kw("people", "create", "--email", email, "--name", "N",
                    token=tok)
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith("keywarden: 403 forbidden: "),
                        r.stderr)
        st, _ = self.api("GET", "/v1/people/%s" % q(email))
        self.assertEqual(st, 404)

    def test_missing_token_is_unauthenticated(self):
        st, code, msg = self.api_error("GET", "/v1/me", token="")
        r = self.kw("people", "me", token="")
        self.assertExit(r, 1)
        self.assertEqual(code, "unauthenticated")
        self.assertEqual(r.stderr.strip(),
                         "keywarden: %d %s: %s" % (st, code, msg))

    def test_token_option_overrides_the_environment(self):
        r = self.kw("people", "me", "--token", "kw_" + "Q" * 43)
        self.assertExit(r, 1)
        self.assertIn("401 unauthenticated", r.stderr)

    def test_server_from_the_environment(self):
        r = self.kw("people", "me", server=False,
                    env={"KEYWARDEN_SERVER": self.srv.url + "/"})
        self.assertExit(r, 0)
        self.assertEqual(self.kv(r.stdout)["email"], ADMIN_EMAIL)

    def test_usage_errors_exit_2_and_send_nothing(self):
        email = uniq("usage")
        cases = [
            ("people", "create", "--email", email),         # no --name
            ("people", "create", "--email", email, "--name", "U",
             "--bogus", "x"),
            ("people", "update", email, "--role", "a", "--no-roles"),
            ("people", "update", email, "--active", "maybe"),
            ("people", "update", email),                    # nothing to do
            ("people", "show"),
            ("people", "show", "a", "b"),
            ("people", "list", "--limit", "ten"),
            ("people", "frobnicate"),
            ("people",),
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.kw(*args)
                self.assertExit(r, 2)
                self.assertTrue(r.stderr.startswith("keywarden: "),
                                r.stderr)
                self.assertIn("keywarden people", r.stderr)
        st, _ = self.api("GET", "/v1/people/%s" % q(email))
        self.assertEqual(st, 404)

    def test_help_exits_0(self):
        r = self.kw("people", "create", "--help")
        self.assertExit(r, 0)
        self.assertIn("usage: keywarden people create --email EMAIL",
                      r.stdout)
        r = self.kw("people", "help")
        self.assertExit(r, 0)
        self.assertIn("keywarden people offboard ID|EMAIL", r.stdout)

    def test_unreachable_server(self):
        url = "http://127.0.0.1:%d" % free_port()
        r = self.kw("people", "me", "--server", url, server=False)
        self.assertExit(r, 1)
        self.assertIn("cannot reach server at %s" % url, r.stderr)

    def test_plain_http_to_a_remote_host_is_refused(self):
        r = self.kw("people", "me", "--server", "http://example.com",
                    server=False)
        self.assertExit(r, 2)
        self.assertIn("https://", r.stderr)


# ---------------------------------------------------------------------------
class InstanceCliTests(CliTestCase):

    @classmethod
    def prepare(cls):
        cls.prov = make_person(cls.srv, uniq("prov"), name="Provisioner")
        cls.tmp = tempfile.mkdtemp(prefix="kw-cli-", dir=cls.srv.tmp)

    def secret_file(self, secret):
        fd, path = tempfile.mkstemp(dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        return path

    def get(self, name):
        st, obj = self.api("GET", "/v1/instances/%s" % name)
        self.assertEqual(st, 200, obj)
        return obj

    def create_args(self, name, *extra):
        return ("instances", "create", "--name", name,
                "--url", "https://%s.zendesk.example" % name,
                "--display-name", "Zendesk " + name,
                "--provisioner", self.prov["email"]) + extra

    def test_create_with_bot_token_file(self):
        secret = "zd-oauth-FILE-5e1d9a"
        r = self.kw(*self.create_args(
            "cli-file", "--provider", "zendesk", "--allow-integrations",
            "false", "--issuance", "manual", "--scope", "read", "--scope",
            "tickets:read", "--max-lifetime-days", "180", "--rotation-days",
            "60", "--bot-email", "bot@example.com", "--bot-token-file",
            self.secret_file(secret)))
        self.assertExit(r, 0)
        self.assertNotIn(secret, r.stdout + r.stderr)
        inst = self.get("cli-file")
        self.assertEqual(inst["display_name"], "Zendesk cli-file")
        self.assertEqual(inst["url"], "https://cli-file.zendesk.example")
        self.assertEqual(inst["provisioners"], [self.prov["email"]])
        self.assertIs(inst["allow_integrations"], False)
        self.assertEqual(inst["issuance"], "manual")
        self.assertEqual(inst["allowed_scopes"], ["read", "tickets:read"])
        self.assertEqual(inst["max_lifetime_days"], 180)
        self.assertEqual(inst["rotation_days"], 60)
        self.assertEqual(inst["bot"]["email"], "bot@example.com")
        self.assertNotIn(secret, json.dumps(inst))
        self.assertEqual(self.kv(r.stdout).get("bot.email"),
                         "bot@example.com")

    def test_create_with_bot_token_from_env_and_stdin(self):
        secret = "zd-oauth-ENV-77aa"
        r = self.kw(*self.create_args(
            "cli-env", "--bot-email", "bot@example.com", "--bot-token-env",
            "ZD_BOT_TOKEN"), env={"ZD_BOT_TOKEN": secret})
        self.assertExit(r, 0)
        self.assertEqual(self.get("cli-env")["bot"]["email"],
                         "bot@example.com")
        r = self.kw(*self.create_args(
            "cli-stdin", "--bot-email", "bot@example.com",
            "--bot-token-file", "-"), input=secret + "\n")
        self.assertExit(r, 0)
        self.assertEqual(self.get("cli-stdin")["bot"]["email"],
                         "bot@example.com")

    def test_bot_token_is_never_taken_from_argv(self):
        r = self.kw(*self.create_args("cli-argv", "--bot-token",
                                      "zd-oauth-ARGV"))
        self.assertExit(r, 2)
        r = self.kw(*self.create_args("cli-argv", "--bot-email", "b@x.io",
                                      "--bot-token-env", "KW_UNSET_VAR"))
        self.assertExit(r, 2)
        self.assertIn("KW_UNSET_VAR is not set", r.stderr)
        st, _ = self.api("GET", "/v1/instances/cli-argv")
        self.assertEqual(st, 404)

    def test_list_table_and_show(self):
        self.assertExit(self.kw(*self.create_args("cli-list")), 0)
        r = self.kw("instances", "list")
        self.assertExit(r, 0)
        names, rows = self.table(r.stdout)
        self.assertEqual(names[0], "NAME")
        mine = [row for row in rows if row["NAME"] == "cli-list"]
        self.assertEqual(len(mine), 1, r.stdout)
        self.assertEqual(mine[0]["URL"], "https://cli-list.zendesk.example")
        self.assertEqual(mine[0]["PROVISIONERS"], self.prov["email"])
        r = self.kw("instances", "show", "cli-list")
        self.assertExit(r, 0)
        self.assertEqual(self.kv(r.stdout)["display_name"],
                         "Zendesk cli-list")
        r = self.kw("instances", "show", "cli-list", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), self.get("cli-list"))

    def test_update(self):
        self.assertExit(self.kw(*self.create_args(
            "cli-upd", "--scope", "read")), 0)
        r = self.kw("instances", "update", "cli-upd", "--scope", "read",
                    "--scope", "tickets:write", "--issuance", "manual",
                    "--no-provisioners")
        self.assertExit(r, 0)
        inst = self.get("cli-upd")
        self.assertEqual(inst["allowed_scopes"], ["read", "tickets:write"])
        self.assertEqual(inst["issuance"], "manual")
        self.assertEqual(inst["provisioners"], [])
        self.assertEqual(inst["display_name"], "Zendesk cli-upd")
        r = self.kw("instances", "update", "cli-upd", "--any-scope")
        self.assertExit(r, 0)
        self.assertIsNone(self.get("cli-upd")["allowed_scopes"])

    def test_server_validation_error(self):
        r = self.kw("instances", "create", "--name", "cli-bad", "--url",
                    "http://zendesk.example")
        self.assertExit(r, 1)
        self.assertIn("400 validation_failed", r.stderr)
        self.assertIn("(field: url)", r.stderr)

    def test_unknown_instance(self):
        r = self.kw("instances", "show", "no-such-instance")
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith("keywarden: 404 not_found: "),
                        r.stderr)


if __name__ == "__main__":
    unittest.main()
