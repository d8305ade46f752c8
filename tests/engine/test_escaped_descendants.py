"""Issue 20: a service whose child leaves the process group (`setsid`, with or
without its environment) leaves nothing running after sipscen: after a normal
end, after SIGINT, after SIGKILL of sipscen (then the watchdog does it). Real
setsid grandchildren, real signals; the grandchildren are found by a unique
command line (one of them scrubs its environment, so no mark finds it)."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="cgroups and capture need root")]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """
name: escapes
timeout: 30s
capture: false
services:
  sut:
    command: [sh, -c, "setsid sleep {a} & setsid sh -c 'exec env -i sleep {b}' & echo up; exec sleep 60"]
    ready: {{log: up}}
agents:
  solo: {{type: pjsua, steps: [{{sleep: {length}}}]}}
"""


def _sleeps(*lengths: str) -> list[str]:
    """Running (not zombie) processes whose command line is `sleep LENGTH`."""
    wanted = {f"sleep\0{n}\0".encode() for n in lengths}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes() in wanted and \
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(entry.name)
        except OSError:
            continue
    return found


@pytest.fixture
def lengths():
    """Two unique sleep lengths; whatever survives a failed test is killed by pid."""
    tag = uuid.uuid4().int % 10**6
    a, b = f"601.{tag:06d}", f"602.{tag:06d}"
    yield a, b
    for pid in _sleeps(a, b):
        os.kill(int(pid), signal.SIGKILL)


def _gone(lengths, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = _sleeps(*lengths)
        if not left:
            return []
        time.sleep(0.05)
    return _sleeps(*lengths)


def _start(tmp_path, lengths, length: str) -> subprocess.Popen:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(a=lengths[0], b=lengths[1], length=length))
    return subprocess.Popen([sys.executable, "-m", "sipscen", "run", path, "--artifacts",
                             tmp_path / "art", "--json", tmp_path / "r.json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)


def _wait_for(proc: subprocess.Popen, needle: str) -> str:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"never printed {needle!r}:\n{''.join(seen)}")


def test_nothing_left_after_a_normal_run(tmp_path, lengths):
    proc = _start(tmp_path, lengths, "300ms")
    out = _wait_for(proc, "agents ready")
    assert len(_sleeps(*lengths)) == 2, out          # both grandchildren were running
    out += proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert _gone(lengths, 1.0) == []


def test_nothing_left_after_sigint(tmp_path, lengths):
    proc = _start(tmp_path, lengths, "20s")
    out = _wait_for(proc, "agents ready")
    assert len(_sleeps(*lengths)) == 2, out
    proc.send_signal(signal.SIGINT)
    out += proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, out
    assert _gone(lengths, 1.0) == []


def test_nothing_left_after_sigkill_the_watchdog_ends_them(tmp_path, lengths):
    proc = _start(tmp_path, lengths, "20s")
    out = _wait_for(proc, "agents ready")
    assert len(_sleeps(*lengths)) == 2, out
    owner = [p for p in Path("/sys/fs/cgroup/pids").glob(f"sipscen-{proc.pid}-*")]
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone(lengths, 5.0) == []
    deadline = time.monotonic() + 10.0     # the watchdog removes them once they are empty
    while any(p.exists() for p in owner) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(not p.exists() for p in owner), owner      # the watchdog removed its cgroups


def test_without_cgroups_the_mark_still_finds_a_setsid_grandchild(tmp_path, lengths,
                                                                   sipscen, monkeypatch):
    """A machine where no cgroup can be made (here: none offered): the environment
    mark finds the setsid grandchild when its service stops. (One that also
    scrubbed its environment is reparented to sipscen, the subreaper, and killed
    when sipscen exits: the subprocess tests above show the end result.)"""
    from sipscen.core import cgroups

    monkeypatch.setattr(cgroups, "ROOTS", ())
    monkeypatch.setattr(cgroups, "_folder", None)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(a=lengths[0], b=lengths[1], length="300ms"))
    code, out, err = sipscen("run", path, "--artifacts", tmp_path / "art", "-q")
    assert code == 0, out + err
    left = _gone(lengths[:1], 1.0)
    assert left == [], left
    # the scrubbed one is now a child of this process (the subreaper), not of init
    (scrubbed,) = _sleeps(lengths[1])
    assert int(Path(f"/proc/{scrubbed}/stat").read_text().rsplit(")", 1)[1].split()[1]) == \
        os.getpid()
