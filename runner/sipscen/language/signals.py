"""Waiting for another agent's signal: ``wait: {signal: NAME, agent: OTHER}``.

Every agent type uses :class:`SignalWaits`, one per agent run. A wait consumes
the signal occurrence it matched: a second wait for the same signal (from the
same agent, or from anyone when ``agent`` is not given) needs a second
``signal`` step.
"""
from __future__ import annotations

import time
from typing import Callable

from sipscen.core.events import Event, EventBoard

POLL = 0.2


class SignalWaits:
    def __init__(self, board: EventBoard):
        self.board = board
        self._next: dict[tuple[str, str | None], int] = {}   # first board index not consumed

    def wait(self, name: str, sender: str | None, timeout: float,
             check: Callable[[], None] | None = None) -> bool:
        """True once a not yet consumed ``signal`` NAME (from ``sender``; from anyone
        when None) is on the board, which it consumes. False when ``timeout`` runs
        out or the board is cancelled (tell them apart by ``board.cancelled``).
        ``check()``, if given, runs between polls and may raise (a dead process)."""
        key = (name, sender)

        def match(event: Event) -> bool:
            return event.kind == "signal" and event.data.get("name") == name and (
                sender is None or event.agent == sender)

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            event = self.board.wait_for(match, max(0.0, min(remaining, POLL)),
                                        self._next.get(key, 0))
            if event is not None:
                self._next[key] = self._index(event) + 1
                return True
            if self.board.cancelled.is_set() or remaining <= 0:
                return False
            if check is not None:
                check()

    def _index(self, event: Event) -> int:
        return next(i for i, e in enumerate(self.board.events()) if e is event)
