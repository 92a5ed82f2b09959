"""auditlog.py — build a large, correctly chained audit log for the
`keywarden audit verify` benchmark (bench/run.py).

The events are appended straight into the audit_events table of a data
directory made by `keywarden init`, continuing its chain.  An event's hash
is SHA-256 over  prev_hash (hex) + "\\n" + canonical JSON  where the
canonical JSON is {"action","actor","at","details","seq","subject"} with
sorted keys, compact and ASCII-only, as src/audit/audit.c makes it with
jansson (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII).  For these
plain ASCII values Python's json.dumps(sort_keys=True, separators=(",",
":"), ensure_ascii=True) gives the same bytes; build() can check that on
a small log first with `keywarden audit verify` (check_small()).

The events follow an issuance's life: request.create, two approvals,
credential.issue, credential.reveal — with realistic details.

    python3 bench/auditlog.py DATA_DIR N     # standalone use
"""
import hashlib
import json
import json.encoder
import os
import resource
import sqlite3
import subprocess
import sys
import time

import kwb


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)


# JSON string encoding with ensure_ascii: the C function json.dumps uses
_q = json.encoder.encode_basestring_ascii


def _fingerprint(cyc):
    return hashlib.blake2b(b"%d" % cyc, digest_size=8).hexdigest()


def _events(start_seq, n, base_t, as_dicts=False):
    """Yield (seq, at, actor, action, subject, details) for n events, five
    per issuance cycle; details as canonical text (or as dicts)."""
    actors = ["rick%d@example.com" % i for i in range(50)]
    managers = ["maria%d@example.com" % i for i in range(10)]
    provs = ["pat@example.com", "quinn@example.com"]
    approve = [{"action": "approve", "from": "pending_manager",
                "to": "pending_provisioner"},
               {"action": "approve", "from": "pending_provisioner",
                "to": "issuing"}]
    approve_text = [canonical(d) for d in approve]
    at, last_t = None, None
    for k in range(n):
        seq = start_seq + k
        cyc, step = divmod(k, 5)
        t = base_t + k // 3
        if t != last_t:
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            last_t = t
        rid = "req_%024x" % (cyc * 2654435761 % (1 << 96))
        cid = "cred_%024x" % (cyc * 40503 * 2654435761 % (1 << 96))
        who = actors[cyc % len(actors)]
        if step == 0:
            action, actor, subject = "request.create", who, rid
            link = "https://keywarden.example.com/requests/" + rid
            if as_dicts:
                d = {"instance": "global", "kind": "api_token",
                     "lifetime_days": 30, "link": link}
            else:
                d = ('{"instance":"global","kind":"api_token",'
                     '"lifetime_days":30,"link":%s}' % _q(link))
        elif step in (1, 2):
            action, subject = "request.approve", rid
            actor = managers[cyc % len(managers)] if step == 1 else \
                provs[cyc % 2]
            d = approve[step - 1] if as_dicts else approve_text[step - 1]
        elif step == 3:
            action, actor, subject = ("credential.issue", provs[cyc % 2],
                                      cid)
            fp = _fingerprint(cyc)
            if as_dicts:
                d = {"client_id": str(360001 + cyc),
                     "identifier": "keywarden-" + cid,
                     "token_id": str(7200001 + cyc), "provider": "zendesk",
                     "fingerprint": fp}
            else:
                d = ('{"client_id":"%d","fingerprint":"%s",'
                     '"identifier":%s,"provider":"zendesk",'
                     '"token_id":"%d"}' % (360001 + cyc, fp,
                                           _q("keywarden-" + cid),
                                           7200001 + cyc))
        else:
            action, actor, subject = "credential.reveal", who, cid
            fp = _fingerprint(cyc)
            d = {"fingerprint": fp} if as_dicts else \
                '{"fingerprint":"%s"}' % fp
        yield seq, at, actor, action, subject, d


def _canon_event(s, at, actor, action, subject, dtext):
    """The canonical JSON of an event whose details are canonical text."""
    return ('{"action":%s,"actor":%s,"at":%s,"details":%s,"seq":%d,'
            '"subject":%s}' % (_q(action), _q(actor), _q(at), dtext, s,
                               _q(subject)))


def append(data_dir, n):
    """Append n chained events to DATA_DIR's audit log.  Returns (events
    in the log now, average bytes hashed per event, seconds taken)."""
    t0 = time.monotonic()
    db = sqlite3.connect(os.path.join(data_dir, "keywarden.db"),
                         isolation_level=None)
    try:
        seq, prev = db.execute("SELECT seq, hash FROM audit_events "
                               "ORDER BY seq DESC LIMIT 1").fetchone()
        # a bulk load: a rollback journal without syncs, back to WAL after
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN IMMEDIATE")
        sha = hashlib.sha256
        hashed = 0
        rows = []
        base_t = int(time.time()) - n
        for s, at, actor, action, subject, dtext in _events(seq + 1, n,
                                                           base_t):
            canon = _canon_event(s, at, actor, action, subject, dtext)
            msg = (prev + "\n" + canon).encode("ascii")
            hashed += len(msg)
            h = sha(msg).hexdigest()
            rows.append((s, at, actor, action, subject, dtext, prev, h))
            prev = h
            if len(rows) >= 50000:
                db.executemany("INSERT INTO audit_events VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?)", rows)
                rows = []
        if rows:
            db.executemany("INSERT INTO audit_events VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
        total = db.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        db.close()
    return total, hashed / max(n, 1), time.monotonic() - t0


def check_canonical_form():
    """The templates give what json.dumps(sort_keys, compact, ASCII) gives
    for the same objects (a full cycle of each kind of event)."""
    texts = _events(7, 20, 1795000000)
    for ev, evd in zip(texts, _events(7, 20, 1795000000, as_dicts=True)):
        s, at, actor, action, subject, dtext = ev
        obj = {"seq": s, "at": at, "actor": actor, "action": action,
               "subject": subject, "details": evd[5]}
        mine = _canon_event(s, at, actor, action, subject, dtext)
        if mine != canonical(obj) or dtext != canonical(evd[5]):
            raise RuntimeError("canonical form differs:\n%s\n%s"
                               % (mine, canonical(obj)))


def verify(data_dir, cpu=False):
    """`keywarden audit verify --data-dir D`: (ok, output, wall seconds),
    and its CPU seconds (user + sys, all its threads) with cpu=True."""
    t0 = time.monotonic()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([kwb.KW, "audit", "verify", "--data-dir", data_dir],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = (r.returncode == 0, (r.stdout + r.stderr).strip(), dt)
    if cpu:
        res += (c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime,)
    return res


def check_small(tmp):
    """Build a 1,000-event log and have keywarden verify it: the
    generator's hashes are keywarden's."""
    check_canonical_form()
    d = os.path.join(tmp, "audit-small")
    kwb.kw_init(d)
    total, _, _ = append(d, 1000)
    ok, out, _ = verify(d)
    if not ok or ("%d events" % total) not in out:
        raise RuntimeError("keywarden does not accept the generated log: "
                           + out)
    return out


if __name__ == "__main__":
    print(append(sys.argv[1], int(sys.argv[2])))
