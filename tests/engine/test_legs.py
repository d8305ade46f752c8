"""Per-leg verdicts through a real SBC (issue 10): Kamailio + rtpengine
(userspace) bridging SRTP and plain RTP in both directions. Each leg's verdict
is right, a swapped expectation fails naming the leg, and the end-to-end
`srtp`/`codec` checks judge the media leg by leg instead of "no RTP between
them"."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.core.errors import Location
from sipscen.scenario.build import load_scenario
from sipscen.core.model import Expectation

from .conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("rtpengine")),
                                 reason="kamailio and rtpengine-daemon needed")]
SBC = ROOT / "scenarios" / "sbc"


def _extra(kind: str, index: int, **params) -> Expectation:
    return Expectation(kind, params, Location("extra.yaml", 100 + index, 5), f"extra[{index}]")


def _run_with(name: str, tmp_path, extra: list[Expectation]):
    scenario = load_scenario(SBC / name)
    scenario = replace(scenario, expectations=scenario.expectations + tuple(extra))
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    return result, {c.name: c for c in result.checks}, {c.location: c for c in result.checks}


@pytest.mark.parametrize("name, srtp_leg, plain_leg", [
    ("srtp-to-rtp.yaml", ("alice", "sut"), ("sut", "bob")),
    ("rtp-to-srtp.yaml", ("sut", "bob"), ("alice", "sut")),
])
def test_each_leg_verdict_and_a_swapped_expectation_names_the_leg(name, srtp_leg, plain_leg,
                                                                   tmp_path, no_leftovers):
    swapped = [_extra("leg", 0, between=list(srtp_leg), srtp=False),
               _extra("leg", 1, between=list(plain_leg), srtp=True),
               _extra("srtp", 2, between=["alice", "bob"])]
    result, checks, by_loc = _run_with(name, tmp_path, swapped)
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]

    s_label = f"leg {srtp_leg[0]}<->{srtp_leg[1]}"
    p_label = f"leg {plain_leg[0]}<->{plain_leg[1]}"
    wrong_plain = by_loc["extra.yaml:100:5"]
    assert wrong_plain.name == f"{s_label}: plain RTP" and wrong_plain.status == "failed"
    assert "SRTP (or ciphertext)" in wrong_plain.message
    wrong_srtp = by_loc["extra.yaml:101:5"]
    assert wrong_srtp.name == f"{p_label}: SRTP" and wrong_srtp.status == "failed"
    assert "cleartext RTP" in wrong_srtp.message

    plain_ok = checks[f"{p_label}: plain RTP"]
    assert plain_ok.status == "passed" and all(
        row["payload"] == "cleartext" for rows in plain_ok.actual.values() for row in rows)

    # end to end alice<->bob: judged per leg, the plain leg named as the failure
    e2e = {c.name: c for c in result.checks if c.location == "extra.yaml:102:5"}
    assert e2e[f"srtp alice<->bob (wire, {s_label})"].status == "passed"
    assert e2e[f"srtp alice<->bob (wire, {p_label})"].status == "failed"
    assert "no RTP between them" not in str([c.actual for c in e2e.values()])


def test_anchored_media_and_sdp_per_leg(tmp_path, no_leftovers):
    extra = [_extra("media", 0, between=["alice", "bob"], via="sut", anchored=False),
             _extra("leg", 1, between=["alice", "sut"], sdp={"payload_types": [8]})]
    result, checks, by_loc = _run_with("media-anchored.yaml", tmp_path, extra)
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    assert checks["media alice<->bob via sut: anchored"].status == "passed"
    assert checks["codec alice<->bob (wire, leg alice<->sut)"].status == "passed"
    assert by_loc["extra.yaml:100:5"].status == "failed"       # it IS anchored
    assert by_loc["extra.yaml:101:5"].status == "failed"       # PCMU only, no PT 8


def test_transcoding_relay_is_seen_leg_by_leg(tmp_path, no_leftovers):
    extra = [_extra("media", 0, between=["alice", "bob"], via="sut", transcoded=False),
             _extra("codec", 1, between=["alice", "bob"], codec="PCMA")]
    result, checks, by_loc = _run_with("transcoded.yaml", tmp_path, extra)
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    assert checks["media alice<->bob via sut: transcoded"].actual == {
        "alice<->sut": ["PCMA"], "sut<->bob": ["PCMU"]}
    assert by_loc["extra.yaml:100:5"].status == "failed"
    assert by_loc["extra.yaml:100:5"].message == (      # it used to say nothing
        "a different codec on each leg: PCMA on alice<->sut, PCMU on sut<->bob")
    # PCMA end to end: right on alice's leg, wrong on bob's (which carries PCMU)
    assert checks["codec alice<->bob (wire, leg alice<->sut)"].status == "passed"
    assert checks["codec alice<->bob (wire, leg sut<->bob)"].status == "failed"


@pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")
def test_media_between_two_services_is_captured_and_judged(tmp_path, no_leftovers):
    extra = [_extra("leg", 0, between=["sut", "carol"], srtp=True)]
    result, checks, by_loc = _run_with("relay-to-baresip.yaml", tmp_path, extra)
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    relay_to_ua = checks["leg sut<->carol: plain RTP"].actual
    assert all(row["protocol"] == "plain RTP" for d in ("sut->carol", "carol->sut")
               for row in relay_to_ua[d])
    swapped = by_loc["extra.yaml:100:5"]
    assert swapped.name == "leg sut<->carol: SRTP" and swapped.status == "failed"


def test_a_leg_is_not_plain_when_its_payload_looks_encrypted():
    """An SBC sending SRTP on a leg its SDP calls RTP/AVP (no keys anywhere): the
    analysis sees an RTP stream with no SRTP state; the payload sample refutes 'plain'."""
    from sipscen.core.contact import Contact
    from sipscen.checks.context import CheckContext
    from sipscen.checks.leg import check_leg
    from sipscen.core.model import Scenario

    contacts = {"sut": Contact("sut", "127.0.0.1", 5060, media_ports=(30000, 30009)),
                "bob": Contact("bob", "127.0.0.1", 5062, media_ports=(40000, 40009))}
    streams = [{"src": "127.0.0.1:30000", "dst": "127.0.0.1:40000", "srtp": None, "packets": 50},
               {"src": "127.0.0.1:40000", "dst": "127.0.0.1:30000", "srtp": None, "packets": 50}]
    rtp = [{"src": s["src"], "dst": s["dst"], "first": 0.0, "packets": 50,
            "looks_encrypted": enc} for s, enc in zip(streams, (True, False))]
    wire = {"calls": [], "rtp_streams": streams, "dtls": {"flows": [], "rtp": rtp}}
    ctx = CheckContext(Scenario(name="s", file=ROOT / "s.yaml"), {}, wire, contacts)
    exp = _extra("leg", 0, between=["sut", "bob"], srtp=False)
    [result] = check_leg(exp, ctx)
    assert result.status == "failed"
    assert result.message == "payload not proven cleartext sut->bob"
    ctx.wire.dtls.rtp[0].looks_encrypted = False
    assert check_leg(exp, ctx)[0].status == "passed"
