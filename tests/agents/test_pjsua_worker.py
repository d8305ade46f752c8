"""The pjsua worker process on its own: the line protocol and how it ends."""
from __future__ import annotations

import signal
import sys

import pytest

from sipscen.agents.pjsua import protocol as P
from sipscen.core import process
from sipscen.core.ports import PortAllocator


@pytest.fixture
def worker(tmp_path):
    proc = process.start("worker", [sys.executable, "-m", "sipscen.agents.pjsua.worker"],
                         log_dir=tmp_path, pipes=True)
    try:
        yield proc
    finally:
        proc.stop(grace=2)
        assert not proc.running


def send(proc, message: dict) -> None:
    proc.popen.stdin.write(P.encode(message))
    proc.popen.stdin.flush()


def read(proc) -> dict:
    line = proc.popen.stdout.readline()
    assert line, f"worker closed stdout; stderr:\n{proc.stderr_tail()}"
    return P.decode(line)


def configure(proc, tmp_path) -> None:
    ports = PortAllocator("127.0.0.1")
    lo, hi = ports.range(4)
    send(proc, P.command(P.CONFIGURE, 1, address="127.0.0.1", port=ports.port(),
                         media={"port": lo, "count": hi - lo + 1},
                         log_file=str(tmp_path / "pjsua.log")))
    reply = read(proc)
    assert (reply["event"], reply["id"], reply["ok"]) == (P.RESULT, 1, True), reply


def test_protocol_errors_are_answered_not_fatal(worker, tmp_path):
    send(worker, P.command(P.HANGUP, 7))
    reply = read(worker)
    assert (reply["event"], reply["id"], reply["ok"]) == (P.RESULT, 7, False)
    assert "not configured" in reply["message"]

    worker.popen.stdin.write(b"this is not json\n")
    worker.popen.stdin.flush()
    reply = read(worker)
    assert reply["event"] == P.ERROR and "not JSON" in reply["message"]

    send(worker, {"cmd": "dance", "id": 8})
    reply = read(worker)
    assert (reply["id"], reply["ok"]) == (8, False) and "unknown command" in reply["message"]


def test_configure_ready_then_shutdown_exits_zero(worker, tmp_path):
    configure(worker, tmp_path)
    ready = read(worker)
    assert ready["event"] == P.READY and ready["contact"].startswith("sip:agent@127.0.0.1:")
    assert isinstance(ready["t"], float)
    send(worker, P.command(P.DTMF, 2, digits="1"))
    reply = read(worker)
    assert (reply["id"], reply["ok"]) == (2, False) and "no active call" in reply["message"]
    send(worker, P.command(P.SHUTDOWN, 3))
    assert read(worker)["id"] == 3
    assert worker.wait(5) == 0
    assert (tmp_path / "pjsua.log").stat().st_size > 0     # PJSIP logged to its file


def test_sigterm_shuts_down_cleanly(worker, tmp_path):
    configure(worker, tmp_path)
    assert read(worker)["event"] == P.READY
    worker.popen.send_signal(signal.SIGTERM)
    assert worker.wait(5) == 0


def test_closed_stdin_ends_the_worker(worker, tmp_path):
    configure(worker, tmp_path)
    assert read(worker)["event"] == P.READY
    worker.popen.stdin.close()
    assert worker.wait(5) == 0
