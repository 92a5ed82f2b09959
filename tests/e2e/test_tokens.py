"""End-to-end: listing and revoking one personal token."""
import json
import unittest

from harness import Server, make_person, token_for


class PersonalTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        make_person(cls.srv, "rob@example.com")
        make_person(cls.srv, "eve@example.com")
        make_person(cls.srv, "aud@example.com", roles=["auditor"])
        cls.aud = token_for(cls.srv, "aud@example.com")
        cls.eve = token_for(cls.srv, "eve@example.com")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def me(self, token):
        return self.srv.request("GET", "/v1/me", token=token)[0]

    def test_revoke_one_token_keeps_the_others(self):
        a = token_for(self.srv, "rob@example.com")
        st, b, _ = self.srv.request("POST", "/v1/people/rob@example.com/"
                                    "tokens", {}, token=a)
        self.assertEqual(st, 201)
        self.assertEqual((self.me(a), self.me(b["token"])), (200, 200))
        st, page, _ = self.srv.request("GET", "/v1/people/rob@example.com/"
                                       "tokens", token=a)
        self.assertEqual(st, 200)
        self.assertNotIn(a, self.srv.last_raw.decode())
        self.assertNotIn(b["token"], self.srv.last_raw.decode())
        ids = [t["id"] for t in page["items"] if t["active"]]
        self.assertIn(b["id"], ids)
        # rob revokes the second one himself: dead at once, the first lives
        st, out, _ = self.srv.request(
            "DELETE", "/v1/people/rob@example.com/tokens/" + b["id"],
            token=a)
        self.assertEqual(st, 200, out)
        self.assertEqual(self.me(b["token"]), 401)
        self.assertEqual(self.me(a), 200)
        st, _, _ = self.srv.request(
            "DELETE", "/v1/people/rob@example.com/tokens/" + b["id"],
            token=a)
        self.assertEqual(st, 404)
        st, page, _ = self.srv.request("GET", "/v1/people/rob@example.com/"
                                       "tokens", token=self.aud)
        self.assertEqual(st, 200)
        [t] = [t for t in page["items"] if t["id"] == b["id"]]
        self.assertFalse(t["active"])
        self.assertTrue(t["revoked_at"])
        st, audit, _ = self.srv.request("GET", "/v1/audit?limit=500",
                                        token=self.aud)
        self.assertIn(("token.revoke", "rob@example.com"),
                      [(e["action"], e["subject"]) for e in audit["items"]])

    def test_others_may_not(self):
        st, t, _ = self.srv.request("POST", "/v1/people/rob@example.com/"
                                    "tokens", {})
        self.assertEqual(st, 201)
        a, tid = t["token"], t["id"]
        for tok in (self.eve, self.aud):
            st, _, _ = self.srv.request(
                "DELETE", "/v1/people/rob@example.com/tokens/" + tid,
                token=tok)
            self.assertEqual(st, 403)
        st, _, _ = self.srv.request("GET", "/v1/people/rob@example.com/"
                                    "tokens", token=self.eve)
        self.assertEqual(st, 403)
        self.assertEqual(self.me(a), 200)
        # an admin may
        st, _, _ = self.srv.request(
            "DELETE", "/v1/people/rob@example.com/tokens/" + tid)
        self.assertEqual(st, 200)
        self.assertEqual(self.me(a), 401)

    def test_from_the_cli(self):
        a = token_for(self.srv, "rob@example.com")
        st, b, _ = self.srv.request("POST", "/v1/people/rob@example.com/"
                                    "tokens", {}, token=a)
        env = {"KEYWARDEN_TOKEN": a}
        r = self.srv.cli("people", "tokens", "rob@example.com", "--server",
                         self.srv.url, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b["id"], r.stdout)
        self.assertNotIn(b["token"], r.stdout)
        r = self.srv.cli("people", "revoke-token", "rob@example.com",
                         "--token-id", b["id"], "--server", self.srv.url,
                         env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.me(b["token"]), 401)
        r = self.srv.cli("people", "revoke-token", "rob@example.com",
                         "--token-id", b["id"], "--server", self.srv.url,
                         env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", r.stderr)

    def test_label_and_expiry_from_the_cli(self):
        a = token_for(self.srv, "rob@example.com")
        env = {"KEYWARDEN_TOKEN": a}
        r = self.srv.cli("people", "token", "rob@example.com", "--label",
                         "nightly export", "--expires-in-days", "30",
                         "--server", self.srv.url, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("expires:", r.stdout)
        r = self.srv.cli("people", "tokens", "rob@example.com", "--json",
                         "--server", self.srv.url, env=env)
        [t] = [t for t in json.loads(r.stdout)["items"]
               if t["label"] == "nightly export"]
        self.assertTrue(t["expires_at"])
        r = self.srv.cli("people", "token", "rob@example.com",
                         "--expires-in-days", "400", "--server",
                         self.srv.url, env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("expires_in_days", r.stderr)


if __name__ == "__main__":
    unittest.main()
