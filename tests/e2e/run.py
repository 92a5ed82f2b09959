#!/usr/bin/python3
"""run.py — run keywarden's end-to-end tests.

    KEYWARDEN_BIN=$PWD/build/test/keywarden /usr/bin/python3 tests/e2e/run.py [PATTERN...]

Discovers tests/e2e/test_*.py and runs them with unittest.  PATTERNs filter
tests like `unittest -k` (substring or fnmatch pattern, matched against
`module.Class.test_name`).  The last line printed is

    e2e: N passed, N failed[, N skipped]

and the exit code is 0 iff nothing failed (errors count as failures).
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main(argv):
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    patterns = [p if "*" in p else "*%s*" % p for p in argv]
    if patterns:
        loader.testNamePatterns = patterns
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=CountingResult)
    result = runner.run(suite)
    passed = result.passed + len(result.expectedFailures)
    failed = (len(result.failures) + len(result.errors)
              + len(result.unexpectedSuccesses))
    skipped = len(result.skipped)
    line = "e2e: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stdout.flush()
    sys.stderr.flush()
    print(line, flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
