"""`call` expectations judge every call between the parties (or the one `nth`/`id`
picks), count them, read status classes and lists and timing bounds, and say when
they match nothing. Facts are data in the agents' shape; the real-call test is
tests/language/test_call_flows.py."""
from pathlib import Path

from sipscen.core.contact import Contact
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.errors import Location
from sipscen.core.model import AgentSpec, Expectation, Scenario

HOST = "127.0.0.1"
CONTACTS = {"alice": Contact("alice", HOST, 20000, user="alice", media_ports=(20010, 20029)),
            "bob": Contact("bob", HOST, 21000, user="bob", media_ports=(21010, 21029))}
LOC = Location("t.yaml", 1, 1)


def call(call_id, status, t0, direction="outgoing", name=None, early=0.1, answer=0.5):
    answered = status == 200
    return {"direction": direction, "call_id": call_id, "name": name,
            "remote_uri": f"<sip:{'bob' if direction == 'outgoing' else 'alice'}@{HOST}:"
                          f"{21000 if direction == 'outgoing' else 20000}>",
            "status_code": status, "reason": "Busy Here" if status == 486 else "OK",
            "answered": answered, "started_at": t0, "early_at": t0 + early,
            "confirmed_at": t0 + answer if answered else None,
            "duration": 1.0 if answered else None}


def verdicts(params, facts):
    scenario = Scenario(name="t", file=Path("t.yaml"), agents=tuple(
        AgentSpec(n, "pjsua", {}, (), LOC, f"agents.{n}") for n in ("alice", "bob")))
    ctx = CheckContext(scenario, facts, None, CONTACTS)
    results = evaluate([Expectation("call", params, LOC, "expect[0]")], ctx)
    return {r.name: r for r in results}


FACTS = {"alice": {"calls": [call("c1", 200, 1.0, name="first"),
                             call("c2", 486, 3.0, name="second")]},
         "bob": {"calls": [call("c1", 200, 1.0, "incoming"), call("c2", 486, 3.0, "incoming")]}}


def test_every_call_must_satisfy_it_and_the_failing_one_is_named():
    r = verdicts({"from": "alice", "to": "bob", "answered": True, "status": 200}, FACTS)
    status = r["call alice->bob: status"]
    assert status.status == "failed" and status.actual == [200, 486]
    assert "call 2 of 2 'second' (Call-ID c2): 486 Busy Here" in status.message
    assert "call 1 of 2" not in status.message
    assert r["call alice->bob: answered"].status == "failed"


def test_nth_and_id_pick_one_call():
    assert verdicts({"from": "alice", "to": "bob", "nth": 1, "status": 200}, FACTS)[
        "call alice->bob [call 1]: status"].status == "passed"
    r = verdicts({"from": "alice", "to": "bob", "id": "second", "status": 486}, FACTS)
    # several rows of one pair name the call they judged in their title
    assert r["call alice->bob [second]: status"].status == "passed"
    assert r["call alice->bob [second]: status"].actual == 486


def test_status_lists_classes_and_count():
    r = verdicts({"from": "alice", "to": "bob", "count": 2, "status": [200, 486]}, FACTS)
    assert r["call alice->bob: count"].status == "passed"
    assert r["call alice->bob: status"].status == "passed"
    assert verdicts({"from": "alice", "to": "bob", "status": "4xx"}, FACTS)[
        "call alice->bob: status"].status == "failed"
    assert verdicts({"from": "alice", "to": "bob", "count": 1}, FACTS)[
        "call alice->bob: count"].actual == 2


def test_an_expectation_that_matches_nothing_fails_saying_so():
    r = verdicts({"from": "alice", "to": "bob", "nth": 3, "status": 200}, FACTS)
    assert list(r) == ["call alice->bob [call 3]: selected"]
    assert r["call alice->bob [call 3]: selected"].status == "failed"
    assert "matches nothing" in r["call alice->bob [call 3]: selected"].message
    r = verdicts({"from": "alice", "to": "bob", "id": "third"}, FACTS)
    assert r["call alice->bob [third]: selected"].status == "failed"


def test_timing_bounds_and_unanswered_durations_say_why():
    r = verdicts({"from": "alice", "to": "bob", "nth": 1, "post_dial_delay": {"max": "200ms"},
                  "answer_time": {"min": "1s"}}, FACTS)
    assert r["call alice->bob [call 1]: post dial delay (INVITE sent to the first 18x)"
             ].status == "passed"
    answer = r["call alice->bob [call 1]: answer time (INVITE sent to the answer)"]
    assert answer.status == "failed" and answer.actual == 0.5
    r = verdicts({"from": "alice", "to": "bob", "id": "second", "min_duration": "1s"}, FACTS)
    assert r["call alice->bob [second]: min duration"].actual == "never answered"


def test_codec_judges_every_call_between_the_pair():
    facts = {"alice": {"calls": [dict(call("c1", 200, 1.0), codec="PCMA"),
                                 dict(call("c2", 200, 3.0), codec="PCMU")]},
             "bob": {"calls": [dict(call("c1", 200, 1.0, "incoming"), codec="PCMA"),
                               dict(call("c2", 200, 3.0, "incoming"), codec="PCMU")]}}
    scenario = Scenario(name="t", file=Path("t.yaml"))
    ctx = CheckContext(scenario, facts, None, CONTACTS)
    (at_alice, at_bob) = evaluate([Expectation("codec", {"between": ["alice", "bob"],
                                                         "codec": "PCMA"}, LOC, "e")], ctx)
    assert at_alice.status == "failed" and at_alice.actual == ["PCMA", "PCMU"]
    assert "call 2 of 2 (Call-ID c2): 'PCMU'" in at_alice.message
