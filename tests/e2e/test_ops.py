"""End-to-end: running keywarden in production — the Prometheus metrics
page, TLS on the listener (and its reload on SIGHUP), and the client
address behind trusted proxies with failed-authentication throttling that
never locks out a valid token."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import warnings

from harness import Server, make_person, run_bin, token_for
from test_issuance import setup_world
from zendesk_sim import ZendeskSim

METRICS_TOKEN = "metrics-scraper-token-0123456789"


def parse_metrics(text):
    """{'name{labels}': value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


def access_lines(srv):
    out = []
    for line in srv.log().splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("event") == "access":
            out.append(o)
    return out


# ---------------------------------------------------------------------------
class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kw-e2e-metrics-")
        path = os.path.join(cls.tmp, "metrics.token")
        with open(path, "w") as f:
            f.write(METRICS_TOKEN + "\n")
        cls.sim = ZendeskSim().start()
        cls.srv = Server(env={"KEYWARDEN_METRICS_TOKEN_FILE": path,
                              "KEYWARDEN_TRUSTED_PROXIES": "127.0.0.1"},
                         extra_args=["--upstream-timeout", "2"]).start()
        cls.tok = setup_world(cls.srv, cls.sim)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        cls.sim.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def scrape(self, until=None):
        """The page; with until, the first page (within 5 s) holding that
        text: a request is counted once its answer has gone out."""
        deadline = time.monotonic() + 5
        while True:
            st, _, h = self.srv.request("GET", "/metrics", token=None)
            self.assertEqual(st, 200)
            self.assertTrue(h["Content-Type"].startswith(
                "text/plain; version=0.0.4"), h["Content-Type"])
            text = self.srv.last_raw.decode("utf-8")
            if until is None or until in text or \
                    time.monotonic() > deadline:
                return text
            time.sleep(0.02)

    def test_page_passes_promtool(self):
        self.as_("rick@example.com", "GET", "/v1/me")
        text = self.scrape(until='route="/v1/me",status="200"')
        r = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # nothing personal: no email address, no token, no raw path
        self.assertNotIn("@", text)
        self.assertNotIn("kw_", text)
        self.assertNotIn("oauth_token", text)
        self.assertIn('route="/v1/me",status="200"', text)

    def test_counters_move_with_a_request_and_its_issuance(self):
        before = parse_metrics(self.scrape())
        body = {"instance": "global", "kind": "api_token",
                "justification": "export", "use_case": "reporting",
                "scopes": ["tickets:read"], "lifetime_days": 30}
        st, r, _ = self.as_("rick@example.com", "POST", "/v1/requests", body)
        self.assertEqual(st, 201, r)
        mid = parse_metrics(self.scrape())
        key = 'keywarden_requests{state="pending_manager"}'
        self.assertEqual(mid[key], before[key] + 1)
        st, _, _ = self.as_("maria@example.com", "POST",
                            "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual(st, 200)
        st, r2, _ = self.as_("pat@example.com", "POST",
                             "/v1/requests/%s/approve" % r["id"], {})
        self.assertEqual((st, r2["state"]), (200, "issued"), r2)
        after = parse_metrics(self.scrape())
        issued = 'keywarden_issuance_total{outcome="issued"}'
        self.assertEqual(after[issued], before[issued] + 1)
        self.assertEqual(after['keywarden_requests{state="issued"}'],
                         before['keywarden_requests{state="issued"}'] + 1)
        active = ('keywarden_credentials{state="active",kind="api_token",'
                  'delivery="pending"}')
        self.assertEqual(after[active], before.get(active, 0) + 1)
        # the world's instance hands out token-mode credentials
        mode = ('keywarden_api_tokens_by_delivery_mode{state="active",'
                'mode="token"}')
        self.assertEqual(after[mode], before[mode] + 1)
        calls = 'keywarden_instance_calls_total{instance="global",result="ok"}'
        self.assertGreater(after[calls], before.get(calls, 0))
        self.assertGreater(after["keywarden_audit_head_sequence"],
                           before["keywarden_audit_head_sequence"])
        # the route pattern labels the request, never its id
        approve = ('keywarden_http_request_duration_seconds_count{'
                   'method="POST",route="/v1/requests/{}/approve",'
                   'status="200"}')
        self.assertEqual(after[approve], before.get(approve, 0) + 2)
        self.assertNotIn(r["id"], self.srv.last_raw.decode())
        # and a revocation
        cid = r2["credential_id"]
        st, _, _ = self.as_("quinn@example.com", "POST",
                            "/v1/credentials/%s/revoke" % cid, {})
        self.assertEqual(st, 200)
        last = parse_metrics(self.scrape())
        rev = 'keywarden_revocations_total{outcome="revoked"}'
        self.assertEqual(last[rev], after[rev] + 1)

    def test_a_remote_scraper_needs_the_metrics_token(self):
        remote = {"X-Forwarded-For": "198.51.100.7"}   # through our proxy
        st, body, _ = self.srv.request("GET", "/metrics", token=None,
                                       headers=remote)
        self.assertEqual(st, 401, body)
        st, _, _ = self.srv.request("GET", "/metrics", headers=remote,
                                    token=METRICS_TOKEN + "x")
        self.assertEqual(st, 401)
        st, _, _ = self.srv.request("GET", "/metrics", headers=remote,
                                    token=self.srv.admin_token)
        self.assertEqual(st, 401)
        st, _, _ = self.srv.request("GET", "/metrics", headers=remote,
                                    token=METRICS_TOKEN)
        self.assertEqual(st, 200)
        self.assertIn(b"keywarden_requests", self.srv.last_raw)


class MetricsWithoutToken(unittest.TestCase):
    def test_closed_to_remote_clients_without_a_token_file(self):
        with Server(env={"KEYWARDEN_TRUSTED_PROXIES": "127.0.0.1"}) as srv:
            st, body, _ = srv.request("GET", "/metrics", token=None,
                                      headers={"X-Forwarded-For":
                                               "198.51.100.7"})
            self.assertEqual(st, 403, body)
            self.assertIn("metrics_token_file", body["error"]["message"])
            st, _, _ = srv.request("GET", "/metrics", token=None)
            self.assertEqual(st, 200)


# ---------------------------------------------------------------------------
class TrustedProxy(unittest.TestCase):
    """keywarden behind a reverse proxy on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(env={"KEYWARDEN_TRUSTED_PROXIES":
                              "127.0.0.0/8, ::1, 10.0.0.0/8"},
                         extra_args=["--auth-fail-limit", "5"]).start()
        make_person(cls.srv, "vera@example.com")
        cls.vera = token_for(cls.srv, "vera@example.com")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def get_me(self, token, client):
        return self.srv.request("GET", "/v1/me", token=token,
                                headers={"X-Forwarded-For": client})

    def test_bad_tokens_from_one_client_never_lock_out_a_valid_token(self):
        attacker = "203.0.113.9"
        for i in range(5):
            st, _, _ = self.get_me("kw_" + chr(65 + i) * 43, attacker)
            self.assertEqual(st, 401)
        st, body, h = self.get_me("kw_" + "Q" * 43, attacker)
        self.assertEqual(st, 429, body)
        self.assertGreater(int(h["Retry-After"]), 0)
        # the same address (one office behind one NAT), a valid token
        st, me, _ = self.get_me(self.vera, attacker)
        self.assertEqual((st, me["email"]), (200, "vera@example.com"))
        st, _, _ = self.srv.request("GET", "/v1/me", token=self.vera)
        self.assertEqual(st, 200)
        # the attacker is still held back
        st, _, _ = self.get_me("kw_" + "R" * 43, attacker)
        self.assertEqual(st, 429)
        # another client behind the same proxy is not
        st, _, _ = self.get_me("kw_" + "S" * 43, "203.0.113.10")
        self.assertEqual(st, 401)

    def test_one_token_guessed_from_many_addresses_is_throttled(self):
        stem = "kw_ZZZZZZZZZZZZZ"        # the same first 16 bytes
        codes = [self.get_me(stem + "%029dA" % i, "192.0.2.%d" % i)[0]
                 for i in range(1, 8)]
        self.assertEqual(codes[:5], [401] * 5)
        self.assertEqual(codes[5:], [429, 429])

    def test_the_access_log_names_the_client_and_the_proxy(self):
        # a spoofed leftmost hop is not believed: the rightmost untrusted
        # hop is the client our proxies saw
        before = len([o for o in access_lines(self.srv)
                      if o["path"] == "/healthz"])
        self.srv.request("GET", "/healthz", token=None, headers={
            "X-Forwarded-For": "6.6.6.6, 198.51.100.44, 10.1.2.3"})
        # the access line is written once the answer has gone out
        deadline = time.monotonic() + 5
        while True:
            lines = [o for o in access_lines(self.srv)
                     if o["path"] == "/healthz"]
            if len(lines) > before or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        line = lines[-1]
        self.assertEqual(line["remote"], "198.51.100.44")
        self.assertEqual(line["peer"], "127.0.0.1")


class UntrustedPeer(unittest.TestCase):
    """No trusted_proxies: X-Forwarded-For is the client's word only."""

    def test_forwarded_for_is_ignored(self):
        with Server(extra_args=["--auth-fail-limit", "5"]) as srv:
            codes = [srv.request("GET", "/v1/me", token="kw_" + chr(65 + i)
                                 * 43, headers={"X-Forwarded-For":
                                                "192.0.2.%d" % i})[0]
                     for i in range(7)]
            # one address (127.0.0.1) failing, whatever the header says
            self.assertEqual(codes, [401] * 5 + [429, 429])
            line = access_lines(srv)[-1]
            self.assertEqual(line["remote"], "127.0.0.1")
            self.assertNotIn("peer", line)
            st, _, _ = srv.request("GET", "/v1/me")
            self.assertEqual(st, 200)


# ---------------------------------------------------------------------------
def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_pki(d):
    """A CA and two server certificates for 127.0.0.1 (s1, s2)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
            "/CN=keywarden test CA", "-keyout", "ca.key", "-out", "ca.pem",
            cwd=d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name in ("s1", "s2"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", name + ".key",
                "-out", name + ".csr", cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "ext", "-out", name + ".pem", cwd=d)


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="kw-e2e-tls-")
        make_pki(cls.d)
        cls.cert = os.path.join(cls.d, "cur.pem")
        cls.key = os.path.join(cls.d, "cur.key")
        shutil.copy(os.path.join(cls.d, "s1.pem"), cls.cert)
        shutil.copy(os.path.join(cls.d, "s1.key"), cls.key)
        cls.env = {"KEYWARDEN_TLS_CERT_FILE": cls.cert,
                   "KEYWARDEN_TLS_KEY_FILE": cls.key}
        cls.ctx = ssl.create_default_context(
            cafile=os.path.join(cls.d, "ca.pem"))
        cls.srv = Server(env=cls.env, tls=cls.ctx).start()
        cls.env = cls.srv.env       # with the store it was given, if any

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.d, ignore_errors=True)

    def handshake(self, ctx=None):
        """(protocol version, served certificate's serial)."""
        ctx = ctx or self.ctx
        with socket.create_connection(("127.0.0.1", self.srv.port),
                                      timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                return s.version(), s.getpeercert()["serialNumber"]

    def serial(self, name):
        r = subprocess.run(["openssl", "x509", "-in", name, "-noout",
                            "-serial"], cwd=self.d, capture_output=True,
                           text=True, check=True)
        return r.stdout.strip().split("=")[1]

    def test_api_over_tls_verified_with_the_ca(self):
        st, me, _ = self.srv.request("GET", "/v1/me")
        self.assertEqual(st, 200, me)
        version, _ = self.handshake()
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
        # plain HTTP on the TLS port gets no answer
        with socket.create_connection(("127.0.0.1", self.srv.port),
                                      timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except OSError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 200"))

    def test_tls_1_1_is_refused_and_1_2_accepted(self):
        def client(version):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.load_verify_locations(os.path.join(self.d, "ca.pem"))
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = version
                ctx.maximum_version = version
            return ctx
        self.assertEqual(self.handshake(client(ssl.TLSVersion.TLSv1_2))[0],
                         "TLSv1.2")
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.handshake(client(ssl.TLSVersion.TLSv1_1))

    def test_sighup_serves_a_new_certificate(self):
        first = self.serial("s1.pem")
        self.assertEqual(self.handshake()[1], first)
        shutil.copy(os.path.join(self.d, "s2.pem"), self.cert)
        shutil.copy(os.path.join(self.d, "s2.key"), self.key)
        os.kill(self.srv.proc.pid, signal.SIGHUP)
        want = self.serial("s2.pem")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.handshake()[1] == want:
                break
            time.sleep(0.1)
        self.assertEqual(self.handshake()[1], want)
        st, _, _ = self.srv.request("GET", "/v1/me")
        self.assertEqual(st, 200)
        # a broken pair on the next SIGHUP: the new certificate stays
        shutil.copy(os.path.join(self.d, "s1.key"), self.key)
        os.kill(self.srv.proc.pid, signal.SIGHUP)
        time.sleep(1)
        self.assertEqual(self.handshake()[1], want)
        self.assertIn("keeping the current certificate", self.srv.log())
        shutil.copy(os.path.join(self.d, "s2.key"), self.key)

    def test_links_are_https(self):
        r = run_bin("serve", "--data-dir", self.srv.data_dir, "--listen",
                    "127.0.0.1:8443", "--print-config", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["public_url"],
                         "https://127.0.0.1:8443")

    def test_check_validates_the_files(self):
        r = run_bin("serve", "--data-dir", self.srv.data_dir, "--check",
                    env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("TLS certificate and key usable", r.stdout)
        bad = dict(self.env, KEYWARDEN_TLS_KEY_FILE=os.path.join(
            self.d, "s1.key" if self.serial("cur.pem") != self.serial(
                "s1.pem") else "s2.key"))
        r = run_bin("serve", "--data-dir", self.srv.data_dir, "--check",
                    env=bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a PEM certificate and its private key", r.stderr)
        half = {"KEYWARDEN_TLS_CERT_FILE": self.cert}
        r = run_bin("serve", "--data-dir", self.srv.data_dir, "--check",
                    env=half)
        self.assertEqual(r.returncode, 1)
        self.assertIn("set both", r.stderr)
        missing = dict(self.env, KEYWARDEN_TLS_CERT_FILE=os.path.join(
            self.d, "nope.pem"))
        r = run_bin("serve", "--data-dir", self.srv.data_dir, "--check",
                    env=missing)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read", r.stderr)


if __name__ == "__main__":
    unittest.main()
