"""A service's steps (``services.NAME.steps``): the language's one timeline
interpreter runs them, concurrently with the agents, through
:class:`ServiceControl`, the service's ``CallControl``.

A stdin-driven UA (baresip's menu) or a SUT with a control port needs no timed
wrapper script: its timeline lives in the scenario, synchronised with the
agents through signals. The step kinds are the language's own
(``language/steps/``): ``stdin``, ``tcp``, ``run``, ``kill``, ``sleep``,
``signal`` and ``wait`` (``log:`` or ``signal:``), declared for services by
``language/service_language.py``'s record. A failed step fails the scenario
like an agent's (StepFailed at the step's line).
"""
from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sipscen.core import process
from sipscen.core.events import EventBoard
from sipscen.core.model import ServiceSpec
from sipscen.engine.services import signal_number
from sipscen.language.control import CallControl, Cancelled, OperationFailed
from sipscen.language.timeline import Timeline

POLL = 0.05


@dataclass
class _ServiceContext:
    """What the timeline reads of the party it runs (an agent has more)."""
    spec: ServiceSpec
    board: EventBoard

    @property
    def name(self) -> str:
        return self.spec.name


class ServiceControl(CallControl):
    """The operations of the service step kinds, on one running service."""

    def __init__(self, service: Any, board: EventBoard, scenario_dir: Path):
        self.service = service
        self.agent_name = service.spec.name
        self.board = board
        self.scenario_dir = scenario_dir
        self._log_offset: dict[str, int] = {}   # log waits see text after the previous match

    def check_alive(self) -> None:
        if self.board.cancelled.is_set():
            raise Cancelled(f"service {self.agent_name}: run cancelled")
        self.service.check_alive()

    def perform(self, operation: str, call_id: str | None, **args: Any) -> None:
        act = getattr(self, f"_{operation}", None)
        if act is None:
            raise self._unsupported(operation)
        act(**args)

    def _stdin(self, line: str) -> None:
        self.service.check_alive()
        self.service.proc.write_line(line)

    def _tcp(self, send: str, port: int | None) -> None:
        contact = self.service.contact
        with socket.create_connection((contact.host, int(port or contact.port)), timeout=2) as s:
            s.sendall(send.encode())

    def _kill(self, signal: Any) -> None:
        os.kill(self.service.proc.pid, signal_number(signal, "kill", self.service.spec.location))

    def _run(self, command: list[str], timeout: float, expect_exit: int) -> None:
        argv = list(command)
        if "/" not in argv[0]:
            argv[0] = process.find_tool(argv[0])
        proc = process.start(f"{self.agent_name}-run", argv, log_dir=self.service.dir,
                             cwd=self.scenario_dir)
        try:
            process.wait_until(lambda: not proc.running or self.board.cancelled.is_set(),
                               timeout, POLL)
            if proc.running:
                if self.board.cancelled.is_set():
                    raise Cancelled(f"service {self.agent_name}: run cancelled")
                raise OperationFailed(f"{argv[0]} still running after {timeout:g}s")
            code = proc.poll()
        finally:
            proc.stop(1.0)
        if code != expect_exit:
            raise OperationFailed(f"{' '.join(argv)} exited with {code} (expected "
                                  f"{expect_exit}): {proc.stderr_tail(5)}")

    def wait_log(self, pattern: str, timeout: float) -> bool:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for label, text in self.service.log_texts().items():
                m = regex.search(text, self._log_offset.get(label, 0))
                if m:
                    self._log_offset[label] = m.end()
                    return True
            if self.board.cancelled.is_set():
                return False
            self.service.check_alive()
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)


def service_timeline(service: Any, board: EventBoard, scenario_dir: Path) -> Callable[[], None]:
    """The run of a service's steps (for the engine's run threads)."""
    control = ServiceControl(service, board, scenario_dir)

    def run() -> None:
        try:
            Timeline(control, _ServiceContext(service.spec, board)).run()
        except Cancelled:
            return
    return run
