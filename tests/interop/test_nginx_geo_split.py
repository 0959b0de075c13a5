#!/usr/bin/env python3
"""geo and split_clients, proxyd against real nginx on the same config: each
connection's access-log line prints the client address and port with the
values of two geo tables (networks with delete and include; ranges that nest
and span 65536-address blocks), a geo fed by a variable that holds IPv4,
IPv6 and unparseable text, and two split_clients; the lines must be the same
under both.  The clients bind their source address (anywhere in 127/8) and
their source port, so both implementations see the same keys, and the split
key ("${remote_port}x") differs per connection.  Then a few configs nginx
refuses must be refused by proxyd with nginx's own words.

nginx (Debian's nginx-light + libnginx-mod-stream) is the reference; without
it the tests are skipped (a failure under CI=true).

    python3 tests/interop/test_nginx_geo_split.py
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("nginx")

SESSIONS = 300

FORMAT = ("$remote_addr:$remote_port net=$geo_net range=$geo_range "
          "fake=$fake_addr via=$geo_via split=$split_port split2=$split_addr")

# Source addresses chosen to land in every case of the tables below.
SOURCES = ["127.0.0.1", "127.0.0.15", "127.0.0.200", "127.1.2.3", "127.1.2.4", "127.1.3.1",
           "127.2.0.1", "127.3.0.1", "127.3.255.7", "127.4.0.7", "127.4.1.1", "127.9.9.9",
           "127.1.2.129", "127.5.5.5", "127.255.255.254"]

GEO_INCLUDE = """
# nginx's geo-body syntax: NETWORK VALUE; lines, comments, quotes
127.5.0.0/16   "from include";
127.255.0.0/16 'top';
"""

NGINX = """
    geo $geo_net {{
        default other;
        127.0.0.0/8 loop;
        127.1.0.0/16 one;
        127.1.2.0/24 onetwo;
        127.1.2.3 exact;
        127.1.2.128/25 half;
        delete 127.1.2.0/24;
        127.2.0.0/15 two;
        include {include};
    }}
    geo $remote_addr $geo_range {{
        ranges;
        default none;
        127.0.0.1-127.0.0.255 low;
        127.0.0.10-127.0.0.20 inner;
        127.3.255.0-127.4.0.255 span;
        delete 127.4.0.0-127.4.0.255;
        127.1.2.0-127.1.2.127 "low half";
    }}
    split_clients "${{remote_port}}" $fake_addr {{
        30% 127.1.2.3;
        20% 2001:db8::7;
        20% "not an address";
        15% ::ffff:127.2.0.9;
        *   255.255.255.255;
    }}
    geo $fake_addr $geo_via {{
        default unset;
        127.0.0.0/8 v4;
        2001:db8::/32 v6;
        255.255.255.255 bad;
    }}
    split_clients "${{remote_port}}x" $split_port {{
        0.5% tiny;
        10% ten;
        20.25% twenty;
        33% third;
        *   rest;
    }}
    split_clients "$remote_addr" $split_addr {{
        50% a;
        25% b;
    }}
"""

PROXYD = """
[geo $geo_net]
default = other
entry   = 127.0.0.0/8 loop
entry   = 127.1.0.0/16 one
entry   = 127.1.2.0/24 onetwo
entry   = 127.1.2.3 exact
entry   = 127.1.2.128/25 half
delete  = 127.1.2.0/24
entry   = 127.2.0.0/15 two
include = {include}

[geo $geo_range]
source  = $remote_addr
ranges  = on
default = none
entry   = 127.0.0.1-127.0.0.255 low
entry   = 127.0.0.10-127.0.0.20 inner
entry   = 127.3.255.0-127.4.0.255 span
delete  = 127.4.0.0-127.4.0.255
entry   = 127.1.2.0-127.1.2.127 "low half"

[split_clients $fake_addr]
source = $remote_port
entry  = 30% 127.1.2.3
entry  = 20% 2001:db8::7
entry  = 20% "not an address"
entry  = 15% ::ffff:127.2.0.9
entry  = * 255.255.255.255

[geo $geo_via]
source  = $fake_addr
default = unset
entry   = 127.0.0.0/8 v4
entry   = 2001:db8::/32 v6
entry   = 255.255.255.255 bad

[split_clients $split_port]
source = ${{remote_port}}x
entry  = 0.5% tiny
entry  = 10% ten
entry  = 20.25% twenty
entry  = 33% third
entry  = * rest

[split_clients $split_addr]
source = $remote_addr
entry  = 50% a
entry  = 25% b
"""


def require_proxyd(test: unittest.TestCase) -> None:
    reason = lab.unavailable_reason("proxyd")
    if reason is not None:
        test.skipTest(f"{reason}; the nginx reference run passed")


class GeoSplitInterop(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.echo = lab.EchoServer()
        cls.dir = tempfile.mkdtemp(prefix="geo-", dir=lab.tmp_root())
        cls.include = os.path.join(cls.dir, "extra.geo")
        with open(cls.include, "w") as f:
            f.write(GEO_INCLUDE)
        # Source ports below Linux's ephemeral range (32768 on: nobody else is
        # given these), the same in both runs and every time: these keys put
        # at least one connection in every bucket, 0.5% included.
        cls.base_port = 21199

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def session(self, port, source, source_port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(5)
            s.bind((source, source_port))
            s.connect(("127.0.0.1", port))
            s.sendall(b"hi\n")
            self.assertEqual(lab.recv_exactly(s, 3), b"hi\n")
        finally:
            s.close()

    def lines(self, impl):
        cfg = lab.simple_config([self.echo.addr], log_format="geo", fmt=FORMAT)
        cfg.nginx_stream = NGINX.format(include=self.include)
        cfg.proxyd_sections = PROXYD.format(include=self.include)
        proxy = lab.Proxy(impl)
        proxy.start(cfg)
        try:
            for i in range(SESSIONS):
                self.session(proxy.listen_port(), SOURCES[i % len(SOURCES)], self.base_port + i)
            lines = proxy.access_log_lines(SESSIONS, timeout=5)
            diag = proxy.error_log()[-3000:]
        finally:
            proxy.stop()
        self.assertIsNone(proxy.exit_problem())
        self.assertEqual(len(lines), SESSIONS, f"{impl}: {len(lines)} lines\n{diag}")
        return sorted(lines)

    def test_same_values_for_every_connection(self):
        want = self.lines("nginx")
        # The test proves something only if every case shows up under nginx.
        text = "\n".join(want)
        for value in ("net=exact", "net=half", "net=one", "net=two", "net=loop",
                      "net=from include", "net=top", "range=inner", "range=low half",
                      "range=span", "range=none", "via=v4", "via=v6", "via=bad",
                      "split=tiny", "split=ten", "split=twenty", "split=third", "split=rest",
                      "split2=a", "split2=b", "split2= "):
            if value not in text + " ":
                self.fail(f"nginx never printed {value}: {want[:3]}")
        require_proxyd(self)
        got = self.lines("proxyd")
        diff = [(g, w) for g, w in zip(got, want) if g != w]
        self.assertEqual(diff, [], "(proxyd, nginx) where they differ")


# Configs nginx refuses; proxyd must refuse each with nginx's message.
REFUSED = [
    ("geo $g { ranges; 127.0.0.10-127.0.0.20 a; 127.0.0.15-127.0.0.30 b; }",
     "[geo $g]\nranges = on\nentry = 127.0.0.10-127.0.0.20 a\nentry = 127.0.0.15-127.0.0.30 b\n",
     'range "127.0.0.15-127.0.0.30" overlaps "127.0.0.10-127.0.0.20"'),
    ("geo $g { ranges; 127.0.0.1-127.0.0.255 a; 127.0.0.0-127.0.1.0 b; }",
     "[geo $g]\nranges = on\nentry = 127.0.0.1-127.0.0.255 a\nentry = 127.0.0.0-127.0.1.0 b\n",
     'range "127.0.0.0-127.0.1.0" overlaps "127.0.0.1-127.0.0.255"'),
    ("geo $g { ranges; 127.0.0.9-127.0.0.1 a; }",
     "[geo $g]\nranges = on\nentry = 127.0.0.9-127.0.0.1 a\n",
     'invalid range "127.0.0.9-127.0.0.1"'),
    ("geo $g { 127.0.0.0/33 a; }", "[geo $g]\nentry = 127.0.0.0/33 a\n",
     'invalid network "127.0.0.0/33"'),
    ("geo $g { default a; ranges; }", "[geo $g]\ndefault = a\ninclude = {dir}/ranges.geo\n",
     'the "ranges" directive must be the first directive inside "geo" block'),
    ("split_clients $remote_addr $s { 60% a; 50% b; }",
     "[split_clients $s]\nsource = $remote_addr\nentry = 60% a\nentry = 50% b\n",
     "percent total is greater than 100%"),
    ("split_clients $remote_addr $s { 0.125% a; }",
     "[split_clients $s]\nsource = $remote_addr\nentry = 0.125% a\n",
     'invalid percent value "0.125%"'),
]


class RefusedConfigs(unittest.TestCase):
    def check(self, impl, text, tmp):
        if impl == "nginx":
            conf = os.path.join(tmp, "nginx.conf")
            module = (f"load_module {lab.NGINX_STREAM_MODULE};\n"
                      if os.path.exists(lab.NGINX_STREAM_MODULE) else "")
            with open(conf, "w") as f:
                f.write(f"{module}events {{}}\nstream {{ {text} }}\n")
            argv = [lab.NGINX_BIN, "-t", "-p", tmp + "/", "-c", conf, "-e", f"{tmp}/error.log",
                    "-g", f"pid {tmp}/nginx.pid;"]
        else:
            conf = os.path.join(tmp, "proxyd.ini")
            with open(conf, "w") as f:
                f.write(text)
            argv = [lab.proxyd_binary(), "-t", "-c", conf]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0, f"{impl} accepted {text}")
        return r.stderr

    def test_same_refusals(self):
        tmp = tempfile.mkdtemp(prefix="geo-refused-", dir=lab.tmp_root())
        try:
            with open(os.path.join(tmp, "ranges.geo"), "w") as f:
                f.write("ranges;\n")
            for nginx_text, ini_text, message in REFUSED:
                with self.subTest(nginx_text):
                    out = self.check("nginx", nginx_text, tmp)
                    self.assertIn(f"[emerg] {message}", out)
            require_proxyd(self)
            for nginx_text, ini_text, message in REFUSED:
                with self.subTest(ini_text):
                    out = self.check("proxyd", ini_text.replace("{dir}", tmp), tmp)
                    self.assertRegex(out, r":\d+: error: " + re.escape(message))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    lab.main()
