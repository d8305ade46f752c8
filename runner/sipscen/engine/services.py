"""Services: processes a scenario needs around its agents (e.g. the system under test).

A ``services:`` entry gives a command (an argv list), where it listens
(``address``, ``port`` — an int or ``auto``), how to know it is ready
(``ready: {sip_options: true | log: REGEX | tcp_port: true, timeout}``), its
environment and its stop signal. ``${NAME.port}``-style references in the
command and the environment resolve against every agent's and service's contact, so
``-l udp:127.0.0.1:${sut.port}`` puts Kamailio on the port planned for it.

A service may name its SIP ``user`` (``call: {to: carol}`` then dials
``sip:USER@host:port``) and its media ports (``media_ports: 20`` allocates a
range, ``[lo, hi]`` fixes one; ``${NAME.media_min|media_max}``): the capture
covers them and the checks attribute the RTP there to the service. ``files:
{NAME: text}`` writes config files (references resolved) to ``${NAME.files}``.
``impair: {loss: 5%}`` drops that share of the UDP packets on their way into the
media ports (``core/netfilter.py``: installed before the service starts, its
counters read and the rule removed when it stops; ``facts()["impair"]``).

Health: ``check_alive`` raises :class:`ServiceExited` (with the exit code and
the last log lines) once the process has exited; the engine calls it all run
long. Logs go to the service's artifacts folder; ``stop`` is always called by
the engine, is idempotent and keeps the exit code (``facts``).
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import time
from pathlib import Path
from typing import Any

from sipscen.core.contact import Contact
from sipscen.core.network import require_loopback
from sipscen.core import process
from sipscen.core.netfilter import LossRule, unavailable
from sipscen.core.errors import InfrastructureError, ScenarioError, ServiceExited
from sipscen.core.redaction import redact_text
from sipscen.core.model import ServiceSpec, parse_duration
from sipscen.scenario.variables import resolve_references

DEFAULT_READY_TIMEOUT = 10.0
PROBE_INTERVAL = 0.2


def _options_message(host: str, port: int, lhost: str, lport: int) -> bytes:
    fmt = (lambda h: f"[{h}]" if ":" in h else h)
    tag, call_id, branch = (secrets.token_hex(4), secrets.token_hex(8), secrets.token_hex(6))
    return (
        f"OPTIONS sip:{fmt(host)}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {fmt(lhost)}:{lport};branch=z9hG4bK{branch};rport\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:sipscen@{fmt(lhost)}:{lport}>;tag={tag}\r\n"
        f"To: <sip:{fmt(host)}:{port}>\r\n"
        f"Call-ID: {call_id}@sipscen\r\n"
        f"CSeq: 1 OPTIONS\r\n"
        f"Contact: <sip:sipscen@{fmt(lhost)}:{lport}>\r\n"
        f"Accept: application/sdp\r\n"
        f"Content-Length: 0\r\n\r\n").encode()


def probe_sip_options(host: str, port: int, wait: float) -> str | None:
    """Send one OPTIONS over UDP and return the status line of any answer, or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        lhost, lport = sock.getsockname()[:2]
        sock.settimeout(wait)
        try:
            sock.sendto(_options_message(host, port, lhost, lport), (host, port))
            data = sock.recv(65535)
        except (socket.timeout, ConnectionRefusedError, OSError):
            return None
    first = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    return first if first.startswith("SIP/2.0 ") else None


def _tcp_open(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect((host, port))
            return True
        except OSError:
            return False


def signal_number(value: Any, where: str, location) -> int:
    """A signal given by name (TERM, SIGTERM) or number; SIGTERM when none."""
    if value is None:
        return signal.SIGTERM
    if isinstance(value, int):
        return value
    name = str(value).upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return int(getattr(signal, name))
    except AttributeError:
        raise ScenarioError(f"unknown signal '{value}'", location, where) from None


def check_service_config(spec: ServiceSpec) -> str:
    """The service's address, or the ScenarioError its plan or start would raise:
    an address that is not loopback, a NUL byte in the command or the environment
    (no process can be given one), an environment name that is empty or holds
    '=' (the schema refuses those too). Run at validation as well."""
    cfg = spec.config
    for i, arg in enumerate(cfg.get("command") or []):
        if "\0" in str(arg):
            raise ScenarioError("a command argument cannot hold a NUL character", spec.location,
                                f"{spec.path}.command[{i}]")
    for key, value in (cfg.get("env") or {}).items():
        name = str(key)
        if not name or "=" in name or "\0" in name:
            raise ScenarioError(f"invalid environment variable name {name!r}: not empty, "
                                "no '=' and no NUL", spec.location, f"{spec.path}.env")
        if "\0" in str(value):
            raise ScenarioError("an environment value cannot hold a NUL character",
                                spec.location, f"{spec.path}.env.{name}")
    return require_loopback(str(cfg.get("address") or "127.0.0.1"), f"{spec.path}.address",
                            spec.location)


def _percent(value: Any) -> float:
    """5%, "5", 0.5 -> the percentage (the schema allows 0 to 100)."""
    text = str(value).strip()
    return float(text[:-1] if text.endswith("%") else text)


class Service:
    """One service of a scenario: plan -> start -> ready -> stop."""

    def __init__(self, spec: ServiceSpec, artifacts_dir: Path, ports: Any,
                 secrets: frozenset[str] | set[str] = frozenset()):
        self.spec = spec
        self.secrets = secrets        # masked in the command line kept in the artifacts
        self.dir = artifacts_dir
        self.ports = ports
        self.contact: Contact | None = None
        self.proc: process.ManagedProcess | None = None
        self.argv: list[str] = []
        self.ready_status: str | None = None
        self.exited_during_run: int | None = None   # exit code seen by check_alive
        self.stopped_code: int | None = None
        self.loss: LossRule | None = None          # impair: (core/netfilter.py)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.spec.config)

    def plan(self) -> Contact:
        cfg = self.config
        host = check_service_config(self.spec)
        port = cfg.get("port", "auto")
        port = self.ports.port(host) if port in (None, "auto") else int(port)
        media = cfg.get("media_ports")
        if isinstance(media, int) and not isinstance(media, bool):
            media = self.ports.range(media + (media % 2), host)
        elif isinstance(media, (list, tuple)) and len(media) == 2:
            media = (int(media[0]), int(media[1]))
        else:
            media = None
        ws_ports = [self.ports.port(host) if cfg.get(key) == "auto" else int(cfg.get(key) or 0)
                    for key in ("ws_port", "wss_port")]
        self.contact = Contact(self.spec.name, host, port, cfg.get("transport") or "udp",
                               user=str(cfg.get("user") or ""), media_ports=media,
                               files=str(self.dir / "files") if cfg.get("files") else "",
                               ws_port=ws_ports[0], wss_port=ws_ports[1])
        impair = cfg.get("impair")
        if isinstance(impair, dict):
            why = unavailable(host)
            if why or media is None:
                raise ScenarioError(f"impair: cannot drop packets on this service's media "
                                    f"path: {why or 'it has no media_ports'}",
                                    self.spec.location, f"{self.spec.path}.impair")
            self.loss = LossRule(host, media[0], media[1], _percent(impair.get("loss", 0)))
        return self.contact

    @property
    def wants_stdin(self) -> bool:
        return bool(self.config.get("stdin")) or any(s.kind == "stdin" for s in self.spec.steps)

    def start(self, contacts: dict[str, Contact], scenario_dir: Path) -> None:

        cfg = self.config
        command = cfg.get("command") or []
        if not command:
            raise ScenarioError("a service needs a command (an argv list)",
                                self.spec.location, f"{self.spec.path}.command")
        argv = [resolve_references(str(a), contacts, scenario_dir,
                                   location=self.spec.location, path=f"{self.spec.path}.command")
                for a in command]
        if "/" not in argv[0]:
            argv[0] = process.find_tool(argv[0])
        env = dict(os.environ)
        env.update({str(k): resolve_references(str(v), contacts, scenario_dir,
                                               location=self.spec.location,
                                               path=f"{self.spec.path}.env.{k}")
                    for k, v in (cfg.get("env") or {}).items()})
        self.argv = argv
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write_files(contacts, scenario_dir)
        (self.dir / "command.txt").write_text(
            redact_text(" ".join(argv), self.secrets) + "\n")
        if self.loss is not None:     # in place before the first packet can arrive
            self.loss.sources = tuple(sorted({tuple(c.media_ports) for n, c in contacts.items()
                                              if n != self.spec.name and c.media_ports}))
            self.loss.install()
        self.proc = process.start(
            self.spec.name, argv, log_dir=self.dir, env=env, cwd=scenario_dir,
            stop_signal=signal_number(cfg.get("stop_signal"), f"{self.spec.path}.stop_signal",
                                self.spec.location),
            stdin=self.wants_stdin)

    def _write_files(self, contacts: dict[str, Contact], scenario_dir: Path) -> None:
        """``files: {NAME: text}``: written to ``${SERVICE.files}/NAME`` before the
        start, references resolved (a UA's config with its planned ports)."""

        files = self.config.get("files") or {}
        if not files:
            return
        folder = self.dir / "files"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / str(name)).write_text(resolve_references(
                str(text), contacts, scenario_dir, location=self.spec.location,
                path=f"{self.spec.path}.files.{name}"))

    def check_alive(self) -> None:
        """ServiceExited if the service has exited (once started), naming its exit
        code and the last lines of its log."""
        if self.proc is None:
            return
        code = self.proc.poll()
        if code is None:
            return
        self.exited_during_run = code
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        raise ServiceExited(f"service '{self.spec.name}' {how} during the run; "
                            f"last log lines:\n{self._tail()}", self.spec.name, code)

    def _log_text(self) -> str:
        text = ""
        for path in (self.proc.stdout_path, self.proc.stderr_path):
            if path and path.exists():
                text += path.read_bytes()[-262144:].decode("utf-8", "replace")
        return text

    def log_texts(self) -> dict[str, str]:
        """{"stdout": text, "stderr": text} as written so far (whole files, so
        offsets into one stay valid while it grows)."""
        out = {}
        if self.proc is not None:
            for label, path in (("stdout", self.proc.stdout_path),
                                ("stderr", self.proc.stderr_path)):
                if path and path.exists():
                    out[label] = path.read_bytes().decode("utf-8", "replace")
        return out

    def ready(self, timeout: float = DEFAULT_READY_TIMEOUT) -> None:
        """Block until the service answers (see module doc); InfrastructureError if it
        exits or is not ready in time, with the tail of its log."""
        if self.proc is None:
            raise InfrastructureError(f"service '{self.spec.name}' was not started")
        how = dict(self.config.get("ready") or {"sip_options": True})
        if "timeout" in how:
            timeout = parse_duration(how["timeout"])
        pattern = re.compile(how["log"]) if how.get("log") else None
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                hint = (" (a service must stay in the foreground: a daemon that forks away "
                        "cannot be watched or stopped, e.g. run kamailio with -DD)"
                        if code == 0 else "")
                raise InfrastructureError(
                    f"service '{self.spec.name}' exited with code {code} before it was "
                    f"ready{hint}:\n{self._tail()}")
            if pattern is not None and pattern.search(self._log_text()):
                self.ready_status = f"log matched {pattern.pattern!r}"
                return
            if how.get("tcp_port") and _tcp_open(self.contact.host, self.contact.port):
                self.ready_status = "tcp port open"
                return
            if how.get("sip_options"):
                line = probe_sip_options(self.contact.host, self.contact.port, PROBE_INTERVAL)
                if line:
                    self.ready_status = line
                    return
            else:
                time.sleep(PROBE_INTERVAL / 4)
            if time.monotonic() >= deadline:
                raise InfrastructureError(
                    f"service '{self.spec.name}' not ready within {timeout:g}s "
                    f"({', '.join(sorted(k for k in how if k != 'timeout'))}):\n{self._tail()}")

    def _tail(self) -> str:
        return (self.proc.stderr_tail(15) + "\n" + self.proc.stdout_tail(5)).strip()

    def stop(self) -> None:
        if self.proc is not None:
            try:
                code = self.proc.poll()
                if code is not None and self.exited_during_run is None:
                    self.exited_during_run = code    # gone before the engine stopped it
                self.stopped_code = self.proc.stop()
            except Exception:  # noqa: BLE001 - stop never raises
                pass
        if self.loss is not None:     # after the process: no packet arrives any more
            try:
                if self.loss.installed:
                    self.loss.counters()
            except Exception:  # noqa: BLE001 - the rule is removed all the same
                pass
            self.loss.remove()

    def facts(self) -> dict[str, Any]:
        """What the checks and reports read about the service itself."""
        c = self.contact
        return {"type": "service", "uri": c.uri if c else None,
                "user": c.user if c else "", "media_ports": list(c.media_ports)
                if c and c.media_ports else None,
                "ready": self.ready_status, "exited_during_run": self.exited_during_run,
                "exit_code": self.stopped_code, "logs": self.artifacts(),
                **({"impair": self.loss.to_dict()} if self.loss is not None else {})}

    def artifacts(self) -> dict[str, str]:
        return self.proc.logs() if self.proc is not None else {}
