#!/usr/bin/python3
"""keywarden benchmark (not a test): prints figures, asserts nothing.

Measures GET /v1/me (bearer authentication + store lookup) with wrk on
loopback at 1 and 64 connections, beside a trivial libmicrohttpd handler
(bench-ceiling) measured in the same run, plus keywarden's peak RSS.
Everything talks to 127.0.0.1 only and every run is bounded in time.

Environment: BENCH_SECONDS (default 10) per wrk run, BENCH_THREADS
(server worker threads, default 2).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KW = os.path.join(ROOT, "build", "release", "keywarden")
CEILING = os.path.join(ROOT, "build", "release", "bench-ceiling")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = os.environ.get("BENCH_THREADS", "2")


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


def wrk(url, conns, token=None):
    cmd = ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns),
           "-d", "%ds" % SECONDS, "--latency", "--timeout", "5s"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=SECONDS + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict((p, to_ms(v, u)) for p, v, u in
               re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (scripts/install-deps)")
    tmp = tempfile.mkdtemp(prefix="kw-bench-")
    procs = []
    try:
        data = os.path.join(tmp, "data")
        init = subprocess.run([KW, "init", "--data-dir", data,
                               "--admin-email", "bench@example.com"],
                              capture_output=True, text=True, check=True)
        token = json.loads(init.stdout)["admin_token"]
        kport, cport = free_port(), free_port()
        log = open(os.path.join(tmp, "serve.log"), "w")
        kw = subprocess.Popen([KW, "serve", "--data-dir", data, "--listen",
                               "127.0.0.1:%d" % kport, "--threads", THREADS,
                               "--auth-fail-limit", "1000000"],
                              stderr=log)
        ceil = subprocess.Popen([CEILING, str(cport), THREADS])
        procs = [kw, ceil]
        kurl = "http://127.0.0.1:%d/v1/me" % kport
        curl = "http://127.0.0.1:%d/v1/me" % cport
        wait_http(kurl, {"Authorization": "Bearer " + token})
        wait_http(curl)

        results = []
        for conns in (1, 64):
            c = wrk(curl, conns)
            k = wrk(kurl, conns, token)
            results.append((conns, c, k))
        rss = peak_rss_kb(kw.pid)

        print("keywarden benchmark: GET /v1/me, %ds per run, %s server "
              "threads, wrk on 127.0.0.1" % (SECONDS, THREADS))
        print("%-6s %-10s %12s %10s %10s %8s" %
              ("conns", "server", "requests/s", "p50 ms", "p99 ms", "ratio"))
        for conns, c, k in results:
            print("%-6d %-10s %12.0f %10.3f %10.3f %8s" %
                  (conns, "ceiling", c["rps"], c["p50_ms"], c["p99_ms"], ""))
            print("%-6d %-10s %12.0f %10.3f %10.3f %7.0f%%" %
                  (conns, "keywarden", k["rps"], k["p50_ms"], k["p99_ms"],
                   100.0 * k["rps"] / c["rps"]))
            if k["non_2xx"]:
                print("       (keywarden answered %d non-2xx responses)"
                      % k["non_2xx"])
        print("keywarden peak RSS: %.1f MB" % (rss / 1024.0))
        print("targets: >= 50%% of the ceiling's requests/s, p99 < 5 ms at "
              "64 connections, RSS < 32 MB")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
