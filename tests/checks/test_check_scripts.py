#!/usr/bin/env python3
"""Tests of the track scripts in checks/.

Most tests put FAKE `curl`, `systemctl` and `sleep` first on PATH: small
shell scripts that record their arguments and answer from a script of
responses, so every path of check_proxyd.sh runs in milliseconds without a
proxyd. One test runs the real curl against a tiny HTTP server on loopback,
and check_tcp.sh is tested against real loopback sockets. No root needed.

    python3 tests/checks/test_check_scripts.py
"""

import http.server
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import testenv  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CHECKS = os.path.join(ROOT, "checks")
CHECK_PROXYD = os.path.join(CHECKS, "check_proxyd.sh")
CHECK_READY = os.path.join(CHECKS, "check_proxyd_ready.sh")
CHECK_TCP = os.path.join(CHECKS, "check_tcp.sh")
SCRIPTS = [CHECK_PROXYD, CHECK_READY, CHECK_TCP]

# Every call of a fake appends "NAME ARG..." to $FAKE_DIR/calls (the order of
# calls across fakes) and writes its arguments one per line to
# $FAKE_DIR/NAME.N.args. The fake curl answers call N with line N of
# $FAKE_DIR/curl.responses ("HTTP_CODE EXIT_CODE"; the last line repeats),
# printing the code as `-w %{http_code}` would.
FAKE_CURL = r"""#!/bin/sh
d=$FAKE_DIR
n=$(($(cat "$d/curl.n" 2>/dev/null || echo 0) + 1))
echo "$n" >"$d/curl.n"
echo "curl $*" >>"$d/calls"
: >"$d/curl.$n.args"
for a in "$@"; do printf '%s\n' "$a" >>"$d/curl.$n.args"; done
line=$(sed -n "${n}p" "$d/curl.responses")
[ -n "$line" ] || line=$(tail -n 1 "$d/curl.responses")
code=${line%% *}
rc=${line#* }
printf '%s' "$code"
exit "$rc"
"""

FAKE_RECORDER = r"""#!/bin/sh
d=$FAKE_DIR
name=${0##*/}
n=$(($(cat "$d/$name.n" 2>/dev/null || echo 0) + 1))
echo "$n" >"$d/$name.n"
echo "$name $*" >>"$d/calls"
: >"$d/$name.$n.args"
for a in "$@"; do printf '%s\n' "$a" >>"$d/$name.$n.args"; done
exit "$(cat "$d/$name.rc" 2>/dev/null || echo 0)"
"""


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


class FakeEnv:
    """A temporary directory with fake curl/systemctl/sleep first on PATH."""

    def __init__(self, responses=("200 0",), fake_sleep=True):
        self.dir = tempfile.mkdtemp(prefix="checks-test-")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        write_exe(os.path.join(self.bin, "curl"), FAKE_CURL)
        write_exe(os.path.join(self.bin, "systemctl"), FAKE_RECORDER)
        if fake_sleep:
            write_exe(os.path.join(self.bin, "sleep"), FAKE_RECORDER)
        self.set_responses(responses)

    def set_responses(self, responses):
        with open(os.path.join(self.dir, "curl.responses"), "w") as f:
            f.write("".join(r + "\n" for r in responses))

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHECK_")}
        env["PATH"] = self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")
        env["FAKE_DIR"] = self.dir
        env.update(extra)
        return env

    def calls(self):
        """Every fake call in order, as 'name arg arg ...' strings."""
        try:
            with open(os.path.join(self.dir, "calls")) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def calls_of(self, name):
        return [c for c in self.calls() if c.split(" ", 1)[0] == name]

    def args(self, name, n):
        """The arguments of call n (1-based) of the fake `name`, as a list."""
        with open(os.path.join(self.dir, "%s.%d.args" % (name, n))) as f:
            return f.read().splitlines()

    def reset(self):
        """Forget every recorded call (the next curl answers line 1 again)."""
        for name in os.listdir(self.dir):
            if name == "calls" or name.endswith((".n", ".args")):
                os.remove(os.path.join(self.dir, name))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run(argv, env=None, timeout=30):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def option_value(args, name):
    """The value following option `name` in an argument list."""
    i = args.index(name)
    return args[i + 1]


class ScriptFiles(unittest.TestCase):
    def test_executable_with_shebang(self):
        for path in SCRIPTS:
            with self.subTest(script=os.path.basename(path)):
                mode = os.stat(path).st_mode
                self.assertTrue(mode & stat.S_IXUSR and mode & stat.S_IXOTH,
                                "%s must be executable by everyone (script_user)" % path)
                with open(path) as f:
                    self.assertEqual(f.readline().strip(), "#!/bin/bash")

    def test_syntax(self):
        for path in SCRIPTS:
            with self.subTest(script=os.path.basename(path)):
                r = run(["bash", "-n", path])
                self.assertEqual(r.returncode, 0, r.stderr)


class FakeCase(unittest.TestCase):
    """SCRIPT run against the fake curl/ss of a FakeEnv."""
    SCRIPT = ""

    def setUp(self):
        self.fake = FakeEnv()
        self.addCleanup(self.fake.cleanup)

    def check(self, *args, responses=None, **env):
        if responses is not None:
            self.fake.set_responses(responses)
        return run([self.SCRIPT, *args], env=self.fake.env(**env))


class CheckProxydFake(FakeCase):
    SCRIPT = CHECK_PROXYD

    def test_healthy_200_exits_0_quietly(self):
        r = self.check(responses=["200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(self.fake.calls_of("curl")), 1)

    def test_default_url_and_request_options(self):
        self.check(responses=["200 0"])
        args = self.fake.args("curl", 1)
        self.assertEqual(args[-1], "http://127.0.0.1:10088/")
        self.assertEqual(args[0], "-q", "-q must come first to ignore ~/.curlrc")
        self.assertEqual(option_value(args, "-w"), "%{http_code}")
        self.assertEqual(option_value(args, "--noproxy"), "*")

    def test_http_500_exits_1_with_one_reason_line(self):
        r = self.check(responses=["500 0"])
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("HTTP 500", lines[0])
        self.assertIn("http://127.0.0.1:10088/", lines[0])

    def test_other_codes_are_unhealthy(self):
        for code in ("204", "301", "404", "503"):
            with self.subTest(code=code):
                r = self.check(responses=["%s 0" % code])
                self.assertEqual(r.returncode, 1)
                self.assertIn("HTTP " + code, r.stderr)

    def test_curl_timeout_exits_1(self):
        r = self.check(responses=["000 28"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("curl exit 28", r.stderr)
        self.assertIn("2s", r.stderr)

    def test_connection_refused_exits_1(self):
        r = self.check(responses=["000 7"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)

    def test_200_with_curl_error_is_unhealthy(self):
        # A timeout after the status line arrived: curl exits 28 with code 200.
        r = self.check(responses=["200 28"])
        self.assertEqual(r.returncode, 1)

    def test_time_limit_default_passed_to_curl(self):
        self.check(responses=["200 0"])
        self.assertEqual(option_value(self.fake.args("curl", 1), "--max-time"), "2")

    def test_time_limit_option_passed_to_curl(self):
        for argv in (["-t", "0.5"], ["--timeout", "0.5"], ["--timeout=0.5"]):
            with self.subTest(argv=argv):
                self.fake.reset()
                r = self.check(*argv, responses=["200 0"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(option_value(self.fake.args("curl", 1), "--max-time"), "0.5")

    def test_time_limit_from_env(self):
        self.check(responses=["200 0"], CHECK_PROXYD_TIMEOUT="1.5")
        self.assertEqual(option_value(self.fake.args("curl", 1), "--max-time"), "1.5")

    def test_url_option_and_env(self):
        self.check("--url", "http://192.0.2.11:10088/", responses=["200 0"])
        self.assertEqual(self.fake.args("curl", 1)[-1], "http://192.0.2.11:10088/")
        self.check(responses=["200 0"], CHECK_PROXYD_URL="http://[::1]:10088/")
        self.assertEqual(self.fake.args("curl", 2)[-1], "http://[::1]:10088/")
        self.check("-u", "http://127.0.0.2:1/", responses=["200 0"],
                   CHECK_PROXYD_URL="http://ignored/")
        self.assertEqual(self.fake.args("curl", 3)[-1], "http://127.0.0.2:1/")

    def test_default_mode_never_calls_systemctl(self):
        for resp in ("500 0", "000 7", "000 28", "200 0"):
            with self.subTest(resp=resp):
                self.check(responses=[resp])
        self.assertEqual(self.fake.calls_of("systemctl"), [])
        self.assertEqual(self.fake.calls_of("sleep"), [])
        self.assertEqual(len(self.fake.calls_of("curl")), 4, "one request per run")

    def test_restart_runs_command_once_then_rechecks(self):
        r = self.check("--restart", "systemctl restart proxyd", responses=["500 0", "200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        calls = self.fake.calls()
        self.assertEqual([c.split(" ", 1)[0] for c in calls],
                         ["curl", "systemctl", "sleep", "curl"], calls)
        self.assertEqual(self.fake.args("systemctl", 1), ["restart", "proxyd"])
        self.assertEqual(self.fake.args("sleep", 1), ["2"], "default wait is 2 s")
        self.assertIn("restart", r.stderr)  # says that it recovered by restarting

    def test_restart_still_failing_exits_1(self):
        r = self.check("--restart", "systemctl start proxyd", "--wait", "0.25",
                       responses=["500 0", "000 7"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(self.fake.calls_of("systemctl")), 1, "restart only once")
        self.assertEqual(len(self.fake.calls_of("curl")), 2)
        self.assertEqual(self.fake.args("sleep", 1), ["0.25"])
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("after restart", r.stderr)

    def test_restart_not_run_when_healthy(self):
        r = self.check("--restart", "systemctl restart proxyd", "--stop-vrrpd",
                       responses=["200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fake.calls_of("systemctl"), [])
        self.assertEqual(self.fake.calls_of("sleep"), [])

    def test_seed_sequence_stop_vrrpd_only_when_still_failing(self):
        # The seed's check_nginx.sh: restart once, wait, check, stop keepalived.
        argv = ["--restart", "systemctl start proxyd", "--stop-vrrpd"]
        r = self.check(*argv, responses=["500 0", "500 0"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.fake.calls_of("systemctl"),
                         ["systemctl start proxyd", "systemctl stop vrrpd"])
        self.assertEqual([c.split(" ", 1)[0] for c in self.fake.calls()],
                         ["curl", "systemctl", "sleep", "curl", "systemctl"])
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

        # Recovers after the restart: vrrpd is left alone.
        self.fake.reset()
        r = self.check(*argv, responses=["500 0", "200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fake.calls_of("systemctl"), ["systemctl start proxyd"])

    def test_stop_vrrpd_without_restart(self):
        r = self.check("--stop-vrrpd", responses=["000 28"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.fake.calls_of("systemctl"), ["systemctl stop vrrpd"])
        self.assertEqual(self.fake.args("systemctl", 1), ["stop", "vrrpd"])
        self.assertEqual(self.fake.calls_of("sleep"), [])

    def test_stop_vrrpd_custom_command(self):
        for argv in (["--stop-vrrpd", "systemctl stop keepalived"],
                     ["--stop-vrrpd=systemctl stop keepalived"],
                     ["--stop-vrrpd", "systemctl stop keepalived", "-t", "1"]):
            with self.subTest(argv=argv):
                self.fake.reset()
                r = self.check(*argv, responses=["500 0"])
                self.assertEqual(r.returncode, 1)
                self.assertEqual(self.fake.calls_of("systemctl"),
                                 ["systemctl stop keepalived"])

    def test_stop_vrrpd_followed_by_option_uses_default(self):
        r = self.check("--stop-vrrpd", "--timeout", "1", responses=["500 0"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.fake.calls_of("systemctl"), ["systemctl stop vrrpd"])
        self.assertEqual(option_value(self.fake.args("curl", 1), "--max-time"), "1")

    def test_stop_vrrpd_not_run_when_healthy(self):
        r = self.check("--stop-vrrpd", responses=["200 0"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.fake.calls_of("systemctl"), [])

    def test_failing_commands_do_not_change_exit_code(self):
        with open(os.path.join(self.fake.dir, "systemctl.rc"), "w") as f:
            f.write("5\n")
        r = self.check("--restart", "systemctl restart proxyd", "--stop-vrrpd",
                       responses=["500 0"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("exit 5", r.stderr)
        r = self.check("--restart", "systemctl restart proxyd", responses=["500 0", "200 0"])
        self.assertEqual(r.returncode, 0, "healthy after the restart, whatever it returned")

    def test_ready_mode_default_url(self):
        r = self.check("--ready", responses=["200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fake.args("curl", 1)[-1], "http://127.0.0.1:10088/ready")
        r = self.check("--ready", responses=["503 0"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 503", r.stderr)
        self.assertEqual(self.fake.calls_of("systemctl"), [])

    def test_help_exits_0_and_prints_usage(self):
        for opt in ("--help", "-h"):
            with self.subTest(opt=opt):
                r = self.check(opt)
                self.assertEqual(r.returncode, 0)
                self.assertIn("Usage:", r.stdout)
                for word in ("--url", "--timeout", "--restart", "--stop-vrrpd", "--ready"):
                    self.assertIn(word, r.stdout)
        self.assertEqual(self.fake.calls(), [], "--help runs nothing")

    def test_bad_usage_exits_2_with_usage(self):
        cases = (["--bogus"], ["operand"], ["-t"], ["--timeout", "abc"], ["-t", "0"],
                 ["--wait", "-1"], ["--url"], ["--restart"], ["--restart", ""],
                 ["--ready=1"])
        for argv in cases:
            with self.subTest(argv=argv):
                r = self.check(*argv)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("Usage:", r.stderr)
                self.assertEqual(r.stdout, "")
        self.assertEqual(self.fake.calls(), [], "bad usage runs nothing")


class CheckProxydReadyFake(FakeCase):
    SCRIPT = CHECK_READY

    def test_ready_200_and_503(self):
        r = self.check(responses=["200 0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.fake.args("curl", 1)[-1], "http://127.0.0.1:10088/ready")
        self.assertEqual(option_value(self.fake.args("curl", 1), "--max-time"), "2")
        r = self.check(responses=["503 0"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("HTTP 503", r.stderr)
        self.assertEqual(self.fake.calls_of("systemctl"), [])

    def test_options_and_env(self):
        self.check("-t", "0.5", "--url", "http://127.0.0.1:1/ready", responses=["200 0"])
        args = self.fake.args("curl", 1)
        self.assertEqual(option_value(args, "--max-time"), "0.5")
        self.assertEqual(args[-1], "http://127.0.0.1:1/ready")
        self.check(responses=["200 0"], CHECK_PROXYD_READY_URL="http://127.0.0.3:10088/ready",
                   CHECK_PROXYD_URL="http://not-this/")
        self.assertEqual(self.fake.args("curl", 2)[-1], "http://127.0.0.3:10088/ready")

    def test_works_through_a_symlink(self):
        link = os.path.join(self.fake.dir, "check_ready_link.sh")
        os.symlink(CHECK_READY, link)
        r = run([link], env=self.fake.env())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_help_and_bad_usage(self):
        r = self.check("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage:", r.stdout)
        self.assertIn("/ready", r.stdout)
        r = self.check("--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Usage:", r.stderr)
        self.assertEqual(self.fake.calls(), [])


class StatusHandler(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next code of server.codes (the last repeats)."""

    def do_GET(self):
        srv = self.server
        with srv.lock:
            code = srv.codes[min(srv.hits, len(srv.codes) - 1)]
            srv.hits += 1
            srv.paths.append(self.path)
        body = ("proxyd test ok\n" if code == 200 else "error\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class CheckProxydRealCurl(unittest.TestCase):
    def setUp(self):
        # Under CI the runner (testenv) turns this skip into a failure:
        # packaging/install-deps.sh installs curl.
        testenv.require(testenv.unavailable(installed=["curl"]))

    def test_real_server_200_then_500(self):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
        srv.codes, srv.hits, srv.paths, srv.lock = [200, 500], 0, [], threading.Lock()
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        url = "http://127.0.0.1:%d/" % srv.server_address[1]
        # An http_proxy in the environment must not be used for the check.
        env = dict(os.environ, http_proxy="http://127.0.0.1:9/", HTTP_PROXY="http://127.0.0.1:9/")

        r = run([CHECK_PROXYD, "--url", url, "--timeout", "5"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CHECK_PROXYD, "--url", url, "--timeout", "5"], env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 500", r.stderr)
        self.assertEqual(srv.hits, 2)
        self.assertEqual(srv.paths, ["/", "/"])

    def test_real_timeout_is_enforced(self):
        # Accepts but never answers: curl must give up after --max-time.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        self.addCleanup(lsock.close)
        url = "http://127.0.0.1:%d/" % lsock.getsockname()[1]
        start = time.monotonic()
        r = run([CHECK_PROXYD, "--url", url, "--timeout", "0.5"])
        elapsed = time.monotonic() - start
        testenv.report(f"check_proxyd.sh --timeout 0.5 against a silent server: exit "
                       f"{r.returncode} after {elapsed:.2f} s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("curl exit 28", r.stderr)
        self.assertLess(elapsed, 3.0)


class CheckTcp(unittest.TestCase):
    def listener(self, family=socket.AF_INET, host="127.0.0.1"):
        s = socket.socket(family)
        s.bind((host, 0))
        s.listen(8)
        self.addCleanup(s.close)
        return s.getsockname()[1]

    def closed_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # bound, never listened: connect is refused
        return port

    def test_open_port_exits_0(self):
        port = self.listener()
        for argv in (["127.0.0.1", str(port)], ["127.0.0.1:%d" % port],
                     ["-t", "1", "127.0.0.1", str(port)], ["--timeout=1", "localhost:%d" % port]):
            with self.subTest(argv=argv):
                r = run([CHECK_TCP, *argv])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")

    def test_ipv6_open_port(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            port = self.listener(socket.AF_INET6, "::1")
        except OSError:
            self.skipTest("no IPv6 loopback")
        r = run([CHECK_TCP, "[::1]:%d" % port])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CHECK_TCP, "::1", str(port)])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_closed_port_exits_1(self):
        port = self.closed_port()
        r = run([CHECK_TCP, "127.0.0.1", str(port)])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("refused", r.stderr)

    def test_timeout_exits_1(self):
        # A fake `timeout` that reports expiry as coreutils' timeout does (124).
        d = tempfile.mkdtemp(prefix="checks-test-")
        self.addCleanup(shutil.rmtree, d, True)
        write_exe(os.path.join(d, "timeout"),
                  "#!/bin/sh\necho \"$*\" >\"%s/timeout.args\"\nexit 124\n" % d)
        env = dict(os.environ, PATH=d + os.pathsep + os.environ["PATH"])
        r = run([CHECK_TCP, "-t", "0.5", "127.0.0.1", "6443"], env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no connection within 0.5s", r.stderr)
        with open(os.path.join(d, "timeout.args")) as f:
            self.assertEqual(f.read().split()[:3], ["-k", "1", "0.5"])

    def test_help_and_bad_usage(self):
        r = run([CHECK_TCP, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage:", r.stdout)
        for argv in ([], ["127.0.0.1"], ["127.0.0.1", "0"], ["127.0.0.1", "70000"],
                     ["127.0.0.1", "http"], ["a", "1", "2"], ["--bogus", "a", "1"],
                     ["-t", "0", "a", "1"], ["-t"]):
            with self.subTest(argv=argv):
                r = run([CHECK_TCP, *argv])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("Usage:", r.stderr)


if __name__ == "__main__":
    testenv.main()
