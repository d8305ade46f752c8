"""Expectations that would judge nothing never pass: validate refuses the ones
that name no verdict, and a check that returns no result fails."""
from __future__ import annotations

from pathlib import Path

from sipscen.core.contact import Contact
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.errors import Location
from sipscen.core.model import AgentSpec, Expectation, Scenario

AGENTS = """
name: vacuous
agents:
  alice: {type: pjsua, steps: [{call: {to: bob, id: first}}, {hangup: {}}]}
  bob: {type: pjsua}
  carol: {type: pjsua}
expect:
"""


def _validate(write_scenario, sipscen, expect: str):
    path = write_scenario(AGENTS + expect)
    code, out, err = sipscen("validate", path)
    assert "Traceback" not in out + err and "internal error" not in out + err
    return code, path, out + err


def test_an_rtp_expectation_without_a_threshold_is_refused(write_scenario, sipscen):
    code, path, text = _validate(write_scenario, sipscen, "  - rtp: {from: alice, to: bob}\n")
    assert code == 2, text
    assert (f"{path}:8:10: expect[0].rtp: it judges nothing: give min_packets, max_loss, "
            "max_jitter, max_gap, min_mos or none") in text, text


def test_a_media_expectation_without_a_verdict_is_refused(write_scenario, sipscen):
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - media: {between: [alice, bob], via: carol}\n")
    assert code == 2, text
    assert (f"{path}:8:12: expect[0].media: it judges nothing: give anchored, transcoded "
            "or rekeyed") in text, text
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - media: {between: [alice, bob], via: bob, anchored: true}\n")
    assert code == 2, text
    assert (f"{path}:8:41: expect[0].media.via: 'via' names the relay between the two: not "
            "one of them (bob)") in text, text


def test_an_empty_payload_type_list_is_refused(write_scenario, sipscen):
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - leg: {between: [alice, bob], sdp: {payload_types: []}}\n")
    assert code == 2, text
    assert f"{path}:8:55: expect[0].leg.sdp.payload_types: needs at least 1 item" in text, text


def test_a_call_expectation_naming_an_unknown_call_is_refused(write_scenario, sipscen):
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - call: {from: alice, to: bob, id: second}\n"
                                 "  - sip: {from: alice, call: nosuch, method: BYE}\n"
                                 "  - call: {from: alice, to: bob, id: first}\n")
    assert code == 2, text
    assert (f"{path}:8:38: expect[0].call.id: alice names no call 'second' "
            "(its calls: first)") in text, text
    assert (f"{path}:9:30: expect[1].sip.call: alice names no call 'nosuch' "
            "(its calls: first)") in text, text
    assert ":10:" not in text, text


def test_a_check_that_returns_no_result_fails(monkeypatch):
    from sipscen.language import registry
    family = registry.expectations()["media"]
    monkeypatch.setattr(type(family), "function", lambda self: (lambda exp, ctx: []))
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), {}, {"calls": []},
                       {"a": Contact("a", "127.0.0.1", 20000)})
    (r,) = evaluate([Expectation("media", {"between": ["a", "b"], "via": "c"},
                                 Location("t.yaml", 3, 5), "expect[0]")], ctx)
    assert r.status == "failed" and r.location == "t.yaml:3:5"
    assert "judged nothing" in r.message


def test_a_literal_destination_uri_is_checked_at_validate(write_scenario, sipscen):
    """Not first when the step runs (after the other agents started): a URI that is
    not sip:/sips:, or whose host is a name to resolve, is refused by validate."""
    path = write_scenario("""
name: uris
agents:
  bob: {type: pjsua}
  alice:
    type: pjsua
    steps:
      - call: {uri: "http://127.0.0.1/x"}
      - message: {uri: "sip:bob@sut.example.com", body: hi}
      - request: {uri: "sips:[::1]:5061"}
      - transfer: {uri: "sip:carol@127.0.0.1:5070"}
      - call: {uri: "sip:${bob.user}@127.0.0.1"}
""")
    code, out, err = sipscen("validate", path)
    text = out + err
    assert code == 2 and "Traceback" not in text, text
    assert (f"{path}:8:21: agents.alice.steps[0].call.uri: 'http://127.0.0.1/x' is not a "
            "sip: or sips: URI") in text, text
    assert (f"{path}:9:24: agents.alice.steps[1].message.uri: 'sut.example.com' is not an "
            "IP address") in text, text
    assert "steps[2]" not in text and "steps[3]" not in text and "steps[4]" not in text, text


def test_silence_on_the_wire_between_parties_that_never_talked_is_not_proven():
    """No RTP at all is silence only for a call the two had (an inactive hold); two
    parties with no call between them in the capture prove nothing."""
    contacts = {n: Contact(n, "127.0.0.1", port, media_ports=(port + 2, port + 20))
                for n, port in (("alice", 20000), ("bob", 20100), ("carol", 20200))}
    invite = {"time": 1.0, "src": "127.0.0.1:20000", "dst": "127.0.0.1:20100",
              "summary": "INVITE sip:bob SIP/2.0", "method": "INVITE", "status": None,
              "raw": "INVITE sip:bob SIP/2.0\r\n\r\n"}
    wire = {"calls": [{"call_id": "c1", "messages": [invite]}], "rtp_streams": []}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), {}, wire, contacts)

    def verdict(to):
        (r,) = evaluate([Expectation("audio", {"from": "alice", "to": to, "silent": True,
                                               "where": "wire"},
                                     Location("t.yaml", 3, 5), "expect[0]")], ctx)
        return r
    assert verdict("bob").status == "passed"       # their call carried no RTP: silent
    never = verdict("carol")
    assert never.status == "failed" and "no call between alice and carol" in never.message


def test_bounds_that_no_value_meets_are_refused(write_scenario, sipscen):
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - call: {from: alice, post_dial_delay: {min: 2s, max: 1s}}\n"
                                 "  - sip: {from: alice, method: BYE, count: {min: 3, max: 1}}\n"
                                 "  - call: {from: alice, ring_time: {min: 1s, max: 2s}}\n")
    assert code == 2, text
    assert (f"{path}:8:42: expect[0].call.post_dial_delay: min 2s is above max 1s "
            "(no value can pass)") in text, text
    assert (f"{path}:9:44: expect[1].sip.count: min 3 is above max 1 (no value can pass)"
            in text), text
    assert ":10:" not in text, text


def test_a_registration_expectation_on_an_agent_without_a_registrar_is_refused(
        write_scenario, sipscen):
    """It sends no REGISTER: `registered: false` would pass on no evidence."""
    code, path, text = _validate(write_scenario, sipscen,
                                 "  - registration: {agent: bob, registered: false}\n")
    assert code == 2, text
    assert (f"{path}:8:27: expect[0].registration.agent: agent 'bob' has no "
            "account.registrar: it sends no REGISTER to judge") in text, text


def test_digits_without_a_call_id_count_only_for_a_pair_that_had_a_call():
    """A receiver that names no Call-ID per digit (baresip): its digits prove nothing
    about a sender it never had a call with."""
    contacts = {n: Contact(n, "127.0.0.1", port, media_ports=(port + 2, port + 20))
                for n, port in (("alice", 20000), ("bob", 20100), ("carol", 20200))}
    invite = {"time": 1.0, "src": "127.0.0.1:20200", "dst": "127.0.0.1:20100",
              "summary": "INVITE sip:bob SIP/2.0", "method": "INVITE", "status": None,
              "raw": "INVITE sip:bob SIP/2.0\r\n\r\n"}
    wire = {"calls": [{"call_id": "c-carol", "messages": [invite]}], "dtmf": []}
    facts = {"bob": {"type": "pjsua",
                     "dtmf_received": [{"digit": d, "method": "rfc4733", "call_id": None}
                                       for d in "12"]}}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), facts, wire, contacts)

    def verdict(sender):
        (r,) = evaluate([Expectation("dtmf", {"from": sender, "to": "bob", "digits": "12",
                                              "where": "agent"},
                                     Location("t.yaml", 3, 5), "expect[0]")], ctx)
        return r
    assert verdict("carol").status == "passed"
    wrong = verdict("alice")
    assert wrong.status == "failed" and wrong.actual == "", wrong


def test_absent_patterns_need_a_log_that_exists(tmp_path):
    """A log listed but never written proves no pattern absent."""
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), {}, None, {},
                       services={"sut": {"logs": {"stdout": str(tmp_path / "gone.log")}}})
    (r,) = evaluate([Expectation("log", {"service": "sut", "absent": ["CRITICAL"]},
                                 Location("t.yaml", 3, 5), "expect[0]")], ctx)
    assert r.status == "failed" and "left no log" in r.message
    (tmp_path / "gone.log").write_text("all fine\n")
    (r,) = evaluate([Expectation("log", {"service": "sut", "absent": ["CRITICAL"]},
                                 Location("t.yaml", 3, 5), "expect[0]")], ctx)
    assert r.status == "passed"


def test_a_call_expectation_id_must_name_a_call_the_agent_placed(write_scenario, sipscen):
    path = write_scenario("""
name: incoming-id
agents:
  alice: {type: pjsua, steps: [{call: {to: bob}}]}
  bob: {type: pjsua, steps: [{wait: {event: incoming, id: from-alice}}, {hangup: {call: from-alice}}]}
expect:
  - call: {from: bob, id: from-alice}
  - sip: {from: bob, call: from-alice, method: BYE}
""")
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    assert (f"{path}:7:27: expect[0].call.id: bob names no call 'from-alice' it placed (an "
            "incoming call: judge it from its caller) (its calls: none)") in out + err, out + err
    assert ":8:" not in out + err


def test_an_agent_side_rtp_verdict_over_several_calls_says_which_it_judged():
    contacts = {n: Contact(n, "127.0.0.1", port, media_ports=(port + 2, port + 20))
                for n, port in (("alice", 20000), ("bob", 20100))}
    facts = {"bob": {"calls": [
        {"call_id": cid, "direction": "incoming", "remote_uri": "sip:alice@127.0.0.1:20000",
         "codec": "PCMA", "rtp": {"rx_packets": packets, "rx_lost": 0, "rx_jitter_ms": 1.0}}
        for cid, packets in (("first", 200), ("second", 0))]}}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), facts, None, contacts)
    (r,) = evaluate([Expectation("rtp", {"from": "alice", "to": "bob", "min_packets": 100,
                                         "where": "agent"},
                                 Location("t.yaml", 3, 5), "expect[0]")], ctx)
    assert r.actual["packets"] == 200
    assert "judged bob's first of 2 calls with alice (Call-ID first)" in r.message, r


def test_reached_callee_is_judged_per_call():
    """One call that reached bob does not vouch for another that bob never saw."""
    contacts = {n: Contact(n, "127.0.0.1", port, media_ports=(port + 2, port + 20))
                for n, port in (("alice", 20000), ("bob", 20100))}

    def call(cid, direction, t):
        return {"call_id": cid, "direction": direction, "answered": True, "status_code": 200,
                "remote_uri": "sip:peer@127.0.0.1:1", "started_at": t}
    facts = {"alice": {"calls": [call("c1", "outgoing", 1.0), call("c2", "outgoing", 2.0)]},
             "bob": {"calls": [call("c1", "incoming", 1.0)]}}
    invite = {"time": 2.0, "src": "127.0.0.1:20000", "dst": "127.0.0.1:20100",
              "summary": "INVITE sip:bob SIP/2.0", "method": "INVITE", "status": None,
              "raw": "INVITE sip:bob SIP/2.0\r\n\r\n"}
    wire = {"calls": [{"call_id": "c2", "messages": [invite]}]}
    from sipscen.language import registry
    registry.load()
    agents = tuple(AgentSpec(n, "pjsua", {}, (), Location("t.yaml", 1, 1), f"agents.{n}")
                   for n in ("alice", "bob"))
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml"), agents=agents), facts, wire,
                       contacts)
    results = evaluate([Expectation("call", {"from": "alice", "to": "bob", "answered": True},
                                    Location("t.yaml", 3, 5), "expect[0]")], ctx)
    reached = next(r for r in results if r.name == "call alice->bob: reached callee")
    assert reached.status == "failed" and "c2" in reached.message, reached
