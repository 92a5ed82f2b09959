"""A real SMTP server for the e-mail tests: Debian's python3-aiosmtpd,
run as a subprocess on loopback.  Every accepted message is written to
the given directory as one JSON file {"mail_from", "rcpt_tos", "data"}
(data: the raw message as received).  A recipient whose local part starts
with "bounce" is refused with "550 5.1.1 no such user", as a real server
refuses an unknown mailbox.  With a user and password, the server
requires AUTH (PLAIN or LOGIN, allowed over plain loopback here) with
exactly those.

    smtp = SmtpFake().start()        # smtp.url == "smtp://127.0.0.1:PORT"
    smtp.messages()                  # [email.message.Message], in order
    smtp.stop(); smtp.start()        # an outage, then the same port again

Run directly: python3 smtp_fake.py PORT DIR
"""
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness import free_port

PYTHON = "/usr/bin/python3"


class SmtpFake:
    def __init__(self, user=None, password=None):
        self.user, self.password = user, password
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="kw-smtp-")
        self.proc = None
        self.url = "smtp://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, os.path.abspath(__file__), str(self.port), self.dir],
            env=dict(os.environ, SMTP_FAKE_USER=self.user or "",
                     SMTP_FAKE_PASSWORD=self.password or ""),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("smtp fake died: %s" %
                                       self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise RuntimeError("smtp fake did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def raw(self):
        """[{"mail_from", "rcpt_tos", "data"}] in the order received."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".json"):
                with open(os.path.join(self.dir, name)) as f:
                    out.append(json.load(f))
        return out

    def messages(self):
        return [email.message_from_string(m["data"],
                                          policy=email.policy.default)
                for m in self.raw()]


def serve(port, out_dir):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    user = os.environ.get("SMTP_FAKE_USER", "").encode()
    password = os.environ.get("SMTP_FAKE_PASSWORD", "").encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login == user and auth_data.password == password)
        return AuthResult(success=ok)

    class Handler:
        def __init__(self):
            self.n = 0

        async def handle_RCPT(self, server, session, envelope, address,
                              rcpt_options):
            if address.split("@")[0].startswith("bounce"):
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            self.n += 1
            path = os.path.join(out_dir, "msg-%d-%06d.json" %
                                (int(time.time() * 1000), self.n))
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"mail_from": envelope.mail_from,
                           "rcpt_tos": envelope.rcpt_tos,
                           "data": envelope.content.decode(
                               "utf-8", "replace")}, f)
            os.rename(tmp, path)
            return "250 Message accepted for delivery"

    kw = {}
    if user:
        # AUTH over plain loopback (tests only); without it, no mail
        kw = {"authenticator": authenticator, "auth_required": True,
              "auth_require_tls": False}
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    serve(int(sys.argv[1]), sys.argv[2])
