"""End-to-end: what a new user stumbled on (issue 10, part B), each
asserted as the user meets it: help for every command, global options
before the command, aliases and "did you mean", a 401 that says how to
give a token, field errors naming the option, reveal refusals that say
what works (and are audited), master-key and --listen errors that say
what to fix, what a non-admin's bulk dry run cannot see, the offboarding
summary, and managers seeing and revoking their reports' credentials."""
import os
import stat
import tempfile
import shutil
import unittest

from harness import Server, make_person, run_bin, token_for


class Commands(unittest.TestCase):
    def test_every_server_command_answers_help(self):
        for args in (["serve", "--help"], ["init", "--help"],
                     ["issue-token", "--help"], ["jobs", "run", "--help"],
                     ["audit", "verify", "--data-dir", "/nonexistent",
                      "--help"]):
            r = run_bin(*args)
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            self.assertIn("usage: keywarden " + args[0], r.stdout)
            self.assertNotIn("unrecognized option", r.stderr)

    def test_typos_get_a_one_line_suggestion(self):
        r = run_bin("requets", "list")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean 'request'?", r.stderr)
        self.assertIn("keywarden help", r.stderr)
        self.assertLess(len(r.stderr.splitlines()), 4, r.stderr)
        r = run_bin("sevre")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean 'serve'?", r.stderr)
        r = run_bin("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertNotIn("did you mean", r.stderr)
        self.assertLess(len(r.stderr.splitlines()), 4, r.stderr)


class Client(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        make_person(cls.srv, "maria@example.com")
        make_person(cls.srv, "rick@example.com", manager="maria@example.com")
        make_person(cls.srv, "pat@example.com")
        make_person(cls.srv, "quinn@example.com")
        cls.tok = {p: token_for(cls.srv, p) for p in (
            "maria@example.com", "rick@example.com", "pat@example.com",
            "quinn@example.com")}
        st, obj, _ = cls.srv.request("POST", "/v1/instances", {
            "name": "global", "url": "https://global.example.com",
            "issuance": "manual",
            "provisioners": ["pat@example.com", "quinn@example.com"]})
        assert st == 201, obj

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def kw(self, *args, who=None, token=None):
        env = {"KEYWARDEN_TOKEN": token if token is not None else
               self.tok[who] if who else self.srv.admin_token}
        return self.srv.cli(*args, env=env)

    def as_(self, who, method, path, body=None):
        st, obj, _ = self.srv.request(method, path, body, token=self.tok[who])
        return st, obj

    def issued(self):
        """A credential of rick's, fulfilled by hand: (request, cred id)."""
        st, r = self.as_("rick@example.com", "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token", "justification": "j",
            "use_case": "u", "scopes": ["read"], "lifetime_days": 30})
        self.assertEqual(st, 201, r)
        for who in ("maria@example.com", "pat@example.com"):
            st, obj = self.as_(who, "POST",
                               "/v1/requests/%s/approve" % r["id"], {})
            self.assertEqual(st, 200, obj)
        st, obj = self.as_("quinn@example.com", "POST",
                           "/v1/requests/%s/fulfil" % r["id"],
                           {"secret": "s3cret-value-0123456789",
                            "external_id": "zd-1"})
        self.assertEqual(st, 200, obj)
        return r, obj["credential_id"]

    def test_global_options_before_the_command(self):
        r = self.srv.cli("--server", self.srv.url, "--token",
                         self.srv.admin_token, "request", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.srv.cli("--json", "--server", self.srv.url, "requests",
                         "list", env={"KEYWARDEN_TOKEN": self.srv.admin_token})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"items"', r.stdout)
        r = self.kw("instance", "list", "--server", self.srv.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("global", r.stdout)

    def test_401_says_how_to_give_a_token(self):
        r = self.srv.cli("request", "list", "--server", self.srv.url,
                         env={"KEYWARDEN_TOKEN": ""})
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", r.stderr)
        self.assertIn("KEYWARDEN_TOKEN", r.stderr)
        self.assertIn("--token", r.stderr)
        r = self.kw("request", "list", "--server", self.srv.url,
                    token="kw_" + "A" * 43)
        self.assertIn("did not accept this token", r.stderr)

    def test_field_errors_name_the_option(self):
        r = self.kw("request", "create", "--instance", "global", "--kind",
                    "api_token", "--justification", "j", "--use-case", "u",
                    "--lifetime-days", "30", "--server", self.srv.url,
                    who="rick@example.com")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("--scope", r.stderr)
        r = self.kw("request", "create", "--help")
        self.assertIn("needs at least one --scope", r.stdout + r.stderr)

    def test_reveal_refusals_say_what_works_and_are_audited(self):
        _, cid = self.issued()
        st, obj = self.as_("rick@example.com", "POST",
                           "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, obj)
        st, obj = self.as_("rick@example.com", "POST",
                           "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 410, obj)
        msg = obj["error"]["message"]
        self.assertIn("keywarden credential rotate " + cid, msg)
        st, ev, _ = self.srv.request("GET", "/v1/audit?limit=500")
        refused = [e for e in ev["items"]
                   if e["action"] == "credential.reveal_refused" and
                   e["subject"] == cid]
        self.assertEqual(len(refused), 1, ev)
        self.assertEqual(refused[0]["actor"], "rick@example.com")

    def test_managers_see_and_revoke_their_reports_credentials(self):
        _, cid = self.issued()
        st, c = self.as_("maria@example.com", "GET", "/v1/credentials/" + cid)
        self.assertEqual(st, 200, c)
        st, l = self.as_("maria@example.com", "GET", "/v1/credentials")
        self.assertIn(cid, [x["id"] for x in l["items"]])
        st, obj = self.as_("maria@example.com", "POST",
                           "/v1/credentials/%s/rotate" % cid, {})
        self.assertEqual(st, 403, obj)      # visible, so told why
        st, c = self.as_("maria@example.com", "POST",
                         "/v1/credentials/%s/revoke" % cid,
                         {"reason": "moved teams"})
        self.assertEqual(st, 200, c)
        self.assertEqual(c["state"], "revoked")

    def test_a_non_admin_dry_run_says_what_it_cannot_see(self):
        self.issued()
        r = self.kw("revoke", "--instance", "global", "--dry-run",
                    "--reason", "incident",
                    "--server", self.srv.url, who="maria@example.com")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("not an admin, an auditor or a provisioner",
                      r.stdout)
        r = self.kw("revoke", "--instance", "global", "--dry-run",
                    "--reason", "incident",
                    "--server", self.srv.url)
        self.assertNotIn("not an admin", r.stdout)

    def test_offboard_prints_a_summary_not_json(self):
        make_person(self.srv, "olga@example.com")
        r = self.kw("people", "offboard", "olga@example.com", "--server",
                    self.srv.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("offboarded:", r.stdout)
        self.assertIn("olga@example.com", r.stdout)
        self.assertNotIn("{", r.stdout)
        self.assertNotIn("[", r.stdout)


class ServerStart(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kw-fr-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.dir = os.path.join(self.tmp, "data")
        r = run_bin("init", "--data-dir", self.dir, "--admin-email",
                    "a@example.com")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_master_key_errors_say_what_to_fix(self):
        r = run_bin("serve", "--check", "--data-dir",
                    os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)
        self.assertNotIn("input/output error", r.stderr)
        key = os.path.join(self.dir, "master.key")
        os.chmod(key, 0o640)
        r = run_bin("serve", "--check", "--data-dir", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("chmod 600 " + key, r.stderr)
        self.assertNotIn("run 'keywarden init'", r.stderr)
        r = run_bin("issue-token", "--data-dir", self.dir, "--email",
                    "a@example.com")
        self.assertIn("chmod 600", r.stderr)
        os.chmod(key, 0o600)
        r = run_bin("serve", "--check", "--data-dir", self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_listen_must_be_an_address_serve_can_bind(self):
        r = run_bin("serve", "--check", "--data-dir", self.dir, "--listen",
                    "myhost:8200")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not an IP address", r.stderr)
        for ok in ("127.0.0.1:8200", "[::1]:8200", "localhost:8200"):
            r = run_bin("serve", "--check", "--data-dir", self.dir,
                        "--listen", ok)
            self.assertEqual(r.returncode, 0, (ok, r.stderr))


if __name__ == "__main__":
    unittest.main()
