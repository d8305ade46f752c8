"""Timing of calls that were never answered (issue 15): `cancel_time` (INVITE to the
caller's CANCEL: when it gave up) and `final_time` (INVITE to its final response).
Real PJSUA2 calls; each bound has its negative control."""
from __future__ import annotations

from dataclasses import replace

import pytest

from sipscen.core.errors import Location
from sipscen.core.model import Expectation
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT


@pytest.mark.integration
def test_the_caller_gave_up_after_its_timeout(tmp_path, no_leftovers):
    extras = tuple(Expectation("call", {"from": "alice", "to": "bob", **params},
                               Location("extra.yaml", 100 + i, 5), f"extra[{i}]")
                   for i, params in enumerate([
                       {"cancel_time": {"max": "500ms"}},       # it waited 1 s
                       {"final_time": {"min": "5s"}},           # the 487 came at once
                       {"ring_time": {"max": "5s"}},            # never answered
                       {"min_duration": "1s"}]))
    scenario = load_scenario(ROOT / "scenarios" / "callflows" / "ring-timeout.yaml")
    scenario = replace(scenario, expectations=scenario.expectations + extras)
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    checks = {c.name: c for c in own}
    gave_up = checks["call alice->bob: cancel time (INVITE sent to the caller's CANCEL)"]
    assert 0.9 <= gave_up.actual < 3
    final = checks["call alice->bob: final time (INVITE sent to its final response)"]
    assert final.actual >= gave_up.actual
    alice = result.agents["alice"]["calls"][0]
    bob = result.agents["bob"]["calls"][0]
    assert alice["cancelled_at"] is not None and alice["final_at"] >= alice["cancelled_at"]
    assert bob["final_at"] is not None and bob["cancelled_at"] is None     # it sent the 487
    extra = {int(c.location.split(":")[1]) - 100: c for c in result.checks
             if c.location.startswith("extra.yaml")}
    assert extra[0].status == "failed" and extra[0].actual == gave_up.actual
    assert extra[1].status == "failed"
    assert extra[2].status == "failed" and extra[2].actual == "no answer"
    assert extra[3].status == "failed" and extra[3].actual == "never answered"
