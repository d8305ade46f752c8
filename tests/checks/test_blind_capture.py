"""Issue 20: a capture whose own settings hide what an expectation needs gives no
verdict for it: `capture: {filter: "not udp"}` or `{snaplen: 60}` with
`sip: {from: alice, method: INVITE, count: 0}` passed although alice's INVITE
was sent. Real PJSUA2 calls, real tcpdump with the scenario's filter/snaplen."""
import json
import os

import pytest

from sipscen.capture.visibility import PAYLOAD, RTP, SIP, Blind
from sipscen.checks.verdict import inconclusive_blind
from sipscen.core.errors import Location
from sipscen.core.model import Expectation
from sipscen.core.results import CheckResult

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")

CALL = """
name: blind
timeout: 20s
{capture}
agents:
  bob: {{type: pjsua, codecs: [PCMA], steps: [{{wait: {{event: incoming}}}}, {{wait: {{event: disconnected}}}}]}}
  alice:
    type: pjsua
    codecs: [PCMA]
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - play: {{tone: {{frequencies: [1000], duration: 600ms}}}}
      - dtmf: {{digits: "12", method: rfc4733}}
      - dtmf: {{digits: "3", method: sip-info}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - sip: {{from: alice, method: INVITE, count: 0}}
  - call: {{from: alice, to: bob, answered: true}}
  - codec: {{between: [alice, bob], codec: PCMA}}
  - dtmf: {{from: alice, to: bob, digits: "12", method: rfc4733}}
  - dtmf: {{from: alice, to: bob, digits: "3", method: sip-info}}
  - rtp: {{from: alice, to: bob, min_packets: 10}}
  - audio: {{from: alice, to: bob, tone: {{frequency: 1000Hz, min_duration: 300ms}}}}
"""


def _run(run_json, capture: str):
    code, scenario, text = run_json(CALL.format(capture=capture))
    wire = {c["name"]: c for c in scenario["checks"] if c["evidence"] == "wire"}
    agent = {c["name"]: c for c in scenario["checks"] if c["evidence"] != "wire"}
    return code, scenario, wire, agent, text


@root_only
@pytest.mark.integration
def test_without_capture_settings_the_count_0_check_fails(run_json, no_leftovers):
    """The negative control: alice's INVITE is seen, `count: 0` fails."""
    code, scenario, wire, agent, text = _run(run_json, "")
    assert code == 1, text
    (sip,) = [c for n, c in wire.items() if n.startswith("sip alice")]
    assert sip["status"] == "failed" and sip["actual"] == 1
    others = [c for c in scenario["checks"] if not c["name"].startswith("sip alice")]
    assert all(c["status"] == "passed" for c in others), others


@root_only
@pytest.mark.integration
@pytest.mark.parametrize("capture, reason", [
    # the run's ports (10000 up to the ephemeral range): validate cannot know them
    ('capture: {filter: "not portrange 10000-32767"}',
     "the capture filter 'not portrange 10000-32767' drops alice's SIP to bob"),
    ("capture: {snaplen: 60}", "the capture's snaplen 60 cut a SIP packet"),
])
def test_a_filter_or_snaplen_that_hides_sip_makes_wire_checks_inconclusive(
        run_json, no_leftovers, capture, reason):
    code, scenario, wire, agent, text = _run(run_json, capture)
    assert code == 2, text
    assert scenario["status"] == "error" and scenario["exit_status"] == 2
    assert wire, scenario["checks"]
    for name, check in wire.items():
        assert check["status"] == "error", (name, check)
        assert check["message"].startswith("inconclusive, "), (name, check["message"])
    (sip,) = [c for n, c in wire.items() if n.startswith("sip alice")]
    assert sip["message"].startswith(f"inconclusive, {reason}"), sip["message"]
    assert "passed on what was captured" in sip["message"]     # what it would have said
    # what the agents observed keeps its verdict
    assert agent and all(c["status"] == "passed" for c in agent.values()), agent
    assert any(w.startswith("capture blind: ") for w in scenario["warnings"])
    assert not any("did not catch up" in w for w in scenario["warnings"])


@root_only
@pytest.mark.integration
def test_a_filter_that_hides_only_rtp_leaves_signalling_verdicts(run_json, no_leftovers):
    """`udp[8] & 0xc0 != 0x80` drops RTP (version 2) and keeps SIP: the SIP checks
    (sip, dtmf by SIP INFO) keep their verdicts; codec, rtp, audio and RFC 4733
    DTMF on the wire are inconclusive."""
    code, scenario, wire, agent, text = _run(run_json,
                                             'capture: {filter: "udp[8] & 0xc0 != 0x80"}')
    by_kind = {}
    for name, check in wire.items():
        by_kind.setdefault(name.split()[0], []).append(check)
    (sip,) = by_kind["sip"]
    assert sip["status"] == "failed" and sip["actual"] == 1      # the INVITE is seen
    info = [c for c in by_kind["dtmf"] if "sip-info" in c["name"]]
    events = [c for c in by_kind["dtmf"] if "rfc4733" in c["name"]]
    assert info and all(c["status"] == "passed" for c in info), info
    assert events and all(c["status"] == "error" and "drops alice's RTP to bob"
                          in c["message"] for c in events), events
    for kind in ("codec", "rtp", "audio"):
        assert by_kind.get(kind), (kind, wire)
        assert all(c["status"] == "error" and c["message"].startswith("inconclusive, ")
                   for c in by_kind[kind]), by_kind[kind]


@root_only
@pytest.mark.integration
def test_a_filter_that_hides_nothing_the_checks_need_changes_nothing(run_json, no_leftovers):
    code, scenario, wire, agent, text = _run(run_json, 'capture: {filter: "udp or tcp"}')
    assert code == 1, text
    (sip,) = [c for n, c in wire.items() if n.startswith("sip alice")]
    assert sip["status"] == "failed"
    assert not any(w.startswith("capture blind") for w in scenario["warnings"])


def _check(kind: str, params: dict, line: int, evidence: str = "wire"):
    loc = Location("s.yaml", line, 5)
    return (Expectation(kind=kind, params=params, location=loc, path=f"expect[{line}]"),
            CheckResult(name=f"{kind} check", status="passed", location=str(loc),
                        evidence=evidence))


@pytest.mark.parametrize("kind, params, hidden, inconclusive", [
    ("sip", {"from": "alice"}, SIP, True),
    ("sip", {"from": "alice"}, RTP, False),
    ("transport", {"from": "alice", "to": "bob", "tls": True}, SIP, True),
    ("transport", {"from": "alice", "to": "bob", "tls": True}, PAYLOAD, False),
    ("codec", {"between": ["alice", "bob"], "codec": "PCMA"}, RTP, True),
    ("codec", {"between": ["alice", "bob"], "codec": "PCMA"}, PAYLOAD, False),
    ("media", {"between": ["alice", "bob"], "via": "sbc", "anchored": True}, RTP, True),
    ("media", {"between": ["alice", "bob"], "via": "sbc", "anchored": True}, PAYLOAD, False),
    ("srtp", {"between": ["alice", "bob"]}, PAYLOAD, True),
    ("leg", {"between": ["alice", "sbc"], "srtp": True}, PAYLOAD, True),
    ("rtp", {"from": "alice", "to": "bob"}, PAYLOAD, True),
    ("audio", {"from": "alice", "to": "bob", "not_silent": True}, PAYLOAD, True),
    ("dtmf", {"from": "alice", "to": "bob", "digits": "1", "method": "sip-info"}, RTP, False),
    ("dtmf", {"from": "alice", "to": "bob", "digits": "1", "method": "sip-info"}, SIP, True),
    ("dtmf", {"from": "alice", "to": "bob", "digits": "1", "method": "rfc4733"}, PAYLOAD, True),
    ("dtmf", {"from": "alice", "to": "bob", "digits": "1", "method": "inband"}, PAYLOAD, True),
    ("call", {"from": "alice", "to": "bob"}, SIP, True),
])
def test_every_wire_family_says_what_it_reads(kind, params, hidden, inconclusive):
    exp, check = _check(kind, params, 3)
    other, agent_side = _check(kind, params, 4, evidence="agent")
    warnings = inconclusive_blind([check, agent_side], [exp, other],
                                  [Blind(hidden, ("alice", "bob"), "hidden by a test")])
    assert warnings == ["capture blind: hidden by a test"]
    assert (check.status == "error") is inconclusive, (kind, hidden, check)
    if inconclusive:
        assert check.message == "inconclusive, hidden by a test; passed on what was captured"
    assert agent_side.status == "passed"          # an agent's own observation keeps its verdict


def test_blindness_between_other_parties_does_not_touch_an_expectation():
    exp, check = _check("sip", {"from": "alice", "to": "bob"}, 3)
    inconclusive_blind([check], [exp], [Blind(SIP, ("carol", "dave"), "elsewhere")])
    assert check.status == "passed"
    exp, check = _check("sip", {"from": "alice"}, 3)
    inconclusive_blind([check], [exp], [Blind(SIP, ("carol", "alice"), "to alice")])
    assert check.status == "error" and "to alice" in check.message


def test_a_filter_that_hides_what_a_wire_only_expectation_reads_is_refused_at_validation(
        write_scenario, sipscen):
    """`not udp` with UDP agents hides their SIP whatever the ports: a `sip`
    expectation could only be inconclusive, refused at the filter (exit 2)."""
    path = write_scenario(CALL.format(capture='capture: {filter: "not udp"}'))
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    assert err.strip() == (
        f"{path}:4:19: capture.filter: the filter drops alice's SIP to bob whatever ports are "
        f"planned: the sip expectation at {path}:19:5 could only be inconclusive (drop the "
        "filter, or the expectation)")
    # families an agent also reports on are judged at run time (their agent side stands)
    path.write_text(path.read_text().replace("  - sip: {from: alice, method: INVITE, count: 0}\n",
                                             ""))
    code, out, err = sipscen("validate", path)
    assert code == 0, err
    # a filter that depends on the ports planned is judged at run time only
    path = write_scenario(CALL.format(capture='capture: {filter: "not portrange 10000-32767"}'),
                          "ports.yaml")
    code, out, err = sipscen("validate", path)
    assert code == 0, err
