"""End-to-end: OpenID Connect sign-in.

RealProvider walks panva's oidc-provider (tests/oidc/idp.js) as a browser
would: keywarden's /auth/login, the provider's login and consent pages, the
callback, then the session.  Tampering drives a small fake provider whose
ID tokens the test crafts (signed with the openssl CLI): each bad answer is
refused, audited, and opens no session."""
import json
import tempfile
import time
import unittest
import urllib.parse

from harness import HarnessError, Server, free_port, make_person
from oidc_support import (Browser, FakeIdP, RealIdP, hs256, b64u,
                          oidc_config, sign_in_at_idp, CLIENT_SECRET)


def refusals(srv, n0=0):
    st, page, _ = srv.request("GET", "/v1/audit?limit=500")
    assert st == 200
    return [e for e in page["items"] if e["action"] == "auth.refused"][n0:]


def logins(srv):
    st, page, _ = srv.request("GET", "/v1/audit?limit=500")
    return [e for e in page["items"] if e["action"] == "auth.login"]


class RealProvider(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port, cls.port_es = free_port(), free_port()
        cls.kw = "http://127.0.0.1:%d" % cls.port
        cls.kw_es = "http://127.0.0.1:%d" % cls.port_es
        cls.idp = RealIdP([cls.kw + "/auth/callback",
                           cls.kw_es + "/auth/callback"]).start()
        cls.tmp = tempfile.mkdtemp(prefix="kw-oidc-")
        try:
            cls.srv = Server(extra_args=["--config", oidc_config(
                cls.tmp, cls.idp.issuer)], port=cls.port).start()
        except BaseException:
            cls.idp.close()
            raise
        for who in ("rick", "maria", "pat", "unverified", "gone"):
            make_person(cls.srv, who + "@example.com")
        st, _, _ = cls.srv.request("POST", "/v1/people/gone@example.com/"
                                   "offboard", {})
        assert st == 200

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        cls.idp.close()

    def test_sign_in_through_login_and_consent_pages(self):
        b = Browser()
        st, hd, body, url = sign_in_at_idp(b, self.kw, "rick@example.com",
                                           return_to="/requests/abc")
        # keywarden's callback sent the browser back where it started
        callback = [h for h in b.history if "/auth/callback" in h[1]]
        self.assertEqual(callback[-1][2], 302)
        self.assertEqual(url, self.kw + "/requests/abc")
        # the IdP's own pages were walked: login, then consent
        self.assertGreaterEqual(len([h for h in b.history
                                     if "/interaction/" in h[1] and
                                     h[0] == "POST"]), 2)
        self.assertTrue(b.cookie("127.0.0.1", "kw_session"))
        self.assertIsNone(b.cookie("127.0.0.1", "kw_oidc"))
        st, _, me = b.request("GET", self.kw + "/v1/me")
        self.assertEqual((st, json.loads(me)["email"]),
                         (200, "rick@example.com"))
        st, _, cur = b.request("GET", self.kw + "/v1/sessions/current")
        csrf = json.loads(cur)["csrf_token"]
        # a write by cookie: refused without the CSRF token, fine with it
        path = self.kw + "/v1/people/rick@example.com/tokens"
        st, _, _ = b.request("POST", path, "{}",
                             {"Content-Type": "application/json"})
        self.assertEqual(st, 403)
        st, _, _ = b.request("POST", path, "{}",
                             {"Content-Type": "application/json",
                              "X-CSRF-Token": csrf})
        self.assertEqual(st, 201)
        mine = [e for e in logins(self.srv)
                if e["actor"] == "rick@example.com"]
        self.assertEqual(mine[-1]["details"]["method"], "oidc")
        self.assertEqual(mine[-1]["details"]["issuer"], self.idp.issuer)

    def refused(self, login, reason, status=403):
        n0 = len(refusals(self.srv))
        b = Browser()
        st, hd, body, url = sign_in_at_idp(b, self.kw, login)
        self.assertEqual(st, status, body[:300])
        self.assertIn("text/html", hd["content-type"])
        self.assertIsNone(b.cookie("127.0.0.1", "kw_session"))
        got = refusals(self.srv, n0)
        self.assertEqual([e["details"]["reason"] for e in got], [reason])
        return got[0], body

    def test_unknown_person_gets_a_403_page(self):
        e, body = self.refused("stranger@example.com", "unknown_person")
        self.assertEqual(e["subject"], "stranger@example.com")
        self.assertIn("no active person", body)

    def test_inactive_person_gets_a_403_page(self):
        self.refused("gone@example.com", "inactive_person")

    def test_unverified_email_is_refused(self):
        self.refused("unverified@example.com", "email_not_verified")

    def test_replayed_code_is_refused(self):
        b = Browser()
        _, _, _, callback = sign_in_at_idp(b, self.kw, "pat@example.com",
                                           stop_at_callback=True)
        kept = b.cookie("127.0.0.1", "kw_oidc")
        st, hd, _ = b.request("GET", callback)
        self.assertEqual((st, hd["location"]), (302, "/"))   # signed in
        n_logins = len(logins(self.srv))
        n0 = len(refusals(self.srv))
        # an attacker who kept the login cookie replays the callback
        thief = Browser()
        thief.cookies["127.0.0.1"] = {"kw_oidc": kept}
        st, _, body, _ = thief.go(callback)
        self.assertEqual(st, 403, body[:300])
        self.assertIsNone(thief.cookie("127.0.0.1", "kw_session"))
        self.assertEqual([e["details"]["reason"] for e in
                          refusals(self.srv, n0)],
                         ["code_refused: invalid_grant"])
        self.assertEqual(len(logins(self.srv)), n_logins)

    def test_changed_state_is_refused(self):
        b = Browser()
        _, _, _, callback = sign_in_at_idp(b, self.kw, "rick@example.com",
                                           stop_at_callback=True)
        u = urllib.parse.urlsplit(callback)
        q = dict(urllib.parse.parse_qsl(u.query))
        q["state"] = q["state"][:-2] + ("AA" if q["state"][-2:] != "AA"
                                        else "BB")
        n0 = len(refusals(self.srv))
        st, _, _, _ = b.go(urllib.parse.urlunsplit(
            u._replace(query=urllib.parse.urlencode(q))))
        self.assertEqual(st, 403)
        self.assertIsNone(b.cookie("127.0.0.1", "kw_session"))
        self.assertEqual([e["details"]["reason"] for e in
                          refusals(self.srv, n0)], ["state_mismatch"])

    def test_callback_carried_to_another_browser_is_refused(self):
        a = Browser()
        _, _, _, callback = sign_in_at_idp(a, self.kw, "rick@example.com",
                                           stop_at_callback=True)
        victim = Browser()
        n0 = len(refusals(self.srv))
        st, _, _, _ = victim.go(callback)
        self.assertEqual(st, 400)
        self.assertIsNone(victim.cookie("127.0.0.1", "kw_session"))
        self.assertEqual([e["details"]["reason"] for e in
                          refusals(self.srv, n0)], ["login_state_missing"])

    def test_return_to_another_origin_is_refused(self):
        for bad in ("https://evil.example/", "//evil.example/x",
                    "/\\evil.example", "javascript:alert(1)"):
            n0 = len(refusals(self.srv))
            b = Browser()
            st, hd, body = b.request("GET", self.kw + "/auth/login?"
                                     "return_to=" + urllib.parse.quote(bad))
            self.assertEqual(st, 400, bad)
            self.assertNotIn("location", hd)
            self.assertEqual([e["details"]["reason"] for e in
                              refusals(self.srv, n0)],
                             ["return_to_not_local"])

    def test_offboarding_ends_an_sso_session(self):
        make_person(self.srv, "leaver@example.com")
        # the IdP knows no leaver: sign maria in, then offboard her
        b = Browser()
        sign_in_at_idp(b, self.kw, "maria@example.com")
        self.assertEqual(b.request("GET", self.kw + "/v1/me")[0], 200)
        st, out, _ = self.srv.request(
            "POST", "/v1/people/maria@example.com/offboard", {})
        self.assertEqual(st, 200)
        self.assertGreaterEqual(out["sessions_ended"], 1)
        self.assertEqual(b.request("GET", self.kw + "/v1/me")[0], 401)

    def test_es256_id_tokens(self):
        tmp = tempfile.mkdtemp(prefix="kw-oidc-es-")
        with Server(extra_args=["--config", oidc_config(
                tmp, self.idp.issuer, client_id="keywarden-es")],
                port=self.port_es) as srv:
            make_person(srv, "pat@example.com")
            b = Browser()
            st, hd, _, url = sign_in_at_idp(b, self.kw_es,
                                            "pat@example.com",
                                            stop_at_callback=True)
            st, hd, _ = b.request("GET", url)
            self.assertEqual((st, hd["location"]), (302, "/"))
            st, _, me = b.request("GET", self.kw_es + "/v1/me")
            self.assertEqual((st, json.loads(me)["email"]),
                             (200, "pat@example.com"))


class Tampering(unittest.TestCase):
    """A fake provider answers with crafted ID tokens."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeIdP().start()
        cls.tmp = tempfile.mkdtemp(prefix="kw-oidc-fake-")
        cls.srv = Server(extra_args=["--config", oidc_config(
            cls.tmp, cls.fake.issuer), "--upstream-timeout", "2",
            "--auth-fail-limit", "1000"]).start()
        make_person(cls.srv, "rick@example.com")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        cls.fake.close()

    def setUp(self):
        self.fake.token_delay = 0
        self.fake.token_status = 200

    def flow(self, make_token, srv=None):
        """Sign in through the fake provider with make_token(params);
        returns (status, body, browser)."""
        srv = srv or self.srv
        self.fake.next_token = make_token
        b = Browser()
        st, hd, body, loc = b.go(srv.url + "/auth/login", stop=lambda u:
                                 u.startswith(self.fake.issuer))
        if st != 302:
            return st, body, b
        # the callback: a 302 to "/" when signed in, a page otherwise
        st, hd, body = b.request("GET", self.fake.authorize(loc))
        if st == 302:
            self.assertEqual(hd["location"], "/")
        return st, body, b

    def rsa(self, params, header=None, **claims):
        h = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
        h.update(header or {})
        return self.fake.keys.sign(h, self.fake.claims(params, **claims))

    def assert_refused(self, make_token, reason, status=403):
        n0 = len(refusals(self.srv))
        n_logins = len(logins(self.srv))
        st, body, b = self.flow(make_token)
        self.assertEqual(st, status, body[:300])
        self.assertIsNone(b.cookie("127.0.0.1", "kw_session"))
        self.assertEqual([e["details"]["reason"] for e in
                          refusals(self.srv, n0)], [reason])
        self.assertEqual(len(logins(self.srv)), n_logins)

    def test_a_good_rs256_token_signs_in(self):
        st, body, b = self.flow(lambda p: self.rsa(p))
        self.assertEqual(st, 302, body[:300])
        self.assertTrue(b.cookie("127.0.0.1", "kw_session"))
        st, _, me = b.request("GET", self.srv.url + "/v1/me")
        self.assertEqual(json.loads(me)["email"], "rick@example.com")
        # the code went with client_secret_basic and the PKCE verifier
        path, headers, form = [r for r in self.fake.requests
                               if r[0] == "/token"][-1]
        self.assertTrue(headers["Authorization"].startswith("Basic "))
        self.assertIn("code_verifier=", form)
        self.assertNotIn(CLIENT_SECRET, form)

    def test_a_good_es256_token_signs_in(self):
        st, body, b = self.flow(lambda p: self.fake.keys.sign(
            {"alg": "ES256", "kid": "e1"}, self.fake.claims(p), key="ec"))
        self.assertEqual(st, 302, body[:300])
        self.assertTrue(b.cookie("127.0.0.1", "kw_session"))

    def test_wrong_audience(self):
        self.assert_refused(lambda p: self.rsa(p, aud="someone-else"),
                            "id_token_wrong_audience")

    def test_wrong_issuer(self):
        self.assert_refused(lambda p: self.rsa(
            p, iss="https://evil.example"), "id_token_wrong_issuer")

    def test_expired_id_token(self):
        now = int(time.time())
        self.assert_refused(lambda p: self.rsa(p, iat=now - 600,
                                               exp=now - 120),
                            "id_token_expired")

    def test_nonce_mismatch(self):
        self.assert_refused(lambda p: self.rsa(p, nonce="not-the-nonce"),
                            "id_token_nonce_mismatch")

    def test_unverified_email(self):
        self.assert_refused(lambda p: self.rsa(p, email_verified=False),
                            "email_not_verified")

    def test_alg_none(self):
        def none(p):
            return (b64u(json.dumps({"alg": "none", "kid": "k1"})) + "." +
                    b64u(json.dumps(self.fake.claims(p))) + ".")
        self.assert_refused(none, "id_token_alg_refused: none")

    def test_hs256_signed_with_the_client_secret(self):
        self.assert_refused(lambda p: hs256(
            CLIENT_SECRET, {"alg": "HS256", "kid": "k1"},
            self.fake.claims(p)), "id_token_alg_refused: HS256")

    def test_altered_claims_break_the_signature(self):
        def altered(p):
            h, _, s = self.rsa(p).split(".")
            evil = self.fake.claims(p, email="admin@example.com")
            return h + "." + b64u(json.dumps(evil)) + "." + s
        self.assert_refused(altered, "id_token_bad_signature")

    def test_garbage_id_tokens_are_refused_without_harm(self):
        for junk in ("", "abc", "a.b.c", "...", "x" * 20000,
                     b64u("{}") + "." + b64u("{}") + ".",
                     b64u('{"alg":"RS256"}') + ".!!!." + b64u("sig"),
                     b64u('{"alg":"RS256","kid":"k1"}') + "." +
                     b64u("not json") + "." + b64u("x" * 256),
                     b64u('{"alg":"RS256","kid":' + '"k' * 300 + '"}') +
                     ".e30.e30"):
            st, body, b = self.flow(lambda p, j=junk: j)
            self.assertIn(st, (403, 502), junk[:40])
            self.assertIsNone(b.cookie("127.0.0.1", "kw_session"))
        self.assertTrue(self.srv.running())
        st, body, b = self.flow(lambda p: self.rsa(p))
        self.assertEqual(st, 302)

    def test_ec_key_claimed_for_rs256(self):
        self.assert_refused(lambda p: self.fake.keys.sign(
            {"alg": "RS256", "kid": "e1"}, self.fake.claims(p), key="ec"),
            "id_token_unknown_key")

    def test_unknown_kid_refetches_the_jwks_then_refuses(self):
        self.flow(lambda p: self.rsa(p))          # keys cached
        time.sleep(1.1)
        before = self.fake.jwks_fetches
        self.assert_refused(lambda p: self.rsa(p, header={"kid": "k9"}),
                            "id_token_unknown_key")
        self.assertEqual(self.fake.jwks_fetches, before + 1)

    def test_rotated_key_is_found_by_refetching(self):
        self.flow(lambda p: self.rsa(p))
        time.sleep(1.1)
        self.fake.jwks["keys"].append(dict(self.fake.keys.rsa_jwk("k2")))
        try:
            st, body, b = self.flow(lambda p: self.rsa(
                p, header={"kid": "k2"}))
        finally:
            self.fake.jwks["keys"].pop()
        self.assertEqual(st, 302, body[:300])
        self.assertTrue(b.cookie("127.0.0.1", "kw_session"))

    def test_slow_provider_gives_an_error_page_and_no_session(self):
        self.fake.token_delay = 3                # upstream timeout is 2 s
        self.assert_refused(lambda p: self.rsa(p), "idp_unavailable", 502)

    def test_failing_token_endpoint(self):
        self.fake.token_status = 500
        self.assert_refused(lambda p: self.rsa(p), "idp_unavailable", 502)


class BrokenProviders(unittest.TestCase):
    """Discovery or JWKS that cannot be used, a provider that is down."""

    def start(self, fake=None, issuer=None):
        issuer = issuer or fake.issuer
        tmp = tempfile.mkdtemp(prefix="kw-oidc-broken-")
        srv = Server(extra_args=["--config", oidc_config(tmp, issuer),
                                 "--upstream-timeout", "2"]).start()
        self.addCleanup(srv.close)
        make_person(srv, "rick@example.com")
        return srv

    def fake(self):
        f = FakeIdP().start()
        self.addCleanup(f.close)
        return f

    def login_page(self, srv):
        b = Browser()
        return b.request("GET", srv.url + "/auth/login")

    def test_client_secret_post_when_the_issuer_offers_only_that(self):
        f = self.fake()
        f.auth_post = True
        srv = self.start(f)
        f.next_token = lambda p: f.keys.sign({"alg": "RS256", "kid": "k1"},
                                             f.claims(p))
        b = Browser()
        st, hd, body, loc = b.go(srv.url + "/auth/login",
                                 stop=lambda u: u.startswith(f.issuer))
        st, hd, body = b.request("GET", f.authorize(loc))
        self.assertEqual(st, 302, body[:300])
        self.assertTrue(b.cookie("127.0.0.1", "kw_session"))
        path, headers, form = [r for r in f.requests if r[0] == "/token"][-1]
        self.assertNotIn("Authorization", headers)
        self.assertIn("client_secret=", form)

    def test_provider_down(self):
        srv = self.start(issuer="http://127.0.0.1:%d" % free_port())
        st, hd, body = self.login_page(srv)
        self.assertEqual(st, 502)
        self.assertIn("text/html", hd["content-type"])
        self.assertIn("Sign-in is unavailable", body)
        self.assertTrue(srv.running())

    def test_malformed_discovery(self):
        for raw in (b"{not json", b"[]", json.dumps({"issuer": "x"}).encode(),
                    json.dumps({"issuer": "ISSUER",
                                "authorization_endpoint": "http://evil.example/a",
                                "token_endpoint": "http://evil.example/t",
                                "jwks_uri": "http://evil.example/j"}).encode()):
            f = self.fake()
            f.raw_discovery = raw.replace(b"ISSUER", f.issuer.encode())
            srv = self.start(f)
            st, _, body = self.login_page(srv)
            self.assertEqual(st, 502, raw)
            self.assertTrue(srv.running())
            self.assertIn("discovery", srv.log())

    def test_malformed_jwks(self):
        for raw in (b"{not json", b'{"keys": "x"}',
                    b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
                    b'{"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}'):
            f = self.fake()
            f.raw_jwks = raw
            srv = self.start(f)
            f.next_token = lambda p: f.keys.sign(
                {"alg": "RS256", "kid": "k1"}, f.claims(p))
            b = Browser()
            st, hd, body, loc = b.go(srv.url + "/auth/login",
                                     stop=lambda u: u.startswith(f.issuer))
            self.assertEqual(st, 302)
            st, _, body = b.request("GET", f.authorize(loc))
            self.assertEqual(st, 502, raw)
            self.assertIsNone(b.cookie("127.0.0.1", "kw_session"))
            self.assertTrue(srv.running())
            self.assertIn("JWKS", srv.log())

    def test_plain_http_issuer_off_loopback_is_refused_at_start(self):
        tmp = tempfile.mkdtemp(prefix="kw-oidc-cfg-")
        with self.assertRaises(HarnessError) as ctx:
            Server(extra_args=["--config", oidc_config(
                tmp, "http://idp.example.com")]).start()
        self.assertIn("issuer", str(ctx.exception))

    def test_refusals_are_throttled(self):
        """Refused sign-ins count like bad tokens: beyond the address's
        budget they are answered 429 and no longer fill the audit log."""
        tmp = tempfile.mkdtemp(prefix="kw-oidc-thr-")
        with Server(extra_args=["--config", oidc_config(
                tmp, "http://127.0.0.1:%d" % free_port()),
                "--auth-fail-limit", "3"]) as srv:
            b = Browser()
            got = []
            for _ in range(6):
                st, hd, _ = b.request("GET", srv.url + "/auth/login?"
                                      "return_to=//evil.example")
                got.append(st)
                if st == 429:
                    self.assertIn("retry-after", hd)
            self.assertEqual(got[0], 400)
            self.assertEqual(got[-1], 429)
            st, _, _ = b.request("GET", srv.url + "/auth/callback?code=x&"
                                 "state=y")
            self.assertEqual(st, 429)
            # a valid token is never throttled: the admin reads the log
            self.assertEqual(len(refusals(srv)), got.count(400))

    def test_sso_off_without_oidc_section(self):
        with Server() as srv:
            st, hd, body = Browser().request("GET", srv.url + "/auth/login")
            self.assertEqual(st, 404)
            self.assertIn("text/html", hd["content-type"])


if __name__ == "__main__":
    unittest.main()
