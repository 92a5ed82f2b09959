"""issuance.py — issuance end to end against zendesk-sim, for bench/run.py.

A provisioner's approval of a request that the manager approved already
(pending_provisioner) makes keywarden record the approval, call the
instance twice (POST /api/v2/oauth/clients, POST /api/v2/oauth/tokens)
and commit the credential: the request is `issued` when the answer comes.
N such requests are filed and manager-approved beforehand; then C Python
threads (http.client, keep-alive) post the provisioner approvals, timing
each call, for a bounded time or until the requests run out.
"""
import threading
import time

import kwb

REQUEST = {"instance": "global", "kind": "api_token",
           "justification": "benchmark: nightly export of ticket metrics",
           "use_case": "reporting", "scopes": ["tickets:read"],
           "lifetime_days": 30}


def setup_world(api, sim_url, instance="global", issuance="automatic"):
    """People (maria manages rick; pat provisions), their tokens and an
    instance on the simulator.  Returns {email: token}."""
    api.must("POST", "/v1/people", {"email": "maria@example.com",
                                    "name": "Maria"})
    api.must("POST", "/v1/people", {"email": "rick@example.com",
                                    "name": "Rick",
                                    "manager": "maria@example.com"})
    api.must("POST", "/v1/people", {"email": "pat@example.com",
                                    "name": "Pat"})
    tok = {}
    for p in ("maria@example.com", "rick@example.com", "pat@example.com"):
        tok[p] = api.must("POST", "/v1/people/%s/tokens" % p, {})["token"]
    api.must("POST", "/v1/instances", {
        "name": instance, "url": sim_url, "issuance": issuance,
        "provisioners": ["pat@example.com"],
        "bot": {"email": kwb.SIM_BOT_EMAIL,
                "oauth_token": kwb.SIM_BOT_TOKEN}})
    return tok


def _parallel(n_workers, fn):
    errors = []

    def run(i):
        try:
            fn(i)
        except Exception as e:          # reported by the caller
            errors.append(e)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n_workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def precreate(port, tok, n, workers=8):
    """File n requests as rick and approve them as maria (manager): n
    request ids in pending_provisioner."""
    ids = []
    lock = threading.Lock()
    per = [n // workers + (1 if i < n % workers else 0)
           for i in range(workers)]

    def work(i):
        a = kwb.Api(port)
        try:
            for _ in range(per[i]):
                r = a.must("POST", "/v1/requests", REQUEST,
                           token=tok["rick@example.com"])
                r = a.must("POST", "/v1/requests/%s/approve" % r["id"], {},
                           token=tok["maria@example.com"])
                if r["state"] != "pending_provisioner":
                    raise RuntimeError("unexpected state %r" % r["state"])
                with lock:
                    ids.append(r["id"])
        finally:
            a.close()
    _parallel(workers, work)
    return ids


def approve_all(port, token, ids, conc, seconds):
    """conc threads post provisioner approvals of ids (each once) for at
    most `seconds`.  Returns issued, failed, elapsed, issued/s, p50/p99 ms
    (of issued calls) and whether the pool ran out."""
    pool = list(reversed(ids))
    lock = threading.Lock()
    lat, bad = [], []
    deadline = [None]

    def work(_):
        a = kwb.Api(port, token)
        mine, mbad = [], []
        try:
            while time.monotonic() < deadline[0]:
                with lock:
                    if not pool:
                        break
                    rid = pool.pop()
                t0 = time.monotonic()
                st, obj = a.call("POST", "/v1/requests/%s/approve" % rid, {})
                dt = time.monotonic() - t0
                if st == 200 and obj and obj.get("state") == "issued":
                    mine.append(dt)
                else:
                    mbad.append((st, obj))
        finally:
            a.close()
            with lock:
                lat.extend(mine)
                bad.extend(mbad)
    t0 = time.monotonic()
    deadline[0] = t0 + seconds
    _parallel(conc, work)
    elapsed = time.monotonic() - t0
    lat.sort()
    return {"issued": len(lat), "failed": len(bad),
            "first_failure": bad[0] if bad else None,
            "elapsed": elapsed, "rate": len(lat) / elapsed,
            "p50_ms": kwb.percentile(lat, 50) * 1000,
            "p99_ms": kwb.percentile(lat, 99) * 1000,
            "ran_out": not pool}
