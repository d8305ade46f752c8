"""Fixtures for real SIPp and Kamailio on the loopback.

Every test here starts real processes through ``sipscen.core.process`` and
must leave none behind: an autouse fixture fails the test if a ``sipp`` or
``kamailio`` child of this process, or any process working in the test's
temporary folder, is still alive afterwards.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sipscen.agents.base import AgentContext
from sipscen.agents.sipp.agent import SippAgent
from sipscen.core.events import EventBoard
from sipscen.core.ports import PortAllocator
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.core.errors import Location
from sipscen.scenario.build import load_scenario
from sipscen.core.model import AgentSpec, Scenario, Step

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
KAMAILIO_CFG = ROOT / "examples" / "sut" / "kamailio.cfg"
CORPUS = ROOT.parent / "shared" / "corpus" / "rfc4475"

needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (sip-tester) not installed")
needs_kamailio = pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio not installed")


def _children(names: tuple[str, ...]) -> list[str]:
    out = subprocess.run(["pgrep", "-a", "-P", str(os.getpid())], capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if any(n in line for n in names)]


def processes_in(folder: Path) -> list[str]:
    """Processes whose working directory is inside ``folder``."""
    found = []
    folder = folder.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = "?"
            found.append(f"{entry.name} {cmd}")
    return found


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path):
    yield
    left = _children(("sipp", "kamailio")) + processes_in(tmp_path)
    assert not left, f"processes left behind: {left}"


def run_file(path: Path, tmp_path: Path, **options: Any):
    """Load and run one scenario file with its artifacts under ``tmp_path``."""
    scenario = load_scenario(path)
    return run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "artifacts", **options))


def by_name(checks) -> dict[str, Any]:
    return {c.name: c for c in checks}


class SippRig:
    """SIPp agents built by hand (no loader), driven the way the engine drives them."""

    def __init__(self, tmp_path: Path, timeout: float = 20.0):
        self.tmp_path = tmp_path
        self.board = EventBoard()
        self.ports = PortAllocator("127.0.0.1")
        self.scenario = Scenario(name="rig", file=tmp_path / "rig.yaml", timeout=timeout)
        self.contacts: dict = {}
        self.agents: list[SippAgent] = []

    def agent(self, name: str, steps: list[Any] = (), **config: Any) -> SippAgent:
        """A SIPp agent; ``steps`` as one-key mappings (``{"sleep": "1s"}``)."""
        config.setdefault("address", "127.0.0.1")
        config.setdefault("port", "auto")
        config.setdefault("transport", "udp")
        built = []
        for index, raw in enumerate(steps):
            (kind, params), = raw.items()
            built.append(Step(kind, params if isinstance(params, dict) else {"value": params},
                              Location("rig.yaml", 10 + index, 9), f"agents.{name}.steps[{index}]"))
        spec = AgentSpec(name=name, type="sipp", config=config, steps=tuple(built),
                         location=Location("rig.yaml", 3, 3), path=f"agents.{name}")
        ctx = AgentContext(spec=spec, scenario=self.scenario, board=self.board,
                           artifacts_dir=self.tmp_path / name, ports=self.ports,
                           contacts=self.contacts, timeout=self.scenario.timeout)
        agent = SippAgent(ctx)
        self.contacts[name] = agent.plan()
        self.agents.append(agent)
        return agent

    def close(self) -> None:
        self.board.cancel()
        for agent in reversed(self.agents):
            agent.stop()
        self.ports.release()


@pytest.fixture
def rig(tmp_path):
    r = SippRig(tmp_path)
    yield r
    r.close()


def copy_scenario(src: Path, tmp_path: Path, replacements: dict[str, str] | None = None) -> Path:
    """A modified copy of a library scenario that still finds the example SUT.

    The copy lives at ``tmp/scenarios/<folder>/`` next to a ``tmp/examples``
    link, so ``${scenario_dir}/../../examples/...`` in service commands resolves;
    the shared include is referenced by its absolute path.
    """
    text = src.read_text()
    for old, new in (replacements or {}).items():
        assert old in text, f"{old!r} not in {src}"
        text = text.replace(old, new)
    text = text.replace("../lib/kamailio-sut.yaml", str(SCENARIOS / "lib" / "kamailio-sut.yaml"))
    folder = tmp_path / "scenarios" / src.parent.name
    folder.mkdir(parents=True, exist_ok=True)
    link = tmp_path / "examples"
    if not link.exists():
        link.symlink_to(ROOT / "examples")
    dest = folder / src.name
    dest.write_text(text)
    return dest
