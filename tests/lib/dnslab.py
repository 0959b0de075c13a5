"""A DNS server of the tests' own on loopback: answers A, AAAA and SRV
queries from a zone the test changes while it runs, and fails on demand
(SERVFAIL, REFUSED, NXDOMAIN, or no answer at all).  Plain `struct`, UDP
only, one thread; every reply is bounded by the question it answers.

    with dnslab.DnsServer() as dns:
        dns.set("api.test", a=["127.0.0.2"], ttl=1)
        dns.set_srv("_api._tcp.api.test", [(10, 5, 6443, "a.api.test")])
        dns.fail("api.test", "servfail")     # or "nxdomain", "refused", "timeout"
        dns.addr                             # "127.0.0.1:PORT"
"""

import socket
import struct
import threading

QTYPE_A, QTYPE_AAAA, QTYPE_SRV = 1, 28, 33
RCODES = {"formerr": 1, "servfail": 2, "nxdomain": 3, "notimp": 4, "refused": 5}


def _read_name(msg: bytes, off: int) -> tuple:
    """(name, offset after it) of an uncompressed question name; ValueError
    on anything else (a question never needs compression)."""
    labels = []
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        if n > 63 or off + n > len(msg):
            raise ValueError("bad label")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n


def _name(name: str) -> bytes:
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


class DnsServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()
        self.addr = f"{self.host}:{self.port}"
        self._lock = threading.Lock()
        self._records = {}   # (name, qtype) -> [rdata bytes], with ttl
        self._ttl = {}       # name -> ttl
        self._fail = {}      # name -> mode
        self.queries = {}    # (name, qtype) -> count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # -- the zone ----------------------------------------------------------
    def set(self, name: str, a=(), aaaa=(), ttl: int = 1) -> None:
        name = name.lower()
        with self._lock:
            self._records[(name, QTYPE_A)] = [socket.inet_pton(socket.AF_INET, x) for x in a]
            self._records[(name, QTYPE_AAAA)] = [socket.inet_pton(socket.AF_INET6, x)
                                                 for x in aaaa]
            self._ttl[name] = ttl
            self._fail.pop(name, None)

    def set_srv(self, name: str, records: list, ttl: int = 1) -> None:
        """records: [(priority, weight, port, target)]."""
        name = name.lower()
        with self._lock:
            self._records[(name, QTYPE_SRV)] = [struct.pack("!HHH", p, w, port) + _name(t)
                                                for p, w, port, t in records]
            self._ttl[name] = ttl
            self._fail.pop(name, None)

    def fail(self, name: str, mode: str) -> None:
        """mode: servfail, refused, nxdomain, formerr, notimp, or timeout (no reply)."""
        with self._lock:
            self._fail[name.lower()] = mode

    def count(self, name: str, qtype: int = QTYPE_A) -> int:
        with self._lock:
            return self.queries.get((name.lower(), qtype), 0)

    # -- the server --------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self._answer(msg)
            except (ValueError, struct.error):
                continue  # not a question we can read: dropped, as a server would
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    pass

    def _answer(self, msg: bytes):
        qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
        if qdcount != 1 or flags & 0x8000:
            raise ValueError("not one question")
        name, off = _read_name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        question = msg[12:off + 4]
        with self._lock:
            self.queries[(name, qtype)] = self.queries.get((name, qtype), 0) + 1
            mode = self._fail.get(name)
            rdatas = list(self._records.get((name, qtype), []))
            known = any(k[0] == name for k in self._records)
            ttl = self._ttl.get(name, 1)
        if mode == "timeout":
            return None
        rcode = RCODES.get(mode, 0) if mode else (0 if known else 3)
        answers = b""
        if rcode == 0:
            for rd in rdatas:
                answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl, len(rd)) + rd
        out_flags = 0x8400 | (flags & 0x0100) | rcode  # QR, AA, RD as asked
        header = struct.pack("!HHHHHH", qid, out_flags, 1,
                             len(rdatas) if rcode == 0 else 0, 0, 0)
        return header + question + answers

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
