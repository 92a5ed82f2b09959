"""slack_fake.py — a fake Slack on loopback for end-to-end tests.

Standard library only (run with /usr/bin/python3).  Faithful to
shared/design/SLACK.md where keywarden depends on it:

    from slack_fake import SlackFake, sign, block_actions_body

    with SlackFake(users=["U1"]) as slack:
        slack.api_url          # give keywarden this as api_base_url
        slack.webhook_url      # an incoming webhook (POST -> 200 "ok")
        slack.response_url("a1")   # where Slack's response_url would point
        slack.outage(3)        # the next 3 calls answer HTTP 503
        slack.rate_limit(1, retry_after=2)  # the next call: 429 + Retry-After
        slack.hang(6, n=2)     # the next 2 calls answer only after 6 s
        slack.messages()       # DMs: {"user", "channel", "text", "blocks"}

Web API (POST /api/<method>, JSON bodies): the bot token is checked on
every call (missing -> ok:false "not_authed", wrong -> "invalid_auth", both
with HTTP 200); conversations.open gives each user one stable D-channel
("user_not_found" for users outside ``users`` when that list is given);
chat.postMessage records the message and answers its ts.  Everything that
arrives is kept (``record()``), so a test can assert what was never sent.

Block Kit limits are enforced as Slack does: more than 50 blocks, a
section text over 3,000 characters, a block without a type or a text
object that is not valid mrkdwn/plain_text is refused with
``invalid_blocks`` (chat.postMessage: ok:false; webhooks: HTTP 400 with
the plain body ``invalid_blocks``); a fallback text over 40,000
characters is ``msg_too_long``.
"""

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
MAX_BLOCKS = 50             # Slack: blocks per message
MAX_SECTION_TEXT = 3000     # Slack: characters of a section's text
MAX_TEXT = 40000            # Slack: characters of the fallback text
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(signing_secret, body, ts):
    """The X-Slack-Signature Slack sends for body (bytes or str) at ts."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    base = b"v0:" + str(ts).encode("ascii") + b":" + body
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base,
                            hashlib.sha256).hexdigest()


def block_actions_body(user, action_id, value, response_url=None,
                       team="T0001", extra=None):
    """The form body of a block_actions callback (button click)."""
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0001",
        "trigger_id": "1234.5678.abcdef",
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": "D0001", "is_ephemeral": False},
        "channel": {"id": "D0001", "name": "directmessage"},
        "actions": [{"type": "button", "action_id": action_id,
                     "block_id": "b1", "value": value,
                     "text": {"type": "plain_text",
                              "text": action_id.title()},
                     "action_ts": "1700000001.000200"}],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    if extra:
        payload.update(extra)
    return urllib.parse.urlencode(
        {"payload": json.dumps(payload)}).encode("ascii")


def signed_headers(body, ts=None, secret=SIGNING_SECRET):
    """The headers of a signed interactivity request."""
    ts = int(time.time()) if ts is None else ts
    return {"X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(secret, body, ts)}


def block_error(body):
    """None if Slack would accept body's text and blocks, else its error
    code (``invalid_blocks``, ``msg_too_long``)."""
    text = body.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return "msg_too_long"
    blocks = body.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for b in blocks:
        if not isinstance(b, dict) or not isinstance(b.get("type"), str):
            return "invalid_blocks"
        if b["type"] == "section":
            t = b.get("text")
            if (not isinstance(t, dict) or
                    t.get("type") not in ("mrkdwn", "plain_text") or
                    not isinstance(t.get("text"), str) or
                    not 1 <= len(t["text"]) <= MAX_SECTION_TEXT):
                return "invalid_blocks"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slack-fake/1"

    def log_message(self, fmt, *args):   # quiet
        pass

    def _send(self, status, body, ctype="application/json; charset=utf-8",
              headers=None):
        data = body if isinstance(body, bytes) else (
            json.dumps(body).encode("utf-8") if not isinstance(body, str)
            else body.encode("utf-8"))
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the client gave up waiting (a hang): fine

    def do_GET(self):
        self._send(404, "not_found", "text/plain")

    def do_POST(self):
        fake = self.server.fake
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        call = {"at": time.time(), "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": raw.decode("utf-8", "replace")}
        status, body, ctype, hdrs = fake._answer(self.path, call, raw)
        call["status"] = status
        with fake.lock:
            fake._calls.append(call)
        self._send(status, body, ctype, hdrs)


class SlackFake:
    """A fake Slack on 127.0.0.1:<free port>, served from a thread."""

    def __init__(self, bot_token=BOT_TOKEN, users=None):
        self.bot_token = bot_token
        self.users = None if users is None else set(users)
        self.lock = threading.Lock()
        self._calls = []            # every request, in order
        self._dms = []              # chat.postMessage records
        self._webhooks = []         # incoming webhook posts
        self._responses = []        # response_url posts
        self._channels = {}         # user -> D-channel
        self._faults = []           # [kind, remaining, arg]
        self._hang = [0, 0.0]       # calls left, seconds each
        self._closing = threading.Event()
        self._ts = 1700000000
        self.httpd = None
        self.thread = None
        self.url = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, port=0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.api_url = self.url + "/api"
        self.webhook_url = self.url + "/services/T0001/B0001/XXXXXXXX"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def close(self):
        self._closing.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    def response_url(self, ident):
        return "%s/actions/%s" % (self.url, ident)

    # -- switches ----------------------------------------------------------

    def outage(self, n, status=503):
        """The next n calls (any endpoint) answer HTTP status."""
        with self.lock:
            self._faults.append(["status", n, status])

    def rate_limit(self, n, retry_after=1):
        """The next n calls answer 429 with Retry-After: retry_after."""
        with self.lock:
            self._faults.append(["429", n, retry_after])

    def hang(self, seconds, n=1):
        """The next n calls answer only after seconds (or at close)."""
        with self.lock:
            self._hang = [n, float(seconds)]

    def hangs_left(self):
        """How many of the calls hang() asked for have not begun."""
        with self.lock:
            return self._hang[0]

    def clear(self):
        with self.lock:
            self._faults = []
            self._hang = [0, 0.0]

    # -- observing ---------------------------------------------------------

    def messages(self, user=None):
        """DMs posted with chat.postMessage: {"user", "channel", "text",
        "blocks", "ts"}, in order."""
        with self.lock:
            return [dict(m) for m in self._dms
                    if user is None or m["user"] == user]

    def webhook_posts(self):
        with self.lock:
            return [dict(m) for m in self._webhooks]

    def responses(self):
        """Posts to response URLs: {"id", "body"}."""
        with self.lock:
            return [dict(m) for m in self._responses]

    def calls(self, path_prefix=""):
        with self.lock:
            return [dict(c) for c in self._calls
                    if c["path"].startswith(path_prefix)]

    def record(self):
        """Everything the fake holds, as one text (for needle checks)."""
        with self.lock:
            return json.dumps({"calls": self._calls, "dms": self._dms,
                               "webhooks": self._webhooks,
                               "responses": self._responses})

    # -- behaviour ---------------------------------------------------------

    def _fault(self):
        """The fault for this call, if any: (status, body, ctype, hdrs)."""
        with self.lock:
            hang = 0.0
            if self._hang[0] > 0:
                self._hang[0] -= 1
                hang = self._hang[1]
            fault = None
            while self._faults and self._faults[0][1] <= 0:
                self._faults.pop(0)
            if self._faults:
                self._faults[0][1] -= 1
                fault = list(self._faults[0])
        if hang:
            self._closing.wait(hang)
        if fault is None:
            return None
        if fault[0] == "429":
            return (429, {"ok": False, "error": "ratelimited"},
                    "application/json; charset=utf-8",
                    {"Retry-After": str(fault[2])})
        return (fault[2], "service unavailable", "text/plain", {})

    def _answer(self, path, call, raw):
        f = self._fault()
        if f is not None:
            return f
        route = urllib.parse.urlsplit(path).path
        if route.startswith("/api/"):
            return self._api(route[len("/api/"):], call, raw)
        if route.startswith("/services/"):
            return self._webhook(route, raw)
        if route.startswith("/actions/"):
            return self._response(route[len("/actions/"):], raw)
        return (404, "not_found", "text/plain", {})

    def _ok(self, body):
        body = dict(body)
        body["ok"] = True
        return (200, body, "application/json; charset=utf-8", {})

    @staticmethod
    def _err(code):
        return (200, {"ok": False, "error": code},
                "application/json; charset=utf-8", {})

    def _api(self, method, call, raw):
        auth = call["authorization"]
        if not auth:
            return self._err("not_authed")
        if auth != "Bearer " + self.bot_token:
            return self._err("invalid_auth")
        try:
            args = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            return self._err("invalid_json")
        if not isinstance(args, dict):
            return self._err("invalid_arguments")
        if method == "conversations.open":
            user = args.get("users")
            if not isinstance(user, str) or not user:
                return self._err("user_not_found")
            if self.users is not None and user not in self.users:
                return self._err("user_not_found")
            with self.lock:
                chan = self._channels.setdefault(
                    user, "D%05d" % (len(self._channels) + 1))
            return self._ok({"channel": {"id": chan}})
        if method == "chat.postMessage":
            chan = args.get("channel")
            with self.lock:
                users = [u for u, c in self._channels.items() if c == chan]
                if not users:
                    return self._err("channel_not_found")
                if not args.get("text") and not args.get("blocks"):
                    return self._err("no_text")
                bad = block_error(args)
                if bad is not None:
                    return self._err(bad)
                self._ts += 1
                ts = "%d.000100" % self._ts
                msg = {"user": users[0], "channel": chan,
                       "text": args.get("text"),
                       "blocks": args.get("blocks"), "ts": ts}
                self._dms.append(msg)
            return self._ok({"channel": chan, "ts": ts,
                             "message": {"text": msg["text"]}})
        return self._err("unknown_method")

    def _webhook(self, route, raw):
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return (400, "invalid_payload", "text/plain", {})
        if not isinstance(body, dict) or not (body.get("text") or
                                              body.get("blocks")):
            return (400, "no_text", "text/plain", {})
        bad = block_error(body)
        if bad is not None:
            return (400, bad, "text/plain", {})
        with self.lock:
            self._webhooks.append({"path": route, "body": body})
        return (200, "ok", "text/plain", {})

    def _response(self, ident, raw):
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return (400, "invalid_payload", "text/plain", {})
        with self.lock:
            self._responses.append({"id": ident, "body": body})
        return (200, {"ok": True}, "application/json; charset=utf-8", {})


def _main():
    """Run the fake on its own and print what keywarden sends (the demo
    uses this to show notifications without a Slack workspace)."""
    import argparse
    import signal
    import sys

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8400)
    args = ap.parse_args()
    fake = SlackFake().start(port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    print(json.dumps({"event": "listening", "api_url": fake.api_url,
                      "webhook_url": fake.webhook_url,
                      "bot_token": fake.bot_token,
                      "signing_secret": SIGNING_SECRET}), flush=True)
    seen_dm = seen_hook = 0
    while not stop.wait(0.3):
        dms, hooks = fake.messages(), fake.webhook_posts()
        for m in dms[seen_dm:]:
            print("--- DM to %s ---\n%s" % (m["user"], m["text"]),
                  flush=True)
        for h in hooks[seen_hook:]:
            print("--- channel ---\n%s" % h["body"].get("text"),
                  flush=True)
        seen_dm, seen_hook = len(dms), len(hooks)
    fake.close()
    sys.exit(0)


if __name__ == "__main__":
    _main()
