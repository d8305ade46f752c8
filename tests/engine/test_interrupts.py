"""Issue 12: an interrupt never drops a scenario from the reports, and never-started
scenarios are listed as not run. Real signals, real PJSUA2 and tcpdump."""
import json
import os
import signal
import time
import xml.etree.ElementTree as ET

import pytest

import sipscen.analysis as analysis_package

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

SHORT = """
name: short-{i}
timeout: 20s
agents:
  solo{i}: {{type: pjsua, steps: [{{sleep: 100ms}}]}}
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_capture_analysis_keeps_the_scenario_in_every_report(
        tmp_path, sipscen, monkeypatch, no_leftovers, signum):
    path = tmp_path / "short.yaml"
    path.write_text(SHORT.format(i=0))
    real = analysis_package.analyze_capture
    reached = []

    def analysis_that_gets_a_signal(*args, **kwargs):
        reached.append(args[0])
        os.kill(os.getpid(), signum)        # a real signal, landing while analysing
        time.sleep(2)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis_package, "analyze_capture", analysis_that_gets_a_signal)
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code, out, err = sipscen("run", path, "--json", report, "--junit", junit,
                              "--artifacts", tmp_path / "art", "-q")
    assert reached, "the capture was never analysed"
    assert code == 130, out + err
    doc = json.loads(report.read_text())
    assert doc["summary"]["total"] == 1 and doc["summary"]["status"] == "error"
    (scenario,) = doc["scenarios"]
    assert scenario["status"] == "error" and scenario["exit_status"] == 130
    assert scenario["error"].startswith("interrupted while analysing the capture")
    assert os.path.exists(scenario["artifacts"]["pcap"])     # the evidence is kept
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
    assert "PASS 0 scenarios" not in out and "1 error" in out


def test_an_interrupted_suite_lists_the_scenarios_that_never_started(
        tmp_path, sipscen, monkeypatch, no_leftovers):
    folder = tmp_path / "suite"
    folder.mkdir()
    for i in range(3):
        (folder / f"s{i}.yaml").write_text(SHORT.format(i=i))
    from sipscen.engine import run as run_module
    real_run_agents = run_module._Run.run_agents

    def run_agents_then_interrupt(self):
        real_run_agents(self)
        os.kill(os.getpid(), signal.SIGINT)       # Ctrl-C during the first scenario
        time.sleep(2)

    monkeypatch.setattr(run_module._Run, "run_agents", run_agents_then_interrupt)
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code, out, err = sipscen("run", folder, "--json", report, "--junit", junit,
                              "--artifacts", tmp_path / "art", "-q")
    assert code == 130, out + err
    doc = json.loads(report.read_text())
    assert [(s["name"], s["status"]) for s in doc["scenarios"]] == [
        ("short-0", "error"), ("short-1", "not_run"), ("short-2", "not_run")]
    assert doc["summary"]["not_run"] == 2 and doc["summary"]["status"] == "error"
    assert all(s["error"] == "not run: the run was interrupted before it started"
               for s in doc["scenarios"][1:])
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("errors"), suite.get("skipped")) == ("3", "1", "2")
    assert "NOT RUN short-1" in out and "2 not run" in out


def test_an_invalid_file_in_a_folder_does_not_stop_the_valid_ones(tmp_path, sipscen,
                                                                   no_leftovers):
    folder = tmp_path / "nightly"
    folder.mkdir()
    (folder / "a-valid.yaml").write_text(SHORT.format(i=0))
    (folder / "b-tag.yaml").write_text("name: t\ntimeout: !!bool maybe\nagents: {a: {type: pjsua}}\n")
    (folder / "c-valid.yaml").write_text(SHORT.format(i=1))
    report = tmp_path / "r.json"
    code, out, err = sipscen("run", folder, "--json", report, "--artifacts", tmp_path / "art",
                              "-q")
    assert code == 2, out + err
    doc = json.loads(report.read_text())
    assert [(s["name"], s["status"]) for s in doc["scenarios"]] == [
        ("short-0", "passed"), ("b-tag", "error"), ("short-1", "passed")]
    assert doc["scenarios"][1]["error"] == (f"{folder / 'b-tag.yaml'}:2:10: 'maybe' is not a "
                                            "valid !!bool value")
