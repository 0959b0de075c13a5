#!/usr/bin/env python3
"""Edge values through the importers, with the real nginx and keepalived as
the oracle of what is valid:

- every value below that Debian's `nginx -t` accepts for a directive proxyd
  shares imports with `proxyd --import-nginx` into a proxyd.ini that
  `proxyd -t` accepts (exit 0); a value proxyd cannot hold is written as the
  nearest bound with a warning at the nginx.conf line (`proxy_buffer_size 1`
  used to import as a file proxyd -t refused);
- a keepalived.conf with values at and beyond keepalived's ranges imports
  into a vrrpd.ini that `vrrpd -t` accepts, and every line `keepalived -t`
  calls out of range is a line the importer warns about.

    python3 tests/interop/test_import_limits.py
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import proxylab  # noqa: E402
import testenv  # noqa: E402

PROXYD = testenv.built_binary("proxyd")
VRRPD = testenv.built_binary("vrrpd")
KEEPALIVED = testenv.system_binary("keepalived")

# (where, text): "main" lines go at the top, "events" into events { },
# "param" after the upstream server's address, "server" into the stream
# server. Values at nginx's edges and beyond proxyd's ranges.
NGINX_CASES = [
    ("main", "worker_processes 1;"),
    ("main", "worker_processes 1024;"),
    ("main", "worker_processes 100000;"),
    ("main", "worker_rlimit_nofile 1;"),
    ("main", "worker_rlimit_nofile 9223372036854775807;"),
    ("main", "worker_shutdown_timeout 0;"),
    ("main", "worker_shutdown_timeout 1000y;"),
    ("events", "worker_connections 16777217;"),
    ("events", "worker_connections 9223372036854775807;"),
    ("param", "weight=1"),
    ("param", "weight=0"),  # nginx refuses it: nothing is required then
    ("param", "weight=9223372036854775807"),
    ("param", "max_fails=0"),
    ("param", "max_fails=9223372036854775807"),
    ("param", "fail_timeout=0"),
    ("param", "fail_timeout=1000y"),
    ("param", "fail_timeout=9223372036854775807"),
    ("param", "max_conns=9223372036854775807"),
    ("server", "proxy_buffer_size 0;"),
    ("server", "proxy_buffer_size 1;"),
    ("server", "proxy_buffer_size 511;"),
    ("server", "proxy_buffer_size 64m;"),
    ("server", "proxy_buffer_size 1g;"),  # nginx 1.22 has no g suffix
    ("server", "proxy_buffer_size 9223372036854775807;"),
    ("server", "proxy_timeout 0;"),
    ("server", "proxy_timeout 24d;"),
    ("server", "proxy_timeout 25d;"),
    ("server", "proxy_timeout 9000000000000000;"),
    ("server", "proxy_timeout 106751991d;"),
    ("server", "proxy_connect_timeout 0;"),
    ("server", "proxy_connect_timeout 2147483648ms;"),
    ("server", "proxy_next_upstream_timeout 9223372036854775807ms;"),
    ("server", "proxy_next_upstream_tries 0;"),
    ("server", "proxy_next_upstream_tries 9223372036854775807;"),
]


def nginx_conf(where, text, for_nginx, tmp):
    head = ""
    if for_nginx:
        head = (f"load_module {proxylab.NGINX_STREAM_MODULE};\n"
                f"error_log {tmp}/error.log;\npid {tmp}/nginx.pid;\n")
    main = text + "\n" if where == "main" else ""
    events = text if where == "events" else ""
    param = " " + text if where == "param" else ""
    server = text if where == "server" else ""
    return (head + main +
            f"events {{ {events} }}\n"
            "stream {\n"
            f"    upstream api {{ server 127.0.0.1:6443{param}; }}\n"
            "    server {\n"
            "        listen 127.0.0.1:10443;\n"
            "        proxy_pass api;\n"
            f"        {server}\n"
            "    }\n"
            "}\n")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)


class ImportNginxEdgeValues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        proxylab.require_impl("nginx")
        proxylab.require_impl("proxyd")

    def test_every_value_nginx_accepts_imports_into_a_file_proxyd_accepts(self):
        accepted = 0
        with tempfile.TemporaryDirectory() as tmp:
            for where, text in NGINX_CASES:
                with self.subTest(text=text):
                    # Line numbers of the file the importer reads.
                    path = os.path.join(tmp, "nginx.conf")
                    conf = nginx_conf(where, text, True, tmp)
                    with open(path, "w") as f:
                        f.write(conf)
                    if run(proxylab.NGINX_BIN, "-t", "-c", path, "-p", tmp).returncode != 0:
                        continue  # nginx refuses it too: nothing to carry
                    accepted += 1
                    imp = run(PROXYD, "--import-nginx", path)
                    self.assertEqual(imp.returncode, 0, imp.stderr)
                    ini = os.path.join(tmp, "proxyd.ini")
                    with open(ini, "w") as f:
                        f.write(imp.stdout)
                    t = run(PROXYD, "-t", "-c", ini)
                    self.assertEqual(t.returncode, 0,
                                     f"{text}\n{imp.stdout}\n{imp.stderr}\n{t.stderr}")
                    # A value proxyd cannot hold is said at the nginx line.
                    line = next(i for i, l in enumerate(conf.splitlines(), 1) if text in l)
                    value = re.split(r"[ =]", text.rstrip(";"), maxsplit=1)[1]
                    name = re.split(r"[ =]", text)[0]
                    written = re.search(rf"^{name} = (\S+)|\b{name}=(\S+)", imp.stdout, re.M)
                    self.assertIsNotNone(written, imp.stdout)
                    carried = written.group(1) or written.group(2)
                    if carried != value:
                        self.assertIn(f"{path}:{line}: warning: ", imp.stderr)
                        self.assertIn(f"written as {carried}", imp.stderr)
                    testenv.report(f"measured: {text!r} -> {name} = {carried}")
        testenv.report(f"measured: {accepted} of {len(NGINX_CASES)} values accepted by nginx -t, "
              "all imported into a proxyd.ini that proxyd -t accepts")
        self.assertGreater(accepted, len(NGINX_CASES) // 2)


KEEPALIVED_CONF = """\
global_defs {
    vrrp_garp_interval 4294.967
    vrrp_gna_interval 4295
}
vrrp_script chk {
    script "/bin/true"
    interval 9000000000000000
    timeout 4294
    fall 2147483647
    rise 0
    weight -253
}
vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 255
    priority 1
    advert_int 255
    preempt_delay 1001
    garp_master_delay 4294
    garp_master_refresh 4294967295
    virtual_ipaddress {
        192.0.2.10/24
    }
    track_script {
        chk weight 254
    }
}
"""

# keepalived -t's words for a value it will not take.
KEEPALIVED_REFUSES = re.compile(
    r"Line (\d+)\) .*(outside|invalid|must be|not valid|cannot be \+/-)")


class ImportKeepalivedEdgeValues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A missing binary is a skip; under CI the runner (testenv) makes it
        # a failure.
        testenv.require(testenv.unavailable(built=["vrrpd"], installed=["keepalived"]))

    def test_what_keepalived_refuses_is_a_warning_and_the_rest_loads(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "keepalived.conf")
            with open(path, "w") as f:
                f.write(KEEPALIVED_CONF)
            k = run(KEEPALIVED, "-t", "-n", "-l", "-f", path)
            refused = {int(m.group(1)) for m in KEEPALIVED_REFUSES.finditer(k.stdout + k.stderr)}
            testenv.report(f"measured: keepalived -t refuses lines {sorted(refused)}")
            self.assertTrue(refused, k.stdout + k.stderr)
            imp = run(VRRPD, "--import-keepalived", path)
            self.assertEqual(imp.returncode, 0, imp.stderr)
            warned = {int(m.group(1))
                      for m in re.finditer(rf"^{re.escape(path)}:(\d+): warning: ",
                                           imp.stderr, re.M)}
            testenv.report(f"measured: the importer warns at lines {sorted(warned)}")
            self.assertLessEqual(refused, warned, imp.stderr)
            ini = os.path.join(tmp, "vrrpd.ini")
            with open(ini, "w") as f:
                f.write(imp.stdout)
            t = run(VRRPD, "-t", "-f", ini)
            self.assertEqual(t.returncode, 0, f"{imp.stdout}\n{imp.stderr}\n{t.stderr}")
            # What keepalived keeps is carried as written.
            for kept in ("fall = 2147483647", "garp_master_refresh = 4294967295",
                         "virtual_router_id = 255", "advert_int = 255",
                         "track_script = chk weight=253"):
                self.assertIn(kept, imp.stdout)


if __name__ == "__main__":
    proxylab.main()
