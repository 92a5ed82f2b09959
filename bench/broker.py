"""broker.py — the broker against zendesk-sim, for bench/run.py.

One broker credential is issued on an automatic instance of the
simulator; then wrk posts to POST /v1/credentials/{id}/access-token (the
owner's token), each answer being a client_credentials grant on the
simulator plus one audited commit in keywarden.  The anchor is the
simulator's own grant rate: wrk posting the same grant straight to
POST /oauth/tokens with a confidential client made for the purpose.
"""
import json

import kwb

REQUEST = {"instance": "global", "kind": "api_token", "delivery": "broker",
           "justification": "benchmark: access tokens through the broker",
           "use_case": "reporting", "scopes": ["tickets:read"],
           "lifetime_days": 30}


def setup(api, port, sim_url, tok):
    """Issue one broker credential for rick; (credential id, grant body
    for the anchor)."""
    rick = kwb.Api(port, tok["rick@example.com"])
    r = rick.must("POST", "/v1/requests", REQUEST)
    kwb.Api(port, tok["maria@example.com"]).must(
        "POST", "/v1/requests/%s/approve" % r["id"], {})
    r = kwb.Api(port, tok["pat@example.com"]).must(
        "POST", "/v1/requests/%s/approve" % r["id"], {})
    if r["state"] != "issued":
        raise RuntimeError("broker credential not issued: %r" % (r,))
    rick.close()
    sim = kwb.Api(int(sim_url.rsplit(":", 1)[1]), kwb.SIM_BOT_TOKEN)
    c = sim.must("POST", "/api/v2/oauth/clients", {"client": {
        "name": "bench anchor", "identifier": "bench-anchor",
        "kind": "confidential"}})["client"]
    sim.close()
    grant = json.dumps({"grant_type": "client_credentials",
                        "client_id": "bench-anchor",
                        "client_secret": c["secret"],
                        "scope": "tickets:read", "expires_in": 1800})
    return r["credential_id"], grant
