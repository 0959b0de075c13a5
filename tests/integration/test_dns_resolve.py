#!/usr/bin/env python3
"""Run-time DNS of `server NAME resolve` (nginx 1.27.3) against a DNS server
of the test's own on loopback (tests/lib/dnslab.py):

- a name that does not resolve at start is a warning, proxyd starts and
  serves once the name appears;
- a changed answer sends new sessions to the new address while a session
  opened before goes on through the old one;
- an address that stays keeps its state (its `selected` counter);
- SERVFAIL and a silent server keep the addresses the group had (nginx),
  logged with nginx's texts; NXDOMAIN empties the server;
- service= asks SRV and connects to the records' ports.

    python3 tests/integration/test_dns_resolve.py
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dnslab  # noqa: E402
import proxylab as lab  # noqa: E402
from testenv import wait_for  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


def ask(port: int) -> str:
    """One session: a line out, the backend's name back ("" if none)."""
    try:
        with lab.connect(port, timeout=3) as s:
            s.sendall(b"who\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
            return data.decode().strip()
    except OSError:
        return ""


def same_port_backends(hosts: list) -> list:
    """AnswerServers named after their address, all on one port (the
    server's port is the configured one, whatever the address)."""
    for _ in range(20):
        port = lab.free_port(hosts[0])
        made = []
        try:
            for h in hosts:
                made.append(lab.AnswerServer(h, host=h, port=port))
            return made
        except OSError:
            for b in made:
                b.stop()
    raise RuntimeError("no port free on every address")


class DnsCase(lab.ProxydCase):

    def setUp(self):
        super().setUp()
        self.dns = self.own(dnslab.DnsServer())

    def start_resolving(self, servers: list, valid: str = "1s", status: bool = False):
        cfg = lab.simple_config(servers)
        cfg.main_extra = [("resolver", f"{self.dns.addr} valid={valid} ipv6=off"),
                          ("resolver_timeout", "500ms")]
        if status:
            cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        return proxy, proxy.listen_port(), cfg.status_listen

    def wait_log(self, proxy, text: str, timeout: float = 8.0) -> None:
        if not wait_for(lambda: text in proxy.error_log(), timeout, 0.05):
            self.fail(f"no {text!r} in the error log\n{proxy.error_log()}")


class StartUnresolved(DnsCase):

    def test_warning_then_serving(self):
        (b,) = same_port_backends(["127.0.0.2"])
        self.own(b)
        proxy, port, _ = self.start_resolving([f"api.test:{b.port} resolve"])
        self.wait_log(proxy, "[warn]")
        self.assertIn("api.test could not be resolved (3: Host not found)", proxy.error_log())
        self.assertEqual(ask(port), "", "no address yet: the session has no upstream")
        self.dns.set("api.test", a=["127.0.0.2"], ttl=1)
        got = wait_for(lambda: ask(port) == "127.0.0.2", 8, 0.1)
        self.assertTrue(got, proxy.error_log())
        self.assertIn(f"resolved to 127.0.0.2:{b.port}", proxy.error_log())


class AddressChange(DnsCase):

    def test_new_sessions_move_old_ones_stay(self):
        a, b = same_port_backends(["127.0.0.2", "127.0.0.3"])
        self.own(a)
        self.own(b)
        self.dns.set("api.test", a=["127.0.0.2"], ttl=1)
        proxy, port, _ = self.start_resolving([f"api.test:{a.port} resolve"])
        self.assertTrue(wait_for(lambda: ask(port) == "127.0.0.2", 8, 0.1), proxy.error_log())
        old = lab.connect(port)
        self.addCleanup(old.close)
        old.sendall(b"who\n")
        self.assertEqual(lab.recv_until(old, b"\n"), b"127.0.0.2\n")

        self.dns.set("api.test", a=["127.0.0.3"], ttl=1)
        self.assertTrue(wait_for(lambda: ask(port) == "127.0.0.3", 8, 0.1), proxy.error_log())
        # The session opened before the change is still open to the old
        # address, and ends when that backend ends it.
        old.sendall(b"more\n")
        old.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            old.recv(100)
        old.shutdown(socket.SHUT_WR)
        old.settimeout(3)
        self.assertEqual(old.recv(100), b"", "the old session is relayed to its end")


class StateKept(DnsCase):

    def selected(self, status_port: int) -> dict:
        doc = self.status(status_port)
        for g in doc["upstreams"]:
            return {p["addr"]: p["selected"] for p in g["servers"]}
        return {}

    def test_counters_of_an_address_that_stays(self):
        a, c = same_port_backends(["127.0.0.2", "127.0.0.4"])
        self.own(a)
        self.own(c)
        self.dns.set("api.test", a=["127.0.0.2"], ttl=1)
        proxy, port, status = self.start_resolving([f"api.test:{a.port} resolve"], status=True)
        self.assertTrue(wait_for(lambda: ask(port) == "127.0.0.2", 8, 0.1), proxy.error_log())
        for _ in range(4):
            self.assertEqual(ask(port), "127.0.0.2")
        before = self.selected(status)[f"127.0.0.2:{a.port}"]
        print(f"[proxyd] selected before the change: {before}")
        self.assertGreaterEqual(before, 5)

        self.dns.set("api.test", a=["127.0.0.2", "127.0.0.4"], ttl=1)
        self.assertTrue(wait_for(lambda: len(self.selected(status)) == 2, 8, 0.1),
                        proxy.error_log())
        after = self.selected(status)
        self.assertGreaterEqual(after[f"127.0.0.2:{a.port}"], before, after)
        self.assertEqual(after[f"127.0.0.4:{a.port}"], 0, after)
        names = {ask(port) for _ in range(6)}
        self.assertEqual(names, {"127.0.0.2", "127.0.0.4"})


class Failures(DnsCase):

    def test_servfail_and_timeout_keep_addresses_nxdomain_empties(self):
        (a,) = same_port_backends(["127.0.0.2"])
        self.own(a)
        self.dns.set("api.test", a=["127.0.0.2"], ttl=1)
        proxy, port, _ = self.start_resolving([f"api.test:{a.port} resolve"])
        self.assertTrue(wait_for(lambda: ask(port) == "127.0.0.2", 8, 0.1), proxy.error_log())

        self.dns.fail("api.test", "servfail")
        self.wait_log(proxy, "api.test could not be resolved (2: Server failure)")
        self.assertEqual(ask(port), "127.0.0.2", "SERVFAIL keeps the address")

        self.dns.fail("api.test", "timeout")
        self.wait_log(proxy, "api.test could not be resolved (110: Operation timed out)")
        self.assertEqual(ask(port), "127.0.0.2", "no answer keeps the address")

        self.dns.fail("api.test", "refused")
        self.wait_log(proxy, "api.test could not be resolved (5: Operation refused)")

        self.dns.fail("api.test", "nxdomain")
        self.assertTrue(wait_for(lambda: ask(port) == "", 8, 0.1),
                        "NXDOMAIN: the server has no address any more")
        self.assertTrue(proxy.alive())


class Service(DnsCase):

    def test_srv_records_ports_and_backup(self):
        one = self.own(lab.AnswerServer("one", host="127.0.0.2"))
        two = self.own(lab.AnswerServer("two", host="127.0.0.3"))
        self.dns.set("one.api.test", a=["127.0.0.2"], ttl=1)
        self.dns.set("two.api.test", a=["127.0.0.3"], ttl=1)
        self.dns.set_srv("_api._tcp.api.test",
                         [(10, 1, one.port, "one.api.test"), (20, 1, two.port, "two.api.test")])
        proxy, port, _ = self.start_resolving(["api.test service=api resolve"])
        self.assertTrue(wait_for(lambda: ask(port) == "one", 8, 0.1), proxy.error_log())
        # priority 20 is a backup: used once the primary is gone.
        self.assertEqual({ask(port) for _ in range(4)}, {"one"})
        one.stop()
        self.assertTrue(wait_for(lambda: ask(port) == "two", 8, 0.1), proxy.error_log())


if __name__ == "__main__":
    lab.main()
