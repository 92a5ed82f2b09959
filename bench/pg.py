"""bench/pg.py — the `pg` section of bench/run.py: keywarden on PostgreSQL
beside keywarden on SQLite and PostgreSQL's own single-row insert rate,
all in the same run.

  anchor        pgbench, one 300-byte INSERT per transaction, 1 and 8
                clients, synchronous_commit on (a durable cluster of its
                own, scripts/pg-cluster ... fsync, loopback TCP)
  creation      POST /v1/requests (request + history + audit event, one
                transaction) with wrk: SQLite one node at 64 connections;
                PostgreSQL two nodes on one database, 32 connections each
                at once (their sum), the audit chain verified afterwards;
                and the filings per WAL fsync (pg_stat_wal.wal_sync: how
                large the groups committed were, both nodes together)
  reads         GET /v1/me at 64 connections on one node: SQLite, then
                each PostgreSQL node (its authentication cache watched
                for the other nodes' changes by LISTEN/NOTIFY)
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading

import kwb

REPO = os.path.dirname(kwb.HERE)
CLUSTER = os.path.join(REPO, "scripts", "pg-cluster")
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
# the anchors the issue measured beside its 3,000/s target (pgbench
# single-row inserts/s at 1 and 8 clients)
ISSUE_ANCHOR1 = 3500
ISSUE_ANCHOR8 = 12300
REQUEST = {"kind": "api_token", "justification": "bench",
           "use_case": "bench", "scopes": ["read"], "lifetime_days": 30}


def psql_one(url, sql):
    return subprocess.run(["psql", "-X", "-At", "-d", url, "-c", sql],
                          check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def pgbench(url, clients, seconds, tmp):
    script = os.path.join(tmp, "insert.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO bench_rows (v) VALUES (repeat('x', 300));\n")
    r = subprocess.run([PGBENCH, "-n", "-M", "prepared", "-c", str(clients),
                        "-j", str(min(clients, 2)), "-T", str(seconds),
                        "-f", script, url], capture_output=True, text=True,
                       timeout=seconds + 60)
    for line in r.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    raise RuntimeError("pgbench: %s%s" % (r.stdout[-500:], r.stderr[-500:]))


def world(port, admin):
    """People, a token and a manual instance; the requester's token."""
    api = kwb.Api(port, admin)
    api.must("POST", "/v1/people", {"email": "maria@example.com",
                                    "name": "Maria"})
    api.must("POST", "/v1/people", {"email": "rick@example.com",
                                    "name": "Rick",
                                    "manager": "maria@example.com"})
    tok = api.must("POST", "/v1/people/rick@example.com/tokens", {})["token"]
    api.must("POST", "/v1/instances", {
        "name": "bench", "url": "https://bench.zendesk.example.com",
        "issuance": "manual"})
    api.must("POST", "/v1/requests", dict(REQUEST, instance="bench"),
             token=tok)
    api.close()
    return tok


def wrk_many(urls, conns, seconds, token, script=None, args=()):
    """wrk against each url at once; their results."""
    res = [None] * len(urls)

    def one(i):
        res[i] = kwb.wrk(urls[i], conns, seconds, token, script=script,
                         args=args)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return res


def section(tmp, procs, out, row, fmt_n, seconds, threads, progress):
    d = tempfile.mkdtemp(prefix="pg-", dir=tmp)
    # the cluster's own directory, where its unprivileged user can reach
    # it (tmp is the benchmark's, mode 0700)
    cdir = tempfile.mkdtemp(prefix="kw-bench-pg-")
    url = subprocess.run([CLUSTER, "start", cdir, "fsync"], check=True,
                         capture_output=True, text=True,
                         timeout=120).stdout.strip()
    base = url.rsplit("/", 1)[0]
    try:
        subprocess.run(["psql", "-X", "-q", "-d", url, "-c",
                        "CREATE DATABASE kw_bench", "-c", "CREATE TABLE"
                        " bench_rows (id bigserial PRIMARY KEY, v text)"],
                       check=True, capture_output=True, timeout=60)
        progress("pg: pgbench single-row inserts, 1 and 8 clients")
        anchor1 = pgbench(url, 1, seconds, d)
        anchor8 = pgbench(url, 8, seconds, d)
        script = os.path.join(kwb.HERE, "requests.lua")

        # SQLite, one node
        sq = os.path.join(d, "sqlite-data")
        admin = kwb.kw_init(sq)
        kw, port = procs.keywarden(sq, threads, os.path.join(d, "sq.log"))
        tok = world(port, admin)
        progress("pg: SQLite POST /v1/requests, 64 connections")
        sq_create = kwb.wrk("http://127.0.0.1:%d/v1/requests" % port, 64,
                            seconds, script=script, args=(tok, "bench"))
        progress("pg: SQLite GET /v1/me, 64 connections")
        sq_read = kwb.wrk("http://127.0.0.1:%d/v1/me" % port, 64, seconds,
                          tok)
        procs.stop(kw)

        # PostgreSQL, two nodes on one database
        store = base + "/kw_bench"
        n1 = os.path.join(d, "node1")
        env = dict(os.environ, KEYWARDEN_STORE=store)
        r = subprocess.run([kwb.KW, "init", "--data-dir", n1,
                            "--admin-email", "bench@example.com"],
                           capture_output=True, text=True, check=True,
                           env=env, timeout=60)
        admin = json.loads(r.stdout)["admin_token"]
        n2 = os.path.join(d, "node2")
        os.mkdir(n2, 0o700)
        shutil.copy2(os.path.join(n1, "master.key"), n2)
        ports = []
        for n in (n1, n2):
            _, p = procs.keywarden(n, threads, os.path.join(d, "pg.log"),
                                   extra=("--store", store))
            ports.append(p)
        tok = world(ports[0], admin)
        progress("pg: two nodes POST /v1/requests, 2 x 32 connections")
        count = "SELECT (SELECT count(*) FROM requests) || ' ' || " \
            "(SELECT wal_sync FROM pg_stat_wal)"
        n0, s0 = [int(x) for x in psql_one(store, count).split()]
        pg_create = wrk_many(["http://127.0.0.1:%d/v1/requests" % p
                              for p in ports], 32, seconds, None,
                             script=script, args=(tok, "bench"))
        n1, s1 = [int(x) for x in psql_one(store, count).split()]
        api = kwb.Api(ports[1], admin)
        verify = api.must("GET", "/v1/audit/verify")
        api.close()
        pg_read = []
        for p in ports:
            progress("pg: GET /v1/me on one node, 64 connections")
            pg_read.append(kwb.wrk("http://127.0.0.1:%d/v1/me" % p, 64,
                                   seconds, tok))
    finally:
        procs.close()
        subprocess.run([CLUSTER, "stop", cdir], capture_output=True,
                       timeout=120)

    total = sum(x["rps"] for x in pg_create)
    errs = sum(x["non_2xx"] + x["socket_errors"] for x in pg_create)
    out("== PostgreSQL store: %ds per run, %s server threads per node, "
        "durable cluster on 127.0.0.1 (synchronous_commit on)"
        % (seconds, threads))
    row("pgbench 1-row inserts/s, 1 client (anchor)", fmt_n(anchor1), "")
    row("pgbench 1-row inserts/s, 8 clients (anchor)", fmt_n(anchor8), "")
    row("sqlite: POST /v1/requests/s, 1 node, 64 conns",
        fmt_n(sq_create["rps"]), "p99 %.2f ms" % sq_create["p99_ms"])
    row("postgresql: POST /v1/requests/s, 2 nodes, 2x32",
        fmt_n(total), "(%.2fx pgbench 8 clients; %.2fx sqlite)  "
        "non-2xx+errors %d" % (total / anchor8 if anchor8 else 0,
                                total / sq_create["rps"]
                                if sq_create["rps"] else 0, errs))
    for i, x in enumerate(pg_create):
        row("  node %d" % (i + 1), fmt_n(x["rps"]),
            "p50 %.2f ms  p99 %.2f ms" % (x["p50_ms"], x["p99_ms"]))
    row("  filings per WAL fsync", "%.1f" % ((n1 - n0) / max(1, s1 - s0)),
        "%s fsyncs" % fmt_n(s1 - s0))
    row("  audit chain after the run", "ok" if verify.get("ok") else
        "BROKEN", "%s events" % fmt_n(verify.get("events", 0)))
    row("sqlite: GET /v1/me/s, 1 node, 64 conns", fmt_n(sq_read["rps"]),
        "p99 %.2f ms" % sq_read["p99_ms"])
    for i, x in enumerate(pg_read):
        row("postgresql: GET /v1/me/s, node %d, 64 conns" % (i + 1),
            fmt_n(x["rps"]), "(%.0f%% of sqlite)  p99 %.2f ms" % (
                100.0 * x["rps"] / sq_read["rps"] if sq_read["rps"] else 0,
                x["p99_ms"]))
    # The issue's 3,000/s was set beside anchors measured on a machine of
    # this kind (ISSUE_ANCHOR1/8).  PostgreSQL's own insert rate here and
    # now (the fsync latency of this disk, other load) moves the reachable
    # rate with it, so the target is also judged scaled by this run's
    # anchors: by the larger of the two ratios (the stricter target),
    # never above 3,000/s.
    scale = min(1.0, max(anchor1 / ISSUE_ANCHOR1, anchor8 / ISSUE_ANCHOR8))
    out("   targets: creation >= 3,000/s on two nodes  ->  %s; scaled to "
        "this run's anchors (x%.2f: >= %s/s)  ->  %s; reads per node >= "
        "80%% of sqlite  ->  %s" % (
            "met" if total >= 3000 else "MISSED", scale,
            fmt_n(3000 * scale),
            "met" if total >= 3000 * scale else "MISSED",
            "met" if min(x["rps"] for x in pg_read) >= 0.8 * sq_read["rps"]
            else "MISSED"))
