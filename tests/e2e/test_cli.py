"""test_cli.py — the keywarden client (`keywarden people ...`,
`keywarden instances ...`) run as a subprocess against the real daemon on
loopback.  Each case asserts an outcome: what the server holds afterwards
(read back over the API), what the client printed, and its exit code
(0 success, 1 refused or unreachable, 2 usage)."""

import datetime
import itertools
import json
import os
import re
import secrets
import string
import tempfile
import unittest
import urllib.parse

from harness import ADMIN_EMAIL, Server, free_port, make_person, token_for
from test_issuance import setup_world
from zendesk_sim import ZendeskSim

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
        lines = r.stderr.strip().splitlines()
        self.assertEqual(lines[0], "keywarden: %d %s: %s" % (st, code, msg))
        # then how to give one
        self.assertIn("--token", lines[1])
        self.assertIn("KEYWARDEN_TOKEN", lines[1])

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

    def test_grace_and_warn_days(self):
        # The defaults, shown by `instances show`.
        self.assertExit(self.kw(*self.create_args("cli-life")), 0)
        inst = self.get("cli-life")
        self.assertEqual((inst["grace_days"], inst["warn_days"]),
                         (7, [30, 14, 7, 1]))
        r = self.kw("instances", "show", "cli-life")
        self.assertExit(r, 0)
        shown = self.kv(r.stdout)
        self.assertEqual(shown["grace_days"], "7")
        self.assertEqual(shown["warn_days"], "30, 14, 7, 1")
        # Set at creation (the server keeps them in descending order).
        r = self.kw(*self.create_args(
            "cli-life2", "--grace-days", "0", "--warn-day", "10",
            "--warn-day", "60", "--warn-day", "3650"))
        self.assertExit(r, 0)
        inst = self.get("cli-life2")
        self.assertEqual(inst["grace_days"], 0)
        self.assertEqual(inst["warn_days"], [3650, 60, 10])
        self.assertEqual(self.kv(r.stdout)["warn_days"], "3650, 60, 10")
        # Changed by update, one at a time; the rest stays.
        r = self.kw("instances", "update", "cli-life2", "--grace-days", "90")
        self.assertExit(r, 0)
        inst = self.get("cli-life2")
        self.assertEqual((inst["grace_days"], inst["warn_days"]),
                         (90, [3650, 60, 10]))
        r = self.kw("instances", "update", "cli-life2", "--warn-day", "5")
        self.assertExit(r, 0)
        self.assertEqual(self.get("cli-life2")["warn_days"], [5])
        # --no-warn-days: no expiry warnings at all.
        r = self.kw("instances", "update", "cli-life2", "--no-warn-days")
        self.assertExit(r, 0)
        inst = self.get("cli-life2")
        self.assertEqual((inst["grace_days"], inst["warn_days"]), (90, []))
        r = self.kw("instances", "show", "cli-life2")
        self.assertExit(r, 0)
        shown = self.kv(r.stdout)
        self.assertEqual(shown["warn_days"], "(none)")
        self.assertEqual(shown["grace_days"], "90")
        r = self.kw("instances", "show", "cli-life2", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout)["warn_days"], [])

    def test_grace_and_warn_days_refused(self):
        self.assertExit(self.kw(*self.create_args("cli-life3")), 0)
        before = self.get("cli-life3")
        # The server's limits, with its own error naming the field.
        cases = [
            (("--grace-days", "91"), "grace_days"),
            (("--warn-day", "0"), "warn_days"),
            (("--warn-day", "3651"), "warn_days"),
            (("--warn-day", "7", "--warn-day", "7"), "warn_days"),
            (tuple(x for d in range(1, 10) for x in ("--warn-day", str(d))),
             "warn_days"),
        ]
        for args, field in cases:
            with self.subTest(args=args):
                r = self.kw("instances", "update", "cli-life3", *args)
                self.assertExit(r, 1)
                self.assertIn("400 validation_failed", r.stderr)
                self.assertIn("(field: %s)" % field, r.stderr)
        # Usage errors are the client's: nothing is sent.
        for args in (("--grace-days", "-1"), ("--warn-day", "x"),
                     ("--warn-day", "7", "--no-warn-days"),
                     ("--no-warn-days=yes",)):
            with self.subTest(args=args):
                r = self.kw("instances", "update", "cli-life3", *args)
                self.assertExit(r, 2)
                self.assertIn("usage: keywarden instances update", r.stderr)
        self.assertEqual(self.get("cli-life3"), before)

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


def rand_secret(n, prefix="zd-"):
    """A printable secret of exactly n bytes."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet)
                            for _ in range(n - len(prefix)))


def at(days=0, hours=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
class ManualWorkflowCliTests(CliTestCase):
    """Requests and credentials on a manual instance: what the provisioner
    is told to create, fulfilment with secrets up to the server's limit,
    credential filters and rotation awaiting a fulfilment."""

    @classmethod
    def prepare(cls):
        s = cls.srv
        cls.boss = make_person(s, uniq("boss"), name="Boss")
        cls.rick = make_person(s, uniq("rick"), name="Rick",
                               manager=cls.boss["email"])
        cls.pat = make_person(s, uniq("pat"), name="Pat")
        cls.tok = {who: token_for(s, p["id"]) for who, p in (
            ("boss", cls.boss), ("rick", cls.rick), ("pat", cls.pat))}
        st, obj, _ = s.request("POST", "/v1/instances", {
            "name": "manual", "url": "https://manual.zendesk.example",
            "provisioners": [cls.pat["email"]], "allow_integrations": True,
            "issuance": "manual"})
        assert st == 201, obj
        cls.tmp = tempfile.mkdtemp(prefix="kw-cli-", dir=s.tmp)

    def as_(self, who, method, path, body=None):
        st, obj, _ = self.srv.request(method, path, body,
                                      token=self.tok[who])
        return st, obj

    def secret_file(self, secret):
        fd, path = tempfile.mkstemp(dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        return path

    def filed(self, kind="api_token"):
        """A request of rick's, approved by his manager."""
        body = {"instance": "manual", "kind": kind,
                "justification": "nightly export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        if kind == "integration":
            body["scopes"] = []
            body["integration"] = {
                "name": "Reporting app %d" % next(_seq),
                "redirect_uris": ["https://app.example.com/cb"],
                "client_kind": "confidential"}
        st, r = self.as_("rick", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        st, r = self.as_("boss", "POST", "/v1/requests/%s/approve" % r["id"],
                         {})
        self.assertEqual((st, r["state"]), (200, "pending_provisioner"), r)
        return r

    def to_fulfilment(self, kind="api_token"):
        r = self.filed(kind)
        body = {"acknowledge_risk": True} if kind == "integration" else {}
        st, r = self.as_("pat", "POST", "/v1/requests/%s/approve" % r["id"],
                         body)
        self.assertEqual((st, r["state"]), (200, "awaiting_fulfilment"), r)
        return r

    def request_of(self, rid):
        st, r = self.api("GET", "/v1/requests/%s" % rid)
        self.assertEqual(st, 200, r)
        return r

    def cred(self, cid):
        st, c = self.api("GET", "/v1/credentials/%s" % cid)
        self.assertEqual(st, 200, c)
        return c

    def fulfilled(self, kind="api_token"):
        r = self.to_fulfilment(kind)
        body = {"secret": rand_secret(40)}
        if kind == "integration":
            body["external_id"] = r["fulfilment"]["identifier"]
        st, r = self.as_("pat", "POST", "/v1/requests/%s/fulfil" % r["id"],
                         body)
        self.assertEqual((st, r["state"]), (200, "issued"), r)
        return r

    # -- what to create on the instance -------------------------------------

    def test_approval_and_show_print_the_identifier(self):
        r = self.filed()
        out = self.kw("request", "approve", r["id"], token=self.tok["pat"])
        self.assertExit(out, 0)
        f = self.request_of(r["id"])["fulfilment"]
        self.assertEqual(f["identifier"], "keywarden-" + f["credential_id"])
        for text in (out.stdout,
                     self.kw("request", "show", r["id"],
                             token=self.tok["pat"]).stdout):
            with self.subTest(text=text[:40]):
                self.assertIn("Create the credential on the instance with "
                              "exactly these values:", text)
                self.assertIn("\n    name:        %s\n    identifier:  %s\n"
                              % (f["name"], f["identifier"]), text)
                self.assertNotIn("description:", text)
                self.assertIn("\n  instance_url:   %s\n" % f["instance_url"],
                              text)
                self.assertIn("keywarden request fulfil %s --secret-file "
                              "FILE\n" % r["id"], text)
        self.assertTrue(out.stdout.startswith(
            "request %s: awaiting_fulfilment\n" % r["id"]), out.stdout)

    def test_integration_shows_identifier_and_description(self):
        r = self.to_fulfilment("integration")
        out = self.kw("request", "show", r["id"], token=self.tok["pat"])
        self.assertExit(out, 0)
        f = self.request_of(r["id"])["fulfilment"]
        self.assertEqual(f["name"], r["integration"]["name"])
        self.assertIn("Create the OAuth client on the instance with exactly "
                      "these values:\n\n    name:         %s\n"
                      "    identifier:   %s\n    description:  %s\n"
                      % (f["name"], f["identifier"], f["description"]),
                      out.stdout)
        self.assertIn("keywarden request fulfil %s --secret-file FILE "
                      "--external-id %s\n" % (r["id"], f["identifier"]),
                      out.stdout)
        # With --json, the server's answer as it is.
        out = self.kw("request", "show", r["id"], "--json",
                      token=self.tok["pat"])
        self.assertExit(out, 0)
        self.assertEqual(json.loads(out.stdout)["fulfilment"], f)

    # -- secrets up to KW_SECRET_MAX ----------------------------------------

    def test_fulfil_with_a_4096_byte_secret_from_a_file(self):
        r = self.to_fulfilment()
        secret = rand_secret(4096)
        out = self.kw("request", "fulfil", r["id"], "--secret-file",
                      self.secret_file(secret), "--external-id", "9001",
                      token=self.tok["pat"])
        self.assertExit(out, 0)
        self.assertTrue(out.stdout.startswith(
            "request %s: issued\n" % r["id"]), out.stdout)
        self.assertNotIn(secret, out.stdout + out.stderr)
        cid = r["credential_id"]
        self.assertEqual(self.cred(cid)["state"], "active")
        out = self.kw("credential", "reveal", cid, token=self.tok["rick"])
        self.assertExit(out, 0)
        self.assertEqual(out.stdout, secret + "\n")
        self.assertIn("shown only once", out.stderr)
        out = self.kw("credential", "reveal", cid, token=self.tok["rick"])
        self.assertExit(out, 1)
        self.assertIn("410", out.stderr)

    def test_fulfil_integration_with_a_4096_byte_secret_from_env(self):
        r = self.to_fulfilment("integration")
        ident = r["fulfilment"]["identifier"]
        secret = rand_secret(4096, prefix="cs-")
        out = self.kw("request", "fulfil", r["id"], "--secret-env",
                      "KW_CLIENT_SECRET", "--external-id", ident,
                      token=self.tok["pat"], env={"KW_CLIENT_SECRET": secret})
        self.assertExit(out, 0)
        self.assertNotIn(secret, out.stdout + out.stderr)
        out = self.kw("credential", "reveal", r["credential_id"],
                      token=self.tok["rick"])
        self.assertExit(out, 0)
        self.assertEqual(out.stdout, "client_id: %s\nclient_secret: %s\n"
                         % (ident, secret))

    def test_fulfil_with_a_4096_byte_secret_from_stdin(self):
        r = self.to_fulfilment()
        secret = rand_secret(4096)
        out = self.kw("request", "fulfil", r["id"], "--secret-file", "-",
                      token=self.tok["pat"], input=secret + "\n")
        self.assertExit(out, 0)
        out = self.kw("credential", "reveal", r["credential_id"],
                      token=self.tok["rick"])
        self.assertExit(out, 0)
        self.assertEqual(out.stdout, secret + "\n")

    def test_a_longer_secret_is_a_usage_error(self):
        r = self.to_fulfilment()
        secret = rand_secret(4097)
        runs = [
            self.kw("request", "fulfil", r["id"], "--secret-file",
                    self.secret_file(secret), token=self.tok["pat"]),
            self.kw("request", "fulfil", r["id"], "--secret-file", "-",
                    token=self.tok["pat"], input=secret + "\n"),
            self.kw("request", "fulfil", r["id"], "--secret-env", "KW_BIG",
                    token=self.tok["pat"], env={"KW_BIG": secret}),
        ]
        for out in runs:
            with self.subTest(args=out.args[1:5]):
                self.assertExit(out, 2)
                self.assertIn("secret longer than 4096 bytes", out.stderr)
                self.assertIn("usage: keywarden request fulfil ID",
                              out.stderr)
                self.assertNotIn(secret, out.stdout + out.stderr)
                self.assertEqual(out.stdout, "")
        self.assertEqual(self.request_of(r["id"])["state"],
                         "awaiting_fulfilment")
        self.assertEqual(self.cred(r["credential_id"])["state"], "pending")

    # -- credential list filters ---------------------------------------------

    def list_rows(self, *args, token=None):
        out = self.kw("credential", "list", "--limit", "500", *args,
                      token=token)
        self.assertExit(out, 0)
        names, rows = self.table(out.stdout)
        self.assertEqual(names, ["ID", "INSTANCE", "KIND", "OWNER", "STATE",
                                 "EXPIRES", "DELIVERY"])
        return rows

    def test_list_pending_credentials_and_by_kind(self):
        tok_cred = self.to_fulfilment()["credential_id"]
        int_cred = self.to_fulfilment("integration")["credential_id"]
        active = self.fulfilled()["credential_id"]
        rows = self.list_rows("--state", "pending", "--instance", "manual")
        ids = [row["ID"] for row in rows]
        self.assertIn(tok_cred, ids)
        self.assertIn(int_cred, ids)
        self.assertNotIn(active, ids)
        self.assertEqual({row["STATE"] for row in rows}, {"pending"})
        st, page = self.api("GET", "/v1/credentials?state=pending&"
                            "instance=manual&limit=500")
        self.assertEqual(st, 200, page)
        self.assertEqual(ids, [c["id"] for c in page["items"]])

        rows = self.list_rows("--state", "pending", "--kind", "integration")
        self.assertIn(int_cred, [row["ID"] for row in rows])
        self.assertNotIn(tok_cred, [row["ID"] for row in rows])
        self.assertEqual({row["KIND"] for row in rows}, {"integration"})
        rows = self.list_rows("--kind", "api_token", "--instance", "manual")
        self.assertIn(active, [row["ID"] for row in rows])
        self.assertEqual({row["KIND"] for row in rows}, {"api_token"})
        self.assertEqual(self.list_rows("--kind", "legacy_api_token"), [])
        # The owner sees his own pending credential.
        rows = self.list_rows("--state", "pending", token=self.tok["rick"])
        self.assertIn(tok_cred, [row["ID"] for row in rows])

        out = self.kw("credential", "list", "--kind", "oauth_client")
        self.assertExit(out, 2)
        self.assertIn("--kind takes one of: api_token|integration|"
                      "legacy_api_token", out.stderr)

    # -- rotation on a manual instance ---------------------------------------

    def test_rotate_shows_the_pending_successor(self):
        old = self.fulfilled()["credential_id"]
        out = self.kw("credential", "rotate", old, token=self.tok["rick"])
        self.assertExit(out, 0)
        new = self.cred(old)["rotated_to"]
        self.assertTrue(new)
        succ = self.cred(new)
        self.assertEqual((succ["state"], succ["rotated_from"]),
                         ("pending", old))
        self.assertTrue(out.stdout.startswith(
            "successor %s of %s: pending\n\n" % (new, old)), out.stdout)
        shown = self.kv(out.stdout)
        self.assertEqual(shown["id"], new)
        self.assertEqual(shown["state"], "pending")
        self.assertEqual(shown["rotated_from"], old)
        self.assertIn("keywarden request show %s\n" % succ["request_id"],
                      out.stdout)
        self.assertIn("The predecessor %s stays active" % old, out.stdout)
        # The successor's request tells the provisioner what to create.
        out = self.kw("request", "show", succ["request_id"],
                      token=self.tok["pat"])
        self.assertExit(out, 0)
        self.assertIn("    identifier:  keywarden-%s\n" % new, out.stdout)
        # Rotating twice is the server's conflict.
        out = self.kw("credential", "rotate", old, token=self.tok["rick"])
        self.assertExit(out, 1)
        self.assertIn("409 conflict", out.stderr)


# ---------------------------------------------------------------------------
class AutomaticRotationCliTests(unittest.TestCase):
    """Rotation on an automatic instance (the Zendesk simulator): the
    successor is minted at once, and the grace set with --grace-days
    decides when the jobs revoke the predecessor."""

    def setUp(self):
        self.sim = ZendeskSim().start()
        self.addCleanup(self.sim.close)
        self.srv = Server(extra_args=["--upstream-timeout", "2"]).start()
        self.addCleanup(self.srv.close)
        self.tok = setup_world(self.srv, self.sim)

    def kw(self, *args, token=None, env=None):
        e = {"KEYWARDEN_TOKEN": token or self.srv.admin_token}
        e.update(env or {})
        return self.srv.cli(*(list(args) + ["--server", self.srv.url]),
                            env=e)

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code,
                         "exit %d\nstdout: %s\nstderr: %s"
                         % (r.returncode, r.stdout, r.stderr))

    def as_(self, who, method, path, body=None):
        st, obj, _ = self.srv.request(method, path, body, token=self.tok[who])
        return st, obj

    def issue(self):
        st, r = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 30})
        self.assertEqual(st, 201, r)
        self.as_("maria@example.com", "POST",
                 "/v1/requests/%s/approve" % r["id"], {})
        st, r = self.as_("pat@example.com", "POST",
                         "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(r["state"], "issued", r)
        return r["credential_id"]

    def cred(self, cid):
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200, c)
        return c

    def test_rotate_prints_the_successor_and_honours_grace_days(self):
        r = self.kw("instances", "update", "global", "--grace-days", "2",
                    "--warn-day", "10", "--warn-day", "3")
        self.assertExit(r, 0)
        st, inst, _ = self.srv.request("GET", "/v1/instances/global")
        self.assertEqual((inst["grace_days"], inst["warn_days"]), (2, [10, 3]))
        old = self.issue()
        r = self.kw("credential", "reveal", old, token=self.tok[
            "rick@example.com"])
        self.assertExit(r, 0)
        r = self.kw("credential", "rotate", old,
                    token=self.tok["rick@example.com"])
        self.assertExit(r, 0)
        new = self.cred(old)["rotated_to"]
        self.assertTrue(new)
        self.assertTrue(r.stdout.startswith(
            "successor %s of %s: active\n\n" % (new, old)), r.stdout)
        shown = {}
        for line in r.stdout.splitlines():
            k, sep, v = line.partition(":")
            if sep and k not in shown:
                shown[k.strip()] = v.strip()
        self.assertEqual(shown["id"], new)
        self.assertEqual(shown["state"], "active")
        self.assertEqual(shown["rotated_from"], old)
        self.assertEqual(shown["delivery.state"], "pending")
        self.assertIn("keywarden credential reveal %s\n" % new, r.stdout)
        # --json is the server's answer.
        st, succ, _ = self.srv.request("GET", "/v1/credentials/" + new)
        self.assertEqual(succ["rotated_from"], old)
        # The successor's secret, once, to its owner.
        r = self.kw("credential", "reveal", new,
                    token=self.tok["rick@example.com"])
        self.assertExit(r, 0)
        self.assertTrue(r.stdout.strip())
        # Within the 2-day grace the predecessor stays; after it, it goes.
        for now, want in ((at(days=1), "active"), (at(days=3), "revoked")):
            j = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                             "--now", now, "--upstream-timeout", "2")
            self.assertEqual(j.returncode, 0, j.stdout + j.stderr)
            self.assertEqual(self.cred(old)["state"], want, now)
        self.assertEqual(self.cred(new)["state"], "active")


# ---------------------------------------------------------------------------
class SlackSettingsCliTests(CliTestCase):
    """`keywarden settings slack show|set` against PUT/GET
    /v1/settings/slack; the secrets (bot token, signing secret, webhook
    URL) come from files or the environment and never appear in what is
    printed: the server answers only whether each is set."""

    BOT = "xoxb-1111-2222-" + "a" * 24
    SIG = "8f14e45fceea167a5a36dedd4bea2543"

    @classmethod
    def prepare(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kw-cli-", dir=cls.srv.tmp)
        # Nothing listens there: no message can leave the machine.
        cls.api_base = "http://127.0.0.1:%d/api" % free_port()

    def secret_file(self, secret):
        fd, path = tempfile.mkstemp(dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        return path

    def settings(self):
        st, obj = self.api("GET", "/v1/settings/slack")
        return st, obj

    def assertNoSecret(self, r, *secrets_):
        for s in secrets_ or (self.BOT, self.SIG):
            self.assertNotIn(s, r.stdout + r.stderr)

    def test_a_show_set_show_round_trip(self):
        # Before: not configured (unless another test of this class ran
        # first, which also configured it).
        st, before = self.settings()
        r = self.kw("settings", "slack", "show")
        if st == 404:
            self.assertExit(r, 1)
            self.assertTrue(r.stderr.startswith("keywarden: 404 not_found: "),
                            r.stderr)
        r = self.kw("settings", "slack", "set", "--bot-token-file",
                    self.secret_file(self.BOT), "--signing-secret-env",
                    "KW_SLACK_SIG", "--api-base-url", self.api_base,
                    "--webhook-url", "none", env={"KW_SLACK_SIG": self.SIG})
        self.assertExit(r, 0)
        self.assertNoSecret(r)
        st, got = self.settings()
        self.assertEqual(st, 200, got)
        self.assertEqual(got["api_base_url"], self.api_base)
        self.assertIs(got["webhook_set"], False)
        self.assertIs(got["bot_token_set"], True)
        self.assertIs(got["signing_secret_set"], True)
        shown = self.kv(r.stdout)
        self.assertEqual(shown["api_base_url"], self.api_base)
        self.assertEqual(shown["bot_token_set"], "true")
        self.assertEqual(shown["signing_secret_set"], "true")
        self.assertEqual(shown["webhook_set"], "false")
        r = self.kw("settings", "slack", "show")
        self.assertExit(r, 0)
        self.assertEqual(self.kv(r.stdout)["api_base_url"], self.api_base)
        r = self.kw("settings", "--json", "slack", "show")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), got)
        # Audited with fingerprints, never the secrets.
        st, page = self.api("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200, page)
        events = [e for e in page["items"] if e["action"] == "settings.slack"]
        self.assertTrue(events, page)
        self.assertNotIn(self.BOT, json.dumps(page))
        self.assertNotIn(self.SIG, json.dumps(page))

    def test_set_from_stdin_and_env_with_a_webhook(self):
        hook = "http://127.0.0.1:%d/hook/T0/B0/%s" % (free_port(),
                                                      rand_secret(24, ""))
        r = self.kw("settings", "slack", "set", "--bot-token-env",
                    "KW_SLACK_BOT", "--signing-secret-file", "-",
                    "--api-base-url", self.api_base, "--webhook-url-env",
                    "KW_SLACK_HOOK", env={"KW_SLACK_BOT": self.BOT,
                                          "KW_SLACK_HOOK": hook},
                    input=self.SIG + "\n")
        self.assertExit(r, 0)
        self.assertNoSecret(r, self.BOT, self.SIG, hook)
        st, got = self.settings()
        self.assertEqual(st, 200, got)
        self.assertIs(got["webhook_set"], True)
        self.assertNotIn(hook, json.dumps(got))
        self.assertEqual(self.kv(r.stdout)["webhook_set"], "true")
        # From a file; then turned off with "none".
        r = self.kw("settings", "slack", "set", "--bot-token-file",
                    self.secret_file(self.BOT), "--signing-secret-env",
                    "S", "--api-base-url", self.api_base,
                    "--webhook-url-file", self.secret_file(hook),
                    env={"S": self.SIG})
        self.assertExit(r, 0)
        self.assertNoSecret(r, self.BOT, self.SIG, hook)
        self.assertIs(self.settings()[1]["webhook_set"], True)
        r = self.kw("settings", "slack", "set", "--bot-token-env", "B",
                    "--signing-secret-env", "S", "--api-base-url",
                    self.api_base, "--webhook-url", "none",
                    env={"B": self.BOT, "S": self.SIG})
        self.assertExit(r, 0)
        self.assertIs(self.settings()[1]["webhook_set"], False)
        # Given on the command line, as the contract's plain option.
        r = self.kw("settings", "slack", "set", "--bot-token-env", "B",
                    "--signing-secret-env", "S", "--api-base-url",
                    self.api_base, "--webhook-url", hook,
                    env={"B": self.BOT, "S": self.SIG})
        self.assertExit(r, 0)
        self.assertIs(self.settings()[1]["webhook_set"], True)
        # The webhook is checked by the server like any URL.
        r = self.kw("settings", "slack", "set", "--bot-token-env", "B",
                    "--signing-secret-env", "S", "--webhook-url-env", "H",
                    env={"B": self.BOT, "S": self.SIG,
                         "H": "http://hooks.example.com/x"})
        self.assertExit(r, 1)
        self.assertIn("(field: webhook_url)", r.stderr)

    def test_server_refusals(self):
        r = self.kw("settings", "slack", "set", "--bot-token-env", "B",
                    "--signing-secret-env", "S", "--api-base-url",
                    self.api_base, env={"B": "not-a-bot-token", "S": self.SIG})
        self.assertExit(r, 1)
        self.assertIn("400 validation_failed", r.stderr)
        self.assertIn("(field: bot_token)", r.stderr)
        self.assertNoSecret(r, "not-a-bot-token", self.SIG)
        r = self.kw("settings", "slack", "set", "--bot-token-env", "B",
                    "--signing-secret-env", "S", "--api-base-url",
                    "http://slack.example.com/api",
                    env={"B": self.BOT, "S": self.SIG})
        self.assertExit(r, 1)
        self.assertIn("(field: api_base_url)", r.stderr)
        # Only an admin.
        p = make_person(self.srv, uniq("slacker"))
        tok = token_for(self.srv, p["id"])
        for args in (("show",), ("set", "--bot-token-env", "B",
                                 "--signing-secret-env", "S")):
            with self.subTest(args=args):
                r = self.kw("settings", "slack", *args, token=tok,
                            env={"B": self.BOT, "S": self.SIG})
                self.assertExit(r, 1)
                self.assertTrue(r.stderr.startswith(
                    "keywarden: 403 forbidden: "), r.stderr)

    def test_usage_errors_send_nothing(self):
        st0, before = self.settings()
        bot = self.secret_file(self.BOT)
        cases = [
            ("settings", "slack", "set", "--bot-token-file", bot),
            ("settings", "slack", "set", "--bot-token", self.BOT,
             "--signing-secret-env", "S"),
            ("settings", "slack", "set", "--bot-token-file", "-",
             "--signing-secret-file", "-"),
            ("settings", "slack", "set", "--bot-token-file", bot,
             "--bot-token-env", "B", "--signing-secret-env", "S"),
            ("settings", "slack", "set", "--bot-token-file", bot,
             "--signing-secret-env", "KW_UNSET_VAR"),
            ("settings", "slack", "set", "--bot-token-file", bot,
             "--signing-secret-file", "-", "--webhook-url-file", "-"),
            ("settings", "slack", "set", "--bot-token-file", bot,
             "--signing-secret-env", "S", "--webhook-url", "none",
             "--webhook-url-env", "S"),
            ("settings", "slack", "show", "extra"),
            ("settings", "slack", "frobnicate"),
            ("settings", "slack"),
            ("settings", "frobnicate"),
            ("settings",),
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.kw(*args, env={"B": self.BOT, "S": self.SIG},
                            input=self.BOT + "\n" + self.SIG + "\n")
                self.assertExit(r, 2)
                self.assertTrue(r.stderr.startswith("keywarden: "), r.stderr)
                self.assertIn("keywarden settings slack", r.stderr)
                self.assertNoSecret(r)
        self.assertEqual(self.settings(), (st0, before))

    def test_help(self):
        r = self.kw("settings", "slack", "set", "--help")
        self.assertExit(r, 0)
        self.assertIn("usage: keywarden settings slack set", r.stdout)
        self.assertIn("--signing-secret-file FILE", r.stdout)
        for args in (("settings", "help"), ("settings", "--help"),
                     ("settings", "slack", "help")):
            with self.subTest(args=args):
                r = self.kw(*args)
                self.assertExit(r, 0)
                self.assertIn("keywarden settings slack show\n", r.stdout)


# ---------------------------------------------------------------------------
class HelpTests(unittest.TestCase):
    """`keywarden help` lists every client command."""

    def test_help_lists_every_client_command(self):
        srv = Server(init=False)
        r = srv.cli("help")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l.strip() for l in r.stdout.splitlines()]
        commands = [
            "people list", "people show", "people me", "people create",
            "people update", "people token", "people offboard",
            "instances list", "instances show", "instances create",
            "instances update", "instances sync",
            "request create", "request list", "request show",
            "request approve", "request deny", "request withdraw",
            "request fulfil",
            "credential list", "credential show", "credential reveal",
            "credential revoke", "credential create", "credential rotate",
            "credential link-replacement",
            "audit list", "audit verify",
            "revoke (--instance NAME | --request ID)",
            "report migration",
            "settings slack show", "settings slack set",
            "scim-tokens create", "scim-tokens list", "scim-tokens delete",
        ]
        for c in commands:
            with self.subTest(command=c):
                self.assertTrue(any(l.startswith("keywarden " + c)
                                    for l in lines), c)
        text = r.stdout
        for opt in ("--grace-days N", "--warn-day N... | --no-warn-days",
                    "--kind KIND", "--bot-token-file FILE | --bot-token-env "
                    "VAR", "--signing-secret-file FILE"):
            self.assertIn(opt, text)
        # No line of the client part is wider than 79 columns.
        client = text[text.index("client commands"):]
        for l in client.splitlines():
            self.assertLessEqual(len(l), 79, l)


if __name__ == "__main__":
    unittest.main()
