"""End-to-end: Slack notifications through the outbox (DMs, the channel
webhook, message updates), approvals from Slack's signed button clicks,
Slack outages and rate limits, and the Slack settings."""
import json
import os
import sqlite3
import time
import unittest

from harness import Server, make_person, token_for
from harness import sqlite_store, store_rows
from slack_fake import (BOT_TOKEN, MAX_BLOCKS, MAX_SECTION_TEXT,
                        SIGNING_SECRET, SlackFake, block_actions_body,
                        block_error, sign, signed_headers)
from zendesk_sim import (ADMIN_EMAIL, ADMIN_TOKEN, RecordingProxy,
                         ZendeskSim)

SLACK_IDS = {"maria@example.com": "UMARIA", "rick@example.com": "URICK",
             "pat@example.com": "UPAT", "quinn@example.com": "UQUINN",
             "sam@example.com": "USAM"}
PEOPLE = tuple(SLACK_IDS)
UNKNOWN_USER_TEXT = ("keywarden does not know your Slack account; ask an "
                     "admin to set your slack_user_id")
FORM = "application/x-www-form-urlencoded"
WAIT = 15.0     # seconds any delivery may take (notify interval is 1 s)


def setup_world(srv, sim):
    """People with Slack ids, their tokens, an automatic instance on the
    simulator (provisioners pat and quinn; pat reports to maria too)."""
    make_person(srv, "maria@example.com", name="Maria",
                slack_user_id="UMARIA")
    make_person(srv, "rick@example.com", name="Rick",
                manager="maria@example.com", slack_user_id="URICK")
    make_person(srv, "pat@example.com", name="Pat",
                manager="maria@example.com", slack_user_id="UPAT")
    make_person(srv, "quinn@example.com", name="Quinn",
                slack_user_id="UQUINN")
    make_person(srv, "sam@example.com", name="Sam", teams=["support-ops"],
                manager="maria@example.com", slack_user_id="USAM")
    tok = {p: token_for(srv, p) for p in PEOPLE}
    st, obj, _ = srv.request("POST", "/v1/instances", {
        "name": "global", "url": sim.url, "issuance": "automatic",
        "provisioners": ["pat@example.com", "quinn@example.com"],
        "allow_integrations": True, "default_delivery": "token",
        "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
    assert st == 201, obj
    return tok


def buttons(msg):
    """The (action_id, value) pairs of a message's buttons."""
    out = []
    for b in msg.get("blocks") or []:
        if b.get("type") == "actions":
            for e in b.get("elements", []):
                if e.get("type") == "button" and "action_id" in e:
                    out.append((e["action_id"], e.get("value")))
    return out


class Base(unittest.TestCase):
    extra = ["--notify-interval", "1", "--upstream-timeout", "2",
             "--upstream-attempts", "3"]
    configure = True

    def setUp(self):
        self.slack = SlackFake(users=SLACK_IDS.values()).start()
        self.sim = ZendeskSim().start()
        self.srv = Server(extra_args=self.extra).start()
        self.tok = setup_world(self.srv, self.sim)
        if self.configure:
            st, obj, _ = self.put_settings()
            self.assertEqual(st, 200, obj)

    def tearDown(self):
        self.srv.close()
        self.sim.close()
        self.slack.close()

    # -- helpers -----------------------------------------------------------

    def put_settings(self, token=None, **over):
        body = {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET,
                "api_base_url": self.slack.api_url,
                "webhook_url": self.slack.webhook_url}
        body.update(over)
        kw = {} if token is None else {"token": token}
        return self.srv.request("PUT", "/v1/settings/slack", body, **kw)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def file(self, who="rick@example.com", **over):
        body = {"instance": "global", "kind": "api_token",
                "justification": "export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        body.update(over)
        st, r, _ = self.as_(who, "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        return r

    def manager_approves(self, rid):
        st, r, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % rid, {})
        self.assertEqual(st, 200, r)
        return r

    def request(self, rid):
        st, r, _ = self.srv.request("GET", "/v1/requests/" + rid)
        self.assertEqual(st, 200, r)
        return r

    def wait_for(self, pred, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for %s; slack calls: %s\nlog: %s"
                  % (what, json.dumps(self.slack.calls())[-3000:],
                     self.srv.log()[-3000:]))

    def dms(self, email, kind_word=None):
        return [m for m in self.slack.messages(SLACK_IDS[email])
                if kind_word is None or kind_word in (m["text"] or "")]

    def wait_dm(self, email, pred=lambda m: True, what="a DM"):
        return self.wait_for(
            lambda: [m for m in self.dms(email) if pred(m)],
            "%s to %s" % (what, email))

    def click(self, user, action, rid, response_id="r1", ts=None,
              secret=SIGNING_SECRET, headers=None, body=None):
        """POST a signed block_actions callback; (status, json)."""
        if body is None:
            body = block_actions_body(user, action, rid,
                                      self.slack.response_url(response_id))
        hdrs = signed_headers(body, ts=ts, secret=secret)
        if headers is not None:
            hdrs = headers
        st, obj, _ = self.srv.request("POST", "/v1/slack/interactions",
                                      token=None, raw=body,
                                      content_type=FORM, headers=hdrs)
        return st, obj

    def history(self, rid):
        return self.request(rid)["history"]


class Messages(Base):
    def test_request_created_dm_to_manager_with_buttons(self):
        r = self.file()
        [m] = self.wait_dm("maria@example.com")
        self.assertIn(("approve", r["id"]), buttons(m))
        self.assertIn(("deny", r["id"]), buttons(m))
        self.assertIn("rick@example.com", m["text"])
        self.assertIn(r["id"], m["text"])       # names the request
        self.assertTrue(m["channel"].startswith("D"))
        # the requester and the provisioners hear nothing yet
        time.sleep(1.5)
        self.assertEqual(self.dms("rick@example.com"), [])
        self.assertEqual(self.dms("pat@example.com"), [])
        # every call carried the bot token and JSON
        for c in self.slack.calls("/api/"):
            self.assertEqual(c["authorization"], "Bearer " + BOT_TOKEN)
            self.assertTrue(c["content_type"].startswith(
                "application/json"), c["content_type"])

    def test_withdrawal_tells_whoever_was_asked(self):
        r = self.file()
        self.wait_dm("maria@example.com")
        st, _ = self.as_("rick@example.com", "POST",
                         "/v1/requests/%s/withdraw" % r["id"], {})[:2]
        self.assertEqual(st, 200)
        [m] = self.wait_dm("maria@example.com",
                           lambda m: "withdrew" in m["text"])
        self.assertIn(r["id"], m["text"])
        self.assertEqual(buttons(m), [])
        # after the manager's approval, the reviewers are told instead
        r = self.file()
        self.manager_approves(r["id"])
        self.wait_dm("pat@example.com", lambda m: r["id"] in m["text"])
        self.as_("rick@example.com", "POST",
                 "/v1/requests/%s/withdraw" % r["id"], {})
        for who in ("pat@example.com", "quinn@example.com"):
            self.wait_dm(who, lambda m: "withdrew" in m["text"] and
                         r["id"] in m["text"])

    def test_manager_approval_dms_each_provisioner_once(self):
        r = self.file()
        self.manager_approves(r["id"])
        for who in ("pat@example.com", "quinn@example.com"):
            [m] = self.wait_dm(who)
            self.assertIn(("approve", r["id"]), buttons(m))
            self.assertIn(("deny", r["id"]), buttons(m))
        time.sleep(2)     # a few more flushes: still one each
        self.assertEqual(len(self.dms("pat@example.com")), 1)
        self.assertEqual(len(self.dms("quinn@example.com")), 1)
        self.assertEqual(len(self.dms("maria@example.com")), 1)

    def test_issued_dm_has_reveal_link_and_no_secret_anywhere(self):
        r = self.file()
        # the manager approves from Slack: a response_url update too
        st, ack = self.click("UMARIA", "approve", r["id"], "m1")
        self.assertEqual(st, 200, ack)
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r2)
        self.assertEqual(r2["state"], "issued")
        cid = r2["credential_id"]
        [m] = self.wait_dm("rick@example.com")
        self.assertIn(cid, m["text"])
        self.assertIn("reveal", m["text"].lower())
        self.assertIn("/credentials/" + cid, m["text"])
        self.wait_for(self.slack.webhook_posts, "the channel record")
        self.wait_for(self.slack.responses, "the message update")
        st, sec, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 200, sec)
        secret = sec["secret"]
        self.assertTrue(len(secret) >= 16)
        time.sleep(1.5)   # whatever else was queued has gone out
        for msg in self.slack.messages():
            self.assertNotIn(secret, json.dumps(msg))
        for post in self.slack.webhook_posts():
            self.assertNotIn(secret, json.dumps(post))
        for post in self.slack.responses():
            self.assertNotIn(secret, json.dumps(post))
        self.assertNotIn(secret, self.slack.record())
        self.assertNotIn(BOT_TOKEN, self.srv.log())

    def test_broker_secret_and_access_tokens_leak_nowhere(self):
        """The client secret keywarden keeps for a broker credential, and
        the access tokens it dispenses, appear in no answer (but the
        dispensing itself), log, audit event, stored byte or chat."""
        proxy = RecordingProxy(self.sim)
        self.addCleanup(proxy.close)
        st, inst, _ = self.srv.request("POST", "/v1/instances", {
            "name": "proxied", "url": proxy.url, "issuance": "automatic",
            "provisioners": ["pat@example.com", "quinn@example.com"],
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, inst)
        r = self.file(instance="proxied", delivery="broker")
        self.manager_approves(r["id"])
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, r2["state"]), (200, "issued"), r2)
        cid = r2["credential_id"]
        [created] = [json.loads(a[3]) for a in proxy.answers()
                     if a[0] == "POST" and a[1] == "/api/v2/oauth/clients"]
        secret = created["client"]["secret"]
        self.assertTrue(len(secret) >= 16)
        [m] = self.wait_dm("rick@example.com")
        self.assertIn("keywarden credential token " + cid, m["text"])
        self.assertNotIn("reveal", m["text"].lower())
        answers = [r2]
        tokens = []
        for ttl in (300, 600):
            st, a, _ = self.as_("rick@example.com", "POST",
                                "/v1/credentials/%s/access-token" % cid,
                                {"ttl_seconds": ttl})
            self.assertEqual(st, 201, a)
            tokens.append(a["access_token"])
        st, bt, _ = self.as_("rick@example.com", "POST",
                             "/v1/credentials/%s/bound-tokens" % cid,
                             {"label": "scan"})
        self.assertEqual(st, 201, bt)
        r = self.srv.cli("credential", "token", cid, "--server",
                         self.srv.url, env={"KEYWARDEN_TOKEN": bt["token"]})
        self.assertEqual(r.returncode, 0, r.stderr)
        tokens.append(r.stdout.strip())
        self.assertNotIn(secret, r.stdout + r.stderr)
        st, rot, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/rotate" % cid, {})
        self.assertEqual(st, 201, rot)
        [regen] = [json.loads(a[3]) for a in proxy.answers()
                   if a[1].endswith("/generate_secret")]
        secret2 = regen["client"]["secret"]
        for path in ("/v1/credentials/" + cid, "/v1/credentials",
                     "/v1/requests/" + r2["id"], "/v1/instances/proxied",
                     "/v1/credentials/%s/bound-tokens" % cid,
                     "/v1/reports/migration", "/v1/audit?limit=500"):
            st, a, _ = self.srv.request("GET", path)
            self.assertEqual(st, 200, (path, a))
            answers.append(a)
        st, rev, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/reveal" % cid)
        self.assertEqual(st, 409)
        answers += [rev, rot]
        st, gone, _ = self.as_("rick@example.com", "POST",
                               "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 200, gone)
        answers.append(gone)
        time.sleep(1.5)   # whatever else was queued has gone out
        chat = (json.dumps(self.slack.messages()) +
                json.dumps(self.slack.webhook_posts()) +
                json.dumps(self.slack.responses()) + self.slack.record())
        stored = b""
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    stored += fh.read()
        for needle in [secret, secret2] + tokens:
            self.assertNotIn(needle, json.dumps(answers))
            self.assertNotIn(needle, self.srv.log())
            self.assertNotIn(needle, chat)
            self.assertNotIn(needle.encode(), stored)

    def test_denied_dm_to_requester(self):
        r = self.file()
        st, d, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/deny" % r["id"],
                            {"comment": "use the reporting API instead"})
        self.assertEqual(st, 200, d)
        [m] = self.wait_dm("rick@example.com")
        self.assertIn("denied", m["text"])
        self.assertIn(r["id"], m["text"])
        self.assertEqual(buttons(m), [])


class FromSlack(Base):
    def test_signed_approve_by_manager_moves_the_request_on(self):
        r = self.file()
        st, ack = self.click("UMARIA", "approve", r["id"], "a1")
        self.assertEqual(st, 200, ack)
        self.assertEqual(ack["response_type"], "ephemeral")
        self.assertIn("Approved by maria@example.com", ack["text"])
        got = self.request(r["id"])
        self.assertEqual(got["state"], "pending_provisioner")
        last = got["history"][-1]
        self.assertEqual((last["actor"], last["action"], last["comment"]),
                         ("maria@example.com", "approved",
                          "approved from Slack"))
        [resp] = self.wait_for(self.slack.responses, "the message update")
        self.assertEqual(resp["id"], "a1")
        self.assertIs(resp["body"]["replace_original"], True)
        self.assertIn("Approved by maria@example.com", resp["body"]["text"])
        # and the provisioners are told, as after an API approval
        self.wait_dm("pat@example.com")
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        ev = [e for e in page["items"] if e["action"] == "request.approve"]
        self.assertEqual(ev[-1]["actor"], "maria@example.com")

    def test_signed_deny_records_the_comment(self):
        r = self.file()
        st, ack = self.click("UMARIA", "deny", r["id"], "d1")
        self.assertEqual(st, 200, ack)
        self.assertIn("Denied by maria@example.com", ack["text"])
        got = self.request(r["id"])
        self.assertEqual(got["state"], "denied")
        self.assertEqual(got["history"][-1]["comment"], "denied from Slack")
        [resp] = self.wait_for(self.slack.responses, "the message update")
        self.assertIn("Denied by maria@example.com", resp["body"]["text"])
        self.wait_dm("rick@example.com", lambda m: "denied" in m["text"])

    def assert_unchanged(self, rid, history, audit_n):
        got = self.request(rid)
        self.assertEqual(got["state"], "pending_manager")
        self.assertEqual(got["history"], history)
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(len(page["items"]), audit_n)

    def audit_count(self):
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        return len(page["items"])

    def test_bad_stale_missing_and_replayed_signatures_get_401(self):
        r = self.file()
        rid = r["id"]
        hist = self.history(rid)
        body = block_actions_body("UMARIA", "approve", rid,
                                  self.slack.response_url("x"))
        now = int(time.time())
        cases = {
            "wrong secret": signed_headers(body, secret="not-the-secret"),
            "stale": signed_headers(body, ts=now - 301 - 5),
            "future": signed_headers(body, ts=now + 301 + 5),
            "missing signature": {"X-Slack-Request-Timestamp": str(now)},
            "missing timestamp": {"X-Slack-Signature": sign(
                SIGNING_SECRET, body, now)},
            "other body": signed_headers(body + b"&x=1"),
            "bad format": {"X-Slack-Request-Timestamp": str(now),
                           "X-Slack-Signature": "v1=" + sign(
                               SIGNING_SECRET, body, now)[3:]},
        }
        n = self.audit_count()
        for name, hdrs in cases.items():
            with self.subTest(name):
                st, obj = self.click("UMARIA", "approve", rid, body=body,
                                     headers=hdrs)
                self.assertEqual(st, 401, obj)
                self.assertEqual(obj["error"]["code"], "unauthenticated")
                self.assert_unchanged(rid, hist, n)
        # no header at all
        st, obj, _ = self.srv.request("POST", "/v1/slack/interactions",
                                      token=None, raw=body, content_type=FORM)
        self.assertEqual(st, 401, obj)
        self.assert_unchanged(rid, hist, n)
        time.sleep(1.5)
        self.assertEqual(self.slack.responses(), [])

    def test_replayed_click_is_refused(self):
        r = self.file()
        body = block_actions_body("UMARIA", "deny", r["id"],
                                  self.slack.response_url("x"))
        hdrs = signed_headers(body)
        st, obj = self.click("UMARIA", "deny", r["id"], body=body,
                             headers=hdrs)
        self.assertEqual(st, 200, obj)
        hist = self.history(r["id"])
        n = self.audit_count()
        st, obj = self.click("UMARIA", "deny", r["id"], body=body,
                             headers=hdrs)
        self.assertEqual(st, 401, obj)
        self.assertEqual(obj["error"]["code"], "unauthenticated")
        self.assertEqual(self.history(r["id"]), hist)
        self.assertEqual(self.audit_count(), n)

    def test_requester_cannot_approve_own_request_from_slack(self):
        # rick is not his own manager
        r = self.file()
        st, ack = self.click("URICK", "approve", r["id"], "s1")
        self.assertEqual(st, 200, ack)
        self.assertIn("manager", ack["text"])
        self.assertNotIn("Approved by", ack["text"])
        self.assertEqual(self.request(r["id"])["state"], "pending_manager")
        # pat is a provisioner, but not of his own request
        r = self.file(who="pat@example.com")
        self.manager_approves(r["id"])
        hist = self.history(r["id"])
        st, ack = self.click("UPAT", "approve", r["id"], "s2")
        self.assertEqual(st, 200, ack)
        self.assertEqual(ack["response_type"], "ephemeral")
        self.assertIn("neither the requester", ack["text"])
        got = self.request(r["id"])
        self.assertEqual(got["state"], "pending_provisioner")
        self.assertEqual(got["history"], hist)
        self.assertEqual(self.sim.state()["tokens"], [])

    def test_integration_cannot_be_approved_from_slack(self):
        r = self.file(kind="integration", scopes=[], integration={
            "name": "Reporting app", "client_kind": "confidential",
            "redirect_uris": ["https://app.example.com/cb"]})
        self.manager_approves(r["id"])
        st, ack = self.click("UPAT", "approve", r["id"], "i1")
        self.assertEqual(st, 200, ack)
        self.assertIn("acknowledge_risk", ack["text"])
        self.assertIn("cannot be approved from Slack", ack["text"])
        self.assertEqual(self.request(r["id"])["state"],
                         "pending_provisioner")
        # denying it from Slack works
        st, ack = self.click("UPAT", "deny", r["id"], "i2")
        self.assertEqual(st, 200, ack)
        self.assertEqual(self.request(r["id"])["state"], "denied")

    def test_unknown_slack_user_gets_a_polite_refusal(self):
        r = self.file()
        hist = self.history(r["id"])
        st, ack = self.click("UNOBODY1", "approve", r["id"], "u1")
        self.assertEqual(st, 200, ack)
        self.assertEqual(ack, {"response_type": "ephemeral",
                               "text": UNKNOWN_USER_TEXT})
        self.assertEqual(self.history(r["id"]), hist)
        time.sleep(1.5)
        self.assertEqual(self.slack.responses(), [])

    def test_response_url_outside_slack_is_not_called(self):
        r = self.file()
        body = block_actions_body("UMARIA", "approve", r["id"],
                                  "https://evil.example/actions/1")
        st, ack = self.click("UMARIA", "approve", r["id"], body=body)
        self.assertEqual(st, 200, ack)
        self.assertEqual(self.request(r["id"])["state"],
                         "pending_provisioner")
        self.wait_dm("pat@example.com")
        self.assertEqual(self.slack.responses(), [])

    def test_link_button_click_is_acknowledged_without_effect(self):
        r = self.file()
        body = block_actions_body("UMARIA", "open", None)
        st, obj = self.click("UMARIA", "open", r["id"], body=body)
        self.assertEqual((st, obj), (200, {}))
        self.assertEqual(self.request(r["id"])["state"], "pending_manager")


class DeferredIssuance(Base):
    # a provisioner's approval from Slack leaves the minting to the
    # background thread (Slack wants its answer within 3 s)
    extra = Base.extra + ["--reconcile-interval", "1"]

    def test_provisioner_approves_from_slack_and_issuance_follows(self):
        r = self.file()
        self.manager_approves(r["id"])
        st, ack = self.click("UPAT", "approve", r["id"], "p1")
        self.assertEqual(st, 200, ack)
        self.assertIn("Approved by pat@example.com", ack["text"])
        # issuance is deferred to the background thread
        self.assertIn(self.request(r["id"])["state"], ("issuing", "issued"))
        self.wait_for(lambda: self.request(r["id"])["state"] == "issued",
                      "the deferred issuance", timeout=30)
        self.wait_dm("rick@example.com", lambda m: "ready" in m["text"] or
                     r["id"] in m["text"])


class Trouble(Base):
    def test_outage_delays_messages_and_loses_none(self):
        self.slack.outage(10000)
        rids = [self.file(justification="zebra-export-%d" % i)["id"]
                for i in range(3)]
        # keywarden tried and failed; nothing arrived
        self.wait_for(lambda: len(self.slack.calls("/api/")) >= 1,
                      "a delivery attempt")
        time.sleep(1.5)
        self.assertEqual(self.slack.messages(), [])
        self.slack.clear()
        # the retries are due in 30 s; run the jobs as if it were later
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 7200))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", later)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.wait_for(lambda: len(self.dms("maria@example.com")) >= 3,
                      "the delayed DMs")
        time.sleep(1.5)
        got = sorted(v for m in self.dms("maria@example.com")
                     for a, v in buttons(m) if a == "approve")
        self.assertEqual(got, sorted(rids))     # each once, none lost
        # the failures were logged, the messages' texts never
        self.assertIn("503", self.srv.log())
        self.assertNotIn("zebra-export", self.srv.log())
        self.assertNotIn("zebra-export", out.stdout + out.stderr)

    def test_rate_limit_retry_after_is_honoured(self):
        self.slack.rate_limit(1, retry_after=4)
        self.file()
        self.wait_for(lambda: [c for c in self.slack.calls("/api/")
                               if c["status"] == 429], "the 429")
        # a message queued during the wait waits too
        self.file(who="sam@example.com")
        self.wait_for(lambda: len(self.dms("maria@example.com")) == 2,
                      "both DMs")
        calls = self.slack.calls("/api/")
        first = [c for c in calls if c["status"] == 429][0]["at"]
        after = [c["at"] for c in calls if c["status"] == 200]
        # seconds granularity: about 4 s later, not the 30 s backoff
        self.assertGreaterEqual(min(after) - first, 2.5)
        self.assertLess(min(after) - first, 12.0)

    def test_api_is_not_slowed_by_a_slack_outage(self):
        self.slack.hang(20, n=1000)
        t0 = time.monotonic()
        r = self.file()
        self.assertLess(time.monotonic() - t0, 2.0)
        self.wait_for(lambda: self.slack.calls("/api/") or
                      self.slack._hang[0] < 1000, "a hanging call")
        t0 = time.monotonic()
        self.manager_approves(r["id"])
        self.file()
        self.assertLess(time.monotonic() - t0, 2.0)
        self.slack.clear()
        self.slack.outage(10000)
        t0 = time.monotonic()
        st, ack = self.click("UMARIA", "deny", self.file()["id"])
        self.assertEqual(st, 200, ack)
        self.assertLess(time.monotonic() - t0, 2.0)


@sqlite_store
class Settings(Base):
    configure = False

    def test_not_configured(self):
        st, obj, _ = self.srv.request("GET", "/v1/settings/slack")
        self.assertEqual(st, 404, obj)
        r = self.file()
        st, obj = self.click("UMARIA", "approve", r["id"])
        self.assertEqual(st, 401, obj)
        self.assertEqual(self.request(r["id"])["state"], "pending_manager")
        time.sleep(1.5)
        self.assertEqual(self.slack.calls(), [])

    def test_put_and_get_never_return_the_secrets(self):
        st, obj, _ = self.put_settings()
        self.assertEqual(st, 200, obj)
        raw = self.srv.last_raw.decode()
        self.assertEqual(obj["api_base_url"], self.slack.api_url)
        self.assertTrue(obj["webhook_set"])
        self.assertNotIn("webhook_url", obj)
        self.assertIs(obj["bot_token_set"], True)
        self.assertIs(obj["signing_secret_set"], True)
        self.assertTrue(obj["updated_at"].endswith("Z"))
        self.assertNotIn(BOT_TOKEN, raw)
        self.assertNotIn(SIGNING_SECRET, raw)
        st, got, _ = self.srv.request("GET", "/v1/settings/slack")
        self.assertEqual(st, 200, got)
        self.assertEqual(got, obj)
        raw = self.srv.last_raw.decode()
        self.assertNotIn(BOT_TOKEN, raw)
        self.assertNotIn(SIGNING_SECRET, raw)
        # the audit says what changed, with fingerprints only
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        [ev] = [e for e in page["items"] if e["action"] == "settings.slack"]
        self.assertEqual(ev["actor"], "admin@example.com")
        self.assertTrue(ev["details"]["bot_token_fingerprint"].startswith(
            "fp_"))
        self.assertIs(ev["details"]["webhook_set"], True)
        text = json.dumps(page)
        self.assertNotIn(BOT_TOKEN, text)
        self.assertNotIn(SIGNING_SECRET, text)
        # sealed at rest, never logged
        for root, _, files in os.walk(self.srv.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                self.assertNotIn(BOT_TOKEN.encode(), data, f)
                self.assertNotIn(SIGNING_SECRET.encode(), data, f)
        self.assertNotIn(BOT_TOKEN, self.srv.log())
        self.assertNotIn(SIGNING_SECRET, self.srv.log())
        # the default API base and no webhook
        st, obj, _ = self.put_settings(api_base_url=None, webhook_url=None)
        self.assertEqual(st, 200, obj)
        self.assertEqual(obj["api_base_url"], "https://slack.com/api")
        self.assertFalse(obj["webhook_set"])

    def test_only_admins(self):
        for who in ("maria@example.com", "rick@example.com"):
            st, obj, _ = self.put_settings(token=self.tok[who])
            self.assertEqual(st, 403, obj)
            st, obj, _ = self.srv.request("GET", "/v1/settings/slack",
                                          token=self.tok[who])
            self.assertEqual(st, 403, obj)
        st, obj, _ = self.srv.request("GET", "/v1/settings/slack",
                                      token=None)
        self.assertEqual(st, 401, obj)
        st, obj, _ = self.srv.request("GET", "/v1/settings/slack")
        self.assertEqual(st, 404, obj)

    def test_validation(self):
        bad = [
            {"bot_token": "xoxp-user-token"},
            {"bot_token": ""},
            {"signing_secret": ""},
            {"api_base_url": "http://slack.example.com/api"},
            {"api_base_url": "ftp://slack.example.com/api"},
            {"webhook_url": "http://hooks.example.com/services/x"},
            {"extra": 1},
        ]
        for over in bad:
            with self.subTest(over):
                st, obj, _ = self.put_settings(**over)
                self.assertEqual(st, 400, obj)
                self.assertNotIn(BOT_TOKEN, self.srv.last_raw.decode())
        st, obj, _ = self.srv.request("PUT", "/v1/settings/slack",
                                      {"signing_secret": "x"})
        self.assertEqual(st, 400, obj)
        self.assertEqual(obj["error"]["details"]["field"], "bot_token")
        st, obj, _ = self.srv.request("GET", "/v1/settings/slack")
        self.assertEqual(st, 404, obj)

    def test_messages_wait_for_the_settings(self):
        # without settings nothing is queued or sent ...
        self.file()
        time.sleep(1.5)
        self.assertEqual(self.slack.calls(), [])
        # ... with them, new events are
        st, obj, _ = self.put_settings()
        self.assertEqual(st, 200, obj)
        r = self.file()
        [m] = self.wait_dm("maria@example.com")
        self.assertIn(("approve", r["id"]), buttons(m))

    def test_wrong_bot_token_is_retried_not_lost(self):
        st, obj, _ = self.put_settings(bot_token="xoxb-wrong")
        self.assertEqual(st, 200, obj)
        self.file()
        self.wait_for(lambda: self.slack.calls("/api/"), "an attempt")
        time.sleep(1.5)
        self.assertEqual(self.slack.messages(), [])
        self.assertIn("invalid_auth", self.srv.log())
        st, obj, _ = self.put_settings()
        self.assertEqual(st, 200, obj)
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 7200))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", later)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.wait_dm("maria@example.com")
        self.assertNotIn("xoxb-wrong", self.srv.log())


def files_containing(top, needle):
    """Paths of the files under top (the database, its WAL, logs ...)
    whose bytes contain needle."""
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


def outbox_rows(where):
    """The outbox, read straight from the database (read-only); where is
    a Server (SQLite or PostgreSQL) or a SQLite data directory."""
    if not isinstance(where, str):
        if where.store_url:
            [(text,)] = store_rows(where, "SELECT coalesce(json_agg(o "
                                          "ORDER BY seq), '[]') FROM outbox o")
            return json.loads(text)
        where = where.data_dir
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        where, "keywarden.db"), uri=True, timeout=10)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(
            "SELECT * FROM outbox ORDER BY seq")]
    finally:
        db.close()


def section_texts(msg):
    return [b["text"]["text"] for b in msg.get("blocks") or []
            if b.get("type") == "section"]


class RunningAhead(Base):
    """`keywarden jobs run --now LATER` beside a running server (an
    operator's catch-up run; the tests' way past a backoff): what is due
    is judged at LATER, but a message the server has claimed and is
    sending stays the server's, because leases are on the real clock."""

    def test_a_message_being_sent_is_not_sent_again(self):
        self.slack.hang(4, n=1)     # under Slack's 5 s timeout
        r = self.file()
        # the server has claimed the manager's DM and is stuck sending it
        self.wait_for(lambda: self.slack.hangs_left() == 0,
                      "the server's attempt")
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 7200))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", later)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["notifications"]["sent"], 0,
                         out.stdout)

        def about_it():
            return [m for m in self.dms("maria@example.com")
                    if r["id"] in json.dumps(m)]
        self.wait_for(about_it, "the DM")
        time.sleep(2)
        self.assertEqual(len(about_it()), 1)


@sqlite_store
class WebhookSecret(Base):
    def issue(self):
        r = self.file()
        self.manager_approves(r["id"])
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r2)
        self.assertEqual(r2["state"], "issued")
        return r2["credential_id"]

    def test_webhook_url_is_in_no_data_dir_file(self):
        cid = self.issue()
        st, obj, _ = self.as_("rick@example.com", "POST",
                              "/v1/credentials/%s/revoke" % cid,
                              {"reason": "no longer needed"})
        self.assertEqual(st, 200, obj)
        # both channel records still arrive, at the configured webhook
        posts = self.wait_for(
            lambda: len(self.slack.webhook_posts()) >= 2 and
            self.slack.webhook_posts(), "the two channel records")
        texts = [p["body"]["text"] for p in posts]
        self.assertTrue(any("issued " + cid in t for t in texts), texts)
        self.assertTrue(any("revoked " + cid in t for t in texts), texts)
        for p in posts:
            self.assertEqual(p["path"], "/services/T0001/B0001/XXXXXXXX")
        # the URL is sealed in the settings and nowhere else: not in the
        # outbox (the database or its WAL), not in the log
        def sent_hooks():
            h = [r for r in outbox_rows(self.srv.data_dir)
                 if r["channel"] == "webhook" and r["sent_at"]]
            return len(h) == 2 and h
        hooks = self.wait_for(sent_hooks, "the records marked sent")
        for r in hooks:
            self.assertEqual(r["recipient"], "webhook")
            self.assertIsNotNone(r["sent_at"])
        for needle in (self.slack.webhook_url, "B0001/XXXXXXXX"):
            self.assertEqual(files_containing(self.srv.data_dir,
                                              needle.encode()), [], needle)
            self.assertNotIn(needle, self.srv.log())

    def test_a_removed_webhook_fails_its_queued_records(self):
        self.slack.outage(10000)
        self.issue()
        self.wait_for(lambda: self.slack.calls(), "a delivery attempt")
        st, obj, _ = self.put_settings(webhook_url=None)
        self.assertEqual(st, 200, obj)
        self.slack.clear()
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 7200))
        out = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                           "--now", later)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.wait_dm("rick@example.com", lambda m: "ready" in m["text"])
        [hook] = [r for r in outbox_rows(self.srv.data_dir)
                  if r["channel"] == "webhook"]
        self.assertIsNotNone(hook["failed_at"])
        self.assertIn("no channel webhook", hook["last_error"])
        self.assertEqual(self.slack.webhook_posts(), [])


class Markup(Base):
    EVIL = ("<!here> urgent, see <https://evil.example|Open in keywarden> "
            "& <@U0BOSS>")
    SAFE = ("&lt;!here&gt; urgent, see &lt;https://evil.example|Open in "
            "keywarden&gt; &amp; &lt;@U0BOSS&gt;")

    def assert_inert(self, msg):
        blob = json.dumps(msg)
        for live in ("<!here>", "<https://evil.example", "<@U0BOSS>"):
            self.assertNotIn(live, blob)

    def test_user_text_reaches_slack_escaped(self):
        r = self.file(justification=self.EVIL, use_case="ops " + self.EVIL)
        [m] = self.wait_dm("maria@example.com")
        self.assert_inert(m)
        self.assertIn("*Why:* " + self.SAFE, m["text"])
        self.assertIn("*Use:* ops " + self.SAFE, m["text"])
        self.assertIn("*Why:* " + self.SAFE, section_texts(m))
        # the buttons still carry the request id
        self.assertIn(("approve", r["id"]), buttons(m))
        st, d, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/deny" % r["id"],
                            {"comment": "no <!channel> & <#C0|general>"})
        self.assertEqual(st, 200, d)
        [m] = self.wait_dm("rick@example.com")
        self.assertIn("no &lt;!channel&gt; &amp; &lt;#C0|general&gt;",
                      m["text"])
        self.assertNotIn("<!channel>", json.dumps(m))

    def test_button_answers_escape_what_the_click_carried(self):
        st, ack = self.click("UMARIA", "approve", "<!here>", "e1")
        self.assertEqual(st, 200, ack)
        self.assertIn("Not approved", ack["text"])
        self.assertIn("/requests/&lt;!here&gt;", ack["text"])
        self.assertNotIn("<!here>", ack["text"])
        [resp] = self.wait_for(self.slack.responses, "the message update")
        self.assertNotIn("<!here>", json.dumps(resp))

    def test_revocation_reason_reaches_the_channel_escaped(self):
        r = self.file()
        self.manager_approves(r["id"])
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200, r2)
        st, obj, _ = self.srv.request(
            "POST", "/v1/credentials/%s/revoke" % r2["credential_id"],
            {"reason": self.EVIL})
        self.assertEqual(st, 200, obj)
        posts = self.wait_for(
            lambda: [p for p in self.slack.webhook_posts()
                     if "revoked" in p["body"]["text"]], "the record")
        self.assertIn(self.SAFE, posts[0]["body"]["text"])
        self.assert_inert(posts[0])


class Sizes(Base):
    def test_multibyte_justification_at_the_limit(self):
        # 4000 bytes (the limit); the message shows 1000 of them, which
        # fall in the middle of a 3-byte character
        text = "\u20ac" * 1333 + "a"
        self.assertEqual(len(text.encode()), 4000)
        r = self.file(justification=text, use_case=text)
        self.assertEqual(r["justification"], text)
        [m] = self.wait_dm("maria@example.com")
        why = [t for t in section_texts(m) if t.startswith("*Why:*")][0]
        self.assertEqual(why, "*Why:* " + "\u20ac" * 333 + "\u2026")
        self.assertIn(("approve", r["id"]), buttons(m))
        self.assertIsNone(block_error(m))

    def test_long_escaped_text_fits_a_section(self):
        # 1000 shown bytes of '<' escape to 4000 characters: cut to fit
        r = self.file(justification="<" * 4000)
        [m] = self.wait_dm("maria@example.com")
        self.assertIsNone(block_error(m))
        for t in section_texts(m):
            self.assertLessEqual(len(t), MAX_SECTION_TEXT)
        why = [t for t in section_texts(m) if t.startswith("*Why:*")][0]
        self.assertTrue(why.endswith("&lt;\u2026"), why[-20:])
        self.assertIn(("approve", r["id"]), buttons(m))


@sqlite_store
class PermanentErrors(Base):
    def test_user_not_found_fails_once_and_is_not_retried(self):
        make_person(self.srv, "ghost@example.com", name="Ghost",
                    slack_user_id="UGHOST")
        make_person(self.srv, "newbie@example.com", name="Newbie",
                    manager="ghost@example.com")
        tok = token_for(self.srv, "newbie@example.com")
        st, r, _ = self.srv.request("POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "export", "use_case": "reporting",
            "scopes": ["tickets:read"], "lifetime_days": 30}, token=tok)
        self.assertEqual(st, 201, r)

        def ghost_calls():
            return [c for c in self.slack.calls("/api/conversations.open")
                    if "UGHOST" in c["body"]]
        self.wait_for(ghost_calls, "the attempt")
        self.wait_for(lambda: [x for x in outbox_rows(self.srv.data_dir)
                               if x["failed_at"]], "the failure")
        for h in (2, 5, 30):
            later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                  time.gmtime(time.time() + h * 3600))
            out = self.srv.cli("jobs", "run", "--data-dir",
                               self.srv.data_dir, "--now", later)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["notifications"]
                             ["pending"], 0, out.stdout)
        time.sleep(1.5)
        self.assertEqual(len(ghost_calls()), 1)
        [row] = outbox_rows(self.srv.data_dir)
        self.assertEqual(row["attempts"], 1)
        self.assertIsNotNone(row["failed_at"])
        self.assertIsNone(row["sent_at"])
        self.assertIn("user_not_found", row["last_error"])
        self.assertIn("failed for good", self.srv.log())
        # the API is not held: the next DM goes out at once
        self.file()
        self.wait_dm("maria@example.com")


@sqlite_store
class LegacyWarnings(Base):
    NOW = "2026-11-01T00:00:00Z"

    def setUp(self):
        self.slack = SlackFake(users=SLACK_IDS.values()).start()
        self.sim = ZendeskSim(now=self.NOW).start()
        self.srv = Server(extra_args=self.extra,
                          env={"KEYWARDEN_FAKE_NOW": self.NOW}).start()
        self.tok = setup_world(self.srv, self.sim)
        st, obj, _ = self.put_settings()
        self.assertEqual(st, 200, obj)

    def test_sixty_tokens_arrive_as_one_valid_message(self):
        n = 63
        for i in range(n):
            self.sim.seed_legacy(description="<!here> zap %02d" % i,
                                 created_at="2026-09-01T00:00:00Z",
                                 last_used="2026-10-12T00:00:00Z")
        st, out, _ = self.srv.request("POST", "/v1/instances/global/sync",
                                      {})
        self.assertEqual(st, 200, out)
        self.assertEqual(out["legacy_tokens"], n)
        r = self.srv.cli("jobs", "run", "--data-dir", self.srv.data_dir,
                         "--now", self.NOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for who in ("pat@example.com", "quinn@example.com"):
            [m] = self.wait_dm(who, lambda m: "legacy" in m["text"],
                               "the legacy warning")
            self.assertIsNone(block_error(m))
            self.assertLessEqual(len(m["blocks"]), MAX_BLOCKS)
            texts = section_texts(m)
            # the SaaS named by the instance's provider
            self.assertIn("%d legacy Zendesk API tokens" % n, texts[0])
            shown = [t for t in texts if "zap " in t]
            self.assertEqual(len(shown), MAX_BLOCKS - 2)
            self.assertIn("and %d more" % (n - len(shown)), texts[-1])
            self.assertIn("migration", texts[-1])
            self.assertNotIn("<!here>", json.dumps(m))
            self.assertIn("&lt;!here&gt; zap 00", shown[0])
        rows = outbox_rows(self.srv.data_dir)
        self.assertTrue(all(x["sent_at"] for x in rows), rows)


@sqlite_store
class WebhookMigration(Base):
    """A data directory from before schema 5 holds the webhook URL in its
    outbox rows: the upgrade rewrites them to the reference, and they are
    still delivered, to the URL in the settings."""

    def downgrade_with_old_row(self):
        db = sqlite3.connect(os.path.join(self.srv.data_dir, "keywarden.db"))
        try:
            self.assertGreaterEqual(
                db.execute("PRAGMA user_version").fetchone()[0], 6)
            # later migrations first: sessions and token expiry
            if db.execute("SELECT 1 FROM sqlite_master WHERE name ="
                          " 'sessions'").fetchone():
                db.executescript(
                    "DROP INDEX tokens_expiry; DROP TABLE sessions;"
                    "ALTER TABLE tokens DROP COLUMN label;"
                    "ALTER TABLE tokens DROP COLUMN expires_at;"
                    "ALTER TABLE tokens DROP COLUMN last_used_at;"
                    "ALTER TABLE tokens DROP COLUMN warned_at;")
            # undo SCIM's, the broker's (6), then 5
            db.executescript(
                "DROP TABLE scim_tokens;"
                "ALTER TABLE people DROP COLUMN external_id;"
                "ALTER TABLE people DROP COLUMN managed_by;"
                "ALTER TABLE people DROP COLUMN scim_deleted_at;"
                "DROP TABLE bound_tokens;"
                "ALTER TABLE requests DROP COLUMN delivery_mode;"
                "ALTER TABLE credentials DROP COLUMN delivery_mode;"
                "ALTER TABLE credentials DROP COLUMN broker_sealed;"
                "ALTER TABLE instances DROP COLUMN default_delivery;"
                "ALTER TABLE instances DROP COLUMN allowed_deliveries;"
                "ALTER TABLE instances DROP COLUMN max_access_ttl;"
                "ALTER TABLE instances DROP COLUMN bot_client_id;"
                "ALTER TABLE instances DROP COLUMN bot_expires_at;"
                "PRAGMA user_version=5;")
            payload = json.dumps({"text": "old record", "blocks": [
                {"type": "section", "text": {"type": "mrkdwn",
                                             "text": "old record"}}]})
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            db.executescript(
                "DROP INDEX outbox_due;"
                "ALTER TABLE outbox DROP COLUMN failed_at;"
                "CREATE INDEX outbox_due ON outbox(sent_at,"
                " next_attempt_at);"
                "PRAGMA user_version=4;")
            db.execute("INSERT INTO outbox (id, channel, recipient, kind,"
                       " payload, created_at, next_attempt_at) VALUES"
                       " ('msg_old1', 'webhook', ?, 'record.issued', ?, ?,"
                       " ?)", (self.slack.webhook_url, payload, now, now))
            db.commit()
        finally:
            db.close()

    def test_old_rows_lose_the_url_and_are_delivered(self):
        self.srv.stop()
        self.downgrade_with_old_row()
        needle = self.slack.webhook_url.encode()
        self.assertNotEqual(files_containing(self.srv.data_dir, needle), [])
        self.srv.start()
        [post] = self.wait_for(self.slack.webhook_posts, "the old record")
        self.assertEqual(post["body"]["text"], "old record")
        self.assertEqual(post["path"], "/services/T0001/B0001/XXXXXXXX")
        self.wait_for(lambda: outbox_rows(self.srv.data_dir)[0]["sent_at"],
                      "the record marked sent")
        self.srv.stop()
        [row] = outbox_rows(self.srv.data_dir)
        self.assertEqual(row["recipient"], "webhook")
        self.assertEqual(files_containing(self.srv.data_dir, needle), [])


if __name__ == "__main__":
    unittest.main()
