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

And the one copy of what every test file needs around its daemons:

- built_binary("proxyd"), system_binary("nginx"): where a program is;
- unavailable(root=, built=, installed=): why a test cannot run here (the
  reason its skip gives), require(reason) to skip on it;
- wait_for(cond, timeout): poll until a condition holds, timed; sample():
  what a value was over a while;
- report(msg, tag): a measured figure, printed next to the test's outcome;
- sanitizer_report / exit_problem: how a daemon's exit is judged clean;
- Process: a child in its own process group that dies with the test;
- DaemonCase: the base test case (owns what it starts, reports figures,
  optionally runs its tests as ordered steps with diagnostics on failure).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import unittest
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
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


# ---------------------------------------------------------------------------
# Where the programs are, and why a test cannot run
# ---------------------------------------------------------------------------

# The programs this build makes; each can be given as $NAME_BIN.
BUILT = ("proxyd", "vrrpd", "lab_tests")


def _bin_env(name: str) -> str:
    return f"{name.upper()}_BIN"


def built_binary(name: str) -> str:
    """The program `name` of this build, as an absolute path (tests run
    programs from other directories): $NAME_BIN (PROXYD_BIN, VRRPD_BIN,
    LAB_TESTS_BIN) when set, else beside another built program given that
    way (PROXYD_BIN=/b/bin/proxyd: /b/bin/vrrpd), else build/bin/NAME of this
    checkout."""
    given = os.environ.get(_bin_env(name))
    if given:
        return os.path.abspath(given)
    for other in BUILT:
        path = os.environ.get(_bin_env(other))
        if path:
            return os.path.join(os.path.dirname(os.path.abspath(path)), name)
    return os.path.join(REPO, "build", "bin", name)


def system_binary(name: str, env: Optional[str] = None) -> str:
    """An installed program: $ENV (default $NAME_BIN: NGINX_BIN,
    KEEPALIVED_BIN) when set, else found on PATH, else /usr/sbin/NAME."""
    return (os.environ.get(env or _bin_env(name)) or shutil.which(name)
            or os.path.join("/usr/sbin", name))


def unavailable(root: Optional[str] = None, built=(), installed=()) -> Optional[str]:
    """Why a test cannot run here, or None when it can: `root` (what needs
    it) without root, else the first program of `built` (built_binary) or
    `installed` (system_binary) that is not an executable.  The reason is
    what the skip says (and what tests/lib/allowed_skips.txt matches)."""
    if root is not None and os.geteuid() != 0:
        return f"{root} needs root"
    for name in built:
        path = built_binary(name)
        if not os.access(path, os.X_OK):
            return f"{name} binary not built ({path} missing; set {_bin_env(name)})"
    for name in installed:
        path = system_binary(name)
        if not os.access(path, os.X_OK):
            return f"{name} not installed ({path} missing)"
    return None


# ---------------------------------------------------------------------------
# Waiting, figures, clean exits
# ---------------------------------------------------------------------------


def wait_for(cond: Callable[[], object], timeout: float, interval: float = 0.01,
             since: Optional[float] = None) -> Optional[float]:
    """Poll `cond` every `interval` s until it is truthy.  Returns the elapsed
    seconds measured from `since` (a time.monotonic() value, default: now) at
    the first poll that saw it true, or None after `timeout` s."""
    start = time.monotonic()
    t0 = start if since is None else since
    while True:
        if cond():
            return time.monotonic() - t0
        if time.monotonic() - start >= timeout:
            return None
        time.sleep(interval)


def sample(value: Callable[[], object], seconds: float, interval: float = 0.05) -> set:
    """The distinct values of value() seen while polling it for `seconds`
    (one element when nothing moved)."""
    seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.add(value())
        time.sleep(interval)
    return seen


def report(msg: str, tag: Optional[str] = None) -> None:
    """A measured figure (a time, a rate, what a reference did), printed on
    stderr under the running test's line: `    [TAG] msg`."""
    print(f"\n    [{tag}] {msg}" if tag else f"\n    {msg}", file=sys.stderr, flush=True)


SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def sanitizer_report(text: str) -> Optional[str]:
    """The first sanitizer marker (ASan, LeakSanitizer, UBSan) in a daemon's
    output, or None."""
    return next((m for m in SANITIZER_MARKERS if m in text), None)


def exit_problem(what: str, returncode: Optional[int], output: str) -> Optional[str]:
    """Why a daemon's exit on TERM was not clean (a sanitizer report in its
    output, an exit code other than 0), or None."""
    if sanitizer_report(output):
        return f"{what}'s stderr has a sanitizer report:\n{output[-4000:]}"
    if returncode not in (0, None):
        return f"{what} exited with {returncode}; stderr:\n{output[-2000:]}"
    return None


# ---------------------------------------------------------------------------
# Children of the test
# ---------------------------------------------------------------------------


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` when the test process dies, even by
    SIGKILL (a ctest timeout), so no daemon outlives its test.  Survives
    `ip netns exec`'s execve (ip is not set-uid)."""
    def preexec() -> None:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(sig), 0, 0, 0)   # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001 - best effort
            pass
    return preexec


class Process:
    """A program started in its own session and process group, stdout and
    stderr appended to files (one file when `stderr_path` is None), dying
    with the test (`pdeathsig`, None: it may outlive it).  kill() signals
    the whole group, waits, then SIGKILLs what is left of it."""

    def __init__(self, argv: list, stdout_path: str, stderr_path: Optional[str] = None,
                 pdeathsig: Optional[int] = signal.SIGTERM, stamp: bool = False, **popen_kw):
        self.argv = list(argv)
        self.stdout_path, self.stderr_path = stdout_path, stderr_path
        self._out = open(stdout_path, "ab")
        self._err = open(stderr_path, "ab") if stderr_path else None
        if stamp:
            f = self._err or self._out
            f.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(self.argv)}\n".encode())
            f.flush()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err or self._out, start_new_session=True,
                                     preexec_fn=None if pdeathsig is None
                                     else die_with_parent(pdeathsig), **popen_kw)
        self.returncode: Optional[int] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, sig: int, group: bool = True) -> None:
        """Send `sig` to the process group (default) or the process only."""
        if self.proc.poll() is not None:
            return
        try:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def kill(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> Optional[int]:
        """`sig` to the group, wait up to `timeout` s (then SIGKILL); what is
        left of the group (children, scripts) is killed.  The exit code."""
        self.send(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.returncode = self.proc.returncode
        self._close()
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM) -> Optional[int]:
        return self.kill(sig)

    def wait(self, timeout: float = 10.0) -> Optional[int]:
        """The exit code, or None when it still runs after `timeout` s."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.returncode = rc
        return rc

    def _close(self) -> None:
        for f in (self._out, self._err):
            if f is None:
                continue
            try:
                f.close()
            except OSError:
                pass

    def output(self) -> str:
        out = []
        for path in (self.stdout_path, self.stderr_path):
            if not path:
                continue
            try:
                with open(path, errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        return "".join(out)


# ---------------------------------------------------------------------------
# The base test case
# ---------------------------------------------------------------------------


class DaemonCase(unittest.TestCase):
    """Base of the integration and lab test cases.

    - own(thing) stops `thing` (anything with stop()) at the test's cleanup;
    - report(msg) prints a figure tagged with TAG (the implementation);
    - wait(cond, timeout, what) fails the test when `cond` does not hold in
      time, else returns the seconds it took;
    - STEPS = True: the tests of the class are ordered steps of one scenario
      (test_1_..., test_2_...); a failed step prints diagnostics() while the
      set-up still exists and skips the later steps."""

    maxDiff = None
    TAG: Optional[str] = None
    STEPS = False
    failed = False

    @classmethod
    def report(cls, msg: str) -> None:
        report(msg, cls.TAG)

    def own(self, thing, stop: Optional[Callable] = None):
        self.addCleanup(stop or thing.stop)
        return thing

    def wait(self, cond: Callable[[], object], timeout: float = 5.0, what="condition",
             interval: float = 0.02) -> float:
        """wait_for(cond), failing the test on a timeout with `what` (a text,
        or a callable giving it then: a log as it is at the failure)."""
        t = wait_for(cond, timeout, interval)
        if t is None:
            self.fail(f"timed out after {timeout}s waiting for "
                      f"{what() if callable(what) else what}")
        return t

    def diagnostics(self) -> Optional[str]:
        """What to print when a step fails (the daemons' logs)."""
        return None

    def setUp(self):
        if self.STEPS and type(self).failed:
            self.skipTest("an earlier step of this scenario failed")

    def run(self, result=None):
        if result is None or not self.STEPS:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            type(self).failed = True
            text = self.diagnostics()
            if text:
                print(f"\n--- lab diagnostics for {self.id()}\n{text}", file=sys.stderr,
                      flush=True)
        return out


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
