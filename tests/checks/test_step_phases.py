"""Phases of `audio`/`rtp` expectations bounded by an agent's steps
(`after: {agent, step}` from when the step finished, `before` until it
started), next to signal-bounded ones. Real PJSUA2 calls and tcpdump."""
from __future__ import annotations

import os

import pytest

SCENARIO = """
name: step-phases
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMU]
    steps:
      - wait: {event: disconnected}
  alice:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {to: bob}                                    # 0
      - wait: {event: media_active}                        # 1
      - play: {tone: {frequencies: [800], duration: 1s}}   # 2
      - sleep: 1s                                          # 3
      - play: {tone: {frequencies: [1200], duration: 1s}}  # 4
      - sleep: 300ms                                       # 5
      - hangup: {}                                         # 6
expect:
  - audio: {from: alice, to: bob, tone: {frequency: 800, min_duration: 700ms}, before: {agent: alice, step: 3}}
  - audio: {from: alice, to: bob, tone: {frequency: 1200, min_duration: 700ms}, after: {agent: alice, step: 3}}
  - audio: {from: alice, to: bob, tone: {frequency: 1200, min_duration: 200ms}, before: {agent: alice, step: 4}}
  - rtp: {from: alice, to: bob, min_packets: 40, after: {agent: alice, step: 3}, before: {agent: alice, step: 6}}
"""


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")
def test_phases_bounded_by_steps_cut_the_audio_at_the_agent_and_on_the_wire(
        run_json, no_leftovers):
    code, sc, out = run_json(SCENARIO)
    c = {x["name"]: x for x in sc["checks"]}
    for where in ("at bob", "wire"):
        first = c[f"audio alice->bob [before alice step 3] ({where})"]
        second = c[f"audio alice->bob [after alice step 3] ({where})"]
        assert first["status"] == "passed", first
        assert second["status"] == "passed", second
        # the 1200 Hz tone is not in the phase that ends when its play step starts
        early = c[f"audio alice->bob [before alice step 4] ({where})"]
        assert early["status"] == "failed" and "tone 1200 Hz ±3% lasted 0s" in early["message"], early
    rtp = c["rtp alice->bob [after alice step 3, before alice step 6] (wire)"]
    assert rtp["status"] == "passed" and 40 <= rtp["actual"]["packets"] <= 80, rtp
    assert code == 1


@pytest.mark.parametrize("mark, message", [
    ("{agent: alice, step: 7}", "agent 'alice' has 7 step(s) (indexes 0-6), no step 7"),
    ("{agent: carol, step: 1}", "carol"),
    ("{agent: alice}", "step"),
])
def test_a_step_bound_that_cannot_be_is_refused_where_it_is_written(
        sipscen, write_scenario, mark, message):
    text = SCENARIO.replace("before: {agent: alice, step: 4}}", f"before: {mark}}}")
    path = write_scenario(text)
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    line = next(i for i, l in enumerate(text.splitlines(), 1) if mark in l)
    assert f"{path}:{line}:" in err + out and message in err + out, err + out
