"""zendesk_sim.py — run zendesk-sim (the Zendesk simulator) on loopback.

Standard library only (run with /usr/bin/python3).

    from zendesk_sim import ZendeskSim

    with ZendeskSim() as zd:
        st, body, hdrs = zd.request("GET", "/api/v2/users/me",
                                    token=zd.admin_token)
        zd.set_now("2026-10-27T00:00:00Z")
        zd.fault(status=429, retry_after=2, count=1)
        state = zd.state()

The binary is $ZENDESK_SIM_BIN or <repo>/build/test/zendesk-sim.  Every
wait is bounded; the process is killed on close (and at interpreter exit).
"""

import atexit
import base64
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

BIN = os.environ.get("ZENDESK_SIM_BIN") or os.path.join(
    REPO, "build", "test", "zendesk-sim")

ADMIN_TOKEN = "zd-bot-token-0123456789abcdef"
ADMIN_EMAIL = "bot@example.zendesk.test"
START_TIMEOUT = float(os.environ.get("ZENDESK_SIM_START_TIMEOUT", "10"))
REQUEST_TIMEOUT = 10.0

_live = set()


class SimError(Exception):
    """The simulator could not be started or stopped as asked."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(email, api_token):
    """The Authorization value for a legacy API token."""
    raw = ("%s/token:%s" % (email, api_token)).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


class ZendeskSim:
    """A zendesk-sim process on 127.0.0.1:<free port>.

    ZendeskSim(admins=[(token, email)], now=None, extra_args=(), bin=None)
    """

    def __init__(self, admins=((ADMIN_TOKEN, ADMIN_EMAIL),), now=None,
                 extra_args=(), bin=None):
        self.bin = bin or BIN
        self.admins = list(admins)
        self.admin_token = self.admins[0][0] if self.admins else None
        self.admin_email = self.admins[0][1] if self.admins else None
        self.now = now
        self.extra_args = [str(a) for a in extra_args]
        self.proc = None
        self.port = None
        self.url = None
        self.listening = None          # the parsed listening line
        self.log_path = None
        self._logf = None

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        if not os.path.exists(self.bin):
            raise SimError("zendesk-sim not found: %s (set ZENDESK_SIM_BIN "
                           "or `make build/test/zendesk-sim`)" % self.bin)
        self.port = free_port()
        fd, self.log_path = tempfile.mkstemp(prefix="zendesk-sim-",
                                             suffix=".log")
        self._logf = os.fdopen(fd, "wb")
        cmd = [self.bin, "--listen", "127.0.0.1:%d" % self.port]
        for tok, email in self.admins:
            cmd += ["--admin-token", tok, "--admin-email", email]
        if self.now:
            cmd += ["--now", self.now]
        cmd += self.extra_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self._logf,
                                     start_new_session=True)
        _live.add(self)
        try:
            self._wait_listening()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise SimError("no listening line within %.0f s\n%s"
                               % (START_TIMEOUT, self.log()[-2000:]))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise SimError("zendesk-sim exited (%s) before listening\n%s"
                               % (self.proc.wait(5), self.log()[-2000:]))
            line += chunk
        self.listening = json.loads(line.decode("utf-8").splitlines()[0])
        self.url = self.listening["url"]

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal the simulator and wait; its exit code (None if it had to
        be killed)."""
        if self.proc is None:
            return None
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            code = self.proc.returncode
        self._cleanup()
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._cleanup()

    def _cleanup(self):
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._logf is not None:
            self._logf.close()
            self._logf = None
        _live.discard(self)

    def close(self):
        self.kill()
        if self.log_path and not os.environ.get("KEYWARDEN_KEEP_TMP"):
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    def log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- HTTP ----------------------------------------------------------------

    def request(self, method, path, body=None, token=None, auth=None,
                raw=None, headers=None, timeout=REQUEST_TIMEOUT):
        """One request; path may be a full URL of this simulator.  token
        sends a Bearer credential, auth any Authorization value.  Returns
        (status, parsed JSON or None, headers dict with lower-case names);
        the raw body is kept in self.last_raw."""
        if path.startswith("http"):
            u = urllib.parse.urlsplit(path)
            path = u.path + ("?" + u.query if u.query else "")
        hdrs = dict(headers or {})
        data = raw.encode() if isinstance(raw, str) else raw
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if auth is not None:
            hdrs["Authorization"] = auth
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            status = resp.status
        finally:
            conn.close()
        self.last_raw = payload
        parsed = None
        if payload:
            try:
                parsed = json.loads(payload.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed = None
        return status, parsed, rh

    def api(self, method, path, body=None, token=None):
        """A Zendesk API call as the first admin (unless token is given)."""
        return self.request(method, path, body=body,
                            token=token or self.admin_token)

    def ctl(self, method, path, body=None):
        """A control-plane call; raises unless it answered 2xx."""
        st, parsed, _ = self.request(method, "/_sim/" + path, body=body)
        if st // 100 != 2:
            raise SimError("%s /_sim/%s: %d %r" % (method, path, st,
                                                   self.last_raw))
        return parsed

    # -- control-plane shortcuts --------------------------------------------

    def state(self):
        return self.ctl("GET", "state")

    def stats(self):
        return self.ctl("GET", "stats")

    def set_now(self, rfc3339):
        return self.ctl("POST", "clock", {"now": rfc3339})

    def advance(self, seconds):
        return self.ctl("POST", "clock", {"advance_seconds": seconds})

    def fault(self, **kw):
        return self.ctl("POST", "faults", kw)["fault"]

    def clear_faults(self):
        self.ctl("DELETE", "faults")

    def add_admin(self, token, email):
        return self.ctl("POST", "admins", {"token": token, "email": email})

    def seed_legacy(self, description="seeded", created_at=None,
                    last_used=None):
        body = {"description": description, "last_used": last_used}
        if created_at:
            body["created_at"] = created_at
        return self.ctl("POST", "legacy_tokens", body)["api_token"]

    def hide_client(self, client_id, hidden=True):
        """Leave the client out of GET /api/v2/oauth/clients (it still
        exists), as a lying or inconsistent listing would."""
        return self.ctl("POST", "clients/%s/hidden" % client_id,
                        {"hidden": hidden})

    def reset(self):
        self.ctl("POST", "reset")


class RecordingProxy:
    """A loopback HTTP proxy in front of a simulator that keeps every
    answer it passes on, so a test can learn a secret only keywarden was
    shown (a broker credential's client secret) and then check that it
    leaks nowhere.  url is what keywarden is given as the instance URL;
    answers() the (method, path, status, body text) seen, in order."""

    def __init__(self, sim):
        import http.server
        import threading
        proxy = self
        self._answers = []
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(n) if n else None
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type",
                                         "accept")}
                c = http.client.HTTPConnection("127.0.0.1", sim.port,
                                               timeout=REQUEST_TIMEOUT)
                try:
                    c.request(self.command, self.path, body=body,
                              headers=hdrs)
                    r = c.getresponse()
                    data = r.read()
                    rh = r.getheaders()
                    status = r.status
                finally:
                    c.close()
                with proxy._lock:
                    proxy._answers.append((self.command, self.path, status,
                                           data.decode("utf-8", "replace")))
                self.send_response(status)
                for k, v in rh:
                    if k.lower() in ("content-type", "retry-after",
                                     "x-rate-limit",
                                     "x-rate-limit-remaining"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = forward
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def answers(self):
        with self._lock:
            return list(self._answers)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@atexit.register
def _kill_leftovers():
    for s in list(_live):
        s.kill()
