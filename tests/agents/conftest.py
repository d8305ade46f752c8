"""Fixtures for real PJSUA agents on the loopback: build, start, run, always stop."""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from sipscen.agents.base import AgentContext
from sipscen.agents.pjsua.controller import PjsuaAgent
from sipscen.core.events import EventBoard
from sipscen.core.ports import PortAllocator
from sipscen.core.errors import Location
from sipscen.core.model import AgentSpec, Scenario, Step


def worker_pids() -> list[str]:
    """PIDs of pjsua workers that this test process started and that still run.

    Limited to our own children: other test runs may share the machine.
    """
    out = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "sipscen.agents.pjsua.worker"],
                         capture_output=True, text=True).stdout
    return out.split()


def make_steps(name: str, steps: list[Any]) -> tuple[Step, ...]:
    """Steps as the loader would build them: one-key mappings, scalars -> {"value": v}."""
    built = []
    for index, raw in enumerate(steps):
        (kind, params), = raw.items()
        if not isinstance(params, dict):
            params = {"value": params}
        built.append(Step(kind, params, Location("test.yaml", 10 + index, 9),
                          f"agents.{name}.steps[{index}]"))
    return tuple(built)


class Rig:
    """Two or more agents on one board, run the way the engine runs them."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.board = EventBoard()
        self.ports = PortAllocator("127.0.0.1")
        self.agents: dict[str, PjsuaAgent] = {}
        self.errors: dict[str, BaseException] = {}
        self.specs: list[AgentSpec] = []
        self.configs: dict[str, dict] = {}
        self.scenario_file = tmp_path / "test.yaml"

    def add(self, name: str, steps: list[Any] = (), **config: Any) -> None:
        spec = AgentSpec(name, "pjsua", config, make_steps(name, list(steps)),
                         Location("test.yaml", 3, 3), f"agents.{name}")
        self.specs.append(spec)

    def start(self, timeout: float = 5.0) -> dict[str, PjsuaAgent]:
        scenario = Scenario("test", self.scenario_file, agents=tuple(self.specs))
        contacts: dict = {}
        for spec in self.specs:
            ctx = AgentContext(spec, scenario, self.board, self.tmp_path / spec.name,
                               self.ports, contacts)
            agent = PjsuaAgent(ctx)
            self.agents[spec.name] = agent
            contacts[spec.name] = agent.plan()
        for agent in self.agents.values():
            agent.start()
        for agent in self.agents.values():
            agent.ready(timeout)
        return self.agents

    def run(self, timeout: float = 20.0) -> dict[str, BaseException]:
        """Run every agent's steps in its own thread; returns exceptions by agent."""
        def target(name: str, agent: PjsuaAgent) -> None:
            try:
                agent.run()
            except BaseException as exc:   # collected for the test to inspect
                self.errors[name] = exc
                self.board.cancel()

        threads = [threading.Thread(target=target, args=(n, a), daemon=True)
                   for n, a in self.agents.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in threads), "agent run() did not return"
        return self.errors

    def stop(self) -> None:
        for agent in reversed(list(self.agents.values())):
            agent.stop()
        self.ports.release()


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    try:
        yield r
    finally:
        r.stop()
        assert worker_pids() == [], "a pjsua worker outlived its test"
