"""Suites: parallel runs never see each other's packets; shards merge back into
what a single run reports; the CLI's list and selection options."""
import json
import os

import pytest

from sipscen.analysis import analyze_capture
from sipscen.engine.run import RunOptions
from sipscen.engine.suite import SuiteOptions, run_suite

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

CALL = """
name: call-{i}
tags: [{tag}]
timeout: 20s
agents:
  callee{i}:
    type: pjsua
    codecs: [PCMU]
    steps: [{{wait: {{event: dtmf, digits: "{digits}", timeout: 10s}}}}, {{wait: {{event: disconnected}}}}]
  caller{i}:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {{to: callee{i}}}
      - wait: {{event: media_active}}
      - dtmf: {{digits: "{digits}", method: rfc4733, duration: 60ms, gap: 40ms}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - dtmf: {{from: caller{i}, to: callee{i}, digits: "{digits}"}}
"""


@pytest.fixture
def suite(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    for i, digits in enumerate(["11", "22", "33", "44"]):
        (folder / f"call{i}.yaml").write_text(
            CALL.format(i=i, digits=digits, tag="odd" if i % 2 else "even"))
    return folder


def _text(result):
    code, out, err = result
    return code, out + err


def test_parallel_captures_hold_only_their_own_calls(suite, tmp_path, no_leftovers):
    files = sorted(suite.glob("*.yaml"))
    results = run_suite(files, SuiteOptions(run=RunOptions(artifacts_root=tmp_path / "art"),
                                            jobs=4))
    assert [r.status for r in results] == ["passed"] * 4, [r.error for r in results]
    all_call_ids = set()
    for r in results:
        own = {c["call_id"] for facts in r.agents.values() for c in facts["calls"]}
        assert len(own) == 1
        on_wire = {c["call_id"] for c in analyze_capture(r.artifacts["pcap"]).to_dict()["calls"]}
        assert on_wire == own, f"{r.name}: capture holds {on_wire}, its own call is {own}"
        all_call_ids |= own
        index = int(r.name.split("-")[1])
        assert "".join(d["digit"] for d in r.wire["dtmf"]) == str(index + 1) * 2
    assert len(all_call_ids) == 4


def test_shards_together_equal_a_single_run(suite, tmp_path, no_leftovers, sipscen):
    shard_reports = []
    for k in (1, 2, 3):
        report = tmp_path / f"shard{k}.json"
        code, text = _text(sipscen("run", suite, "--shard", f"{k}/3", "--json", report, "-q",
                                   "--artifacts", tmp_path / "art"))
        assert code == 0, text
        shard_reports.append(report)
    single = tmp_path / "single.json"
    assert sipscen("run", suite, "--json", single, "-q", "--artifacts", tmp_path / "art")[0] == 0
    merged = tmp_path / "merged.json"
    junit = tmp_path / "merged.xml"
    code, text = _text(sipscen("report", "merge", *shard_reports, "--json", merged,
                               "--junit", junit))
    assert code == 0, text

    def shape(path):
        doc = json.loads(path.read_text())
        return ([(s["name"], s["status"], [(c["name"], c["status"], c["expected"], c["actual"])
                                           for c in s["checks"]]) for s in doc["scenarios"]],
                {k: v for k, v in doc["summary"].items() if k not in ("duration", "wall_time")})

    assert shape(merged) == shape(single)
    assert junit.read_text().count("<testcase") == 4


def test_list_and_selection(suite, sipscen):
    code, text = _text(sipscen("list", suite, "--tag", "odd"))
    assert code == 0
    assert "call-1" in text and "call-3" in text and "call-0" not in text
    code, text = _text(sipscen("list", suite, "-k", "call-2"))
    assert "call-2" in text and "call-1" not in text
    code, text = _text(sipscen("list", suite, "--exclude-tag", "odd", "--shard", "2/2"))
    assert "call-2" in text and "call-0" not in text


LONG = """
name: long-{i}
timeout: 60s
agents:
  b{i}: {{type: pjsua, steps: [{{wait: {{event: disconnected, timeout: 50s}}}}]}}
  a{i}: {{type: pjsua, steps: [{{call: {{to: b{i}}}}}, {{wait: {{event: answered}}}}, {{sleep: 50s}}]}}
"""


def test_sigint_with_jobs_stops_running_and_queued_scenarios(tmp_path, no_leftovers):
    import signal
    import subprocess
    import sys
    import time

    from .conftest import ROOT

    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(4):
        (folder / f"long{i}.yaml").write_text(LONG.format(i=i))
    report = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipscen", "run", str(folder), "-j", "2", "--json", str(report),
         "--artifacts", str(tmp_path / "art")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    confirmed = 0
    try:
        for line in proc.stdout:
            confirmed += "CONFIRMED" in line
            if confirmed >= 4:          # both running scenarios have their calls up
                break
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest
    assert took < 20, f"stopping took {took:.1f}s: queued scenarios were run"
    scenarios = json.loads(report.read_text())["scenarios"]
    running = [s for s in scenarios if s["status"] != "not_run"]
    assert len(running) == 2                        # the two that were running
    assert {s["status"] for s in running} == {"error"}
    assert all(s["error"] == "interrupted" for s in running)
    never = [s for s in scenarios if s["status"] == "not_run"]   # queued: listed, not dropped
    assert len(never) == 2 and len(scenarios) == 4
