"""End-to-end: e-mail notifications for people without a Slack id,
through a real SMTP server (aiosmtpd on loopback, smtp_fake.py): the
settings (password sealed, never returned), every message a person gets,
their headers and links, no secret in any of them, an SMTP outage (later,
nothing lost, the request unharmed) and a refused recipient (failed for
good)."""
import json
import time
import unittest

from harness import Server, make_person, token_for
from smtp_fake import SmtpFake
from test_notify import files_containing, outbox_rows
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

WAIT = 15.0
SMTP_USER = "kw-mailer"
SMTP_PASSWORD = "Smtp-pa55word-never-shown-7f3a"
FROM = "keywarden@example.com"


class Base(unittest.TestCase):
    extra = ["--notify-interval", "1", "--upstream-timeout", "2",
             "--upstream-attempts", "2"]
    manager_email = "maria@example.com"
    issuance = "automatic"

    def setUp(self):
        self.smtp = SmtpFake(user=SMTP_USER, password=SMTP_PASSWORD).start()
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=self.extra).start()
        m = self.manager_email
        make_person(self.srv, m, name="Maria")
        make_person(self.srv, "rick@example.com", name="Rick", manager=m)
        make_person(self.srv, "pat@example.com", name="Pat", manager=m)
        make_person(self.srv, "quinn@example.com", name="Quinn")
        self.tok = {p: token_for(self.srv, p) for p in (
            m, "rick@example.com", "pat@example.com", "quinn@example.com")}
        body = {"name": "global", "url": self.sim.url,
                "issuance": self.issuance,
                "provisioners": ["pat@example.com", "quinn@example.com"]}
        if self.issuance == "automatic":
            body["bot"] = {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}
            # secrets revealed once (the broker, the default, reveals none)
            body["default_delivery"] = "token"
        st, obj, _ = self.srv.request("POST", "/v1/instances", body)
        self.assertEqual(st, 201, obj)
        st, obj = self.put_settings()
        self.assertEqual(st, 200, obj)

    def tearDown(self):
        self.srv.close()
        self.sim.close()
        self.smtp.close()

    def put_settings(self, **over):
        body = {"smtp_url": self.smtp.url, "from": FROM,
                "username": SMTP_USER, "password": SMTP_PASSWORD}
        body.update(over)
        st, obj, _ = self.srv.request("PUT", "/v1/settings/email", body)
        return st, obj

    def client(self, *args):
        """A client command as the admin, against this server."""
        return self.srv.cli(*args, env={"KEYWARDEN_SERVER": self.srv.url,
                                        "KEYWARDEN_TOKEN": self.srv.admin_token})

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def file(self, **over):
        body = {"instance": "global", "kind": "api_token",
                "justification": "export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        body.update(over)
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        return r

    def wait_for(self, pred, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for %s\nlog: %s" %
                  (what, self.srv.log()[-3000:]))

    def mails(self, to, word=None):
        return [m for m in self.smtp.messages()
                if m["To"] == to and
                (word is None or word in m["Subject"] + body(m))]

    def wait_mail(self, to, word=None):
        return self.wait_for(lambda: self.mails(to, word),
                             "a mail to %s (%s)" % (to, word))


def body(m):
    return m.get_content()


class Messages(Base):
    def assert_well_formed(self, m, to):
        self.assertEqual(m["From"], "keywarden <%s>" % FROM)
        self.assertEqual(m["To"], to)
        for h in ("Subject", "Date", "Message-ID", "MIME-Version"):
            self.assertTrue(m[h], h)
        self.assertTrue(m["Message-ID"].endswith("@example.com>"))
        self.assertEqual(m.get_content_type(), "text/plain")
        self.assertEqual(m.get_content_charset(), "utf-8")
        self.assertEqual(m["Content-Transfer-Encoding"],
                         "quoted-printable")

    def test_the_whole_flow_by_email_with_links_and_no_secret(self):
        r = self.file(justification="Quarterly export \u2014 d\u00e9j\u00e0 vu")
        rid = r["id"]
        [m] = self.wait_mail("maria@example.com", rid)
        self.assert_well_formed(m, "maria@example.com")
        self.assertIn(rid, m["Subject"])
        text = body(m)
        self.assertIn(self.srv.url + "/requests/" + rid, text)
        self.assertIn("rick@example.com", text)
        self.assertIn("Why: Quarterly export \u2014 d\u00e9j\u00e0 vu", text)
        # the manager approves: both provisioners are asked
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % rid, {})
        self.assertEqual(st, 200)
        for who in ("pat@example.com", "quinn@example.com"):
            [m] = self.wait_mail(who, rid)
            self.assertIn("/requests/" + rid, body(m))
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % rid, {})
        self.assertEqual(st, 200, r2)
        self.assertEqual(r2["state"], "issued")
        cid = r2["credential_id"]
        [m] = self.wait_mail("rick@example.com", "ready")
        self.assertIn(self.srv.url + "/credentials/" + cid, body(m))
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        # a denial reaches the requester with the comment
        r3 = self.file()
        self.wait_mail("maria@example.com", r3["id"])
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/deny" % r3["id"],
                            {"comment": "use the shared export"})
        self.assertEqual(st, 200)
        [m] = self.wait_mail("rick@example.com", "denied")
        self.assertIn("use the shared export", body(m))
        self.assertIn(r3["id"], m["Subject"])
        # the expiry digest, a week before the credential expires
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cid)
        exp = time.strptime(c["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
            time.mktime(exp) - time.timezone - 6 * 86400))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", now)
        self.assertEqual(out.returncode, 0, out.stderr)
        [m] = self.wait_mail("rick@example.com", "need attention")
        self.assertIn(cid, body(m))
        self.assertIn("/credentials", body(m))
        # no secret in any message, header or envelope
        raw = json.dumps(self.smtp.raw())
        for secret in (sec["secret"], SMTP_PASSWORD, ADMIN_TOKEN):
            self.assertNotIn(secret, raw)
        for m in self.smtp.raw():
            self.assertEqual(m["mail_from"], FROM)

    def test_digest_leaves_out_a_rotated_predecessor(self):
        r = self.file()
        for who in ("maria@example.com", "pat@example.com"):
            st, obj, _ = self.as_(who, "POST",
                                  "/v1/requests/%s/approve" % r["id"], {})
            self.assertEqual(st, 200, obj)
        old = obj["credential_id"]
        st, new, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/rotate" % old, {})
        self.assertEqual(st, 201, new)
        for cid in (old, new["id"]):    # delivered: not destroyed later
            st, _, _ = self.as_("rick@example.com", "POST",
                                "/v1/credentials/%s/reveal" % cid)
            self.assertEqual(st, 200)
        # a day later: both are past the 30-day warning, the old one
        # still in its 7-day grace (so still active)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(time.time() + 86400))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", now)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('"digests": 1', out.stdout)
        [m] = self.wait_mail("rick@example.com", "need attention")
        self.assertIn(new["id"], body(m))
        self.assertNotIn(old, body(m))
        self.assertIn("1 of your", m["Subject"])

    def test_withdrawal_tells_the_manager_which_request(self):
        r = self.file()
        self.wait_mail("maria@example.com", r["id"])
        st, _, _ = self.as_("rick@example.com", "POST",
                            "/v1/requests/%s/withdraw" % r["id"], {})
        self.assertEqual(st, 200)
        [m] = self.wait_mail("maria@example.com", "withdr")
        self.assertIn(r["id"], m["Subject"])
        self.assertIn("/requests/" + r["id"], body(m))


class Settings(Base):
    def test_password_is_sealed_and_never_shown(self):
        st, obj = self.put_settings()
        self.assertEqual(st, 200, obj)
        self.assertNotIn("password", {k for k in obj if k != "password_set"})
        self.assertTrue(obj["password_set"])
        self.assertEqual(obj["smtp_url"], self.smtp.url)
        st, got, _ = self.srv.request("GET", "/v1/settings/email")
        self.assertEqual(st, 200, got)
        self.assertEqual(got["from"], FROM)
        self.assertEqual(got["username"], SMTP_USER)
        self.assertNotIn(SMTP_PASSWORD, json.dumps(got))
        # without the password, the sender changes and the password stays
        st, obj = self.put_settings(password=None, **{"from": FROM})
        self.assertEqual(st, 200, obj)
        self.assertFalse(obj["password_set"])
        st, obj = self.put_settings()
        st, obj, _ = self.srv.request("PUT", "/v1/settings/email", {
            "smtp_url": self.smtp.url, "from": FROM, "username": SMTP_USER})
        self.assertEqual(st, 200, obj)
        self.assertTrue(obj["password_set"])
        # a message still goes out: the server authenticated us
        r = self.file()
        self.wait_mail("maria@example.com", r["id"])
        st, ev, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertNotIn(SMTP_PASSWORD, json.dumps(ev))
        self.assertIn("settings.email", json.dumps(ev))
        self.assertEqual(files_containing(self.srv.data_dir,
                                          SMTP_PASSWORD.encode()), [])
        self.assertNotIn(SMTP_PASSWORD, self.srv.log())
        cli = self.client("settings", "email", "show")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertNotIn(SMTP_PASSWORD, cli.stdout)
        self.assertIn(SMTP_USER, cli.stdout)

    def test_bad_settings_are_refused_naming_the_field(self):
        for over, field in (({"smtp_url": "http://127.0.0.1:25"}, "smtp_url"),
                            ({"smtp_url": "smtp://u:p@mail.example.com"},
                             "smtp_url"),
                            ({"from": "not an address"}, "from"),
                            ({"from": "a@b.example\r\nBcc: x@y.example"},
                             "from"),
                            ({"username": None}, "username")):
            st, obj = self.put_settings(**over)
            self.assertEqual(st, 400, (over, obj))
            self.assertEqual(obj["error"]["details"]["field"], field, obj)
        st, obj, _ = self.as_("rick@example.com", "PUT",
                              "/v1/settings/email",
                              {"smtp_url": self.smtp.url, "from": FROM})
        self.assertEqual(st, 403, obj)

    def test_cli_sets_the_settings_with_the_password_from_a_file(self):
        import os
        pw = os.path.join(self.srv.tmp, "smtp-pw")
        with open(pw, "w") as f:
            f.write(SMTP_PASSWORD + "\n")
        out = self.client("settings", "email", "--smtp-url",
                           self.smtp.url, "--from", "ops@example.com",
                           "--username", SMTP_USER, "--password-file", pw)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn(SMTP_PASSWORD, out.stdout + out.stderr)
        st, got, _ = self.srv.request("GET", "/v1/settings/email")
        self.assertEqual(got["from"], "ops@example.com")
        self.assertTrue(got["password_set"])
        r = self.file()
        [m] = self.wait_mail("maria@example.com", r["id"])
        self.assertEqual(m["From"], "keywarden <ops@example.com>")


class Outage(Base):
    def test_smtp_down_delays_and_loses_nothing(self):
        self.smtp.stop()
        r = self.file()
        self.assertEqual(r["state"], "pending_manager")
        self.wait_for(lambda: "not delivered" in self.srv.log(),
                      "a failed attempt")
        rows = [x for x in outbox_rows(self.srv)
                if x["channel"] == "email"]
        self.assertEqual(len(rows), 1, rows)
        self.assertIsNone(rows[0]["sent_at"])
        self.assertIsNone(rows[0]["failed_at"])
        self.assertEqual(rows[0]["recipient"], "maria@example.com")
        self.smtp.start()
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 7200))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", later)
        self.assertEqual(out.returncode, 0, out.stderr)
        [m] = self.wait_mail("maria@example.com", r["id"])
        st, r2, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(r2["state"], "pending_manager")


class Refused(Base):
    manager_email = "bounce-maria@example.com"

    def test_a_550_recipient_fails_for_good(self):
        r = self.file()
        def failed():
            rows = [x for x in outbox_rows(self.srv)
                    if x["channel"] == "email" and x["failed_at"]]
            return rows
        [row] = self.wait_for(failed, "the message marked failed")
        self.assertIn("550", row["last_error"])
        self.assertIn("failed for good", self.srv.log())
        self.assertEqual(self.smtp.raw(), [])
        st, r2, _ = self.srv.request("GET", "/v1/requests/" + r["id"])
        self.assertEqual(r2["state"], "pending_manager")


class ManualRevocation(Base):
    issuance = "manual"

    def test_revoking_a_hand_made_credential_asks_provisioners(self):
        r = self.file()
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200)
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r2)
        st, r3, _ = self.as_("quinn@example.com", "POST",
                             "/v1/requests/%s/fulfil" % r["id"],
                             {"secret": "hand-made-token-0123456789",
                              "external_id": "zd-client-4242"})
        self.assertEqual(st, 200, r3)
        cid = r3["credential_id"]
        st, c, _ = self.as_("rick@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid,
                            {"reason": "project over"})
        self.assertEqual(st, 200, c)
        for who in ("pat@example.com", "quinn@example.com"):
            [m] = self.wait_mail(who, "delete")
            self.assertIn(cid, body(m))
            self.assertIn("zd-client-4242", body(m))
            self.assertIn("project over", body(m))
            self.assertNotIn("hand-made-token", body(m))


if __name__ == "__main__":
    unittest.main()
