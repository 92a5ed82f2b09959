"""jobs.py — `keywarden jobs run` over a large credential table, for
bench/run.py.

Setup (honest and fast):
  - `keywarden init` a data dir; keywarden serve + zendesk-sim; through
    the API: two managers, a provisioner, OWNERS people managed by them,
    and one instance with automatic issuance on the simulator (its bot
    token is the sim's admin token); keywarden is stopped again.
  - For the 1% of credentials that are past expires_at, a real OAuth
    client + token pair is made on the simulator first (POST
    /api/v2/oauth/clients, /api/v2/oauth/tokens; a few keep-alive
    threads), so that expiry revokes something real there.
  - N rows go straight into `credentials` (the columns of migrations 2
    and 3) in one transaction with executemany: kind api_token, state
    active, delivered, owned by one of the people, on the instance.
    Every 100th row (offset 37) is past expires_at, every 100th (offset
    73) is 5-25 days from it (inside the 30-day warning window); the
    other 98% expire 61-365 days after --now.  Every credential was
    created less than 90 days (the instance's rotation period) before
    --now, so none is due for rotation.
Measured: `keywarden jobs run --data-dir D --now T --upstream-timeout 10`
(wall time and peak RSS, from /usr/bin/time when installed), and a
second run at the same --now when nothing is due any more.  Afterwards
the simulator is asked whether the expired credentials' clients and
tokens are gone.
"""
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import kwb

DAY = 86400
OWNERS = 8
TIME_BIN = "/usr/bin/time"
EXPIRING, WARNING = 37, 73          # row % 100: past expiry, warning window


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def setup_world(api, sim_url):
    """Managers, owners, a provisioner and an automatic instance on the
    simulator."""
    for m in ("maria", "lena"):
        api.must("POST", "/v1/people", {"email": m + "@example.com",
                                        "name": m.capitalize()})
    api.must("POST", "/v1/people", {"email": "pat@example.com",
                                    "name": "Pat"})
    for i in range(OWNERS):
        api.must("POST", "/v1/people", {
            "email": "owner%d@example.com" % i, "name": "Owner %d" % i,
            "manager": ("maria", "lena")[i % 2] + "@example.com"})
    api.must("POST", "/v1/instances", {
        "name": "global", "url": sim_url, "issuance": "automatic",
        "provisioners": ["pat@example.com"],
        "bot": {"email": kwb.SIM_BOT_EMAIL,
                "oauth_token": kwb.SIM_BOT_TOKEN}})


def make_pairs(sim_port, cred_ids, workers=8):
    """One OAuth client + token on the simulator per credential id, as
    keywarden's issuance makes them.  {cred_id: (client_id, token_id)}."""
    pairs = {}
    lock = threading.Lock()
    todo = list(cred_ids)
    errors = []

    def work():
        a = kwb.Api(sim_port, kwb.SIM_BOT_TOKEN)
        try:
            while True:
                with lock:
                    if not todo or errors:
                        return
                    cid = todo.pop()
                c = a.must("POST", "/api/v2/oauth/clients", {"client": {
                    "name": "https://reports.example.com/" + cid,
                    "identifier": "keywarden-" + cid,
                    "kind": "confidential", "redirect_uri": [],
                    "description": "keywarden benchmark credential"}},
                    expect=(201,))["client"]
                t = a.must("POST", "/api/v2/oauth/tokens", {"token": {
                    "client_id": c["id"], "scopes": ["read"]}},
                    expect=(201,))["token"]
                with lock:
                    pairs[cid] = (str(c["id"]), str(t["id"]))
        except Exception as e:
            with lock:
                errors.append(e)
        finally:
            a.close()
    ts = [threading.Thread(target=work) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return pairs


def insert_credentials(data, n, now, sim_port):
    """n credentials straight into the store; returns the expiring ones'
    {cred_id: (client_id, token_id)} and the seconds the load took."""
    db = sqlite3.connect(os.path.join(data, "keywarden.db"),
                         isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        inst = db.execute("SELECT id FROM instances WHERE name = 'global'"
                          ).fetchone()[0]
        owners = [r[0] for r in db.execute(
            "SELECT id FROM people WHERE email LIKE 'owner%' ORDER BY seq")]
        ids = ["cred_" + secrets.token_hex(12) for _ in range(n)]
        expiring = [ids[i] for i in range(n) if i % 100 == EXPIRING]
        t0 = time.monotonic()
        pairs = make_pairs(sim_port, expiring)
        pairs_s = time.monotonic() - t0
        rows = []
        for i, cid in enumerate(ids):
            k = i % 100
            if k == EXPIRING:
                created = now - 40 * DAY - (i % 7) * 3600
                expires = now - (1 + i % 10) * DAY + (i % 13) * 600
                client_id, token_id = pairs[cid]
            else:
                if k == WARNING:
                    created = now - 10 * DAY
                    expires = now + (5 + i % 21) * DAY - (i % 11) * 300
                else:
                    created = now - (1 + i % 80) * DAY
                    expires = now + (61 + i % 305) * DAY
                client_id = str(50000000 + i)
                token_id = str(90000000 + i)
            external = json.dumps({"client_id": client_id,
                                   "token_id": token_id,
                                   "identifier": "keywarden-" + cid})
            rows.append((cid, inst, 0, owners[(i + i // 100) % len(owners)], None,
                         "personal", "https://reports.example.com/exports/"
                         "%d" % i, '["read"]', 1, iso(created), iso(expires),
                         external, "fp_%016x" % (i * 2654435761 % (1 << 64)),
                         2, 30))
        t1 = time.monotonic()
        # a bulk load: a rollback journal without syncs, back to WAL after
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO credentials (id, instance_id, kind, owner_id,"
            " request_id, purpose, name, scopes, state, created_at,"
            " expires_at, external, fingerprint, delivery, lifetime_days)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
        load_s = time.monotonic() - t1
    finally:
        db.close()
    return pairs, pairs_s, load_s


class RssSampler:
    """Polls /proc/PID/status of `jobs run` (the child of the wrapper)
    every few ms for RssAnon and RssFile: what the peak RSS is made of
    (file-backed pages are the store's, when SQLite maps it).  A sample's
    maxima, so a lower bound of the true peaks."""

    def __init__(self, wrapper_pid, every=0.003):
        self.wrapper, self.every = wrapper_pid, every
        self.peak = {"RssAnon": 0, "RssFile": 0, "samples": 0}
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def target(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.wrapper,
                                                     self.wrapper)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def run(self):
        pid = None
        while not self.done.is_set():
            pid = pid or self.target()
            if pid:
                try:
                    with open("/proc/%d/status" % pid) as f:
                        for line in f:
                            k = line.split(":")[0]
                            if k in ("RssAnon", "RssFile"):
                                self.peak[k] = max(self.peak[k],
                                                   int(line.split()[1]))
                    self.peak["samples"] += 1
                except OSError:
                    pass
            time.sleep(self.every)

    def stop(self):
        self.done.set()
        self.t.join()


def timed_jobs(data, now_s, log_path):
    """Run `keywarden jobs run` once: (summary, wall s, peak RSS kB, user
    s, sys s, how RSS was measured, sampled RssAnon/RssFile peaks)."""
    cmd = [kwb.KW, "jobs", "run", "--data-dir", data, "--now", now_s,
           "--upstream-timeout", "10"]
    tfile = log_path + ".time"
    if os.access(TIME_BIN, os.X_OK):
        full = [TIME_BIN, "-o", tfile, "-f", "%e %M %U %S"] + cmd
        how = "/usr/bin/time"
    else:
        # a wrapper of our own whose only child is `jobs run`: its
        # RUSAGE_CHILDREN is that process's alone
        full = [sys.executable, "-c",
                "import resource, subprocess, sys, time\n"
                "t = time.monotonic()\n"
                "r = subprocess.call(sys.argv[2:])\n"
                "t = time.monotonic() - t\n"
                "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                "open(sys.argv[1], 'w').write('%.2f %d %.2f %.2f' % (t, "
                "u.ru_maxrss, u.ru_utime, u.ru_stime))\n"
                "sys.exit(r)\n", tfile] + cmd
        how = "getrusage(RUSAGE_CHILDREN)"
    with open(log_path, "ab") as log:
        t0 = time.monotonic()
        p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=log,
                             stdin=subprocess.DEVNULL)
        sampler = RssSampler(p.pid)
        try:
            stdout, _ = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        finally:
            sampler.stop()
        wall = time.monotonic() - t0
    r = subprocess.CompletedProcess(full, p.returncode, stdout)
    if r.returncode != 0:
        raise RuntimeError("keywarden jobs run exited %d: %s" % (
            r.returncode, r.stdout.decode(errors="replace")[-500:]))
    with open(tfile) as f:
        e, m, u, s = f.read().split()[-4:]
    # /usr/bin/time's %e has two decimals; our own clock is finer and
    # includes only a fork more
    return (json.loads(r.stdout), wall, int(m), float(u), float(s), how,
            sampler.peak)


def sim_state(sim_url):
    with urllib.request.urlopen(sim_url + "/_sim/state",
                                    timeout=30) as r:
        return json.loads(r.read())


def store_counts(data):
    db = sqlite3.connect(os.path.join(data, "keywarden.db"))
    try:
        states = dict(db.execute("SELECT state, count(*) FROM credentials "
                                 "GROUP BY state").fetchall())
        warned = db.execute("SELECT count(DISTINCT credential_id) FROM "
                            "credential_warnings").fetchone()[0]
        size = os.path.getsize(os.path.join(data, "keywarden.db"))
    finally:
        db.close()
    return states, warned, size


def run(tmp, procs, n, progress=lambda m: None):
    """The whole section; returns a dict of figures."""
    res = {"n": n}
    sp, sport, surl = procs.sim(os.path.join(tmp, "jobs-sim.log"))
    data = os.path.join(tmp, "jobs-data")
    admin = kwb.kw_init(data)
    kw, port = procs.keywarden(data, 2, os.path.join(tmp, "jobs-kw.log"))
    api = kwb.Api(port, admin)
    setup_world(api, surl)
    api.close()
    procs.stop(kw)

    now = int(time.time())
    now_s = iso(now)
    progress("jobs: %d client+token pairs on the simulator, %d credentials "
             "into the store" % (sum(1 for i in range(n)
                                     if i % 100 == EXPIRING), n))
    pairs, res["pairs_s"], res["load_s"] = insert_credentials(data, n, now,
                                                              sport)
    res["expiring"] = len(pairs)
    res["warning_due"] = sum(1 for i in range(n) if i % 100 == WARNING)
    st = sim_state(surl)
    ours = set(c for c, _ in pairs.values())
    res["sim_clients_before"] = sum(1 for c in st["clients"]
                                    if str(c["id"]) in ours)
    res["db_mb"] = store_counts(data)[2] / 1e6
    req0 = st["requests"]["total"]
    by0 = st["requests"]["by_endpoint"]

    log = os.path.join(tmp, "jobs-run.log")
    progress("jobs: keywarden jobs run --now %s" % now_s)
    (res["summary"], res["wall"], res["rss_kb"], res["user"], res["sys"],
     res["rss_how"], res["rss_parts"]) = timed_jobs(data, now_s, log)
    st = sim_state(surl)
    res["sim_calls"] = st["requests"]["total"] - req0
    res["sim_calls_by"] = dict(
        (k, v - by0.get(k, 0)) for k, v in
        st["requests"]["by_endpoint"].items() if v != by0.get(k, 0))
    tokens = set(p[1] for p in pairs.values())
    res["sim_clients_left"] = sum(1 for c in st["clients"]
                                  if str(c["id"]) in ours)
    res["sim_tokens_left"] = sum(1 for t in st["tokens"]
                                 if str(t["id"]) in tokens)
    res["states"], res["warned"], _ = store_counts(data)

    progress("jobs: again at the same --now (nothing due)")
    req0 = st["requests"]["total"]
    (res["summary2"], res["wall2"], res["rss2_kb"], res["user2"],
     res["sys2"], _, res["rss2_parts"]) = timed_jobs(data, now_s, log)
    res["sim_calls2"] = sim_state(surl)["requests"]["total"] - req0
    procs.stop(sp)
    return res
