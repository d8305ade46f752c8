"""The whole engine with real PJSUA2 workers and real tcpdump on the loopback:
verdicts from agents and from the wire, and teardown after every outcome."""
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from sipscen.core import process
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario import load_scenario

from .conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

DEMO = ROOT / "examples" / "demo.yaml"


def test_demo_passes_and_reports_codec_srtp_and_digits(tmp_path, sipscen, no_leftovers):
    report = tmp_path / "out.json"
    junit = tmp_path / "out.xml"
    code, out, err = sipscen("run", DEMO, "--json", report, "--junit", junit,
                              "--artifacts", tmp_path / "art", "-q")
    assert code == 0, out + err
    doc = json.loads(report.read_text())
    assert doc["summary"]["passed"] == 1
    scenario = doc["scenarios"][0]
    assert scenario["status"] == "passed"
    text = json.dumps(scenario)
    assert "PCMA" in text and "AES_256_CM_HMAC_SHA1_80" in text
    wire_digits = "".join(d["digit"] for d in scenario["wire"]["dtmf"])
    assert wire_digits == "1234#"
    bob_digits = "".join(d["digit"] for d in scenario["agents"]["bob"]["dtmf_received"])
    assert bob_digits == "1234#"
    pcap = scenario["artifacts"]["pcap"]
    assert os.path.getsize(pcap) > 1000
    assert ET.parse(junit).getroot().find(".//failure") is None


def test_wrong_expected_digits_fail_with_expected_and_actual(tmp_path, sipscen, write_scenario,
                                                             no_leftovers):
    path = write_scenario(DEMO.read_text().replace(
        'dtmf: {from: alice, to: bob, digits: "1234#"', 'dtmf: {from: alice, to: bob, digits: "1235#"'))
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code, out, err = sipscen("run", path, "--json", report, "--junit", junit,
                              "--artifacts", tmp_path / "art", "-q")
    assert code == 1
    assert "1235#" in out and "1234#" in out
    failed = [c for c in json.loads(report.read_text())["scenarios"][0]["checks"]
              if c["status"] == "failed"]
    assert {(c["expected"], c["actual"]) for c in failed} == {("1235#", "1234#")}
    assert len(failed) == 2          # at bob and on the wire
    failure = ET.parse(junit).getroot().find(".//failure")
    assert failure is not None and "1235#" in ET.tostring(failure, encoding="unicode")


@pytest.mark.parametrize("mutation, message", [
    (("codecs: [PCMA]", "codec: [PCMA]"), "unknown key 'codec'"),
    (("timeout: 30s", "timeout: [30]"), "timeout"),
    (("call: {to: bob}", "call: {to: bobb}"), "unknown agent 'bobb'"),
])
def test_invalid_scenarios_exit_2_with_file_line_col(tmp_path, sipscen, write_scenario,
                                                      mutation, message):
    path = write_scenario(DEMO.read_text().replace(*mutation, 1))
    for command in ("run", "validate"):
        code, out, err = sipscen(command, path, *(["--artifacts", tmp_path] if command == "run" else []))
        assert code == 2, (command, out, err)
        both = out + err
        assert f"{path}:" in both and message in both
        assert "Traceback" not in both


def test_scenario_timeout_fails_and_stops_everything(tmp_path, write_scenario, no_leftovers):
    path = write_scenario("""
name: too-slow
timeout: 1s
agents:
  bob: {type: pjsua, steps: [{wait: {event: dtmf, digits: "9", timeout: 20s}}]}
  alice: {type: pjsua, steps: [{call: {to: bob}}, {sleep: 20s}]}
""")
    started = time.monotonic()
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=tmp_path))
    assert result.status == "failed"
    assert "timeout of 1s" in result.error
    assert result.location == f"{path}:2:1"      # the scenario's timeout (name: line)
    assert time.monotonic() - started < 15
    assert not process.live_processes()


def test_crashed_agent_is_an_error_and_the_rest_is_stopped(tmp_path, write_scenario,
                                                           no_leftovers):
    path = write_scenario("""
name: bob-crashes
timeout: 20s
agents:
  bob: {type: pjsua, steps: [{wait: {event: disconnected, timeout: 15s}}]}
  alice:
    type: pjsua
    steps: [{call: {to: bob}}, {wait: {event: answered}}, {signal: up}, {sleep: 15s}]
""")

    def kill_bob(event):
        if event.kind == "signal" and event.agent == "alice":
            for proc in process.live_processes():
                if proc.name == "bob-pjsua":
                    os.kill(proc.pid, signal.SIGKILL)

    result = run_scenario(load_scenario(path),
                          RunOptions(artifacts_root=tmp_path, listeners=[kill_bob]))
    assert result.status == "error"
    assert "bob" in result.error
    assert not process.live_processes()


def test_sigint_stops_every_process_and_exits_130(tmp_path, write_scenario, no_leftovers):
    path = write_scenario("""
name: long-call
timeout: 60s
agents:
  bob: {type: pjsua, steps: [{wait: {event: disconnected, timeout: 50s}}]}
  alice: {type: pjsua, steps: [{call: {to: bob}}, {wait: {event: answered}}, {sleep: 50s}]}
""")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipscen", "run", str(path), "--artifacts", str(tmp_path / "art"),
         "--json", str(tmp_path / "r.json")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "CONFIRMED" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["scenarios"][0]["status"] == "error"
