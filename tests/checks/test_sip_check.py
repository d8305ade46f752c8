"""The `sip` expectation family on wire data in the analysis' shape: counts, header
and SDP matches, ordered sequences, retransmissions counted once."""
from pathlib import Path

from sipscen.core.contact import Contact
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.errors import Location
from sipscen.core.model import Expectation, Scenario

A, S = "127.0.0.1:20000", "127.0.0.1:5060"
CONTACTS = {"alice": Contact("alice", "127.0.0.1", 20000), "sut": Contact("sut", "127.0.0.1", 5060)}


def msg(t, src, dst, first, method, status=None, headers=(), sdp_dir=None):
    body = f"v=0\r\nm=audio 4000 RTP/AVP 8\r\na={sdp_dir}\r\n" if sdp_dir else ""
    raw = "\r\n".join([first, *headers, f"Content-Length: {len(body)}", "", body])
    return {"time": t, "src": src, "dst": dst, "summary": first, "method": method,
            "status": status, "raw": raw}


WIRE = {"calls": [{"call_id": "c1", "messages": [
    msg(1.0, A, S, "INVITE sip:bob@x SIP/2.0", "INVITE", headers=["X-Case: hold-7"],
        sdp_dir="sendrecv"),
    msg(1.1, S, A, "SIP/2.0 200 OK", "INVITE", 200, sdp_dir="sendrecv"),
    msg(1.2, A, S, "ACK sip:bob@x SIP/2.0", "ACK"),
    msg(2.0, A, S, "INVITE sip:bob@x SIP/2.0", "INVITE", sdp_dir="sendonly"),
    msg(2.0, A, S, "INVITE sip:bob@x SIP/2.0", "INVITE", sdp_dir="sendonly"),   # retransmission
    msg(2.1, S, A, "SIP/2.0 200 OK", "INVITE", 200, sdp_dir="recvonly"),
]}]}


def verdict(params):
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), {}, WIRE, CONTACTS)
    (r,) = evaluate([Expectation("sip", params, Location("t.yaml", 1, 1), "expect[0]")], ctx)
    return r.status, r.actual


def test_counts_headers_and_sdp_direction():
    assert verdict({"from": "alice", "to": "sut", "method": "INVITE"}) == ("passed", 2)
    assert verdict({"from": "alice", "method": "INVITE", "sdp": {"direction": "sendonly"},
                    "count": 1}) == ("passed", 1)
    assert verdict({"from": "alice", "method": "INVITE", "sdp": {"direction": "inactive"}}) \
        == ("failed", 0)
    assert verdict({"method": "INVITE", "headers": {"x-case": r"^hold-\d+$"}, "count": 1}) \
        == ("passed", 1)
    assert verdict({"from": "sut", "status": "2xx", "count": {"min": 3}}) == ("failed", 2)
    assert verdict({"from": "sut", "method": "INVITE"}) == ("failed", 0)   # requests only


def test_sequence_must_appear_in_order():
    status, _ = verdict({"between": ["alice", "sut"], "sequence": [
        "INVITE", 200, "ACK", {"method": "INVITE", "sdp": {"direction": "sendonly"}},
        {"status": 200, "sdp": {"direction": "recvonly"}}]})
    assert status == "passed"
    status, actual = verdict({"between": ["alice", "sut"], "sequence": [
        {"method": "INVITE", "sdp": {"direction": "sendonly"}}, "ACK"]})
    assert status == "failed" and actual == "INVITE sip:bob@x SIP/2.0"
