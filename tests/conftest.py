"""Shared fixtures for the whole suite."""
import io
import os
import uuid
from pathlib import Path

import pytest

from sipscen.cli import main


@pytest.fixture
def sipscen():
    """Run the command line in-process: ``sipscen("run", path, ...) -> (code, out, err)``."""
    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        code = main([str(a) for a in argv], stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()
    return run


TOKEN_VAR = "SIPSCEN_TEST_TOKEN"


def processes_with_token(token: str) -> list[str]:
    """Processes (other than this one) whose environment carries ``token``:
    everything a test started, directly or through sipscen, inherits it —
    also after being orphaned — and nothing else does."""
    found = []
    needle = f"{TOKEN_VAR}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.append(f"{entry.name} {cmd}")
        except OSError:
            continue
    return found


@pytest.fixture
def no_leftovers(monkeypatch):
    """Fails the test if any process it started (sipp, tcpdump, pjsua worker,
    kamailio, a sipscen CLI) survives it."""
    token = uuid.uuid4().hex
    monkeypatch.setenv(TOKEN_VAR, token)
    yield
    left = processes_with_token(token)
    assert not left, f"processes left running: {left}"


@pytest.fixture
def write_scenario(tmp_path):
    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write
