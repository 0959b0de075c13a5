#!/usr/bin/env python3
"""The core/ libraries are pure, and the build says so (DESIGN.md, Layout).

Each probe is a one-line file of a pure library that includes libevent,
OpenSSL or libnl, directly or through a common/ header that owns libevent
handles. Building it must fail with the stand-in header's message; the real
core libraries are built by the same rule on every `make`.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import testenv  # noqa: E402

BUILD = os.environ.get("PROXYHA_BUILD_DIR", "")

PROBES = {
    "purity_probe_libevent": ("<event2/event.h> is libevent", "reaches_libevent.cc"),
    "purity_probe_openssl": ("<openssl/ssl.h> is OpenSSL", "reaches_openssl.cc"),
    "purity_probe_libnl": ("<netlink/netlink.h> is libnl", "reaches_libnl.cc"),
    "purity_probe_common_event": ("<event2/event.h> is libevent", "reaches_through_common.cc"),
}


class CoreIsPure(unittest.TestCase):
    def setUp(self):
        testenv.require(None if os.path.exists(os.path.join(BUILD, "CMakeCache.txt"))
                        else f"no build directory (PROXYHA_BUILD_DIR={BUILD!r})")

    def build(self, target):
        return subprocess.run(["cmake", "--build", BUILD, "--target", target],
                              capture_output=True, text=True, timeout=240)

    def test_a_core_file_that_includes_an_io_library_does_not_build(self):
        for target, (message, source) in PROBES.items():
            with self.subTest(target=target):
                r = self.build(target)
                out = r.stdout + r.stderr
                self.assertNotEqual(r.returncode, 0, f"{target} built:\n{out[-2000:]}")
                self.assertIn(source, out)
                self.assertIn(message, out)
                self.assertIn("core/ code stays pure", out)

    def test_the_cores_link_no_io_library(self):
        # What each core library passes on to whoever links it (CMake's
        # record of its link interface): common and header-only JSON, never
        # libevent, OpenSSL or libnl.
        for core in ("proxyd_core", "vrrpd_core"):
            with self.subTest(core=core):
                r = subprocess.run(["cmake", "--build", BUILD, "--target", core],
                                   capture_output=True, text=True, timeout=600)
                self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
                link = os.path.join(BUILD, "core-link", f"{core}.txt")
                with open(link) as f:
                    libs = f.read()
                testenv.report(f"{core} links: {libs.strip()}")
                for bad in ("event", "ssl", "crypto", "nl-", "LIBEVENT", "LIBNL", "OpenSSL"):
                    self.assertNotIn(bad, libs)


if __name__ == "__main__":
    testenv.main()
