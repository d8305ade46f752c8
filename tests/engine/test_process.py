"""The process supervisor: groups, stop escalation, registry, missing tools."""
import os
import signal
import sys

import pytest

from sipscen.core import process
from sipscen.core.errors import InfrastructureError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive for our purposes
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_stop_kills_the_whole_group_including_grandchildren(tmp_path):
    # The child starts a grandchild and ignores SIGTERM: only SIGKILL of the group stops both.
    code = ("import os, signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import signal,time; "
            "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)\n")
    proc = process.start("stubborn", [sys.executable, "-c", code], log_dir=tmp_path)
    assert process.wait_until(lambda: proc.stdout_path.read_text().strip(), 5)
    grandchild = int(proc.stdout_path.read_text().split()[0])
    assert _alive(grandchild)
    proc.stop(grace=0.3)
    assert not proc.running
    assert process.wait_until(lambda: not _alive(grandchild), 5)
    assert proc not in process.live_processes()


def test_polite_signal_first(tmp_path):
    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n")
    proc = process.start("polite", [sys.executable, "-c", code], log_dir=tmp_path,
                         stop_signal=signal.SIGINT)
    assert process.wait_until(lambda: "ready" in proc.stdout_tail(), 5)
    assert proc.stop(grace=5) == 7      # exited by its own handler, not killed


def test_stop_is_idempotent_and_logs_are_kept(tmp_path):
    proc = process.start("echo", [sys.executable, "-c", "import sys; sys.stderr.write('oops\\n')"],
                         log_dir=tmp_path)
    proc.wait(5)
    assert proc.stop() == 0
    assert proc.stop() == 0
    assert "oops" in proc.stderr_tail()


def test_stop_all_stops_every_registered_process(tmp_path):
    procs = [process.start(f"sleeper{i}", ["sleep", "30"], log_dir=tmp_path) for i in range(3)]
    assert all(p.running for p in procs)
    process.stop_all(grace=1)
    assert not any(p.running for p in procs)
    assert not process.live_processes()


def test_missing_tool_is_an_infrastructure_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InfrastructureError, match="'sipp' not found"):
        process.find_tool("sipp")
    with pytest.raises(InfrastructureError, match="not found"):
        process.start("ghost", [str(tmp_path / "no-such-binary")], log_dir=tmp_path)


def test_pipes_talk_to_the_child(tmp_path):
    proc = process.start("cat", ["cat"], log_dir=tmp_path, pipes=True)
    proc.popen.stdin.write(b"hello\n")
    proc.popen.stdin.flush()
    assert proc.popen.stdout.readline() == b"hello\n"
    proc.stop()
    assert not proc.running


def test_children_die_with_a_killed_sipscen(tmp_path):
    """SIGKILL leaves no chance to clean up (a CI job killed hard): the
    parent-death signal still takes the children down."""
    import subprocess
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from sipscen.core import process\n"
            f"p = process.start('sleeper', ['sleep', '60'], log_dir=Path({str(tmp_path)!r}))\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.kill()
    parent.wait(5)
    assert process.wait_until(lambda: not _alive(child), 5), "the child outlived a killed parent"


def test_a_file_that_is_not_a_program_is_an_infrastructure_error(tmp_path):
    script = tmp_path / "not-a-program"
    script.write_text("just text\n")
    script.chmod(0o755)
    with pytest.raises(InfrastructureError, match="cannot start thing"):
        process.start("thing", [str(script)], log_dir=tmp_path)
