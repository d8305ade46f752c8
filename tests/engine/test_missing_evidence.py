"""Issue 12: sipscen's own missing evidence is never blamed on the SUT. A capture
that tcpdump could not finish (killed, a full disk) gives no wire verdict as if it
were whole; a service that died is said so. Real tcpdump, real tmpfs, real kills."""
import os
import signal

import pytest

from sipscen.core import process
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.core.errors import ExitStatus, overall_status
from sipscen.scenario import load_scenario

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

CALL = """
name: call-with-digits
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    steps: [{{wait: {{event: dtmf, digits: "12", timeout: 20s}}}}, {{wait: {{event: disconnected, timeout: 20s}}}}]
  alice:
    type: pjsua
    codecs: [PCMA]
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - signal: up
      - sleep: {sleep}
      - dtmf: {{digits: "12", method: rfc4733, duration: 80ms, gap: 60ms}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - dtmf: {{from: alice, to: bob, digits: "12", where: wire}}
  - codec: {{between: [alice, bob], codec: PCMA}}
"""


def _kill(name: str) -> None:
    for proc in process.live_processes():
        if proc.name == name:
            os.kill(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("moment", ["mid-call", "before-any-packet"])
def test_tcpdump_killed_mid_run_makes_wire_checks_inconclusive(tmp_path, write_scenario,
                                                               no_leftovers, moment):
    path = write_scenario(CALL.format(sleep="300ms"))

    def kill_tcpdump(event):
        if moment == "mid-call" and event.kind == "signal" and event.agent == "alice":
            _kill("tcpdump")
        if moment == "before-any-packet" and event.kind == "capture_started":
            _kill("tcpdump")        # the file may hold no packet at all: analysis fails too

    result = run_scenario(load_scenario(path),
                          RunOptions(artifacts_root=tmp_path, listeners=[kill_tcpdump]))
    assert result.status == "error", result.checks
    assert overall_status([result]) == ExitStatus.INFRASTRUCTURE
    assert "tcpdump ended during the run (killed by SIGKILL): the capture stops there" in \
        result.error
    assert any("capture incomplete: tcpdump ended" in w for w in result.warnings)
    wire = [c for c in result.checks if c.name.endswith("(wire)")]
    assert wire and all(c.status == "error" for c in wire)
    assert all(c.message.startswith("inconclusive, the capture is incomplete") for c in wire)
    agent_side = [c for c in result.checks if not c.name.endswith("(wire)")]
    assert agent_side and all(c.status == "passed" for c in agent_side)   # those stay verdicts


def test_a_capture_cut_short_by_a_full_disk_is_not_a_sut_failure(tmp_path, write_scenario,
                                                                 tmpfs, no_leftovers):
    # 5 s of PCMA both ways is ~115 KB of frames, the agents log ~50 KB: the 128 KiB disk
    # fills before the digits are sent
    small_disk = tmpfs("128k")
    path = write_scenario(CALL.format(sleep="5s"))
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=small_disk))
    assert result.status == "error", [(c.name, c.status, c.message) for c in result.checks]
    assert overall_status([result]) == ExitStatus.INFRASTRUCTURE
    assert "the disk is full" in result.error, result.error
    wire = [c for c in result.checks if c.name.endswith("(wire)")]
    assert wire and all(c.status == "error" and "inconclusive" in c.message for c in wire)
    assert os.path.getsize(result.artifacts["pcap"]) > 0        # what could be kept is kept


def test_a_service_that_dies_is_reported_as_such(tmp_path, write_scenario, no_leftovers):
    """A dead SUT is an error that names it, how it ended and its log (main's
    ServiceExited: exit 1, a finding about the SUT), never a silent check failure."""
    path = write_scenario("""
name: dead-sut
timeout: 20s
services:
  sut:
    command: [python3, -c, "import time; print('up', flush=True); time.sleep(60)"]
    ready: {log: up, timeout: 5s}
agents:
  alice: {type: pjsua, steps: [{signal: go}, {sleep: 1s}, {call: {to: sut}}, {wait: {event: answered, timeout: 2s}}]}
expect:
  - call: {from: alice, answered: true}
""")

    def kill_sut(event):
        if event.kind == "signal" and event.agent == "alice":
            _kill("sut")

    result = run_scenario(load_scenario(path),
                          RunOptions(artifacts_root=tmp_path, listeners=[kill_sut]))
    assert result.status == "error"
    assert result.error.startswith("service 'sut' was killed by signal 9 during the run; "
                                   "last log lines:\nup"), result.error
