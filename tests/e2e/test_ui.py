"""test_ui.py — keywarden's web UI.

WebServing: the HTTP side without a browser — content negotiation of the
links keywarden hands out, the app shell and static files (CSP, caching,
ETag), the audit filters the UI uses.

Browser: starts keywarden and the Zendesk simulator, prepares people,
requests, legacy tokens and 10,000 bulk requests, then runs
tests/ui/run.mjs (playwright-core driving Debian's /usr/bin/chromium, axe
for accessibility).  The script prints one line per check and closes with
"ui: N passed, M failed"; this case fails unless that line says 0 failed.
Screenshots and metrics.json land in build/ui-artifacts/.
scripts/install-deps installs chromium and runs `npm ci` in tests/ui.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest

from harness import (REPO, Server, free_port, http_request, make_person,
                     token_for)
from oidc_support import RealIdP, oidc_config
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

UI_DIR = os.path.join(REPO, "tests", "ui")
ARTIFACTS = os.path.join(REPO, "build", "ui-artifacts")
CHROMIUM = "/usr/bin/chromium"
NODE_TIMEOUT = 600
BULK = int(os.environ.get("KW_UI_BULK_REQUESTS", "10000"))
BULK_THREADS = 4

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "*/*;q=0.8"}


class WebServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def get(self, path, headers=None):
        return http_request(self.srv.url, "GET", path, headers=headers)

    def test_links_open_the_ui_for_browsers_and_json_for_clients(self):
        for path in ("/requests/req_abc", "/credentials/cred_abc", "/"):
            st, _, h, raw = self.get(path, HTML)
            self.assertEqual(st, 200, path)
            self.assertTrue(h["content-type"].startswith("text/html"), path)
            self.assertEqual(h["content-security-policy"], CSP)
            self.assertIn("Accept", h["vary"])
            self.assertIn(b'<script type="module" src="/static/', raw)
            self.assertNotIn(b"<script>", raw)       # nothing inline
            self.assertNotIn(b"style=", raw)
        st, body, h, _ = self.get("/requests/req_abc")
        self.assertEqual(st, 200)
        self.assertEqual(body["api"], "/v1/requests/req_abc")
        self.assertIn("Accept", h["vary"])
        st, body, _, _ = self.get("/credentials/cred_abc",
                                  {"Accept": "application/json"})
        self.assertEqual(body["kind"], "credential")
        # a client preferring JSON to HTML keeps JSON
        st, body, _, _ = self.get("/requests/req_abc", {
            "Accept": "application/json, text/html;q=0.5"})
        self.assertEqual(body["kind"], "request")
        st, body, _, _ = self.get("/requests/req_abc", {
            "Accept": "text/html;q=0, application/json"})
        self.assertEqual(body["kind"], "request")
        st, body, _, _ = self.get("/")
        self.assertEqual((st, body["error"]["code"]), (404, "not_found"))

    def test_static_files_are_cached_for_good_and_revalidated(self):
        _, _, h, raw = self.get("/", HTML)
        m = re.search(rb'src="(/static/([0-9a-f]{16})/app\.js)"', raw)
        self.assertIsNotNone(m)
        path, build = m.group(1).decode(), m.group(2).decode()
        st, _, h, js = self.get(path)
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/javascript"))
        self.assertIn("immutable", h["cache-control"])
        self.assertEqual(h["etag"], '"%s"' % build)
        self.assertIn(b"sessions/current", js)
        st, _, h, raw = self.get(path, {"If-None-Match": '"%s"' % build})
        self.assertEqual(st, 304)
        self.assertEqual(raw, b"")
        st, _, _, _ = self.get("/static/0000000000000000/app.js")
        self.assertEqual(st, 404)
        st, _, _, _ = self.get("/static/%s/nope.js" % build)
        self.assertEqual(st, 404)
        st, _, h, _ = self.get("/", dict(HTML, **{
            "If-None-Match": '"%s"' % build}))
        self.assertEqual(st, 304)
        self.assertEqual(h["cache-control"], "no-cache")

    def test_ui_config_and_secret_answers_stay_no_store(self):
        st, body, h, _ = self.get("/ui/config")
        self.assertEqual(st, 200)
        self.assertIs(body["sso"], False)
        st, _, h = self.srv.request("GET", "/v1/me")
        self.assertEqual(h["cache-control"], "no-store")

    def test_audit_filters(self):
        for e in ("a1@example.com", "a2@example.com"):
            make_person(self.srv, e, name=e)
        st, page, _ = self.srv.request(
            "GET", "/v1/audit?action=person.create&limit=500")
        self.assertEqual(st, 200, page)
        acts = {e["action"] for e in page["items"]}
        self.assertEqual(acts, {"person.create"})
        st, page, _ = self.srv.request("GET", "/v1/audit?action=person.")
        self.assertTrue(page["items"])
        self.assertTrue(all(e["action"].startswith("person.")
                            for e in page["items"]))
        subj = page["items"][-1]["subject"]
        st, page, _ = self.srv.request(
            "GET", "/v1/audit?subject=%s" % subj)
        self.assertTrue(page["items"])
        self.assertTrue(all(e["subject"] == subj for e in page["items"]))
        st, page, _ = self.srv.request(
            "GET", "/v1/audit?since=2999-01-01T00:00:00Z")
        self.assertEqual((st, page["items"], page["next_cursor"]),
                         (200, [], None))
        st, page, _ = self.srv.request(
            "GET", "/v1/audit?action=person.create&limit=1")
        self.assertEqual(len(page["items"]), 1)
        self.assertIsNotNone(page["next_cursor"])
        st, nxt, _ = self.srv.request(
            "GET", "/v1/audit?action=person.create&limit=1&after_seq=%s"
            % page["next_cursor"])
        self.assertEqual(nxt["items"][0]["action"], "person.create")
        self.assertGreater(nxt["items"][0]["seq"], page["items"][0]["seq"])
        st, err, _ = self.srv.request("GET", "/v1/audit?actor=" + "x" * 300)
        self.assertEqual((st, err["error"]["details"]["field"]),
                         (400, "actor"))


def _bulk_file(url, token, n, errors):
    """File n requests as token over one kept-alive connection."""
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"instance": "global", "kind": "api_token",
                       "justification": "bulk", "use_case": "load",
                       "scopes": ["tickets:read"], "lifetime_days": 30})
    try:
        for _ in range(n):
            conn.request("POST", "/v1/requests", body=body, headers={
                "Authorization": "Bearer " + token,
                "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 201:
                errors.append(resp.status)
                return
    finally:
        conn.close()


class Browser(unittest.TestCase):
    def test_every_role_in_a_real_browser(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not installed")
        self.assertTrue(os.path.exists(CHROMIUM),
                        "chromium is missing: run scripts/install-deps")
        self.assertTrue(os.path.isdir(os.path.join(
            UI_DIR, "node_modules", "playwright-core")),
            "tests/ui/node_modules is missing: run scripts/install-deps")
        sim = ZendeskSim().start()
        self.addCleanup(sim.close)
        srv = Server().start()
        self.addCleanup(srv.close)
        cfg = self.prepare(srv, sim)
        cfg["sso_url"], cfg["sso_request"] = self.sso_server()
        os.makedirs(ARTIFACTS, exist_ok=True)
        cfg_path = os.path.join(srv.tmp, "ui.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        run = subprocess.run(
            [node, os.path.join(UI_DIR, "run.mjs")], cwd=UI_DIR,
            env=dict(os.environ, KW_UI_CONFIG=cfg_path),
            stdin=subprocess.DEVNULL, capture_output=True,
            timeout=NODE_TIMEOUT, check=False)
        out = run.stdout.decode("utf-8", "replace")
        print(out)
        self.assertEqual(run.returncode, 0, out[-4000:] +
                         run.stderr.decode("utf-8", "replace")[-3000:])
        m = re.search(r"^ui: (\d+) passed, (\d+) failed$", out, re.M)
        self.assertIsNotNone(m, out[-2000:])
        self.assertEqual(m.group(2), "0")
        self.assertGreaterEqual(int(m.group(1)), 15)
        # the one-time secret never reached the server's log
        with open(os.path.join(ARTIFACTS, "metrics.json")) as f:
            metrics = json.load(f)
        self.assertIn("list_10k", metrics)

    def sso_server(self):
        """A second keywarden signing in through a real OpenID Provider
        (tests/oidc/idp.js), with Rick's request filed on it; returns
        (url, request id)."""
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        idp = RealIdP([url + "/auth/callback"]).start()
        self.addCleanup(idp.close)
        d = tempfile.mkdtemp(prefix="kw-ui-oidc-")
        self.addCleanup(shutil.rmtree, d, True)
        srv = Server(extra_args=["--config", oidc_config(d, idp.issuer)],
                     port=port).start()
        self.addCleanup(srv.close)
        make_person(srv, "maria@example.com", name="Maria Manager")
        make_person(srv, "rick@example.com", name="Rick Requester",
                    manager="maria@example.com")
        st, out, _ = srv.request("POST", "/v1/instances", {
            "name": "eu", "url": "https://eu.example.com",
            "issuance": "manual", "provisioners": ["maria@example.com"]})
        self.assertEqual(st, 201, out)
        st, r, _ = srv.request("POST", "/v1/requests", {
            "instance": "eu", "kind": "api_token", "justification": "sso",
            "use_case": "sso", "scopes": ["tickets:read"],
            "lifetime_days": 30}, token=token_for(srv, "rick@example.com"))
        self.assertEqual(st, 201, r)
        return url, r["id"]

    def prepare(self, srv, sim):
        make_person(srv, "maria@example.com", name="Maria Manager")
        make_person(srv, "rick@example.com", name="Rick Requester",
                    manager="maria@example.com")
        make_person(srv, "pat@example.com", name="Pat Provisioner")
        make_person(srv, "bulkmgr@example.com", name="Bulk Manager")
        make_person(srv, "bulk@example.com", name="Bulk Requester",
                    manager="bulkmgr@example.com")
        tok = {k: token_for(srv, k + "@example.com")
               for k in ("maria", "rick", "pat", "bulk", "bulkmgr")}
        st, inst, _ = srv.request("POST", "/v1/instances", {
            "name": "global", "display_name": "Zendesk Global",
            "url": sim.url, "issuance": "automatic",
            "provisioners": ["pat@example.com"], "allow_integrations": True,
            "max_lifetime_days": 365,
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, inst)
        # legacy tokens for the migration table and the timeline
        sim.seed_legacy("old export script", last_used="2026-11-20T10:00:00Z")
        sim.seed_legacy("forgotten macro", last_used=None)
        st, out, _ = srv.request("POST", "/v1/instances/global/sync", {})
        self.assertEqual(st, 200, out)

        def file(who, **over):
            body = {"instance": "global", "kind": "api_token",
                    "justification": "reporting", "use_case": "export",
                    "scopes": ["tickets:read"], "lifetime_days": 45}
            body.update(over)
            st, r, _ = srv.request("POST", "/v1/requests", body,
                                   token=tok[who])
            self.assertEqual(st, 201, r)
            return r["id"]

        def issue(rid):
            for who in ("maria", "pat"):
                st, r, _ = srv.request("POST", "/v1/requests/%s/approve"
                                       % rid, {}, token=tok[who])
                self.assertEqual(st, 200, r)
            self.assertEqual(r["state"], "issued", r)
            return r["credential_id"]

        # active credentials expiring within 90 days, for the chart; the
        # second is revoked by Rick's manager in the browser
        issue(file("rick", lifetime_days=40))
        report_credential = issue(file("rick", lifetime_days=60))
        cfg = {"url": srv.url, "artifacts": ARTIFACTS, "chromium": CHROMIUM,
               "tokens": {"admin": srv.admin_token, "rick": tok["rick"],
                          "maria": tok["maria"], "pat": tok["pat"],
                          "bulk": tok["bulk"],
                          "bulk_manager": tok["bulkmgr"]},
               "deny_request": file("rick", justification="one-off"),
               "integration_request": file("rick", kind="integration",
                                           integration={
                                               "name": "Warehouse sync",
                                               "redirect_uris": [
                                                   "https://wh.example.com/cb"],
                                               "client_kind": "confidential"}),
               "broker_credential": None, "bulk_requests": BULK,
               "report_credential": report_credential}
        if "default_delivery" in inst:      # the broker is built in
            cfg["broker_credential"] = issue(file("rick", delivery="broker"))
        # a manual instance: the provisioner fulfils through the UI
        st, out, _ = srv.request("POST", "/v1/instances", {
            "name": "eu", "display_name": "Zendesk EU",
            "url": "https://eu.example.com", "issuance": "manual",
            "provisioners": ["pat@example.com"],
            "allow_integrations": False})
        self.assertEqual(st, 201, out)
        rid = file("rick", instance="eu")
        for who in ("maria", "pat"):
            st, r, _ = srv.request("POST", "/v1/requests/%s/approve" % rid,
                                   {}, token=tok[who])
            self.assertEqual(st, 200, r)
        self.assertEqual(r["state"], "awaiting_fulfilment", r)
        cfg["fulfil_request"] = rid
        errors = []
        per = BULK // BULK_THREADS
        threads = [threading.Thread(target=_bulk_file, args=(
            srv.url, tok["bulk"], per + (BULK % BULK_THREADS if i == 0
                                         else 0), errors))
                   for i in range(BULK_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        return cfg


if __name__ == "__main__":
    unittest.main()
