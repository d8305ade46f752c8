"""SUT health (issue 10): services watched all run long, their whole process
groups stopped even when sipscen is SIGKILLed, start order, steps that act on a
service, log expectations. Real Kamailio, real processes."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from sipscen.core import process
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.core.errors import ExitStatus
from sipscen.scenario.build import load_scenario

from .conftest import ROOT, TOKEN_VAR, processes_with_token

pytestmark = pytest.mark.integration
needs_kamailio = pytest.mark.skipif(shutil.which("kamailio") is None,
                                    reason="kamailio not installed")
KAMAILIO_CFG = ROOT / "examples" / "sut" / "kamailio.cfg"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_kamailio
def test_kamailio_killed_mid_run_ends_the_scenario_as_an_error_naming_its_exit(
        tmp_path, write_scenario, no_leftovers):
    path = write_scenario(f"""
name: sut-dies
timeout: 40s
services:
  sut:
    command: [kamailio, -DD, -E, -f, "{KAMAILIO_CFG}", -l, "udp:127.0.0.1:${{sut.port}}"]
    ready: {{sip_options: true, timeout: 10s}}
agents:
  alice:
    type: pjsua
    steps:
      - signal: up
      - sleep: 30s
""")
    scenario = load_scenario(path)
    killed = []

    def kill_sut(event) -> None:
        if event.kind == "signal" and event.agent == "alice" and not killed:
            sut = [p for p in process.live_processes() if p.name == "sut"]
            killed.append(sut[0].pid)
            os.kill(sut[0].pid, signal.SIGKILL)

    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art",
                                               listeners=[kill_sut]))
    assert killed
    assert result.status == "error"
    assert result.exit_status == int(ExitStatus.CHECK_FAILED)
    assert "service 'sut' was killed by signal 9 during the run" in result.error
    assert "Listening on" in result.error or "INFO" in result.error    # its last log lines
    assert result.services["sut"]["exited_during_run"] == -9
    assert "timeout" not in result.error
    assert not process.live_processes()


def test_sigkill_of_sipscen_leaves_no_process_of_a_service_group(tmp_path, write_scenario,
                                                                no_leftovers):
    grandchild_file = tmp_path / "grandchild.pid"
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"open({str(grandchild_file)!r}, 'w').write(str(child.pid))\n"
        "print('wrapper started', flush=True)\n"
        "time.sleep(300)\n")
    path = write_scenario(f"""
name: killed-hard
timeout: 60s
services:
  wrap:
    command: ["{sys.executable}", "{wrapper}"]
    ready: {{log: "wrapper started", timeout: 10s}}
agents:
  alice: {{type: pjsua, steps: [{{signal: up}}, {{sleep: 50s}}]}}
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipscen", "run", str(path), "--artifacts", str(tmp_path / "art")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "signal" in line and "up" in line:
                break
        assert grandchild_file.exists(), "".join(seen)
        grandchild = int(grandchild_file.read_text())
        assert _alive(grandchild)
        proc.kill()                       # SIGKILL: no atexit, no teardown in sipscen
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert process.wait_until(lambda: not _alive(grandchild), 10, 0.05), \
        f"grandchild {grandchild} of the service survived sipscen's SIGKILL"
    # and everything else sipscen started (tcpdump, the PJSUA worker, the wrapper) goes too
    token = os.environ[TOKEN_VAR]
    assert process.wait_until(lambda: not processes_with_token(token), 10, 0.1), \
        processes_with_token(token)


def test_start_order_stdin_steps_and_log_expectations(tmp_path, write_scenario, sipscen,
                                                     no_leftovers):
    marker = tmp_path / "first.ready"
    first = tmp_path / "first.py"
    first.write_text("import time, pathlib\n"
                     "time.sleep(0.5)\n"
                     f"pathlib.Path({str(marker)!r}).write_text('x')\n"
                     "print('first up', flush=True)\n"
                     "time.sleep(60)\n")
    second = tmp_path / "second.py"
    second.write_text("import pathlib, sys\n"
                      f"print('first was ready' if pathlib.Path({str(marker)!r}).exists() "
                      "else 'first NOT ready', flush=True)\n"
                      "for line in sys.stdin:\n"
                      "    print('got', line.strip(), flush=True)\n")
    text = f"""
name: order-and-stdin
timeout: 30s
services:
  second:
    after: [first]
    command: ["{sys.executable}", "{second}"]
    ready: {{log: "ready", timeout: 10s}}
    steps:
      - stdin: "hello ${{alice.port}}"
      - wait: {{log: "got hello", timeout: 5s}}
      - signal: echoed
  first:
    command: ["{sys.executable}", "{first}"]
    ready: {{log: "first up", timeout: 10s}}
agents:
  alice:
    type: pjsua
    steps:
      - wait: {{signal: echoed, agent: second, timeout: 10s}}
expect:
  - log: {{service: second, matches: ["first was ready", "got hello \\\\d+"], absent: ["Traceback"]}}
  - log: {{service: first, absent: ["first up"]}}
"""
    path = write_scenario(text)
    code, out, err = sipscen("run", path, "--artifacts", tmp_path / "art",
                             "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["scenarios"][0]["services"]["second"]["exited_during_run"] is None
    checks = {c["name"]: c for c in report["scenarios"][0]["checks"]}
    assert checks["log second matches 'first was ready'"]["status"] == "passed", out
    assert checks["log second matches 'got hello \\\\d+'"]["status"] == "passed"
    assert checks["log second has no 'Traceback'"]["status"] == "passed"
    # the deliberately wrong one fails, showing the line it found
    assert checks["log first has no 'first up'"]["status"] == "failed"
    assert checks["log first has no 'first up'"]["actual"] == "first up"
    assert code == 1


def test_service_references_and_order_are_checked_at_load(write_scenario, sipscen):
    path = write_scenario("""
name: bad-services
services:
  a: {command: [x], after: [b]}
  b: {command: [x], after: [a], steps: [{wait: {signal: nope, agent: alice}}]}
agents:
  alice: {type: pjsua}
expect:
  - log: {service: alice, matches: [x]}
  - srtp: {between: [alice, c]}
""")
    code, out, err = sipscen("validate", path)
    assert code == 2
    assert f"{path}:4:21: services.a.after: start order has a cycle through 'a'" in err + out
    assert "services.b.steps[0].wait.signal: agent 'alice' never signals 'nope'" in err + out
    assert "expect[0].log.service: unknown service 'alice'" in err + out
    assert "expect[1].srtp.between[1]: unknown agent or service 'c'" in err + out


@pytest.mark.parametrize("want_exit, status", [(3, "passed"), (0, "failed")])
def test_tcp_and_run_steps_act_on_a_service(want_exit, status, tmp_path, write_scenario,
                                           no_leftovers):
    server = tmp_path / "server.py"
    server.write_text(
        "import socket, sys\n"
        "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(1)\n"
        "print('listening', flush=True)\n"
        "while True:\n"
        "    c, _ = s.accept(); print('got', c.recv(100).decode(), flush=True); c.close()\n")
    path = write_scenario(f"""
name: tcp-and-run
timeout: 30s
services:
  ctl:
    command: ["{sys.executable}", "{server}", "${{ctl.port}}"]
    ready: {{tcp_port: true, timeout: 10s}}
    steps:
      - tcp: {{send: "status ${{alice.port}}"}}
      - wait: {{log: "got status \\\\d+", timeout: 5s}}
      - run: {{command: ["{sys.executable}", -c, "import sys; sys.exit(3)"], expect_exit: {want_exit}}}
agents:
  alice: {{type: pjsua, steps: [{{sleep: 200ms}}]}}
expect:
  - log: {{service: ctl, matches: ["got status \\\\d+"]}}
""")
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=tmp_path / "art"))
    assert result.status == status, result.error
    if status == "failed":
        assert "exited with 3 (expected 0)" in result.error
        assert result.location == f"{path}:11:9"        # the run step's line
    else:
        assert [c.status for c in result.checks] == ["passed"]
