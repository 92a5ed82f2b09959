"""kwb.py — helpers shared by keywarden's benchmark sections (bench/run.py).

Standard library only.  Every process started through Procs is stopped
(SIGTERM, then SIGKILL after a bounded wait) when the Procs is closed, and
at interpreter exit as a safety net.  Everything talks to 127.0.0.1 only.
"""
import atexit
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "build", "release")
KW = os.path.join(REL, "keywarden")
SIM = os.path.join(REL, "zendesk-sim")
CEILING = os.path.join(REL, "bench-ceiling")
COMMIT = os.path.join(REL, "bench-commit")
SHA = os.path.join(REL, "bench-sha")
HERE = os.path.join(ROOT, "bench")

SIM_BOT_TOKEN = "zd-bot-token-0123456789abcdef"
SIM_BOT_EMAIL = "bot@example.zendesk.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, headers=None, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError("server at %s did not come up" % url)


def to_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, conns, seconds, token=None, script=None, args=(), threads=None,
        headers=()):
    """Run wrk for `seconds`; return requests/s, p50/p99 (ms), non-2xx
    count, socket errors and the raw output."""
    if threads is None:
        threads = 2 if conns > 1 else 1
    cmd = ["wrk", "-t", str(threads), "-c", str(conns),
           "-d", "%ds" % seconds, "--latency", "--timeout", "5s"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if args:
        cmd += ["--"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m is None:
        raise RuntimeError("wrk printed no rate:\n" + out)
    lat = dict((p, to_ms(v, u)) for p, v, u in
               re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), "
                     r"write (\d+), timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(m.group(1)), "p50_ms": lat.get("50"),
            "p99_ms": lat.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(map(int, sock.groups())) if sock else 0,
            "requests": int(total.group(1)) if total else 0,
            "out": out}


def session_cookie(base, token):
    """Open a browser session with token (POST /v1/sessions); return the
    Cookie header value (kw_session=...)."""
    req = urllib.request.Request(
        base + "/v1/sessions", data=json.dumps({"token": token}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["Set-Cookie"].split(";")[0]


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals)
                                            + 0.5)) - 1)
    return sorted_vals[max(0, i)]


class Api:
    """A keep-alive JSON client for one server on 127.0.0.1."""

    def __init__(self, port, token=None, timeout=30):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = None

    def call(self, method, path, body=None, token=None):
        tok = token or self.token
        hdrs = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        try:
            obj = json.loads(raw) if raw else None
        except ValueError:
            obj = None
        return r.status, obj

    def must(self, method, path, body=None, token=None, expect=(200, 201)):
        st, obj = self.call(method, path, body, token)
        if st not in expect:
            raise RuntimeError("%s %s -> %d %r" % (method, path, st, obj))
        return obj

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


_all_procs = []


class Procs:
    """Processes of one benchmark run; close() stops them all."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, **kw):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             start_new_session=True, **kw)
        self.procs.append(p)
        _all_procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
            except ProcessLookupError:
                pass
        if p in self.procs:
            self.procs.remove(p)
        if p.stdout is not None:
            p.stdout.close()

    def close(self):
        for p in list(self.procs):
            self.stop(p)

    # -- keywarden and the simulator ---------------------------------------

    def keywarden(self, data, threads, log_path, extra=()):
        """keywarden serve on a free port; returns (proc, port)."""
        port = free_port()
        with open(log_path, "ab") as log:
            p = self.start([KW, "serve", "--data-dir", data, "--listen",
                            "127.0.0.1:%d" % port, "--threads", str(threads),
                            "--auth-fail-limit", "1000000"] + list(extra),
                           stdout=subprocess.DEVNULL, stderr=log)
        wait_http("http://127.0.0.1:%d/healthz" % port)
        return p, port

    def sim(self, log_path, threads=None):
        """zendesk-sim on a free port; returns (proc, port, url)."""
        port = free_port()
        cmd = [SIM, "--listen", "127.0.0.1:%d" % port, "--admin-token",
               SIM_BOT_TOKEN, "--admin-email", SIM_BOT_EMAIL]
        if threads:
            cmd += ["--threads", str(threads)]
        with open(log_path, "ab") as log:
            p = self.start(cmd, stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + 10
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or p.poll() is not None:
                raise RuntimeError("zendesk-sim did not come up")
            if select.select([p.stdout], [], [], left)[0]:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError("zendesk-sim exited")
                line += chunk
        url = json.loads(line.decode().splitlines()[0])["url"]
        return p, port, url


def kw_init(data):
    """keywarden init; the admin token."""
    out = subprocess.run([KW, "init", "--data-dir", data, "--admin-email",
                          "bench@example.com", "--admin-name", "Bench"],
                         capture_output=True, text=True, check=True,
                         timeout=60)
    return json.loads(out.stdout)["admin_token"]


@atexit.register
def _stop_leftovers():
    for p in _all_procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
