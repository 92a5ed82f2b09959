"""End-to-end: browser sessions (POST /v1/sessions, the kw_session cookie,
CSRF, sign-out, idle and absolute ends, offboarding) and personal tokens
with a label, an expiry and a last use."""
import datetime
import json
import time
import unittest

from harness import (Server, make_person, store_bytes, store_downgrade,
                     store_rows, store_version, token_for)


def cookie_of(headers):
    """The name=value part of the Set-Cookie header, and its attributes."""
    v = headers["set-cookie"]
    parts = [p.strip() for p in v.split(";")]
    return parts[0], [p.lower() for p in parts[1:]]


def audit(srv, action=None):
    st, page, _ = srv.request("GET", "/v1/audit?limit=500")
    assert st == 200
    items = page["items"]
    return [e for e in items if action is None or e["action"] == action]


class Sessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        make_person(cls.srv, "rick@example.com")
        make_person(cls.srv, "maria@example.com")
        cls.rick = token_for(cls.srv, "rick@example.com")
        cls.maria = token_for(cls.srv, "maria@example.com")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def login(self, token):
        st, body, hd = self.srv.request("POST", "/v1/sessions",
                                        {"token": token}, token=None)
        self.assertEqual(st, 201, body)
        ck, attrs = cookie_of(hd)
        return ck, body["csrf_token"], body, attrs

    def as_cookie(self, method, path, ck, body=None, csrf=None):
        h = {"Cookie": ck}
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        return self.srv.request(method, path, body, token=None, headers=h)

    def test_token_opens_a_session_used_by_cookie(self):
        ck, csrf, body, attrs = self.login(self.rick)
        self.assertTrue(ck.startswith("kw_session=kws_"))
        for a in ("httponly", "samesite=lax", "path=/"):
            self.assertIn(a, attrs)
        self.assertNotIn("secure", attrs)      # the public URL is http
        self.assertEqual(body["person"]["email"], "rick@example.com")
        self.assertTrue(body["expires_at"].endswith("Z"))
        self.assertEqual(len(csrf), 43)
        st, me, _ = self.as_cookie("GET", "/v1/me", ck)
        self.assertEqual((st, me["email"]), (200, "rick@example.com"))
        st, cur, _ = self.as_cookie("GET", "/v1/sessions/current", ck)
        self.assertEqual(st, 200)
        self.assertEqual(cur["csrf_token"], csrf)
        self.assertEqual(cur["expires_at"], body["expires_at"])
        # the store keeps no session secret, only its keyed hash
        self.assertNotIn(ck.split("=", 1)[1].encode(),
                         store_bytes(self.srv))
        logins = [e for e in audit(self.srv, "auth.login")
                  if e["actor"] == "rick@example.com"]
        self.assertTrue(logins)
        self.assertEqual(logins[-1]["details"]["method"], "token")
        self.assertNotIn(ck.split("=", 1)[1], json.dumps(audit(self.srv)))

    def test_refused_tokens_open_no_session(self):
        st, t, _ = self.srv.request("POST", "/v1/people/maria@example.com/"
                                    "tokens", {})
        revoked = t["token"]
        st, _, _ = self.srv.request("DELETE", "/v1/people/maria@example.com/"
                                    "tokens/" + t["id"])
        self.assertEqual(st, 200)
        n0 = len(audit(self.srv, "auth.refused"))
        for bad in ("kw_" + "A" * 43, "nonsense", revoked):
            st, body, hd = self.srv.request("POST", "/v1/sessions",
                                            {"token": bad}, token=None)
            self.assertEqual(st, 401, body)
            self.assertNotIn("set-cookie", hd)
        self.assertEqual(len(audit(self.srv, "auth.refused")) - n0, 3)
        st, body, _ = self.srv.request("POST", "/v1/sessions", {},
                                       token=None)
        self.assertEqual((st, body["error"]["details"]["field"]),
                         (400, "token"))

    def test_write_by_cookie_needs_the_csrf_token(self):
        ck, csrf, _, _ = self.login(self.rick)
        path = "/v1/people/rick@example.com/tokens"
        n0 = len(audit(self.srv, "auth.refused"))
        st, body, _ = self.as_cookie("POST", path, ck, {})
        self.assertEqual(st, 403, body)
        self.assertIn("X-CSRF-Token", body["error"]["message"])
        st, _, _ = self.as_cookie("POST", path, ck, {}, csrf="x" * 43)
        self.assertEqual(st, 403)
        refused = audit(self.srv, "auth.refused")[n0:]
        self.assertEqual([e["details"]["reason"] for e in refused],
                         ["csrf_token_missing", "csrf_token_mismatch"])
        st, tok, _ = self.as_cookie("POST", path, ck, {"label": "by cookie"},
                                    csrf=csrf)
        self.assertEqual(st, 201, tok)
        # a bearer token needs no CSRF token, cookie or not
        st, _, _ = self.srv.request("POST", path, {}, token=self.rick,
                                    headers={"Cookie": ck})
        self.assertEqual(st, 201)

    def test_cookie_of_another_session_is_refused(self):
        ck_r, csrf_r, _, _ = self.login(self.rick)
        ck_m, csrf_m, _, _ = self.login(self.maria)
        self.assertNotEqual(csrf_r, csrf_m)
        # maria's cookie with rick's CSRF token: refused
        st, _, _ = self.as_cookie("POST", "/v1/people/maria@example.com/"
                                  "tokens", ck_m, {}, csrf=csrf_r)
        self.assertEqual(st, 403)
        # a made-up session cookie: unauthenticated
        st, _, _ = self.as_cookie("GET", "/v1/me", "kw_session=kws_" +
                                  "B" * 43)
        self.assertEqual(st, 401)
        st, _, _ = self.as_cookie("GET", "/v1/me", "kw_session=garbage")
        self.assertEqual(st, 401)

    def test_sign_out(self):
        ck, csrf, _, _ = self.login(self.maria)
        st, _, _ = self.as_cookie("DELETE", "/v1/sessions/current", ck)
        self.assertEqual(st, 403)              # no CSRF token: still on
        self.assertEqual(self.as_cookie("GET", "/v1/me", ck)[0], 200)
        st, _, hd = self.as_cookie("DELETE", "/v1/sessions/current", ck,
                                   csrf=csrf)
        self.assertEqual(st, 204)
        cleared, attrs = cookie_of(hd)
        self.assertEqual(cleared, "kw_session=")
        self.assertIn("max-age=0", attrs)
        self.assertEqual(self.as_cookie("GET", "/v1/me", ck)[0], 401)
        self.assertTrue([e for e in audit(self.srv, "auth.logout")
                         if e["actor"] == "maria@example.com"])
        # a bearer caller has no current session
        st, _, _ = self.srv.request("GET", "/v1/sessions/current",
                                    token=self.maria)
        self.assertEqual(st, 404)

    def test_offboarding_ends_sessions(self):
        make_person(self.srv, "leaver@example.com")
        tok = token_for(self.srv, "leaver@example.com")
        ck, _, _, _ = self.login(tok)
        self.assertEqual(self.as_cookie("GET", "/v1/me", ck)[0], 200)
        st, out, _ = self.srv.request(
            "POST", "/v1/people/leaver@example.com/offboard", {})
        self.assertEqual(st, 200, out)
        self.assertEqual(out["sessions_ended"], 1)
        self.assertEqual(self.as_cookie("GET", "/v1/me", ck)[0], 401)


class SecureCookie(unittest.TestCase):
    def test_secure_when_the_public_url_is_https(self):
        with Server(extra_args=["--public-url",
                                "https://keywarden.example.com"]) as srv:
            make_person(srv, "rick@example.com")
            tok = token_for(srv, "rick@example.com")
            st, _, hd = srv.request("POST", "/v1/sessions", {"token": tok},
                                    token=None)
            self.assertEqual(st, 201)
            self.assertIn("secure", cookie_of(hd)[1])


class SessionEnds(unittest.TestCase):
    """Small session_idle_timeout and session_max_age values."""

    def setUp(self):
        self.srv = Server(env={"KEYWARDEN_SESSION_IDLE_TIMEOUT": "2",
                               "KEYWARDEN_SESSION_MAX_AGE": "4"}).start()
        self.addCleanup(self.srv.close)
        make_person(self.srv, "rick@example.com")
        self.tok = token_for(self.srv, "rick@example.com")

    def login(self):
        st, body, hd = self.srv.request("POST", "/v1/sessions",
                                        {"token": self.tok}, token=None)
        self.assertEqual(st, 201)
        self.assertIn("max-age=4", hd["set-cookie"].lower())
        return cookie_of(hd)[0]

    def me(self, ck):
        return self.srv.request("GET", "/v1/me", token=None,
                                headers={"Cookie": ck})[0]

    def test_idle_end(self):
        ck = self.login()
        self.assertEqual(self.me(ck), 200)
        time.sleep(2.6)
        self.assertEqual(self.me(ck), 401)

    def test_absolute_end_despite_activity(self):
        ck = self.login()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.3:     # never idle for 2 s
            self.assertEqual(self.me(ck), 200)
            time.sleep(0.7)
        time.sleep(max(0, 4.3 - (time.monotonic() - t0)))
        self.assertEqual(self.me(ck), 401)


def later(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenExpiry(unittest.TestCase):
    def setUp(self):
        self.srv = Server().start()
        self.addCleanup(self.srv.close)
        make_person(self.srv, "rick@example.com", slack_user_id="U0RICK")

    def mint(self, **body):
        return self.srv.request("POST", "/v1/people/rick@example.com/tokens",
                                body)

    def test_label_and_lifetime(self):
        st, t, _ = self.mint(label="nightly export", expires_in_days=30)
        self.assertEqual(st, 201, t)
        self.assertEqual(t["label"], "nightly export")
        created = datetime.datetime.strptime(t["created_at"],
                                             "%Y-%m-%dT%H:%M:%SZ")
        expires = datetime.datetime.strptime(t["expires_at"],
                                             "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual((expires - created).days, 30)
        st, t, _ = self.mint()
        self.assertEqual(st, 201)
        created = datetime.datetime.strptime(t["created_at"],
                                             "%Y-%m-%dT%H:%M:%SZ")
        expires = datetime.datetime.strptime(t["expires_at"],
                                             "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual((expires - created).days, 90)
        for bad in ({"expires_in_days": 366}, {"expires_in_days": 0},
                    {"expires_in_days": "ten"}, {"label": "x" * 101}):
            st, e, _ = self.mint(**bad)
            self.assertEqual(st, 400, bad)
            self.assertEqual(e["error"]["details"]["field"],
                             list(bad)[0])

    def test_last_used_at(self):
        st, t, _ = self.mint(label="cli")
        st, page, _ = self.srv.request("GET", "/v1/people/rick@example.com/"
                                       "tokens")
        [row] = [x for x in page["items"] if x["id"] == t["id"]]
        self.assertIsNone(row["last_used_at"])
        self.assertEqual(self.srv.request("GET", "/v1/me",
                                          token=t["token"])[0], 200)
        st, page, _ = self.srv.request("GET", "/v1/people/rick@example.com/"
                                       "tokens")
        [row] = [x for x in page["items"] if x["id"] == t["id"]]
        self.assertEqual(row["label"], "cli")
        self.assertTrue(row["last_used_at"])

    def test_expired_token_is_refused(self):
        st, t, _ = self.mint(expires_in_days=1)
        self.assertEqual(self.srv.request("GET", "/v1/me",
                                          token=t["token"])[0], 200)
        self.srv.stop()
        later_srv = Server(data_dir=self.srv.data_dir,
                           admin_token=self.srv.admin_token,
                           env={"KEYWARDEN_FAKE_NOW": later(2)}).start()
        self.addCleanup(later_srv.close)
        st, body, _ = later_srv.request("GET", "/v1/me", token=t["token"])
        self.assertEqual(st, 401)
        self.assertIn("expired", body["error"]["message"])
        st, body, _ = later_srv.request("POST", "/v1/sessions",
                                        {"token": t["token"]}, token=None)
        self.assertEqual(st, 401)
        self.assertEqual(later_srv.request("GET", "/v1/me")[0], 200)

    def test_tokens_from_before_the_upgrade_get_90_days(self):
        """A store from before sessions (schema 5): its live tokens keep
        working after the upgrade and expire 90 days later."""
        self.srv.stop()
        store_downgrade(self.srv,
                        "DROP INDEX tokens_expiry; DROP TABLE sessions;"
                        "ALTER TABLE tokens DROP COLUMN label;"
                        "ALTER TABLE tokens DROP COLUMN expires_at;"
                        "ALTER TABLE tokens DROP COLUMN last_used_at;"
                        "ALTER TABLE tokens DROP COLUMN warned_at",
                        store_version(self.srv) - 1)
        upgraded = Server(data_dir=self.srv.data_dir,
                          admin_token=self.srv.admin_token).start()
        self.addCleanup(upgraded.close)
        st, me, _ = upgraded.request("GET", "/v1/me")
        self.assertEqual((st, me["email"]), (200, "admin@example.com"))
        st, page, _ = upgraded.request("GET", "/v1/people/admin@example.com/"
                                       "tokens")
        [t] = page["items"]
        left = (datetime.datetime.strptime(t["expires_at"],
                                           "%Y-%m-%dT%H:%M:%SZ") -
                datetime.datetime.utcnow()).total_seconds() / 86400
        self.assertTrue(89.9 < left <= 90.01, left)
        self.assertEqual(t["label"], "")

    def jobs(self, now):
        r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                         "--now", now)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def test_owner_warned_once_seven_days_before(self):
        st, _, _ = self.srv.request("PUT", "/v1/settings/slack", {
            "bot_token": "xoxb-test", "signing_secret": "s" * 32,
            "webhook_url": "http://127.0.0.1:9/hook"})
        self.assertIn(st, (200, 201))
        st, t, _ = self.mint(label="laptop", expires_in_days=10)
        self.assertEqual(self.jobs(later(2))["token_warnings"], 0)
        self.assertEqual(self.jobs(later(4))["token_warnings"], 1)
        self.assertEqual(self.jobs(later(5))["token_warnings"], 0)
        warned = [e for e in audit(self.srv, "token.warn")]
        self.assertEqual([e["details"]["token_id"] for e in warned],
                         [t["id"]])
        rows = store_rows(self.srv, "SELECT recipient, payload FROM outbox "
                                    "WHERE kind = 'token.expiring'")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "U0RICK")
        self.assertIn(t["id"], rows[0][1])
        self.assertNotIn(t["token"], rows[0][1])


if __name__ == "__main__":
    unittest.main()
