"""The baresip agent type (issue 10): an independent UA driven through the same
steps and expectations as PJSUA, and DTLS-SRTP between two baresip agents.
Real baresip, PJSUA2, tcpdump."""
from __future__ import annotations

import shutil

import pytest

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT

SBC = ROOT / "scenarios" / "sbc"
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")


def _run(name, tmp_path):
    result = run_scenario(load_scenario(SBC / name), RunOptions(artifacts_root=tmp_path / "a"))
    return result, {c.name: c for c in result.checks}


@pytest.mark.integration
@needs_baresip
def test_pjsua_and_a_baresip_agent_interoperate_with_the_same_steps(tmp_path, no_leftovers):
    result, checks = _run("pjsua-baresip-agents.yaml", tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    # carol's own observation (its log) and the wire agree
    assert checks["dtmf alice->carol rfc4733 (at carol)"].actual == "1234#"
    assert "".join(d["digit"] for d in result.agents["carol"]["dtmf_received"]) == "1234#"
    states = [e["data"]["state"] if "data" in e else e.get("state")
              for e in result.events if e["agent"] == "carol" and e["kind"] == "call_state"]
    assert "CONFIRMED" in states and "DISCONNECTED" in states


@pytest.mark.integration
@needs_baresip
def test_two_baresip_agents_with_dtls_srtp(tmp_path, no_leftovers):
    result, checks = _run("baresip-agents-dtls.yaml", tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    wire = checks["srtp carol<->dave (wire, DTLS-SRTP)"]
    assert "ServerHello" in wire.actual["dtls"] and "no a=crypto" in wire.actual["sdp"]


def test_validate_refuses_a_step_the_baresip_agent_lacks(write_scenario, sipscen):
    path = write_scenario("""
name: no-play
agents:
  carol:
    type: baresip
    steps:
      - play: {tone: {frequencies: [440]}}
""")
    code, out, err = sipscen("validate", path)
    assert code == 2
    assert (f"{path}:7:9: agents.carol.steps[0].play: a baresip agent cannot 'play'"
            in err + out)


def test_validate_refuses_step_parameters_the_baresip_agent_cannot_carry_out(
        write_scenario, sipscen):
    """The agent refuses these when the step runs; validate refuses them first."""
    path = write_scenario("""
name: baresip-params
agents:
  bob: {type: pjsua}
  carol:
    type: baresip
    answer: {manual: true}
    steps:
      - call: {to: bob, headers: {X-Case: b1}, timeout: 5s}
      - answer: {code: 180}
      - dtmf: {digits: "12", method: inband}
""")
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    text = err + out
    assert "Traceback" not in text and "internal error" not in text
    for where, what in (("9:25", "steps[0].call.headers: a baresip agent cannot add headers"),
                        ("9:48", "steps[0].call.timeout: a baresip agent cannot cancel"),
                        ("10:18", "steps[1].answer.code: a baresip agent answers with 200 only"),
                        ("11:30", "steps[2].dtmf.method: a baresip agent sends rfc4733 only")):
        assert f"{path}:{where}: agents.carol.{what}" in text, text


@pytest.mark.integration
@needs_baresip
def test_a_baresip_agent_answers_on_its_answer_step(tmp_path, write_scenario, no_leftovers):
    path = write_scenario("""
name: manual-answer
timeout: 30s
agents:
  carol:
    type: baresip
    codecs: [PCMU]
    answer: {manual: true}
    steps:
      - wait: {event: incoming, timeout: 10s}
      - sleep: 700ms
      - signal: answering
      - answer: {}
      - wait: {event: disconnected, timeout: 10s}
  alice:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {to: carol}
      - wait: {signal: answering, agent: carol, timeout: 10s}
      - wait: {event: answered, timeout: 5s}
      - sleep: 300ms
      - hangup: {}
expect:
  - call: {from: alice, to: carol, answered: true, status: 200}
  - codec: {between: [alice, carol], codec: PCMU}
""")
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=tmp_path / "a"))
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    sig = next(e["t"] for e in result.events if e["agent"] == "carol" and e["kind"] == "signal")
    confirmed = [e["t"] for e in result.events if e["agent"] == "alice"
                 and e["kind"] == "call_state" and e.get("state") == "CONFIRMED"]
    assert confirmed and min(confirmed) >= sig      # answered by the step, not by itself
