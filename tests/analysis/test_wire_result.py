"""The wire analysis as checks read it: ``WireAnalysis.from_dict`` reads the
``sipscen analyze --json`` document, ``to_dict`` writes back the same document."""
from __future__ import annotations

import json
from pathlib import Path

from sipscen.analysis import analyze_capture
from sipscen.analysis.result import (DtlsScan, WireAnalysis, WireCall, WireDigit, WireMessage,
                                     WireStream)


def _capture(cap) -> Path:
    """A call with PCMU both ways and the digit 5 (RFC 4733, PT 101) from a to b."""
    call = cap.Call()
    call.invite(0.0, {0: "PCMU/8000", 101: "telephone-event/8000"},
                {0: "PCMU/8000", 101: "telephone-event/8000"})
    for i in range(20):
        call.udp(0.1 + i * 0.02, True, cap.rtp(i, i * 160, 0x1111, 0, bytes(160)))
        call.udp(0.1 + i * 0.02, False, cap.rtp(i, i * 160, 0x2222, 0, bytes(160)))
    packets, _ = cap.digit_packets(5, 100, 4000, 0.6, 0x1111, 101)
    for t, pkt in packets:
        call.udp(t, True, pkt)
    return cap.pcap_of(call)


def test_a_real_analysis_reads_back_as_the_same_json(cap):
    doc = analyze_capture(_capture(cap)).to_dict()
    wire = WireAnalysis.from_dict(json.loads(json.dumps(doc)))
    assert wire.packets == doc["packets"] > 0
    assert wire.calls and all(isinstance(c, WireCall) for c in wire.calls)
    assert wire.calls[0].call_id == doc["calls"][0]["call_id"]
    assert wire.calls[0].from_ == doc["calls"][0]["from"]
    assert wire.dtmf and all(isinstance(d, WireDigit) for d in wire.dtmf)
    assert len(wire.rtp_streams) == len(doc["rtp_streams"]) >= 2
    assert all(isinstance(s, WireStream) for s in wire.rtp_streams)
    first = wire.rtp_streams[0]
    assert (first.ssrc, first.direction, first.packets) == (
        doc["rtp_streams"][0]["ssrc"],
        f"{doc['rtp_streams'][0]['src']}->{doc['rtp_streams'][0]['dst']}",
        doc["rtp_streams"][0]["packets"])
    assert wire.digits() == "".join(d["digit"] for d in doc["dtmf"])
    messages, raw = wire.calls[0].messages, doc["calls"][0]["messages"]
    assert len(messages) == len(raw) >= 3 and all(isinstance(m, WireMessage) for m in messages)
    for m, r in zip(messages, raw):
        assert (m.time, m.src, m.dst, m.summary, m.transport, m.method, m.status, m.raw) == (
            r["time"], r["src"], r["dst"], r["summary"], r["transport"], r["method"],
            r["status"], r["raw"])
        assert m.is_response == r["raw"].startswith("SIP/2.0 ")
    assert messages[0].method == "INVITE" and messages[0].status is None
    assert any(m.status == 200 for m in messages)
    assert json.dumps(wire.to_dict()) == json.dumps(doc)      # the same keys, in order
    # the negative control: what the engine learns is written back
    wire.incomplete = ["tcpdump ended during the run"]
    assert wire.to_dict() != doc
    assert wire.to_dict()["incomplete"] == ["tcpdump ended during the run"]


def test_optional_keys_stay_absent_and_the_dtls_scan_is_typed():
    doc = {"packets": 3, "warnings": [], "calls": [], "rtp_streams": [], "dtmf": []}
    wire = WireAnalysis.from_dict(doc)
    assert wire.dtls is None and wire.incomplete == [] and wire.stun == []
    assert wire.to_dict() == doc
    scanned = WireAnalysis.from_dict(dict(doc, dtls={"flows": [{"src": "a", "dst": "b"}],
                                                     "rtp": []}))
    assert isinstance(scanned.dtls, DtlsScan) and scanned.dtls.flows[0].src == "a"
    assert WireAnalysis.from_dict(None).to_dict() == {}


def test_a_message_keeps_its_json_and_reads_as_before_for_plugins():
    """A malformed message, a null status and a key the type does not name come back
    as they were; ``get``/``[]`` read a message the way plugins read the old dicts."""
    bad = {"time": 1.5, "src": "127.0.0.1:5060", "dst": "127.0.0.2:5060",
           "summary": "2OO OK (INVITE)", "transport": "udp", "method": "INVITE",
           "status": None, "raw": "SIP/2.0 2OO OK\r\n\r\n", "malformed": ["status"],
           "extra": {"kept": True}}
    plain = {k: v for k, v in bad.items() if k not in ("malformed", "extra")}
    doc = {"packets": 2, "calls": [{"call_id": "c1", "messages": [bad, plain]}]}
    wire = WireAnalysis.from_dict(json.loads(json.dumps(doc)))
    first, second = wire.calls[0].messages
    assert first.malformed == ["status"] and second.malformed == []
    assert first.status is None and first.is_response       # a status line, its code unread
    assert json.dumps(wire.to_dict()) == json.dumps(doc)
    assert "malformed" not in wire.to_dict()["calls"][0]["messages"][1]
    # the dict reads plugins made before messages were typed
    assert first.get("raw") == bad["raw"] and first["src"] == bad["src"]
    assert first.get("extra") == {"kept": True} and first.get("status", 0) is None
    assert second.get("malformed") is None and second.get("nope", "x") == "x"
    try:
        second["malformed"]
    except KeyError:
        pass
    else:
        raise AssertionError("a key the message did not have must raise KeyError")
    # the negative control: a value changed in the type is what is written back
    second.status = 180
    assert wire.to_dict()["calls"][0]["messages"][1]["status"] == 180 != doc["calls"][0][
        "messages"][1]["status"]


def test_objects_read_without_a_key_get_their_own_empty_lists():
    """A field the JSON did not have gets a fresh default (never one shared between
    objects), and stays out of the JSON written back."""
    one, two = WireAnalysis.from_dict({}), WireAnalysis.from_dict({})
    one.warnings.append("seen")
    one.calls.append(WireCall.from_dict({"call_id": "x"}))
    assert two.warnings == [] and two.calls == []
    assert WireMessage.from_dict({}).malformed is not WireMessage.from_dict({}).malformed
    assert one.to_dict() == {"warnings": ["seen"], "calls": [{"call_id": "x"}]}
    assert two.to_dict() == {}
