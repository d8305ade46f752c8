"""Checks read the call between the agents they name, not whichever came first.

The facts here are data in the shape the agents report (docs/ARCHITECTURE.md);
the end-to-end tests drive the same checks with real agents."""
from pathlib import Path

from sipscen.core.contact import Contact
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.errors import Location
from sipscen.core.model import Expectation, Scenario

HOST = "127.0.0.1"
CONTACTS = {
    "alice": Contact("alice", HOST, 20000, user="alice", media_ports=(20010, 20029)),
    "bob": Contact("bob", HOST, 21000, user="bob", media_ports=(21010, 21029)),
    "carol": Contact("carol", HOST, 22000, user="carol", media_ports=(22010, 22029)),
}


def call(direction, call_id, peer, status=200, codec="PCMA", pt=8, srtp=False, sdp=""):
    return {"direction": direction, "call_id": call_id,
            "remote_uri": f"<sip:{peer}@{HOST}:{CONTACTS[peer].port}>",
            "status_code": status, "answered": status == 200, "duration": 2.0,
            "codec": codec, "payload_type": pt, "local_sdp": sdp, "remote_sdp": sdp,
            "srtp": {"active": srtp, "suite": "AES_CM_128_HMAC_SHA1_80" if srtp else None}}


def context(facts, wire=None):
    facts = {name: {"type": "pjsua", **f} for name, f in facts.items()}   # as agents write them
    return CheckContext(Scenario(name="t", file=Path("t.yaml")), facts, wire, CONTACTS)


def verdicts(kind, params, ctx):
    exp = Expectation(kind, params, Location("t.yaml", 1, 1), "expect[0]")
    return {r.name: (r.status, r.actual) for r in evaluate([exp], ctx)}


def test_call_check_reads_the_call_to_the_named_callee():
    facts = {
        "alice": {"calls": [call("outgoing", "c1", "carol", status=486),
                            call("outgoing", "c2", "bob", status=200)]},
        "bob": {"calls": [call("incoming", "c2", "alice")]},
        "carol": {"calls": [call("incoming", "c1", "alice", status=486)]},
    }
    ctx = context(facts)
    assert verdicts("call", {"from": "alice", "to": "bob", "status": 200}, ctx)[
        "call alice->bob: status"] == ("passed", 200)
    assert verdicts("call", {"from": "alice", "to": "bob", "status": 486}, ctx)[
        "call alice->bob: status"] == ("failed", 200)
    assert verdicts("call", {"from": "alice", "to": "carol", "answered": False}, ctx)[
        "call alice->carol: answered"] == ("passed", False)


def test_a_call_to_someone_else_is_no_call_to_the_callee():
    facts = {"alice": {"calls": [call("outgoing", "c1", "carol")]}, "bob": {"calls": []},
             "carol": {"calls": [call("incoming", "c1", "alice")]}}
    result = verdicts("call", {"from": "alice", "to": "bob", "status": 200}, context(facts))
    assert result["call alice->bob: selected"] == ("failed", "calls to ['<sip:carol@127.0.0.1:22000>']")


def test_codec_and_srtp_read_the_pairs_call():
    facts = {
        "alice": {"calls": [call("outgoing", "c1", "bob", codec="PCMA", pt=8)]},
        "carol": {"calls": [call("outgoing", "c2", "bob", codec="PCMU", pt=0, srtp=True)]},
        "bob": {"calls": [call("incoming", "c1", "alice", codec="PCMA", pt=8),
                          call("incoming", "c2", "carol", codec="PCMU", pt=0, srtp=True)]},
    }
    ctx = context(facts)
    codec = verdicts("codec", {"between": ["carol", "bob"], "codec": "PCMU"}, ctx)
    assert codec["codec at bob"] == ("passed", "PCMU")
    assert codec["codec at carol"] == ("passed", "PCMU")
    srtp = verdicts("srtp", {"between": ["carol", "bob"]}, ctx)
    assert srtp["srtp at bob"][0] == "passed"
    srtp = verdicts("srtp", {"between": ["alice", "bob"]}, ctx)
    assert srtp["srtp at bob"] == ("failed", "no SRTP")


def test_dtmf_is_credited_to_the_sender_of_its_call():
    facts = {
        "alice": {"calls": [call("outgoing", "c1", "bob")]},
        "carol": {"calls": [call("outgoing", "c2", "bob")]},
        "bob": {"calls": [call("incoming", "c1", "alice"), call("incoming", "c2", "carol")],
                "dtmf_received": [{"digit": d, "method": "rfc4733", "call_id": "c2"}
                                  for d in "1234#"]},
    }
    wire = {"rtp_streams": [], "dtmf": [
        {"digit": d, "method": "rfc4733", "src": f"{HOST}:22010", "dst": f"{HOST}:21010",
         "call_id": "c2"} for d in "1234#"]}
    ctx = context(facts, wire)
    from_alice = verdicts("dtmf", {"from": "alice", "to": "bob", "digits": "1234#"}, ctx)
    assert from_alice["dtmf alice->bob (at bob)"] == ("failed", "")
    assert from_alice["dtmf alice->bob (wire)"] == ("failed", "")
    from_carol = verdicts("dtmf", {"from": "carol", "to": "bob", "digits": "1234#"}, ctx)
    assert from_carol["dtmf carol->bob (at bob)"] == ("passed", "1234#")
    assert from_carol["dtmf carol->bob (wire)"] == ("passed", "1234#")


def test_wire_codec_check_uses_the_payload_type_the_sdp_binds():
    sdp = "v=0\r\nm=audio 21010 RTP/AVP 96 120\r\na=rtpmap:96 speex/8000\r\n"
    facts = {"alice": {"calls": [call("outgoing", "c1", "bob", codec="speex", pt=96, sdp=sdp)]},
             "bob": {"calls": [call("incoming", "c1", "alice", codec="speex", pt=96, sdp=sdp)]}}
    wire = {"dtmf": [], "rtp_streams": [
        {"src": f"{HOST}:20010", "dst": f"{HOST}:21010", "payload_types": [96]},
        {"src": f"{HOST}:21010", "dst": f"{HOST}:20010", "payload_types": [96]}]}
    ctx = context(facts, wire)
    assert verdicts("codec", {"between": ["alice", "bob"], "codec": "PCMU"}, ctx)[
        "codec alice<->bob (wire)"][0] == "failed"
    assert verdicts("codec", {"between": ["alice", "bob"], "codec": "speex"}, ctx)[
        "codec alice<->bob (wire)"][0] == "passed"


def test_a_peer_without_call_facts_is_paired_through_the_capture():
    """A SIPp caller reports no calls and its From URI names no port: the
    capture's SIP messages show who took part in which call."""
    facts = {"sipp": {"type": "sipp", "calls": []},
             "bob": {"type": "pjsua", "calls": [dict(call("incoming", "s1", "alice"),
                                    remote_uri="<sip:sipp@127.0.0.1>")],
                     "dtmf_received": [{"digit": "5", "method": "rfc4733", "call_id": "s1"}]}}
    contacts = dict(CONTACTS, sipp=Contact("sipp", HOST, 23000, media_ports=(23010, 23011)))
    wire = {"rtp_streams": [],
            "calls": [{"call_id": "s1", "messages": [
                {"src": f"{HOST}:23000", "dst": f"{HOST}:21000", "summary": "INVITE"}]}],
            "dtmf": [{"digit": "5", "method": "rfc4733", "src": f"{HOST}:0",
                      "dst": f"{HOST}:21010", "call_id": "s1"}]}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), facts, wire, contacts)
    result = verdicts("dtmf", {"from": "sipp", "to": "bob", "digits": "5"}, ctx)
    assert result == {"dtmf sipp->bob (at bob)": ("passed", "5"),
                      "dtmf sipp->bob (wire)": ("passed", "5")}
    assert ctx.call_ids_between("alice", "bob") == set()
