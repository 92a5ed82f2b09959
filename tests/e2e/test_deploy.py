"""End-to-end: what `make install` lays out, the systemd unit (it verifies,
its sandbox scores an exposure of 2.0 or less, it waits for `init`), the
manual pages (render without warnings, name every command and setting),
and `make deb` (its files, lintian without errors, nothing started)."""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BIN, REPO

MAKE_TIMEOUT = 600
PREFIX = "/usr/local"

# path under DESTDIR -> mode
INSTALLED = {
    "usr/local/bin/keywarden": 0o755,
    "usr/local/share/man/man8/keywarden.8": 0o644,
    "usr/local/share/man/man5/keywarden.conf.5": 0o644,
    "usr/local/lib/systemd/system/keywarden.service": 0o644,
    "usr/local/lib/sysusers.d/keywarden.conf": 0o644,
    "usr/local/lib/tmpfiles.d/keywarden.conf": 0o644,
    "usr/local/etc/keywarden/keywarden.conf": 0o644,
    "usr/local/share/doc/keywarden/keywarden.conf.example": 0o644,
    "usr/local/share/doc/keywarden/OPERATIONS.md": 0o644,
    "usr/local/share/doc/keywarden/CONFIGURATION.md": 0o644,
}


def run(cmd, timeout=MAKE_TIMEOUT, **kw):
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, **kw)


def unit_directives(text):
    """The unit file's Key=value lines as a list of (key, value)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.append((k.strip(), v.strip()))
    return out


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kw-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        cls.r = run(["make", "-C", REPO, "install", "PREFIX=" + PREFIX,
                     "DESTDIR=" + cls.dest])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def p(self, rel):
        return os.path.join(self.dest, rel)

    def test_install_lays_out_the_files_and_uninstall_removes_them(self):
        self.assertEqual(self.r.returncode, 0, self.r.stderr)
        for rel, mode in INSTALLED.items():
            st = os.stat(self.p(rel))
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, rel)
        found = set()
        for root, _, files in os.walk(self.dest):
            for f in files:
                found.add(os.path.relpath(os.path.join(root, f), self.dest))
        # the binary is the only program; the simulator is not installed
        self.assertEqual(sorted(f for f in found if "/bin/" in f),
                         ["usr/local/bin/keywarden"])
        self.assertFalse([f for f in found if "sim" in os.path.basename(f)])
        r = run([self.p("usr/local/bin/keywarden"), "version"])
        self.assertEqual(r.stdout.strip(), "keywarden 0.1.0")
        unit = open(self.p(
            "usr/local/lib/systemd/system/keywarden.service")).read()
        self.assertIn("ExecStart=/usr/local/bin/keywarden serve --config "
                      "/usr/local/etc/keywarden/keywarden.conf\n", unit)
        self.assertNotRegex(unit, r"@[A-Z]+@")
        # the installed configuration is accepted as it is
        r = run([self.p("usr/local/bin/keywarden"), "serve", "--config",
                 self.p("usr/local/etc/keywarden/keywarden.conf"),
                 "--print-config"], env={"PATH": os.environ["PATH"]})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["listen"], "127.0.0.1:8200")

        # an edited configuration survives uninstall; the rest goes
        conf = self.p("usr/local/etc/keywarden/keywarden.conf")
        with open(conf, "a") as f:
            f.write("threads = 4\n")
        r = run(["make", "-C", REPO, "uninstall", "PREFIX=" + PREFIX,
                 "DESTDIR=" + self.dest])
        self.assertEqual(r.returncode, 0, r.stderr)
        left = []
        for root, _, files in os.walk(self.dest):
            left += [os.path.relpath(os.path.join(root, f), self.dest)
                     for f in files]
        self.assertEqual(left, ["usr/local/etc/keywarden/keywarden.conf"])
        # reinstall for the other tests: the edited file is not replaced
        r = run(["make", "-C", REPO, "install", "PREFIX=" + PREFIX,
                 "DESTDIR=" + self.dest])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("threads = 4", open(conf).read())

    def unit_path(self):
        path = self.p("usr/local/lib/systemd/system/keywarden.service")
        self.assertTrue(os.path.exists(path), self.r.stderr)
        return path

    def test_unit_verifies(self):
        # systemd-analyze verify needs ExecStart's program to exist: point
        # it at the staged binary (systemd need not be PID 1 for this)
        text = open(self.unit_path()).read().replace(
            "/usr/local/bin/keywarden", self.p("usr/local/bin/keywarden"))
        d = os.path.join(self.tmp, "verify")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "keywarden.service"), "w") as f:
            f.write(text)
        r = run(["systemd-analyze", "verify", "--man=no",
                 os.path.join(d, "keywarden.service")])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "")

    def test_unit_is_sandboxed(self):
        r = run(["systemd-analyze", "security", "--offline=true",
                 "--no-pager", self.unit_path()])
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"Overall exposure level for keywarden\.service: "
                      r"([0-9]+\.[0-9]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout[-2000:])
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)
        d = unit_directives(open(self.unit_path()).read())
        keys = dict(d)
        self.assertEqual(keys["User"], "keywarden")
        self.assertEqual(keys["StateDirectory"], "keywarden")
        self.assertEqual(keys["UMask"], "0077")
        self.assertEqual(keys["CapabilityBoundingSet"], "")
        self.assertEqual(keys["RestrictAddressFamilies"],
                         "AF_INET AF_INET6 AF_UNIX")
        # it must reach Zendesk and Slack
        self.assertNotIn("IPAddressDeny", keys)
        self.assertNotIn("PrivateNetwork", keys)
        # nothing to start before `keywarden init`
        self.assertEqual(keys["ConditionPathExists"],
                         "/var/lib/keywarden/master.key")

    def test_man_pages_render_without_warnings(self):
        for rel in ("usr/local/share/man/man8/keywarden.8",
                    "usr/local/share/man/man5/keywarden.conf.5"):
            r = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8",
                     "-Z", self.p(rel)],
                    env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", rel)
            r = run(["groff", "-ww", "-mandoc", "-z", self.p(rel)])
            self.assertEqual(r.stderr, "", rel)

    def rendered(self, rel):
        r = run(["man", "-l", self.p(rel)],
                env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="200"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # man may hyphenate or use Unicode hyphens: compare plainly
        return r.stdout.replace("\u2010", "-")

    def test_man_pages_name_every_command_and_setting(self):
        page8 = self.rendered("usr/local/share/man/man8/keywarden.8")
        r = run([BIN, "help"])
        server = r.stdout.split("client commands")[0]
        for cmd in re.findall(r"^  keywarden ([a-z-]+(?: [a-z]+)?)", server,
                              re.M):
            self.assertIn("keywarden " + cmd.split()[0], page8)
            self.assertIn(cmd, page8)
        for flag in re.findall(r"--[a-z-]+", server):
            self.assertIn(flag, page8)
        # every client resource, and each of its verbs
        client = r.stdout.split("client commands")[1]
        for res, verb in re.findall(r"^  keywarden ([a-z-]+) ?([a-z-]*)",
                                    client, re.M):
            self.assertRegex(page8, r"\n {5,}%s\b" % re.escape(res))
            self.assertIn(verb, page8)
        page5 = self.rendered("usr/local/share/man/man5/keywarden.conf.5")
        r = run([BIN, "serve", "--print-config"],
                env={"PATH": os.environ["PATH"]})
        example = open(os.path.join(REPO, "dist",
                                    "keywarden.conf.example")).read()
        for key, value in json.loads(r.stdout).items():
            # a nested object is a section ([oidc]) with its own keys
            for k in (value if isinstance(value, dict) else [key]):
                self.assertIn("\n     " + k + " ", page5)
                self.assertRegex(example, r"(?m)^;?%s = " % k)


class DebianPackage(unittest.TestCase):
    def test_make_deb_builds_a_clean_package(self):
        r = run(["make", "-C", REPO, "deb"])
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
        debs = [f for f in os.listdir(REPO)
                if re.fullmatch(r"keywarden_[0-9.]+_[a-z0-9]+\.deb", f)]
        self.assertEqual(len(debs), 1, debs)
        deb = os.path.join(REPO, debs[0])
        r = run(["dpkg-deb", "-c", deb])
        listed = {line.split()[-1].lstrip(".") for line in
                  r.stdout.splitlines()}
        for path in ("/usr/bin/keywarden",
                     "/usr/share/man/man8/keywarden.8.gz",
                     "/usr/share/man/man5/keywarden.conf.5.gz",
                     "/lib/systemd/system/keywarden.service",
                     "/etc/keywarden/keywarden.conf",
                     "/usr/share/doc/keywarden/copyright",
                     "/usr/share/doc/keywarden/keywarden.conf.example"):
            self.assertIn(path, listed)
        self.assertFalse([p for p in listed if "zendesk-sim" in p])
        r = run(["dpkg-deb", "-f", deb, "Depends"])
        self.assertIn("adduser", r.stdout)
        self.assertIn("libsqlite3-0", r.stdout)
        # the user is created; the service is neither enabled nor started
        ctl = tempfile.mkdtemp(prefix="kw-deb-")
        self.addCleanup(shutil.rmtree, ctl, True)
        run(["dpkg-deb", "-e", deb, ctl])
        postinst = open(os.path.join(ctl, "postinst")).read()
        self.assertIn("adduser --system", postinst)
        self.assertNotIn("deb-systemd-invoke", postinst)
        # (debhelper's enabling snippet; ours only keeps an admin's choice)
        self.assertNotIn("Enables the unit on first installation", postinst)
        self.assertIn("if deb-systemd-helper debian-installed", postinst)
        self.assertEqual(open(os.path.join(ctl, "conffiles")).read().split(),
                         ["/etc/keywarden/keywarden.conf"])
        r = run(["lintian", "--no-tag-display-limit", deb])
        errors = [line for line in r.stdout.splitlines()
                  if line.startswith("E:")]
        self.assertEqual(errors, [], r.stdout)
        self.assertNotIn("E:", r.stderr)


if __name__ == "__main__":
    unittest.main()
