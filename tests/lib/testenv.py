"""How every test file of the suite reports a skip (stdlib only).

One rule for the whole suite, shared by the Python harnesses (netlab,
proxylab, seedlab, the checks tests) and by the C++ lab binary
(tests/lab/lab_main.cc reads the same list):

- A skip is reported as a skip: exit 77, ctest's SKIP_RETURN_CODE, never 0.
- in_ci(): the environment variable CI is "1", "true" or "yes" (any case,
  surrounding blanks ignored).  `.ci/run` exports CI=true itself.
- Under CI a skipped test is a failure unless it is on the short list in
  tests/lib/allowed_skips.txt (test id and reason), documented in README.md.
- main() prints each test's outcome at the end, so that a file where one test
  skipped and the others passed shows what ran (ctest only shows "Skipped").
"""

from __future__ import annotations

import os
import sys
import unittest
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP_RETURN_CODE = 77
ALLOWED_SKIPS_FILE = os.path.join(HERE, "allowed_skips.txt")

# The spelling lab_main.cc accepts too (cannotRun there).
_CI_TRUE = ("1", "true", "yes")


def in_ci() -> bool:
    """True when the run is CI's: a skip must then be on the allowed list."""
    return os.environ.get("CI", "").strip().lower() in _CI_TRUE


def allowed_skips_file() -> str:
    # TESTENV_ALLOWED_SKIPS exists for tests/checks/test_testenv.py only.
    return os.environ.get("TESTENV_ALLOWED_SKIPS", ALLOWED_SKIPS_FILE)


def load_allowed_skips(path: Optional[str] = None) -> list:
    """[(test_id, reason_substring)] from the list: one entry a line,
    `TEST_ID | REASON SUBSTRING | why it may skip under CI`; # comments."""
    out = []
    with open(path or allowed_skips_file()) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2]:
                raise ValueError(f"{path or allowed_skips_file()}:{n}: expected "
                                 "'TEST_ID | REASON | WHY'")
            out.append((parts[0], parts[1]))
    return out


def skip_allowed_in_ci(test_id: str, reason: str, allowed: Optional[list] = None) -> bool:
    """True when (test_id, reason) matches an entry: the id exactly, the
    entry's reason as a substring of the skip's reason."""
    for tid, why in (load_allowed_skips() if allowed is None else allowed):
        if tid == test_id and why in reason:
            return True
    return False


def require(reason: Optional[str]) -> None:
    """Skip the caller when `reason` is not None (the unittest way, so the
    runner below applies the CI rule to it)."""
    if reason is not None:
        raise unittest.SkipTest(reason)


def _short_id(test) -> str:
    """A test's id with the module named after its file (`test_limits.X.y`,
    not `__main__.X.y`), as the allowed list spells it."""
    tid = test.id()
    main = sys.modules.get("__main__")
    stem = os.path.splitext(os.path.basename(getattr(main, "__file__", "") or ""))[0]
    if stem and "__main__" in tid:
        tid = tid.replace("__main__", stem)
    return tid


class _RecordingResult(unittest.TextTestResult):
    """Keeps the passes too, so the summary lists every outcome."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed: list = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test)


class _Runner(unittest.TextTestRunner):
    resultclass = _RecordingResult


def summarize(res, out=sys.stderr) -> int:
    """Prints each outcome and returns the exit code: 1 on a failure, an
    error, or (under CI) a skip that is not on the allowed list; 77 when
    something was skipped; else 0."""
    ci = in_ci()
    allowed = load_allowed_skips() if ci and res.skipped else []
    rows, refused = [], []
    for t in getattr(res, "passed", []):
        rows.append(("ok", _short_id(t), ""))
    for t, _ in res.failures:
        rows.append(("FAIL", _short_id(t), ""))
    for t, _ in res.errors:
        rows.append(("ERROR", _short_id(t), ""))
    for t, _ in getattr(res, "unexpectedSuccesses", []):
        rows.append(("FAIL", _short_id(t), "unexpected success"))
    for t, reason in res.skipped:
        tid = _short_id(t)
        if ci and not skip_allowed_in_ci(tid, reason, allowed):
            refused.append(tid)
            rows.append(("SKIP-FAIL", tid, f"{reason} (CI: not on {allowed_skips_file()})"))
        else:
            rows.append(("skipped", tid, reason))
    print("\noutcome of each test:", file=out)
    for what, tid, why in sorted(rows, key=lambda r: r[1]):
        print(f"  {what:9} {tid}" + (f": {why}" if why else ""), file=out)
    counts = {}
    for what, _, _ in rows:
        counts[what] = counts.get(what, 0) + 1
    print("  " + ", ".join(f"{n} {w}" for w, n in sorted(counts.items())), file=out)
    if res.failures or res.errors or getattr(res, "unexpectedSuccesses", []) or refused:
        if refused:
            print(f"CI={os.environ.get('CI')}: {len(refused)} skip(s) not on the allowed "
                  "list count as failures", file=out)
        return 1
    if res.skipped:
        print(f"{len(res.skipped)} skipped: exit {SKIP_RETURN_CODE}", file=out)
        return SKIP_RETURN_CODE
    return 0


def run(after=None) -> int:
    """unittest.main(verbosity=2) of the calling file; returns the exit code
    of summarize().  `after()` runs before the summary (netlab's leak check)
    and may return 1 to fail the run."""
    prog = unittest.main(verbosity=2, exit=False, testRunner=_Runner)
    extra = after() if after is not None else 0
    rc = summarize(prog.result)
    return 1 if extra else rc


def main(after=None) -> None:
    sys.exit(run(after))
