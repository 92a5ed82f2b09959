"""oidc_support.py — what the sign-in tests need besides keywarden itself.

    RealIdP(redirect_uri)      panva's oidc-provider (tests/oidc/idp.js) on
                               127.0.0.1, a real OpenID Provider
    FakeIdP()                  a tiny provider in Python whose discovery,
                               JWKS and token answers the test crafts (ID
                               tokens signed with the openssl CLI)
    Browser()                  http.client with a cookie jar, manual
                               redirects and an HTML form parser
    oidc_config(dir, issuer, client_id, secret)   a keywarden config file

Standard library only; everything listens on 127.0.0.1 and stops itself.
"""

import base64
import hashlib
import html.parser
import http.client
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import REPO, free_port

IDP_DIR = os.path.join(REPO, "tests", "oidc")
CLIENT_SECRET = "test-client-secret-0123456789abcdef"


def ensure_node_modules():
    """Install tests/oidc's npm packages (npm ci) when they are missing."""
    if os.path.isdir(os.path.join(IDP_DIR, "node_modules", "oidc-provider")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=IDP_DIR,
                   check=True, capture_output=True, timeout=300)


def write_secret(directory, secret=CLIENT_SECRET):
    path = os.path.join(directory, "client_secret")
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return path


def oidc_config(directory, issuer, client_id="keywarden", secret=CLIENT_SECRET,
                extra="", server=""):
    """Write a keywarden config file with an [oidc] section; its path."""
    sec = write_secret(directory, secret)
    path = os.path.join(directory, "keywarden.ini")
    with open(path, "w") as f:
        f.write("[server]\n%s\n[oidc]\nissuer = %s\nclient_id = %s\n"
                "client_secret_file = %s\n%s\n"
                % (server, issuer, client_id, sec, extra))
    return path


class RealIdP:
    """tests/oidc/idp.js on a free port; ``issuer`` once started."""

    def __init__(self, redirect_uris, secret=CLIENT_SECRET):
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        self.redirect_uris = redirect_uris
        self.secret = secret
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix="kw-idp-")
        self.port = free_port()
        self.issuer = "http://127.0.0.1:%d" % self.port

    def start(self):
        ensure_node_modules()
        sec = write_secret(self.tmp, self.secret)
        self.log = open(os.path.join(self.tmp, "idp.log"), "wb")
        cmd = ["node", os.path.join(IDP_DIR, "idp.js"), "--port",
               str(self.port), "--client-secret-file", sec]
        for r in self.redirect_uris:
            cmd += ["--redirect", r]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE, stderr=self.log, cwd=IDP_DIR,
            start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the test IdP did not start")
        assert json.loads(line)["issuer"] == self.issuer
        return self

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()


# -- a browser ---------------------------------------------------------------

class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""),
                               "method": a.get("method", "get").upper(),
                               "inputs": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if a.get("type") not in ("submit", "button") or tag == "input":
                self.forms[-1]["inputs"][a["name"]] = a.get("value", "")


def parse_forms(text):
    p = _Forms()
    p.feed(text)
    return p.forms


class Browser:
    """Cookies by host (as a browser keeps them), redirects followed by
    hand so each hop can be looked at."""

    def __init__(self):
        self.cookies = {}          # host -> {name: value}
        self.history = []          # (method, url, status)

    def _store(self, host, headers):
        for k, v in headers:
            if k.lower() != "set-cookie":
                continue
            nv = v.split(";")[0]
            name, _, value = nv.partition("=")
            attrs = v.lower()
            jar = self.cookies.setdefault(host, {})
            if "max-age=0" in attrs or value == "":
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value.strip()

    def cookie(self, host, name):
        return self.cookies.get(host, {}).get(name)

    def request(self, method, url, body=None, headers=None):
        """One exchange; returns (status, headers dict (lower-case), body
        text)."""
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        h = dict(headers or {})
        jar = self.cookies.get(u.hostname, {})
        if jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        path = u.path + ("?" + u.query if u.query else "")
        try:
            conn.request(method, path or "/", body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            pairs = resp.getheaders()
        finally:
            conn.close()
        self._store(u.hostname, pairs)
        self.history.append((method, url, resp.status))
        hd = {}
        for k, v in pairs:
            hd.setdefault(k.lower(), v)
        return resp.status, hd, data

    def go(self, url, method="GET", body=None, headers=None, stop=None,
           max_hops=20):
        """Follow redirects from url; stop early (returning the redirect)
        when stop(location) is true.  Returns (status, headers, body,
        url)."""
        for _ in range(max_hops):
            st, hd, data = self.request(method, url, body, headers)
            if st not in (301, 302, 303, 307, 308):
                return st, hd, data, url
            loc = urllib.parse.urljoin(url, hd["location"])
            if stop is not None and stop(loc):
                return st, hd, data, loc
            url, method, body, headers = loc, "GET", None, None
        raise AssertionError("too many redirects: %r" % self.history[-5:])

    def submit(self, page_url, form, fields):
        inputs = dict(form["inputs"])
        inputs.update(fields)
        action = urllib.parse.urljoin(page_url, form["action"] or page_url)
        return self.go(action, method="POST",
                       body=urllib.parse.urlencode(inputs),
                       headers={"Content-Type":
                                "application/x-www-form-urlencoded"},
                       stop=lambda loc: "/auth/callback" in loc)


def sign_in_at_idp(browser, kw_url, login, return_to=None, stop_at_callback=False):
    """Walk /auth/login -> the IdP's login and consent pages as a person
    would.  Returns the final (status, headers, body, url); with
    stop_at_callback, the callback URL is returned unvisited."""
    url = kw_url + "/auth/login"
    if return_to is not None:
        url += "?return_to=" + urllib.parse.quote(return_to, safe="")
    st, hd, body, at = browser.go(url, stop=lambda loc: "/auth/callback" in loc)
    for _ in range(4):
        if "/auth/callback" in at:
            break
        forms = [f for f in parse_forms(body) if f["method"] == "POST"]
        assert forms, "no form at %s (%d): %s" % (at, st, body[:500])
        form = forms[0]
        if "login" in form["inputs"] or "password" in form["inputs"]:
            fields = {"login": login, "password": "any"}
        else:
            fields = {}
        st, hd, body, at = browser.submit(at, form, fields)
    assert "/auth/callback" in at, (st, at, body[:500])
    if stop_at_callback:
        return st, hd, body, at
    return browser.go(at)


# -- a fake IdP whose answers the test crafts --------------------------------

def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Keys:
    """An RSA and an EC P-256 key made with the openssl CLI."""

    def __init__(self, directory):
        self.rsa = os.path.join(directory, "rsa.pem")
        self.ec = os.path.join(directory, "ec.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", self.rsa],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", self.ec],
                       check=True, capture_output=True)

    def rsa_jwk(self, kid):
        out = subprocess.run(["openssl", "rsa", "-in", self.rsa, "-noout",
                              "-modulus"], check=True, capture_output=True,
                             text=True).stdout
        n = int(out.strip().split("=", 1)[1], 16)
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": _int_b64u(n), "e": "AQAB"}

    def ec_jwk(self, kid):
        der = subprocess.run(["openssl", "pkey", "-in", self.ec, "-pubout",
                              "-outform", "DER"], check=True,
                             capture_output=True).stdout
        pt = der[-65:]
        assert pt[0] == 4
        return {"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
                "x": b64u(pt[1:33]), "y": b64u(pt[33:])}

    def sign(self, header, claims, key="rsa"):
        signing_input = (b64u(json.dumps(header)) + "." +
                         b64u(json.dumps(claims))).encode()
        pem = self.rsa if key == "rsa" else self.ec
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem],
                             input=signing_input, check=True,
                             capture_output=True).stdout
        if key == "ec":
            sig = _der_to_raw(sig)
        return signing_input.decode() + "." + b64u(sig)


def _der_to_raw(der):
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 2
        ln = der[i + 1]
        v = der[i + 2:i + 2 + ln]
        out += v.lstrip(b"\0").rjust(32, b"\0")
        i += 2 + ln
    return out


def hs256(secret, header, claims):
    import hmac
    si = b64u(json.dumps(header)) + "." + b64u(json.dumps(claims))
    mac = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
    return si + "." + b64u(mac)


class FakeIdP:
    """Discovery, JWKS and a token endpoint on 127.0.0.1.  The test sets
    ``next_token`` (a function of the authorization request's params ->
    the ID token text) and may change ``jwks``, ``discovery_override``,
    ``token_delay`` or ``token_status``.  ``authorize(url)`` plays the
    authorization endpoint for a browser: it returns the callback URL."""

    def __init__(self, client_id="keywarden", secret=CLIENT_SECRET):
        self.tmp = tempfile.mkdtemp(prefix="kw-fakeidp-")
        self.keys = Keys(self.tmp)
        self.port = free_port()
        self.issuer = "http://127.0.0.1:%d" % self.port
        self.client_id = client_id
        self.secret = secret
        self.jwks = {"keys": [self.keys.rsa_jwk("k1"), self.keys.ec_jwk("e1")]}
        self.discovery_override = None
        self.raw_discovery = None
        self.raw_jwks = None
        self.token_delay = 0
        self.token_status = 200
        self.auth_post = False     # client_secret_post instead of _basic
        self.next_token = None
        self.codes = {}            # code -> authorization params
        self.requests = []         # (path, headers, body)
        self.jwks_fetches = 0
        self.srv = None

    def discovery(self):
        d = {"issuer": self.issuer,
             "authorization_endpoint": self.issuer + "/authorize",
             "token_endpoint": self.issuer + "/token",
             "jwks_uri": self.issuer + "/jwks",
             "response_types_supported": ["code"],
             "code_challenge_methods_supported": ["S256"],
             "token_endpoint_auth_methods_supported":
                 ["client_secret_post"] if self.auth_post
                 else ["client_secret_basic"],
             "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
        if self.discovery_override:
            d.update(self.discovery_override)
        return d

    def claims(self, params, **over):
        now = int(time.time())
        c = {"iss": self.issuer, "aud": self.client_id, "sub": "u-1",
             "iat": now, "exp": now + 300, "nonce": params.get("nonce"),
             "email": params.get("login_hint", "rick@example.com"),
             "email_verified": True}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def authorize(self, url):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        code = b64u(os.urandom(16))
        self.codes[code] = q
        return "%s?code=%s&state=%s" % (q["redirect_uri"], code,
                                        urllib.parse.quote(q["state"]))

    def start(self):
        idp = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def send(self, status, obj=None, raw=None):
                data = raw if raw is not None else json.dumps(obj).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass    # keywarden gave up waiting (the slow tests)

            def do_GET(self):
                idp.requests.append((self.path, dict(self.headers), b""))
                if self.path == "/.well-known/openid-configuration":
                    if idp.raw_discovery is not None:
                        return self.send(200, raw=idp.raw_discovery)
                    return self.send(200, idp.discovery())
                if self.path == "/jwks":
                    idp.jwks_fetches += 1
                    if idp.raw_jwks is not None:
                        return self.send(200, raw=idp.raw_jwks)
                    return self.send(200, idp.jwks)
                self.send(404, {"error": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                idp.requests.append((self.path, dict(self.headers), body))
                if self.path != "/token":
                    return self.send(404, {"error": "not_found"})
                if idp.token_delay:
                    time.sleep(idp.token_delay)
                f = dict(urllib.parse.parse_qsl(body))
                params = idp.codes.pop(f.get("code"), None)
                if params is None:
                    return self.send(400, {"error": "invalid_grant"})
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (idp.client_id, idp.secret)).encode()).decode()
                if idp.auth_post:
                    ok = (f.get("client_id") == idp.client_id and
                          f.get("client_secret") == idp.secret and
                          "Authorization" not in self.headers)
                else:
                    ok = self.headers.get("Authorization") == want
                if not ok:
                    return self.send(401, {"error": "invalid_client"})
                chal = b64u(hashlib.sha256(
                    f.get("code_verifier", "").encode()).digest())
                if chal != params.get("code_challenge"):
                    return self.send(400, {"error": "invalid_grant"})
                if idp.token_status != 200:
                    return self.send(idp.token_status, {"error": "server"})
                tok = idp.next_token(params)
                self.send(200, {"access_token": "at", "token_type": "Bearer",
                                "id_token": tok, "expires_in": 300})

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def close(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()
