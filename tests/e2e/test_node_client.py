"""test_node_client.py — a Zendesk client no one on the project wrote
(node-zendesk 6.0.1, pinned in tests/node/package-lock.json) drives
zendesk-sim with its default settings.

The Node script (tests/node/zendesk_client_test.js) makes the calls and
asserts what node-zendesk hands back; this case starts the simulator,
runs the script, and checks from the simulator's access log that the
client really used Zendesk's ".json" URLs.  scripts/install-deps runs
`npm ci` in tests/node; without node_modules this case fails.
"""

import os
import shutil
import subprocess
import unittest

from zendesk_sim import REPO, ZendeskSim

NODE_DIR = os.path.join(REPO, "tests", "node")
SCRIPT = os.path.join(NODE_DIR, "zendesk_client_test.js")
NODE_TIMEOUT = 120


class NodeZendesk(unittest.TestCase):
    def test_node_zendesk_drives_the_simulator(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not installed")
        self.assertTrue(
            os.path.isdir(os.path.join(NODE_DIR, "node_modules",
                                       "node-zendesk")),
            "tests/node/node_modules is missing: run scripts/install-deps")
        zd = ZendeskSim()
        zd.start()
        self.addCleanup(zd.close)
        env = dict(os.environ, ZSIM_URL=zd.url,
                   ZSIM_ADMIN_TOKEN=zd.admin_token)
        run = subprocess.run([node, SCRIPT], cwd=NODE_DIR, env=env,
                             stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=NODE_TIMEOUT, check=False)
        out = run.stdout.decode("utf-8", "replace")
        self.assertEqual(run.returncode, 0, out +
                         run.stderr.decode("utf-8", "replace"))
        self.assertIn("node-zendesk: 10 steps passed", out)
        self.assertEqual(zd.stop(), 0, zd.log())
        log = zd.log()
        for path in ('"/api/v2/users/me.json"', '"/api/v2/tickets.json"',
                     '"/api/v2/oauth/clients.json"',
                     '"/api/v2/oauth/tokens.json"',
                     '"/api/v2/oauth/tokens/current.json"'):
            self.assertIn('"path":' + path, log)


if __name__ == "__main__":
    unittest.main()
