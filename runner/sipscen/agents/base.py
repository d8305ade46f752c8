"""The contract every agent type meets.

The engine drives each agent through ``plan -> start -> ready -> run -> stop``
and then reads ``facts()`` and ``artifacts()``. ``stop`` is always called, also
after errors, and must be idempotent. Agent types register themselves in
``sipscen.agents.registry`` by ``type_name``.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sipscen.engine.events import EventBoard
from sipscen.errors import Location, ScenarioError
from sipscen.language.control import CallControl, Cancelled
from sipscen.scenario.model import AgentSpec, Scenario


def require_loopback(host: str, where: str, location: Location | None = None) -> str:
    """``host`` (brackets allowed), normalised, if it is a loopback address; else a
    ScenarioError at ``location``/``where``: sipscen talks to loopback addresses only
    (in a Kubernetes pod, also to its own address and the discovered SUT endpoints).

    The one check for agents and services alike."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ScenarioError(f"'{host}' is not an IP address (sipscen talks to loopback "
                            "addresses only)", location, where) from None
    if not ip.is_loopback and not _allowed_in_cluster(str(ip)):
        raise ScenarioError(f"{host} is not a loopback address: sipscen only sends on "
                            "127.0.0.0/8 and ::1 (in a Kubernetes pod also to the pod's own "
                            "address and the discovered SUT endpoints)", location, where)
    return str(ip)


def _allowed_in_cluster(ip: str) -> bool:
    """In a Kubernetes pod: its own address and discovered SUT endpoints
    (sipscen.kube.discovery.allowed); never elsewhere."""
    from sipscen.kube.discovery import allowed
    return allowed(ip)


@dataclass(frozen=True)
class Contact:
    """Where an agent (or a service) can be reached, decided at plan time."""

    name: str
    host: str                      # 127.0.0.1 or ::1
    port: int                      # SIP port
    transport: str = "udp"         # udp | tcp | tls
    user: str = ""
    media_ports: tuple[int, int] | None = None   # inclusive range the agent's RTP uses
    files: str = ""                # a service's folder of generated files (`files:`)
    ws_port: int = 0               # a service's SIP over WebSocket port (0: none), RFC 7118
    wss_port: int = 0              # ... and secure WebSocket port

    @property
    def ports(self) -> tuple[int, ...]:
        """Every signalling port it listens on (SIP, WebSocket, secure WebSocket)."""
        return tuple(p for p in (self.port, self.ws_port, self.wss_port) if p)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def media_min(self) -> int | str:
        return self.media_ports[0] if self.media_ports else ""

    @property
    def media_max(self) -> int | str:
        return self.media_ports[1] if self.media_ports else ""

    @property
    def uri(self) -> str:
        scheme = "sips" if self.transport == "tls" else "sip"
        user = f"{self.user}@" if self.user else ""
        params = "" if self.transport == "udp" else f";transport={self.transport}"
        return f"{scheme}:{user}{self.hostport}{params}"


@dataclass
class AgentContext:
    spec: AgentSpec
    scenario: Scenario
    board: EventBoard
    artifacts_dir: Path                  # this agent's own folder
    ports: Any                           # sipscen.engine.ports.PortAllocator
    contacts: dict[str, Contact] = field(default_factory=dict)  # every agent/service by name
    timeout: float = 60.0                # the scenario's effective timeout (--timeout wins)

    @property
    def name(self) -> str:
        return self.spec.name

    def contact(self, name: str) -> Contact:
        return self.contacts[name]


class Agent(ABC):
    type_name: ClassVar[str]

    def __init__(self, ctx: AgentContext):
        self.ctx = ctx

    @abstractmethod
    def plan(self) -> Contact:
        """Reserve ports (via ``ctx.ports``) and say where this agent listens."""

    @abstractmethod
    def start(self) -> None:
        """Start the agent's process(es) through ``sipscen.engine.process``."""

    @abstractmethod
    def ready(self, timeout: float) -> None:
        """Block until the agent can receive calls; raise AgentError if it cannot."""

    @abstractmethod
    def run(self) -> None:
        """Carry out the agent's steps in order; raise StepFailed on a failed step.

        Runs in its own thread, concurrently with the other agents. Must return
        promptly once ``ctx.board.cancelled`` is set.
        """

    @abstractmethod
    def stop(self) -> None:
        """Stop everything this agent started. Idempotent; never raises."""

    @abstractmethod
    def facts(self) -> dict[str, Any]:
        """JSON-able facts the checks read (see docs/ARCHITECTURE.md)."""

    def artifacts(self) -> dict[str, str]:
        """Files this agent left in its artifacts folder, by label."""
        return {}

    def srtp_keys(self) -> list[dict[str, str]]:
        """SDES keys this agent used ({suite, key}), handed to the capture analysis."""
        return []

    def tls_keylogs(self) -> list[str]:
        """TLS key log files (SSLKEYLOGFILE format) of its TLS connections, handed to the
        capture analysis to read SIP over secure WebSocket."""
        return []


class ControlAgent(Agent, CallControl):
    """An agent that is the language timeline's CallControl transport (baresip,
    pjsua, SIPp): its name, the run's board, and running its steps."""

    @property
    def agent_name(self) -> str:
        return self.ctx.name

    @property
    def board(self):
        return self.ctx.board

    def run_timeline(self, steps=None) -> bool:
        """Carry out ``steps`` ((index, step) pairs; default: all) through the
        timeline interpreter; False when the run was cancelled meanwhile."""
        from sipscen.language.timeline import Timeline
        try:
            Timeline(self, self.ctx).run(steps)
        except Cancelled:
            return False
        return not self.ctx.board.cancelled.is_set()


class TimelineAgent(ControlAgent):
    """An agent whose steps the language's timeline interprets: it is the
    timeline's CallControl transport (baresip, pjsua). It keeps its own events as
    ``(kind, data)`` in ``self.events``, appended under ``self.cond``."""

    events: list[tuple[str, dict[str, Any]]]
    cond: threading.Condition

    def run(self) -> None:
        self.run_timeline()

    def wait_event(self, predicate, timeout: float, since: int = 0,
                   abort=None) -> tuple[int, dict[str, Any]] | None:
        """First own event (index >= since) matching ``predicate(kind, data)``.

        Returns (index, data), or None on timeout. ``abort(kind, data)`` returning a
        message string ends the wait early with ``(-1, {"abort": message})``.
        Raises Cancelled or AgentError (``check_alive``).
        """
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for index in range(since, len(self.events)):
                    kind, data = self.events[index]
                    if predicate(kind, data):
                        return index, data
                    reason = abort(kind, data) if abort is not None else None
                    if reason:
                        return -1, {"abort": reason}
                if self.ctx.board.cancelled.is_set():
                    raise Cancelled(f"agent {self.ctx.name}: run cancelled")
                self.check_alive()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(min(remaining, 0.1))
