"""Services are parties (issue 10): a baresip service (an independent SIP/SRTP
stack, driven through its stdin menu) and PJSUA agents call each other; call,
codec, srtp and dtmf expectations naming the service are judged from the
capture. Real baresip, PJSUA2, tcpdump."""
from __future__ import annotations

import shutil

import pytest

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip not installed")]
SBC = ROOT / "scenarios" / "sbc"


def _run(name: str, tmp_path, **variables):
    scenario = load_scenario(SBC / name, variables)
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    return result, {c.name: c for c in result.checks}


def test_baresip_service_calls_a_pjsua_agent_srtp_codec_dtmf(tmp_path, no_leftovers):
    result, checks = _run("baresip-calls-pjsua.yaml", tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    for name in ("call carol->alice: status", "call carol->alice: answered",
                 "codec at carol, from the capture", "codec carol<->alice (wire)",
                 "srtp at carol, from the capture", "srtp carol<->alice (wire)",
                 "dtmf carol->alice rfc4733 (at alice)", "dtmf carol->alice rfc4733 (wire)"):
        assert checks[name].status == "passed", name
    assert checks["srtp at carol, from the capture"].actual == "AES_CM_128_HMAC_SHA1_80"
    carol_call = result.services["carol"]
    assert carol_call["user"] == "carol" and carol_call["exited_during_run"] is None


def test_pjsua_agent_calls_the_baresip_service_by_its_user(tmp_path, no_leftovers):
    result, checks = _run("pjsua-calls-baresip.yaml", tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    assert checks["dtmf alice->carol rfc4733 (at carol, from the capture)"].actual == "42#"
    assert checks["srtp at carol, from the capture"].status == "passed"
    invite = next(m for c in result.wire["calls"] for m in c["messages"]
                  if m.get("method") == "INVITE")
    assert invite["summary"].startswith("INVITE sip:carol@127.0.0.1:")


def test_a_plain_rtp_service_fails_the_srtp_expectation_naming_it(tmp_path, no_leftovers):
    result, checks = _run("pjsua-calls-baresip.yaml", tmp_path,
                          CAROL_MEDIAENC="", ALICE_SRTP="optional")
    assert result.status == "failed"
    assert checks["srtp at carol, from the capture"].status == "failed"
    assert checks["srtp alice<->carol (wire)"].status == "failed"
    assert "cleartext" in str(checks["srtp alice<->carol (wire)"].actual)
    # the rest of the call still works, and says so
    assert checks["dtmf alice->carol rfc4733 (wire)"].status == "passed"


def test_someone_elses_stream_from_a_service_port_does_not_decide_its_srtp():
    """The loopback is shared: a stream from a port of carol's media range to a
    port of no party (another run's traffic) is not carol's call's media."""
    from sipscen.core.contact import Contact
    from sipscen.checks.context import CheckContext
    from sipscen.checks.wire_party import wire_facts
    from sipscen.core.model import Scenario

    contacts = {"carol": Contact("carol", "127.0.0.1", 5070, media_ports=(18898, 18907)),
                "alice": Contact("alice", "127.0.0.1", 5060, media_ports=(17904, 17905))}
    invite = {"time": 1.0, "src": "127.0.0.1:5060", "dst": "127.0.0.1:5070", "method": "INVITE",
              "status": None, "summary": "INVITE sip:carol@127.0.0.1:5070", "raw": ""}
    ok = {"time": 1.1, "src": "127.0.0.1:5070", "dst": "127.0.0.1:5060", "method": None,
          "status": 200, "summary": "200 OK (INVITE)", "raw": ""}
    srtp = {"suite": "AES_CM_128_HMAC_SHA1_80", "authenticated": 88, "auth_failed": 0}
    wire = {"calls": [{"call_id": "C1", "messages": [invite, ok], "sdp": [], "status": 200,
                       "answered": True}],
            "rtp_streams": [
                {"src": "127.0.0.1:18902", "dst": "127.0.0.1:20668", "call_id": None,
                 "srtp": None, "packets": 16},                       # someone else's
                {"src": "127.0.0.1:18906", "dst": "127.0.0.1:17904", "call_id": "C1",
                 "srtp": srtp, "packets": 88}],
            "dtmf": []}
    ctx = CheckContext(Scenario(name="s", file=ROOT / "s.yaml"), {}, wire, contacts)
    facts = wire_facts("carol", ctx.owns, ctx.wire, {}, ctx.agent_of)
    assert facts.calls[0].srtp_active() is True
    # and had the foreign stream gone to alice, it would count (and refute SRTP)
    ctx.wire.rtp_streams[0].dst = "127.0.0.1:17905"
    assert wire_facts("carol", ctx.owns, ctx.wire, {}, ctx.agent_of).calls[0].srtp_active() is False
