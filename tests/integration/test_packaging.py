#!/usr/bin/env python3
"""The Debian packages: `cmake --build BUILD --target package` makes
proxyd_<ver>-1_<arch>.deb and vrrpd_<ver>-1_<arch>.deb in BUILD; both are
unpacked with `dpkg-deb -x` into a scratch root, and there:

- every file is at its Debian path, root-owned, with the right mode;
- the conffiles are listed and shipped; the control fields name the
  dependencies (dpkg-shlibdeps ran);
- the maintainer scripts pass `sh -n`, and run against fake adduser /
  deb-systemd-helper / systemctl they create the users and the log directory
  and enable the units, never starting or restarting anything;
- the man pages render without a groff warning;
- the unpacked binaries run `-v` and accept the shipped configs with `-t`;
- `systemd-analyze verify --root=SCRATCH` is clean on both units.

    python3 tests/integration/test_packaging.py

BUILD is $PROXYHA_BUILD_DIR, else the build tree PROXYD_BIN lives in
(BUILD/bin/proxyd). Prerequisites missing (dpkg-deb, systemd-analyze, groff
or man) skip with the reason; under CI=true they fail.
"""

import glob
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402

SBIN = "usr/sbin"
UNITS = "lib/systemd/system"

# path in the package -> mode
PROXYD_FILES = {
    f"{SBIN}/proxyd": 0o755,
    f"{UNITS}/proxyd.service": 0o644,
    "etc/proxyd/proxyd.ini": 0o644,
    "etc/logrotate.d/proxyd": 0o644,
    "usr/share/man/man8/proxyd.8.gz": 0o644,
    "usr/share/man/man5/proxyd.ini.5.gz": 0o644,
}
VRRPD_FILES = {
    f"{SBIN}/vrrpd": 0o755,
    f"{UNITS}/vrrpd.service": 0o644,
    "etc/vrrpd/vrrpd.ini": 0o644,
    "usr/libexec/vrrpd/check_proxyd.sh": 0o755,
    "usr/libexec/vrrpd/check_proxyd_ready.sh": 0o755,
    "usr/libexec/vrrpd/check_tcp.sh": 0o755,
    "usr/share/man/man8/vrrpd.8.gz": 0o644,
    "usr/share/man/man5/vrrpd.ini.5.gz": 0o644,
}
CONFFILES = {
    "proxyd": ["/etc/proxyd/proxyd.ini", "/etc/logrotate.d/proxyd"],
    "vrrpd": ["/etc/vrrpd/vrrpd.ini"],
}


def build_dir() -> str:
    d = os.environ.get("PROXYHA_BUILD_DIR")
    if not d:
        d = os.path.dirname(os.path.dirname(os.path.abspath(lab.proxyd_binary())))
    return d


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, **kw)


class Packages:
    """Built once for the module: the .deb files, the scratch root they are
    unpacked into, and each package's control directory."""
    tmp = None
    root = None
    control = {}
    debs = {}
    version = None


def setUpModule():
    testenv.require(testenv.unavailable(installed=["dpkg-deb", "cmake"]))
    build = build_dir()
    if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        testenv.require(f"no CMake build tree at {build} (set PROXYHA_BUILD_DIR or PROXYD_BIN)")
    testenv.require(testenv.unavailable(built=["proxyd"]))

    started = time.time()
    p = run(["cmake", "--build", build, "--target", "package"], timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"cmake --build {build} --target package failed:\n{p.stdout}\n{p.stderr}")

    v = run([lab.proxyd_binary(), "-v"]).stdout.split()
    Packages.version = v[-1] if v else "?"
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    Packages.tmp = tempfile.mkdtemp(prefix="proxyha-pkg-")
    Packages.root = os.path.join(Packages.tmp, "root")
    os.mkdir(Packages.root)
    for name in ("proxyd", "vrrpd"):
        deb = os.path.join(build, f"{name}_{Packages.version}-1_{arch}.deb")
        if not os.path.isfile(deb):
            found = glob.glob(os.path.join(build, "*.deb"))
            raise RuntimeError(f"{deb} was not made (found: {found})\n{p.stdout}")
        if os.path.getmtime(deb) < started - 2:
            raise RuntimeError(f"{deb} is older than this run: `--target package` did not write it")
        Packages.debs[name] = deb
        for argv in (["dpkg-deb", "-x", deb, Packages.root],
                     ["dpkg-deb", "-e", deb, os.path.join(Packages.tmp, f"control-{name}")]):
            r = run(argv)
            if r.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)}: {r.stderr}")
        Packages.control[name] = os.path.join(Packages.tmp, f"control-{name}")
    print(f"packages: {', '.join(Packages.debs.values())}", file=sys.stderr)


def tearDownModule():
    if Packages.tmp:
        shutil.rmtree(Packages.tmp, ignore_errors=True)


def in_root(rel: str) -> str:
    return os.path.join(Packages.root, rel)


class Contents(unittest.TestCase):
    def test_files_at_their_paths_with_modes_and_root_ownership(self):
        for name, files in (("proxyd", PROXYD_FILES), ("vrrpd", VRRPD_FILES)):
            with tarfile.open(fileobj=self._data_tar(Packages.debs[name])) as t:
                members = {m.name.lstrip("./"): m for m in t.getmembers()}
            for path, mode in files.items():
                with self.subTest(package=name, path=path):
                    self.assertIn(path, members)
                    m = members[path]
                    self.assertTrue(m.isfile())
                    self.assertEqual(stat.S_IMODE(m.mode), mode, oct(m.mode))
                    self.assertEqual((m.uname, m.gname, m.uid, m.gid), ("root", "root", 0, 0))
            # Nothing outside Debian's directories (no /usr/local, no build paths).
            for path in members:
                with self.subTest(package=name, path=path):
                    self.assertRegex(path, r"^(etc|lib/systemd|usr/(sbin|libexec|share))(/|$)|^(etc|lib|usr)/?$")

    @staticmethod
    def _data_tar(deb):
        """The data member of a .deb as a file object tarfile can read."""
        import io
        p = run(["dpkg-deb", "--fsys-tarfile", deb], text=False)
        return io.BytesIO(p.stdout)

    def test_control_fields(self):
        for name in ("proxyd", "vrrpd"):
            with self.subTest(package=name):
                f = lambda field: run(["dpkg-deb", "-f", Packages.debs[name], field]).stdout.strip()
                self.assertEqual(f("Package"), name)
                self.assertEqual(f("Version"), f"{Packages.version}-1")
                depends = f("Depends")
                print(f"{name}: Depends: {depends}", file=sys.stderr)
                self.assertIn("adduser", depends)
                self.assertRegex(depends, r"libc6 \(>= ", "dpkg-shlibdeps did not run")
                self.assertIn("libevent-core", depends)
                self.assertTrue(f("Description").strip())
        self.assertIn("curl", run(["dpkg-deb", "-f", Packages.debs["vrrpd"], "Depends"]).stdout)

    def test_conffiles_listed_and_shipped(self):
        for name, expected in CONFFILES.items():
            with self.subTest(package=name):
                with open(os.path.join(Packages.control[name], "conffiles")) as f:
                    listed = [line.strip() for line in f if line.strip()]
                self.assertEqual(sorted(listed), sorted(expected))
                for c in listed:
                    self.assertTrue(os.path.isfile(in_root(c.lstrip("/"))), c)

    def test_shipped_configs_pass_t_with_the_unpacked_binaries(self):
        for argv in ([in_root(f"{SBIN}/proxyd"), "-t", "-c", in_root("etc/proxyd/proxyd.ini")],
                     [in_root(f"{SBIN}/vrrpd"), "-t", "-f", in_root("etc/vrrpd/vrrpd.ini")]):
            with self.subTest(binary=os.path.basename(argv[0])):
                p = run(argv, cwd="/")
                print(p.stderr.strip(), file=sys.stderr)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertNotIn(": error:", p.stderr)

    def test_unpacked_binaries_run(self):
        for name in ("proxyd", "vrrpd"):
            with self.subTest(binary=name):
                p = run([in_root(f"{SBIN}/{name}"), "-v"])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual((p.stdout + p.stderr).split(), [name, Packages.version])

    def test_logrotate_snippet_signals_usr1(self):
        with open(in_root("etc/logrotate.d/proxyd")) as f:
            text = f.read()
        self.assertIn("/var/log/proxyd/*.log {", text)
        self.assertEqual(text.count("{"), text.count("}"))
        post = re.search(r"postrotate\n(.*?)\n\s*endscript", text, re.S)
        self.assertIsNotNone(post)
        self.assertIn("USR1", post.group(1))
        p = run(["sh", "-n"], input=post.group(1))
        self.assertEqual(p.returncode, 0, p.stderr)
        if shutil.which("logrotate"):  # optional: parse it as logrotate would
            state = os.path.join(Packages.tmp, "logrotate.state")
            p = run(["logrotate", "-d", "-s", state, in_root("etc/logrotate.d/proxyd")])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotRegex(p.stderr, r"(?m)^error:")


class MaintainerScripts(unittest.TestCase):
    SCRIPTS = ("postinst", "prerm", "postrm")
    FAKES = ("adduser", "getent", "install", "deb-systemd-helper", "deb-systemd-invoke",
             "systemctl", "rm", "chown", "mkdir", "invoke-rc.d", "service")

    def test_present_executable_and_valid_sh(self):
        for name in ("proxyd", "vrrpd"):
            for s in self.SCRIPTS:
                with self.subTest(package=name, script=s):
                    path = os.path.join(Packages.control[name], s)
                    self.assertTrue(os.path.isfile(path))
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o755)
                    with open(path) as f:
                        self.assertEqual(f.readline().strip(), "#!/bin/sh")
                    p = run(["sh", "-n", path])
                    self.assertEqual(p.returncode, 0, p.stderr)

    def fake_run(self, name, script, *args):
        """Runs a maintainer script with PATH holding only fakes that log
        their arguments (so nothing on this host changes); returns the log."""
        fakes = tempfile.mkdtemp(dir=Packages.tmp)
        log = os.path.join(fakes, "calls.log")
        for tool in self.FAKES:
            body = f'#!/bin/sh\necho "${{0##*/}} $*" >> {log}\n'
            if tool == "getent":
                body += "exit 2\n"  # no such user or group yet
            with open(os.path.join(fakes, tool), "w") as f:
                f.write(body)
            os.chmod(os.path.join(fakes, tool), 0o755)
        p = run(["/bin/sh", os.path.join(Packages.control[name], script), *args],
                env={"PATH": fakes})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        calls = []
        if os.path.exists(log):
            with open(log) as f:
                calls = f.read().splitlines()
        for c in calls:
            self.assertNotRegex(c, r"\b(start|restart|reload-or-restart|try-restart)\b",
                                f"{name} {script} {args}: {c}")
        return calls

    def test_postinst_creates_the_users_and_enables_without_starting(self):
        for name, user in (("proxyd", "proxyd"), ("vrrpd", "vrrpd_script")):
            with self.subTest(package=name):
                calls = self.fake_run(name, "postinst", "configure", "")
                self.assertIn(f"adduser --quiet --system --group --no-create-home "
                              f"--home /nonexistent {user}", calls)
                self.assertIn(f"deb-systemd-helper enable {name}.service", calls)
                if name == "proxyd" and not os.path.isdir("/var/log/proxyd"):
                    self.assertIn("install -d -m 0750 -o proxyd -g proxyd /var/log/proxyd", calls)

    def test_prerm_and_postrm_run(self):
        for name in ("proxyd", "vrrpd"):
            with self.subTest(package=name):
                self.fake_run(name, "prerm", "upgrade", "9")
                self.fake_run(name, "prerm", "remove")
                self.assertIn(f"deb-systemd-helper mask {name}.service",
                              self.fake_run(name, "postrm", "remove"))
                calls = self.fake_run(name, "postrm", "purge")
                self.assertIn(f"deb-systemd-helper purge {name}.service", calls)
                if name == "proxyd":
                    self.assertIn("rm -rf /var/log/proxyd", calls)


class ManPages(unittest.TestCase):
    PAGES = {"man8/proxyd.8.gz": "proxyd", "man8/vrrpd.8.gz": "vrrpd",
             "man5/proxyd.ini.5.gz": "proxyd.ini", "man5/vrrpd.ini.5.gz": "vrrpd.ini"}

    def test_man_pages_render(self):
        groff, man = shutil.which("groff"), shutil.which("man")
        if not groff and not man:
            testenv.require("neither groff (groff-base) nor man (man-db) installed")
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
        for rel, name in self.PAGES.items():
            with self.subTest(page=rel):
                path = in_root(f"usr/share/man/{rel}")
                with gzip.open(path, "rt") as f:
                    src = f.read()
                self.assertIn(".TH ", src)
                if groff:
                    p = run([groff, "-man", "-Tutf8", "-ww"], input=src, env=env)
                else:
                    p = run([man, "-P", "cat", "-l", path], env=env)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr.strip(), "", "warnings while rendering")
                text = re.sub(r".\x08", "", p.stdout)
                self.assertIn("NAME", text)
                self.assertIn(f"{name} -", text.replace("\u2010", "-").replace("\u2212", "-"))


class Units(unittest.TestCase):
    def test_exec_paths_are_the_packaged_binaries(self):
        for name in ("proxyd", "vrrpd"):
            with open(in_root(f"{UNITS}/{name}.service")) as f:
                text = f.read()
            with self.subTest(unit=name):
                self.assertRegex(text, r"(?m)^Type=notify$")
                self.assertRegex(text, rf"(?m)^ExecStartPre=/usr/sbin/{name} -t ")
                self.assertRegex(text, rf"(?m)^ExecStart=/usr/sbin/{name} ")
                self.assertRegex(text, r"(?m)^ExecReload=/bin/kill -HUP \$MAINPID$")
                self.assertRegex(text, r"(?m)^Restart=always$")
                for cmd in re.findall(r"(?m)^Exec\w+=[-@:+!]*(\S+)", text):
                    if cmd.startswith("/usr/sbin/"):
                        self.assertTrue(os.access(in_root(cmd.lstrip("/")), os.X_OK), cmd)
        with open(in_root(f"{UNITS}/proxyd.service")) as f:
            proxyd = f.read()
        self.assertRegex(proxyd, r"(?m)^User=proxyd$")
        self.assertRegex(proxyd, r"(?m)^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$")
        with open(in_root(f"{UNITS}/vrrpd.service")) as f:
            vrrpd = f.read()
        caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", vrrpd).group(1).split()
        for c in ("CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
            self.assertIn(c, caps)
        self.assertRegex(vrrpd, r"(?m)^RuntimeDirectory=vrrpd$")

    def test_systemd_analyze_verify_is_clean(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            testenv.require("systemd-analyze not installed (Debian package systemd)")
        host_units = next((d for d in ("/lib/systemd/system", "/usr/lib/systemd/system")
                           if os.path.isfile(os.path.join(d, "sysinit.target"))), None)
        if not host_units:
            testenv.require("no systemd unit directory with sysinit.target on this host")
        # systemd is not PID 1 here, so verify runs offline against a root:
        # the unpacked packages, plus what a real system has beside them --
        # the standard targets the units' default dependencies name, and
        # /bin/kill (ExecReload) -- which verify checks inside the root too.
        vroot = os.path.join(Packages.tmp, "verify-root")
        shutil.copytree(Packages.root, vroot, symlinks=True)
        shutil.copytree(host_units, os.path.join(vroot, "usr/lib/systemd/system"), symlinks=True,
                        dirs_exist_ok=True)
        os.makedirs(os.path.join(vroot, "usr/bin"), exist_ok=True)
        kill = shutil.which("kill") or "/bin/kill"
        shutil.copy2(kill, os.path.join(vroot, "usr/bin/kill"))
        if not os.path.lexists(os.path.join(vroot, "bin")):
            os.symlink("usr/bin", os.path.join(vroot, "bin"))
        env = dict(os.environ, SYSTEMD_LOG_LEVEL="info", LC_ALL="C.UTF-8",
                   # Documentation=man:... is looked up with man(1): point it
                   # at the packaged pages, which checks they are found.
                   MANPATH=os.path.join(vroot, "usr/share/man"))
        extra = [] if shutil.which("man") else ["--man=no"]
        for name in ("proxyd", "vrrpd"):
            with self.subTest(unit=name):
                p = run([analyze, "verify", f"--root={vroot}", *extra, f"{name}.service"], env=env)
                out = (p.stdout + p.stderr).strip()
                if out:
                    print(out, file=sys.stderr)
                self.assertEqual(p.returncode, 0, out)
                self.assertEqual(out, "", "systemd-analyze verify is not clean")


if __name__ == "__main__":
    lab.main()
