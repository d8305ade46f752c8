"""The contract every agent type meets.

The engine drives each agent through ``plan -> start -> ready -> run -> stop``
and then reads ``facts()`` and ``artifacts()``. ``stop`` is always called, also
after errors, and must be idempotent. Agent types register themselves in
``sipscen.agents.registry`` by ``type_name``.
"""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sipscen.core.events import EventBoard
from sipscen.core.contact import Contact
from sipscen.language.control import CallControl, Cancelled
from sipscen.core.model import AgentSpec, Scenario
from sipscen.language.timeline import Timeline


@dataclass
class AgentContext:
    spec: AgentSpec
    scenario: Scenario
    board: EventBoard
    artifacts_dir: Path                  # this agent's own folder
    ports: Any                           # sipscen.core.ports.PortAllocator
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
        """Start the agent's process(es) through ``sipscen.core.process``."""

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

    def take_event(self, kind: str, data: dict[str, Any],
                   board_fields: tuple[str, ...] | None = None) -> None:
        """One of its own events: kept in ``self.events`` (the waits see it) and, when
        ``board_fields`` names what the board keeps of it, mirrored on the board."""
        with self.cond:
            self.events.append((kind, data))
            self.cond.notify_all()
        if board_fields is not None:
            self.ctx.board.post(self.ctx.name, kind,
                                **{f: data.get(f) for f in board_fields if f in data})

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
