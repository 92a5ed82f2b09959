"""harness.py — run the real keywarden daemon on loopback for end-to-end tests.

Standard library only (run with /usr/bin/python3).

    from harness import Server, make_person, token_for, free_port, BIN

    with Server() as srv:
        status, body, headers = srv.request("GET", "/v1/me")

A Server owns a temporary directory holding the data directory (``data/``)
and the captured stderr of the daemon (``serve.log``).  Every wait is
bounded and the daemon is always killed on teardown (also at interpreter
exit, as a safety net).
"""

import atexit
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

BIN = os.environ.get("KEYWARDEN_BIN") or os.path.join(
    REPO, "build", "test", "keywarden")

ADMIN_EMAIL = "admin@example.com"
ADMIN_NAME = "Admin"

# How long the daemon may take to answer /healthz after it is started.
START_TIMEOUT = float(os.environ.get("KEYWARDEN_START_TIMEOUT", "10"))
# Timeout of one HTTP request and of one short CLI run.
REQUEST_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0

# Environment variables that would change the daemon's configuration; they
# are removed from the inherited environment so only `env=` sets them.
_CONFIG_ENV = ("KEYWARDEN_LISTEN", "KEYWARDEN_DATA_DIR", "KEYWARDEN_STORE",
               "KEYWARDEN_PUBLIC_URL", "KEYWARDEN_CONFIG",
               "KEYWARDEN_AUTH_FAIL_LIMIT", "KEYWARDEN_TOKEN",
               "KEYWARDEN_URL")

# KEYWARDEN_TEST_STORE=postgresql://user@host:port/db runs every Server on
# PostgreSQL: each data directory gets its own database on that server
# (named after the directory, so a Server restarted on another's data
# finds it), created on first start and dropped when its owner closes.
PG_TEST_URL = os.environ.get("KEYWARDEN_TEST_STORE", "")

_ADMIN = object()          # sentinel: "use the admin token"
_sqlite_pinned = [0]       # classes under @sqlite_store running now


def sqlite_store(cls):
    """Class decorator: these tests reach into the SQLite file itself
    (tamper with it, back it up), so their Servers use SQLite even when the
    suite runs on PostgreSQL (KEYWARDEN_TEST_STORE)."""
    up, down = cls.setUpClass, cls.tearDownClass

    def set_up(c):
        _sqlite_pinned[0] += 1
        try:
            up()
        except BaseException:
            _sqlite_pinned[0] -= 1
            raise

    def tear_down(c):
        try:
            down()
        finally:
            _sqlite_pinned[0] -= 1
    cls.setUpClass = classmethod(set_up)
    cls.tearDownClass = classmethod(tear_down)
    return cls
_live = set()              # servers with a running process


class HarnessError(Exception):
    """The harness could not set up what a test asked for."""


class Headers(dict):
    """Response headers; lookups ignore the case of the name."""

    def __init__(self, pairs=()):
        super().__init__()
        for k, v in pairs:
            k = k.lower()
            super().__setitem__(k, v if k not in self else self[k] + ", " + v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


def free_port():
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(env=None):
    """The environment for a keywarden process: ours minus keywarden's
    configuration variables, plus ``env``."""
    e = {k: v for k, v in os.environ.items() if k not in _CONFIG_ENV}
    if env:
        e.update(env)
    return e


def run_bin(*args, env=None, timeout=CLI_TIMEOUT, input=None, bin=None):
    """Run ``BIN args...`` to completion (bounded); return the
    subprocess.CompletedProcess with text stdout/stderr."""
    exe = bin or BIN
    if not os.path.exists(exe):
        raise HarnessError("keywarden binary not found: %s "
                           "(set KEYWARDEN_BIN or `make build/test/keywarden`)"
                           % exe)
    return subprocess.run([exe] + [str(a) for a in args],
                          stdin=subprocess.DEVNULL if input is None else None,
                          input=input, capture_output=True, text=True,
                          env=base_env(env), timeout=timeout)


def parse_json_output(text):
    """Parse the JSON object a command printed on stdout (tolerates lines
    around it); return the dict or raise ValueError."""
    text = text.strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except ValueError:
        pass
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        obj = json.loads(text[start:end + 1])
        if isinstance(obj, dict):
            return obj
    raise ValueError("no JSON object in output: %r" % text[:500])


def http_request(url_or_port, method, path, body=None, token=None,
                 headers=None, raw=None, content_type="application/json",
                 timeout=REQUEST_TIMEOUT, tls=None):
    """One HTTP request to 127.0.0.1 (over TLS with the ssl.SSLContext
    ``tls``).  Returns (status, json_or_None, Headers, raw_bytes)."""
    port = url_or_port
    if isinstance(url_or_port, str):
        port = urllib.parse.urlsplit(url_or_port).port
    hdrs = {}
    data = None
    if raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    elif body is not None:
        data = json.dumps(body).encode("utf-8")
    if data is not None and content_type is not None:
        hdrs["Content-Type"] = content_type
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if headers:
        hdrs.update(headers)
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        rh = Headers(resp.getheaders())
        status = resp.status
    finally:
        conn.close()
    parsed = None
    if payload:
        try:
            parsed = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            parsed = None
    return status, parsed, rh, payload


def pg_psql(sql, db="postgres", base=None):
    """Run one SQL command as the test cluster's superuser (psql)."""
    u = urllib.parse.urlsplit(base or PG_TEST_URL)
    url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, "", ""))
    r = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql], capture_output=True,
                       text=True, timeout=CLI_TIMEOUT)
    if r.returncode != 0:
        raise HarnessError("psql %r failed: %s" % (sql, r.stderr))
    return r.stdout


def pg_store_url(name, base=None):
    """The store URL of database name on the test cluster."""
    u = urllib.parse.urlsplit(base or PG_TEST_URL)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, "", ""))


def pg_create_database(name=None, base=None):
    """Create a fresh database on the test cluster; its store URL."""
    name = name or "kw_" + os.urandom(8).hex()
    pg_psql('CREATE DATABASE "%s"' % name, base=base)
    return pg_store_url(name, base=base)


def pg_drop_database(url):
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    pg_psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, base=url)


class PgCluster:
    """A throwaway PostgreSQL cluster of its own (scripts/pg-cluster):
    start() returns its admin URL; down()/up() stop and restart the
    server on the same port; close() removes everything."""

    SCRIPT = os.path.join(REPO, "scripts", "pg-cluster")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kw-pg-")
        self.url = None

    def _run(self, *args):
        r = subprocess.run([self.SCRIPT] + list(args) + [self.dir],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise HarnessError("pg-cluster %s failed: %s%s"
                               % (args, r.stdout, r.stderr))
        return r.stdout.strip()

    def start(self):
        self.url = self._run("start")
        return self.url

    def down(self):
        self._run("down")

    def up(self):
        self._run("up")

    def close(self):
        subprocess.run([self.SCRIPT, "stop", self.dir], capture_output=True,
                       timeout=120)


def pg_database_for(data_dir):
    """The database of data_dir on the test cluster (created if new)."""
    name = "kw_" + hashlib.sha1(os.path.realpath(data_dir).encode()
                                ).hexdigest()[:20]
    if not pg_psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % name):
        pg_psql('CREATE DATABASE "%s"' % name)
    return pg_store_url(name)


class Server:
    """A keywarden daemon on 127.0.0.1:<free port> with its own data dir.

    Server(extra_args=None, env=None, init=True, data_dir=None,
           admin_token=None)

    ``init`` runs ``keywarden init`` on first start.  Pass ``data_dir`` (and
    ``admin_token``) to serve an existing data directory, e.g. to restart on
    the data of another Server; such a directory is not removed on close.
    ``stop()`` followed by ``start()`` restarts the daemon on the same data
    (on a new port); the log file is appended to across restarts.
    """

    def __init__(self, extra_args=None, env=None, init=True, data_dir=None,
                 admin_token=None, bin=None, tls=None, port=None):
        self.bin = bin or BIN
        self.tls = tls                 # ssl.SSLContext: the server does TLS
        self.fixed_port = port         # listen here (else a free port)
        self.extra_args = [str(a) for a in (extra_args or [])]
        self.env = dict(env or {})
        self.init = init
        self.tmp = None
        self._own_data = data_dir is None
        self.data_dir = data_dir
        self.admin_token = admin_token
        self.init_output = None        # parsed JSON printed by init
        self.port = None
        self.url = None
        self.proc = None
        self.log_path = None
        self.stdout_path = None
        self.last_raw = None           # raw body of the last response
        self._logf = None
        self._outf = None
        self._own_db = False           # drop KEYWARDEN_STORE's db on close

    @property
    def store_url(self):
        """The store this server uses ("" = SQLite in its data dir)."""
        return self.env.get("KEYWARDEN_STORE", "")

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Initialise (first time, if init) and start the daemon; wait for
        /healthz to answer 200.  Returns self."""
        if self.proc is not None and self.proc.poll() is None:
            raise HarnessError("server already running")
        if not os.path.exists(self.bin):
            raise HarnessError("keywarden binary not found: %s (set "
                               "KEYWARDEN_BIN or `make build/test/keywarden`)"
                               % self.bin)
        if self.tmp is None:
            self.tmp = tempfile.mkdtemp(prefix="kw-e2e-")
            os.chmod(self.tmp, 0o700)
            self.log_path = os.path.join(self.tmp, "serve.log")
            self.stdout_path = os.path.join(self.tmp, "serve.out")
        if self.data_dir is None:
            self.data_dir = os.path.join(self.tmp, "data")
            os.mkdir(self.data_dir, 0o700)
        if PG_TEST_URL and "KEYWARDEN_STORE" not in self.env and \
                not _sqlite_pinned[0]:
            self.env["KEYWARDEN_STORE"] = pg_database_for(self.data_dir)
            self._own_db = self._own_data
        if self.init and self.admin_token is None:
            self._run_init()
        self.port = self.fixed_port or free_port()
        self.url = "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                          self.port)
        self._logf = open(self.log_path, "ab")
        self._outf = open(self.stdout_path, "ab")
        cmd = [self.bin, "serve", "--data-dir", self.data_dir,
               "--listen", "127.0.0.1:%d" % self.port] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._outf, stderr=self._logf,
                                     env=base_env(self.env),
                                     start_new_session=True)
        _live.add(self)
        try:
            self._wait_healthy()
        except BaseException:
            self.kill()
            raise
        return self

    def _run_init(self):
        r = run_bin("init", "--data-dir", self.data_dir,
                    "--admin-email", ADMIN_EMAIL, "--admin-name", ADMIN_NAME,
                    env=self.env, bin=self.bin)
        if r.returncode != 0:
            raise HarnessError("keywarden init failed (exit %d)\nstdout: %s\n"
                               "stderr: %s" % (r.returncode, r.stdout,
                                               r.stderr))
        try:
            self.init_output = parse_json_output(r.stdout)
            self.admin_token = self.init_output["admin_token"]
        except (ValueError, KeyError) as e:
            raise HarnessError("keywarden init printed no admin_token (%s)\n"
                               "stdout: %s" % (e, r.stdout))

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError("keywarden serve exited with %s before "
                                   "becoming healthy\nlog:\n%s"
                                   % (self.proc.returncode, self.log()[-4000:]))
            try:
                st, _, _, _ = http_request(self.port, "GET", "/healthz",
                                           timeout=2, tls=self.tls)
                if st == 200:
                    return
                last = "status %d" % st
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        raise HarnessError("keywarden serve not healthy within %.0f s (%s)"
                           "\nlog:\n%s" % (START_TIMEOUT, last,
                                           self.log()[-4000:]))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Send ``sig`` and wait up to ``timeout`` s.  Returns the exit code
        (negative: killed by that signal).  If the daemon does not exit in
        time it is killed and ``self.stop_timed_out`` is set."""
        self.stop_timed_out = False
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop_timed_out = True
                self.kill()
        self._close_files()
        _live.discard(self)
        return self.proc.returncode

    def kill(self):
        """Kill the daemon (and its process group) now; bounded wait."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    self.proc.kill()
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()
        _live.discard(self)

    def close(self):
        """Kill the daemon if running and remove the temporary directory
        (kept when KEYWARDEN_KEEP_TMP is set)."""
        self.kill()
        if self._own_db and not os.environ.get("KEYWARDEN_KEEP_TMP"):
            self._own_db = False
            try:
                pg_drop_database(self.store_url)
            except (HarnessError, OSError, subprocess.SubprocessError):
                pass
        if self.tmp and not os.environ.get("KEYWARDEN_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
            if self._own_data:
                self.data_dir = None

    def _close_files(self):
        for f in (self._logf, self._outf):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._logf = self._outf = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    # -- observing ---------------------------------------------------------

    def log(self):
        """The daemon's captured stderr so far (all starts), as text."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        if not self.stdout_path or not os.path.exists(self.stdout_path):
            return ""
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, token=_ADMIN, headers=None,
                raw=None, content_type="application/json",
                timeout=REQUEST_TIMEOUT):
        """Send one request.  ``body`` is JSON-encoded, ``raw`` sent as bytes
        verbatim; Content-Type is set only when there is a body (pass
        content_type=None to omit it).  ``token`` defaults to the admin's;
        token=None sends no Authorization header.  Returns (status,
        parsed_json_or_None, headers); the raw body is kept in
        ``self.last_raw``."""
        if token is _ADMIN:
            token = self.admin_token
        st, parsed, hdrs, payload = http_request(
            self.port, method, path, body=body, token=token, headers=headers,
            raw=raw, content_type=content_type, timeout=timeout,
            tls=self.tls)
        self.last_raw = payload
        return st, parsed, hdrs

    def cli(self, *args, env=None, timeout=CLI_TIMEOUT, input=None):
        """Run the binary with ``args`` (bounded); CompletedProcess."""
        e = dict(self.env)
        if env:
            e.update(env)
        return run_bin(*args, env=e, timeout=timeout, input=input,
                       bin=self.bin)


def store_rows(srv, sql):
    """Rows (tuples of text) of a read-only query on srv's store, SQLite
    or PostgreSQL alike (the SQL must mean the same on both)."""
    if srv.store_url:
        r = subprocess.run(["psql", "-X", "-qAt", "-F", "\x1f", "-R",
                            "\x1e", "-d", srv.store_url, "-c", sql],
                           capture_output=True, text=True,
                           timeout=CLI_TIMEOUT)
        if r.returncode != 0:
            raise HarnessError("psql %r failed: %s" % (sql, r.stderr))
        out = r.stdout.rstrip("\n")
        return [tuple(rec.split("\x1f")) for rec in out.split("\x1e")
                if rec != ""]
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.data_dir, "keywarden.db"))
    try:
        return [tuple(v if v is None or isinstance(v, (str, bytes))
                      else str(v) for v in row)
                for row in db.execute(sql).fetchall()]
    finally:
        db.close()


def store_bytes(srv):
    """Everything srv's store holds, as bytes: the SQLite file, or a
    pg_dump of its database (to check a secret is nowhere in it)."""
    if srv.store_url:
        r = subprocess.run(["pg_dump", "-d", srv.store_url],
                           capture_output=True, timeout=CLI_TIMEOUT)
        if r.returncode != 0:
            raise HarnessError("pg_dump failed: %s" % r.stderr)
        return r.stdout
    with open(os.path.join(srv.data_dir, "keywarden.db"), "rb") as f:
        return f.read()


def store_version(srv):
    """The schema version of srv's store (the server stopped)."""
    if srv.store_url:
        return int(store_rows(srv, "SELECT max(version) FROM "
                                   "keywarden_schema")[0][0])
    return int(store_rows(srv, "PRAGMA user_version")[0][0])


def store_downgrade(srv, script, version):
    """Run script (SQL both backends understand, ';'-separated) on srv's
    stopped store and record it as schema version: a store from before a
    migration, for upgrade tests."""
    if srv.store_url:
        script += ";DELETE FROM keywarden_schema WHERE version > %d" % version
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                            "-1", "-d", srv.store_url, "-c", script],
                           capture_output=True, text=True,
                           timeout=CLI_TIMEOUT)
        if r.returncode != 0:
            raise HarnessError("psql downgrade failed: %s" % r.stderr)
        return
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.data_dir, "keywarden.db"))
    try:
        db.executescript(script + ";PRAGMA user_version = %d;" % version)
        db.commit()
    finally:
        db.close()


def _path_id(x):
    return urllib.parse.quote(str(x), safe="@")


def make_person(srv, email, **fields):
    """Create a person as admin (name defaults to the email's local part);
    return the person object.  Raises AssertionError unless 201."""
    body = {"email": email, "name": fields.pop("name", email.split("@")[0])}
    body.update(fields)
    st, obj, _ = srv.request("POST", "/v1/people", body)
    if st != 201 or not isinstance(obj, dict):
        raise AssertionError("POST /v1/people %s -> %s %r"
                             % (email, st, obj))
    return obj


def token_for(srv, person, token=_ADMIN):
    """Issue a keywarden token for ``person`` (id or email) as admin (or as
    ``token``); return the token string.  Raises AssertionError unless 201."""
    st, obj, _ = srv.request("POST", "/v1/people/%s/tokens" % _path_id(person),
                             {}, token=token)
    if st != 201 or not isinstance(obj, dict) or "token" not in obj:
        raise AssertionError("POST /v1/people/%s/tokens -> %s %r"
                             % (person, st, obj))
    return obj["token"]


@atexit.register
def _kill_all():
    for s in list(_live):
        try:
            s.kill()
        except Exception:
            pass
