"""Loopback lab for proxyd integration and nginx interop tests (stdlib only).

The same scripted sessions run against proxyd or against nginx's stream
module, so a behaviour test that passes on nginx is the specification proxyd
must meet.  Pieces:

- ports:     free_port(), refused_port()
- backends:  EchoServer, AnswerServer, SilentServer, LateAnswerServer,
             FloodServer, Blackhole (SYNs dropped: connect timeouts)
- config:    Config / Upstream / ServerBlock, rendered as proxyd INI
             (DESIGN.md schema) or as nginx.conf
- Proxy:     start(config) / stop() / access_log_lines(), for
             impl = "proxyd" | "nginx" (env PROXY_IMPL, default proxyd)
- clients:   connect(), recv_until_closed(), parse_kv()

Everything lives in one temp dir removed on exit; every process and backend
is stopped on every exit path (try/finally in the tests, atexit here).
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import sys
from typing import Optional

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testenv  # noqa: E402

# ---------------------------------------------------------------------------
# Environment and implementation selection
# ---------------------------------------------------------------------------

REPO = testenv.REPO

NGINX_BIN = testenv.system_binary("nginx")
NGINX_STREAM_MODULE = os.environ.get(
    "NGINX_STREAM_MODULE", "/usr/share/nginx/modules/ngx_stream_module.so")

# The seed's log_format (seed/nginx-keepalived-ha.txt, stream block).
FORMAT_PROXY = (
    "[$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received "
    "$session_time, client: $remote_addr, upstream:\"$upstream_addr\", "
    "bytes upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time")

# Every stream variable we support, each labelled so parse_kv() can read it and
# the interop normaliser can mask exactly the fields that legitimately differ.
# Longer than 190 characters on purpose: the INI renderer must split it onto
# continuation lines (inih reads at most 199 characters a line).
FORMAT_ALL = (
    "[$time_local] remote=$remote_addr rport=$remote_port server=$server_addr "
    "sport=$server_port proto=$protocol status=$status sent=$bytes_sent "
    "received=$bytes_received time=$session_time upstream=\"$upstream_addr\" "
    "up_sent=\"$upstream_bytes_sent\" up_received=\"$upstream_bytes_received\" "
    "up_connect=\"$upstream_connect_time\" conn=$connection")


_VARIABLE_ROW = re.compile(r'\{"(\w+)", Variable::(\w+)\}')


# Variables of the table that Debian's nginx (1.22) does not have yet:
# left out of the every-variable format, and checked against nginx's
# documented behaviour by proxyd's own tests instead.
NEWER_THAN_REFERENCE = {"server_name"}


def log_variables() -> list:
    """Every variable proxyd's log_format knows, read from its table
    (kVariables in proxyd/core/variables.cc), in table order."""
    with open(os.path.join(REPO, "proxyd", "core", "variables.cc")) as f:
        names = [m.group(1) for m in _VARIABLE_ROW.finditer(f.read())]
    if len(names) < 20 or len(set(names)) != len(names):
        raise RuntimeError(f"cannot read the variable table of proxyd/core/variables.cc: {names}")
    return names


def format_every() -> str:
    """A log_format naming every variable of the table once, each labelled
    NAME="$NAME" (parse_kv reads it back)."""
    return " ".join(f'{name}="${name}"' for name in log_variables()
                    if name not in NEWER_THAN_REFERENCE)


def impl_from_env() -> str:
    impl = os.environ.get("PROXY_IMPL", "proxyd").strip() or "proxyd"
    if impl not in ("proxyd", "nginx"):
        raise ValueError(f"PROXY_IMPL must be proxyd or nginx, not {impl!r}")
    return impl


def proxyd_binary() -> str:
    return testenv.built_binary("proxyd")


# One skip rule, one binary lookup, one wait for the whole suite
# (tests/lib/testenv.py), re-exported here.
in_ci = testenv.in_ci
SKIP_RETURN_CODE = testenv.SKIP_RETURN_CODE
wait_for = testenv.wait_for
report = testenv.report


def _nginx_stream_is_static() -> bool:
    try:
        out = subprocess.run([NGINX_BIN, "-V"], capture_output=True, text=True,
                             timeout=10).stderr
    except OSError:
        return False
    return re.search(r"--with-stream(\s|$)", out) is not None


def unavailable_reason(impl: str) -> Optional[str]:
    """None when `impl` can run here, else why not."""
    if impl == "nginx":
        reason = testenv.unavailable(installed=["nginx"])
        if reason is None and not os.path.exists(NGINX_STREAM_MODULE) \
                and not _nginx_stream_is_static():
            reason = f"nginx stream module missing ({NGINX_STREAM_MODULE})"
        return reason
    return testenv.unavailable(built=["proxyd"])


def require_impl(impl: str) -> None:
    """Skip the calling test module when `impl` is missing; under CI the
    runner (testenv.main) makes that skip a failure unless it is on
    tests/lib/allowed_skips.txt."""
    testenv.require(unavailable_reason(impl))


# ---------------------------------------------------------------------------
# Temp dir and cleanup registry
# ---------------------------------------------------------------------------

_cleanups: list = []
_cleanup_lock = threading.Lock()
_tmp_root: Optional[str] = None


def _register(obj) -> None:
    with _cleanup_lock:
        _cleanups.append(obj)


def _unregister(obj) -> None:
    with _cleanup_lock:
        if obj in _cleanups:
            _cleanups.remove(obj)


def tmp_root() -> str:
    global _tmp_root
    if _tmp_root is None:
        _tmp_root = tempfile.mkdtemp(prefix="proxylab-")
    return _tmp_root


@atexit.register
def cleanup_all() -> None:
    """Stop every proxy and backend still running, remove the temp dir."""
    global _tmp_root
    with _cleanup_lock:
        objs = list(reversed(_cleanups))
    for obj in objs:
        try:
            obj.stop()
        except Exception:  # noqa: BLE001 - best effort on exit
            pass
    if _tmp_root is not None and not os.environ.get("PROXYLAB_KEEP_TMP"):
        shutil.rmtree(_tmp_root, ignore_errors=True)
        _tmp_root = None


# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def family_of(host: str) -> int:
    """AF_INET6 for an IPv6 literal ("::1"), else AF_INET."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def host_port(host: str, port: int) -> str:
    """host:port as proxyd and nginx write it: [::1]:port for IPv6."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_handed_out: set = set()  # every port free_port() has returned in this process


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on.  Taken below the ephemeral range when
    possible, so that no outgoing connection (the proxy's own upstream legs)
    can grab it between now and the bind; falls back to binding port 0."""
    lo, _ = _ephemeral_range()
    rng = random.Random()
    if lo > 12000:
        for _ in range(200):
            port = rng.randrange(10000, lo)
            # A port handed out before is not bound yet, perhaps: a config
            # with many listeners drew the same one twice (a birthday
            # collision, ~5 % for 50 ports), and nginx refused the pair.
            if port in _handed_out:
                continue
            s = socket.socket(family_of(host), socket.SOCK_STREAM)
            try:
                s.bind((host, port))
                _handed_out.add(port)
                return port
            except OSError:
                continue
            finally:
                s.close()
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def refused_port(host: str = "127.0.0.1") -> int:
    """A port that was bound then closed: connect() to it gets ECONNREFUSED."""
    return free_port(host)


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on host:port, read from /proc/net/tcp so
    that checking does not open a session (and an access-log line)."""
    want_port = f"{port:04X}"
    want_hosts = {"00000000"}
    try:
        a, b, c, d = (int(x) for x in host.split("."))
        want_hosts.add(f"{d:02X}{c:02X}{b:02X}{a:02X}")
    except ValueError:
        pass
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    addr, st = parts[1], parts[3]
                    if st != "0A":
                        continue
                    h, p = addr.rsplit(":", 1)
                    if p != want_port:
                        continue
                    if path.endswith("6") or h in want_hosts:
                        return True
        except OSError:
            continue
    return False


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------

class Backend:
    """A threaded TCP server on 127.0.0.1 (or `host`, "::1" for IPv6);
    subclasses implement handle()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, backlog: int = 128):
        self.host = host
        self.sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port or free_port(host)))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(backlog)
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"{type(self).__name__}:{self.port}")
        self._thread.start()
        _register(self)

    @property
    def addr(self) -> str:
        return host_port(self.host, self.port)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            threading.Thread(target=self._run_handler, args=(conn, peer),
                             daemon=True).start()

    def _run_handler(self, conn: socket.socket, peer) -> None:
        try:
            self.handle(conn, peer)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle(self, conn: socket.socket, peer) -> None:  # pragma: no cover
        raise NotImplementedError

    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(2)
        _unregister(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class EchoServer(Backend):
    """Echoes everything; records per connection what it received."""

    def __init__(self, **kw):
        self.sessions: list[dict] = []
        super().__init__(**kw)

    def handle(self, conn, peer):
        rec = {"peer": peer, "received": 0, "sha256": hashlib.sha256(), "eof": False}
        with self._lock:
            self.sessions.append(rec)
        while True:
            data = conn.recv(262144)
            if not data:
                rec["eof"] = True
                return
            rec["received"] += len(data)
            rec["sha256"].update(data)
            conn.sendall(data)


class AnswerServer(Backend):
    """Reads a line, answers a fixed string naming itself (b"backend-2\\n"),
    then waits for the peer's EOF (or closes at once with close_after=True)."""

    def __init__(self, name: str, close_after: bool = False, **kw):
        self.name = name
        self.answer = f"{name}\n".encode()
        self.close_after = close_after
        super().__init__(**kw)

    def handle(self, conn, peer):
        if recv_until(conn, b"\n") is None:
            return
        conn.sendall(self.answer)
        if self.close_after:
            return
        while conn.recv(4096):
            pass


class SilentServer(Backend):
    """Accepts and reads, never replies."""

    def handle(self, conn, peer):
        while not self.stopping():
            r, _, _ = select.select([conn], [], [], 0.1)
            if r and not conn.recv(65536):
                return


class LateAnswerServer(Backend):
    """Reads until EOF, then answers `answer` after `delay` seconds and closes.
    Records what happened so half-close tests can tell who saw what."""

    def __init__(self, delay: float = 0.5, answer: bytes = b"late answer\n", **kw):
        self.delay = delay
        self.answer = answer
        self.events: list[dict] = []
        super().__init__(**kw)

    def handle(self, conn, peer):
        ev = {"received": b"", "eof_at": None, "answered": None}
        with self._lock:
            self.events.append(ev)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            ev["received"] += data
        ev["eof_at"] = time.monotonic()
        time.sleep(self.delay)
        try:
            conn.sendall(self.answer)
            ev["answered"] = True
        except OSError:
            ev["answered"] = False


class FloodServer(Backend):
    """Writes as fast as the socket takes it; `sent` counts bytes handed to
    the kernel, `last_progress` is the monotonic time of the last send."""

    CHUNK = b"x" * 65536

    def __init__(self, **kw):
        self.sent = 0
        self.last_progress = time.monotonic()
        super().__init__(**kw)

    def handle(self, conn, peer):
        conn.setblocking(False)
        while not self.stopping():
            _, w, _ = select.select([], [conn], [], 0.1)
            if not w:
                continue
            try:
                n = conn.send(self.CHUNK)
            except BlockingIOError:
                continue
            self.sent += n
            self.last_progress = time.monotonic()


class Blackhole:
    """A listening socket whose accept queue is full: listen(0) plus filler
    connections never accepted, so the kernel drops further SYNs and a connect
    to it hangs until the client's own timeout.  `works` says whether a probe
    connect really timed out on this kernel."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, free_port(host)))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(0)
        self.fillers: list[socket.socket] = []
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect((host, self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.05)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.3)
        try:
            probe.connect((host, self.port))
            self.works = False
        except socket.timeout:
            self.works = True
        except OSError:
            self.works = False
        finally:
            probe.close()
        _register(self)

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        for c in self.fillers:
            c.close()
        self.fillers = []
        self.sock.close()
        _unregister(self)


# ---------------------------------------------------------------------------
# Configuration description and renderers
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Upstream:
    name: str
    servers: list            # "127.0.0.1:PORT [flags...]" as nginx writes them
    hash: Optional[str] = None       # e.g. "$remote_addr consistent"
    balance: Optional[str] = None    # round_robin | least_conn | random | "random two"


@dataclasses.dataclass
class ServerBlock:
    name: str
    listen: int
    proxy_pass: Optional[str]          # None: a server answering with `return`
    listen_host: str = "127.0.0.1"
    listen_params: str = ""            # " ssl": after the address, on both
    proxy_connect_timeout: Optional[str] = None
    proxy_timeout: Optional[str] = None
    proxy_half_close: Optional[bool] = None
    proxy_next_upstream_tries: Optional[int] = None
    proxy_next_upstream: Optional[bool] = None
    proxy_buffer_size: Optional[str] = None
    log_format: Optional[str] = None   # name of a Config.log_formats entry
    error_log_level: str = "info"
    error_log: Optional[str] = None    # path (+ level); None: TMP/error_NAME.log LEVEL
    extra: list = dataclasses.field(default_factory=list)  # [(key, value)], proxyd only
    proxy_next_upstream_timeout: Optional[str] = None
    # [(key, value)] written to both: `key = value` and `key value;` (the INI
    # tokens quote as nginx's arguments do): set, return.
    directives: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Config:
    upstreams: list
    servers: list
    log_formats: dict = dataclasses.field(default_factory=dict)
    log_escapes: dict = dataclasses.field(default_factory=dict)  # name -> escape=, proxyd only
    worker_processes: Optional[int] = None   # None: proxyd default, nginx 1
    main_extra: list = dataclasses.field(default_factory=list)   # [(key, value)] for [main]
    status_listen: Optional[int] = None      # proxyd [status] listen on 127.0.0.1
    status_rules: list = dataclasses.field(default_factory=list)  # [("allow"|"deny", cidr)]
    error_log: Optional[str] = None          # [main] error_log; None: TMP/error.log info
    # The same thing in each syntax, written as is: proxyd.ini sections
    # ([geo $x], [map $x], ...) and the nginx lines inside stream { }.
    proxyd_sections: str = ""
    nginx_stream: str = ""


def simple_config(servers: list, *, listen: Optional[int] = None,
                  upstream: str = "backends", log_format: str = "all",
                  fmt: str = FORMAT_ALL, hash: Optional[str] = None,
                  balance: Optional[str] = None, **server_kw) -> Config:
    """One upstream group, one listener logging with `fmt`."""
    return Config(
        upstreams=[Upstream(upstream, list(servers), hash=hash, balance=balance)],
        servers=[ServerBlock("main", listen or free_port(), upstream,
                             log_format=log_format, **server_kw)],
        log_formats={log_format: fmt})


INI_MAX_LINE = 190


def _ini_kv(key: str, value: str) -> str:
    """`key = value`, split onto indented continuation lines when longer than
    ~190 characters.  inih joins the pieces with one space, so split only at a
    single space between two non-space characters."""
    line = f"{key} = {value}"
    if len(line) <= INI_MAX_LINE:
        return line + "\n"
    width = INI_MAX_LINE - len(key) - 4
    pieces, cur = [], ""
    for tok in re.split(r"(?<=\S) (?=\S)", value):
        if cur and len(cur) + 1 + len(tok) > width:
            pieces.append(cur)
            cur = tok
        else:
            cur = f"{cur} {tok}" if cur else tok
    pieces.append(cur)
    if any(len(p) > width for p in pieces):
        raise ValueError(f"cannot split the INI value of {key}: a word is too long")
    return f"{key} = {pieces[0]}\n" + "".join(f"    {p}\n" for p in pieces[1:])


def render_proxyd_ini(cfg: Config, tmp: str) -> str:
    s = ["; generated by tests/lib/proxylab.py\n", "[main]\n"]
    if cfg.worker_processes is not None:
        s.append(_ini_kv("worker_processes", str(cfg.worker_processes)))
    s.append(_ini_kv("error_log", cfg.error_log or f"{tmp}/error.log info"))
    s.append(_ini_kv("pid", f"{tmp}/proxyd.pid"))
    for key, value in cfg.main_extra:
        s.append(_ini_kv(key, str(value)))
    if cfg.status_listen is not None:
        s.append("\n[status]\n")
        s.append(_ini_kv("listen", f"127.0.0.1:{cfg.status_listen}"))
        for key, value in cfg.status_rules:
            s.append(_ini_kv(key, value))
    for name, fmt in cfg.log_formats.items():
        if " ;" in fmt or "\t;" in fmt:
            raise ValueError("log format contains ' ;', which INI reads as a comment")
        s.append(f"\n[log_format {name}]\n")
        if name in cfg.log_escapes:
            s.append(_ini_kv("escape", cfg.log_escapes[name]))
        s.append(_ini_kv("format", fmt))
    if cfg.proxyd_sections:
        s.append("\n" + cfg.proxyd_sections)
    for up in cfg.upstreams:
        s.append(f"\n[upstream {up.name}]\n")
        if up.hash:
            s.append(_ini_kv("hash", up.hash))
        if up.balance:
            s.append(_ini_kv("balance", up.balance))
        for srv in up.servers:
            s.append(_ini_kv("server", srv))
    for sb in cfg.servers:
        s.append(f"\n[server {sb.name}]\n")
        s.append(_ini_kv("listen", host_port(sb.listen_host, sb.listen) + sb.listen_params))
        if sb.proxy_pass is not None:
            s.append(_ini_kv("proxy_pass", sb.proxy_pass))
        for key, value in sb.directives:
            s.append(_ini_kv(key, value))
        for key in ("proxy_connect_timeout", "proxy_timeout", "proxy_buffer_size",
                    "proxy_next_upstream_tries", "proxy_next_upstream_timeout"):
            v = getattr(sb, key)
            if v is not None:
                s.append(_ini_kv(key, str(v)))
        if sb.proxy_half_close is not None:
            s.append(_ini_kv("proxy_half_close", "on" if sb.proxy_half_close else "off"))
        if sb.proxy_next_upstream is not None:
            s.append(_ini_kv("proxy_next_upstream", "on" if sb.proxy_next_upstream else "off"))
        if sb.log_format:
            s.append(_ini_kv("access_log", f"{access_log_path(tmp, sb)} {sb.log_format}"))
        s.append(_ini_kv("error_log",
                         sb.error_log or f"{tmp}/error_{sb.name}.log {sb.error_log_level}"))
        for key, value in sb.extra:
            s.append(_ini_kv(key, str(value)))
    return "".join(s)


def _nginx_quote(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_nginx_conf(cfg: Config, tmp: str) -> str:
    s = ["# generated by tests/lib/proxylab.py\n"]
    if os.path.exists(NGINX_STREAM_MODULE):
        s.append(f"load_module {NGINX_STREAM_MODULE};\n")
    s.append(f"worker_processes {cfg.worker_processes or 1};\n")
    s.append("events { worker_connections 1024; }\n")
    s.append("stream {\n")
    for name, fmt in cfg.log_formats.items():
        s.append(f"    log_format {name} {_nginx_quote(fmt)};\n")
    s.append(cfg.nginx_stream)
    for up in cfg.upstreams:
        s.append(f"    upstream {up.name} {{\n")
        if up.hash:
            s.append(f"        hash {up.hash};\n")
        if up.balance and up.balance != "round_robin":
            s.append(f"        {up.balance};\n")
        for srv in up.servers:
            s.append(f"        server {srv};\n")
        s.append("    }\n")
    for sb in cfg.servers:
        s.append("    server {\n")
        s.append(f"        listen {host_port(sb.listen_host, sb.listen)}{sb.listen_params};\n")
        if sb.proxy_pass is not None:
            s.append(f"        proxy_pass {sb.proxy_pass};\n")
        for key, value in sb.directives:
            s.append(f"        {key} {value};\n")
        for key in ("proxy_connect_timeout", "proxy_timeout", "proxy_buffer_size",
                    "proxy_next_upstream_tries", "proxy_next_upstream_timeout"):
            v = getattr(sb, key)
            if v is not None:
                s.append(f"        {key} {v};\n")
        if sb.proxy_half_close is not None:
            s.append(f"        proxy_half_close {'on' if sb.proxy_half_close else 'off'};\n")
        if sb.proxy_next_upstream is not None:
            s.append(f"        proxy_next_upstream {'on' if sb.proxy_next_upstream else 'off'};\n")
        if sb.log_format:
            s.append(f"        access_log {access_log_path(tmp, sb)} {sb.log_format};\n")
        s.append(f"        error_log {tmp}/error_{sb.name}.log {sb.error_log_level};\n")
        s.append("    }\n")
    s.append("}\n")
    return "".join(s)


def access_log_path(tmp: str, sb: ServerBlock) -> str:
    return f"{tmp}/access_{sb.name}.log"


# ---------------------------------------------------------------------------
# The proxy under test
# ---------------------------------------------------------------------------

def _sigterm_to_exit(signum, frame):
    raise SystemExit(128 + signum)


# A TERMinated test run still stops its proxies (atexit runs on SystemExit).
if threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _sigterm_to_exit)


class ProxyStartError(RuntimeError):
    pass


class Proxy:
    """proxyd or nginx, started in the foreground in its own temp dir and
    process group.  Use as a context manager or call stop() in finally."""

    def __init__(self, impl: Optional[str] = None, binary: Optional[str] = None):
        self.impl = impl or impl_from_env()
        self.binary = binary or (proxyd_binary() if self.impl == "proxyd" else NGINX_BIN)
        self.proc: Optional[subprocess.Popen] = None
        self.tmp: Optional[str] = None
        self.config: Optional[Config] = None
        self._stderr = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, config: Config, timeout: float = 5.0,
              env: Optional[dict] = None) -> "Proxy":
        """`env`: extra environment variables for the proxy (NOTIFY_SOCKET)."""
        if self.proc is not None:
            raise RuntimeError("proxy already started")
        self.config = config
        self.tmp = tempfile.mkdtemp(prefix=f"{self.impl}-", dir=tmp_root())
        os.chmod(self.tmp, 0o755)
        if self.impl == "proxyd":
            conf = os.path.join(self.tmp, "proxyd.ini")
            with open(conf, "w") as f:
                f.write(render_proxyd_ini(config, self.tmp))
        else:
            conf = os.path.join(self.tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(render_nginx_conf(config, self.tmp))
        return self._launch(conf, [sb.listen for sb in config.servers], timeout, env)

    def start_stream(self, body: str, ports: list, timeout: float = 5.0,
                     main: str = "", allow_warnings: bool = False) -> "Proxy":
        """Runs one nginx.conf on either implementation: `body` is the
        inside of its stream {} block ("@DIR@" is the proxy's directory),
        `main` what comes before it. nginx runs the file; proxyd runs what
        `proxyd --import-nginx` makes of it, so that both get the same
        configuration and the importer is checked on the way (a warning is
        an error unless `allow_warnings`). `ports`: the listeners to wait for."""
        if self.proc is not None:
            raise RuntimeError("proxy already started")
        self.tmp = tempfile.mkdtemp(prefix=f"{self.impl}-", dir=tmp_root())
        os.chmod(self.tmp, 0o755)
        text = ["# generated by tests/lib/proxylab.py\n"]
        if self.impl == "nginx" and os.path.exists(NGINX_STREAM_MODULE):
            text.append(f"load_module {NGINX_STREAM_MODULE};\n")
        text.append("worker_processes 1;\nevents { worker_connections 1024; }\n")
        text.append(main.replace("@DIR@", self.tmp))
        text.append("stream {\n" + body.replace("@DIR@", self.tmp) + "}\n")
        nginx_conf = os.path.join(self.tmp, "nginx.conf")
        with open(nginx_conf, "w") as f:
            f.write("".join(text))
        conf = nginx_conf
        if self.impl == "proxyd":
            r = subprocess.run([self.binary, "--import-nginx", nginx_conf],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0 or (r.stderr.strip() and not allow_warnings):
                raise ProxyStartError(f"proxyd --import-nginx {nginx_conf}: exit "
                                      f"{r.returncode}\n{r.stderr}\n--- nginx.conf\n"
                                      + "".join(text))
            conf = os.path.join(self.tmp, "proxyd.ini")
            with open(conf, "w") as f:
                f.write(r.stdout)
        return self._launch(conf, ports, timeout, None)

    def _launch(self, conf: str, ports: list, timeout: float,
                env: Optional[dict]) -> "Proxy":
        if self.impl == "proxyd":
            argv = [self.binary, "-c", conf]
        else:
            argv = [self.binary, "-p", self.tmp + "/", "-c", conf,
                    "-e", f"{self.tmp}/error.log",
                    "-g", f"daemon off; master_process on; pid {self.tmp}/nginx.pid; "
                          f"error_log {self.tmp}/error.log info;"]
        self.conf_path = conf
        self._stderr = open(os.path.join(self.tmp, "stderr.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr,
                                     start_new_session=True,
                                     env=dict(os.environ, **(env or {})),
                                     preexec_fn=testenv.die_with_parent(signal.SIGTERM))
        _register(self)
        deadline = time.monotonic() + timeout
        up = wait_for(lambda: self.proc.poll() is not None or all(listening(p) for p in ports),
                      timeout, 0.02)
        if self.proc.poll() is not None or up is None:
            rc = self.proc.poll()
            diag = self.diagnostics()
            self.stop()
            if rc is not None:
                raise ProxyStartError(f"{self.impl} exited with {rc} at start\n{diag}")
            raise ProxyStartError(f"{self.impl} not listening on {ports} "
                                  f"after {timeout}s\n{diag}")
        if self.impl == "nginx":
            # The master listens before it forks the worker; wait for it.
            wait_for(self.worker_pids, deadline - time.monotonic(), 0.02)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(3)
                except subprocess.TimeoutExpired:
                    pass
            # Whatever is left of the process group (nginx workers, or a
            # proxyd that ignored TERM) is ours: kill it by its group id.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
            self.returncode = proc.returncode
            self._last_pid = proc.pid
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        _unregister(self)

    def exit_problem(self) -> Optional[str]:
        """After stop(): why proxyd's exit was not clean, or None.

        proxyd must exit 0 on TERM, and a sanitizer build must have printed
        no report (ASan, LeakSanitizer, UBSan) on its stderr."""
        if self.impl != "proxyd":
            return None
        text = ""
        path = os.path.join(self.tmp, "stderr.log") if self.tmp else None
        if path and os.path.exists(path):
            with open(path, errors="replace") as f:
                text = f.read()
        return testenv.exit_problem("proxyd", self.returncode, text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def rewrite_config(self, config: Config) -> None:
        """Writes `config` over the running proxy's file (then reload it)."""
        assert self.impl == "proxyd", "rewrite_config is for proxyd"
        self.config = config
        with open(self.conf_path, "w") as f:
            f.write(render_proxyd_ini(config, self.tmp))

    def pid_file(self) -> str:
        return os.path.join(self.tmp, "proxyd.pid")

    def control(self, action: str) -> subprocess.CompletedProcess:
        """`proxyd -c CONF -s ACTION` (through the pid file)."""
        return subprocess.run([self.binary, "-c", self.conf_path, "-s", action],
                              capture_output=True, text=True, timeout=10)

    # -- introspection -----------------------------------------------------
    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def worker_pids(self) -> list:
        """Processes that carry sessions: nginx's workers, or proxyd itself."""
        if self.proc is None:
            return []
        if self.impl == "proxyd":
            return [self.proc.pid]
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.proc.pid:
                kids.append(int(d))
        return kids

    def listen_port(self, server: Optional[str] = None) -> int:
        return self._server(server).listen

    def _server(self, server: Optional[str]) -> ServerBlock:
        assert self.config is not None
        if server is None:
            return self.config.servers[0]
        for sb in self.config.servers:
            if sb.name == server:
                return sb
        raise KeyError(server)

    def access_log_path(self, server: Optional[str] = None) -> str:
        return access_log_path(self.tmp, self._server(server))

    def access_log_lines(self, count: Optional[int] = None,
                         server: Optional[str] = None,
                         timeout: float = 1.0) -> list:
        """The access-log lines of `server` (default the first).  With
        `count`, poll up to `timeout` s for at least that many lines: the
        contract is that each line is written within 100 ms of session end."""
        path = self.access_log_path(server)
        lines: list = []

        def enough() -> bool:
            try:
                with open(path, "r", errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            lines[:] = text.split("\n")[:-1]  # complete lines only
            return count is None or len(lines) >= count

        wait_for(enough, timeout)
        return lines

    def error_log(self) -> str:
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.startswith("error") or name == "stderr.log":
                try:
                    with open(os.path.join(self.tmp, name), errors="replace") as f:
                        out.append(f"--- {name}\n{f.read()}")
                except OSError:
                    pass
        return "\n".join(out)

    def diagnostics(self) -> str:
        conf = ""
        try:
            with open(self.conf_path) as f:
                conf = f.read()
        except (OSError, AttributeError):
            pass
        return f"--- config {getattr(self, 'conf_path', '?')}\n{conf}\n{self.error_log()}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# ---------------------------------------------------------------------------
# Clients and log parsing
# ---------------------------------------------------------------------------

def connect(port: int, host: str = "127.0.0.1", source: Optional[str] = None,
            timeout: float = 5.0) -> socket.socket:
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s



def client_hello(sni: Optional[str] = None, alpn: Optional[list] = None) -> bytes:
    """The first flight (ClientHello) of Python's TLS client, made without a
    server to talk to: for ssl_preread tests."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()

def http_request(port: int, path: str = "/", method: str = "GET",
                 host: str = "127.0.0.1", timeout: float = 5.0):
    """One HTTP/1.0 request; returns (status, headers dict lower-cased, body bytes)."""
    with connect(port, host=host, timeout=timeout) as s:
        s.sendall(f"{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data, _, _ = recv_until_closed(s, timeout)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def recv_until(s: socket.socket, marker: bytes, buf: bytes = b"") -> Optional[bytes]:
    """`buf` and what `s` sends after it, up to the read that brings
    `marker`; None when the peer closes first."""
    while marker not in buf:
        data = s.recv(4096)
        if not data:
            return None
        buf += data
    return buf


def recv_exactly(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = s.recv(n - len(buf))
        if not data:
            break
        buf += data
    return bytes(buf)


def recv_until_closed(s: socket.socket, timeout: float = 5.0):
    """Read until EOF or reset.  Returns (data, how, seconds) where how is
    'eof', 'reset' or 'timeout'."""
    t0 = time.monotonic()
    buf = bytearray()
    s.settimeout(0.05)
    while True:
        if time.monotonic() - t0 > timeout:
            return bytes(buf), "timeout", time.monotonic() - t0
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return bytes(buf), "reset", time.monotonic() - t0
        if not data:
            return bytes(buf), "eof", time.monotonic() - t0
        buf += data


_KV = re.compile(r'(\w+)=("([^"]*)"|\S*)')


def parse_kv(line: str) -> dict:
    """Fields of a FORMAT_ALL line: {'status': '200', 'upstream': 'a, b', ...};
    quotes are removed, 'time_local' holds the bracketed time."""
    out = {}
    m = re.match(r"\[([^\]]*)\]", line)
    if m:
        out["time_local"] = m.group(1)
    for m in _KV.finditer(line):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


def split_list(v: str) -> list:
    """'a, b' -> ['a', 'b'] (nginx joins attempts with ', ')."""
    return v.split(", ")


# ---------------------------------------------------------------------------
# A model of nginx's consistent hash (REFERENCE.md; ngx_stream_upstream_hash)
# ---------------------------------------------------------------------------

def ketama_ring(servers: list) -> list:
    """Sorted (point, server) pairs: 160 points per server (weight 1); point j
    is crc32(host + "\\0" + port + le32(previous point)), starting from 0."""
    import zlib
    points = []
    for srv in servers:
        name = srv.split()[0]
        host, port = name.rsplit(":", 1)
        base = zlib.crc32(host.encode() + b"\0" + port.encode())
        prev = 0
        for _ in range(160):
            h = zlib.crc32(prev.to_bytes(4, "little"), base) & 0xFFFFFFFF
            points.append((h, name))
            prev = h
    points.sort(key=lambda p: p[0])
    dedup = []
    for p in points:
        if not dedup or dedup[-1][0] != p[0]:
            dedup.append(p)
    return dedup


def ketama_pick(ring: list, key: str) -> str:
    """The server the ring gives `key` when every server is up."""
    import bisect
    import zlib
    h = zlib.crc32(key.encode()) & 0xFFFFFFFF
    i = bisect.bisect_left([p[0] for p in ring], h)
    return ring[i % len(ring)][1]


# ---------------------------------------------------------------------------
# Entry point for the test files
# ---------------------------------------------------------------------------


class ProxydCase(testenv.DaemonCase):
    """Base of the loopback test cases: `start` runs proxyd on a Config and,
    at cleanup, stops it and fails the test on an unclean exit (a crash, a
    sanitizer report); `backend` stops what it starts; `status` reads the
    status page's JSON; figures are reported as [TAG].  IMPL = "nginx" runs
    the same cases against the reference."""
    IMPL = TAG = "proxyd"

    def start(self, config: Config, **kw) -> "Proxy":
        proxy = Proxy(self.IMPL)
        proxy.start(config, **kw)
        return self.own(proxy, lambda: self._stop_clean(proxy))

    def _stop_clean(self, proxy: "Proxy") -> None:
        proxy.stop()
        problem = proxy.exit_problem()
        if problem:
            self.fail(problem)

    def backend(self, cls, *args, **kw):
        return self.own(cls(*args, **kw))

    def notify_socket(self, name: str) -> tuple:
        """(socket, env): a datagram socket to pass proxyd as NOTIFY_SOCKET
        (start(cfg, env=env)), closed and removed at cleanup."""
        path = os.path.join(tmp_root(), f"{name}-{os.getpid()}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        self.addCleanup(sock.close)
        self.addCleanup(os.unlink, path)
        return sock, {"NOTIFY_SOCKET": path}

    def recv_notify(self, sock, pred, timeout: float = 5.0) -> str:
        """The first sd_notify datagram on `sock` for which pred(text) holds;
        the test fails, listing what came, when none does within `timeout`."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = sock.recv(4096).decode()
            except socket.timeout:
                break
            got.append(msg)
            if pred(msg):
                return msg
        self.fail(f"no matching sd_notify message; got {got}")

    def status(self, port: int) -> dict:
        import json
        return json.loads(http_request(port, "/status")[2])

    def wait_status(self, port: int, pred, timeout: float = 5.0, what: str = "") -> dict:
        """The status page's JSON once pred(doc) holds, polled every 20 ms; the
        test fails (naming `what` and the last document's "process") when it
        does not within `timeout`."""
        doc: dict = {}

        def holds() -> bool:
            doc.clear()
            doc.update(self.status(port))
            return bool(pred(doc))

        if wait_for(holds, timeout, 0.02) is None:
            self.fail(f"{what or 'status condition'} not reached: {doc.get('process')}")
        return doc


def module_fixtures(impl: str):
    """(setUpModule, tearDownModule) of a test file: skip the module when
    `impl` cannot run here (require_impl), stop whatever is left at its end.

        setUpModule, tearDownModule = lab.module_fixtures("proxyd")
    """
    return (lambda: require_impl(impl)), cleanup_all


def main() -> None:
    """unittest.main(verbosity=2) with ctest-friendly exit codes
    (testenv.main): 1 on any failure or error, or under CI on a skip not on
    tests/lib/allowed_skips.txt; 77 (ctest SKIP_RETURN_CODE) when nothing
    failed but something was skipped (a skipped check is never reported as
    passed), else 0.  Each test's outcome is printed at the end."""
    testenv.main()
