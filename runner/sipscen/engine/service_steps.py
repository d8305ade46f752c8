"""Steps that act on a service: ``services.NAME.steps``, run concurrently with the agents.

A stdin-driven UA (baresip's menu) or a SUT with a control port needs no timed
wrapper script: its timeline lives in the scenario, synchronised with the
agents through signals.

    stdin: "/dial sip:bob@127.0.0.1:5062"     # one line to the service's stdin
    tcp: {send: "ping", port: 8000}          # to a TCP control port (default: the service's port)
    run: {command: [kamctl, ...], timeout: 5s, expect_exit: 0}   # a command, waited for
    wait: {log: "Call established", timeout: 10s}   # a line in the service's log (new since the last log wait)
    wait: {signal: ready, agent: bob}        # another agent's or service's signal
    signal: dialled                          # a signal others can wait for
    sleep: 500ms
    kill: SIGSEGV                            # a signal to its main process (a crash, on purpose)

A failed step (a wait that times out, a command that exits otherwise) fails
the scenario like an agent's step (StepFailed at the step's line).
"""
from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from sipscen.language.signals import SignalWaits
from sipscen.core import process
from sipscen.core.events import EventBoard
from sipscen.core.errors import Location, StepFailed
from sipscen.core.model import parse_duration

DEFAULT_WAIT = 10.0
POLL = 0.05


class ServiceTimeline:
    """The steps of one service; ``run`` is called from the engine's run thread."""

    def __init__(self, service: Any, board: EventBoard, contacts: dict, scenario_dir: Path):
        self.service = service
        self.name = service.spec.name
        self.board = board
        self.contacts = contacts
        self.scenario_dir = scenario_dir
        self.signals = SignalWaits(board)
        self._log_offset: dict[str, int] = {}   # log waits see text after the previous match

    @property
    def steps(self) -> list[Any]:
        return list(self.service.config.get("steps") or [])

    def _where(self, index: int) -> tuple[Location | None, str]:
        spec = self.service.spec
        locs = getattr(spec, "step_locations", ()) or ()
        loc = locs[index] if index < len(locs) else spec.location
        return loc, f"{spec.path}.steps[{index}]"

    def run(self) -> None:
        from sipscen.scenario.variables import resolve_references

        for index, step in enumerate(self.steps):
            if self.board.cancelled.is_set():
                return
            (kind, params), = step.items()
            loc, path = self._where(index)

            def resolve(text: str) -> str:
                return resolve_references(str(text), self.contacts, self.scenario_dir,
                                          location=loc, path=path)
            self._loc = loc
            try:
                self._step(kind, params, resolve)
            except StepFailed:
                raise
            except Exception as exc:   # noqa: BLE001 - a step that cannot be done fails here
                raise StepFailed(f"{path}: {kind}: {exc}", loc) from exc
            self.board.post(self.name, "step", index=index, step=kind, status="done",
                            message="")

    def _fail(self, kind: str, message: str) -> StepFailed:
        return StepFailed(f"service {self.name}: {kind}: {message}",
                          getattr(self, "_loc", None) or self.service.spec.location)

    def _step(self, kind: str, params: Any, resolve) -> None:
        if kind == "sleep":
            self.board.cancelled.wait(parse_duration(params))
        elif kind == "signal":
            self.board.post(self.name, "signal", name=str(params))
        elif kind == "stdin":
            self.service.check_alive()
            self.service.proc.write_line(resolve(params))
        elif kind == "tcp":
            port = int(params.get("port") or self.service.contact.port)
            with socket.create_connection((self.service.contact.host, port), timeout=2) as s:
                s.sendall(resolve(params["send"]).encode())
        elif kind == "kill":
            from sipscen.engine.services import _signal
            sig = _signal(params, "kill", self.service.spec.location)
            os.kill(self.service.proc.pid, sig)
        elif kind == "run":
            self._run(params, resolve)
        elif kind == "wait":
            self._wait(params)
        else:
            raise self._fail(kind, "unknown step")

    def _run(self, params: dict, resolve) -> None:
        argv = [resolve(a) for a in params["command"]]
        if "/" not in argv[0]:
            argv[0] = process.find_tool(argv[0])
        timeout = parse_duration(params.get("timeout", "10s"))
        want = int(params.get("expect_exit", 0))
        proc = process.start(f"{self.name}-run", argv, log_dir=self.service.dir,
                             cwd=self.scenario_dir)
        try:
            ok = process.wait_until(lambda: not proc.running or self.board.cancelled.is_set(),
                                    timeout, POLL)
            if proc.running:
                raise self._fail("run", f"{argv[0]} still running after {timeout:g}s"
                                 if ok is False else "cancelled")
            code = proc.poll()
        finally:
            proc.stop(1.0)
        if code != want:
            raise self._fail("run", f"{' '.join(argv)} exited with {code} (expected {want}): "
                                    f"{proc.stderr_tail(5)}")

    def _wait(self, params: dict) -> None:
        timeout = parse_duration(params.get("timeout", DEFAULT_WAIT))
        if "signal" in params:
            ok = self.signals.wait(str(params["signal"]), params.get("agent"), timeout,
                                   check=self.service.check_alive)
            if not ok and not self.board.cancelled.is_set():
                raise self._fail("wait", f"no signal {params['signal']!r} within {timeout:g}s")
            return
        pattern = re.compile(params["log"])
        deadline = time.monotonic() + timeout
        while True:
            for label, text in self.service.log_texts().items():
                m = pattern.search(text, self._log_offset.get(label, 0))
                if m:
                    self._log_offset[label] = m.end()
                    return
            if self.board.cancelled.is_set():
                return
            self.service.check_alive()
            if time.monotonic() >= deadline:
                raise self._fail("wait", f"{pattern.pattern!r} not in its log within "
                                         f"{timeout:g}s")
            time.sleep(POLL)
