"""Distributed load: the share each generator takes, the sum the collector judges, and
a rehearsal of a 2-pod load Job (25 calls/s each) through the example Kamailio,
found through the stand-in API server, judged as one 50 calls/s load."""
import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from sipscen.engine.generators import share_of_calls, split_agent
from sipscen.core.results import ScenarioResult
from sipscen.report.aggregate import aggregate_generators, sum_stats
from sipscen.core.model import AgentSpec

from .conftest import endpoint_slice
from .fakeapi import job_object, pod_object


def test_shares_add_up_to_the_whole():
    assert [share_of_calls(301, k, 4) for k in (1, 2, 3, 4)] == [76, 75, 75, 75]
    spec = AgentSpec("caller", "sipp", {"rate": 50, "calls": 301, "limit": 101,
                                        "scenario": "uac"}, (), None, "agents.caller")
    parts = [split_agent(spec, k, 4).config for k in (1, 2, 3, 4)]
    assert sum(p["calls"] for p in parts) == 301 and {p["rate"] for p in parts} == {12.5}
    assert parts[0]["limit"] == 26 and parts[0]["scenario"] == "uac"
    uas = AgentSpec("uas", "sipp", {"scenario": "uas"}, (), None, "agents.uas")
    assert split_agent(uas, 1, 4) is uas


def test_sum_of_statistics_and_exact_p95_over_all_calls():
    fast = {"available": True, "attempted": 90, "successful": 90, "failed": 0,
            "call_rate": 24.8, "target_rate": 25.0, "elapsed": 3.6,
            "response_time_histogram": {"2": 90}}
    slow = {"available": True, "attempted": 10, "successful": 9, "failed": 1,
            "failed_by_reason": {"MaxUDPRetrans": 1}, "call_rate": 25.1, "target_rate": 25.0,
            "elapsed": 3.7, "response_time_histogram": {"2": 4, "40": 6}}
    total = sum_stats([fast, slow])
    assert (total["attempted"], total["successful"], total["failed"]) == (100, 99, 1)
    assert total["call_rate"] == 49.9 and total["target_rate"] == 50.0
    assert total["failed_by_reason"] == {"MaxUDPRetrans": 1}
    # 94 calls at 2 ms, 6 at 40 ms: p95 over all calls is 40 (each part alone: 2 and 40)
    assert total["response_time_ms"]["p95"] == 40.0 and total["response_time_ms"]["count"] == 100


def _generator(k, n, attempted, status="passed", error=None):
    return ScenarioResult(
        name="load", file="load.yaml", status=status, error=error, order=0,
        agents={"caller": {"type": "sipp", "stats": {
            "available": True, "attempted": attempted, "successful": attempted,
            "call_rate": 25.0, "target_rate": 25.0, "response_time_histogram": {"3": attempted}}}},
        distributed={"generator": [k, n], "load": [{"params": {
            "agent": "caller", "calls_min": 300, "rate_min_ratio": 0.9}, "location": "l:1:1"}]})


def test_load_thresholds_are_judged_on_the_aggregate_and_a_missing_generator_errors():
    [one] = aggregate_generators([_generator(2, 2, 150), _generator(1, 2, 150)])
    assert one.status == "passed", [c.message for c in one.checks]
    calls = next(c for c in one.checks if "calls made" in c.name)
    assert calls.actual == 300 and "sum of 2 generators" in calls.name
    [short] = aggregate_generators([_generator(1, 2, 150), _generator(2, 2, 100)])
    assert short.status == "failed"                # 250 < calls_min 300
    [lost] = aggregate_generators([_generator(1, 2, 150)])
    assert lost.status == "error" and "no report from generator(s) 2 of 2" in lost.error


LOAD = """\
name: load-distributed
timeout: 40s
capture: false
services:
  sut:
    kube: {{namespace: qa, name: kamailio, port: sip}}
    ready: {{sip_options: true, timeout: 5s}}
agents:
  caller:
    type: sipp
    scenario: uac
    target: sut
    user: "9000"
    rate: {rate}
    calls: {calls}
    limit: 100
    time_limit: 30s
expect:
  - load: {{agent: caller, calls_min: {calls}, success_rate_min: 99, failed_max: 3,
           rate_min_ratio: 0.9, p95_ms_max: 200}}
"""


@pytest.mark.integration
def test_two_generator_pods_are_judged_as_one_50_cps_load(sipscen, api, kamailio_sut,
                                                          tmp_path, monkeypatch):
    kam, _ = kamailio_sut
    api.cluster.slices[("qa", "kamailio")] = [endpoint_slice("kamailio", kam, ["127.0.0.1"])]
    monkeypatch.chdir(tmp_path)
    Path("load.yaml").write_text(LOAD.format(rate=50, calls=300))
    code, out, err = sipscen("kube", "manifests", "load.yaml", "--generators", 2,
                             "--image", "img", "--name", "load", "--namespace", "qa")
    assert code == 0, err
    job = list(yaml.safe_load_all(out))[3]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert "--job-generators" in container["args"]
    argv = [str(Path(sys.executable).with_name("sipscen"))] + container["args"]
    argv[argv.index("--artifacts") + 1] = str(tmp_path / "pod-artifacts")
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(api.config)}
    from sipscen.core import process
    procs = []
    try:
        for index in range(2):
            procs.append(process.start(f"gen-{index}", argv, log_dir=tmp_path / f"gen-{index}",
                                       env={**env, "JOB_COMPLETION_INDEX": str(index)},
                                       cwd=tmp_path))
        codes = [p.wait(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.stop()
    assert codes == [0, 0], [p.stdout_tail() for p in procs]
    commands = sorted((tmp_path / "pod-artifacts").rglob("caller/command.txt"))
    assert len(commands) == 2 and all(" -r 25 " in c.read_text() and " -m 150 " in c.read_text()
                                      for c in commands)

    api.cluster.reset()
    pods = [pod_object("load", "qa", i, "Succeeded", 0) for i in range(2)]
    api.cluster.jobs[("qa", "load")] = [job_object("load", "qa", 2, "Complete")]
    api.cluster.pod_lists = [pods]
    api.cluster.logs = {pod["metadata"]["name"]: procs[i].stdout_path.read_text()
                        for i, pod in enumerate(pods)}
    code, _, err = sipscen("kube", "collect", "load", "--namespace", "qa", "-q",
                           "--json", tmp_path / "load.json")
    assert code == 0, err
    [scenario] = json.loads((tmp_path / "load.json").read_text())["scenarios"]
    stats = scenario["agents"]["caller"]["stats"]
    assert stats["attempted"] == 300 and stats["target_rate"] == 50.0
    assert stats["generators"] == 2 and stats["response_time_ms"]["count"] >= 297
    load_checks = {c["name"].split(": ")[1].split(" (")[0]: c for c in scenario["checks"]
                   if "sum of 2 generators" in c["name"]}
    assert set(load_checks) == {"calls made", "success rate", "failed calls",
                                "p95 response time", "achieved call rate"}
    assert all(c["status"] == "passed" for c in load_checks.values()), load_checks
    print(f"aggregate achieved rate {stats['call_rate']} cps of {stats['target_rate']} target")


def test_report_merge_joins_generator_reports_like_collect(sipscen, tmp_path):
    from sipscen.report.json_report import write_json
    write_json([_generator(1, 2, 150)], tmp_path / "g1.json")
    write_json([_generator(2, 2, 150)], tmp_path / "g2.json")
    code, out, err = sipscen("report", "merge", tmp_path / "g1.json", tmp_path / "g2.json",
                             "--json", tmp_path / "all.json")
    assert code == 0, err
    [scenario] = json.loads((tmp_path / "all.json").read_text())["scenarios"]
    assert scenario["agents"]["caller"]["stats"]["attempted"] == 300
    assert scenario["distributed"]["generators"] == 2
