"""Timestamped events: how agents report, synchronise and feed live progress.

Agents post :class:`Event`s to the run's :class:`EventBoard`. Steps of one agent
can wait for events of another (``wait: {signal: ..., agent: ...}``); the
console reporter listens for live progress. The board never prints.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Event:
    t: float            # seconds since the run started
    agent: str          # agent name, or "engine"
    kind: str           # e.g. "call_state", "media", "dtmf", "signal", "step"
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 6), "agent": self.agent, "kind": self.kind, **self.data}


Listener = Callable[[Event], None]


class EventBoard:
    """A thread-safe append-only list of events with blocking waits."""

    def __init__(self, t0: float | None = None):
        self.t0 = time.monotonic() if t0 is None else t0
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._listeners: list[Listener] = []
        self.cancelled = threading.Event()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def post(self, agent: str, kind: str, **data: Any) -> Event:
        event = Event(self.now(), agent, kind, data)
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken reporter must not break the run
                pass
        return event

    def events(self, agent: str | None = None, kind: str | None = None) -> list[Event]:
        with self._cond:
            return [
                e for e in self._events
                if (agent is None or e.agent == agent) and (kind is None or e.kind == kind)
            ]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float,
                 since: int = 0) -> Event | None:
        """First event (index >= ``since``) matching ``predicate``, or None on timeout
        or cancellation."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events[since:]:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.cancelled.is_set():
                    return None
                self._cond.wait(min(remaining, 0.1))

    def cancel(self) -> None:
        """Wake every waiter: the run is being torn down."""
        self.cancelled.set()
        with self._cond:
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)
