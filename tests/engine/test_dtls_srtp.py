"""DTLS-SRTP between two independent UAs (issue 10): baresip services keyed by
DTLS. The srtp check sees the handshake (use_srtp) on the media ports, then
only ciphertext-like RTP, and no keys in the SDP; the same call in plain RTP
fails it. Real baresip, tcpdump."""
from __future__ import annotations

import shutil

import pytest

from sipscen.analysis.dtls import _use_srtp, is_dtls
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT

FILE = ROOT / "scenarios" / "sbc" / "baresip-dtls-srtp.yaml"
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")


def _run(tmp_path, **variables):
    result = run_scenario(load_scenario(FILE, variables),
                          RunOptions(artifacts_root=tmp_path / "art"))
    return result, {c.name: c for c in result.checks}


@pytest.mark.integration
@needs_baresip
def test_dtls_srtp_between_two_baresip_uas_is_proven_from_the_wire(tmp_path, no_leftovers):
    result, checks = _run(tmp_path)
    assert result.status == "passed", (result.error, [c for c in result.checks
                                                      if c.status != "passed"])
    wire = checks["srtp carol<->dave (wire, DTLS-SRTP)"]
    assert "ClientHello" in wire.actual["dtls"] and "ServerHello" in wire.actual["dtls"]
    assert "[AES_CM_128_HMAC_SHA1_80]" in wire.actual["dtls"]
    assert "no a=crypto" in wire.actual["sdp"] and "UDP/TLS/RTP/SAVP" in wire.actual["sdp"]
    assert "(CLEAR?)" not in wire.actual["rtp"]
    assert result.wire["dtls"]["flows"]


@pytest.mark.integration
@needs_baresip
def test_the_same_call_in_plain_rtp_fails_the_srtp_check(tmp_path, no_leftovers):
    result, checks = _run(tmp_path, MEDIAENC="")
    assert result.status == "failed"
    assert "dtls" not in result.wire               # no DTLS profile in any SDP: no scan
    assert checks["srtp carol<->dave (wire)"].status == "failed"
    assert "cleartext" in str(checks["srtp carol<->dave (wire)"].actual)
    assert checks["srtp at carol, from the capture"].status == "failed"


def test_server_hello_use_srtp_profile_is_read():
    ext = (14).to_bytes(2, "big") + (5).to_bytes(2, "big") + b"\x00\x02\x00\x02\x00"
    body = b"\xfe\xfd" + bytes(32) + b"\x00" + b"\xc0\x2b" + b"\x00" + \
        len(ext).to_bytes(2, "big") + ext
    assert _use_srtp(body) == "AES_CM_128_HMAC_SHA1_32"
    assert _use_srtp(body[:40]) is None
    assert is_dtls(b"\x16\xfe\xfd" + bytes(10)) and not is_dtls(b"\x80\x08" + bytes(11))


def _with(path, tmp_path, extras):
    from dataclasses import replace
    from sipscen.core.errors import Location
    from sipscen.core.model import Expectation
    made = tuple(Expectation(kind, params, Location("extra.yaml", 100 + i, 5), f"extra[{i}]")
                 for i, (kind, params) in enumerate(extras))
    scenario = load_scenario(path)
    scenario = replace(scenario, expectations=scenario.expectations + made)
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    by_loc = {}
    for c in result.checks:
        by_loc.setdefault(int(c.location.split(":")[1]) - 100
                          if c.location.startswith("extra.yaml") else -1, {})[c.name] = c
    return result, own, by_loc


def _inconclusive(check) -> bool:
    return check.status == "error" and check.evidence == "wire" and \
        check.message.startswith("inconclusive") and "DTLS-SRTP" in check.message


@pytest.mark.integration
@needs_baresip
def test_a_dtls_leg_is_judged_by_its_handshake_and_what_it_hides_is_inconclusive(
        tmp_path, no_leftovers):
    """Two baresip agents keyed by DTLS: `leg: {srtp: true}` passes on the handshake
    (it failed as "SRTP None: 0 authenticated"), `srtp: false` fails; the digits and
    the audio inside DTLS-SRTP cannot be read on the wire: inconclusive, never a
    verdict, while the agent's own digits still decide (a wrong digit fails there)."""
    result, own, extra = _with(ROOT / "scenarios" / "sbc" / "baresip-agents-dtls.yaml", tmp_path, [
        ("leg", {"between": ["carol", "dave"], "srtp": True, "suite": "AES_CM_128_HMAC_SHA1_80"}),
        ("leg", {"between": ["carol", "dave"], "srtp": False}),
        ("dtmf", {"from": "carol", "to": "dave", "digits": "19"}),
        ("dtmf", {"from": "carol", "to": "dave", "digits": "18"}),
        ("audio", {"from": "carol", "to": "dave", "where": "wire", "not_silent": True}),
        ("leg", {"between": ["carol", "dave"], "suite": "AES_CM_128_HMAC_SHA1_32"}),
    ])
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    assert extra[0]["leg carol<->dave: SRTP"].status == "passed"
    assert extra[1]["leg carol<->dave: plain RTP"].status == "failed"
    assert extra[2]["dtmf carol->dave (at dave)"].status == "passed"
    assert _inconclusive(extra[2]["dtmf carol->dave (wire)"])
    assert extra[3]["dtmf carol->dave (at dave)"].status == "failed"
    assert _inconclusive(extra[3]["dtmf carol->dave (wire)"])
    assert _inconclusive(extra[4]["audio carol->dave (wire)"])
    assert extra[5]["leg carol<->dave: SRTP"].status == "failed"     # the profile is _80
    assert result.status == "error"          # inconclusive checks: no verdict either way


@pytest.mark.integration
@needs_baresip
@pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("rtpengine")),
                    reason="kamailio and rtpengine-daemon needed")
def test_srtp_through_a_relay_with_one_dtls_leg(tmp_path, no_leftovers):
    """carol (DTLS) -> rtpengine -> bob (SDES): end to end each leg by its own keying;
    bob's leg is readable (digits on the wire), carol's is not (inconclusive)."""
    result, own, extra = _with(ROOT / "scenarios" / "sbc" / "dtls-to-sdes.yaml", tmp_path, [
        ("srtp", {"between": ["carol", "bob"], "suite": "AES_256_CM_HMAC_SHA1_80"}),
        ("leg", {"between": ["carol", "sut"], "srtp": False}),
        ("dtmf", {"from": "bob", "to": "carol", "digits": "7"}),
        ("dtmf", {"from": "carol", "to": "bob", "digits": "18"}),
        ("dtmf", {"from": "carol", "to": "bob", "digits": "19", "max_latency": "500ms"}),
    ])
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    checks = {c.name: c for c in own}
    dtls_leg = checks["srtp carol<->bob (wire, leg carol<->sut)"]
    assert "ClientHello" in dtls_leg.actual["dtls"] and "ServerHello" in dtls_leg.actual["dtls"]
    sdes_leg = checks["srtp carol<->bob (wire, leg sut<->bob)"]
    assert "authenticated" in str(sdes_leg.actual)
    # one suite asked of both legs: bob's leg has it, carol's DTLS profile does not
    suite = extra[0]
    assert suite["srtp carol<->bob (wire, leg sut<->bob)"].status == "passed"
    assert suite["srtp carol<->bob (wire, leg carol<->sut)"].status == "failed"
    assert "not AES_256_CM_HMAC_SHA1_80" in suite["srtp carol<->bob (wire, leg carol<->sut)"
                                                   ].message
    assert extra[1]["leg carol<->sut: plain RTP"].status == "failed"
    assert extra[2]["dtmf bob->carol (at carol)"].status == "passed"
    assert _inconclusive(extra[2]["dtmf bob->carol (wire)"])
    wrong = extra[3]
    assert wrong["dtmf carol->bob (at bob)"].status == "failed"
    assert wrong["dtmf carol->bob (wire)"].status == "failed"    # readable: a verdict
    # the latency needs the digits leaving carol, inside DTLS ("no DTMF from carol")
    latency = extra[4]
    assert latency["dtmf carol->bob (wire)"].status == "passed"
    assert _inconclusive(latency["dtmf carol->bob latency"])
