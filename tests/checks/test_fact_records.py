"""Agent facts reach the checks as typed records: JSON (the boundary format of
reports and evidence.json) is read through ``record_of`` once, and a record
written back gives the same JSON."""
from __future__ import annotations

from pathlib import Path

from sipscen.agents.pjsua.facts import FactBook
from sipscen.agents.records import (AgentRecord, BrowserFacts, CallRecord, Digit, PjsuaFacts,
                                    SippFacts, WirePartyFacts, record_of)
from sipscen.checks.context import CheckContext
from sipscen.core.contact import Contact
from sipscen.core.model import Scenario
from sipscen.core.results import AGENT, WIRE


def _pjsua_facts() -> dict:
    book = FactBook("pjsua", "sip:bob@127.0.0.1:5062")
    book.apply("call_state", {"call_id": "c1", "direction": "incoming", "state": "INCOMING",
                              "remote_uri": "sip:alice@127.0.0.1:5060",
                              "request_uri": "sip:bob@127.0.0.1:5062", "headers": {"X-A": "1"}},
               0.5)
    book.apply("call_state", {"call_id": "c1", "state": "CONFIRMED", "code": 200,
                              "reason": "OK"}, 1.0)
    book.apply("media", {"call_id": "c1", "state": "active", "codec": "PCMA",
                         "clock_rate": 8000, "payload_type": 8,
                         "srtp": {"active": True, "suite": "AES_CM_128_HMAC_SHA1_80"}}, 1.1)
    book.apply("dtmf", {"digit": "5", "method": "rfc4733", "duration_ms": 160,
                                 "call_id": "c1"}, 1.5)
    book.apply("reg_state", {"code": 200, "reason": "OK", "expires": 300}, 0.2)
    return book.as_dict()


def test_pjsua_facts_read_back_give_the_same_json():
    facts = _pjsua_facts()
    record = record_of(facts)
    assert isinstance(record, PjsuaFacts) and isinstance(record.calls[0], CallRecord)
    assert record.to_dict() == facts
    # the negative control: a record that differs writes different JSON
    record.calls[0].codec = "PCMU"
    assert record.to_dict() != facts


def test_what_only_some_types_report_is_asked_of_any_record():
    pjsua = record_of(_pjsua_facts())
    assert pjsua.digits_received() == [Digit("5", "rfc4733", 1.5, "c1", 160)]
    assert [r.code for r in pjsua.registration_entries()] == [200]
    assert pjsua.calls[0].srtp_active() and pjsua.calls[0].srtp_suite() == \
        "AES_CM_128_HMAC_SHA1_80"
    sipp = record_of({"type": "sipp", "uri": "sip:s@127.0.0.1", "calls": []})
    assert isinstance(sipp, SippFacts)
    assert sipp.digits_received() is None and sipp.registration_entries() == []
    browser = record_of({"type": "browser", "addresses": ["127.0.0.1:40000"]})
    assert isinstance(browser, BrowserFacts)
    assert browser.own_addresses() == ["127.0.0.1:40000"]
    assert browser.unseen_dtmf_methods() == ["rfc4733"]
    assert record_of(None) is None and record_of(pjsua) is pjsua


def test_the_context_holds_records_and_a_service_rests_on_the_wire():
    contacts = {"bob": Contact("bob", "127.0.0.1", 5062, media_ports=(4000, 4003)),
                "carol": Contact("carol", "127.0.0.1", 5070)}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")),
                       {"bob": _pjsua_facts(), "carol": WirePartyFacts()}, None, contacts)
    assert all(isinstance(r, AgentRecord) for r in ctx.facts.values())
    assert ctx.first_call("bob").call_id == "c1"
    assert ctx.evidence_of("bob") == AGENT and ctx.at("bob") == "at bob"
    assert ctx.evidence_of("carol") == WIRE
    assert ctx.at("carol") == "at carol, from the capture"


def test_a_calls_media_sessions_are_typed_with_their_counters():
    call = CallRecord.from_dict({"call_id": "c1", "rtp_sessions": [
        {"index": 0, "started_at": 1.0, "ended_at": 3.0, "state": "active", "codec": "PCMA",
         "rx_packets": 100, "rx_lost": 0},
        {"index": 1, "started_at": 3.0, "ended_at": None, "state": "active", "codec": "PCMU",
         "rx_packets": 150, "rx_lost": 15}]})
    first, second = call.sessions()
    assert (first.index, first.codec, first.started_at, first.ended_at) == (0, "PCMA", 1.0, 3.0)
    assert (second.rx_packets, second.counters["rx_lost"]) == (150, 15)
    assert second.ended_at is None
    assert CallRecord().sessions() == []
