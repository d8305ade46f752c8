"""Media attributed by the calls' SDP (checks/attribution.py): the first announcer of
an address owns it; declared ports only speak for addresses no SDP names."""
from __future__ import annotations

from pathlib import Path

from sipscen.checks.context import CheckContext
from sipscen.core.contact import Contact
from sipscen.core.errors import Location
from sipscen.core.model import Expectation, Scenario
from sipscen.checks import evaluate

A, P, B = "127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"
CONTACTS = {"alice": Contact("alice", "127.0.0.1", 5001, media_ports=(20000, 20009)),
            "sut": Contact("sut", "127.0.0.1", 5002, media_ports=(30000, 30039)),
            "bob": Contact("bob", "127.0.0.1", 5003)}          # no media ports declared


def sdp_entry(t, src, kind, port, message="INVITE sip:bob@127.0.0.1"):
    return {"time": t, "from": src, "kind": kind, "message": message,
            "media": [{"media": "audio", "address": "127.0.0.1", "port": port}]}


def ctx_for(calls, streams=(), contacts=CONTACTS) -> CheckContext:
    wire = {"calls": calls, "rtp_streams": list(streams), "dtmf": []}
    return CheckContext(Scenario(name="s", file=Path("s.yaml")), {}, wire, dict(contacts))


def test_a_proxy_forwarding_an_offer_does_not_own_it_a_relay_rewriting_it_does():
    call = {"call_id": "c1", "messages": [], "sdp": [
        sdp_entry(1.0, A, "offer", 20000),
        sdp_entry(1.1, P, "offer", 20000),              # forwarded unchanged: still alice's
        sdp_entry(1.2, B, "answer", 41000, "200 OK (INVITE)"),
        sdp_entry(1.3, P, "answer", 30002, "200 OK (INVITE)"),   # the relay's port for alice
    ]}
    ctx = ctx_for([call])
    assert ctx.agent_of("127.0.0.1:20000") == "alice"
    assert ctx.agent_of("127.0.0.1:41000") == "bob"     # outside what bob declared: found
    assert ctx.agent_of("127.0.0.1:30002") == "sut"
    assert ctx.owns("bob", "127.0.0.1:41000") and not ctx.owns("sut", "127.0.0.1:41000")
    assert ctx.media.calls["127.0.0.1:41000"] == {"c1"}
    [warning] = ctx.media_warnings()
    assert warning.startswith("bob's media was found by the calls' SDP at 127.0.0.1:41000")
    assert "no media_ports declared" in warning


def test_an_address_no_sdp_names_falls_back_to_declared_ports():
    ctx = ctx_for([])
    assert ctx.agent_of("127.0.0.1:30005") == "sut"
    assert ctx.agent_of("127.0.0.1:41000") is None
    assert ctx.media_warnings() == []


def test_the_sdp_wins_over_a_declared_range_it_contradicts():
    """An address inside sut's declared range that bob's SDP announced first is bob's."""
    call = {"call_id": "c1", "messages": [], "sdp": [sdp_entry(1.0, B, "offer", 30010)]}
    ctx = ctx_for([call])
    assert ctx.agent_of("127.0.0.1:30010") == "bob"
    assert not ctx.owns("sut", "127.0.0.1:30010")


def test_options_capabilities_and_the_discard_port_are_not_media():
    call = {"call_id": "o1", "messages": [], "sdp": [
        sdp_entry(1.0, P, "answer", 40000, "200 OK (OPTIONS)"),
        sdp_entry(1.1, P, "offer", 9)]}
    ctx = ctx_for([call])
    assert ctx.media.owner == {}


def test_a_sender_on_an_ephemeral_port_is_known_by_its_contact():
    raw = ("INVITE sip:bob@127.0.0.1:5003 SIP/2.0\r\nContact: <sip:alice@127.0.0.1:5001;"
           "transport=tcp>\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n")
    message = {"time": 1.0, "src": "127.0.0.1:45678", "dst": B, "raw": raw}
    call = {"call_id": "t1", "messages": [message],
            "sdp": [sdp_entry(1.0, "127.0.0.1:45678", "offer", 20002)]}
    assert ctx_for([call]).agent_of("127.0.0.1:20002") == "alice"


def test_media_between_parties_outside_the_capture_is_inconclusive():
    """Both ends announced outside every captured port: no RTP on the wire proves
    nothing, so the wire half is inconclusive, not failed."""
    contacts = {"carol": Contact("carol", "127.0.0.1", 5004),
                "dave": Contact("dave", "127.0.0.1", 5005)}
    invite = {"time": 1.0, "src": "127.0.0.1:5004", "dst": "127.0.0.1:5005",
              "method": "INVITE", "summary": "INVITE sip:dave@127.0.0.1", "raw": ""}
    call = {"call_id": "x1", "messages": [invite], "sdp": [
        sdp_entry(1.0, "127.0.0.1:5004", "offer", 47000),
        sdp_entry(1.1, "127.0.0.1:5005", "answer", 48000, "200 OK (INVITE)")]}
    ctx = ctx_for([call], contacts=contacts)
    exp = Expectation("srtp", {"between": ["carol", "dave"]}, Location("e.yaml", 1, 1), "e")
    wire = [r for r in evaluate([exp], ctx) if r.name == "srtp carol<->dave (wire)"]
    assert wire[0].status == "error" and wire[0].message.startswith("inconclusive: the SDP")
    # one end inside the capture: "no RTP" is a finding again
    contacts["dave"] = Contact("dave", "127.0.0.1", 5005, media_ports=(48000, 48001))
    ctx = ctx_for([call], contacts=contacts)
    wire = [r for r in evaluate([exp], ctx) if r.name == "srtp carol<->dave (wire)"]
    assert wire[0].status == "failed" and wire[0].actual == "no RTP between them"
