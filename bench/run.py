#!/usr/bin/python3
"""keywarden benchmark (not a test): prints figures, asserts nothing.

Every figure is printed next to an anchor measured in the same run, with
the ratio (absolute figures drift 5-10% between runs on this machine
kind; see /work/shared/design/PERFORMANCE.md):

  GET /v1/me            wrk at 1 and 64 connections; anchor: a trivial
                        libmicrohttpd handler (bench-ceiling); peak RSS
  request creation      POST /v1/requests with wrk at 64 connections
                        (bench/requests.lua); anchor: single-writer SQLite
                        commits/s, WAL + synchronous=FULL (bench-commit)
  audit verify          `keywarden audit verify` on a log of 1,000,000
                        events (bench/auditlog.py builds it); anchor: raw
                        OpenSSL SHA-256 hashes/s (reused EVP context) over
                        records of the same size (bench-sha), and the ratio;
                        also both per second of CPU time (user+sys), which
                        a loaded machine does not skew
  issuance              provisioner approval -> issued against zendesk-sim
                        at 1 and 16 clients (bench/issuance.py); anchor:
                        the simulator's own rate, wrk on GET users/me and
                        on the two POSTs issuance makes (bench/zd_issue.lua)
  broker                POST /v1/credentials/{id}/access-token (a grant on
                        zendesk-sim + one audited commit) with wrk at 1 and
                        16 connections (bench/broker.py); anchor: the
                        simulator's own client_credentials grant rate,
                        wrk straight at POST /oauth/tokens; keywarden's p50
                        overhead at 1 connection
  lifecycle jobs        `keywarden jobs run` over 100,000 credentials, 1%
                        past expiry (revoked on zendesk-sim) and 1% in
                        the warning window (bench/jobs.py); wall time and
                        peak RSS, and a second run with nothing due

Everything talks to 127.0.0.1 only, every run is bounded in time and
every process started is stopped at the end.

Environment:
  BENCH_SECONDS        per timed run (default 10)
  BENCH_THREADS        keywarden/ceiling worker threads for GET /v1/me and
                       request creation (default 2)
  BENCH_AUDIT_EVENTS   events in the audit log (default 1000000)
  BENCH_ISSUE_THREADS  keywarden --threads for the issuance runs (16)
  BENCH_ISSUE_POOL_1, BENCH_ISSUE_POOL_16
                       requests prepared for the 1- and 16-client issuance
                       runs (default 1500 and 2500; a run stops early when
                       its pool runs out)
  BENCH_JOBS_CREDENTIALS
                       credentials in the store for the jobs run
                       (default 100000)
  BENCH_BROKER_THREADS keywarden --threads for the broker runs (16)
  pg                    keywarden on PostgreSQL (bench/pg.py): two nodes on
                        one database creating requests, authenticated
                        reads per node, beside the same on SQLite and
                        pgbench's single-row inserts
  BENCH_SECTIONS       comma list of get,create,audit,issue,broker,jobs,pg
                       (default all)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auditlog                                         # noqa: E402
import broker                                           # noqa: E402
import issuance                                         # noqa: E402
import jobs                                             # noqa: E402
import kwb                                              # noqa: E402
import pg                                               # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = os.environ.get("BENCH_THREADS", "2")
# request creation runs with keywarden's default --threads (8): writers
# wait on fsync, and group commit needs several in flight
CREATE_THREADS = os.environ.get("BENCH_CREATE_THREADS", "8")
AUDIT_EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
ISSUE_THREADS = int(os.environ.get("BENCH_ISSUE_THREADS", "16"))
POOL_1 = int(os.environ.get("BENCH_ISSUE_POOL_1", "1500"))
POOL_16 = int(os.environ.get("BENCH_ISSUE_POOL_16", "2500"))
JOBS_CREDENTIALS = int(os.environ.get("BENCH_JOBS_CREDENTIALS", "100000"))
BROKER_THREADS = int(os.environ.get("BENCH_BROKER_THREADS", "16"))
SECTIONS = os.environ.get("BENCH_SECTIONS",
                          "get,create,audit,issue,broker,jobs,pg")
# diagnostics and secondary anchors run shorter than the main figures
SHORT = max(2, SECONDS // 2)

report = []


def out(line=""):
    report.append(line)


def progress(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def fmt_n(v):
    return "{:,.0f}".format(v)


def row(label, value, note=""):
    out("   %-46s %12s  %s" % (label, value, note))


def lat(r):
    return "p50 %.2f ms  p99 %.2f ms" % (r["p50_ms"], r["p99_ms"])


def ratio(a, b):
    return "(%.2fx anchor)" % (a / b) if b else ""


# -- GET /v1/me (the original benchmark) -------------------------------------

def section_get(tmp, procs):
    data = os.path.join(tmp, "get-data")
    token = kwb.kw_init(data)
    kw, kport = procs.keywarden(data, THREADS, os.path.join(tmp, "get.log"))
    cport = kwb.free_port()
    ceil = procs.start([kwb.CEILING, str(cport), THREADS])
    kurl = "http://127.0.0.1:%d/v1/me" % kport
    curl = "http://127.0.0.1:%d/v1/me" % cport
    kwb.wait_http(kurl, {"Authorization": "Bearer " + token})
    kwb.wait_http(curl)
    cookie = kwb.session_cookie("http://127.0.0.1:%d" % kport, token)
    results = []
    for conns in (1, 64):
        progress("GET /v1/me, %d connection(s)" % conns)
        c = kwb.wrk(curl, conns, SECONDS)
        k = kwb.wrk(kurl, conns, SECONDS, token)
        s = kwb.wrk(kurl, conns, SECONDS, headers=("Cookie: " + cookie,))
        results.append((conns, c, k, s))
    rss = kwb.peak_rss_kb(kw.pid)
    procs.stop(kw)
    procs.stop(ceil)

    out("== GET /v1/me: %ds per run, %s server threads, wrk on 127.0.0.1"
        % (SECONDS, THREADS))
    out("   %-6s %-10s %12s %10s %10s %8s" %
        ("conns", "server", "requests/s", "p50 ms", "p99 ms", "ratio"))
    for conns, c, k, s in results:
        out("   %-6d %-10s %12.0f %10.3f %10.3f %8s" %
            (conns, "ceiling", c["rps"], c["p50_ms"], c["p99_ms"], ""))
        out("   %-6d %-10s %12.0f %10.3f %10.3f %7.0f%%" %
            (conns, "keywarden", k["rps"], k["p50_ms"], k["p99_ms"],
             100.0 * k["rps"] / c["rps"]))
        out("   %-6d %-10s %12.0f %10.3f %10.3f %7.0f%%" %
            (conns, "kw cookie", s["rps"], s["p50_ms"], s["p99_ms"],
             100.0 * s["rps"] / c["rps"]))
        out("          cookie / bearer: %.0f%% of the bearer's requests/s "
            "(target >= 95%%)" % (100.0 * s["rps"] / k["rps"]))
        for who, r in (("bearer", k), ("cookie", s)):
            if r["non_2xx"]:
                out("          (keywarden by %s answered %d non-2xx "
                    "responses)" % (who, r["non_2xx"]))
    out("   keywarden peak RSS: %.1f MB" % (rss / 1024.0))
    out("   targets: >= 50% of the ceiling's requests/s, p99 < 5 ms at "
        "64 connections, RSS < 32 MB")


# -- durable request creation ------------------------------------------------

def bench_commit(tmp, seconds, wide=False):
    d = tempfile.mkdtemp(prefix="commit-", dir=tmp)
    args = [kwb.COMMIT, d, str(seconds), "300"] + (["wide"] if wide else [])
    r = subprocess.run(args, capture_output=True, text=True, check=True,
                       timeout=seconds + 60)
    shutil.rmtree(d, ignore_errors=True)
    return json.loads(r.stdout)


def section_create(tmp, procs):
    progress("SQLite single-writer commits (anchor), %ds" % SECONDS)
    anchor = bench_commit(tmp, SECONDS)

    data = os.path.join(tmp, "create-data")
    admin = kwb.kw_init(data)
    kw, port = procs.keywarden(data, CREATE_THREADS, os.path.join(
        tmp, "create.log"))
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
    first = api.must("POST", "/v1/requests", dict(issuance.REQUEST,
                                                  instance="bench"),
                     token=tok)
    api.close()
    url = "http://127.0.0.1:%d/v1/requests" % port
    script = os.path.join(kwb.HERE, "requests.lua")
    progress("POST /v1/requests, 64 connections, %ds" % SECONDS)
    k64 = kwb.wrk(url, 64, SECONDS, script=script, args=(tok, "bench"))
    progress("POST /v1/requests, 1 connection, %ds" % SHORT)
    k1 = kwb.wrk(url, 1, SHORT, script=script, args=(tok, "bench"))
    rss = kwb.peak_rss_kb(kw.pid)
    procs.stop(kw)
    progress("SQLite commits with a request's write shape (diagnostic), "
             "%ds" % SHORT)
    wide = bench_commit(tmp, SHORT, wide=True)

    a = anchor["commits_per_s"]
    out("== durable request creation: POST /v1/requests, 64 connections, "
        "%ds, %s server threads" % (SECONDS, CREATE_THREADS))
    out("   (each: request + history + audit event in one transaction, "
        "WAL, synchronous=FULL; first answer: %s)" % first["state"])
    row("sqlite single-writer commits/s (anchor)", fmt_n(a),
        "1 row of 300 B per txn; p50 %d us  p99 %d us"
        % (anchor["p50_us"], anchor["p99_us"]))
    row("POST /v1/requests/s, 64 connections", fmt_n(k64["rps"]),
        "%s  %s" % (ratio(k64["rps"], a), lat(k64)))
    row("  non-2xx answers / socket errors",
        "%d / %d" % (k64["non_2xx"], k64["socket_errors"]),
        "of %s requests" % fmt_n(k64["requests"]))
    row("POST /v1/requests/s, 1 connection (%ds)" % SHORT, fmt_n(k1["rps"]),
        "%s  %s" % (ratio(k1["rps"], a), lat(k1)))
    row("sqlite commits/s, a request's write shape", fmt_n(
        wide["commits_per_s"]), "diagnostic (%ds): 3 tables, 5 indexes, "
        "~10 pages/txn; p99 %d us" % (SHORT, wide["p99_us"]))
    out("   keywarden peak RSS: %.1f MB" % (rss / 1024.0))
    out("   target: >= 2,000 requests/s at 64 connections  ->  %s"
        % ("met" if k64["rps"] >= 2000 else "MISSED"))


# -- audit verify ------------------------------------------------------------

def section_audit(tmp, procs):
    progress("audit: checking the generator on a 1,000-event log")
    small = auditlog.check_small(tmp)
    data = os.path.join(tmp, "audit-data")
    kwb.kw_init(data)
    progress("audit: appending %s events" % fmt_n(AUDIT_EVENTS))
    total, avg, gen_s = auditlog.append(data, AUDIT_EVENTS)
    size_mb = os.path.getsize(os.path.join(data, "keywarden.db")) / 1e6
    progress("audit: keywarden audit verify")
    ok, verdict, verify_s, verify_cpu = auditlog.verify(data, cpu=True)
    shutil.rmtree(data, ignore_errors=True)
    rec = int(round(avg))
    sha_s = max(1, SECONDS // 5)
    progress("audit: raw SHA-256 over %d-byte records (anchor)" % rec)
    r = subprocess.run([kwb.SHA, str(rec), str(sha_s)], capture_output=True,
                       text=True, check=True, timeout=8 * sha_s + 60)
    sha = json.loads(r.stdout)

    eps = total / verify_s
    a = sha["sodium"]
    evp = sha.get("evp_reused")
    out("== audit verify: %s events (%s appended in %.1f s; %.0f MB store)"
        % (fmt_n(total), fmt_n(AUDIT_EVENTS), gen_s, size_mb))
    out("   (generator checked first: keywarden verified a 1,000-event "
        "log it built: %s)" % ("intact" if "intact" in small else small))
    out("   record hashed per event: prev hash + \"\\n\" + canonical JSON, "
        "%d B on average" % rec)
    out("   keywarden hashes the chain with OpenSSL's libcrypto (EVP, one "
        "reused context), one reading and hashing thread per core, each "
        "over its own range of the log")
    if evp:
        row("OpenSSL EVP SHA-256, reused context (anchor)", fmt_n(evp),
            "one call per %d-B record" % rec)
        row("  OpenSSL EVP_Digest, one-shot", fmt_n(sha["evp_oneshot"]),
            "(information)")
    else:
        row("OpenSSL", "n/a", "libcrypto not found by pkg-config")
    row("  libsodium crypto_hash_sha256", fmt_n(a), "(information)")
    row("keywarden audit verify events/s", fmt_n(eps),
        "%s  wall %.2f s" % (ratio(eps, evp) if evp else "", verify_s))
    if evp and verify_cpu > 0:
        # CPU time is what the load on a shared machine does not take
        # away: per event against per hash, and what that makes on idle
        # cores (the walk splits across all of them)
        cores = os.cpu_count() or 1
        cpu_ev = verify_cpu / total
        cpu_h = 1.0 / sha["evp_reused_cpu"]
        row("  verify CPU (user+sys) per event", "%.2f us" % (cpu_ev * 1e6),
            "raw SHA-256 %.2f us per hash: %.2fx" % (cpu_h * 1e6,
                                                    cpu_h / cpu_ev))
        row("  idle-machine estimate, %d cores" % cores,
            fmt_n(cores / cpu_ev),
            "events/s (%.2fx anchor at its CPU rate)" % (
                cores * cpu_h / cpu_ev))
    out("   verdict: %s" % verdict)
    if not ok:
        out("   targets: NOT MEASURED (log not intact)")
    else:
        out("   target: verify >= 1,500,000 events/s  ->  %s"
            % ("met" if eps >= 1.5e6 else "MISSED"))
        if evp:
            out("   target: verify >= 0.50x raw OpenSSL SHA-256 (%.2fx)  "
                "->  %s" % (eps / evp, "met" if eps >= 0.5 * evp
                            else "MISSED"))


# -- issuance ----------------------------------------------------------------

def sim_pairs(tmp, procs, close):
    sp, sport, surl = procs.sim(os.path.join(tmp, "sim-anchor.log"))
    r = kwb.wrk(surl, 16, SHORT, script=os.path.join(kwb.HERE,
                                                     "zd_issue.lua"),
                args=(kwb.SIM_BOT_TOKEN,) + (("close",) if close else ()))
    procs.stop(sp)
    m = [l for l in r["out"].splitlines() if l.startswith("ZD_PAIRS")]
    tokens = int(m[0].split("tokens=")[1]) if m else 0
    r["pairs_per_s"] = tokens / SHORT
    return r


def section_issue(tmp, procs):
    sp, sport, surl = procs.sim(os.path.join(tmp, "sim.log"))
    data = os.path.join(tmp, "issue-data")
    admin = kwb.kw_init(data)
    kw, port = procs.keywarden(data, ISSUE_THREADS,
                               os.path.join(tmp, "issue.log"))
    api = kwb.Api(port, admin)
    tok = issuance.setup_world(api, surl)
    api.close()
    progress("issuance: filing and manager-approving %d requests"
             % (POOL_1 + POOL_16))
    t0 = time.monotonic()
    ids = issuance.precreate(port, tok, POOL_1 + POOL_16)
    prep_s = time.monotonic() - t0
    pat = tok["pat@example.com"]
    progress("issuance: 1 client, up to %ds" % SECONDS)
    c1 = issuance.approve_all(port, pat, ids[:POOL_1], 1, SECONDS)
    progress("issuance: 16 clients, up to %ds" % SECONDS)
    c16 = issuance.approve_all(port, pat, ids[POOL_1:], 16, SECONDS)
    rss = kwb.peak_rss_kb(kw.pid)
    procs.stop(kw)
    progress("zendesk-sim: GET /api/v2/users/me, 16 connections (anchor)")
    g = kwb.wrk(surl + "/api/v2/users/me", 16, SECONDS,
                token=kwb.SIM_BOT_TOKEN)
    procs.stop(sp)
    progress("zendesk-sim: POST client + token pairs, 16 connections")
    pk = sim_pairs(tmp, procs, close=False)
    pc = sim_pairs(tmp, procs, close=True)

    out("== issuance against zendesk-sim: provisioner approve -> issued "
        "(2 Zendesk POSTs + 2 commits)")
    out("   (keywarden --threads %d; %s requests filed and manager-approved "
        "beforehand in %.1f s)" % (ISSUE_THREADS, fmt_n(len(ids)), prep_s))
    row("zendesk-sim GET /api/v2/users/me/s, 16 conns", fmt_n(g["rps"]),
        "anchor; %s" % lat(g))
    row("zendesk-sim POST client+token pairs/s, 16 c.",
        fmt_n(pk["pairs_per_s"]), "anchor (%ds, keep-alive; %d non-2xx)"
        % (SHORT, pk["non_2xx"]))
    row("  same, a new connection per call", fmt_n(pc["pairs_per_s"]),
        "keywarden's calls before they reused connections (%d non-2xx)"
        % pc["non_2xx"])
    for conc, r in ((1, c1), (16, c16)):
        note = "%s  %s" % (ratio(r["rate"], pk["pairs_per_s"]),
                           lat(r))
        row("issuances/s, %d client%s" % (conc, "s" if conc > 1 else ""),
            fmt_n(r["rate"]), note)
        row("  issued / failed", "%d / %d" % (r["issued"], r["failed"]),
            "in %.1f s%s" % (r["elapsed"], "  (pool ran out)"
                             if r["ran_out"] else ""))
        if r["first_failure"]:
            out("     first failure: %.300r" % (r["first_failure"],))
    out("   keywarden peak RSS: %.1f MB; ratios are against the sim's "
        "keep-alive pair rate" % (rss / 1024.0))


# -- the broker --------------------------------------------------------------

def section_broker(tmp, procs):
    sp, sport, surl = procs.sim(os.path.join(tmp, "sim-broker.log"))
    data = os.path.join(tmp, "broker-data")
    admin = kwb.kw_init(data)
    kw, port = procs.keywarden(data, BROKER_THREADS,
                               os.path.join(tmp, "broker.log"))
    api = kwb.Api(port, admin)
    tok = issuance.setup_world(api, surl)
    cid, grant = broker.setup(api, port, surl, tok)
    api.close()
    script = os.path.join(kwb.HERE, "post_json.lua")
    kurl = "http://127.0.0.1:%d/v1/credentials/%s/access-token" % (port, cid)
    rick = "Bearer " + tok["rick@example.com"]
    sim = kwb.Api(sport)
    results = []
    for conns in (1, 16):
        # the anchor mints ~15,000 tokens/s and the simulator holds
        # 100,000: each run starts with the earlier runs' grants expired
        # (the simulator drops dead grants when it is full), and the
        # anchor runs SHORT seconds
        sim.must("POST", "/_sim/clock", {"advance_seconds": 7200})
        progress("broker: zendesk-sim grant, %d connection(s) (anchor)"
                 % conns)
        a = kwb.wrk(surl + "/oauth/tokens", conns, SHORT, script=script,
                    args=(grant,))
        sim.must("POST", "/_sim/clock", {"advance_seconds": 7200})
        progress("broker: keywarden access-token, %d connection(s)" % conns)
        k = kwb.wrk(kurl, conns, SECONDS, script=script, args=("{}", rick))
        results.append((conns, a, k))
    sim.close()
    rss = kwb.peak_rss_kb(kw.pid)
    procs.stop(kw)
    procs.stop(sp)

    out("== broker against zendesk-sim: POST /v1/credentials/{id}/"
        "access-token (1 grant + 1 audited commit)")
    out("   (keywarden --threads %d; %ds per keywarden run, %ds per anchor "
        "run; the anchor posts the same grant straight to the simulator)"
        % (BROKER_THREADS, SECONDS, SHORT))
    for conns, a, k in results:
        c = "%d conn%s" % (conns, "s" if conns > 1 else "")
        row("zendesk-sim grants/s, " + c, fmt_n(a["rps"]),
            "anchor; %s" % lat(a))
        row("keywarden dispensings/s, " + c, fmt_n(k["rps"]),
            "%s  %s" % (ratio(k["rps"], a["rps"]), lat(k)))
        if k["non_2xx"] or a["non_2xx"]:
            out("     non-2xx: keywarden %d, sim %d" % (k["non_2xx"],
                                                       a["non_2xx"]))
    a1, k1 = results[0][1], results[0][2]
    row("keywarden p50 overhead, 1 connection",
        "%.3f ms" % (k1["p50_ms"] - a1["p50_ms"]), "target <= 1 ms")
    out("   target: >= 1,000 dispensings/s on 2 cores; keywarden peak RSS "
        "%.1f MB" % (rss / 1024.0))


# -- lifecycle jobs ----------------------------------------------------------

def section_jobs(tmp, procs):
    r = jobs.run(tmp, procs, JOBS_CREDENTIALS, progress)
    s, s2 = r["summary"], r["summary2"]
    w, w2 = s.get("warnings", {}), s2.get("warnings", {})
    expired = s.get("expiry", {}).get("expired", 0)
    rss_mb = r["rss_kb"] / 1024.0
    out("== lifecycle jobs: keywarden jobs run over %s credentials "
        "(%.0f MB store), zendesk-sim" % (fmt_n(r["n"]), r["db_mb"]))
    out("   (setup: %s client+token pairs on the sim in %.1f s, rows "
        "loaded in %.1f s; %s past expiry, %s in the warning window)"
        % (fmt_n(r["expiring"]), r["pairs_s"], r["load_s"],
           fmt_n(r["expiring"]), fmt_n(r["warning_due"])))
    row("expired", fmt_n(expired), "expect %s" % fmt_n(r["expiring"]))
    row("warnings: digests / credentials",
        "%d / %s" % (w.get("digests", 0), fmt_n(w.get("credentials", 0))),
        "expect ~%s credentials" % fmt_n(r["warning_due"]))
    row("errors", str(len(s.get("errors", []))),
        ("first: %.200r" % (s["errors"][0],)) if s.get("errors") else "")
    row("wall time", "%.2f s" % r["wall"],
        "user %.2f s  sys %.2f s" % (r["user"], r["sys"]))
    pa = r["rss_parts"]
    row("peak RSS", "%.1f MB" % rss_mb, "(%s); sampled peaks: anon %.1f MB,"
        " file-backed %.1f MB" % (r["rss_how"], pa["RssAnon"] / 1024.0,
                                   pa["RssFile"] / 1024.0))
    row("zendesk-sim calls made", fmt_n(r["sim_calls"]),
        " ".join("%s=%d" % kv for kv in sorted(r["sim_calls_by"].items())))
    row("expired pairs still on the sim (clients/tokens)",
        "%d / %d" % (r["sim_clients_left"], r["sim_tokens_left"]),
        "of %d before" % r["sim_clients_before"])
    row("per expired credential", "%.2f ms" % (
        1000 * (r["wall"] - r["wall2"]) / max(1, expired)),
        "(wall - nothing-due wall) / expired")
    row("second run, nothing due: wall time", "%.2f s" % r["wall2"],
        "user %.2f s  sys %.2f s; expired %d, warnings %d, %d sim calls,"
        " %d errors" % (r["user2"], r["sys2"],
                        s2.get("expiry", {}).get("expired", 0),
                        w2.get("credentials", 0), r["sim_calls2"],
                        len(s2.get("errors", []))))
    row("second run, nothing due: peak RSS", "%.1f MB" % (
        r["rss2_kb"] / 1024.0), "sampled: anon %.1f MB, file-backed %.1f MB"
        % (r["rss2_parts"]["RssAnon"] / 1024.0,
           r["rss2_parts"]["RssFile"] / 1024.0))
    out("   store after: states %s, %s credentials warned" % (
        json.dumps(dict((("pending", "active", "revoked", "expired")[k], v)
                        for k, v in sorted(r["states"].items()))),
        fmt_n(r["warned"])))
    ok = r["wall"] < 10 and rss_mb < 64
    out("   targets: < 10 s and < 64 MB  ->  %s" % (
        "met" if ok else "MISSED (%s)" % ", ".join(
            x for x, bad in (("time", r["wall"] >= 10),
                             ("memory", rss_mb >= 64)) if bad)))


def section_pg(tmp, procs):
    pg.section(tmp, procs, out, row, fmt_n, SECONDS, CREATE_THREADS,
               progress)


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (from /proc/stat): is
    something else running on the machine?"""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def main():
    for exe in ("wrk", kwb.KW, kwb.SIM, kwb.CEILING, kwb.COMMIT, kwb.SHA):
        if not shutil.which(exe):
            sys.exit("bench: %s is missing (make bench builds the binaries; "
                     "wrk comes from scripts/install-deps)" % exe)
    wanted = [s.strip() for s in SECTIONS.split(",") if s.strip()]
    tmp = tempfile.mkdtemp(prefix="kw-bench-")
    # run copies: a `make` elsewhere during the run must not pull the
    # binaries from under it
    os.mkdir(os.path.join(tmp, "bin"))
    for name in ("KW", "SIM", "CEILING", "COMMIT", "SHA"):
        copy = os.path.join(tmp, "bin", os.path.basename(getattr(kwb, name)))
        shutil.copy2(getattr(kwb, name), copy)
        setattr(kwb, name, copy)
    procs = kwb.Procs()
    t0 = time.monotonic()
    busy0 = cpu_busy()
    try:
        for name, fn in (("get", section_get), ("create", section_create),
                         ("audit", section_audit), ("issue", section_issue),
                         ("broker", section_broker), ("jobs", section_jobs),
                         ("pg", section_pg)):
            if name in wanted:
                try:
                    fn(tmp, procs)
                except Exception as e:
                    out("== %s: FAILED: %s" % (name, e))
                finally:
                    procs.close()
                out()
    finally:
        procs.close()
        shutil.rmtree(tmp, ignore_errors=True)
    busy1 = cpu_busy()
    print("keywarden benchmark, %s, BENCH_SECONDS=%d, %d cores, %.0f s in "
          "all; CPU %.0f%% busy just before, %.0f%% just after" % (
              time.strftime("%Y-%m-%d %H:%M"), SECONDS, os.cpu_count() or 0,
              time.monotonic() - t0, 100 * busy0, 100 * busy1))
    if max(busy0, busy1) > 0.2:
        print("WARNING: other work was using these cores: figures are low "
              "and noisy; only the ratios within a section mean much")
    print()
    print("\n".join(report).rstrip())


if __name__ == "__main__":
    main()
