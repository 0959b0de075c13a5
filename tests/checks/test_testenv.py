#!/usr/bin/env python3
"""The suite's skip rule, tested (tests/lib/testenv.py, tests/lab/lab_main.cc).

- A Python test file run through the harness's main exits 77 when a test
  skipped, prints each test's outcome (a partial skip shows what passed), and
  under CI exits 1 unless the skip is on the allowed list.
- The C++ lab binary, run as an unprivileged user, applies the same CI
  spellings and the same list.
- Every test ctest knows that runs a Python file or the lab binary has
  SKIP_RETURN_CODE 77, and every Python test file ends in the harness's main
  (never unittest's own main, whose skips ctest reports as Passed).

    python3 tests/checks/test_testenv.py
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.normpath(os.path.join(HERE, "..", "lib"))
TESTS = os.path.dirname(LIB)
sys.path.insert(0, LIB)
import testenv  # noqa: E402

def lab_tests_bin() -> str:
    """$LAB_TESTS_BIN (ctest sets it), else as testenv finds a built program."""
    return testenv.built_binary("lab_tests")


CI_TRUE = ["true", "1", "yes", "TRUE", " True ", "Yes"]
CI_FALSE = ["", "0", "false", "no", "off"]

SAMPLE = '''
import os, sys, unittest
sys.path.insert(0, {lib!r})
import testenv

class Sample(unittest.TestCase):
    def test_runs(self):
        pass

    def test_skips(self):
        self.skipTest("sample reason: missing widget")

if __name__ == "__main__":
    testenv.main()
'''


def env_with(**kw):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TESTENV_ALLOWED_SKIPS")}
    env.update({k: v for k, v in kw.items() if v is not None})
    return env


class PythonRunner(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_testenv.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sample = os.path.join(self.tmp, "test_sample.py")
        with open(self.sample, "w") as f:
            f.write(SAMPLE.format(lib=LIB))

    def run_sample(self, **env):
        return subprocess.run([sys.executable, self.sample], capture_output=True, text=True,
                              timeout=60, env=env_with(**env))

    def allowed(self, line):
        path = os.path.join(self.tmp, "allowed.txt")
        with open(path, "w") as f:
            f.write("# test list\n" + line + "\n")
        return path

    def test_a_skip_is_77_and_each_outcome_is_printed(self):
        for ci in CI_FALSE + [None]:
            with self.subTest(CI=ci):
                r = self.run_sample(CI=ci)
                self.assertEqual(r.returncode, 77, r.stderr)
                self.assertRegex(r.stderr, r"\n  ok +test_sample\.Sample\.test_runs\n")
                self.assertRegex(r.stderr, r"\n  skipped +test_sample\.Sample\.test_skips: "
                                           r"sample reason: missing widget\n")

    def test_under_ci_a_skip_not_listed_fails(self):
        for ci in CI_TRUE:
            with self.subTest(CI=ci):
                r = self.run_sample(CI=ci)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("SKIP-FAIL test_sample.Sample.test_skips", r.stderr)

    def test_under_ci_a_listed_skip_is_77(self):
        ok = self.allowed("test_sample.Sample.test_skips | missing widget | sample")
        r = self.run_sample(CI="true", TESTENV_ALLOWED_SKIPS=ok)
        self.assertEqual(r.returncode, 77, r.stderr)
        for wrong in ("test_sample.Sample.test_skips | missing gadget | other reason",
                      "test_sample.Sample.test_runs | missing widget | other test"):
            with self.subTest(entry=wrong):
                r = self.run_sample(CI="true", TESTENV_ALLOWED_SKIPS=self.allowed(wrong))
                self.assertEqual(r.returncode, 1, r.stderr)

    def test_the_committed_list_parses(self):
        entries = testenv.load_allowed_skips(testenv.ALLOWED_SKIPS_FILE)
        testenv.report(f"allowed skips under CI: {entries}")
        self.assertLessEqual(len(entries), 5, "the allowed-skip list must stay short")


class LabBinary(unittest.TestCase):
    """lab_main.cc, run as nobody: the same CI rule and list as testenv."""

    def setUp(self):
        self.bin = lab_tests_bin()
        testenv.require(testenv.unavailable(built=["lab_tests"]))
        self.tmp = tempfile.mkdtemp(prefix="test_testenv.")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_lab(self, **env):
        def drop():
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
        return subprocess.run([self.bin], capture_output=True, text=True, timeout=60,
                              env=env_with(**env), preexec_fn=drop, cwd="/")

    def test_not_root_is_77_outside_ci_and_1_under_ci(self):
        for ci in CI_FALSE + [None]:
            with self.subTest(CI=ci):
                r = self.run_lab(CI=ci)
                self.assertEqual(r.returncode, 77, r.stderr)
        for ci in CI_TRUE:
            with self.subTest(CI=ci):
                r = self.run_lab(CI=ci)
                self.assertEqual(r.returncode, 1, r.stderr)

    def test_the_list_is_read(self):
        path = os.path.join(self.tmp, "allowed.txt")
        with open(path, "w") as f:
            f.write("# x\nlab_tests | not root | a lab-less CI runner\n")
        os.chmod(path, 0o644)
        r = self.run_lab(CI="true", TESTENV_ALLOWED_SKIPS=path)
        self.assertEqual(r.returncode, 77, r.stderr)
        with open(path, "w") as f:
            f.write("lab_tests | unshare | another reason\n")
        r = self.run_lab(CI="true", TESTENV_ALLOWED_SKIPS=path)
        self.assertEqual(r.returncode, 1, r.stderr)


class Harness(unittest.TestCase):
    """The one copy of wait_for, binary lookup and the unavailable rule."""

    def test_wait_for_times_the_first_true_poll_and_gives_up(self):
        polls = []
        t = testenv.wait_for(lambda: polls.append(1) or len(polls) >= 3, 5, 0.01)
        self.assertIsNotNone(t)
        self.assertEqual(len(polls), 3)
        since = time.monotonic() - 10
        self.assertGreaterEqual(testenv.wait_for(lambda: True, 1, since=since), 10)
        t0 = time.monotonic()
        self.assertIsNone(testenv.wait_for(lambda: False, 0.1, 0.01))
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_built_binary_from_its_variable_beside_another_or_in_build(self):
        clear = {k: "" for k in ("PROXYD_BIN", "VRRPD_BIN", "LAB_TESTS_BIN")}
        with mock.patch.dict(os.environ, clear):
            self.assertEqual(testenv.built_binary("vrrpd"),
                             os.path.join(testenv.REPO, "build", "bin", "vrrpd"))
        with mock.patch.dict(os.environ, dict(clear, PROXYD_BIN="/b/bin/proxyd")):
            self.assertEqual(testenv.built_binary("vrrpd"), "/b/bin/vrrpd")
            self.assertEqual(testenv.built_binary("proxyd"), "/b/bin/proxyd")
        with mock.patch.dict(os.environ, dict(clear, VRRPD_BIN="rel/vrrpd")):
            self.assertEqual(testenv.built_binary("vrrpd"), os.path.abspath("rel/vrrpd"))

    def test_unavailable_names_what_is_missing(self):
        with mock.patch.dict(os.environ, {"VRRPD_BIN": "/nonexistent/vrrpd",
                                          "NGINX_BIN": "/nonexistent/nginx"}):
            self.assertEqual(testenv.unavailable(built=["vrrpd"]),
                             "vrrpd binary not built (/nonexistent/vrrpd missing; set VRRPD_BIN)")
            self.assertEqual(testenv.unavailable(installed=["nginx"]),
                             "nginx not installed (/nonexistent/nginx missing)")
        self.assertIsNone(testenv.unavailable(installed=["sh"]))
        with mock.patch.object(os, "geteuid", return_value=1000):
            self.assertEqual(testenv.unavailable(root="the lab"), "the lab needs root")
        with mock.patch.object(os, "geteuid", return_value=0):
            self.assertIsNone(testenv.unavailable(root="the lab"))

    def test_no_file_has_its_own_copy_of_the_harness(self):
        """What testenv holds once is not written again elsewhere."""
        own_copy = re.compile(r"^def (wait_for|report|require_curl|skip_or_fail|missing)\(|"
                              r"os\.environ\.get\(\"(PROXYD|VRRPD|LAB_TESTS|NGINX|KEEPALIVED)_BIN|"
                              r"\.prctl\(|raise unittest\.SkipTest\(|"
                              r"print\(f?\"(\\n    |measured: )", re.M)
        files = [f for pattern in ("tests/*/*.py", "bench/*.py", "examples/demo/*.py")
                 for f in glob.glob(os.path.join(testenv.REPO, pattern))]
        self.assertGreater(len(files), 20)
        bad = []
        for path in sorted(files):
            if path == os.path.join(LIB, "testenv.py"):
                continue
            with open(path) as f:
                text = f.read()
            for m in own_copy.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{os.path.relpath(path, testenv.REPO)}:{line}: {m.group(0).strip()}")
        self.assertEqual(bad, [], "use tests/lib/testenv.py")


class EveryTestFile(unittest.TestCase):

    def test_python_files_end_in_the_harness_main(self):
        files = sorted(glob.glob(os.path.join(TESTS, "*", "test_*.py")))
        self.assertGreater(len(files), 10)
        for path in files:
            with self.subTest(file=os.path.relpath(path, TESTS)):
                with open(path) as f:
                    text = f.read()
                self.assertNotRegex(text, r"unittest\.main\(", "unittest's own main")
                self.assertNotRegex(text, r"sys\.exit\(\s*77", "own skip exit code")
                main = text[text.rindex('if __name__ == "__main__":'):]
                self.assertRegex(main, r"\b(lab|netlab|testenv|proxylab)\.main\(\)")

    def test_ctest_entries_have_skip_return_code_77(self):
        build = os.path.dirname(os.path.dirname(lab_tests_bin()))
        testenv.require(None if os.path.exists(os.path.join(build, "CTestTestfile.cmake"))
                        else "no build directory (LAB_TESTS_BIN) to ask ctest")
        r = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        checked = 0
        for t in json.loads(r.stdout)["tests"]:
            cmd = " ".join(t.get("command", []))
            if not (re.search(r"\.py$", cmd) or cmd.endswith("/lab_tests")):
                continue
            props = {p["name"]: p["value"] for p in t.get("properties", [])}
            with self.subTest(test=t["name"]):
                self.assertEqual(str(props.get("SKIP_RETURN_CODE")), "77", props)
                checked += 1
        testenv.report(f"ctest entries with SKIP_RETURN_CODE 77: {checked}")
        self.assertGreater(checked, 10)

    def test_no_catch_test_name_starts_with_a_dash(self):
        """ctest runs each Catch2 case as `unit_tests "NAME"`: a name that
        starts with '-' is read as an option ("-t" lists tags), nothing runs
        and ctest reports Passed. Two such cases hid a real failure."""
        files = sorted(glob.glob(os.path.join(TESTS, "**", "*.cc"), recursive=True))
        self.assertGreater(len(files), 10)
        bad = []
        for path in files:
            with open(path) as f:
                for n, line in enumerate(f, 1):
                    if re.search(r'\b(TEST_CASE|SCENARIO)\(\s*"\s*-', line):
                        bad.append(f"{os.path.relpath(path, TESTS)}:{n}: {line.strip()}")
        self.assertEqual(bad, [])


if __name__ == "__main__":
    testenv.main()
