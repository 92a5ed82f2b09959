"""scripts/check-includes against tiny made-up source trees: a clean one
passes; a forbidden include, a cycle, a folder with no row in its table
each fail, naming the file and the include."""
import os
import subprocess
import tempfile
import unittest

from harness import REPO

SCRIPT = os.path.join(REPO, "scripts", "check-includes")


def tree(files):
    """A temporary src/ holding files {path: text}."""
    d = tempfile.TemporaryDirectory()
    for path, text in files.items():
        p = os.path.join(d.name, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    return d


def run(srcdir):
    p = subprocess.run(["/usr/bin/python3", SCRIPT, srcdir],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


CLEAN = {
    "kw.h": "",
    "limits.h": "",
    "ticker.h": "struct app;\n",
    "main.c": '#include "kw.h"\n#include "api/api.h"\n#include "http/http.h"\n',
    "ticker.c": '#include "ticker.h"\n#include "core/app.h"\n',
    "http/http.h": '#include "kw.h"\n',
    "http/server.c": '#include "http.h"\n#include "util/util.h"\n',
    "api/api.h": '#include "http/http.h"\n#include "core/app.h"\n',
    "api/api.c": '#include "api.h"\n#include <stdio.h>\n#include "gen/x.h"\n',
    "core/app.h": '#include "limits.h"\n#include "store/store.h"\n',
    "core/app.c": '#include "app.h"\n#include "ticker.h"\n'
                  '#include "notify/notify.h"\n',
    "notify/notify.h": '#include "store/store.h"\n',
    "store/store.h": '#include "util/util.h"\n',
    "util/util.h": '#include "kw.h"\n',
}


class CheckIncludes(unittest.TestCase):
    def test_clean_tree_passes(self):
        with tree(CLEAN) as d:
            rc, out = run(d)
        self.assertEqual(rc, 0, out)
        self.assertIn("check-includes: ok", out)

    def test_forbidden_include_fails(self):
        files = dict(CLEAN)
        files["core/jobs.c"] = '#include "core/app.h"\n\n#include "http/http.h"\n'
        with tree(files) as d:
            rc, out = run(d)
        self.assertEqual(rc, 1, out)
        self.assertIn('src/core/jobs.c:3: forbidden include "http/http.h" '
                      '(core -> http)', out)
        self.assertNotIn("cycle", out)

    def test_cycle_fails(self):
        files = dict(CLEAN)
        # notify -> api is forbidden, and with api -> core -> notify it
        # closes a cycle: both are reported
        files["notify/notify.c"] = '#include "notify.h"\n#include "api/api.h"\n'
        with tree(files) as d:
            rc, out = run(d)
        self.assertEqual(rc, 1, out)
        self.assertIn('src/notify/notify.c:2: forbidden include "api/api.h" '
                      '(notify -> api)', out)
        self.assertIn("include cycle: api -> core -> notify -> api", out)
        self.assertIn('src/notify/notify.c:2: "api/api.h"', out)

    def test_base_header_may_not_include_a_layer(self):
        files = dict(CLEAN)
        files["ticker.h"] = '#include "core/app.h"\n'
        with tree(files) as d:
            rc, out = run(d)
        self.assertEqual(rc, 1, out)
        self.assertIn('src/ticker.h:1: forbidden include "core/app.h" '
                      '(base -> core)', out)
        # ticker.c -> ticker.h -> core -> ticker.h: a cycle too
        self.assertIn("include cycle: base -> core -> base", out)

    def test_unknown_folder_fails(self):
        files = dict(CLEAN)
        files["webauthn/wa.c"] = '#include "util/util.h"\n'
        with tree(files) as d:
            rc, out = run(d)
        self.assertEqual(rc, 1, out)
        self.assertIn("src/webauthn/wa.c:1: folder webauthn/ has no row in "
                      "ALLOWED", out)


if __name__ == "__main__":
    unittest.main()
