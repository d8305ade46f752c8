"""Issue 20: a signal that lands after a scenario's verdict (while the reports are
written, between parametrized sets, after "scenario X passed") keeps every
verdict reached and the reports are always written. Real signals (os.kill of
our own process, or of a sipscen subprocess), real PJSUA2 and tcpdump."""
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

ROOT = Path(__file__).resolve().parents[2]
SHORT = """
name: short-{i}
timeout: 20s
agents:
  solo{i}: {{type: pjsua, steps: [{{sleep: 100ms}}]}}
"""
PARAMETRIZED = """
name: sets
timeout: 20s
parametrize:
  n: [a, b, c, d]
agents:
  solo: {type: pjsua, steps: [{sleep: 50ms}]}
"""


def _reports(tmp_path):
    return tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"


def _run(sipscen, path, tmp_path, *extra):
    report, junit, html = _reports(tmp_path)
    return sipscen("run", path, "--json", report, "--junit", junit, "--html", html,
                   "--artifacts", tmp_path / "art", "-q", *extra)


def _verdicts(tmp_path):
    """(name, status) of every scenario in the JSON report; the JUnit and HTML
    reports exist and list the same number of scenarios."""
    report, junit, html = _reports(tmp_path)
    doc = json.loads(report.read_text())
    suite = ET.parse(junit).getroot()
    assert int(suite.get("tests")) == len(doc["scenarios"])
    page = html.read_text()
    for s in doc["scenarios"]:
        assert s["name"] in page
    return [(s["name"], s["status"]) for s in doc["scenarios"]]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_right_after_the_verdict_keeps_it_and_writes_every_report(
        tmp_path, sipscen, monkeypatch, no_leftovers, signum):
    path = tmp_path / "s.yaml"
    path.write_text(SHORT.format(i=0))
    from sipscen.engine import run as run_module
    real = run_module._verdict

    def judge_then_signal(run, step_failure):
        real(run, step_failure)
        assert run.result.status == "passed"
        os.kill(os.getpid(), signum)          # lands right after the verdict
        time.sleep(0.5)

    monkeypatch.setattr(run_module, "_verdict", judge_then_signal)
    code, out, err = _run(sipscen, path, tmp_path)
    assert code == 130, out + err
    assert _verdicts(tmp_path) == [("short-0", "passed")]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_reports_are_written_does_not_cut_them(
        tmp_path, sipscen, monkeypatch, no_leftovers, signum):
    path = tmp_path / "s.yaml"
    path.write_text(SHORT.format(i=0))
    from sipscen.core import atomic
    real = atomic.write_atomically
    sent = []

    def write_with_a_signal(target, what, write):
        if not sent and what != "evidence":   # the first report being written (the run's
            # evidence.json is saved before the verdict, in the run)
            sent.append(what)
            os.kill(os.getpid(), signum)
            time.sleep(0.3)
        return real(target, what, write)

    monkeypatch.setattr(atomic, "write_atomically", write_with_a_signal)
    code, out, err = _run(sipscen, path, tmp_path)
    assert sent == ["JSON"]
    assert code == 130, out + err
    assert _verdicts(tmp_path) == [("short-0", "passed")]
    assert "PASS (no checks) short-0" in out


def test_signals_between_and_after_parametrized_sets(tmp_path, sipscen, monkeypatch,
                                                     no_leftovers):
    """A signal after set 2 of 4: sets 1-2 keep their verdicts, 3-4 are not run. A
    second signal while tearing down is only held."""
    path = tmp_path / "sets.yaml"
    path.write_text(PARAMETRIZED)
    from sipscen.engine import suite as suite_module
    real = suite_module.run_scenario
    calls = []

    def run_then_signal(scenario, options):
        result = real(scenario, options)
        calls.append(result.status)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)    # between set 2 and set 3
            os.kill(os.getpid(), signal.SIGTERM)   # and a second one: held
            time.sleep(0.3)
        return result

    monkeypatch.setattr(suite_module, "run_scenario", run_then_signal)
    code, out, err = _run(sipscen, path, tmp_path)
    assert code == 130, out + err
    assert _verdicts(tmp_path) == [("sets[n=a]", "passed"), ("sets[n=b]", "passed"),
                                   ("sets[n=c]", "not_run"), ("sets[n=d]", "not_run")]


def test_a_signal_after_the_last_of_four_sets_keeps_all_four_verdicts(
        tmp_path, sipscen, monkeypatch, no_leftovers):
    path = tmp_path / "sets.yaml"
    path.write_text(PARAMETRIZED)
    from sipscen.engine import suite as suite_module
    real = suite_module.run_scenario
    calls = []

    def run_then_signal(scenario, options):
        result = real(scenario, options)
        calls.append(result.status)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.3)
        return result

    monkeypatch.setattr(suite_module, "run_scenario", run_then_signal)
    code, out, err = _run(sipscen, path, tmp_path)
    assert code == 130, out + err
    assert _verdicts(tmp_path) == [(f"sets[n={n}]", "passed") for n in "abcd"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_real_sipscen_signalled_when_it_prints_the_verdict(tmp_path, signum, no_leftovers):
    """The survey's repro: a sipscen process gets the signal as soon as it prints
    "scenario X passed" (the report writing follows). Whichever moment the signal
    hits, the reports exist and list the verdict."""
    (tmp_path / "s.yaml").write_text(SHORT.format(i=0))
    for attempt in range(3):
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        report, junit, html = _reports(folder)
        proc = subprocess.Popen(
            [sys.executable, "-m", "sipscen", "run", tmp_path / "s.yaml", "--json", report,
             "--junit", junit, "--html", html, "--artifacts", folder / "art"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, text=True)
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "scenario short-0 passed" in line:
                proc.send_signal(signum)
                break
        rest = proc.communicate(timeout=60)[0]
        assert proc.returncode in (0, 130), "".join(lines) + rest
        assert _verdicts(folder) == [("short-0", "passed")], "".join(lines) + rest
        assert not list(folder.glob("*.tmp"))
